//! Domains through the real clients (issue "Domains").

use crate::harness::*;
use std::fs;
use std::time::Duration;

/// libvirt's vz driver's answer to every refused state change.
const CANT: &str = "error: Requested operation is not valid: Can't change domain state.\n";

/// What `virsh dominfo` shows of a guest.
#[derive(Clone, Copy)]
struct Info<'a> {
    id: &'a str,
    name: &'a str,
    uuid: &'a str,
    os: &'a str,
    state: &'a str,
    cpus: u32,
    kib: u64,
    autostart: &'a str,
    saved: &'a str,
}

impl Info<'_> {
    /// The text virsh prints (the CPU time line only while it runs, so it
    /// is checked apart).
    fn text(&self) -> String {
        let Info {
            id,
            name,
            uuid,
            os,
            state,
            cpus,
            kib,
            autostart,
            saved,
        } = self;
        format!(
            "Id:             {id}\nName:           {name}\nUUID:           {uuid}\nOS Type:        {os}\nState:          {state}\nCPU(s):         {cpus}\nMax memory:     {kib} KiB\nUsed memory:    {kib} KiB\nPersistent:     yes\nAutostart:      {autostart}\nManaged save:   {saved}\n\n"
        )
    }
}

/// dominfo of a running guest without its "CPU time:" line (which virsh
/// prints once the guest has used any; the statistics test checks it).
fn dominfo_running(d: &Daemon, name: &str) -> String {
    let out = d.virsh(&["dominfo", name]);
    out.expect_ok()
        .lines()
        .filter(|l| !l.starts_with("CPU time:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Acceptance 1 of the Domains issue: every listed command on the full VM
/// (2 disks, CD-ROM, 2 interfaces, VNC, serial) and on a container
/// (exe, template file system, host-routed interface), with exactly what
/// virsh prints, and libvirt's error for each call in the wrong state.
#[test]
fn vm_and_container_lifecycle_print_what_libvirt_prints() {
    let d = Daemon::start();
    let vm = full_vm(&d);
    for img in ["disk1.qcow2", "disk2.qcow2", "install.iso"] {
        fs::write(d.dir.join(img), b"").unwrap();
    }
    let vm = vm.to_str().unwrap();
    says(
        &d,
        &["define", vm],
        &format!("Domain 'vm-full' defined from {vm}\n\n"),
    );
    let ct = fixture("ct-template.xml");
    says(
        &d,
        &["define", &ct],
        &format!("Domain 'ct-web' defined from {ct}\n\n"),
    );
    says(
        &d,
        &["list", "--all"],
        " Id   Name      State\n--------------------------\n -    ct-web    shut off\n -    vm-full   shut off\n\n",
    );
    let vm_uuid = "8d0f1c9e-5b3a-4c2d-9e8f-7a6b5c4d3e2f";
    let ct_uuid = labelled(d.virsh(&["dominfo", "ct-web"]).expect_ok(), "UUID:").to_string();
    let guests = [
        ("vm-full", vm_uuid, "hvm", 2u32, 2_097_152u64),
        ("ct-web", ct_uuid.as_str(), "exe", 2, 524_288),
    ];
    for (n, (name, uuid, os, cpus, kib)) in guests.into_iter().enumerate() {
        let id = (n + 1).to_string();
        let off = Info {
            id: "-",
            name,
            uuid,
            os,
            state: "shut off",
            cpus,
            kib,
            autostart: "disable",
            saved: "no",
        };
        says(&d, &["dominfo", name], &off.text());
        says(
            &d,
            &["domstate", "--reason", name],
            "shut off (shutdown)\n\n",
        );
        // Wrong state: nothing runs yet.
        for op in [
            "suspend", "resume", "reboot", "reset", "shutdown", "destroy",
        ] {
            refuses(
                &d,
                &[op, name],
                &format!("error: Failed to {op} domain '{name}'\n{CANT}"),
            );
        }
        says(
            &d,
            &["start", name],
            &format!("Domain '{name}' started\n\n"),
        );
        // virsh itself refuses to start an active domain.
        refuses(&d, &["start", name], "error: Domain is already active\n");
        assert_eq!(
            dominfo_running(&d, name),
            Info {
                id: &id,
                state: "running",
                ..off
            }
            .text()
        );
        says(&d, &["domstate", "--reason", name], "running (booted)\n\n");
        says(
            &d,
            &["suspend", name],
            &format!("Domain '{name}' suspended\n\n"),
        );
        says(&d, &["domstate", "--reason", name], "paused (user)\n\n");
        refuses(
            &d,
            &["suspend", name],
            &format!("error: Failed to suspend domain '{name}'\n{CANT}"),
        );
        says(
            &d,
            &["resume", name],
            &format!("Domain '{name}' resumed\n\n"),
        );
        refuses(
            &d,
            &["resume", name],
            &format!("error: Failed to resume domain '{name}'\n{CANT}"),
        );
        says(
            &d,
            &["reboot", name],
            &format!("Domain '{name}' is being rebooted\n\n"),
        );
        says(
            &d,
            &["reset", name],
            &format!("Domain '{name}' was reset\n\n"),
        );
        says(&d, &["domstate", "--reason", name], "running (booted)\n\n");
        // Running: changes need --live as well (the vz rule).
        refuses(
            &d,
            &["setmem", name, "1G", "--config"],
            "error: Requested operation is not valid: Updates on a running domain need VIR_DOMAIN_AFFECT_LIVE flag\n",
        );
        refuses(
            &d,
            &["undefine", name],
            &format!("error: Failed to undefine domain '{name}'\nerror: Requested operation is not valid: cannot undefine a running domain; destroy it first\n"),
        );
        says(
            &d,
            &["shutdown", name],
            &format!("Domain '{name}' is being shutdown\n\n"),
        );
        says(
            &d,
            &["domstate", "--reason", name],
            "shut off (shutdown)\n\n",
        );
        says(
            &d,
            &["start", "--paused", name],
            &format!("Domain '{name}' started\n\n"),
        );
        says(&d, &["domstate", "--reason", name], "paused (user)\n\n");
        says(
            &d,
            &["destroy", name],
            &format!("Domain '{name}' destroyed\n\n"),
        );
        says(&d, &["domstate", name], "shut off\n\n");
        // setmem and setvcpus on the stored config.
        refuses(
            &d,
            &["setmem", name, "1G"],
            "error: Requested operation is not valid: domain is not running\n",
        );
        says(&d, &["setmem", name, "1G", "--config"], "\n");
        says(&d, &["setvcpus", name, "1", "--config"], "\n");
        says(
            &d,
            &["vcpucount", name],
            "maximum      config         1\ncurrent      config         1\n\n",
        );
        says(
            &d,
            &["autostart", name],
            &format!("Domain '{name}' marked as autostarted\n\n"),
        );
        says(
            &d,
            &["dominfo", name],
            &Info {
                cpus: 1,
                kib: 1_048_576,
                autostart: "enable",
                ..off
            }
            .text(),
        );
        says(
            &d,
            &["autostart", "--disable", name],
            &format!("Domain '{name}' unmarked as autostarted\n\n"),
        );
        says(
            &d,
            &["start", name],
            &format!("Domain '{name}' started\n\n"),
        );
        says(
            &d,
            &["vcpucount", name],
            "maximum      config         1\nmaximum      live           1\ncurrent      config         1\ncurrent      live           1\n\n",
        );
        says(
            &d,
            &["destroy", name],
            &format!("Domain '{name}' destroyed\n\n"),
        );
    }
    for name in ["vm-full", "ct-web"] {
        says(
            &d,
            &["undefine", name],
            &format!("Domain '{name}' has been undefined\n\n"),
        );
        refuses(
            &d,
            &["dominfo", name],
            &format!("error: failed to get domain '{name}'\n"),
        );
    }
    says(
        &d,
        &["list", "--all"],
        " Id   Name   State\n--------------------\n\n",
    );
}

/// Every fixture round-trips: the XML dumpxml prints defines the identical
/// guest again, stopped or running (a running guest's XML carries its id
/// and device aliases, which a definition ignores).
#[test]
fn every_fixture_round_trips() {
    let d = Daemon::start();
    let dir = d.dir.path().display().to_string();
    for img in [
        "disk1.qcow2",
        "disk2.qcow2",
        "install.iso",
        "root.qcow2",
        "root.hdd",
        "data.hdd",
    ] {
        fs::write(d.dir.join(img), b"").unwrap();
    }
    let fixtures = [
        ("vm-basic.xml", "vm-basic"),
        ("vm-full.xml", "vm-full"),
        ("vm-every.xml", "vm-every"),
        ("ct-basic.xml", "ct-basic"),
        ("ct-template.xml", "ct-web"),
        ("ct-files.xml", "ct-files"),
    ];
    for (fx, name) in fixtures {
        let xml = fs::read_to_string(fixture(fx))
            .unwrap()
            .replace("@DIR@", &dir);
        let f = d.dir.join(fx);
        fs::write(&f, xml).unwrap();
        d.virsh(&["define", f.to_str().unwrap()]).expect_ok();
        // With its secrets, as virsh edit reads it.
        let dump = |extra: &[&str]| {
            let mut a = vec!["dumpxml", "--security-info"];
            a.extend_from_slice(extra);
            a.push(name);
            d.virsh(&a).expect_ok().to_string()
        };
        let first = dump(&[]);
        let again = d.dir.join(&format!("{name}.again.xml"));
        fs::write(&again, &first).unwrap();
        d.virsh(&["define", again.to_str().unwrap()]).expect_ok();
        assert_eq!(dump(&[]), first, "{fx}");
        d.virsh(&["start", name]).expect_ok();
        let live = dump(&[]);
        assert!(live.starts_with("<domain type='vz' id='"), "{live}");
        assert_eq!(dump(&["--inactive"]), first, "{fx}");
        fs::write(&again, &live).unwrap();
        d.virsh(&["define", again.to_str().unwrap()]).expect_ok();
        assert_eq!(dump(&[]), live, "{fx}");
        d.virsh(&["destroy", name]).expect_ok();
        assert_eq!(dump(&[]), first, "{fx}");
    }
    // What the richest fixtures keep, element by element.
    let every = d
        .virsh(&["dumpxml", "--security-info", "vm-every"])
        .expect_ok()
        .to_string();
    for needle in [
        "<description>every element the vz driver maps &amp; keeps</description>",
        "<vcpu placement='static' cpuset='0'>1</vcpu>",
        "<type arch='i686'>hvm</type>",
        "<boot dev='network'/>\n    <boot dev='cdrom'/>\n    <boot dev='hd'/>",
        "<serial>VZ-0001</serial>",
        "<disk type='block' device='disk'>\n      <driver name='vz' type='raw'/>\n      <source dev='/dev/null'/>",
        "<disk type='file' device='cdrom'>\n      <driver name='vz' type='raw'/>\n      <target dev='hdb' bus='ide'/>",
        "<controller type='scsi' index='0'/>\n    <controller type='ide' index='0'/>",
        "<interface type='bridge' trustGuestRxFilters='yes'>",
        "<target dev='vme421c000a0b0c'/>\n      <model type='rtl8139'/>\n      <link state='down'/>",
        "<serial type='tcp'>\n      <source mode='bind' host='127.0.0.1' service='4555'/>\n      <protocol type='raw'/>",
        "<console type='tcp'>",
        "<serial type='udp'>\n      <source mode='bind' host='127.0.0.1' service='4556'/>\n      <source mode='connect' host='127.0.0.1' service='4556'/>",
        "<source path='/dev/ttyS0'/>\n      <target port='3'/>",
        "<graphics type='vnc' autoport='yes' listen='10.0.0.1' passwd='secret'>",
        "<model type='vga' vram='16384' heads='1' primary='yes'>\n        <acceleration/>",
    ] {
        assert!(every.contains(needle), "{needle} missing from {every}");
    }
    let ct = d.virsh(&["dumpxml", "ct-files"]).expect_ok().to_string();
    for needle in [
        "<init>/sbin/init</init>",
        "<driver name='vz' type='ploop'/>",
        &format!("<filesystem type='file' accessmode='passthrough'>\n      <driver type='ploop' format='ploop'/>\n      <source file='{dir}/root.hdd'/>\n      <target dir='/'/>"),
        "<source network='host-routed'/>",
        "<target dev='veth42.1'/>\n      <link state='up'/>",
        "<input type='mouse' bus='parallels'/>\n    <input type='keyboard' bus='parallels'/>\n    <graphics type='vnc' port='5999' autoport='no' listen='127.0.0.1'>",
        "<video>\n      <model type='parallels'/>\n    </video>",
    ] {
        assert!(ct.contains(needle), "{needle} missing from {ct}");
    }
    // The one <model> is the video's: interfaces of containers have none.
    assert_eq!(ct.matches("<model").count(), 1, "{ct}");
    // The VNC password only with --security-info, as libvirt shows it, and
    // never to a read-only connection.
    let plain = d.virsh(&["dumpxml", "vm-every"]).expect_ok().to_string();
    assert!(
        plain.contains("<graphics type='vnc' autoport='yes' listen='10.0.0.1'>")
            && !plain.contains("secret"),
        "{plain}"
    );
    assert!(!d
        .virsh_ro(&["dumpxml", "vm-every"])
        .expect_ok()
        .contains("secret"));
    let e = d.virsh_ro(&["dumpxml", "--security-info", "vm-every"]);
    assert!(
        e.stderr
            .contains("operation forbidden: virDomainGetXMLDesc with secure flag"),
        "{e:?}"
    );
}

#[test]
fn bad_xml_changes_nothing() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let before = d.virsh(&["dumpxml", "vm-basic"]).expect_ok().to_string();
    let base = fs::read_to_string(fixture("vm-basic.xml")).unwrap();
    for (what, xml, needle) in [
        (
            "malformed",
            "<domain type='vz'><name>x</name>".to_string(),
            "(domain_definition)",
        ),
        (
            "a device",
            base.replace(
                "</domain>",
                "<devices><sound model='ich6'/></devices></domain>",
            ),
            "unsupported configuration",
        ),
        (
            "a foreign domain type",
            base.replace("type='vz'", "type='kvm'"),
            "unsupported configuration",
        ),
        (
            "on_reboot destroy",
            base.replace("</domain>", "<on_reboot>destroy</on_reboot></domain>"),
            "unsupported configuration",
        ),
        (
            "same name, other uuid",
            base.replace("1f0c6b2e", "2f0c6b2e"),
            "already defined with uuid",
        ),
    ] {
        let f = d.dir.join("bad.xml");
        fs::write(&f, xml).unwrap();
        let out = d.virsh(&["define", f.to_str().unwrap()]);
        assert!(!out.ok(), "{what} accepted");
        assert!(out.stderr.contains(needle), "{what}: {out:?}");
    }
    assert_eq!(d.virsh(&["dumpxml", "vm-basic"]).expect_ok(), before);
    assert_eq!(
        d.virsh(&["list", "--all", "--name"]).expect_ok().trim(),
        "vm-basic"
    );
}

/// Acceptance 3: python3-libvirt runs the same scenario on the full VM and
/// the container, checking the code and domain of every error.
#[test]
fn python_scenario_and_error_codes() {
    let d = Daemon::start();
    let vm = fs::read_to_string(full_vm(&d)).unwrap();
    for img in ["disk1.qcow2", "disk2.qcow2", "install.iso"] {
        fs::write(d.dir.join(img), b"").unwrap();
    }
    let vm_file = d.dir.join("vm-full.xml");
    let other = d.dir.join("other.xml");
    fs::write(&other, vm.replace("8d0f1c9e", "9d0f1c9e")).unwrap();
    let script = format!(
        r#"
import libvirt
L = libvirt
c = libvirt.open("{uri}")
def code(f, *a):
    try:
        f(*a)
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain())
    raise AssertionError("no error from %r" % (f,))
INVALID = (L.VIR_ERR_OPERATION_INVALID, L.VIR_FROM_PARALLELS)
for path, name, os in (("{vm}", "vm-full", "hvm"), ("{ct}", "ct-web", "exe")):
    dom = c.defineXML(open(path).read())
    assert dom.name() == name and dom.OSType() == os
    assert dom.info()[0] == L.VIR_DOMAIN_SHUTOFF and dom.ID() == -1
    assert dom.state() == [L.VIR_DOMAIN_SHUTOFF, L.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    assert dom.isPersistent() == 1 and dom.isActive() == 0 and dom.isUpdated() == 0
    assert dom.hasManagedSaveImage(0) == 0 and dom.autostart() == 0
    assert dom.maxMemory() == dom.info()[1] and dom.maxVcpus() == dom.info()[3]
    # No security driver, no messages.
    assert dom.securityLabel() == ["", False] and dom.messages(0) == []
    # The XML round trip.
    again = c.defineXML(dom.XMLDesc(0))
    assert again.XMLDesc(0) == dom.XMLDesc(0)
    # Wrong states while shut off.
    for f in (dom.suspend, dom.resume, dom.shutdown, dom.destroy):
        assert code(f) == INVALID, (name, f)
    for f in (dom.reboot, dom.reset, dom.managedSave):
        assert code(f, 0) == INVALID, (name, f)
    assert code(dom.setMemoryFlags, 1048576, L.VIR_DOMAIN_AFFECT_LIVE) == INVALID
    assert code(dom.vcpus) == INVALID
    if os == "hvm":
        assert code(dom.blockResize, "sda", 1 << 30, 0) == INVALID
    dom.create()
    assert dom.state() == [L.VIR_DOMAIN_RUNNING, L.VIR_DOMAIN_RUNNING_BOOTED]
    assert dom.isActive() == 1 and dom.ID() > 0
    assert c.lookupByID(dom.ID()).name() == name
    vinfo, maps = dom.vcpus()
    assert [v[0] for v in vinfo] == list(range(dom.info()[3])) and all(v[1] == L.VIR_VCPU_RUNNING for v in vinfo)
    assert code(dom.create) == INVALID
    assert code(dom.resume) == INVALID
    assert code(dom.undefine) == INVALID
    assert code(dom.setMemoryFlags, 1048576, L.VIR_DOMAIN_AFFECT_CONFIG) == INVALID
    dom.suspend()
    assert dom.state()[0] == L.VIR_DOMAIN_PAUSED
    assert code(dom.suspend) == INVALID
    dom.resume()
    dom.reboot(0)
    dom.reset(0)
    dom.shutdown()
    assert dom.state()[0] == L.VIR_DOMAIN_SHUTOFF
    dom.createWithFlags(L.VIR_DOMAIN_START_PAUSED)
    assert dom.state() == [L.VIR_DOMAIN_PAUSED, L.VIR_DOMAIN_PAUSED_USER]
    dom.destroy()
    dom.setMemoryFlags(1048576, L.VIR_DOMAIN_AFFECT_CONFIG)
    dom.setVcpusFlags(1, L.VIR_DOMAIN_AFFECT_CONFIG)
    assert dom.info()[1:4] == [1048576, 1048576, 1], dom.info()
    assert dom.vcpusFlags(L.VIR_DOMAIN_AFFECT_CONFIG | L.VIR_DOMAIN_VCPU_MAXIMUM) == 1
    dom.setAutostart(1)
    assert dom.autostart() == 1
    # Flags the driver does not know.
    assert code(dom.createWithFlags, 64) == (L.VIR_ERR_INVALID_ARG, L.VIR_FROM_PARALLELS)
    assert code(dom.undefineFlags, 4) == (L.VIR_ERR_INVALID_ARG, L.VIR_FROM_PARALLELS)
    # Devices it does not take.
    assert code(dom.attachDeviceFlags, "<sound model='ich6'/>", L.VIR_DOMAIN_AFFECT_CONFIG) == (L.VIR_ERR_CONFIG_UNSUPPORTED, L.VIR_FROM_PARALLELS)
NO_DOMAIN = (L.VIR_ERR_NO_DOMAIN, L.VIR_FROM_PARALLELS)
assert code(c.lookupByName, "nosuch") == NO_DOMAIN
assert code(c.lookupByUUIDString, "00000000-0000-0000-0000-000000000001") == NO_DOMAIN
assert code(c.lookupByID, 4242) == NO_DOMAIN
assert code(c.defineXML, "<domain")[0] == L.VIR_ERR_XML_DETAIL
assert code(c.defineXML, "<domain type='vz'><name>x</name></domain>")[0] == L.VIR_ERR_XML_ERROR
assert code(c.defineXML, "<domain type='kvm'><name>x</name><memory>1048576</memory><os><type>hvm</type></os></domain>") == (L.VIR_ERR_CONFIG_UNSUPPORTED, L.VIR_FROM_PARALLELS)
# Nova's <metadata> is accepted and, as with libvirt's vz driver, not kept.
m = c.defineXML("<domain type='vz'><name>vm-meta</name><memory>1048576</memory><os><type>hvm</type></os><metadata><nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'><nova:name>i-1</nova:name></nova:instance></metadata></domain>")
assert "metadata" not in m.XMLDesc(0)
m.undefine()
# The same name with another UUID.
assert code(c.defineXML, open("{other}").read()) == (L.VIR_ERR_OPERATION_FAILED, L.VIR_FROM_PARALLELS)
names = sorted(x.name() for x in c.listAllDomains(0))
assert names == ["ct-web", "vm-full"], names
assert c.listAllDomains(L.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == []
assert sorted(x.name() for x in c.listAllDomains(L.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)) == names
assert c.listAllDomains(L.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT) == []
assert sorted(x.name() for x in c.listAllDomains(L.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT)) == names
assert c.listAllDomains(L.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE) == []
assert c.listAllDomains(L.VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT) == []
assert sorted(x.name() for x in c.listAllDomains(L.VIR_CONNECT_LIST_DOMAINS_PERSISTENT | L.VIR_CONNECT_LIST_DOMAINS_SHUTOFF)) == names
assert c.listAllDomains(L.VIR_CONNECT_LIST_DOMAINS_TRANSIENT) == []
assert c.numOfDomains() == 0 and c.numOfDefinedDomains() == 2
assert sorted(c.listDefinedDomains()) == names
# Read-only connections look but do not touch.
ro = libvirt.openReadOnly("{ro}")
rdom = ro.lookupByName("vm-full")
assert rdom.info()[0] == L.VIR_DOMAIN_SHUTOFF
assert code(rdom.create)[0] == L.VIR_ERR_OPERATION_DENIED
assert code(ro.lookupByName, "x") == NO_DOMAIN
for name in names:
    c.lookupByName(name).undefine()
assert c.listAllDomains(0) == []
print("ok")
"#,
        uri = d.uri(),
        ro = d.ro_uri(),
        vm = vm_file.display(),
        ct = fixture("ct-template.xml"),
        other = other.display(),
    );
    let out = python(&script);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
}

/// Acceptance 4: guests in every state survive a SIGKILL of the daemon:
/// the same guests, states (with reasons) and XML afterwards.
#[test]
fn guests_and_states_survive_a_killed_daemon() {
    let mut d = Daemon::start();
    let vm = full_vm(&d);
    for img in ["disk1.qcow2", "disk2.qcow2", "install.iso"] {
        fs::write(d.dir.join(img), b"").unwrap();
    }
    d.virsh(&["define", vm.to_str().unwrap()]).expect_ok();
    for f in ["vm-basic.xml", "ct-basic.xml", "ct-template.xml"] {
        d.virsh(&["define", &fixture(f)]).expect_ok();
    }
    d.virsh(&["start", "vm-full"]).expect_ok();
    d.virsh(&["start", "--paused", "ct-web"]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["managedsave", "vm-basic"]).expect_ok();
    d.virsh(&["autostart", "ct-basic"]).expect_ok();
    let names = ["vm-full", "ct-web", "vm-basic", "ct-basic"];
    let snapshot = |d: &Daemon| {
        let mut all = vec![d.virsh(&["list", "--all"]).expect_ok().to_string()];
        for n in names {
            for cmd in [
                &["domstate", "--reason"][..],
                &["dumpxml"],
                &["dumpxml", "--inactive"],
            ] {
                let mut args = cmd.to_vec();
                args.push(n);
                all.push(d.virsh(&args).expect_ok().to_string());
            }
            let info = d.virsh(&["dominfo", n]).expect_ok().to_string();
            all.push(
                info.lines()
                    .filter(|l| !l.starts_with("CPU time:"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        all
    };
    let before = snapshot(&d);
    assert!(
        before[0].contains(" -    vm-basic   shut off"),
        "{}",
        before[0]
    );
    d.signal("KILL");
    d.wait_exit(Duration::from_secs(10));
    d.restart();
    let after = snapshot(&d);
    assert_eq!(after, before);
    assert_eq!(
        labelled(
            d.virsh(&["dominfo", "vm-basic"]).expect_ok(),
            "Managed save:"
        ),
        "yes"
    );
    assert_eq!(
        d.virsh(&["domstate", "--reason", "ct-web"])
            .expect_ok()
            .trim(),
        "paused (user)"
    );
}

#[test]
fn a_second_daemon_cannot_share_the_store() {
    let d = Daemon::start();
    let mut other = Daemon::prepare(&format!(
        "vz_embedded_dir = \"{}\"\n",
        d.dir.join("store").display()
    ));
    let out = run_cmd(&mut other.command(&[]), Duration::from_secs(20));
    assert_ne!(out.code, Some(0));
    if sdk_library().is_some() {
        // Through dlopen the daemon sees the library's init fail, and the
        // library's own log says why.
        assert!(out.stderr.contains("PrlApi_InitEx failed"), "{out:?}");
        assert!(other.log_text().contains("in use by another daemon"));
    } else {
        assert!(out.stderr.contains("embedded Virtuozzo host"), "{out:?}");
    }
    other.child = None;
    d.virsh(&["list", "--all"]).expect_ok();
}

#[test]
fn system_sdk_without_library_fails_at_startup() {
    let d = Daemon::prepare("vz_sdk = \"system\"\n");
    let out = run_cmd(&mut d.command(&[]), Duration::from_secs(20));
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("libprl_sdk.so.7"), "{out:?}");
    assert!(!d.rw().exists());
}

#[test]
fn parallel_clients_on_different_and_same_guests() {
    let d = Daemon::start();
    let base = fs::read_to_string(fixture("vm-basic.xml")).unwrap();
    for i in 0..20 {
        let xml = base.replace("vm-basic", &format!("par{i}")).replace(
            "1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
            &format!("00000000-0000-4000-8000-0000000000{i:02}"),
        );
        let f = d.dir.join(&format!("par{i}.xml"));
        fs::write(&f, xml).unwrap();
        d.virsh(&["define", f.to_str().unwrap()]).expect_ok();
    }
    // 20 clients, 20 guests: all succeed.
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let uri = d.uri();
            std::thread::spawn(move || {
                let name = format!("par{i}");
                virsh(&uri, &["start", &name]).expect_ok();
                virsh(&uri, &["suspend", &name]).expect_ok();
                virsh(&uri, &["destroy", &name]).expect_ok();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // 20 clients, one guest: each adds its own disk, a read-modify-write
    // of the whole config; serialised by the guest's job, none is lost.
    let handles: Vec<_> = (0..20u32)
        .map(|i| {
            let uri = d.uri();
            let img = d.dir.join(&format!("p{i}.qcow2")).display().to_string();
            let target = format!("sd{}", (b'a' + i as u8) as char);
            std::thread::spawn(move || {
                virsh(&uri, &["attach-disk", "par0", &img, &target, "--config"])
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().expect_ok();
    }
    let disks = d.virsh(&["domblklist", "par0"]).expect_ok().to_string();
    for i in 0..20u8 {
        assert!(
            disks.contains(&format!("sd{}      ", (b'a' + i) as char)),
            "disk {i} lost: {disks}"
        );
    }
    assert_eq!(
        d.virsh(&["list", "--all", "--name"])
            .expect_ok()
            .lines()
            .filter(|l| !l.is_empty())
            .count(),
        20
    );
}

#[test]
fn memory_and_vcpus_follow_the_vz_rules() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    // Every change is persistent on Virtuozzo: --config is required, and
    // --live too while running (libvirt's vz rule and wording).
    d.virsh(&["setmem", "vm-basic", "2G", "--config"])
        .expect_ok();
    assert_eq!(
        labelled(d.virsh(&["dominfo", "vm-basic"]).expect_ok(), "Max memory:"),
        "2097152 KiB"
    );
    // virsh setmem alone means --live, which a shut-off domain refuses
    // before the vz rule is checked (libvirt's order).
    let e = d.virsh(&["setmem", "vm-basic", "1G"]);
    assert!(e.stderr.contains("domain is not running"), "{e:?}");
    let py = python(&format!(
        "import libvirt\nd = libvirt.open('{}').lookupByName('vm-basic')\nd.setMemoryFlags(1048576, libvirt.VIR_DOMAIN_AFFECT_CONFIG | 0)\nd.create()\ntry:\n    d.setMemoryFlags(1048576, libvirt.VIR_DOMAIN_AFFECT_LIVE)\nexcept libvirt.libvirtError as e:\n    print(e.get_error_code(), e.get_error_message())\nd.destroy()\n",
        d.uri()
    ));
    assert_eq!(
        py.stdout.trim(),
        "55 Requested operation is not valid: domain config update needs VIR_DOMAIN_AFFECT_CONFIG flag to be set",
        "{py:?}"
    );
    let e = d.virsh(&["setmem", "vm-basic", "1000", "--config"]);
    assert!(
        e.stderr.contains("Memory size should be multiple of 1Mb."),
        "{e:?}"
    );
    d.virsh(&["setvcpus", "vm-basic", "4", "--config"])
        .expect_ok();
    let counts = d.virsh(&["vcpucount", "vm-basic"]);
    assert!(
        counts.expect_ok().contains("current      config         4"),
        "{counts:?}"
    );
    d.virsh(&["start", "vm-basic"]).expect_ok();
    let e = d.virsh(&["setmem", "vm-basic", "1G", "--config"]);
    assert!(
        e.stderr
            .contains("Updates on a running domain need VIR_DOMAIN_AFFECT_LIVE flag"),
        "{e:?}"
    );
    d.virsh(&["setmem", "vm-basic", "1G", "--config", "--live"])
        .expect_ok();
    d.virsh(&["setvcpus", "vm-basic", "2", "--config", "--live"])
        .expect_ok();
    let info = d.virsh(&["dominfo", "vm-basic"]);
    assert_eq!(labelled(info.expect_ok(), "Max memory:"), "1048576 KiB");
    assert_eq!(labelled(info.expect_ok(), "CPU(s):"), "2");
    let counts = d.virsh(&["vcpucount", "vm-basic"]);
    assert!(
        counts.expect_ok().contains("current      live           2"),
        "{counts:?}"
    );
    let vcpus = d.virsh(&["vcpuinfo", "vm-basic"]);
    assert_eq!(
        vcpus.expect_ok().matches("State:          running").count(),
        2
    );
}

#[test]
fn domain_capabilities_describe_the_driver() {
    let d = Daemon::start();
    let caps = d.virsh(&["domcapabilities"]);
    let t = caps.expect_ok();
    assert!(
        t.contains("<domain>vz</domain>") && t.contains("<vcpu max='1028'/>"),
        "{t}"
    );
    assert!(t.contains("<value>vnc</value>"), "{t}");
    let e = d.virsh(&["domcapabilities", "--virttype", "kvm"]);
    assert!(!e.ok() && e.stderr.contains("kvm"), "{e:?}");
}

/// The full VM fixture with its paths under `dir`.
fn full_vm(d: &Daemon) -> std::path::PathBuf {
    let xml = fs::read_to_string(fixture("vm-full.xml"))
        .unwrap()
        .replace("@DIR@", &d.dir.path().display().to_string());
    let f = d.dir.join("vm-full.xml");
    fs::write(&f, xml).unwrap();
    f
}

#[test]
fn vm_with_devices_round_trips_and_needs_its_images() {
    let d = Daemon::start();
    let f = full_vm(&d);
    d.virsh(&["define", f.to_str().unwrap()]).expect_ok();
    let xml = d.virsh(&["dumpxml", "vm-full"]).expect_ok().to_string();
    // Exactly what libvirt's vz driver prints for such a VM: drive
    // addresses, the implicit controllers, driver name 'vz', link state,
    // the MAC filter, the video's empty acceleration; the interface that
    // named no MAC got one with the vz prefix 42:1C:00.
    let generated = xml
        .split("<mac address='")
        .nth(2)
        .and_then(|r| r.get(..17))
        .unwrap_or_default()
        .to_string();
    assert!(generated.starts_with("42:1c:00:"), "{xml}");
    let golden = fs::read_to_string(fixture("vm-full.dumpxml"))
        .unwrap()
        .replace("@DIR@", &d.dir.path().display().to_string())
        .replace("@MAC@", &generated);
    assert_eq!(xml, golden);
    let again = d.dir.join("again.xml");
    fs::write(&again, &xml).unwrap();
    d.virsh(&["define", again.to_str().unwrap()]).expect_ok();
    assert_eq!(d.virsh(&["dumpxml", "vm-full"]).expect_ok(), xml);

    // No images yet: the host refuses to start it.
    let e = d.virsh(&["start", "vm-full"]);
    assert!(e.stderr.contains("disk1.qcow2' does not exist"), "{e:?}");
    for img in ["disk1.qcow2", "disk2.qcow2", "install.iso"] {
        fs::write(d.dir.join(img), b"").unwrap();
    }
    d.virsh(&["start", "vm-full"]).expect_ok();
    assert!(d
        .virsh(&["dumpxml", "vm-full"])
        .expect_ok()
        .contains("id='"));
}

#[test]
fn container_from_a_template_gets_its_private_area() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("ct-template.xml")])
        .expect_ok();
    let xml = d.virsh(&["dumpxml", "ct-web"]).expect_ok().to_string();
    assert!(xml.contains("<source name='centos-7-x86_64'/>"), "{xml}");
    assert!(xml.contains("<source network='host-routed'/>"), "{xml}");
    assert!(
        !xml.contains("<model"),
        "containers have no adapter model: {xml}"
    );
    let uuid = labelled(d.virsh(&["dominfo", "ct-web"]).expect_ok(), "UUID:").to_string();
    assert!(d.dir.join("store/private").join(&uuid).is_dir());
    assert_eq!(
        labelled(d.virsh(&["dominfo", "ct-web"]).expect_ok(), "OS Type:"),
        "exe"
    );
    d.virsh(&["start", "ct-web"]).expect_ok();
    d.virsh(&["destroy", "ct-web"]).expect_ok();
}

/// Acceptance 2: every element of libvirt's vz reject lists is refused
/// with VIR_ERR_CONFIG_UNSUPPORTED naming it, and the refused redefinition
/// of a stored guest leaves it exactly as it was.
#[test]
fn every_rejected_feature_is_config_unsupported() {
    let d = Daemon::start();
    let base = fs::read_to_string(fixture("vm-basic.xml")).unwrap();
    let ct = fs::read_to_string(fixture("ct-basic.xml"))
        .unwrap()
        .replace(
            "<name>ct-basic</name>",
            "<name>ct-basic</name><uuid>5e0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b</uuid>",
        );
    let f = d.dir.join("reject.xml");
    for xml in [&base, &ct] {
        fs::write(&f, xml).unwrap();
        d.virsh(&["define", f.to_str().unwrap()]).expect_ok();
    }
    let before_vm = d.virsh(&["dumpxml", "vm-basic"]).expect_ok().to_string();
    let before_ct = d.virsh(&["dumpxml", "ct-basic"]).expect_ok().to_string();
    let top = |x: &str| base.replace("</domain>", &format!("{x}</domain>"));
    let os = |x: &str| base.replace("</os>", &format!("{x}</os>"));
    let dev = |x: &str| top(&format!("<devices>{x}</devices>"));
    let disk = |x: &str, target: &str| {
        dev(&format!(
            "<disk type='file' device='disk'><source file='/f'/><target dev='{target}' bus='scsi'/>{x}</disk>"
        ))
    };
    let drv = |a: &str| disk(&format!("<driver name='vz' type='qcow2' {a}/>"), "sda");
    let nic = |x: &str| {
        dev(&format!(
            "<interface type='bridge'><source bridge='br0'/>{x}</interface>"
        ))
    };
    let ser = |x: &str| dev(&format!("<serial {x}</serial>"));
    let ctdev = |x: &str| ct.replace("</domain>", &format!("<devices>{x}</devices></domain>"));
    let fs_ = |x: &str| {
        ctdev(&format!(
            "<filesystem type='file'><source file='/p.hdd'/><target dir='/'/>{x}</filesystem>"
        ))
    };
    let cases: Vec<(String, &str)> = vec![
        // Global checks.
        (top("<title>t</title>"), "'title'"),
        (top("<blkiotune><weight>100</weight></blkiotune>"), "'blkiotune'"),
        (top("<memtune><hard_limit>1</hard_limit></memtune>"), "'memtune'"),
        (top("<memoryBacking><hugepages/></memoryBacking>"), "'memoryBacking'"),
        (top("<cputune><shares>10</shares></cputune>"), "'cputune'"),
        (top("<numatune><memory mode='strict' nodeset='0'/></numatune>"), "'numatune'"),
        (top("<on_crash>restart</on_crash>"), "on_crash"),
        (top("<on_poweroff>restart</on_poweroff>"), "on_poweroff"),
        (top("<on_reboot>destroy</on_reboot>"), "on_reboot"),
        (top("<features><acpi/></features>"), "feature 'acpi'"),
        (top("<clock offset='utc'><timer name='rtc'/></clock>"), "clock"),
        (top("<clock offset='localtime'/>"), "clock"),
        (top("<bootloader>/usr/bin/pygrub</bootloader>"), "'bootloader'"),
        (base.replace("<vcpu>2</vcpu>", "<vcpu current='1'>2</vcpu>"), "vcpus"),
        (base.replace("<vcpu>2</vcpu>", "<vcpu placement='auto'>2</vcpu>"), "placement"),
        (base.replace("<memory unit='MiB'>1024</memory>", "<memory unit='MiB'>1024</memory><currentMemory unit='MiB'>512</currentMemory>"), "currentMemory"),
        (base.replace("<memory unit='MiB'>1024</memory>", "<memory unit='KiB'>1000</memory>"), "Memory size"),
        (os("<kernel>/boot/vmlinuz</kernel>"), "os/kernel"),
        (os("<initrd>/boot/initrd</initrd>"), "os/initrd"),
        (os("<cmdline>ro</cmdline>"), "os/cmdline"),
        (os("<root>/dev/sda</root>"), "os/root"),
        (os("<loader>/x</loader>"), "os/loader"),
        (os("<bootmenu enable='yes'/>"), "os/bootmenu"),
        (os("<smbios mode='host'/>"), "os/smbios"),
        (os("<bios useserial='yes'/>"), "os/bios"),
        (os("<init>/sbin/init</init>"), "init"),
        (os("<boot dev='fd'/>"), "boot device 'fd'"),
        (base.replace("<type arch='x86_64'>hvm</type>", "<type arch='x86_64' machine='pc'>hvm</type>"), "machine"),
        (base.replace("<type arch='x86_64'>", "<type arch='aarch64'>"), "architecture 'aarch64'"),
        (base.replace("type='vz'", "type='kvm'"), "domain type 'kvm'"),
        (base.replace(">hvm<", ">exe<"), "Changing OS type"),
        // Devices.
        (dev("<emulator>/usr/bin/x</emulator>"), "'emulator'"),
        (dev("<sound model='ich6'/>"), "'sound'"),
        (dev("<hostdev mode='subsystem' type='usb'/>"), "'hostdev'"),
        (dev("<redirdev bus='usb' type='spicevmc'/>"), "'redirdev'"),
        (dev("<smartcard mode='host'/>"), "'smartcard'"),
        (dev("<parallel type='pty'/>"), "'parallel'"),
        (dev("<channel type='pty'/>"), "'channel'"),
        (dev("<lease><lockspace>x</lockspace><key>k</key><target path='/p'/></lease>"), "'lease'"),
        (dev("<hub type='usb'/>"), "'hub'"),
        (dev("<filesystem type='mount'><source dir='/x'/><target dir='/y'/></filesystem>"), "filesystems"),
        (dev("<input type='tablet' bus='usb'/><graphics type='vnc'/>"), "input device 'tablet'"),
        (dev("<input type='mouse' bus='ps2'/>"), "input devices"),
        (dev("<controller type='usb' model='ich9-ehci1'/>"), "controller 'usb'"),
        (dev("<controller type='scsi' model='lsilogic'/>"), "controller 'scsi'"),
        // Disks.
        (dev("<disk type='file' device='floppy'><source file='/f'/><target dev='fda'/></disk>"), "disk device 'floppy'"),
        (dev("<disk type='block' device='lun'><source dev='/dev/sdz'/><target dev='sda' bus='scsi'/></disk>"), "disk device 'lun'"),
        (dev("<disk type='network' device='disk'><target dev='sda'/></disk>"), "disk type 'network'"),
        (dev("<disk type='file' device='disk'><source file='/f'/><target dev='vda' bus='virtio'/></disk>"), "disk bus 'virtio'"),
        (dev("<disk type='file' device='disk'><source file='/f'/><target dev='sda' bus='usb'/></disk>"), "disk bus 'usb'"),
        (dev("<disk type='file' device='disk'><source file='/f'/><target dev='sda' bus='sata'/></disk>"), "disk bus 'sata'"),
        (disk("<iotune><total_bytes_sec>1</total_bytes_sec></iotune>", "sda"), "'iotune'"),
        (disk("<blockio logical_block_size='512'/>", "sda"), "'blockio'"),
        (disk("<wwn>0x5000c50015ea71ad</wwn>", "sda"), "'wwn'"),
        (disk("<vendor>V</vendor>", "sda"), "'vendor'"),
        (disk("<product>P</product>", "sda"), "'product'"),
        (disk("<transient/>", "sda"), "'transient'"),
        (drv("error_policy='stop'"), "'error_policy'"),
        (drv("io='threads'"), "io 'threads'"),
        (drv("copy_on_read='on'"), "'copy_on_read'"),
        (drv("discard='unmap'"), "'discard'"),
        (drv("iothread='1'"), "'iothread'"),
        (disk("<driver type='ploop'/>", "sda"), "disk format 'ploop'"),
        (dev("<disk type='file' device='disk'><source file='/f' startupPolicy='optional'/><target dev='sda' bus='scsi'/></disk>"), "startup policy"),
        (disk("<address type='drive' controller='0' bus='0' target='0' unit='3'/>", "sdb"), "drive address"),
        (disk("<address type='drive' controller='1' bus='0' target='0' unit='0'/>", "sda"), "drive address"),
        // Interfaces.
        (dev("<interface type='user'/>"), "adapter type 'user'"),
        (dev("<interface type='direct'><source dev='eth0' mode='vepa'/></interface>"), "adapter type 'direct'"),
        (nic("<model type='ne2k_pci'/>"), "adapter model 'ne2k_pci'"),
        (nic("<bandwidth/>"), "'bandwidth'"),
        (nic("<backend tap='/dev/net/tun'/>"), "'backend'"),
        (nic("<driver name='vhost'/>"), "'driver'"),
        (nic("<script path='/etc/qemu-ifup'/>"), "'script'"),
        (nic("<guest dev='eth0'/>"), "'guest'"),
        (nic("<address type='pci' domain='0' bus='0' slot='3' function='0'/>"), "'address'"),
        (nic("<filterref filter='clean-traffic'/>"), "'filterref'"),
        (nic("<vlan trunk='yes'><tag id='42'/></vlan>"), "'vlan'"),
        (nic("<tune><sndbuf>1600</sndbuf></tune>"), "'tune'"),
        (nic("<route address='10.1.0.0' prefix='16' gateway='10.0.0.1'/>"), "Support only default gateway"),
        (nic("<route address='0.0.0.0' gateway='10.0.0.1'/><route address='0.0.0.0' gateway='10.0.0.2'/>"), "Support only one IPv4 default gateway"),
        (nic("<ip address='10.0.0.2' peer='10.0.0.1'/>"), "'peer'"),
        (dev("<interface type='network'><source network='n' portgroup='p'/></interface>"), "portgroup"),
        // Graphics and video.
        (dev("<graphics type='spice'/>"), "graphics type 'spice'"),
        (dev("<graphics type='vnc' websocket='5700'/>"), "websockets"),
        (dev("<graphics type='vnc'/><graphics type='vnc'/>"), "one VNC"),
        (dev("<graphics type='vnc' keymap='de'/>"), "keymap"),
        (dev("<graphics type='vnc' sharePolicy='allow-exclusive'/>"), "share policy"),
        (dev("<graphics type='vnc' connected='keep'/>"), "connected"),
        (dev("<graphics type='vnc' passwd='x' passwdValidTo='2030-01-01T00:00:00'/>"), "password expiration"),
        (dev("<graphics type='vnc'><listen type='address' address='1.2.3.4'/><listen type='address' address='1.2.3.5'/></graphics>"), "one listen"),
        (dev("<graphics type='vnc'><listen type='network' network='n'/></graphics>"), "listen addresses"),
        (dev("<video><model type='qxl'/></video>"), "video type 'qxl'"),
        (dev("<video><model type='vga' heads='2'/></video>"), "one monitor"),
        (dev("<video><model type='vga'/></video><video><model type='vga'/></video>"), "one video"),
        (dev("<video><model type='vga'><acceleration accel3d='yes'/></model></video>"), "acceleration"),
        // Serial ports.
        (ser("type='pty'><target port='0'/>"), "serial type 'pty'"),
        (ser("type='file'><source path='/s'/><target type='isa-serial' port='0'/>"), "target types"),
        (ser("type='tcp'><source mode='bind' host='h' service='1'/><protocol type='telnet'/>"), "protocol 'telnet'"),
        (ser("type='udp'><source mode='bind' host='h' service='1'/><source mode='connect' host='h' service='2'/>"), "UDP"),
        (ser("type='file'><source path='/s'/><address type='isa' iobase='0x3f8'/>"), "'address'"),
        (dev("<console type='pty'><target type='virtio' port='0'/></console>"), "character device type"),
        // Containers.
        (ct.replace("</os>", "<boot dev='hd'/></os>"), "boot order"),
        (ct.replace("</os>", "<init>/bin/sh</init></os>"), "init '/bin/sh'"),
        (ct.replace("</os>", "<initarg>-x</initarg></os>"), "os/initarg"),
        (fs_("<readonly/>"), "read-only"),
        (fs_("<driver type='loop' format='raw'/>"), "ploop"),
        (fs_("<driver type='ploop' format='ploop' wrpolicy='immediate'/>"), "write policy"),
        (fs_("<space_hard_limit>1000</space_hard_limit>"), "'space_hard_limit'"),
        (ctdev("<filesystem type='mount' accessmode='mapped'><source dir='/x'/><target dir='/y'/></filesystem>"), "access mode"),
        (ct.replace(">exe<", ">hvm<"), "Changing OS type"),
    ];
    for (xml, needle) in &cases {
        fs::write(&f, xml).unwrap();
        let out = d.virsh(&["define", f.to_str().unwrap()]);
        assert!(
            out.stderr
                .starts_with("error: Failed to define domain from")
                && out.stderr.contains("\nerror: unsupported configuration: ")
                && out.stderr.contains(needle),
            "not refused naming {needle}: {xml}\n{out:?}"
        );
    }
    // The same through python: the code and domain a program sees.
    let script = format!(
        "import libvirt\nc = libvirt.open('{}')\ntry:\n    c.defineXML(open('{}').read())\nexcept libvirt.libvirtError as e:\n    print(e.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED, e.get_error_domain() == libvirt.VIR_FROM_PARALLELS)\n",
        d.uri(),
        f.display()
    );
    assert_eq!(python(&script).stdout.trim(), "True True");
    assert_eq!(d.virsh(&["dumpxml", "vm-basic"]).expect_ok(), before_vm);
    assert_eq!(d.virsh(&["dumpxml", "ct-basic"]).expect_ok(), before_ct);
    assert_eq!(
        d.virsh(&["list", "--all", "--name"]).expect_ok(),
        "ct-basic\nvm-basic\n\n"
    );
}

#[test]
fn kill_nine_during_changes_never_corrupts_a_guest() {
    let mut d = Daemon::start();
    let base = fs::read_to_string(fixture("vm-basic.xml")).unwrap();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    for i in 0..12u64 {
        // A define and a memory change in flight when the daemon dies.
        let xml = base.replace("vm-basic", &format!("k{i}")).replace(
            "1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
            &format!("00000000-0000-4000-9000-0000000000{i:02}"),
        );
        let f = d.dir.join(&format!("k{i}.xml"));
        fs::write(&f, xml).unwrap();
        let uri = d.uri();
        let path = f.display().to_string();
        let definer = std::thread::spawn(move || virsh(&uri, &["define", &path]));
        let uri = d.uri();
        let mem = if i % 2 == 0 { "2G" } else { "1G" };
        let setter =
            std::thread::spawn(move || virsh(&uri, &["setmem", "vm-basic", mem, "--config"]));
        std::thread::sleep(Duration::from_millis(5 * (i % 5)));
        d.signal("KILL");
        d.wait_exit(Duration::from_secs(10));
        let _ = definer.join();
        let _ = setter.join();
        d.restart();
        // Every guest present loads whole: its XML is one of the states
        // it could have had, never a mix.
        let names = d
            .virsh(&["list", "--all", "--name"])
            .expect_ok()
            .to_string();
        for name in names.lines().filter(|l| !l.is_empty()) {
            let xml = d.virsh(&["dumpxml", name]).expect_ok().to_string();
            assert!(xml.contains(&format!("<name>{name}</name>")), "{xml}");
        }
        let mem =
            labelled(d.virsh(&["dominfo", "vm-basic"]).expect_ok(), "Max memory:").to_string();
        assert!(mem == "1048576 KiB" || mem == "2097152 KiB", "{mem}");
    }
    // Nothing was logged as corrupt.
    assert!(!d.log_text().contains("cannot load"), "{}", d.log_text());
}

#[test]
fn a_corrupt_guest_file_is_reported_and_skipped() {
    let mut d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.stop();
    let bad = d
        .dir
        .join("store/guests/00000000-dead-beef-0000-000000000000.toml");
    fs::write(&bad, "name = [ this is not toml").unwrap();
    d.restart();
    assert_eq!(
        d.virsh(&["list", "--all", "--name"]).expect_ok().trim(),
        "vm-basic"
    );
    assert!(bad.exists(), "a corrupt guest must never be deleted");
    wait_until("the skip is logged", Duration::from_secs(5), || {
        d.log_text().contains("cannot load")
    });
}

/// A guest file that parses but holds what the host never accepts (four
/// billion CPUs, no memory, an unknown type) is as corrupt as one that
/// does not parse: reported and skipped, never served.
#[test]
fn a_guest_file_out_of_range_is_reported_and_skipped() {
    let mut d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.stop();
    let guests = d.dir.join("store/guests");
    let good =
        fs::read_to_string(guests.join("1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b.toml")).unwrap();
    let line = |key: &str| {
        good.lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in {good}"))
            .to_string()
    };
    for (i, (key, bad)) in [("cpus", "4000000000"), ("ram_mb", "0"), ("vm_type", "7")]
        .into_iter()
        .enumerate()
    {
        let uuid = format!("00000000-0000-4000-8000-00000000000{i}");
        let text = good
            .replace("1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b", &uuid)
            .replace(&line("name"), &format!("name = \"bad-{key}\""))
            .replace(&line(key), &format!("{key} = {bad}"));
        fs::write(guests.join(format!("{uuid}.toml")), text).unwrap();
    }
    d.restart();
    assert_eq!(
        d.virsh(&["list", "--all", "--name"]).expect_ok().trim(),
        "vm-basic"
    );
    wait_until("the skips are logged", Duration::from_secs(5), || {
        let log = d.log_text();
        log.contains("A guest has at most 1028 CPUs")
            && log.contains("Memory and CPU count must be positive")
            && log.contains("Unknown guest type")
    });
}

/// CONNECT_BASELINE_CPU, which libvirt's vz driver has and Nova calls
/// after getCapabilities: the host CPU of the capabilities is its own
/// baseline; libvirt's errors otherwise.
#[test]
fn baseline_cpu_of_the_host_cpu() {
    let d = Daemon::start();
    let caps = d.virsh(&["capabilities"]).expect_ok().to_string();
    let model = caps
        .split("<model>")
        .nth(1)
        .and_then(|r| r.split("</model>").next())
        .expect("a host CPU model")
        .to_string();
    let f = d.dir.join("caps.xml");
    fs::write(&f, &caps).unwrap();
    let out = d.virsh(&["cpu-baseline", f.to_str().unwrap()]);
    let t = out.expect_ok();
    assert!(
        t.starts_with(&format!(
            "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>{model}</model>\n"
        )),
        "{t}"
    );
    let features = caps.matches("<feature name=").count();
    assert_eq!(
        t.matches("<feature policy='require' name=").count(),
        features
    );
    let script = format!(
        r#"
import libvirt
L = libvirt
c = libvirt.open("{uri}")
def cpu(vendor, model="EPYC", arch="x86_64"):
    return "<cpu><arch>%s</arch><model>%s</model><vendor>%s</vendor><feature name='svm'/></cpu>" % (arch, model, vendor)
x = c.baselineCPU([cpu("AMD"), cpu("AMD")], L.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES)
assert x == "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>EPYC</model>\n  <vendor>AMD</vendor>\n  <feature policy='require' name='svm'/>\n</cpu>\n", x
def code(*a):
    try:
        c.baselineCPU(*a)
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())
print(code([cpu("AMD"), cpu("Intel")], 0))
print(code([cpu("AMD", arch="aarch64")], 0)[0] == L.VIR_ERR_NO_SUPPORT)
print(code([cpu("AMD")], L.VIR_CONNECT_BASELINE_CPU_MIGRATABLE)[0] == L.VIR_ERR_INVALID_ARG)
twice = cpu("AMD").replace("</cpu>", "<feature name='svm'/></cpu>")
print(code([cpu("AMD"), twice], 0) == (L.VIR_ERR_XML_ERROR, L.VIR_FROM_CPU, "XML error: CPU feature 'svm' specified more than once"))
"#,
        uri = d.uri()
    );
    let out = python(&script);
    assert_eq!(
        out.stdout, "(9, 31, 'operation failed: CPU vendors do not match')\nTrue\nTrue\nTrue\n",
        "{out:?}"
    );
}

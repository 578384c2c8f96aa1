//! Domains through the real clients (issue "Domains").

use crate::harness::*;
use std::fs;
use std::time::Duration;

fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no '{label}' in {text}"))
}

#[test]
fn vm_lifecycle_with_virsh() {
    let d = Daemon::start();
    let out = d.virsh(&["define", &fixture("vm-basic.xml")]);
    assert!(
        out.expect_ok().contains("Domain 'vm-basic' defined from"),
        "{out:?}"
    );
    let info = d.virsh(&["dominfo", "vm-basic"]);
    let t = info.expect_ok();
    assert_eq!(field(t, "Id:"), "-");
    assert_eq!(field(t, "UUID:"), "1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_eq!(field(t, "OS Type:"), "hvm");
    assert_eq!(field(t, "State:"), "shut off");
    assert_eq!(field(t, "CPU(s):"), "2");
    assert_eq!(field(t, "Max memory:"), "1048576 KiB");
    assert_eq!(field(t, "Persistent:"), "yes");
    assert_eq!(field(t, "Autostart:"), "disable");
    assert_eq!(field(t, "Managed save:"), "no");

    d.virsh(&["start", "vm-basic"]).expect_ok();
    let list = d.virsh(&["list"]);
    assert!(list.expect_ok().contains("vm-basic   running"), "{list:?}");
    assert_eq!(
        d.virsh(&["domstate", "vm-basic", "--reason"])
            .expect_ok()
            .trim(),
        "running (booted)"
    );
    d.virsh(&["suspend", "vm-basic"]).expect_ok();
    assert_eq!(
        d.virsh(&["domstate", "vm-basic", "--reason"])
            .expect_ok()
            .trim(),
        "paused (user)"
    );
    // libvirt's vz driver answers every refused state change alike.
    let e = d.virsh(&["suspend", "vm-basic"]);
    assert!(
        e.stderr
            .contains("error: Requested operation is not valid: Can't change domain state."),
        "{e:?}"
    );
    d.virsh(&["resume", "vm-basic"]).expect_ok();
    let e = d.virsh(&["resume", "vm-basic"]);
    assert!(e.stderr.contains("Can't change domain state."), "{e:?}");
    let pw = d.virsh(&["set-user-password", "vm-basic", "root", "s3cret"]);
    assert!(
        pw.expect_ok()
            .contains("Password set successfully for root in vm-basic"),
        "{pw:?}"
    );
    d.virsh(&["reboot", "vm-basic"]).expect_ok();
    d.virsh(&["reset", "vm-basic"]).expect_ok();
    d.virsh(&["shutdown", "vm-basic"]).expect_ok();
    assert_eq!(
        d.virsh(&["domstate", "vm-basic"]).expect_ok().trim(),
        "shut off"
    );
    let e = d.virsh(&["destroy", "vm-basic"]);
    assert!(
        e.stderr
            .contains("Requested operation is not valid: Can't change domain state."),
        "{e:?}"
    );
    d.virsh(&["start", "--paused", "vm-basic"]).expect_ok();
    assert_eq!(
        d.virsh(&["domstate", "vm-basic"]).expect_ok().trim(),
        "paused"
    );
    d.virsh(&["destroy", "vm-basic"]).expect_ok();
    d.virsh(&["autostart", "vm-basic"]).expect_ok();
    assert_eq!(
        field(d.virsh(&["dominfo", "vm-basic"]).expect_ok(), "Autostart:"),
        "enable"
    );
    d.virsh(&["autostart", "--disable", "vm-basic"]).expect_ok();
    d.virsh(&["undefine", "vm-basic"]).expect_ok();
    let e = d.virsh(&["dominfo", "vm-basic"]);
    assert!(
        e.stderr.contains("failed to get domain 'vm-basic'"),
        "{e:?}"
    );
}

#[test]
fn dumpxml_round_trips() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["define", &fixture("ct-basic.xml")]).expect_ok();
    for name in ["vm-basic", "ct-basic"] {
        let first = d.virsh(&["dumpxml", name]).expect_ok().to_string();
        let file = d.dir.join(&format!("{name}.xml"));
        fs::write(&file, &first).unwrap();
        d.virsh(&["define", file.to_str().unwrap()]).expect_ok();
        assert_eq!(d.virsh(&["dumpxml", name]).expect_ok(), first);
    }
    assert!(d
        .virsh(&["dumpxml", "ct-basic"])
        .expect_ok()
        .contains("<type arch='x86_64'>exe</type>"));
    // The running domain's XML carries its id; --inactive does not.
    d.virsh(&["start", "vm-basic"]).expect_ok();
    assert!(d
        .virsh(&["dumpxml", "vm-basic"])
        .expect_ok()
        .contains("<domain type='vz' id="));
    assert!(d
        .virsh(&["dumpxml", "--inactive", "vm-basic"])
        .expect_ok()
        .contains("<domain type='vz'>"));
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

#[test]
fn python_scenario_and_error_codes() {
    let d = Daemon::start();
    let xml = fs::read_to_string(fixture("vm-basic.xml")).unwrap();
    let script = format!(
        r#"
import libvirt
c = libvirt.open("{uri}")
dom = c.defineXML('''{xml}''')
assert dom.name() == "vm-basic"
assert dom.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
dom.create()
assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, 1], dom.state()
assert dom.isActive() == 1 and dom.ID() > 0
def code(f):
    try:
        f()
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain())
    return None
assert code(dom.create) == (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_PARALLELS), code(dom.create)
assert code(lambda: c.lookupByName("nosuch")) == (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_FROM_PARALLELS)
assert code(lambda: c.defineXML("<domain")) [0] == libvirt.VIR_ERR_XML_DETAIL
assert code(lambda: dom.createWithFlags(64)) is not None
dom.suspend()
assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
dom.resume()
dom.destroy()
assert code(dom.destroy) == (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_PARALLELS)
names = sorted(d.name() for d in c.listAllDomains(0))
assert names == ["vm-basic"], names
assert [d.name() for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)] == []
dom.undefine()
assert c.listAllDomains(0) == []
ro = libvirt.openReadOnly("{ro}")
assert code(lambda: ro.lookupByName("x")) == (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_FROM_PARALLELS)
print("ok")
"#,
        uri = d.uri(),
        ro = d.ro_uri()
    );
    let out = python(&script);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
}

#[test]
fn guests_and_states_survive_a_killed_daemon() {
    let mut d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["define", &fixture("ct-basic.xml")]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["autostart", "ct-basic"]).expect_ok();
    let before_list = d.virsh(&["list", "--all"]).expect_ok().to_string();
    let before_xml = d
        .virsh(&["dumpxml", "--inactive", "vm-basic"])
        .expect_ok()
        .to_string();
    d.signal("KILL");
    d.wait_exit(Duration::from_secs(10));
    d.restart();
    assert_eq!(d.virsh(&["list", "--all"]).expect_ok(), before_list);
    assert_eq!(
        d.virsh(&["dumpxml", "--inactive", "vm-basic"]).expect_ok(),
        before_xml
    );
    assert_eq!(
        field(d.virsh(&["dominfo", "ct-basic"]).expect_ok(), "Autostart:"),
        "enable"
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
    assert!(out.stderr.contains("embedded Virtuozzo host"), "{out:?}");
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
    // 20 clients, one guest: serialised, none lost.
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let uri = d.uri();
            std::thread::spawn(move || virsh(&uri, &["autostart", "par0"]).ok())
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
    assert_eq!(
        field(d.virsh(&["dominfo", "par0"]).expect_ok(), "Autostart:"),
        "enable"
    );
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
        field(d.virsh(&["dominfo", "vm-basic"]).expect_ok(), "Max memory:"),
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
    assert_eq!(field(info.expect_ok(), "Max memory:"), "1048576 KiB");
    assert_eq!(field(info.expect_ok(), "CPU(s):"), "2");
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
    let uuid = field(d.virsh(&["dominfo", "ct-web"]).expect_ok(), "UUID:").to_string();
    assert!(d.dir.join("store/private").join(&uuid).is_dir());
    assert_eq!(
        field(d.virsh(&["dominfo", "ct-web"]).expect_ok(), "OS Type:"),
        "exe"
    );
    d.virsh(&["start", "ct-web"]).expect_ok();
    d.virsh(&["destroy", "ct-web"]).expect_ok();
}

#[test]
fn every_rejected_feature_is_config_unsupported() {
    let d = Daemon::start();
    let base = fs::read_to_string(fixture("vm-basic.xml")).unwrap();
    let ct = fs::read_to_string(fixture("ct-basic.xml")).unwrap();
    let top = |extra: &str| base.replace("</domain>", &format!("{extra}</domain>"));
    let dev = |extra: &str| top(&format!("<devices>{extra}</devices>"));
    let cases = [
        top("<title>t</title>"),
        top("<blkiotune><weight>100</weight></blkiotune>"),
        top("<memoryBacking><hugepages/></memoryBacking>"),
        top("<cputune><shares>10</shares></cputune>"),
        top("<numatune><memory mode='strict' nodeset='0'/></numatune>"),
        top("<on_crash>restart</on_crash>"),
        top("<features><acpi/></features>"),
        top("<clock offset='utc'><timer name='rtc'/></clock>"),
        top("<clock offset='localtime'/>"),
        top("<emulator>/usr/bin/x</emulator>"),
        base.replace("<vcpu>2</vcpu>", "<vcpu current='1'>2</vcpu>"),
        base.replace("<vcpu>2</vcpu>", "<vcpu placement='auto'>2</vcpu>"),
        base.replace("</os>", "<kernel>/boot/vmlinuz</kernel></os>"),
        base.replace("</os>", "<loader>/x</loader></os>"),
        base.replace("</os>", "<boot dev='fd'/></os>"),
        base.replace("<type arch='x86_64'>hvm</type>", "<type arch='x86_64' machine='pc'>hvm</type>"),
        base.replace("<memory unit='MiB'>1024</memory>", "<memory unit='MiB'>1024</memory><currentMemory unit='MiB'>512</currentMemory>"),
        dev("<sound model='ich6'/>"),
        dev("<hostdev mode='subsystem' type='usb'/>"),
        dev("<redirdev bus='usb' type='spicevmc'/>"),
        dev("<smartcard mode='host'/>"),
        dev("<parallel type='pty'/>"),
        dev("<channel type='pty'/>"),
        dev("<hub type='usb'/>"),
        dev("<filesystem type='mount'><source dir='/x'/><target dir='/y'/></filesystem>"),
        dev("<disk type='file' device='floppy'><source file='/f'/><target dev='fda'/></disk>"),
        dev("<disk type='file' device='disk'><source file='/f'/><target dev='vda' bus='virtio'/></disk>"),
        dev("<disk type='network' device='disk'><target dev='sda'/></disk>"),
        dev("<disk type='file' device='disk'><source file='/f'/><target dev='sda' bus='scsi'/><iotune><total_bytes_sec>1</total_bytes_sec></iotune></disk>"),
        dev("<interface type='user'/>"),
        dev("<interface type='bridge'><source bridge='br0'/><model type='ne2k_pci'/></interface>"),
        dev("<interface type='bridge'><source bridge='br0'/><bandwidth/></interface>"),
        dev("<graphics type='spice'/>"),
        dev("<graphics type='vnc' websocket='5700'/>"),
        dev("<graphics type='vnc'/><graphics type='vnc'/>"),
        dev("<video><model type='qxl'/></video>"),
        dev("<video><model type='vga' heads='2'/></video>"),
        dev("<serial type='pty'><target port='0'/></serial>"),
        dev("<input type='tablet' bus='usb'/><graphics type='vnc'/>"),
        dev("<controller type='usb' model='ich9-ehci1'/>"),
        ct.replace("</os>", "<boot dev='hd'/></os>"),
    ];
    let f = d.dir.join("reject.xml");
    for xml in cases {
        fs::write(&f, &xml).unwrap();
        let out = d.virsh(&["define", f.to_str().unwrap()]);
        assert!(
            out.stderr.contains("error: unsupported configuration:"),
            "not refused as unsupported: {xml}\n{out:?}"
        );
    }
    assert_eq!(d.virsh(&["list", "--all", "--name"]).expect_ok().trim(), "");
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
        let mem = field(d.virsh(&["dominfo", "vm-basic"]).expect_ok(), "Max memory:").to_string();
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

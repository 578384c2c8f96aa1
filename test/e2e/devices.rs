//! Devices, statistics and managed save (issue "Events, snapshots,
//! devices, ..." acceptance 3-5), with what virsh prints.

use crate::harness::*;
use std::fs;
use std::time::Duration;

/// A file under the daemon's directory with `text`, as a path string.
fn file(d: &Daemon, name: &str, text: &str) -> String {
    let f = d.dir.join(name);
    fs::write(&f, text).unwrap();
    f.display().to_string()
}

/// The full VM fixture defined, with its images in place.
fn full_vm(d: &Daemon) {
    let xml = fs::read_to_string(fixture("vm-full.xml"))
        .unwrap()
        .replace("@DIR@", &d.dir.path().display().to_string());
    for img in ["disk1.qcow2", "disk2.qcow2", "install.iso"] {
        fs::write(d.dir.join(img), b"").unwrap();
    }
    let f = file(d, "vm-full.xml", &xml);
    d.virsh(&["define", &f]).expect_ok();
}

/// Acceptance 3 on a VM: disks and CD-ROMs come and go, interfaces are
/// updated but not added or removed, VNC is attached, updated and
/// detached; everything else and every wrong case gets libvirt's error;
/// the changes persist across a daemon restart.
#[test]
fn vm_devices_change_as_libvirt_allows_and_persist() {
    let mut d = Daemon::start();
    full_vm(&d);
    let dir = d.dir.path().display().to_string();
    let img = file(&d, "extra.qcow2", "");
    says(
        &d,
        &["attach-disk", "vm-full", &img, "sdc", "--config"],
        "Disk attached successfully\n\n",
    );
    refuses(
        &d,
        &["attach-disk", "vm-full", &img, "sdc", "--config"],
        "error: Failed to attach disk\nerror: Requested operation is not valid: target sdc already exists\n",
    );
    // New media in the CD-ROM.
    file(&d, "b.iso", "");
    let cd = file(
        &d,
        "cd.xml",
        &format!("<disk type='file' device='cdrom'><source file='{dir}/b.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>"),
    );
    says(
        &d,
        &["update-device", "vm-full", &cd, "--config"],
        "Device updated successfully\n\n",
    );
    // (The dashes under the header follow the longest path.)
    let list = d.virsh(&["domblklist", "vm-full"]).expect_ok().to_string();
    let rows: Vec<&str> = list.lines().filter(|l| !l.starts_with("---")).collect();
    assert_eq!(
        rows.join("\n"),
        format!(" Target   Source\n sda      {dir}/disk1.qcow2\n sdb      {dir}/disk2.qcow2\n sdc      {dir}/extra.qcow2\n hdc      {dir}/b.iso\n"),
    );
    let gone = file(
        &d,
        "gone.xml",
        "<disk type='file' device='disk'><source file='/x'/><target dev='sdq' bus='scsi'/></disk>",
    );
    refuses(
        &d,
        &["detach-device", "vm-full", &gone, "--config"],
        &format!("error: Failed to detach device from {gone}\nerror: internal error: No disk with bus 'scsi' and target 'sdq'\n"),
    );
    // Interfaces: VMs take updates only.
    let nic = file(
        &d,
        "nic.xml",
        "<interface type='network'><mac address='42:1c:00:aa:bb:cc'/><source network='Bridged'/></interface>",
    );
    refuses(
        &d,
        &["attach-device", "vm-full", &nic, "--config"],
        &format!("error: Failed to attach device from {nic}\nerror: Operation not supported: attaching network device to VM is unsupported\n"),
    );
    refuses(
        &d,
        &["detach-device", "vm-full", &nic, "--config"],
        &format!("error: Failed to detach device from {nic}\nerror: Operation not supported: detaching network device from VM is unsupported\n"),
    );
    let upd = file(
        &d,
        "upd.xml",
        "<interface type='bridge'><mac address='42:1c:00:12:34:56'/><source bridge='br1'/><model type='rtl8139'/><link state='down'/></interface>",
    );
    says(
        &d,
        &["update-device", "vm-full", &upd, "--config"],
        "Device updated successfully\n\n",
    );
    let ifaces = d.virsh(&["domiflist", "vm-full"]).expect_ok().to_string();
    assert!(
        ifaces.contains(" -           bridge    br1       rtl8139   42:1c:00:12:34:56\n"),
        "{ifaces}"
    );
    says(
        &d,
        &["domif-getlink", "vm-full", "42:1c:00:12:34:56"],
        "42:1c:00:12:34:56 down\n",
    );
    // VNC: one at most; updated; detached once.
    let vnc = file(
        &d,
        "vnc.xml",
        "<graphics type='vnc' port='5910' autoport='no'/>",
    );
    refuses(
        &d,
        &["attach-device", "vm-full", &vnc, "--config"],
        &format!("error: Failed to attach device from {vnc}\nerror: unsupported configuration: domain already has VNC graphics\n"),
    );
    says(
        &d,
        &["update-device", "vm-full", &vnc, "--config"],
        "Device updated successfully\n\n",
    );
    assert!(d
        .virsh(&["dumpxml", "vm-full"])
        .expect_ok()
        .contains("<graphics type='vnc' port='5910' autoport='no' listen='127.0.0.1'>"));
    says(
        &d,
        &["detach-device", "vm-full", &vnc, "--config"],
        "Device detached successfully\n\n",
    );
    refuses(
        &d,
        &["detach-device", "vm-full", &vnc, "--config"],
        &format!("error: Failed to detach device from {vnc}\nerror: unsupported configuration: cannot find VNC graphics device\n"),
    );
    says(
        &d,
        &["attach-device", "vm-full", &vnc, "--config"],
        "Device attached successfully\n\n",
    );
    // Devices the driver does not change, in its words.
    let snd = file(&d, "snd.xml", "<sound model='ich6'/>");
    for (cmd, verb, what) in [
        ("attach-device", "attaching", "attach"),
        ("detach-device", "detaching", "detach"),
        ("update-device", "updating", "update"),
    ] {
        refuses(
            &d,
            &[cmd, "vm-full", &snd, "--config"],
            &format!("error: Failed to {what} device from {snd}\nerror: unsupported configuration: {verb} device type 'sound' is unsupported\n"),
        );
    }

    // Running: CONFIG alone is refused, LIVE alone too (the vz rule).
    d.virsh(&["start", "vm-full"]).expect_ok();
    refuses(
        &d,
        &["detach-disk", "vm-full", "sdc", "--config"],
        "error: Failed to detach disk\nerror: Requested operation is not valid: Updates on a running domain need VIR_DOMAIN_AFFECT_LIVE flag\n",
    );
    refuses(
        &d,
        &["detach-disk", "vm-full", "sdc", "--live"],
        "error: Failed to detach disk\nerror: Requested operation is not valid: domain config update needs VIR_DOMAIN_AFFECT_CONFIG flag to be set\n",
    );
    says(
        &d,
        &["detach-disk", "vm-full", "sdc", "--config", "--live"],
        "Disk detached successfully\n\n",
    );
    // blockresize: a running domain's image disk, by target or path.
    says(
        &d,
        &["blockresize", "vm-full", "sda", "2G"],
        "Block device 'sda' is resized\n",
    );
    says(
        &d,
        &[
            "blockresize",
            "vm-full",
            &format!("{dir}/disk2.qcow2"),
            "3G",
        ],
        &format!("Block device '{dir}/disk2.qcow2' is resized\n"),
    );
    let stats = d
        .virsh(&["domstats", "--block", "vm-full"])
        .expect_ok()
        .to_string();
    assert!(
        stats.contains("  block.0.capacity=2147483648\n")
            && stats.contains("  block.1.capacity=3221225472\n"),
        "{stats}"
    );
    refuses(
        &d,
        &["blockresize", "vm-full", "sdz", "2G"],
        "error: Failed to resize block device 'sdz'\nerror: invalid argument: invalid path: sdz\n",
    );
    refuses(
        &d,
        &["blockresize", "vm-full", "sda", "1G"],
        "error: Failed to resize block device 'sda'\nerror: operation failed: Shrinking a disk image is not supported.\n",
    );
    d.virsh(&["destroy", "vm-full"]).expect_ok();
    refuses(
        &d,
        &["blockresize", "vm-full", "sda", "4G"],
        "error: Failed to resize block device 'sda'\nerror: Requested operation is not valid: domain is not running\n",
    );

    // Everything persisted.
    let before = d.virsh(&["dumpxml", "vm-full"]).expect_ok().to_string();
    d.stop();
    d.restart();
    assert_eq!(d.virsh(&["dumpxml", "vm-full"]).expect_ok(), before);
    assert!(!before.contains("extra.qcow2") && before.contains("b.iso"));
    assert!(before.contains("<source bridge='br1'/>") && before.contains("<link state='down'/>"));
    let stats = d
        .virsh(&["domstats", "--block", "vm-full"])
        .expect_ok()
        .to_string();
    assert!(stats.contains("  block.0.capacity=2147483648\n"), "{stats}");
}

/// Acceptance 3 on a container: interfaces are attached, updated and
/// detached; disks take the container format; changes persist.
#[test]
fn container_interfaces_and_disks_change_and_persist() {
    let mut d = Daemon::start();
    d.virsh(&["define", &fixture("ct-template.xml")])
        .expect_ok();
    let nic = file(
        &d,
        "nic.xml",
        "<interface type='network'><mac address='42:1c:00:aa:bb:cc'/><source network='Bridged'/></interface>",
    );
    says(
        &d,
        &["attach-device", "ct-web", &nic, "--config"],
        "Device attached successfully\n\n",
    );
    refuses(
        &d,
        &["attach-device", "ct-web", &nic, "--config"],
        &format!("error: Failed to attach device from {nic}\nerror: Requested operation is not valid: interface 42:1c:00:aa:bb:cc already exists\n"),
    );
    let ifaces = d.virsh(&["domiflist", "ct-web"]).expect_ok().to_string();
    assert!(
        ifaces.contains(" -           network   Bridged       -       42:1c:00:aa:bb:cc\n"),
        "{ifaces}"
    );
    // Live on a running container, too (hot-plug).
    d.virsh(&["start", "ct-web"]).expect_ok();
    says(
        &d,
        &["detach-device", "ct-web", &nic, "--config", "--live"],
        "Device detached successfully\n\n",
    );
    refuses(
        &d,
        &["detach-device", "ct-web", &nic, "--config", "--live"],
        &format!("error: Failed to detach device from {nic}\nerror: internal error: No net with mac '42:1c:00:aa:bb:cc'\n"),
    );
    says(
        &d,
        &["attach-device", "ct-web", &nic, "--config", "--live"],
        "Device attached successfully\n\n",
    );
    d.virsh(&["destroy", "ct-web"]).expect_ok();
    let hdd = file(&d, "data.hdd", "");
    says(
        &d,
        &[
            "attach-disk",
            "ct-web",
            &hdd,
            "sdb",
            "--config",
            "--subdriver",
            "ploop",
        ],
        "Disk attached successfully\n\n",
    );
    let out = d.virsh(&[
        "attach-disk",
        "ct-web",
        &hdd,
        "sdc",
        "--config",
        "--subdriver",
        "qcow2",
    ]);
    assert!(
        out.stderr
            .contains("unsupported configuration: Unsupported disk format 'qcow2': only 'ploop' for this disk"),
        "{out:?}"
    );
    let before = d.virsh(&["dumpxml", "ct-web"]).expect_ok().to_string();
    d.stop();
    d.restart();
    assert_eq!(d.virsh(&["dumpxml", "ct-web"]).expect_ok(), before);
    assert!(
        before.contains("<mac address='42:1c:00:aa:bb:cc'/>"),
        "{before}"
    );
    assert!(
        before.contains("<driver name='vz' type='ploop'/>"),
        "{before}"
    );
}

/// Acceptance 5: managedsave, dominfo's "Managed save: yes", start from
/// it (paused if saved paused), managedsave-remove, undefine with and
/// without --managed-save, redefinition while saved.
#[test]
fn managed_save_round_trip() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    refuses(
        &d,
        &["managedsave", "vm-basic"],
        "error: Failed to save domain 'vm-basic' state\nerror: Requested operation is not valid: Can't change domain state.\n",
    );
    d.virsh(&["start", "vm-basic"]).expect_ok();
    says(
        &d,
        &["managedsave", "vm-basic"],
        "\nDomain 'vm-basic' state saved by libvirt\n\n",
    );
    let info = d.virsh(&["dominfo", "vm-basic"]);
    assert_eq!(labelled(info.expect_ok(), "Managed save:"), "yes");
    assert_eq!(labelled(info.expect_ok(), "State:"), "shut off");
    assert_eq!(labelled(info.expect_ok(), "Id:"), "-");
    says(
        &d,
        &["domstate", "--reason", "vm-basic"],
        "shut off (saved)\n\n",
    );
    says(
        &d,
        &["list", "--all", "--with-managed-save", "--name"],
        "vm-basic\n\n",
    );
    refuses(
        &d,
        &["undefine", "vm-basic"],
        "error: Refusing to undefine while domain managed save image exists\n",
    );
    // Redefining: the same config is accepted, another refused.
    let same = file(
        &d,
        "same.xml",
        d.virsh(&["dumpxml", "vm-basic"]).expect_ok(),
    );
    d.virsh(&["define", &same]).expect_ok();
    let other = file(
        &d,
        "other.xml",
        &d.virsh(&["dumpxml", "vm-basic"]).expect_ok().replace(
            "<vcpu placement='static'>2</vcpu>",
            "<vcpu placement='static'>3</vcpu>",
        ),
    );
    refuses(
        &d,
        &["define", &other],
        &format!("error: Failed to define domain from {other}\nerror: argument unsupported: Can't change domain configuration in managed save state\n"),
    );
    says(&d, &["start", "vm-basic"], "Domain 'vm-basic' started\n\n");
    says(
        &d,
        &["domstate", "--reason", "vm-basic"],
        "running (booted)\n\n",
    );
    assert_eq!(
        labelled(
            d.virsh(&["dominfo", "vm-basic"]).expect_ok(),
            "Managed save:"
        ),
        "no"
    );
    // --paused: it comes back paused (libvirt's vz driver brings it back
    // running); --running: back running even if paused when saved.
    says(
        &d,
        &["managedsave", "--paused", "vm-basic"],
        "\nDomain 'vm-basic' state saved by libvirt\n\n",
    );
    d.virsh(&["start", "vm-basic"]).expect_ok();
    says(&d, &["domstate", "vm-basic"], "paused\n\n");
    // start --paused of a guest that comes back paused anyway.
    d.virsh(&["managedsave", "vm-basic"]).expect_ok();
    d.virsh(&["start", "--paused", "vm-basic"]).expect_ok();
    says(&d, &["domstate", "vm-basic"], "paused\n\n");
    d.virsh(&["managedsave", "--running", "vm-basic"])
        .expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    says(&d, &["domstate", "vm-basic"], "running\n\n");
    // A paused guest saved without a flag comes back paused.
    d.virsh(&["suspend", "vm-basic"]).expect_ok();
    d.virsh(&["managedsave", "vm-basic"]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    says(&d, &["domstate", "vm-basic"], "paused\n\n");
    d.virsh(&["managedsave", "vm-basic"]).expect_ok();
    says(
        &d,
        &["managedsave-remove", "vm-basic"],
        "Removed managedsave image for domain 'vm-basic'\n",
    );
    assert_eq!(
        labelled(
            d.virsh(&["dominfo", "vm-basic"]).expect_ok(),
            "Managed save:"
        ),
        "no"
    );
    says(
        &d,
        &["domstate", "--reason", "vm-basic"],
        "shut off (shutdown)\n\n",
    );
    // The saved state is gone: a start boots.
    d.virsh(&["start", "vm-basic"]).expect_ok();
    says(&d, &["domstate", "vm-basic"], "running\n\n");
    // With the flag, undefine takes the saved state with it.
    d.virsh(&["managedsave", "vm-basic"]).expect_ok();
    says(
        &d,
        &["undefine", "--managed-save", "vm-basic"],
        "Domain 'vm-basic' has been undefined\n\n",
    );
    says(&d, &["list", "--all", "--name"], "\n");
}

fn stat(text: &str, key: &str) -> i64 {
    text.lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix(key)
                .and_then(|r| r.trim_start_matches('=').trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no {key} in {text}"))
}

/// The names of `domstats` fields in order.
fn keys(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().split_once('=').map(|(k, _)| k.to_string()))
        .collect()
}

/// Acceptance 4: domblkstat, domifstat, dommemstat, domstats (all
/// groups), domjobinfo print the fields libvirt prints for a vz guest;
/// values grow while it runs and stand still while it is stopped.
#[test]
fn statistics_print_libvirts_fields_and_grow_while_running() {
    let d = Daemon::start();
    full_vm(&d);
    d.virsh(&["start", "vm-full"]).expect_ok();
    std::thread::sleep(Duration::from_millis(2100));
    let b1 = d
        .virsh(&["domblkstat", "vm-full", "sda"])
        .expect_ok()
        .to_string();
    let names: Vec<&str> = b1
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(names, ["rd_req", "rd_bytes", "wr_req", "wr_bytes"], "{b1}");
    assert!(stat(&b1, "sda rd_req") > 0, "{b1}");
    // All disks summed (the CD-ROM counts nothing).
    let all = d.virsh(&["domblkstat", "vm-full"]).expect_ok().to_string();
    assert!(stat(&all, "rd_req") > stat(&b1, "sda rd_req"), "{all}");
    let i1 = d
        .virsh(&["domifstat", "vm-full", "42:1c:00:12:34:56"])
        .expect_ok()
        .to_string();
    let names: Vec<&str> = i1
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["rx_bytes", "rx_packets", "tx_bytes", "tx_packets"],
        "{i1}"
    );
    assert!(stat(&i1, "42:1c:00:12:34:56 rx_bytes") > 0, "{i1}");
    let m = d.virsh(&["dommemstat", "vm-full"]).expect_ok().to_string();
    let names: Vec<&str> = m
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "swap_in",
            "swap_out",
            "minor_fault",
            "major_fault",
            "available",
            "actual",
            "unused"
        ],
        "{m}"
    );
    assert_eq!(stat(&m, "available"), 2 * 1024 * 1024, "{m}");
    assert_eq!(stat(&m, "actual"), 2 * 1024 * 1024, "{m}");
    let s = d.virsh(&["domstats", "vm-full"]).expect_ok().to_string();
    assert!(s.starts_with("Domain: 'vm-full'\n"), "{s}");
    let mac2 = d
        .virsh(&["domiflist", "vm-full"])
        .expect_ok()
        .lines()
        .find(|l| l.contains("Bridged"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_default()
        .to_string();
    let mut want: Vec<String> = ["state.state", "state.reason", "block.count"]
        .iter()
        .map(|k| k.to_string())
        .collect();
    for n in 0..3 {
        for k in [
            "name", "path", "rd.reqs", "rd.bytes", "wr.reqs", "wr.bytes", "capacity",
        ] {
            // The CD-ROM (block.2) has no counters and no capacity.
            if n < 2 || k == "name" || k == "path" {
                want.push(format!("block.{n}.{k}"));
            }
        }
    }
    want.push("net.count".into());
    for n in 0..2 {
        for k in ["name", "rx.bytes", "rx.pkts", "tx.bytes", "tx.pkts"] {
            want.push(format!("net.{n}.{k}"));
        }
    }
    want.extend(["vcpu.current", "vcpu.maximum"].map(String::from));
    for n in 0..2 {
        want.push(format!("vcpu.{n}.state"));
        want.push(format!("vcpu.{n}.time"));
    }
    for k in [
        "maximum",
        "current",
        "swap_in",
        "swap_out",
        "minor_fault",
        "major_fault",
        "available",
        "unused",
    ] {
        want.push(format!("balloon.{k}"));
    }
    assert_eq!(keys(&s), want, "{s}");
    for line in [
        "  state.state=1\n",
        "  state.reason=1\n",
        "  block.count=3\n",
        "  block.2.name=hdc\n",
        "  net.count=2\n",
        "  net.0.name=42:1c:00:12:34:56\n",
        "  vcpu.current=2\n",
        "  vcpu.maximum=2\n",
        "  vcpu.0.state=1\n",
        "  balloon.maximum=2097152\n",
        "  balloon.current=2097152\n",
    ] {
        assert!(s.contains(line), "{line} missing from {s}");
    }
    assert!(s.contains(&format!("  net.1.name={mac2}\n")), "{s}");
    // Each group alone, and the filters.
    let only = d
        .virsh(&["domstats", "--vcpu", "vm-full"])
        .expect_ok()
        .to_string();
    assert_eq!(keys(&only)[..2], ["vcpu.current", "vcpu.maximum"]);
    let listed = d
        .virsh(&["domstats", "--state", "--list-shutoff"])
        .expect_ok()
        .to_string();
    assert_eq!(listed, "\n");
    let e = d.virsh(&["domstats", "--perf", "--enforce", "vm-full"]);
    assert!(
        e.stderr.contains(
            "argument unsupported: Stats types bits 0x40 are not supported by this daemon"
        ),
        "{e:?}"
    );
    refuses(
        &d,
        &["domblkstat", "vm-full", "sdz"],
        "error: invalid argument: invalid path: sdz\n",
    );
    says(
        &d,
        &["domjobinfo", "vm-full"],
        "Job type:         None        \n\n",
    );
    refuses(
        &d,
        &["domjobabort", "vm-full"],
        "error: Requested operation is not valid: no job is active on the domain\n",
    );
    // dominfo's CPU time is the guest's.
    let secs: f64 = labelled(d.virsh(&["dominfo", "vm-full"]).expect_ok(), "CPU time:")
        .trim_end_matches('s')
        .parse()
        .unwrap();
    assert!(secs > 0.0, "{secs}");
    // Grows while running...
    std::thread::sleep(Duration::from_millis(1100));
    let b2 = d
        .virsh(&["domblkstat", "vm-full", "sda"])
        .expect_ok()
        .to_string();
    assert!(
        stat(&b2, "sda rd_req") > stat(&b1, "sda rd_req"),
        "{b1} / {b2}"
    );
    // ...and stands still while stopped.
    d.virsh(&["destroy", "vm-full"]).expect_ok();
    let b3 = d
        .virsh(&["domblkstat", "vm-full", "sda"])
        .expect_ok()
        .to_string();
    std::thread::sleep(Duration::from_millis(1100));
    let b4 = d
        .virsh(&["domblkstat", "vm-full", "sda"])
        .expect_ok()
        .to_string();
    assert_eq!(stat(&b3, "sda rd_req"), stat(&b4, "sda rd_req"));
    let s = d
        .virsh(&["domstats", "--vcpu", "vm-full"])
        .expect_ok()
        .to_string();
    assert!(s.contains("  vcpu.0.state=0\n"), "{s}");
}

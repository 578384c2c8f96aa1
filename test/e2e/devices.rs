//! Device changes and managed save (issue "Events, snapshots, devices, ...").

use crate::harness::*;
use std::fs;

fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no '{label}' in {text}"))
}

#[test]
fn disks_attach_detach_resize_and_persist() {
    let mut d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let img = d.dir.join("extra.qcow2");
    fs::write(&img, b"").unwrap();
    let img = img.display().to_string();
    d.virsh(&["attach-disk", "vm-basic", &img, "sdb", "--config"])
        .expect_ok();
    let e = d.virsh(&["attach-disk", "vm-basic", &img, "sdb", "--config"]);
    assert!(e.stderr.contains("target sdb already exists"), "{e:?}");
    // A CD-ROM, then new media through update-device.
    let iso = d.dir.join("a.iso");
    fs::write(&iso, b"").unwrap();
    let cd = |src: &str| {
        let f = d.dir.join("cd.xml");
        fs::write(
            &f,
            format!("<disk type='file' device='cdrom'><source file='{src}'/><target dev='hdc' bus='ide'/><readonly/></disk>"),
        )
        .unwrap();
        f.display().to_string()
    };
    d.virsh(&[
        "attach-device",
        "vm-basic",
        &cd(&iso.display().to_string()),
        "--config",
    ])
    .expect_ok();
    let iso2 = d.dir.join("b.iso");
    fs::write(&iso2, b"").unwrap();
    d.virsh(&[
        "update-device",
        "vm-basic",
        &cd(&iso2.display().to_string()),
        "--config",
    ])
    .expect_ok();
    let list = d.virsh(&["domblklist", "vm-basic"]).expect_ok().to_string();
    assert!(list.contains(&format!("sdb      {img}")), "{list}");
    assert!(list.contains("b.iso"), "{list}");

    // Running: CONFIG alone is refused, LIVE+CONFIG works; resize needs it
    // running and an image.
    d.virsh(&["start", "vm-basic"]).expect_ok();
    let e = d.virsh(&["blockresize", "vm-basic", "sdb", "2G"]);
    e.expect_ok();
    let e = d.virsh(&["detach-disk", "vm-basic", "sdb", "--config"]);
    assert!(
        e.stderr
            .contains("Updates on a running domain need VIR_DOMAIN_AFFECT_LIVE flag"),
        "{e:?}"
    );
    d.virsh(&["detach-disk", "vm-basic", "sdb", "--config", "--live"])
        .expect_ok();
    d.virsh(&["destroy", "vm-basic"]).expect_ok();
    let e = d.virsh(&["blockresize", "vm-basic", "sda", "2G"]);
    assert!(e.stderr.contains("domain is not running"), "{e:?}");

    // Persisted across a restart.
    d.stop();
    d.restart();
    let list = d.virsh(&["domblklist", "vm-basic"]).expect_ok().to_string();
    assert!(
        !list.contains("extra.qcow2") && list.contains("b.iso"),
        "{list}"
    );
}

#[test]
fn interfaces_change_on_containers_only_and_graphics_anywhere() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["define", &fixture("ct-template.xml")])
        .expect_ok();
    let nic = d.dir.join("nic.xml");
    fs::write(
        &nic,
        "<interface type='network'><mac address='42:1c:00:aa:bb:cc'/><source network='Bridged'/></interface>",
    )
    .unwrap();
    let nic = nic.display().to_string();
    let e = d.virsh(&["attach-device", "vm-basic", &nic, "--config"]);
    assert!(
        e.stderr
            .contains("attaching network device to VM is unsupported"),
        "{e:?}"
    );
    d.virsh(&["attach-device", "ct-web", &nic, "--config"])
        .expect_ok();
    let ifaces = d.virsh(&["domiflist", "ct-web"]).expect_ok().to_string();
    assert!(ifaces.contains("42:1c:00:aa:bb:cc"), "{ifaces}");
    d.virsh(&["detach-device", "ct-web", &nic, "--config"])
        .expect_ok();
    assert!(!d
        .virsh(&["domiflist", "ct-web"])
        .expect_ok()
        .contains("42:1c:00:aa:bb:cc"));

    let vnc = d.dir.join("vnc.xml");
    fs::write(&vnc, "<graphics type='vnc' port='5905' autoport='no'/>").unwrap();
    let vnc = vnc.display().to_string();
    d.virsh(&["attach-device", "vm-basic", &vnc, "--config"])
        .expect_ok();
    let e = d.virsh(&["attach-device", "vm-basic", &vnc, "--config"]);
    assert!(e.stderr.contains("already has VNC graphics"), "{e:?}");
    assert!(d
        .virsh(&["dumpxml", "vm-basic"])
        .expect_ok()
        .contains("port='5905'"));
    d.virsh(&["detach-device", "vm-basic", &vnc, "--config"])
        .expect_ok();
    assert!(!d
        .virsh(&["dumpxml", "vm-basic"])
        .expect_ok()
        .contains("<graphics"));
    // Anything else is refused.
    let snd = d.dir.join("snd.xml");
    fs::write(&snd, "<sound model='ich6'/>").unwrap();
    let e = d.virsh(&[
        "attach-device",
        "vm-basic",
        snd.to_str().unwrap(),
        "--config",
    ]);
    assert!(e.stderr.contains("unsupported configuration"), "{e:?}");
}

#[test]
fn managed_save_round_trip() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let e = d.virsh(&["managedsave", "vm-basic"]);
    assert!(e.stderr.contains("Can't change domain state."), "{e:?}");
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["managedsave", "vm-basic"]).expect_ok();
    let info = d.virsh(&["dominfo", "vm-basic"]);
    assert_eq!(field(info.expect_ok(), "Managed save:"), "yes");
    assert_eq!(field(info.expect_ok(), "State:"), "shut off");
    assert_eq!(
        d.virsh(&["domstate", "vm-basic", "--reason"])
            .expect_ok()
            .trim(),
        "shut off (saved)"
    );
    let e = d.virsh(&["undefine", "vm-basic"]);
    assert!(e.stderr.contains("managed save image exists"), "{e:?}");
    d.virsh(&["start", "vm-basic"]).expect_ok();
    assert_eq!(
        field(
            d.virsh(&["dominfo", "vm-basic"]).expect_ok(),
            "Managed save:"
        ),
        "no"
    );
    d.virsh(&["managedsave", "vm-basic"]).expect_ok();
    d.virsh(&["managedsave-remove", "vm-basic"]).expect_ok();
    assert_eq!(
        field(
            d.virsh(&["dominfo", "vm-basic"]).expect_ok(),
            "Managed save:"
        ),
        "no"
    );
    // With the flag, undefine takes the saved state with it.
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["managedsave", "vm-basic"]).expect_ok();
    d.virsh(&["undefine", "--managed-save", "vm-basic"])
        .expect_ok();
    assert_eq!(d.virsh(&["list", "--all", "--name"]).expect_ok().trim(), "");
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

#[test]
fn statistics_grow_while_running_and_stop_when_stopped() {
    let d = Daemon::start();
    let xml = fs::read_to_string(fixture("vm-full.xml"))
        .unwrap()
        .replace("@DIR@", &d.dir.path().display().to_string());
    let f = d.dir.join("vm-full.xml");
    fs::write(&f, xml).unwrap();
    for img in ["disk1.qcow2", "disk2.qcow2", "install.iso"] {
        fs::write(d.dir.join(img), b"").unwrap();
    }
    d.virsh(&["define", f.to_str().unwrap()]).expect_ok();
    d.virsh(&["start", "vm-full"]).expect_ok();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let b1 = d
        .virsh(&["domblkstat", "vm-full", "sda"])
        .expect_ok()
        .to_string();
    assert!(stat(&b1, "sda rd_req") > 0, "{b1}");
    let i1 = d
        .virsh(&["domifstat", "vm-full", "42:1c:00:12:34:56"])
        .expect_ok()
        .to_string();
    assert!(stat(&i1, "42:1c:00:12:34:56 rx_bytes") > 0, "{i1}");
    let m = d.virsh(&["dommemstat", "vm-full"]).expect_ok().to_string();
    assert_eq!(stat(&m, "available"), 2 * 1024 * 1024, "{m}");
    assert_eq!(stat(&m, "actual"), 2 * 1024 * 1024, "{m}");
    let s = d.virsh(&["domstats", "vm-full"]).expect_ok().to_string();
    for key in [
        "state.state=1",
        "vcpu.current=2",
        "net.count=2",
        "block.count=3",
        "block.1.name=sdb",
        "balloon.maximum=2097152",
    ] {
        assert!(s.contains(key), "{key} missing from {s}");
    }
    let e = d.virsh(&["domblkstat", "vm-full", "sdz"]);
    assert!(e.stderr.contains("invalid path"), "{e:?}");
    assert!(d
        .virsh(&["domjobinfo", "vm-full"])
        .expect_ok()
        .contains("Job type:         None"));
    // Grows while running...
    std::thread::sleep(std::time::Duration::from_millis(1100));
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
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b4 = d
        .virsh(&["domblkstat", "vm-full", "sda"])
        .expect_ok()
        .to_string();
    assert_eq!(stat(&b3, "sda rd_req"), stat(&b4, "sda rd_req"));
}

//! Domain events (issue "Events, snapshots, ..."): what `virsh event` and
//! python3-libvirt receive for changes made by another client.

use crate::harness::*;
use crate::wire::*;
use std::process::{Command, Stdio};
use std::time::Duration;

fn churn(d: &Daemon) {
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["suspend", "vm-basic"]).expect_ok();
    d.virsh(&["resume", "vm-basic"]).expect_ok();
    d.virsh(&["destroy", "vm-basic"]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["shutdown", "vm-basic"]).expect_ok();
    d.virsh(&["undefine", "vm-basic"]).expect_ok();
}

const EXPECTED: [&str; 8] = [
    "Defined Added",
    "Started Booted",
    "Suspended Paused",
    "Resumed Unpaused",
    "Stopped Destroyed",
    "Started Booted",
    "Stopped Shutdown",
    "Undefined Removed",
];

#[test]
fn virsh_event_sees_another_clients_changes() {
    let d = Daemon::start();
    let mut watcher = Command::new("virsh")
        .args([
            "-c",
            &d.uri(),
            "event",
            "--all",
            "--loop",
            "--timeout",
            "20",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // virsh registers its callbacks right after connecting.
    wait_until(
        "the watcher's registrations",
        Duration::from_secs(20),
        || {
            let out = Command::new("virt-admin")
                .args([
                    "-c",
                    &format!("virtvzd:///system?socket={}", d.admin().display()),
                ])
                .args(["srv-clients-list", "virtvzd"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).contains("unix")
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    churn(&d);
    std::thread::sleep(Duration::from_millis(500));
    let _ = watcher.kill();
    let out = watcher.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let seen: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("for domain 'vm-basic': ").nth(1))
        .collect();
    assert_eq!(seen, EXPECTED, "{text}");
}

#[test]
fn python_receives_lifecycle_events() {
    let d = Daemon::start();
    let script = format!(
        r#"
import libvirt, threading, time, subprocess
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
c = libvirt.open("{uri}")
got = []
def cb(conn, dom, event, detail, opaque):
    got.append((dom.name(), event, detail))
cid = c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
other = libvirt.open("{uri}")
dom = other.defineXML(open("{xml}").read())
dom.create(); dom.suspend(); dom.resume(); dom.destroy(); dom.undefine()
deadline = time.time() + 10
while len(got) < 6 and time.time() < deadline:
    time.sleep(0.05)
c.domainEventDeregisterAny(cid)
E = libvirt
want = [("vm-basic", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
        ("vm-basic", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        ("vm-basic", E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        ("vm-basic", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        ("vm-basic", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
        ("vm-basic", E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)]
assert got == want, got
try:
    c.domainEventDeregisterAny(cid)
    print("deregistered twice")
except libvirt.libvirtError as e:
    # refused by the client library itself, before any RPC
    assert e.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
print("ok")
"#,
        uri = d.uri(),
        xml = fixture("vm-basic.xml")
    );
    let out = python(&script);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
}

#[test]
fn a_subscriber_that_never_reads_slows_nobody() {
    let d = Daemon::start();
    // Register for every lifecycle event, then never read again.
    let mut lazy = Wire::connect(&d.rw());
    lazy.open("vz:///system", 0);
    let _id: i32 = lazy
        .call(316, &(0i32, None::<virtvzd::remote::protocol::Domain>))
        .unwrap();
    let mut good = Wire::connect(&d.rw());
    good.open("vz:///system", 0);
    for _ in 0..30 {
        churn(&d);
    }
    let v: u64 = good.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
    // Unknown event ids are refused.
    let e = good
        .call::<_, i32>(316, &(99i32, None::<virtvzd::remote::protocol::Domain>))
        .unwrap_err();
    assert_eq!(
        e.message.as_deref(),
        Some("internal error: unsupported event ID 99")
    );
}

//! Domain events (issue "Events, snapshots, ..."): what `virsh event` and
//! python3-libvirt receive for changes made by another client, and how a
//! subscriber that stops reading is treated.

use crate::harness::*;
use crate::wire::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use virtvzd::remote::protocol::Domain;

/// `virsh event --all --loop --timestamp` running, its lines collected.
struct Watcher {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watcher {
    fn start(d: &Daemon) -> Watcher {
        let mut child = Command::new("virsh")
            .args(["-c", &d.uri(), "event", "--all", "--loop", "--timestamp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        let w = Watcher { child, lines };
        // Registered once a probe guest's events show up.
        let probe = d.dir.join("probe.xml");
        std::fs::write(
            &probe,
            "<domain type='vz'><name>probe</name><memory>1048576</memory><os><type>hvm</type></os></domain>",
        )
        .unwrap();
        wait_until(
            "the watcher's registrations",
            Duration::from_secs(30),
            || {
                d.virsh(&["define", probe.to_str().unwrap()]).expect_ok();
                d.virsh(&["undefine", "probe"]).expect_ok();
                std::thread::sleep(Duration::from_millis(100));
                w.about("probe").len() >= 2
            },
        );
        w
    }

    /// The events about `name`, each as "<event>: <details>" without the
    /// timestamp (whose form is checked here).
    fn about(&self, name: &str) -> Vec<String> {
        let needle = format!(" for domain '{name}': ");
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let (head, rest) = l.split_once(&needle)?;
                // "2026-12-01 21:49:20.285+0000: event 'lifecycle'"
                let (stamp, event) = head.split_once(": event ")?;
                let b = stamp.as_bytes();
                assert!(
                    stamp.len() == 28
                        && b[4] == b'-'
                        && b[10] == b' '
                        && b[19] == b'.'
                        && stamp.ends_with("+0000"),
                    "timestamp of {l}"
                );
                Some(format!("{event}: {rest}"))
            })
            .collect()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Acceptance 1: one virsh watches while another changes a guest; every
/// lifecycle event arrives with libvirt's detail, and live device changes
/// as device-added / device-removed with the device's alias.
#[test]
fn virsh_event_sees_another_clients_changes() {
    let d = Daemon::start();
    let w = Watcher::start(&d);
    let img = d.dir.join("extra.qcow2");
    std::fs::write(&img, b"").unwrap();
    let img = img.display().to_string();
    let steps: [&[&str]; 13] = [
        &["define", &fixture("vm-basic.xml")],
        &["start", "vm-basic"],
        &["suspend", "vm-basic"],
        &["resume", "vm-basic"],
        &["attach-disk", "vm-basic", &img, "sdb", "--config", "--live"],
        &["detach-disk", "vm-basic", "sdb", "--config", "--live"],
        &["managedsave", "vm-basic"],
        &["start", "vm-basic"],
        &["destroy", "vm-basic"],
        &["start", "vm-basic"],
        &["shutdown", "vm-basic"],
        &["setmem", "vm-basic", "2G", "--config"],
        &["undefine", "vm-basic"],
    ];
    for s in steps {
        d.virsh(s).expect_ok();
    }
    let expected = [
        "'lifecycle': Defined Added",
        "'lifecycle': Started Booted",
        "'lifecycle': Suspended Paused",
        "'lifecycle': Resumed Unpaused",
        "'lifecycle': Defined Updated",
        "'device-added': scsi0-0-0-1",
        "'lifecycle': Defined Updated",
        "'device-removed': scsi0-0-0-1",
        "'lifecycle': Stopped Saved",
        "'lifecycle': Started Restored",
        "'lifecycle': Stopped Destroyed",
        "'lifecycle': Started Booted",
        "'lifecycle': Stopped Shutdown",
        "'lifecycle': Defined Updated",
        "'lifecycle': Undefined Removed",
    ];
    wait_until("every event", Duration::from_secs(30), || {
        w.about("vm-basic").len() >= expected.len()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(w.about("vm-basic"), expected);
}

/// Acceptance 1 with python3-libvirt: the default event loop, lifecycle
/// events for all domains, DEVICE_REMOVED for one, a per-domain filter.
#[test]
fn python_receives_lifecycle_and_device_events() {
    let d = Daemon::start();
    let img = d.dir.join("extra.qcow2");
    std::fs::write(&img, b"").unwrap();
    let script = format!(
        r#"
{PY_EVENT_LOOP}L = libvirt
c = libvirt.open("{uri}")
other = libvirt.open("{uri}")
got, removed, only_ct = [], [], []
def cb(conn, dom, event, detail, opaque):
    opaque.append((dom.name(), event, detail))
def rm(conn, dom, alias, opaque):
    removed.append((dom.name(), alias))
all_id = c.domainEventRegisterAny(None, L.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, got)
rm_id = c.domainEventRegisterAny(None, L.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, rm, None)
ct = other.defineXML(open("{ct}").read())
deadline = time.time() + 20
while not got and time.time() < deadline:
    time.sleep(0.05)
# Its definition seen, a filter for that one domain.
ct_id = c.domainEventRegisterAny(c.lookupByName("ct-basic"), L.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, only_ct)
dom = other.defineXML(open("{vm}").read())
dom.create(); dom.suspend(); dom.resume()
disk = "<disk type='file' device='disk'><source file='{img}'/><target dev='sdb' bus='scsi'/></disk>"
dom.attachDeviceFlags(disk, L.VIR_DOMAIN_AFFECT_LIVE | L.VIR_DOMAIN_AFFECT_CONFIG)
dom.detachDeviceFlags(disk, L.VIR_DOMAIN_AFFECT_LIVE | L.VIR_DOMAIN_AFFECT_CONFIG)
dom.managedSave(L.VIR_DOMAIN_SAVE_PAUSED)
dom.create()
dom.destroy(); dom.undefine()
ct.create(); ct.destroy()
deadline = time.time() + 20
while (len(got) < 15 or len(removed) < 1 or len(only_ct) < 2) and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.3)
for i in (all_id, rm_id, ct_id):
    c.domainEventDeregisterAny(i)
E = L
vm = "vm-basic"
want = [("ct-basic", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
        (vm, E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
        (vm, E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (vm, E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (vm, E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        (vm, E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_UPDATED),
        (vm, E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_UPDATED),
        (vm, E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (vm, E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SAVED),
        (vm, E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_RESTORED),
        (vm, E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_RESTORED),
        (vm, E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
        (vm, E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED),
        ("ct-basic", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        ("ct-basic", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
assert got == want, got
assert removed == [(vm, "scsi0-0-0-1")], removed
assert only_ct == want[-2:], only_ct
try:
    c.domainEventDeregisterAny(all_id)
    print("deregistered twice")
except libvirt.libvirtError as e:
    # refused by the client library itself, before any RPC
    assert e.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
print("ok")
"#,
        uri = d.uri(),
        vm = fixture("vm-basic.xml"),
        ct = fixture("ct-basic.xml"),
        img = img.display(),
    );
    let out = python(&script);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
}

/// Acceptance 1, the slow subscriber: a client that registers and never
/// reads has its queue bounded and is dropped; a subscriber that reads
/// still gets every event, in order, and the daemon answers throughout.
#[test]
fn a_subscriber_that_never_reads_is_dropped_and_slows_nobody() {
    let d = Daemon::start();
    let mut lazy = Wire::connect(&d.rw());
    lazy.open("vz:///system", 0);
    let _id: i32 = lazy.call(316, &(0i32, None::<Domain>)).unwrap();
    // A long name makes each event 60 kB, so the lazy client's queue
    // passes its bound within a few hundred events.
    let name = "n".repeat(60_000);
    let rounds = 400;
    let script = format!(
        r#"
{PY_EVENT_LOOP}c = libvirt.open("{uri}")
got = []
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
    lambda conn, dom, ev, detail, o: got.append(ev), None)
other = libvirt.open("{uri}")
dom = other.defineXML("<domain type='vz'><name>{name}</name><memory>1048576</memory><os><type>hvm</type></os></domain>")
dom.create()
for i in range({rounds}):
    dom.suspend(); dom.resume()
dom.destroy(); dom.undefine()
want = [0, 2] + [3, 4] * {rounds} + [5, 1]
deadline = time.time() + 60
while len(got) < len(want) and time.time() < deadline:
    time.sleep(0.05)
assert got == want, (len(got), len(want))
print("ok")
"#,
        uri = d.uri(),
    );
    let out = python(&script);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
    // The lazy one was let go; nobody else was.
    assert!(lazy.closed_by_server());
    wait_until("the drop is logged", Duration::from_secs(10), || {
        d.log_text()
            .contains("does not read its events; dropping it")
    });
    let mut good = Wire::connect(&d.rw());
    good.open("vz:///system", 0);
    let v: u64 = good.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
}

/// Every event id a 9.0 client knows is accepted, as libvirtd accepts them
/// (virsh event --all registers all 27); others are refused with
/// libvirtd's error; the legacy registrations get the legacy MESSAGE
/// procedures.
#[test]
fn event_ids_and_legacy_registrations() {
    let d = Daemon::start();
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let mut ids = std::collections::HashSet::new();
    for ev in 0..27i32 {
        let id: i32 = w.call(316, &(ev, None::<Domain>)).unwrap();
        assert!(ids.insert(id), "callback id {id} given twice");
    }
    for bad in [-1i32, 27, 99] {
        let e = w.call::<_, i32>(316, &(bad, None::<Domain>)).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some(format!("internal error: unsupported event ID {bad}").as_str())
        );
        let e = w.call::<_, ()>(167, &bad).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some(format!("internal error: unsupported event ID {bad}").as_str())
        );
    }
    let e = w.call::<_, ()>(317, &4242i32).unwrap_err();
    assert_eq!(
        e.message.as_deref(),
        Some("internal error: domain event callback 4242 not registered")
    );
    for id in ids {
        let () = w.call(317, &id).unwrap();
    }

    // Legacy: lifecycle as 107, device removal as 311 (no callback id).
    let mut old = Wire::connect(&d.rw());
    old.open("vz:///system", 0);
    let () = old.call(167, &0i32).unwrap();
    let () = old.call(167, &15i32).unwrap();
    let img = d.dir.join("extra.qcow2");
    std::fs::write(&img, b"").unwrap();
    let img = img.display().to_string();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["attach-disk", "vm-basic", &img, "sdb", "--config", "--live"])
        .expect_ok();
    d.virsh(&["detach-disk", "vm-basic", "sdb", "--config", "--live"])
        .expect_ok();
    let mut seen = Vec::new();
    while !seen.iter().any(|(p, _)| *p == 311) {
        let p = old.recv_reply();
        assert_eq!(p.header.mtype, 2, "a MESSAGE");
        seen.push((p.header.proc_, p.body));
    }
    let procs: Vec<i32> = seen.iter().map(|(p, _)| *p).collect();
    // DEFINED, STARTED, DEFINED (attach), DEFINED (detach), then removal.
    assert_eq!(procs, [107, 107, 107, 107, 311], "{procs:?}");
    let (dom, alias): (Domain, String) =
        virtvzd::rpc::xdr::from_bytes(&seen[4].1).expect("device removed msg");
    assert_eq!(
        (dom.name.as_str(), alias.as_str()),
        ("vm-basic", "scsi0-0-0-1")
    );
    let (dom, event, detail): (Domain, i32, i32) =
        virtvzd::rpc::xdr::from_bytes(&seen[1].1).expect("lifecycle msg");
    assert_eq!((dom.name.as_str(), event, detail), ("vm-basic", 2, 0));
}

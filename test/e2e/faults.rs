//! A Virtuozzo host that misbehaves (issue "The real Virtuozzo SDK"),
//! through the embedded host's test-only fault injection
//! (PRLSDK_EMU_FAULTS): the dispatcher connection lost, a job that never
//! finishes, an SDK error. `make check` runs these through the dlopen
//! path too.

use crate::harness::*;
use crate::wire::*;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use virtvzd::remote::protocol::{Domain, DomainArgs, ListAllDomainsArgs};
use virtvzd::rpc::message::WireError;
use virtvzd::rpc::xdr;

fn faulty(faults: &str, config: &str) -> Daemon {
    Daemon::start_with(Setup {
        config,
        env: &[("PRLSDK_EMU_FAULTS", faults)],
        ..Setup::default()
    })
}

/// The dispatcher is lost when someone sets a guest user's password.
const DROP: &str = "drop:PrlVm_SetUserPasswd";

#[test]
fn a_lost_dispatcher_fires_close_callbacks_and_new_connections_log_in_again() {
    let d = faulty(DROP, "");
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    let script = format!(
        r#"
{PY_EVENT_LOOP}c = libvirt.open("{uri}")
closed = []
c.registerCloseCallback(lambda conn, reason, opaque: closed.append(reason), None)
other = libvirt.open("{uri}")
try:
    other.lookupByName("vm-basic").setUserPassword("root", "secret")
    raise SystemExit("the dispatcher was not lost")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED, e.get_error_code()
deadline = time.time() + 20
while not closed and time.time() < deadline:
    time.sleep(0.05)
assert closed == [libvirt.VIR_CONNECT_CLOSE_REASON_EOF], closed
# The lost connections refuse further calls, clearly.
for conn in (c, other):
    try:
        conn.listAllDomains(0)
        raise SystemExit("a lost connection still answered")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED, e.get_error_code()
        assert e.get_error_domain() == libvirt.VIR_FROM_PARALLELS
        assert "connection to the Virtuozzo host was lost" in str(e), str(e)
# A new connection logs in again and sees the host as it is.
new = libvirt.open("{uri}")
dom = new.lookupByName("vm-basic")
assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, dom.state()
got = []
cid = new.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
    lambda conn, d, ev, detail, opaque: got.append((d.name(), ev, detail)), None)
dom.suspend()
deadline = time.time() + 10
while not got and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.5)
# Exactly one event: the lost session's handler is gone.
assert got == [("vm-basic", libvirt.VIR_DOMAIN_EVENT_SUSPENDED,
                libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)], got
new.domainEventDeregisterAny(cid)
c.unregisterCloseCallback()
c.close()
print("ok")
"#,
        uri = d.uri()
    );
    let out = python(&script);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
    assert!(
        d.log_text()
            .contains("the connection to the Virtuozzo host is lost"),
        "{}",
        d.log_text()
    );
    // No restart: a new virsh works, with what the host really has.
    let list = d.virsh(&["list", "--all"]);
    assert!(list.expect_ok().contains("vm-basic   paused"), "{list:?}");
}

/// Reads a child's stream on a thread, line by line.
fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = std::io::BufReader::new(stream);
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut r, &mut line).unwrap_or(0) > 0 {
            let _ = tx.send(std::mem::take(&mut line));
        }
    });
    rx
}

#[test]
fn an_interactive_virsh_sees_the_connection_closed_and_reconnects() {
    let d = faulty(DROP, "");
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    let mut shell = Command::new("virsh")
        .args(["-c", &d.uri()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = shell.stdin.take().unwrap();
    let errors = lines_of(shell.stderr.take().unwrap());
    let mut stdout = shell.stdout.take().unwrap();
    // virsh connects (and registers its close callback) before it reads
    // its first command.
    writeln!(stdin, "domstate vm-basic").unwrap();
    wait_until("virsh's connection", Duration::from_secs(30), || {
        virt_admin(&d, &["srv-clients-list", "virtvzd"])
            .stdout
            .contains("unix")
    });
    let lost = d.virsh(&["set-user-password", "vm-basic", "root", "secret"]);
    assert!(!lost.ok(), "{lost:?}");
    let closed = errors
        .recv_timeout(Duration::from_secs(30))
        .expect("virsh reports the closed connection");
    assert_eq!(
        closed.trim(),
        format!("error: Disconnected from {} due to end of file", d.uri())
    );
    // Its next command reconnects, and the new session answers.
    writeln!(stdin, "domstate vm-basic").unwrap();
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    let status = shell.wait().unwrap();
    assert!(status.success(), "{text}");
    assert_eq!(text.matches("running").count(), 2, "{text}");
    let rest: Vec<String> = errors.try_iter().collect();
    assert_eq!(
        rest.iter().map(|l| l.trim()).collect::<Vec<_>>(),
        ["error: Reconnected to the hypervisor"]
    );
}

#[test]
fn a_hung_start_fails_after_the_job_timeout_while_everything_else_answers() {
    let d = faulty("hang:PrlVm_StartEx", "vz_job_timeout = 10\n");
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["define", &fixture("ct-basic.xml")]).expect_ok();
    let script = format!(
        r#"
{PY_EVENT_LOOP}c = libvirt.open("{uri}")
# PINGs every second, the connection given up after 3 unanswered: the
# daemon must answer them while the call hangs.
c.setKeepAlive(1, 3)
try:
    c.lookupByName("vm-basic").create()
    print("started")
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
"#,
        uri = d.uri()
    );
    let hung = std::thread::spawn(move || python(&script));
    wait_until("the start is in flight", Duration::from_secs(30), || {
        d.log_text().contains("injected Hang in PrlVm_StartEx") || hung.is_finished()
    });
    // While it hangs: lists, another guest's changes and virt-admin answer.
    assert!(d
        .virsh(&["list", "--all", "--name"])
        .expect_ok()
        .contains("ct-basic"));
    d.virsh(&["setmem", "ct-basic", "512M", "--config"])
        .expect_ok();
    d.virsh(&["dominfo", "ct-basic"]).expect_ok();
    virt_admin(&d, &["srv-list"]).expect_ok();
    assert!(
        !hung.is_finished(),
        "the start ended before the others answered"
    );
    let out = hung.join().unwrap();
    assert_eq!(
        out.stdout.trim(),
        "68 48 Timed out during operation: PrlVm_StartEx did not finish within 10s; it was cancelled",
        "{out:?}"
    );
    // The worker and the domain's job are free again.
    wait_until("the worker is back", Duration::from_secs(20), || {
        let t = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]).stdout;
        let n = |k: &str| {
            t.lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        };
        n("freeWorkers").is_some() && n("freeWorkers") == n("nWorkers")
    });
    d.virsh(&["setmem", "vm-basic", "512M", "--config"])
        .expect_ok();
    assert_eq!(
        d.virsh(&["domstate", "vm-basic"]).expect_ok().trim(),
        "shut off"
    );
}

#[test]
fn an_sdk_error_reaches_the_client_with_libvirts_code_and_the_sdks_text() {
    // A generic failure: OPERATION_FAILED.
    let d = faulty("fail:PrlVm_StartEx", "");
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let out = d.virsh(&["start", "vm-basic"]);
    assert!(!out.ok());
    assert_eq!(
        out.stderr.trim(),
        "error: Failed to start domain 'vm-basic'\nerror: operation failed: Injected failure of PrlVm_StartEx.",
        "{out:?}"
    );
    assert_eq!(
        start_error(&d),
        "9 48 operation failed: Injected failure of PrlVm_StartEx."
    );
    // A "wrong state" code (PRL_ERR_DISP_VM_IS_NOT_STOPPED): OPERATION_INVALID.
    let d = faulty("fail:PrlVm_StartEx:0x80000557", "");
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    assert_eq!(
        start_error(&d),
        "55 48 Requested operation is not valid: Injected failure of PrlVm_StartEx."
    );
    assert_eq!(
        d.virsh(&["domstate", "vm-basic"]).expect_ok().trim(),
        "shut off"
    );
}

/// What python3-libvirt gets from starting vm-basic: code, domain, text.
fn start_error(d: &Daemon) -> String {
    let script = format!(
        r#"
import libvirt
c = libvirt.open("{uri}")
try:
    c.lookupByName("vm-basic").create()
    print("started")
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
"#,
        uri = d.uri()
    );
    python(&script).stdout.trim().to_string()
}

/// The host's counters refused (PrlVm_SubscribeToPerfStats failing): each
/// statistics call gets the SDK's error with the code its SDK code maps
/// to, as any other SDK call's failure; CONNECT_GET_ALL_DOMAIN_STATS fails
/// as a whole, as libvirt's vz driver fails it at the first domain whose
/// statistics it cannot read.
#[test]
fn statistics_the_host_refuses_keep_the_sdks_error_code() {
    // PRL_ERR_VM_UUID_NOT_FOUND: the guest is gone, VIR_ERR_NO_DOMAIN.
    let d = faulty("fail:PrlVm_SubscribeToPerfStats:0x80000105", "");
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["define", &fixture("ct-basic.xml")]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["start", "ct-basic"]).expect_ok();
    let script = format!(
        r#"
import libvirt
c = libvirt.open("{uri}")
dom = c.lookupByName("vm-basic")
calls = [
    ("memoryStats", lambda: dom.memoryStats()),
    ("blockStats", lambda: dom.blockStats("")),
    ("blockStatsFlags", lambda: dom.blockStatsFlags("", 0)),
    ("vcpus", lambda: dom.vcpus()),
    ("domainListGetStats", lambda: c.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_BALLOON)),
    ("getAllDomainStats", lambda: c.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_VCPU)),
]
for name, call in calls:
    try:
        call()
        print(name, "answered")
    except libvirt.libvirtError as e:
        print(name, e.get_error_code(), e.get_error_domain(), e.get_error_message())
# Only the state needs no counters.
print(len(c.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE)))
"#,
        uri = d.uri()
    );
    let out = python(&script);
    let msg = "42 48 Domain not found: Injected failure of PrlVm_SubscribeToPerfStats.";
    let want: String = [
        "memoryStats",
        "blockStats",
        "blockStatsFlags",
        "vcpus",
        "domainListGetStats",
        "getAllDomainStats",
    ]
    .iter()
    .map(|n| format!("{n} {msg}\n"))
    .collect();
    assert_eq!(out.stdout, format!("{want}2\n"), "{out:?}");
}

/// Sends the call `proc_` (encoded `args`), which waits in the host until
/// the job timeout, and then CONNECT_GET_LIB_VERSION, on one raw
/// connection: the second must be answered first, as a call that asks the
/// SDK must not run on the connection thread. (A raw client, because
/// libvirt's own client may hold a second call back behind a first one.)
/// Returns the first call's error.
fn overtaken_while_the_sdk_hangs(d: &Daemon, proc_: i32, args: &[u8]) -> WireError {
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let slow = w.send_call(REMOTE, proc_, args);
    let fast = w.send_call(REMOTE, 157, &[]);
    let first = w.recv_reply();
    assert_eq!(
        first.header.serial,
        fast,
        "the connection waited for procedure {proc_}: {:?} {:?}",
        first.header,
        first.error()
    );
    let second = w.recv_reply();
    assert_eq!(second.header.serial, slow);
    second.error().expect("the hung call fails")
}

/// `virsh list --with-snapshot` reads every guest's snapshot tree from the
/// SDK: it runs on a worker, so the connection keeps answering while the
/// SDK is slow, and a tree the SDK cannot give is an error, never "no
/// snapshots".
#[test]
fn listing_by_snapshots_asks_the_sdk_off_the_connection_thread() {
    let d = faulty("hang:PrlVm_GetSnapshotsTreeEx", "vz_job_timeout = 10\n");
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let args = ListAllDomainsArgs {
        need_results: 1,
        flags: 4096, // VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT
    };
    let e = overtaken_while_the_sdk_hangs(&d, 273, &xdr::to_bytes(&args).unwrap());
    assert_eq!(
        (e.code, e.message.as_deref()),
        (
            68,
            Some("Timed out during operation: PrlVm_GetSnapshotsTreeEx did not finish within 10s; it was cancelled")
        )
    );
}

/// `virsh dominfo` of a running guest reads its CPU time from the SDK's
/// counters: on a worker, never on the connection thread.
#[test]
fn domain_info_of_a_running_guest_asks_the_sdk_off_the_connection_thread() {
    let d = faulty("hang:PrlVm_SubscribeToPerfStats", "vz_job_timeout = 10\n");
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["start", "vm-basic"]).expect_ok();
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let dom: Domain = w.call(23, &"vm-basic".to_string()).unwrap();
    let e = overtaken_while_the_sdk_hangs(&d, 16, &xdr::to_bytes(&DomainArgs { dom }).unwrap());
    assert_eq!(
        (e.code, e.message.as_deref()),
        (
            68,
            Some("Timed out during operation: PrlVm_SubscribeToPerfStats did not finish within 10s; it was cancelled")
        )
    );
}

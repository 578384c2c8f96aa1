//! Abuse (issue "Measured speed and proven robustness"): what hostile or
//! broken clients send, and what slow ones do, against the running daemon.
//! After each, a well-behaved client — the real virsh — is still served
//! and a guest defined before is still there, running, with its config.
//! (rpc.rs has the first malformed-frame cases, keepalive, max_clients and
//! the read-only rule for every write procedure; this file adds the rest.)

use crate::harness::*;
use crate::wire::*;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use virtvzd::rpc::message::{self, Header, MessageType};
use virtvzd::rpc::xdr;

const ADMIN: u32 = 0x0690_0690;

/// A guest defined and started before the abuse, and what virsh showed
/// of it then.
struct Witness {
    xml: String,
}

impl Witness {
    fn define(d: &Daemon) -> Witness {
        d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
        d.virsh(&["start", "vm-basic"]).expect_ok();
        Witness {
            xml: d.virsh(&["dumpxml", "vm-basic"]).expect_ok().to_string(),
        }
    }

    /// virsh is served, and the guest is as it was.
    #[track_caller]
    fn check(&self, d: &Daemon) {
        assert_eq!(d.virsh(&["dumpxml", "vm-basic"]).expect_ok(), self.xml);
        assert_eq!(
            d.virsh(&["domstate", "vm-basic"]).expect_ok().trim(),
            "running"
        );
    }
}

/// A packet with any header values.
fn raw(prog: u32, vers: u32, proc_: i32, mtype: i32, status: i32, body: &[u8]) -> Vec<u8> {
    let h = Header {
        prog,
        vers,
        proc_,
        mtype,
        serial: 77,
        status,
    };
    message::packet(&h, body)
}

fn call(proc_: i32, body: &[u8]) -> Vec<u8> {
    raw(REMOTE, 1, proc_, MessageType::Call as i32, 0, body)
}

/// An open REMOTE connection.
fn opened(d: &Daemon) -> Wire {
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    w
}

/// The next call on `w` is answered, and first: whatever came before it
/// got no reply.
#[track_caller]
fn next_call_answered(w: &mut Wire) {
    let v: u64 = w.call(157, &()).expect("the connection still answers");
    assert_eq!(v, 9_000_000);
}

fn proc_status(pid: u32, key: &str) -> u64 {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

fn rss_kib(pid: u32) -> u64 {
    proc_status(pid, "VmRSS:")
}

fn threads(pid: u32) -> u64 {
    proc_status(pid, "Threads:")
}

fn open_fds(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// CPU seconds the process has used (user + system).
fn cpu_seconds(pid: u32) -> f64 {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn nclients(d: &Daemon) -> usize {
    let out = virt_admin(d, &["srv-clients-info", "virtvzd"]);
    field(out.expect_ok(), "nclients").parse().unwrap()
}

/// Lets this test process hold `n` descriptors (and the daemons it starts
/// inherit the limit). Only ever raises: the test process is shared by
/// every test, and a lower hard limit would follow every daemon started
/// after it.
fn raise_fd_limit(n: u64) {
    // SAFETY: rlimit is plain data, filled by getrlimit and read back.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: lim is valid for writing.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_cur = lim.rlim_cur.max(n);
    lim.rlim_max = lim.rlim_max.max(n);
    // SAFETY: a valid rlimit; raising the hard limit needs root, which the
    // end-to-end tests run as.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
}

#[test]
fn every_malformed_frame_class_hurts_no_one_else() {
    let d = Daemon::start();
    let witness = Witness::define(&d);
    let baseline = nclients(&d);

    // Framing errors: the sender is dropped at once.
    for (what, bytes) in [
        ("length 0", 0u32.to_be_bytes().to_vec()),
        (
            "length 27, one short of a header",
            27u32.to_be_bytes().to_vec(),
        ),
        ("negative length", 0xffff_fff0u32.to_be_bytes().to_vec()),
        (
            "CALL_WITH_FDS without a descriptor count",
            raw(REMOTE, 1, 157, 4, 0, &[0, 0]),
        ),
    ] {
        let mut w = Wire::connect(&d.rw());
        w.send_raw(&bytes).unwrap();
        assert!(w.closed_by_server(), "{what}: not dropped");
    }

    // Bad headers and bodies: libvirt's error reply, and the connection
    // goes on.
    let dom = |name: &str| {
        xdr::to_bytes(&virtvzd::remote::protocol::Domain {
            name: name.to_string(),
            uuid: xdr::FixedOpaque([1; 16]),
            id: -1,
        })
        .unwrap()
    };
    let over_bound = {
        // CONNECT_GET_ALL_DOMAIN_STATS: doms<REMOTE_DOMAIN_LIST_MAX = 16384>.
        let mut b = 16_385u32.to_be_bytes().to_vec();
        for _ in 0..16_385 {
            b.extend_from_slice(&dom("x"));
        }
        b.extend_from_slice(&[0; 8]);
        b
    };
    let count_over_message = {
        let mut b = 0x7fff_ffffu32.to_be_bytes().to_vec();
        b.extend_from_slice(&dom("x"));
        b.extend_from_slice(&[0; 8]);
        b
    };
    let negative_count = {
        let mut b = 0xffff_ffffu32.to_be_bytes().to_vec();
        b.extend_from_slice(&[0; 8]);
        b
    };
    let string_over_limit = {
        // DOMAIN_DEFINE_XML with a string one byte over REMOTE_STRING_MAX.
        let n = 4 * 1024 * 1024 + 1;
        let mut b = (n as u32).to_be_bytes().to_vec();
        b.resize(4 + n + 3, b'x');
        b
    };
    let largest_packet = {
        // The biggest packet libvirt allows, whose string is too long.
        let n = message::MESSAGE_MAX - message::HEADER_SIZE - 4;
        let mut b = (n as u32).to_be_bytes().to_vec();
        b.resize(4 + n, b' ');
        b
    };
    let decode = "Unable to decode message payload";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("array over its bound", call(344, &over_bound), decode),
        (
            "array count over the message",
            call(344, &count_over_message),
            decode,
        ),
        ("negative array count", call(344, &negative_count), decode),
        ("string over 4 MiB", call(11, &string_over_limit), decode),
        ("a 32 MiB packet", call(11, &largest_packet), decode),
        (
            "trailing bytes after the arguments",
            call(1, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]),
            decode,
        ),
        (
            "truncated arguments",
            call(23, &dom("vm-basic")[..10]),
            decode,
        ),
        (
            "type MESSAGE from a client",
            raw(REMOTE, 1, 157, 2, 0, &[]),
            "Unexpected message type 2",
        ),
        (
            "REPLY_WITH_FDS from a client",
            raw(REMOTE, 1, 157, 5, 0, &[]),
            "Unexpected message type 5",
        ),
        (
            "STREAM_HOLE for no stream",
            raw(REMOTE, 1, 157, 6, 0, &[]),
            "Unexpected message type 6",
        ),
        (
            "unknown type 7",
            raw(REMOTE, 1, 157, 7, 0, &[]),
            "Unexpected message type 7",
        ),
        (
            "negative type",
            raw(REMOTE, 1, 157, -1, 0, &[]),
            "Unexpected message type -1",
        ),
        (
            "status CONTINUE on a call",
            raw(REMOTE, 1, 157, 0, 2, &[]),
            "Unexpected message status 2",
        ),
        (
            "unknown status",
            raw(REMOTE, 1, 157, 0, -7, &[]),
            "Unexpected message status -7",
        ),
        (
            "the admin program on the main socket",
            raw(ADMIN, 1, 1, 0, 0, &[0, 0, 0, 0]),
            "Cannot find program 110102160 version 1",
        ),
        ("negative procedure", call(-5, &[]), "unknown procedure: -5"),
        ("procedure 0", call(0, &[]), "unknown procedure: 0"),
    ];
    for (what, bytes, msg) in cases {
        let mut w = opened(&d);
        w.send_raw(&bytes).unwrap();
        let r = w.recv_reply();
        assert_eq!(r.header.serial, 77, "{what}");
        let e = r.error().unwrap_or_else(|| panic!("{what}: no error"));
        assert_eq!((e.code, e.domain), (39, 7), "{what}: {e:?}");
        assert_eq!(e.message.as_deref(), Some(msg), "{what}");
        next_call_answered(&mut w);
    }

    // What libvirt ignores gets no reply at all: the next reply is the
    // next call's.
    for (what, bytes) in [
        (
            "stream data for no stream",
            raw(REMOTE, 1, 157, 3, 0, &[1, 2]),
        ),
        (
            "keepalive of another version",
            raw(message::KEEPALIVE_PROGRAM, 2, 1, 2, 0, &[]),
        ),
        (
            "an unasked PONG",
            message::keepalive(message::KEEPALIVE_PONG).to_vec(),
        ),
        (
            "unknown keepalive procedure",
            raw(message::KEEPALIVE_PROGRAM, 1, 9, 2, 0, &[]),
        ),
        (
            "keepalive PING as a CALL",
            raw(message::KEEPALIVE_PROGRAM, 1, 1, 0, 0, &[]),
        ),
    ] {
        let mut w = opened(&d);
        w.send_raw(&bytes).unwrap();
        let v: Result<u64, _> = w.call(157, &());
        assert_eq!(v.ok(), Some(9_000_000), "{what}");
    }

    // File descriptors announced but never sent: the call is refused; the
    // bytes after it are taken for the descriptors' carriers, so this
    // client's stream is out of step (libvirt drops it), but no one
    // else's.
    {
        let mut w = opened(&d);
        let mut fds = raw(REMOTE, 1, 157, 4, 0, &[0, 0, 0, 2]);
        fds.extend_from_slice(&call(157, &[]));
        w.send_raw(&fds).unwrap();
        let e = w.recv_reply().error().expect("refused");
        assert_eq!(e.code, 39);
        assert_eq!(
            e.message.as_deref(),
            Some("procedure 157 does not accept file descriptors")
        );
        witness.check(&d);
    }

    // The same with a client that leaves halfway through each kind of
    // packet.
    for cut in [2, 4, 10, 28, 40] {
        let mut w = opened(&d);
        let p = call(23, &dom("vm-basic"));
        w.send_raw(&p[..cut.min(p.len() - 1)]).unwrap();
    }

    witness.check(&d);
    wait_until(
        "every abuser's connection is gone",
        Duration::from_secs(30),
        || nclients(&d) == baseline,
    );
    assert!(!d.log_text().contains("panicked"), "{}", d.log_text());
}

/// Every procedure of both programs given a body no XDR value can fill
/// (13 bytes: items are whole words): libvirt's decode error, or "not
/// supported" for what the driver lacks — never a crash or a silence.
#[test]
fn every_procedure_refuses_a_malformed_body() {
    use virtvzd::remote::procedures::PROCEDURES;
    let d = Daemon::start();
    let witness = Witness::define(&d);
    let body = [0xffu8; 13];
    let mut w = opened(&d);
    for p in PROCEDURES {
        let serial = w.send_call(REMOTE, p.number, &body);
        let r = w.recv_reply();
        assert_eq!(r.header.serial, serial, "{}", p.name);
        let e = r
            .error()
            .unwrap_or_else(|| panic!("{}: accepted a 13-byte body", p.name));
        match p.handler {
            Some(_) => {
                assert_eq!((e.code, e.domain), (39, 7), "{}: {e:?}", p.name);
                assert_eq!(
                    e.message.as_deref(),
                    Some("Unable to decode message payload"),
                    "{}",
                    p.name
                );
            }
            None => assert_eq!(e.code, 3, "{}: {e:?}", p.name),
        }
    }
    next_call_answered(&mut w);

    let mut a = Wire::connect(&d.admin());
    let serial = a.send_call(ADMIN, 1, &[0, 0, 0, 0]);
    assert_eq!(a.recv_reply().header.serial, serial);
    let admin: Vec<i32> = (0..64)
        .filter(|n| virtvzd::admin::decode_args(*n, &[]).is_some())
        .collect();
    assert!(admin.len() >= 19, "{admin:?}");
    for n in admin {
        let serial = a.send_call(ADMIN, n, &body);
        let r = a.recv_reply();
        assert_eq!(r.header.serial, serial, "admin {n}");
        let e = r.error().unwrap_or_else(|| panic!("admin {n}: accepted"));
        assert_eq!((e.code, e.domain), (39, 7), "admin {n}: {e:?}");
    }
    witness.check(&d);
}

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// XDR-ish words: mostly small numbers, so strings and arrays are
    /// short enough that whole argument structs decode and the handlers
    /// run on nonsense.
    fn body(&mut self) -> Vec<u8> {
        let words = self.next() % 12;
        let mut b = Vec::new();
        for _ in 0..words {
            let w = match self.next() % 6 {
                0 => 0,
                1 => 1,
                2 => (self.next() % 8) as u32,
                3 => u32::MAX,
                4 => u32::from_be_bytes(*b"vm-b"),
                _ => self.next() as u32,
            };
            b.extend_from_slice(&w.to_be_bytes());
        }
        b
    }
}

/// Random arguments to every implemented REMOTE procedure: each call gets
/// one reply (an answer or an error), and the witness is untouched.
#[test]
fn random_arguments_to_every_procedure_get_an_answer() {
    use virtvzd::remote::procedures::PROCEDURES;
    let d = Daemon::start();
    let witness = Witness::define(&d);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut w = opened(&d);
    let mut answered = 0;
    for p in PROCEDURES.iter().filter(|p| p.handler.is_some()) {
        for _ in 0..40 {
            let body = rng.body();
            let serial = w.send_call(REMOTE, p.number, &body);
            // Skip events (a random call may have registered for them).
            let r = loop {
                match w.recv() {
                    Ok(r) if r.header.mtype == MessageType::Message as i32 => continue,
                    Ok(r) => break r,
                    Err(e) => panic!("{}: no reply to {body:02x?}: {e}", p.name),
                }
            };
            assert_eq!(r.header.serial, serial, "{} {body:02x?}", p.name);
            answered += 1;
            if p.name == "CONNECT_CLOSE" {
                // It did close: start again.
                w = opened(&d);
            }
        }
    }
    assert!(answered > 1000, "{answered}");
    next_call_answered(&mut w);
    witness.check(&d);
    assert!(!d.log_text().contains("panicked"), "{}", d.log_text());
}

#[test]
fn deeply_nested_or_forbidden_xml_is_an_error_not_a_crash() {
    let d = Daemon::start();
    let witness = Witness::define(&d);
    let xml = fs::read_to_string(fixture("vm-basic.xml"))
        .unwrap()
        .replace("vm-basic", "vm-deep");
    let deep = d.dir.join("deep.xml");
    let n = 200_000;
    fs::write(
        &deep,
        xml.replace(
            "</domain>",
            &format!(
                "<devices>{}{}</devices></domain>",
                "<a>".repeat(n),
                "</a>".repeat(n)
            ),
        ),
    )
    .unwrap();
    let out = d.virsh(&["define", deep.to_str().unwrap()]);
    assert!(!out.ok());
    assert!(out.stderr.contains("Excessive depth"), "{out:?}");
    let out = d.virsh(&["attach-device", "vm-basic", deep.to_str().unwrap()]);
    assert!(!out.ok());
    assert!(out.stderr.contains("Excessive depth"), "{out:?}");
    let ctl = d.dir.join("ctl.xml");
    fs::write(&ctl, xml.replace("a plain", "a \u{1b} plain")).unwrap();
    let out = d.virsh(&["define", ctl.to_str().unwrap()]);
    assert!(out.stderr.contains("invalid Char value 27"), "{out:?}");
    witness.check(&d);
    assert!(!d.virsh(&["list", "--all"]).expect_ok().contains("vm-deep"));
}

#[test]
fn a_client_sending_one_byte_per_second_blocks_no_one() {
    let d = Daemon::start();
    let witness = Witness::define(&d);
    let mut slow = Wire::connect(&d.rw());
    slow.s
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let packet = call(66, &[]);
    let mut writer = slow.s.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for b in packet {
            writer.write_all(&[b]).unwrap();
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    // While it trickles, others are served, again and again.
    let mut rounds = 0;
    while !trickle.is_finished() {
        witness.check(&d);
        rounds += 1;
    }
    trickle.join().unwrap();
    assert!(rounds >= 3, "{rounds}");
    let r = slow.recv_reply();
    assert_eq!(r.header.serial, 77);
    assert!(r.error().is_none(), "{r:?}");
}

#[test]
fn a_client_that_never_reads_its_replies_is_held_back() {
    let d = Daemon::start();
    let witness = Witness::define(&d);
    let pid = d.pid();
    let before = rss_kib(pid);
    let mut greedy = opened(&d);
    greedy
        .s
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // CONNECT_GET_CAPABILITIES answers kilobytes: pipeline them and never
    // read, until the daemon stops reading us (the write times out).
    let one = call(7, &[]);
    let mut sent = 0usize;
    let started = Instant::now();
    loop {
        match greedy.s.write_all(&one) {
            Ok(()) => sent += 1,
            Err(e) => {
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ),
                    "{e}"
                );
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the daemon read {sent} calls without pausing"
        );
    }
    let held = rss_kib(pid);
    witness.check(&d);
    // Bounded: the unsent replies (a few MiB) and the calls in flight,
    // however much the client wanted.
    assert!(
        held < before + 64 * 1024,
        "RSS grew from {before} to {held} KiB for {sent} unread calls"
    );
    // Nothing was lost: the client that finally reads gets every reply.
    let mut got = 0usize;
    let mut len = [0u8; 4];
    greedy
        .s
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    while got < sent {
        greedy.s.read_exact(&mut len).unwrap();
        let mut rest = vec![0; u32::from_be_bytes(len) as usize - 4];
        greedy.s.read_exact(&mut rest).unwrap();
        let status = i32::from_be_bytes([rest[20], rest[21], rest[22], rest[23]]);
        assert_eq!(status, 0, "reply {got} is an error");
        got += 1;
    }
    // Any partly written call is answered too, or was never complete.
    greedy.s.set_nonblocking(true).unwrap();
    witness.check(&d);
    eprintln!("never-reading client: {sent} calls, RSS {before} -> {held} KiB");
}

#[test]
fn a_flood_of_pipelined_calls_stays_within_max_client_requests() {
    let d = Daemon::start_with(Setup {
        config: "max_client_requests = 5\n",
        env: &[("VIRTVZD_TEST_DELAY", "7=20")],
        ..Setup::default()
    });
    let witness = Witness::define(&d);
    let total = 1500u32;
    let mut flood = opened(&d);
    let mut writer = flood.s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let mut all = Vec::new();
        for serial in 1000..1000 + total {
            let h = Header {
                prog: REMOTE,
                vers: 1,
                proc_: 7,
                mtype: 0,
                serial,
                status: 0,
            };
            all.extend_from_slice(&message::packet(&h, &[]));
        }
        writer.write_all(&all).unwrap();
    });
    let reader = std::thread::spawn(move || {
        let mut seen = vec![false; total as usize];
        for _ in 0..total {
            let r = flood.recv_reply();
            assert!(r.error().is_none(), "{r:?}");
            let i = (r.header.serial - 1000) as usize;
            assert!(!seen[i], "serial {} answered twice", r.header.serial);
            seen[i] = true;
        }
        seen.iter().all(|s| *s)
    });
    // While it floods: the daemon's queue never holds more than the
    // client's allowance, and others are served.
    let mut samples = 0;
    while !reader.is_finished() {
        let info = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]);
        let t = info.expect_ok();
        let queued: usize = field(t, "jobQueueDepth").parse().unwrap();
        // The flood's five, and at most one of virsh's.
        assert!(queued <= 6, "{queued} jobs queued:\n{t}");
        witness.check(&d);
        samples += 1;
    }
    sender.join().unwrap();
    assert!(reader.join().unwrap(), "a call got no reply");
    assert!(samples >= 2, "{samples}");
}

#[test]
fn a_thousand_idle_connections_cost_little_and_leave_nothing() {
    raise_fd_limit(8192);
    let d = Daemon::start();
    let witness = Witness::define(&d);
    let pid = d.pid();
    // Threads other than the pool's, which grows on demand and stays.
    let own_threads = || {
        let t = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]).stdout;
        let pool: u64 = field(&t, "nWorkers").parse().unwrap();
        threads(pid) - pool
    };
    let (rss0, threads0, fds0) = (rss_kib(pid), own_threads(), open_fds(pid));
    let mut idle = Vec::new();
    for i in 0..1000 {
        let mut w = Wire::connect(&d.rw());
        if i % 2 == 0 {
            w.open("vz:///system", 0);
        }
        idle.push(w);
    }
    wait_until("1000 clients counted", Duration::from_secs(60), || {
        nclients(&d) == 1000
    });
    let rss = rss_kib(pid);
    witness.check(&d);
    // Each still answers.
    for w in idle.iter_mut().step_by(98) {
        next_call_answered(w);
    }
    drop(idle);
    wait_until("every client gone", Duration::from_secs(60), || {
        nclients(&d) == 0
    });
    wait_until(
        "connection threads and descriptors released",
        Duration::from_secs(30),
        || own_threads() <= threads0 + 2 && open_fds(pid) <= fds0 + 2,
    );
    witness.check(&d);
    eprintln!(
        "1000 idle connections: RSS {rss0} -> {rss} KiB ({} KiB each)",
        (rss.saturating_sub(rss0)) / 1000
    );
}

#[test]
fn running_out_of_descriptors_neither_kills_nor_spins_nor_strands() {
    // The daemon may hold 200 descriptors, far fewer than its clients
    // want: accept fails with EMFILE until some leave.
    let mut d = Daemon::prepare("");
    let mut cmd = Command::new("prlimit");
    cmd.arg("--nofile=200:200").arg(binary());
    let inner = d.command(&[]);
    cmd.args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    d.child = Some(cmd.spawn().expect("start virtvzd under prlimit"));
    d.wait_ready();
    let witness = Witness::define(&d);
    let pid = d.pid();
    // However many descriptors the daemon holds of its own (that varies
    // with the machine), connect until it says it cannot accept: at most
    // 400, which its backlog of 1000 takes without blocking.
    let mut hogs: Vec<UnixStream> = Vec::new();
    while !d.log_text().contains("accept failed") {
        assert!(
            hogs.len() < 400,
            "400 connections and the daemon never ran out of descriptors ({} open)",
            open_fds(pid)
        );
        for _ in 0..10 {
            hogs.push(UnixStream::connect(d.rw()).expect("the backlog takes it"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // No busy loop while it cannot accept.
    let cpu = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(3));
    let spent = cpu_seconds(pid) - cpu;
    assert!(
        spent < 1.0,
        "{spent} CPU seconds in 3 s while out of descriptors"
    );
    // A client waiting in the backlog is served once descriptors free up,
    // with no further connection to wake the daemon.
    let waiting = std::thread::spawn({
        let uri = d.uri();
        move || virsh(&uri, &["domstate", "vm-basic"])
    });
    std::thread::sleep(Duration::from_secs(1));
    drop(hogs);
    let out = waiting.join().unwrap();
    assert_eq!(out.expect_ok().trim(), "running");
    witness.check(&d);
}

#[test]
fn a_client_that_leaves_during_a_long_call_loses_nothing() {
    // DOMAIN_DEFINE_XML (11) and DOMAIN_CREATE (9) take 2 s each.
    let d = Daemon::start_with(Setup {
        env: &[("VIRTVZD_TEST_DELAY", "11=2000,9=2000")],
        ..Setup::default()
    });
    let witness = Witness::define(&d);
    let xml = fs::read_to_string(fixture("vm-basic.xml"))
        .unwrap()
        .replace("vm-basic", "vm-left")
        .replace(
            "1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
            "1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5c",
        );
    {
        let mut w = opened(&d);
        w.send_call(REMOTE, 11, &xdr::to_bytes(&xml).unwrap());
        // Gone before the answer.
    }
    // The call finishes without its client, as in libvirt: the guest is
    // defined, whole.
    wait_until("the guest is defined", Duration::from_secs(30), || {
        d.virsh(&["list", "--all", "--name"])
            .stdout
            .contains("vm-left")
    });
    let dumped = d.virsh(&["dumpxml", "vm-left"]);
    assert!(dumped.expect_ok().contains("<name>vm-left</name>"));
    let dom = virtvzd::remote::protocol::Domain {
        name: "vm-left".into(),
        uuid: xdr::FixedOpaque(
            virtvzd::vz::domain_xml::parse_uuid("1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5c").unwrap(),
        ),
        id: -1,
    };
    {
        let mut w = opened(&d);
        w.send_call(REMOTE, 9, &xdr::to_bytes(&dom).unwrap());
    }
    wait_until("the guest runs", Duration::from_secs(30), || {
        d.virsh(&["domstate", "vm-left"]).stdout.trim() == "running"
    });
    witness.check(&d);
    // No worker is left busy or stuck.
    wait_until("the pool is idle", Duration::from_secs(30), || {
        let t = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]).stdout;
        field(&t, "jobQueueDepth") == "0" && field(&t, "freeWorkers") == field(&t, "nWorkers")
    });
    assert!(!d.log_text().contains("panicked"), "{}", d.log_text());
}

#[test]
fn an_event_subscriber_that_never_reads_stops_no_one() {
    let d = Daemon::start();
    let witness = Witness::define(&d);
    let pid = d.pid();
    // The deaf subscriber: registered for lifecycle events, its socket
    // never read, its outgoing queue swollen by unread replies first.
    let mut deaf = opened(&d);
    let reg = (0i32, None::<virtvzd::remote::protocol::Domain>);
    let serial = deaf.send_call(REMOTE, 316, &xdr::to_bytes(&reg).unwrap());
    assert_eq!(deaf.recv_reply().header.serial, serial);
    let mut unread = Vec::new();
    for _ in 0..300 {
        unread.extend_from_slice(&call(7, &[]));
    }
    deaf.send_raw(&unread).unwrap();
    // A polite subscriber: virsh itself.
    let cycles = 60;
    let watcher = Command::new("virsh")
        .args([
            "-c",
            &d.uri(),
            "event",
            "--all",
            "--loop",
            "--timeout",
            "240",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("virsh event registered", Duration::from_secs(30), || {
        nclients(&d) == 2
    });
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_kib(pid);
    let mut churn = opened(&d);
    let xml = fs::read_to_string(fixture("vm-basic.xml"))
        .unwrap()
        .replace("vm-basic", "vm-churn")
        .replace(
            "1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
            "1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5d",
        );
    let dom: virtvzd::remote::protocol::Domain = churn.call(11, &xml).unwrap();
    for _ in 0..cycles {
        let () = churn.call(9, &dom).unwrap();
        let () = churn.call(12, &dom).unwrap();
    }
    let () = churn.call(35, &dom).unwrap();
    witness.check(&d);
    let after = rss_kib(pid);
    assert!(
        after < before + 64 * 1024,
        "RSS grew from {before} to {after} KiB"
    );
    // virsh saw every event, in order, while the deaf one heard none.
    let expected = 2 + 2 * cycles;
    let mut watcher = watcher;
    let mut stdout = watcher.stdout.take().unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(60);
    while text.matches("vm-churn").count() < expected && Instant::now() < deadline {
        // virsh prints each event as it comes.
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "virsh event ended early: {text}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    let seen: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("for domain 'vm-churn': ").nth(1))
        .collect();
    assert_eq!(seen.len(), expected, "{text}");
    assert_eq!(seen[0], "Defined Added");
    assert_eq!(seen[1], "Started Booted");
    assert_eq!(seen[2], "Stopped Destroyed");
    assert_eq!(seen[expected - 1], "Undefined Removed");
    witness.check(&d);
}

/// A handler that panics (a bug) still answers its caller with an internal
/// error, and the connection goes on: for a call answered inline on the
/// connection thread (CONNECT_GET_TYPE) and one run on a worker
/// (CONNECT_GET_VERSION), again and again.
#[test]
fn a_panicking_handler_answers_with_an_internal_error_and_strands_nobody() {
    let d = Daemon::start_with(Setup {
        env: &[("VIRTVZD_TEST_PANIC", "3,4")],
        ..Setup::default()
    });
    let mut w = opened(&d);
    for _ in 0..3 {
        for proc_ in [3, 4] {
            let e = w
                .call::<_, ()>(proc_, &())
                .expect_err("a panicking call fails");
            assert_eq!(e.code, 1, "VIR_ERR_INTERNAL_ERROR: {e:?}");
            let text = e.message.clone().unwrap_or_default();
            assert!(text.starts_with("internal error: "), "{text}");
            next_call_answered(&mut w);
        }
    }
    // The same, as a libvirt client shows it; and the daemon serves on.
    let out = d.virsh(&["version"]);
    assert!(!out.ok());
    assert!(out.stderr.contains("internal error"), "{}", out.stderr);
    assert!(d.virsh(&["uri"]).expect_ok().starts_with("vz:///system"));
}

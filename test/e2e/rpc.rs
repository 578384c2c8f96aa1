//! The RPC core and the connection procedures, through real clients and a
//! raw one (issue "RPC core").

use crate::harness::*;
use crate::wire::*;
use std::fs;
use std::time::{Duration, Instant};

fn first_number(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no '{label}' in {text}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in '{line}'"))
}

fn online_cpus() -> u64 {
    let s = fs::read_to_string("/sys/devices/system/cpu/online").expect("online cpus");
    s.trim()
        .split(',')
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<u64>().unwrap() - a.parse::<u64>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

fn mem_total_kib() -> u64 {
    let s = fs::read_to_string("/proc/meminfo").unwrap();
    first_number(&s, "MemTotal:")
}

fn check_host_commands(run: impl Fn(&[&str]) -> Out) {
    let v = run(&["version"]);
    let v = v.expect_ok();
    assert!(v.contains("Using API: vz 9.0.0"), "{v}");
    // The embedded host reports itself as Virtuozzo 7.5.0.
    assert!(v.contains("Running hypervisor: vz 7.5.0"), "{v}");

    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(run(&["hostname"]).expect_ok().trim(), host.trim());
    assert!(run(&["uri"]).expect_ok().starts_with("vz:///system"));

    let info = run(&["nodeinfo"]);
    let info = info.expect_ok();
    assert_eq!(first_number(info, "CPU(s):"), online_cpus(), "{info}");
    assert_eq!(
        first_number(info, "Memory size:"),
        mem_total_kib(),
        "{info}"
    );

    let mem = run(&["nodememstats"]);
    assert_eq!(first_number(mem.expect_ok(), "total  :"), mem_total_kib());
    let cpu = run(&["nodecpustats"]);
    for field in ["user:", "system:", "idle:", "iowait:"] {
        assert!(cpu.expect_ok().contains(field), "{cpu:?}");
    }
    let map = run(&["nodecpumap"]);
    assert_eq!(first_number(map.expect_ok(), "CPUs online:"), online_cpus());
    let cells = run(&["freecell", "--all"]);
    assert!(cells.expect_ok().contains("Total:"), "{cells:?}");
    assert!(run(&["sysinfo"])
        .expect_ok()
        .contains("<sysinfo type='smbios'>"));

    let caps = run(&["capabilities"]);
    let caps = caps.expect_ok();
    assert_eq!(caps.matches("<guest>").count(), 8, "{caps}");
    for os in ["<os_type>hvm</os_type>", "<os_type>exe</os_type>"] {
        assert_eq!(caps.matches(os).count(), 4, "{caps}");
    }
    // Well-formed: python's parser agrees.
    let check = python(&format!(
        "import xml.etree.ElementTree as E; r=E.fromstring('''{caps}'''); print(len(r.findall('guest')))"
    ));
    assert_eq!(check.expect_ok().trim(), "8");
}

#[test]
fn virsh_host_commands_read_write_and_read_only() {
    let d = Daemon::start();
    check_host_commands(|a| d.virsh(a));
    check_host_commands(|a| d.virsh_ro(a));
}

#[test]
fn python_connection_apis() {
    let d = Daemon::start();
    let out = python(&format!(
        r#"
import libvirt
for opener, uri in ((libvirt.open, "{rw}"), (libvirt.openReadOnly, "{ro}")):
    c = opener(uri)
    assert c.getLibVersion() == 9000000, c.getLibVersion()
    info = c.getInfo()
    # model, memory (MiB), CPUs, MHz, nodes, sockets, cores, threads
    assert info[1] == {mem_mib} and info[2] == {cpus}, info
    assert info[4] * info[5] * info[6] * info[7] == info[2], info
    assert "<capabilities>" in c.getCapabilities()
    assert c.getType() == "vz"
    assert c.getHostname() == "{host}", c.getHostname()
    assert c.getURI().startswith("vz:///system"), c.getURI()
    assert c.isSecure() == 1
    assert c.getMaxVcpus(None) == 1028
    assert c.getFreeMemory() > 0
    assert c.isAlive() == 1
    fired = []
    c.registerCloseCallback(lambda conn, reason, opaque: fired.append(reason), None)
    c.unregisterCloseCallback()
    c.close()
print("ok")
"#,
        rw = d.uri(),
        ro = d.ro_uri(),
        mem_mib = mem_total_kib() / 1024,
        cpus = online_cpus(),
        host = fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim()
    ));
    assert_eq!(out.expect_ok().trim(), "ok", "{out:?}");
}

#[test]
fn every_procedure_needs_an_open_connection_except_the_handshake() {
    use virtvzd::remote::procedures::{Stage, PROCEDURES};
    let d = Daemon::start();
    let mut w = Wire::connect(&d.rw());
    let before: Vec<i32> = PROCEDURES
        .iter()
        .filter(|p| p.stage == Stage::BeforeOpen)
        .map(|p| p.number)
        .collect();
    // AUTH_LIST, SUPPORTS_FEATURE (keepalive), CONNECT_OPEN, CONNECT_CLOSE.
    assert_eq!(before, [1, 2, 60, 66]);
    for p in PROCEDURES.iter().filter(|p| p.stage == Stage::Open) {
        let serial = w.send_call(REMOTE, p.number, &[]);
        let r = w.recv_reply();
        assert_eq!(r.header.serial, serial);
        let e = r
            .error()
            .unwrap_or_else(|| panic!("{} ran unopened", p.name));
        assert_eq!((e.code, e.domain), (1, 7), "{}", p.name);
        assert_eq!(
            e.message.as_deref(),
            Some("internal error: hypervisor connection not open"),
            "{}",
            p.name
        );
    }
    // Of the features, only PROGRAM_KEEPALIVE may be asked before opening.
    let e = w.call::<_, i32>(60, &14i32).unwrap_err();
    assert_eq!(
        e.message.as_deref(),
        Some("internal error: hypervisor connection not open")
    );
    assert_eq!(w.call::<_, i32>(60, &10i32).unwrap(), 1);
    // And the connection opens fine after all that.
    w.open("vz:///system", 0);
    let v: u64 = w.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
}

#[test]
fn supports_feature_answers_only_what_the_daemon_does() {
    let d = Daemon::start();
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    // TYPED_PARAM_STRING 9, PROGRAM_KEEPALIVE 10, REMOTE_EVENT_CALLBACK 14,
    // REMOTE_CLOSE_CALLBACK 15; no migration (1, 3-7, 11-13), no fd
    // passing (8: file descriptors are refused), nothing unknown.
    for feature in [
        -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 1000,
    ] {
        let got: i32 = w.call(60, &feature).unwrap();
        let want = i32::from([9, 10, 14, 15].contains(&feature));
        assert_eq!(got, want, "feature {feature}");
    }
}

#[test]
fn wrong_uri_before_open_and_unknown_procedure() {
    let d = Daemon::start();
    let mut w = Wire::connect(&d.rw());
    let _: Vec<i32> = w.call(66, &()).unwrap();

    // A call before CONNECT_OPEN.
    let e = w.call::<_, String>(59, &()).unwrap_err();
    assert_eq!((e.code, e.domain), (1, 7));
    assert_eq!(
        e.message.as_deref(),
        Some("internal error: hypervisor connection not open")
    );

    // URIs that are not ours.
    let e = w
        .call::<_, ()>(1, &(Some("vz:///session".to_string()), 0u32))
        .unwrap_err();
    assert_eq!((e.code, e.domain), (1, 48));
    assert_eq!(
        e.message.as_deref(),
        Some("internal error: Unexpected Virtuozzo URI path '/session', try vz:///system")
    );
    // No driver here takes another hypervisor's URI: libvirt's daemon
    // answers VIR_ERR_NO_CONNECT from the public API (domain NONE).
    let e = w
        .call::<_, ()>(1, &(Some("qemu:///system".to_string()), 0u32))
        .unwrap_err();
    assert_eq!((e.code, e.domain), (5, 0), "{e:?}");
    assert_eq!(
        e.message.as_deref(),
        Some("no connection driver available for qemu:///system")
    );

    // The same connection still opens and answers.
    let () = w
        .call(1, &(Some("vz:///system".to_string()), 0u32))
        .unwrap();
    let e = w
        .call::<_, ()>(1, &(Some("vz:///system".to_string()), 0u32))
        .unwrap_err();
    assert_eq!((e.code, e.domain), (1, 7));
    assert_eq!(
        e.message.as_deref(),
        Some("internal error: connection already open")
    );

    // An empty or absent name means the daemon's own URI, which GET_URI
    // then tells (what a client opened with no URI asks).
    for name in [Some(String::new()), None] {
        let mut other = Wire::connect(&d.rw());
        let _: Vec<i32> = other.call(66, &()).unwrap();
        let () = other.call(1, &(name.clone(), 0u32)).unwrap();
        let uri: String = other.call(110, &()).unwrap();
        assert_eq!(uri, "vz:///system", "{name:?}");
        let t: String = other.call(3, &()).unwrap();
        assert_eq!(t, "vz");
    }
    // parallels:///system is the old name, and says so in its type.
    let mut old = Wire::connect(&d.rw());
    let _: Vec<i32> = old.call(66, &()).unwrap();
    let () = old
        .call(1, &(Some("parallels:///system".to_string()), 0u32))
        .unwrap();
    let t: String = old.call(3, &()).unwrap();
    assert_eq!(t, "Parallels");

    // An unknown procedure: libvirt's RPC error, which clients read as
    // "not supported"; the connection stays usable.
    let e = w.call::<_, ()>(9999, &()).unwrap_err();
    assert_eq!((e.code, e.domain), (39, 7));
    assert_eq!(e.message.as_deref(), Some("unknown procedure: 9999"));
    let v: u64 = w.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);

    // What virsh prints for a URI we do not serve.
    let out = virsh(
        &format!("vz:///session?socket={}", d.rw().display()),
        &["hostname"],
    );
    assert!(!out.ok());
    assert!(
        out.stderr
            .contains("Unexpected Virtuozzo URI path '/session'"),
        "{out:?}"
    );
}

/// libvirt's error domain for a refused public API: the one of the file
/// the API lives in (pinned to what libvirt 9.0 reports by the unit test
/// beside `api_error_domain`).
fn api_domain(api: &str) -> i32 {
    virtvzd::remote::api_error_domain(api) as i32
}

#[test]
fn write_procedures_refused_on_read_only_connections() {
    use virtvzd::remote::procedures::{Access, PROCEDURES};
    let d = Daemon::start();
    // The read-only socket, and the read-write one opened with the RO flag.
    let mut on_ro = Wire::connect(&d.ro());
    on_ro.open("vz:///system", 0);
    let mut with_flag = Wire::connect(&d.rw());
    with_flag.open("vz:///system", 1);
    // Every procedure the table does not mark readable, and every
    // forbidden flag of the ones it marks readable only without them: the
    // refusal comes before the arguments are read, so a bare flags word
    // (or nothing) is body enough.
    let mut refused = Vec::new();
    for p in PROCEDURES {
        match p.access {
            Access::Read => {}
            Access::Write => refused.push((
                p,
                Vec::new(),
                format!("read only access prevents {}", p.api),
            )),
            Access::ReadFlags(mask) => refused.push((
                p,
                mask.to_be_bytes().to_vec(),
                format!("read only access prevents {}", p.api),
            )),
            Access::ReadSecure(mask) => {
                for bit in (0..32).map(|b| 1u32 << b).filter(|b| mask & b != 0) {
                    refused.push((
                        p,
                        bit.to_be_bytes().to_vec(),
                        format!("{} with secure flag", p.api),
                    ));
                }
            }
        }
    }
    assert!(refused.len() > 40, "the table lost its write procedures");
    for w in [&mut on_ro, &mut with_flag] {
        for (p, body, detail) in &refused {
            let serial = w.send_call(REMOTE, p.number, body);
            let r = w.recv_reply();
            assert_eq!(r.header.serial, serial);
            let e = r
                .error()
                .unwrap_or_else(|| panic!("{} allowed read-only", p.name));
            assert_eq!((e.code, e.domain), (29, api_domain(p.api)), "{}", p.name);
            assert_eq!(
                e.message.as_deref(),
                Some(format!("operation forbidden: {detail}").as_str()),
                "{}",
                p.name
            );
        }
        // Still usable after all that.
        let v: u64 = w.call(157, &()).unwrap();
        assert_eq!(v, 9_000_000);
    }
    // Read procedures work there, with their harmless flags too.
    let h: String = on_ro.call(59, &()).unwrap();
    assert!(!h.is_empty());
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    on_ro.send_call(REMOTE, 23, &xdr_string("vm-basic"));
    let dom = on_ro.recv_reply();
    assert!(dom.error().is_none(), "{:?}", dom.error());
    let with_flags = |f: u32| {
        let mut b = dom.body.clone();
        b.extend_from_slice(&f.to_be_bytes());
        b
    };
    for (proc_, flags) in [(14, 0), (14, 2), (200, 0), (200, 2)] {
        let serial = on_ro.send_call(REMOTE, proc_, &with_flags(flags));
        let r = on_ro.recv_reply();
        assert_eq!(r.header.serial, serial);
        assert!(
            r.error().is_none(),
            "{proc_} flags {flags}: {:?}",
            r.error()
        );
    }
    // What a read-only virsh sees: its own library refuses what the table
    // refuses (domain capabilities run an emulator binary: CVE-2019-10167),
    // with the same words, and lets it read the XML.
    let caps = d.virsh_ro(&["domcapabilities"]);
    assert!(!caps.ok());
    assert!(
        caps.stderr.contains(
            "operation forbidden: read only access prevents virConnectGetDomainCapabilities"
        ),
        "{caps:?}"
    );
    assert!(d
        .virsh_ro(&["dumpxml", "vm-basic"])
        .expect_ok()
        .contains("<name>vm-basic</name>"));
    let secure = d.virsh_ro(&["dumpxml", "--security-info", "vm-basic"]);
    assert!(!secure.ok());
    assert!(
        secure
            .stderr
            .contains("operation forbidden: virDomainGetXMLDesc with secure flag"),
        "{secure:?}"
    );
}

/// An XDR string, as a call body.
fn xdr_string(s: &str) -> Vec<u8> {
    virtvzd::rpc::xdr::to_bytes(&s).unwrap()
}

/// A client that is served normally, to check after each abuse.
fn still_served(d: &Daemon) {
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let v: u64 = w.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
}

fn header_bytes(prog: u32, vers: u32, proc_: i32, mtype: i32, status: i32) -> Vec<u8> {
    let mut v = Vec::new();
    for w in [prog, vers, proc_ as u32, mtype as u32, 0, status as u32] {
        v.extend_from_slice(&w.to_be_bytes());
    }
    v
}

fn frame(header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = ((4 + header.len() + body.len()) as u32)
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(header);
    v.extend_from_slice(body);
    v
}

#[test]
fn malformed_input_never_hurts_anyone_else() {
    let d = Daemon::start();
    let mut bystander = Wire::connect(&d.rw());
    bystander.open("vz:///system", 0);

    // Framing errors: the sender is dropped, before any body is read.
    for (what, bytes) in [
        ("short frame", 10u32.to_be_bytes().to_vec()),
        ("huge length", 0x7fff_ffffu32.to_be_bytes().to_vec()),
        (
            "length just over 32 MiB",
            (32 * 1024 * 1024 + 5u32).to_be_bytes().to_vec(),
        ),
    ] {
        let mut w = Wire::connect(&d.rw());
        w.send_raw(&bytes).unwrap();
        assert!(w.closed_by_server(), "{what}: not dropped");
        still_served(&d);
    }

    // Bad bodies and headers: an error reply, and the connection lives.
    let open_hdr = header_bytes(REMOTE, 1, 1, 0, 0);
    let cases: Vec<(&str, Vec<u8>, i32, &str)> = vec![
        (
            "negative length",
            frame(&open_hdr, &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
            39,
            "Unable to decode message payload",
        ),
        (
            "truncated body",
            frame(&open_hdr, &[0, 0, 0, 1, 0, 0, 0, 100, b'v', b'z']),
            39,
            "Unable to decode message payload",
        ),
        (
            "a name that is not UTF-8",
            frame(
                &open_hdr,
                &[0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xfe, 0, 0, 0, 0, 0, 0],
            ),
            39,
            "Unable to decode message payload",
        ),
        (
            "a string over 4 MiB",
            frame(&open_hdr, &{
                let len = 4 * 1024 * 1024 + 4;
                let mut b = vec![0, 0, 0, 1];
                b.extend_from_slice(&(len as u32).to_be_bytes());
                b.resize(8 + len, b'a');
                b.extend_from_slice(&[0, 0, 0, 0]);
                b
            }),
            39,
            "Unable to decode message payload",
        ),
        (
            "trailing garbage",
            frame(
                &header_bytes(REMOTE, 1, 66, 0, 0),
                &[1, 2, 3, 4, 5, 6, 7, 8],
            ),
            39,
            "Unable to decode message payload",
        ),
        (
            "wrong program",
            frame(&header_bytes(0x1234_5678, 1, 1, 0, 0), &[]),
            39,
            "Cannot find program 305419896 version 1",
        ),
        (
            "wrong version",
            frame(&header_bytes(REMOTE, 2, 1, 0, 0), &[]),
            39,
            "Cannot find program 536903814 version 2",
        ),
        (
            "a REPLY from the client",
            frame(&header_bytes(REMOTE, 1, 66, 1, 0), &[]),
            39,
            "Unexpected message type 1",
        ),
        (
            "a CALL with an error status",
            frame(&header_bytes(REMOTE, 1, 66, 0, 1), &[]),
            39,
            "Unexpected message status 1",
        ),
    ];
    for (what, bytes, code, msg) in cases {
        let mut w = Wire::connect(&d.rw());
        w.send_raw(&bytes).unwrap();
        let r = w.recv_reply();
        let e = r.error().unwrap_or_else(|| panic!("{what}: no error"));
        assert_eq!(e.code, code, "{what}");
        assert_eq!(e.message.as_deref(), Some(msg), "{what}");
        // Same connection, next call.
        w.open("vz:///system", 0);
        still_served(&d);
    }

    // A client that vanishes in the middle of a packet.
    {
        let mut w = Wire::connect(&d.rw());
        let f = frame(&open_hdr, &[0, 0, 0, 1, 0, 0, 0, 12]);
        w.send_raw(&f[..f.len() - 3]).unwrap();
    }
    still_served(&d);

    let v: u64 = bystander.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
}

#[test]
fn keepalive_pings_only_clients_that_asked_and_drops_silent_ones() {
    let d = Daemon::start_with(Setup {
        config: "keepalive_interval = 1\nkeepalive_count = 2\n",
        ..Setup::default()
    });
    // A client that asked for PROGRAM_KEEPALIVE and then never answers:
    // exactly `keepalive_count` PINGs, then it is dropped.
    let mut silent = Wire::connect(&d.rw());
    let _: Vec<i32> = silent.call(66, &()).unwrap();
    let yes: i32 = silent.call(60, &10i32).unwrap();
    assert_eq!(yes, 1);
    let asked = Instant::now();
    let mut pings = 0;
    loop {
        match silent.recv() {
            Ok(p) if p.is_keepalive() && p.header.proc_ == 1 => {
                // libvirt's PING: a MESSAGE with serial 0 and no body.
                assert_eq!((p.header.mtype, p.header.serial, p.body.len()), (2, 0, 0));
                pings += 1
            }
            Ok(p) => panic!("unexpected packet {p:?}"),
            Err(_) => break,
        }
    }
    assert_eq!(pings, 2);
    // Not before interval × count of silence (a loaded machine can only
    // make it later).
    assert!(
        asked.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        asked.elapsed()
    );

    // A client that answers stays.
    let mut polite = Wire::connect(&d.rw());
    polite.open("vz:///system", 0);
    let _: i32 = polite.call(60, &10i32).unwrap();
    let until = Instant::now() + Duration::from_secs(4);
    let mut answered = 0;
    while Instant::now() < until {
        let p = polite.recv().expect("still connected");
        assert!(p.is_keepalive());
        let pong = virtvzd::rpc::message::keepalive(2);
        polite.send_raw(&pong).unwrap();
        answered += 1;
    }
    assert!(answered >= 2);
    let v: u64 = polite.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);

    // A client that never asked gets no PING at all.
    let mut quiet = Wire::connect(&d.rw());
    quiet.open("vz:///system", 0);
    quiet
        .s
        .set_read_timeout(Some(Duration::from_millis(3500)))
        .unwrap();
    assert!(
        quiet.recv().is_err(),
        "PING sent to a client that did not ask"
    );
    quiet
        .s
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let v: u64 = quiet.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
}

#[test]
fn keepalive_interval_minus_one_sends_no_pings_but_answers_them() {
    let d = Daemon::start_with(Setup {
        config: "keepalive_interval = -1\nkeepalive_count = 1\n",
        ..Setup::default()
    });
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    assert_eq!(w.call::<_, i32>(60, &10i32).unwrap(), 1);
    w.s.set_read_timeout(Some(Duration::from_millis(3000)))
        .unwrap();
    assert!(w.recv().is_err(), "a PING with keepalive_interval = -1");
    w.s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    w.send_raw(&virtvzd::rpc::message::keepalive(1)).unwrap();
    let pong = w.recv().unwrap();
    assert!(pong.is_keepalive() && pong.header.proc_ == 2, "{pong:?}");
    let v: u64 = w.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
}

#[test]
fn blocked_call_stops_neither_pongs_nor_other_calls() {
    // CONNECT_GET_CAPABILITIES (7) made to block for 8 s by the test hook.
    let d = Daemon::start_with(Setup {
        env: &[("VIRTVZD_TEST_DELAY", "7=8000")],
        ..Setup::default()
    });
    // virsh with a 1 s keepalive and 2 misses would give up after ~3 s if
    // PONGs stopped; it must get the capabilities after 8 s instead.
    let out = {
        let mut cmd = std::process::Command::new("virsh");
        cmd.args(["-k", "1", "-K", "2", "-c", &d.uri(), "capabilities"]);
        run_cmd(&mut cmd, Duration::from_secs(60))
    };
    assert!(out.stdout.contains("<capabilities>"), "{out:?}");

    // On one connection: the blocked call, then a PING and another call,
    // both answered while the first still runs.
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let slow = w.send_call(REMOTE, 7, &[]);
    w.send_raw(&virtvzd::rpc::message::keepalive(1)).unwrap();
    let fast = w.send_call(REMOTE, 157, &[]);
    let first = w.recv().unwrap();
    assert!(first.is_keepalive() && first.header.proc_ == 2, "{first:?}");
    let second = w.recv().unwrap();
    assert_eq!(second.header.serial, fast);
    let third = w.recv().unwrap();
    assert_eq!(third.header.serial, slow);
    assert!(third.error().is_none());
}

#[test]
fn max_clients_is_enforced_and_others_unaffected() {
    let d = Daemon::start_with(Setup {
        config: "max_clients = 2\nmax_anonymous_clients = 2\n",
        ..Setup::default()
    });
    // The harness's readiness probe connected and left; until the daemon
    // has seen it go it still holds one of the two places.
    wait_until(
        "the readiness probe is gone",
        Duration::from_secs(10),
        || {
            let out = virt_admin(&d, &["srv-clients-info", "virtvzd"]);
            field(out.expect_ok(), "nclients") == "0"
        },
    );
    let mut a = Wire::connect(&d.rw());
    a.open("vz:///system", 0);
    let mut b = Wire::connect(&d.rw());
    b.open("vz:///system", 0);
    // The third is told why on its first call, then closed.
    let mut c = Wire::connect(&d.rw());
    let e = c.call::<_, Vec<i32>>(66, &()).unwrap_err();
    assert_eq!((e.code, e.domain), (39, 7));
    let msg = e.message.unwrap();
    assert!(
        msg.starts_with("Too many active clients (2), dropping connection from pid "),
        "{msg}"
    );
    assert!(c.closed_by_server(), "third client kept over max_clients");
    // What virsh and python make of it.
    let out = d.virsh(&["hostname"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(
            "error: failed to connect to the hypervisor\nerror: Too many active clients (2)"
        ),
        "{out:?}"
    );
    let out = python(&format!(
        "import libvirt\ntry:\n    libvirt.open('{}')\nexcept libvirt.libvirtError as e:\n    print(e.get_error_code(), e.get_error_message())",
        d.uri()
    ));
    assert!(
        out.expect_ok()
            .starts_with("39 Too many active clients (2)"),
        "{out:?}"
    );
    for w in [&mut a, &mut b] {
        let v: u64 = w.call(157, &()).unwrap();
        assert_eq!(v, 9_000_000);
    }
    drop(a);
    wait_until("a freed slot is usable", Duration::from_secs(10), || {
        let mut n = Wire::connect(&d.rw());
        let _ = n.send_call(REMOTE, 66, &[]);
        n.recv().is_ok()
    });
}

#[test]
fn max_client_requests_bounds_calls_in_flight() {
    // A slow worker call followed by an inline one: with room for several
    // calls, the inline reply overtakes; with max_client_requests = 1 the
    // connection reads nothing more until the slow call is answered.
    for (limit, overtakes) in [(5, true), (1, false)] {
        let d = Daemon::start_with(Setup {
            config: &format!("max_client_requests = {limit}\n"),
            env: &[("VIRTVZD_TEST_DELAY", "7=700")],
            ..Setup::default()
        });
        let mut w = Wire::connect(&d.rw());
        w.open("vz:///system", 0);
        let slow = w.send_call(REMOTE, 7, &[]);
        let fast = w.send_call(REMOTE, 157, &[]);
        let first = w.recv_reply().header.serial;
        let second = w.recv_reply().header.serial;
        if overtakes {
            assert_eq!((first, second), (fast, slow), "limit {limit}");
        } else {
            assert_eq!((first, second), (slow, fast), "limit {limit}");
        }
    }
}

#[test]
fn file_descriptors_are_refused_cleanly() {
    let d = Daemon::start();
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    // A CALL_WITH_FDS announcing one descriptor; its one-byte carrier
    // follows the packet, as libvirt's client sends it.
    let mut bytes = frame(&header_bytes(REMOTE, 1, 157, 4, 0), &[0, 0, 0, 1]);
    bytes.push(0);
    w.send_raw(&bytes).unwrap();
    let e = w.recv_reply().error().expect("refused");
    assert_eq!(e.code, 39);
    // The stream is still in step: the next call works.
    let v: u64 = w.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
    // Announcing more than libvirt's limit drops the client.
    let mut w = Wire::connect(&d.rw());
    w.send_raw(&frame(&header_bytes(REMOTE, 1, 157, 4, 0), &[0, 0, 0, 33]))
        .unwrap();
    assert!(w.closed_by_server());
    still_served(&d);
}

/// The cpu line of /proc/stat for `name` ("cpu", "cpu0"), in nanoseconds:
/// (user+nice, system+irq+softirq, idle, iowait) as libvirt adds them up.
fn proc_stat_ns(name: &str) -> [u64; 4] {
    let stat = fs::read_to_string("/proc/stat").unwrap();
    let line = stat
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap();
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    let ns = 10_000_000; // USER_HZ 100
    [
        (f[0] + f[1]) * ns,
        (f[2] + f[5] + f[6]) * ns,
        f[3] * ns,
        f[4] * ns,
    ]
}

#[test]
fn host_values_are_the_hosts() {
    let d = Daemon::start();
    let online = online_cpus();
    // CPU times: between two reads of /proc/stat around the call.
    for (arg, line) in std::iter::once((None, "cpu".to_string()))
        .chain((0..online).map(|c| (Some(c.to_string()), format!("cpu{c}"))))
    {
        let before = proc_stat_ns(&line);
        let mut args = vec!["nodecpustats"];
        if let Some(a) = &arg {
            args.push(a);
        }
        let out = d.virsh(&args);
        let after = proc_stat_ns(&line);
        let t = out.expect_ok();
        for (i, label) in ["user:", "system:", "idle:", "iowait:"].iter().enumerate() {
            let v = first_number(t, label);
            assert!(
                before[i] <= v && v <= after[i],
                "{line} {label} {v} not within {}..{}",
                before[i],
                after[i]
            );
        }
    }
    // A CPU that does not exist.
    let out = d.virsh(&["nodecpustats", &online.to_string()]);
    assert!(
        out.stderr.contains(&format!("Invalid cpuNum {online}")),
        "{out:?}"
    );

    // Memory: the totals are fixed, so they must be equal.
    let mem = d.virsh(&["nodememstats"]);
    assert_eq!(first_number(mem.expect_ok(), "total  :"), mem_total_kib());
    let node0 = "/sys/devices/system/node/node0/meminfo";
    let node0_total = fs::read_to_string(node0).ok().map(|t| {
        t.lines()
            .find(|l| l.contains("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(3))
            .unwrap()
            .parse::<u64>()
            .unwrap()
    });
    if let Some(total) = node0_total {
        let cell = d.virsh(&["nodememstats", "0"]);
        assert_eq!(first_number(cell.expect_ok(), "total  :"), total);
        let caps = d.virsh(&["capabilities"]);
        assert!(
            caps.expect_ok()
                .contains(&format!("<memory unit='KiB'>{total}</memory>")),
            "{caps:?}"
        );
    }

    // The CPU map: present and online CPUs, one mark per CPU.
    let present = fs::read_to_string("/sys/devices/system/cpu/present").unwrap();
    let present_n = present
        .trim()
        .split(',')
        .map(|r| match r.split_once('-') {
            Some((_, b)) => b.parse::<u64>().unwrap() + 1,
            None => r.parse::<u64>().unwrap() + 1,
        })
        .max()
        .unwrap();
    let map = d.virsh(&["nodecpumap"]);
    let t = map.expect_ok();
    assert_eq!(first_number(t, "CPUs present:"), present_n);
    assert_eq!(first_number(t, "CPUs online:"), online);
    let marks = t
        .lines()
        .find_map(|l| l.strip_prefix("CPU map:"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(marks.len() as u64, present_n);
    assert_eq!(marks.matches('y').count() as u64, online);

    // The host UUID: SMBIOS if the machine has it, else machine-id.
    let uuid = fs::read_to_string("/sys/class/dmi/id/product_uuid")
        .map(|u| u.trim().to_ascii_lowercase())
        .unwrap_or_else(|_| {
            let id = fs::read_to_string("/etc/machine-id").unwrap();
            let id = id.trim();
            format!(
                "{}-{}-{}-{}-{}",
                &id[..8],
                &id[8..12],
                &id[12..16],
                &id[16..20],
                &id[20..]
            )
        });
    assert!(d
        .virsh(&["capabilities"])
        .expect_ok()
        .contains(&format!("<uuid>{uuid}</uuid>")));

    // The processor, as /proc/cpuinfo names it.
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches(['\t', ' ', ':']).trim().to_string());
    if let Some(model) = model {
        let sys = d.virsh(&["sysinfo"]);
        assert!(
            sys.expect_ok()
                .contains(&format!("<entry name='version'>{model}</entry>")),
            "{sys:?}"
        );
    }
    // libvirt's vz driver: no limit of its own, 1028 for its types.
    for args in [
        &["maxvcpus"][..],
        &["maxvcpus", "--type", "vz"],
        &["maxvcpus", "--type", "parallels"],
    ] {
        assert_eq!(d.virsh(args).expect_ok().trim(), "1028", "{args:?}");
    }
    let out = d.virsh(&["maxvcpus", "--type", "qemu"]);
    assert!(out.stderr.contains("unknown type 'qemu'"), "{out:?}");
}

#[test]
fn priority_workers_answer_high_calls_while_the_pool_is_stuck() {
    // One normal worker, blocked for 5 s by CONNECT_GET_CAPABILITIES;
    // CONNECT_GET_VERSION is @priority high. With a priority worker it
    // overtakes the stuck call; without one it waits behind it.
    for (prio, overtakes) in [(1, true), (0, false)] {
        let d = Daemon::start_with(Setup {
            config: &format!("min_workers = 1\nmax_workers = 1\nprio_workers = {prio}\n"),
            env: &[("VIRTVZD_TEST_DELAY", "7=5000")],
            ..Setup::default()
        });
        let mut stuck = Wire::connect(&d.rw());
        stuck.open("vz:///system", 0);
        // Opened first: CONNECT_OPEN itself needs a worker.
        let mut w = Wire::connect(&d.rw());
        w.open("vz:///system", 0);
        let slow = stuck.send_call(REMOTE, 7, &[]);
        // Let the worker pick the slow call up.
        std::thread::sleep(Duration::from_millis(300));
        let high = w.send_call(REMOTE, 4, &[]);
        // Well before the stuck call ends; silence for a while otherwise.
        let wait = if overtakes { 4000 } else { 1500 };
        w.s.set_read_timeout(Some(Duration::from_millis(wait)))
            .unwrap();
        let answered = w.recv();
        if overtakes {
            let r = answered.expect("a high-priority call waited for the stuck pool");
            assert_eq!(r.header.serial, high);
            assert!(r.error().is_none());
        } else {
            assert!(answered.is_err(), "answered without a free worker");
        }
        assert_eq!(stuck.recv_reply().header.serial, slow);
    }
}

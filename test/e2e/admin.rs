//! virt-admin on the admin socket (issue "The admin interface").

use crate::harness::*;
use crate::wire::*;
use std::time::Duration;

#[test]
fn version_and_servers() {
    let d = Daemon::start();
    let out = virt_admin(&d, &["version"]);
    assert!(
        out.expect_ok().contains("Running against daemon: 9.0.0"),
        "{out:?}"
    );
    let out = virt_admin(&d, &["srv-list"]);
    let names: Vec<&str> = out
        .expect_ok()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|n| *n != "Name")
        .collect();
    assert_eq!(names, ["admin", "virtvzd"], "{out:?}");
}

#[test]
fn threadpool_info_and_live_resize() {
    let d = Daemon::start();
    let out = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]);
    let t = out.expect_ok();
    assert_eq!(field(t, "minWorkers"), "5");
    assert_eq!(field(t, "maxWorkers"), "20");
    assert_eq!(field(t, "prioWorkers"), "5");
    assert_eq!(field(t, "jobQueueDepth"), "0");
    virt_admin(
        &d,
        &[
            "srv-threadpool-set",
            "virtvzd",
            "--max-workers",
            "8",
            "--min-workers",
            "2",
        ],
    )
    .expect_ok();
    let out = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]);
    assert_eq!(field(out.expect_ok(), "maxWorkers"), "8");
    assert_eq!(field(out.expect_ok(), "minWorkers"), "2");
    let workers = field(out.expect_ok(), "nWorkers");
    // Fewer priority workers: priority workers retire, normal ones stay.
    virt_admin(
        &d,
        &["srv-threadpool-set", "virtvzd", "--priority-workers", "2"],
    )
    .expect_ok();
    wait_until("two priority workers", Duration::from_secs(10), || {
        field(
            &virt_admin(&d, &["srv-threadpool-info", "virtvzd"]).stdout,
            "prioWorkers",
        ) == "2"
    });
    let out = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]);
    assert_eq!(field(out.expect_ok(), "nWorkers"), workers);
    // A minimum above the server's maximum (virt-admin only checks the
    // two when both are given): refused by the daemon, nothing changes.
    let bad = virt_admin(
        &d,
        &["srv-threadpool-set", "virtvzd", "--min-workers", "10"],
    );
    assert!(!bad.ok());
    assert!(bad.stderr.contains("minWorkers"), "{bad:?}");
    let out = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]);
    assert_eq!(field(out.expect_ok(), "minWorkers"), "2");
    let out = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]);
    assert_eq!(field(out.expect_ok(), "maxWorkers"), "8");
    // The daemon still serves.
    d.virsh(&["hostname"]).expect_ok();
}

#[test]
fn clients_list_info_and_disconnect() {
    let d = Daemon::start();
    let mut a = Wire::connect(&d.rw());
    a.open("vz:///system", 0);
    let mut b = Wire::connect(&d.ro());
    b.open("vz:///system", 0);
    let out = virt_admin(&d, &["srv-clients-list", "virtvzd"]);
    let rows: Vec<Vec<String>> = out
        .expect_ok()
        .lines()
        .filter(|l| l.contains("unix"))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{out:?}");
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();

    // The read-only one is the second to connect.
    let info = virt_admin(&d, &["client-info", "virtvzd", ids[1]]);
    let t = info.expect_ok();
    assert_eq!(field(t, "readonly"), "yes");
    assert_eq!(field(t, "unix_user_id"), "0");
    assert_eq!(field(t, "unix_user_name"), "root");
    assert_eq!(field(t, "unix_process_id"), std::process::id().to_string());
    assert_eq!(
        field(
            &virt_admin(&d, &["client-info", "virtvzd", ids[0]]).stdout,
            "readonly"
        ),
        "no"
    );

    let out = virt_admin(&d, &["client-disconnect", "virtvzd", ids[0]]);
    assert!(out
        .expect_ok()
        .contains(&format!("Client '{}' disconnected", ids[0])));
    assert!(a.closed_by_server());
    // The other client is untouched.
    let v: u64 = b.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);

    // Wrong server and client names.
    let e = virt_admin(&d, &["srv-clients-list", "nosuch"]);
    assert!(
        e.stderr
            .contains("Server not found: No server named 'nosuch'"),
        "{e:?}"
    );
    let e = virt_admin(&d, &["client-info", "virtvzd", "987654321"]);
    assert!(!e.ok());
    assert!(e.stderr.contains("987654321"), "{e:?}");
}

#[test]
fn python_client_sees_its_connection_closed() {
    let d = Daemon::start();
    let script = format!(
        r#"
import libvirt, subprocess, sys
c = libvirt.open("{uri}")
c.getHostname()
out = subprocess.run(["virt-admin", "-c", "virtvzd:///system?socket={admin}", "srv-clients-list", "virtvzd"], capture_output=True, text=True).stdout
ids = [l.split()[0] for l in out.splitlines() if "unix" in l]
assert len(ids) == 1, out
subprocess.run(["virt-admin", "-c", "virtvzd:///system?socket={admin}", "client-disconnect", "virtvzd", ids[0]], check=True, capture_output=True)
try:
    c.getHostname()
    print("still connected")
except libvirt.libvirtError as e:
    print("closed")
"#,
        uri = d.uri(),
        admin = d.admin().display()
    );
    assert_eq!(python(&script).expect_ok().trim(), "closed");
}

#[test]
fn client_limits_apply_live() {
    let d = Daemon::start();
    let out = virt_admin(&d, &["srv-clients-info", "virtvzd"]);
    assert_eq!(field(out.expect_ok(), "nclients_max"), "5000");
    assert_eq!(field(out.expect_ok(), "nclients_unauth_max"), "20");
    let mut a = Wire::connect(&d.rw());
    a.open("vz:///system", 0);
    virt_admin(
        &d,
        &[
            "srv-clients-set",
            "virtvzd",
            "--max-clients",
            "1",
            "--max-unauth-clients",
            "1",
        ],
    )
    .expect_ok();
    let out = virt_admin(&d, &["srv-clients-info", "virtvzd"]);
    assert_eq!(field(out.expect_ok(), "nclients_max"), "1");
    assert_eq!(field(out.expect_ok(), "nclients"), "1");
    // A second client is refused at once, and virsh says why.
    let out = d.virsh(&["hostname"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("Too many active clients (1)"),
        "{out:?}"
    );
    let v: u64 = a.call(157, &()).unwrap();
    assert_eq!(v, 9_000_000);
    // Inconsistent limits are refused and change nothing.
    let bad = virt_admin(
        &d,
        &["srv-clients-set", "virtvzd", "--max-unauth-clients", "5"],
    );
    assert!(!bad.ok(), "{bad:?}");
    let out = virt_admin(&d, &["srv-clients-info", "virtvzd"]);
    assert_eq!(field(out.expect_ok(), "nclients_unauth_max"), "1");
    // Raising the limit lets the next one in, still live.
    virt_admin(&d, &["srv-clients-set", "virtvzd", "--max-clients", "2"]).expect_ok();
    d.virsh(&["hostname"]).expect_ok();
    // The admin server has its own limit: virt-admin is refused past it.
    virt_admin(
        &d,
        &[
            "srv-clients-set",
            "admin",
            "--max-clients",
            "0",
            "--max-unauth-clients",
            "0",
        ],
    )
    .expect_ok();
    let out = virt_admin(&d, &["srv-list"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("Too many active clients (0)"),
        "{out:?}"
    );
    // ... while the main server keeps serving.
    d.virsh(&["hostname"]).expect_ok();
}

#[test]
fn log_filters_and_outputs_change_at_once() {
    let d = Daemon::start_with(Setup {
        config: "log_level = 4\n",
        ..Setup::default()
    });
    let out = virt_admin(&d, &["daemon-log-filters"]);
    assert!(out.expect_ok().contains("Logging filters:"), "{out:?}");
    let out = virt_admin(&d, &["daemon-log-outputs"]);
    assert!(
        out.expect_ok()
            .contains(&format!("1:file:{}", d.log.display())),
        "{out:?}"
    );
    let before = d.log_text();
    assert!(!before.contains("rpc."), "{before}");
    virt_admin(&d, &["daemon-log-filters", "1:rpc"]).expect_ok();
    let out = virt_admin(&d, &["daemon-log-filters"]);
    assert!(out.expect_ok().contains("1:rpc"), "{out:?}");
    // A connection now logs RPC debug lines.
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    drop(w);
    wait_until("rpc debug lines", Duration::from_secs(10), || {
        d.log_text().contains("rpc.")
    });
    // A bad filter is refused.
    let bad = virt_admin(&d, &["daemon-log-filters", "9:nonsense"]);
    assert!(!bad.ok(), "{bad:?}");
}

#[test]
fn resized_pool_obeys_its_new_maximum() {
    // CONNECT_GET_CAPABILITIES blocks 3 s (test hook): six of them at once
    // need six workers, but the pool may only grow to three.
    let d = Daemon::start_with(Setup {
        config: "min_workers = 1\nmax_workers = 20\nprio_workers = 0\n",
        env: &[("VIRTVZD_TEST_DELAY", "7=3000")],
        ..Setup::default()
    });
    virt_admin(&d, &["srv-threadpool-set", "virtvzd", "--max-workers", "3"]).expect_ok();
    let mut clients: Vec<Wire> = (0..6)
        .map(|_| {
            let mut w = Wire::connect(&d.rw());
            w.open("vz:///system", 0);
            w
        })
        .collect();
    for w in &mut clients {
        w.send_call(REMOTE, 7, &[]);
    }
    wait_until(
        "calls queued behind the three workers",
        Duration::from_secs(10),
        || {
            let t = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]).stdout;
            field(&t, "jobQueueDepth") == "3" && field(&t, "nWorkers") == "3"
        },
    );
    for w in &mut clients {
        assert!(w.recv_reply().error().is_none());
    }
}

#[test]
fn admin_socket_serves_only_the_admin_program() {
    let d = Daemon::start();
    // REMOTE on the admin socket.
    let mut w = Wire::connect(&d.admin());
    let serial = w.send_call(REMOTE, 66, &[]);
    let r = w.recv_reply();
    assert_eq!(r.header.serial, serial);
    let e = r.error().expect("refused");
    assert_eq!(e.code, 39);
    assert!(e.message.unwrap().starts_with("Cannot find program"));
    // Keepalive is answered there too (libvirt answers PING everywhere),
    // and the connection still serves ADMIN afterwards.
    let mut w = Wire::connect(&d.admin());
    w.send_raw(&virtvzd::rpc::message::keepalive(1)).unwrap();
    let pong = w.recv().unwrap();
    assert!(pong.is_keepalive() && pong.header.proc_ == 2, "{pong:?}");
    let serial = w.send_call(0x0690_0690, 1, &[0, 0, 0, 0]);
    let r = w.recv_reply();
    assert_eq!(r.header.serial, serial);
    assert!(r.error().is_none(), "{:?}", r.error());
    // ADMIN on the read-write and read-only sockets.
    for sock in [d.rw(), d.ro()] {
        let mut w = Wire::connect(&sock);
        w.send_call(0x0690_0690, 1, &[0, 0, 0, 0]);
        let e = w.recv_reply().error().expect("refused");
        assert_eq!((e.code, e.domain), (39, 7), "{sock:?}");
        assert_eq!(
            e.message.as_deref(),
            Some("Cannot find program 110102160 version 1"),
            "{sock:?}"
        );
        // And virt-admin pointed there gets nowhere.
        let mut cmd = std::process::Command::new("virt-admin");
        cmd.arg("-c")
            .arg(format!("virtvzd:///system?socket={}", sock.display()))
            .arg("srv-list");
        let out = run_cmd(&mut cmd, Duration::from_secs(60));
        assert!(!out.ok(), "{out:?}");
        assert!(out.stderr.contains("Cannot find program"), "{out:?}");
    }
    // The admin socket is owner-only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.admin()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn log_outputs_switch_to_a_new_file_at_once() {
    let d = Daemon::start_with(Setup {
        config: "log_level = 1\n",
        ..Setup::default()
    });
    let new_log = d.dir.join("new.log");
    let spec = format!("1:file:{}", new_log.display());
    virt_admin(&d, &["daemon-log-outputs", &spec]).expect_ok();
    let out = virt_admin(&d, &["daemon-log-outputs"]);
    assert!(out.expect_ok().contains(&spec), "{out:?}");
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    drop(w);
    wait_until("lines in the new log file", Duration::from_secs(10), || {
        std::fs::read_to_string(&new_log).is_ok_and(|t| !t.is_empty())
    });
    let bad = virt_admin(&d, &["daemon-log-outputs", "1:file:relative/path"]);
    assert!(!bad.ok(), "{bad:?}");
    let out = virt_admin(&d, &["daemon-log-outputs"]);
    assert!(out.expect_ok().contains(&spec), "{out:?}");
    // Two outputs at once, then "" for the default one (stderr here: in
    // the foreground, no journal), as libvirt resets them.
    let both = format!("4:stderr {spec}");
    virt_admin(&d, &["daemon-log-outputs", &both]).expect_ok();
    assert!(virt_admin(&d, &["daemon-log-outputs"])
        .expect_ok()
        .contains(&both));
    virt_admin(&d, &["daemon-log-outputs", ""]).expect_ok();
    let out = virt_admin(&d, &["daemon-log-outputs"]);
    assert!(
        out.expect_ok().contains("Logging outputs: 1:stderr"),
        "{out:?}"
    );
    // Filters set, then cleared with "".
    virt_admin(&d, &["daemon-log-filters", "3:rpc 1:vz"]).expect_ok();
    assert!(virt_admin(&d, &["daemon-log-filters"])
        .expect_ok()
        .contains("Logging filters: 3:rpc 1:vz"));
    virt_admin(&d, &["daemon-log-filters", ""]).expect_ok();
    let out = virt_admin(&d, &["daemon-log-filters"]);
    assert_eq!(out.expect_ok().trim(), "Logging filters:", "{out:?}");
}

#[test]
fn stderr_output_carries_libvirts_line_format() {
    let mut d = Daemon::start_with(Setup {
        args: &["-v"],
        env: &[("LIBVIRT_LOG_OUTPUTS", "2:stderr")],
        ..Setup::default()
    });
    d.stop();
    let mut err = String::new();
    let mut child_err = d.child_stderr.take().expect("stderr kept");
    std::io::Read::read_to_string(&mut child_err, &mut err).unwrap();
    // "TIMESTAMP: THREAD: LEVEL : CATEGORY : MESSAGE"
    let line = err
        .lines()
        .find(|l| l.ends_with("info : daemon : virtvzd 9.0.0 serving vz:///system"))
        .unwrap_or_else(|| panic!("{err}"));
    let (stamp, rest) = line.split_once("+0000: ").unwrap();
    assert_eq!(stamp.len(), "2026-12-01 22:29:47.123".len(), "{line}");
    assert!(
        rest.split(':').next().unwrap().parse::<u32>().is_ok(),
        "{line}"
    );
    assert!(err.contains("info : daemon : virtvzd stopped"), "{err}");
}

#[test]
fn daemon_timeout_set_live() {
    let mut d = Daemon::start();
    virt_admin(&d, &["daemon-timeout", "--timeout", "1"]).expect_ok();
    // virt-admin has left: nothing holds the daemon now.
    let st = d.wait_exit(Duration::from_secs(15));
    assert!(st.success(), "{st}");
    assert!(!d.pid_file.exists());
}

#[test]
fn wrong_names_and_invalid_values_get_libvirts_errors_and_change_nothing() {
    let d = Daemon::start();
    let pool = || virt_admin(&d, &["srv-threadpool-info", "virtvzd"]).stdout;
    let limits = || virt_admin(&d, &["srv-clients-info", "virtvzd"]).stdout;
    let logging = || {
        (
            virt_admin(&d, &["daemon-log-filters"]).stdout,
            virt_admin(&d, &["daemon-log-outputs"]).stdout,
        )
    };
    let (pool_before, limits_before, logging_before) = (pool(), limits(), logging());
    let strip_volatile = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("freeWorkers") && !l.starts_with("nWorkers"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (args, first, second) in [
        (
            &["srv-threadpool-set", "virtvzd", "--min-workers", "30"][..],
            "error: Unable to change server workerpool parameters",
            "error: invalid argument: minWorkers cannot be larger than maxWorkers",
        ),
        (
            &["srv-threadpool-set", "virtvzd", "--min-workers", "0", "--max-workers", "0"],
            "error: Unable to change server workerpool parameters",
            "error: invalid argument: maxWorkers must not be switched from zero to non-zero and vice versa",
        ),
        (
            &["srv-clients-set", "virtvzd", "--max-unauth-clients", "6000"],
            "error: Unable to change server's client-related configuration limits",
            "error: invalid argument: The overall maximum number of clients must be greater than the maximum number of clients waiting for authentication",
        ),
        (
            &["server-update-tls", "virtvzd"],
            "error: Unable to update server's tls related files.",
            "error: internal error: no tls service found, unable to update tls files",
        ),
        (
            &["daemon-log-filters", "9:rpc"],
            "error: Unable to change daemon logging settings",
            "error: invalid argument: Invalid priority '9' for filter '9:rpc'",
        ),
        (
            &["daemon-log-filters", "rpc"],
            "error: Unable to change daemon logging settings",
            "error: invalid argument: Malformed format for filter 'rpc'",
        ),
        (
            &["daemon-log-outputs", "3:printer"],
            "error: Unable to change daemon logging settings",
            "error: invalid argument: Invalid log destination 'printer' for log output '3:printer'",
        ),
    ] {
        let out = virt_admin(&d, args);
        assert_eq!(out.code, Some(1), "{args:?}: {out:?}");
        let lines: Vec<&str> = out.stderr.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, [first, second], "{args:?}");
    }
    // Unknown server or client: one line, from the lookup virt-admin makes
    // first.
    for args in [
        &["srv-threadpool-info", "nosuch"][..],
        &["srv-threadpool-set", "nosuch", "--max-workers", "3"],
        &["srv-clients-list", "nosuch"],
        &["srv-clients-info", "nosuch"],
        &["srv-clients-set", "nosuch", "--max-clients", "3"],
        &["client-info", "nosuch", "1"],
        &["server-update-tls", "nosuch"],
    ] {
        let out = virt_admin(&d, args);
        assert_eq!(out.code, Some(1), "{args:?}");
        assert_eq!(
            out.stderr.trim(),
            "error: Server not found: No server named 'nosuch'",
            "{args:?}"
        );
    }
    for args in [
        &["client-info", "virtvzd", "987654321"][..],
        &["client-disconnect", "virtvzd", "987654321"],
    ] {
        let out = virt_admin(&d, args);
        assert_eq!(out.code, Some(1), "{args:?}");
        assert_eq!(
            out.stderr.trim(),
            "error: Client not found: No client with matching ID '987654321'",
            "{args:?}"
        );
    }
    assert_eq!(strip_volatile(&pool()), strip_volatile(&pool_before));
    assert_eq!(limits(), limits_before);
    assert_eq!(logging(), logging_before);
}

#[test]
fn two_virsh_clients_listed_inspected_and_one_disconnected() {
    use std::process::{Command, Stdio};
    let d = Daemon::start();
    // Two real virsh clients that stay connected (waiting for events).
    let spawn = || {
        Spawned(
            Command::new("virsh")
                .args(["-c", &d.uri(), "event", "--all", "--loop"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    };
    let mut first_guard = spawn();
    let mut second_guard = spawn();
    let first = &mut first_guard.0;
    let second = &mut second_guard.0;
    let rows = |d: &Daemon| -> Vec<Vec<String>> {
        virt_admin(d, &["srv-clients-list", "virtvzd"])
            .stdout
            .lines()
            .filter(|l| l.contains(" unix "))
            .map(|l| l.split_whitespace().map(String::from).collect())
            .collect()
    };
    wait_until("two clients listed", Duration::from_secs(30), || {
        rows(&d).len() == 2
    });
    let listed = rows(&d);
    // "Id Transport Connected since": a date and time with the zone.
    for r in &listed {
        assert_eq!(r[1], "unix", "{r:?}");
        assert!(r[2].len() == 10 && r[3].ends_with("+0000"), "{r:?}");
    }
    // client-info names the very processes (SO_PEERCRED).
    let mut by_pid = std::collections::HashMap::new();
    for r in &listed {
        let info = virt_admin(&d, &["client-info", "virtvzd", &r[0]]);
        let t = info.expect_ok();
        assert_eq!(field(t, "id"), r[0]);
        assert_eq!(field(t, "transport"), "unix");
        assert_eq!(field(t, "readonly"), "no");
        assert_eq!(field(t, "unix_user_name"), "root");
        assert_eq!(field(t, "unix_group_name"), "root");
        by_pid.insert(field(t, "unix_process_id"), r[0].clone());
    }
    let first_id = by_pid
        .get(&first.id().to_string())
        .unwrap_or_else(|| panic!("virsh {} not among {by_pid:?}", first.id()))
        .clone();
    assert!(by_pid.contains_key(&second.id().to_string()), "{by_pid:?}");
    // Disconnecting the first: virsh sees its connection closed and ends.
    let out = virt_admin(&d, &["client-disconnect", "virtvzd", &first_id]);
    assert_eq!(
        out.expect_ok().trim(),
        format!("Client '{first_id}' disconnected")
    );
    wait_until(
        "the disconnected virsh ends",
        Duration::from_secs(30),
        || first.try_wait().unwrap().is_some(),
    );
    assert_eq!(first.wait().unwrap().code(), Some(1));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut first.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains(&format!(
            "error: Disconnected from {} due to end of file",
            d.uri()
        )),
        "{err}"
    );
    // The other one is untouched, and the list says so.
    assert!(second.try_wait().unwrap().is_none());
    wait_until("one client left", Duration::from_secs(10), || {
        rows(&d).len() == 1
    });
    assert_eq!(rows(&d)[0][0], by_pid[&second.id().to_string()]);
}

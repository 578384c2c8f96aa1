//! virt-admin on the admin socket (issue "The admin interface").

use crate::harness::*;
use crate::wire::*;
use std::process::Command;
use std::time::Duration;

pub(crate) fn virt_admin(d: &Daemon, args: &[&str]) -> Out {
    let uri = format!("virtvzd:///system?socket={}", d.admin().display());
    let mut cmd = Command::new("virt-admin");
    cmd.arg("-c").arg(uri).args(args);
    run_cmd(&mut cmd, Duration::from_secs(60))
}

/// The value printed for `name` in virt-admin's "name : value" lists.
pub(crate) fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

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
    let mut b = Wire::connect(&d.rw());
    assert!(
        b.closed_by_server(),
        "a second client got in over the limit"
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
    // ADMIN on the read-write socket.
    let mut w = Wire::connect(&d.rw());
    w.send_call(0x0690_0690, 1, &[0, 0, 0, 0]);
    let e = w.recv_reply().error().expect("refused");
    assert_eq!(e.code, 39);
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

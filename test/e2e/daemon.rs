//! The daemon process: options, paths, sockets, activation, -d, signals,
//! --timeout, init script and install (issue "The daemon process").

use crate::harness::*;
use crate::wire::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn run_daemon(args: &[&str]) -> Out {
    run_cmd(Command::new(binary()).args(args), Duration::from_secs(20))
}

#[test]
fn help_and_version() {
    for v in ["--version", "-V"] {
        let out = run_daemon(&[v]);
        assert_eq!(out.expect_ok().trim(), "virtvzd (libvirt) 9.0.0");
    }
    for h in ["--help", "-h"] {
        let out = run_daemon(&[h]);
        let text = out.expect_ok();
        for opt in [
            "--daemon",
            "--config",
            "--pid-file",
            "--timeout",
            "--verbose",
            "--version",
        ] {
            assert!(text.contains(opt), "{opt} missing from {text}");
        }
        assert!(is_root(), "these tests run as root (make check)");
        for path in [
            "/etc/libvirt/virtvzd.conf",
            "/run/libvirt/virtvzd-sock",
            "/run/libvirt/virtvzd-sock-ro",
            "/run/libvirt/virtvzd-admin-sock",
            "/run/virtvzd.pid",
        ] {
            assert!(text.contains(path), "{path} missing from {text}");
        }
    }
}

#[test]
fn bad_command_lines_fail_without_touching_files() {
    let dir = TempDir::new("cli");
    let pid = dir.join("p.pid");
    let pid = pid.to_str().unwrap();
    for (args, needle) in [
        (vec!["--bogus"], "bogus"),
        (vec!["extra-argument"], "extra-argument"),
        (vec!["-t", "abc"], "timeout"),
        (vec!["--timeout=-1"], "timeout"),
        (vec!["--timeout", "99999999999"], "timeout"),
        (vec!["--timeout", "2147484"], "0 to 2147483"),
        (vec!["-t"], "timeout"),
        (vec!["-f"], "config"),
        (vec!["--daemon=yes"], "--daemon"),
        (vec!["-dv", "-x"], "-x"),
    ] {
        let mut a = vec!["-p", pid];
        a.extend(args.iter().copied());
        let out = run_daemon(&a);
        assert_ne!(out.code, Some(0), "{args:?} accepted");
        assert!(
            out.stderr.to_lowercase().contains(needle),
            "{args:?}: {:?}",
            out.stderr
        );
        assert!(!Path::new(pid).exists(), "{args:?} created the pid file");
        assert!(
            out.stderr
                .ends_with("Try 'virtvzd --help' for more information.\n"),
            "{args:?}: {:?}",
            out.stderr
        );
    }
    // -p with no value leaves nothing behind either.
    let out = run_daemon(&["-p"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("--pid-file needs a value"), "{out:?}");
    // --help and --version touch nothing.
    for a in ["--help", "--version"] {
        run_daemon(&["-p", pid, a]).expect_ok();
        assert!(!Path::new(pid).exists(), "{a} created the pid file");
    }
    // An explicit config file that does not exist is an error too.
    let out = run_daemon(&["-p", pid, "-f", "/nonexistent/virtvzd.conf"]);
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("/nonexistent/virtvzd.conf"), "{out:?}");
    assert!(!Path::new(pid).exists());
}

/// Runs `virtvzd ARGS` as the unprivileged user `nobody` with its own
/// HOME and XDG directories under `home`.
fn as_nobody(home: &Path, bin: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"));
    cmd
}

fn chown_nobody(p: &Path) {
    let st = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn unprivileged_user_gets_session_paths() {
    assert!(is_root(), "needs root to switch to nobody");
    let home = TempDir::new("home");
    // The test binary's directory may not be reachable by nobody.
    let bin = home.join("virtvzd");
    fs::copy(binary(), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    chown_nobody(home.path());
    let h = home.path();

    let out = run_cmd(
        &mut as_nobody(h, &bin, &["--help"]),
        Duration::from_secs(20),
    );
    let text = out.expect_ok();
    let rt = h.join("runtime/libvirt");
    for p in [
        h.join("config/libvirt/virtvzd.conf"),
        rt.join("virtvzd-sock"),
        rt.join("virtvzd-admin-sock"),
        rt.join("virtvzd.pid"),
    ] {
        assert!(
            text.contains(p.to_str().unwrap()),
            "{p:?} missing from {text}"
        );
    }
    assert!(!text.contains("virtvzd-sock-ro"), "{text}");

    // With no -f and no -p: everything at the session defaults.
    let mut cmd = as_nobody(h, &bin, &[]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let sock = rt.join("virtvzd-sock");
    wait_until("session socket", Duration::from_secs(20), || sock.exists());
    let meta = fs::metadata(&rt).unwrap();
    assert_eq!(meta.uid(), 65534);
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    assert!(rt.join("virtvzd-admin-sock").exists());
    assert!(!rt.join("virtvzd-sock-ro").exists());
    let pid = fs::read_to_string(rt.join("virtvzd.pid")).unwrap();
    assert_eq!(pid, format!("{}\n", child.id()));
    let out = virsh(
        &format!("vz:///session?socket={}", sock.display()),
        &["uri"],
    );
    assert!(out.expect_ok().starts_with("vz:///session"));
    let out = virsh(
        &format!("vz:///session?socket={}", sock.display()),
        &["hostname"],
    );
    out.expect_ok();
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let st = child.wait().unwrap();
    assert!(st.success(), "{st}");
    assert!(!sock.exists() && !rt.join("virtvzd.pid").exists());
}

/// `make run` as a user (nobody, with its own HOME and XDG directories):
/// it starts the daemon in the foreground, verbose, at that user's
/// default paths, and says which command to type next — and that command,
/// typed as the same user, lists the embedded host's guests. The build
/// step is the tests' own (CARGO=true: the binary is already built).
#[test]
fn make_run_serves_the_user_and_names_the_next_command() {
    assert!(is_root(), "needs root to switch to nobody");
    let home = TempDir::new("home");
    let h = home.path();
    let target = h.join("target");
    fs::create_dir_all(target.join("release")).unwrap();
    let bin = target.join("release/virtvzd");
    fs::copy(binary(), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    // The Makefile beside it: the source tree may not be reachable by
    // nobody (a checkout under /root), and `run` needs nothing else.
    let tree = h.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::copy(source_dir().join("Makefile"), tree.join("Makefile")).unwrap();
    chown_nobody(h);
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg("make")
        .arg("-s")
        .arg("-C")
        .arg(&tree)
        .arg("run")
        .arg("CARGO=true")
        .arg(format!("CARGO_TARGET_DIR={}", target.display()))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", h)
        .env("XDG_CONFIG_HOME", h.join("config"))
        .env("XDG_RUNTIME_DIR", h.join("runtime"))
        .env("XDG_DATA_HOME", h.join("data"))
        .env("XDG_CACHE_HOME", h.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut make = Spawned(cmd.spawn().expect("start make run"));
    let rt = h.join("runtime/libvirt");
    let sock = rt.join("virtvzd-sock");
    wait_until("the session socket", Duration::from_secs(30), || {
        sock.exists()
    });
    // What the user is told to type, typed as that user.
    let out = nobody_runs(h, "virsh", &["-c", "vz:///session", "list", "--all"]);
    assert!(out.expect_ok().contains(" Id   Name   State"), "{out:?}");
    let pid = fs::read_to_string(rt.join("virtvzd.pid")).unwrap();
    let _ = Command::new("kill").arg(pid.trim()).status();
    let status = make.0.wait().unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read;
    make.0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    make.0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stdout}{stderr}");
    assert!(
        stdout.contains(
            "virtvzd: serving vz:///session; in another shell: virsh -c vz:///session list --all"
        ),
        "{stdout}"
    );
    // Verbose, on stderr: the daemon says what it serves.
    assert!(stderr.contains("serving vz:///session"), "{stderr}");
}

/// `cmd ARGS` as `nobody`, with the same environment as [`as_nobody`].
fn nobody_runs(home: &Path, program: &str, args: &[&str]) -> Out {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        program,
    ])
    .args(args)
    .env_clear()
    .env("PATH", "/usr/bin:/bin")
    .env("HOME", home)
    .env("XDG_CONFIG_HOME", home.join("config"))
    .env("XDG_RUNTIME_DIR", home.join("runtime"))
    .env("XDG_CACHE_HOME", home.join("cache"));
    run_cmd(&mut cmd, Duration::from_secs(60))
}

#[test]
fn unprivileged_daemon_reads_its_own_config_logs_to_its_cache_and_admins_only_itself() {
    assert!(is_root(), "needs root to switch to nobody");
    let home = TempDir::new("home");
    let bin = home.join("virtvzd");
    fs::copy(binary(), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let h = home.path();
    // Its own config file, found through XDG_CONFIG_HOME.
    fs::create_dir_all(h.join("config/libvirt")).unwrap();
    fs::write(
        h.join("config/libvirt/virtvzd.conf"),
        "max_clients = 9\nmax_anonymous_clients = 4\n",
    )
    .unwrap();
    chown_nobody(h);
    // In the background with no journal: the log file in its cache.
    let out = run_cmd(
        &mut as_nobody(h, &bin, &["-d", "-v"]),
        Duration::from_secs(20),
    );
    assert!(out.ok(), "{out:?}");
    let rt = h.join("runtime/libvirt");
    let pid = fs::read_to_string(rt.join("virtvzd.pid")).unwrap();
    let log = h.join("cache/libvirt/virtvzd.log");
    wait_until("the user's log file", Duration::from_secs(10), || {
        fs::read_to_string(&log).is_ok_and(|t| t.contains("serving vz:///session"))
    });
    assert_eq!(fs::metadata(&log).unwrap().uid(), 65534);
    // The store lives in XDG_DATA_HOME.
    let admin_uri = format!(
        "virtvzd:///session?socket={}",
        rt.join("virtvzd-admin-sock").display()
    );
    let admin = rt.join("virtvzd-admin-sock");
    assert_eq!(
        fs::metadata(&admin).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // The user administers its own daemon.
    let info = nobody_runs(
        h,
        "virt-admin",
        &["-c", &admin_uri, "srv-clients-info", "virtvzd"],
    );
    let info = info.expect_ok();
    assert_eq!(field(info, "nclients_max"), "9");
    assert_eq!(field(info, "nclients_unauth_max"), "4");
    // Even root, who can open the socket, may not administer someone
    // else's daemon.
    let mut va = Command::new("virt-admin");
    va.args(["-c", &admin_uri, "srv-list"]);
    let out = run_cmd(&mut va, Duration::from_secs(60));
    assert!(!out.ok(), "{out:?}");
    assert!(out.stderr.contains("uid 0"), "{out:?}");
    assert!(Command::new("kill")
        .arg(pid.trim())
        .status()
        .unwrap()
        .success());
    wait_until("daemon exit", Duration::from_secs(20), || exited(&pid));
    assert!(!rt.join("virtvzd-sock").exists() && !rt.join("virtvzd.pid").exists());
}

#[test]
fn virsh_spawns_a_session_daemon_and_reuses_it() {
    // libvirt's client, as an unprivileged user with no daemon running,
    // starts `virtvzd --timeout=120` from VIRTD_PATH (SBINDIR normally) and
    // connects to it in the user's runtime directory.
    assert!(is_root(), "needs root to switch to nobody");
    let home = TempDir::new("spawn");
    let bin_dir = home.join("sbin");
    fs::create_dir_all(&bin_dir).unwrap();
    fs::copy(binary(), bin_dir.join("virtvzd")).unwrap();
    fs::set_permissions(bin_dir.join("virtvzd"), fs::Permissions::from_mode(0o755)).unwrap();
    chown_nobody(home.path());
    let h = home.path();
    let virsh_as_nobody = |args: &[&str]| {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "virsh",
        ])
        .args(["-c", "vz:///session?mode=direct"])
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", h)
        .env("XDG_CONFIG_HOME", h.join("config"))
        .env("XDG_RUNTIME_DIR", h.join("runtime"))
        .env("XDG_DATA_HOME", h.join("data"))
        .env("XDG_CACHE_HOME", h.join("cache"))
        .env("VIRTD_PATH", &bin_dir);
        run_cmd(&mut cmd, Duration::from_secs(60))
    };
    let out = virsh_as_nobody(&["uri"]);
    assert!(out.expect_ok().starts_with("vz:///session"), "{out:?}");
    let pid_file = h.join("runtime/libvirt/virtvzd.pid");
    let pid = fs::read_to_string(&pid_file).unwrap().trim().to_string();
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let argv: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert_eq!(argv[1..], ["--timeout=120"], "{argv:?}");
    // The next client finds it running and uses it.
    virsh_as_nobody(&["hostname"]).expect_ok();
    assert_eq!(fs::read_to_string(&pid_file).unwrap().trim(), pid);
    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    wait_until("daemon exit", Duration::from_secs(20), || exited(&pid));
    assert!(!pid_file.exists());
}

#[test]
fn sockets_have_configured_modes_and_group() {
    let mut d = Daemon::start_with(Setup {
        config: "unix_sock_group = \"daemon\"\nunix_sock_rw_perms = \"0770\"\nunix_sock_ro_perms = \"0666\"\nunix_sock_admin_perms = \"0700\"\n",
        ..Setup::default()
    });
    let gid = fs::read_to_string("/etc/group")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("daemon:x:"))
        .and_then(|r| r.split(':').next())
        .and_then(|g| g.parse::<u32>().ok())
        .expect("group daemon");
    for (path, mode, group) in [
        (d.rw(), 0o770, Some(gid)),
        (d.ro(), 0o666, Some(gid)),
        (d.admin(), 0o700, None),
    ] {
        let m = fs::metadata(&path).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, mode, "{path:?}");
        if let Some(g) = group {
            assert_eq!(m.gid(), g, "{path:?}");
        }
    }
    assert_eq!(
        fs::metadata(&d.sock_dir).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert!(d.stop().success());
    for p in [d.rw(), d.ro(), d.admin(), d.pid_file.clone()] {
        assert!(!p.exists(), "{p:?} left behind");
    }
}

#[test]
fn second_instance_refuses_and_leaves_first_alone() {
    let d = Daemon::start();
    let pid_before = fs::read_to_string(&d.pid_file).unwrap();
    let sockets = [d.rw(), d.ro(), d.admin()];
    let inodes = || -> Vec<u64> {
        sockets
            .iter()
            .map(|p| fs::metadata(p).unwrap().ino())
            .collect()
    };
    let before = inodes();
    // Same pid file: refused on the lock, before anything else.
    let out = run_cmd(&mut d.command(&[]), Duration::from_secs(20));
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr.trim(),
        format!(
            "virtvzd: another virtvzd (pid {}) holds {}: is the daemon already running?",
            pid_before.trim(),
            d.pid_file.display()
        )
    );
    // Another pid file (and its own log), same sockets: refused when it
    // finds them answered.
    let other_pid = d.dir.join("other.pid");
    let out = run_cmd(
        Command::new(binary())
            .arg("-f")
            .arg(&d.config)
            .arg("-p")
            .arg(&other_pid),
        Duration::from_secs(20),
    );
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr.trim(),
        format!(
            "virtvzd: {} is in use by another running daemon",
            d.rw().display()
        )
    );
    assert!(!other_pid.exists(), "the refused daemon left its pid file");
    // The first is untouched: same pid file, the very same socket files,
    // and it serves on each of them.
    assert_eq!(fs::read_to_string(&d.pid_file).unwrap(), pid_before);
    assert_eq!(inodes(), before);
    d.virsh(&["hostname"]).expect_ok();
    d.virsh_ro(&["hostname"]).expect_ok();
    virt_admin(&d, &["srv-list"]).expect_ok();
}

#[test]
fn stale_sockets_from_a_killed_daemon_are_replaced() {
    let mut d = Daemon::start();
    d.signal("KILL");
    d.wait_exit(Duration::from_secs(10));
    assert!(d.rw().exists(), "a killed daemon leaves its sockets");
    let mut again = d.command(&[]);
    again
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    d.child = Some(again.spawn().unwrap());
    d.wait_ready();
    d.virsh(&["hostname"]).expect_ok();
    // All three, and the stale pid file, are the new daemon's.
    d.virsh_ro(&["hostname"]).expect_ok();
    virt_admin(&d, &["srv-list"]).expect_ok();
    assert_eq!(
        fs::read_to_string(&d.pid_file).unwrap(),
        format!("{}\n", d.pid())
    );
}

/// Starts the daemon through a tiny socket activator (what systemd does):
/// the sockets are bound by the activator and passed as fds 3.. with
/// LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES.
fn activate(d: &Daemon, names: &[(&str, &Path)]) -> std::process::Child {
    let names_arg: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    let paths_arg: Vec<String> = names.iter().map(|(_, p)| p.display().to_string()).collect();
    activate_raw(d, &paths_arg.join(","), None, Some(&names_arg.join(":")))
}

/// The activator with every variable in the test's hands: `paths` are
/// sockets to bind (or "file:PATH" for a plain file in their place),
/// `fds` overrides LISTEN_FDS, `names` is LISTEN_FDNAMES (None: unset).
fn activate_raw(
    d: &Daemon,
    paths: &str,
    fds: Option<&str>,
    names: Option<&str>,
) -> std::process::Child {
    let script = r#"
import os, socket, sys
paths = sys.argv[1].split(",")
keep = []
for i, p in enumerate(paths):
    if p.startswith("file:"):
        fd = os.open(p[5:], os.O_RDWR | os.O_CREAT)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(p)
        s.listen(16)
        keep.append(s)
        fd = s.fileno()
    os.dup2(fd, 3 + i)
    os.set_inheritable(3 + i, True)
env = dict(os.environ)
env["LISTEN_PID"] = str(os.getpid())
env["LISTEN_FDS"] = sys.argv[2] if sys.argv[2] != "-" else str(len(paths))
if sys.argv[3] != "-":
    env["LISTEN_FDNAMES"] = sys.argv[3][1:]
os.execve(sys.argv[4], sys.argv[4:], env)
"#;
    fs::create_dir_all(&d.sock_dir).unwrap();
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg("-c")
        .arg(script)
        .arg(paths)
        .arg(fds.unwrap_or("-"))
        // "=" keeps an empty LISTEN_FDNAMES apart from an unset one.
        .arg(names.map_or("-".to_string(), |n| format!("={n}")))
        .arg(binary())
        .arg("-f")
        .arg(&d.config)
        .arg("-p")
        .arg(&d.pid_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Waits for a daemon that must fail at startup; its stderr.
fn startup_failure(mut child: std::process::Child) -> String {
    let st = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!st.success(), "started: {err}");
    err
}

#[test]
fn socket_activation_serves_through_passed_fds() {
    // The passed sockets live elsewhere than the config's unix_sock_dir,
    // so only activation can make them work.
    let mut d = Daemon::prepare("");
    let elsewhere = d.dir.join("activated");
    fs::create_dir_all(&elsewhere).unwrap();
    let (rw, ro, admin) = (
        elsewhere.join("rw"),
        elsewhere.join("ro"),
        elsewhere.join("admin"),
    );
    d.child = Some(activate(
        &d,
        &[
            ("virtvzd.socket", &rw),
            ("virtvzd-ro.socket", &ro),
            ("virtvzd-admin.socket", &admin),
        ],
    ));
    wait_until("pid file", Duration::from_secs(20), || d.pid_file.exists());
    let out = virsh(
        &format!("vz:///system?socket={}", rw.display()),
        &["hostname"],
    );
    out.expect_ok();
    let out = virsh(
        &format!("vz:///system?socket={}", ro.display()),
        &["-r", "nodeinfo"],
    );
    out.expect_ok();
    // It created none of its own sockets.
    assert!(!d.rw().exists());
    assert!(d.stop().success());
}

#[test]
fn socket_activation_with_bad_variables_fails_clearly() {
    let d = Daemon::prepare("");
    let sock = d.dir.join("x").display().to_string();
    let both = format!("{sock},{}", d.dir.join("y").display());
    for (paths, fds, names, why) in [
        (
            sock.clone(),
            None,
            Some("bogus.socket"),
            "socket activation: unknown LISTEN_FDNAMES entry 'bogus.socket' for fd 3; expected virtvzd.socket, virtvzd-ro.socket or virtvzd-admin.socket",
        ),
        (
            both.clone(),
            None,
            Some("virtvzd.socket"),
            "socket activation: expecting 2 fd names in LISTEN_FDNAMES but got 1",
        ),
        (
            sock.clone(),
            None,
            None,
            "socket activation: LISTEN_FDNAMES is missing (needs systemd 227 or later)",
        ),
        (
            sock.clone(),
            Some("two"),
            Some("virtvzd.socket"),
            "socket activation: invalid LISTEN_FDS 'two'",
        ),
        (
            format!("file:{}", d.dir.join("plain").display()),
            None,
            Some("virtvzd.socket"),
            "socket activation: fd 3 is not an open socket",
        ),
    ] {
        let _ = fs::remove_file(d.dir.join("x"));
        let _ = fs::remove_file(d.dir.join("y"));
        let err = startup_failure(activate_raw(&d, &paths, fds, names));
        assert_eq!(err.trim(), format!("virtvzd: {why}"), "{names:?}");
        // Nothing created, nothing left.
        assert!(!d.pid_file.exists() && !d.rw().exists());
    }
}

#[test]
fn systemd_socket_activate_starts_it_on_the_first_connection() {
    // systemd's own activator: it binds the three sockets, waits for a
    // client, then execs the daemon with the sockets and their names.
    let mut d = Daemon::prepare("");
    let elsewhere = d.dir.join("activated");
    fs::create_dir_all(&elsewhere).unwrap();
    let (rw, ro, admin) = (
        elsewhere.join("rw"),
        elsewhere.join("ro"),
        elsewhere.join("admin"),
    );
    let mut cmd = Command::new("systemd-socket-activate");
    cmd.arg("-l")
        .arg(&rw)
        .arg("-l")
        .arg(&ro)
        .arg("-l")
        .arg(&admin)
        .arg("--fdname=virtvzd.socket:virtvzd-ro.socket:virtvzd-admin.socket")
        .arg(binary())
        .arg("-f")
        .arg(&d.config)
        .arg("-p")
        .arg(&d.pid_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    d.child = Some(cmd.spawn().unwrap());
    wait_until("the activator's sockets", Duration::from_secs(20), || {
        rw.exists() && ro.exists() && admin.exists()
    });
    assert!(!d.pid_file.exists(), "started before any client came");
    let out = virsh(
        &format!("vz:///system?socket={}", rw.display()),
        &["hostname"],
    );
    out.expect_ok();
    assert!(d.pid_file.exists());
    let out = virsh(
        &format!("vz:///system?socket={}", ro.display()),
        &["-r", "nodeinfo"],
    );
    out.expect_ok();
    let mut va = Command::new("virt-admin");
    va.arg("-c")
        .arg(format!("virtvzd:///system?socket={}", admin.display()))
        .arg("srv-list");
    assert!(run_cmd(&mut va, Duration::from_secs(60))
        .expect_ok()
        .contains("virtvzd"));
    // The daemon made no sockets of its own.
    assert!(!d.sock_dir.join("virtvzd-sock").exists());
    assert!(d.stop().success());
}

#[test]
fn daemon_mode_returns_when_serving() {
    let d = Daemon::prepare("");
    let out = run_cmd(&mut d.command(&["-d"]), Duration::from_secs(20));
    assert!(out.ok(), "{out:?}");
    // Serving the moment -d returns: no retry loop.
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let pid: u32 = fs::read_to_string(&d.pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    // Detached: its own session (and no terminal), standard streams on
    // /dev/null, working directory /.
    let field = |n: usize| -> i64 {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let rest = stat.rsplit_once(") ").unwrap().1;
        rest.split_whitespace().nth(n).unwrap().parse().unwrap()
    };
    let own_sid = fs::read_to_string("/proc/self/stat").unwrap();
    let own_sid: i64 = own_sid
        .rsplit_once(") ")
        .unwrap()
        .1
        .split_whitespace()
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    // Fields after the name: state ppid pgrp session tty_nr ...
    assert_ne!(field(3), own_sid, "still in the caller's session");
    assert_eq!(field(4), 0, "has a controlling terminal");
    for fd in 0..3 {
        assert_eq!(
            fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap(),
            Path::new("/dev/null"),
            "fd {fd}"
        );
    }
    assert_eq!(
        fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        Path::new("/")
    );
    drop(w);
    let _ = Command::new("kill").arg(pid.to_string()).status();
    wait_until("daemon exit", Duration::from_secs(20), || {
        exited(&pid.to_string())
    });
    assert!(!d.pid_file.exists());
}

#[test]
fn daemon_mode_keeps_relative_paths_meaning_what_they_meant() {
    // -f and -p relative to where the daemon was started; it then moves to
    // / and must still find both, also when SIGHUP re-reads the config.
    let d = Daemon::prepare("log_level = 2\n");
    let mut cmd = Command::new(binary());
    cmd.current_dir(d.dir.path())
        .args(["-d", "-f", "virtvzd.conf", "-p", "virtvzd.pid"]);
    let out = run_cmd(&mut cmd, Duration::from_secs(20));
    assert!(out.ok(), "{out:?}");
    let pid = fs::read_to_string(&d.pid_file).expect("pid file where -p said");
    let pid = pid.trim().to_string();
    assert_eq!(
        fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        Path::new("/")
    );
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    wait_until("reload logged", Duration::from_secs(10), || {
        d.log_text().contains("configuration reloaded")
    });
    assert!(!d.log_text().contains("keeping the current configuration"));
    stop_by_pid_file(&d);
}

#[test]
fn daemon_mode_with_broken_config_reports_the_reason() {
    let d = Daemon::prepare("max_workers = \"many\"\n");
    let out = run_cmd(&mut d.command(&["-d"]), Duration::from_secs(20));
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("max_workers"), "{out:?}");
    // A failure after the fork (the sockets are taken) also reaches us.
    let live = Daemon::start();
    let mut clash = Daemon::prepare("");
    fs::write(&clash.config, fs::read_to_string(&live.config).unwrap()).unwrap();
    let out = run_cmd(&mut clash.command(&["-d"]), Duration::from_secs(20));
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("in use"), "{out:?}");
    clash.child = None;
}

#[test]
fn sighup_reloads_log_level_live_without_dropping_clients() {
    let d = Daemon::start_with(Setup {
        config: "log_level = 4\n",
        ..Setup::default()
    });
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let _: u64 = w.call(157, &()).unwrap();
    assert!(!d.log_text().contains("debug"), "{}", d.log_text());
    // Raise the level in the file and reload.
    let conf = fs::read_to_string(&d.config).unwrap();
    fs::write(&d.config, conf.replace("log_level = 4", "log_level = 1")).unwrap();
    d.signal("HUP");
    wait_until("reload logged", Duration::from_secs(10), || {
        d.log_text().contains("reloaded")
    });
    // The connected client is still served, and now its calls are logged
    // at debug level.
    let _: u64 = w.call(157, &()).unwrap();
    let mut w2 = Wire::connect(&d.rw());
    w2.open("vz:///system", 0);
    wait_until("debug logging", Duration::from_secs(10), || {
        d.log_text().contains("debug")
    });
    // A broken file on reload: logged, old config kept, still serving.
    fs::write(&d.config, "max_workers = 0\n").unwrap();
    d.signal("HUP");
    wait_until("reload failure logged", Duration::from_secs(10), || {
        d.log_text().contains("keeping the current configuration")
    });
    let _: u64 = w.call(157, &()).unwrap();
}

#[test]
fn sighup_applies_every_live_key_and_warns_about_the_rest() {
    let d = Daemon::start_with(Setup {
        config: "log_level = 3\n",
        env: &[("VIRTVZD_TEST_DELAY", "7=700")],
        ..Setup::default()
    });
    // A client connected across the reloads, served after each.
    let mut held = Wire::connect(&d.rw());
    held.open("vz:///system", 0);
    let new_log = d.dir.join("after-reload.log");
    let conf = fs::read_to_string(&d.config).unwrap();
    let ours = format!("log_outputs = \"1:file:{}\"", d.log.display());
    let reloaded = conf
        .replace(
            &ours,
            &format!("log_outputs = \"1:file:{}\"", new_log.display()),
        )
        .replace("log_level = 3", "log_level = 2")
        + "log_filters = \"1:rpc 4:admin\"\n\
           max_clients = 7\nmax_anonymous_clients = 3\n\
           min_workers = 2\nmax_workers = 9\nprio_workers = 3\nmax_client_requests = 1\n\
           admin_min_workers = 1\nadmin_max_workers = 4\nadmin_max_clients = 6\n\
           admin_max_client_requests = 2\n\
           keepalive_interval = 1\nkeepalive_count = 2\n\
           max_queued_clients = 10\nvz_job_timeout = 9\n";
    fs::write(&d.config, reloaded).unwrap();
    d.signal("HUP");
    wait_until(
        "reload logged to the new output",
        Duration::from_secs(10),
        || fs::read_to_string(&new_log).is_ok_and(|t| t.contains("configuration reloaded")),
    );
    let after = fs::read_to_string(&new_log).unwrap();
    for key in ["max_queued_clients", "vz_job_timeout"] {
        assert!(
            after.contains(&format!(
                "{key} changed; it takes effect when the daemon is restarted"
            )),
            "{key}: {after}"
        );
    }
    let _: u64 = held.call(157, &()).unwrap();

    // Pools and limits, as virt-admin sees them.
    let t = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]).stdout;
    assert_eq!(
        (
            field(&t, "minWorkers"),
            field(&t, "maxWorkers"),
            field(&t, "prioWorkers")
        ),
        ("2".into(), "9".into(), "3".into()),
        "{t}"
    );
    let t = virt_admin(&d, &["srv-threadpool-info", "admin"]).stdout;
    assert_eq!(
        (field(&t, "minWorkers"), field(&t, "maxWorkers")),
        ("1".into(), "4".into())
    );
    let t = virt_admin(&d, &["srv-clients-info", "virtvzd"]).stdout;
    assert_eq!(
        (field(&t, "nclients_max"), field(&t, "nclients_unauth_max")),
        ("7".into(), "3".into())
    );
    let t = virt_admin(&d, &["srv-clients-info", "admin"]).stdout;
    assert_eq!(field(&t, "nclients_max"), "6");
    // Logging: filters and outputs in force, and what they let through.
    assert!(virt_admin(&d, &["daemon-log-filters"])
        .stdout
        .contains("1:rpc 4:admin"));
    assert!(virt_admin(&d, &["daemon-log-outputs"])
        .stdout
        .contains(&format!("1:file:{}", new_log.display())));
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    drop(w);
    wait_until("rpc debug lines", Duration::from_secs(10), || {
        fs::read_to_string(&new_log).is_ok_and(|t| t.contains("debug : rpc."))
    });
    // max_client_requests = 1: a slow call and a fast one come back in
    // order (with room for more, the fast one overtakes).
    let slow = held.send_call(REMOTE, 7, &[]);
    let fast = held.send_call(REMOTE, 157, &[]);
    assert_eq!(held.recv_reply().header.serial, slow);
    assert_eq!(held.recv_reply().header.serial, fast);
    // keepalive_interval = 1, keepalive_count = 2: a silent client that
    // asked for keepalive gets two PINGs and is dropped (with the old 5 s
    // × 5 it would still be connected when this read gives up).
    let mut silent = Wire::connect(&d.rw());
    let _: Vec<i32> = silent.call(66, &()).unwrap();
    assert_eq!(silent.call::<_, i32>(60, &10i32).unwrap(), 1);
    let mut pings = 0;
    while let Ok(p) = silent.recv() {
        assert!(p.is_keepalive() && p.header.proc_ == 1, "{p:?}");
        pings += 1;
    }
    assert_eq!(pings, 2);
    // The held client answered nothing either, but never asked for
    // keepalive: it is still there.
    let _: u64 = held.call(157, &()).unwrap();

    // A file that no longer loads: logged, and everything above stays.
    fs::write(&d.config, "max_workers = \"many\"\n").unwrap();
    d.signal("HUP");
    wait_until("reload failure logged", Duration::from_secs(10), || {
        fs::read_to_string(&new_log).is_ok_and(|t| {
            t.contains("reload failed, keeping the current configuration")
                && t.contains("max_workers: must be an integer")
        })
    });
    let t = virt_admin(&d, &["srv-threadpool-info", "virtvzd"]).stdout;
    assert_eq!(field(&t, "maxWorkers"), "9");
    assert!(virt_admin(&d, &["daemon-log-filters"])
        .stdout
        .contains("1:rpc 4:admin"));
    let _: u64 = held.call(157, &()).unwrap();
}

#[test]
fn timeout_waits_for_the_last_client() {
    let mut d = Daemon::start_with(Setup {
        args: &["--timeout", "2"],
        ..Setup::default()
    });
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        d.child.as_mut().unwrap().try_wait().unwrap().is_none(),
        "exited with a client connected"
    );
    let _: u64 = w.call(157, &()).unwrap();
    drop(w);
    let left = std::time::Instant::now();
    let st = d.wait_exit(Duration::from_secs(15));
    // The two seconds count from the moment the client left (a loaded
    // machine can only make the exit later, never earlier).
    assert!(
        left.elapsed() >= Duration::from_millis(1800),
        "exited {:?} after the last client left",
        left.elapsed()
    );
    assert!(st.success(), "{st}");
    for p in [d.rw(), d.ro(), d.admin(), d.pid_file.clone()] {
        assert!(!p.exists(), "{p:?} left behind");
    }
}

#[test]
fn timeout_counts_admin_clients_and_restarts_with_each_one() {
    let mut d = Daemon::start_with(Setup {
        args: &["--timeout", "3"],
        ..Setup::default()
    });
    let alive = |d: &mut Daemon| d.child.as_mut().unwrap().try_wait().unwrap().is_none();
    std::thread::sleep(Duration::from_secs(2));
    // A bare admin connection holds the daemon up too, past the timeout.
    let admin = Wire::connect(&d.admin());
    std::thread::sleep(Duration::from_secs(4));
    assert!(alive(&mut d), "exited with an admin client connected");
    drop(admin);
    // A short visit 2.5 s later starts the count again: idle time before
    // it does not add up with idle time after it.
    std::thread::sleep(Duration::from_millis(2500));
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    drop(w);
    let left = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(alive(&mut d), "the visit did not restart the count");
    let st = d.wait_exit(Duration::from_secs(15));
    assert!(
        left.elapsed() >= Duration::from_millis(2800),
        "{:?}",
        left.elapsed()
    );
    assert!(st.success(), "{st}");
    assert!(!d.pid_file.exists() && !d.rw().exists() && !d.admin().exists());
}

/// `etc/<script>` as `make install` writes it: the binary in its build
/// directory, the pid file and the defaults file in `dir`.
fn installed_script(script: &str, dir: &Path) -> std::path::PathBuf {
    let text = fs::read_to_string(source_dir().join("etc").join(script)).unwrap();
    let bin_dir = binary().parent().unwrap().display().to_string();
    let text = text
        .replace("@SBINDIR@", &bin_dir)
        .replace("@RUNSTATEDIR@", &dir.display().to_string())
        .replace("@DEFAULTDIR@", &dir.display().to_string());
    assert!(!text.contains('@'), "unsubstituted placeholder in {script}");
    let path = dir.join(script.replace('/', "-"));
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn init_script_starts_reports_reloads_and_stops() {
    let d = Daemon::prepare("log_level = 2\n");
    // What an administrator puts in /etc/default/virtvzd.
    fs::write(
        d.dir.join("virtvzd"),
        format!("VIRTVZD_ARGS=\"-f {}\"\n", d.config.display()),
    )
    .unwrap();
    let script = installed_script("init.d/virtvzd", d.dir.path());
    let pid_file = d.dir.join("virtvzd.pid");
    let run = |action: &str| {
        let mut cmd = Command::new("sh");
        cmd.arg(&script).arg(action);
        run_cmd(&mut cmd, Duration::from_secs(60))
    };
    assert_eq!(run("status").code, Some(3), "not running yet");
    run("start").expect_ok();
    d.virsh(&["hostname"]).expect_ok();
    let pid = fs::read_to_string(&pid_file).unwrap().trim().to_string();
    let status = run("status");
    assert_eq!(status.code, Some(0));
    assert!(
        status.stdout.contains(&format!("running (pid {pid})")),
        "{status:?}"
    );
    // A second start leaves the running daemon alone.
    assert!(run("start").expect_ok().contains("already running"));
    assert_eq!(fs::read_to_string(&pid_file).unwrap().trim(), pid);
    run("reload").expect_ok();
    wait_until("reload done", Duration::from_secs(10), || {
        d.log_text().contains("configuration reloaded")
    });
    d.virsh(&["hostname"]).expect_ok();
    run("stop").expect_ok();
    assert!(exited(&pid));
    assert!(!d.rw().exists() && !pid_file.exists());
    assert_eq!(run("status").code, Some(3));
    assert!(run("stop").expect_ok().contains("not running"));
    // A daemon killed behind the script's back: "dead" while its pid file
    // remains, and a start takes its stale files over.
    run("start").expect_ok();
    let pid = fs::read_to_string(&pid_file).unwrap().trim().to_string();
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap()
        .success());
    wait_until("killed", Duration::from_secs(20), || exited(&pid));
    let status = run("status");
    assert_eq!(status.code, Some(1), "{status:?}");
    assert!(status.stdout.contains("dead, but"), "{status:?}");
    // Nor does another program that took the dead daemon's pid count.
    let mut other = Spawned(Command::new("sleep").arg("60").spawn().unwrap());
    fs::write(&pid_file, format!("{}\n", other.0.id())).unwrap();
    assert_eq!(run("status").code, Some(1));
    let _ = other.0.kill();
    run("start").expect_ok();
    d.virsh(&["hostname"]).expect_ok();
    run("stop").expect_ok();
}

#[test]
fn init_script_kills_a_daemon_that_outlives_the_stop_timeout() {
    // A call blocked for a minute holds a stopping daemon for its 15 s
    // grace; with a stop timeout of 1 s the script must SIGKILL it.
    let d = Daemon::prepare("");
    fs::write(
        d.dir.join("virtvzd"),
        format!(
            "VIRTVZD_ARGS=\"-f {}\"\nVIRTVZD_STOP_TIMEOUT=1\n",
            d.config.display()
        ),
    )
    .unwrap();
    let script = installed_script("init.d/virtvzd", d.dir.path());
    let run = |action: &str| {
        let mut cmd = Command::new("sh");
        cmd.arg(&script)
            .arg(action)
            .env("VIRTVZD_TEST_DELAY", "7=60000");
        run_cmd(&mut cmd, Duration::from_secs(60))
    };
    run("start").expect_ok();
    let pid = fs::read_to_string(d.dir.join("virtvzd.pid")).unwrap();
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    w.send_call(REMOTE, 7, &[]);
    let out = run("stop");
    assert!(
        out.expect_ok()
            .contains("still running after 1s: sending SIGKILL"),
        "{out:?}"
    );
    assert!(exited(&pid));
    // The killed daemon's sockets are stale now; a start replaces them.
    run("start").expect_ok();
    d.virsh(&["hostname"]).expect_ok();
    let out = run("stop");
    assert!(!out.expect_ok().contains("SIGKILL"), "{out:?}");
}

#[test]
fn openrc_script_starts_reloads_and_stops_with_its_retry() {
    // openrc-run's work done by hand with the start-stop-daemon it drives
    // (Debian's has the same --retry schedule syntax): the script's
    // command, command_args, pidfile and retry must make a working service,
    // and its stop timeout must really apply (libvirt's script sets one
    // variable and reads another).
    let d = Daemon::prepare("log_level = 2\n");
    fs::write(
        d.dir.join("virtvzd"),
        format!(
            "VIRTVZD_ARGS=\"-f {}\"\nVIRTVZD_STOP_TIMEOUT=1\n",
            d.config.display()
        ),
    )
    .unwrap();
    let script = installed_script("openrc/virtvzd", d.dir.path());
    // OpenRC's start-stop-daemon sends a signal with --signal alone;
    // Debian's needs --stop with it.
    let shim_dir = d.dir.join("shim");
    fs::create_dir_all(&shim_dir).unwrap();
    let shim = shim_dir.join("start-stop-daemon");
    fs::write(
        &shim,
        "#!/bin/sh\ncase \" $* \" in *' --start '*|*' --stop '*) ;; *' --signal '*) set -- --stop \"$@\" ;; esac\n\
         exec /usr/sbin/start-stop-daemon \"$@\"\n",
    )
    .unwrap();
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
    let first = fs::read_to_string(&script).unwrap();
    assert!(first.starts_with("#!/sbin/openrc-run\n"));
    let openrc = |action: &str| {
        let body = match action {
            "start" => "start-stop-daemon --start --exec \"$command\" --pidfile \"$pidfile\" -- $command_args",
            "stop" => "start-stop-daemon --stop --exec \"$command\" --pidfile \"$pidfile\" --retry \"$retry\"",
            "reload" => "reload",
            other => panic!("{other}"),
        };
        let mut cmd = Command::new("sh");
        cmd.arg("-ec")
            .arg(format!(
                "ebegin() {{ echo \"* $*\"; }}\neend() {{ return \"$1\"; }}\n. {}\necho \"retry=$retry\"\n{body}",
                script.display()
            ))
            .env("PATH", format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", shim_dir.display()))
            .env("VIRTVZD_TEST_DELAY", "7=60000");
        run_cmd(&mut cmd, Duration::from_secs(60))
    };
    let out = openrc("start");
    assert!(out.expect_ok().contains("retry=TERM/1/KILL/5"), "{out:?}");
    let pid = fs::read_to_string(d.dir.join("virtvzd.pid")).unwrap();
    d.virsh(&["hostname"]).expect_ok();
    openrc("reload").expect_ok();
    wait_until("reload done", Duration::from_secs(10), || {
        d.log_text().contains("configuration reloaded")
    });
    // Held up by a blocked call, the daemon is killed after the 1 s the
    // defaults file asked for (it would otherwise take its 15 s grace).
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    w.send_call(REMOTE, 7, &[]);
    std::thread::sleep(Duration::from_millis(200));
    openrc("stop").expect_ok();
    assert!(exited(&pid));
    assert!(
        !d.log_text().contains("virtvzd stopped"),
        "it stopped by itself: the KILL never came"
    );
}

#[test]
fn make_install_and_uninstall_with_destdir() {
    let dest = TempDir::new("destdir");
    let make = |target: &str, vars: &[&str]| {
        let mut cmd = Command::new("make");
        cmd.current_dir(source_dir())
            .arg(target)
            .arg(format!("DESTDIR={}", dest.path().display()))
            .arg(format!("VIRTVZD_BINARY={}", binary().display()))
            .args(vars);
        run_cmd(&mut cmd, Duration::from_secs(600))
    };
    // Every file, its mode, and no placeholder left in the text ones.
    let layout = |files: &[(&str, u32)]| {
        for (f, mode) in files {
            let m = fs::metadata(dest.join(f)).unwrap_or_else(|_| panic!("{f} not installed"));
            assert_eq!(m.permissions().mode() & 0o7777, *mode, "{f}");
            if !f.ends_with("sbin/virtvzd") {
                let text = fs::read_to_string(dest.join(f)).unwrap();
                assert!(
                    !text.contains("@SBINDIR@")
                        && !text.contains("@RUNSTATEDIR@")
                        && !text.contains("@DEFAULTDIR@")
                        && !text.contains("@SYSCONFDIR@"),
                    "{f}"
                );
            }
        }
    };
    let read = |f: &str| fs::read_to_string(dest.join(f)).unwrap();

    // The defaults.
    make("install", &[]).expect_ok();
    let defaults = [
        ("usr/sbin/virtvzd", 0o755),
        ("etc/libvirt/virtvzd.conf", 0o644),
        ("usr/lib/systemd/system/virtvzd.service", 0o644),
        ("usr/lib/systemd/system/virtvzd.socket", 0o644),
        ("usr/lib/systemd/system/virtvzd-ro.socket", 0o644),
        ("usr/lib/systemd/system/virtvzd-admin.socket", 0o644),
        ("etc/init.d/virtvzd", 0o755),
        ("etc/default/virtvzd", 0o644),
        ("usr/share/man/man8/virtvzd.8", 0o644),
    ];
    layout(&defaults);
    assert_eq!(
        fs::read(dest.join("usr/sbin/virtvzd")).unwrap(),
        fs::read(binary()).unwrap()
    );
    let service = read("usr/lib/systemd/system/virtvzd.service");
    assert!(
        service.contains("ExecStart=/usr/sbin/virtvzd $VIRTVZD_ARGS"),
        "{service}"
    );
    assert!(
        service.contains("EnvironmentFile=-/etc/default/virtvzd"),
        "{service}"
    );
    assert!(read("usr/lib/systemd/system/virtvzd.socket")
        .contains("ListenStream=/run/libvirt/virtvzd-sock\n"));
    assert!(read("etc/init.d/virtvzd").contains("${_bin:-/usr/sbin/virtvzd}"));
    assert!(read("etc/init.d/virtvzd").starts_with("#!/bin/sh\n"));
    assert_eq!(
        read("etc/libvirt/virtvzd.conf"),
        fs::read_to_string(source_dir().join("etc/virtvzd.conf")).unwrap()
    );
    make("uninstall", &[]).expect_ok();
    for (f, _) in defaults {
        assert!(!dest.join(f).exists(), "{f} left after uninstall");
    }

    // Every directory variable, and the OpenRC script instead of SysV.
    let vars = [
        "PREFIX=/opt/vz",
        "SYSCONFDIR=/opt/vz/etc",
        "RUNSTATEDIR=/var/run",
        "LOCALSTATEDIR=/srv/state",
        "UNITDIR=/opt/vz/units",
        "MANDIR=/opt/vz/man",
        "INITDIR=/opt/vz/etc/rc.d",
        "DEFAULTDIR=/opt/vz/etc/conf.d",
        "OPENRC=1",
    ];
    make("install", &vars).expect_ok();
    let moved = [
        ("opt/vz/sbin/virtvzd", 0o755),
        ("opt/vz/etc/libvirt/virtvzd.conf", 0o644),
        ("opt/vz/units/virtvzd.service", 0o644),
        ("opt/vz/units/virtvzd.socket", 0o644),
        ("opt/vz/units/virtvzd-ro.socket", 0o644),
        ("opt/vz/units/virtvzd-admin.socket", 0o644),
        ("opt/vz/etc/rc.d/virtvzd", 0o755),
        ("opt/vz/etc/conf.d/virtvzd", 0o644),
        ("opt/vz/man/man8/virtvzd.8", 0o644),
    ];
    layout(&moved);
    let openrc = read("opt/vz/etc/rc.d/virtvzd");
    assert!(openrc.starts_with("#!/sbin/openrc-run\n"), "{openrc}");
    assert!(openrc.contains("command=\"/opt/vz/sbin/virtvzd\""));
    assert!(openrc.contains("pidfile=\"/var/run/virtvzd.pid\""));
    let service = read("opt/vz/units/virtvzd.service");
    assert!(service.contains("ExecStart=/opt/vz/sbin/virtvzd $VIRTVZD_ARGS"));
    assert!(service.contains("EnvironmentFile=-/opt/vz/etc/conf.d/virtvzd"));
    assert!(read("opt/vz/units/virtvzd-admin.socket")
        .contains("ListenStream=/var/run/libvirt/virtvzd-admin-sock\n"));
    // The manual page and the config file name the moved paths.
    let man = read("opt/vz/man/man8/virtvzd.8");
    for p in [
        "/opt/vz/etc/libvirt/virtvzd.conf",
        "/var/run/libvirt/virtvzd-sock",
        "/var/run/virtvzd.pid",
        "/srv/state/lib/libvirt/virtvzd",
        "/srv/state/log/libvirt/virtvzd.log",
    ] {
        assert!(man.contains(p), "{p} not in the installed manual page");
    }
    assert!(read("opt/vz/etc/libvirt/virtvzd.conf").contains("/srv/state/lib/libvirt/virtvzd"));
    make("uninstall", &vars).expect_ok();
    for (f, _) in moved {
        assert!(!dest.join(f).exists(), "{f} left after uninstall");
    }
}

#[test]
fn manual_page_renders_cleanly_and_documents_every_option() {
    let page = source_dir().join("man8/virtvzd.8");
    let mut cmd = Command::new("man");
    cmd.arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .env_remove("MAN_KEEP_FORMATTING");
    let out = run_cmd(&mut cmd, Duration::from_secs(60));
    assert_eq!(out.stderr, "", "man -l complained");
    // Overstrike bold and underline (c\x08c, _\x08c) off, words joined
    // across man's line breaks and hyphenations.
    let mut plain = String::new();
    for c in out.expect_ok().chars() {
        if c == '\x08' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    let flat = plain
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("\u{2010} ", "");
    for must in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "SIGNALS",
        "FILES",
        "LOGGING",
        "EXIT STATUS",
        "--help",
        "--daemon",
        "--config",
        "--pid-file",
        "--timeout",
        "--verbose",
        "--version",
        "SIGHUP",
        "SIGTERM",
        "/etc/libvirt/virtvzd.conf",
        "/run/libvirt/virtvzd-sock-ro",
        "/run/libvirt/virtvzd-admin-sock",
        "/run/virtvzd.pid",
        "$XDG_RUNTIME_DIR/libvirt/virtvzd-sock",
        "$XDG_CONFIG_HOME/libvirt/virtvzd.conf",
        "virtvzd (libvirt) 9.0.0",
        "vz:///session",
    ] {
        assert!(flat.contains(must), "{must} missing from the manual page");
    }
    // groff's own warnings (all of them) are none.
    let mut cmd = Command::new("groff");
    cmd.args(["-man", "-ww", "-z"]).arg(&page);
    let out = run_cmd(&mut cmd, Duration::from_secs(60));
    assert!(out.ok() && out.stderr.is_empty(), "{out:?}");
}

#[test]
fn notifies_ready_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let mut d = Daemon::prepare("");
    let sock_path = d.dir.join("notify");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut cmd = d.command(&[]);
    cmd.env("NOTIFY_SOCKET", &sock_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    d.child = Some(cmd.spawn().unwrap());
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("READY=1"));
    // Ready means serving.
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    d.signal("TERM");
    let n = sock.recv(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"));
    assert!(d.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn sigint_and_sigquit_stop_it_cleanly_too() {
    for sig in ["INT", "QUIT"] {
        let mut d = Daemon::start();
        d.virsh(&["hostname"]).expect_ok();
        d.signal(sig);
        let st = d.wait_exit(Duration::from_secs(20));
        assert!(st.success(), "{sig}: {st}");
        for p in [d.rw(), d.ro(), d.admin(), d.pid_file.clone()] {
            assert!(!p.exists(), "{sig}: {p:?} left behind");
        }
    }
}

#[test]
fn sigterm_lets_calls_in_flight_finish() {
    let mut d = Daemon::start_with(Setup {
        env: &[("VIRTVZD_TEST_DELAY", "7=1500")],
        ..Setup::default()
    });
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let serial = w.send_call(REMOTE, 7, &[]);
    std::thread::sleep(Duration::from_millis(300));
    d.signal("TERM");
    // No new client gets in while the call finishes.
    wait_until("no longer accepting", Duration::from_secs(10), || {
        std::os::unix::net::UnixStream::connect(d.rw()).is_err()
    });
    let r = w.recv_reply();
    assert_eq!(r.header.serial, serial);
    assert!(r.error().is_none(), "the call in flight was cut off");
    assert!(w.closed_by_server());
    assert!(d.wait_exit(Duration::from_secs(20)).success());
    assert!(!d.rw().exists() && !d.pid_file.exists());
}

#[test]
fn sigterm_waits_for_a_stuck_call_only_so_long() {
    // A call stuck for a minute: the daemon gives it its 15 s grace, then
    // closes the client and exits 0 all the same.
    let mut d = Daemon::start_with(Setup {
        env: &[("VIRTVZD_TEST_DELAY", "7=60000")],
        ..Setup::default()
    });
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    w.send_call(REMOTE, 7, &[]);
    std::thread::sleep(Duration::from_millis(300));
    d.signal("TERM");
    w.s.set_read_timeout(Some(Duration::from_secs(50))).unwrap();
    assert!(w.closed_by_server(), "the stuck client was never closed");
    assert!(d.wait_exit(Duration::from_secs(50)).success());
    assert!(!d.rw().exists() && !d.pid_file.exists());
}

#[test]
fn verbose_and_environment_control_logging() {
    // -v: informational messages appear.
    let mut d = Daemon::start_with(Setup {
        args: &["-v"],
        ..Setup::default()
    });
    wait_until("info line", Duration::from_secs(10), || {
        d.log_text()
            .contains("info : daemon : virtvzd 9.0.0 serving vz:///system")
    });
    d.stop();
    // Without it, they do not.
    let mut quiet = Daemon::start();
    quiet.stop();
    assert!(!quiet.log_text().contains("info :"), "{}", quiet.log_text());
    // LIBVIRT_LOG_FILTERS overrides the config's filters: rpc debug lines
    // at the default warning level.
    let mut filtered = Daemon::start_with(Setup {
        config: "log_filters = \"4:rpc\"\n",
        env: &[("LIBVIRT_LOG_FILTERS", "1:rpc")],
        ..Setup::default()
    });
    filtered.virsh(&["hostname"]).expect_ok();
    wait_until("rpc debug lines", Duration::from_secs(10), || {
        filtered.log_text().contains("debug : rpc.")
    });
    assert!(
        !filtered.log_text().contains("debug : daemon"),
        "{}",
        filtered.log_text()
    );
    filtered.stop();
    // LIBVIRT_LOG_OUTPUTS and LIBVIRT_DEBUG override the config file.
    let other = TempDir::new("envlog");
    let log = other.join("env.log");
    let spec = format!("1:file:{}", log.display());
    let mut env_d = Daemon::start_with(Setup {
        env: &[("LIBVIRT_LOG_OUTPUTS", &spec), ("LIBVIRT_DEBUG", "1")],
        ..Setup::default()
    });
    wait_until(
        "debug lines in the environment's file",
        Duration::from_secs(10),
        || fs::read_to_string(&log).is_ok_and(|t| t.contains("debug :") || t.contains("info :")),
    );
    env_d.stop();
    assert!(
        env_d.log_text().is_empty(),
        "config output used: {}",
        env_d.log_text()
    );
}

/// `virtvzd ARGS` in a private mount namespace prepared by the shell
/// commands `setup` (the host's /dev, /run, /var/log stay untouched).
fn in_private_mounts(setup: &str, d: &Daemon, args: &[&str]) -> Command {
    let cmd = d.command(args);
    let program = cmd.get_program().to_owned();
    let argv: Vec<std::ffi::OsString> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["-m", "--propagation", "private", "sh", "-ec"])
        .arg(format!("{setup}\nexec \"$@\""))
        .arg("sh")
        .arg(program)
        .args(argv);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
}

/// A config like the harness's, with `outputs` (or none) as log_outputs.
fn with_log_outputs(d: &Daemon, outputs: Option<&str>) {
    let conf = fs::read_to_string(&d.config).unwrap();
    let ours = format!("log_outputs = \"1:file:{}\"", d.log.display());
    assert!(conf.contains(&ours));
    let line = outputs
        .map(|o| format!("log_outputs = \"{o}\""))
        .unwrap_or_default();
    fs::write(&d.config, conf.replace(&ours, &line)).unwrap();
}

/// Datagrams received on `sock` until one contains `needle`.
fn datagrams_until(sock: &std::os::unix::net::UnixDatagram, needle: &str) -> Vec<String> {
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no datagram with {needle:?} ({e}); got {got:?}"));
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        if got.last().is_some_and(|m| m.contains(needle)) {
            return got;
        }
    }
}

#[test]
fn syslog_output_goes_to_the_local_socket() {
    use std::os::unix::net::UnixDatagram;
    let mut d = Daemon::prepare("");
    with_log_outputs(&d, Some("2:syslog:vvz-test"));
    let sock_path = d.dir.join("syslog.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let setup = format!(
        "mount -t tmpfs none /dev\nmknod -m 666 /dev/null c 1 3\nln -s {} /dev/log",
        sock_path.display()
    );
    let mut cmd = in_private_mounts(&setup, &d, &["-v"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    d.child = Some(cmd.spawn().unwrap());
    let got = datagrams_until(&sock, "serving vz:///system");
    let line = got.last().unwrap();
    // facility daemon (3) × 8 + info (6); RFC 3164 header; tag and pid.
    assert!(line.starts_with("<30>"), "{line}");
    assert!(
        line.contains(&format!(
            " vvz-test[{}]: daemon : virtvzd 9.0.0 serving vz:///system",
            d.pid()
        )),
        "{line}"
    );
    // A warning goes out at its own severity (daemon.warning = 28).
    fs::write(
        &d.config,
        fs::read_to_string(&d.config).unwrap() + "frobnicate = 1\n",
    )
    .unwrap();
    d.signal("HUP");
    let got = datagrams_until(&sock, "frobnicate");
    assert!(got.last().unwrap().starts_with("<28>"), "{got:?}");
    assert!(d.stop().success());
}

#[test]
fn default_log_outputs_are_libvirts() {
    use std::os::unix::net::UnixDatagram;
    // No journal, in the background: root's file under /var/log/libvirt.
    let d = Daemon::prepare("");
    with_log_outputs(&d, None);
    let varlog = d.dir.join("varlog");
    fs::create_dir_all(&varlog).unwrap();
    let setup = format!(
        "mount -t tmpfs none /run\nmount --bind {} /var/log",
        varlog.display()
    );
    let out = run_cmd(
        &mut in_private_mounts(&setup, &d, &["-d", "-v"]),
        Duration::from_secs(30),
    );
    assert!(out.ok(), "{out:?}");
    let file = varlog.join("libvirt/virtvzd.log");
    wait_until("the default log file", Duration::from_secs(20), || {
        fs::read_to_string(&file).is_ok_and(|t| t.contains("info : daemon : virtvzd 9.0.0 serving"))
    });
    stop_by_pid_file(&d);

    // With a journal: the journal, in the background and when a service
    // manager starts it in the foreground (stdin is no terminal here).
    for args in [&["-d", "-v"][..], &["-v"][..]] {
        let mut d = Daemon::prepare("");
        with_log_outputs(&d, None);
        let sock_path = d.dir.join("journal.sock");
        let sock = UnixDatagram::bind(&sock_path).unwrap();
        let setup = format!(
            "mount -t tmpfs none /run\nmkdir -p /run/systemd/journal\nln -s {} /run/systemd/journal/socket",
            sock_path.display()
        );
        let mut cmd = in_private_mounts(&setup, &d, args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let got = datagrams_until(&sock, "serving vz:///system");
        let entry = got.last().unwrap();
        for field in [
            "MESSAGE=daemon : virtvzd 9.0.0 serving vz:///system\n",
            "PRIORITY=6\n",
            "SYSLOG_IDENTIFIER=virtvzd\n",
        ] {
            assert!(entry.contains(field), "{args:?}: {entry}");
        }
        if args.contains(&"-d") {
            assert!(child.wait().unwrap().success());
            stop_by_pid_file(&d);
        } else {
            d.child = Some(child);
            assert!(d.stop().success());
        }
    }
}

/// Stops a daemon that went into the background, by its pid file.
fn stop_by_pid_file(d: &Daemon) {
    let pid = fs::read_to_string(&d.pid_file).unwrap();
    let pid = pid.trim();
    assert!(Command::new("kill").arg(pid).status().unwrap().success());
    wait_until("daemon exit", Duration::from_secs(20), || exited(pid));
    assert!(!d.pid_file.exists());
}

#[test]
fn config_errors_name_file_line_and_key_and_touch_nothing() {
    // The harness writes three lines; the case under test is line 4.
    for (extra, error) in [
        ("max_workers = \"many\"", "max_workers: must be an integer"),
        ("max_clients = -1", "max_clients: must be at least 1"),
        (
            "keepalive_interval = 1.5",
            "keepalive_interval: must be an integer",
        ),
        (
            "log_filters = \"9:rpc\"",
            "log_filters: Invalid priority '9' for filter '9:rpc'",
        ),
        (
            "auth_unix_rw = \"polkit\"",
            "auth_unix_rw: \"polkit\" is not supported by virtvzd yet; use \"none\"",
        ),
    ] {
        let d = Daemon::prepare(extra);
        let out = run_cmd(&mut d.command(&[]), Duration::from_secs(20));
        assert_eq!(out.code, Some(1), "{extra}: {out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!("virtvzd: {}:4: {error}", d.config.display()),
            "{extra}"
        );
        for p in [&d.pid_file, &d.sock_dir, &d.log] {
            assert!(!p.exists(), "{extra}: {p:?} created");
        }
    }
    // A syntax error names the line too.
    let d = Daemon::prepare("max_workers = = 3");
    let out = run_cmd(&mut d.command(&[]), Duration::from_secs(20));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .starts_with(&format!("virtvzd: {}:4: syntax error", d.config.display())),
        "{out:?}"
    );
}

#[test]
fn unknown_keys_warn_and_libvirts_tcp_keys_load_quietly() {
    // What a libvirtd.conf-style file carries that this daemon has no use
    // for, in libvirt's syntax, and one key nobody knows.
    let mut d = Daemon::start_with(Setup {
        config: "listen_tls = 0\nlisten_tcp = 1\ntls_port = \"16514\"\ntcp_port = \"16509\"\n\
                 listen_addr = \"192.168.0.1\"\nauth_tcp = \"sasl\"\nauth_tls = \"none\"\n\
                 key_file = \"/etc/pki/libvirt/private/serverkey.pem\"\n\
                 tls_allowed_dn_list = [\"DN1\", \"DN2\"]\nkeepalive_required = 1\n\
                 sasl_allowed_username_list = [\"joe@EXAMPLE.COM\", \"fred@EXAMPLE.COM\" ]\n\
                 audit_level = 2\naudit_logging = 1\nfrobnicate = 1\n",
        ..Setup::default()
    });
    d.virsh(&["hostname"]).expect_ok();
    let warnings: Vec<String> = d
        .log_text()
        .lines()
        .filter(|l| l.contains("warning :"))
        .map(String::from)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].ends_with(&format!(
            "{}:17: unknown configuration key 'frobnicate' ignored",
            d.config.display()
        )),
        "{warnings:?}"
    );
    assert!(d.stop().success());
}

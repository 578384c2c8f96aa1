//! Starting the real `virtvzd` binary on private paths and driving it with
//! the real clients.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The daemon binary cargo built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_virtvzd"))
}

/// Root of the source tree (for etc/, Makefile, ...).
pub fn source_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn is_root() -> bool {
    std::env::var("USER").map(|u| u == "root").unwrap_or(false) || uid() == 0
}

fn uid() -> u32 {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(u32::MAX)
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let p = PathBuf::from(format!("/tmp/vvz-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        // World-traversable so an unprivileged test user can reach inside.
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, s: &str) -> PathBuf {
        self.0.join(s)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
    #[track_caller]
    pub fn expect_ok(&self) -> &str {
        assert!(self.ok(), "command failed: {self:?}");
        &self.stdout
    }
}

impl From<Output> for Out {
    fn from(o: Output) -> Out {
        Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs a command with a time limit; a hung client is a test failure,
/// not a hung test run.
pub fn run_cmd(cmd: &mut Command, limit: Duration) -> Out {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let deadline = Instant::now() + limit;
    loop {
        if let Some(_status) = child.try_wait().expect("wait") {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait");
            panic!(
                "{cmd:?} did not finish within {limit:?}: {:?}",
                Out::from(out)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output").into()
}

/// The environment variable that makes every daemon of the run drive its
/// host through the dlopen path: `vz_sdk = "system"` with
/// `vz_sdk_library` = this library (the embedded host built as
/// `libprlsdk_emu.so`, test/prlsdk-emu). `make check` runs the domain
/// suites a second time so.
pub const SDK_LIBRARY_ENV: &str = "VIRTVZD_TEST_SDK_LIBRARY";

/// The SDK library the daemons of this run load, if the run goes through
/// the dlopen path. A named library that is not there fails the run
/// loudly: a silent fall-back would test the wrong path.
pub fn sdk_library() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os(SDK_LIBRARY_ENV)?);
    assert!(
        p.is_absolute() && p.is_file(),
        "{SDK_LIBRARY_ENV}={} is not a library file (build it: cargo build --release \
         --manifest-path test/prlsdk-emu/Cargo.toml)",
        p.display()
    );
    Some(p)
}

/// A running daemon with its own config, sockets and pid file.
pub struct Daemon {
    pub dir: TempDir,
    pub child: Option<Child>,
    /// The standard error of a daemon that has exited (if it was piped).
    pub child_stderr: Option<std::process::ChildStderr>,
    pub sock_dir: PathBuf,
    pub pid_file: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    /// The embedded host's store.
    pub store: PathBuf,
    /// The log of the SDK library, when the daemon loads one.
    pub sdk_log: PathBuf,
    /// Whether the harness made it load the SDK library (`sdk_library`).
    pub through_library: bool,
}

/// How to start a daemon.
#[derive(Default)]
pub struct Setup<'a> {
    pub config: &'a str,
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
}

impl Daemon {
    /// Starts a daemon with an empty extra config.
    pub fn start() -> Daemon {
        Daemon::start_with(Setup::default())
    }

    /// Starts a daemon and waits until its read-write socket answers.
    pub fn start_with(setup: Setup) -> Daemon {
        let mut d = Daemon::prepare(setup.config);
        let mut cmd = d.command(setup.args);
        for (k, v) in setup.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        d.child = Some(cmd.spawn().expect("start virtvzd"));
        d.wait_ready();
        d
    }

    /// Dirs and a config file, but no process yet.
    pub fn prepare(extra_config: &str) -> Daemon {
        let dir = TempDir::new("d");
        let sock_dir = dir.join("run");
        let log = dir.join("virtvzd.log");
        let config = dir.join("virtvzd.conf");
        // The extra config may name its own store (TOML refuses a key
        // given twice).
        let (store, store_line) = match config_string(extra_config, "vz_embedded_dir") {
            Some(s) => (PathBuf::from(s), String::new()),
            None => {
                let s = dir.join("store");
                let line = format!("vz_embedded_dir = \"{}\"\n", s.display());
                (s, line)
            }
        };
        // Through the dlopen path unless the test chooses its SDK itself.
        let sdk_line = match sdk_library() {
            Some(lib) if !extra_config.contains("vz_sdk") => format!(
                "vz_sdk = \"system\"\nvz_sdk_library = \"{}\"\n",
                lib.display()
            ),
            _ => String::new(),
        };
        let through_library = !sdk_line.is_empty();
        fs::write(
            &config,
            format!(
                "unix_sock_dir = \"{}\"\n{store_line}{sdk_line}log_outputs = \"1:file:{}\"\n{extra_config}\n",
                sock_dir.display(),
                log.display(),
            ),
        )
        .expect("write config");
        Daemon {
            pid_file: dir.join("virtvzd.pid"),
            sdk_log: dir.join("prlsdk-emu.log"),
            through_library,
            store,
            sock_dir,
            config,
            log,
            dir,
            child: None,
            child_stderr: None,
        }
    }

    /// The command line that starts this daemon in the foreground.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary());
        cmd.arg("-f")
            .arg(&self.config)
            .arg("-p")
            .arg(&self.pid_file)
            .args(args)
            .env_remove("LIBVIRT_LOG_OUTPUTS")
            .env_remove("LIBVIRT_LOG_FILTERS")
            .env_remove("LIBVIRT_DEBUG")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("LISTEN_PID")
            .env_remove("PRLSDK_EMU_FAULTS")
            // What the embedded host built as a library reads (the daemon
            // passes it nothing); the built-in one takes vz_embedded_dir.
            .env("PRLSDK_EMU_DIR", &self.store)
            .env("PRLSDK_EMU_LOG", &self.sdk_log);
        cmd
    }

    pub fn rw(&self) -> PathBuf {
        self.sock_dir.join("virtvzd-sock")
    }
    pub fn ro(&self) -> PathBuf {
        self.sock_dir.join("virtvzd-sock-ro")
    }
    pub fn admin(&self) -> PathBuf {
        self.sock_dir.join("virtvzd-admin-sock")
    }

    /// The URI virsh uses for the read-write socket.
    pub fn uri(&self) -> String {
        format!("vz:///system?socket={}", self.rw().display())
    }

    /// The URI for the read-only socket.
    pub fn ro_uri(&self) -> String {
        format!("vz:///system?socket={}", self.ro().display())
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            // Through the library, ready also means proof that the host
            // is the loaded library, not the daemon's own embedded host
            // (the sockets listen before the SDK starts).
            let host_up = !self.through_library
                || fs::read_to_string(&self.sdk_log)
                    .is_ok_and(|l| l.contains("embedded host: serving the store"));
            if host_up && UnixStream::connect(self.rw()).is_ok() {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = c.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    panic!("virtvzd exited early ({status}): {err}");
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "virtvzd did not start listening on {}{}",
            self.rw().display(),
            if self.through_library {
                " through the SDK library"
            } else {
                ""
            }
        );
    }

    /// `virsh -c URI ARGS`.
    pub fn virsh(&self, args: &[&str]) -> Out {
        virsh(&self.uri(), args)
    }

    /// `virsh -r -c RO-URI ARGS`.
    pub fn virsh_ro(&self, args: &[&str]) -> Out {
        let uri = self.ro_uri();
        let mut a = vec!["-r"];
        a.extend_from_slice(args);
        virsh(&uri, &a)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).expect("daemon running")
    }

    /// Sends a signal to the daemon.
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
    }

    /// Waits for the daemon to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("daemon running");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = child.try_wait().expect("wait") {
                self.child_stderr = child.stderr.take();
                self.child = None;
                return st;
            }
            if Instant::now() > deadline {
                panic!("virtvzd did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM and wait.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(20))
    }

    /// The daemon's log so far, and the SDK library's when it loads one
    /// (the embedded host logs there then).
    pub fn log_text(&self) -> String {
        let mut text = fs::read_to_string(&self.log).unwrap_or_default();
        text.push_str(&fs::read_to_string(&self.sdk_log).unwrap_or_default());
        text
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The string value of `key` in a TOML snippet (`key = "value"`).
fn config_string(config: &str, key: &str) -> Option<String> {
    config.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// `virsh -q -c URI ARGS` with its keepalive left at the defaults.
pub fn virsh(uri: &str, args: &[&str]) -> Out {
    let mut cmd = Command::new("virsh");
    cmd.arg("-c").arg(uri).args(args);
    cmd.env("LIBVIRT_DEFAULT_URI", uri);
    run_cmd(&mut cmd, Duration::from_secs(90))
}

/// Runs a python3-libvirt script with Debian's interpreter (the one that
/// has the `libvirt` module).
pub fn python(script: &str) -> Out {
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg("-c").arg(script);
    run_cmd(&mut cmd, Duration::from_secs(90))
}

/// Waits until `f` holds, or fails the test with `what`.
#[track_caller]
pub fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for: {what}");
}

/// A file of test/fixtures.
pub fn fixture(name: &str) -> String {
    source_dir()
        .join("test/fixtures")
        .join(name)
        .display()
        .to_string()
}

impl Daemon {
    /// Starts the daemon again on the same files (after a kill or stop).
    pub fn restart(&mut self) {
        let mut again = self.command(&[]);
        again
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        self.child = Some(again.spawn().expect("restart virtvzd"));
        self.wait_ready();
    }
}

/// Whether process `pid` has exited: gone, or a zombie that only waits for
/// its parent (init, for a daemon) to reap it — some container inits reap
/// late.
pub fn exited(pid: &str) -> bool {
    match fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// `virt-admin -c 'virtvzd:///system?socket=ADMIN-SOCKET' ARGS`.
pub fn virt_admin(d: &Daemon, args: &[&str]) -> Out {
    let uri = format!("virtvzd:///system?socket={}", d.admin().display());
    let mut cmd = Command::new("virt-admin");
    cmd.arg("-c").arg(uri).args(args);
    run_cmd(&mut cmd, Duration::from_secs(60))
}

/// The value printed for `name` in virt-admin's "name : value" lists.
pub fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// A client process that is killed if the test ends (or fails) first.
pub struct Spawned(pub Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The rest of the line that starts with `label` in virsh's
/// "Label:   value" output, trimmed.
pub fn labelled<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no '{label}' in {text}"))
}

/// `virsh ARGS` succeeds and prints exactly `want`.
#[track_caller]
pub fn says(d: &Daemon, args: &[&str], want: &str) {
    let out = d.virsh(args);
    assert!(out.ok(), "virsh {args:?}: {out:?}");
    assert_eq!(out.stdout, want, "virsh {args:?}");
}

/// `virsh ARGS` fails with exit status 1 and exactly `want` on stderr.
#[track_caller]
pub fn refuses(d: &Daemon, args: &[&str], want: &str) {
    let out = d.virsh(args);
    assert_eq!(out.code, Some(1), "virsh {args:?}: {out:?}");
    assert_eq!(out.stderr, want, "virsh {args:?}");
}

/// The start of a python3-libvirt script that receives events: libvirt's
/// default event loop, run on a thread of its own.
pub const PY_EVENT_LOOP: &str = "import libvirt, threading, time
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
";

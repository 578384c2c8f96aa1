//! The two daemons under test, started on private paths: virtvzd on its
//! embedded Virtuozzo host, and libvirt's libvirtd serving its test
//! driver, as an unprivileged user, with the same settings (`auth_unix_rw
//! = "none"`, every limit at libvirt's default).

use crate::wire::{procs, Conn};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Ours.
    Virtvzd,
    /// libvirt's.
    Libvirtd,
}

impl Kind {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Virtvzd => "virtvzd",
            Kind::Libvirtd => "libvirtd",
        }
    }

    /// The URI its clients open.
    pub fn uri(self) -> &'static str {
        match self {
            Kind::Virtvzd => "vz:///system",
            Kind::Libvirtd => "test:///default",
        }
    }

    /// A minimal guest definition it accepts.
    pub fn domain_xml(self, name: &str) -> String {
        let ty = match self {
            Kind::Virtvzd => "vz",
            Kind::Libvirtd => "test",
        };
        format!(
            "<domain type='{ty}'><name>{name}</name><memory unit='MiB'>512</memory>\
             <vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"
        )
    }
}

/// What the benchmark needs to start a daemon.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The virtvzd binary.
    pub virtvzd: PathBuf,
    /// The libvirtd binary.
    pub libvirtd: PathBuf,
    /// Scratch directory (sockets, configs, logs).
    pub scratch: PathBuf,
    /// Where virtvzd's embedded host keeps its guests.
    pub store: PathBuf,
}

/// A running daemon.
pub struct Daemon {
    /// Which one.
    pub kind: Kind,
    /// Its read-write socket.
    pub sock: PathBuf,
    child: Option<Child>,
}

/// The uid and gid libvirtd runs as when the benchmark is root (nobody).
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn dir(p: &Path) -> PathBuf {
    fs::create_dir_all(p).unwrap_or_else(|e| panic!("cannot create {}: {e}", p.display()));
    p.to_path_buf()
}

/// Gives a tree to the unprivileged user libvirtd runs as.
fn give_to_nobody(p: &Path) {
    if !is_root() {
        return;
    }
    let st = Command::new("chown")
        .args(["-R", &format!("{NOBODY}:{NOBODY}")])
        .arg(p)
        .status()
        .expect("chown");
    assert!(st.success(), "cannot chown {}", p.display());
}

impl Daemon {
    /// Starts a daemon; returns it with the time from exec to its first
    /// answered call (AUTH_LIST, CONNECT_OPEN, CONNECT_GET_LIB_VERSION).
    pub fn start(kind: Kind, setup: &Setup) -> (Daemon, Duration) {
        let (mut cmd, sock) = match kind {
            Kind::Virtvzd => virtvzd_command(setup),
            Kind::Libvirtd => libvirtd_command(setup),
        };
        let _ = fs::remove_file(&sock);
        let log = setup.scratch.join(format!("{}.log", kind.name()));
        let log = fs::File::create(&log).expect("log file");
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
        let t0 = Instant::now();
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", kind.name()));
        let mut d = Daemon {
            kind,
            sock,
            child: Some(child),
        };
        let deadline = t0 + Duration::from_secs(60);
        loop {
            if let Ok(mut c) = Conn::open(&d.sock, kind.uri()) {
                if c.call_raw(procs::CONNECT_GET_LIB_VERSION, &[]).is_ok() {
                    let elapsed = t0.elapsed();
                    let _ = c.call_raw(procs::CONNECT_CLOSE, &[]);
                    return (d, elapsed);
                }
            }
            if let Some(Ok(Some(st))) = d.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "{} exited at startup ({st}); see {}",
                    kind.name(),
                    setup.scratch.join(format!("{}.log", kind.name())).display()
                );
            }
            assert!(Instant::now() < deadline, "{} did not answer", kind.name());
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// A field of /proc/PID/status, in its own unit (kB for VmRSS).
    fn status_field(&self, field: &str) -> u64 {
        let text = fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Resident memory, KiB.
    pub fn rss_kib(&self) -> u64 {
        self.status_field("VmRSS:")
    }

    /// Threads.
    pub fn threads(&self) -> u64 {
        self.status_field("Threads:")
    }

    /// Puts every thread of the daemon on CPU 0 (`true`) or on every CPU.
    pub fn pin(&self, one_cpu: bool) {
        let Ok(tasks) = fs::read_dir(format!("/proc/{}/task", self.pid())) else {
            return;
        };
        for t in tasks.flatten() {
            if let Some(tid) = t.file_name().to_str().and_then(|s| s.parse().ok()) {
                set_affinity(tid, one_cpu);
            }
        }
    }

    /// SIGTERM, then waits for the exit: how long it took.
    pub fn stop(mut self) -> Duration {
        let Some(mut child) = self.child.take() else {
            return Duration::ZERO;
        };
        let t0 = Instant::now();
        // SAFETY: kill with a pid we spawned and have not reaped.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let _ = child.wait();
        t0.elapsed()
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

/// The CPUs the machine has online (whatever this thread's affinity).
pub fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// Puts thread `tid` (0: the calling thread) on CPU 0 or on every CPU.
pub fn set_affinity(tid: libc::pid_t, one_cpu: bool) {
    let cpus = online_cpus();
    // SAFETY: cpu_set_t is plain data; the CPU_* helpers stay within it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for c in 0..if one_cpu { 1 } else { cpus } {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn virtvzd_command(setup: &Setup) -> (Command, PathBuf) {
    let base = dir(&setup.scratch.join("virtvzd"));
    let run = dir(&base.join("run"));
    let conf = base.join("virtvzd.conf");
    fs::write(
        &conf,
        format!(
            "unix_sock_dir = \"{}\"\nauth_unix_rw = \"none\"\nvz_embedded_dir = \"{}\"\n",
            run.display(),
            setup.store.display()
        ),
    )
    .expect("write virtvzd.conf");
    let mut cmd = Command::new(&setup.virtvzd);
    cmd.arg("-f")
        .arg(&conf)
        .arg("-p")
        .arg(base.join("virtvzd.pid"))
        .env_remove("LIBVIRT_DEBUG")
        .env_remove("LIBVIRT_LOG_FILTERS")
        .env_remove("LIBVIRT_LOG_OUTPUTS")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("LISTEN_PID");
    (cmd, run.join("virtvzd-sock"))
}

fn libvirtd_command(setup: &Setup) -> (Command, PathBuf) {
    let base = dir(&setup.scratch.join("libvirtd"));
    let run = dir(&base.join("run"));
    for sub in ["home", "runtime", "config", "cache", "data"] {
        dir(&base.join(sub));
    }
    let conf = base.join("libvirtd.conf");
    fs::write(
        &conf,
        format!(
            "unix_sock_dir = \"{}\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n\
             unix_sock_rw_perms = \"0777\"\n",
            run.display()
        ),
    )
    .expect("write libvirtd.conf");
    let _ = fs::set_permissions(&conf, fs::Permissions::from_mode(0o644));
    give_to_nobody(&base);
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
        ])
        .arg(&setup.libvirtd);
        c
    } else {
        Command::new(&setup.libvirtd)
    };
    cmd.arg("-f")
        .arg(&conf)
        .arg("-p")
        .arg(base.join("libvirtd.pid"))
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", base.join("home"))
        .env("XDG_RUNTIME_DIR", base.join("runtime"))
        .env("XDG_CONFIG_HOME", base.join("config"))
        .env("XDG_CACHE_HOME", base.join("cache"))
        .env("XDG_DATA_HOME", base.join("data"));
    (cmd, run.join("libvirt-sock"))
}

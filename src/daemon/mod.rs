//! The process: command line, configuration, paths, pid file, daemonizing,
//! socket activation, signals, logging and the idle watchdog.
//!
//! [`run`] is libvirt's `main()` of a modular daemon, in order: options,
//! config, logging, activation hand-over, fork, pid file, sockets, servers,
//! readiness, then the event loop (accept, signals, idle timer) until a
//! signal or the timeout ends it.

pub mod activation;
pub mod cli;
pub mod config;
pub mod daemonize;
pub mod logging;
pub mod paths;
pub mod pidfile;
pub mod sockets;

use crate::admin::{AdminProgram, DaemonControl};
use crate::remote::RemoteProgram;
use crate::rpc::client::ConnLimits;
use crate::rpc::program::Program;
use crate::rpc::server::{Server, ServerConfig};
use crate::rpc::workers::PoolLimits;
use crate::vz;
use config::Config;
use mio::net::UnixListener as MioListener;
use mio::{Events, Interest, Poll, Token, Waker};
use paths::Paths;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SIGNALS: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_LISTENER: usize = 2;

/// How long calls in flight may take to finish when the daemon stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// Runs the daemon; returns the process exit status.
pub fn run() -> i32 {
    let mut opts = match cli::parse(std::env::args_os().skip(1)) {
        Ok(cli::Command::Run(o)) => o,
        Ok(cli::Command::Version) => {
            println!("{}", cli::version_line());
            return 0;
        }
        Ok(cli::Command::Help) => {
            return match Paths::detect() {
                Ok(p) => {
                    print!("{}", cli::usage("virtvzd", &p));
                    0
                }
                Err(e) => {
                    eprintln!("virtvzd: {e}");
                    1
                }
            };
        }
        Err(e) => {
            eprintln!("virtvzd: {e}\nTry 'virtvzd --help' for more information.");
            return 1;
        }
    };
    let paths = match Paths::detect() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("virtvzd: {e}");
            return 1;
        }
    };
    // -d moves to /, and SIGHUP re-reads the file later: the paths given
    // on the command line mean what they meant where the daemon started.
    for path in [&mut opts.config, &mut opts.pid_file].into_iter().flatten() {
        match std::path::absolute(&*path) {
            Ok(abs) => *path = abs,
            Err(e) => {
                eprintln!("virtvzd: {}: {e}", path.display());
                return 1;
            }
        }
    }
    let config_path = opts
        .config
        .clone()
        .unwrap_or_else(|| paths.config_file.clone());
    let (config, warnings) = match load_config(&config_path, opts.config.is_some()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("virtvzd: {e}");
            return 1;
        }
    };
    let log_settings = match log_settings_for(&config, &opts, &paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("virtvzd: {e}");
            return 1;
        }
    };
    if let Err(e) = logging::init(&log_settings) {
        eprintln!("virtvzd: {e}");
        return 1;
    }
    for w in &warnings {
        log::warn!("{w}");
    }
    // LISTEN_* must be read and cleared while we are single-threaded.
    let activated = match activation::take_from_env() {
        Ok(a) => a,
        Err(e) => {
            log::error!("{e}");
            eprintln!("virtvzd: {e}");
            return 1;
        }
    };
    let status = if opts.daemon {
        match daemonize::daemonize() {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("virtvzd: cannot daemonize: {e}");
                return 1;
            }
        }
    } else {
        None
    };
    let started = Startup {
        opts,
        paths,
        config_path,
        config,
        activated,
    };
    match started.serve(status) {
        Ok(()) => 0,
        Err(e) => {
            log::error!("{e}");
            1
        }
    }
}

fn load_config(path: &std::path::Path, explicit: bool) -> Result<(Config, Vec<String>), String> {
    if !explicit && !path.exists() {
        return Ok((Config::default(), Vec::new()));
    }
    config::load_file(path)
        .map(|l| (l.config, l.warnings))
        .map_err(|e| e.to_string())
}

fn log_settings_for(
    config: &Config,
    opts: &cli::Options,
    paths: &Paths,
) -> Result<logging::LogSettings, String> {
    logging::settings(
        config.log_level,
        config.log_filters.as_deref(),
        config.log_outputs.as_deref(),
        opts.verbose,
        &logging::OutputContext {
            daemon: opts.daemon,
            log_dir: &paths.log_dir,
            journald: logging::journal_available(),
            stdin_is_tty: logging::stdin_is_tty(),
        },
    )
}

fn main_server_config(c: &Config) -> ServerConfig {
    ServerConfig {
        max_clients: c.max_clients as usize,
        max_anonymous_clients: c.max_anonymous_clients as usize,
        conn: ConnLimits {
            max_client_requests: c.max_client_requests as usize,
            keepalive_interval: c.keepalive_interval,
            keepalive_count: c.keepalive_count,
        },
        workers: PoolLimits {
            min: c.min_workers as usize,
            max: c.max_workers as usize,
            prio: c.prio_workers as usize,
        },
    }
}

fn admin_server_config(c: &Config) -> ServerConfig {
    ServerConfig {
        max_clients: c.admin_max_clients as usize,
        max_anonymous_clients: 0,
        conn: ConnLimits {
            max_client_requests: c.admin_max_client_requests as usize,
            keepalive_interval: c.admin_keepalive_interval,
            keepalive_count: c.admin_keepalive_count,
        },
        workers: PoolLimits {
            min: c.admin_min_workers as usize,
            max: c.admin_max_workers as usize,
            prio: 0,
        },
    }
}

/// Which server a listener feeds, and whether it is read-only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    ReadWrite,
    ReadOnly,
    Admin,
}

struct Listener {
    role: Role,
    socket: MioListener,
}

struct Startup {
    opts: cli::Options,
    paths: Paths,
    config_path: PathBuf,
    config: Config,
    activated: Option<activation::ActivatedSockets>,
}

impl Startup {
    /// Everything after the fork: reports success or failure to the
    /// waiting parent (with `-d`), then serves until told to stop.
    fn serve(self, status: Option<daemonize::StatusPipe>) -> Result<(), String> {
        let mut state = match self.start() {
            Ok(s) => s,
            Err(e) => {
                if let Some(st) = status {
                    st.failed(&e);
                } else {
                    eprintln!("virtvzd: {e}");
                }
                return Err(e);
            }
        };
        if let Some(st) = status {
            st.ready();
        }
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
        log::info!(
            "virtvzd {} serving {}",
            crate::libvirt_version_string(),
            state.driver.default_uri()
        );
        state.event_loop();
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        state.shutdown();
        Ok(())
    }

    fn start(self) -> Result<Running, String> {
        let config = &self.config;
        sockets::raise_nofile_limit(
            u64::from(config.max_clients),
            u64::from(config.admin_max_clients),
        );
        let pid_path = self
            .opts
            .pid_file
            .clone()
            .unwrap_or_else(|| self.paths.pid_file.clone());
        // The run directory first, with the right mode: the pid file of a
        // user daemon lives in it and would otherwise create it 0755.
        if let Some(dir) = pid_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            sockets::ensure_dir(dir, self.paths.privileged)?;
        }
        let pidfile = pidfile::PidFile::acquire(&pid_path).map_err(|e| e.to_string())?;

        let mut owned = Vec::new();
        let mut listeners = Vec::new();
        match self.activated {
            Some(a) => {
                let all =
                    a.rw.into_iter()
                        .map(|l| (Role::ReadWrite, l))
                        .chain(a.ro.into_iter().map(|l| (Role::ReadOnly, l)))
                        .chain(a.admin.into_iter().map(|l| (Role::Admin, l)));
                for (role, l) in all {
                    listeners.push(mio_listener(role, l)?);
                }
                log::info!("using {} sockets from socket activation", listeners.len());
            }
            None => {
                let dir = config
                    .unix_sock_dir
                    .clone()
                    .unwrap_or_else(|| self.paths.sock_dir.clone());
                // The group first: a name that does not resolve must
                // leave no socket directory behind.
                let group = match &config.unix_sock_group {
                    Some(g) => Some(sockets::group_id(g)?),
                    None => None,
                };
                sockets::ensure_dir(&dir, self.paths.privileged)?;
                let backlog = config.max_queued_clients;
                let mut plan = vec![(
                    Role::ReadWrite,
                    paths::rw_socket(&dir),
                    config.unix_sock_rw_perms,
                    group,
                    backlog,
                )];
                if self.paths.privileged {
                    plan.push((
                        Role::ReadOnly,
                        paths::ro_socket(&dir),
                        config.unix_sock_ro_perms,
                        group,
                        backlog,
                    ));
                }
                plan.push((
                    Role::Admin,
                    paths::admin_socket(&dir),
                    config.unix_sock_admin_perms,
                    None,
                    config.admin_max_queued_clients,
                ));
                for (role, path, mode, group, backlog) in plan {
                    let s = sockets::listen(&path, mode, group, backlog)?;
                    let l = s
                        .listener
                        .try_clone()
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    listeners.push(mio_listener(role, l)?);
                    owned.push(s);
                }
            }
        }

        let sdk = open_sdk(config, &self.paths)?;
        let storage =
            vz::storage::StorageTarget::default_for(self.paths.privileged, &self.paths.sock_dir);
        let storage = match &config.vz_storage_uri {
            Some(uri) => vz::storage::StorageTarget::from_uri(uri, &storage)
                .map_err(|e| format!("vz_storage_uri: {e}"))?,
            None => storage,
        };
        let driver = vz::Driver::new(vz::DriverConfig {
            privileged: self.paths.privileged,
            host_uuid: config.host_uuid.clone(),
            sdk,
            storage,
        });
        driver.load_domains_in_background();
        let poll = Poll::new().map_err(|e| format!("cannot create the event loop: {e}"))?;
        let waker = Arc::new(
            Waker::new(poll.registry(), WAKER)
                .map_err(|e| format!("cannot create the event loop: {e}"))?,
        );
        let control = Arc::new(Control {
            timeout: AtomicU32::new(self.opts.timeout.unwrap_or(0)),
            waker: Arc::clone(&waker),
        });
        let remote: Arc<dyn Program> = RemoteProgram::new(Arc::clone(&driver));
        // SAFETY: geteuid cannot fail and touches no memory.
        let euid = unsafe { libc::geteuid() };
        let admin_program = AdminProgram::new(control.clone(), euid);
        let main = Server::new("virtvzd", vec![remote], main_server_config(config));
        let admin = Server::new(
            "admin",
            vec![admin_program.clone() as Arc<dyn Program>],
            admin_server_config(config),
        );
        // libvirt's daemons list the admin server first.
        admin_program.set_servers(vec![Arc::clone(&admin), Arc::clone(&main)]);
        for server in [&main, &admin] {
            let c = Arc::clone(&control);
            // Only the idle watchdog cares; without a timeout, a connection
            // costs the event loop no wake-up (set_timeout wakes it).
            server.on_client_change(move || {
                if c.timeout.load(Ordering::Acquire) != 0 {
                    let _ = c.waker.wake();
                }
            });
        }
        let mut signals = Signals::new([SIGTERM, SIGINT, SIGQUIT, SIGHUP])
            .map_err(|e| format!("cannot install signal handlers: {e}"))?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)
            .map_err(|e| format!("cannot watch signals: {e}"))?;
        for (i, l) in listeners.iter_mut().enumerate() {
            poll.registry()
                .register(&mut l.socket, Token(FIRST_LISTENER + i), Interest::READABLE)
                .map_err(|e| format!("cannot watch a socket: {e}"))?;
        }
        Ok(Running {
            poll,
            signals,
            listeners,
            owned,
            pidfile: Some(pidfile),
            main,
            admin,
            driver,
            control,
            config_path: self.config_path,
            started_with: self.config,
            opts: self.opts,
            paths: self.paths,
        })
    }
}

/// The Virtuozzo SDK per `vz_sdk`, initialised: "system" loads
/// `vz_sdk_library` or fails startup saying why (no library, the
/// functions it lacks, its init error); "auto" tries the same and falls
/// back to the embedded host, saying why; "embedded" is the embedded host.
fn open_sdk(config: &Config, paths: &Paths) -> Result<Arc<crate::sdk::Sdk>, String> {
    use config::SdkChoice;
    let timeout = Duration::from_secs(config.vz_job_timeout.into());
    let dir = config
        .vz_embedded_dir
        .clone()
        .unwrap_or_else(|| paths.embedded_dir.clone());
    if config.vz_sdk != SdkChoice::Embedded {
        use crate::sdk::system::LoadError;
        match open_system_sdk(&config.vz_sdk_library, timeout) {
            Ok(sdk) => return Ok(sdk),
            Err(e) if config.vz_sdk == SdkChoice::System => {
                return Err(format!("vz_sdk = \"system\": {e}"))
            }
            // No SDK installed is the normal case off a Virtuozzo host; a
            // broken one is worth a warning.
            Err(LoadError::NotFound(e)) => log::info!(
                "vz_sdk = \"auto\": {e}; using the embedded host in {}",
                dir.display()
            ),
            Err(LoadError::Unusable(e)) => log::warn!(
                "vz_sdk = \"auto\": {e}; using the embedded host in {}",
                dir.display()
            ),
        }
    }
    let sdk = crate::sdk::Sdk::embedded(&dir, timeout);
    sdk.init().map_err(|e| {
        format!(
            "cannot start the embedded Virtuozzo host in {}: {e}",
            dir.display()
        )
    })?;
    Ok(sdk)
}

/// Loads and initialises the system SDK.
fn open_system_sdk(
    library: &str,
    timeout: Duration,
) -> Result<Arc<crate::sdk::Sdk>, crate::sdk::system::LoadError> {
    let sdk = crate::sdk::system::load(library, timeout)?;
    sdk.init().map_err(|e| {
        crate::sdk::system::LoadError::Unusable(format!(
            "the Virtuozzo SDK {} does not start: {e}",
            sdk.source()
        ))
    })?;
    log::info!(
        "Virtuozzo SDK {} loaded (API version {}.{})",
        sdk.source(),
        crate::sdk::abi::VIRTUOZZO_API_VER >> 16,
        crate::sdk::abi::VIRTUOZZO_API_VER & 0xffff
    );
    Ok(sdk)
}

fn mio_listener(role: Role, l: UnixListener) -> Result<Listener, String> {
    l.set_nonblocking(true)
        .map_err(|e| format!("cannot set up a listening socket: {e}"))?;
    Ok(Listener {
        role,
        socket: MioListener::from_std(l),
    })
}

/// What virt-admin may change in the process: logging and the timeout.
struct Control {
    timeout: AtomicU32,
    waker: Arc<Waker>,
}

impl DaemonControl for Control {
    fn log_filters(&self) -> String {
        logging::filters()
    }
    fn log_outputs(&self) -> String {
        logging::outputs()
    }
    fn set_log_filters(&self, filters: &str) -> Result<(), String> {
        logging::set_filters(filters)
    }
    fn set_log_outputs(&self, outputs: &str) -> Result<(), String> {
        logging::set_outputs(outputs)
    }
    fn set_timeout(&self, seconds: u32) {
        self.timeout.store(seconds, Ordering::Release);
        let _ = self.waker.wake();
    }
}

/// How soon a failed accept is tried again: soon enough that a waiting
/// client barely notices, rarely enough that it costs nothing.
const ACCEPT_RETRY: Duration = Duration::from_millis(200);

/// The daemon once it serves.
struct Running {
    poll: Poll,
    signals: Signals,
    listeners: Vec<Listener>,
    owned: Vec<sockets::OwnedSocket>,
    pidfile: Option<pidfile::PidFile>,
    main: Arc<Server>,
    admin: Arc<Server>,
    driver: Arc<vz::Driver>,
    control: Arc<Control>,
    config_path: PathBuf,
    /// The configuration the daemon started with.
    started_with: Config,
    opts: cli::Options,
    paths: Paths,
}

impl Running {
    fn event_loop(&mut self) {
        let mut events = Events::with_capacity(64);
        let mut idle_since: Option<Instant> = None;
        // When accept last failed for want of descriptors: listeners are
        // edge-triggered, so clients already waiting raise no new event
        // once descriptors free up; they are retried on a timer instead.
        let mut retry_accept: Option<Instant> = None;
        loop {
            // The idle watchdog: only connected clients hold the daemon up
            // (guests live in the Virtuozzo host, not in us).
            let timeout = match self.control.timeout.load(Ordering::Acquire) {
                0 => None,
                t => Some(Duration::from_secs(t.into())),
            };
            let wait = match timeout {
                Some(t) => {
                    if self.main.nclients() + self.admin.nclients() == 0 {
                        let since = *idle_since.get_or_insert_with(Instant::now);
                        let elapsed = since.elapsed();
                        if elapsed >= t {
                            log::info!("no client for {} s: exiting", t.as_secs());
                            return;
                        }
                        Some(t - elapsed)
                    } else {
                        idle_since = None;
                        None
                    }
                }
                None => None,
            };
            let wait = match retry_accept {
                Some(due) => {
                    let left = due.saturating_duration_since(Instant::now());
                    Some(wait.map_or(left, |w| w.min(left)))
                }
                None => wait,
            };
            if let Err(e) = self.poll.poll(&mut events, wait) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("event loop failed: {e}");
                return;
            }
            if retry_accept.is_some_and(|due| Instant::now() >= due) {
                retry_accept = None;
                for i in 0..self.listeners.len() {
                    self.accept_or_retry(i, &mut retry_accept);
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => {
                        let pending: Vec<i32> = self.signals.pending().collect();
                        for sig in pending {
                            if sig == SIGHUP {
                                self.reload();
                            } else {
                                log::info!("signal {sig} received: shutting down");
                                return;
                            }
                        }
                    }
                    WAKER => {}
                    Token(i) => self.accept_or_retry(i - FIRST_LISTENER, &mut retry_accept),
                }
            }
        }
    }

    /// Accepts what waits on listener `index`; on failure (EMFILE and the
    /// like) sets `retry` to try again shortly, logging only the first
    /// failure of a run.
    fn accept_or_retry(&mut self, index: usize, retry: &mut Option<Instant>) {
        if let Err(e) = self.accept(index) {
            if retry.is_none() {
                log::warn!("accept failed: {e}; retrying every {ACCEPT_RETRY:?}");
            }
            *retry = Some(Instant::now() + ACCEPT_RETRY);
        }
    }

    fn accept(&mut self, index: usize) -> std::io::Result<()> {
        let Some(l) = self.listeners.get(index) else {
            return Ok(());
        };
        loop {
            match l.socket.accept() {
                Ok((stream, _)) => {
                    // mio hands out its own stream type; the server wants std.
                    let stream =
                        std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(stream));
                    let peer = sockets::peer_cred(&stream);
                    let (server, ro) = match l.role {
                        Role::ReadWrite => (&self.main, false),
                        Role::ReadOnly => (&self.main, true),
                        Role::Admin => (&self.admin, false),
                    };
                    server.accept(stream, ro, peer)?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// SIGHUP: re-read the config and apply what can change live.
    fn reload(&mut self) {
        log::info!("reloading configuration on SIGHUP");
        let (config, warnings) = match load_config(&self.config_path, self.opts.config.is_some()) {
            Ok(v) => v,
            Err(e) => {
                log::error!("reload failed, keeping the current configuration: {e}");
                return;
            }
        };
        let settings = match log_settings_for(&config, &self.opts, &self.paths) {
            Ok(s) => s,
            Err(e) => {
                log::error!("reload failed, keeping the current configuration: {e}");
                return;
            }
        };
        if let Err(e) = logging::apply(&settings) {
            log::error!("reload failed, keeping the current configuration: {e}");
            return;
        }
        for w in &warnings {
            log::warn!("{w}");
        }
        // Compared with the start's values, which stay in force for these.
        for key in config::restart_only_changes(&self.started_with, &config) {
            log::warn!(
                "{}: {key} changed; it takes effect when the daemon is restarted",
                self.config_path.display()
            );
        }
        self.main.set_config(main_server_config(&config));
        self.admin.set_config(admin_server_config(&config));
        log::info!("configuration reloaded from {}", self.config_path.display());
    }

    fn shutdown(mut self) {
        for l in &mut self.listeners {
            let _ = self.poll.registry().deregister(&mut l.socket);
        }
        self.listeners.clear();
        // Sockets we created go away first, so no new client finds them.
        self.owned.clear();
        self.main.shutdown(SHUTDOWN_GRACE);
        self.admin.shutdown(Duration::from_secs(1));
        if let Some(p) = self.pidfile.take() {
            p.release();
        }
        log::info!("virtvzd stopped");
    }
}

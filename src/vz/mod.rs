//! The Virtuozzo driver: what the REMOTE program's procedures do.

pub mod cache;
pub mod capabilities;
pub mod cpu;
pub mod domain_xml;
pub mod domains;
pub mod events;
pub mod host;
pub mod snapshot_xml;
pub mod snapshots;
pub mod stats;
pub mod storage;

use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::sdk::{Handle, Sdk, SdkEvent, Subscription};
use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Parses a product version ("7.5.3", "7.0.12-345") into libvirt's
/// encoding, major * 1_000_000 + minor * 1_000 + micro.
pub fn parse_version(v: &str) -> Option<u64> {
    let mut parts = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let micro = parts.next().flatten().unwrap_or(0);
    (minor < 1000 && micro < 1000).then_some(major * 1_000_000 + minor * 1_000 + micro)
}

/// The most virtual CPUs a Virtuozzo guest may have (the vz driver's
/// answer to virConnectGetMaxVcpus).
pub const MAX_VCPUS: i32 = 1028;

/// How the driver was set up by the daemon.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Running as root: serves `vz:///system`; otherwise `vz:///session`.
    pub privileged: bool,
    /// The configured host UUID, if any (`host_uuid`).
    pub host_uuid: Option<String>,
    /// The Virtuozzo SDK (initialised).
    pub sdk: Arc<Sdk>,
    /// Where storage volumes are resolved (`vz_storage_uri`).
    pub storage: storage::StorageTarget,
}

/// The logged-in SDK session and its event handler.
struct Session {
    server: Arc<Handle>,
    events: Option<Subscription>,
}

type LostListener = Arc<dyn Fn() + Send + Sync>;

/// The driver: one per daemon.
pub struct Driver {
    config: DriverConfig,
    host: host::HostFs,
    capabilities: OnceLock<String>,
    sdk: Arc<Sdk>,
    session: Mutex<Option<Session>>,
    /// Which SDK session connections and event handlers belong to: bumped
    /// each time the host is forgotten, so whatever belongs to an older
    /// one is recognised as stale.
    generation: AtomicU64,
    lost_listeners: Mutex<Vec<LostListener>>,
    jobs: Mutex<HashMap<[u8; 16], Arc<Mutex<()>>>>,
    events: events::EventState,
    /// Where the SDK's event thread leaves events for the driver's own
    /// event thread (started with the first session), with the generation
    /// of the session they came from.
    event_queue: OnceLock<Sender<(u64, SdkEvent)>>,
    cache: cache::DomainCache,
    me: std::sync::Weak<Driver>,
}

/// Most SDK events handled as one batch: enough that a backlog shrinks
/// fast, few enough that the first of them is not held up long.
const EVENT_BATCH: usize = 1024;

/// The driver's event thread: until the driver is gone, takes what has
/// queued up and handles the events of the current session.
fn handle_queued_events(me: &std::sync::Weak<Driver>, rx: &Receiver<(u64, SdkEvent)>) {
    while let Ok(first) = rx.recv() {
        let Some(d) = me.upgrade() else {
            return;
        };
        let mut batch = vec![first];
        batch.extend(rx.try_iter().take(EVENT_BATCH - 1));
        // An event of a forgotten session is ignored; the generation is
        // read once per batch, and a lost connection in the batch (which
        // bumps it) ends the batch's own events.
        let generation = d.generation.load(Ordering::Acquire);
        let batch = batch
            .into_iter()
            .filter(|(g, _)| *g == generation)
            .map(|(_, ev)| ev)
            .collect();
        d.on_sdk_events(batch);
    }
}

/// Which URI scheme a connection was opened with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `vz:`
    Vz,
    /// `parallels:` (the older name of the same driver)
    Parallels,
}

/// One client's open connection to the driver.
pub struct Connection {
    driver: Arc<Driver>,
    uri: String,
    scheme: Scheme,
    readonly: bool,
    /// The driver's generation when it was opened.
    generation: u64,
}

impl Driver {
    /// A driver for this host.
    pub fn new(config: DriverConfig) -> Arc<Driver> {
        Arc::new_cyclic(|me| Driver {
            sdk: Arc::clone(&config.sdk),
            config,
            host: host::HostFs::system(),
            capabilities: OnceLock::new(),
            session: Mutex::new(None),
            generation: AtomicU64::new(0),
            lost_listeners: Mutex::new(Vec::new()),
            jobs: Mutex::new(HashMap::new()),
            events: events::EventState::default(),
            event_queue: OnceLock::new(),
            cache: cache::DomainCache::default(),
            me: me.clone(),
        })
    }

    /// The URI this daemon serves.
    pub fn default_uri(&self) -> &'static str {
        if self.config.privileged {
            "vz:///system"
        } else {
            "vz:///session"
        }
    }

    /// Opens a connection for `name` (empty: the daemon's own URI).
    pub fn open(self: &Arc<Self>, name: Option<&str>, readonly: bool) -> VirResult<Connection> {
        let name = name.filter(|n| !n.is_empty()).unwrap_or(self.default_uri());
        let (scheme, path) = parse_uri(name)?;
        let want = if self.config.privileged {
            "/system"
        } else {
            "/session"
        };
        if path != want {
            return Err(VirError::internal(
                ErrorDomain::Parallels,
                format!(
                    "Unexpected Virtuozzo URI path '{path}', try {}",
                    self.default_uri()
                ),
            ));
        }
        Ok(Connection {
            driver: Arc::clone(self),
            uri: name.to_string(),
            scheme,
            readonly,
            generation: self.generation.load(Ordering::Acquire),
        })
    }

    /// The logged-in SDK session, logging in on first use (and again after
    /// the host was forgotten).
    pub fn session(&self) -> VirResult<Arc<Handle>> {
        let mut slot = self.session.lock();
        if let Some(s) = slot.as_ref() {
            return Ok(Arc::clone(&s.server));
        }
        let server = Arc::new(self.sdk.login().map_err(|e| {
            VirError::internal(
                ErrorDomain::Parallels,
                format!("cannot log in to the Virtuozzo host: {e}"),
            )
        })?);
        // Read under the session lock, which forget_host bumps it under.
        let generation = self.generation.load(Ordering::Acquire);
        log::info!(
            "logged in to the Virtuozzo host through {}",
            self.sdk.source()
        );
        // SDK events drive libvirt's domain events; the driver is reached
        // weakly so the subscription never keeps it alive, and an event of
        // a forgotten session is ignored.
        let me = self.me.clone();
        let events = self
            .sdk
            .subscribe(
                &server,
                Box::new(move |ev| {
                    if let Some(d) = me.upgrade() {
                        d.queue_sdk_event(generation, ev);
                    }
                }),
            )
            .map_err(|e| log::warn!("no events from the Virtuozzo host: {e}"))
            .ok();
        *slot = Some(Session {
            server: Arc::clone(&server),
            events,
        });
        drop(slot);
        Ok(server)
    }

    /// Hands an SDK event to the driver's event thread, which handles the
    /// events in order, as many at a time as have queued up (see
    /// `on_sdk_events`); the SDK's own thread is free at once.
    fn queue_sdk_event(&self, generation: u64, ev: SdkEvent) {
        let queue = self.event_queue.get_or_init(|| {
            let (tx, rx) = crossbeam_channel::unbounded();
            let me = self.me.clone();
            let spawned = std::thread::Builder::new()
                .name("vz-driver-events".into())
                .spawn(move || handle_queued_events(&me, &rx));
            if let Err(e) = spawned {
                log::warn!("cannot start the event thread ({e}); events are handled as they come");
            }
            tx
        });
        if let Err(e) = queue.send((generation, ev)) {
            let (generation, ev) = e.into_inner();
            if self.generation.load(Ordering::Acquire) == generation {
                self.on_sdk_events(vec![ev]);
            }
        }
    }

    /// Forgets the Virtuozzo host: the SDK session and everything learned
    /// from it (known guests and states, performance counters, device
    /// aliases, the domain cache, which reloads on next use). Called when
    /// the dispatcher connection is lost; connections opened before then
    /// get an error from now on, their close callbacks fire (the listeners
    /// of `on_host_lost`), and the next call of a new connection logs in
    /// again.
    pub fn forget_host(&self) {
        let old = {
            let mut slot = self.session.lock();
            self.generation.fetch_add(1, Ordering::AcqRel);
            slot.take()
        };
        self.events.forget();
        self.invalidate_domains();
        log::warn!(
            "the connection to the Virtuozzo host is lost; the next connection logs in again"
        );
        if let Some(old) = old {
            // Off the SDK's event thread, which may be the caller: the
            // logoff waits for a job.
            let sdk = Arc::clone(&self.sdk);
            let spawned = std::thread::Builder::new()
                .name("vz-logoff".into())
                .spawn(move || {
                    if let Some(sub) = old.events {
                        if let Err(e) = sdk.unsubscribe(&old.server, sub) {
                            log::debug!("lost session: {e}");
                        }
                    }
                    if let Err(e) = sdk.logoff(&old.server) {
                        log::debug!("lost session: {e}");
                    }
                });
            if let Err(e) = spawned {
                log::warn!("cannot end the lost SDK session: {e}");
            }
        }
        let listeners = self.lost_listeners.lock().clone();
        for l in listeners {
            l();
        }
    }

    /// Calls `f` each time the host is forgotten (the REMOTE program fires
    /// the close callbacks of the connections it had).
    pub fn on_host_lost(&self, f: impl Fn() + Send + Sync + 'static) {
        self.lost_listeners.lock().push(Arc::new(f));
    }

    /// The host facts reader.
    pub fn host(&self) -> &host::HostFs {
        &self.host
    }
}

/// Splits a driver URI into its scheme and path. Only local URIs of our
/// schemes are ours; anything else has no driver here, as libvirt says.
fn parse_uri(uri: &str) -> VirResult<(Scheme, String)> {
    let no_driver = || VirError::new(ErrorCode::NoConnect, ErrorDomain::None, uri.to_string());
    let (scheme, rest) = uri.split_once("://").ok_or_else(no_driver)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "vz" => Scheme::Vz,
        "parallels" => Scheme::Parallels,
        _ => return Err(no_driver()),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if !host.is_empty() {
        return Err(no_driver());
    }
    Ok((scheme, path.to_string()))
}

impl Connection {
    /// The driver behind this connection.
    pub fn driver(&self) -> &Arc<Driver> {
        &self.driver
    }

    /// The URI it was opened with.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Opened read-only.
    pub fn readonly(&self) -> bool {
        self.readonly
    }

    /// Opened before the driver last forgot the host: the session it used
    /// is gone, and its client must open a new connection.
    pub fn lost(&self) -> bool {
        self.generation != self.driver.generation.load(Ordering::Acquire)
    }

    /// The error every call on a lost connection gets.
    pub fn lost_error() -> VirError {
        VirError::new(
            ErrorCode::OperationFailed,
            ErrorDomain::Parallels,
            "the connection to the Virtuozzo host was lost; open a new connection",
        )
    }

    /// virConnectGetType: the driver's name for its scheme.
    pub fn get_type(&self) -> &'static str {
        match self.scheme {
            Scheme::Vz => "vz",
            Scheme::Parallels => "Parallels",
        }
    }

    /// virConnectGetVersion: the Virtuozzo version, from the SDK's server
    /// info (libvirt's driver runs `prlsrvctl` for it).
    pub fn version(&self) -> VirResult<u64> {
        let session = self.driver.session()?;
        let v = self.driver.sdk.product_version(&session).map_err(|e| {
            VirError::internal(
                ErrorDomain::Parallels,
                format!("cannot read the Virtuozzo version: {e}"),
            )
        })?;
        parse_version(&v).ok_or_else(|| {
            VirError::internal(
                ErrorDomain::Parallels,
                format!("unexpected Virtuozzo version '{v}'"),
            )
        })
    }

    /// virConnectGetMaxVcpus for `type` (none, "vz" or "parallels").
    pub fn max_vcpus(&self, r#type: Option<&str>) -> VirResult<i32> {
        match r#type {
            None => Ok(MAX_VCPUS),
            Some(t) if t.eq_ignore_ascii_case("vz") || t.eq_ignore_ascii_case("parallels") => {
                Ok(MAX_VCPUS)
            }
            Some(t) => Err(VirError::new(
                ErrorCode::InvalidArg,
                ErrorDomain::Parallels,
                format!("unknown type '{t}'"),
            )),
        }
    }

    /// virConnectGetCapabilities: built once per driver.
    pub fn capabilities(&self) -> VirResult<String> {
        if let Some(c) = self.driver.capabilities.get() {
            return Ok(c.clone());
        }
        let host = &self.driver.host;
        let cpu = host.cpu_model_info();
        let cells = host.numa_cells()?;
        let uuid = self
            .driver
            .config
            .host_uuid
            .clone()
            .or_else(|| host.host_uuid());
        let xml = capabilities::capabilities_xml(&capabilities::CapsInput {
            host_uuid: uuid.as_deref(),
            cpu: &cpu,
            cells: &cells,
            privileged: self.driver.config.privileged,
        });
        Ok(self.driver.capabilities.get_or_init(|| xml).clone())
    }
}

/// A driver on a fresh embedded host, for the unit tests: the process has
/// one embedded host, so each holds it in turn.
#[cfg(test)]
pub(crate) mod test_host {
    use super::{storage, Driver, DriverConfig};
    use crate::sdk::{emu, Sdk};
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Duration;

    /// The driver, its SDK and the store they use, removed when dropped.
    pub struct Host {
        pub driver: Arc<Driver>,
        pub sdk: Arc<Sdk>,
        dir: PathBuf,
        _turn: parking_lot::MutexGuard<'static, ()>,
    }

    impl Host {
        /// A host with an empty store named after `tag`.
        pub fn new(tag: &str) -> Host {
            let turn = emu::host::TEST_TURN.lock();
            emu::host::deinit();
            let dir = std::env::temp_dir().join(format!("virtvzd-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let sdk = Sdk::embedded(&dir, Duration::from_secs(10));
            sdk.init().expect("embedded host starts");
            let driver = Driver::new(DriverConfig {
                privileged: true,
                host_uuid: None,
                storage: storage::StorageTarget::default_for(false, &dir.join("no-storage")),
                sdk: Arc::clone(&sdk),
            });
            Host {
                driver,
                sdk,
                dir,
                _turn: turn,
            }
        }
    }

    impl Drop for Host {
        fn drop(&mut self) {
            emu::host::deinit();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(privileged: bool) -> Arc<Driver> {
        let dir = std::env::temp_dir().join(format!("virtvzd-drv-{}", std::process::id()));
        Driver::new(DriverConfig {
            privileged,
            host_uuid: None,
            sdk: Sdk::embedded(&dir, std::time::Duration::from_secs(5)),
            storage: storage::StorageTarget::default_for(privileged, &dir),
        })
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("7.5.3"), Some(7_005_003));
        assert_eq!(parse_version("7.0.12-345"), Some(7_000_012));
        assert_eq!(parse_version("8"), Some(8_000_000));
        assert_eq!(parse_version("x"), None);
    }

    #[test]
    fn system_and_session_uris() {
        assert!(driver(true).open(Some("vz:///system"), false).is_ok());
        assert!(driver(true)
            .open(Some("parallels:///system"), false)
            .is_ok());
        assert!(driver(false).open(Some("vz:///session"), false).is_ok());
        let e = driver(true)
            .open(Some("vz:///session"), false)
            .err()
            .unwrap();
        assert_eq!(e.code, ErrorCode::InternalError);
        assert_eq!(
            e.message,
            "internal error: Unexpected Virtuozzo URI path '/session', try vz:///system"
        );
        let c = driver(true).open(Some(""), false).ok().unwrap();
        assert_eq!(c.uri(), "vz:///system");
    }

    #[test]
    fn forgetting_the_host_loses_the_open_connections_and_tells_listeners() {
        use std::sync::atomic::AtomicUsize;
        let d = driver(true);
        let before = d.open(None, false).ok().unwrap();
        let fired = Arc::new(AtomicUsize::new(0));
        let f = Arc::clone(&fired);
        d.on_host_lost(move || {
            f.fetch_add(1, Ordering::SeqCst);
        });
        assert!(!before.lost());
        d.forget_host();
        assert!(before.lost());
        assert_eq!(fired.load(Ordering::SeqCst), 1);
        // Connections opened afterwards belong to the next session.
        let after = d.open(None, false).ok().unwrap();
        assert!(!after.lost());
        let e = Connection::lost_error();
        assert_eq!(
            (e.code, e.domain),
            (ErrorCode::OperationFailed, ErrorDomain::Parallels)
        );
    }

    #[test]
    fn job_locks_of_gone_guests_are_forgotten() {
        let d = driver(true);
        let uuid = |i: u32| {
            let mut u = [0u8; 16];
            u[..4].copy_from_slice(&i.to_be_bytes());
            u
        };
        let held = d.begin_job(&uuid(u32::MAX)).unwrap();
        for i in 0..10_000 {
            drop(d.begin_job(&uuid(i)).unwrap());
        }
        let jobs = d.jobs.lock();
        assert!(jobs.len() < 128, "{} locks kept", jobs.len());
        assert!(
            jobs.contains_key(&uuid(u32::MAX)),
            "a held lock was dropped"
        );
        drop(jobs);
        drop(held);
    }

    #[test]
    fn foreign_uris_have_no_driver() {
        for uri in ["qemu:///system", "vz://host/system", "nonsense"] {
            let e = driver(true).open(Some(uri), false).err().unwrap();
            assert_eq!(e.code, ErrorCode::NoConnect, "{uri}");
        }
    }
}

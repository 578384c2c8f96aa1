//! The embedded Virtuozzo host: its guests, their state machine, the
//! persistent store, and the dispatcher thread jobs complete on.
//!
//! Store: `<dir>/guests/<uuid>.toml`, one file per guest holding its
//! configuration and state, each write atomic (temp file, fsync, rename,
//! fsync of the directory); `<dir>/.lock` keeps a second daemon out.

use super::index::Guests;
use crate::sdk::abi::{err::*, vms::*, *};
use crossbeam_channel::{unbounded, Sender};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A guest: configuration and state, as stored.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Guest {
    /// UUID in the SDK's braced form ("{...}").
    pub uuid: String,
    /// Name.
    pub name: String,
    /// PVT_VM or PVT_CT.
    pub vm_type: u32,
    /// Memory in MiB.
    pub ram_mb: u32,
    /// Virtual CPUs.
    pub cpus: u32,
    /// PAO_* autostart option.
    pub autostart: u32,
    /// Free text.
    pub description: String,
    /// Numeric id (the libvirt domain id while running).
    pub env_id: u32,
    /// VMS_* state.
    pub state: u32,
    /// Devices, in creation order.
    pub devices: Vec<Device>,
    /// Boot order entries.
    pub boot: Vec<BootDev>,
    /// PRD_* VNC mode.
    pub vnc_mode: u32,
    /// VNC port.
    pub vnc_port: u32,
    /// VNC listen address.
    pub vnc_host: String,
    /// VNC password.
    pub vnc_password: String,
    /// Video memory in MiB.
    pub video_ram_mb: u32,
    /// Container OS template.
    pub os_template: String,
    /// Offline management (PrlVmCfg_SetOfflineManagementEnabled).
    pub offline_management: bool,
    /// Host CPUs the guest may run on ("0-3,6"), empty for all.
    pub cpu_mask: String,
    /// Last device id given out.
    pub last_device_id: u64,
    /// Milliseconds spent running, before the current run.
    pub run_ms: u64,
    /// Snapshots, in creation order.
    pub snapshots: Vec<Snapshot>,
    /// Suspended while paused: it resumes paused, as it was saved.
    pub saved_paused: bool,
    /// A 32-bit guest (PCM_CPU_MODE_32); 64-bit otherwise.
    pub cpu_mode_32: bool,
}

/// A snapshot: the guest's configuration and state when it was taken.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Snapshot {
    /// Its GUID (braced), which is also its name.
    pub guid: String,
    /// The parent's GUID, empty for a root.
    pub parent: String,
    /// "YYYY-MM-DD HH:MM:SS" UTC.
    pub created: String,
    /// Free text.
    pub description: String,
    /// The user who took it.
    pub creator: String,
    /// VMS_* state at the time.
    pub state: u32,
    /// The current snapshot (the one the guest runs from).
    pub current: bool,
    /// The configuration at the time (without snapshots), as TOML.
    pub config: String,
}

/// A virtual device of a guest.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Device {
    /// Stable id within the guest (handles find their device by it).
    pub id: u64,
    /// PDE_* device type.
    pub dev_type: u32,
    /// Index among devices of its type.
    pub index: u32,
    /// PDT_* emulation (image file, file system, socket...), or PNA_* for
    /// network adapters.
    pub emulated_type: u32,
    /// Image file, socket path or output file.
    pub image_path: String,
    /// Friendly name.
    pub friendly_name: String,
    /// System name (host device, bridge, socket).
    pub sys_name: String,
    /// PMS_* bus.
    pub iface_type: u32,
    /// Position on the bus.
    pub stack_index: u32,
    /// Connected at start.
    pub connected: bool,
    /// Enabled.
    pub enabled: bool,
    /// MAC address (network adapters).
    pub mac: String,
    /// Host interface name (network adapters).
    pub host_iface: String,
    /// Virtual network (network adapters).
    pub network: String,
    /// PNT_* adapter model.
    pub adapter_type: u32,
    /// PSP_* serial socket mode.
    pub socket_mode: u32,
    /// Mount point (container file systems).
    pub mount_point: String,
    /// Storage URL, `libvirt://host/pool/volume` (container file systems
    /// backed by a libvirt storage volume).
    pub storage_url: String,
    /// Image size in MiB (set by PrlVmDev_ResizeImage).
    pub size_mb: u32,
    /// Hard disk serial number.
    pub serial_number: String,
    /// The packet filter drops frames with another MAC (network adapters).
    pub prevent_mac_spoof: bool,
    /// Guest addresses, "addr/prefix" (network adapters).
    pub net_addresses: Vec<String>,
    /// IPv4 default gateway (network adapters).
    pub gateway: String,
    /// IPv6 default gateway (network adapters).
    pub gateway6: String,
    /// IPv4 configured by DHCP (network adapters).
    pub dhcp: bool,
    /// IPv6 configured by DHCP (network adapters).
    pub dhcp6: bool,
    /// Settings applied to the guest by its tools (network adapters).
    pub auto_apply: bool,
}

/// A boot order entry.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct BootDev {
    /// Stable id within the guest.
    pub id: u64,
    /// PDE_* type of the device it boots from.
    pub dev_type: u32,
    /// That device's index.
    pub index: u32,
    /// Position in the boot order.
    pub sequence: u32,
    /// In use.
    pub in_use: bool,
}

/// An SDK-style failure: code and text.
pub type Fail = (PRL_RESULT, String);

/// A state change the dispatcher applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// PrlVm_StartEx / resume from suspended.
    Start,
    /// PrlVm_StopEx, any mode.
    Stop,
    /// PrlVm_Pause.
    Pause,
    /// PrlVm_Resume.
    Resume,
    /// PrlVm_Restart.
    Restart,
    /// PrlVm_Reset.
    Reset,
    /// PrlVm_Suspend.
    Suspend,
    /// PrlVm_DropSuspendedState.
    DropSuspended,
}

/// An event the host raises: type, guest UUID, parameters.
pub type HostEvent = (u32, String, Vec<(String, i64)>);

/// The host.
pub struct Host {
    dir: PathBuf,
    guests: Mutex<Guests>,
    /// When each running guest last started running (for its counters).
    running_since: Mutex<std::collections::HashMap<String, std::time::Instant>>,
    jobs: Sender<Box<dyn FnOnce() + Send>>,
    events: Sender<HostEvent>,
    _lock: File,
}

/// Delivers an event to the registered handlers.
pub type EventSink = Arc<dyn Fn(HostEvent) + Send + Sync>;

/// Where events go: set by the SDK layer (the registered handlers).
static EVENT_SINK: Mutex<Option<EventSink>> = Mutex::new(None);

/// Installs the function that delivers events to registered handlers.
pub fn set_event_sink(f: EventSink) {
    *EVENT_SINK.lock() = Some(f);
}

static HOST: Mutex<Option<Arc<Host>>> = Mutex::new(None);
static STORE_DIR: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The environment variable naming the store when nobody chose one: the
/// embedded host built as a shared library (test/prlsdk-emu) finds its
/// store this way, as the daemon must not know whose library it loads.
pub const STORE_ENV: &str = "PRLSDK_EMU_DIR";

/// Chooses the store before `PrlApi_InitEx` (in-process use); otherwise
/// `PRLSDK_EMU_DIR` names it.
pub fn set_store_dir(dir: &Path) {
    *STORE_DIR.lock() = Some(dir.to_path_buf());
}

/// The running host, if initialised.
pub fn host() -> Option<Arc<Host>> {
    HOST.lock().clone()
}

/// Starts the host (PrlApi_InitEx): loads the store, takes its lock.
pub fn init() -> Result<(), Fail> {
    let mut slot = HOST.lock();
    if slot.is_some() {
        return Ok(());
    }
    let dir = STORE_DIR
        .lock()
        .clone()
        .or_else(|| std::env::var_os(STORE_ENV).map(PathBuf::from))
        .ok_or((
            PRL_ERR_INVALID_ARG,
            format!("no store directory for the embedded host (set {STORE_ENV})"),
        ))?;
    let guests_dir = dir.join("guests");
    fs::create_dir_all(&guests_dir).map_err(|e| {
        (
            PRL_ERR_INVALID_ARG,
            format!("cannot create {}: {e}", guests_dir.display()),
        )
    })?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join(".lock"))
        .map_err(|e| {
            (
                PRL_ERR_INVALID_ARG,
                format!("cannot open the store lock: {e}"),
            )
        })?;
    // SAFETY: flock on a descriptor we own; no memory is touched.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err((
            PRL_ERR_INVALID_ARG,
            format!("the store {} is in use by another daemon", dir.display()),
        ));
    }
    let guests = load(&guests_dir);
    let (tx, rx) = unbounded::<Box<dyn FnOnce() + Send>>();
    std::thread::Builder::new()
        .name("vz-dispatcher".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                job();
            }
        })
        .map_err(|e| (PRL_ERR_OUT_OF_MEMORY, e.to_string()))?;
    // Events go out on their own thread, so a handler that waits for a job
    // (which completes on the dispatcher) cannot deadlock.
    let (etx, erx) = unbounded::<HostEvent>();
    std::thread::Builder::new()
        .name("vz-events".into())
        .spawn(move || {
            while let Ok(ev) = erx.recv() {
                let sink = EVENT_SINK.lock().clone();
                if let Some(f) = sink {
                    f(ev);
                }
            }
        })
        .map_err(|e| (PRL_ERR_OUT_OF_MEMORY, e.to_string()))?;
    log::info!(
        "embedded host: serving the store {} ({} guests)",
        dir.display(),
        guests.len()
    );
    let now = std::time::Instant::now();
    let running_since = guests
        .values()
        .filter(|g| g.state == VMS_RUNNING)
        .map(|g| (g.uuid.clone(), now))
        .collect();
    *slot = Some(Arc::new(Host {
        dir,
        running_since: Mutex::new(running_since),
        guests: Mutex::new(Guests::new(guests.into_values())),
        jobs: tx,
        events: etx,
        _lock: lock,
    }));
    Ok(())
}

/// Stops the host (PrlApi_Deinit); the store lock goes with it.
pub fn deinit() {
    HOST.lock().take();
}

/// The host is one per process: unit tests that start it take turns.
#[cfg(test)]
pub static TEST_TURN: Mutex<()> = Mutex::new(());

fn load(dir: &Path) -> BTreeMap<String, Guest> {
    let mut out = BTreeMap::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    let paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        // Regular files only: opening a FIFO (or a device) that happens to
        // be named *.toml would wait for a writer for ever.
        .filter(|p| match fs::metadata(p) {
            Ok(m) if m.is_file() => true,
            Ok(_) => {
                log::error!("embedded host: {} is not a file; skipped", p.display());
                false
            }
            Err(e) => {
                log::error!("embedded host: cannot load {}: {e}; skipped", p.display());
                false
            }
        })
        .collect();
    // Thousands of guests are read and parsed on every core: start-up time
    // is what a host with 10,000 guests notices first.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = paths.len().div_ceil(cores.clamp(1, 8)).max(256);
    fn parse(chunk: &[PathBuf]) -> Vec<(PathBuf, Result<Guest, String>)> {
        chunk.iter().map(|p| (p.clone(), read_guest(p))).collect()
    }
    let parsed: Vec<(PathBuf, Result<Guest, String>)> = std::thread::scope(|s| {
        // A thread the OS refuses (EAGAIN) leaves its chunk to this one.
        let workers: Vec<_> = paths
            .chunks(per)
            .map(|chunk| {
                std::thread::Builder::new()
                    .name("emu-load".into())
                    .spawn_scoped(s, move || parse(chunk))
                    .map_err(|_| parse(chunk))
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w {
                Ok(t) => t.join().unwrap_or_default(),
                Err(done) => done,
            })
            .collect()
    });
    for (p, r) in parsed {
        // A corrupt guest is reported and skipped, never deleted.
        // What register and commit refuse is as corrupt on disk.
        match r.and_then(|g| validate(&g).map(|()| g).map_err(|(_, why)| why)) {
            Ok(g) if !g.uuid.is_empty() => {
                out.insert(g.uuid.clone(), g);
            }
            Ok(_) => log::error!("embedded host: {} has no uuid; skipped", p.display()),
            Err(e) => log::error!("embedded host: cannot load {}: {e}; skipped", p.display()),
        }
    }
    out
}

/// One guest file; a parser panic counts as a corrupt file (the parsing
/// threads must never lose a whole batch of guests).
fn read_guest(p: &Path) -> Result<Guest, String> {
    let text = fs::read_to_string(p).map_err(|e| e.to_string())?;
    std::panic::catch_unwind(|| toml::from_str::<Guest>(&text))
        .map_err(|_| "the parser failed".to_string())?
        .map_err(|e| e.to_string())
}

/// A new UUID in the SDK's braced form.
pub fn new_uuid() -> String {
    let raw = fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap_or_default();
    let raw = raw.trim();
    if raw.len() == 36 {
        return format!("{{{raw}}}");
    }
    // Fallback: time and pid mixed; unique enough for a test host.
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let h = format!("{:032x}", t ^ (u128::from(std::process::id()) << 64));
    format!(
        "{{{}-{}-4{}-8{}-{}}}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

impl Host {
    /// Runs `f` on the dispatcher thread (where jobs complete).
    pub fn dispatch(&self, f: impl FnOnce() + Send + 'static) {
        let _ = self.jobs.send(Box::new(f));
    }

    fn raise(&self, kind: u32, uuid: &str, params: Vec<(String, i64)>) {
        let _ = self.events.send((kind, uuid.to_string(), params));
    }

    /// Tells the handlers of dispatcher session `session` that their
    /// connection is gone (PET_DSP_EVT_DISP_CONNECTION_CLOSED).
    pub fn connection_closed(&self, session: u64) {
        self.raise(
            crate::sdk::abi::event::PET_DSP_EVT_DISP_CONNECTION_CLOSED,
            "",
            vec![(
                super::CLOSED_SESSION_PARAM.to_string(),
                i64::try_from(session).unwrap_or(i64::MAX),
            )],
        );
    }

    /// Every guest.
    pub fn list(&self) -> Vec<Guest> {
        self.guests.lock().values().cloned().collect()
    }

    /// The guest with this UUID.
    pub fn guest(&self, uuid: &str) -> Result<Guest, Fail> {
        self.guests
            .lock()
            .get(uuid)
            .cloned()
            .ok_or_else(|| not_found(uuid))
    }

    /// The guest with this UUID in any letter case (a store may have been
    /// written by another tool).
    pub fn guest_any_case(&self, uuid: &str) -> Result<Guest, Fail> {
        self.guests
            .lock()
            .get_any_case(uuid)
            .cloned()
            .ok_or_else(|| not_found(uuid))
    }

    fn path_of(&self, uuid: &str) -> PathBuf {
        let bare: String = uuid.chars().filter(|c| *c != '{' && *c != '}').collect();
        self.dir.join("guests").join(format!("{bare}.toml"))
    }

    fn persist(&self, g: &Guest) -> Result<(), Fail> {
        let text = toml::to_string(g).map_err(|e| (PRL_ERR_INVALID_ARG, e.to_string()))?;
        atomic_write(&self.path_of(&g.uuid), text.as_bytes()).map_err(|e| {
            (
                PRL_ERR_OUT_OF_MEMORY,
                format!("cannot save {}: {e}", g.name),
            )
        })
    }

    /// PrlVm_Reg: adds a new guest.
    pub fn register(&self, mut g: Guest) -> Result<Guest, Fail> {
        validate(&g)?;
        let mut guests = self.guests.lock();
        if g.uuid.is_empty() {
            g.uuid = new_uuid();
        }
        if let Some(other) = guests
            .get_any_case(&g.uuid)
            .or_else(|| guests.by_name(&g.name))
        {
            return Err((
                PRL_ERR_VM_ALREADY_REGISTERED,
                format!(
                    "The virtual machine '{}' is already registered.",
                    other.name
                ),
            ));
        }
        g.env_id = guests.next_env_id();
        g.state = VMS_STOPPED;
        if g.vm_type == PVT_CT && !g.os_template.is_empty() {
            let private = self.private_area(&g.uuid);
            fs::create_dir_all(&private).map_err(|e| {
                (
                    PRL_ERR_OUT_OF_MEMORY,
                    format!("cannot create {}: {e}", private.display()),
                )
            })?;
        }
        self.persist(&g)?;
        guests.insert(g.clone());
        self.raise(
            crate::sdk::abi::event::PET_DSP_EVT_VM_ADDED,
            &g.uuid,
            Vec::new(),
        );
        Ok(g)
    }

    /// Where a container's private area lives.
    pub fn private_area(&self, uuid: &str) -> PathBuf {
        let bare: String = uuid.chars().filter(|c| *c != '{' && *c != '}').collect();
        self.dir.join("private").join(bare)
    }

    /// The guest's performance counters by SDK name; they grow only while
    /// it runs.
    pub fn perf_counters(&self, uuid: &str) -> Result<Vec<(String, i64)>, Fail> {
        let g = self.guest(uuid)?;
        let extra = self
            .running_since
            .lock()
            .get(uuid)
            .map_or(0, |t| t.elapsed().as_millis() as u64);
        let secs = g.run_ms.saturating_add(extra) as i64 / 1000;
        let mut c = Vec::new();
        let mut push = |name: String, v: i64| c.push((name, v));
        let ct = g.vm_type == PVT_CT;
        for (i, d) in g.devices.iter().filter(|d| d.dev_type == 6).enumerate() {
            let prefix = if ct {
                format!("hdd{}", d.stack_index)
            } else {
                match d.iface_type {
                    0 => format!("ide{}", d.stack_index),
                    2 => format!("sata{}", d.stack_index),
                    _ => format!("scsi{}", d.stack_index),
                }
            };
            let k = i as i64 + 1;
            push(format!("devices.{prefix}.read_requests"), secs * 40 * k);
            push(format!("devices.{prefix}.read_total"), secs * 40 * k * 4096);
            push(format!("devices.{prefix}.write_requests"), secs * 20 * k);
            push(
                format!("devices.{prefix}.write_total"),
                secs * 20 * k * 8192,
            );
        }
        for (i, _) in g.devices.iter().filter(|d| d.dev_type == 8).enumerate() {
            push(format!("net.nic{i}.bytes_in"), secs * 12_000);
            push(format!("net.nic{i}.pkts_in"), secs * 10);
            push(format!("net.nic{i}.bytes_out"), secs * 8_000);
            push(format!("net.nic{i}.pkts_out"), secs * 8);
        }
        for v in 0..g.cpus {
            push(
                format!("guest.vcpu{v}.time"),
                secs * 1_000_000_000 / (i64::from(v) + 2),
            );
        }
        // Memory counters are in MiB, as Virtuozzo reports them.
        let total = i64::from(g.ram_mb);
        push("guest.ram.total".into(), total);
        push("guest.ram.usage".into(), (total / 4 + secs / 4).min(total));
        push("guest.ram.balloon_actual".into(), total);
        push("guest.ram.swap_in".into(), secs / 10);
        push("guest.ram.swap_out".into(), secs / 20);
        push("guest.ram.minor_fault".into(), secs * 100);
        push("guest.ram.major_fault".into(), secs * 2);
        Ok(c)
    }

    /// PrlVm_SubscribeToPerfStats: sends a perf-stats event now.
    pub fn send_perf_stats(&self, uuid: &str) -> Result<(), Fail> {
        let counters = self.perf_counters(uuid)?;
        self.raise(
            crate::sdk::abi::event::PET_DSP_EVT_VM_PERFSTATS,
            uuid,
            counters,
        );
        Ok(())
    }

    /// PrlVm_CreateSnapshot: a new current snapshot, child of the current.
    pub fn create_snapshot(&self, uuid: &str, description: &str) -> Result<(), Fail> {
        let mut guests = self.guests.lock();
        let mut g = guests.get_mut(uuid).ok_or_else(|| not_found(uuid))?;
        let mut copy = g.clone();
        copy.snapshots.clear();
        let config = toml::to_string(&copy).map_err(|e| (PRL_ERR_INVALID_ARG, e.to_string()))?;
        let parent = g
            .snapshots
            .iter()
            .find(|s| s.current)
            .map(|s| s.guid.clone())
            .unwrap_or_default();
        let mut next = g.clone();
        for s in &mut next.snapshots {
            s.current = false;
        }
        next.snapshots.push(Snapshot {
            guid: new_uuid(),
            parent,
            created: utc_now(),
            description: description.to_string(),
            creator: std::env::var("USER").unwrap_or_default(),
            state: g.state,
            current: true,
            config,
        });
        self.persist(&next)?;
        *g = next;
        Ok(())
    }

    /// PrlVm_DeleteSnapshot: removes one snapshot (its children move up to
    /// its parent, taking its place among the parent's children) or, with
    /// `children`, its whole subtree. When the current snapshot goes, its
    /// parent becomes current, as the SDK's snapshot store does.
    pub fn delete_snapshot(&self, uuid: &str, guid: &str, children: bool) -> Result<(), Fail> {
        let mut guests = self.guests.lock();
        let mut g = guests.get_mut(uuid).ok_or_else(|| not_found(uuid))?;
        let at = g
            .snapshots
            .iter()
            .position(|s| s.guid == guid)
            .ok_or_else(|| {
                (
                    PRL_ERR_ENTRY_DOES_NOT_EXIST,
                    format!("The snapshot {guid} does not exist."),
                )
            })?;
        sound_tree(&g)?;
        let target = g.snapshots[at].clone();
        let mut doomed = vec![target.guid.clone()];
        if children {
            let mut i = 0;
            while i < doomed.len() {
                let p = doomed[i].clone();
                let below: Vec<String> = g
                    .snapshots
                    .iter()
                    .filter(|s| s.parent == p && !doomed.contains(&s.guid))
                    .map(|s| s.guid.clone())
                    .collect();
                doomed.extend(below);
                i += 1;
            }
        }
        let current_gone = g
            .snapshots
            .iter()
            .any(|s| s.current && doomed.contains(&s.guid));
        // Siblings are ordered as the list is, parents before children:
        // the orphans take the deleted snapshot's place.
        let mut next = g.clone();
        let (mut orphans, rest): (Vec<Snapshot>, Vec<Snapshot>) =
            std::mem::take(&mut next.snapshots)
                .into_iter()
                .filter(|s| !doomed.contains(&s.guid))
                .partition(|s| s.parent == target.guid);
        for o in &mut orphans {
            o.parent = target.parent.clone();
        }
        next.snapshots = rest;
        let at = at.min(next.snapshots.len());
        next.snapshots.splice(at..at, orphans);
        if current_gone {
            if let Some(p) = next.snapshots.iter_mut().find(|s| s.guid == target.parent) {
                p.current = true;
            }
        }
        self.persist(&next)?;
        *g = next;
        Ok(())
    }

    /// PrlVm_SwitchToSnapshotEx: the guest gets the snapshot's config and
    /// state back (paused instead of running with `skip_resume`).
    pub fn revert_snapshot(&self, uuid: &str, guid: &str, skip_resume: bool) -> Result<(), Fail> {
        let mut guests = self.guests.lock();
        let mut g = guests.get_mut(uuid).ok_or_else(|| not_found(uuid))?;
        let s = g
            .snapshots
            .iter()
            .find(|s| s.guid == guid)
            .cloned()
            .ok_or_else(|| {
                (
                    PRL_ERR_ENTRY_DOES_NOT_EXIST,
                    format!("The snapshot {guid} does not exist."),
                )
            })?;
        let saved: Guest = toml::from_str(&s.config).map_err(|e| {
            (
                PRL_ERR_INVALID_ARG,
                format!("snapshot {guid} is damaged: {e}"),
            )
        })?;
        let old_state = g.state;
        let mut new_state = s.state;
        if skip_resume && new_state == VMS_RUNNING {
            new_state = VMS_PAUSED;
        }
        let mut back = Guest {
            uuid: g.uuid.clone(),
            env_id: g.env_id,
            run_ms: g.run_ms,
            state: new_state,
            snapshots: g.snapshots.clone(),
            ..saved
        };
        for x in &mut back.snapshots {
            x.current = x.guid == guid;
        }
        // Counters run while the guest runs: a run the revert ends is
        // banked, one it begins starts the clock.
        let mut since = self.running_since.lock();
        let ended = if new_state == VMS_RUNNING {
            None
        } else {
            since.get(uuid).map(|t| t.elapsed().as_millis() as u64)
        };
        back.run_ms = back.run_ms.saturating_add(ended.unwrap_or(0));
        self.persist(&back)?;
        *g = back;
        drop(g);
        if new_state == VMS_RUNNING {
            since
                .entry(uuid.to_string())
                .or_insert_with(std::time::Instant::now);
        } else {
            since.remove(uuid);
        }
        drop(since);
        drop(guests);
        self.raise(
            crate::sdk::abi::event::PET_DSP_EVT_VM_CONFIG_CHANGED,
            uuid,
            Vec::new(),
        );
        if new_state != old_state {
            self.raise(
                crate::sdk::abi::event::PET_DSP_EVT_VM_STATE_CHANGED,
                uuid,
                vec![("vminfo_vm_state".to_string(), i64::from(new_state))],
            );
        }
        Ok(())
    }

    /// PrlVm_GetSnapshotsTreeEx: the tree as the SDK's XML document, laid
    /// out as Virtuozzo's snapshot store writes it (see [`snapshot_tree_xml`]).
    pub fn snapshot_tree(&self, uuid: &str) -> Result<String, Fail> {
        let g = self.guest(uuid)?;
        sound_tree(&g)?;
        Ok(snapshot_tree_xml(&g.snapshots))
    }

    /// PrlVm_CommitEx: stores an edited configuration.
    pub fn commit(&self, uuid: &str, g: &Guest) -> Result<Guest, Fail> {
        validate(g)?;
        let mut guests = self.guests.lock();
        let cur = guests.get(uuid).cloned().ok_or_else(|| not_found(uuid))?;
        if guests.by_name(&g.name).is_some_and(|o| o.uuid != cur.uuid) {
            return Err((
                PRL_ERR_VM_ALREADY_REGISTERED,
                format!("The name '{}' is used by another virtual machine.", g.name),
            ));
        }
        let new = Guest {
            uuid: cur.uuid.clone(),
            env_id: cur.env_id,
            state: cur.state,
            ..g.clone()
        };
        self.persist(&new)?;
        guests.insert(new.clone());
        self.raise(
            crate::sdk::abi::event::PET_DSP_EVT_VM_CONFIG_CHANGED,
            &cur.uuid,
            Vec::new(),
        );
        Ok(new)
    }

    /// PrlVmDev_ResizeImage: a disk image of a registered guest grows.
    pub fn resize_disk(&self, uuid: &str, device: u64, size_mb: u32) -> Result<(), Fail> {
        let mut guests = self.guests.lock();
        let mut g = guests.get_mut(uuid).ok_or_else(|| not_found(uuid))?;
        let mut next = g.clone();
        let d = next.devices.iter_mut().find(|d| d.id == device).ok_or((
            PRL_ERR_INVALID_ARG,
            "The device does not exist.".to_string(),
        ))?;
        if d.emulated_type != crate::sdk::abi::dev::PDT_USE_IMAGE_FILE {
            return Err((
                PRL_ERR_INVALID_ARG,
                "Only image disks can be resized.".to_string(),
            ));
        }
        if size_mb < d.size_mb {
            return Err((
                PRL_ERR_INVALID_ARG,
                "Shrinking a disk image is not supported.".to_string(),
            ));
        }
        d.size_mb = size_mb;
        self.persist(&next)?;
        *g = next;
        Ok(())
    }

    /// PrlVm_Delete: removes a stopped guest.
    pub fn delete(&self, uuid: &str) -> Result<(), Fail> {
        let mut guests = self.guests.lock();
        let g = guests.get(uuid).ok_or_else(|| not_found(uuid))?;
        if g.state != VMS_STOPPED && g.state != VMS_SUSPENDED {
            return Err((
                PRL_ERR_DISP_VM_IS_NOT_STOPPED,
                format!("The virtual machine '{}' is not stopped.", g.name),
            ));
        }
        let path = self.path_of(uuid);
        fs::remove_file(&path).map_err(|e| {
            (
                PRL_ERR_OUT_OF_MEMORY,
                format!("cannot remove {}: {e}", path.display()),
            )
        })?;
        sync_dir(path.parent().unwrap_or(Path::new(".")));
        guests.remove(uuid);
        self.raise(
            crate::sdk::abi::event::PET_DSP_EVT_VM_DELETED,
            uuid,
            Vec::new(),
        );
        Ok(())
    }

    /// A state change, with the SDK's errors for invalid transitions.
    pub fn act(&self, uuid: &str, action: Action) -> Result<(), Fail> {
        let mut guests = self.guests.lock();
        let mut g = guests.get_mut(uuid).ok_or_else(|| not_found(uuid))?;
        let running = g.state == VMS_RUNNING;
        let paused = g.state == VMS_PAUSED;
        let stopped = g.state == VMS_STOPPED || g.state == VMS_SUSPENDED;
        if action == Action::Start && stopped {
            missing_image(&g)?;
        }
        let new = match action {
            Action::Start if g.state == VMS_SUSPENDED && g.saved_paused => VMS_PAUSED,
            Action::Start if stopped => VMS_RUNNING,
            Action::Start if paused => VMS_RUNNING,
            Action::Start => return Err(not_stopped(&g.name)),
            Action::Stop if running || paused => VMS_STOPPED,
            Action::Pause if running => VMS_PAUSED,
            Action::Resume if paused => VMS_RUNNING,
            Action::Restart | Action::Reset if running => VMS_RUNNING,
            Action::Suspend if running || paused => VMS_SUSPENDED,
            Action::DropSuspended if g.state == VMS_SUSPENDED => VMS_STOPPED,
            _ if stopped => return Err(not_started(&g.name)),
            _ => {
                return Err((
                    PRL_ERR_INVALID_ACTION_REQUESTED,
                    format!("The action is not valid in the state of '{}'.", g.name),
                ))
            }
        };
        let old = g.state;
        g.state = new;
        g.saved_paused = new == VMS_SUSPENDED && old == VMS_PAUSED;
        {
            let mut since = self.running_since.lock();
            if old == VMS_RUNNING && new != VMS_RUNNING {
                if let Some(t) = since.remove(uuid) {
                    g.run_ms = g.run_ms.saturating_add(t.elapsed().as_millis() as u64);
                }
            } else if new == VMS_RUNNING && old != VMS_RUNNING {
                since.insert(uuid.to_string(), std::time::Instant::now());
            }
        }
        let snapshot = g.clone();
        drop(g);
        if let Err(e) = self.persist(&snapshot) {
            if let Some(mut g) = guests.get_mut(uuid) {
                g.state = old;
            }
            return Err(e);
        }
        // A restart or reset passes through no other state, but the SDK
        // still reports it (libvirt turns it into nothing visible).
        self.raise(
            crate::sdk::abi::event::PET_DSP_EVT_VM_STATE_CHANGED,
            uuid,
            vec![("vminfo_vm_state".to_string(), i64::from(new))],
        );
        Ok(())
    }
}

/// A VM starts only when its connected disk and CD images exist, as on a
/// real host.
fn missing_image(g: &Guest) -> Result<(), Fail> {
    const PDE_OPTICAL_DISK: u32 = 5;
    const PDE_HARD_DISK: u32 = 6;
    const PDT_USE_IMAGE_FILE: u32 = 1;
    for d in &g.devices {
        let disk = d.dev_type == PDE_HARD_DISK || d.dev_type == PDE_OPTICAL_DISK;
        if disk
            && d.emulated_type == PDT_USE_IMAGE_FILE
            && d.connected
            && !d.image_path.is_empty()
            && !Path::new(&d.image_path).exists()
        {
            return Err((
                PRL_ERR_INVALID_ARG,
                format!(
                    "Unable to start '{}': the image file '{}' does not exist.",
                    g.name, d.image_path
                ),
            ));
        }
    }
    Ok(())
}

/// "YYYY-MM-DD HH:MM:SS" in UTC, the SDK's snapshot time format.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (y, mo, d, h, mi, s) = crate::civil_time::utc(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// Refuses a guest whose stored snapshots do not form a tree (a store
/// edited or damaged on disk): a nameless or repeated GUID, a parent that
/// does not exist, or a chain of parents that loops. Such a tree cannot
/// be written as the SDK's nested document, and walking it never ends.
fn sound_tree(g: &Guest) -> Result<(), Fail> {
    let damaged = |why: String| {
        Err((
            PRL_ERR_OPERATION_FAILED,
            format!("The snapshot tree of '{}' is damaged: {why}.", g.name),
        ))
    };
    let mut kids: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for s in &g.snapshots {
        if s.guid.is_empty() {
            return damaged("a snapshot has no GUID".into());
        }
        if !seen.insert(s.guid.as_str()) {
            return damaged(format!("the snapshot {} is there twice", s.guid));
        }
        kids.entry(s.parent.as_str()).or_default().push(&s.guid);
    }
    if let Some(s) = g
        .snapshots
        .iter()
        .find(|s| !s.parent.is_empty() && !seen.contains(s.parent.as_str()))
    {
        return damaged(format!(
            "the parent {} of the snapshot {} does not exist",
            s.parent, s.guid
        ));
    }
    // Every parent exists and every GUID is unique: what the roots do not
    // reach hangs in (or below) a loop of parents.
    let mut reached = std::collections::HashSet::new();
    let mut todo: Vec<&str> = vec![""];
    while let Some(p) = todo.pop() {
        for &c in kids.get(p).into_iter().flatten() {
            if reached.insert(c) {
                todo.push(c);
            }
        }
    }
    if let Some(s) = g
        .snapshots
        .iter()
        .find(|s| !reached.contains(s.guid.as_str()))
    {
        return damaged(format!("the parents of the snapshot {} loop", s.guid));
    }
    Ok(())
}

/// The snapshot tree as Virtuozzo's snapshot store (`Snapshots.xml`)
/// writes it: root `ParallelsSavedStates`, one nameless head
/// `SavedStateItem` (current itself when the current snapshot was deleted
/// from under it), the snapshots nested below their parents, each with
/// `Name`, `DateTime`, `Creator`, `ScreenShot` and a CDATA `Description`,
/// indented by four. No snapshots: no tree, an empty string.
pub fn snapshot_tree_xml(snapshots: &[Snapshot]) -> String {
    if snapshots.is_empty() {
        return String::new();
    }
    let mut kids: BTreeMap<&str, Vec<&Snapshot>> = BTreeMap::new();
    // A damaged store may hold a snapshot that is its own parent, or one
    // GUID twice; each is left out rather than followed forever.
    for s in snapshots
        .iter()
        .filter(|s| !s.guid.is_empty() && s.guid != s.parent)
    {
        kids.entry(s.parent.as_str()).or_default().push(s);
    }
    let head = Snapshot {
        current: !snapshots.iter().any(|s| s.current),
        state: VMS_STOPPED,
        ..Snapshot::default()
    };
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ParallelsSavedStates>\n");
    // Iterative, so a long chain of snapshots cannot exhaust the stack:
    // each entry is an item to open, or (None) the close of the last one.
    let mut todo: Vec<(Option<&Snapshot>, usize)> = vec![(Some(&head), 1)];
    let mut written = std::collections::HashSet::new();
    while let Some((item, depth)) = todo.pop() {
        let pad = "    ".repeat(depth);
        let Some(s) = item else {
            out.push_str(&format!("{pad}</SavedStateItem>\n"));
            continue;
        };
        if !written.insert(s.guid.as_str()) {
            continue;
        }
        let state = match s.state {
            VMS_RUNNING => "poweron",
            VMS_PAUSED => "pause",
            VMS_SUSPENDED => "suspend",
            _ => "poweroff",
        };
        let inner = "    ".repeat(depth + 1);
        out.push_str(&format!(
            "{pad}<SavedStateItem guid=\"{}\" state=\"{state}\"{}>\n\
             {inner}<Name></Name>\n\
             {inner}<DateTime>{}</DateTime>\n\
             {inner}<Creator>{}</Creator>\n\
             {inner}<ScreenShot></ScreenShot>\n\
             {inner}<Description><![CDATA[{}]]></Description>\n",
            escape(&s.guid),
            if s.current { " current=\"yes\"" } else { "" },
            escape(&s.created),
            escape(&s.creator),
            s.description.replace("]]>", "]]]]><![CDATA[>"),
        ));
        todo.push((None, depth));
        if let Some(children) = kids.get(s.guid.as_str()) {
            for c in children.iter().rev() {
                todo.push((Some(c), depth + 1));
            }
        }
    }
    out.push_str("</ParallelsSavedStates>\n");
    out
}

/// Text for XML character data and attribute values.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn not_found(uuid: &str) -> Fail {
    (
        PRL_ERR_VM_UUID_NOT_FOUND,
        format!("The virtual machine {uuid} could not be found."),
    )
}

fn not_started(name: &str) -> Fail {
    (
        PRL_ERR_DISP_VM_IS_NOT_STARTED,
        format!("The virtual machine '{name}' is not running."),
    )
}

fn not_stopped(name: &str) -> Fail {
    (
        PRL_ERR_DISP_VM_IS_NOT_STOPPED,
        format!("The virtual machine '{name}' is already running."),
    )
}

/// The most CPUs a guest may have (as many as libvirt's vz driver says a
/// Virtuozzo guest may): every CPU has its counters, and a store saying
/// four billion must not make the host count them.
pub const MAX_CPUS: u32 = 1028;

fn validate(g: &Guest) -> Result<(), Fail> {
    if g.name.trim().is_empty() {
        return Err((PRL_ERR_INVALID_ARG, "The name must not be empty.".into()));
    }
    if g.ram_mb == 0 || g.cpus == 0 {
        return Err((
            PRL_ERR_INVALID_ARG,
            "Memory and CPU count must be positive.".into(),
        ));
    }
    if g.cpus > MAX_CPUS {
        return Err((
            PRL_ERR_INVALID_ARG,
            format!("A guest has at most {MAX_CPUS} CPUs."),
        ));
    }
    if g.vm_type != PVT_VM && g.vm_type != PVT_CT {
        return Err((PRL_ERR_INVALID_ARG, "Unknown guest type.".into()));
    }
    Ok(())
}

/// Writes `data` to `path` so that a crash at any moment leaves either the
/// old file or the new one: temp file, fsync, rename, fsync of the dir.
pub fn atomic_write(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("guest")
    ));
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_form_a_tree_revert_restores_config_and_delete_reparents() {
        let dir = std::env::temp_dir().join(format!("virtvzd-snap-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let _turn = TEST_TURN.lock();
        deinit();
        set_store_dir(&dir);
        init().expect("host starts");
        let h = host().expect("host is up");
        let g = h
            .register(Guest {
                name: "snap-test".into(),
                vm_type: PVT_VM,
                ram_mb: 512,
                cpus: 1,
                state: VMS_STOPPED,
                ..Guest::default()
            })
            .expect("registered");
        let uuid = g.uuid.clone();

        h.create_snapshot(&uuid, "first <one>").unwrap();
        let mut edited = h.guest(&uuid).unwrap();
        edited.ram_mb = 1024;
        h.commit(&uuid, &edited).unwrap();
        h.create_snapshot(&uuid, "second").unwrap();

        let snaps = h.guest(&uuid).unwrap().snapshots;
        assert_eq!(snaps.len(), 2);
        let (first, second) = (snaps[0].clone(), snaps[1].clone());
        assert_eq!(first.parent, "");
        assert_eq!(second.parent, first.guid);
        assert!(second.current && !first.current);

        let tree = h.snapshot_tree(&uuid).unwrap();
        let nested = format!(
            "        <SavedStateItem guid=\"{}\" state=\"poweroff\">\n",
            first.guid
        );
        assert!(tree.contains(&nested), "{tree}");
        assert!(tree.contains("<![CDATA[first <one>]]>"), "{tree}");
        assert!(tree.contains(&format!(
            "            <SavedStateItem guid=\"{}\" state=\"poweroff\" current=\"yes\">\n",
            second.guid
        )));

        h.revert_snapshot(&uuid, &first.guid, false).unwrap();
        let back = h.guest(&uuid).unwrap();
        assert_eq!(back.ram_mb, 512, "reverting restores the saved config");
        assert_eq!(back.snapshots.len(), 2, "reverting keeps every snapshot");
        assert!(back
            .snapshots
            .iter()
            .any(|s| s.guid == first.guid && s.current));

        assert!(h.revert_snapshot(&uuid, "{no-such}", false).is_err());

        h.delete_snapshot(&uuid, &first.guid, false).unwrap();
        let left = h.guest(&uuid).unwrap().snapshots;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].guid, second.guid);
        assert_eq!(
            left[0].parent, "",
            "children move up to the deleted one's parent"
        );

        h.delete(&uuid).unwrap();
        drop(h);
        deinit();
        let _ = fs::remove_dir_all(&dir);
    }

    fn snap(guid: &str, parent: &str, current: bool) -> Snapshot {
        Snapshot {
            guid: guid.into(),
            parent: parent.into(),
            created: "2024-02-29 23:59:58".into(),
            creator: "root".into(),
            state: VMS_RUNNING,
            current,
            ..Snapshot::default()
        }
    }

    #[test]
    fn the_tree_is_laid_out_as_the_sdk_store_writes_it() {
        assert_eq!(snapshot_tree_xml(&[]), "", "no snapshots, no tree");
        let mut b = snap("{b}", "{a}", true);
        b.state = VMS_PAUSED;
        b.description = "x ]]> y".into();
        let tree = snapshot_tree_xml(&[snap("{a}", "", false), b]);
        let want = r#"<?xml version="1.0" encoding="UTF-8"?>
<ParallelsSavedStates>
    <SavedStateItem guid="" state="poweroff">
        <Name></Name>
        <DateTime></DateTime>
        <Creator></Creator>
        <ScreenShot></ScreenShot>
        <Description><![CDATA[]]></Description>
        <SavedStateItem guid="{a}" state="poweron">
            <Name></Name>
            <DateTime>2024-02-29 23:59:58</DateTime>
            <Creator>root</Creator>
            <ScreenShot></ScreenShot>
            <Description><![CDATA[]]></Description>
            <SavedStateItem guid="{b}" state="pause" current="yes">
                <Name></Name>
                <DateTime>2024-02-29 23:59:58</DateTime>
                <Creator>root</Creator>
                <ScreenShot></ScreenShot>
                <Description><![CDATA[x ]]]]><![CDATA[> y]]></Description>
            </SavedStateItem>
        </SavedStateItem>
    </SavedStateItem>
</ParallelsSavedStates>
"#;
        assert_eq!(tree, want);
        // The current snapshot deleted from under the head: the head is
        // current; a snapshot that is its own parent is never followed.
        let tree = snapshot_tree_xml(&[snap("{a}", "", false), snap("{c}", "{c}", false)]);
        assert!(tree.contains("<SavedStateItem guid=\"\" state=\"poweroff\" current=\"yes\">"));
        assert!(!tree.contains("{c}"), "{tree}");
    }

    #[test]
    fn a_damaged_store_is_refused_not_walked() {
        let guest = |snapshots: Vec<Snapshot>| Guest {
            name: "g".into(),
            snapshots,
            ..Guest::default()
        };
        let why = |snapshots| sound_tree(&guest(snapshots));
        assert!(why(vec![snap("{a}", "", false), snap("{b}", "{a}", true)]).is_ok());
        assert!(why(Vec::new()).is_ok());
        for (snaps, want) in [
            (
                vec![snap("{a}", "{b}", false), snap("{b}", "{a}", false)],
                "the parents of the snapshot {a} loop",
            ),
            (
                vec![snap("{r}", "", false), snap("{c}", "{c}", false)],
                "the parents of the snapshot {c} loop",
            ),
            (
                // Below a loop, not in it.
                vec![
                    snap("{a}", "{b}", false),
                    snap("{b}", "{a}", false),
                    snap("{c}", "{a}", false),
                ],
                "the parents of the snapshot {a} loop",
            ),
            (
                vec![snap("{a}", "", false), snap("{b}", "{gone}", false)],
                "the parent {gone} of the snapshot {b} does not exist",
            ),
            (
                vec![
                    snap("{a}", "", false),
                    snap("{b}", "{a}", false),
                    snap("{a}", "{b}", false),
                ],
                "the snapshot {a} is there twice",
            ),
            (vec![snap("", "", false)], "a snapshot has no GUID"),
        ] {
            assert_eq!(
                why(snaps),
                Err((
                    PRL_ERR_OPERATION_FAILED,
                    format!("The snapshot tree of 'g' is damaged: {want}.")
                ))
            );
        }
        // The document itself never follows a GUID twice: a repeated one
        // under its own descendant used to be written forever.
        let tree = snapshot_tree_xml(&[
            snap("{a}", "", false),
            snap("{b}", "{a}", false),
            snap("{a}", "{b}", false),
        ]);
        assert_eq!(tree.matches("guid=\"{a}\"").count(), 1, "{tree}");
        assert_eq!(tree.matches("guid=\"{b}\"").count(), 1, "{tree}");
    }

    #[test]
    fn loading_skips_what_is_not_a_guest_file() {
        let dir = std::env::temp_dir().join(format!("virtvzd-fifo-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub.toml")).unwrap();
        let good = Guest {
            uuid: "{00000000-0000-4000-8000-0000000000aa}".into(),
            name: "good".into(),
            vm_type: PVT_VM,
            ram_mb: 512,
            cpus: 1,
            ..Guest::default()
        };
        fs::write(dir.join("good.toml"), toml::to_string(&good).unwrap()).unwrap();
        let fifo =
            std::ffi::CString::new(dir.join("fifo.toml").into_os_string().into_encoded_bytes())
                .unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo touches nothing else.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        // Reading the FIFO waited for a writer that never comes.
        let loaded = load(&dir);
        assert_eq!(loaded.keys().collect::<Vec<_>>(), [&good.uuid]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_parent_loop_on_disk_fails_the_calls_that_walk_it() {
        let dir = std::env::temp_dir().join(format!("virtvzd-snaploop-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let _turn = TEST_TURN.lock();
        deinit();
        let uuid = "{00000000-0000-4000-8000-00000000100f}";
        let g = Guest {
            uuid: uuid.into(),
            name: "looped".into(),
            vm_type: PVT_VM,
            ram_mb: 512,
            cpus: 1,
            snapshots: vec![snap("{a}", "{b}", false), snap("{b}", "{a}", true)],
            ..Guest::default()
        };
        fs::create_dir_all(dir.join("guests")).unwrap();
        fs::write(
            dir.join("guests/00000000-0000-4000-8000-00000000100f.toml"),
            toml::to_string(&g).unwrap(),
        )
        .unwrap();
        set_store_dir(&dir);
        init().expect("host starts");
        let h = host().expect("host is up");
        let e = h.snapshot_tree(uuid).unwrap_err();
        assert_eq!(e.0, PRL_ERR_OPERATION_FAILED, "{e:?}");
        assert!(e.1.contains("is damaged"), "{e:?}");
        // Deleting a subtree walked the children round the loop for ever.
        assert_eq!(
            h.delete_snapshot(uuid, "{a}", true).unwrap_err().0,
            PRL_ERR_OPERATION_FAILED
        );
        assert_eq!(h.guest(uuid).unwrap().snapshots.len(), 2, "nothing lost");
        drop(h);
        deinit();
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn delete_puts_orphans_in_place_and_hands_current_to_the_parent() {
        let dir = std::env::temp_dir().join(format!("virtvzd-snapdel-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let _turn = TEST_TURN.lock();
        deinit();
        set_store_dir(&dir);
        init().expect("host starts");
        let h = host().expect("host is up");
        let uuid = h
            .register(Guest {
                name: "snap-del".into(),
                vm_type: PVT_VM,
                ram_mb: 512,
                cpus: 1,
                ..Guest::default()
            })
            .expect("registered")
            .uuid;
        let guids = |h: &Host| -> Vec<String> {
            h.guest(&uuid)
                .unwrap()
                .snapshots
                .iter()
                .map(|s| s.guid.clone())
                .collect()
        };
        // a; b under a; c under a (after going back to a); d under b.
        h.create_snapshot(&uuid, "a").unwrap();
        h.create_snapshot(&uuid, "b").unwrap();
        let [a, b] = <[String; 2]>::try_from(guids(&h)).unwrap();
        h.revert_snapshot(&uuid, &a, false).unwrap();
        h.create_snapshot(&uuid, "c").unwrap();
        h.revert_snapshot(&uuid, &b, false).unwrap();
        h.create_snapshot(&uuid, "d").unwrap();
        let all = guids(&h);
        let (c, d) = (all[2].clone(), all[3].clone());
        h.delete_snapshot(&uuid, &b, false).unwrap();
        assert_eq!(guids(&h), vec![a.clone(), d.clone(), c.clone()]);
        let g = h.guest(&uuid).unwrap();
        assert!(g
            .snapshots
            .iter()
            .all(|s| s.parent == if s.guid == a { "" } else { a.as_str() }));
        assert!(g.snapshots.iter().any(|s| s.guid == d && s.current));
        // Deleting the current snapshot makes its parent current; with
        // children, the whole subtree goes.
        h.delete_snapshot(&uuid, &d, false).unwrap();
        assert!(h
            .guest(&uuid)
            .unwrap()
            .snapshots
            .iter()
            .any(|s| s.guid == a && s.current));
        h.delete_snapshot(&uuid, &a, true).unwrap();
        assert!(guids(&h).is_empty());
        assert_eq!(h.snapshot_tree(&uuid).unwrap(), "");
        h.delete(&uuid).unwrap();
        drop(h);
        deinit();
        let _ = fs::remove_dir_all(&dir);
    }
}

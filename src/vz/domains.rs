//! Domains: Virtuozzo guests seen through the SDK, with libvirt's states,
//! checks and errors, and a per-domain job lock so changes to one guest
//! are serialised while different guests proceed in parallel.

use super::domain_xml::{
    self, format_uuid, BootDev, Bus, DeviceDef, Disk, DiskDevice, DomainDef, Filesystem, Graphics,
    Interface, NetSource, OsType, Serial, SerialSource,
};
use super::Driver;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::sdk::abi::dev::*;
use crate::sdk::abi::{
    err, vms, PACF_NON_INTERACTIVE_MODE, PAO_VM_START_MANUAL, PAO_VM_START_ON_LOAD,
    PCM_CPU_MODE_32, PCM_CPU_MODE_64, PRNVM_PRESERVE_DISK, PVTF_CT, PVTF_VM, PVT_CT,
};
use crate::sdk::{Guest, Handle, Sdk, SdkError};
use parking_lot::Mutex;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long a call waits for another change to the same domain
/// (libvirt's vz driver waits 30 s; the unit tests do not).
const JOB_WAIT: Duration = if cfg!(test) {
    Duration::from_millis(300)
} else {
    Duration::from_secs(30)
};

/// How long a device change waits for its device event to be sent.
const DEVICE_EVENT_WAIT: Duration = Duration::from_secs(5);

/// libvirt domain states (`virDomainState`).
pub mod state {
    /// VIR_DOMAIN_NOSTATE
    pub const NOSTATE: i32 = 0;
    /// VIR_DOMAIN_RUNNING
    pub const RUNNING: i32 = 1;
    /// VIR_DOMAIN_PAUSED
    pub const PAUSED: i32 = 3;
    /// VIR_DOMAIN_SHUTDOWN
    pub const SHUTDOWN: i32 = 4;
    /// VIR_DOMAIN_SHUTOFF
    pub const SHUTOFF: i32 = 5;
}

/// A domain as a client sees it.
pub struct Domain {
    /// Name.
    pub name: String,
    /// UUID.
    pub uuid: [u8; 16],
    /// Domain id while active, else -1.
    pub id: i32,
    /// The SDK state (VMS_*).
    pub vms: u32,
    /// Autostart enabled.
    pub autostart: bool,
    /// The definition.
    pub def: DomainDef,
    guest: Guest,
    /// The XML, formatted on first request: a cached domain never changes
    /// (a change makes a new one), and clients ask for the XML often.
    xml: OnceLock<String>,
}

/// What an SDK state (VMS_*) is in libvirt's words: (state, reason,
/// whether the domain is active and has an id), as libvirt's vz driver
/// converts them (reference §3.6). Transitional states count as the state
/// they come from or go to.
pub fn vms_state(vms: u32) -> (i32, i32, bool) {
    use vms::*;
    match vms {
        VMS_STOPPED | VMS_MOUNTED => (state::SHUTOFF, reason::SHUTOFF_SHUTDOWN, false),
        VMS_STARTING | VMS_COMPACTING | VMS_RESETTING | VMS_PAUSING | VMS_RECONNECTING
        | VMS_RUNNING => (state::RUNNING, reason::RUNNING_BOOTED, true),
        VMS_PAUSED => (state::PAUSED, reason::PAUSED_USER, true),
        VMS_SUSPENDED | VMS_DELETING_STATE | VMS_SUSPENDING_SYNC => {
            (state::SHUTOFF, reason::SHUTOFF_SAVED, false)
        }
        VMS_STOPPING => (state::SHUTDOWN, reason::SHUTDOWN_USER, true),
        VMS_SNAPSHOTING => (state::PAUSED, reason::PAUSED_SNAPSHOT, true),
        VMS_MIGRATING => (state::PAUSED, reason::PAUSED_MIGRATION, true),
        VMS_SUSPENDING => (state::PAUSED, reason::PAUSED_SAVE, true),
        VMS_RESTORING | VMS_RESUMING => (state::RUNNING, reason::RUNNING_RESTORED, true),
        VMS_CONTINUING => (state::RUNNING, reason::RUNNING_UNPAUSED, true),
        _ => (state::NOSTATE, reason::NOSTATE_UNKNOWN, false),
    }
}

/// libvirt's state reasons (`virDomain*Reason`) the vz states map to.
pub mod reason {
    /// VIR_DOMAIN_NOSTATE_UNKNOWN
    pub const NOSTATE_UNKNOWN: i32 = 0;
    /// VIR_DOMAIN_RUNNING_BOOTED
    pub const RUNNING_BOOTED: i32 = 1;
    /// VIR_DOMAIN_RUNNING_RESTORED
    pub const RUNNING_RESTORED: i32 = 3;
    /// VIR_DOMAIN_RUNNING_UNPAUSED
    pub const RUNNING_UNPAUSED: i32 = 5;
    /// VIR_DOMAIN_PAUSED_USER
    pub const PAUSED_USER: i32 = 1;
    /// VIR_DOMAIN_PAUSED_MIGRATION
    pub const PAUSED_MIGRATION: i32 = 2;
    /// VIR_DOMAIN_PAUSED_SAVE
    pub const PAUSED_SAVE: i32 = 3;
    /// VIR_DOMAIN_PAUSED_SNAPSHOT
    pub const PAUSED_SNAPSHOT: i32 = 9;
    /// VIR_DOMAIN_SHUTDOWN_USER
    pub const SHUTDOWN_USER: i32 = 1;
    /// VIR_DOMAIN_SHUTOFF_SHUTDOWN
    pub const SHUTOFF_SHUTDOWN: i32 = 1;
    /// VIR_DOMAIN_SHUTOFF_SAVED
    pub const SHUTOFF_SAVED: i32 = 5;
}

impl Domain {
    /// The SDK handle of the guest.
    pub fn guest_handle(&self) -> &Guest {
        &self.guest
    }

    /// libvirt's (state, reason) for the guest's SDK state.
    pub fn state(&self) -> (i32, i32) {
        let (st, reason, _) = vms_state(self.vms);
        (st, reason)
    }

    /// Running or paused (has an id).
    pub fn is_active(&self) -> bool {
        self.id >= 0
    }

    /// The domain XML as a client asks for it: `inactive`
    /// (VIR_DOMAIN_XML_INACTIVE) without a running domain's id and
    /// aliases, `secure` (VIR_DOMAIN_XML_SECURE) with the VNC password.
    /// The common form (as it is, no secrets) is formatted once per cached
    /// domain.
    pub fn xml(&self, inactive: bool, secure: bool) -> String {
        let id = (!inactive && self.is_active()).then_some(self.id);
        if secure || (inactive && self.is_active()) {
            return domain_xml::format_xml(&self.def, &self.uuid, id, secure);
        }
        self.xml
            .get_or_init(|| domain_xml::format_xml(&self.def, &self.uuid, id, false))
            .clone()
    }
}

/// libvirt's error for an SDK failure, with the SDK's own text: the codes
/// libvirt's driver counts as "not in a state for that" are
/// OPERATION_INVALID (reference §1.3), everything else OPERATION_FAILED;
/// a guest that is gone is NO_DOMAIN and a job that never ended
/// OPERATION_TIMEOUT. libvirt's driver replaces the text of a refused
/// state change with "Can't change domain state."; we keep the SDK's
/// reason, which says what was wrong (our own state checks before the
/// call still answer with libvirt's wording).
pub(super) fn sdk_error(e: SdkError) -> VirError {
    let code = match e.code {
        err::PRL_ERR_DISP_VM_IS_NOT_STARTED
        | err::PRL_ERR_DISP_VM_IS_NOT_STOPPED
        | err::PRL_ERR_INVALID_ACTION_REQUESTED
        | err::PRL_ERR_UNIMPLEMENTED => ErrorCode::OperationInvalid,
        err::PRL_ERR_VM_UUID_NOT_FOUND => ErrorCode::NoDomain,
        err::PRL_ERR_TIMEOUT => ErrorCode::OperationTimeout,
        _ => ErrorCode::OperationFailed,
    };
    VirError::new(code, ErrorDomain::Parallels, e.message)
}

fn invalid(detail: &str) -> VirError {
    VirError::new(ErrorCode::OperationInvalid, ErrorDomain::Parallels, detail)
}

/// libvirt's vz driver answers every refused state change (start, stop,
/// pause, resume, suspend, restart, reset) with this one message.
fn cannot_change_state() -> VirError {
    invalid("Can't change domain state.")
}

fn load(guest: Guest) -> Result<Domain, SdkError> {
    let uuid_text = guest.uuid()?;
    let uuid = domain_xml::parse_uuid(&uuid_text).ok_or(SdkError {
        code: err::PRL_ERR_INVALID_ARG,
        message: format!("guest with a malformed uuid '{uuid_text}'"),
    })?;
    let vms_state = guest.state()?;
    let (_, _, active) = self::vms_state(vms_state);
    let os_type = if guest.vm_type()? == PVT_CT {
        OsType::Exe
    } else {
        OsType::Hvm
    };
    let mut def = DomainDef {
        name: guest.name()?,
        uuid: Some(uuid),
        os_type,
        arch: match guest.cpu_mode()? {
            PCM_CPU_MODE_32 => "i686",
            _ => "x86_64",
        }
        .to_string(),
        memory_kib: u64::from(guest.ram_mb()?) * 1024,
        vcpus: vcpus_from_sdk(guest.cpus()?),
        description: guest.description()?,
        cpuset: Some(guest.cpu_mask()?).filter(|m| !m.is_empty()),
        disks: Vec::new(),
        interfaces: Vec::new(),
        graphics: None,
        video_vram_kib: None,
        serials: Vec::new(),
        filesystems: Vec::new(),
        boot: Vec::new(),
    };
    load_devices(&guest, &mut def)?;
    Ok(Domain {
        name: def.name.clone(),
        uuid,
        id: if active {
            i32::try_from(guest.env_id()?).unwrap_or(i32::MAX)
        } else {
            -1
        },
        vms: vms_state,
        autostart: guest.autostart()? == PAO_VM_START_ON_LOAD,
        def,
        guest,
        xml: OnceLock::new(),
    })
}

/// A guest's CPU count as the SDK gives it, held to what a guest may have
/// (1 to `MAX_VCPUS`): vCPU lists, counters and stats are sized by it, and
/// a host that reports four billion must not make every call on the guest
/// allocate for them. Logged when it had to be bounded.
fn vcpus_from_sdk(n: u32) -> u32 {
    let bounded = n.clamp(1, super::MAX_VCPUS as u32);
    if bounded != n {
        log::warn!("the host reports {n} CPUs for a guest; taken as {bounded}");
    }
    bounded
}

/// Every guest of the host, read through the SDK (the cache's full load).
pub(super) fn load_all(sdk: &Arc<Sdk>, session: &Handle) -> VirResult<Vec<Domain>> {
    let guests = sdk.guests(session, PVTF_VM | PVTF_CT).map_err(sdk_error)?;
    let mut out = Vec::with_capacity(guests.len());
    for g in guests {
        match load(g) {
            Ok(d) => out.push(d),
            // A guest removed meanwhile is simply not listed.
            Err(e) if e.code == err::PRL_ERR_VM_UUID_NOT_FOUND => {}
            Err(e) => return Err(sdk_error(e)),
        }
    }
    Ok(out)
}

/// One guest read through the SDK, or None when the host has no such
/// guest (the cache's refresh).
pub(super) fn load_one(
    sdk: &Arc<Sdk>,
    session: &Handle,
    uuid: &[u8; 16],
) -> VirResult<Option<Domain>> {
    let found = sdk
        .guest_by_uuid(session, &format!("{{{}}}", format_uuid(uuid)))
        .and_then(load);
    match found {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.code == err::PRL_ERR_VM_UUID_NOT_FOUND => Ok(None),
        Err(e) => Err(sdk_error(e)),
    }
}

/// A held per-domain job.
pub struct JobGuard {
    _guard: parking_lot::ArcMutexGuard<parking_lot::RawMutex, ()>,
}

impl Driver {
    /// Takes the job of a domain: one change at a time per domain.
    pub fn begin_job(&self, uuid: &[u8; 16]) -> VirResult<JobGuard> {
        let lock = {
            let mut jobs = self.jobs.lock();
            let mut added = false;
            let lock = Arc::clone(jobs.entry(*uuid).or_insert_with(|| {
                added = true;
                Arc::new(Mutex::new(()))
            }));
            // The locks of guests long gone would pile up (found by make
            // soak): each time the map doubles, drop those that no job
            // holds or waits for. A waiter's clone is taken under the map
            // lock, so none is dropped under it.
            if added && jobs.len() >= 64 && jobs.len().is_power_of_two() {
                jobs.retain(|_, l| Arc::strong_count(l) > 1);
            }
            lock
        };
        let guard = lock.try_lock_arc_for(JOB_WAIT).ok_or_else(|| {
            VirError::new(
                ErrorCode::OperationTimeout,
                ErrorDomain::Parallels,
                "cannot acquire state change lock",
            )
        })?;
        Ok(JobGuard { _guard: guard })
    }

    /// Gives each volume filesystem its image path from the storage
    /// driver (an active pool, a ploop volume), as libvirt's vz driver
    /// resolves it when it creates a container. A redefinition keeps the
    /// path of a volume the domain already has, so changing anything else
    /// needs no storage daemon.
    fn resolve_volumes(&self, def: &mut DomainDef, old: Option<&DomainDef>) -> VirResult<()> {
        let known = |p: &str, v: &str| {
            old.into_iter()
                .flat_map(|o| &o.filesystems)
                .find_map(|f| match f {
                    Filesystem::Volume {
                        pool, volume, path, ..
                    } if pool == p && volume == v && !path.is_empty() => Some(path.clone()),
                    _ => None,
                })
        };
        for f in &mut def.filesystems {
            if let Filesystem::Volume {
                pool, volume, path, ..
            } = f
            {
                *path = match known(pool, volume) {
                    Some(p) => p,
                    None => self.config.storage.ploop_volume_path(pool, volume)?,
                };
            }
        }
        Ok(())
    }

    /// Defines (or redefines) a domain from XML.
    pub fn define(&self, xml: &str) -> VirResult<(Arc<Domain>, bool)> {
        let mut def = domain_xml::parse(xml)?;
        if let Some(d) = self.find_domain_by_name(&def.name)? {
            if def.uuid.is_some_and(|u| u != d.uuid) {
                return Err(VirError::new(
                    ErrorCode::OperationFailed,
                    ErrorDomain::Parallels,
                    format!(
                        "domain '{}' is already defined with uuid {}",
                        d.name,
                        format_uuid(&d.uuid)
                    ),
                ));
            }
        }
        let same_uuid = match def.uuid {
            Some(u) => self.find_domain_by_uuid(&u)?,
            None => None,
        };
        match same_uuid {
            Some(d) => {
                let _job = self.begin_job(&d.uuid)?;
                let d = self.fresh_domain(&d.uuid)?;
                if d.def.os_type != def.os_type {
                    return Err(unsupported("Changing OS type is not supported"));
                }
                self.resolve_volumes(&mut def, Some(&d.def))?;
                // The saved state holds the config it was saved with
                // (libvirt's vz driver: the same config is a no-op, another
                // is refused).
                if d.vms == vms::VMS_SUSPENDED {
                    let same = DomainDef {
                        uuid: Some(d.uuid),
                        ..def.clone()
                    } == d.def;
                    if !same {
                        return Err(VirError::new(
                            ErrorCode::ArgumentUnsupported,
                            ErrorDomain::Parallels,
                            "Can't change domain configuration in managed save state",
                        ));
                    }
                    return Ok((d, true));
                }
                let g = &d.guest;
                let r = g
                    .begin_edit()
                    .and_then(|()| apply(g, &def))
                    .and_then(|()| g.commit());
                self.refreshed(&d.uuid, r)?;
                Ok((self.domain_by_uuid(&d.uuid)?, true))
            }
            None => {
                self.resolve_volumes(&mut def, None)?;
                // As libvirt's driver creates guests on a real host: a VM
                // from the host's defaults, registered with PrlVm_Reg; a
                // container from a configuration sample with PrlVm_RegEx,
                // keeping its own disk when no template makes one.
                let session = self.session()?;
                let g = match def.os_type {
                    OsType::Hvm => self.sdk.new_vm(&session),
                    OsType::Exe => self.sdk.new_container(&session),
                }
                .map_err(sdk_error)?;
                if let Some(u) = def.uuid {
                    g.set_uuid(&format!("{{{}}}", format_uuid(&u)))
                        .map_err(sdk_error)?;
                }
                apply(&g, &def).map_err(sdk_error)?;
                g.set_autostart(PAO_VM_START_MANUAL).map_err(sdk_error)?;
                match def.os_type {
                    OsType::Hvm => g.register(),
                    OsType::Exe => {
                        let templated = def
                            .filesystems
                            .iter()
                            .any(|f| matches!(f, Filesystem::Template(_)));
                        g.register_ex(if templated {
                            PACF_NON_INTERACTIVE_MODE
                        } else {
                            PACF_NON_INTERACTIVE_MODE | PRNVM_PRESERVE_DISK
                        })
                    }
                }
                .map_err(sdk_error)?;
                let uuid_text = g.uuid().map_err(sdk_error)?;
                let uuid = domain_xml::parse_uuid(&uuid_text)
                    .ok_or_else(|| invalid("the host gave the new guest a malformed uuid"))?;
                self.note_defined(&uuid, &def.name);
                self.refresh_domain(&uuid);
                Ok((self.domain_by_uuid(&uuid)?, false))
            }
        }
    }

    /// Runs a lifecycle change under the domain's job, after libvirt's
    /// state check.
    pub fn lifecycle(&self, uuid: &[u8; 16], op: Lifecycle) -> VirResult<Arc<Domain>> {
        let _job = self.begin_job(uuid)?;
        let d = self.fresh_domain(uuid)?;
        let (st, _) = d.state();
        let g = &d.guest;
        let allowed = match op {
            Lifecycle::Start | Lifecycle::StartPaused => !d.is_active(),
            Lifecycle::Resume => st == state::PAUSED,
            Lifecycle::Suspend => d.is_active() && st != state::PAUSED,
            _ => d.is_active(),
        };
        if !allowed {
            return Err(cannot_change_state());
        }
        let r = match op {
            Lifecycle::Start => g.start(),
            // A guest saved while paused comes back paused already.
            Lifecycle::StartPaused => g.start().and_then(|()| match g.state()? {
                vms::VMS_RUNNING => g.pause(),
                _ => Ok(()),
            }),
            Lifecycle::Resume => g.resume(),
            Lifecycle::Destroy => {
                self.expect_stop(uuid, 1);
                g.kill()
            }
            Lifecycle::Shutdown => {
                self.expect_stop(uuid, 0);
                g.shutdown()
            }
            Lifecycle::Suspend => g.pause(),
            Lifecycle::Reboot => g.restart(),
            Lifecycle::Reset => g.reset(),
        };
        self.refreshed(uuid, r)?;
        self.domain_by_uuid(uuid)
    }

    /// Removes a domain's definition; a managed save image goes with it
    /// only when `with_managed_save` (VIR_DOMAIN_UNDEFINE_MANAGED_SAVE),
    /// snapshots only when `with_snapshots` (..._SNAPSHOTS_METADATA).
    pub fn undefine(
        &self,
        uuid: &[u8; 16],
        with_managed_save: bool,
        with_snapshots: bool,
    ) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.fresh_domain(uuid)?;
        if d.is_active() {
            return Err(invalid(
                "cannot undefine a running domain; destroy it first",
            ));
        }
        if d.vms == vms::VMS_SUSPENDED && !with_managed_save {
            return Err(invalid(
                "Refusing to undefine while domain managed save image exists",
            ));
        }
        if !with_snapshots && !self.snapshot_tree(&d)?.is_empty() {
            return Err(invalid("Refusing to undefine while snapshots exist"));
        }
        // As libvirt's driver does, the disks are detached first: the SDK
        // deletes a guest with every file in its directory, and the disk
        // images are the user's.
        self.undefining(uuid, true);
        let r = (|| {
            let g = &d.guest;
            if d.vms == vms::VMS_SUSPENDED {
                g.drop_suspended_state()?;
            }
            g.begin_edit()?;
            for disk in g.devices(PDE_HARD_DISK)? {
                disk.remove()?;
            }
            g.commit()?;
            g.delete()
        })();
        if r.is_err() {
            self.undefining(uuid, false);
        }
        self.refreshed(uuid, r)
    }

    /// virDomainManagedSave: the guest's state goes to disk and it stops.
    /// It comes back as it was saved (paused or running); SAVE_PAUSED
    /// pauses it first, as libvirt's vz driver does, and SAVE_RUNNING
    /// resumes a paused one first, so it comes back running (libvirt's
    /// vz driver ignores SAVE_RUNNING).
    pub fn managed_save(&self, uuid: &[u8; 16], flags: u32) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.fresh_domain(uuid)?;
        if !d.is_active() {
            return Err(cannot_change_state());
        }
        let paused = d.state().0 == state::PAUSED;
        if flags & SAVE_PAUSED != 0 && !paused {
            d.guest.pause().map_err(sdk_error)?;
        }
        if flags & SAVE_RUNNING != 0 && paused {
            d.guest.resume().map_err(sdk_error)?;
        }
        self.expect_stop(uuid, 4);
        self.refreshed(uuid, d.guest.suspend())
    }

    /// virDomainManagedSaveRemove: forgets a saved state. With none there
    /// is nothing to do and it succeeds, as libvirt's QEMU driver answers
    /// (libvirt's vz driver fails without saying why).
    pub fn managed_save_remove(&self, uuid: &[u8; 16]) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.fresh_domain(uuid)?;
        if d.vms != vms::VMS_SUSPENDED {
            return Ok(());
        }
        self.refreshed(uuid, d.guest.drop_suspended_state())
    }

    /// Sets a guest user's password.
    pub fn set_user_password(&self, uuid: &[u8; 16], user: &str, password: &str) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
        d.guest.set_user_password(user, password).map_err(sdk_error)
    }

    /// Sets whether the domain starts with the host.
    pub fn set_autostart(&self, uuid: &[u8; 16], on: bool) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.fresh_domain(uuid)?;
        let g = &d.guest;
        let r = g
            .begin_edit()
            .and_then(|()| {
                g.set_autostart(if on {
                    PAO_VM_START_ON_LOAD
                } else {
                    PAO_VM_START_MANUAL
                })
            })
            .and_then(|()| g.commit());
        self.refreshed(uuid, r)
    }

    /// Re-reads a guest after a change to it (whether the change worked or
    /// not: one that failed half-way is still a change), then gives the
    /// change's own result.
    pub(super) fn refreshed<R>(&self, uuid: &[u8; 16], r: Result<R, SdkError>) -> VirResult<R> {
        self.refresh_domain(uuid);
        r.map_err(sdk_error)
    }
}

/// What to do with a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceOp {
    /// virDomainAttachDeviceFlags
    Attach,
    /// virDomainDetachDeviceFlags
    Detach,
    /// virDomainUpdateDeviceFlags
    Update,
}

/// VIR_DOMAIN_SAVE_RUNNING
pub const SAVE_RUNNING: u32 = 2;
/// VIR_DOMAIN_SAVE_PAUSED
pub const SAVE_PAUSED: u32 = 4;

/// VIR_DOMAIN_AFFECT_LIVE
pub const AFFECT_LIVE: u32 = 1;
/// VIR_DOMAIN_AFFECT_CONFIG
pub const AFFECT_CONFIG: u32 = 2;

/// The vz driver's rule for config changes: every change is persistent,
/// so AFFECT_CONFIG is required, and AFFECT_LIVE too while the domain
/// runs (AFFECT_CURRENT means whichever applies).
pub fn check_update_flags(d: &Domain, flags: u32) -> VirResult<()> {
    let f = if flags & (AFFECT_LIVE | AFFECT_CONFIG) == 0 {
        if d.is_active() {
            AFFECT_LIVE | AFFECT_CONFIG
        } else {
            AFFECT_CONFIG
        }
    } else {
        flags
    };
    // libvirt's order: the modification impact first, then the vz rules.
    if !d.is_active() && f & AFFECT_LIVE != 0 {
        return Err(invalid("domain is not running"));
    }
    if f & AFFECT_CONFIG == 0 {
        return Err(invalid(
            "domain config update needs VIR_DOMAIN_AFFECT_CONFIG flag to be set",
        ));
    }
    if d.is_active() && f & AFFECT_LIVE == 0 {
        return Err(invalid(
            "Updates on a running domain need VIR_DOMAIN_AFFECT_LIVE flag",
        ));
    }
    Ok(())
}

fn unsupported(detail: &str) -> VirError {
    VirError::new(ErrorCode::ConfigUnsupported, ErrorDomain::Parallels, detail)
}

fn not_found(detail: String) -> VirError {
    VirError::new(ErrorCode::InvalidArg, ErrorDomain::Parallels, detail)
}

/// libvirt's vz driver: a device to change that the guest lacks.
fn no_such_device(detail: String) -> VirError {
    VirError::internal(ErrorDomain::Parallels, detail)
}

fn net_unsupported(detail: &str) -> VirError {
    VirError::new(
        ErrorCode::OperationUnsupported,
        ErrorDomain::Parallels,
        detail,
    )
}

impl Driver {
    /// Attaches, detaches or updates one device, with the vz driver's
    /// rules: disks and CD-ROMs anywhere; interfaces attached to and
    /// detached from containers only (updated anywhere); VNC graphics.
    pub fn modify_device(
        &self,
        uuid: &[u8; 16],
        xml: &str,
        flags: u32,
        op: DeviceOp,
    ) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        // The whole device list is written back: it must be the host's.
        let d = self.fresh_domain(uuid)?;
        check_update_flags(&d, flags)?;
        let mut def = d.def.clone();
        let ct = def.os_type == OsType::Exe;
        let verb = match op {
            DeviceOp::Attach => "attaching",
            DeviceOp::Detach => "detaching",
            DeviceOp::Update => "updating",
        };
        match (op, domain_xml::parse_device(xml, def.os_type, verb)?) {
            (op, DeviceDef::Disk(disk)) => {
                let target = domain_xml::target_name(disk.bus, disk.unit);
                let pos = def
                    .disks
                    .iter()
                    .position(|x| x.bus == disk.bus && x.unit == disk.unit);
                match (op, pos) {
                    (DeviceOp::Attach, Some(_)) => {
                        return Err(invalid(&format!("target {target} already exists")))
                    }
                    (DeviceOp::Attach, None) => def.disks.push(disk),
                    (DeviceOp::Detach, Some(i)) => {
                        def.disks.remove(i);
                    }
                    (DeviceOp::Update, Some(i)) => def.disks[i] = disk,
                    (_, None) => {
                        return Err(no_such_device(format!(
                            "No disk with bus '{}' and target '{target}'",
                            disk.bus.as_str()
                        )))
                    }
                }
            }
            (op, DeviceDef::Interface(iface)) => {
                let pos = def.interfaces.iter().position(|x| x.mac == iface.mac);
                match (op, pos) {
                    (DeviceOp::Attach, _) if !ct => {
                        return Err(net_unsupported(
                            "attaching network device to VM is unsupported",
                        ))
                    }
                    (DeviceOp::Detach, _) if !ct => {
                        return Err(net_unsupported(
                            "detaching network device from VM is unsupported",
                        ))
                    }
                    (DeviceOp::Attach, Some(_)) => {
                        return Err(invalid(&format!("interface {} already exists", iface.mac)))
                    }
                    (DeviceOp::Attach, None) => def.interfaces.push(iface),
                    (DeviceOp::Detach, Some(i)) => {
                        def.interfaces.remove(i);
                    }
                    (DeviceOp::Update, Some(i)) => def.interfaces[i] = iface,
                    (_, None) => {
                        return Err(no_such_device(format!("No net with mac '{}'", iface.mac)))
                    }
                }
            }
            (op, DeviceDef::Graphics(g)) => match (op, &def.graphics) {
                (DeviceOp::Attach, Some(_)) => {
                    return Err(unsupported("domain already has VNC graphics"))
                }
                (DeviceOp::Detach, None) | (DeviceOp::Update, None) => {
                    return Err(unsupported("cannot find VNC graphics device"))
                }
                (DeviceOp::Detach, Some(_)) => def.graphics = None,
                _ => def.graphics = Some(g),
            },
        }
        let g = &d.guest;
        let r = g
            .begin_edit()
            .and_then(|()| apply(g, &def))
            .and_then(|()| g.commit());
        self.refreshed(uuid, r)?;
        self.await_device_events(uuid, &domain_xml::device_aliases(&def), DEVICE_EVENT_WAIT);
        Ok(())
    }

    /// virDomainBlockResize: a running domain's image disk gets `mib`.
    pub fn block_resize(&self, uuid: &[u8; 16], disk: &str, mib: u32) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.fresh_domain(uuid)?;
        if !d.is_active() {
            return Err(invalid("domain is not running"));
        }
        let index = d
            .def
            .disks
            .iter()
            .filter(|x| x.device == DiskDevice::Disk)
            .position(|x| {
                x.source.as_deref() == Some(disk) || domain_xml::target_name(x.bus, x.unit) == disk
            })
            .ok_or_else(|| not_found(format!("invalid path: {disk}")))?;
        let dev = d
            .guest
            .devices(PDE_HARD_DISK)
            .map_err(sdk_error)?
            .into_iter()
            .filter(|x| x.mount_point().map(|m| m.is_empty()).unwrap_or(true))
            .nth(index)
            .ok_or_else(|| not_found(format!("invalid path: {disk}")))?;
        if d.def
            .disks
            .iter()
            .filter(|x| x.device == DiskDevice::Disk)
            .nth(index)
            .is_some_and(|x| x.block)
        {
            return Err(not_found("Only disk image supported for resize".into()));
        }
        self.refreshed(uuid, dev.resize(mib))
    }
}

/// The lifecycle operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// virDomainCreate
    Start,
    /// virDomainCreateWithFlags(PAUSED)
    StartPaused,
    /// virDomainDestroy
    Destroy,
    /// virDomainShutdown
    Shutdown,
    /// virDomainSuspend
    Suspend,
    /// virDomainResume
    Resume,
    /// virDomainReboot
    Reboot,
    /// virDomainReset
    Reset,
}

fn bus_of(iface: u32) -> Bus {
    match iface {
        PMS_IDE_DEVICE => Bus::Ide,
        PMS_SATA_DEVICE => Bus::Sata,
        _ => Bus::Scsi,
    }
}

/// A guest address as the SDK lists it, "addr/prefix" or (as a real
/// dispatcher reports IPv4) "addr/netmask".
fn guest_ip_from_sdk(s: &str) -> Option<(std::net::IpAddr, u8)> {
    let (addr, mask) = s.split_once('/')?;
    let addr: std::net::IpAddr = addr.parse().ok()?;
    let prefix = match mask.parse::<u8>() {
        Ok(p) => p,
        Err(_) => match mask.parse::<std::net::IpAddr>().ok()? {
            std::net::IpAddr::V4(m) => {
                let bits = u32::from(m);
                (bits.leading_ones() + bits.trailing_zeros() == 32)
                    .then_some(bits.leading_ones() as u8)?
            }
            std::net::IpAddr::V6(m) => {
                let bits = u128::from(m);
                (bits.leading_ones() + bits.trailing_zeros() == 128)
                    .then_some(bits.leading_ones() as u8)?
            }
        },
    };
    Some((addr, prefix))
}

/// "42:1c:00:aa:bb:cc" from the SDK's "421C00AABBCC".
fn mac_from_sdk(s: &str) -> String {
    let hex: String = s
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() != 12 {
        return s.to_ascii_lowercase();
    }
    (0..6)
        .map(|i| &hex[2 * i..2 * i + 2])
        .collect::<Vec<_>>()
        .join(":")
}

/// Reads a guest's devices into its definition.
fn load_devices(g: &Guest, def: &mut DomainDef) -> Result<(), SdkError> {
    let ct = def.os_type == OsType::Exe;
    let template = g.os_template()?;
    if ct && !template.is_empty() {
        def.filesystems.push(Filesystem::Template(template));
    }
    for (ty, device) in [
        (PDE_HARD_DISK, DiskDevice::Disk),
        (PDE_OPTICAL_DISK, DiskDevice::Cdrom),
    ] {
        for d in g.devices(ty)? {
            let path = d.image_path()?;
            let mount = d.mount_point()?;
            if ct && ty == PDE_HARD_DISK && !mount.is_empty() {
                let url = d.storage_url()?;
                let volume = Filesystem::parse_storage_url(&url);
                if volume.is_none() && !url.is_empty() {
                    // libvirt's vz driver fails the whole domain on such a
                    // URL; showing the image keeps the domain listed.
                    log::warn!("disk {path}: unrecognised storage URL '{url}', shown as a file");
                }
                def.filesystems.push(match volume {
                    Some((pool, volume)) => Filesystem::Volume {
                        pool,
                        volume,
                        target: mount,
                        path,
                    },
                    None => Filesystem::File {
                        source: path,
                        target: mount,
                    },
                });
                continue;
            }
            let serial = match device {
                DiskDevice::Disk => Some(d.serial_number()?).filter(|s| !s.is_empty()),
                DiskDevice::Cdrom => None,
            };
            def.disks.push(Disk {
                device,
                source: (!path.is_empty()).then_some(path),
                block: d.emulated_type()? == PDT_USE_REAL_DEVICE,
                bus: bus_of(d.iface_type()?),
                unit: d.stack_index()?,
                serial,
            });
        }
    }
    for d in g.devices(PDE_GENERIC_NETWORK_ADAPTER)? {
        let source = match d.emulated_type()? {
            PNA_ROUTED => NetSource::Network("host-routed".to_string()),
            PNA_BRIDGE => NetSource::Bridge(d.network()?),
            _ => NetSource::Network(d.network()?),
        };
        let model = match d.adapter_type()? {
            PNT_RTL => Some("rtl8139"),
            PNT_VIRTIO => Some("virtio"),
            PNT_E1000 => Some("e1000"),
            _ => None,
        };
        let target = d.host_iface()?;
        let ips = d
            .net_addresses()?
            .iter()
            .filter_map(|a| guest_ip_from_sdk(a))
            .collect();
        let gateways = [d.gateway()?, d.gateway6()?]
            .iter()
            .filter_map(|g| g.parse().ok())
            .collect();
        def.interfaces.push(Interface {
            ips,
            gateways,
            source,
            mac: mac_from_sdk(&d.mac()?),
            model: if ct { None } else { model.map(str::to_string) },
            target: (!target.is_empty()).then_some(target),
            link_up: d.connected()?,
            trust_guest_rx_filters: d.prevent_mac_spoof()?,
        });
    }
    for d in g.devices(PDE_SERIAL_PORT)? {
        let path = d.image_path()?;
        let source = match d.emulated_type()? {
            PDT_USE_SERIAL_PORT_SOCKET_MODE => SerialSource::Unix {
                path,
                listen: d.socket_mode()? == PSP_SERIAL_SOCKET_SERVER,
            },
            PDT_USE_OUTPUT_FILE => SerialSource::File(path),
            t @ (PDT_USE_TCP | PDT_USE_UDP) => {
                let (host, service) = path.rsplit_once(':').unwrap_or((&path, ""));
                let (host, service) = (host.to_string(), service.to_string());
                if t == PDT_USE_TCP {
                    SerialSource::Tcp {
                        host,
                        service,
                        listen: d.socket_mode()? == PSP_SERIAL_SOCKET_SERVER,
                    }
                } else {
                    SerialSource::Udp { host, service }
                }
            }
            _ => SerialSource::Dev(path),
        };
        def.serials.push(Serial {
            source,
            port: d.index()?,
        });
    }
    match g.vnc_mode()? {
        PRD_DISABLED => {}
        mode => {
            let passwd = g.vnc_password()?;
            def.graphics = Some(Graphics {
                port: (mode == PRD_MANUAL).then(|| g.vnc_port()).transpose()?,
                listen: g.vnc_host()?,
                passwd: (!passwd.is_empty()).then_some(passwd),
            });
        }
    }
    if !ct {
        def.video_vram_kib = Some(u64::from(g.video_ram_mb()?) * 1024);
        let mut boot = g
            .boot_devices()?
            .into_iter()
            .map(|b| Ok((b.sequence()?, b.dev_type()?)))
            .collect::<Result<Vec<_>, SdkError>>()?;
        boot.sort();
        def.boot = boot
            .into_iter()
            .filter_map(|(_, t)| match t {
                PDE_HARD_DISK => Some(BootDev::Hd),
                PDE_OPTICAL_DISK => Some(BootDev::Cdrom),
                PDE_GENERIC_NETWORK_ADAPTER => Some(BootDev::Network),
                _ => None,
            })
            .collect();
    }
    Ok(())
}

/// A container's file system on image `path`, mounted at `target`.
fn filesystem_disk(g: &Guest, path: &str, target: &str) -> Result<crate::sdk::Device, SdkError> {
    let d = g.create_device(PDE_HARD_DISK)?;
    d.set_emulated_type(PDT_USE_IMAGE_FILE)?;
    d.set_image_path(path)?;
    d.set_sys_name(path)?;
    d.set_friendly_name(path)?;
    d.set_mount_point(target)?;
    Ok(d)
}

/// Writes a definition into a guest handle being created or edited:
/// like libvirt's vz driver, every device is removed and added again.
fn apply(g: &Guest, def: &DomainDef) -> Result<(), SdkError> {
    g.set_name(&def.name)?;
    g.set_ram_mb(u32::try_from(def.memory_kib / 1024).unwrap_or(u32::MAX))?;
    g.set_cpus(def.vcpus)?;
    g.set_description(&def.description)?;
    g.set_cpu_mask(def.cpuset.as_deref().unwrap_or(""))?;
    g.set_cpu_mode(if def.arch == "i686" {
        PCM_CPU_MODE_32
    } else {
        PCM_CPU_MODE_64
    })?;
    for ty in [
        PDE_HARD_DISK,
        PDE_OPTICAL_DISK,
        PDE_GENERIC_NETWORK_ADAPTER,
        PDE_SERIAL_PORT,
    ] {
        for d in g.devices(ty)? {
            d.remove()?;
        }
    }
    for b in g.boot_devices()? {
        b.remove()?;
    }
    let mut template = String::new();
    for f in &def.filesystems {
        match f {
            Filesystem::Template(name) => template = name.clone(),
            Filesystem::File { source, target } => {
                filesystem_disk(g, source, target)?;
            }
            Filesystem::Volume {
                pool,
                volume,
                target,
                path,
            } => {
                let d = filesystem_disk(g, path, target)?;
                d.set_storage_url(&Filesystem::storage_url(pool, volume))?;
            }
        }
    }
    g.set_os_template(&template)?;
    for disk in &def.disks {
        let d = g.create_device(match disk.device {
            DiskDevice::Disk => PDE_HARD_DISK,
            DiskDevice::Cdrom => PDE_OPTICAL_DISK,
        })?;
        d.set_emulated_type(if disk.block {
            PDT_USE_REAL_DEVICE
        } else {
            PDT_USE_IMAGE_FILE
        })?;
        if let Some(src) = &disk.source {
            d.set_image_path(src)?;
            d.set_sys_name(src)?;
            d.set_friendly_name(src)?;
        }
        d.set_iface_type(match disk.bus {
            Bus::Ide => PMS_IDE_DEVICE,
            Bus::Scsi => PMS_SCSI_DEVICE,
            Bus::Sata => PMS_SATA_DEVICE,
        })?;
        d.set_stack_index(disk.unit)?;
        d.set_connected(true)?;
        if disk.device == DiskDevice::Disk {
            d.set_serial_number(disk.serial.as_deref().unwrap_or(""))?;
        }
    }
    for i in &def.interfaces {
        let d = g.create_device(PDE_GENERIC_NETWORK_ADAPTER)?;
        match &i.source {
            NetSource::Network(n) if n == "host-routed" => d.set_emulated_type(PNA_ROUTED)?,
            NetSource::Network(n) => {
                d.set_emulated_type(PNA_BRIDGED_NETWORK)?;
                d.set_network(n)?;
            }
            NetSource::Bridge(b) => {
                d.set_emulated_type(PNA_BRIDGE)?;
                d.set_network(b)?;
            }
        }
        d.set_mac(&i.mac.replace(':', "").to_ascii_uppercase())?;
        if let Some(t) = &i.target {
            d.set_host_iface(t)?;
        }
        d.set_adapter_type(match i.model.as_deref() {
            Some("rtl8139") => PNT_RTL,
            Some("virtio") => PNT_VIRTIO,
            Some("e1000") => PNT_E1000,
            _ => PNT_UNDEFINED,
        })?;
        d.set_connected(i.link_up)?;
        d.set_prevent_mac_spoof(i.trust_guest_rx_filters)?;
        // As libvirt's driver: addresses as "addr/prefix", DHCP for each
        // family without one, the settings applied by the guest tools.
        let has4 = i.ips.iter().any(|(a, _)| a.is_ipv4());
        let has6 = i.ips.iter().any(|(a, _)| a.is_ipv6());
        if has4 || has6 {
            let items: Vec<String> = i.ips.iter().map(|(a, p)| format!("{a}/{p}")).collect();
            d.set_net_addresses(&items)?;
        }
        d.set_dhcp_and_auto_apply(!has4, !has6)?;
        let gw = |v4: bool| {
            i.gateways
                .iter()
                .find(|g| g.is_ipv4() == v4)
                .map_or(String::new(), |g| g.to_string())
        };
        d.set_gateway(&gw(true))?;
        d.set_gateway6(&gw(false))?;
    }
    for s in &def.serials {
        let d = g.create_device(PDE_SERIAL_PORT)?;
        let (ty, path, mode) = match &s.source {
            SerialSource::Unix { path, listen } => (
                PDT_USE_SERIAL_PORT_SOCKET_MODE,
                path.clone(),
                if *listen {
                    PSP_SERIAL_SOCKET_SERVER
                } else {
                    PSP_SERIAL_SOCKET_CLIENT
                },
            ),
            SerialSource::File(p) => (PDT_USE_OUTPUT_FILE, p.clone(), 0),
            SerialSource::Dev(p) => (PDT_USE_REAL_DEVICE, p.clone(), 0),
            SerialSource::Tcp {
                host,
                service,
                listen,
            } => (
                PDT_USE_TCP,
                format!("{host}:{service}"),
                if *listen {
                    PSP_SERIAL_SOCKET_SERVER
                } else {
                    PSP_SERIAL_SOCKET_CLIENT
                },
            ),
            SerialSource::Udp { host, service } => (PDT_USE_UDP, format!("{host}:{service}"), 0),
        };
        d.set_emulated_type(ty)?;
        d.set_image_path(&path)?;
        d.set_sys_name(&path)?;
        d.set_friendly_name(&path)?;
        d.set_socket_mode(mode)?;
        d.set_index(s.port)?;
    }
    match &def.graphics {
        None => g.set_vnc_mode(PRD_DISABLED)?,
        Some(gr) => {
            g.set_vnc_password(gr.passwd.as_deref().unwrap_or(""))?;
            match gr.port {
                Some(p) => {
                    g.set_vnc_mode(PRD_MANUAL)?;
                    g.set_vnc_port(p)?;
                }
                None => g.set_vnc_mode(PRD_AUTO)?,
            }
            g.set_vnc_host(&gr.listen)?;
        }
    }
    if let Some(v) = def.video_vram_kib {
        g.set_video_ram_mb(u32::try_from(v / 1024).unwrap_or(u32::MAX))?;
    }
    for (seq, b) in def.boot.iter().enumerate() {
        let e = g.create_boot_device()?;
        e.set_dev_type(match b {
            BootDev::Hd => PDE_HARD_DISK,
            BootDev::Cdrom => PDE_OPTICAL_DISK,
            BootDev::Network => PDE_GENERIC_NETWORK_ADAPTER,
        })?;
        e.set_index(0)?;
        e.set_sequence(seq as u32)?;
        e.set_in_use(true)?;
    }
    Ok(())
}

impl Driver {
    /// Sets a domain's memory (KiB, whole MiB), the caller holding its job.
    pub fn set_memory(&self, d: &Domain, kib: u64) -> VirResult<()> {
        if kib == 0 || !kib.is_multiple_of(1024) {
            return Err(VirError::new(
                ErrorCode::InvalidArg,
                ErrorDomain::Parallels,
                "Memory size should be multiple of 1Mb.",
            ));
        }
        let mb = u32::try_from(kib / 1024).map_err(|_| {
            VirError::new(
                ErrorCode::InvalidArg,
                ErrorDomain::Parallels,
                "memory size too large",
            )
        })?;
        let g = &d.guest;
        let r = g
            .begin_edit()
            .and_then(|()| g.set_ram_mb(mb))
            .and_then(|()| g.commit());
        self.refreshed(&d.uuid, r)
    }

    /// Sets a domain's vCPU count, the caller holding its job.
    pub fn set_vcpus(&self, d: &Domain, n: u32) -> VirResult<()> {
        if n == 0 || n > super::MAX_VCPUS as u32 {
            return Err(VirError::new(
                ErrorCode::InvalidArg,
                ErrorDomain::Parallels,
                format!("invalid vcpu count {n}"),
            ));
        }
        let g = &d.guest;
        let r = g
            .begin_edit()
            .and_then(|()| g.set_cpus(n))
            .and_then(|()| g.commit());
        self.refreshed(&d.uuid, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vz::test_host::Host;

    #[test]
    fn a_second_change_to_one_domain_waits_then_gives_up_others_proceed() {
        let h = Host::new("job");
        let driver = &h.driver;
        let (a, b) = ([1u8; 16], [2u8; 16]);
        let held = driver.begin_job(&a).unwrap();
        let started = std::time::Instant::now();
        let e = driver.begin_job(&a).err().unwrap();
        assert!(started.elapsed() >= JOB_WAIT);
        assert_eq!(e.code, ErrorCode::OperationTimeout);
        assert_eq!(
            e.message,
            "Timed out during operation: cannot acquire state change lock"
        );
        // Another domain is not held up.
        assert!(driver.begin_job(&b).is_ok());
        drop(held);
        assert!(driver.begin_job(&a).is_ok());
    }
}

#[cfg(test)]
mod vcpu_tests {
    #[test]
    fn a_cpu_count_out_of_range_is_bounded() {
        let max = crate::vz::MAX_VCPUS as u32;
        assert_eq!(super::vcpus_from_sdk(2), 2);
        assert_eq!(super::vcpus_from_sdk(max), max);
        assert_eq!(super::vcpus_from_sdk(u32::MAX), max);
        assert_eq!(super::vcpus_from_sdk(0), 1);
    }
}

#[cfg(test)]
mod address_tests {
    use super::guest_ip_from_sdk;

    #[test]
    fn guest_addresses_as_the_sdk_lists_them() {
        let ip = |s: &str| guest_ip_from_sdk(s).map(|(a, p)| (a.to_string(), p));
        assert_eq!(ip("10.0.0.2/24"), Some(("10.0.0.2".into(), 24)));
        assert_eq!(ip("10.0.0.2/255.255.255.0"), Some(("10.0.0.2".into(), 24)));
        assert_eq!(ip("fd00::2/64"), Some(("fd00::2".into(), 64)));
        assert_eq!(ip("fd00::2/ffff:ffff::"), Some(("fd00::2".into(), 32)));
        assert_eq!(ip("10.0.0.2/255.0.255.0"), None);
        assert_eq!(ip("10.0.0.2"), None);
        assert_eq!(ip("nonsense/24"), None);
    }
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::sdk::abi::vms::*;

    #[test]
    fn every_sdk_state_reads_as_libvirts_vz_driver_reads_it() {
        let (running, paused, shutdown, shutoff, nostate) = (
            state::RUNNING,
            state::PAUSED,
            state::SHUTDOWN,
            state::SHUTOFF,
            state::NOSTATE,
        );
        let table = [
            (VMS_STOPPED, (shutoff, 1, false)),
            (VMS_MOUNTED, (shutoff, 1, false)),
            (VMS_STARTING, (running, 1, true)),
            (VMS_COMPACTING, (running, 1, true)),
            (VMS_RESETTING, (running, 1, true)),
            (VMS_PAUSING, (running, 1, true)),
            (VMS_RECONNECTING, (running, 1, true)),
            (VMS_RUNNING, (running, 1, true)),
            (VMS_PAUSED, (paused, 1, true)),
            (VMS_SUSPENDED, (shutoff, 5, false)),
            (VMS_DELETING_STATE, (shutoff, 5, false)),
            (VMS_SUSPENDING_SYNC, (shutoff, 5, false)),
            (VMS_STOPPING, (shutdown, 1, true)),
            (VMS_SNAPSHOTING, (paused, 9, true)),
            (VMS_MIGRATING, (paused, 2, true)),
            (VMS_SUSPENDING, (paused, 3, true)),
            (VMS_RESTORING, (running, 3, true)),
            (VMS_RESUMING, (running, 3, true)),
            (VMS_CONTINUING, (running, 5, true)),
            (VMS_UNKNOWN, (nostate, 0, false)),
            (12345, (nostate, 0, false)),
        ];
        for (vms, want) in table {
            assert_eq!(vms_state(vms), want, "VMS 0x{vms:08x}");
        }
    }
}

#[cfg(test)]
mod volume_tests {
    use super::*;
    use crate::vz::test_host::Host;

    #[test]
    fn container_disks_with_a_storage_url_load_as_volumes_and_bad_urls_as_files() {
        let h = Host::new("vol");
        let sdk = &h.sdk;
        {
            let srv = sdk.login().unwrap();
            let ct = sdk.new_container(&srv).unwrap();
            ct.set_name("ct-vol").unwrap();
            for (mount, url) in [
                ("/a", "libvirt://localhost/p/v"),
                ("/b", "libvirt://localhost/only-a-pool"),
                ("/c", ""),
            ] {
                let d = ct.create_device(PDE_HARD_DISK).unwrap();
                d.set_image_path(&format!("/img{mount}")).unwrap();
                d.set_mount_point(mount).unwrap();
                d.set_storage_url(url).unwrap();
            }
            ct.register_ex(PACF_NON_INTERACTIVE_MODE | PRNVM_PRESERVE_DISK)
                .unwrap();
            let g = sdk.guests(&srv, PVTF_CT).unwrap().remove(0);
            let def = load(g).unwrap().def;
            let mine: Vec<_> = def
                .filesystems
                .into_iter()
                .filter(|f| match f {
                    Filesystem::File { target, .. } | Filesystem::Volume { target, .. } => {
                        target.len() == 2
                    }
                    Filesystem::Template(_) => false,
                })
                .collect();
            assert_eq!(
                mine,
                [
                    Filesystem::Volume {
                        pool: "p".into(),
                        volume: "v".into(),
                        target: "/a".into(),
                        path: "/img/a".into(),
                    },
                    Filesystem::File {
                        source: "/img/b".into(),
                        target: "/b".into(),
                    },
                    Filesystem::File {
                        source: "/img/c".into(),
                        target: "/c".into(),
                    },
                ]
            );
        }
    }
}

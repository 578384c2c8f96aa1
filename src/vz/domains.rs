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
    err, vms, PAO_VM_START_MANUAL, PAO_VM_START_ON_LOAD, PVTF_CT, PVTF_VM, PVT_CT, PVT_VM,
};
use crate::sdk::{Guest, SdkError};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

/// How long a call waits for another change to the same domain
/// (libvirt's vz driver waits 30 s).
const JOB_WAIT: Duration = Duration::from_secs(30);

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
}

impl Domain {
    /// The SDK handle of the guest.
    pub fn guest_handle(&self) -> &Guest {
        &self.guest
    }

    /// libvirt's (state, reason) for the guest's SDK state.
    pub fn state(&self) -> (i32, i32) {
        match self.vms {
            vms::VMS_RUNNING
            | vms::VMS_STARTING
            | vms::VMS_RESTORING
            | vms::VMS_RESETTING
            | vms::VMS_CONTINUING => (state::RUNNING, 1),
            vms::VMS_PAUSED | vms::VMS_PAUSING | vms::VMS_SUSPENDING => (state::PAUSED, 1),
            vms::VMS_STOPPING => (state::SHUTDOWN, 1),
            vms::VMS_SUSPENDED => (state::SHUTOFF, 5),
            vms::VMS_STOPPED => (state::SHUTOFF, 1),
            _ => (state::NOSTATE, 0),
        }
    }

    /// Running or paused (has an id).
    pub fn is_active(&self) -> bool {
        self.id >= 0
    }

    /// The domain XML.
    pub fn xml(&self) -> String {
        domain_xml::format(&self.def, &self.uuid, self.is_active().then_some(self.id))
    }
}

fn sdk_error(e: SdkError) -> VirError {
    let code = match e.code {
        err::PRL_ERR_DISP_VM_IS_NOT_STARTED
        | err::PRL_ERR_DISP_VM_IS_NOT_STOPPED
        | err::PRL_ERR_INVALID_ACTION_REQUESTED => ErrorCode::OperationInvalid,
        err::PRL_ERR_VM_UUID_NOT_FOUND => ErrorCode::NoDomain,
        err::PRL_ERR_TIMEOUT => ErrorCode::OperationTimeout,
        _ => ErrorCode::OperationFailed,
    };
    VirError::new(code, ErrorDomain::Parallels, e.message)
}

fn invalid(detail: &str) -> VirError {
    VirError::new(ErrorCode::OperationInvalid, ErrorDomain::Parallels, detail)
}

fn load(guest: Guest) -> Result<Domain, SdkError> {
    let uuid_text = guest.uuid()?;
    let uuid = domain_xml::parse_uuid(&uuid_text).ok_or(SdkError {
        code: err::PRL_ERR_INVALID_ARG,
        message: format!("guest with a malformed uuid '{uuid_text}'"),
    })?;
    let vms_state = guest.state()?;
    let active = !matches!(
        vms_state,
        vms::VMS_STOPPED | vms::VMS_SUSPENDED | vms::VMS_UNKNOWN
    );
    let os_type = if guest.vm_type()? == PVT_CT {
        OsType::Exe
    } else {
        OsType::Hvm
    };
    let mut def = DomainDef {
        name: guest.name()?,
        uuid: Some(uuid),
        os_type,
        arch: "x86_64".to_string(),
        memory_kib: u64::from(guest.ram_mb()?) * 1024,
        vcpus: guest.cpus()?,
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
    })
}

/// A held per-domain job.
pub struct JobGuard {
    _guard: parking_lot::ArcMutexGuard<parking_lot::RawMutex, ()>,
}

impl Driver {
    /// Every domain.
    pub fn domains(&self) -> VirResult<Vec<Domain>> {
        let session = self.session()?;
        let guests = self
            .sdk
            .guests(&session, PVTF_VM | PVTF_CT)
            .map_err(sdk_error)?;
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

    /// The domain with this UUID.
    pub fn domain_by_uuid(&self, uuid: &[u8; 16]) -> VirResult<Domain> {
        self.domains()?
            .into_iter()
            .find(|d| &d.uuid == uuid)
            .ok_or_else(|| {
                VirError::new(
                    ErrorCode::NoDomain,
                    ErrorDomain::Parallels,
                    format!("no domain with matching uuid '{}'", format_uuid(uuid)),
                )
            })
    }

    /// The domain with this name.
    pub fn domain_by_name(&self, name: &str) -> VirResult<Domain> {
        self.domains()?
            .into_iter()
            .find(|d| d.name == name)
            .ok_or_else(|| {
                VirError::new(
                    ErrorCode::NoDomain,
                    ErrorDomain::Parallels,
                    format!("no domain with matching name '{name}'"),
                )
            })
    }

    /// The active domain with this id.
    pub fn domain_by_id(&self, id: i32) -> VirResult<Domain> {
        self.domains()?
            .into_iter()
            .find(|d| d.is_active() && d.id == id)
            .ok_or_else(|| VirError::bare(ErrorCode::NoDomain, ErrorDomain::Parallels))
    }

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

    /// Defines (or redefines) a domain from XML.
    pub fn define(&self, xml: &str) -> VirResult<(Domain, bool)> {
        let def = domain_xml::parse(xml)?;
        let existing = self.domains()?;
        if let Some(d) = existing.iter().find(|d| d.name == def.name) {
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
        let same_uuid = def
            .uuid
            .and_then(|u| existing.into_iter().find(|d| d.uuid == u));
        match same_uuid {
            Some(d) => {
                let _job = self.begin_job(&d.uuid)?;
                if d.def.os_type != def.os_type {
                    return Err(invalid("cannot change the OS type of a defined domain"));
                }
                let g = &d.guest;
                g.begin_edit().map_err(sdk_error)?;
                apply(g, &def).map_err(sdk_error)?;
                g.commit().map_err(sdk_error)?;
                Ok((self.domain_by_uuid(&d.uuid)?, true))
            }
            None => {
                let session = self.session()?;
                let g = self.sdk.new_guest(&session).map_err(sdk_error)?;
                g.set_vm_type(match def.os_type {
                    OsType::Hvm => PVT_VM,
                    OsType::Exe => PVT_CT,
                })
                .map_err(sdk_error)?;
                if let Some(u) = def.uuid {
                    g.set_uuid(&format!("{{{}}}", format_uuid(&u)))
                        .map_err(sdk_error)?;
                }
                apply(&g, &def).map_err(sdk_error)?;
                g.set_autostart(PAO_VM_START_MANUAL).map_err(sdk_error)?;
                g.register().map_err(sdk_error)?;
                let uuid_text = g.uuid().map_err(sdk_error)?;
                let uuid = domain_xml::parse_uuid(&uuid_text)
                    .ok_or_else(|| invalid("the host gave the new guest a malformed uuid"))?;
                self.note_defined(&uuid, &def.name);
                Ok((self.domain_by_uuid(&uuid)?, false))
            }
        }
    }

    /// Runs a lifecycle change under the domain's job, after libvirt's
    /// state check.
    pub fn lifecycle(&self, uuid: &[u8; 16], op: Lifecycle) -> VirResult<Domain> {
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
        let (st, _) = d.state();
        let g = &d.guest;
        let r = match op {
            Lifecycle::Start | Lifecycle::StartPaused => {
                if d.is_active() {
                    return Err(invalid("domain is already running"));
                }
                g.start().and_then(|()| match op {
                    Lifecycle::StartPaused => g.pause(),
                    _ => Ok(()),
                })
            }
            Lifecycle::Resume => {
                if st != state::PAUSED {
                    return Err(invalid("domain is not paused"));
                }
                g.resume()
            }
            _ if !d.is_active() => return Err(invalid("domain is not running")),
            Lifecycle::Destroy => {
                self.expect_stop(uuid, 1);
                g.kill()
            }
            Lifecycle::Shutdown => {
                self.expect_stop(uuid, 0);
                g.shutdown()
            }
            Lifecycle::Suspend => {
                if st == state::PAUSED {
                    return Err(invalid("domain is already paused"));
                }
                g.pause()
            }
            Lifecycle::Reboot => g.restart(),
            Lifecycle::Reset => g.reset(),
        };
        r.map_err(sdk_error)?;
        self.domain_by_uuid(uuid)
    }

    /// Removes a domain's definition; a managed save image goes with it
    /// only when `with_managed_save` (VIR_DOMAIN_UNDEFINE_MANAGED_SAVE).
    pub fn undefine(&self, uuid: &[u8; 16], with_managed_save: bool) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
        if d.is_active() {
            return Err(invalid(
                "cannot undefine a running domain; destroy it first",
            ));
        }
        if d.vms == vms::VMS_SUSPENDED {
            if !with_managed_save {
                return Err(invalid(
                    "Refusing to undefine while domain managed save image exists",
                ));
            }
            d.guest.drop_suspended_state().map_err(sdk_error)?;
        }
        d.guest.delete().map_err(sdk_error)
    }

    /// virDomainManagedSave: the guest's state goes to disk and it stops.
    pub fn managed_save(&self, uuid: &[u8; 16]) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
        if !d.is_active() {
            return Err(invalid("domain is not running"));
        }
        self.expect_stop(uuid, 4);
        d.guest.suspend().map_err(sdk_error)
    }

    /// virDomainManagedSaveRemove: forgets a saved state (none: nothing
    /// to do, as libvirt's driver answers).
    pub fn managed_save_remove(&self, uuid: &[u8; 16]) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
        if d.vms != vms::VMS_SUSPENDED {
            return Ok(());
        }
        d.guest.drop_suspended_state().map_err(sdk_error)
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
        let d = self.domain_by_uuid(uuid)?;
        let g = &d.guest;
        g.begin_edit().map_err(sdk_error)?;
        g.set_autostart(if on {
            PAO_VM_START_ON_LOAD
        } else {
            PAO_VM_START_MANUAL
        })
        .map_err(sdk_error)?;
        g.commit().map_err(sdk_error)
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
    if f & AFFECT_CONFIG == 0 {
        return Err(invalid(
            "domain config update needs VIR_DOMAIN_AFFECT_CONFIG flag",
        ));
    }
    if d.is_active() && f & AFFECT_LIVE == 0 {
        return Err(invalid(
            "Updates on a running domain need VIR_DOMAIN_AFFECT_LIVE flag",
        ));
    }
    if !d.is_active() && f & AFFECT_LIVE != 0 {
        return Err(invalid("domain is not running"));
    }
    Ok(())
}

fn unsupported(detail: &str) -> VirError {
    VirError::new(ErrorCode::ConfigUnsupported, ErrorDomain::Parallels, detail)
}

fn not_found(detail: String) -> VirError {
    VirError::new(ErrorCode::InvalidArg, ErrorDomain::Parallels, detail)
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
        let d = self.domain_by_uuid(uuid)?;
        check_update_flags(&d, flags)?;
        let mut def = d.def.clone();
        let ct = def.os_type == OsType::Exe;
        match (op, domain_xml::parse_device(xml, def.os_type)?) {
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
                    (_, None) => return Err(not_found(format!("disk {target} not found"))),
                }
            }
            (op, DeviceDef::Interface(iface)) => {
                let pos = def.interfaces.iter().position(|x| x.mac == iface.mac);
                match (op, pos) {
                    (DeviceOp::Attach, _) if !ct => {
                        return Err(unsupported("attaching network device to VM is unsupported"))
                    }
                    (DeviceOp::Detach, _) if !ct => {
                        return Err(unsupported(
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
                        return Err(not_found(format!("interface {} not found", iface.mac)))
                    }
                }
            }
            (op, DeviceDef::Graphics(g)) => match (op, &def.graphics) {
                (DeviceOp::Attach, Some(_)) => {
                    return Err(unsupported("domain already has VNC graphics"))
                }
                (DeviceOp::Detach, None) | (DeviceOp::Update, None) => {
                    return Err(not_found("domain has no VNC graphics".to_string()))
                }
                (DeviceOp::Detach, Some(_)) => def.graphics = None,
                _ => def.graphics = Some(g),
            },
        }
        let g = &d.guest;
        g.begin_edit().map_err(sdk_error)?;
        apply(g, &def).map_err(sdk_error)?;
        g.commit().map_err(sdk_error)
    }

    /// virDomainBlockResize: a running domain's image disk gets `mib`.
    pub fn block_resize(&self, uuid: &[u8; 16], disk: &str, mib: u32) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
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
            return Err(invalid("Only disk image supported for resize"));
        }
        dev.resize(mib).map_err(sdk_error)
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
                def.filesystems.push(Filesystem::File {
                    source: path,
                    target: mount,
                });
                continue;
            }
            def.disks.push(Disk {
                device,
                source: (!path.is_empty()).then_some(path),
                block: d.emulated_type()? == PDT_USE_REAL_DEVICE,
                bus: bus_of(d.iface_type()?),
                unit: d.stack_index()?,
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
        def.interfaces.push(Interface {
            source,
            mac: mac_from_sdk(&d.mac()?),
            model: if ct { None } else { model.map(str::to_string) },
            target: (!target.is_empty()).then_some(target),
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

/// Writes a definition into a guest handle being created or edited:
/// like libvirt's vz driver, every device is removed and added again.
fn apply(g: &Guest, def: &DomainDef) -> Result<(), SdkError> {
    g.set_name(&def.name)?;
    g.set_ram_mb(u32::try_from(def.memory_kib / 1024).unwrap_or(u32::MAX))?;
    g.set_cpus(def.vcpus)?;
    g.set_description(&def.description)?;
    g.set_cpu_mask(def.cpuset.as_deref().unwrap_or(""))?;
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
                let d = g.create_device(PDE_HARD_DISK)?;
                d.set_emulated_type(PDT_USE_IMAGE_FILE)?;
                d.set_image_path(source)?;
                d.set_sys_name(source)?;
                d.set_friendly_name(source)?;
                d.set_mount_point(target)?;
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
        d.set_connected(true)?;
    }
    for s in &def.serials {
        let d = g.create_device(PDE_SERIAL_PORT)?;
        let (ty, path, mode) = match &s.source {
            SerialSource::Unix { path, listen } => (
                PDT_USE_SERIAL_PORT_SOCKET_MODE,
                path,
                if *listen {
                    PSP_SERIAL_SOCKET_SERVER
                } else {
                    PSP_SERIAL_SOCKET_CLIENT
                },
            ),
            SerialSource::File(p) => (PDT_USE_OUTPUT_FILE, p, 0),
            SerialSource::Dev(p) => (PDT_USE_REAL_DEVICE, p, 0),
        };
        d.set_emulated_type(ty)?;
        d.set_image_path(path)?;
        d.set_sys_name(path)?;
        d.set_friendly_name(path)?;
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
        g.begin_edit().map_err(sdk_error)?;
        g.set_ram_mb(mb).map_err(sdk_error)?;
        g.commit().map_err(sdk_error)
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
        g.begin_edit().map_err(sdk_error)?;
        g.set_cpus(n).map_err(sdk_error)?;
        g.commit().map_err(sdk_error)
    }
}

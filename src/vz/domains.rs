//! Domains: Virtuozzo guests seen through the SDK, with libvirt's states,
//! checks and errors, and a per-domain job lock so changes to one guest
//! are serialised while different guests proceed in parallel.

use super::domain_xml::{self, format_uuid, DomainDef, OsType};
use super::Driver;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
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
    let def = DomainDef {
        name: guest.name()?,
        uuid: Some(uuid),
        os_type: if guest.vm_type()? == PVT_CT {
            OsType::Exe
        } else {
            OsType::Hvm
        },
        arch: "x86_64".to_string(),
        memory_kib: u64::from(guest.ram_mb()?) * 1024,
        vcpus: guest.cpus()?,
        description: guest.description()?,
    };
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
        let lock = Arc::clone(
            self.jobs
                .lock()
                .entry(*uuid)
                .or_insert_with(|| Arc::new(Mutex::new(()))),
        );
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
            Lifecycle::Destroy => g.kill(),
            Lifecycle::Shutdown => g.shutdown(),
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

    /// Removes a domain's definition.
    pub fn undefine(&self, uuid: &[u8; 16]) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
        if d.is_active() {
            return Err(invalid(
                "cannot undefine a running domain; destroy it first",
            ));
        }
        d.guest.delete().map_err(sdk_error)
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

fn apply(g: &Guest, def: &DomainDef) -> Result<(), SdkError> {
    g.set_name(&def.name)?;
    g.set_ram_mb(u32::try_from(def.memory_kib / 1024).unwrap_or(u32::MAX))?;
    g.set_cpus(def.vcpus)?;
    g.set_description(&def.description)
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

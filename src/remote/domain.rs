//! Handlers of the domain procedures: lists, lookups, queries, define,
//! undefine and the lifecycle.

use super::protocol::*;
use super::Call;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::rpc::xdr::{Bounded, FixedOpaque};
use crate::vz::domains::{
    check_update_flags, state, DeviceOp, Domain as VzDomain, Lifecycle, AFFECT_CONFIG, AFFECT_LIVE,
    SAVE_PAUSED, SAVE_RUNNING,
};
use std::sync::Arc;

/// REMOTE_DOMAIN_LIST_MAX
const DOMAIN_LIST_MAX: usize = 16384;

fn wire(d: &VzDomain) -> Domain {
    Domain {
        name: d.name.clone(),
        uuid: FixedOpaque(d.uuid),
        id: d.id,
    }
}

/// Refuses flags outside `allowed`, naming the vz driver's `function`.
pub(super) fn flags(flags: u32, allowed: u32, function: &str) -> VirResult<()> {
    if flags & !allowed != 0 {
        return Err(VirError::unsupported_flags(
            ErrorDomain::Parallels,
            (flags & !allowed).into(),
            function,
        ));
    }
    Ok(())
}

fn lookup(call: &Call, dom: &Domain) -> VirResult<Arc<VzDomain>> {
    call.conn()?.driver().domain_by_uuid(&dom.uuid.0)
}

/// CONNECT_LIST_ALL_DOMAINS, with every filter group of libvirt.
pub fn list_all(call: &Call, a: ListAllDomainsArgs) -> VirResult<ListAllDomainsRet> {
    let conn = call.conn()?;
    flags(a.flags, 0xffff, "vzConnectListAllDomains")?;
    let f = a.flags;
    let group = |mask: u32, bits: &[(u32, bool)]| {
        f & mask == 0 || bits.iter().any(|(bit, yes)| f & bit != 0 && *yes)
    };
    let driver = conn.driver();
    let mut matched = Vec::new();
    for d in driver.domains()?.iter() {
        let (st, _) = d.state();
        let saved = d.vms == crate::sdk::abi::vms::VMS_SUSPENDED;
        let plain = group(3, &[(1, d.is_active()), (2, !d.is_active())])
            && group(12, &[(4, true), (8, false)])
            && group(
                240,
                &[
                    (16, st == state::RUNNING),
                    (32, st == state::PAUSED),
                    (64, st == state::SHUTOFF),
                    (
                        128,
                        st != state::RUNNING && st != state::PAUSED && st != state::SHUTOFF,
                    ),
                ],
            )
            && group(768, &[(256, saved), (512, !saved)])
            && group(3072, &[(1024, d.autostart), (2048, !d.autostart)])
            // Virtuozzo has no checkpoints.
            && group(49152, &[(16384, false), (32768, true)]);
        if !plain {
            continue;
        }
        if f & 12288 != 0 {
            // Read only when asked (libvirt's vz driver never knows: it
            // answers "no snapshots" for every guest). A tree that cannot
            // be read is an error, not "none"; a guest gone meanwhile is
            // simply not listed.
            let has = match driver.snapshot_tree(d) {
                Ok(t) => !t.is_empty(),
                Err(e) if e.code == ErrorCode::NoDomain => continue,
                Err(e) => return Err(e),
            };
            if !group(12288, &[(4096, has), (8192, !has)]) {
                continue;
            }
        }
        matched.push(wire(d));
    }
    if matched.len() > DOMAIN_LIST_MAX {
        return Err(VirError::rpc("too many domains to list"));
    }
    Ok(ListAllDomainsRet {
        ret: matched.len() as u32,
        domains: if a.need_results != 0 {
            matched
        } else {
            Vec::new()
        },
    })
}

/// CONNECT_NUM_OF_DOMAINS: active domains.
pub fn num_of_domains(call: &Call, _: ()) -> VirResult<i32> {
    let n = call
        .conn()?
        .driver()
        .domains()?
        .iter()
        .filter(|d| d.is_active())
        .count();
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

/// CONNECT_LIST_DOMAINS: ids of active domains.
pub fn list_domains(call: &Call, maxids: i32) -> VirResult<Vec<i32>> {
    let conn = call.conn()?;
    if maxids < 0 || maxids as usize > DOMAIN_LIST_MAX {
        return Err(VirError::rpc("maxids > REMOTE_DOMAIN_LIST_MAX"));
    }
    Ok(conn
        .driver()
        .domains()?
        .iter()
        .filter(|d| d.is_active())
        .map(|d| d.id)
        .take(maxids as usize)
        .collect())
}

/// CONNECT_NUM_OF_DEFINED_DOMAINS: inactive domains.
pub fn num_of_defined(call: &Call, _: ()) -> VirResult<i32> {
    let n = call
        .conn()?
        .driver()
        .domains()?
        .iter()
        .filter(|d| !d.is_active())
        .count();
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

/// CONNECT_LIST_DEFINED_DOMAINS: names of inactive domains.
pub fn list_defined(call: &Call, maxnames: i32) -> VirResult<Vec<String>> {
    let conn = call.conn()?;
    if maxnames < 0 || maxnames as usize > DOMAIN_LIST_MAX {
        return Err(VirError::rpc("maxnames > REMOTE_DOMAIN_LIST_MAX"));
    }
    Ok(conn
        .driver()
        .domains()?
        .iter()
        .filter(|d| !d.is_active())
        .map(|d| d.name.clone())
        .take(maxnames as usize)
        .collect())
}

/// DOMAIN_LOOKUP_BY_ID
pub fn lookup_by_id(call: &Call, id: i32) -> VirResult<Domain> {
    Ok(wire(&*call.conn()?.driver().domain_by_id(id)?))
}

/// DOMAIN_LOOKUP_BY_NAME
pub fn lookup_by_name(call: &Call, name: String) -> VirResult<Domain> {
    Ok(wire(&*call.conn()?.driver().domain_by_name(&name)?))
}

/// DOMAIN_LOOKUP_BY_UUID
pub fn lookup_by_uuid(call: &Call, uuid: Uuid) -> VirResult<Domain> {
    Ok(wire(&*call.conn()?.driver().domain_by_uuid(&uuid.0)?))
}

/// The vCPU times (ns) of an active domain from the host's counters, as
/// libvirt's vz driver reads them; none while it is not running.
fn vcpu_times(call: &Call, d: &VzDomain) -> VirResult<Vec<u64>> {
    if !d.is_active() {
        return Ok(vec![0; d.def.vcpus as usize]);
    }
    let c = call.conn()?.driver().counters(d)?;
    Ok((0..d.def.vcpus)
        .map(|i| u64::try_from(c.get(&format!("guest.vcpu{i}.time"))).unwrap_or(0))
        .collect())
}

/// DOMAIN_GET_INFO (CPU time: the sum of the vCPU times). The times of a
/// running guest come from the SDK's counters, so the procedure is
/// scheduled High, never answered inline from the cache.
pub fn get_info(call: &Call, a: DomainArgs) -> VirResult<DomainGetInfoRet> {
    let d = lookup(call, &a.dom)?;
    Ok(DomainGetInfoRet {
        state: d.state().0 as u8,
        max_mem: d.def.memory_kib,
        memory: d.def.memory_kib,
        nr_virt_cpu: u16::try_from(d.def.vcpus).unwrap_or(u16::MAX),
        cpu_time: vcpu_times(call, &d)?.iter().sum(),
    })
}

/// DOMAIN_GET_STATE
pub fn get_state(call: &Call, a: DomainFlagsArgs) -> VirResult<DomainGetStateRet> {
    flags(a.flags, 0, "vzDomainGetState")?;
    let (state, reason) = lookup(call, &a.dom)?.state();
    Ok(DomainGetStateRet { state, reason })
}

/// DOMAIN_GET_XML_DESC
pub fn get_xml_desc(call: &Call, a: DomainFlagsArgs) -> VirResult<String> {
    // SECURE and MIGRATABLE on a read-only connection are refused by the
    // procedure table's access rule before we get here.
    flags(a.flags, 0xf, "vzDomainGetXMLDesc")?;
    let d = lookup(call, &a.dom)?;
    Ok(d.xml(a.flags & 2 != 0, a.flags & 1 != 0))
}

/// DOMAIN_GET_OS_TYPE
pub fn get_os_type(call: &Call, a: DomainArgs) -> VirResult<String> {
    Ok(lookup(call, &a.dom)?.def.os_type.as_str().to_string())
}

/// DOMAIN_GET_MAX_MEMORY
pub fn get_max_memory(call: &Call, a: DomainArgs) -> VirResult<u64> {
    Ok(lookup(call, &a.dom)?.def.memory_kib)
}

/// DOMAIN_GET_MAX_VCPUS
pub fn get_max_vcpus(call: &Call, a: DomainArgs) -> VirResult<i32> {
    Ok(lookup(call, &a.dom)?.def.vcpus as i32)
}

/// DOMAIN_IS_ACTIVE
pub fn is_active(call: &Call, a: DomainArgs) -> VirResult<i32> {
    Ok(lookup(call, &a.dom)?.is_active() as i32)
}

/// DOMAIN_IS_PERSISTENT: every Virtuozzo guest is.
pub fn is_persistent(call: &Call, a: DomainArgs) -> VirResult<i32> {
    lookup(call, &a.dom)?;
    Ok(1)
}

/// DOMAIN_IS_UPDATED: changes apply to the stored config at once.
pub fn is_updated(call: &Call, a: DomainArgs) -> VirResult<i32> {
    lookup(call, &a.dom)?;
    Ok(0)
}

/// DOMAIN_GET_AUTOSTART
pub fn get_autostart(call: &Call, a: DomainArgs) -> VirResult<i32> {
    Ok(lookup(call, &a.dom)?.autostart as i32)
}

/// DOMAIN_SET_AUTOSTART (libvirt's vz driver lacks it; the SDK has it)
pub fn set_autostart(call: &Call, a: SetAutostartArgs) -> VirResult<()> {
    call.conn()?
        .driver()
        .set_autostart(&a.dom.uuid.0, a.autostart != 0)
}

/// DOMAIN_HAS_MANAGED_SAVE_IMAGE
pub fn has_managed_save_image(call: &Call, a: DomainFlagsArgs) -> VirResult<i32> {
    flags(a.flags, 0, "vzDomainHasManagedSaveImage")?;
    let d = lookup(call, &a.dom)?;
    Ok((d.vms == crate::sdk::abi::vms::VMS_SUSPENDED) as i32)
}

/// DOMAIN_GET_MESSAGES: none.
pub fn get_messages(call: &Call, a: DomainFlagsArgs) -> VirResult<Bounded<String, 2048>> {
    lookup(call, &a.dom)?;
    Ok(Bounded(Vec::new()))
}

/// DOMAIN_DEFINE_XML
pub fn define_xml(call: &Call, xml: String) -> VirResult<Domain> {
    let (d, _updated) = call.conn()?.driver().define(&xml)?;
    Ok(wire(&d))
}

/// DOMAIN_DEFINE_XML_FLAGS (VALIDATE: our parser always validates)
pub fn define_xml_flags(call: &Call, a: XmlFlagsArgs) -> VirResult<Domain> {
    flags(a.flags, 1, "vzDomainDefineXMLFlags")?;
    define_xml(call, a.xml)
}

/// DOMAIN_UNDEFINE
pub fn undefine(call: &Call, a: DomainArgs) -> VirResult<()> {
    call.conn()?.driver().undefine(&a.dom.uuid.0, false, false)
}

/// DOMAIN_MANAGED_SAVE (SAVE_RUNNING, SAVE_PAUSED)
pub fn managed_save(call: &Call, a: DomainFlagsArgs) -> VirResult<()> {
    flags(a.flags, SAVE_RUNNING | SAVE_PAUSED, "vzDomainManagedSave")?;
    call.conn()?.driver().managed_save(&a.dom.uuid.0, a.flags)
}

/// DOMAIN_MANAGED_SAVE_REMOVE
pub fn managed_save_remove(call: &Call, a: DomainFlagsArgs) -> VirResult<()> {
    flags(a.flags, 0, "vzDomainManagedSaveRemove")?;
    call.conn()?.driver().managed_save_remove(&a.dom.uuid.0)
}

/// DOMAIN_UNDEFINE_FLAGS (MANAGED_SAVE, SNAPSHOTS_METADATA)
pub fn undefine_flags(call: &Call, a: DomainFlagsArgs) -> VirResult<()> {
    flags(a.flags, 3, "vzDomainUndefineFlags")?;
    call.conn()?
        .driver()
        .undefine(&a.dom.uuid.0, a.flags & 1 != 0, a.flags & 2 != 0)
}

fn lifecycle(call: &Call, dom: &Domain, op: Lifecycle) -> VirResult<Arc<VzDomain>> {
    call.conn()?.driver().lifecycle(&dom.uuid.0, op)
}

/// DOMAIN_CREATE
pub fn create(call: &Call, a: DomainArgs) -> VirResult<()> {
    lifecycle(call, &a.dom, Lifecycle::Start).map(|_| ())
}

/// DOMAIN_CREATE_WITH_FLAGS (PAUSED)
pub fn create_with_flags(call: &Call, a: DomainFlagsArgs) -> VirResult<Domain> {
    flags(a.flags, 1, "vzDomainCreateWithFlags")?;
    let op = if a.flags & 1 != 0 {
        Lifecycle::StartPaused
    } else {
        Lifecycle::Start
    };
    lifecycle(call, &a.dom, op).map(|d| wire(&d))
}

macro_rules! simple_lifecycle {
    ($($name:ident($args:ty, $flags:expr, $func:literal) => $op:ident;)*) => {$(
        #[doc = concat!("The lifecycle call served by `", $func, "`.")]
        pub fn $name(call: &Call, a: $args) -> VirResult<()> {
            let (dom, f) = a.parts();
            flags(f, $flags, $func)?;
            lifecycle(call, &dom, Lifecycle::$op).map(|_| ())
        }
    )*};
}

trait Parts {
    fn parts(self) -> (Domain, u32);
}

impl Parts for DomainArgs {
    fn parts(self) -> (Domain, u32) {
        (self.dom, 0)
    }
}

impl Parts for DomainFlagsArgs {
    fn parts(self) -> (Domain, u32) {
        (self.dom, self.flags)
    }
}

simple_lifecycle! {
    destroy(DomainArgs, 0, "vzDomainDestroy") => Destroy;
    destroy_flags(DomainFlagsArgs, 0, "vzDomainDestroyFlags") => Destroy;
    shutdown(DomainArgs, 0, "vzDomainShutdown") => Shutdown;
    shutdown_flags(DomainFlagsArgs, 0, "vzDomainShutdownFlags") => Shutdown;
    reboot(DomainFlagsArgs, 0, "vzDomainReboot") => Reboot;
    reset(DomainFlagsArgs, 0, "vzDomainReset") => Reset;
    suspend(DomainArgs, 0, "vzDomainSuspend") => Suspend;
    resume(DomainArgs, 0, "vzDomainResume") => Resume;
}

fn set_memory_common(call: &Call, dom: &Domain, memory: u64, f: u32) -> VirResult<()> {
    let conn = call.conn()?;
    let driver = conn.driver();
    let _job = driver.begin_job(&dom.uuid.0)?;
    let d = driver.fresh_domain(&dom.uuid.0)?;
    check_update_flags(&d, f)?;
    driver.set_memory(&d, memory)
}

/// DOMAIN_SET_MEMORY
pub fn set_memory(call: &Call, a: SetMemoryArgs) -> VirResult<()> {
    set_memory_common(call, &a.dom, a.memory, 0)
}

/// DOMAIN_SET_MEMORY_FLAGS
pub fn set_memory_flags(call: &Call, a: SetMemoryFlagsArgs) -> VirResult<()> {
    flags(
        a.flags,
        AFFECT_LIVE | AFFECT_CONFIG,
        "vzDomainSetMemoryFlags",
    )?;
    set_memory_common(call, &a.dom, a.memory, a.flags)
}

fn set_vcpus_common(call: &Call, dom: &Domain, n: u32, f: u32) -> VirResult<()> {
    let conn = call.conn()?;
    let driver = conn.driver();
    let _job = driver.begin_job(&dom.uuid.0)?;
    let d = driver.fresh_domain(&dom.uuid.0)?;
    check_update_flags(&d, f)?;
    driver.set_vcpus(&d, n)
}

/// DOMAIN_SET_VCPUS
pub fn set_vcpus(call: &Call, a: SetVcpusArgs) -> VirResult<()> {
    set_vcpus_common(call, &a.dom, a.nvcpus, 0)
}

/// DOMAIN_SET_VCPUS_FLAGS
pub fn set_vcpus_flags(call: &Call, a: SetVcpusFlagsArgs) -> VirResult<()> {
    flags(
        a.flags,
        AFFECT_LIVE | AFFECT_CONFIG,
        "vzDomainSetVcpusFlags",
    )?;
    set_vcpus_common(call, &a.dom, a.nvcpus, a.flags)
}

/// DOMAIN_GET_VCPUS_FLAGS (current and maximum are the same on vz)
pub fn get_vcpus_flags(call: &Call, a: DomainFlagsArgs) -> VirResult<i32> {
    const MAXIMUM: u32 = 4;
    flags(
        a.flags,
        AFFECT_LIVE | AFFECT_CONFIG | MAXIMUM,
        "vzDomainGetVcpusFlags",
    )?;
    let d = lookup(call, &a.dom)?;
    if a.flags & AFFECT_LIVE != 0 && a.flags & AFFECT_CONFIG != 0 {
        return Err(VirError::new(
            crate::error::ErrorCode::InvalidArg,
            ErrorDomain::Parallels,
            "flags 'affect live' and 'affect config' are mutually exclusive",
        ));
    }
    if a.flags & AFFECT_LIVE != 0 && !d.is_active() {
        return Err(VirError::new(
            crate::error::ErrorCode::OperationInvalid,
            ErrorDomain::Parallels,
            "domain is not running",
        ));
    }
    Ok(d.def.vcpus as i32)
}

/// DOMAIN_GET_VCPUS: running domains only, every vCPU on every host CPU.
pub fn get_vcpus(call: &Call, a: GetVcpusArgs) -> VirResult<GetVcpusRet> {
    let d = lookup(call, &a.dom)?;
    if !d.is_active() {
        return Err(VirError::new(
            crate::error::ErrorCode::OperationInvalid,
            ErrorDomain::Parallels,
            "cannot list vcpu pinning for an inactive domain",
        ));
    }
    if a.maxinfo < 0 || a.maplen < 0 || (a.maxinfo as i64) * (a.maplen as i64) > 8_388_608 {
        return Err(VirError::rpc("maxinfo * maplen > REMOTE_CPUMAPS_MAX"));
    }
    let n = (d.def.vcpus as usize).min(a.maxinfo as usize);
    let times = vcpu_times(call, &d)?;
    let info = (0..n)
        .map(|i| VcpuInfo {
            number: i as u32,
            state: 1,
            cpu_time: times.get(i).copied().unwrap_or(0),
            cpu: -1,
        })
        .collect();
    // Every vCPU may run on the domain's cpuset (all host CPUs without one).
    let (total, _, _) = call.conn()?.driver().host().cpu_map()?;
    let allowed = |c: usize| {
        match &d.def.cpuset {
        None => c < total as usize,
        Some(set) => set.split(',').any(|r| {
            let (lo, hi) = r.split_once('-').unwrap_or((r, r));
            matches!((lo.parse::<usize>(), hi.parse::<usize>()), (Ok(lo), Ok(hi)) if (lo..=hi).contains(&c))
        }),
    }
    };
    let mut map = vec![0u8; a.maplen as usize];
    for c in (0..map.len() * 8).filter(|c| allowed(*c)) {
        map[c / 8] |= 1 << (c % 8);
    }
    Ok(GetVcpusRet {
        info,
        cpumaps: crate::rpc::xdr::Opaque(map.repeat(n)),
    })
}

/// CONNECT_GET_DOMAIN_CAPABILITIES
pub fn get_domain_capabilities(call: &Call, a: GetDomainCapabilitiesArgs) -> VirResult<String> {
    call.conn()?;
    flags(a.flags, 0, "vzConnectGetDomainCapabilities")?;
    crate::vz::capabilities::domain_capabilities_xml(
        a.emulatorbin.as_deref(),
        a.arch.as_deref(),
        a.machine.as_deref(),
        a.virttype.as_deref(),
    )
}

/// DOMAIN_SET_USER_PASSWORD
pub fn set_user_password(call: &Call, a: SetUserPasswordArgs) -> VirResult<()> {
    flags(a.flags, 0, "vzDomainSetUserPassword")?;
    let user = a.user.ok_or_else(|| {
        VirError::new(
            crate::error::ErrorCode::InvalidArg,
            ErrorDomain::Parallels,
            "user name must not be NULL",
        )
    })?;
    call.conn()?.driver().set_user_password(
        &a.dom.uuid.0,
        &user,
        a.password.as_deref().unwrap_or(""),
    )
}

/// DOMAIN_GET_SECURITY_LABEL: no security driver, so an empty label.
pub fn get_security_label(call: &Call, a: DomainArgs) -> VirResult<SecurityLabelRet> {
    lookup(call, &a.dom)?;
    Ok(SecurityLabelRet {
        label: Bounded(vec![0]),
        enforcing: 0,
    })
}

fn modify_device(call: &Call, dom: &Domain, xml: &str, f: u32, op: DeviceOp) -> VirResult<()> {
    call.conn()?.driver().modify_device(&dom.uuid.0, xml, f, op)
}

// The legacy calls take AFFECT_CURRENT (libvirt's vz driver forces
// LIVE|CONFIG, which refuses every shut-off domain): CURRENT still obeys
// the vz rule (CONFIG always, LIVE when running).

/// DOMAIN_ATTACH_DEVICE
pub fn attach_device(call: &Call, a: DeviceArgs) -> VirResult<()> {
    modify_device(call, &a.dom, &a.xml, 0, DeviceOp::Attach)
}

/// DOMAIN_ATTACH_DEVICE_FLAGS
pub fn attach_device_flags(call: &Call, a: DeviceFlagsArgs) -> VirResult<()> {
    flags(
        a.flags,
        AFFECT_LIVE | AFFECT_CONFIG,
        "vzDomainAttachDeviceFlags",
    )?;
    modify_device(call, &a.dom, &a.xml, a.flags, DeviceOp::Attach)
}

/// DOMAIN_DETACH_DEVICE
pub fn detach_device(call: &Call, a: DeviceArgs) -> VirResult<()> {
    modify_device(call, &a.dom, &a.xml, 0, DeviceOp::Detach)
}

/// DOMAIN_DETACH_DEVICE_FLAGS
pub fn detach_device_flags(call: &Call, a: DeviceFlagsArgs) -> VirResult<()> {
    flags(
        a.flags,
        AFFECT_LIVE | AFFECT_CONFIG,
        "vzDomainDetachDeviceFlags",
    )?;
    modify_device(call, &a.dom, &a.xml, a.flags, DeviceOp::Detach)
}

/// DOMAIN_UPDATE_DEVICE_FLAGS
pub fn update_device_flags(call: &Call, a: DeviceFlagsArgs) -> VirResult<()> {
    flags(
        a.flags,
        AFFECT_LIVE | AFFECT_CONFIG,
        "vzDomainUpdateDeviceFlags",
    )?;
    modify_device(call, &a.dom, &a.xml, a.flags, DeviceOp::Update)
}

/// DOMAIN_BLOCK_RESIZE (BYTES flag; the size goes to the SDK in whole
/// MiB, rounded down as libvirt's vz driver does)
pub fn block_resize(call: &Call, a: BlockResizeArgs) -> VirResult<()> {
    flags(a.flags, 1, "vzDomainBlockResize")?;
    if a.disk.is_empty() {
        return Err(VirError::new(
            crate::error::ErrorCode::InvalidArg,
            ErrorDomain::Parallels,
            "empty path",
        ));
    }
    let kib = if a.flags & 1 != 0 {
        a.size / 1024
    } else {
        a.size
    };
    let mib = u32::try_from(kib / 1024).map_err(|_| {
        VirError::new(
            crate::error::ErrorCode::InvalidArg,
            ErrorDomain::Parallels,
            "size is too large",
        )
    })?;
    call.conn()?
        .driver()
        .block_resize(&a.dom.uuid.0, &a.disk, mib)
}

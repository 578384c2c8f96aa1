//! The REMOTE program's procedures: one line each, in number order.
//!
//! Columns: number, name (REMOTE_PROC_*), the public C API it serves (named
//! in read-only and unsupported errors), access (`Read`: allowed on a
//! read-only connection; `Write`: refused there; `ReadFlags(m)` and
//! `ReadSecure(m)`: allowed unless the call's flags have a bit of `m`),
//! priority (`Inline`: on
//! the connection thread; `High`: libvirt's `@priority: high`, also run by
//! the priority workers; `Normal`; `Cached`: answered from the driver's
//! domain cache, so inline while it is loaded and High otherwise;
//! `CachedUnless(m)`: `Cached` unless the flags have a bit of `m`, which
//! asks the SDK: then `Normal`), stage (`BeforeOpen`: allowed before
//! CONNECT_OPEN; `Open`: needs it), and the handler (`none`: the driver
//! does not implement it, answered with VIR_ERR_NO_SUPPORT as libvirt's
//! daemon answers for a driver that lacks the API).

use super::{connect, domain, events, host, snapshots, stats, Call};
use crate::error::VirResult;
use crate::rpc::program::{decode_only, invoke, Decoder};
use crate::rpc::xdr::XdrError;
use std::sync::OnceLock;

/// Whether a read-only connection may call a procedure. Anything not
/// marked readable is refused: the default is deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Allowed on read-only connections.
    Read,
    /// Refused on read-only connections (VIR_ERR_OPERATION_DENIED).
    Write,
    /// Allowed read-only unless the flags (the call's last argument word)
    /// carry one of these bits; then refused as `Write` is (libvirt's
    /// `virCheckReadOnly` on a flag, e.g. VCPU_GUEST).
    ReadFlags(u32),
    /// As `ReadFlags`, refused with libvirt's "virX with secure flag"
    /// wording (XML dumps with SECURE or MIGRATABLE).
    ReadSecure(u32),
}

/// Where a procedure runs (see `rpc::program::Priority`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// On the connection thread.
    Inline,
    /// On the worker pool and the priority workers.
    High,
    /// On the worker pool.
    Normal,
    /// Reads only the domain cache: on the connection thread while the
    /// cache is loaded (no SDK call, so no thread hop), else as `High`.
    Cached,
    /// As `Cached`, except that a call whose flags (its last argument
    /// word) have a bit of the mask asks the SDK too: then as `Normal`.
    CachedUnless(u32),
}

/// Whether a procedure needs CONNECT_OPEN first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Allowed before the connection is open.
    BeforeOpen,
    /// Needs an open connection.
    Open,
}

/// Decodes arguments, runs, encodes the result into the reply.
pub type Handler = fn(&Call, &[u8], &mut Vec<u8>) -> VirResult<()>;

/// One procedure of the table.
#[derive(Debug)]
pub struct Procedure {
    /// Procedure number.
    pub number: i32,
    /// Name without the REMOTE_PROC_ prefix.
    pub name: &'static str,
    /// The public C API it serves.
    pub api: &'static str,
    /// Read-only rule.
    pub access: Access,
    /// Scheduling.
    pub priority: Schedule,
    /// Open rule.
    pub stage: Stage,
    /// The handler, or `None` when the driver lacks the API.
    pub handler: Option<Handler>,
    /// The handler's argument decoder alone (for the fuzz targets), or
    /// `None` with the handler.
    pub decode: Option<Decoder>,
}

macro_rules! handler {
    (none) => {
        None
    };
    ($h:path) => {
        Some(|call, args, out| invoke(call, args, out, $h))
    };
}

macro_rules! decoder {
    (none) => {
        None
    };
    ($h:path) => {
        Some(|args| decode_only(args, $h))
    };
}

macro_rules! procedures {
    ($($num:literal $name:ident $api:literal $access:ident$(($mask:literal))? $prio:ident$(($pmask:literal))? $stage:ident => $($h:tt)::+;)*) => {
        /// Every REMOTE procedure this daemon knows, in number order.
        pub static PROCEDURES: &[Procedure] = &[$(
            Procedure {
                number: $num,
                name: stringify!($name),
                api: $api,
                access: Access::$access$(($mask))?,
                priority: Schedule::$prio$(($pmask))?,
                stage: Stage::$stage,
                handler: handler!($($h)::+),
                decode: decoder!($($h)::+),
            },
        )*];
    };
}

procedures! {
    1 CONNECT_OPEN "virConnectOpen" Read Inline BeforeOpen => connect::open;
    2 CONNECT_CLOSE "virConnectClose" Read Inline BeforeOpen => connect::close;
    3 CONNECT_GET_TYPE "virConnectGetType" Read Inline Open => connect::get_type;
    4 CONNECT_GET_VERSION "virConnectGetVersion" Read High Open => connect::get_version;
    5 CONNECT_GET_MAX_VCPUS "virConnectGetMaxVcpus" Read Inline Open => connect::get_max_vcpus;
    6 NODE_GET_INFO "virNodeGetInfo" Read Inline Open => host::node_get_info;
    7 CONNECT_GET_CAPABILITIES "virConnectGetCapabilities" Read Normal Open => connect::get_capabilities;
    8 DOMAIN_ATTACH_DEVICE "virDomainAttachDevice" Write Normal Open => domain::attach_device;
    9 DOMAIN_CREATE "virDomainCreate" Write Normal Open => domain::create;
    10 DOMAIN_CREATE_XML "virDomainCreateXML" Write Normal Open => none;
    11 DOMAIN_DEFINE_XML "virDomainDefineXML" Write High Open => domain::define_xml;
    12 DOMAIN_DESTROY "virDomainDestroy" Write High Open => domain::destroy;
    13 DOMAIN_DETACH_DEVICE "virDomainDetachDevice" Write Normal Open => domain::detach_device;
    14 DOMAIN_GET_XML_DESC "virDomainGetXMLDesc" ReadSecure(0x9) Cached Open => domain::get_xml_desc;
    15 DOMAIN_GET_AUTOSTART "virDomainGetAutostart" Read Cached Open => domain::get_autostart;
    16 DOMAIN_GET_INFO "virDomainGetInfo" Read High Open => domain::get_info;
    17 DOMAIN_GET_MAX_MEMORY "virDomainGetMaxMemory" Read Cached Open => domain::get_max_memory;
    18 DOMAIN_GET_MAX_VCPUS "virDomainGetMaxVcpus" Read Cached Open => domain::get_max_vcpus;
    19 DOMAIN_GET_OS_TYPE "virDomainGetOSType" Read Cached Open => domain::get_os_type;
    20 DOMAIN_GET_VCPUS "virDomainGetVcpus" Read High Open => domain::get_vcpus;
    21 CONNECT_LIST_DEFINED_DOMAINS "virConnectListDefinedDomains" Read Cached Open => domain::list_defined;
    22 DOMAIN_LOOKUP_BY_ID "virDomainLookupByID" Read Cached Open => domain::lookup_by_id;
    23 DOMAIN_LOOKUP_BY_NAME "virDomainLookupByName" Read Cached Open => domain::lookup_by_name;
    24 DOMAIN_LOOKUP_BY_UUID "virDomainLookupByUUID" Read Cached Open => domain::lookup_by_uuid;
    25 CONNECT_NUM_OF_DEFINED_DOMAINS "virConnectNumOfDefinedDomains" Read Cached Open => domain::num_of_defined;
    27 DOMAIN_REBOOT "virDomainReboot" Write Normal Open => domain::reboot;
    28 DOMAIN_RESUME "virDomainResume" Write Normal Open => domain::resume;
    29 DOMAIN_SET_AUTOSTART "virDomainSetAutostart" Write High Open => domain::set_autostart;
    30 DOMAIN_SET_MAX_MEMORY "virDomainSetMaxMemory" Write High Open => none;
    31 DOMAIN_SET_MEMORY "virDomainSetMemory" Write Normal Open => domain::set_memory;
    32 DOMAIN_SET_VCPUS "virDomainSetVcpus" Write Normal Open => domain::set_vcpus;
    33 DOMAIN_SHUTDOWN "virDomainShutdown" Write Normal Open => domain::shutdown;
    34 DOMAIN_SUSPEND "virDomainSuspend" Write Normal Open => domain::suspend;
    35 DOMAIN_UNDEFINE "virDomainUndefine" Write High Open => domain::undefine;
    37 CONNECT_LIST_DOMAINS "virConnectListDomains" Read Cached Open => domain::list_domains;
    51 CONNECT_NUM_OF_DOMAINS "virConnectNumOfDomains" Read Cached Open => domain::num_of_domains;
    59 CONNECT_GET_HOSTNAME "virConnectGetHostname" Read Inline Open => connect::get_hostname;
    60 CONNECT_SUPPORTS_FEATURE "virConnectSupportsFeature" Read Inline BeforeOpen => connect::supports_feature;
    64 DOMAIN_BLOCK_STATS "virDomainBlockStats" Read Normal Open => stats::block_stats;
    65 DOMAIN_INTERFACE_STATS "virDomainInterfaceStats" Read Normal Open => stats::interface_stats;
    66 AUTH_LIST "virConnectAuthList" Read Inline BeforeOpen => connect::auth_list;
    101 NODE_GET_CELLS_FREE_MEMORY "virNodeGetCellsFreeMemory" Read Inline Open => host::node_get_cells_free_memory;
    102 NODE_GET_FREE_MEMORY "virNodeGetFreeMemory" Read Inline Open => host::node_get_free_memory;
    105 CONNECT_DOMAIN_EVENT_REGISTER "virConnectDomainEventRegister" Read Normal Open => events::register;
    106 CONNECT_DOMAIN_EVENT_DEREGISTER "virConnectDomainEventDeregister" Read Normal Open => events::deregister;
    110 CONNECT_GET_URI "virConnectGetURI" Read Inline Open => connect::get_uri;
    121 DOMAIN_GET_SECURITY_LABEL "virDomainGetSecurityLabel" Read Cached Open => domain::get_security_label;
    122 NODE_GET_SECURITY_MODEL "virNodeGetSecurityModel" Read Inline Open => host::node_get_security_model;
    149 CONNECT_IS_SECURE "virConnectIsSecure" Read Inline Open => connect::is_secure;
    150 DOMAIN_IS_ACTIVE "virDomainIsActive" Read Cached Open => domain::is_active;
    151 DOMAIN_IS_PERSISTENT "virDomainIsPersistent" Read Cached Open => domain::is_persistent;
    157 CONNECT_GET_LIB_VERSION "virConnectGetLibVersion" Read Inline Open => connect::get_lib_version;
    159 DOMAIN_MEMORY_STATS "virDomainMemoryStats" Read Normal Open => stats::memory_stats;
    160 DOMAIN_ATTACH_DEVICE_FLAGS "virDomainAttachDeviceFlags" Write Normal Open => domain::attach_device_flags;
    161 DOMAIN_DETACH_DEVICE_FLAGS "virDomainDetachDeviceFlags" Write Normal Open => domain::detach_device_flags;
    162 CONNECT_BASELINE_CPU "virConnectBaselineCPU" Read Normal Open => connect::baseline_cpu;
    163 DOMAIN_GET_JOB_INFO "virDomainGetJobInfo" Read Normal Open => stats::job_info;
    164 DOMAIN_ABORT_JOB "virDomainAbortJob" Write Normal Open => stats::abort_job;
    167 CONNECT_DOMAIN_EVENT_REGISTER_ANY "virConnectDomainEventRegisterAny" Read Normal Open => events::register_any;
    168 CONNECT_DOMAIN_EVENT_DEREGISTER_ANY "virConnectDomainEventDeregisterAny" Read Normal Open => events::deregister_any;
    174 DOMAIN_UPDATE_DEVICE_FLAGS "virDomainUpdateDeviceFlags" Write Normal Open => domain::update_device_flags;
    182 DOMAIN_MANAGED_SAVE "virDomainManagedSave" Write Normal Open => domain::managed_save;
    183 DOMAIN_HAS_MANAGED_SAVE_IMAGE "virDomainHasManagedSaveImage" Read Cached Open => domain::has_managed_save_image;
    184 DOMAIN_MANAGED_SAVE_REMOVE "virDomainManagedSaveRemove" Write Normal Open => domain::managed_save_remove;
    185 DOMAIN_SNAPSHOT_CREATE_XML "virDomainSnapshotCreateXML" Write Normal Open => snapshots::create_xml;
    186 DOMAIN_SNAPSHOT_GET_XML_DESC "virDomainSnapshotGetXMLDesc" ReadSecure(0x1) High Open => snapshots::get_xml_desc;
    187 DOMAIN_SNAPSHOT_NUM "virDomainSnapshotNum" Read High Open => snapshots::num;
    188 DOMAIN_SNAPSHOT_LIST_NAMES "virDomainSnapshotListNames" Read High Open => snapshots::list_names;
    189 DOMAIN_SNAPSHOT_LOOKUP_BY_NAME "virDomainSnapshotLookupByName" Read High Open => snapshots::lookup_by_name;
    190 DOMAIN_HAS_CURRENT_SNAPSHOT "virDomainHasCurrentSnapshot" Read Normal Open => snapshots::has_current;
    191 DOMAIN_SNAPSHOT_CURRENT "virDomainSnapshotCurrent" Read Normal Open => snapshots::current;
    192 DOMAIN_REVERT_TO_SNAPSHOT "virDomainRevertToSnapshot" Write Normal Open => snapshots::revert;
    193 DOMAIN_SNAPSHOT_DELETE "virDomainSnapshotDelete" Write Normal Open => snapshots::delete;
    196 DOMAIN_CREATE_WITH_FLAGS "virDomainCreateWithFlags" Write Normal Open => domain::create_with_flags;
    199 DOMAIN_SET_VCPUS_FLAGS "virDomainSetVcpusFlags" Write Normal Open => domain::set_vcpus_flags;
    200 DOMAIN_GET_VCPUS_FLAGS "virDomainGetVcpusFlags" ReadFlags(0x8) Cached Open => domain::get_vcpus_flags;
    202 DOMAIN_IS_UPDATED "virDomainIsUpdated" Read Cached Open => domain::is_updated;
    203 CONNECT_GET_SYSINFO "virConnectGetSysinfo" Read Normal Open => connect::get_sysinfo;
    204 DOMAIN_SET_MEMORY_FLAGS "virDomainSetMemoryFlags" Write Normal Open => domain::set_memory_flags;
    212 DOMAIN_GET_STATE "virDomainGetState" Read Cached Open => domain::get_state;
    227 NODE_GET_CPU_STATS "virNodeGetCPUStats" Read Inline Open => host::node_get_cpu_stats;
    228 NODE_GET_MEMORY_STATS "virNodeGetMemoryStats" Read Inline Open => host::node_get_memory_stats;
    230 DOMAIN_GET_VCPU_PIN_INFO "virDomainGetVcpuPinInfo" Read Normal Open => none;
    231 DOMAIN_UNDEFINE_FLAGS "virDomainUndefineFlags" Write High Open => domain::undefine_flags;
    234 DOMAIN_DESTROY_FLAGS "virDomainDestroyFlags" Write High Open => domain::destroy_flags;
    243 DOMAIN_BLOCK_STATS_FLAGS "virDomainBlockStatsFlags" Read Normal Open => stats::block_stats_flags;
    244 DOMAIN_SNAPSHOT_GET_PARENT "virDomainSnapshotGetParent" Read High Open => snapshots::get_parent;
    245 DOMAIN_RESET "virDomainReset" Write Normal Open => domain::reset;
    246 DOMAIN_SNAPSHOT_NUM_CHILDREN "virDomainSnapshotNumChildren" Read High Open => snapshots::num_children;
    247 DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES "virDomainSnapshotListChildrenNames" Read High Open => snapshots::list_children_names;
    251 DOMAIN_BLOCK_RESIZE "virDomainBlockResize" Write Normal Open => domain::block_resize;
    258 DOMAIN_SHUTDOWN_FLAGS "virDomainShutdownFlags" Write Normal Open => domain::shutdown_flags;
    265 DOMAIN_GET_METADATA "virDomainGetMetadata" Read Normal Open => none;
    271 DOMAIN_SNAPSHOT_IS_CURRENT "virDomainSnapshotIsCurrent" Read Normal Open => snapshots::is_current;
    272 DOMAIN_SNAPSHOT_HAS_METADATA "virDomainSnapshotHasMetadata" Read Normal Open => snapshots::has_metadata;
    273 CONNECT_LIST_ALL_DOMAINS "virConnectListAllDomains" Read CachedUnless(0x3000) Open => domain::list_all;
    274 DOMAIN_LIST_ALL_SNAPSHOTS "virDomainListAllSnapshots" Read High Open => snapshots::list_all;
    275 DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN "virDomainSnapshotListAllChildren" Read High Open => snapshots::list_all_children;
    293 NODE_GET_CPU_MAP "virNodeGetCPUMap" Read Inline Open => host::node_get_cpu_map;
    298 DOMAIN_GET_JOB_STATS "virDomainGetJobStats" Read Normal Open => stats::job_stats;
    309 DOMAIN_CREATE_XML_WITH_FILES "virDomainCreateXMLWithFiles" Write Normal Open => none;
    310 DOMAIN_CREATE_WITH_FILES "virDomainCreateWithFiles" Write Normal Open => none;
    316 CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY "virConnectDomainEventRegisterAny" Read High Open => events::callback_register_any;
    317 CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY "virConnectDomainEventDeregisterAny" Read High Open => events::callback_deregister_any;
    338 DOMAIN_SET_TIME "virDomainSetTime" Write Normal Open => none;
    342 CONNECT_GET_DOMAIN_CAPABILITIES "virConnectGetDomainCapabilities" Write Normal Open => domain::get_domain_capabilities;
    344 CONNECT_GET_ALL_DOMAIN_STATS "virConnectGetAllDomainStats" Read Normal Open => stats::all_domain_stats;
    350 DOMAIN_DEFINE_XML_FLAGS "virDomainDefineXMLFlags" Write High Open => domain::define_xml_flags;
    357 DOMAIN_SET_USER_PASSWORD "virDomainSetUserPassword" Write Normal Open => domain::set_user_password;
    360 CONNECT_REGISTER_CLOSE_CALLBACK "virConnectRegisterCloseCallback" Read Inline Open => connect::register_close_callback;
    361 CONNECT_UNREGISTER_CLOSE_CALLBACK "virConnectUnregisterCloseCallback" Read Inline Open => connect::unregister_close_callback;
    426 DOMAIN_GET_MESSAGES "virDomainGetMessages" Read Cached Open => domain::get_messages;
}

/// The procedure with this number.
pub fn lookup(number: i32) -> Option<&'static Procedure> {
    static INDEX: OnceLock<Vec<Option<&'static Procedure>>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let max = PROCEDURES.iter().map(|p| p.number).max().unwrap_or(0);
        let mut v = vec![None; max as usize + 1];
        for p in PROCEDURES {
            v[p.number as usize] = Some(p);
        }
        v
    });
    usize::try_from(number).ok().and_then(|n| *index.get(n)?)
}

/// Decodes the arguments of procedure `number` as its handler would,
/// without running it; `None` if no handler takes that number.
pub fn decode_args(number: i32, args: &[u8]) -> Option<Result<(), XdrError>> {
    lookup(number).and_then(|p| p.decode).map(|d| d(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in PROCEDURES.windows(2) {
            assert!(w[0].number < w[1].number, "{} / {}", w[0].name, w[1].name);
        }
        assert!(PROCEDURES.iter().all(|p| p.number > 0));
    }

    #[test]
    fn lookup_finds_each_and_nothing_else() {
        for p in PROCEDURES {
            assert_eq!(lookup(p.number).map(|q| q.name), Some(p.name));
        }
        assert!(lookup(0).is_none());
        assert!(lookup(-1).is_none());
        assert!(lookup(100_000).is_none());
    }

    #[test]
    fn real_client_calls_decode() {
        // Each capture-* seed of the procedure_args fuzz target is a call a
        // libvirt 9.0 client really sent: program, procedure, arguments.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("test/fuzz/corpus/procedure_args");
        let mut decoded = [0, 0];
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("capture-") {
                continue;
            }
            let b = std::fs::read(&path).unwrap();
            let prog = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            let number = i32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            let (result, n) = match prog {
                crate::remote::protocol::PROGRAM => (decode_args(number, &b[8..]), 0),
                crate::admin::protocol::PROGRAM => (crate::admin::decode_args(number, &b[8..]), 1),
                _ => panic!("{name}: program {prog:#x}"),
            };
            match result {
                Some(r) => {
                    r.unwrap_or_else(|e| panic!("{name}: procedure {number}: {e}"));
                    decoded[n] += 1;
                }
                // Only a procedure the driver lacks decodes nothing.
                None => assert!(
                    prog == crate::remote::protocol::PROGRAM
                        && lookup(number).is_some_and(|p| p.handler.is_none()),
                    "{name}: no decoder for procedure {number}"
                ),
            }
        }
        assert!(decoded[0] >= 50 && decoded[1] >= 20, "{decoded:?}");
    }

    #[test]
    fn apis_are_public_names() {
        for p in PROCEDURES {
            assert!(p.api.starts_with("vir"), "{}", p.name);
        }
    }
}

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
//!
//! Every call of libvirt 9.0's protocol has a line, up to
//! [`LAST_LIBVIRT_9_0`]; only the event messages, which flow from the
//! daemon to its clients, have none: libvirt's dispatcher has no handler
//! for them either, so calling one is an unknown procedure there as here.

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
    26 DOMAIN_PIN_VCPU "virDomainPinVcpu" Write Inline Open => none;
    27 DOMAIN_REBOOT "virDomainReboot" Write Normal Open => domain::reboot;
    28 DOMAIN_RESUME "virDomainResume" Write Normal Open => domain::resume;
    29 DOMAIN_SET_AUTOSTART "virDomainSetAutostart" Write High Open => domain::set_autostart;
    30 DOMAIN_SET_MAX_MEMORY "virDomainSetMaxMemory" Write High Open => none;
    31 DOMAIN_SET_MEMORY "virDomainSetMemory" Write Normal Open => domain::set_memory;
    32 DOMAIN_SET_VCPUS "virDomainSetVcpus" Write Normal Open => domain::set_vcpus;
    33 DOMAIN_SHUTDOWN "virDomainShutdown" Write Normal Open => domain::shutdown;
    34 DOMAIN_SUSPEND "virDomainSuspend" Write Normal Open => domain::suspend;
    35 DOMAIN_UNDEFINE "virDomainUndefine" Write High Open => domain::undefine;
    36 CONNECT_LIST_DEFINED_NETWORKS "virConnectListDefinedNetworks" Read Inline Open => none;
    37 CONNECT_LIST_DOMAINS "virConnectListDomains" Read Cached Open => domain::list_domains;
    38 CONNECT_LIST_NETWORKS "virConnectListNetworks" Read Inline Open => none;
    39 NETWORK_CREATE "virNetworkCreate" Write Inline Open => none;
    40 NETWORK_CREATE_XML "virNetworkCreateXML" Write Inline Open => none;
    41 NETWORK_DEFINE_XML "virNetworkDefineXML" Write Inline Open => none;
    42 NETWORK_DESTROY "virNetworkDestroy" Write Inline Open => none;
    43 NETWORK_GET_XML_DESC "virNetworkGetXMLDesc" Read Inline Open => none;
    44 NETWORK_GET_AUTOSTART "virNetworkGetAutostart" Read Inline Open => none;
    45 NETWORK_GET_BRIDGE_NAME "virNetworkGetBridgeName" Read Inline Open => none;
    46 NETWORK_LOOKUP_BY_NAME "virNetworkLookupByName" Read Inline Open => none;
    47 NETWORK_LOOKUP_BY_UUID "virNetworkLookupByUUID" Read Inline Open => none;
    48 NETWORK_SET_AUTOSTART "virNetworkSetAutostart" Write Inline Open => none;
    49 NETWORK_UNDEFINE "virNetworkUndefine" Write Inline Open => none;
    50 CONNECT_NUM_OF_DEFINED_NETWORKS "virConnectNumOfDefinedNetworks" Read Inline Open => none;
    51 CONNECT_NUM_OF_DOMAINS "virConnectNumOfDomains" Read Cached Open => domain::num_of_domains;
    52 CONNECT_NUM_OF_NETWORKS "virConnectNumOfNetworks" Read Inline Open => none;
    53 DOMAIN_CORE_DUMP "virDomainCoreDump" Write Inline Open => none;
    54 DOMAIN_RESTORE "virDomainRestore" Write Inline Open => none;
    55 DOMAIN_SAVE "virDomainSave" Write Inline Open => none;
    56 DOMAIN_GET_SCHEDULER_TYPE "virDomainGetSchedulerType" Read Inline Open => none;
    57 DOMAIN_GET_SCHEDULER_PARAMETERS "virDomainGetSchedulerParameters" Read Inline Open => none;
    58 DOMAIN_SET_SCHEDULER_PARAMETERS "virDomainSetSchedulerParameters" Write Inline Open => none;
    59 CONNECT_GET_HOSTNAME "virConnectGetHostname" Read Inline Open => connect::get_hostname;
    60 CONNECT_SUPPORTS_FEATURE "virConnectSupportsFeature" Read Inline BeforeOpen => connect::supports_feature;
    61 DOMAIN_MIGRATE_PREPARE "virDomainMigratePrepare" Write Inline Open => none;
    62 DOMAIN_MIGRATE_PERFORM "virDomainMigratePerform" Write Inline Open => none;
    63 DOMAIN_MIGRATE_FINISH "virDomainMigrateFinish" Write Inline Open => none;
    64 DOMAIN_BLOCK_STATS "virDomainBlockStats" Read Normal Open => stats::block_stats;
    65 DOMAIN_INTERFACE_STATS "virDomainInterfaceStats" Read Normal Open => stats::interface_stats;
    66 AUTH_LIST "virConnectAuthList" Read Inline BeforeOpen => connect::auth_list;
    67 AUTH_SASL_INIT "virConnectAuthSaslInit" Read Inline Open => none;
    68 AUTH_SASL_START "virConnectAuthSaslStart" Read Inline Open => none;
    69 AUTH_SASL_STEP "virConnectAuthSaslStep" Read Inline Open => none;
    70 AUTH_POLKIT "virConnectAuthPolkit" Read Inline Open => none;
    71 CONNECT_NUM_OF_STORAGE_POOLS "virConnectNumOfStoragePools" Read Inline Open => none;
    72 CONNECT_LIST_STORAGE_POOLS "virConnectListStoragePools" Read Inline Open => none;
    73 CONNECT_NUM_OF_DEFINED_STORAGE_POOLS "virConnectNumOfDefinedStoragePools" Read Inline Open => none;
    74 CONNECT_LIST_DEFINED_STORAGE_POOLS "virConnectListDefinedStoragePools" Read Inline Open => none;
    75 CONNECT_FIND_STORAGE_POOL_SOURCES "virConnectFindStoragePoolSources" Write Inline Open => none;
    76 STORAGE_POOL_CREATE_XML "virStoragePoolCreateXML" Write Inline Open => none;
    77 STORAGE_POOL_DEFINE_XML "virStoragePoolDefineXML" Write Inline Open => none;
    78 STORAGE_POOL_CREATE "virStoragePoolCreate" Write Inline Open => none;
    79 STORAGE_POOL_BUILD "virStoragePoolBuild" Write Inline Open => none;
    80 STORAGE_POOL_DESTROY "virStoragePoolDestroy" Write Inline Open => none;
    81 STORAGE_POOL_DELETE "virStoragePoolDelete" Write Inline Open => none;
    82 STORAGE_POOL_UNDEFINE "virStoragePoolUndefine" Write Inline Open => none;
    83 STORAGE_POOL_REFRESH "virStoragePoolRefresh" Write Inline Open => none;
    84 STORAGE_POOL_LOOKUP_BY_NAME "virStoragePoolLookupByName" Read Inline Open => none;
    85 STORAGE_POOL_LOOKUP_BY_UUID "virStoragePoolLookupByUUID" Read Inline Open => none;
    86 STORAGE_POOL_LOOKUP_BY_VOLUME "virStoragePoolLookupByVolume" Read Inline Open => none;
    87 STORAGE_POOL_GET_INFO "virStoragePoolGetInfo" Read Inline Open => none;
    88 STORAGE_POOL_GET_XML_DESC "virStoragePoolGetXMLDesc" Read Inline Open => none;
    89 STORAGE_POOL_GET_AUTOSTART "virStoragePoolGetAutostart" Read Inline Open => none;
    90 STORAGE_POOL_SET_AUTOSTART "virStoragePoolSetAutostart" Write Inline Open => none;
    91 STORAGE_POOL_NUM_OF_VOLUMES "virStoragePoolNumOfVolumes" Read Inline Open => none;
    92 STORAGE_POOL_LIST_VOLUMES "virStoragePoolListVolumes" Read Inline Open => none;
    93 STORAGE_VOL_CREATE_XML "virStorageVolCreateXML" Write Inline Open => none;
    94 STORAGE_VOL_DELETE "virStorageVolDelete" Write Inline Open => none;
    95 STORAGE_VOL_LOOKUP_BY_NAME "virStorageVolLookupByName" Read Inline Open => none;
    96 STORAGE_VOL_LOOKUP_BY_KEY "virStorageVolLookupByKey" Read Inline Open => none;
    97 STORAGE_VOL_LOOKUP_BY_PATH "virStorageVolLookupByPath" Read Inline Open => none;
    98 STORAGE_VOL_GET_INFO "virStorageVolGetInfo" Read Inline Open => none;
    99 STORAGE_VOL_GET_XML_DESC "virStorageVolGetXMLDesc" Read Inline Open => none;
    100 STORAGE_VOL_GET_PATH "virStorageVolGetPath" Read Inline Open => none;
    101 NODE_GET_CELLS_FREE_MEMORY "virNodeGetCellsFreeMemory" Read Inline Open => host::node_get_cells_free_memory;
    102 NODE_GET_FREE_MEMORY "virNodeGetFreeMemory" Read Inline Open => host::node_get_free_memory;
    103 DOMAIN_BLOCK_PEEK "virDomainBlockPeek" Write Inline Open => none;
    104 DOMAIN_MEMORY_PEEK "virDomainMemoryPeek" Write Inline Open => none;
    105 CONNECT_DOMAIN_EVENT_REGISTER "virConnectDomainEventRegister" Read Normal Open => events::register;
    106 CONNECT_DOMAIN_EVENT_DEREGISTER "virConnectDomainEventDeregister" Read Normal Open => events::deregister;
    108 DOMAIN_MIGRATE_PREPARE2 "virDomainMigratePrepare2" Write Inline Open => none;
    109 DOMAIN_MIGRATE_FINISH2 "virDomainMigrateFinish2" Write Inline Open => none;
    110 CONNECT_GET_URI "virConnectGetURI" Read Inline Open => connect::get_uri;
    111 NODE_NUM_OF_DEVICES "virNodeNumOfDevices" Read Inline Open => none;
    112 NODE_LIST_DEVICES "virNodeListDevices" Read Inline Open => none;
    113 NODE_DEVICE_LOOKUP_BY_NAME "virNodeDeviceLookupByName" Read Inline Open => none;
    114 NODE_DEVICE_GET_XML_DESC "virNodeDeviceGetXMLDesc" Read Inline Open => none;
    115 NODE_DEVICE_GET_PARENT "virNodeDeviceGetParent" Read Inline Open => none;
    116 NODE_DEVICE_NUM_OF_CAPS "virNodeDeviceNumOfCaps" Read Inline Open => none;
    117 NODE_DEVICE_LIST_CAPS "virNodeDeviceListCaps" Read Inline Open => none;
    118 NODE_DEVICE_DETTACH "virNodeDeviceDettach" Write Inline Open => none;
    119 NODE_DEVICE_RE_ATTACH "virNodeDeviceReAttach" Write Inline Open => none;
    120 NODE_DEVICE_RESET "virNodeDeviceReset" Write Inline Open => none;
    121 DOMAIN_GET_SECURITY_LABEL "virDomainGetSecurityLabel" Read Cached Open => domain::get_security_label;
    122 NODE_GET_SECURITY_MODEL "virNodeGetSecurityModel" Read Inline Open => host::node_get_security_model;
    123 NODE_DEVICE_CREATE_XML "virNodeDeviceCreateXML" Write Inline Open => none;
    124 NODE_DEVICE_DESTROY "virNodeDeviceDestroy" Write Inline Open => none;
    125 STORAGE_VOL_CREATE_XML_FROM "virStorageVolCreateXMLFrom" Write Inline Open => none;
    126 CONNECT_NUM_OF_INTERFACES "virConnectNumOfInterfaces" Read Inline Open => none;
    127 CONNECT_LIST_INTERFACES "virConnectListInterfaces" Read Inline Open => none;
    128 INTERFACE_LOOKUP_BY_NAME "virInterfaceLookupByName" Read Inline Open => none;
    129 INTERFACE_LOOKUP_BY_MAC_STRING "virInterfaceLookupByMACString" Read Inline Open => none;
    130 INTERFACE_GET_XML_DESC "virInterfaceGetXMLDesc" Read Inline Open => none;
    131 INTERFACE_DEFINE_XML "virInterfaceDefineXML" Write Inline Open => none;
    132 INTERFACE_UNDEFINE "virInterfaceUndefine" Write Inline Open => none;
    133 INTERFACE_CREATE "virInterfaceCreate" Write Inline Open => none;
    134 INTERFACE_DESTROY "virInterfaceDestroy" Write Inline Open => none;
    135 CONNECT_DOMAIN_XML_FROM_NATIVE "virConnectDomainXMLFromNative" Write Inline Open => none;
    136 CONNECT_DOMAIN_XML_TO_NATIVE "virConnectDomainXMLToNative" Write Inline Open => none;
    137 CONNECT_NUM_OF_DEFINED_INTERFACES "virConnectNumOfDefinedInterfaces" Read Inline Open => none;
    138 CONNECT_LIST_DEFINED_INTERFACES "virConnectListDefinedInterfaces" Read Inline Open => none;
    139 CONNECT_NUM_OF_SECRETS "virConnectNumOfSecrets" Read Inline Open => none;
    140 CONNECT_LIST_SECRETS "virConnectListSecrets" Read Inline Open => none;
    141 SECRET_LOOKUP_BY_UUID "virSecretLookupByUUID" Read Inline Open => none;
    142 SECRET_DEFINE_XML "virSecretDefineXML" Write Inline Open => none;
    143 SECRET_GET_XML_DESC "virSecretGetXMLDesc" Read Inline Open => none;
    144 SECRET_SET_VALUE "virSecretSetValue" Write Inline Open => none;
    145 SECRET_GET_VALUE "virSecretGetValue" Write Inline Open => none;
    146 SECRET_UNDEFINE "virSecretUndefine" Write Inline Open => none;
    147 SECRET_LOOKUP_BY_USAGE "virSecretLookupByUsage" Read Inline Open => none;
    148 DOMAIN_MIGRATE_PREPARE_TUNNEL "virDomainMigratePrepareTunnel" Write Inline Open => none;
    149 CONNECT_IS_SECURE "virConnectIsSecure" Read Inline Open => connect::is_secure;
    150 DOMAIN_IS_ACTIVE "virDomainIsActive" Read Cached Open => domain::is_active;
    151 DOMAIN_IS_PERSISTENT "virDomainIsPersistent" Read Cached Open => domain::is_persistent;
    152 NETWORK_IS_ACTIVE "virNetworkIsActive" Read Inline Open => none;
    153 NETWORK_IS_PERSISTENT "virNetworkIsPersistent" Read Inline Open => none;
    154 STORAGE_POOL_IS_ACTIVE "virStoragePoolIsActive" Read Inline Open => none;
    155 STORAGE_POOL_IS_PERSISTENT "virStoragePoolIsPersistent" Read Inline Open => none;
    156 INTERFACE_IS_ACTIVE "virInterfaceIsActive" Read Inline Open => none;
    157 CONNECT_GET_LIB_VERSION "virConnectGetLibVersion" Read Inline Open => connect::get_lib_version;
    158 CONNECT_COMPARE_CPU "virConnectCompareCPU" Read Inline Open => none;
    159 DOMAIN_MEMORY_STATS "virDomainMemoryStats" Read Normal Open => stats::memory_stats;
    160 DOMAIN_ATTACH_DEVICE_FLAGS "virDomainAttachDeviceFlags" Write Normal Open => domain::attach_device_flags;
    161 DOMAIN_DETACH_DEVICE_FLAGS "virDomainDetachDeviceFlags" Write Normal Open => domain::detach_device_flags;
    162 CONNECT_BASELINE_CPU "virConnectBaselineCPU" Read Normal Open => connect::baseline_cpu;
    163 DOMAIN_GET_JOB_INFO "virDomainGetJobInfo" Read Normal Open => stats::job_info;
    164 DOMAIN_ABORT_JOB "virDomainAbortJob" Write Normal Open => stats::abort_job;
    165 STORAGE_VOL_WIPE "virStorageVolWipe" Write Inline Open => none;
    166 DOMAIN_MIGRATE_SET_MAX_DOWNTIME "virDomainMigrateSetMaxDowntime" Write Inline Open => none;
    167 CONNECT_DOMAIN_EVENT_REGISTER_ANY "virConnectDomainEventRegisterAny" Read Normal Open => events::register_any;
    168 CONNECT_DOMAIN_EVENT_DEREGISTER_ANY "virConnectDomainEventDeregisterAny" Read Normal Open => events::deregister_any;
    174 DOMAIN_UPDATE_DEVICE_FLAGS "virDomainUpdateDeviceFlags" Write Normal Open => domain::update_device_flags;
    175 NWFILTER_LOOKUP_BY_NAME "virNWFilterLookupByName" Read Inline Open => none;
    176 NWFILTER_LOOKUP_BY_UUID "virNWFilterLookupByUUID" Read Inline Open => none;
    177 NWFILTER_GET_XML_DESC "virNWFilterGetXMLDesc" Read Inline Open => none;
    178 CONNECT_NUM_OF_NWFILTERS "virConnectNumOfNWFilters" Read Inline Open => none;
    179 CONNECT_LIST_NWFILTERS "virConnectListNWFilters" Read Inline Open => none;
    180 NWFILTER_DEFINE_XML "virNWFilterDefineXML" Write Inline Open => none;
    181 NWFILTER_UNDEFINE "virNWFilterUndefine" Write Inline Open => none;
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
    194 DOMAIN_GET_BLOCK_INFO "virDomainGetBlockInfo" Read Inline Open => none;
    196 DOMAIN_CREATE_WITH_FLAGS "virDomainCreateWithFlags" Write Normal Open => domain::create_with_flags;
    197 DOMAIN_SET_MEMORY_PARAMETERS "virDomainSetMemoryParameters" Write Inline Open => none;
    198 DOMAIN_GET_MEMORY_PARAMETERS "virDomainGetMemoryParameters" Read Inline Open => none;
    199 DOMAIN_SET_VCPUS_FLAGS "virDomainSetVcpusFlags" Write Normal Open => domain::set_vcpus_flags;
    200 DOMAIN_GET_VCPUS_FLAGS "virDomainGetVcpusFlags" ReadFlags(0x8) Cached Open => domain::get_vcpus_flags;
    201 DOMAIN_OPEN_CONSOLE "virDomainOpenConsole" Write Inline Open => none;
    202 DOMAIN_IS_UPDATED "virDomainIsUpdated" Read Cached Open => domain::is_updated;
    203 CONNECT_GET_SYSINFO "virConnectGetSysinfo" Read Normal Open => connect::get_sysinfo;
    204 DOMAIN_SET_MEMORY_FLAGS "virDomainSetMemoryFlags" Write Normal Open => domain::set_memory_flags;
    205 DOMAIN_SET_BLKIO_PARAMETERS "virDomainSetBlkioParameters" Write Inline Open => none;
    206 DOMAIN_GET_BLKIO_PARAMETERS "virDomainGetBlkioParameters" Read Inline Open => none;
    207 DOMAIN_MIGRATE_SET_MAX_SPEED "virDomainMigrateSetMaxSpeed" Write Inline Open => none;
    208 STORAGE_VOL_UPLOAD "virStorageVolUpload" Write Inline Open => none;
    209 STORAGE_VOL_DOWNLOAD "virStorageVolDownload" Write Inline Open => none;
    210 DOMAIN_INJECT_NMI "virDomainInjectNMI" Write Inline Open => none;
    211 DOMAIN_SCREENSHOT "virDomainScreenshot" Write Inline Open => none;
    212 DOMAIN_GET_STATE "virDomainGetState" Read Cached Open => domain::get_state;
    213 DOMAIN_MIGRATE_BEGIN3 "virDomainMigrateBegin3" Write Inline Open => none;
    214 DOMAIN_MIGRATE_PREPARE3 "virDomainMigratePrepare3" Write Inline Open => none;
    215 DOMAIN_MIGRATE_PREPARE_TUNNEL3 "virDomainMigratePrepareTunnel3" Write Inline Open => none;
    216 DOMAIN_MIGRATE_PERFORM3 "virDomainMigratePerform3" Write Inline Open => none;
    217 DOMAIN_MIGRATE_FINISH3 "virDomainMigrateFinish3" Write Inline Open => none;
    218 DOMAIN_MIGRATE_CONFIRM3 "virDomainMigrateConfirm3" Write Inline Open => none;
    219 DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS "virDomainSetSchedulerParametersFlags" Write Inline Open => none;
    220 INTERFACE_CHANGE_BEGIN "virInterfaceChangeBegin" Write Inline Open => none;
    221 INTERFACE_CHANGE_COMMIT "virInterfaceChangeCommit" Write Inline Open => none;
    222 INTERFACE_CHANGE_ROLLBACK "virInterfaceChangeRollback" Write Inline Open => none;
    223 DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS "virDomainGetSchedulerParametersFlags" Read Inline Open => none;
    225 DOMAIN_PIN_VCPU_FLAGS "virDomainPinVcpuFlags" Write Inline Open => none;
    226 DOMAIN_SEND_KEY "virDomainSendKey" Write Inline Open => none;
    227 NODE_GET_CPU_STATS "virNodeGetCPUStats" Read Inline Open => host::node_get_cpu_stats;
    228 NODE_GET_MEMORY_STATS "virNodeGetMemoryStats" Read Inline Open => host::node_get_memory_stats;
    229 DOMAIN_GET_CONTROL_INFO "virDomainGetControlInfo" Read Inline Open => none;
    230 DOMAIN_GET_VCPU_PIN_INFO "virDomainGetVcpuPinInfo" Read Normal Open => none;
    231 DOMAIN_UNDEFINE_FLAGS "virDomainUndefineFlags" Write High Open => domain::undefine_flags;
    232 DOMAIN_SAVE_FLAGS "virDomainSaveFlags" Write Inline Open => none;
    233 DOMAIN_RESTORE_FLAGS "virDomainRestoreFlags" Write Inline Open => none;
    234 DOMAIN_DESTROY_FLAGS "virDomainDestroyFlags" Write High Open => domain::destroy_flags;
    235 DOMAIN_SAVE_IMAGE_GET_XML_DESC "virDomainSaveImageGetXMLDesc" Write Inline Open => none;
    236 DOMAIN_SAVE_IMAGE_DEFINE_XML "virDomainSaveImageDefineXML" Write Inline Open => none;
    237 DOMAIN_BLOCK_JOB_ABORT "virDomainBlockJobAbort" Write Inline Open => none;
    238 DOMAIN_GET_BLOCK_JOB_INFO "virDomainGetBlockJobInfo" Read Inline Open => none;
    239 DOMAIN_BLOCK_JOB_SET_SPEED "virDomainBlockJobSetSpeed" Write Inline Open => none;
    240 DOMAIN_BLOCK_PULL "virDomainBlockPull" Write Inline Open => none;
    242 DOMAIN_MIGRATE_GET_MAX_SPEED "virDomainMigrateGetMaxSpeed" Write Inline Open => none;
    243 DOMAIN_BLOCK_STATS_FLAGS "virDomainBlockStatsFlags" Read Normal Open => stats::block_stats_flags;
    244 DOMAIN_SNAPSHOT_GET_PARENT "virDomainSnapshotGetParent" Read High Open => snapshots::get_parent;
    245 DOMAIN_RESET "virDomainReset" Write Normal Open => domain::reset;
    246 DOMAIN_SNAPSHOT_NUM_CHILDREN "virDomainSnapshotNumChildren" Read High Open => snapshots::num_children;
    247 DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES "virDomainSnapshotListChildrenNames" Read High Open => snapshots::list_children_names;
    249 DOMAIN_OPEN_GRAPHICS "virDomainOpenGraphics" Write Inline Open => none;
    250 NODE_SUSPEND_FOR_DURATION "virNodeSuspendForDuration" Write Inline Open => none;
    251 DOMAIN_BLOCK_RESIZE "virDomainBlockResize" Write Normal Open => domain::block_resize;
    252 DOMAIN_SET_BLOCK_IO_TUNE "virDomainSetBlockIoTune" Write Inline Open => none;
    253 DOMAIN_GET_BLOCK_IO_TUNE "virDomainGetBlockIoTune" Read Inline Open => none;
    254 DOMAIN_SET_NUMA_PARAMETERS "virDomainSetNumaParameters" Write Inline Open => none;
    255 DOMAIN_GET_NUMA_PARAMETERS "virDomainGetNumaParameters" Read Inline Open => none;
    256 DOMAIN_SET_INTERFACE_PARAMETERS "virDomainSetInterfaceParameters" Write Inline Open => none;
    257 DOMAIN_GET_INTERFACE_PARAMETERS "virDomainGetInterfaceParameters" Read Inline Open => none;
    258 DOMAIN_SHUTDOWN_FLAGS "virDomainShutdownFlags" Write Normal Open => domain::shutdown_flags;
    259 STORAGE_VOL_WIPE_PATTERN "virStorageVolWipePattern" Write Inline Open => none;
    260 STORAGE_VOL_RESIZE "virStorageVolResize" Write Inline Open => none;
    261 DOMAIN_PM_SUSPEND_FOR_DURATION "virDomainPMSuspendForDuration" Write Inline Open => none;
    262 DOMAIN_GET_CPU_STATS "virDomainGetCPUStats" Read Inline Open => none;
    263 DOMAIN_GET_DISK_ERRORS "virDomainGetDiskErrors" Read Inline Open => none;
    264 DOMAIN_SET_METADATA "virDomainSetMetadata" Write Inline Open => none;
    265 DOMAIN_GET_METADATA "virDomainGetMetadata" Read Normal Open => none;
    266 DOMAIN_BLOCK_REBASE "virDomainBlockRebase" Write Inline Open => none;
    267 DOMAIN_PM_WAKEUP "virDomainPMWakeup" Write Inline Open => none;
    271 DOMAIN_SNAPSHOT_IS_CURRENT "virDomainSnapshotIsCurrent" Read Normal Open => snapshots::is_current;
    272 DOMAIN_SNAPSHOT_HAS_METADATA "virDomainSnapshotHasMetadata" Read Normal Open => snapshots::has_metadata;
    273 CONNECT_LIST_ALL_DOMAINS "virConnectListAllDomains" Read CachedUnless(0x3000) Open => domain::list_all;
    274 DOMAIN_LIST_ALL_SNAPSHOTS "virDomainListAllSnapshots" Read High Open => snapshots::list_all;
    275 DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN "virDomainSnapshotListAllChildren" Read High Open => snapshots::list_all_children;
    277 DOMAIN_GET_HOSTNAME "virDomainGetHostname" Write Inline Open => none;
    278 DOMAIN_GET_SECURITY_LABEL_LIST "virDomainGetSecurityLabelList" Read Inline Open => none;
    279 DOMAIN_PIN_EMULATOR "virDomainPinEmulator" Write Inline Open => none;
    280 DOMAIN_GET_EMULATOR_PIN_INFO "virDomainGetEmulatorPinInfo" Read Inline Open => none;
    281 CONNECT_LIST_ALL_STORAGE_POOLS "virConnectListAllStoragePools" Read Inline Open => none;
    282 STORAGE_POOL_LIST_ALL_VOLUMES "virStoragePoolListAllVolumes" Read Inline Open => none;
    283 CONNECT_LIST_ALL_NETWORKS "virConnectListAllNetworks" Read Inline Open => none;
    284 CONNECT_LIST_ALL_INTERFACES "virConnectListAllInterfaces" Read Inline Open => none;
    285 CONNECT_LIST_ALL_NODE_DEVICES "virConnectListAllNodeDevices" Read Inline Open => none;
    286 CONNECT_LIST_ALL_NWFILTERS "virConnectListAllNWFilters" Read Inline Open => none;
    287 CONNECT_LIST_ALL_SECRETS "virConnectListAllSecrets" Read Inline Open => none;
    288 NODE_SET_MEMORY_PARAMETERS "virNodeSetMemoryParameters" Write Inline Open => none;
    289 NODE_GET_MEMORY_PARAMETERS "virNodeGetMemoryParameters" Read Inline Open => none;
    290 DOMAIN_BLOCK_COMMIT "virDomainBlockCommit" Write Inline Open => none;
    291 NETWORK_UPDATE "virNetworkUpdate" Write Inline Open => none;
    293 NODE_GET_CPU_MAP "virNodeGetCPUMap" Read Inline Open => host::node_get_cpu_map;
    294 DOMAIN_FSTRIM "virDomainFSTrim" Write Inline Open => none;
    295 DOMAIN_SEND_PROCESS_SIGNAL "virDomainSendProcessSignal" Write Inline Open => none;
    296 DOMAIN_OPEN_CHANNEL "virDomainOpenChannel" Write Inline Open => none;
    297 NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN "virNodeDeviceLookupSCSIHostByWWN" Read Inline Open => none;
    298 DOMAIN_GET_JOB_STATS "virDomainGetJobStats" Read Normal Open => stats::job_stats;
    299 DOMAIN_MIGRATE_GET_COMPRESSION_CACHE "virDomainMigrateGetCompressionCache" Read Inline Open => none;
    300 DOMAIN_MIGRATE_SET_COMPRESSION_CACHE "virDomainMigrateSetCompressionCache" Write Inline Open => none;
    301 NODE_DEVICE_DETACH_FLAGS "virNodeDeviceDetachFlags" Write Inline Open => none;
    302 DOMAIN_MIGRATE_BEGIN3_PARAMS "virDomainMigrateBegin3Params" Write Inline Open => none;
    303 DOMAIN_MIGRATE_PREPARE3_PARAMS "virDomainMigratePrepare3Params" Write Inline Open => none;
    304 DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS "virDomainMigratePrepareTunnel3Params" Write Inline Open => none;
    305 DOMAIN_MIGRATE_PERFORM3_PARAMS "virDomainMigratePerform3Params" Write Inline Open => none;
    306 DOMAIN_MIGRATE_FINISH3_PARAMS "virDomainMigrateFinish3Params" Write Inline Open => none;
    307 DOMAIN_MIGRATE_CONFIRM3_PARAMS "virDomainMigrateConfirm3Params" Write Inline Open => none;
    308 DOMAIN_SET_MEMORY_STATS_PERIOD "virDomainSetMemoryStatsPeriod" Write Inline Open => none;
    309 DOMAIN_CREATE_XML_WITH_FILES "virDomainCreateXMLWithFiles" Write Normal Open => none;
    310 DOMAIN_CREATE_WITH_FILES "virDomainCreateWithFiles" Write Normal Open => none;
    312 CONNECT_GET_CPU_MODEL_NAMES "virConnectGetCPUModelNames" Read Inline Open => none;
    313 CONNECT_NETWORK_EVENT_REGISTER_ANY "virConnectNetworkEventRegisterAny" Read Inline Open => none;
    314 CONNECT_NETWORK_EVENT_DEREGISTER_ANY "virConnectNetworkEventDeregisterAny" Read Inline Open => none;
    316 CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY "virConnectDomainEventRegisterAny" Read High Open => events::callback_register_any;
    317 CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY "virConnectDomainEventDeregisterAny" Read High Open => events::callback_deregister_any;
    334 DOMAIN_CORE_DUMP_WITH_FORMAT "virDomainCoreDumpWithFormat" Write Inline Open => none;
    335 DOMAIN_FSFREEZE "virDomainFSFreeze" Write Inline Open => none;
    336 DOMAIN_FSTHAW "virDomainFSThaw" Write Inline Open => none;
    337 DOMAIN_GET_TIME "virDomainGetTime" Write Inline Open => none;
    338 DOMAIN_SET_TIME "virDomainSetTime" Write Normal Open => none;
    340 NODE_GET_FREE_PAGES "virNodeGetFreePages" Read Inline Open => none;
    341 NETWORK_GET_DHCP_LEASES "virNetworkGetDHCPLeases" Read Inline Open => none;
    342 CONNECT_GET_DOMAIN_CAPABILITIES "virConnectGetDomainCapabilities" Write Normal Open => domain::get_domain_capabilities;
    343 DOMAIN_OPEN_GRAPHICS_FD "virDomainOpenGraphicsFD" Write Inline Open => none;
    344 CONNECT_GET_ALL_DOMAIN_STATS "virConnectGetAllDomainStats" Read Normal Open => stats::all_domain_stats;
    345 DOMAIN_BLOCK_COPY "virDomainBlockCopy" Write Inline Open => none;
    347 NODE_ALLOC_PAGES "virNodeAllocPages" Write Inline Open => none;
    349 DOMAIN_GET_FSINFO "virDomainGetFSInfo" Write Inline Open => none;
    350 DOMAIN_DEFINE_XML_FLAGS "virDomainDefineXMLFlags" Write High Open => domain::define_xml_flags;
    351 DOMAIN_GET_IOTHREAD_INFO "virDomainGetIOThreadInfo" Read Inline Open => none;
    352 DOMAIN_PIN_IOTHREAD "virDomainPinIOThread" Write Inline Open => none;
    353 DOMAIN_INTERFACE_ADDRESSES "virDomainInterfaceAddresses" Read Inline Open => none;
    355 DOMAIN_ADD_IOTHREAD "virDomainAddIOThread" Write Inline Open => none;
    356 DOMAIN_DEL_IOTHREAD "virDomainDelIOThread" Write Inline Open => none;
    357 DOMAIN_SET_USER_PASSWORD "virDomainSetUserPassword" Write Normal Open => domain::set_user_password;
    358 DOMAIN_RENAME "virDomainRename" Write Inline Open => none;
    360 CONNECT_REGISTER_CLOSE_CALLBACK "virConnectRegisterCloseCallback" Read Inline Open => connect::register_close_callback;
    361 CONNECT_UNREGISTER_CLOSE_CALLBACK "virConnectUnregisterCloseCallback" Read Inline Open => connect::unregister_close_callback;
    364 DOMAIN_MIGRATE_START_POST_COPY "virDomainMigrateStartPostCopy" Write Inline Open => none;
    365 DOMAIN_GET_PERF_EVENTS "virDomainGetPerfEvents" Read Inline Open => none;
    366 DOMAIN_SET_PERF_EVENTS "virDomainSetPerfEvents" Write Inline Open => none;
    368 CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY "virConnectStoragePoolEventRegisterAny" Read Inline Open => none;
    369 CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY "virConnectStoragePoolEventDeregisterAny" Read Inline Open => none;
    371 DOMAIN_GET_GUEST_VCPUS "virDomainGetGuestVcpus" Write Inline Open => none;
    372 DOMAIN_SET_GUEST_VCPUS "virDomainSetGuestVcpus" Write Inline Open => none;
    374 CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY "virConnectNodeDeviceEventRegisterAny" Read Inline Open => none;
    375 CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY "virConnectNodeDeviceEventDeregisterAny" Read Inline Open => none;
    378 STORAGE_VOL_GET_INFO_FLAGS "virStorageVolGetInfoFlags" Read Inline Open => none;
    380 CONNECT_SECRET_EVENT_REGISTER_ANY "virConnectSecretEventRegisterAny" Read Inline Open => none;
    381 CONNECT_SECRET_EVENT_DEREGISTER_ANY "virConnectSecretEventDeregisterAny" Read Inline Open => none;
    384 DOMAIN_SET_VCPU "virDomainSetVcpu" Write Inline Open => none;
    386 DOMAIN_SET_BLOCK_THRESHOLD "virDomainSetBlockThreshold" Write Inline Open => none;
    387 DOMAIN_MIGRATE_GET_MAX_DOWNTIME "virDomainMigrateGetMaxDowntime" Read Inline Open => none;
    388 DOMAIN_MANAGED_SAVE_GET_XML_DESC "virDomainManagedSaveGetXMLDesc" ReadSecure(0x1) Inline Open => none;
    389 DOMAIN_MANAGED_SAVE_DEFINE_XML "virDomainManagedSaveDefineXML" Write Inline Open => none;
    390 DOMAIN_SET_LIFECYCLE_ACTION "virDomainSetLifecycleAction" Write Inline Open => none;
    391 STORAGE_POOL_LOOKUP_BY_TARGET_PATH "virStoragePoolLookupByTargetPath" Read Inline Open => none;
    392 DOMAIN_DETACH_DEVICE_ALIAS "virDomainDetachDeviceAlias" Write Inline Open => none;
    393 CONNECT_COMPARE_HYPERVISOR_CPU "virConnectCompareHypervisorCPU" Write Inline Open => none;
    394 CONNECT_BASELINE_HYPERVISOR_CPU "virConnectBaselineHypervisorCPU" Write Inline Open => none;
    395 NODE_GET_SEV_INFO "virNodeGetSEVInfo" Write Inline Open => none;
    396 DOMAIN_GET_LAUNCH_SECURITY_INFO "virDomainGetLaunchSecurityInfo" Write Inline Open => none;
    397 NWFILTER_BINDING_LOOKUP_BY_PORT_DEV "virNWFilterBindingLookupByPortDev" Read Inline Open => none;
    398 NWFILTER_BINDING_GET_XML_DESC "virNWFilterBindingGetXMLDesc" Read Inline Open => none;
    399 NWFILTER_BINDING_CREATE_XML "virNWFilterBindingCreateXML" Write Inline Open => none;
    400 NWFILTER_BINDING_DELETE "virNWFilterBindingDelete" Write Inline Open => none;
    401 CONNECT_LIST_ALL_NWFILTER_BINDINGS "virConnectListAllNWFilterBindings" Read Inline Open => none;
    402 DOMAIN_SET_IOTHREAD_PARAMS "virDomainSetIOThreadParams" Write Inline Open => none;
    403 CONNECT_GET_STORAGE_POOL_CAPABILITIES "virConnectGetStoragePoolCapabilities" Read Inline Open => none;
    404 NETWORK_LIST_ALL_PORTS "virNetworkListAllPorts" Read Inline Open => none;
    405 NETWORK_PORT_LOOKUP_BY_UUID "virNetworkPortLookupByUUID" Read Inline Open => none;
    406 NETWORK_PORT_CREATE_XML "virNetworkPortCreateXML" Write Inline Open => none;
    407 NETWORK_PORT_GET_PARAMETERS "virNetworkPortGetParameters" Read Inline Open => none;
    408 NETWORK_PORT_SET_PARAMETERS "virNetworkPortSetParameters" Write Inline Open => none;
    409 NETWORK_PORT_GET_XML_DESC "virNetworkPortGetXMLDesc" Read Inline Open => none;
    410 NETWORK_PORT_DELETE "virNetworkPortDelete" Write Inline Open => none;
    411 DOMAIN_CHECKPOINT_CREATE_XML "virDomainCheckpointCreateXML" Write Inline Open => none;
    412 DOMAIN_CHECKPOINT_GET_XML_DESC "virDomainCheckpointGetXMLDesc" ReadSecure(0x1) Inline Open => none;
    413 DOMAIN_LIST_ALL_CHECKPOINTS "virDomainListAllCheckpoints" Read Inline Open => none;
    414 DOMAIN_CHECKPOINT_LIST_ALL_CHILDREN "virDomainCheckpointListAllChildren" Read Inline Open => none;
    415 DOMAIN_CHECKPOINT_LOOKUP_BY_NAME "virDomainCheckpointLookupByName" Read Inline Open => none;
    416 DOMAIN_CHECKPOINT_GET_PARENT "virDomainCheckpointGetParent" Read Inline Open => none;
    417 DOMAIN_CHECKPOINT_DELETE "virDomainCheckpointDelete" Write Inline Open => none;
    418 DOMAIN_GET_GUEST_INFO "virDomainGetGuestInfo" Write Inline Open => none;
    419 CONNECT_SET_IDENTITY "virConnectSetIdentity" Write Inline Open => none;
    420 DOMAIN_AGENT_SET_RESPONSE_TIMEOUT "virDomainAgentSetResponseTimeout" Write Inline Open => none;
    421 DOMAIN_BACKUP_BEGIN "virDomainBackupBegin" Write Inline Open => none;
    422 DOMAIN_BACKUP_GET_XML_DESC "virDomainBackupGetXMLDesc" Read Inline Open => none;
    424 DOMAIN_AUTHORIZED_SSH_KEYS_GET "virDomainAuthorizedSSHKeysGet" Write Inline Open => none;
    425 DOMAIN_AUTHORIZED_SSH_KEYS_SET "virDomainAuthorizedSSHKeysSet" Write Inline Open => none;
    426 DOMAIN_GET_MESSAGES "virDomainGetMessages" Read Cached Open => domain::get_messages;
    427 DOMAIN_START_DIRTY_RATE_CALC "virDomainStartDirtyRateCalc" Write Inline Open => none;
    428 NODE_DEVICE_DEFINE_XML "virNodeDeviceDefineXML" Write Inline Open => none;
    429 NODE_DEVICE_UNDEFINE "virNodeDeviceUndefine" Write Inline Open => none;
    430 NODE_DEVICE_CREATE "virNodeDeviceCreate" Write Inline Open => none;
    431 NWFILTER_DEFINE_XML_FLAGS "virNWFilterDefineXMLFlags" Write Inline Open => none;
    432 NETWORK_DEFINE_XML_FLAGS "virNetworkDefineXMLFlags" Write Inline Open => none;
    433 NODE_DEVICE_GET_AUTOSTART "virNodeDeviceGetAutostart" Write Inline Open => none;
    434 NODE_DEVICE_SET_AUTOSTART "virNodeDeviceSetAutostart" Write Inline Open => none;
    435 NODE_DEVICE_IS_PERSISTENT "virNodeDeviceIsPersistent" Read Inline Open => none;
    436 NODE_DEVICE_IS_ACTIVE "virNodeDeviceIsActive" Read Inline Open => none;
    437 NETWORK_CREATE_XML_FLAGS "virNetworkCreateXMLFlags" Write Inline Open => none;
    439 DOMAIN_SET_LAUNCH_SECURITY_STATE "virDomainSetLaunchSecurityState" Write Inline Open => none;
    440 DOMAIN_SAVE_PARAMS "virDomainSaveParams" Write Inline Open => none;
    441 DOMAIN_RESTORE_PARAMS "virDomainRestoreParams" Write Inline Open => none;
    442 DOMAIN_ABORT_JOB_FLAGS "virDomainAbortJobFlags" Write Inline Open => none;
    443 DOMAIN_FD_ASSOCIATE "virDomainFDAssociate" Write Inline Open => none;
}

/// The last REMOTE procedure of libvirt 9.0 (DOMAIN_FD_ASSOCIATE, whose
/// virDomainFDAssociate came with 9.0.0). Later numbers are unknown here.
pub const LAST_LIBVIRT_9_0: i32 = 443;

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
    fn every_call_of_libvirt_9_0_has_one_line() {
        // libvirt 9.0's event messages (DOMAIN_EVENT_*, the
        // DOMAIN_EVENT_CALLBACK_* ones, the network, storage pool, node
        // device and secret events, CONNECT_EVENT_CONNECTION_CLOSED):
        // sent by the daemon, never called.
        const EVENT_MESSAGES: &[i32] = &[
            107, 169, 170, 171, 172, 173, 195, 224, 241, 248, 268, 269, 270, 276, 292, 311, 315,
            318, 319, 320, 321, 322, 323, 324, 325, 326, 327, 328, 329, 330, 331, 332, 333, 339,
            346, 348, 354, 359, 362, 363, 367, 370, 373, 376, 377, 379, 382, 383, 385, 423, 438,
        ];
        for n in 1..=LAST_LIBVIRT_9_0 {
            let lines = PROCEDURES.iter().filter(|p| p.number == n).count();
            let event = usize::from(EVENT_MESSAGES.contains(&n));
            assert_eq!(lines + event, 1, "procedure {n}");
        }
        assert_eq!(PROCEDURES.len() + EVENT_MESSAGES.len(), 443);
        assert!(PROCEDURES.iter().all(|p| p.number <= LAST_LIBVIRT_9_0));
        assert!(lookup(LAST_LIBVIRT_9_0 + 1).is_none());
    }

    /// The public API a procedure name spells, in libvirt's capitals.
    fn spelled(name: &str) -> String {
        let word = |w: &str| match w {
            "XML" | "URI" | "UUID" | "ID" | "CPU" | "OS" | "MAC" | "DHCP" | "PM" | "NMI"
            | "SCSI" | "WWN" | "SEV" | "SSH" | "FD" => w.to_string(),
            "NWFILTER" => "NWFilter".into(),
            "NWFILTERS" => "NWFilters".into(),
            "IOTHREAD" => "IOThread".into(),
            _ if w.starts_with("FS") => format!("FS{}", capitalised(&w[2..])),
            _ => capitalised(w),
        };
        let mut api = String::from("vir");
        for w in name.split('_') {
            api.push_str(&word(w));
        }
        api
    }

    fn capitalised(w: &str) -> String {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_string() + &c.as_str().to_lowercase())
            .unwrap_or_default()
    }

    #[test]
    fn apis_are_the_names_spelled_out() {
        // Those whose API is not their name: the callback variants of the
        // domain event calls serve the same public API, and the AUTH_*
        // calls have none (named as the connection's).
        let irregular = [
            (
                "CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY",
                "virConnectDomainEventRegisterAny",
            ),
            (
                "CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY",
                "virConnectDomainEventDeregisterAny",
            ),
            ("AUTH_LIST", "virConnectAuthList"),
            ("AUTH_SASL_INIT", "virConnectAuthSaslInit"),
            ("AUTH_SASL_START", "virConnectAuthSaslStart"),
            ("AUTH_SASL_STEP", "virConnectAuthSaslStep"),
            ("AUTH_POLKIT", "virConnectAuthPolkit"),
        ];
        let wrong: Vec<_> = PROCEDURES
            .iter()
            .filter(|p| {
                let want = irregular
                    .iter()
                    .find(|(n, _)| *n == p.name)
                    .map_or_else(|| spelled(p.name), |(_, a)| a.to_string());
                p.api != want
            })
            .map(|p| (p.name, p.api))
            .collect();
        assert!(wrong.is_empty(), "{wrong:?}");
        // A sample of what the spelling gives.
        assert_eq!(
            spelled("DOMAIN_GET_BLOCK_IO_TUNE"),
            "virDomainGetBlockIoTune"
        );
        assert_eq!(spelled("DOMAIN_FSTRIM"), "virDomainFSTrim");
        assert_eq!(spelled("NODE_DEVICE_RE_ATTACH"), "virNodeDeviceReAttach");
    }

    #[test]
    fn what_the_driver_lacks_is_answered_inline() {
        // The lines this change added (none rows elsewhere keep theirs):
        // a refusal needs no worker.
        for n in [283, 281, 41, 443, 67] {
            let p = lookup(n).unwrap();
            assert!(p.handler.is_none() && p.decode.is_none(), "{}", p.name);
            assert_eq!(p.priority, Schedule::Inline, "{}", p.name);
        }
        assert_eq!(lookup(283).unwrap().access, Access::Read);
        assert_eq!(lookup(41).unwrap().access, Access::Write);
        // The handshake is AUTH_LIST's and CONNECT_OPEN's: the SASL and
        // polkit steps, never offered here, need an open connection too.
        assert_eq!(lookup(67).unwrap().stage, Stage::Open);
    }

    #[test]
    fn apis_are_public_names() {
        for p in PROCEDURES {
            assert!(p.api.starts_with("vir"), "{}", p.name);
        }
    }
}

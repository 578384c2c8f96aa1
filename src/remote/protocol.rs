//! Argument and return structs of the REMOTE program, field for field as
//! `remote_protocol.x` lays them out (XDR via serde, see `rpc::xdr`).

use crate::rpc::xdr::{Bounded, FixedOpaque, Opaque};
use serde::{Deserialize, Serialize};

/// REMOTE program number.
pub const PROGRAM: u32 = 0x2000_8086;
/// REMOTE program version.
pub const VERSION: u32 = 1;

/// REMOTE_AUTH_TYPE_LIST_MAX
pub const AUTH_TYPE_LIST_MAX: usize = 20;
/// REMOTE_NODE_MAX_CELLS
pub const NODE_MAX_CELLS: usize = 1024;
/// REMOTE_CPUMAP_MAX
pub const CPUMAP_MAX: usize = 2048;
/// REMOTE_NODE_CPU_STATS_MAX
pub const NODE_CPU_STATS_MAX: usize = 16;
/// REMOTE_NODE_MEMORY_STATS_MAX
pub const NODE_MEMORY_STATS_MAX: usize = 16;
/// REMOTE_SECURITY_MODEL_MAX
pub const SECURITY_MODEL_MAX: usize = 257;
/// REMOTE_SECURITY_DOI_MAX
pub const SECURITY_DOI_MAX: usize = 257;
/// REMOTE_DOMAIN_LIST_MAX
pub const DOMAIN_LIST_MAX: usize = 16384;

/// `remote_uuid`
pub type Uuid = FixedOpaque<16>;

/// `remote_connect_open_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct ConnectOpenArgs {
    /// The URI, with client-only parameters removed.
    pub name: Option<String>,
    /// Remote-driver open flags (RO = 1).
    pub flags: u32,
}

/// `remote_connect_supports_feature_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SupportsFeatureArgs {
    /// VIR_DRV_FEATURE_*
    pub feature: i32,
}

/// `remote_connect_get_max_vcpus_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct GetMaxVcpusArgs {
    /// Hypervisor type, or none.
    pub r#type: Option<String>,
}

/// `remote_connect_get_sysinfo_args` and every other flags-only argument.
#[derive(Deserialize, Serialize, Debug)]
pub struct FlagsArgs {
    /// Flags.
    pub flags: u32,
}

/// REMOTE_CPU_BASELINE_MAX
pub const CPU_BASELINE_MAX: usize = 256;

/// `remote_connect_baseline_cpu_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct BaselineCpuArgs {
    /// The host `<cpu>` documents.
    pub xml_cpus: Bounded<String, CPU_BASELINE_MAX>,
    /// VIR_CONNECT_BASELINE_CPU_*
    pub flags: u32,
}

/// `remote_node_get_info_ret`
#[derive(Deserialize, Serialize, Debug, PartialEq)]
pub struct NodeGetInfoRet {
    /// CPU model as a NUL-padded `char[32]` (4 bytes per char on the wire).
    pub model: [i8; 32],
    /// Memory in KiB.
    pub memory: u64,
    /// Active CPUs.
    pub cpus: i32,
    /// CPU frequency in MHz.
    pub mhz: i32,
    /// NUMA nodes.
    pub nodes: i32,
    /// Sockets per node.
    pub sockets: i32,
    /// Cores per socket.
    pub cores: i32,
    /// Threads per core.
    pub threads: i32,
}

/// `remote_node_get_cpu_stats_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct NodeGetCpuStatsArgs {
    /// CPU number, or -1 for all.
    pub cpu_num: i32,
    /// Room the caller has; 0 asks for the count.
    pub nparams: i32,
    /// Flags.
    pub flags: u32,
}

/// `remote_node_get_memory_stats_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct NodeGetMemoryStatsArgs {
    /// Room the caller has; 0 asks for the count.
    pub nparams: i32,
    /// NUMA cell, or -1 for all.
    pub cell_num: i32,
    /// Flags.
    pub flags: u32,
}

/// `remote_node_get_cpu_stats` / `remote_node_get_memory_stats`
#[derive(Deserialize, Serialize, Debug, PartialEq)]
pub struct NodeStat {
    /// Field name.
    pub field: String,
    /// Value.
    pub value: u64,
}

/// `remote_node_get_{cpu,memory}_stats_ret`
#[derive(Deserialize, Serialize, Debug, PartialEq)]
pub struct NodeStatsRet {
    /// The values (empty when the count was asked for).
    pub params: Vec<NodeStat>,
    /// How many values there are.
    pub nparams: i32,
}

/// `remote_node_get_cells_free_memory_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct NodeGetCellsFreeMemoryArgs {
    /// First cell.
    pub start_cell: i32,
    /// Most cells to report.
    pub maxcells: i32,
}

/// `remote_node_get_cells_free_memory_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct NodeGetCellsFreeMemoryRet {
    /// Free bytes per cell.
    pub cells: Vec<u64>,
}

/// `remote_node_get_cpu_map_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct NodeGetCpuMapArgs {
    /// Whether to return the map.
    pub need_map: i32,
    /// Whether to return the online count.
    pub need_online: i32,
    /// Flags.
    pub flags: u32,
}

/// `remote_node_get_cpu_map_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct NodeGetCpuMapRet {
    /// Bitmap of online CPUs.
    pub cpumap: Opaque,
    /// Online CPUs.
    pub online: u32,
    /// Total CPUs.
    pub ret: i32,
}

/// `remote_node_get_security_model_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct NodeGetSecurityModelRet {
    /// Model name as `char<>` including its NUL.
    pub model: Bounded<i8, SECURITY_MODEL_MAX>,
    /// DOI as `char<>` including its NUL.
    pub doi: Bounded<i8, SECURITY_DOI_MAX>,
}

/// `remote_nonnull_domain`
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Name.
    pub name: String,
    /// UUID.
    pub uuid: Uuid,
    /// Id, -1 when inactive.
    pub id: i32,
}

/// Arguments that are just a domain.
#[derive(Deserialize, Serialize, Debug)]
pub struct DomainArgs {
    /// The domain.
    pub dom: Domain,
}

/// A domain and flags.
#[derive(Deserialize, Serialize, Debug)]
pub struct DomainFlagsArgs {
    /// The domain.
    pub dom: Domain,
    /// Flags.
    pub flags: u32,
}

/// `remote_connect_list_all_domains_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct ListAllDomainsArgs {
    /// Whether to return the domains (else only the count).
    pub need_results: i32,
    /// VIR_CONNECT_LIST_DOMAINS_* filters.
    pub flags: u32,
}

/// `remote_connect_list_all_domains_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct ListAllDomainsRet {
    /// The domains.
    pub domains: Vec<Domain>,
    /// How many matched.
    pub ret: u32,
}

/// `remote_domain_get_info_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct DomainGetInfoRet {
    /// virDomainState (a `u_char`, 4 bytes on the wire).
    pub state: u8,
    /// Maximum memory in KiB.
    pub max_mem: u64,
    /// Memory in KiB.
    pub memory: u64,
    /// Virtual CPUs (a `u_short`, 4 bytes on the wire).
    pub nr_virt_cpu: u16,
    /// CPU time in ns.
    pub cpu_time: u64,
}

/// `remote_domain_get_state_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct DomainGetStateRet {
    /// virDomainState.
    pub state: i32,
    /// Its reason.
    pub reason: i32,
}

/// `remote_domain_define_xml_flags_args` (and CREATE_XML's layout)
#[derive(Deserialize, Serialize, Debug)]
pub struct XmlFlagsArgs {
    /// The XML.
    pub xml: String,
    /// Flags.
    pub flags: u32,
}

/// `remote_domain_set_autostart_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SetAutostartArgs {
    /// The domain.
    pub dom: Domain,
    /// 1 to enable.
    pub autostart: i32,
}

/// `remote_domain_set_memory_flags_args` (flags 0 for SET_MEMORY).
#[derive(Deserialize, Serialize, Debug)]
pub struct SetMemoryArgs {
    /// The domain.
    pub dom: Domain,
    /// New memory in KiB.
    pub memory: u64,
}

/// `remote_domain_set_memory_flags_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SetMemoryFlagsArgs {
    /// The domain.
    pub dom: Domain,
    /// New memory in KiB.
    pub memory: u64,
    /// VIR_DOMAIN_AFFECT_* and VIR_DOMAIN_MEM_MAXIMUM.
    pub flags: u32,
}

/// `remote_domain_set_vcpus_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SetVcpusArgs {
    /// The domain.
    pub dom: Domain,
    /// New count.
    pub nvcpus: u32,
}

/// `remote_domain_set_vcpus_flags_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SetVcpusFlagsArgs {
    /// The domain.
    pub dom: Domain,
    /// New count.
    pub nvcpus: u32,
    /// VIR_DOMAIN_AFFECT_* and VIR_DOMAIN_VCPU_*.
    pub flags: u32,
}

/// `remote_domain_get_vcpus_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct GetVcpusArgs {
    /// The domain.
    pub dom: Domain,
    /// Room for this many vcpu infos.
    pub maxinfo: i32,
    /// Bytes per CPU map.
    pub maplen: i32,
}

/// `remote_vcpu_info`
#[derive(Deserialize, Serialize, Debug)]
pub struct VcpuInfo {
    /// vCPU number.
    pub number: u32,
    /// 0 offline, 1 running, 2 blocked.
    pub state: i32,
    /// CPU time in ns.
    pub cpu_time: u64,
    /// Host CPU it runs on, -1 unknown.
    pub cpu: i32,
}

/// `remote_domain_get_vcpus_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct GetVcpusRet {
    /// Per-vCPU info.
    pub info: Vec<VcpuInfo>,
    /// CPU maps, `maplen` bytes per vCPU.
    pub cpumaps: Opaque,
}

/// `remote_connect_get_domain_capabilities_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct GetDomainCapabilitiesArgs {
    /// Emulator binary, or none.
    pub emulatorbin: Option<String>,
    /// Architecture, or none.
    pub arch: Option<String>,
    /// Machine type, or none.
    pub machine: Option<String>,
    /// Virtualization type, or none.
    pub virttype: Option<String>,
    /// Flags.
    pub flags: u32,
}

/// `remote_domain_set_user_password_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SetUserPasswordArgs {
    /// The domain.
    pub dom: Domain,
    /// The user.
    pub user: Option<String>,
    /// The password.
    pub password: Option<String>,
    /// Flags.
    pub flags: u32,
}

/// `remote_domain_get_security_label_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct SecurityLabelRet {
    /// The label as `char<>` including its NUL.
    pub label: Bounded<i8, 4097>,
    /// Whether it is enforced.
    pub enforcing: i32,
}

/// A domain and a device XML (legacy attach/detach).
#[derive(Deserialize, Serialize, Debug)]
pub struct DeviceArgs {
    /// The domain.
    pub dom: Domain,
    /// The device XML.
    pub xml: String,
}

/// A domain, a device XML and flags.
#[derive(Deserialize, Serialize, Debug)]
pub struct DeviceFlagsArgs {
    /// The domain.
    pub dom: Domain,
    /// The device XML.
    pub xml: String,
    /// VIR_DOMAIN_AFFECT_* (and FORCE for update).
    pub flags: u32,
}

/// `remote_domain_block_resize_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct BlockResizeArgs {
    /// The domain.
    pub dom: Domain,
    /// Disk path or target name.
    pub disk: String,
    /// New size, KiB (bytes with the BYTES flag).
    pub size: u64,
    /// VIR_DOMAIN_BLOCK_RESIZE_BYTES = 1.
    pub flags: u32,
}

/// A domain and a path (block stats, interface stats).
#[derive(Deserialize, Serialize, Debug)]
pub struct DomainPathArgs {
    /// The domain.
    pub dom: Domain,
    /// Disk or interface.
    pub path: String,
}

/// `remote_domain_block_stats_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct BlockStatsRet {
    /// Read requests.
    pub rd_req: i64,
    /// Bytes read.
    pub rd_bytes: i64,
    /// Write requests.
    pub wr_req: i64,
    /// Bytes written.
    pub wr_bytes: i64,
    /// Errors (-1: unknown).
    pub errs: i64,
}

/// `remote_domain_block_stats_flags_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct BlockStatsFlagsArgs {
    /// The domain.
    pub dom: Domain,
    /// The disk.
    pub path: String,
    /// Room the caller has; 0 asks for the count.
    pub nparams: i32,
    /// Flags.
    pub flags: u32,
}

/// Typed parameters and their count (block stats flags).
#[derive(Deserialize, Serialize, Debug)]
pub struct ParamsCountRet {
    /// The parameters (empty when the count was asked for).
    pub params: Vec<crate::rpc::typed_param::TypedParam>,
    /// How many there are.
    pub nparams: i32,
}

/// `remote_domain_interface_stats_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct InterfaceStatsRet {
    /// Bytes received.
    pub rx_bytes: i64,
    /// Packets received.
    pub rx_packets: i64,
    /// Receive errors.
    pub rx_errs: i64,
    /// Receive drops.
    pub rx_drop: i64,
    /// Bytes sent.
    pub tx_bytes: i64,
    /// Packets sent.
    pub tx_packets: i64,
    /// Send errors.
    pub tx_errs: i64,
    /// Send drops.
    pub tx_drop: i64,
}

/// `remote_domain_memory_stats_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct MemoryStatsArgs {
    /// The domain.
    pub dom: Domain,
    /// Room for this many.
    pub max_stats: u32,
    /// Flags.
    pub flags: u32,
}

/// `remote_domain_memory_stat`
#[derive(Deserialize, Serialize, Debug)]
pub struct MemoryStat {
    /// VIR_DOMAIN_MEMORY_STAT_*
    pub tag: i32,
    /// Value.
    pub val: u64,
}

/// `remote_connect_get_all_domain_stats_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct AllDomainStatsArgs {
    /// Only these domains (empty: all).
    pub doms: Bounded<Domain, DOMAIN_LIST_MAX>,
    /// VIR_DOMAIN_STATS_* groups (0: all supported).
    pub stats: u32,
    /// VIR_CONNECT_GET_ALL_DOMAINS_STATS_* flags.
    pub flags: u32,
}

/// `remote_domain_stats_record`
#[derive(Deserialize, Serialize, Debug)]
pub struct DomainStatsRecord {
    /// The domain.
    pub dom: Domain,
    /// Its statistics.
    pub params: Vec<crate::rpc::typed_param::TypedParam>,
}

/// `remote_domain_get_job_info_ret`
#[derive(Deserialize, Serialize, Debug, Default)]
pub struct JobInfoRet {
    /// VIR_DOMAIN_JOB_* type.
    pub r#type: i32,
    /// ms elapsed.
    pub time_elapsed: u64,
    /// ms remaining.
    pub time_remaining: u64,
    /// Data total.
    pub data_total: u64,
    /// Data processed.
    pub data_processed: u64,
    /// Data remaining.
    pub data_remaining: u64,
    /// Memory total.
    pub mem_total: u64,
    /// Memory processed.
    pub mem_processed: u64,
    /// Memory remaining.
    pub mem_remaining: u64,
    /// File total.
    pub file_total: u64,
    /// File processed.
    pub file_processed: u64,
    /// File remaining.
    pub file_remaining: u64,
}

/// `remote_domain_get_job_stats_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct JobStatsRet {
    /// VIR_DOMAIN_JOB_* type.
    pub r#type: i32,
    /// The statistics.
    pub params: Vec<crate::rpc::typed_param::TypedParam>,
}

/// REMOTE_DOMAIN_SNAPSHOT_LIST_MAX
pub const DOMAIN_SNAPSHOT_LIST_MAX: usize = 16384;

/// `remote_nonnull_domain_snapshot` (every snapshot procedure's `snap`
/// argument or return value).
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct DomainSnapshot {
    /// The snapshot's name.
    pub name: String,
    /// Its domain.
    pub dom: Domain,
}

/// `remote_domain_snapshot_create_xml_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SnapshotCreateXmlArgs {
    /// The domain.
    pub dom: Domain,
    /// The `<domainsnapshot>` document.
    pub xml_desc: String,
    /// VIR_DOMAIN_SNAPSHOT_CREATE_*
    pub flags: u32,
}

/// A snapshot and flags: GET_XML_DESC, NUM_CHILDREN, GET_PARENT,
/// IS_CURRENT, HAS_METADATA, REVERT_TO_SNAPSHOT, DELETE.
#[derive(Deserialize, Serialize, Debug)]
pub struct SnapshotFlagsArgs {
    /// The snapshot.
    pub snap: DomainSnapshot,
    /// Flags.
    pub flags: u32,
}

/// `remote_domain_snapshot_list_names_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SnapshotListNamesArgs {
    /// The domain.
    pub dom: Domain,
    /// Room for this many names.
    pub maxnames: i32,
    /// VIR_DOMAIN_SNAPSHOT_LIST_*
    pub flags: u32,
}

/// `remote_domain_list_all_snapshots_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct ListAllSnapshotsArgs {
    /// The domain.
    pub dom: Domain,
    /// Whether to return the snapshots (else only the count).
    pub need_results: i32,
    /// VIR_DOMAIN_SNAPSHOT_LIST_*
    pub flags: u32,
}

/// `remote_domain_snapshot_list_children_names_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SnapshotListChildrenNamesArgs {
    /// The snapshot.
    pub snap: DomainSnapshot,
    /// Room for this many names.
    pub maxnames: i32,
    /// VIR_DOMAIN_SNAPSHOT_LIST_*
    pub flags: u32,
}

/// `remote_domain_snapshot_list_all_children_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SnapshotListAllChildrenArgs {
    /// The snapshot.
    pub snapshot: DomainSnapshot,
    /// Whether to return the snapshots (else only the count).
    pub need_results: i32,
    /// VIR_DOMAIN_SNAPSHOT_LIST_*
    pub flags: u32,
}

/// `remote_domain_list_all_snapshots_ret` and
/// `remote_domain_snapshot_list_all_children_ret`
#[derive(Deserialize, Serialize, Debug)]
pub struct ListSnapshotsRet {
    /// The snapshots.
    pub snapshots: Vec<DomainSnapshot>,
    /// How many matched.
    pub ret: i32,
}

/// `remote_domain_snapshot_lookup_by_name_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct SnapshotLookupByNameArgs {
    /// The domain.
    pub dom: Domain,
    /// The snapshot's name.
    pub name: String,
    /// Flags.
    pub flags: u32,
}

#[cfg(test)]
mod tests {
    //! Byte for byte what virsh 9.0 sent to libvirt 9.0's libvirtd and what
    //! libvirtd answered (captures/virsh-9.0-to-libvirtd-test-driver.txt).
    use super::*;
    use crate::rpc::hex::{hex, unhex};
    use crate::rpc::xdr;

    #[test]
    fn handshake_calls() {
        let a: ConnectOpenArgs = xdr::from_bytes(&unhex(
            "000000010000000f746573743a2f2f2f64656661756c740000000000",
        ))
        .unwrap();
        assert_eq!((a.name.as_deref(), a.flags), (Some("test:///default"), 0));
        for (bytes, feature) in [("0000000a", 10), ("0000000e", 14), ("0000000f", 15)] {
            let a: SupportsFeatureArgs = xdr::from_bytes(&unhex(bytes)).unwrap();
            assert_eq!(a.feature, feature);
        }
        // AUTH_LIST's answer: one type, NONE.
        let r = Bounded::<i32, AUTH_TYPE_LIST_MAX>(vec![0]);
        assert_eq!(hex(&xdr::to_bytes(&r).unwrap()), "0000000100000000");
    }

    #[test]
    fn node_get_info_reply() {
        // The test driver's fixed host: "i686", 3 GiB, 16 CPUs at 1400 MHz,
        // 2 nodes × 2 sockets × 2 cores × 2 threads. Each model char takes
        // four bytes.
        let mut model = [0i8; 32];
        for (d, s) in model.iter_mut().zip(b"i686") {
            *d = *s as i8;
        }
        let r = NodeGetInfoRet {
            model,
            memory: 3_145_728,
            cpus: 16,
            mhz: 1400,
            nodes: 2,
            sockets: 2,
            cores: 2,
            threads: 2,
        };
        let mut want = String::from("00000069000000360000003800000036");
        want += &"00000000".repeat(28);
        want += "0000000000300000000000100000057800000002000000020000000200000002";
        assert_eq!(hex(&xdr::to_bytes(&r).unwrap()), want);
    }

    #[test]
    fn string_replies() {
        assert_eq!(hex(&xdr::to_bytes("vm").unwrap()), "00000002766d0000");
        assert_eq!(hex(&xdr::to_bytes("TEST").unwrap()), "0000000454455354");
        // CONNECT_GET_VERSION: an unsigned hyper.
        assert_eq!(hex(&xdr::to_bytes(&2u64).unwrap()), "0000000000000002");
    }

    #[test]
    fn security_model() {
        // The test driver's model, its NUL counted, and an empty DOI.
        let model: Vec<i8> = b"testSecurity\0".iter().map(|b| *b as i8).collect();
        let r = NodeGetSecurityModelRet {
            model: Bounded(model),
            doi: Bounded(vec![0]),
        };
        assert_eq!(
            hex(&xdr::to_bytes(&r).unwrap()),
            "0000000d00000074000000650000007300000074000000530000006500000063\
             0000007500000072000000690000007400000079000000000000000100000000"
        );
        // What we answer: one NUL char for the model and for the DOI.
        let r = NodeGetSecurityModelRet {
            model: Bounded(vec![0]),
            doi: Bounded(vec![0]),
        };
        assert_eq!(
            hex(&xdr::to_bytes(&r).unwrap()),
            "00000001000000000000000100000000"
        );
    }
}

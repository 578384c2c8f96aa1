//! Host facts (temporary minimal version; replaced by the full reader).

use crate::error::VirResult;

/// Reader of host facts.
pub struct HostFs;
/// virNodeGetInfo.
pub struct NodeInfo {
    /// Model.
    pub model: String,
    /// KiB.
    pub memory_kib: u64,
    /// CPUs.
    pub cpus: u32,
    /// MHz.
    pub mhz: u32,
    /// Nodes.
    pub nodes: u32,
    /// Sockets.
    pub sockets: u32,
    /// Cores.
    pub cores: u32,
    /// Threads.
    pub threads: u32,
}
/// A NUMA cell.
pub struct NumaCell;
/// Host CPU.
pub struct HostCpu;

impl HostFs {
    /// The real host.
    pub fn system() -> Self {
        HostFs
    }
    /// virNodeGetInfo.
    pub fn node_info(&self) -> VirResult<NodeInfo> {
        Ok(NodeInfo {
            model: std::env::consts::ARCH.into(),
            memory_kib: 1,
            cpus: 1,
            mhz: 1,
            nodes: 1,
            sockets: 1,
            cores: 1,
            threads: 1,
        })
    }
    /// Free memory.
    pub fn free_memory(&self) -> VirResult<u64> {
        Ok(1)
    }
    /// Memory stats.
    pub fn memory_stats(&self, _c: i32) -> VirResult<Vec<(&'static str, u64)>> {
        Ok(vec![("total", 1)])
    }
    /// CPU stats.
    pub fn cpu_stats(&self, _c: i32) -> VirResult<Vec<(&'static str, u64)>> {
        Ok(vec![("user", 1)])
    }
    /// CPU map.
    pub fn cpu_map(&self) -> VirResult<(u32, Vec<u8>, u32)> {
        Ok((1, vec![1], 1))
    }
    /// Free memory per cell.
    pub fn cells_free_memory(&self, _s: i32, _m: i32) -> VirResult<Vec<u64>> {
        Ok(vec![1])
    }
    /// NUMA cells.
    pub fn numa_cells(&self) -> VirResult<Vec<NumaCell>> {
        Ok(vec![])
    }
    /// Host name.
    pub fn hostname(&self) -> String {
        "localhost".into()
    }
    /// Sysinfo.
    pub fn sysinfo_xml(&self) -> VirResult<String> {
        Ok("<sysinfo type='smbios'/>".into())
    }
    /// Host UUID.
    pub fn host_uuid(&self) -> Option<String> {
        None
    }
    /// CPU.
    pub fn cpu_model_info(&self) -> HostCpu {
        HostCpu
    }
}

//! Handlers of the node (host) procedures.

use super::protocol::*;
use super::Call;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::rpc::xdr::{Bounded, Opaque};

fn check_no_flags(flags: u32, function: &str) -> VirResult<()> {
    if flags != 0 {
        return Err(VirError::unsupported_flags(
            ErrorDomain::None,
            flags.into(),
            function,
        ));
    }
    Ok(())
}

/// NODE_GET_INFO
pub fn node_get_info(call: &Call, _: ()) -> VirResult<NodeGetInfoRet> {
    let info = call.conn()?.driver().host().node_info()?;
    let mut model = [0i8; 32];
    // At most 31 bytes: the field is a NUL-terminated C string.
    for (dst, src) in model.iter_mut().zip(info.model.bytes().take(31)) {
        *dst = src as i8;
    }
    let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(NodeGetInfoRet {
        model,
        memory: info.memory_kib,
        cpus: int(info.cpus),
        mhz: int(info.mhz),
        nodes: int(info.nodes),
        sockets: int(info.sockets),
        cores: int(info.cores),
        threads: int(info.threads),
    })
}

/// NODE_GET_FREE_MEMORY
pub fn node_get_free_memory(call: &Call, _: ()) -> VirResult<u64> {
    call.conn()?.driver().host().free_memory()
}

/// NODE_GET_CELLS_FREE_MEMORY
pub fn node_get_cells_free_memory(
    call: &Call,
    a: NodeGetCellsFreeMemoryArgs,
) -> VirResult<NodeGetCellsFreeMemoryRet> {
    let conn = call.conn()?;
    if a.maxcells <= 0 || a.maxcells as usize > NODE_MAX_CELLS {
        return Err(VirError::rpc("maxCells > REMOTE_NODE_MAX_CELLS"));
    }
    let cells = conn
        .driver()
        .host()
        .cells_free_memory(a.start_cell, a.maxcells)?;
    Ok(NodeGetCellsFreeMemoryRet { cells })
}

/// NODE_GET_SECURITY_MODEL: no security driver, so an empty model and
/// DOI, each sent as one NUL `char` as libvirtd does.
pub fn node_get_security_model(call: &Call, _: ()) -> VirResult<NodeGetSecurityModelRet> {
    call.conn()?;
    Ok(NodeGetSecurityModelRet {
        model: Bounded(vec![0]),
        doi: Bounded(vec![0]),
    })
}

fn stats_reply(
    nparams: i32,
    max: usize,
    stats: Vec<(&'static str, u64)>,
) -> VirResult<NodeStatsRet> {
    let count = i32::try_from(stats.len()).unwrap_or(i32::MAX);
    if nparams == 0 {
        return Ok(NodeStatsRet {
            params: Vec::new(),
            nparams: count,
        });
    }
    if nparams < 0 || nparams as usize > max {
        return Err(VirError::rpc("nparams too large"));
    }
    if (nparams as usize) < stats.len() {
        return Err(VirError::new(
            ErrorCode::InvalidArg,
            ErrorDomain::None,
            format!("nparams {nparams} too small, {count} needed"),
        ));
    }
    Ok(NodeStatsRet {
        params: stats
            .into_iter()
            .map(|(field, value)| NodeStat {
                field: field.to_string(),
                value,
            })
            .collect(),
        nparams: count,
    })
}

/// NODE_GET_CPU_STATS
pub fn node_get_cpu_stats(call: &Call, a: NodeGetCpuStatsArgs) -> VirResult<NodeStatsRet> {
    let conn = call.conn()?;
    check_no_flags(a.flags, "virNodeGetCPUStats")?;
    let stats = conn.driver().host().cpu_stats(a.cpu_num)?;
    stats_reply(a.nparams, NODE_CPU_STATS_MAX, stats)
}

/// NODE_GET_MEMORY_STATS
pub fn node_get_memory_stats(call: &Call, a: NodeGetMemoryStatsArgs) -> VirResult<NodeStatsRet> {
    let conn = call.conn()?;
    check_no_flags(a.flags, "virNodeGetMemoryStats")?;
    let stats = conn.driver().host().memory_stats(a.cell_num)?;
    stats_reply(a.nparams, NODE_MEMORY_STATS_MAX, stats)
}

/// NODE_GET_CPU_MAP
pub fn node_get_cpu_map(call: &Call, a: NodeGetCpuMapArgs) -> VirResult<NodeGetCpuMapRet> {
    let conn = call.conn()?;
    check_no_flags(a.flags, "virNodeGetCPUMap")?;
    let (total, map, online) = conn.driver().host().cpu_map()?;
    if map.len() > CPUMAP_MAX {
        return Err(VirError::internal(
            ErrorDomain::None,
            "too many CPUs for the CPU map",
        ));
    }
    Ok(NodeGetCpuMapRet {
        cpumap: Opaque(if a.need_map != 0 { map } else { Vec::new() }),
        online: if a.need_online != 0 { online } else { 0 },
        ret: i32::try_from(total).unwrap_or(i32::MAX),
    })
}

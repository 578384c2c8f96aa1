//! Handlers of the statistics and job procedures.

use super::protocol::*;
use super::Call;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::rpc::typed_param::{TypedParam, TypedValue};
use crate::rpc::xdr::FixedOpaque;
use crate::vz::domains::Domain as VzDomain;
use crate::vz::stats;

fn domain(call: &Call, dom: &Domain) -> VirResult<std::sync::Arc<VzDomain>> {
    call.conn()?.driver().domain_by_uuid(&dom.uuid.0)
}

fn no_flags(flags: u32, allowed: u32, function: &str) -> VirResult<()> {
    if flags & !allowed != 0 {
        return Err(VirError::unsupported_flags(
            ErrorDomain::Parallels,
            (flags & !allowed).into(),
            function,
        ));
    }
    Ok(())
}

/// DOMAIN_BLOCK_STATS
pub fn block_stats(call: &Call, a: DomainPathArgs) -> VirResult<BlockStatsRet> {
    let d = domain(call, &a.dom)?;
    let c = call.conn()?.driver().counters(&d)?;
    let (rd_req, rd_bytes, wr_req, wr_bytes) = stats::block(&d, &c, &a.path)?;
    Ok(BlockStatsRet {
        rd_req,
        rd_bytes,
        wr_req,
        wr_bytes,
        errs: -1,
    })
}

/// DOMAIN_BLOCK_STATS_FLAGS
pub fn block_stats_flags(call: &Call, a: BlockStatsFlagsArgs) -> VirResult<ParamsCountRet> {
    // TYPED_PARAM_STRING_OKAY (4) is the client saying it reads strings.
    no_flags(a.flags, 4, "vzDomainBlockStatsFlags")?;
    let d = domain(call, &a.dom)?;
    let c = call.conn()?.driver().counters(&d)?;
    let (rd_req, rd_bytes, wr_req, wr_bytes) = stats::block(&d, &c, &a.path)?;
    let params: Vec<TypedParam> = [
        ("rd_operations", rd_req),
        ("rd_bytes", rd_bytes),
        ("wr_operations", wr_req),
        ("wr_bytes", wr_bytes),
    ]
    .into_iter()
    .filter(|(_, v)| *v >= 0)
    .map(|(f, v)| TypedParam::new(f, TypedValue::LLong(v)))
    .collect();
    let count = params.len() as i32;
    if a.nparams == 0 {
        return Ok(ParamsCountRet {
            params: Vec::new(),
            nparams: count,
        });
    }
    let n = (a.nparams.max(0) as usize).min(params.len());
    Ok(ParamsCountRet {
        params: params.into_iter().take(n).collect(),
        nparams: n as i32,
    })
}

/// DOMAIN_INTERFACE_STATS (by MAC or host interface name)
pub fn interface_stats(call: &Call, a: DomainPathArgs) -> VirResult<InterfaceStatsRet> {
    let d = domain(call, &a.dom)?;
    let c = call.conn()?.driver().counters(&d)?;
    let (rx_bytes, rx_packets, tx_bytes, tx_packets) = stats::interface(&d, &c, &a.path)?;
    Ok(InterfaceStatsRet {
        rx_bytes,
        rx_packets,
        rx_errs: -1,
        rx_drop: -1,
        tx_bytes,
        tx_packets,
        tx_errs: -1,
        tx_drop: -1,
    })
}

/// DOMAIN_MEMORY_STATS
pub fn memory_stats(call: &Call, a: MemoryStatsArgs) -> VirResult<Vec<MemoryStat>> {
    no_flags(a.flags, 0, "vzDomainMemoryStats")?;
    if a.max_stats > 1024 {
        return Err(VirError::rpc("maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX"));
    }
    let d = domain(call, &a.dom)?;
    let c = call.conn()?.driver().counters(&d)?;
    Ok(stats::memory(&c)
        .into_iter()
        .take(a.max_stats as usize)
        .map(|(tag, val)| MemoryStat { tag, val })
        .collect())
}

const STATS_STATE: u32 = 1;
const STATS_BALLOON: u32 = 4;
const STATS_VCPU: u32 = 8;
const STATS_INTERFACE: u32 = 16;
const STATS_BLOCK: u32 = 32;
const SUPPORTED: u32 = STATS_STATE | STATS_BALLOON | STATS_VCPU | STATS_INTERFACE | STATS_BLOCK;
const ENFORCE_STATS: u32 = 1 << 31;

/// Adds a counter, leaving out what the host does not count (-1), as
/// libvirt's vz driver does.
fn ull(p: &mut Vec<TypedParam>, f: String, v: i64) {
    if let Ok(v) = u64::try_from(v) {
        p.push(TypedParam {
            field: f,
            value: TypedValue::ULLong(v),
        });
    }
}

/// One domain's record, its groups in libvirt's vz driver's order: state,
/// block, net, vcpu, balloon.
fn record(call: &Call, d: &VzDomain, groups: u32) -> VirResult<Vec<TypedParam>> {
    let mut p = Vec::new();
    let (st, reason) = d.state();
    if groups & STATS_STATE != 0 {
        p.push(TypedParam::new("state.state", TypedValue::Int(st)));
        p.push(TypedParam::new("state.reason", TypedValue::Int(reason)));
    }
    if groups & !STATS_STATE == 0 {
        return Ok(p);
    }
    let c = call.conn()?.driver().counters(d)?;
    if groups & STATS_BLOCK != 0 {
        let disks = stats::disks(d);
        let mut capacities = stats::capacities(d)?.into_iter();
        p.push(TypedParam::new(
            "block.count",
            TypedValue::UInt(disks.len() as u32),
        ));
        for (n, disk) in disks.iter().enumerate() {
            p.push(TypedParam::new(
                &format!("block.{n}.name"),
                TypedValue::String(disk.target.clone()),
            ));
            if let Some(src) = &disk.source {
                p.push(TypedParam::new(
                    &format!("block.{n}.path"),
                    TypedValue::String(src.clone()),
                ));
            }
            let (rr, rb, wr, wb) = stats::block(d, &c, &disk.target)?;
            ull(&mut p, format!("block.{n}.rd.reqs"), rr);
            ull(&mut p, format!("block.{n}.rd.bytes"), rb);
            ull(&mut p, format!("block.{n}.wr.reqs"), wr);
            ull(&mut p, format!("block.{n}.wr.bytes"), wb);
            if disk.is_disk {
                let bytes = capacities.next().unwrap_or(0);
                p.push(TypedParam::new(
                    &format!("block.{n}.capacity"),
                    TypedValue::ULLong(bytes),
                ));
            }
        }
    }
    if groups & STATS_INTERFACE != 0 {
        p.push(TypedParam::new(
            "net.count",
            TypedValue::UInt(d.def.interfaces.len() as u32),
        ));
        for (i, iface) in d.def.interfaces.iter().enumerate() {
            let name = iface.target.clone().unwrap_or_else(|| iface.mac.clone());
            p.push(TypedParam::new(
                &format!("net.{i}.name"),
                TypedValue::String(name),
            ));
            let (rb, rp, tb, tp) = stats::net_of(&c, i);
            ull(&mut p, format!("net.{i}.rx.bytes"), rb);
            ull(&mut p, format!("net.{i}.rx.pkts"), rp);
            ull(&mut p, format!("net.{i}.tx.bytes"), tb);
            ull(&mut p, format!("net.{i}.tx.pkts"), tp);
        }
    }
    if groups & STATS_VCPU != 0 {
        let n = d.def.vcpus;
        p.push(TypedParam::new("vcpu.current", TypedValue::UInt(n)));
        p.push(TypedParam::new("vcpu.maximum", TypedValue::UInt(n)));
        for i in 0..n {
            p.push(TypedParam::new(
                &format!("vcpu.{i}.state"),
                TypedValue::Int(if d.is_active() { 1 } else { 0 }),
            ));
            ull(
                &mut p,
                format!("vcpu.{i}.time"),
                c.get(&format!("guest.vcpu{i}.time")),
            );
        }
    }
    if groups & STATS_BALLOON != 0 {
        let kib = d.def.memory_kib as i64;
        ull(&mut p, "balloon.maximum".into(), kib);
        ull(&mut p, "balloon.current".into(), kib);
        let names = [
            (0, "swap_in"),
            (1, "swap_out"),
            (2, "major_fault"),
            (3, "minor_fault"),
            (5, "available"),
            (4, "unused"),
        ];
        for (tag, val) in stats::memory(&c) {
            if let Some((_, name)) = names.iter().find(|(t, _)| *t == tag) {
                ull(&mut p, format!("balloon.{name}"), val as i64);
            }
        }
    }
    Ok(p)
}

/// CONNECT_GET_ALL_DOMAIN_STATS (state, vcpu, interface, balloon, block)
pub fn all_domain_stats(call: &Call, a: AllDomainStatsArgs) -> VirResult<Vec<DomainStatsRecord>> {
    let conn = call.conn()?;
    let filters = 0xff;
    no_flags(
        a.flags,
        filters | ENFORCE_STATS | 4,
        "vzConnectGetAllDomainStats",
    )?;
    if a.flags & ENFORCE_STATS != 0 && a.stats & !SUPPORTED != 0 {
        return Err(VirError::new(
            ErrorCode::ArgumentUnsupported,
            ErrorDomain::Parallels,
            format!(
                "Stats types bits 0x{:x} are not supported by this daemon",
                a.stats & !SUPPORTED
            ),
        ));
    }
    let groups = if a.stats == 0 {
        SUPPORTED
    } else {
        a.stats & SUPPORTED
    };
    let all = conn.driver().domains()?;
    let f = a.flags;
    let pick = |d: &VzDomain| {
        let (st, _) = d.state();
        let active_ok =
            f & 3 == 0 || (f & 1 != 0 && d.is_active()) || (f & 2 != 0 && !d.is_active());
        let persist_ok = f & 12 == 0 || f & 4 != 0;
        let state_ok = f & 240 == 0
            || (f & 16 != 0 && st == 1)
            || (f & 32 != 0 && st == 3)
            || (f & 64 != 0 && st == 5)
            || (f & 128 != 0 && !matches!(st, 1 | 3 | 5));
        active_ok && persist_ok && state_ok
    };
    let chosen: Vec<&VzDomain> = if a.doms.0.is_empty() {
        all.iter().map(|d| &**d).filter(|d| pick(d)).collect()
    } else {
        a.doms
            .0
            .iter()
            .map(|w| {
                all.iter()
                    .map(|d| &**d)
                    .find(|d| d.uuid == w.uuid.0)
                    .ok_or_else(|| {
                        VirError::new(
                            ErrorCode::NoDomain,
                            ErrorDomain::Parallels,
                            format!(
                                "no domain with matching uuid '{}'",
                                crate::vz::domain_xml::format_uuid(&w.uuid.0)
                            ),
                        )
                    })
            })
            .collect::<VirResult<_>>()?
    };
    chosen
        .into_iter()
        .map(|d| {
            Ok(DomainStatsRecord {
                dom: Domain {
                    name: d.name.clone(),
                    uuid: FixedOpaque(d.uuid),
                    id: d.id,
                },
                params: record(call, d, groups)?,
            })
        })
        .collect()
}

/// DOMAIN_GET_JOB_INFO: no job (only migration has progress on vz).
pub fn job_info(call: &Call, a: DomainArgs) -> VirResult<JobInfoRet> {
    domain(call, &a.dom)?;
    Ok(JobInfoRet::default())
}

/// DOMAIN_GET_JOB_STATS: no job.
pub fn job_stats(call: &Call, a: DomainFlagsArgs) -> VirResult<JobStatsRet> {
    no_flags(a.flags, 0, "vzDomainGetJobStats")?;
    domain(call, &a.dom)?;
    Ok(JobStatsRet {
        r#type: 0,
        params: Vec::new(),
    })
}

/// DOMAIN_ABORT_JOB
pub fn abort_job(call: &Call, a: DomainArgs) -> VirResult<()> {
    domain(call, &a.dom)?;
    Err(VirError::new(
        ErrorCode::OperationInvalid,
        ErrorDomain::Parallels,
        "no job is active on the domain",
    ))
}

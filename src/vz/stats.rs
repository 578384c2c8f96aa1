//! Statistics: the SDK's performance counters of a guest (read by name
//! from its latest perf-stats event, as libvirt's vz driver reads them)
//! turned into libvirt's block, interface, memory and domstats figures.

use super::domain_xml::{Bus, DiskDevice, OsType};
use super::domains::Domain;
use super::Driver;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::sdk::Handle;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a stats call waits for the host's counters.
const PERF_WAIT: Duration = Duration::from_secs(5);

/// A guest's counters at one moment.
pub struct Counters {
    driver: Arc<Driver>,
    event: Arc<Handle>,
}

impl Counters {
    /// A counter by its SDK name, -1 when the host does not report it.
    pub fn get(&self, name: &str) -> i64 {
        self.driver.sdk.event_i64(&self.event, name).unwrap_or(-1)
    }
}

/// Block counters of one disk: (rd_req, rd_bytes, wr_req, wr_bytes).
pub type BlockCounters = (i64, i64, i64, i64);

/// Interface counters: (rx_bytes, rx_packets, tx_bytes, tx_packets).
pub type NetCounters = (i64, i64, i64, i64);

fn invalid(detail: String) -> VirError {
    VirError::new(ErrorCode::InvalidArg, ErrorDomain::Parallels, detail)
}

impl Driver {
    /// Asks the host for a guest's counters and waits for them.
    pub fn counters(self: &Arc<Self>, d: &Domain) -> VirResult<Counters> {
        let before = self.events.perf.lock().get(&d.uuid).map_or(0, |(s, _)| *s);
        d.guest_handle().subscribe_perf_stats().map_err(|e| {
            VirError::new(
                ErrorCode::OperationFailed,
                ErrorDomain::Parallels,
                e.message,
            )
        })?;
        let deadline = Instant::now() + PERF_WAIT;
        let mut perf = self.events.perf.lock();
        loop {
            if let Some((seq, h)) = perf.get(&d.uuid) {
                if *seq > before {
                    return Ok(Counters {
                        driver: Arc::clone(self),
                        event: Arc::clone(h),
                    });
                }
            }
            if self
                .events
                .perf_arrived
                .wait_until(&mut perf, deadline)
                .timed_out()
            {
                return Err(VirError::new(
                    ErrorCode::OperationFailed,
                    ErrorDomain::Parallels,
                    "the host sent no performance counters",
                ));
            }
        }
    }
}

/// The perf-counter prefix of a disk (`devices.<prefix>.`).
fn disk_prefix(d: &Domain, index: usize) -> String {
    let disk = &d.def.disks[index];
    if d.def.os_type == OsType::Exe {
        return format!("hdd{index}");
    }
    match disk.bus {
        Bus::Ide => format!("ide{}", disk.unit),
        Bus::Sata => format!("sata{}", disk.unit),
        Bus::Scsi => format!("scsi{}", disk.unit),
    }
}

/// The hard disks (not CD-ROMs) of a domain, with their target names.
pub fn disks(d: &Domain) -> Vec<(usize, String, Option<String>)> {
    d.def
        .disks
        .iter()
        .enumerate()
        .filter(|(_, x)| x.device == DiskDevice::Disk)
        .map(|(i, x)| {
            (
                i,
                super::domain_xml::target_name(x.bus, x.unit),
                x.source.clone(),
            )
        })
        .collect()
}

/// Block counters of the disk named by target or path, or summed over
/// every disk for "".
pub fn block(d: &Domain, c: &Counters, path: &str) -> VirResult<BlockCounters> {
    let all = disks(d);
    let chosen: Vec<usize> = if path.is_empty() {
        all.iter().map(|(i, _, _)| *i).collect()
    } else {
        let found = all
            .iter()
            .find(|(_, t, s)| t == path || s.as_deref() == Some(path))
            .map(|(i, _, _)| *i)
            .ok_or_else(|| invalid(format!("invalid path: {path}")))?;
        vec![found]
    };
    let mut sum = (0, 0, 0, 0);
    for i in chosen {
        let p = disk_prefix(d, i);
        let get = |n: &str| c.get(&format!("devices.{p}.{n}")).max(0);
        sum.0 += get("read_requests");
        sum.1 += get("read_total");
        sum.2 += get("write_requests");
        sum.3 += get("write_total");
    }
    Ok(sum)
}

/// Interface counters of the interface with this MAC or host name.
pub fn interface(d: &Domain, c: &Counters, device: &str) -> VirResult<NetCounters> {
    let i = d
        .def
        .interfaces
        .iter()
        .position(|x| x.mac.eq_ignore_ascii_case(device) || x.target.as_deref() == Some(device))
        .ok_or_else(|| invalid(format!("invalid path, '{device}' is not a known interface")))?;
    Ok(net_of(c, i))
}

/// Counters of the `i`th interface.
pub fn net_of(c: &Counters, i: usize) -> NetCounters {
    let get = |n: &str| c.get(&format!("net.nic{i}.{n}"));
    (
        get("bytes_in"),
        get("pkts_in"),
        get("bytes_out"),
        get("pkts_out"),
    )
}

/// libvirt's memory stats (tag, value) from the guest.ram counters.
pub fn memory(c: &Counters) -> Vec<(i32, u64)> {
    let v = |n: &str| c.get(n);
    let mut out = Vec::new();
    let mut put = |tag: i32, val: i64| {
        if val >= 0 {
            out.push((tag, val as u64));
        }
    };
    let shl = |x: i64, n: u32| if x < 0 { -1 } else { x << n };
    put(0, shl(v("guest.ram.swap_in"), 12));
    put(1, shl(v("guest.ram.swap_out"), 12));
    put(2, v("guest.ram.major_fault"));
    put(3, v("guest.ram.minor_fault"));
    let (total, usage) = (v("guest.ram.total"), v("guest.ram.usage"));
    if total >= 0 && usage >= 0 {
        put(4, (total - usage).max(0) << 10);
    }
    put(5, shl(total, 10));
    put(6, shl(v("guest.ram.balloon_actual"), 10));
    out
}

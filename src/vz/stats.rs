//! Statistics: the SDK's performance counters of a guest (read by name
//! from its latest perf-stats event, as libvirt's vz driver reads them)
//! turned into libvirt's block, interface, memory and domstats figures.

use super::domain_xml::{Bus, DiskDevice, OsType};
use super::domains::{sdk_error, Domain};
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
        // An SDK failure keeps its meaning (a guest gone is NO_DOMAIN, a
        // timeout OPERATION_TIMEOUT), as every other SDK call's does.
        d.guest_handle().subscribe_perf_stats().map_err(sdk_error)?;
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
        return format!("hdd{}", disk.unit);
    }
    match disk.bus {
        Bus::Ide => format!("ide{}", disk.unit),
        Bus::Sata => format!("sata{}", disk.unit),
        Bus::Scsi => format!("scsi{}", disk.unit),
    }
}

/// One disk or CD-ROM of a domain as the statistics name it.
pub struct StatDisk {
    /// Its index in the definition.
    pub index: usize,
    /// Target name ("sda").
    pub target: String,
    /// Image or device path.
    pub source: Option<String>,
    /// A hard disk (which has a capacity), not a CD-ROM.
    pub is_disk: bool,
}

/// Every disk and CD-ROM of a domain, in definition order (what
/// libvirt's block statistics count).
pub fn disks(d: &Domain) -> Vec<StatDisk> {
    d.def
        .disks
        .iter()
        .enumerate()
        .map(|(index, x)| StatDisk {
            index,
            target: super::domain_xml::target_name(x.bus, x.unit),
            source: x.source.clone(),
            is_disk: x.device == DiskDevice::Disk,
        })
        .collect()
}

/// The capacity in bytes of each hard disk of `d`, in definition order
/// (PrlVmDevHd_GetDiskSize; container file systems are not disks).
pub fn capacities(d: &Domain) -> VirResult<Vec<u64>> {
    let mut out = Vec::new();
    for dev in d
        .guest_handle()
        .devices(crate::sdk::abi::dev::PDE_HARD_DISK)
        .map_err(sdk_error)?
    {
        if dev.mount_point().map_err(sdk_error)?.is_empty() {
            out.push(u64::from(dev.disk_size_mb().map_err(sdk_error)?) << 20);
        }
    }
    Ok(out)
}

/// Block counters of the disk named by target or path (-1 for what the
/// host does not count), or summed over every disk for "", as libvirt's
/// vz driver answers.
pub fn block(d: &Domain, c: &Counters, path: &str) -> VirResult<BlockCounters> {
    let one = |i: usize| {
        let p = disk_prefix(d, i);
        let get = |n: &str| c.get(&format!("devices.{p}.{n}"));
        (
            get("read_requests"),
            get("read_total"),
            get("write_requests"),
            get("write_total"),
        )
    };
    let all = disks(d);
    if !path.is_empty() {
        let found = all
            .iter()
            .find(|x| x.target == path || x.source.as_deref() == Some(path))
            .ok_or_else(|| invalid(format!("invalid path: {path}")))?;
        return Ok(one(found.index));
    }
    let add = |a: i64, b: i64| if b < 0 { a } else { a + b };
    Ok(all.iter().map(|x| one(x.index)).fold((0, 0, 0, 0), |s, v| {
        (add(s.0, v.0), add(s.1, v.1), add(s.2, v.2), add(s.3, v.3))
    }))
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
    // In libvirt's vz driver's order.
    let shl = |x: i64, n: u32| if x < 0 { -1 } else { x << n };
    put(0, shl(v("guest.ram.swap_in"), 12));
    put(1, shl(v("guest.ram.swap_out"), 12));
    put(3, v("guest.ram.minor_fault"));
    put(2, v("guest.ram.major_fault"));
    let (total, usage) = (v("guest.ram.total"), v("guest.ram.usage"));
    put(5, shl(total, 10));
    put(6, shl(v("guest.ram.balloon_actual"), 10));
    if total >= 0 && usage >= 0 {
        put(4, (total - usage).max(0) << 10);
    }
    out
}

//! Facts about the host, read from /proc and /sys: node info, memory and
//! CPU statistics, NUMA cells, CPU map, SMBIOS sysinfo, host UUID.
//!
//! Everything is read below a root directory (normally "/") so the parsers
//! are tested against fixture trees; a missing or odd file gives a
//! fallback or an error value, never a panic.

use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use std::fs;
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;

/// virNodeGetInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// Machine architecture, e.g. "x86_64".
    pub model: String,
    /// Memory in KiB.
    pub memory_kib: u64,
    /// Online CPUs.
    pub cpus: u32,
    /// CPU frequency in MHz.
    pub mhz: u32,
    /// NUMA nodes.
    pub nodes: u32,
    /// Sockets per node.
    pub sockets: u32,
    /// Cores per socket.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
}

/// One CPU of a NUMA cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellCpu {
    /// CPU number.
    pub id: u32,
    /// Physical package.
    pub socket_id: u32,
    /// Core within the package.
    pub core_id: u32,
    /// Thread siblings, libvirt's range form ("0,4" or "0-1").
    pub siblings: String,
}

/// A NUMA cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumaCell {
    /// Cell number.
    pub id: u32,
    /// Memory in KiB.
    pub memory_kib: u64,
    /// Its online CPUs.
    pub cpus: Vec<CellCpu>,
}

/// The host CPU as the capabilities describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCpu {
    /// Architecture.
    pub arch: String,
    /// "Intel", "AMD", or as reported.
    pub vendor: Option<String>,
    /// The model name.
    pub model: Option<String>,
    /// Feature flags.
    pub features: Vec<String>,
    /// Sockets.
    pub sockets: u32,
    /// Cores per socket.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
}

/// Reader of host facts below a root directory.
#[derive(Clone, Debug)]
pub struct HostFs {
    root: PathBuf,
}

fn sys_err(what: &str, e: impl std::fmt::Display) -> VirError {
    VirError::new(
        ErrorCode::SystemError,
        ErrorDomain::None,
        format!("cannot read {what}: {e}"),
    )
}

fn invalid(detail: String) -> VirError {
    VirError::new(ErrorCode::InvalidArg, ErrorDomain::None, detail)
}

/// Parses a kernel CPU list ("0-3,8,10-11").
pub fn parse_cpu_list(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
                    if a <= b && b - a < 65_536 {
                        out.extend(a..=b);
                    }
                }
            }
            None => {
                if let Ok(n) = part.trim().parse() {
                    out.push(n);
                }
            }
        }
    }
    out
}

/// A value in kB from a meminfo-style text ("MemTotal:  1234 kB"); node
/// meminfo lines start with "Node N " first.
fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let l = l.trim_start();
        let l = match l.strip_prefix("Node ") {
            Some(rest) => rest.split_once(' ').map(|(_, r)| r.trim_start())?,
            None => l,
        };
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

impl HostFs {
    /// The real host.
    pub fn system() -> Self {
        HostFs::at("/")
    }

    /// A host tree rooted at `root` (tests).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        HostFs { root: root.into() }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }

    fn read(&self, p: &str) -> Option<String> {
        fs::read_to_string(self.path(p)).ok()
    }

    fn meminfo(&self) -> VirResult<String> {
        fs::read_to_string(self.path("/proc/meminfo")).map_err(|e| sys_err("/proc/meminfo", e))
    }

    /// Online CPU numbers.
    fn online_cpus(&self) -> Vec<u32> {
        match self.read("/sys/devices/system/cpu/online") {
            Some(s) => parse_cpu_list(&s),
            None => (0..self.cpuinfo_count().max(1)).collect(),
        }
    }

    fn cpuinfo_count(&self) -> u32 {
        self.read("/proc/cpuinfo")
            .map(|t| t.lines().filter(|l| l.starts_with("processor")).count() as u32)
            .unwrap_or(0)
    }

    fn cpu_topology(&self, cpu: u32) -> (u32, u32, String) {
        let base = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
        let num = |f: &str| {
            self.read(&format!("{base}/{f}"))
                .and_then(|s| s.trim().parse::<i64>().ok())
                .map(|v| v.max(0) as u32)
                .unwrap_or(0)
        };
        let siblings = self
            .read(&format!("{base}/thread_siblings_list"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| cpu.to_string());
        (num("physical_package_id"), num("core_id"), siblings)
    }

    fn numa_nodes(&self) -> Vec<u32> {
        self.read("/sys/devices/system/node/online")
            .map(|s| parse_cpu_list(&s))
            .unwrap_or_default()
    }

    /// virNodeGetInfo.
    pub fn node_info(&self) -> VirResult<NodeInfo> {
        let memory_kib = meminfo_kib(&self.meminfo()?, "MemTotal").unwrap_or(0);
        let online = self.online_cpus();
        let cpus = online.len() as u32;
        let mhz = self.cpu_mhz();
        let nodes = self.numa_nodes().len().max(1) as u32;
        let mut sockets = std::collections::BTreeSet::new();
        let mut cores = std::collections::BTreeSet::new();
        for &c in &online {
            let (s, core, _) = self.cpu_topology(c);
            sockets.insert(s);
            cores.insert((s, core));
        }
        let nsockets = (sockets.len() as u32).max(1);
        let ncores = (cores.len() as u32).max(1);
        let cores_per_socket = (ncores / nsockets).max(1);
        let threads = (cpus / ncores).max(1);
        // libvirt's rule: when the topology does not multiply out to the
        // CPU count, report a flat one that does.
        let (nodes, sockets_per_node, cores_per_socket, threads) =
            if nodes * (nsockets / nodes).max(1) * cores_per_socket * threads == cpus
                && nsockets.is_multiple_of(nodes)
            {
                (nodes, (nsockets / nodes).max(1), cores_per_socket, threads)
            } else {
                (1, 1, cpus.max(1), 1)
            };
        Ok(NodeInfo {
            model: self.arch(),
            memory_kib,
            cpus,
            mhz,
            nodes,
            sockets: sockets_per_node,
            cores: cores_per_socket,
            threads,
        })
    }

    fn arch(&self) -> String {
        std::env::consts::ARCH.to_string()
    }

    fn cpu_mhz(&self) -> u32 {
        if let Some(khz) = self
            .read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            return (khz / 1000) as u32;
        }
        self.read("/proc/cpuinfo")
            .and_then(|t| {
                t.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    (k.trim() == "cpu MHz")
                        .then(|| v.trim().parse::<f64>().ok())
                        .flatten()
                })
            })
            .map(|m| m as u32)
            .unwrap_or(0)
    }

    /// virNodeGetFreeMemory, in bytes.
    pub fn free_memory(&self) -> VirResult<u64> {
        let kib = meminfo_kib(&self.meminfo()?, "MemFree").unwrap_or(0);
        Ok(kib * 1024)
    }

    /// virNodeGetMemoryStats for a cell (-1: the whole host), in KiB.
    pub fn memory_stats(&self, cell: i32) -> VirResult<Vec<(&'static str, u64)>> {
        if cell == -1 {
            let m = self.meminfo()?;
            let get = |k| meminfo_kib(&m, k).unwrap_or(0);
            return Ok(vec![
                ("total", get("MemTotal")),
                ("free", get("MemFree")),
                ("buffers", get("Buffers")),
                ("cached", get("Cached")),
            ]);
        }
        let nodes = self.numa_nodes();
        let ok = u32::try_from(cell).is_ok_and(|c| nodes.contains(&c))
            || (nodes.is_empty() && cell == 0);
        if !ok {
            return Err(invalid(format!(
                "Invalid cell number {cell}: the host has {} cell(s)",
                nodes.len().max(1)
            )));
        }
        let text = match self.read(&format!("/sys/devices/system/node/node{cell}/meminfo")) {
            Some(t) => t,
            None => self.meminfo()?,
        };
        Ok(vec![
            ("total", meminfo_kib(&text, "MemTotal").unwrap_or(0)),
            ("free", meminfo_kib(&text, "MemFree").unwrap_or(0)),
        ])
    }

    /// virNodeGetCPUStats for a CPU (-1: all), in nanoseconds.
    pub fn cpu_stats(&self, cpu: i32) -> VirResult<Vec<(&'static str, u64)>> {
        let stat = self
            .read("/proc/stat")
            .ok_or_else(|| sys_err("/proc/stat", "missing"))?;
        let want = if cpu == -1 {
            "cpu".to_string()
        } else if cpu >= 0 {
            format!("cpu{cpu}")
        } else {
            return Err(invalid(format!("Invalid cpuNum {cpu}")));
        };
        let line = stat
            .lines()
            .find(|l| l.split_whitespace().next() == Some(want.as_str()))
            .ok_or_else(|| invalid(format!("Invalid cpuNum {cpu}: no such CPU")))?;
        let f: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        // USER_HZ is 100 on every Linux architecture libvirt runs on.
        let ns = |i: usize| f.get(i).copied().unwrap_or(0).saturating_mul(10_000_000);
        Ok(vec![
            ("kernel", ns(2) + ns(5) + ns(6)),
            ("user", ns(0) + ns(1)),
            ("idle", ns(3)),
            ("iowait", ns(4)),
        ])
    }

    /// virNodeGetCPUMap: (CPUs present, online bitmap, online count).
    pub fn cpu_map(&self) -> VirResult<(u32, Vec<u8>, u32)> {
        let online = self.online_cpus();
        let present = self
            .read("/sys/devices/system/cpu/present")
            .map(|s| parse_cpu_list(&s))
            .unwrap_or_else(|| online.clone());
        let total = present
            .iter()
            .chain(online.iter())
            .max()
            .map_or(0, |m| m + 1);
        let mut map = vec![0u8; total.div_ceil(8) as usize];
        for &c in &online {
            map[(c / 8) as usize] |= 1 << (c % 8);
        }
        Ok((total, map, online.len() as u32))
    }

    /// virNodeGetCellsFreeMemory: free bytes of cells start..start+max.
    pub fn cells_free_memory(&self, start: i32, max: i32) -> VirResult<Vec<u64>> {
        let cells = self.numa_cells()?;
        let start = usize::try_from(start)
            .ok()
            .filter(|s| *s < cells.len())
            .ok_or_else(|| {
                invalid(format!(
                    "start cell {start} out of range (0-{})",
                    cells.len().saturating_sub(1)
                ))
            })?;
        let end = cells.len().min(start + max.max(0) as usize);
        let mut out = Vec::new();
        for c in &cells[start..end] {
            let text = self.read(&format!("/sys/devices/system/node/node{}/meminfo", c.id));
            let free = match text {
                Some(t) => meminfo_kib(&t, "MemFree"),
                None => meminfo_kib(&self.meminfo()?, "MemFree"),
            };
            out.push(free.unwrap_or(0) * 1024);
        }
        Ok(out)
    }

    /// The NUMA cells with their memory and CPUs; a host without NUMA
    /// information is one cell 0 holding everything.
    pub fn numa_cells(&self) -> VirResult<Vec<NumaCell>> {
        let online = self.online_cpus();
        let nodes = self.numa_nodes();
        let cpu = |c: u32| {
            let (socket_id, core_id, siblings) = self.cpu_topology(c);
            CellCpu {
                id: c,
                socket_id,
                core_id,
                siblings,
            }
        };
        if nodes.is_empty() {
            let total = meminfo_kib(&self.meminfo()?, "MemTotal").unwrap_or(0);
            return Ok(vec![NumaCell {
                id: 0,
                memory_kib: total,
                cpus: online.into_iter().map(cpu).collect(),
            }]);
        }
        Ok(nodes
            .into_iter()
            .map(|n| {
                let base = format!("/sys/devices/system/node/node{n}");
                let memory_kib = self
                    .read(&format!("{base}/meminfo"))
                    .and_then(|t| meminfo_kib(&t, "MemTotal"))
                    .unwrap_or(0);
                let cpus = self
                    .read(&format!("{base}/cpulist"))
                    .map(|s| parse_cpu_list(&s))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| online.contains(c))
                    .map(cpu)
                    .collect();
                NumaCell {
                    id: n,
                    memory_kib,
                    cpus,
                }
            })
            .collect())
    }

    /// The host name (the kernel's).
    pub fn hostname(&self) -> String {
        self.read("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "localhost".to_string())
    }

    fn dmi(&self, field: &str) -> Option<String> {
        self.read(&format!("/sys/class/dmi/id/{field}"))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// virConnectGetSysinfo: SMBIOS data as libvirt's `<sysinfo>` XML.
    pub fn sysinfo_xml(&self) -> VirResult<String> {
        let mut x = String::from("<sysinfo type='smbios'>\n");
        let section = |x: &mut String, tag: &str, entries: &[(&str, &str)]| {
            let found: Vec<(&str, String)> = entries
                .iter()
                .filter_map(|(name, file)| Some((*name, self.dmi(file)?)))
                .collect();
            if found.is_empty() {
                return;
            }
            x.push_str(&format!("  <{tag}>\n"));
            for (name, v) in found {
                x.push_str(&format!(
                    "    <entry name='{name}'>{}</entry>\n",
                    xml_escape(&v)
                ));
            }
            x.push_str(&format!("  </{tag}>\n"));
        };
        section(
            &mut x,
            "bios",
            &[
                ("vendor", "bios_vendor"),
                ("version", "bios_version"),
                ("date", "bios_date"),
                ("release", "bios_release"),
            ],
        );
        section(
            &mut x,
            "system",
            &[
                ("manufacturer", "sys_vendor"),
                ("product", "product_name"),
                ("version", "product_version"),
                ("serial", "product_serial"),
                ("uuid", "product_uuid"),
                ("sku", "product_sku"),
                ("family", "product_family"),
            ],
        );
        section(
            &mut x,
            "baseBoard",
            &[
                ("manufacturer", "board_vendor"),
                ("product", "board_name"),
                ("version", "board_version"),
                ("serial", "board_serial"),
                ("asset", "board_asset_tag"),
            ],
        );
        let cpu = self.cpu_model_info();
        if let Some(model) = &cpu.model {
            x.push_str("  <processor>\n");
            if let Some(v) = &cpu.vendor {
                x.push_str(&format!(
                    "    <entry name='manufacturer'>{}</entry>\n",
                    xml_escape(v)
                ));
            }
            x.push_str(&format!(
                "    <entry name='version'>{}</entry>\n",
                xml_escape(model)
            ));
            x.push_str("  </processor>\n");
        }
        x.push_str("</sysinfo>\n");
        Ok(x)
    }

    /// The host UUID: SMBIOS if readable and valid, else /etc/machine-id.
    pub fn host_uuid(&self) -> Option<String> {
        if let Some(u) = self.dmi("product_uuid").filter(|u| is_uuid(u)) {
            return Some(u.to_ascii_lowercase());
        }
        self.machine_id_uuid()
    }

    /// /etc/machine-id written as a UUID.
    pub fn machine_id_uuid(&self) -> Option<String> {
        let id = self.read("/etc/machine-id")?;
        let id = id.trim();
        if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some(format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..]
        ))
    }

    /// The host CPU from /proc/cpuinfo and the topology.
    pub fn cpu_model_info(&self) -> HostCpu {
        let info = self.read("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            info.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
        };
        let vendor = field("vendor_id").map(|v| match v.as_str() {
            "GenuineIntel" => "Intel".to_string(),
            "AuthenticAMD" => "AMD".to_string(),
            _ => v,
        });
        let features = field("flags")
            .map(|f| f.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let n = self.node_info().ok();
        HostCpu {
            arch: self.arch(),
            vendor,
            model: field("model name"),
            features,
            sockets: n.as_ref().map_or(1, |n| n.sockets * n.nodes),
            cores: n.as_ref().map_or(1, |n| n.cores),
            threads: n.as_ref().map_or(1, |n| n.threads),
        }
    }
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
        && s.chars()
            .any(|c| c != '0' && c != '-' && c != 'f' && c != 'F')
}

/// Escapes text for XML content.
pub fn xml_escape(s: &str) -> String {
    escape(s, false)
}

/// Escapes an XML attribute value: as [`xml_escape`], and tabs and line
/// breaks as character references, which a parser keeps where it turns
/// literal ones into spaces.
pub fn xml_escape_attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attr: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\'' => o.push_str("&apos;"),
            '"' => o.push_str("&quot;"),
            // A literal CR would come back as a line feed.
            '\r' => o.push_str("&#13;"),
            '\n' if attr => o.push_str("&#10;"),
            '\t' if attr => o.push_str("&#9;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// Writes a fixture host tree (tests in this module and the capabilities).
#[cfg(test)]
pub fn fixture(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("virtvzd-host-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let w = |p: &str, s: &str| {
        let p = root.join(p);
        fs::create_dir_all(p.parent().unwrap_or(Path::new("/"))).unwrap();
        fs::write(p, s).unwrap();
    };
    w("proc/meminfo", "MemTotal:        8000000 kB\nMemFree:         5000000 kB\nBuffers:          100000 kB\nCached:           200000 kB\n");
    w(
        "proc/stat",
        "cpu  10 20 30 40 50 60 70 0 0 0\ncpu0 1 2 3 4 5 6 7 0 0 0\ncpu1 1 1 1 1 1 1 1 0 0 0\n",
    );
    w("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU <X>\ncpu MHz\t\t: 2400.000\nflags\t\t: fpu vmx sse2\n\nprocessor\t: 1\n");
    w("proc/sys/kernel/hostname", "fixture-host\n");
    w("sys/devices/system/cpu/online", "0-3\n");
    w("sys/devices/system/cpu/present", "0-3\n");
    w("sys/devices/system/node/online", "0-1\n");
    w("sys/devices/system/node/node0/cpulist", "0-1\n");
    w("sys/devices/system/node/node1/cpulist", "2-3\n");
    w(
        "sys/devices/system/node/node0/meminfo",
        "Node 0 MemTotal:       4000000 kB\nNode 0 MemFree:        2500000 kB\n",
    );
    w(
        "sys/devices/system/node/node1/meminfo",
        "Node 1 MemTotal:       4000000 kB\nNode 1 MemFree:        2400000 kB\n",
    );
    for c in 0..4 {
        let t = format!("sys/devices/system/cpu/cpu{c}/topology");
        w(&format!("{t}/physical_package_id"), &format!("{}\n", c / 2));
        w(&format!("{t}/core_id"), &format!("{}\n", c % 2));
        w(&format!("{t}/thread_siblings_list"), &format!("{c}\n"));
    }
    w("sys/class/dmi/id/sys_vendor", "Acme & Co\n");
    w(
        "sys/class/dmi/id/product_uuid",
        "4C4C4544-0000-1000-8000-B2C04F000000\n",
    );
    w("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,8,10-11\n"), vec![0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(parse_cpu_list(""), Vec::<u32>::new());
        assert_eq!(parse_cpu_list("5-2,x,7"), vec![7]);
    }

    #[test]
    fn node_info_from_fixture() {
        let root = fixture("info");
        let h = HostFs::at(&root);
        let n = h.node_info().unwrap();
        assert_eq!(n.memory_kib, 8_000_000);
        assert_eq!(n.cpus, 4);
        assert_eq!(n.mhz, 2400);
        assert_eq!((n.nodes, n.sockets, n.cores, n.threads), (2, 1, 2, 1));
        assert_eq!(h.free_memory().unwrap(), 5_000_000 * 1024);
        assert_eq!(h.hostname(), "fixture-host");
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn stats_from_fixture() {
        let root = fixture("stats");
        let h = HostFs::at(&root);
        let m = h.memory_stats(-1).unwrap();
        assert_eq!(m[0], ("total", 8_000_000));
        assert_eq!(h.memory_stats(1).unwrap()[1], ("free", 2_400_000));
        assert!(h.memory_stats(7).is_err());
        let c = h.cpu_stats(-1).unwrap();
        assert_eq!(c[1], ("user", 300_000_000));
        assert_eq!(c[3], ("iowait", 500_000_000));
        assert!(h.cpu_stats(9).is_err());
        let (total, map, online) = h.cpu_map().unwrap();
        assert_eq!((total, map, online), (4, vec![0b1111], 4));
        assert_eq!(
            h.cells_free_memory(0, 2).unwrap(),
            vec![2_500_000 * 1024, 2_400_000 * 1024]
        );
        assert!(h.cells_free_memory(2, 1).is_err());
        let cells = h.numa_cells().unwrap();
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[1].cpus[0].socket_id, 1);
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn sysinfo_and_uuid() {
        let root = fixture("sysinfo");
        let h = HostFs::at(&root);
        let x = h.sysinfo_xml().unwrap();
        assert!(x.contains("<entry name='manufacturer'>Acme &amp; Co</entry>"));
        assert!(x.contains("Test CPU &lt;X&gt;"));
        assert!(!x.contains("<bios>"));
        assert_eq!(
            h.host_uuid().as_deref(),
            Some("4c4c4544-0000-1000-8000-b2c04f000000")
        );
        assert_eq!(
            h.machine_id_uuid().as_deref(),
            Some("01234567-89ab-cdef-0123-456789abcdef")
        );
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn empty_root_gives_errors_or_fallbacks_not_panics() {
        let h = HostFs::at("/nonexistent-virtvzd-root");
        assert!(h.node_info().is_err());
        assert!(h.free_memory().is_err());
        assert_eq!(h.hostname(), "localhost");
        assert!(h.host_uuid().is_none());
        assert!(h.sysinfo_xml().is_ok());
        let _ = h.cpu_model_info();
        let _ = h.cpu_map();
    }
}

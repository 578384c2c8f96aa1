//! The capabilities XML of the vz driver: the host (CPU, NUMA topology,
//! the `vzmigr` migration transport) and the guest matrix — hvm and exe ×
//! i686 and x86_64 × vz and parallels, one `<guest>` each.

use super::host::{xml_escape, HostCpu, NumaCell};
use std::fmt::Write;

/// What the capabilities are built from.
pub struct CapsInput<'a> {
    /// The host UUID, if known.
    pub host_uuid: Option<&'a str>,
    /// The host CPU.
    pub cpu: &'a HostCpu,
    /// NUMA cells.
    pub cells: &'a [NumaCell],
    /// Root daemon (adds nothing today; kept for the security models).
    pub privileged: bool,
}

/// The guest matrix: (os type, arch, word size, domain type).
pub const GUESTS: [(&str, &str, u32, &str); 8] = [
    ("hvm", "i686", 32, "vz"),
    ("hvm", "i686", 32, "parallels"),
    ("hvm", "x86_64", 64, "vz"),
    ("hvm", "x86_64", 64, "parallels"),
    ("exe", "i686", 32, "vz"),
    ("exe", "i686", 32, "parallels"),
    ("exe", "x86_64", 64, "vz"),
    ("exe", "x86_64", 64, "parallels"),
];

/// virConnectGetCapabilities for the vz driver.
pub fn capabilities_xml(input: &CapsInput) -> String {
    let mut x = String::with_capacity(4096);
    let cpu = input.cpu;
    x.push_str("<capabilities>\n\n  <host>\n");
    if let Some(u) = input.host_uuid {
        let _ = writeln!(x, "    <uuid>{}</uuid>", xml_escape(u));
    }
    x.push_str("    <cpu>\n");
    let _ = writeln!(x, "      <arch>{}</arch>", xml_escape(&cpu.arch));
    if let Some(m) = &cpu.model {
        let _ = writeln!(x, "      <model>{}</model>", xml_escape(m));
    }
    if let Some(v) = &cpu.vendor {
        let _ = writeln!(x, "      <vendor>{}</vendor>", xml_escape(v));
    }
    let _ = writeln!(
        x,
        "      <topology sockets='{}' dies='1' cores='{}' threads='{}'/>",
        cpu.sockets.max(1),
        cpu.cores.max(1),
        cpu.threads.max(1)
    );
    for f in &cpu.features {
        let _ = writeln!(x, "      <feature name='{}'/>", xml_escape(f));
    }
    x.push_str("    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n");
    x.push_str("    <migration_features>\n      <uri_transports>\n        <uri_transport>vzmigr</uri_transport>\n      </uri_transports>\n    </migration_features>\n");
    x.push_str("    <topology>\n");
    let _ = writeln!(x, "      <cells num='{}'>", input.cells.len());
    for c in input.cells {
        let _ = writeln!(x, "        <cell id='{}'>", c.id);
        let _ = writeln!(x, "          <memory unit='KiB'>{}</memory>", c.memory_kib);
        let _ = writeln!(x, "          <cpus num='{}'>", c.cpus.len());
        for p in &c.cpus {
            let _ = writeln!(
                x,
                "            <cpu id='{}' socket_id='{}' core_id='{}' siblings='{}'/>",
                p.id,
                p.socket_id,
                p.core_id,
                xml_escape(&p.siblings)
            );
        }
        x.push_str("          </cpus>\n        </cell>\n");
    }
    x.push_str("      </cells>\n    </topology>\n  </host>\n\n");
    for (os, arch, word, dom) in GUESTS {
        let _ = write!(
            x,
            "  <guest>\n    <os_type>{os}</os_type>\n    <arch name='{arch}'>\n      <wordsize>{word}</wordsize>\n      <emulator>{dom}</emulator>\n      <domain type='{dom}'/>\n    </arch>\n  </guest>\n\n"
        );
    }
    x.push_str("</capabilities>\n");
    x
}

/// virConnectGetDomainCapabilities: what the driver accepts in domain XML.
pub fn domain_capabilities_xml(
    emulator: Option<&str>,
    arch: Option<&str>,
    machine: Option<&str>,
    virttype: Option<&str>,
) -> crate::error::VirResult<String> {
    use crate::error::{ErrorCode, ErrorDomain, VirError};
    let bad = |what: &str, v: &str| {
        VirError::new(
            ErrorCode::InvalidArg,
            ErrorDomain::Parallels,
            format!("unknown {what} '{v}'"),
        )
    };
    let virttype = virttype.unwrap_or("vz");
    if virttype != "vz" && virttype != "parallels" {
        return Err(bad("virttype", virttype));
    }
    let arch = arch.unwrap_or("x86_64");
    if arch != "x86_64" && arch != "i686" {
        return Err(bad("architecture", arch));
    }
    if let Some(m) = machine {
        return Err(bad("machine type", m));
    }
    if let Some(e) = emulator.filter(|e| *e != "vz" && *e != "parallels") {
        return Err(bad("emulator", e));
    }
    Ok(format!(
        "<domainCapabilities>\n  <path>{virttype}</path>\n  <domain>{virttype}</domain>\n  <arch>{arch}</arch>\n  \
<vcpu max='{max}'/>\n  <iothreads supported='no'/>\n  <os supported='yes'>\n    <enum name='firmware'/>\n    <loader supported='no'/>\n  </os>\n  \
<cpu>\n    <mode name='host-passthrough' supported='no'/>\n    <mode name='maximum' supported='no'/>\n    <mode name='host-model' supported='no'/>\n    <mode name='custom' supported='no'/>\n  </cpu>\n  \
<devices>\n    <disk supported='yes'>\n      <enum name='diskDevice'>\n        <value>disk</value>\n        <value>cdrom</value>\n      </enum>\n      \
<enum name='bus'>\n        <value>ide</value>\n        <value>scsi</value>\n      </enum>\n      <enum name='model'/>\n    </disk>\n    \
<graphics supported='yes'>\n      <enum name='type'>\n        <value>vnc</value>\n      </enum>\n    </graphics>\n    \
<video supported='yes'>\n      <enum name='modelType'>\n        <value>vga</value>\n      </enum>\n    </video>\n    \
<hostdev supported='no'/>\n    <rng supported='no'/>\n    <filesystem supported='yes'>\n      <enum name='driverType'>\n        <value>ploop</value>\n      </enum>\n    </filesystem>\n  </devices>\n  \
<features>\n    <gic supported='no'/>\n    <vmcoreinfo supported='no'/>\n    <genid supported='no'/>\n    <sev supported='no'/>\n  </features>\n</domainCapabilities>\n",
        max = super::MAX_VCPUS
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vz::host::{fixture, HostFs};

    #[test]
    fn fixture_host_caps() {
        let root = fixture("caps");
        let h = HostFs::at(&root);
        let cpu = h.cpu_model_info();
        let cells = h.numa_cells().unwrap();
        let x = capabilities_xml(&CapsInput {
            host_uuid: Some("4c4c4544-0000-1000-8000-b2c04f000000"),
            cpu: &cpu,
            cells: &cells,
            privileged: true,
        });
        assert_eq!(x.matches("<guest>").count(), 8);
        assert_eq!(x.matches("<domain type='vz'/>").count(), 4);
        assert_eq!(x.matches("<os_type>exe</os_type>").count(), 4);
        assert!(x.contains("<cells num='2'>"));
        assert!(x.contains("<cpu id='3' socket_id='1' core_id='1' siblings='3'/>"));
        assert!(x.contains("<model>Test CPU &lt;X&gt;</model>"));
        assert!(x.contains("<vendor>Intel</vendor>"));
        assert!(x.contains("<uri_transport>vzmigr</uri_transport>"));
        // Balanced: every opening tag closes.
        for tag in [
            "capabilities",
            "host",
            "cpu",
            "topology",
            "cells",
            "cell",
            "guest",
            "arch",
        ] {
            let open = x
                .lines()
                .map(str::trim)
                .filter(|l| {
                    (l.starts_with(&format!("<{tag}>")) || l.starts_with(&format!("<{tag} ")))
                        && !l.ends_with("/>")
                })
                .count();
            let close = x.matches(&format!("</{tag}>")).count();
            assert_eq!(open, close, "{tag}");
        }
        let _ = std::fs::remove_dir_all(root);
    }
}

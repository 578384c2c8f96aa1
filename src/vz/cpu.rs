//! virConnectBaselineCPU: the CPU every given host CPU can offer a guest.
//!
//! libvirt's vz driver hands this to libvirt's generic CPU code, which
//! decodes CPUID data against its CPU map. virtvzd carries no CPU map, so
//! it answers what needs none: CPUs of one model (what a management stack
//! such as Nova sends: the host CPU of the capabilities) give that model
//! with the features all of them list. CPUs of different models would need
//! the map to find a common model; that is refused with
//! VIR_ERR_NO_SUPPORT, the answer Nova tolerates.

use super::domain_xml::{parse_document, Element};
use super::host::xml_escape;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};

/// VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES
pub const EXPAND_FEATURES: u32 = 1;

/// One `<cpu>` as a host CPU is described.
struct HostCpu {
    arch: String,
    model: String,
    vendor: Option<String>,
    features: Vec<String>,
}

fn error(code: ErrorCode, detail: impl Into<String>) -> VirError {
    VirError::new(code, ErrorDomain::Cpu, detail)
}

fn parse(xml: &str) -> VirResult<HostCpu> {
    let root: Element = parse_document(xml, "CPU_definition")?;
    if root.name != "cpu" {
        return Err(error(ErrorCode::XmlError, "missing CPU definition"));
    }
    let text = |name: &str| {
        root.child(name)
            .map(|e| e.text.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let arch =
        text("arch").ok_or_else(|| error(ErrorCode::XmlError, "Missing CPU architecture"))?;
    let model =
        text("model").ok_or_else(|| error(ErrorCode::XmlError, "Missing CPU model name"))?;
    let mut features = Vec::new();
    let mut named = std::collections::HashSet::new();
    for f in root.children.iter().filter(|c| c.name == "feature") {
        let name = f
            .attr("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| error(ErrorCode::XmlError, "Invalid CPU feature name"))?;
        // libvirt's CPU parser refuses a CPU naming a feature twice (with
        // any policy) rather than guessing which mention counts.
        if !named.insert(name) {
            return Err(error(
                ErrorCode::XmlError,
                format!("CPU feature '{name}' specified more than once"),
            ));
        }
        // A guest CPU may list what it must not have; that is no feature.
        if matches!(f.attr("policy"), Some("disable") | Some("forbid")) {
            continue;
        }
        features.push(name.to_string());
    }
    Ok(HostCpu {
        arch,
        model,
        vendor: text("vendor"),
        features,
    })
}

/// The baseline of `xmls` (host `<cpu>` documents) as libvirt formats a
/// guest CPU. `flags` were checked by the caller; EXPAND_FEATURES changes
/// nothing, since every feature the CPUs list is listed.
pub fn baseline(xmls: &[String]) -> VirResult<String> {
    let cpus = xmls
        .iter()
        .map(|x| parse(x))
        .collect::<VirResult<Vec<_>>>()?;
    let Some(first) = cpus.first() else {
        return Err(error(ErrorCode::InvalidArg, "no CPUs given"));
    };
    if first.arch != "x86_64" && first.arch != "i686" {
        return Err(error(
            ErrorCode::NoSupport,
            format!(
                "'{}' architecture is not supported by CPU driver",
                first.arch
            ),
        ));
    }
    if cpus.iter().any(|c| c.arch != first.arch) {
        return Err(error(ErrorCode::OperationFailed, "CPUs are incompatible"));
    }
    let vendors: Vec<&str> = cpus.iter().filter_map(|c| c.vendor.as_deref()).collect();
    if vendors.windows(2).any(|w| w[0] != w[1]) {
        return Err(error(
            ErrorCode::OperationFailed,
            "CPU vendors do not match",
        ));
    }
    if cpus.iter().any(|c| c.model != first.model) {
        return Err(error(
            ErrorCode::NoSupport,
            "a baseline of different CPU models needs libvirt's CPU map, which virtvzd does not carry",
        ));
    }
    let common = first
        .features
        .iter()
        .filter(|f| cpus.iter().all(|c| c.features.contains(f)));
    // libvirt names the vendor only when every CPU does.
    let vendor = (vendors.len() == cpus.len())
        .then_some(vendors.first())
        .flatten();
    let mut x = String::from("<cpu mode='custom' match='exact'>\n");
    x.push_str(&format!(
        "  <model fallback='forbid'>{}</model>\n",
        xml_escape(&first.model)
    ));
    if let Some(v) = vendor {
        x.push_str(&format!("  <vendor>{}</vendor>\n", xml_escape(v)));
    }
    for f in common {
        x.push_str(&format!(
            "  <feature policy='require' name='{}'/>\n",
            xml_escape(f)
        ));
    }
    x.push_str("</cpu>\n");
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(model: &str, vendor: &str, features: &[&str]) -> String {
        let f: String = features
            .iter()
            .map(|f| format!("<feature name='{f}'/>"))
            .collect();
        format!("<cpu><arch>x86_64</arch><model>{model}</model><vendor>{vendor}</vendor>{f}</cpu>")
    }

    #[test]
    fn one_cpu_is_its_own_baseline() {
        let x = baseline(&[cpu("EPYC", "AMD", &["sse4a", "svm"])]).unwrap();
        assert_eq!(
            x,
            "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>EPYC</model>\n  <vendor>AMD</vendor>\n  <feature policy='require' name='sse4a'/>\n  <feature policy='require' name='svm'/>\n</cpu>\n"
        );
    }

    #[test]
    fn features_are_intersected() {
        let x = baseline(&[
            cpu("EPYC", "AMD", &["a", "b", "c"]),
            cpu("EPYC", "AMD", &["c", "a"]),
        ])
        .unwrap();
        assert!(x.contains("name='a'") && x.contains("name='c'") && !x.contains("name='b'"));
    }

    #[test]
    fn a_feature_every_cpu_names_is_listed_once() {
        let x = baseline(&[
            cpu("EPYC", "AMD", &["svm", "aes"]),
            cpu("EPYC", "AMD", &["aes", "svm"]),
            cpu("EPYC", "AMD", &["svm", "aes"]),
        ])
        .unwrap();
        assert_eq!(x.matches("name='svm'").count(), 1, "{x}");
        assert_eq!(x.matches("name='aes'").count(), 1, "{x}");
    }

    #[test]
    fn a_feature_named_twice_in_one_cpu_is_refused_as_libvirt_does() {
        for twice in [&["svm", "aes", "svm"][..], &["svm", "svm"]] {
            let e =
                baseline(&[cpu("EPYC", "AMD", &["svm"]), cpu("EPYC", "AMD", twice)]).unwrap_err();
            assert_eq!(
                (e.code, e.domain, e.message.as_str()),
                (
                    ErrorCode::XmlError,
                    ErrorDomain::Cpu,
                    "XML error: CPU feature 'svm' specified more than once"
                )
            );
        }
        // Even when one mention disables it.
        let xml = "<cpu><arch>x86_64</arch><model>EPYC</model>\
                   <feature name='svm'/><feature policy='disable' name='svm'/></cpu>";
        assert_eq!(
            baseline(&[xml.into()]).unwrap_err().message,
            "XML error: CPU feature 'svm' specified more than once"
        );
        for bad in ["<feature/>", "<feature name=''/>"] {
            let xml = format!("<cpu><arch>x86_64</arch><model>EPYC</model>{bad}</cpu>");
            assert_eq!(
                baseline(&[xml]).unwrap_err().message,
                "XML error: Invalid CPU feature name"
            );
        }
    }

    #[test]
    fn libvirt_errors() {
        let e = baseline(&[cpu("EPYC", "AMD", &[]), cpu("EPYC", "Intel", &[])]).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ErrorCode::OperationFailed,
                "operation failed: CPU vendors do not match"
            )
        );
        let e = baseline(&[cpu("EPYC", "AMD", &[]), cpu("Skylake", "AMD", &[])]).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        let e = baseline(&["<cpu><model>x</model></cpu>".into()]).unwrap_err();
        assert_eq!(e.code, ErrorCode::XmlError);
        let e = baseline(&["<cpu><arch>aarch64</arch><model>x</model></cpu>".into()]).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        let e = baseline(&["<cpu>".into()]).unwrap_err();
        assert_eq!(e.code, ErrorCode::XmlDetail);
        assert!(e.message.contains("(CPU_definition)"), "{}", e.message);
        assert_eq!(baseline(&[]).unwrap_err().code, ErrorCode::InvalidArg);
    }
}

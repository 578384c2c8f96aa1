//! Domain XML: what the vz driver reads from and writes to libvirt's
//! `<domain>` document.
//!
//! This release handles the guest itself — name, UUID, description,
//! memory, vCPUs, OS type and architecture, lifecycle actions. Any element
//! it does not handle yet (devices among them) is refused with
//! VIR_ERR_CONFIG_UNSUPPORTED naming it, never silently dropped.

use super::host::xml_escape;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use quick_xml::events::Event;
use quick_xml::Reader;

/// `<os><type>`: a VM or a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsType {
    /// Virtual machine.
    Hvm,
    /// Container.
    Exe,
}

impl OsType {
    /// The XML text.
    pub fn as_str(self) -> &'static str {
        match self {
            OsType::Hvm => "hvm",
            OsType::Exe => "exe",
        }
    }
}

/// The parts of a domain definition this driver keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainDef {
    /// Name.
    pub name: String,
    /// UUID, or none to have one made.
    pub uuid: Option<[u8; 16]>,
    /// VM or container.
    pub os_type: OsType,
    /// Architecture (i686 or x86_64).
    pub arch: String,
    /// Memory in KiB.
    pub memory_kib: u64,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Description.
    pub description: String,
}

/// A parsed XML element.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn xml_error(detail: String) -> VirError {
    VirError::new(ErrorCode::XmlDetail, ErrorDomain::Domain, detail)
}

fn unsupported(detail: String) -> VirError {
    VirError::new(ErrorCode::ConfigUnsupported, ErrorDomain::Parallels, detail)
}

fn invalid(detail: String) -> VirError {
    VirError::new(ErrorCode::XmlError, ErrorDomain::Domain, detail)
}

/// Parses a document into elements; a malformed one is an XML error.
fn parse_tree(xml: &str) -> VirResult<Element> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let err = |r: &Reader<&[u8]>, e: &dyn std::fmt::Display| {
        xml_error(format!(
            "(domain_definition):{}: {e}",
            xml[..r.buffer_position().min(xml.len() as u64) as usize]
                .matches('\n')
                .count()
                + 1
        ))
    };
    loop {
        let ev = reader.read_event().map_err(|e| err(&reader, &e))?;
        match ev {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let mut el = Element {
                    name: String::from_utf8_lossy(s.name().as_ref()).into_owned(),
                    ..Element::default()
                };
                for a in s.attributes() {
                    let a = a.map_err(|e| err(&reader, &e))?;
                    let v = a
                        .unescape_value()
                        .map_err(|e| err(&reader, &e))?
                        .into_owned();
                    el.attrs
                        .push((String::from_utf8_lossy(a.key.as_ref()).into_owned(), v));
                }
                if matches!(ev, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(p) => p.children.push(el),
                        None if root.is_none() => root = Some(el),
                        None => {
                            return Err(err(&reader, &"extra content at the end of the document"))
                        }
                    }
                } else {
                    if stack.is_empty() && root.is_some() {
                        return Err(err(&reader, &"extra content at the end of the document"));
                    }
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| err(&reader, &"unexpected closing tag"))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.decode().map_err(|e| err(&reader, &e))?;
                    let s = quick_xml::escape::unescape(&s).map_err(|e| err(&reader, &e))?;
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| err(&reader, &e))?;
                let c = match name.as_ref() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "apos" => Some('\''),
                    "quot" => Some('"'),
                    n => n
                        .strip_prefix("#x")
                        .map(|h| u32::from_str_radix(h, 16))
                        .or_else(|| n.strip_prefix('#').map(str::parse::<u32>))
                        .and_then(Result::ok)
                        .and_then(char::from_u32),
                };
                let c = c.ok_or_else(|| err(&reader, &format!("unknown entity '&{name};'")))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push(c);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(xml_error(
            "(domain_definition): premature end of data".to_string(),
        ));
    }
    root.ok_or_else(|| xml_error("(domain_definition): document is empty".to_string()))
}

/// Parses a UUID in libvirt's accepted forms (with or without dashes).
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: String = s
        .trim()
        .trim_matches(|c| c == '{' || c == '}')
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A UUID in libvirt's text form.
pub fn format_uuid(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A size with libvirt's units, in KiB.
fn parse_kib(el: &Element) -> VirResult<u64> {
    let v: u64 = el.text.trim().parse().map_err(|_| {
        invalid(format!(
            "invalid value '{}' for element '{}'",
            el.text.trim(),
            el.name
        ))
    })?;
    let unit = el.attr("unit").unwrap_or("KiB");
    let factor: u128 = match unit {
        "b" | "bytes" => 1,
        "KB" => 1000,
        "k" | "KiB" => 1024,
        "MB" => 1_000_000,
        "M" | "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "G" | "GiB" => 1 << 30,
        "TB" => 1_000_000_000_000,
        "T" | "TiB" => 1 << 40,
        other => {
            return Err(invalid(format!(
                "unknown unit '{other}' for element '{}'",
                el.name
            )))
        }
    };
    let bytes = u128::from(v) * factor;
    u64::try_from(bytes.div_ceil(1024))
        .map_err(|_| invalid(format!("value of element '{}' is too large", el.name)))
}

/// Top-level elements read elsewhere or with nothing to keep.
const ACCEPTED: &[&str] = &[
    "name",
    "uuid",
    "title",
    "description",
    "memory",
    "currentMemory",
    "vcpu",
    "os",
    "on_poweroff",
    "on_reboot",
    "on_crash",
    "clock",
    "features",
];

/// Parses and validates a domain definition for the vz driver.
pub fn parse(xml: &str) -> VirResult<DomainDef> {
    let root = parse_tree(xml)?;
    if root.name != "domain" {
        return Err(invalid(format!(
            "expected root element 'domain', got '{}'",
            root.name
        )));
    }
    match root.attr("type") {
        Some("vz") | Some("parallels") => {}
        Some(t) => {
            return Err(unsupported(format!(
                "domain type '{t}' is not supported by the vz driver"
            )))
        }
        None => return Err(invalid("missing domain type attribute".into())),
    }
    for c in &root.children {
        if !ACCEPTED.contains(&c.name.as_str()) {
            return Err(unsupported(format!(
                "element '{}' is not supported by virtvzd yet",
                c.name
            )));
        }
    }
    let name = root
        .child("name")
        .map(|n| n.text.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("missing name information".into()))?;
    if name.contains('/') {
        return Err(invalid(format!("name {name} cannot contain '/'")));
    }
    let uuid = match root.child("uuid") {
        Some(u) => Some(
            parse_uuid(&u.text)
                .ok_or_else(|| invalid(format!("malformed uuid element '{}'", u.text.trim())))?,
        ),
        None => None,
    };
    let memory_kib = parse_kib(
        root.child("memory")
            .ok_or_else(|| invalid("missing memory element".into()))?,
    )?;
    if let Some(cur) = root.child("currentMemory") {
        if parse_kib(cur)? != memory_kib {
            return Err(unsupported(
                "changing balloon parameters is not supported by vz driver".into(),
            ));
        }
    }
    if memory_kib == 0 || memory_kib % 1024 != 0 {
        return Err(unsupported("Memory size should be multiple of 1Mb.".into()));
    }
    let vcpus = match root.child("vcpu") {
        Some(v) => {
            if v.attr("cpuset").is_some() {
                return Err(unsupported(
                    "cpuset of vcpu is not supported by virtvzd yet".into(),
                ));
            }
            if let Some(c) = v.attr("current") {
                if c.trim() != v.text.trim() {
                    return Err(unsupported(
                        "current vcpus must be equal to maxvcpus".into(),
                    ));
                }
            }
            v.text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0 && *n <= super::MAX_VCPUS as u32)
                .ok_or_else(|| invalid(format!("invalid vcpu count '{}'", v.text.trim())))?
        }
        None => 1,
    };
    let os = root
        .child("os")
        .ok_or_else(|| invalid("an os element is required".into()))?;
    for c in &os.children {
        if c.name != "type" {
            return Err(unsupported(format!(
                "element 'os/{}' is not supported by virtvzd yet",
                c.name
            )));
        }
    }
    let ty = os
        .child("type")
        .ok_or_else(|| invalid("an os <type> must be specified".into()))?;
    let os_type = match ty.text.trim() {
        "hvm" => OsType::Hvm,
        "exe" => OsType::Exe,
        other => {
            return Err(unsupported(format!(
                "no guest of os type '{other}' on this host: use hvm or exe"
            )))
        }
    };
    let arch = ty.attr("arch").unwrap_or("x86_64").to_string();
    if arch != "x86_64" && arch != "i686" {
        return Err(unsupported(format!(
            "no guest of architecture '{arch}' on this host: use x86_64 or i686"
        )));
    }
    for (el, allowed) in [
        ("on_poweroff", "destroy"),
        ("on_reboot", "restart"),
        ("on_crash", "destroy"),
    ] {
        if let Some(e) = root.child(el) {
            if e.text.trim() != allowed {
                return Err(unsupported(format!(
                    "{el} '{}' is not supported by vz driver: only '{allowed}'",
                    e.text.trim()
                )));
            }
        }
    }
    if let Some(f) = root.child("features") {
        if !f.children.is_empty() {
            return Err(unsupported(format!(
                "feature '{}' is not supported by virtvzd yet",
                f.children[0].name
            )));
        }
    }
    if let Some(c) = root.child("clock") {
        if c.attr("offset").is_some_and(|o| o != "utc") || !c.children.is_empty() {
            return Err(unsupported("only clock offset 'utc' is supported".into()));
        }
    }
    Ok(DomainDef {
        name,
        uuid,
        os_type,
        arch,
        memory_kib,
        vcpus,
        description: root
            .child("description")
            .map(|d| d.text.clone())
            .unwrap_or_default(),
    })
}

/// Formats a definition as libvirt's domain XML; `id` is set for a
/// running domain.
pub fn format(def: &DomainDef, uuid: &[u8; 16], id: Option<i32>) -> String {
    let mut x = String::with_capacity(1024);
    match id {
        Some(id) => x.push_str(&format!("<domain type='vz' id='{id}'>\n")),
        None => x.push_str("<domain type='vz'>\n"),
    }
    x.push_str(&format!("  <name>{}</name>\n", xml_escape(&def.name)));
    x.push_str(&format!("  <uuid>{}</uuid>\n", format_uuid(uuid)));
    if !def.description.is_empty() {
        x.push_str(&format!(
            "  <description>{}</description>\n",
            xml_escape(&def.description)
        ));
    }
    x.push_str(&format!(
        "  <memory unit='KiB'>{0}</memory>\n  <currentMemory unit='KiB'>{0}</currentMemory>\n",
        def.memory_kib
    ));
    x.push_str(&format!(
        "  <vcpu placement='static'>{}</vcpu>\n",
        def.vcpus
    ));
    x.push_str(&format!(
        "  <os>\n    <type arch='{}'>{}</type>\n  </os>\n",
        def.arch,
        def.os_type.as_str()
    ));
    x.push_str("  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n");
    x.push_str("</domain>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    const VM: &str = "<domain type='vz'>
  <name>web &amp; db</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <description>a &lt;test&gt; VM</description>
  <memory unit='MiB'>1024</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>";

    #[test]
    fn parses_and_round_trips() {
        let d = parse(VM).unwrap();
        assert_eq!(d.name, "web & db");
        assert_eq!(d.memory_kib, 1024 * 1024);
        assert_eq!(d.vcpus, 2);
        assert_eq!(d.os_type, OsType::Hvm);
        assert_eq!(d.description, "a <test> VM");
        let uuid = d.uuid.unwrap();
        assert_eq!(format_uuid(&uuid), "6695eb01-f6a4-8304-79aa-97f2502e193f");
        let again = parse(&format(&d, &uuid, Some(3))).unwrap();
        assert_eq!(again, d);
    }

    #[test]
    fn malformed_xml_is_an_xml_error() {
        for bad in [
            "",
            "<domain type='vz'>",
            "<domain type='vz'><name>x</nam></domain>",
            "not xml",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.code == ErrorCode::XmlDetail || e.code == ErrorCode::XmlError,
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn unsupported_elements_are_named() {
        let with = |extra: &str| VM.replace("</domain>", &format!("{extra}</domain>"));
        for (extra, needle) in [
            ("<devices><disk/></devices>", "devices"),
            ("<cputune/>", "cputune"),
            ("<on_reboot>destroy</on_reboot>", "on_reboot"),
        ] {
            let e = parse(&with(extra)).unwrap_err();
            assert_eq!(e.code, ErrorCode::ConfigUnsupported, "{extra}");
            assert!(e.message.contains(needle), "{}", e.message);
        }
        let e = parse(&VM.replace("type='vz'", "type='kvm'")).unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigUnsupported);
        let e = parse(&VM.replace("1024</memory>", "1000.5</memory>")).unwrap_err();
        assert_eq!(e.code, ErrorCode::XmlError);
        let e = parse(&VM.replace("unit='MiB'>1024", "unit='KiB'>1000")).unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigUnsupported);
    }

    #[test]
    fn uuids() {
        assert!(parse_uuid("6695eb01f6a4830479aa97f2502e193f").is_some());
        assert!(parse_uuid("{6695eb01-f6a4-8304-79aa-97f2502e193f}").is_some());
        assert!(parse_uuid("6695eb01-f6a4").is_none());
        assert!(parse_uuid("zz95eb01f6a4830479aa97f2502e193f").is_none());
    }
}

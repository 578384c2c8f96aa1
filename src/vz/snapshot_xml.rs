//! The `<domainsnapshot>` document: what a client sends to create a
//! snapshot, read as libvirt's `snapshot_conf.c` reads it (its errors,
//! codes and domains included), and what the vz driver shows for one.
//!
//! Every input is walked as a stream of events — nothing is built that is
//! as deep as the document, nothing recurses — so no document, however
//! large, deep or broken, can panic the parser or exhaust a stack.

use super::host::xml_escape;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Where a snapshot keeps a piece of state (`virDomainSnapshotLocation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// `no`: not kept.
    No,
    /// `internal`: inside the guest's own images.
    Internal,
    /// `external`: in a file of its own.
    External,
    /// `manual`: left to the user.
    Manual,
}

impl Location {
    /// libvirt's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::No => "no",
            Location::Internal => "internal",
            Location::External => "external",
            Location::Manual => "manual",
        }
    }

    fn parse(s: &str) -> Option<Location> {
        [
            Location::No,
            Location::Internal,
            Location::External,
            Location::Manual,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

/// A snapshot's domain state (`virDomainSnapshotState`, as far as the vz
/// driver produces it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotState {
    /// The SDK named a state libvirt does not know.
    NoState,
    /// Taken while running.
    Running,
    /// Taken while paused.
    Paused,
    /// Taken while stopped or suspended.
    Shutoff,
}

impl SnapshotState {
    /// The `<state>` text, none for NoState (libvirt leaves it out).
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            SnapshotState::NoState => None,
            SnapshotState::Running => Some("running"),
            SnapshotState::Paused => Some("paused"),
            SnapshotState::Shutoff => Some("shutoff"),
        }
    }
}

/// One `<disk>` of a request's `<disks>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskRequest {
    /// The disk's target or path.
    pub name: String,
    /// Its `snapshot` attribute.
    pub snapshot: Option<Location>,
}

/// What a client asked for in `virDomainSnapshotCreateXML`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotRequest {
    /// `<name>` (the vz driver ignores it: the SDK names snapshots).
    pub name: Option<String>,
    /// `<description>`.
    pub description: Option<String>,
    /// `<memory snapshot=...>`, or the location a `file` implies.
    pub memory: Option<Location>,
    /// `<memory file=...>`.
    pub memory_file: Option<String>,
    /// `<disks>`.
    pub disks: Vec<DiskRequest>,
}

/// A snapshot as the driver shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotDef {
    /// Its name (the SDK's GUID).
    pub name: String,
    /// Its parent's name; none for a root.
    pub parent: Option<String>,
    /// Free text, none when empty.
    pub description: Option<String>,
    /// The domain's state when it was taken.
    pub state: SnapshotState,
    /// Seconds since the epoch; 0 when unknown (and not shown).
    pub creation_time: i64,
    /// Whether memory was kept (running or paused snapshots).
    pub memory: Location,
}

/// One step of a document walk.
pub(crate) enum Node<'a> {
    /// An element opens (an empty element opens and closes at once).
    Open {
        /// Its name.
        name: &'a str,
        /// Its attributes, unescaped.
        attrs: &'a [(String, String)],
    },
    /// Character data (text, references and CDATA, resolved).
    Text(&'a str),
    /// The innermost open element closes.
    Close,
}

/// Walks a whole document, checking it is well-formed XML as libxml2
/// would, and hands each step to `visit`; returns the root element's name.
/// `url` names the document in errors ("(domain_snapshot)") and `domain`
/// is the error domain they carry (XML_DETAIL, as libvirt reports them).
pub(crate) fn walk(
    xml: &str,
    url: &str,
    domain: ErrorDomain,
    mut visit: impl FnMut(Node),
) -> VirResult<String> {
    let mut reader = Reader::from_str(xml);
    let mut open: Vec<String> = Vec::new();
    let mut root: Option<String> = None;
    let mut attrs: Vec<(String, String)> = Vec::new();
    let fail = |at: u64, msg: &dyn std::fmt::Display| {
        let upto = usize::try_from(at).unwrap_or(usize::MAX).min(xml.len());
        let line = xml.as_bytes()[..upto]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        VirError::new(ErrorCode::XmlDetail, domain, format!("{url}:{line}: {msg}"))
    };
    loop {
        let at = reader.buffer_position();
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => return Err(fail(at, &e)),
        };
        match ev {
            Event::Start(ref s) | Event::Empty(ref s) => {
                if open.is_empty() && root.is_some() {
                    return Err(fail(at, &"Extra content at the end of the document"));
                }
                let name = element_name(s).map_err(|e| fail(at, &e))?;
                attrs.clear();
                for a in s.attributes() {
                    let a = a.map_err(|e| fail(at, &e))?;
                    let key = std::str::from_utf8(a.key.as_ref())
                        .map_err(|e| fail(at, &e))?
                        .to_string();
                    let value = a.unescape_value().map_err(|e| fail(at, &e))?;
                    check_chars(&value).map_err(|m| fail(at, &m))?;
                    attrs.push((key, value.into_owned()));
                }
                visit(Node::Open {
                    name: &name,
                    attrs: &attrs,
                });
                if open.is_empty() {
                    root = Some(name.clone());
                }
                if matches!(ev, Event::Empty(_)) {
                    visit(Node::Close);
                } else {
                    open.push(name);
                }
            }
            Event::End(_) => {
                // quick-xml has matched the name against the open element.
                if open.pop().is_none() {
                    return Err(fail(at, &"Start tag expected, '<' not found"));
                }
                visit(Node::Close);
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| fail(at, &e))?;
                check_chars(&text).map_err(|m| fail(at, &m))?;
                if open.is_empty() {
                    if !text.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
                        return Err(fail(
                            at,
                            if root.is_some() {
                                &"Extra content at the end of the document"
                            } else {
                                &"Start tag expected, '<' not found"
                            },
                        ));
                    }
                } else {
                    visit(Node::Text(&text));
                }
            }
            Event::CData(t) => {
                if open.is_empty() {
                    return Err(fail(at, &"Start tag expected, '<' not found"));
                }
                let text = t.decode().map_err(|e| fail(at, &e))?;
                check_chars(&text).map_err(|m| fail(at, &m))?;
                visit(Node::Text(&text));
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| fail(at, &e))?;
                let c = match name.as_ref() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "apos" => '\'',
                    "quot" => '"',
                    _ => match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => c,
                        Ok(Some(c)) => {
                            return Err(fail(
                                at,
                                &format!("xmlParseCharRef: invalid xmlChar value {}", c as u32),
                            ))
                        }
                        Ok(None) => return Err(fail(at, &format!("Entity '{name}' not defined"))),
                        Err(e) => return Err(fail(at, &e)),
                    },
                };
                if open.is_empty() {
                    return Err(fail(at, &"Start tag expected, '<' not found"));
                }
                let mut buf = [0u8; 4];
                visit(Node::Text(c.encode_utf8(&mut buf)));
            }
            Event::Eof => break,
            // Declarations, comments, processing instructions, DOCTYPE.
            _ => {}
        }
    }
    if let Some(tag) = open.last() {
        return Err(fail(
            reader.buffer_position(),
            &format!("Premature end of data in tag {tag}"),
        ));
    }
    root.ok_or_else(|| {
        fail(
            reader.buffer_position(),
            &"Start tag expected, '<' not found",
        )
    })
}

fn element_name(s: &BytesStart) -> Result<String, std::str::Utf8Error> {
    std::str::from_utf8(s.name().as_ref()).map(str::to_string)
}

/// The `Char` production of XML 1.0.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn check_chars(s: &str) -> Result<(), String> {
    match s.chars().find(|c| !is_xml_char(*c)) {
        Some(c) => Err(format!("PCDATA invalid Char value {}", c as u32)),
        None => Ok(()),
    }
}

/// The path of libvirt's snapshot schema, named by schema errors.
const SCHEMA: &str = "/usr/share/libvirt/schemas/domainsnapshot.rng";

/// Top-level elements the snapshot schema allows.
const SCHEMA_ELEMENTS: &[&str] = &[
    "name",
    "description",
    "state",
    "creationTime",
    "memory",
    "disks",
    "active",
    "domain",
    "inactiveDomain",
    "parent",
    "cookie",
];

/// State names the schema allows in `<state>`.
const SCHEMA_STATES: &[&str] = &[
    "running",
    "blocked",
    "paused",
    "shutdown",
    "shutoff",
    "crashed",
    "disk-snapshot",
];

/// Storage types `<disk type=...>` may name (`virStorageType`, none aside).
const STORAGE_TYPES: &[&str] = &[
    "file",
    "block",
    "dir",
    "network",
    "volume",
    "nvme",
    "vhostuser",
    "vdpa",
];

/// Image formats `<driver type=...>` may name (`virStorageFileFormat`,
/// none aside).
const IMAGE_FORMATS: &[&str] = &[
    "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "cow",
    "qcow", "qcow2", "qed", "vmdk", "luks", "fd",
];

fn error(code: ErrorCode, domain: ErrorDomain, detail: impl Into<String>) -> VirError {
    VirError::new(code, domain, detail)
}

fn invalid_attr(attr: &str, element: &str, value: &str) -> VirError {
    error(
        ErrorCode::XmlError,
        ErrorDomain::Xml,
        format!("Invalid value for attribute '{attr}' in element '{element}': '{value}'."),
    )
}

fn schema_error(details: &str) -> VirError {
    error(
        ErrorCode::XmlInvalidSchema,
        ErrorDomain::Xml,
        format!("Unable to validate doc against {SCHEMA}\n{details}\n"),
    )
}

/// A `<disk>` element as read, before its checks.
#[derive(Default)]
struct RawDisk {
    name: Option<String>,
    snapshot: Option<String>,
    kind: Option<String>,
    source: Option<String>,
    driver: Option<String>,
    seen_source: bool,
    seen_driver: bool,
}

/// What the walk gathers from a `<domainsnapshot>`.
#[derive(Default)]
struct Gathered {
    name: Option<String>,
    description: Option<String>,
    state: Option<String>,
    active: Option<String>,
    memory: Option<(Option<String>, Option<String>)>,
    disks: Vec<RawDisk>,
    /// The first top-level element the schema does not allow.
    extra: Option<String>,
}

/// Which text the walk is collecting, and from what depth down.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Description,
    State,
    Active,
}

/// Parses a snapshot request as libvirt does without VALIDATE.
pub fn parse(xml: &str) -> VirResult<SnapshotRequest> {
    parse_doc(xml, false)
}

/// Parses a snapshot request with VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE:
/// the schema's rules first (VIR_ERR_XML_INVALID_SCHEMA).
pub fn parse_validated(xml: &str) -> VirResult<SnapshotRequest> {
    parse_doc(xml, true)
}

fn parse_doc(xml: &str, validate: bool) -> VirResult<SnapshotRequest> {
    let g = gather(xml)?;
    let semantic = interpret(&g);
    if validate {
        if let Some(extra) = &g.extra {
            return Err(schema_error(&format!(
                "Element domainsnapshot has extra content: {extra}"
            )));
        }
        let bad_text =
            |v: &Option<String>, ok: &[&str]| v.as_deref().is_some_and(|s| !ok.contains(&s.trim()));
        let culprit = if bad_text(&g.state, SCHEMA_STATES) {
            Some("state")
        } else if bad_text(&g.active, &["0", "1"]) {
            Some("active")
        } else {
            // What the semantic checks refuse, the schema refuses first.
            match &semantic {
                Err(_) if g.memory.is_some() && interpret_memory(&g).is_err() => Some("memory"),
                Err(_) => Some("disks"),
                Ok(_) => None,
            }
        };
        if let Some(el) = culprit {
            return Err(schema_error(&format!(
                "Extra element {el} in interleave\nElement domainsnapshot failed to validate content"
            )));
        }
    }
    semantic
}

fn gather(xml: &str) -> VirResult<Gathered> {
    let mut g = Gathered::default();
    let mut depth = 0usize;
    // (field, depth of its element): text below it is collected.
    let mut capture: Option<(Field, usize)> = None;
    let mut in_disks: Option<usize> = None;
    let mut in_disk: Option<usize> = None;
    let mut seen_memory = false;
    let root = walk(
        xml,
        "(domain_snapshot)",
        ErrorDomain::DomainSnapshot,
        |node| match node {
            Node::Open { name, attrs } => {
                depth += 1;
                let attr = |k: &str| attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
                match depth {
                    2 => {
                        let field = match name {
                            "name" if g.name.is_none() => Some(Field::Name),
                            "description" if g.description.is_none() => Some(Field::Description),
                            "state" if g.state.is_none() => Some(Field::State),
                            "active" if g.active.is_none() => Some(Field::Active),
                            _ => None,
                        };
                        if let Some(f) = field {
                            let slot = match f {
                                Field::Name => &mut g.name,
                                Field::Description => &mut g.description,
                                Field::State => &mut g.state,
                                Field::Active => &mut g.active,
                            };
                            *slot = Some(String::new());
                            capture = Some((f, depth));
                        }
                        if name == "memory" && !seen_memory {
                            seen_memory = true;
                            g.memory = Some((attr("snapshot"), attr("file")));
                        }
                        if name == "disks" {
                            in_disks = Some(depth);
                        }
                        if g.extra.is_none() && !SCHEMA_ELEMENTS.contains(&name) {
                            g.extra = Some(name.to_string());
                        }
                    }
                    3 if in_disks.is_some() => {
                        g.disks.push(RawDisk {
                            name: attr("name"),
                            snapshot: attr("snapshot"),
                            kind: attr("type"),
                            ..RawDisk::default()
                        });
                        in_disk = Some(depth);
                    }
                    4 if in_disk.is_some() => {
                        if let Some(d) = g.disks.last_mut() {
                            if name == "source" && !d.seen_source {
                                d.seen_source = true;
                                d.source = attr("file").or_else(|| attr("dev"));
                            }
                            if name == "driver" && !d.seen_driver {
                                d.seen_driver = true;
                                d.driver = attr("type");
                            }
                        }
                    }
                    _ => {}
                }
            }
            Node::Text(t) => {
                if let Some((f, _)) = capture {
                    let slot = match f {
                        Field::Name => &mut g.name,
                        Field::Description => &mut g.description,
                        Field::State => &mut g.state,
                        Field::Active => &mut g.active,
                    };
                    if let Some(s) = slot {
                        s.push_str(t);
                    }
                }
            }
            Node::Close => {
                if capture.is_some_and(|(_, d)| d == depth) {
                    capture = None;
                }
                if in_disks == Some(depth) {
                    in_disks = None;
                }
                if in_disk == Some(depth) {
                    in_disk = None;
                }
                depth = depth.saturating_sub(1);
            }
        },
    )?;
    if root != "domainsnapshot" {
        return Err(error(
            ErrorCode::XmlError,
            ErrorDomain::Xml,
            format!("expecting root element of 'domainsnapshot', not '{root}'"),
        ));
    }
    Ok(g)
}

/// libvirt reads an empty element's string as no value at all.
fn nonempty(s: &Option<String>) -> Option<String> {
    s.clone().filter(|s| !s.is_empty())
}

fn interpret_memory(g: &Gathered) -> VirResult<(Option<Location>, Option<String>)> {
    let Some((snapshot, file)) = &g.memory else {
        return Ok((None, None));
    };
    let xml_error =
        |detail: String| error(ErrorCode::XmlError, ErrorDomain::DomainSnapshot, detail);
    let mut loc = match snapshot {
        None => None,
        Some(s) => Some(Location::parse(s).ok_or_else(|| invalid_attr("snapshot", "memory", s))?),
    };
    if loc == Some(Location::Manual) {
        return Err(xml_error(
            "'manual' memory snapshot mode not supported".to_string(),
        ));
    }
    if loc.is_none() && file.is_some() {
        loc = Some(Location::External);
    }
    match (file, loc) {
        (Some(f), Some(l)) if l != Location::External => Err(xml_error(format!(
            "memory filename '{f}' requires external snapshot"
        ))),
        (None, Some(Location::External)) => Err(xml_error(
            "external memory snapshots require a filename".to_string(),
        )),
        (Some(f), _) if !f.starts_with('/') => Err(xml_error(format!(
            "memory snapshot file path ({f}) must be absolute"
        ))),
        _ => Ok((loc, file.clone())),
    }
}

fn interpret(g: &Gathered) -> VirResult<SnapshotRequest> {
    let (memory, memory_file) = interpret_memory(g)?;
    let mut disks = Vec::with_capacity(g.disks.len());
    for d in &g.disks {
        let name = d.name.clone().ok_or_else(|| {
            error(
                ErrorCode::InternalError,
                ErrorDomain::DomainSnapshot,
                "missing name from disk snapshot element",
            )
        })?;
        let snapshot = match &d.snapshot {
            None => None,
            Some(s) => Some(Location::parse(s).ok_or_else(|| invalid_attr("snapshot", "disk", s))?),
        };
        let kind = d.kind.as_deref().unwrap_or("file");
        if !STORAGE_TYPES.contains(&kind) {
            return Err(invalid_attr("type", "disk", kind));
        }
        if kind == "dir" || kind == "volume" {
            return Err(error(
                ErrorCode::XmlError,
                ErrorDomain::DomainSnapshot,
                format!("unsupported disk snapshot type '{kind}'"),
            ));
        }
        if let Some(drv) = &d.driver {
            if !IMAGE_FORMATS.contains(&drv.as_str()) {
                return Err(error(
                    ErrorCode::ConfigUnsupported,
                    ErrorDomain::DomainSnapshot,
                    format!("unknown disk snapshot driver '{drv}'"),
                ));
            }
        }
        if let Some(src) = d.source.as_deref().filter(|s| !s.is_empty()) {
            if !src.starts_with('/') {
                return Err(error(
                    ErrorCode::XmlError,
                    ErrorDomain::DomainSnapshot,
                    format!("disk snapshot image path '{src}' must be absolute"),
                ));
            }
        }
        disks.push(DiskRequest { name, snapshot });
    }
    Ok(SnapshotRequest {
        name: nonempty(&g.name),
        description: nonempty(&g.description),
        memory,
        memory_file,
        disks,
    })
}

/// The `<domainsnapshot>` of a snapshot of the domain `domain_uuid`, as
/// libvirt's vz driver formats it (no domain definition inside: only the
/// domain's UUID).
pub fn format(s: &SnapshotDef, domain_uuid: &str) -> String {
    let mut x = String::from("<domainsnapshot>\n");
    x.push_str(&format!("  <name>{}</name>\n", xml_escape(&s.name)));
    if let Some(d) = &s.description {
        x.push_str(&format!("  <description>{}</description>\n", xml_escape(d)));
    }
    if let Some(st) = s.state.as_str() {
        x.push_str(&format!("  <state>{st}</state>\n"));
    }
    if let Some(p) = &s.parent {
        x.push_str(&format!(
            "  <parent>\n    <name>{}</name>\n  </parent>\n",
            xml_escape(p)
        ));
    }
    if s.creation_time != 0 {
        x.push_str(&format!(
            "  <creationTime>{}</creationTime>\n",
            s.creation_time
        ));
    }
    x.push_str(&format!("  <memory snapshot='{}'/>\n", s.memory.as_str()));
    x.push_str(&format!(
        "  <domain>\n    <uuid>{}</uuid>\n  </domain>\n",
        xml_escape(domain_uuid)
    ));
    x.push_str("</domainsnapshot>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (code, domain, message) of a refused document.
    fn refused(xml: &str, validate: bool) -> (i32, i32, String) {
        let e = if validate {
            parse_validated(xml)
        } else {
            parse(xml)
        }
        .expect_err(xml);
        (e.code as i32, e.domain as i32, e.message)
    }

    // Expected values are what libvirt 9.0's own parser answers (its test
    // driver, test:///default, run by python3-libvirt on the same XML).
    #[test]
    fn malformed_documents_get_libxml2_style_errors() {
        let cases = [
            (
                "<domainsnapshot>",
                "(domain_snapshot):1: Premature end of data in tag domainsnapshot",
            ),
            (
                "junk",
                "(domain_snapshot):1: Start tag expected, '<' not found",
            ),
            ("", "(domain_snapshot):1: Start tag expected, '<' not found"),
            (
                "<domainsnapshot/><x/>",
                "(domain_snapshot):1: Extra content at the end of the document",
            ),
            (
                "<domainsnapshot>&foo;</domainsnapshot>",
                "(domain_snapshot):1: Entity 'foo' not defined",
            ),
            (
                "<domainsnapshot>&#1;</domainsnapshot>",
                "(domain_snapshot):1: xmlParseCharRef: invalid xmlChar value 1",
            ),
        ];
        for (xml, want) in cases {
            assert_eq!(refused(xml, false), (35, 35, want.to_string()), "{xml}");
        }
        assert_eq!(
            refused("<a>\n<b>\n</a>", false).0,
            35,
            "a mismatched end tag is malformed"
        );
        assert_eq!(
            refused("<foo/>", false),
            (
                27,
                5,
                "XML error: expecting root element of 'domainsnapshot', not 'foo'".into()
            )
        );
    }

    #[test]
    fn memory_and_disks_are_checked_as_libvirt_checks_them() {
        let doc = |inner: &str| format!("<domainsnapshot>{inner}</domainsnapshot>");
        let cases = [
            (
                "<memory snapshot='bogus'/>",
                27,
                5,
                "XML error: Invalid value for attribute 'snapshot' in element 'memory': 'bogus'.",
            ),
            (
                "<memory snapshot='default'/>",
                27,
                5,
                "XML error: Invalid value for attribute 'snapshot' in element 'memory': 'default'.",
            ),
            (
                "<memory snapshot='manual'/>",
                27,
                35,
                "XML error: 'manual' memory snapshot mode not supported",
            ),
            (
                "<memory snapshot='external'/>",
                27,
                35,
                "XML error: external memory snapshots require a filename",
            ),
            (
                "<memory file='rel'/>",
                27,
                35,
                "XML error: memory snapshot file path (rel) must be absolute",
            ),
            (
                "<memory snapshot='internal' file='/x'/>",
                27,
                35,
                "XML error: memory filename '/x' requires external snapshot",
            ),
            (
                "<disks><disk/></disks>",
                1,
                35,
                "internal error: missing name from disk snapshot element",
            ),
            (
                "<disks><foo/></disks>",
                1,
                35,
                "internal error: missing name from disk snapshot element",
            ),
            (
                "<disks><disk name='vda' snapshot='bogus'/></disks>",
                27,
                5,
                "XML error: Invalid value for attribute 'snapshot' in element 'disk': 'bogus'.",
            ),
            (
                "<disks><disk name='vda' type='none'/></disks>",
                27,
                5,
                "XML error: Invalid value for attribute 'type' in element 'disk': 'none'.",
            ),
            (
                "<disks><disk name='vda' type='dir'/></disks>",
                27,
                35,
                "XML error: unsupported disk snapshot type 'dir'",
            ),
            (
                "<disks><disk name='vda'><source file='rel'/></disk></disks>",
                27,
                35,
                "XML error: disk snapshot image path 'rel' must be absolute",
            ),
            (
                "<disks><disk name='vda'><driver type='bogus'/></disk></disks>",
                67,
                35,
                "unsupported configuration: unknown disk snapshot driver 'bogus'",
            ),
        ];
        for (inner, code, domain, want) in cases {
            assert_eq!(
                refused(&doc(inner), false),
                (code, domain, want.to_string()),
                "{inner}"
            );
        }
        let ok = parse(&doc(
            "<memory snapshot='no'/><disks><disk name='sda' snapshot='internal'/></disks><bogus/>",
        ))
        .unwrap();
        assert_eq!(ok.memory, Some(Location::No));
        assert_eq!(
            ok.disks,
            vec![DiskRequest {
                name: "sda".into(),
                snapshot: Some(Location::Internal)
            }]
        );
        assert!(parse(&doc("<disks/>")).unwrap().disks.is_empty());
        assert_eq!(
            parse(&doc("<memory file='/m'/>")).unwrap().memory,
            Some(Location::External)
        );
    }

    #[test]
    fn validation_refuses_what_the_schema_refuses() {
        let doc = |inner: &str| format!("<domainsnapshot>{inner}</domainsnapshot>");
        let head = "XML document failed to validate against schema: Unable to validate doc against /usr/share/libvirt/schemas/domainsnapshot.rng\n";
        assert_eq!(
            refused(&doc("<bogus/>"), true),
            (
                92,
                5,
                format!("{head}Element domainsnapshot has extra content: bogus\n")
            )
        );
        for (inner, el) in [
            ("<disks><disk/></disks>", "disks"),
            ("<memory snapshot='bogus'/>", "memory"),
            ("<state>frozen</state>", "state"),
        ] {
            assert_eq!(
                refused(&doc(inner), true),
                (92, 5, format!("{head}Extra element {el} in interleave\nElement domainsnapshot failed to validate content\n")),
                "{inner}"
            );
        }
        assert_eq!(
            refused("<foo/>", true).0,
            27,
            "the root is checked before the schema"
        );
        assert!(parse_validated(&doc("<name>n</name><memory snapshot='no'/>")).is_ok());
    }

    #[test]
    fn names_and_descriptions_keep_their_text() {
        let r = parse(
            "<?xml version='1.0'?>\n<!-- c --><domainsnapshot>\n  <name>n&amp;m</name>\n  <description>a &lt;b&gt; <![CDATA[<c>]]> &#x263A;</description>\n</domainsnapshot>\n",
        )
        .unwrap();
        assert_eq!(r.name.as_deref(), Some("n&m"));
        assert_eq!(r.description.as_deref(), Some("a <b> <c> \u{263A}"));
        let r =
            parse("<domainsnapshot><name/><description></description></domainsnapshot>").unwrap();
        assert_eq!((r.name, r.description), (None, None), "empty is none");
    }

    #[test]
    fn format_is_libvirts_layout() {
        let s = SnapshotDef {
            name: "{0d2f}".into(),
            parent: Some("{p}".into()),
            description: Some("a <b> \"c\" 'd'".into()),
            state: SnapshotState::Running,
            creation_time: 1_709_208_000,
            memory: Location::Internal,
        };
        assert_eq!(
            format(&s, "6695eb01-f6a4-8304-79aa-97f2502e193f"),
            "<domainsnapshot>
  <name>{0d2f}</name>
  <description>a &lt;b&gt; &quot;c&quot; &apos;d&apos;</description>
  <state>running</state>
  <parent>
    <name>{p}</name>
  </parent>
  <creationTime>1709208000</creationTime>
  <memory snapshot='internal'/>
  <domain>
    <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  </domain>
</domainsnapshot>
"
        );
        let root = SnapshotDef {
            parent: None,
            description: None,
            state: SnapshotState::NoState,
            creation_time: 0,
            memory: Location::No,
            ..s
        };
        let x = format(&root, "u");
        assert!(!x.contains("<parent>") && !x.contains("<state>") && !x.contains("<creationTime>"));
        assert!(x.contains("<memory snapshot='no'/>"));
    }

    #[test]
    fn no_input_panics_or_recurses() {
        let sample = "<?xml version='1.0'?><domainsnapshot a='1'><name>x&amp;y</name><description><![CDATA[d]]></description><memory snapshot='internal' file='/f'/><disks><disk name='vda' type='file'><source file='/a'/><driver type='qcow2'/></disk></disks></domainsnapshot>";
        // Every prefix, and every single-byte corruption of it.
        for end in 0..=sample.len() {
            if let Some(p) = sample.get(..end) {
                let _ = parse(p);
                let _ = parse_validated(p);
            }
        }
        for i in 0..sample.len() {
            for b in [b'<', b'>', b'&', b'\'', b'/', 0u8, 0xff] {
                let mut v = sample.as_bytes().to_vec();
                v[i] = b;
                let s = String::from_utf8_lossy(&v);
                let _ = parse(&s);
            }
        }
        let deep = format!(
            "<domainsnapshot>{}{}</domainsnapshot>",
            "<a>".repeat(200_000),
            "</a>".repeat(200_000)
        );
        assert!(parse(&deep).is_ok());
        assert!(parse(&"<a>".repeat(200_000)).is_err());
    }
}

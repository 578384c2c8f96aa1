//! Snapshots: the SDK's snapshot tree of a guest, read afresh on every
//! call as libvirt's vz driver reads it, with libvirt's list filters,
//! lookups and errors; create, revert and delete go to the SDK.
//!
//! The tree comes from `PrlVm_GetSnapshotsTreeEx` as Virtuozzo's snapshot
//! store writes it: root `ParallelsSavedStates`, a nameless head
//! `SavedStateItem`, and below it one `SavedStateItem` per snapshot,
//! nested under its parent, with attributes `guid` (the snapshot's name),
//! `state` (poweron, pause, suspend, poweroff) and `current="yes"`, and
//! elements `DateTime` ("YYYY-MM-DD HH:MM:SS", UTC) and `Description`.

use super::domain_xml::format_uuid;
use super::domains::{sdk_error, Domain};
use super::snapshot_xml::{self, walk, Location, Node, SnapshotDef, SnapshotState};
use super::Driver;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};

/// `virDomainSnapshot*Flags` values the driver looks at.
pub mod flags {
    /// CREATE_VALIDATE: check the XML against the schema.
    pub const CREATE_VALIDATE: u32 = 512;
    /// LIST_ROOTS (from a domain) / LIST_DESCENDANTS (from a snapshot).
    pub const LIST_ROOTS: u32 = 1;
    /// LIST_DESCENDANTS: every descendant, not only the children.
    pub const LIST_DESCENDANTS: u32 = 1;
    /// LIST_METADATA
    pub const LIST_METADATA: u32 = 2;
    /// LIST_LEAVES
    pub const LIST_LEAVES: u32 = 4;
    /// LIST_NO_LEAVES
    pub const LIST_NO_LEAVES: u32 = 8;
    /// LIST_NO_METADATA
    pub const LIST_NO_METADATA: u32 = 16;
    /// LIST_INACTIVE
    pub const LIST_INACTIVE: u32 = 32;
    /// LIST_ACTIVE
    pub const LIST_ACTIVE: u32 = 64;
    /// LIST_DISK_ONLY
    pub const LIST_DISK_ONLY: u32 = 128;
    /// LIST_INTERNAL
    pub const LIST_INTERNAL: u32 = 256;
    /// LIST_EXTERNAL
    pub const LIST_EXTERNAL: u32 = 512;
    /// LIST_TOPOLOGICAL: parents before children (always so here).
    pub const LIST_TOPOLOGICAL: u32 = 1024;
    /// Every filter bit (libvirt's FILTERS_ALL) plus TOPOLOGICAL.
    pub const LIST_FILTERS: u32 = LIST_METADATA
        | LIST_NO_METADATA
        | LIST_LEAVES
        | LIST_NO_LEAVES
        | LIST_INACTIVE
        | LIST_ACTIVE
        | LIST_DISK_ONLY
        | LIST_INTERNAL
        | LIST_EXTERNAL
        | LIST_TOPOLOGICAL;
    /// XML_SECURE
    pub const XML_SECURE: u32 = 1;
    /// REVERT_RUNNING: run the guest after the revert.
    pub const REVERT_RUNNING: u32 = 1;
    /// REVERT_PAUSED: leave it paused (the SDK's PSSF_SKIP_RESUME).
    pub const REVERT_PAUSED: u32 = 2;
    /// DELETE_CHILDREN: the snapshot and every descendant.
    pub const DELETE_CHILDREN: u32 = 1;
}

use flags::*;

/// One snapshot of the tree.
#[derive(Clone, Debug)]
struct Entry {
    def: SnapshotDef,
    children: Vec<usize>,
}

/// A guest's snapshots, parents before children.
#[derive(Clone, Debug, Default)]
pub struct SnapshotTree {
    entries: Vec<Entry>,
    current: Option<usize>,
}

fn internal(detail: impl Into<String>) -> VirError {
    VirError::internal(ErrorDomain::Parallels, detail)
}

fn no_snapshot(detail: String) -> VirError {
    VirError::new(ErrorCode::NoDomainSnapshot, ErrorDomain::Parallels, detail)
}

/// A `SavedStateItem` below the head, as read.
#[derive(Default)]
struct Item {
    guid: Option<String>,
    parent: Option<String>,
    state: Option<String>,
    current: bool,
    date: Option<String>,
    description: Option<String>,
}

/// Reads "YYYY-MM-DD HH:MM:SS" (UTC) as libvirt does: each number as
/// strtol reads it, the separators exact; a date the calendar lacks is 0.
fn parse_date_time(s: &str) -> Option<i64> {
    let mut rest = s;
    let mut fields = [0i64; 6];
    for (i, sep) in ['-', '-', ' ', ':', ':', '\0'].into_iter().enumerate() {
        let t = rest.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
        let sign_len = usize::from(t.starts_with(['+', '-']));
        let digits = t[sign_len..].bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let (num, after) = t.split_at(sign_len + digits);
        fields[i] = num.parse::<i32>().ok()?.into();
        rest = match sep {
            '\0' if after.is_empty() => after,
            '\0' => return None,
            c => after.strip_prefix(c)?,
        };
    }
    let [y, mo, d, h, mi, sec] = fields;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    let valid = (1..=9999).contains(&y)
        && (1..=days).contains(&d)
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..60).contains(&sec);
    // GLib refuses such a date and libvirt then records time 0.
    Some(if valid {
        crate::civil_time::unix(y, mo as u32, d as u32, h as u32, mi as u32, sec as u32)
    } else {
        0
    })
}

impl SnapshotTree {
    /// Reads the SDK's tree document (empty: no snapshots), with the
    /// errors libvirt's vz driver gives for a tree it cannot use.
    pub fn parse(xml: &str) -> VirResult<SnapshotTree> {
        if xml.is_empty() {
            return Ok(SnapshotTree::default());
        }
        struct Frame {
            guid: Option<String>,
            item: Option<usize>,
        }
        #[derive(Clone, Copy)]
        enum Field {
            Date,
            Description,
        }
        let mut frames: Vec<Frame> = Vec::new();
        let mut items: Vec<Item> = Vec::new();
        let mut capture: Option<(usize, Field, usize)> = None;
        let root = walk(xml, "(snapshot_tree)", ErrorDomain::Parallels, |node| {
            match node {
                Node::Open { name, attrs } => {
                    let attr = |k: &str| {
                        attrs
                            .iter()
                            .find(|(a, _)| a == k)
                            .map(|(_, v)| v.clone())
                            .filter(|v| !v.is_empty())
                    };
                    let enclosing = frames.last();
                    let mut item = None;
                    if let Some(up) = enclosing {
                        if name == "SavedStateItem" && frames.len() >= 2 {
                            // Below the head: a snapshot, its parent the
                            // element around it.
                            items.push(Item {
                                guid: attr("guid"),
                                parent: up.guid.clone(),
                                state: attr("state"),
                                current: attr("current").as_deref() == Some("yes"),
                                ..Item::default()
                            });
                            item = Some(items.len() - 1);
                        } else if let Some(i) = up.item {
                            let field = match name {
                                "DateTime" if items[i].date.is_none() => Some(Field::Date),
                                "Description" if items[i].description.is_none() => {
                                    Some(Field::Description)
                                }
                                _ => None,
                            };
                            if let Some(f) = field {
                                match f {
                                    Field::Date => items[i].date = Some(String::new()),
                                    Field::Description => {
                                        items[i].description = Some(String::new())
                                    }
                                }
                                capture = Some((i, f, frames.len() + 1));
                            }
                        }
                    }
                    frames.push(Frame {
                        guid: attr("guid"),
                        item,
                    });
                }
                Node::Text(t) => {
                    if let Some((i, f, _)) = capture {
                        let slot = match f {
                            Field::Date => &mut items[i].date,
                            Field::Description => &mut items[i].description,
                        };
                        if let Some(s) = slot {
                            s.push_str(t);
                        }
                    }
                }
                Node::Close => {
                    if capture.is_some_and(|(_, _, depth)| depth == frames.len()) {
                        capture = None;
                    }
                    frames.pop();
                }
            }
        })?;
        if root != "ParallelsSavedStates" {
            return Err(VirError::new(
                ErrorCode::XmlError,
                ErrorDomain::Xml,
                format!("expecting root element of 'ParallelsSavedStates', not '{root}'"),
            ));
        }
        let mut tree = SnapshotTree::default();
        let mut by_name = std::collections::HashMap::new();
        for it in items {
            let name = it
                .guid
                .ok_or_else(|| internal("missing 'guid' attribute"))?;
            let date = it
                .date
                .filter(|d| !d.is_empty())
                .ok_or_else(|| internal("missing 'DateTime' element"))?;
            let creation_time = parse_date_time(&date)
                .ok_or_else(|| internal(format!("unexpected DateTime format: '{date}'")))?;
            let state = it
                .state
                .ok_or_else(|| internal("missing 'state' attribute"))?;
            let (state, memory) = match state.as_str() {
                "poweron" => (SnapshotState::Running, Location::Internal),
                "pause" => (SnapshotState::Paused, Location::Internal),
                "suspend" | "poweroff" => (SnapshotState::Shutoff, Location::No),
                other => {
                    // libvirt reports this and carries on with no state.
                    log::warn!("snapshot {name}: unexpected snapshot state: {other}");
                    (SnapshotState::NoState, Location::No)
                }
            };
            if by_name.contains_key(&name) {
                return Err(VirError::new(
                    ErrorCode::OperationFailed,
                    ErrorDomain::Domain,
                    format!("domain moment {name} already exists"),
                ));
            }
            let index = tree.entries.len();
            if it.current {
                if tree.current.is_some() {
                    return Err(internal("too many current snapshots"));
                }
                tree.current = Some(index);
            }
            by_name.insert(name.clone(), index);
            tree.entries.push(Entry {
                def: SnapshotDef {
                    name,
                    parent: it.parent,
                    description: it.description.filter(|d| !d.is_empty()),
                    state,
                    creation_time,
                    memory,
                },
                children: Vec::new(),
            });
        }
        for i in 0..tree.entries.len() {
            if let Some(p) = &tree.entries[i].def.parent {
                let p = *by_name
                    .get(p)
                    .ok_or_else(|| internal("snapshots have inconsistent relations"))?;
                tree.entries[p].children.push(i);
            }
        }
        // Parents come from the nesting, but the head's guid may name a
        // snapshot nested below it: that parent chain loops, and every walk
        // down the children would never end. libvirt finds such a chain
        // and refuses the tree as it refuses a missing parent.
        let mut reached = vec![false; tree.entries.len()];
        let mut todo: Vec<usize> = (0..tree.entries.len())
            .filter(|&i| tree.entries[i].def.parent.is_none())
            .collect();
        while let Some(i) = todo.pop() {
            if !std::mem::replace(&mut reached[i], true) {
                todo.extend(&tree.entries[i].children);
            }
        }
        if reached.contains(&false) {
            return Err(internal("snapshots have inconsistent relations"));
        }
        Ok(tree)
    }

    /// How many snapshots there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No snapshots at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn index(&self, name: &str) -> VirResult<usize> {
        self.entries
            .iter()
            .position(|e| e.def.name == name)
            .ok_or_else(|| no_snapshot(format!("no domain snapshot with matching name '{name}'")))
    }

    /// The snapshot with this name (VIR_ERR_NO_DOMAIN_SNAPSHOT if none).
    pub fn get(&self, name: &str) -> VirResult<&SnapshotDef> {
        Ok(&self.entries[self.index(name)?].def)
    }

    /// The current snapshot, if any.
    pub fn current(&self) -> Option<&SnapshotDef> {
        self.current.map(|i| &self.entries[i].def)
    }

    /// Names of the snapshots a list call selects, with libvirt's rules:
    /// from the domain (`from` none), all or (ROOTS) the roots; from a
    /// snapshot, its children or (DESCENDANTS) all below it; then the
    /// filters, each group passing everything when none or all of its bits
    /// are set — except LEAVES with NO_LEAVES, which (as in libvirt)
    /// passes nothing.
    pub fn select(&self, from: Option<&str>, flags: u32) -> VirResult<Vec<String>> {
        let from = from.map(|n| self.index(n)).transpose()?;
        // The one bit means ROOTS from a domain, DESCENDANTS from a snapshot.
        let all_below = match from {
            None => flags & LIST_ROOTS == 0,
            Some(_) => flags & LIST_DESCENDANTS != 0,
        };
        if flags & (LIST_METADATA | LIST_NO_METADATA) == LIST_NO_METADATA {
            // Every snapshot here has metadata.
            return Ok(Vec::new());
        }
        let tops: Vec<usize> = match from {
            None => (0..self.entries.len())
                .filter(|&i| self.entries[i].def.parent.is_none())
                .collect(),
            Some(i) => self.entries[i].children.clone(),
        };
        let mut picked = Vec::new();
        let mut todo: Vec<usize> = tops.into_iter().rev().collect();
        while let Some(i) = todo.pop() {
            picked.push(i);
            if all_below {
                todo.extend(self.entries[i].children.iter().rev());
            }
        }
        let status = flags & (LIST_INACTIVE | LIST_ACTIVE | LIST_DISK_ONLY);
        let status_all = LIST_INACTIVE | LIST_ACTIVE | LIST_DISK_ONLY;
        let location = flags & (LIST_INTERNAL | LIST_EXTERNAL);
        let keep = |e: &Entry| {
            let leaf = e.children.is_empty();
            if (flags & LIST_LEAVES != 0 && !leaf) || (flags & LIST_NO_LEAVES != 0 && leaf) {
                return false;
            }
            if status != 0 && status != status_all {
                let shutoff = e.def.state == SnapshotState::Shutoff;
                if (shutoff && flags & LIST_INACTIVE == 0) || (!shutoff && flags & LIST_ACTIVE == 0)
                {
                    return false;
                }
            }
            // Every vz snapshot is internal.
            location != LIST_EXTERNAL
        };
        Ok(picked
            .into_iter()
            .filter(|&i| keep(&self.entries[i]))
            .map(|i| self.entries[i].def.name.clone())
            .collect())
    }
}

/// A snapshot call's view of one domain: the domain and its tree.
pub struct Snapshots {
    /// The domain.
    pub domain: std::sync::Arc<Domain>,
    /// Its snapshots, as the SDK has them now.
    pub tree: SnapshotTree,
}

impl Snapshots {
    /// The `<domainsnapshot>` of the named snapshot.
    pub fn xml(&self, name: &str) -> VirResult<String> {
        Ok(snapshot_xml::format(
            self.tree.get(name)?,
            &format_uuid(&self.domain.uuid),
        ))
    }

    /// The parent of the named snapshot.
    pub fn parent(&self, name: &str) -> VirResult<String> {
        let s = self.tree.get(name)?;
        s.parent
            .clone()
            .ok_or_else(|| no_snapshot(format!("snapshot '{}' does not have a parent", s.name)))
    }

    /// The current snapshot's name.
    pub fn current(&self) -> VirResult<String> {
        self.tree
            .current()
            .map(|s| s.name.clone())
            .ok_or_else(|| no_snapshot("the domain does not have a current snapshot".to_string()))
    }

    /// Whether `name` is the current snapshot (libvirt answers 0, not an
    /// error, for a name that does not exist).
    pub fn is_current(&self, name: &str) -> bool {
        self.tree.current().is_some_and(|c| c.name == name)
    }
}

impl Driver {
    /// Reads a domain's snapshot tree from the SDK.
    pub fn snapshot_tree(&self, d: &Domain) -> VirResult<SnapshotTree> {
        let xml = d.guest_handle().snapshot_tree().map_err(sdk_error)?;
        SnapshotTree::parse(&xml)
    }

    /// The domain and its snapshots now.
    pub fn snapshots(&self, uuid: &[u8; 16]) -> VirResult<Snapshots> {
        let domain = self.domain_by_uuid(uuid)?;
        let tree = self.snapshot_tree(&domain)?;
        Ok(Snapshots { domain, tree })
    }

    /// virDomainSnapshotCreateXML: a new snapshot, child of the current
    /// one, named by the SDK (the XML's name is ignored, as libvirt's vz
    /// driver ignores it); `<disks>` and a memory location are refused.
    /// Returns the new (current) snapshot's name.
    pub fn snapshot_create(&self, uuid: &[u8; 16], xml: &str, flags: u32) -> VirResult<String> {
        self.domain_by_uuid(uuid)?;
        let req = if flags & CREATE_VALIDATE != 0 {
            snapshot_xml::parse_validated(xml)?
        } else {
            snapshot_xml::parse(xml)?
        };
        let unsupported =
            |m: &str| VirError::new(ErrorCode::ConfigUnsupported, ErrorDomain::Parallels, m);
        if !req.disks.is_empty() {
            return Err(unsupported(
                "configuring disks is not supported for vz snapshots",
            ));
        }
        if req.memory.is_some() {
            return Err(unsupported("configuring memory location is not supported"));
        }
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
        let r = d
            .guest_handle()
            .create_snapshot(req.description.as_deref().unwrap_or(""));
        self.refreshed(uuid, r)?;
        self.snapshot_tree(&d)?
            .current()
            .map(|s| s.name.clone())
            .ok_or_else(|| internal("can't find created snapshot"))
    }

    /// virDomainRevertToSnapshot: the guest's config and state as they
    /// were (paused rather than running with REVERT_PAUSED; running in
    /// the end, started or resumed, with REVERT_RUNNING).
    pub fn snapshot_revert(&self, uuid: &[u8; 16], name: &str, flags: u32) -> VirResult<()> {
        let _job = self.begin_job(uuid)?;
        let d = self.domain_by_uuid(uuid)?;
        self.snapshot_tree(&d)?.get(name)?;
        let g = d.guest_handle();
        let r = g.revert_to_snapshot(name, flags & REVERT_PAUSED != 0);
        self.refreshed(uuid, r)?;
        if flags & REVERT_RUNNING != 0 {
            let now = self.domain_by_uuid(uuid)?;
            let r = match now.state().0 {
                super::domains::state::SHUTOFF => now.guest_handle().start(),
                super::domains::state::PAUSED => now.guest_handle().resume(),
                _ => Ok(()),
            };
            self.refreshed(uuid, r)?;
        }
        Ok(())
    }

    /// virDomainSnapshotDelete: one snapshot (its children move up to its
    /// parent) or, with DELETE_CHILDREN, its whole subtree. Like libvirt's
    /// vz driver it takes no job: the SDK serialises it.
    pub fn snapshot_delete(&self, uuid: &[u8; 16], name: &str, flags: u32) -> VirResult<()> {
        let s = self.snapshots(uuid)?;
        s.tree.get(name)?;
        s.domain
            .guest_handle()
            .delete_snapshot(name, flags & DELETE_CHILDREN != 0)
            .map_err(sdk_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::emu::host::{snapshot_tree_xml, Snapshot};

    fn emu(guid: &str, parent: &str, state: u32, current: bool) -> Snapshot {
        Snapshot {
            guid: guid.into(),
            parent: parent.into(),
            created: "2024-02-29 12:00:00".into(),
            state,
            current,
            ..Snapshot::default()
        }
    }

    /// a (off) -> b (running) -> c (paused, current); a -> d (off); e root.
    fn sample() -> SnapshotTree {
        use crate::sdk::abi::vms::*;
        let xml = snapshot_tree_xml(&[
            emu("a", "", VMS_STOPPED, false),
            emu("b", "a", VMS_RUNNING, false),
            emu("c", "b", VMS_PAUSED, true),
            emu("d", "a", VMS_SUSPENDED, false),
            emu("e", "", VMS_STOPPED, false),
        ]);
        SnapshotTree::parse(&xml).expect("the embedded host's tree parses")
    }

    #[test]
    fn the_tree_reads_as_libvirt_reads_it() {
        let t = sample();
        assert_eq!(t.len(), 5);
        let c = t.get("c").unwrap();
        assert_eq!(c.parent.as_deref(), Some("b"));
        assert_eq!(c.state, SnapshotState::Paused);
        assert_eq!(c.memory, Location::Internal);
        assert_eq!(c.creation_time, 1_709_208_000);
        assert_eq!(c.description, None, "an empty description is none");
        assert_eq!(
            t.get("a").unwrap().parent,
            None,
            "children of the head are roots"
        );
        assert_eq!(t.get("d").unwrap().state, SnapshotState::Shutoff);
        assert_eq!(t.get("d").unwrap().memory, Location::No);
        assert_eq!(t.current().map(|s| s.name.as_str()), Some("c"));
        let e = t.get("zz").unwrap_err();
        assert_eq!(e.code, ErrorCode::NoDomainSnapshot);
        assert_eq!(
            e.message,
            "Domain snapshot not found: no domain snapshot with matching name 'zz'"
        );
        assert!(SnapshotTree::parse("").unwrap().is_empty());
        assert!(SnapshotTree::parse("<ParallelsSavedStates/>")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn lists_follow_libvirts_filters() {
        let t = sample();
        let sel = |from: Option<&str>, f: u32| t.select(from, f).unwrap();
        assert_eq!(sel(None, 0), ["a", "b", "c", "d", "e"], "parents first");
        assert_eq!(sel(None, LIST_ROOTS), ["a", "e"]);
        assert_eq!(sel(None, LIST_LEAVES), ["c", "d", "e"]);
        assert_eq!(sel(None, LIST_NO_LEAVES), ["a", "b"]);
        assert!(sel(None, LIST_LEAVES | LIST_NO_LEAVES).is_empty());
        assert_eq!(sel(None, LIST_ROOTS | LIST_LEAVES), ["e"]);
        assert_eq!(sel(None, LIST_METADATA).len(), 5);
        assert!(sel(None, LIST_NO_METADATA).is_empty());
        assert_eq!(sel(None, LIST_METADATA | LIST_NO_METADATA).len(), 5);
        assert_eq!(sel(None, LIST_INACTIVE), ["a", "d", "e"]);
        assert_eq!(sel(None, LIST_ACTIVE), ["b", "c"]);
        assert!(sel(None, LIST_DISK_ONLY).is_empty());
        assert_eq!(sel(None, LIST_ACTIVE | LIST_INACTIVE).len(), 5);
        assert_eq!(sel(None, LIST_INTERNAL).len(), 5);
        assert!(sel(None, LIST_EXTERNAL).is_empty());
        assert_eq!(sel(None, LIST_INTERNAL | LIST_EXTERNAL).len(), 5);
        assert_eq!(sel(None, LIST_TOPOLOGICAL), ["a", "b", "c", "d", "e"]);
        assert_eq!(sel(Some("a"), 0), ["b", "d"]);
        assert_eq!(sel(Some("a"), LIST_DESCENDANTS), ["b", "c", "d"]);
        assert_eq!(sel(Some("a"), LIST_DESCENDANTS | LIST_LEAVES), ["c", "d"]);
        assert!(sel(Some("c"), LIST_DESCENDANTS).is_empty());
        assert!(t.select(Some("zz"), 0).is_err());
    }

    #[test]
    fn dates_read_as_libvirt_reads_them() {
        assert_eq!(parse_date_time("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_date_time(" 2024-2-29 1:2:3"), Some(1_709_168_523));
        assert_eq!(
            parse_date_time("2023-02-29 00:00:00"),
            Some(0),
            "no such day"
        );
        for bad in [
            "",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2024-01-01 00:00:00x",
            "a-b-c d:e:f",
        ] {
            assert_eq!(parse_date_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn broken_trees_get_libvirts_errors() {
        let item = |attrs: &str, inner: &str| {
            format!(
                "<ParallelsSavedStates><SavedStateItem guid=''><SavedStateItem {attrs}>{inner}</SavedStateItem></SavedStateItem></ParallelsSavedStates>"
            )
        };
        let date = "<DateTime>2024-01-01 00:00:00</DateTime>";
        let cases = [
            (
                item("state='poweron'", date),
                "internal error: missing 'guid' attribute",
            ),
            (
                item("guid='{x}' state='poweron'", ""),
                "internal error: missing 'DateTime' element",
            ),
            (
                item(
                    "guid='{x}' state='poweron'",
                    "<DateTime>yesterday</DateTime>",
                ),
                "internal error: unexpected DateTime format: 'yesterday'",
            ),
            (
                item("guid='{x}'", date),
                "internal error: missing 'state' attribute",
            ),
            (
                "<Other/>".to_string(),
                "XML error: expecting root element of 'ParallelsSavedStates', not 'Other'",
            ),
        ];
        for (xml, want) in cases {
            let e = SnapshotTree::parse(&xml).unwrap_err();
            assert_eq!(e.message, want, "{xml}");
        }
        let two_current = "<ParallelsSavedStates><SavedStateItem guid=''>\
            <SavedStateItem guid='a' state='poweroff' current='yes'><DateTime>2024-01-01 00:00:00</DateTime>\
            <SavedStateItem guid='b' state='poweroff' current='yes'><DateTime>2024-01-01 00:00:00</DateTime>\
            </SavedStateItem></SavedStateItem></SavedStateItem></ParallelsSavedStates>";
        assert_eq!(
            SnapshotTree::parse(two_current).unwrap_err().message,
            "internal error: too many current snapshots"
        );
        let odd = item("guid='{x}' state='frozen'", date);
        assert_eq!(
            SnapshotTree::parse(&odd).unwrap().get("{x}").unwrap().state,
            SnapshotState::NoState
        );
        let e = SnapshotTree::parse("<ParallelsSavedStates>").unwrap_err();
        assert_eq!(e.code, ErrorCode::XmlDetail);
        assert_eq!(e.domain, ErrorDomain::Parallels);
    }

    #[test]
    fn a_parent_loop_is_refused_not_walked() {
        // The head names a snapshot nested below it: a's parent is b, b's
        // parent is a. Listing b's descendants used to run forever.
        let snap = |guid: &str, inner: &str| {
            format!(
                "<SavedStateItem guid='{guid}' state='poweroff'>\
                 <DateTime>2024-01-01 00:00:00</DateTime>{inner}</SavedStateItem>"
            )
        };
        let looped = format!(
            "<ParallelsSavedStates><SavedStateItem guid='b'>{}</SavedStateItem></ParallelsSavedStates>",
            snap("a", &snap("b", ""))
        );
        let e = SnapshotTree::parse(&looped).unwrap_err();
        assert_eq!(e.code, ErrorCode::InternalError);
        assert_eq!(
            e.message,
            "internal error: snapshots have inconsistent relations"
        );
        let own_parent = format!(
            "<ParallelsSavedStates><SavedStateItem guid='a'>{}</SavedStateItem></ParallelsSavedStates>",
            snap("a", "")
        );
        assert_eq!(
            SnapshotTree::parse(&own_parent).unwrap_err().message,
            "internal error: snapshots have inconsistent relations"
        );
        let dangling = format!(
            "<ParallelsSavedStates><SavedStateItem guid='gone'>{}</SavedStateItem></ParallelsSavedStates>",
            snap("a", "")
        );
        assert_eq!(
            SnapshotTree::parse(&dangling).unwrap_err().message,
            "internal error: snapshots have inconsistent relations"
        );
    }
}

//! Handlers of the 16 snapshot procedures: libvirt's public-API argument
//! checks (run again on the daemon side, as libvirtd runs them), the vz
//! driver's flag checks, then the driver.

use super::domain::flags;
use super::protocol::*;
use super::Call;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::vz::snapshots::{flags::*, Snapshots};

/// ROOTS/DESCENDANTS and every filter: what the list calls accept. libvirt's
/// vz driver refuses TOPOLOGICAL; our lists are always topological, so we
/// take it (`virsh snapshot-list --topological` works).
const LIST_FLAGS: u32 = LIST_ROOTS | LIST_FILTERS;

fn snap(dom: &Domain, name: String) -> DomainSnapshot {
    DomainSnapshot {
        name,
        dom: dom.clone(),
    }
}

fn snapshots(call: &Call, dom: &Domain) -> VirResult<Snapshots> {
    call.conn()?.driver().snapshots(&dom.uuid.0)
}

/// libvirt's `VIR_EXCLUSIVE_FLAGS_GOTO`: two flags that cannot go together.
fn exclusive(f: u32, a: (u32, &str), b: (u32, &str)) -> VirResult<()> {
    if f & a.0 != 0 && f & b.0 != 0 {
        return Err(VirError::unprefixed(
            ErrorCode::InvalidArg,
            ErrorDomain::DomainSnapshot,
            format!("Flags '{}' and '{}' are mutually exclusive", a.1, b.1),
        ));
    }
    Ok(())
}

fn max_names(maxnames: i32, what: &str) -> VirResult<usize> {
    usize::try_from(maxnames)
        .ok()
        .filter(|n| *n <= DOMAIN_SNAPSHOT_LIST_MAX)
        .ok_or_else(|| VirError::rpc(format!("{what} > REMOTE_DOMAIN_SNAPSHOT_LIST_MAX")))
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn listed(dom: &Domain, names: Vec<String>, need_results: i32) -> VirResult<ListSnapshotsRet> {
    if names.len() > DOMAIN_SNAPSHOT_LIST_MAX {
        return Err(VirError::rpc(format!(
            "Too many domain snapshots '{}' for limit '{DOMAIN_SNAPSHOT_LIST_MAX}'",
            names.len()
        )));
    }
    Ok(ListSnapshotsRet {
        ret: count(names.len()),
        snapshots: if need_results != 0 {
            names.into_iter().map(|n| snap(dom, n)).collect()
        } else {
            Vec::new()
        },
    })
}

/// DOMAIN_SNAPSHOT_CREATE_XML (VALIDATE only, as in libvirt's vz driver)
pub fn create_xml(call: &Call, a: SnapshotCreateXmlArgs) -> VirResult<DomainSnapshot> {
    const REDEFINE: (u32, &str) = (1, "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE");
    if a.flags & 2 != 0 && a.flags & REDEFINE.0 == 0 {
        return Err(VirError::unprefixed(
            ErrorCode::InvalidArg,
            ErrorDomain::DomainSnapshot,
            "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' is required by flag 'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT'",
        ));
    }
    exclusive(
        a.flags,
        REDEFINE,
        (4, "VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA"),
    )?;
    exclusive(a.flags, REDEFINE, (8, "VIR_DOMAIN_SNAPSHOT_CREATE_HALT"))?;
    flags(a.flags, CREATE_VALIDATE, "vzDomainSnapshotCreateXML")?;
    let name = call
        .conn()?
        .driver()
        .snapshot_create(&a.dom.uuid.0, &a.xml_desc, a.flags)?;
    Ok(snap(&a.dom, name))
}

/// DOMAIN_SNAPSHOT_GET_XML_DESC (SECURE on a read-only connection is
/// refused by the procedure table before this runs)
pub fn get_xml_desc(call: &Call, a: SnapshotFlagsArgs) -> VirResult<String> {
    flags(a.flags, XML_SECURE, "vzDomainSnapshotGetXMLDesc")?;
    snapshots(call, &a.snap.dom)?.xml(&a.snap.name)
}

/// DOMAIN_SNAPSHOT_NUM
pub fn num(call: &Call, a: DomainFlagsArgs) -> VirResult<i32> {
    flags(a.flags, LIST_FLAGS, "vzDomainSnapshotNum")?;
    let s = snapshots(call, &a.dom)?;
    Ok(count(s.tree.select(None, a.flags)?.len()))
}

/// DOMAIN_SNAPSHOT_LIST_NAMES
pub fn list_names(call: &Call, a: SnapshotListNamesArgs) -> VirResult<Vec<String>> {
    let max = max_names(a.maxnames, "maxnames")?;
    flags(a.flags, LIST_FLAGS, "vzDomainSnapshotListNames")?;
    let mut names = snapshots(call, &a.dom)?.tree.select(None, a.flags)?;
    names.truncate(max);
    Ok(names)
}

/// DOMAIN_LIST_ALL_SNAPSHOTS
pub fn list_all(call: &Call, a: ListAllSnapshotsArgs) -> VirResult<ListSnapshotsRet> {
    flags(a.flags, LIST_FLAGS, "vzDomainListAllSnapshots")?;
    let names = snapshots(call, &a.dom)?.tree.select(None, a.flags)?;
    listed(&a.dom, names, a.need_results)
}

/// DOMAIN_SNAPSHOT_NUM_CHILDREN
pub fn num_children(call: &Call, a: SnapshotFlagsArgs) -> VirResult<i32> {
    flags(a.flags, LIST_FLAGS, "vzDomainSnapshotNumChildren")?;
    let s = snapshots(call, &a.snap.dom)?;
    Ok(count(s.tree.select(Some(&a.snap.name), a.flags)?.len()))
}

/// DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES
pub fn list_children_names(
    call: &Call,
    a: SnapshotListChildrenNamesArgs,
) -> VirResult<Vec<String>> {
    let max = max_names(a.maxnames, "maxnames")?;
    flags(a.flags, LIST_FLAGS, "vzDomainSnapshotListChildrenNames")?;
    let s = snapshots(call, &a.snap.dom)?;
    let mut names = s.tree.select(Some(&a.snap.name), a.flags)?;
    names.truncate(max);
    Ok(names)
}

/// DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN
pub fn list_all_children(
    call: &Call,
    a: SnapshotListAllChildrenArgs,
) -> VirResult<ListSnapshotsRet> {
    flags(a.flags, LIST_FLAGS, "vzDomainSnapshotListAllChildren")?;
    let s = snapshots(call, &a.snapshot.dom)?;
    let names = s.tree.select(Some(&a.snapshot.name), a.flags)?;
    listed(&a.snapshot.dom, names, a.need_results)
}

/// DOMAIN_SNAPSHOT_LOOKUP_BY_NAME
pub fn lookup_by_name(call: &Call, a: SnapshotLookupByNameArgs) -> VirResult<DomainSnapshot> {
    flags(a.flags, 0, "vzDomainSnapshotLookupByName")?;
    let s = snapshots(call, &a.dom)?;
    let name = s.tree.get(&a.name)?.name.clone();
    Ok(snap(&a.dom, name))
}

/// DOMAIN_HAS_CURRENT_SNAPSHOT
pub fn has_current(call: &Call, a: DomainFlagsArgs) -> VirResult<i32> {
    flags(a.flags, 0, "vzDomainHasCurrentSnapshot")?;
    Ok(snapshots(call, &a.dom)?.tree.current().is_some() as i32)
}

/// DOMAIN_SNAPSHOT_GET_PARENT
pub fn get_parent(call: &Call, a: SnapshotFlagsArgs) -> VirResult<DomainSnapshot> {
    flags(a.flags, 0, "vzDomainSnapshotGetParent")?;
    let parent = snapshots(call, &a.snap.dom)?.parent(&a.snap.name)?;
    Ok(snap(&a.snap.dom, parent))
}

/// DOMAIN_SNAPSHOT_CURRENT
pub fn current(call: &Call, a: DomainFlagsArgs) -> VirResult<DomainSnapshot> {
    flags(a.flags, 0, "vzDomainSnapshotCurrent")?;
    let s = snapshots(call, &a.dom)?;
    let name = s.current()?;
    Ok(snap(&a.dom, name))
}

/// DOMAIN_SNAPSHOT_IS_CURRENT
pub fn is_current(call: &Call, a: SnapshotFlagsArgs) -> VirResult<i32> {
    flags(a.flags, 0, "vzDomainSnapshotIsCurrent")?;
    Ok(snapshots(call, &a.snap.dom)?.is_current(&a.snap.name) as i32)
}

/// DOMAIN_SNAPSHOT_HAS_METADATA: every snapshot that exists has it.
pub fn has_metadata(call: &Call, a: SnapshotFlagsArgs) -> VirResult<i32> {
    flags(a.flags, 0, "vzDomainSnapshotHasMetadata")?;
    snapshots(call, &a.snap.dom)?.tree.get(&a.snap.name)?;
    Ok(1)
}

/// DOMAIN_REVERT_TO_SNAPSHOT (PAUSED, and RUNNING, which libvirt's vz
/// driver refuses: here the guest is started or resumed after the revert)
pub fn revert(call: &Call, a: SnapshotFlagsArgs) -> VirResult<()> {
    exclusive(
        a.flags,
        (REVERT_RUNNING, "VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING"),
        (REVERT_PAUSED, "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED"),
    )?;
    flags(
        a.flags,
        REVERT_RUNNING | REVERT_PAUSED,
        "vzDomainRevertToSnapshot",
    )?;
    call.conn()?
        .driver()
        .snapshot_revert(&a.snap.dom.uuid.0, &a.snap.name, a.flags)
}

/// DOMAIN_SNAPSHOT_DELETE (CHILDREN only: libvirt's vz driver refuses
/// CHILDREN_ONLY and METADATA_ONLY as unsupported flags)
pub fn delete(call: &Call, a: SnapshotFlagsArgs) -> VirResult<()> {
    exclusive(
        a.flags,
        (DELETE_CHILDREN, "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN"),
        (4, "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY"),
    )?;
    flags(a.flags, DELETE_CHILDREN, "vzDomainSnapshotDelete")?;
    call.conn()?
        .driver()
        .snapshot_delete(&a.snap.dom.uuid.0, &a.snap.name, a.flags)
}

//! Snapshots with the real virsh and python3-libvirt (issue "Events,
//! snapshots, devices, ...", acceptance point 2).

use crate::harness::*;
use std::fs;

/// `virsh snapshot-create-as DOM ARGS...`: the name virsh reports for the
/// new snapshot ("Domain snapshot NAME created").
fn create(d: &Daemon, dom: &str, args: &[&str]) -> String {
    let mut a = vec!["snapshot-create-as", dom];
    a.extend_from_slice(args);
    let out = d.virsh(&a);
    let line = out.expect_ok().trim();
    let name = line
        .strip_prefix("Domain snapshot ")
        .and_then(|l| l.strip_suffix(" created"))
        .unwrap_or_else(|| panic!("unexpected output: {out:?}"))
        .to_string();
    // The SDK names snapshots: a braced GUID.
    assert!(
        name.len() == 38 && name.starts_with('{') && name.ends_with('}'),
        "{name}"
    );
    name
}

/// The rows of a `virsh snapshot-list` table: (name, state, parent).
fn rows(table: &str) -> Vec<(String, String, String)> {
    table
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            // Name, date, time, zone, state[, parent].
            assert!(w.len() >= 5, "{l}");
            let parent = w.get(5).copied().unwrap_or("").to_string();
            (w[0].to_string(), w[4].to_string(), parent)
        })
        .collect()
}

fn names(out: &Out) -> Vec<String> {
    let mut v: Vec<String> = out
        .expect_ok()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect();
    v.sort();
    v
}

fn sorted(v: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn create_list_show_and_refuse_with_virsh() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let e = d.virsh(&["snapshot-current", "vm-basic"]);
    assert_eq!(e.code, Some(1));
    // virsh asks HAS_CURRENT_SNAPSHOT first and words it itself.
    assert!(
        e.stderr
            .contains("error: domain 'vm-basic' has no current snapshot"),
        "{e:?}"
    );
    // The name given is ignored (the SDK names snapshots); the
    // description is kept.
    let a = create(
        &d,
        "vm-basic",
        &[
            "ignored-name",
            "--description",
            "before <the> 'upgrade' & all",
        ],
    );
    d.virsh(&["start", "vm-basic"]).expect_ok();
    let b = create(&d, "vm-basic", &[]);
    d.virsh(&["suspend", "vm-basic"]).expect_ok();
    let c = create(&d, "vm-basic", &[]);

    let table = d.virsh(&["snapshot-list", "vm-basic"]);
    let mut got = rows(table.expect_ok());
    got.sort();
    let mut want = vec![
        (a.clone(), "shutoff".to_string(), String::new()),
        (b.clone(), "running".to_string(), String::new()),
        (c.clone(), "paused".to_string(), String::new()),
    ];
    want.sort();
    assert_eq!(got, want, "{table:?}");
    assert!(table.stdout.starts_with(" Name "), "{table:?}");

    let with_parents = rows(
        d.virsh(&["snapshot-list", "vm-basic", "--parent"])
            .expect_ok(),
    );
    let parent_of = |n: &str| {
        with_parents
            .iter()
            .find(|r| r.0 == n)
            .map(|r| r.2.clone())
            .unwrap_or_else(|| panic!("{n} not listed"))
    };
    assert_eq!(parent_of(&a), "");
    assert_eq!(parent_of(&b), a);
    assert_eq!(parent_of(&c), b);

    let tree = d.virsh(&["snapshot-list", "vm-basic", "--tree"]);
    let lines: Vec<&str> = tree.expect_ok().lines().collect();
    assert_eq!(lines[0], a, "{tree:?}");
    assert_eq!(lines[1].trim(), "|");
    assert_eq!(lines[2].trim(), format!("+- {b}"));
    assert_eq!(lines[4].trim(), format!("+- {c}"));

    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--roots", "--name"])),
        [a.as_str()]
    );
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--leaves", "--name"])),
        [c.as_str()]
    );
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--name"])),
        sorted(&[&a, &b, &c])
    );
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--inactive", "--name"])),
        [a.as_str()]
    );
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--from", &a, "--name"])),
        [b.as_str()]
    );
    assert_eq!(
        names(&d.virsh(&[
            "snapshot-list",
            "vm-basic",
            "--from",
            &a,
            "--descendants",
            "--name"
        ])),
        sorted(&[&b, &c])
    );
    let topo = d.virsh(&["snapshot-list", "vm-basic", "--topological", "--name"]);
    let order: Vec<&str> = topo.expect_ok().lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(order, [a.as_str(), b.as_str(), c.as_str()]);

    let info = d.virsh(&["snapshot-info", "vm-basic", &b]);
    let info = info.expect_ok();
    assert_eq!(labelled(info, "Name:"), b);
    assert_eq!(labelled(info, "Domain:"), "vm-basic");
    assert_eq!(labelled(info, "Current:"), "no");
    assert_eq!(labelled(info, "State:"), "running");
    assert_eq!(labelled(info, "Location:"), "internal");
    assert_eq!(labelled(info, "Parent:"), a);
    assert_eq!(labelled(info, "Children:"), "1");
    assert_eq!(labelled(info, "Descendants:"), "1");
    assert_eq!(labelled(info, "Metadata:"), "yes");
    let info = d.virsh(&["snapshot-info", "vm-basic", "--current"]);
    assert_eq!(labelled(info.expect_ok(), "Name:"), c);
    assert_eq!(labelled(info.expect_ok(), "Current:"), "yes");

    let xml = d.virsh(&["snapshot-dumpxml", "vm-basic", &a]);
    let xml = xml.expect_ok();
    assert!(
        xml.starts_with(&format!("<domainsnapshot>\n  <name>{a}</name>\n")),
        "{xml}"
    );
    assert!(
        xml.contains("<description>before &lt;the&gt; &apos;upgrade&apos; &amp; all</description>"),
        "{xml}"
    );
    assert!(xml.contains("<state>shutoff</state>"), "{xml}");
    assert!(xml.contains("<memory snapshot='no'/>"), "{xml}");
    assert!(!xml.contains("<parent>"), "{xml}");
    assert!(
        xml.contains(
            "<domain>\n    <uuid>1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b</uuid>\n  </domain>"
        ),
        "{xml}"
    );
    let created: i64 = xml
        .split("<creationTime>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no creationTime in {xml}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - 600..=now + 5).contains(&created),
        "{created} vs {now}"
    );
    let xml = d.virsh(&["snapshot-dumpxml", "vm-basic", &c]);
    assert!(xml
        .expect_ok()
        .contains(&format!("<parent>\n    <name>{b}</name>\n  </parent>")));
    assert!(xml.stdout.contains("<memory snapshot='internal'/>"));

    assert_eq!(
        d.virsh(&["snapshot-current", "vm-basic", "--name"])
            .expect_ok()
            .trim(),
        c
    );
    assert_eq!(
        d.virsh(&["snapshot-parent", "vm-basic", &c])
            .expect_ok()
            .trim(),
        b
    );
    let e = d.virsh(&["snapshot-parent", "vm-basic", &a]);
    assert_eq!(e.code, Some(1));
    assert!(
        e.stderr
            .contains(&format!("error: snapshot '{a}' has no parent")),
        "{e:?}"
    );

    for cmd in [
        "snapshot-info",
        "snapshot-dumpxml",
        "snapshot-revert",
        "snapshot-delete",
        "snapshot-parent",
    ] {
        let e = d.virsh(&[cmd, "vm-basic", "nosuch"]);
        assert_eq!(e.code, Some(1), "{cmd}");
        assert!(
            e.stderr.contains(
                "error: Domain snapshot not found: no domain snapshot with matching name 'nosuch'"
            ),
            "{cmd}: {e:?}"
        );
    }

    // What the vz driver refuses, in its words.
    let e = d.virsh(&[
        "snapshot-create-as",
        "vm-basic",
        "--diskspec",
        "sda,snapshot=external,file=/tmp/x.qcow2",
    ]);
    assert!(
        e.stderr.contains(
            "error: unsupported configuration: configuring disks is not supported for vz snapshots"
        ),
        "{e:?}"
    );
    let e = d.virsh(&[
        "snapshot-create-as",
        "vm-basic",
        "--memspec",
        "file=/tmp/mem,snapshot=external",
    ]);
    assert!(
        e.stderr.contains(
            "error: unsupported configuration: configuring memory location is not supported"
        ),
        "{e:?}"
    );
    let bad = d.dir.join("bad.xml");
    fs::write(&bad, "<domainsnapshot><name>x</name>").unwrap();
    let e = d.virsh(&["snapshot-create", "vm-basic", &bad.display().to_string()]);
    assert_eq!(e.code, Some(1));
    assert!(
        e.stderr
            .contains("error: (domain_snapshot):1: Premature end of data in tag domainsnapshot"),
        "{e:?}"
    );
    let e = d.virsh(&["snapshot-create-as", "vm-basic", "--disk-only"]);
    assert!(
        e.stderr
            .contains("error: unsupported flags (0x10) in function vzDomainSnapshotCreateXML"),
        "{e:?}"
    );
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--name"])).len(),
        3,
        "nothing refused was created"
    );
}

#[test]
fn revert_brings_back_state_and_config() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let info = |d: &Daemon| {
        let out = d.virsh(&["dominfo", "vm-basic"]);
        let text = out.expect_ok();
        (
            labelled(text, "State:").to_string(),
            labelled(text, "Max memory:").to_string(),
        )
    };
    let off = create(&d, "vm-basic", &[]);
    d.virsh(&["start", "vm-basic"]).expect_ok();
    d.virsh(&["setmem", "vm-basic", "2G", "--live", "--config"])
        .expect_ok();
    let running = create(&d, "vm-basic", &[]);
    d.virsh(&["suspend", "vm-basic"]).expect_ok();
    d.virsh(&["setvcpus", "vm-basic", "4", "--live", "--config"])
        .expect_ok();
    let paused = create(&d, "vm-basic", &[]);
    d.virsh(&["resume", "vm-basic"]).expect_ok();
    d.virsh(&["setmem", "vm-basic", "3G", "--live", "--config"])
        .expect_ok();

    let out = d.virsh(&["snapshot-revert", "vm-basic", &off]);
    assert_eq!(
        out.expect_ok().trim(),
        format!("Domain snapshot {off} reverted")
    );
    assert_eq!(info(&d), ("shut off".into(), "1048576 KiB".into()));
    assert_eq!(
        d.virsh(&["snapshot-current", "vm-basic", "--name"])
            .expect_ok()
            .trim(),
        off
    );

    d.virsh(&["snapshot-revert", "vm-basic", &running])
        .expect_ok();
    assert_eq!(info(&d), ("running".into(), "2097152 KiB".into()));
    assert!(d
        .virsh(&["domid", "vm-basic"])
        .expect_ok()
        .trim()
        .parse::<i32>()
        .is_ok());

    d.virsh(&["snapshot-revert", "vm-basic", &paused])
        .expect_ok();
    assert_eq!(info(&d), ("paused".into(), "2097152 KiB".into()));
    assert_eq!(
        labelled(d.virsh(&["dominfo", "vm-basic"]).expect_ok(), "CPU(s):"),
        "4"
    );

    // --paused: a running snapshot comes back paused.
    d.virsh(&["snapshot-revert", "vm-basic", &running, "--paused"])
        .expect_ok();
    assert_eq!(info(&d), ("paused".into(), "2097152 KiB".into()));
    assert_eq!(
        labelled(d.virsh(&["dominfo", "vm-basic"]).expect_ok(), "CPU(s):"),
        "2"
    );

    // --running: a shut-off snapshot comes back running.
    d.virsh(&["snapshot-revert", "vm-basic", &off, "--running"])
        .expect_ok();
    assert_eq!(info(&d), ("running".into(), "1048576 KiB".into()));

    // Reverting keeps every snapshot; the config on disk is the reverted
    // one (seen again after a restart).
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--name"])).len(),
        3
    );
    let mut d = d;
    d.stop();
    d.restart();
    assert_eq!(info(&d), ("running".into(), "1048576 KiB".into()));

    // A container has snapshots too.
    d.virsh(&["define", &fixture("ct-basic.xml")]).expect_ok();
    let ct = create(&d, "ct-basic", &["--description", "empty"]);
    d.virsh(&["start", "ct-basic"]).expect_ok();
    d.virsh(&["snapshot-revert", "ct-basic", &ct]).expect_ok();
    assert_eq!(
        labelled(d.virsh(&["dominfo", "ct-basic"]).expect_ok(), "State:"),
        "shut off"
    );
}

#[test]
fn delete_one_or_a_subtree() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    // a -> b -> c, and a -> e (made after going back to a).
    let a = create(&d, "vm-basic", &[]);
    let b = create(&d, "vm-basic", &[]);
    let c = create(&d, "vm-basic", &[]);
    d.virsh(&["snapshot-revert", "vm-basic", &a]).expect_ok();
    let e = create(&d, "vm-basic", &[]);
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--from", &a, "--name"])),
        sorted(&[&b, &e])
    );

    // libvirt's vz driver refuses the other delete modes as unknown flags.
    for (flag, bit) in [("--children-only", "0x4"), ("--metadata", "0x2")] {
        let out = d.virsh(&["snapshot-delete", "vm-basic", &b, flag]);
        assert_eq!(out.code, Some(1), "{flag}");
        assert!(
            out.stderr.contains(&format!(
                "error: unsupported flags ({bit}) in function vzDomainSnapshotDelete"
            )),
            "{flag}: {out:?}"
        );
    }

    let out = d.virsh(&["snapshot-delete", "vm-basic", &b]);
    assert_eq!(
        out.expect_ok().trim(),
        format!("Domain snapshot {b} deleted")
    );
    assert_eq!(
        d.virsh(&["snapshot-parent", "vm-basic", &c])
            .expect_ok()
            .trim(),
        a
    );
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--name"])),
        sorted(&[&a, &c, &e])
    );

    // The current snapshot (e) goes with its parent's subtree.
    let out = d.virsh(&["snapshot-delete", "vm-basic", &a, "--children"]);
    assert_eq!(
        out.expect_ok().trim(),
        format!("Domain snapshot {a} deleted")
    );
    assert!(names(&d.virsh(&["snapshot-list", "vm-basic", "--name"])).is_empty());
    let out = d.virsh(&["snapshot-current", "vm-basic"]);
    assert!(out.stderr.contains("has no current snapshot"), "{out:?}");
    // With none left, undefine needs no flag.
    d.virsh(&["undefine", "vm-basic"]).expect_ok();
}

#[test]
fn snapshots_outlive_the_daemon_and_hold_back_undefine() {
    let mut d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    d.virsh(&["define", &fixture("ct-basic.xml")]).expect_ok();
    let a = create(&d, "vm-basic", &["--description", "kept"]);
    let b = create(&d, "vm-basic", &[]);
    let before_tree = d
        .virsh(&["snapshot-list", "vm-basic", "--tree"])
        .expect_ok()
        .to_string();
    let before_xml = d
        .virsh(&["snapshot-dumpxml", "vm-basic", &a])
        .expect_ok()
        .to_string();

    // Killed, not stopped: the store has every snapshot already.
    d.signal("KILL");
    d.wait_exit(std::time::Duration::from_secs(10));
    d.restart();
    assert_eq!(
        d.virsh(&["snapshot-list", "vm-basic", "--tree"])
            .expect_ok(),
        before_tree
    );
    assert_eq!(
        d.virsh(&["snapshot-dumpxml", "vm-basic", &a]).expect_ok(),
        before_xml
    );
    assert_eq!(
        d.virsh(&["snapshot-current", "vm-basic", "--name"])
            .expect_ok()
            .trim(),
        b
    );

    assert_eq!(
        names(&d.virsh(&["list", "--all", "--with-snapshot", "--name"])),
        ["vm-basic"]
    );
    assert_eq!(
        names(&d.virsh(&["list", "--all", "--without-snapshot", "--name"])),
        ["ct-basic"]
    );

    let out = d.virsh(&["undefine", "vm-basic"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "error: Requested operation is not valid: Refusing to undefine while snapshots exist"
        ),
        "{out:?}"
    );
    assert!(d.virsh(&["dominfo", "vm-basic"]).ok(), "still defined");
    let out = d.virsh(&["undefine", "vm-basic", "--snapshots-metadata"]);
    assert!(
        out.expect_ok()
            .contains("Domain 'vm-basic' has been undefined"),
        "{out:?}"
    );
    assert_eq!(names(&d.virsh(&["list", "--all", "--name"])), ["ct-basic"]);
    // Defined again, it starts with no snapshots.
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    assert!(names(&d.virsh(&["snapshot-list", "vm-basic", "--name"])).is_empty());
}

#[test]
fn read_only_connections_read_but_never_change() {
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let a = create(&d, "vm-basic", &[]);
    assert_eq!(
        names(&d.virsh_ro(&["snapshot-list", "vm-basic", "--name"])),
        [a.as_str()]
    );
    assert_eq!(
        labelled(
            d.virsh_ro(&["snapshot-info", "vm-basic", &a]).expect_ok(),
            "Current:"
        ),
        "yes"
    );
    d.virsh_ro(&["snapshot-dumpxml", "vm-basic", &a])
        .expect_ok();
    let e = d.virsh_ro(&["snapshot-dumpxml", "vm-basic", &a, "--security-info"]);
    assert!(
        e.stderr
            .contains("operation forbidden: virDomainSnapshotGetXMLDesc with secure flag"),
        "{e:?}"
    );
    for (args, api) in [
        (
            vec!["snapshot-create-as", "vm-basic"],
            "virDomainSnapshotCreateXML",
        ),
        (
            vec!["snapshot-revert", "vm-basic", a.as_str()],
            "virDomainRevertToSnapshot",
        ),
        (
            vec!["snapshot-delete", "vm-basic", a.as_str()],
            "virDomainSnapshotDelete",
        ),
    ] {
        let e = d.virsh_ro(&args);
        assert_eq!(e.code, Some(1), "{args:?}");
        assert!(
            e.stderr.contains(&format!(
                "operation forbidden: read only access prevents {api}"
            )),
            "{args:?}: {e:?}"
        );
    }
    // The daemon refuses them itself to a client that did not ask for a
    // read-only connection but came in on the read-only socket.
    let script = format!(
        r#"
import libvirt
c = libvirt.open("{ro}")
dom = c.lookupByName("vm-basic")
snap = dom.snapshotLookupByName("{a}")
def err(f):
    try:
        f()
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())
    return None
print(err(lambda: dom.snapshotCreateXML("<domainsnapshot/>", 0)))
print(err(lambda: dom.revertToSnapshot(snap, 0)))
print(err(lambda: snap.delete(0)))
print(err(lambda: snap.getXMLDesc(libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE)))
print(dom.snapshotNum(0), snap.isCurrent(0))
"#,
        ro = d.ro_uri()
    );
    let out = python(&script);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "(29, 35, 'operation forbidden: read only access prevents virDomainSnapshotCreateXML')",
            "(29, 35, 'operation forbidden: read only access prevents virDomainRevertToSnapshot')",
            "(29, 35, 'operation forbidden: read only access prevents virDomainSnapshotDelete')",
            "(29, 35, 'operation forbidden: virDomainSnapshotGetXMLDesc with secure flag')",
            "1 1",
        ],
        "{out:?}"
    );
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--name"])),
        [a]
    );
}

#[test]
fn python_return_values_and_error_codes() {
    let d = Daemon::start();
    let xml = fs::read_to_string(fixture("vm-basic.xml")).unwrap();
    let script = format!(
        r#"
import libvirt
c = libvirt.open("{uri}")
dom = c.defineXML('''{xml}''')
def err(f):
    try:
        f()
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())
    return None
P = libvirt.VIR_FROM_PARALLELS
assert dom.hasCurrentSnapshot(0) == 0
assert dom.snapshotNum(0) == 0 and dom.listAllSnapshots(0) == []
assert err(lambda: dom.snapshotCurrent(0)) == (72, P, "Domain snapshot not found: the domain does not have a current snapshot")

a = dom.snapshotCreateXML("<domainsnapshot><name>mine</name><description>d1</description></domainsnapshot>", 0)
assert a.getName() != "mine" and a.getName().startswith("{{"), a.getName()
assert a.getDomain().name() == "vm-basic"
b = dom.snapshotCreateXML("<domainsnapshot/>", libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE)
assert dom.hasCurrentSnapshot(0) == 1
assert dom.snapshotCurrent(0).getName() == b.getName()
assert b.isCurrent(0) == 1 and a.isCurrent(0) == 0
assert a.hasMetadata(0) == 1
assert b.getParent(0).getName() == a.getName()
assert err(lambda: a.getParent(0)) == (72, P, "Domain snapshot not found: snapshot '%s' does not have a parent" % a.getName())
assert dom.snapshotLookupByName(a.getName(), 0).getName() == a.getName()
assert err(lambda: dom.snapshotLookupByName("nosuch", 0)) == (72, P, "Domain snapshot not found: no domain snapshot with matching name 'nosuch'")
assert dom.snapshotNum(0) == 2
assert dom.snapshotNum(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ROOTS) == 1
assert dom.snapshotListNames(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_LEAVES) == [b.getName()]
assert dom.snapshotNum(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_NO_METADATA) == 0
assert dom.snapshotNum(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_EXTERNAL) == 0
assert dom.snapshotNum(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE) == 0
assert dom.snapshotNum(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_LEAVES | libvirt.VIR_DOMAIN_SNAPSHOT_LIST_NO_LEAVES) == 0
assert [s.getName() for s in dom.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL)] == [a.getName(), b.getName()]
assert a.numChildren(0) == 1 and a.listChildrenNames(0) == [b.getName()]
assert [s.getName() for s in a.listAllChildren(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS)] == [b.getName()]
assert b.numChildren(0) == 0
assert "<description>d1</description>" in a.getXMLDesc(0)
assert "<state>shutoff</state>" in b.getXMLDesc(libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE)

# The vz driver's refusals.
assert err(lambda: dom.snapshotCreateXML("<domainsnapshot><disks><disk name='sda'/></disks></domainsnapshot>", 0)) == (67, P, "unsupported configuration: configuring disks is not supported for vz snapshots")
assert err(lambda: dom.snapshotCreateXML("<domainsnapshot><memory snapshot='no'/></domainsnapshot>", 0)) == (67, P, "unsupported configuration: configuring memory location is not supported")
assert err(lambda: dom.snapshotCreateXML("<domainsnapshot/>", libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE)) == (8, P, "unsupported flags (0x100) in function vzDomainSnapshotCreateXML")
assert err(lambda: a.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY)) == (8, P, "unsupported flags (0x4) in function vzDomainSnapshotDelete")
assert err(lambda: dom.revertToSnapshot(a, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE)) == (8, P, "unsupported flags (0x4) in function vzDomainRevertToSnapshot")
# snapshot_conf's refusals.
e = err(lambda: dom.snapshotCreateXML("<domainsnapshot>", 0))
assert e[:2] == (35, 35) and e[2].startswith("(domain_snapshot):1: Premature end of data"), e
assert err(lambda: dom.snapshotCreateXML("<snapshot/>", 0)) == (27, 5, "XML error: expecting root element of 'domainsnapshot', not 'snapshot'")
assert err(lambda: dom.snapshotCreateXML("<domainsnapshot><memory snapshot='manual'/></domainsnapshot>", 0)) == (27, 35, "XML error: 'manual' memory snapshot mode not supported")
e = err(lambda: dom.snapshotCreateXML("<domainsnapshot><bogus/></domainsnapshot>", libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE))
assert e[:2] == (92, 5) and "Element domainsnapshot has extra content: bogus" in e[2], e
assert dom.snapshotNum(0) == 2, "nothing refused was created"

# Revert and delete.
dom.revertToSnapshot(a, 0)
assert a.isCurrent(0) == 1 and dom.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
dom.revertToSnapshot(a, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING)
assert dom.info()[0] == libvirt.VIR_DOMAIN_RUNNING
c3 = dom.snapshotCreateXML("<domainsnapshot/>", 0)
assert "<state>running</state>" in c3.getXMLDesc(0) and "<memory snapshot='internal'/>" in c3.getXMLDesc(0)
assert sorted(a.listChildrenNames(0)) == sorted([b.getName(), c3.getName()])
c3.delete(0)
assert dom.snapshotNum(0) == 2 and a.isCurrent(0) == 1
a.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN)
assert dom.snapshotNum(0) == 0 and dom.hasCurrentSnapshot(0) == 0
print("ok")
"#,
        uri = d.uri()
    );
    let out = python(&script);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
}

#[test]
fn the_daemon_repeats_the_checks_clients_make_first() {
    use crate::wire::Wire;
    use virtvzd::remote::protocol::{
        Domain, DomainSnapshot, SnapshotCreateXmlArgs, SnapshotFlagsArgs, SnapshotListNamesArgs,
    };
    let d = Daemon::start();
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let a = create(&d, "vm-basic", &[]);
    let mut w = Wire::connect(&d.rw());
    w.open("vz:///system", 0);
    let dom: Domain = w.call(23, &"vm-basic".to_string()).expect("lookup");
    let snap = DomainSnapshot {
        name: a.clone(),
        dom: dom.clone(),
    };
    let refused = |e: Box<virtvzd::rpc::message::WireError>| {
        (e.code, e.domain, e.message.unwrap_or_default())
    };
    let on = |flags| SnapshotFlagsArgs {
        snap: snap.clone(),
        flags,
    };
    let e = w.call::<_, ()>(192, &on(3)).unwrap_err();
    assert_eq!(
        refused(e),
        (8, 35, "Flags 'VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING' and 'VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED' are mutually exclusive".into())
    );
    let e = w.call::<_, ()>(193, &on(5)).unwrap_err();
    assert_eq!(
        refused(e),
        (8, 35, "Flags 'VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN' and 'VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY' are mutually exclusive".into())
    );
    let mk = |flags| SnapshotCreateXmlArgs {
        dom: dom.clone(),
        xml_desc: "<domainsnapshot/>".into(),
        flags,
    };
    let e = w.call::<_, DomainSnapshot>(185, &mk(2)).unwrap_err();
    assert_eq!(
        refused(e),
        (8, 35, "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' is required by flag 'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT'".into())
    );
    let e = w.call::<_, DomainSnapshot>(185, &mk(1 | 4)).unwrap_err();
    assert_eq!(refused(e).0, 8);
    let e = w.call::<_, DomainSnapshot>(185, &mk(1)).unwrap_err();
    assert_eq!(
        refused(e),
        (
            8,
            48,
            "unsupported flags (0x1) in function vzDomainSnapshotCreateXML".into()
        )
    );
    for maxnames in [-1, 16385] {
        let args = SnapshotListNamesArgs {
            dom: dom.clone(),
            maxnames,
            flags: 0,
        };
        let e = w.call::<_, Vec<String>>(188, &args).unwrap_err();
        assert_eq!(refused(e).0, 39, "maxnames {maxnames}");
    }
    let one = SnapshotListNamesArgs {
        dom: dom.clone(),
        maxnames: 0,
        flags: 0,
    };
    let none: Vec<String> = w.call(188, &one).expect("room for none");
    assert!(none.is_empty());
    // A snapshot of a domain that is gone, and a name that never was.
    let mut gone = snap.clone();
    gone.dom.uuid.0[0] ^= 0xff;
    let e = w
        .call::<_, i32>(
            271,
            &SnapshotFlagsArgs {
                snap: gone,
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(refused(e).0, 42);
    let mut ghost = snap.clone();
    ghost.name = "{ghost}".into();
    let is_current: i32 = w
        .call(
            271,
            &SnapshotFlagsArgs {
                snap: ghost.clone(),
                flags: 0,
            },
        )
        .unwrap();
    assert_eq!(is_current, 0, "libvirt answers 0, not an error");
    let e = w
        .call::<_, ()>(
            193,
            &SnapshotFlagsArgs {
                snap: ghost,
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(
        refused(e),
        (
            72,
            48,
            "Domain snapshot not found: no domain snapshot with matching name '{ghost}'".into()
        )
    );
    // Nothing of that changed anything.
    assert_eq!(
        names(&d.virsh(&["snapshot-list", "vm-basic", "--name"])),
        [a.as_str()]
    );
}

/// The embedded host's store file of vm-basic.
fn vm_basic_store(d: &Daemon) -> std::path::PathBuf {
    d.dir
        .join("store/guests/1f0c6b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b.toml")
}

/// vm-basic with snapshots a and b (b under a), its store then edited
/// with the daemon down so that a's parent is b: a loop of parents.
fn looped_snapshots(d: &mut Daemon) -> (String, String) {
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    let a = create(d, "vm-basic", &[]);
    let b = create(d, "vm-basic", &[]);
    d.stop();
    let path = vm_basic_store(d);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("parent = \"\"").count(), 1, "{text}");
    fs::write(
        &path,
        text.replace("parent = \"\"", &format!("parent = \"{b}\"")),
    )
    .unwrap();
    d.restart();
    (a, b)
}

#[test]
fn a_parent_loop_on_disk_is_an_error_not_a_hang() {
    let mut d = Daemon::start();
    let (a, _) = looped_snapshots(&mut d);
    for args in [
        vec!["snapshot-list", "vm-basic"],
        vec!["snapshot-list", "vm-basic", "--tree"],
        vec!["snapshot-list", "vm-basic", "--from", &a, "--descendants"],
        vec!["snapshot-delete", "vm-basic", &a, "--children"],
        // Not taken for "no snapshots".
        vec!["list", "--all", "--with-snapshot"],
        vec!["list", "--all", "--without-snapshot"],
    ] {
        let out = d.virsh(&args);
        assert_eq!(out.code, Some(1), "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("error: operation failed: The snapshot tree of 'vm-basic' is damaged: the parents of the snapshot"),
            "{args:?}: {out:?}"
        );
    }
    // The rest of the daemon carries on, and nothing was thrown away.
    assert_eq!(
        d.virsh(&["list", "--all", "--name"]).expect_ok().trim(),
        "vm-basic"
    );
    assert!(fs::read_to_string(vm_basic_store(&d)).unwrap().contains(&a));
}

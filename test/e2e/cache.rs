//! The driver's domain cache as clients see it: never stale. A change made
//! through one connection is visible through another at once; guests and
//! their states come back after a clean restart and after a SIGKILL, with
//! hundreds of guests.

use crate::harness::*;
use std::time::Duration;

#[test]
fn a_change_through_one_connection_is_seen_at_once_through_another() {
    let d = Daemon::start();
    // Every check reads through connection b right after connection a
    // changed something: no sleep, no retry anywhere.
    let script = format!(
        r#"
import libvirt
a = libvirt.open("{uri}")
b = libvirt.open("{uri}")
ro = libvirt.openReadOnly("{ro}")
def code(f):
    try:
        f()
    except libvirt.libvirtError as e:
        return e.get_error_code()
    return None
def xml(name, uuid=None, mib=512):
    u = "<uuid>%s</uuid>" % uuid if uuid else ""
    return ("<domain type='vz'><name>%s</name>%s<memory unit='MiB'>%d</memory>"
            "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>") % (name, u, mib)
for i in range(15):
    name = "c%d" % i
    dom = a.defineXML(xml(name))
    uuid = dom.UUIDString()
    assert b.lookupByName(name).UUIDString() == uuid
    assert ro.lookupByUUIDString(uuid).name() == name
    assert b.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    dom.create()
    other = b.lookupByName(name)
    assert other.state() == [libvirt.VIR_DOMAIN_RUNNING, 1], other.state()
    did = dom.ID()
    assert b.lookupByID(did).name() == name
    assert name in [x.name() for x in b.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)]
    dom.suspend()
    assert other.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    assert other.info()[0] == libvirt.VIR_DOMAIN_PAUSED
    dom.destroy()
    assert other.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert code(lambda: b.lookupByID(did)) == libvirt.VIR_ERR_NO_DOMAIN
    dom.setMemoryFlags(1024 * 1024, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    assert "<memory unit='KiB'>1048576</memory>" in other.XMLDesc(0), other.XMLDesc(0)
    assert other.maxMemory() == 1024 * 1024
    dom.setAutostart(1)
    assert other.autostart() == 1
    # A rename through a redefinition: the old name is gone at once.
    a.defineXML(xml(name + "-renamed", uuid))
    assert code(lambda: b.lookupByName(name)) == libvirt.VIR_ERR_NO_DOMAIN
    assert b.lookupByName(name + "-renamed").UUIDString() == uuid
    a.lookupByUUIDString(uuid).undefine()
    assert code(lambda: b.lookupByUUIDString(uuid)) == libvirt.VIR_ERR_NO_DOMAIN
    assert code(lambda: ro.lookupByName(name + "-renamed")) == libvirt.VIR_ERR_NO_DOMAIN
assert b.listAllDomains(0) == []
assert b.numOfDomains() == 0 and b.numOfDefinedDomains() == 0
print("ok")
"#,
        uri = d.uri(),
        ro = d.ro_uri()
    );
    let out = python(&script);
    assert_eq!(out.stdout.trim(), "ok", "{out:?}");
}

/// Defines `n` guests, starts every third and pauses every seventh of
/// those; prints nothing.
fn populate(uri: &str, n: usize) -> String {
    format!(
        r#"
import libvirt
c = libvirt.open("{uri}")
for i in range({n}):
    d = c.defineXML("<domain type='vz'><name>g%03d</name><memory unit='MiB'>256</memory>"
                    "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>" % i)
    if i % 3 == 0:
        d.create()
        if i % 7 == 0:
            d.suspend()
"#
    )
}

/// Prints every guest as "name state id", sorted.
fn snapshot(uri: &str) -> String {
    format!(
        r#"
import libvirt
c = libvirt.open("{uri}")
for d in sorted(c.listAllDomains(0), key=lambda d: d.name()):
    print(d.name(), d.state()[0], d.ID(), c.lookupByName(d.name()).info()[0])
"#
    )
}

#[test]
fn hundreds_of_guests_keep_their_states_across_a_restart_and_a_kill() {
    let mut d = Daemon::start();
    let out = python(&populate(&d.uri(), 240));
    assert!(out.ok(), "{out:?}");
    let before = python(&snapshot(&d.uri()));
    assert!(before.ok(), "{before:?}");
    let lines: Vec<&str> = before.stdout.lines().collect();
    assert_eq!(lines.len(), 240, "{}", before.stdout);
    let running = lines
        .iter()
        .filter(|l| l.split(' ').nth(1) == Some("1"))
        .count();
    let paused = lines
        .iter()
        .filter(|l| l.split(' ').nth(1) == Some("3"))
        .count();
    assert_eq!((running, paused), (68, 12), "{}", before.stdout);

    // A clean restart: the cache is loaded again from the host.
    d.stop();
    d.restart();
    let after = python(&snapshot(&d.uri()));
    assert_eq!(after.stdout, before.stdout, "{after:?}");

    // Changes right before a SIGKILL are all there after it.
    let change = format!(
        r#"
import libvirt
c = libvirt.open("{uri}")
for i in range(0, 240, 3):
    d = c.lookupByName("g%03d" % i)
    if d.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
        d.resume()
    d.destroy()
for i in range(1, 240, 10):
    c.lookupByName("g%03d" % i).undefine()
c.lookupByName("g002").create()
print(len(c.listAllDomains(0)), len(c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)))
"#,
        uri = d.uri()
    );
    let out = python(&change);
    assert_eq!(out.stdout.trim(), "216 1", "{out:?}");
    let before_kill = python(&snapshot(&d.uri()));
    d.signal("KILL");
    d.wait_exit(Duration::from_secs(10));
    d.restart();
    let after_kill = python(&snapshot(&d.uri()));
    assert_eq!(after_kill.stdout, before_kill.stdout, "{after_kill:?}");
    let listed = d.virsh(&["list", "--name"]).expect_ok().to_string();
    assert_eq!(listed.trim(), "g002");
}

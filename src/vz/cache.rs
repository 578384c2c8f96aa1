//! The domain cache: every guest as last read from the SDK, so listing
//! and looking up domains cost a map read, not a walk over every guest
//! through the SDK (libvirt's vz driver keeps the same kind of list).
//!
//! It stays true in two ways: the driver re-reads a guest after every
//! change it makes to it (before the call returns, so another connection
//! sees the change at once), and the SDK's events — added, deleted, state
//! and config changed — re-read the guest they name (changes made on the
//! host by anyone else). A guest is always re-read whole from the SDK,
//! never patched from what an event says, so the cache ends up as the host
//! is whatever order the re-reads run in. When the SDK connection is lost
//! events may have been missed: [`Driver::invalidate_domains`] forgets
//! everything and the next access loads every guest again.

use super::domain_xml::format_uuid;
use super::domains::{self, Domain};
use super::Driver;
use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Refreshes of different guests run in parallel, of one guest in turn;
/// a few stripes are enough for that and keep the cost flat.
const STRIPES: usize = 16;

/// The cached guests and their indexes.
#[derive(Default)]
struct Index {
    /// Filled from the SDK (false at start and after an invalidation).
    loaded: bool,
    /// By UUID, in the SDK's listing order.
    by_uuid: BTreeMap<[u8; 16], Arc<Domain>>,
    by_name: HashMap<String, [u8; 16]>,
    /// Active guests by domain id.
    by_id: HashMap<i32, [u8; 16]>,
}

impl Index {
    fn insert(&mut self, d: Domain) {
        self.remove(&d.uuid);
        self.by_name.insert(d.name.clone(), d.uuid);
        if d.is_active() {
            self.by_id.insert(d.id, d.uuid);
        }
        self.by_uuid.insert(d.uuid, Arc::new(d));
    }

    fn remove(&mut self, uuid: &[u8; 16]) {
        if let Some(old) = self.by_uuid.remove(uuid) {
            if self.by_name.get(&old.name) == Some(uuid) {
                self.by_name.remove(&old.name);
            }
            if self.by_id.get(&old.id) == Some(uuid) {
                self.by_id.remove(&old.id);
            }
        }
    }
}

/// The driver's domain cache.
#[derive(Default)]
pub struct DomainCache {
    /// Held shared by a refresh of one guest and exclusively by a full load
    /// or an invalidation, so a full load never overwrites a newer
    /// refresh with what it read earlier.
    epoch: RwLock<()>,
    /// One refresh of a guest at a time: the later one reads later data
    /// and writes last.
    stripes: [Mutex<()>; STRIPES],
    index: RwLock<Index>,
}

fn stripe(uuid: &[u8; 16]) -> usize {
    uuid.iter()
        .fold(0usize, |h, b| h.wrapping_mul(31) ^ usize::from(*b))
        % STRIPES
}

fn no_uuid(uuid: &[u8; 16]) -> VirError {
    VirError::new(
        ErrorCode::NoDomain,
        ErrorDomain::Parallels,
        format!("no domain with matching uuid '{}'", format_uuid(uuid)),
    )
}

impl Driver {
    /// Runs `f` on the cached guests, loading them all first if needed.
    fn cached<R>(&self, f: impl FnOnce(&Index) -> R) -> VirResult<R> {
        {
            let ix = self.cache.index.read();
            if ix.loaded {
                return Ok(f(&ix));
            }
        }
        let _epoch = self.cache.epoch.write();
        if !self.cache.index.read().loaded {
            let all = self.load_all_domains()?;
            self.prime_events(&all);
            let mut ix = Index {
                loaded: true,
                ..Index::default()
            };
            for d in all {
                ix.insert(d);
            }
            *self.cache.index.write() = ix;
        }
        let ix = self.cache.index.read();
        Ok(f(&ix))
    }

    /// Whether every guest is in the cache: a read then never waits for
    /// the SDK.
    pub fn domains_cached(&self) -> bool {
        self.cache.index.read().loaded
    }

    /// Whether this guest is in the cache now (no load, no wait).
    pub fn domain_is_cached(&self, uuid: &[u8; 16]) -> bool {
        self.cache.index.read().by_uuid.contains_key(uuid)
    }

    /// Every domain.
    pub fn domains(&self) -> VirResult<Vec<Arc<Domain>>> {
        self.cached(|ix| ix.by_uuid.values().cloned().collect())
    }

    /// How many domains there are.
    pub fn domain_count(&self) -> VirResult<usize> {
        self.cached(|ix| ix.by_uuid.len())
    }

    /// The domain with this UUID.
    pub fn domain_by_uuid(&self, uuid: &[u8; 16]) -> VirResult<Arc<Domain>> {
        self.find_domain_by_uuid(uuid)?.ok_or_else(|| no_uuid(uuid))
    }

    /// The domain with this UUID, if there is one.
    pub fn find_domain_by_uuid(&self, uuid: &[u8; 16]) -> VirResult<Option<Arc<Domain>>> {
        self.cached(|ix| ix.by_uuid.get(uuid).cloned())
    }

    /// The domain with this name, if there is one.
    pub fn find_domain_by_name(&self, name: &str) -> VirResult<Option<Arc<Domain>>> {
        self.cached(|ix| {
            ix.by_name
                .get(name)
                .and_then(|u| ix.by_uuid.get(u))
                .cloned()
        })
    }

    /// The domain with this name.
    pub fn domain_by_name(&self, name: &str) -> VirResult<Arc<Domain>> {
        self.find_domain_by_name(name)?.ok_or_else(|| {
            VirError::new(
                ErrorCode::NoDomain,
                ErrorDomain::Parallels,
                format!("no domain with matching name '{name}'"),
            )
        })
    }

    /// The active domain with this id.
    pub fn domain_by_id(&self, id: i32) -> VirResult<Arc<Domain>> {
        self.cached(|ix| ix.by_id.get(&id).and_then(|u| ix.by_uuid.get(u)).cloned())?
            .ok_or_else(|| VirError::bare(ErrorCode::NoDomain, ErrorDomain::Parallels))
    }

    /// The domain as the SDK has it right now (re-read into the cache
    /// first): what a change checks its preconditions against.
    pub fn fresh_domain(&self, uuid: &[u8; 16]) -> VirResult<Arc<Domain>> {
        self.refresh_domain(uuid);
        self.domain_by_uuid(uuid)
    }

    /// Re-reads one guest from the SDK into the cache (or drops it when
    /// the host no longer has it). Call after any change made to a guest.
    /// If the SDK cannot answer, the whole cache is dropped instead, so
    /// nothing stale is ever served.
    pub fn refresh_domain(&self, uuid: &[u8; 16]) {
        let _epoch = self.cache.epoch.read();
        if !self.cache.index.read().loaded {
            // The next access loads everything, this guest included.
            return;
        }
        let _turn = self.cache.stripes[stripe(uuid)].lock();
        match self.load_domain(uuid) {
            Ok(Some(d)) => self.cache.index.write().insert(d),
            Ok(None) => self.cache.index.write().remove(uuid),
            Err(e) => {
                log::warn!(
                    "cannot re-read domain {} from the Virtuozzo host ({}); reloading every domain on next use",
                    format_uuid(uuid),
                    e.message
                );
                self.cache.index.write().loaded = false;
            }
        }
    }

    /// Logs in and loads every guest in the background, so the first
    /// client does not wait for a host with thousands of guests; a
    /// failure here is retried on first use.
    pub fn load_domains_in_background(self: &Arc<Self>) {
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("vz-cache-load".into())
            .spawn(move || match me.domain_count() {
                Ok(n) => log::info!("{n} domains loaded from the Virtuozzo host"),
                Err(e) => log::warn!("cannot load the domains yet: {}", e.message),
            });
        if let Err(e) = spawned {
            log::warn!("cannot start loading the domains: {e}");
        }
    }

    /// Forgets every cached domain; the next access loads them all from
    /// the SDK again. For when events may have been missed (the SDK
    /// connection was lost).
    pub fn invalidate_domains(&self) {
        let _epoch = self.cache.epoch.write();
        *self.cache.index.write() = Index::default();
    }

    fn load_all_domains(&self) -> VirResult<Vec<Domain>> {
        let session = self.session()?;
        domains::load_all(&self.sdk, &session)
    }

    fn load_domain(&self, uuid: &[u8; 16]) -> VirResult<Option<Domain>> {
        let session = self.session()?;
        domains::load_one(&self.sdk, &session, uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::abi::{vms, PVTF_CT, PVTF_VM};
    use crate::vz::test_host::Host;
    use std::time::{Duration, Instant};

    const XML: &str = "<domain type='vz'><name>NAME</name><memory unit='MiB'>512</memory>\
                       <vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>";

    fn xml(name: &str) -> String {
        XML.replace("NAME", name)
    }

    /// A second SDK session: changes through it bypass the driver, as
    /// a change made on the host with prlctl would.
    fn behind_the_back(h: &Host, name: &str) -> crate::sdk::Guest {
        let s = h.sdk.login().expect("login");
        h.sdk
            .guests(&s, PVTF_VM | PVTF_CT)
            .expect("list")
            .into_iter()
            .find(|g| g.name().ok().as_deref() == Some(name))
            .expect("guest exists on the host")
    }

    #[track_caller]
    fn eventually(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the cache never saw: {what}");
    }

    #[test]
    fn the_drivers_own_changes_are_seen_before_the_call_returns() {
        let h = Host::new("own");
        let d = &h.driver;
        assert_eq!(d.domain_count().unwrap(), 0);
        let (dom, _) = d.define(&xml("c1")).unwrap();
        // No waiting anywhere below: each call answers from the cache.
        assert_eq!(d.domain_by_name("c1").unwrap().uuid, dom.uuid);
        d.lifecycle(&dom.uuid, domains::Lifecycle::Start).unwrap();
        let running = d.domain_by_uuid(&dom.uuid).unwrap();
        assert_eq!(running.vms, vms::VMS_RUNNING);
        assert_eq!(d.domain_by_id(running.id).unwrap().uuid, dom.uuid);
        d.lifecycle(&dom.uuid, domains::Lifecycle::Suspend).unwrap();
        assert_eq!(d.domain_by_uuid(&dom.uuid).unwrap().vms, vms::VMS_PAUSED);
        d.lifecycle(&dom.uuid, domains::Lifecycle::Destroy).unwrap();
        let stopped = d.domain_by_uuid(&dom.uuid).unwrap();
        assert_eq!(stopped.vms, vms::VMS_STOPPED);
        assert!(d.domain_by_id(running.id).is_err(), "no id once stopped");
        // A rename through a redefinition moves the name index.
        let renamed = xml("c1-renamed").replace(
            "<name>",
            &format!("<uuid>{}</uuid><name>", format_uuid(&dom.uuid)),
        );
        d.define(&renamed).unwrap();
        assert!(d.find_domain_by_name("c1").unwrap().is_none());
        assert_eq!(d.domain_by_name("c1-renamed").unwrap().uuid, dom.uuid);
        d.set_memory(&d.domain_by_uuid(&dom.uuid).unwrap(), 2048 * 1024)
            .unwrap();
        assert_eq!(
            d.domain_by_uuid(&dom.uuid).unwrap().def.memory_kib,
            2048 * 1024
        );
        d.undefine(&dom.uuid, false, false).unwrap();
        assert!(d.find_domain_by_uuid(&dom.uuid).unwrap().is_none());
        assert!(d.find_domain_by_name("c1-renamed").unwrap().is_none());
        assert_eq!(d.domain_count().unwrap(), 0);
    }

    #[test]
    fn changes_made_on_the_host_arrive_through_events() {
        let h = Host::new("host");
        let d = &h.driver;
        let (dom, _) = d.define(&xml("h1")).unwrap();
        assert_eq!(d.domain_count().unwrap(), 1);

        let g = behind_the_back(&h, "h1");
        g.start().unwrap();
        eventually("the start", || {
            d.domain_by_uuid(&dom.uuid).unwrap().vms == vms::VMS_RUNNING
        });
        g.kill().unwrap();
        eventually("the stop", || {
            d.domain_by_uuid(&dom.uuid).unwrap().vms == vms::VMS_STOPPED
        });
        g.begin_edit().unwrap();
        g.set_cpus(3).unwrap();
        g.set_name("h1-elsewhere").unwrap();
        g.commit().unwrap();
        eventually("the new config", || {
            d.find_domain_by_name("h1-elsewhere")
                .unwrap()
                .is_some_and(|x| x.def.vcpus == 3)
        });
        assert!(d.find_domain_by_name("h1").unwrap().is_none());

        // A guest registered and one deleted on the host.
        let s = h.sdk.login().unwrap();
        let n = h.sdk.new_vm(&s).unwrap();
        n.set_name("h2").unwrap();
        n.register().unwrap();
        eventually("the added guest", || {
            d.find_domain_by_name("h2").unwrap().is_some()
        });
        g.delete().unwrap();
        eventually("the deleted guest", || {
            d.find_domain_by_uuid(&dom.uuid).unwrap().is_none()
        });
        assert_eq!(d.domain_count().unwrap(), 1);
    }

    #[test]
    fn invalidation_reloads_from_the_host() {
        let h = Host::new("inval");
        let d = &h.driver;
        for i in 0..5 {
            d.define(&xml(&format!("i{i}"))).unwrap();
        }
        assert_eq!(d.domain_count().unwrap(), 5);
        // Events about changes that happen while the cache is empty
        // must not resurrect it half-full.
        d.invalidate_domains();
        let g = behind_the_back(&h, "i3");
        g.delete().unwrap();
        let names: Vec<String> = d
            .domains()
            .unwrap()
            .iter()
            .map(|x| x.name.clone())
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(!names.contains(&"i3".to_string()));
    }

    #[test]
    fn concurrent_changes_from_many_threads_leave_the_cache_equal_to_the_host() {
        let h = Host::new("race");
        let d = &h.driver;
        let uuids: Vec<[u8; 16]> = (0..4)
            .map(|i| d.define(&xml(&format!("r{i}"))).unwrap().0.uuid)
            .collect();
        std::thread::scope(|s| {
            for u in &uuids {
                s.spawn(move || {
                    for _ in 0..15 {
                        d.lifecycle(u, domains::Lifecycle::Start).unwrap();
                        d.lifecycle(u, domains::Lifecycle::Suspend).unwrap();
                        d.lifecycle(u, domains::Lifecycle::Resume).unwrap();
                        d.lifecycle(u, domains::Lifecycle::Destroy).unwrap();
                    }
                    d.lifecycle(u, domains::Lifecycle::Start).unwrap();
                });
            }
        });
        // Late events may still be in flight: once they are handled the
        // cache must equal the host, guest for guest.
        let session = h.sdk.login().unwrap();
        eventually("the host's state everywhere", || {
            uuids.iter().all(|u| {
                let truth = domains::load_one(&h.sdk, &session, u).unwrap().unwrap();
                let cached = d.domain_by_uuid(u).unwrap();
                truth.vms == cached.vms && truth.id == cached.id
            })
        });
        for u in &uuids {
            assert_eq!(d.domain_by_uuid(u).unwrap().vms, vms::VMS_RUNNING);
        }
    }
}

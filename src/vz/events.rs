//! Domain events: the SDK's events turned into libvirt's lifecycle
//! events (event, detail) and device events (the alias of a device that
//! came or went), fanned out to whoever subscribed (the REMOTE program).

use super::domain_xml::{device_aliases, parse_uuid};
use super::Driver;
use crate::sdk::abi::{event as pet, vms};
use crate::sdk::SdkEvent;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// `virDomainEventType` values.
pub mod lifecycle {
    /// VIR_DOMAIN_EVENT_DEFINED
    pub const DEFINED: i32 = 0;
    /// VIR_DOMAIN_EVENT_UNDEFINED
    pub const UNDEFINED: i32 = 1;
    /// VIR_DOMAIN_EVENT_STARTED
    pub const STARTED: i32 = 2;
    /// VIR_DOMAIN_EVENT_SUSPENDED
    pub const SUSPENDED: i32 = 3;
    /// VIR_DOMAIN_EVENT_RESUMED
    pub const RESUMED: i32 = 4;
    /// VIR_DOMAIN_EVENT_STOPPED
    pub const STOPPED: i32 = 5;
}

/// What happened to a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// VIR_DOMAIN_EVENT_ID_LIFECYCLE: virDomainEventType and its detail.
    Lifecycle {
        /// virDomainEventType.
        event: i32,
        /// Its detail.
        detail: i32,
    },
    /// VIR_DOMAIN_EVENT_ID_DEVICE_ADDED: the alias of a device a running
    /// domain gained.
    DeviceAdded(String),
    /// VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED: the alias of a device a running
    /// domain lost (what Nova waits for after a detach).
    DeviceRemoved(String),
}

/// An event about one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainEvent {
    /// Domain name.
    pub name: String,
    /// Domain UUID.
    pub uuid: [u8; 16],
    /// Domain id (-1 when inactive).
    pub id: i32,
    /// What happened.
    pub change: Change,
}

type Listener = Arc<dyn Fn(&DomainEvent) + Send + Sync>;

/// A numbered perf-stats event.
pub(super) type PerfEvent = (u64, Arc<crate::sdk::Handle>);

/// What the driver remembers to turn SDK events into libvirt ones: each
/// guest's name, id and last state, and who listens.
#[derive(Default)]
pub struct EventState {
    known: Mutex<HashMap<[u8; 16], (String, i32, u32)>>,
    listeners: Mutex<Vec<Listener>>,
    /// Why a guest is being stopped, when this driver stops it: the SDK's
    /// state event does not say, libvirt's detail does.
    stop_detail: Mutex<HashMap<[u8; 16], i32>>,
    /// Guests being undefined by this driver: the disks it detaches first
    /// change their config, which libvirt never reports as DEFINED/UPDATED.
    undefining: Mutex<HashSet<[u8; 16]>>,
    /// The latest perf-stats event of each guest, numbered.
    pub(super) perf: Mutex<HashMap<[u8; 16], PerfEvent>>,
    /// Signalled when a perf-stats event arrives.
    pub(super) perf_arrived: parking_lot::Condvar,
    /// Each guest's device aliases as of its last config event, to tell
    /// which devices a config change added or removed.
    aliases: Mutex<HashMap<[u8; 16], Vec<String>>>,
    /// Signalled when a guest's aliases were brought up to date.
    aliases_seen: parking_lot::Condvar,
}

impl EventState {
    /// Drops what was learned from an SDK session that is gone.
    pub(super) fn forget(&self) {
        self.known.lock().clear();
        self.stop_detail.lock().clear();
        self.undefining.lock().clear();
        self.perf.lock().clear();
        // The aliases of guests the lost session knew: a guest gone by the
        // time the host is back would keep its entry for ever (its DELETED
        // was never heard), and a call waiting for the config event of a
        // device change will hear none from the old session.
        self.aliases.lock().clear();
        self.aliases_seen.notify_all();
    }
}

impl Driver {
    /// Calls `f` for every lifecycle event, in order per domain.
    pub fn subscribe(&self, f: impl Fn(&DomainEvent) + Send + Sync + 'static) {
        self.events.listeners.lock().push(Arc::new(f));
    }

    /// Notes a guest this driver just registered, so its events can name
    /// it even if it is gone before they are handled.
    pub(super) fn note_defined(&self, uuid: &[u8; 16], name: &str) {
        self.events
            .known
            .lock()
            .entry(*uuid)
            .or_insert_with(|| (name.to_string(), -1, vms::VMS_STOPPED));
    }

    /// Notes that `uuid` is being undefined (`on` true) or that the
    /// undefine failed (`on` false).
    pub(super) fn undefining(&self, uuid: &[u8; 16], on: bool) {
        let mut set = self.events.undefining.lock();
        if on {
            set.insert(*uuid);
        } else {
            set.remove(uuid);
        }
    }

    /// Notes why the next stop of `uuid` happens (VIR_DOMAIN_EVENT_STOPPED_*).
    pub(super) fn expect_stop(&self, uuid: &[u8; 16], detail: i32) {
        self.events.stop_detail.lock().insert(*uuid, detail);
    }

    fn emit(&self, ev: DomainEvent) {
        let listeners = self.events.listeners.lock().clone();
        for l in listeners {
            l(&ev);
        }
    }

    /// Remembers the guests present when every guest is (re)loaded.
    pub(super) fn prime_events(&self, all: &[super::domains::Domain]) {
        let mut known = self.events.known.lock();
        let mut aliases = self.events.aliases.lock();
        for d in all {
            known.insert(d.uuid, (d.name.clone(), d.id, d.vms));
            aliases.insert(d.uuid, device_aliases(&d.def));
        }
    }

    /// Handles the SDK events queued so far, in order (on the driver's
    /// event thread).
    ///
    /// The cache first, so whoever hears an event sees the change: each
    /// guest the events are about is re-read once for the whole batch,
    /// after every one of them was raised. Re-reading it per event cost a
    /// host round trip each, queued behind every client's jobs, so under
    /// steady churn the events fell ever further behind and their backlog
    /// (and the state remembered for guests long gone) grew without end
    /// (found by make soak). Handling an event with a newer reading is what
    /// a late handler did anyway; the handling below allows for it.
    pub(super) fn on_sdk_events(&self, batch: Vec<SdkEvent>) {
        // A lost connection ends its session: what follows it in the batch
        // came from that session too and is ignored, as a forgotten
        // session's events are.
        let cut = batch
            .iter()
            .position(|e| e.kind == pet::PET_DSP_EVT_DISP_CONNECTION_CLOSED);
        let run = &batch[..cut.unwrap_or(batch.len())];
        let mut refreshed = HashSet::new();
        for e in run {
            if let Some(uuid) = parse_uuid(&e.issuer) {
                if !refreshed.contains(&uuid) && self.event_needs_refresh(e.kind, &uuid) {
                    refreshed.insert(uuid);
                    self.refresh_domain(&uuid);
                }
            }
        }
        for e in run {
            self.handle_sdk_event(e);
        }
        if cut.is_some() {
            self.forget_host();
        }
    }

    /// Whether an event may have changed what the cache holds for `uuid`.
    /// A guest that is already cached when its ADDED arrives was read
    /// after it was added (events come in order, so an earlier DELETED
    /// was handled first); what changed since has its own event.
    fn event_needs_refresh(&self, kind: u32, uuid: &[u8; 16]) -> bool {
        match kind {
            pet::PET_DSP_EVT_VM_ADDED | pet::PET_DSP_EVT_VM_CREATED => !self.domain_is_cached(uuid),
            pet::PET_DSP_EVT_VM_CONFIG_CHANGED
            | pet::PET_DSP_EVT_VM_DELETED
            | pet::PET_DSP_EVT_VM_UNREGISTERED
            | pet::PET_DSP_EVT_VM_STATE_CHANGED => true,
            _ => false,
        }
    }

    /// Handles one SDK event, the cache already brought up to date.
    fn handle_sdk_event(&self, e: &SdkEvent) {
        let Some(uuid) = parse_uuid(&e.issuer) else {
            return;
        };
        let current = || self.domain_by_uuid(&uuid).ok();
        let ev = |name: String, id: i32, event: i32, detail: i32| DomainEvent {
            name,
            uuid,
            id,
            change: Change::Lifecycle { event, detail },
        };
        match e.kind {
            pet::PET_DSP_EVT_VM_CONFIG_CHANGED if self.events.undefining.lock().contains(&uuid) => {
            }
            pet::PET_DSP_EVT_VM_ADDED
            | pet::PET_DSP_EVT_VM_CREATED
            | pet::PET_DSP_EVT_VM_CONFIG_CHANGED => {
                let detail = if e.kind == pet::PET_DSP_EVT_VM_CONFIG_CHANGED {
                    1
                } else {
                    0
                };
                // As for state changes, the guest may be gone by now; what
                // this driver defined it already noted (note_defined).
                let cached = self.events.known.lock().get(&uuid).cloned();
                let cur = current();
                // The remembered state belongs to the state events alone: a
                // guest started before this event is handled must still get
                // its STARTED, so the state read now must not replace it.
                let known = match (&cur, cached) {
                    (Some(d), Some((_, _, last))) => (d.name.clone(), d.id, last),
                    (Some(d), None) if e.kind != pet::PET_DSP_EVT_VM_CONFIG_CHANGED => {
                        (d.name.clone(), d.id, vms::VMS_STOPPED)
                    }
                    (Some(d), None) => (d.name.clone(), d.id, d.vms),
                    (None, Some(k)) => k,
                    (None, None) => return,
                };
                self.events.known.lock().insert(uuid, known.clone());
                self.emit(ev(known.0.clone(), known.1, lifecycle::DEFINED, detail));
                if let Some(d) = cur {
                    self.device_changes(&d);
                }
            }
            pet::PET_DSP_EVT_VM_PERFSTATS => {
                let mut perf = self.events.perf.lock();
                let seq = perf.get(&uuid).map_or(0, |(s, _)| *s) + 1;
                perf.insert(uuid, (seq, Arc::clone(&e.handle)));
                self.events.perf_arrived.notify_all();
            }
            pet::PET_DSP_EVT_VM_DELETED | pet::PET_DSP_EVT_VM_UNREGISTERED => {
                // A stop expected of a destroy or save that failed would
                // outlive the guest.
                self.events.stop_detail.lock().remove(&uuid);
                self.events.undefining.lock().remove(&uuid);
                self.events.perf.lock().remove(&uuid);
                self.events.aliases.lock().remove(&uuid);
                let old = self.events.known.lock().remove(&uuid);
                if let Some((name, _, _)) = old {
                    self.emit(ev(name, -1, lifecycle::UNDEFINED, 0));
                }
            }
            pet::PET_DSP_EVT_VM_STATE_CHANGED => {
                // Intermediate states (starting, pausing, continuing,
                // snapshotting...) send no event, as in libvirt's vz driver,
                // and are not remembered either: the event of the next
                // settled state is chosen from the last settled one (paused
                // → continuing → running is a RESUMED, not a STARTED).
                let Some(new) = e.state.map(|s| match s {
                    vms::VMS_MOUNTED => vms::VMS_STOPPED,
                    s => s,
                }) else {
                    return;
                };
                if !matches!(
                    new,
                    vms::VMS_RUNNING | vms::VMS_PAUSED | vms::VMS_STOPPED | vms::VMS_SUSPENDED
                ) {
                    return;
                }
                // The guest may be gone already (destroy then undefine in
                // quick succession): the cache still knows its name.
                let cached = self.events.known.lock().get(&uuid).cloned();
                let (name, id) = match (current(), cached) {
                    (Some(d), _) => (d.name.clone(), d.id),
                    (None, Some((name, _, _))) => (name, -1),
                    (None, None) => return,
                };
                let prev = self
                    .events
                    .known
                    .lock()
                    .insert(uuid, (name.clone(), id, new))
                    .map(|(_, _, s)| s);
                // libvirt's vz driver: which lifecycle event a new state is.
                // A guest saved while paused comes back paused: started
                // from its saved state, then suspended, as libvirt tells
                // of a restore that leaves the guest paused.
                if (new, prev) == (vms::VMS_PAUSED, Some(vms::VMS_SUSPENDED)) {
                    self.emit(ev(name.clone(), id, lifecycle::STARTED, 2));
                    self.emit(ev(name, id, lifecycle::SUSPENDED, 4));
                    return;
                }
                let (event, detail) = match (new, prev) {
                    (vms::VMS_RUNNING, Some(vms::VMS_PAUSED)) => (lifecycle::RESUMED, 0),
                    (vms::VMS_RUNNING, Some(vms::VMS_RUNNING)) => return,
                    (vms::VMS_RUNNING, Some(vms::VMS_SUSPENDED)) => (lifecycle::STARTED, 2),
                    (vms::VMS_RUNNING, _) => (lifecycle::STARTED, 0),
                    (vms::VMS_PAUSED, _) => (lifecycle::SUSPENDED, 0),
                    // Dropping a saved state changes nothing libvirt shows.
                    (vms::VMS_STOPPED, Some(vms::VMS_SUSPENDED)) => return,
                    (vms::VMS_STOPPED, _) => (
                        lifecycle::STOPPED,
                        self.events.stop_detail.lock().remove(&uuid).unwrap_or(0),
                    ),
                    (vms::VMS_SUSPENDED, _) => (lifecycle::STOPPED, 4),
                    _ => return,
                };
                let id = if event == lifecycle::STOPPED { -1 } else { id };
                self.emit(ev(name, id, event, detail));
            }
            _ => {}
        }
    }

    /// Waits (at most `limit`) until the config events have caught up with
    /// a device change this driver made to `uuid`, so its DEVICE_ADDED or
    /// DEVICE_REMOVED is sent before the next change can hide it: a device
    /// attached and detached before the first event is read would
    /// otherwise never be seen.
    pub(super) fn await_device_events(&self, uuid: &[u8; 16], want: &[String], limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        let mut aliases = self.events.aliases.lock();
        while aliases.get(uuid).is_some_and(|a| a != want) {
            if self
                .events
                .aliases_seen
                .wait_until(&mut aliases, deadline)
                .timed_out()
            {
                return;
            }
        }
    }

    /// Tells which devices a config change gave or took from a running
    /// guest, by their aliases, and remembers the new set.
    fn device_changes(&self, d: &super::domains::Domain) {
        let now = device_aliases(&d.def);
        let before = self.events.aliases.lock().insert(d.uuid, now.clone());
        self.events.aliases_seen.notify_all();
        let Some(before) = before.filter(|_| d.is_active()) else {
            return;
        };
        let event = |change| DomainEvent {
            name: d.name.clone(),
            uuid: d.uuid,
            id: d.id,
            change,
        };
        for gone in before.iter().filter(|a| !now.contains(a)) {
            self.emit(event(Change::DeviceRemoved(gone.clone())));
        }
        for new in now.iter().filter(|a| !before.contains(a)) {
            self.emit(event(Change::DeviceAdded(new.clone())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vz::test_host::Host;

    /// A change made on the host by another SDK client (prlctl, another
    /// management tool) reaches the driver's subscribers: events come
    /// from the SDK's events, not from this driver's own calls.
    #[test]
    fn changes_made_on_the_host_reach_subscribers() {
        let h = Host::new("ev");
        let (sdk, driver) = (&h.sdk, &h.driver);
        let (tx, rx) = crossbeam_channel::unbounded();
        driver.subscribe(move |e| {
            let _ = tx.send(e.clone());
        });
        driver.session().unwrap();

        let host_tool = sdk.login().unwrap();
        let g = sdk.new_vm(&host_tool).unwrap();
        g.set_name("made-on-host").unwrap();
        g.set_ram_mb(512).unwrap();
        g.set_cpus(1).unwrap();
        g.register().unwrap();
        g.start().unwrap();
        g.pause().unwrap();
        g.resume().unwrap();
        g.kill().unwrap();
        g.delete().unwrap();

        let want = [
            (lifecycle::DEFINED, 0),
            (lifecycle::STARTED, 0),
            (lifecycle::SUSPENDED, 0),
            (lifecycle::RESUMED, 0),
            (lifecycle::STOPPED, 0),
            (lifecycle::UNDEFINED, 0),
        ];
        for (event, detail) in want {
            let e = rx.recv_timeout(Duration::from_secs(10)).expect("an event");
            assert_eq!(e.name, "made-on-host");
            assert_eq!(e.change, Change::Lifecycle { event, detail });
        }
    }

    /// A guest removed from the host while the session was lost leaves
    /// nothing of itself behind once the host is back, and a guest still
    /// there is known by what the host has now.
    #[test]
    fn a_regained_host_has_no_aliases_of_the_lost_session() {
        let h = Host::new("evlost");
        let (sdk, driver) = (&h.sdk, &h.driver);
        let host_tool = sdk.login().unwrap();
        let mut made = Vec::new();
        for name in ["stays", "goes"] {
            let g = sdk.new_vm(&host_tool).unwrap();
            g.set_name(name).unwrap();
            g.set_ram_mb(512).unwrap();
            g.set_cpus(1).unwrap();
            g.register().unwrap();
            made.push((parse_uuid(&g.uuid().unwrap()).unwrap(), g));
        }
        let [(stays, _), (goes, gone)] = <[_; 2]>::try_from(made).ok().unwrap();
        assert_eq!(driver.domains().unwrap().len(), 2);
        let known = |u: &[u8; 16]| driver.events.aliases.lock().contains_key(u);
        assert!(known(&stays) && known(&goes));

        driver.forget_host();
        assert!(driver.events.aliases.lock().is_empty());
        // Gone while nobody listened, then the host is back.
        gone.delete().unwrap();
        assert_eq!(driver.domains().unwrap().len(), 1);
        assert!(known(&stays), "a present guest is primed again");
        assert!(!known(&goes), "a gone guest left its aliases behind");
    }
}

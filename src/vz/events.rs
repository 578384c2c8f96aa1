//! Domain events: the SDK's events turned into libvirt's lifecycle
//! events (event, detail), fanned out to whoever subscribed (the REMOTE
//! program).

use super::domain_xml::parse_uuid;
use super::Driver;
use crate::sdk::abi::{event as pet, vms};
use crate::sdk::SdkEvent;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

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

/// A lifecycle event about one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainEvent {
    /// Domain name.
    pub name: String,
    /// Domain UUID.
    pub uuid: [u8; 16],
    /// Domain id (-1 when inactive).
    pub id: i32,
    /// virDomainEventType.
    pub event: i32,
    /// Its detail.
    pub detail: i32,
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
    /// The latest perf-stats event of each guest, numbered.
    pub(super) perf: Mutex<HashMap<[u8; 16], PerfEvent>>,
    /// Signalled when a perf-stats event arrives.
    pub(super) perf_arrived: parking_lot::Condvar,
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
        for d in all {
            known.insert(d.uuid, (d.name.clone(), d.id, d.vms));
        }
    }

    /// Handles one SDK event (on the SDK's event thread).
    pub(super) fn on_sdk_event(&self, e: SdkEvent) {
        let Some(uuid) = parse_uuid(&e.issuer) else {
            return;
        };
        // The cache first, so whoever hears the event sees the change. A
        // guest that is already cached when its ADDED arrives was read
        // after it was added (events come in order, so an earlier DELETED
        // was handled first); what changed since has its own event.
        let refresh = match e.kind {
            pet::PET_DSP_EVT_VM_ADDED => !self.domain_is_cached(&uuid),
            pet::PET_DSP_EVT_VM_CONFIG_CHANGED
            | pet::PET_DSP_EVT_VM_DELETED
            | pet::PET_DSP_EVT_VM_STATE_CHANGED => true,
            _ => false,
        };
        if refresh {
            self.refresh_domain(&uuid);
        }
        let current = || self.domain_by_uuid(&uuid).ok();
        let ev = |name: String, id: i32, event: i32, detail: i32| DomainEvent {
            name,
            uuid,
            id,
            event,
            detail,
        };
        match e.kind {
            pet::PET_DSP_EVT_VM_ADDED | pet::PET_DSP_EVT_VM_CONFIG_CHANGED => {
                let detail = if e.kind == pet::PET_DSP_EVT_VM_ADDED {
                    0
                } else {
                    1
                };
                // As for state changes, the guest may be gone by now; what
                // this driver defined it already noted (note_defined).
                let cached = self.events.known.lock().get(&uuid).cloned();
                // The remembered state belongs to the state events alone: a
                // guest started before this event is handled must still get
                // its STARTED, so the state read now must not replace it.
                let known = match (current(), cached) {
                    (Some(d), Some((_, _, last))) => (d.name.clone(), d.id, last),
                    (Some(d), None) if e.kind == pet::PET_DSP_EVT_VM_ADDED => {
                        (d.name.clone(), d.id, vms::VMS_STOPPED)
                    }
                    (Some(d), None) => (d.name.clone(), d.id, d.vms),
                    (None, Some(k)) => k,
                    (None, None) => return,
                };
                self.events.known.lock().insert(uuid, known.clone());
                self.emit(ev(known.0, known.1, lifecycle::DEFINED, detail));
            }
            pet::PET_DSP_EVT_VM_PERFSTATS => {
                let mut perf = self.events.perf.lock();
                let seq = perf.get(&uuid).map_or(0, |(s, _)| *s) + 1;
                perf.insert(uuid, (seq, e.handle));
                self.events.perf_arrived.notify_all();
            }
            pet::PET_DSP_EVT_VM_DELETED => {
                self.events.perf.lock().remove(&uuid);
                let old = self.events.known.lock().remove(&uuid);
                if let Some((name, _, _)) = old {
                    self.emit(ev(name, -1, lifecycle::UNDEFINED, 0));
                }
            }
            pet::PET_DSP_EVT_VM_STATE_CHANGED => {
                let Some(new) = e.state else {
                    return;
                };
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
}

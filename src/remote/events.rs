//! Domain event registrations of each connection and the fan-out of the
//! driver's events to them as MESSAGE packets.
//!
//! Delivery never blocks: packets are queued on the client's connection
//! (Client::send_event), and a client that stops reading is dropped once
//! its queue passes the limit, as libvirt drops a slow client.

use super::protocol::{Domain, PROGRAM, VERSION};
use super::Call;
use crate::error::{ErrorDomain, VirError, VirResult};
use crate::rpc::client::Client;
use crate::rpc::message::{self, Header, MessageType, Status};
use crate::rpc::xdr::{self, FixedOpaque};
use crate::vz::events::{Change, DomainEvent};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Weak};

/// VIR_DOMAIN_EVENT_ID_LIFECYCLE
const EVENT_ID_LIFECYCLE: i32 = 0;
/// VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED
const EVENT_ID_DEVICE_REMOVED: i32 = 15;
/// VIR_DOMAIN_EVENT_ID_DEVICE_ADDED
const EVENT_ID_DEVICE_ADDED: i32 = 19;
/// Event ids a 9.0 client may register (VIR_DOMAIN_EVENT_ID_LAST). Like
/// libvirtd, every one is accepted, also those this driver never sends
/// (`virsh event --all` registers them all and fails if one is refused).
const EVENT_ID_LAST: i32 = 27;
/// REMOTE_PROC_CONNECT_EVENT_CONNECTION_CLOSED (body: the reason)
const PROC_EVENT_CONNECTION_CLOSED: i32 = 362;
/// VIR_CONNECT_CLOSE_REASON_EOF
const CLOSE_REASON_EOF: i32 = 1;

/// Queues a MESSAGE packet of the REMOTE program on `client`.
fn send_message(client: &Client, proc_: i32, body: &[u8]) {
    // libvirtd sends events with serial 1; clients ignore it.
    let packet = message::packet(
        &Header {
            prog: PROGRAM,
            vers: VERSION,
            proc_,
            mtype: MessageType::Message as i32,
            serial: 1,
            status: Status::Ok as i32,
        },
        body,
    );
    client.send_event(&packet);
}

/// Whether the client's driver connection was opened before the driver
/// lost the host.
fn lost(client: &Client) -> bool {
    client
        .existing_session::<super::RemoteSession>()
        .and_then(|s| s.conn.read().clone())
        .is_some_and(|c| c.lost())
}

/// The connections that registered a close callback.
#[derive(Default)]
pub struct CloseCallbacks {
    clients: Mutex<HashMap<u64, Weak<Client>>>,
}

impl CloseCallbacks {
    /// Notes that `client` has (or no longer has) a close callback.
    pub fn set(&self, client: &Arc<Client>, on: bool) {
        let mut clients = self.clients.lock();
        if on {
            clients.insert(client.id, Arc::downgrade(client));
        } else {
            clients.remove(&client.id);
        }
    }

    /// Forgets a client that went away.
    pub fn drop_client(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Fires the close callbacks of the connections the driver lost, with
    /// reason EOF, as libvirt's daemon relays its driver's close callback
    /// (CONNECT_EVENT_CONNECTION_CLOSED); each fires once.
    pub fn fire_lost(&self) {
        let fired: Vec<Arc<Client>> = {
            let mut clients = self.clients.lock();
            let mut fired = Vec::new();
            clients.retain(|_, weak| match weak.upgrade() {
                Some(c) if lost(&c) => {
                    fired.push(c);
                    false
                }
                Some(_) => true,
                None => false,
            });
            fired
        };
        for c in fired {
            log::debug!("client {}: connection closed, reason EOF", c.id);
            send_message(
                &c,
                PROC_EVENT_CONNECTION_CLOSED,
                &CLOSE_REASON_EOF.to_be_bytes(),
            );
        }
    }
}

/// How one kind of event travels: its event id, the MESSAGE procedure for
/// callback registrations and the one for legacy registrations (none:
/// libvirtd sends it only to callback registrations).
struct Route {
    event_id: i32,
    callback_proc: i32,
    legacy_proc: Option<i32>,
}

/// REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE
const LIFECYCLE: Route = Route {
    event_id: EVENT_ID_LIFECYCLE,
    callback_proc: 318,
    legacy_proc: Some(107),
};
/// REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED, REMOTE_PROC_DOMAIN_EVENT_DEVICE_REMOVED
const DEVICE_REMOVED: Route = Route {
    event_id: EVENT_ID_DEVICE_REMOVED,
    callback_proc: 333,
    legacy_proc: Some(311),
};
/// REMOTE_PROC_DOMAIN_EVENT_CALLBACK_DEVICE_ADDED
const DEVICE_ADDED: Route = Route {
    event_id: EVENT_ID_DEVICE_ADDED,
    callback_proc: 354,
    legacy_proc: None,
};

#[derive(Clone, Debug)]
struct Registration {
    /// None for the legacy calls, which carry no callback id.
    callback_id: Option<i32>,
    event_id: i32,
    dom: Option<[u8; 16]>,
}

/// One connection and what it registered.
type ClientRegs = (Weak<Client>, Vec<Registration>);

/// Every connection's registrations.
#[derive(Default)]
pub struct Registry {
    clients: Mutex<HashMap<u64, ClientRegs>>,
    next_callback: AtomicI32,
}

/// `remote_domain_event_lifecycle_msg`
#[derive(Serialize)]
struct LifecycleMsg<'a> {
    dom: &'a Domain,
    event: i32,
    detail: i32,
}

/// `remote_domain_event_device_removed_msg` (and `..._device_added_msg`)
#[derive(Serialize)]
struct DeviceMsg<'a> {
    dom: &'a Domain,
    dev_alias: &'a str,
}

/// The route of an event and its body after the callback id.
fn encode(ev: &DomainEvent, dom: &Domain) -> (Route, Vec<u8>) {
    let mut body = Vec::with_capacity(128);
    let (route, r) = match &ev.change {
        Change::Lifecycle { event, detail } => (
            LIFECYCLE,
            xdr::to_writer(
                &mut body,
                &LifecycleMsg {
                    dom,
                    event: *event,
                    detail: *detail,
                },
            ),
        ),
        Change::DeviceRemoved(alias) | Change::DeviceAdded(alias) => (
            if matches!(ev.change, Change::DeviceRemoved(_)) {
                DEVICE_REMOVED
            } else {
                DEVICE_ADDED
            },
            xdr::to_writer(
                &mut body,
                &DeviceMsg {
                    dom,
                    dev_alias: alias,
                },
            ),
        ),
    };
    if r.is_err() {
        body.clear();
    }
    (route, body)
}

impl Registry {
    fn add(&self, client: &Arc<Client>, reg: Registration) {
        self.clients
            .lock()
            .entry(client.id)
            .or_insert_with(|| (Arc::downgrade(client), Vec::new()))
            .1
            .push(reg);
    }

    /// Forgets a client that went away.
    pub fn drop_client(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Forgets the registrations of connections the driver lost: their
    /// events came from the SDK session that is gone.
    pub fn drop_lost(&self) {
        self.clients
            .lock()
            .retain(|_, (weak, _)| weak.upgrade().is_some_and(|c| !lost(&c)));
    }

    /// Sends `ev` to every matching registration.
    pub fn deliver(&self, ev: &DomainEvent) {
        let dom = Domain {
            name: ev.name.clone(),
            uuid: FixedOpaque(ev.uuid),
            id: ev.id,
        };
        let (route, msg) = encode(ev, &dom);
        if msg.is_empty() {
            return;
        }
        let mut gone = Vec::new();
        let targets: Vec<(Arc<Client>, Vec<Option<i32>>)> = {
            let clients = self.clients.lock();
            clients
                .iter()
                .filter_map(|(id, (weak, regs))| {
                    let Some(c) = weak.upgrade() else {
                        gone.push(*id);
                        return None;
                    };
                    let ids: Vec<Option<i32>> = regs
                        .iter()
                        .filter(|r| {
                            r.event_id == route.event_id
                                && r.dom.is_none_or(|u| u == ev.uuid)
                                && (r.callback_id.is_some() || route.legacy_proc.is_some())
                        })
                        .map(|r| r.callback_id)
                        .collect();
                    (!ids.is_empty()).then_some((c, ids))
                })
                .collect()
        };
        for (client, ids) in targets {
            for cb in ids {
                let mut body = Vec::with_capacity(msg.len() + 4);
                let proc_ = match (cb, route.legacy_proc) {
                    (Some(id), _) => {
                        body.extend_from_slice(&id.to_be_bytes());
                        route.callback_proc
                    }
                    (None, Some(p)) => p,
                    (None, None) => continue,
                };
                body.extend_from_slice(&msg);
                send_message(&client, proc_, &body);
            }
        }
        if !gone.is_empty() {
            let mut clients = self.clients.lock();
            for id in gone {
                clients.remove(&id);
            }
        }
    }
}

fn check_event_id(id: i32) -> VirResult<()> {
    if !(0..EVENT_ID_LAST).contains(&id) {
        return Err(VirError::internal(
            ErrorDomain::Rpc,
            format!("unsupported event ID {id}"),
        ));
    }
    Ok(())
}

/// `remote_connect_domain_event_callback_register_any_args`
#[derive(Deserialize, Serialize, Debug)]
pub struct CallbackRegisterAnyArgs {
    /// VIR_DOMAIN_EVENT_ID_*
    pub event_id: i32,
    /// Only this domain, or all.
    pub dom: Option<Domain>,
}

/// CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY
pub fn callback_register_any(call: &Call, a: CallbackRegisterAnyArgs) -> VirResult<i32> {
    call.conn()?;
    check_event_id(a.event_id)?;
    let reg = &call.remote.events;
    let id = reg.next_callback.fetch_add(1, Ordering::Relaxed);
    reg.add(
        call.client,
        Registration {
            callback_id: Some(id),
            event_id: a.event_id,
            dom: a.dom.map(|d| d.uuid.0),
        },
    );
    Ok(id)
}

/// CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY (also on a lost
/// connection: clients deregister before they close)
pub fn callback_deregister_any(call: &Call, callback_id: i32) -> VirResult<()> {
    call.conn_any()?;
    let mut clients = call.remote.events.clients.lock();
    let removed = clients.get_mut(&call.client.id).is_some_and(|(_, regs)| {
        let before = regs.len();
        regs.retain(|r| r.callback_id != Some(callback_id));
        regs.len() != before
    });
    if !removed {
        return Err(VirError::internal(
            ErrorDomain::Rpc,
            format!("domain event callback {callback_id} not registered"),
        ));
    }
    Ok(())
}

fn legacy_add(call: &Call, event_id: i32) -> VirResult<()> {
    call.conn()?;
    check_event_id(event_id)?;
    let reg = &call.remote.events;
    let dup = reg
        .clients
        .lock()
        .get(&call.client.id)
        .is_some_and(|(_, regs)| {
            regs.iter()
                .any(|r| r.callback_id.is_none() && r.event_id == event_id)
        });
    if dup {
        return Err(VirError::internal(
            ErrorDomain::Rpc,
            format!("domain event {event_id} already registered"),
        ));
    }
    reg.add(
        call.client,
        Registration {
            callback_id: None,
            event_id,
            dom: None,
        },
    );
    Ok(())
}

fn legacy_remove(call: &Call, event_id: i32) -> VirResult<()> {
    call.conn_any()?;
    let mut clients = call.remote.events.clients.lock();
    let removed = clients.get_mut(&call.client.id).is_some_and(|(_, regs)| {
        let before = regs.len();
        regs.retain(|r| !(r.callback_id.is_none() && r.event_id == event_id));
        regs.len() != before
    });
    if !removed {
        return Err(VirError::internal(
            ErrorDomain::Rpc,
            format!("domain event {event_id} not registered"),
        ));
    }
    Ok(())
}

/// CONNECT_DOMAIN_EVENT_REGISTER_ANY (legacy)
pub fn register_any(call: &Call, event_id: i32) -> VirResult<()> {
    legacy_add(call, event_id)
}

/// CONNECT_DOMAIN_EVENT_DEREGISTER_ANY (legacy)
pub fn deregister_any(call: &Call, event_id: i32) -> VirResult<()> {
    legacy_remove(call, event_id)
}

/// CONNECT_DOMAIN_EVENT_REGISTER (legacy lifecycle): returns 1.
pub fn register(call: &Call, _: ()) -> VirResult<i32> {
    legacy_add(call, EVENT_ID_LIFECYCLE).map(|()| 1)
}

/// CONNECT_DOMAIN_EVENT_DEREGISTER (legacy lifecycle): returns 0.
pub fn deregister(call: &Call, _: ()) -> VirResult<i32> {
    legacy_remove(call, EVENT_ID_LIFECYCLE).map(|()| 0)
}

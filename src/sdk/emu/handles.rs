//! The embedded host's handle table: what a `PRL_HANDLE` points at.
//!
//! Handles are small non-null integers disguised as pointers; they are
//! never dereferenced, only looked up here, so a stale or forged handle is
//! `PRL_ERR_INVALID_HANDLE`, never undefined behaviour.

use super::host::Guest;
use crate::sdk::abi::*;
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A job's outcome.
#[derive(Default)]
pub struct JobState {
    /// Finished?
    pub done: bool,
    /// Its return code.
    pub rc: PRL_RESULT,
    /// Result parameters.
    pub params: Vec<Arc<Object>>,
    /// Error text when rc != 0.
    pub error: String,
}

/// A job: completes on the embedded host's dispatcher thread.
#[derive(Default)]
pub struct Job {
    /// Outcome so far.
    pub state: Mutex<JobState>,
    /// Signalled when done.
    pub cv: Condvar,
}

impl Job {
    /// Marks the job done; a job already done (cancelled, or failed by a
    /// lost connection) keeps its first outcome.
    pub fn finish(&self, rc: PRL_RESULT, error: String, params: Vec<Arc<Object>>) {
        let mut s = self.state.lock();
        if s.done {
            return;
        }
        s.done = true;
        s.rc = rc;
        s.error = error;
        s.params = params;
        self.cv.notify_all();
    }
}

/// A server handle: the dispatcher session it is logged in to, if any.
#[derive(Default)]
pub struct ServerHandle {
    /// The session number (see `emu::session`), once logged in.
    pub session: Mutex<Option<u64>>,
}

/// A guest handle: which guest, and the configuration as this handle sees
/// it (edits stay here until `PrlVm_CommitEx`).
pub struct VmHandle {
    /// The dispatcher session the handle came from: its jobs fail once
    /// that connection is lost.
    pub session: u64,
    /// UUID of the registered guest, or empty for one not registered yet.
    pub uuid: Mutex<String>,
    /// The configuration snapshot.
    pub config: Mutex<Guest>,
}

/// Everything a handle can denote.
pub enum Object {
    /// A server session.
    Server(ServerHandle),
    /// A guest.
    Vm(Box<VmHandle>),
    /// A job.
    Job(Job),
    /// A job's result.
    Result(Vec<Arc<Object>>),
    /// A login response.
    LoginResponse(String),
    /// A guest's runtime state.
    VmInfo(u32),
    /// An error (PHT_ERROR event): code and text.
    Error(PRL_RESULT, String),
    /// A device of the guest behind a guest handle, by its id.
    Device(Arc<Object>, u64),
    /// A boot order entry of the guest behind a guest handle, by its id.
    BootDev(Arc<Object>, u64),
    /// An event: type, issuer (guest UUID) and parameters.
    Event(u32, String, Vec<(String, i64)>),
    /// An event parameter.
    EventParam(i64),
    /// Facts about the host (PrlSrv_GetServerInfo).
    ServerInfo,
    /// The host's configuration (PrlSrv_GetSrvConfig).
    ServerConfig,
    /// A text result parameter (PrlResult_GetParamAsString).
    Text(String),
    /// A list of strings (PrlApi_CreateStringsList).
    StringList(Mutex<Vec<String>>),
}

impl Object {
    /// The SDK handle type of this object.
    pub fn handle_type(&self) -> u32 {
        match self {
            Object::Server(_) => handle_type::PHT_SERVER,
            Object::Vm(_) => handle_type::PHT_VIRTUAL_MACHINE,
            Object::Job(_) => handle_type::PHT_JOB,
            Object::Result(_) => handle_type::PHT_RESULT,
            Object::LoginResponse(_) => handle_type::PHT_LOGIN_RESPONSE,
            Object::VmInfo(_) => handle_type::PHT_VM_INFO,
            Object::Error(..) => handle_type::PHT_ERROR,
            Object::Device(vm, id) => match vm_device_type(vm, *id) {
                Some(5) => handle_type::PHT_VIRTUAL_DEV_OPTICAL_DISK,
                Some(6) => handle_type::PHT_VIRTUAL_DEV_HARD_DISK,
                Some(8) => handle_type::PHT_VIRTUAL_DEV_NET_ADAPTER,
                Some(10) => handle_type::PHT_VIRTUAL_DEV_SERIAL_PORT,
                _ => handle_type::PHT_VIRTUAL_DEV_HARD_DISK,
            },
            Object::BootDev(..) => handle_type::PHT_BOOT_DEVICE,
            Object::Event(..) => handle_type::PHT_EVENT,
            Object::EventParam(_) => handle_type::PHT_EVENT_PARAMETER,
            Object::ServerInfo => handle_type::PHT_SERVER_INFO,
            Object::ServerConfig => handle_type::PHT_SERVER_CONFIG,
            Object::Text(_) => handle_type::PHT_RESULT,
            Object::StringList(_) => handle_type::PHT_STRINGS_LIST,
        }
    }
}

fn vm_device_type(vm: &Object, id: u64) -> Option<u32> {
    match vm {
        Object::Vm(v) => v
            .config
            .lock()
            .devices
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.dev_type),
        _ => None,
    }
}

struct Entry {
    object: Arc<Object>,
    refs: usize,
}

static TABLE: Mutex<Option<HashMap<usize, Entry>>> = Mutex::new(None);
static NEXT: AtomicUsize = AtomicUsize::new(0x1000);

/// Registers `object` under a new handle (one reference).
pub fn new_handle(object: Arc<Object>) -> PRL_HANDLE {
    let id = NEXT.fetch_add(16, Ordering::Relaxed);
    TABLE
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(id, Entry { object, refs: 1 });
    id as PRL_HANDLE
}

/// The object behind a handle.
pub fn get(h: PRL_HANDLE) -> Option<Arc<Object>> {
    TABLE
        .lock()
        .as_ref()?
        .get(&(h as usize))
        .map(|e| Arc::clone(&e.object))
}

/// Drops one reference; false if the handle is not live.
pub fn free(h: PRL_HANDLE) -> bool {
    let mut t = TABLE.lock();
    let Some(map) = t.as_mut() else {
        return false;
    };
    let key = h as usize;
    match map.get_mut(&key) {
        Some(e) if e.refs > 1 => {
            e.refs -= 1;
            true
        }
        Some(_) => {
            map.remove(&key);
            true
        }
        None => false,
    }
}

/// Takes another reference; false if the handle is not live.
pub fn add_ref(h: PRL_HANDLE) -> bool {
    match TABLE.lock().as_mut().and_then(|m| m.get_mut(&(h as usize))) {
        Some(e) => {
            e.refs += 1;
            true
        }
        None => false,
    }
}

/// Live handles (leak checks in tests).
pub fn live() -> usize {
    TABLE.lock().as_ref().map_or(0, HashMap::len)
}

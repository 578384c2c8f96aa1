//! A named server (libvirt's `virNetServer`): the programs it serves, its
//! clients and their limits, and its worker pool. The daemon owns the
//! listening sockets and hands accepted connections to [`Server::accept`].

use super::client::{self, Client, ConnLimits, PeerCred};
use super::message;
use super::program::Program;
use super::workers::{PoolLimits, PoolStats, WorkerPool};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Stack of a connection thread: it parses packets and runs inline calls,
/// nothing deep; thousands of them must stay cheap.
const CONNECTION_STACK: usize = 256 * 1024;

/// Connection threads kept after their client left, waiting for the next
/// one: a burst of short connections (a virsh command each) then starts
/// no thread per connection.
const SPARE_THREADS: usize = 8;
/// How long a spare connection thread waits for a client before it ends.
const SPARE_WAIT: Duration = Duration::from_secs(30);

/// Client ids are unique across all servers of the daemon, as libvirt's.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// Over-limit clients being told why at once; past this many, one is just
/// closed (a flood of connections must not buy threads).
const MAX_REFUSALS: usize = 16;
static REFUSALS: AtomicUsize = AtomicUsize::new(0);

/// Turns away a client over `max_clients`: its calls get `why` as an
/// error reply and the connection closes when it hangs up. Closing without
/// reading would kill a libvirt client writing its first call with
/// SIGPIPE, or leave it with a bare "connection reset".
fn refuse(stream: UnixStream, why: String) {
    if REFUSALS.fetch_add(1, Ordering::AcqRel) >= MAX_REFUSALS {
        REFUSALS.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    let spawned = thread::Builder::new()
        .name("refuse-client".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            answer_refusal(&stream, &why);
            REFUSALS.fetch_sub(1, Ordering::AcqRel);
        });
    if spawned.is_err() {
        REFUSALS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers the client's calls with an RPC error carrying `why` until it
/// hangs up (a few calls and a couple of seconds at most): a client that
/// sends something after its first call failed (virt-admin says goodbye)
/// must not find the socket closed under it either.
fn answer_refusal(mut stream: &UnixStream, why: &str) {
    let wait = Some(Duration::from_secs(2));
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(wait).is_err()
        || stream.set_write_timeout(wait).is_err()
    {
        return;
    }
    let error = crate::error::VirError::rpc(why);
    for _ in 0..8 {
        let mut head = [0u8; message::BODY_OFFSET];
        if stream.read_exact(&mut head).is_err() {
            break;
        }
        let Ok(len) =
            message::check_length(u32::from_be_bytes([head[0], head[1], head[2], head[3]]))
        else {
            break;
        };
        // Only the small calls a client opens with are drained.
        let mut rest = len - message::BODY_OFFSET;
        if rest > 64 * 1024 {
            break;
        }
        let mut sink = [0u8; 4096];
        while rest > 0 {
            let n = rest.min(sink.len());
            match stream.read(&mut sink[..n]) {
                Ok(0) | Err(_) => return,
                Ok(n) => rest -= n,
            }
        }
        let mut hb = [0u8; message::HEADER_SIZE];
        hb.copy_from_slice(&head[message::LEN_SIZE..]);
        let header = message::Header::decode(&hb);
        if header.mtype != message::MessageType::Call as i32 {
            continue;
        }
        let mut reply = Vec::new();
        message::begin(&mut reply, &header.reply(message::Status::Error));
        message::encode_error(&mut reply, &error);
        message::finish(&mut reply);
        if stream.write_all(&reply).is_err() {
            break;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// The settings of a server that can change while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Most clients connected at once (`max_clients`).
    pub max_clients: usize,
    /// Most clients not yet authenticated (`max_anonymous_clients`); with
    /// auth "none" every client is authenticated at once, so this is only
    /// reported.
    pub max_anonymous_clients: usize,
    /// Per-connection limits.
    pub conn: ConnLimits,
    /// Worker pool sizes.
    pub workers: PoolLimits,
}

type Notify = Arc<dyn Fn() + Send + Sync>;

/// One server: `virtvzd` (REMOTE on the main sockets) or `admin`.
pub struct Server {
    name: String,
    programs: Vec<Arc<dyn Program>>,
    config: RwLock<ServerConfig>,
    pool: WorkerPool,
    clients: Mutex<BTreeMap<u64, Arc<Client>>>,
    notify: Mutex<Option<Notify>>,
    stopping: AtomicBool,
    /// Hands a new client to a spare connection thread (a rendezvous: it
    /// succeeds only when one is waiting).
    spare_tx: Sender<Connection>,
    spare_rx: Receiver<Connection>,
    spares: AtomicUsize,
}

/// A client and its poll, as a connection thread serves them.
type Connection = (Arc<Client>, mio::Poll);

impl Server {
    /// A server named `name` serving `programs`.
    pub fn new(name: &str, programs: Vec<Arc<dyn Program>>, config: ServerConfig) -> Arc<Server> {
        let (spare_tx, spare_rx) = bounded(0);
        Arc::new(Server {
            name: name.to_string(),
            programs,
            pool: WorkerPool::new(name, config.workers),
            config: RwLock::new(config),
            clients: Mutex::new(BTreeMap::new()),
            notify: Mutex::new(None),
            stopping: AtomicBool::new(false),
            spare_tx,
            spare_rx,
            spares: AtomicUsize::new(0),
        })
    }

    /// The server's name, as virt-admin lists it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes an accepted connection: refused at once when the server is at
    /// `max_clients` or stopping, else served on its own thread. An error
    /// means the daemon is short of a resource (descriptors, threads): the
    /// client has been told, and the caller should stop accepting a while.
    pub fn accept(
        self: &Arc<Self>,
        stream: UnixStream,
        readonly: bool,
        peer: Option<PeerCred>,
    ) -> io::Result<()> {
        if self.stopping.load(Ordering::Acquire) {
            return Ok(());
        }
        let max = self.config.read().max_clients;
        let mut clients = self.clients.lock();
        if clients.len() >= max {
            log::warn!(
                "server {}: refusing a client: {} clients connected (max_clients {max})",
                self.name,
                clients.len()
            );
            let who = peer.map_or("a local client".to_string(), |p| {
                format!("pid {} (uid {})", p.pid, p.uid)
            });
            refuse(
                stream,
                format!("Too many active clients ({max}), dropping connection from {who}"),
            );
            return Ok(());
        }
        let id = NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed);
        let (client, poll) = match client::new_client(self, id, stream, readonly, peer) {
            Ok(v) => v,
            Err((e, stream)) => {
                // Out of descriptors most likely: this client hears why,
                // and the caller stops accepting until some are free.
                refuse(stream, format!("Cannot set up the connection: {e}"));
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot set up a client: {e}"),
                ));
            }
        };
        clients.insert(id, Arc::clone(&client));
        drop(clients);
        let job = match self.spare_tx.try_send((Arc::clone(&client), poll)) {
            Ok(()) => None,
            Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => Some(job),
        };
        if let Some(job) = job {
            let me = Arc::clone(self);
            let spawned = thread::Builder::new()
                .name(format!("{}-conn", self.name))
                .stack_size(CONNECTION_STACK)
                .spawn(move || me.connection_thread(job));
            if let Err(e) = spawned {
                self.clients.lock().remove(&id);
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot start a client thread: {e}"),
                ));
            }
        }
        log::debug!(
            "server {}: client {id} connected{}",
            self.name,
            if readonly { " (read-only)" } else { "" }
        );
        self.changed();
        Ok(())
    }

    /// Serves clients one after the other: the one it was started for,
    /// then, as a spare, whichever arrives next.
    fn connection_thread(&self, first: Connection) {
        let mut job = first;
        loop {
            client::serve(job.0, job.1);
            if self.stopping.load(Ordering::Acquire)
                || self.spares.fetch_add(1, Ordering::AcqRel) >= SPARE_THREADS
            {
                self.spares.fetch_sub(1, Ordering::AcqRel);
                return;
            }
            let next = self.spare_rx.recv_timeout(SPARE_WAIT);
            self.spares.fetch_sub(1, Ordering::AcqRel);
            match next {
                Ok(j) => job = j,
                Err(_) => return,
            }
        }
    }

    /// Called by a connection thread as its client ends.
    pub(super) fn client_gone(&self, client: &Client) {
        for p in &self.programs {
            p.disconnected(client);
        }
        self.clients.lock().remove(&client.id);
        self.changed();
    }

    /// Calls `f` whenever a client connects or leaves (the idle watchdog).
    pub fn on_client_change(&self, f: impl Fn() + Send + Sync + 'static) {
        *self.notify.lock() = Some(Arc::new(f));
    }

    fn changed(&self) {
        let f = self.notify.lock().clone();
        if let Some(f) = f {
            f();
        }
    }

    /// The program with this number and version, if served here.
    pub(super) fn program(&self, prog: u32, vers: u32) -> Option<Arc<dyn Program>> {
        self.programs
            .iter()
            .find(|p| p.number() == prog && p.version() == vers)
            .cloned()
    }

    pub(super) fn pool(&self) -> &WorkerPool {
        &self.pool
    }

    pub(super) fn conn_limits(&self) -> ConnLimits {
        self.config.read().conn
    }

    /// The settings in force.
    pub fn config(&self) -> ServerConfig {
        *self.config.read()
    }

    /// Applies new settings live: limits apply to the next call or
    /// connection, the pool resizes at once. Connected clients stay.
    pub fn set_config(&self, config: ServerConfig) {
        *self.config.write() = config;
        self.pool.set_limits(config.workers);
    }

    /// Worker pool numbers.
    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Number of connected clients.
    pub fn nclients(&self) -> usize {
        self.clients.lock().len()
    }

    /// The connected clients, by id.
    pub fn clients(&self) -> Vec<Arc<Client>> {
        self.clients.lock().values().cloned().collect()
    }

    /// The client with this id.
    pub fn client(&self, id: u64) -> Option<Arc<Client>> {
        self.clients.lock().get(&id).cloned()
    }

    /// Stops the server: no new clients; calls in flight get up to
    /// `grace` to finish and send their replies; then every client is
    /// closed and the workers stop.
    pub fn shutdown(&self, grace: Duration) {
        self.stopping.store(true, Ordering::Release);
        let deadline = Instant::now() + grace;
        let busy = || self.clients().iter().any(|c| c.has_calls_in_flight());
        while busy() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        for c in self.clients() {
            c.close();
        }
        let closing_deadline = Instant::now() + Duration::from_secs(2);
        while self.nclients() > 0 && Instant::now() < closing_deadline {
            thread::sleep(Duration::from_millis(5));
        }
        self.pool.shutdown();
    }
}

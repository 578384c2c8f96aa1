//! One client connection: its state, its outgoing queue, and the thread
//! that reads its packets.
//!
//! The connection thread owns the reading side and a small mio poll of the
//! socket and a waker. It answers keepalive and inline calls itself and
//! hands every other call to the worker pool, so a call stuck in the SDK
//! never stops PONGs or other calls on the connection. Replies and events
//! from any thread go through [`Client::send`]: written straight away when
//! the socket takes them, else queued and flushed by the connection thread
//! when the socket becomes writable.

use super::message::{self, Header, MessageType, Status, BODY_OFFSET, HEADER_SIZE, LEN_SIZE};
use super::program::{Priority, Program};
use super::server::Server;
use crate::error::{ErrorDomain, VirError};
use mio::net::UnixStream;
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;
use std::any::Any;
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

const STREAM: Token = Token(0);
const WAKER: Token = Token(1);

/// How much the input buffer grows by when a packet's length is not in
/// yet.
const READ_CHUNK: usize = 16 * 1024;
/// The input buffer of a new connection, and the size it returns to after
/// a large packet: thousands of idle clients must stay cheap, and most
/// calls are a few dozen bytes.
const INPUT_START: usize = 512;
/// Above this many unsent bytes the connection stops reading new calls
/// until the client catches up (back-pressure, not a drop).
const OUTBOX_PAUSE: usize = 4 * 1024 * 1024;
/// Above this many unsent bytes an asynchronous event is not queued: the
/// client is dropped, as libvirt drops a client that never reads.
const OUTBOX_EVENT_LIMIT: usize = 16 * 1024 * 1024;

/// The credentials of a UNIX socket peer (SO_PEERCRED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCred {
    /// Process id.
    pub pid: i32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

#[derive(Default)]
struct Outbox {
    buf: Vec<u8>,
    start: usize,
}

impl Outbox {
    fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

const OPEN: u8 = 0;
const CLOSE_AFTER_FLUSH: u8 = 1;
const CLOSE_NOW: u8 = 2;

/// A connected client.
pub struct Client {
    /// Unique id (what virt-admin shows).
    pub id: u64,
    /// Came in on a read-only socket.
    pub readonly_socket: bool,
    /// When it connected.
    pub connected_at: SystemTime,
    /// Who is on the other end, if the kernel said.
    pub peer: Option<PeerCred>,
    server: Arc<Server>,
    stream: UnixStream,
    out: Mutex<Outbox>,
    waker: Waker,
    close: AtomicU8,
    keepalive: AtomicBool,
    in_flight: AtomicUsize,
    session: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl Client {
    /// The server this client belongs to.
    pub fn server(&self) -> &Arc<Server> {
        &self.server
    }

    /// The program's per-connection state, created on first use.
    /// `None` if another type was stored first (a program mix-up).
    pub fn session<T: Send + Sync + 'static>(&self, init: impl FnOnce() -> T) -> Option<&T> {
        self.session
            .get_or_init(|| Box::new(init()))
            .downcast_ref::<T>()
    }

    /// The program's per-connection state if it exists.
    pub fn existing_session<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.session.get()?.downcast_ref::<T>()
    }

    /// Starts server-side keepalive PINGs (the client asked for feature
    /// PROGRAM_KEEPALIVE, so it can answer them).
    pub fn enable_keepalive(&self) {
        if !self.keepalive.swap(true, Ordering::AcqRel) {
            let _ = self.waker.wake();
        }
    }

    /// Closes the connection at once (virt-admin `client-disconnect`,
    /// shutdown).
    pub fn close(&self) {
        self.close.store(CLOSE_NOW, Ordering::Release);
        let _ = self.waker.wake();
    }

    /// Closes the connection once everything queued has been sent
    /// (CONNECT_CLOSE: the reply goes out first).
    pub fn close_after_flush(&self) {
        let _ = self.close.compare_exchange(
            OPEN,
            CLOSE_AFTER_FLUSH,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        let _ = self.waker.wake();
    }

    /// Does the client have calls running on the worker pool?
    pub fn has_calls_in_flight(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// Is the connection closing or closed?
    pub fn is_closing(&self) -> bool {
        self.close.load(Ordering::Acquire) != OPEN
    }

    /// Queues a whole packet for the client, writing at once if the socket
    /// takes it. Returns false if the client is closing.
    pub fn send(&self, packet: &[u8]) -> bool {
        if self.close.load(Ordering::Acquire) == CLOSE_NOW {
            return false;
        }
        let mut out = self.out.lock();
        if out.pending() == 0 {
            out.buf.clear();
            out.start = 0;
            match write_some(&self.stream, packet) {
                Ok(n) if n == packet.len() => return true,
                Ok(n) => out.buf.extend_from_slice(&packet[n..]),
                Err(_) => {
                    drop(out);
                    self.close();
                    return false;
                }
            }
            // The socket is full: it will report writable to the
            // connection thread, which flushes the rest.
        } else {
            out.buf.extend_from_slice(packet);
        }
        true
    }

    /// Queues an asynchronous packet (an event). A client whose unsent
    /// data already exceeds the limit is dropped instead of buffering
    /// without bound.
    pub fn send_event(&self, packet: &[u8]) -> bool {
        if self.out.lock().pending() > OUTBOX_EVENT_LIMIT {
            log::warn!("client {} does not read its events; dropping it", self.id);
            self.close();
            return false;
        }
        self.send(packet)
    }

    /// Writes what is queued; Ok(true) when nothing is left.
    fn flush(&self) -> io::Result<bool> {
        let mut out = self.out.lock();
        while out.pending() > 0 {
            let start = out.start;
            match (&self.stream).write(&out.buf[start..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => out.start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        out.buf.clear();
        out.start = 0;
        if out.buf.capacity() > 4 * READ_CHUNK {
            out.buf = Vec::new();
        }
        Ok(true)
    }

    fn pending_out(&self) -> usize {
        self.out.lock().pending()
    }

    fn call_done(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        let _ = self.waker.wake();
    }

    /// Sends the reply (or error) for a call.
    fn reply(self: &Arc<Self>, program: &dyn Program, header: &Header, args: &[u8]) {
        REPLY_BUF.with(|cell| {
            let mut buf = cell.borrow_mut();
            message::begin(&mut buf, &header.reply(Status::Ok));
            // A panicking handler is a bug, but its caller still gets an
            // answer and the connection (and the thread serving it, be it
            // the connection thread or a worker) goes on. Nothing it held
            // stays broken: parking_lot locks do not poison, and the
            // half-written reply is discarded below.
            let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                program.call(self, header.proc_, args, &mut buf)
            }))
            .unwrap_or_else(|panic| {
                let what = panic_text(panic.as_ref());
                log::error!(
                    "client {}: procedure {} of program {:#x} panicked: {what}",
                    self.id,
                    header.proc_,
                    header.prog
                );
                Err(VirError::internal(
                    ErrorDomain::Rpc,
                    format!("procedure {} failed unexpectedly: {what}", header.proc_),
                ))
            });
            if let Err(e) = res {
                error_into(&mut buf, header, &e);
            } else if buf.len() - LEN_SIZE > message::MESSAGE_MAX {
                let e = VirError::rpc(format!(
                    "reply of {} bytes exceeds the message limit",
                    buf.len()
                ));
                error_into(&mut buf, header, &e);
            }
            message::finish(&mut buf);
            self.send(&buf);
            if buf.capacity() > 1024 * 1024 {
                *buf = Vec::new();
            }
        });
    }

    /// Sends an error reply for a call the server refused itself.
    fn reply_error(&self, header: &Header, e: &VirError) {
        REPLY_BUF.with(|cell| {
            let mut buf = cell.borrow_mut();
            error_into(&mut buf, header, e);
            message::finish(&mut buf);
            self.send(&buf);
        });
    }
}

thread_local! {
    /// Each thread encodes replies into one reused buffer. It starts
    /// empty and keeps the size of the largest recent reply: thousands of
    /// idle connection threads must not hold 4 KiB each.
    static REPLY_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What a panic said, as far as it said it in words.
fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}

fn error_into(buf: &mut Vec<u8>, header: &Header, e: &VirError) {
    message::begin(buf, &header.reply(Status::Error));
    message::encode_error(buf, e);
}

fn write_some(mut stream: &UnixStream, data: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < data.len() {
        match stream.write(&data[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Live knobs a connection reads from its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    /// Calls one client may have in flight (`max_client_requests`).
    pub max_client_requests: usize,
    /// Seconds of silence before we PING; <= 0 disables our PINGs.
    pub keepalive_interval: i32,
    /// Unanswered PINGs before the client is dropped.
    pub keepalive_count: u32,
}

/// Sets up a client on an accepted stream; the caller starts [`serve`].
/// The connection's own descriptors (its event loop and waker) come first,
/// so when they cannot be had (EMFILE) the stream comes back with the
/// error, for the caller to answer the client and stop accepting a while.
pub(super) fn new_client(
    server: &Arc<Server>,
    id: u64,
    stream: std::os::unix::net::UnixStream,
    readonly_socket: bool,
    peer: Option<PeerCred>,
) -> Result<(Arc<Client>, Poll), (io::Error, std::os::unix::net::UnixStream)> {
    let (poll, waker) = match Poll::new().and_then(|poll| {
        let waker = Waker::new(poll.registry(), WAKER)?;
        Ok((poll, waker))
    }) {
        Ok(v) => v,
        Err(e) => return Err((e, stream)),
    };
    if let Err(e) = stream.set_nonblocking(true) {
        return Err((e, stream));
    }
    let mut stream = UnixStream::from_std(stream);
    if let Err(e) =
        poll.registry()
            .register(&mut stream, STREAM, Interest::READABLE | Interest::WRITABLE)
    {
        let stream = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(stream));
        return Err((e, stream));
    }
    let client = Arc::new(Client {
        id,
        readonly_socket,
        connected_at: SystemTime::now(),
        peer,
        server: Arc::clone(server),
        stream,
        out: Mutex::new(Outbox::default()),
        waker,
        close: AtomicU8::new(OPEN),
        keepalive: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        session: OnceLock::new(),
    });
    Ok((client, poll))
}

/// Input side of a connection: the bytes read so far.
struct Input {
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    /// Bytes still to discard: the one-byte carriers of file descriptors
    /// a client announced in a CALL_WITH_FDS.
    skip: usize,
}

enum Step {
    Continue,
    Drop(String),
}

/// Runs a connection until it closes. Blocks; call on its own thread.
pub(super) fn serve(client: Arc<Client>, mut poll: Poll) {
    let mut events = Events::with_capacity(8);
    let mut input = Input {
        // Most calls are a few dozen bytes; the buffer grows for big ones.
        buf: vec![0; INPUT_START],
        lo: 0,
        hi: 0,
        skip: 0,
    };
    let mut readable = true;
    let mut last_rx = Instant::now();
    let mut pings = 0u32;
    let mut next_ping: Option<Instant> = None;
    let reason = loop {
        if client.close.load(Ordering::Acquire) == CLOSE_NOW {
            break "closed by the server".to_string();
        }
        let limits = client.server.conn_limits();
        // Packets read earlier but held back by max_client_requests.
        if input.lo < input.hi
            && client.in_flight.load(Ordering::Acquire) < limits.max_client_requests.max(1)
        {
            if let Step::Drop(why) = dispatch_input(&client, &mut input, &limits) {
                log::info!("dropping client {}: {why}", client.id);
                break why;
            }
        }
        // Read and dispatch while the client may send more.
        let mut progressed = false;
        while readable
            && client.in_flight.load(Ordering::Acquire) < limits.max_client_requests.max(1)
            && client.pending_out() < OUTBOX_PAUSE
            && client.close.load(Ordering::Acquire) == OPEN
        {
            match read_into(&client.stream, &mut input) {
                Ok(0) => {
                    readable = false;
                    client.close.store(CLOSE_NOW, Ordering::Release);
                    break;
                }
                Ok(_) => {
                    progressed = true;
                    last_rx = Instant::now();
                    pings = 0;
                    if let Step::Drop(why) = dispatch_input(&client, &mut input, &limits) {
                        log::info!("dropping client {}: {why}", client.id);
                        client.close.store(CLOSE_NOW, Ordering::Release);
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    client.close.store(CLOSE_NOW, Ordering::Release);
                    break;
                }
            }
        }
        if client.close.load(Ordering::Acquire) == CLOSE_NOW {
            if progressed {
                // Flush what inline calls answered before the EOF.
                let _ = client.flush();
            }
            break "connection closed".to_string();
        }
        match client.flush() {
            Ok(true) if client.close.load(Ordering::Acquire) == CLOSE_AFTER_FLUSH => {
                if client.in_flight.load(Ordering::Acquire) == 0 {
                    break "closed by the client".to_string();
                }
            }
            Ok(_) => {}
            Err(_) => break "write failed".to_string(),
        }
        // Keepalive: PING after `interval` seconds of silence, drop after
        // `count` unanswered PINGs (libvirt's rule).
        let now = Instant::now();
        let mut timeout = None;
        if client.keepalive.load(Ordering::Acquire) && limits.keepalive_interval > 0 {
            let interval = Duration::from_secs(limits.keepalive_interval as u64);
            let due = *next_ping.get_or_insert(last_rx + interval);
            let due = due.max(last_rx + interval);
            if now >= due {
                if pings >= limits.keepalive_count {
                    break format!("no keepalive response after {pings} pings");
                }
                pings += 1;
                client.send(&message::keepalive(message::KEEPALIVE_PING));
                next_ping = Some(now + interval);
                timeout = Some(interval);
            } else {
                next_ping = Some(due);
                timeout = Some(due - now);
            }
        }
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                break format!("poll failed: {e}");
            }
        }
        for ev in events.iter() {
            if ev.token() == STREAM && (ev.is_readable() || ev.is_read_closed() || ev.is_error()) {
                readable = true;
            }
        }
    };
    log::debug!("client {} gone: {reason}", client.id);
    client.close.store(CLOSE_NOW, Ordering::Release);
    drop(poll);
    client.server.client_gone(&client);
}

fn read_into(mut stream: &UnixStream, input: &mut Input) -> io::Result<usize> {
    if input.lo == input.hi {
        input.lo = 0;
        input.hi = 0;
        if input.buf.len() > 4 * READ_CHUNK {
            input.buf = vec![0; INPUT_START];
        }
    }
    if input.hi == input.buf.len() {
        if input.lo > 0 {
            input.buf.copy_within(input.lo..input.hi, 0);
            input.hi -= input.lo;
            input.lo = 0;
        } else {
            // Grow only as far as the packet in hand needs (its length was
            // checked against the limit before we got here).
            let want = needed(&input.buf[..input.hi]).max(input.buf.len() + READ_CHUNK);
            input.buf.resize(want, 0);
        }
    }
    let hi = input.hi;
    let n = stream.read(&mut input.buf[hi..])?;
    input.hi += n;
    Ok(n)
}

/// Length of the packet at the front of `data`, if its length word is in.
fn needed(data: &[u8]) -> usize {
    match data.get(..LEN_SIZE) {
        Some(w) => u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as usize,
        None => 0,
    }
}

fn dispatch_input(client: &Arc<Client>, input: &mut Input, limits: &ConnLimits) -> Step {
    loop {
        if input.skip > 0 {
            let n = input.skip.min(input.hi - input.lo);
            input.lo += n;
            input.skip -= n;
            if input.skip > 0 {
                return Step::Continue;
            }
        }
        let len = match message::next_packet(&input.buf[input.lo..input.hi]) {
            Ok(Some(len)) => len,
            Ok(None) => return Step::Continue,
            Err(e) => return Step::Drop(e),
        };
        let packet_end = input.lo + len;
        let packet = &input.buf[input.lo..packet_end];
        let step = handle_packet(client, packet, &mut input.skip);
        input.lo = packet_end;
        if let Step::Drop(_) = step {
            return step;
        }
        if client.in_flight.load(Ordering::Acquire) >= limits.max_client_requests.max(1) {
            // Leave the rest unread until a call finishes.
            return Step::Continue;
        }
    }
}

/// Marks a worker call finished even if it panicked.
struct CallDone<'a>(&'a Client);

impl Drop for CallDone<'_> {
    fn drop(&mut self) {
        self.0.call_done();
    }
}

fn handle_packet(client: &Arc<Client>, packet: &[u8], skip: &mut usize) -> Step {
    let mut hb = [0u8; HEADER_SIZE];
    hb.copy_from_slice(&packet[LEN_SIZE..BODY_OFFSET]);
    let header = Header::decode(&hb);
    let body = &packet[BODY_OFFSET..];

    if header.prog == message::KEEPALIVE_PROGRAM {
        // Any packet already counted as proof of life; PING wants a PONG.
        if header.vers == message::KEEPALIVE_VERSION
            && header.mtype == MessageType::Message as i32
            && header.proc_ == message::KEEPALIVE_PING
        {
            client.send(&message::keepalive(message::KEEPALIVE_PONG));
        }
        return Step::Continue;
    }

    match MessageType::from_i32(header.mtype) {
        Some(MessageType::Call) => {}
        Some(MessageType::CallWithFds) => {
            let nfds = match body.get(..4) {
                Some(w) => u32::from_be_bytes([w[0], w[1], w[2], w[3]]),
                None => return Step::Drop("CALL_WITH_FDS without a descriptor count".into()),
            };
            if nfds > message::NUM_FDS_MAX {
                return Step::Drop(format!("{nfds} file descriptors announced"));
            }
            *skip = nfds as usize;
            client.reply_error(
                &header,
                &VirError::rpc(format!(
                    "procedure {} does not accept file descriptors",
                    header.proc_
                )),
            );
            return Step::Continue;
        }
        // Stray stream data for no stream: libvirt drops it silently.
        Some(MessageType::Stream) => return Step::Continue,
        _ => {
            client.reply_error(
                &header,
                &VirError::rpc(format!("Unexpected message type {}", header.mtype)),
            );
            return Step::Continue;
        }
    }
    if header.status != Status::Ok as i32 {
        client.reply_error(
            &header,
            &VirError::rpc(format!("Unexpected message status {}", header.status)),
        );
        return Step::Continue;
    }
    let Some(program) = client.server.program(header.prog, header.vers) else {
        client.reply_error(
            &header,
            &VirError::rpc(format!(
                "Cannot find program {} version {}",
                header.prog, header.vers
            )),
        );
        return Step::Continue;
    };
    match program.priority(header.proc_, body) {
        None => client.reply_error(
            &header,
            &VirError::rpc(format!("unknown procedure: {}", header.proc_)),
        ),
        Some(Priority::Inline) => client.reply(program.as_ref(), &header, body),
        Some(prio) => {
            client.in_flight.fetch_add(1, Ordering::AcqRel);
            let c = Arc::clone(client);
            let args = body.to_vec();
            client.server.pool().submit(
                Box::new(move || {
                    let _done = CallDone(&c);
                    c.reply(program.as_ref(), &header, &args);
                }),
                prio == Priority::High,
            );
        }
    }
    Step::Continue
}

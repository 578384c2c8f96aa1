//! The load client's side of libvirt's RPC protocol: packets, one
//! connection, typed calls. The same bytes go to both daemons.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use virtvzd::remote::protocol::{self, ConnectOpenArgs, Domain};
use virtvzd::rpc::message::{self, Header, MessageType, BODY_OFFSET, HEADER_SIZE, LEN_SIZE};
use virtvzd::rpc::xdr;

/// REMOTE procedure numbers the benchmark calls.
pub mod procs {
    /// REMOTE_PROC_CONNECT_OPEN
    pub const CONNECT_OPEN: i32 = 1;
    /// REMOTE_PROC_CONNECT_CLOSE
    pub const CONNECT_CLOSE: i32 = 2;
    /// REMOTE_PROC_DOMAIN_DEFINE_XML
    pub const DOMAIN_DEFINE_XML: i32 = 11;
    /// REMOTE_PROC_DOMAIN_GET_XML_DESC
    pub const DOMAIN_GET_XML_DESC: i32 = 14;
    /// REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME
    pub const DOMAIN_LOOKUP_BY_NAME: i32 = 23;
    /// REMOTE_PROC_AUTH_LIST
    pub const AUTH_LIST: i32 = 66;
    /// REMOTE_PROC_CONNECT_GET_LIB_VERSION
    pub const CONNECT_GET_LIB_VERSION: i32 = 157;
    /// REMOTE_PROC_DOMAIN_GET_STATE
    pub const DOMAIN_GET_STATE: i32 = 212;
    /// REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS
    pub const CONNECT_LIST_ALL_DOMAINS: i32 = 273;
}

/// Where the serial sits in a packet.
const SERIAL_AT: usize = LEN_SIZE + 16;

/// A call packet built once; only its serial changes from call to call,
/// so the load loop allocates nothing.
#[derive(Clone)]
pub struct Packet(Vec<u8>);

impl Packet {
    /// A CALL of `proc_` with an encoded body.
    pub fn call(proc_: i32, body: &[u8]) -> Packet {
        Packet(message::packet(
            &Header {
                prog: protocol::PROGRAM,
                vers: protocol::VERSION,
                proc_,
                mtype: MessageType::Call as i32,
                serial: 0,
                status: 0,
            },
            body,
        ))
    }

    /// A CALL of `proc_` with `args` encoded as XDR.
    pub fn with_args<A: Serialize>(proc_: i32, args: &A) -> Packet {
        Packet::call(proc_, &xdr::to_bytes(args).expect("arguments encode"))
    }

    /// The bytes, with this serial.
    pub fn bytes(&mut self, serial: u32) -> &[u8] {
        self.0[SERIAL_AT..SERIAL_AT + 4].copy_from_slice(&serial.to_be_bytes());
        &self.0
    }

    /// Its length on the wire.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Reads one packet into `buf` (length word excluded); returns its header.
pub fn read_packet(s: &mut UnixStream, buf: &mut Vec<u8>) -> std::io::Result<Header> {
    let mut len = [0u8; LEN_SIZE];
    s.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if !(BODY_OFFSET..=message::MESSAGE_MAX).contains(&len) {
        return Err(std::io::Error::other(format!("bad packet length {len}")));
    }
    buf.resize(len - LEN_SIZE, 0);
    s.read_exact(buf)?;
    let mut h = [0u8; HEADER_SIZE];
    h.copy_from_slice(&buf[..HEADER_SIZE]);
    Ok(Header::decode(&h))
}

/// One client connection.
pub struct Conn {
    /// The socket.
    pub stream: UnixStream,
    /// The last reply (header included).
    buf: Vec<u8>,
    serial: u32,
}

impl Conn {
    /// Connects without opening a hypervisor connection.
    pub fn connect(path: &Path) -> std::io::Result<Conn> {
        Ok(Conn::from_stream(UnixStream::connect(path)?))
    }

    /// A connection on a connected stream. A daemon that stops answering
    /// fails the benchmark rather than hanging it.
    pub fn from_stream(stream: UnixStream) -> Conn {
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(120)));
        Conn {
            stream,
            buf: Vec::with_capacity(512),
            serial: 1,
        }
    }

    /// Connects and opens `uri` the way a libvirt client does
    /// (AUTH_LIST, then CONNECT_OPEN).
    pub fn open(path: &Path, uri: &str) -> Result<Conn, String> {
        let mut c = Conn::connect(path).map_err(|e| format!("{}: {e}", path.display()))?;
        c.call_raw(procs::AUTH_LIST, &[])?;
        c.call::<_, ()>(
            procs::CONNECT_OPEN,
            &ConnectOpenArgs {
                name: Some(uri.to_string()),
                flags: 0,
            },
        )?;
        Ok(c)
    }

    /// Sends a packet (its serial is set here).
    pub fn send(&mut self, p: &mut Packet) -> std::io::Result<()> {
        self.serial = self.serial.wrapping_add(1);
        self.stream.write_all(p.bytes(self.serial))
    }

    /// Reads the next reply, skipping anything else (events, keepalive);
    /// an error reply becomes its message.
    pub fn recv(&mut self) -> Result<&[u8], String> {
        loop {
            let h = read_packet(&mut self.stream, &mut self.buf).map_err(|e| e.to_string())?;
            if h.prog != protocol::PROGRAM || h.mtype != MessageType::Reply as i32 {
                continue;
            }
            let body = &self.buf[HEADER_SIZE..];
            if h.status != 0 {
                let (code, domain, msg) = xdr::from_prefix::<(i32, i32, Option<String>)>(body)
                    .map(|(v, _)| v)
                    .unwrap_or((0, 0, None));
                return Err(format!(
                    "error {code} (domain {domain}): {}",
                    msg.unwrap_or_default()
                ));
            }
            return Ok(&self.buf[HEADER_SIZE..]);
        }
    }

    /// One call with an encoded body; the reply body.
    pub fn call_raw(&mut self, proc_: i32, body: &[u8]) -> Result<&[u8], String> {
        let mut p = Packet::call(proc_, body);
        self.send(&mut p).map_err(|e| e.to_string())?;
        self.recv()
    }

    /// One typed call.
    pub fn call<A: Serialize, R: DeserializeOwned>(
        &mut self,
        proc_: i32,
        args: &A,
    ) -> Result<R, String> {
        let body = xdr::to_bytes(args).map_err(|e| e.to_string())?;
        let reply = self.call_raw(proc_, &body)?;
        xdr::from_bytes(reply).map_err(|e| format!("cannot decode the reply: {e}"))
    }

    /// DOMAIN_LOOKUP_BY_NAME
    pub fn lookup(&mut self, name: &str) -> Result<Domain, String> {
        self.call(procs::DOMAIN_LOOKUP_BY_NAME, &name.to_string())
    }

    /// CONNECT_LIST_ALL_DOMAINS, every domain: how many there are.
    pub fn count_domains(&mut self) -> Result<u32, String> {
        let r: protocol::ListAllDomainsRet = self.call(
            procs::CONNECT_LIST_ALL_DOMAINS,
            &protocol::ListAllDomainsArgs {
                need_results: 1,
                flags: 0,
            },
        )?;
        Ok(r.ret)
    }

    /// DOMAIN_DEFINE_XML
    pub fn define(&mut self, xml: &str) -> Result<Domain, String> {
        self.call(procs::DOMAIN_DEFINE_XML, &xml.to_string())
    }
}

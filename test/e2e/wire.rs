//! A raw libvirt RPC client for what real clients never send: malformed
//! packets, pipelined calls, silence to PINGs.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;
use virtvzd::rpc::message::{self, Header, MessageType, WireError};
use virtvzd::rpc::xdr;

pub const REMOTE: u32 = 0x2000_8086;

pub struct Wire {
    pub s: UnixStream,
    serial: u32,
}

/// A reply: its header and body.
#[derive(Debug)]
pub struct Packet {
    pub header: Header,
    pub body: Vec<u8>,
}

impl Packet {
    pub fn is_keepalive(&self) -> bool {
        self.header.prog == message::KEEPALIVE_PROGRAM
    }
    pub fn error(&self) -> Option<WireError> {
        (self.header.status == 1)
            .then(|| xdr::from_bytes(&self.body).expect("error struct decodes"))
    }
}

impl Wire {
    pub fn connect(path: &Path) -> Wire {
        let s = UnixStream::connect(path).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Wire { s, serial: 0 }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.s.write_all(bytes)
    }

    /// Sends a CALL with an encoded body; returns its serial.
    pub fn send_call(&mut self, prog: u32, proc_: i32, body: &[u8]) -> u32 {
        let serial = self.serial;
        self.serial += 1;
        let h = Header {
            prog,
            vers: 1,
            proc_,
            mtype: MessageType::Call as i32,
            serial,
            status: 0,
        };
        self.send_raw(&message::packet(&h, body)).expect("send");
        serial
    }

    /// Reads one packet.
    pub fn recv(&mut self) -> io::Result<Packet> {
        let mut len = [0u8; 4];
        self.s.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len) as usize;
        let mut rest = vec![0u8; len - 4];
        self.s.read_exact(&mut rest)?;
        let mut hb = [0u8; 24];
        hb.copy_from_slice(&rest[..24]);
        Ok(Packet {
            header: Header::decode(&hb),
            body: rest[24..].to_vec(),
        })
    }

    /// Reads the next packet that is not keepalive.
    pub fn recv_reply(&mut self) -> Packet {
        loop {
            let p = self.recv().expect("reply");
            if !p.is_keepalive() {
                return p;
            }
        }
    }

    /// One REMOTE call, decoded; Err is the server's error struct.
    pub fn call<A: Serialize, R: DeserializeOwned>(
        &mut self,
        proc_: i32,
        args: &A,
    ) -> Result<R, Box<WireError>> {
        let serial = self.send_call(REMOTE, proc_, &xdr::to_bytes(args).expect("encode"));
        let p = self.recv_reply();
        assert_eq!(p.header.serial, serial);
        assert_eq!(p.header.proc_, proc_);
        match p.error() {
            Some(e) => Err(Box::new(e)),
            None => Ok(xdr::from_bytes(&p.body).expect("reply decodes")),
        }
    }

    /// AUTH_LIST and CONNECT_OPEN, as virsh starts.
    pub fn open(&mut self, uri: &str, flags: u32) {
        let _: Vec<i32> = self.call(66, &()).expect("auth list");
        let () = self
            .call(1, &(Some(uri.to_string()), flags))
            .expect("connect open");
    }

    /// True if the server closed the connection (EOF) within the timeout.
    pub fn closed_by_server(&mut self) -> bool {
        let mut b = [0u8; 4096];
        loop {
            match self.s.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

//! One libvirt RPC message: the length word, the 24-byte header, and the
//! body; plus the error struct every failed call carries.

use super::xdr;
use crate::error::VirError;
use serde::{Deserialize, Serialize};

/// Size of the length word that starts every packet (it counts itself).
pub const LEN_SIZE: usize = 4;
/// Size of the header after the length word.
pub const HEADER_SIZE: usize = 24;
/// Largest packet libvirt accepts, excluding the length word (32 MiB).
pub const MESSAGE_MAX: usize = 32 * 1024 * 1024;
/// Most file descriptors one message may announce.
pub const NUM_FDS_MAX: u32 = 32;
/// Largest string in the error struct.
pub const STRING_MAX: usize = 4 * 1024 * 1024;

/// The KEEPALIVE program ("keep").
pub const KEEPALIVE_PROGRAM: u32 = 0x6b65_6570;
/// KEEPALIVE's only version.
pub const KEEPALIVE_VERSION: u32 = 1;
/// KEEPALIVE procedure PING.
pub const KEEPALIVE_PING: i32 = 1;
/// KEEPALIVE procedure PONG.
pub const KEEPALIVE_PONG: i32 = 2;

/// `virNetMessageType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// A request expecting one reply.
    Call = 0,
    /// The answer to a call.
    Reply = 1,
    /// An asynchronous message: events, keepalive.
    Message = 2,
    /// Stream data.
    Stream = 3,
    /// A call followed by file descriptors.
    CallWithFds = 4,
    /// A reply followed by file descriptors.
    ReplyWithFds = 5,
    /// A hole in a sparse stream.
    StreamHole = 6,
}

impl MessageType {
    /// The type for a raw value, if it is one libvirt defines.
    pub fn from_i32(v: i32) -> Option<Self> {
        use MessageType::*;
        Some(match v {
            0 => Call,
            1 => Reply,
            2 => Message,
            3 => Stream,
            4 => CallWithFds,
            5 => ReplyWithFds,
            6 => StreamHole,
            _ => return None,
        })
    }
}

/// `virNetMessageStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Success (and the only status a call may carry).
    Ok = 0,
    /// The body is an error struct.
    Error = 1,
    /// Stream data continues.
    Continue = 2,
}

/// The header of every packet, after the length word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Program number.
    pub prog: u32,
    /// Program version.
    pub vers: u32,
    /// Procedure number within the program.
    pub proc_: i32,
    /// Raw `virNetMessageType` (kept raw: a peer may send any value).
    pub mtype: i32,
    /// Call serial, echoed in the reply.
    pub serial: u32,
    /// Raw `virNetMessageStatus`.
    pub status: i32,
}

impl Header {
    /// Decodes the 24 header bytes.
    pub fn decode(b: &[u8; HEADER_SIZE]) -> Header {
        let w = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        Header {
            prog: u32::from_be_bytes(w(0)),
            vers: u32::from_be_bytes(w(4)),
            proc_: i32::from_be_bytes(w(8)),
            mtype: i32::from_be_bytes(w(12)),
            serial: u32::from_be_bytes(w(16)),
            status: i32::from_be_bytes(w(20)),
        }
    }

    /// Appends the 24 header bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prog.to_be_bytes());
        out.extend_from_slice(&self.vers.to_be_bytes());
        out.extend_from_slice(&self.proc_.to_be_bytes());
        out.extend_from_slice(&self.mtype.to_be_bytes());
        out.extend_from_slice(&self.serial.to_be_bytes());
        out.extend_from_slice(&self.status.to_be_bytes());
    }

    /// The header of the reply to this call.
    pub fn reply(&self, status: Status) -> Header {
        Header {
            mtype: MessageType::Reply as i32,
            status: status as i32,
            ..*self
        }
    }
}

/// Checks a packet's length word: the whole packet must hold at least a
/// header and at most `MESSAGE_MAX` bytes after the length word.
pub fn check_length(len: u32) -> Result<usize, String> {
    let len = len as usize;
    if len < LEN_SIZE + HEADER_SIZE {
        return Err(format!("packet length {len} is shorter than a header"));
    }
    if len - LEN_SIZE > MESSAGE_MAX {
        return Err(format!(
            "packet length {len} exceeds maximum {}",
            MESSAGE_MAX + LEN_SIZE
        ));
    }
    Ok(len)
}

/// The length of the whole packet at the front of a connection's input
/// once all of it is there (`None` while more bytes are needed), or why the
/// stream cannot be read any further.
pub fn next_packet(data: &[u8]) -> Result<Option<usize>, String> {
    let Some(w) = data.get(..LEN_SIZE) else {
        return Ok(None);
    };
    let len = check_length(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))?;
    Ok((data.len() >= len).then_some(len))
}

/// Starts a packet in `out` (cleared): a length placeholder and the header.
/// Append the body, then call [`finish`].
pub fn begin(out: &mut Vec<u8>, header: &Header) {
    out.clear();
    out.extend_from_slice(&[0; LEN_SIZE]);
    header.encode(out);
}

/// Writes the final length word of a packet started with [`begin`].
pub fn finish(out: &mut [u8]) {
    let len = out.len() as u32;
    out[..LEN_SIZE].copy_from_slice(&len.to_be_bytes());
}

/// Offset where the body of a packet started with [`begin`] begins.
pub const BODY_OFFSET: usize = LEN_SIZE + HEADER_SIZE;

/// A whole packet: header and body.
pub fn packet(header: &Header, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(BODY_OFFSET + body.len());
    begin(&mut out, header);
    out.extend_from_slice(body);
    finish(&mut out);
    out
}

/// A keepalive packet (PING or PONG): type MESSAGE, serial 0, no body.
pub fn keepalive(proc_: i32) -> [u8; BODY_OFFSET] {
    let mut out = Vec::with_capacity(BODY_OFFSET);
    begin(
        &mut out,
        &Header {
            prog: KEEPALIVE_PROGRAM,
            vers: KEEPALIVE_VERSION,
            proc_,
            mtype: MessageType::Message as i32,
            serial: 0,
            status: Status::Ok as i32,
        },
    );
    finish(&mut out);
    let mut a = [0u8; BODY_OFFSET];
    a.copy_from_slice(&out);
    a
}

/// `remote_nonnull_domain` as the error struct's optional `dom` field
/// carries it (always absent from this daemon, but decoded by clients).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorDomainRef {
    /// Domain name.
    pub name: String,
    /// Domain UUID.
    pub uuid: xdr::FixedOpaque<16>,
    /// Domain id, -1 when inactive.
    pub id: i32,
}

/// `remote_nonnull_network` in the error struct (always absent).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorNetworkRef {
    /// Network name.
    pub name: String,
    /// Network UUID.
    pub uuid: xdr::FixedOpaque<16>,
}

/// `virNetMessageError`: the body of every error reply.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// virErrorNumber.
    pub code: i32,
    /// virErrorDomain.
    pub domain: i32,
    /// The full message.
    pub message: Option<String>,
    /// virErrorLevel.
    pub level: i32,
    /// Always absent.
    pub dom: Option<ErrorDomainRef>,
    /// The message template.
    pub str1: Option<String>,
    /// The detail.
    pub str2: Option<String>,
    /// Unused.
    pub str3: Option<String>,
    /// Unused (-1).
    pub int1: i32,
    /// Unused (-1).
    pub int2: i32,
    /// Always absent.
    pub net: Option<ErrorNetworkRef>,
}

impl From<&VirError> for WireError {
    fn from(e: &VirError) -> Self {
        WireError {
            code: e.code as i32,
            domain: e.domain as i32,
            message: Some(e.message.clone()),
            level: e.level as i32,
            dom: None,
            str1: Some(e.template().to_string()),
            str2: e.detail.clone(),
            str3: None,
            int1: -1,
            int2: -1,
            net: None,
        }
    }
}

/// Appends the error struct for `e` to `out`.
pub fn encode_error(out: &mut Vec<u8>, e: &VirError) {
    // Truncate absurdly long texts rather than fail: the limit is the
    // client's, and an error must always be deliverable.
    let mut w = WireError::from(e);
    for s in [&mut w.message, &mut w.str2].into_iter().flatten() {
        if s.len() > STRING_MAX {
            let mut cut = STRING_MAX;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
        }
    }
    // Encoding plain strings and integers into a Vec cannot fail.
    let _ = xdr::to_writer(out, &w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, ErrorDomain};
    use crate::rpc::hex::hex;

    #[test]
    fn auth_list_reply_golden() {
        let call = Header {
            prog: 0x2000_8086,
            vers: 1,
            proc_: 66,
            mtype: 0,
            serial: 0,
            status: 0,
        };
        let p = packet(&call.reply(Status::Ok), &[0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(
            hex(&p),
            "0000002420008086000000010000004200000001000000000000000000000001\
             00000000"
        );
    }

    #[test]
    fn header_round_trip() {
        let raw: [u8; 24] = [
            0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
        ];
        let h = Header::decode(&raw);
        assert_eq!(h.proc_, 1);
        assert_eq!(h.serial, 2);
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out, raw);
    }

    #[test]
    fn keepalive_golden() {
        assert_eq!(
            hex(&keepalive(KEEPALIVE_PONG)),
            "0000001c6b65657000000001000000020000000200000000\
             00000000"
        );
    }

    #[test]
    fn length_limits() {
        assert!(check_length(27).is_err());
        assert!(check_length(28).is_ok());
        assert!(check_length((MESSAGE_MAX + 4) as u32).is_ok());
        assert!(check_length((MESSAGE_MAX + 5) as u32).is_err());
    }

    #[test]
    fn next_packet_waits_for_the_whole_packet() {
        let p = packet(&Header::decode(&[0; HEADER_SIZE]), &[1, 2, 3, 4]);
        assert_eq!(next_packet(&p[..3]), Ok(None));
        assert_eq!(next_packet(&p[..p.len() - 1]), Ok(None));
        assert_eq!(next_packet(&p), Ok(Some(p.len())));
        let mut two = p.clone();
        two.extend_from_slice(&p);
        assert_eq!(next_packet(&two), Ok(Some(p.len())));
        assert!(next_packet(&[0, 0, 0, 27]).is_err());
        assert!(next_packet(&[0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn error_reply_golden() {
        // Byte for byte what libvirtd sent virt-admin for
        // `srv-threadpool-info nosuch` (captures/virt-admin-9.0-to-libvirtd.txt).
        let e = VirError::new(
            ErrorCode::NoServer,
            ErrorDomain::Rpc,
            "No server named 'nosuch'",
        );
        let mut body = Vec::new();
        encode_error(&mut body, &e);
        assert_eq!(
            hex(&body),
            "0000005f00000007000000010000002a536572766572206e6f7420666f756e64\
             3a204e6f20736572766572206e616d656420276e6f7375636827000000000002\
             000000000000000100000014536572766572206e6f7420666f756e643a202573\
             00000001000000184e6f20736572766572206e616d656420276e6f7375636827\
             00000000ffffffffffffffff00000000"
        );
        let w: WireError = xdr::from_bytes(&body).unwrap();
        assert_eq!(w.code, 95);
        assert_eq!(w.str2.as_deref(), Some("No server named 'nosuch'"));
    }

    #[test]
    fn bare_error_golden() {
        // libvirtd's `virsh dominfo nosuch` reply, but for the driver domain
        // (12 there, the test driver; 48 for us).
        let e = VirError::bare(ErrorCode::NoDomain, ErrorDomain::Parallels);
        let mut body = Vec::new();
        encode_error(&mut body, &e);
        assert_eq!(
            hex(&body),
            "0000002a000000300000000100000010446f6d61696e206e6f7420666f756e64\
             00000002000000000000000100000010446f6d61696e206e6f7420666f756e64\
             0000000000000000ffffffffffffffff00000000"
        );
    }
}

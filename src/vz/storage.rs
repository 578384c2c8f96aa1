//! The storage driver as a client: virtvzd has none of its own, so a
//! `<filesystem type='volume'>` is resolved by asking libvirt's storage
//! daemon (virtstoraged, or libvirtd in monolithic mode) over its UNIX
//! socket with the REMOTE program, as libvirt's vz driver asks its own
//! connection's storage driver.

use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::remote::protocol::{ConnectOpenArgs, Uuid, PROGRAM};
use crate::rpc::message::{self, Header, MessageType, Status, WireError, HEADER_SIZE, LEN_SIZE};
use crate::rpc::xdr;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one storage call may take before define gives up on it.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// REMOTE_PROC_CONNECT_OPEN
const PROC_CONNECT_OPEN: i32 = 1;
/// REMOTE_PROC_CONNECT_CLOSE
const PROC_CONNECT_CLOSE: i32 = 2;
/// REMOTE_PROC_AUTH_LIST: also where libvirt lets a peer of the daemon's
/// own uid in without further authentication.
const PROC_AUTH_LIST: i32 = 66;
/// REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_NAME
const PROC_POOL_LOOKUP_BY_NAME: i32 = 84;
/// REMOTE_PROC_STORAGE_POOL_GET_INFO
const PROC_POOL_GET_INFO: i32 = 87;
/// REMOTE_PROC_STORAGE_VOL_LOOKUP_BY_NAME
const PROC_VOL_LOOKUP_BY_NAME: i32 = 95;
/// REMOTE_PROC_STORAGE_VOL_GET_INFO
const PROC_VOL_GET_INFO: i32 = 98;
/// REMOTE_PROC_STORAGE_VOL_GET_PATH
const PROC_VOL_GET_PATH: i32 = 100;

/// REMOTE_AUTH_NONE
const AUTH_NONE: i32 = 0;
/// VIR_STORAGE_POOL_RUNNING
const POOL_RUNNING: u8 = 2;
/// VIR_STORAGE_POOL_DEGRADED: running, partly (still active)
const POOL_DEGRADED: u8 = 3;
/// VIR_STORAGE_VOL_PLOOP
const VOL_PLOOP: i8 = 5;

/// `remote_nonnull_storage_pool`
#[derive(Serialize, Deserialize, Debug)]
struct Pool {
    name: String,
    uuid: Uuid,
}

/// `remote_nonnull_storage_vol`
#[derive(Serialize, Deserialize, Debug)]
struct Vol {
    pool: String,
    name: String,
    key: String,
}

/// `remote_storage_vol_lookup_by_name_args`
#[derive(Serialize)]
struct VolLookupArgs<'a> {
    pool: &'a Pool,
    name: &'a str,
}

/// `remote_storage_pool_get_info_ret`
#[derive(Deserialize)]
struct PoolInfo {
    state: u8,
    _capacity: u64,
    _allocation: u64,
    _available: u64,
}

/// `remote_storage_vol_get_info_ret`
#[derive(Deserialize)]
struct VolInfo {
    kind: i8,
    _capacity: u64,
    _allocation: u64,
}

/// Where the storage driver is: the URI opened on it and the sockets to
/// try, in order (the first that exists is used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageTarget {
    /// The URI sent with CONNECT_OPEN (`storage:///system` or `…/session`).
    pub uri: String,
    /// Candidate sockets; the first one is named when none exists.
    pub sockets: Vec<PathBuf>,
}

impl StorageTarget {
    /// The default for a daemon whose sockets live in `sock_dir`: the split
    /// storage daemon's socket beside them, else the monolithic libvirtd's.
    pub fn default_for(privileged: bool, sock_dir: &Path) -> StorageTarget {
        StorageTarget {
            uri: if privileged {
                "storage:///system"
            } else {
                "storage:///session"
            }
            .to_string(),
            sockets: vec![
                sock_dir.join("virtstoraged-sock"),
                sock_dir.join("libvirt-sock"),
            ],
        }
    }

    /// Parses `vz_storage_uri`: a libvirt URI whose `socket` parameter, if
    /// any, names the socket (and is not sent, as libvirt's remote driver
    /// keeps it to itself); without one, the defaults' sockets are used.
    pub fn from_uri(uri: &str, defaults: &StorageTarget) -> Result<StorageTarget, String> {
        let (base, query) = match uri.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (uri, None),
        };
        if !base.contains(":///") || base.starts_with(":") {
            return Err(format!(
                "'{uri}' is not a local libvirt URI (scheme:///path)"
            ));
        }
        let mut socket = None;
        let mut kept = Vec::new();
        for p in query.into_iter().flat_map(|q| q.split('&')) {
            match p.split_once('=') {
                Some(("socket", s)) if s.starts_with('/') => socket = Some(PathBuf::from(s)),
                Some(("socket", _)) => {
                    return Err(format!("the socket in '{uri}' must be an absolute path"))
                }
                _ if p.is_empty() => {}
                _ => kept.push(p),
            }
        }
        let uri = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok(StorageTarget {
            uri,
            sockets: socket.map_or_else(|| defaults.sockets.clone(), |s| vec![s]),
        })
    }

    /// The socket a connection goes to.
    fn socket(&self) -> PathBuf {
        self.sockets
            .iter()
            .find(|s| s.exists())
            .or(self.sockets.first())
            .cloned()
            .unwrap_or_default()
    }

    /// The image path of ploop volume `volume` in active pool `pool`,
    /// with libvirt's errors for a missing pool or volume.
    pub fn ploop_volume_path(&self, pool: &str, volume: &str) -> VirResult<String> {
        let mut c = Connection::open(self)?;
        let r = c.ploop_volume_path(pool, volume);
        c.close();
        r
    }
}

/// Connects without blocking past `CALL_TIMEOUT`: a daemon whose listen
/// queue is full would otherwise hold the define's worker for good.
fn connect(socket: &Path) -> std::io::Result<UnixStream> {
    let mut stream = mio::net::UnixStream::connect(socket)?;
    let mut poll = mio::Poll::new()?;
    poll.registry()
        .register(&mut stream, mio::Token(0), mio::Interest::WRITABLE)?;
    let mut events = mio::Events::with_capacity(1);
    poll.poll(&mut events, Some(CALL_TIMEOUT))?;
    if events.is_empty() {
        return Err(std::io::ErrorKind::TimedOut.into());
    }
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    poll.registry().deregister(&mut stream)?;
    let stream = UnixStream::from(std::os::fd::OwnedFd::from(stream));
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// One open connection to the storage driver.
struct Connection {
    stream: UnixStream,
    socket: PathBuf,
    serial: u32,
}

fn failed(detail: String) -> VirError {
    VirError::new(ErrorCode::OperationFailed, ErrorDomain::Parallels, detail)
}

impl Connection {
    fn open(t: &StorageTarget) -> VirResult<Connection> {
        let socket = t.socket();
        let cannot = |e: std::io::Error| {
            failed(format!(
                "cannot connect to the storage driver at '{}': {e}",
                socket.display()
            ))
        };
        let stream = connect(&socket).map_err(cannot)?;
        for r in [
            stream.set_read_timeout(Some(CALL_TIMEOUT)),
            stream.set_write_timeout(Some(CALL_TIMEOUT)),
        ] {
            r.map_err(cannot)?;
        }
        let mut c = Connection {
            stream,
            socket,
            serial: 0,
        };
        let auth: Vec<i32> = c.call(PROC_AUTH_LIST, &())?;
        if !auth.is_empty() && !auth.contains(&AUTH_NONE) {
            return Err(failed(format!(
                "the storage driver at '{}' asks for an authentication virtvzd does not do",
                c.socket.display()
            )));
        }
        let () = c.call(
            PROC_CONNECT_OPEN,
            &ConnectOpenArgs {
                name: Some(t.uri.clone()),
                flags: 0,
            },
        )?;
        Ok(c)
    }

    fn close(&mut self) {
        let _: VirResult<()> = self.call(PROC_CONNECT_CLOSE, &());
    }

    fn ploop_volume_path(&mut self, pool: &str, volume: &str) -> VirResult<String> {
        let p: Pool = self.call(PROC_POOL_LOOKUP_BY_NAME, &pool)?;
        let info: PoolInfo = self.call(PROC_POOL_GET_INFO, &p)?;
        if !matches!(info.state, POOL_RUNNING | POOL_DEGRADED) {
            return Err(VirError::new(
                ErrorCode::ConfigUnsupported,
                ErrorDomain::Parallels,
                format!("storage pool '{pool}' containing volume '{volume}' is not active"),
            ));
        }
        let v: Vol = self.call(
            PROC_VOL_LOOKUP_BY_NAME,
            &VolLookupArgs {
                pool: &p,
                name: volume,
            },
        )?;
        let info: VolInfo = self.call(PROC_VOL_GET_INFO, &v)?;
        if info.kind != VOL_PLOOP {
            return Err(VirError::new(
                ErrorCode::ConfigUnsupported,
                ErrorDomain::Parallels,
                format!("Unsupported volume format '{}'", vol_type_name(info.kind)),
            ));
        }
        self.call(PROC_VOL_GET_PATH, &v)
    }

    /// One call and its reply, skipping any asynchronous message.
    fn call<A: Serialize + ?Sized, R: DeserializeOwned>(
        &mut self,
        proc_: i32,
        args: &A,
    ) -> VirResult<R> {
        self.serial += 1;
        let header = Header {
            prog: PROGRAM,
            vers: 1,
            proc_,
            mtype: MessageType::Call as i32,
            serial: self.serial,
            status: Status::Ok as i32,
        };
        let body = xdr::to_bytes(args).map_err(|e| VirError::rpc(e.to_string()))?;
        let io = |e: std::io::Error| {
            failed(format!(
                "storage driver at '{}': {e}",
                self.socket.display()
            ))
        };
        self.stream
            .write_all(&message::packet(&header, &body))
            .map_err(io)?;
        loop {
            let mut len = [0u8; LEN_SIZE];
            self.stream.read_exact(&mut len).map_err(io)?;
            let n = message::check_length(u32::from_be_bytes(len)).map_err(VirError::rpc)?;
            let mut rest = vec![0u8; n - LEN_SIZE];
            self.stream.read_exact(&mut rest).map_err(io)?;
            let mut h = [0u8; HEADER_SIZE];
            h.copy_from_slice(&rest[..HEADER_SIZE]);
            let h = Header::decode(&h);
            if h.prog != PROGRAM || h.serial != self.serial || h.mtype != MessageType::Reply as i32
            {
                continue;
            }
            let body = &rest[HEADER_SIZE..];
            if h.status != Status::Ok as i32 {
                let w: WireError =
                    xdr::from_bytes(body).map_err(|e| VirError::rpc(e.to_string()))?;
                return Err(remote_error(&w));
            }
            return xdr::from_bytes(body).map_err(|e| VirError::rpc(e.to_string()));
        }
    }
}

/// `virStorageVolTypeToString`: libvirt's names of volume types.
fn vol_type_name(kind: i8) -> String {
    match kind {
        0 => "file".into(),
        1 => "block".into(),
        2 => "dir".into(),
        3 => "network".into(),
        4 => "netdir".into(),
        5 => "ploop".into(),
        other => format!("{other}"),
    }
}

/// The storage driver's error as this daemon reports it: its not-found
/// errors keep their codes and texts (clients test for them); anything
/// else is an operation failure carrying its text.
fn remote_error(w: &WireError) -> VirError {
    let detail = w
        .str2
        .clone()
        .or_else(|| w.message.clone())
        .unwrap_or_default();
    let kept = [ErrorCode::NoStoragePool, ErrorCode::NoStorageVol]
        .into_iter()
        .find(|c| *c as i32 == w.code);
    match kept {
        Some(code) => VirError::new(code, ErrorDomain::Storage, detail),
        None => failed(format!(
            "storage driver: {}",
            w.message.clone().unwrap_or(detail)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_names_the_socket_and_the_rest_is_sent() {
        let d = StorageTarget::default_for(false, Path::new("/run/user/7/libvirt"));
        assert_eq!(d.uri, "storage:///session");
        assert_eq!(
            d.sockets,
            [
                PathBuf::from("/run/user/7/libvirt/virtstoraged-sock"),
                PathBuf::from("/run/user/7/libvirt/libvirt-sock")
            ]
        );
        let t = StorageTarget::from_uri("storage:///session?socket=/tmp/s&x=1", &d).unwrap();
        assert_eq!(t.uri, "storage:///session?x=1");
        assert_eq!(t.sockets, [PathBuf::from("/tmp/s")]);
        let t = StorageTarget::from_uri("storage:///system", &d).unwrap();
        assert_eq!(
            (t.uri.as_str(), &t.sockets),
            ("storage:///system", &d.sockets)
        );
        for bad in [
            "",
            "/tmp/s",
            "storage://host/system",
            "storage:///x?socket=rel",
        ] {
            assert!(StorageTarget::from_uri(bad, &d).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_absent_socket_is_an_operation_failure_naming_it() {
        let t = StorageTarget {
            uri: "storage:///session".into(),
            sockets: vec![PathBuf::from("/nonexistent/virtstoraged-sock")],
        };
        let e = t.ploop_volume_path("p", "v").unwrap_err();
        assert_eq!(e.code, ErrorCode::OperationFailed);
        assert!(
            e.message.contains("/nonexistent/virtstoraged-sock"),
            "{}",
            e.message
        );
    }

    #[test]
    fn not_found_errors_keep_their_codes() {
        let w = |code: i32, s: &str| WireError {
            code,
            domain: 18,
            message: Some(format!("x: {s}")),
            level: 2,
            dom: None,
            str1: None,
            str2: Some(s.to_string()),
            str3: None,
            int1: -1,
            int2: -1,
            net: None,
        };
        let e = remote_error(&w(49, "no storage pool with matching name 'p'"));
        assert_eq!(e.code, ErrorCode::NoStoragePool);
        assert_eq!(
            e.message,
            "Storage pool not found: no storage pool with matching name 'p'"
        );
        let e = remote_error(&w(50, "no storage vol with matching name 'v'"));
        assert_eq!(e.code, ErrorCode::NoStorageVol);
        assert_eq!(
            e.message,
            "Storage volume not found: no storage vol with matching name 'v'"
        );
        assert_eq!(remote_error(&w(1, "boom")).code, ErrorCode::OperationFailed);
    }
}

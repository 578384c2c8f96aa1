//! The daemon's UNIX sockets in traditional mode: directory, bind with the
//! configured backlog, mode and group; stale-socket and live-daemon
//! detection; peer credentials of accepted clients.

use crate::rpc::client::PeerCred;
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// A socket this daemon created, removed again on exit.
#[derive(Debug)]
pub struct OwnedSocket {
    /// Where it lives.
    pub path: PathBuf,
    /// The listener.
    pub listener: UnixListener,
}

impl Drop for OwnedSocket {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Creates the socket directory if missing: 0755 for root (clients of
/// other users reach the read-only socket), 0700 for a user.
pub fn ensure_dir(dir: &Path, privileged: bool) -> Result<(), String> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(if privileged { 0o755 } else { 0o700 })
        .create(dir)
        .map_err(|e| format!("cannot create socket directory {}: {e}", dir.display()))
}

/// Binds and listens on `path` with `mode` and optional `group`.
///
/// A socket file left by a crashed daemon is replaced; one that a live
/// daemon still answers on is an error, and is left alone.
pub fn listen(
    path: &Path,
    mode: u32,
    group: Option<u32>,
    backlog: u32,
) -> Result<OwnedSocket, String> {
    if let Ok(meta) = fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if !meta.file_type().is_socket() {
            return Err(format!(
                "{} exists and is not a socket; not replacing it",
                path.display()
            ));
        }
        if UnixStream::connect(path).is_ok() {
            return Err(format!(
                "{} is in use by another running daemon",
                path.display()
            ));
        }
        fs::remove_file(path)
            .map_err(|e| format!("cannot remove stale socket {}: {e}", path.display()))?;
    }
    let listener =
        bind(path, backlog).map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
    let sock = OwnedSocket {
        path: path.to_path_buf(),
        listener,
    };
    if let Some(gid) = group {
        chown_group(path, gid)
            .map_err(|e| format!("cannot set group of {}: {e}", path.display()))?;
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set mode of {}: {e}", path.display()))?;
    Ok(sock)
}

fn cstr(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

fn bind(path: &Path, backlog: u32) -> io::Result<UnixListener> {
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain data; all-zero is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "socket path too long",
        ));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: plain socket(2) call; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // Bind with a closed umask so the socket never exists with wider
    // permissions than configured; the caller then sets the real mode.
    // SAFETY: umask only swaps the process mask; restored right after.
    let old = unsafe { libc::umask(0o077) };
    // SAFETY: addr is a valid sockaddr_un of the given size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &addr as *const libc::sockaddr_un as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        )
    };
    let err = io::Error::last_os_error();
    // SAFETY: restores the mask saved above.
    unsafe { libc::umask(old) };
    if rc < 0 {
        return Err(err);
    }
    let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
    // SAFETY: fd is a bound socket we own.
    if unsafe { libc::listen(fd.as_raw_fd(), backlog) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(UnixListener::from(fd))
}

fn chown_group(path: &Path, gid: u32) -> io::Result<()> {
    let c = cstr(path)?;
    // SAFETY: c is a valid C string; uid -1 leaves the owner unchanged.
    if unsafe { libc::chown(c.as_ptr(), u32::MAX, gid) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The group id for a group name (or a number).
pub fn group_id(name: &str) -> Result<u32, String> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(n);
    }
    let c = CString::new(name).map_err(|_| format!("invalid group name '{name}'"))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: group is plain data; all-zero is valid before the call fills it.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and buf's length is passed.
    let rc = unsafe {
        libc::getgrnam_r(
            c.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return Err(format!("unknown group '{name}'"));
    }
    Ok(grp.gr_gid)
}

/// SO_PEERCRED of a connected UNIX socket.
pub fn peer_cred(stream: &UnixStream) -> Option<PeerCred> {
    // SAFETY: ucred is plain data; all-zero is valid.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: cred and len are valid for writing and len holds its size.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        )
    };
    (rc == 0).then_some(PeerCred {
        pid: cred.pid,
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// Descriptors one client costs: its socket, its poll and its waker.
pub const FDS_PER_CLIENT: u64 = 3;

/// Raises the open-files limit so `clients` connections of the main
/// server and `admin` ones fit (libvirt's defaults are 5000 of each): the
/// soft limit to the hard one, and the hard one too when that is not
/// enough and we may (root). Says so when the limit still caps the main
/// server's clients (admin clients are a handful in practice, so a limit
/// that only caps admin_max_clients is not worth a warning at every start).
pub fn raise_nofile_limit(clients: u64, admin: u64) {
    let fds = |n: u64| n.saturating_mul(FDS_PER_CLIENT).saturating_add(256);
    let need = fds(clients.saturating_add(admin));
    // SAFETY: rlimit is plain data; getrlimit fills it.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: lim is valid for writing.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return;
    }
    if lim.rlim_max < need {
        let raised = libc::rlimit {
            rlim_cur: need,
            rlim_max: need,
        };
        // SAFETY: a valid rlimit; without CAP_SYS_RESOURCE this just fails.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return;
        }
    }
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: lim is a valid rlimit within the hard limit.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
    if lim.rlim_cur < fds(clients) {
        log::warn!(
            "the open-files limit ({}) leaves room for about {} clients, fewer than max_clients ({clients})",
            lim.rlim_cur,
            lim.rlim_cur.saturating_sub(256) / FDS_PER_CLIENT
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn stale_socket_is_replaced_and_live_one_refused() {
        let dir = std::env::temp_dir().join(format!("virtvzd-sock-test-{}", std::process::id()));
        ensure_dir(&dir, false).unwrap();
        let path = dir.join("s");
        let first = listen(&path, 0o600, None, 5).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        // Live: refused, and the file stays.
        assert!(listen(&path, 0o600, None, 5)
            .unwrap_err()
            .contains("in use"));
        assert!(path.exists());
        drop(first);
        // Stale (listener closed but file left behind): replaced.
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let again = listen(&path, 0o666, None, 5).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o666
        );
        drop(again);
        assert!(!path.exists());
        let _ = fs::remove_dir(&dir);
    }

    #[test]
    fn peer_cred_is_ours() {
        let (a, _b) = UnixStream::pair().unwrap();
        let c = peer_cred(&a).unwrap();
        assert_eq!(c.pid as u32, std::process::id());
    }
}

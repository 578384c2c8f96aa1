//! Socket activation: listening sockets handed over by systemd (or any
//! activator) through LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES. Needs no
//! systemd at run time.
//!
//! Read it while the process is single-threaded: it edits the environment.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;

/// First descriptor passed by the activator.
const FIRST_FD: RawFd = 3;

/// Which of our sockets an fd is, by its unit's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `virtvzd.socket`
    ReadWrite,
    /// `virtvzd-ro.socket`
    ReadOnly,
    /// `virtvzd-admin.socket`
    Admin,
}

/// The sockets handed over, by role.
#[derive(Debug, Default)]
pub struct ActivatedSockets {
    /// Read-write listeners.
    pub rw: Vec<UnixListener>,
    /// Read-only listeners.
    pub ro: Vec<UnixListener>,
    /// Admin listeners.
    pub admin: Vec<UnixListener>,
}

/// The plan from the three variables: None when they are not for us.
pub fn plan(
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    listen_fdnames: Option<&str>,
    our_pid: u32,
) -> Result<Option<Vec<(RawFd, Role)>>, String> {
    let Some(pid) = listen_pid else {
        return Ok(None);
    };
    if pid.trim().parse::<u32>().ok() != Some(our_pid) {
        return Ok(None);
    }
    let n: usize = listen_fds
        .ok_or("socket activation: LISTEN_PID is set but LISTEN_FDS is missing")?
        .trim()
        .parse()
        .map_err(|_| {
            format!(
                "socket activation: invalid LISTEN_FDS '{}'",
                listen_fds.unwrap_or("")
            )
        })?;
    let names = listen_fdnames
        .ok_or("socket activation: LISTEN_FDNAMES is missing (needs systemd 227 or later)")?;
    let names: Vec<&str> = if names.is_empty() {
        Vec::new()
    } else {
        names.split(':').collect()
    };
    if names.len() != n {
        return Err(format!(
            "socket activation: expecting {n} fd names in LISTEN_FDNAMES but got {}",
            names.len()
        ));
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let fd = FIRST_FD + i as RawFd;
            let role = match *name {
                "virtvzd.socket" => Role::ReadWrite,
                "virtvzd-ro.socket" => Role::ReadOnly,
                "virtvzd-admin.socket" => Role::Admin,
                other => {
                    return Err(format!(
                        "socket activation: unknown LISTEN_FDNAMES entry '{other}' for fd {fd}; \
                         expected virtvzd.socket, virtvzd-ro.socket or virtvzd-admin.socket"
                    ))
                }
            };
            Ok((fd, role))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Takes the activated sockets from the environment, if they are ours.
pub fn take_from_env() -> Result<Option<ActivatedSockets>, String> {
    let var = |k| std::env::var(k).ok();
    let plan = plan(
        var("LISTEN_PID").as_deref(),
        var("LISTEN_FDS").as_deref(),
        var("LISTEN_FDNAMES").as_deref(),
        std::process::id(),
    )?;
    let Some(plan) = plan else {
        return Ok(None);
    };
    // Children must not think these sockets are theirs.
    for k in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        std::env::remove_var(k);
    }
    let mut out = ActivatedSockets::default();
    for (fd, role) in plan {
        check_listening_unix(fd)?;
        // SAFETY: fcntl on a descriptor number; failure is reported.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        // SAFETY: check_listening_unix proved fd is an open listening
        // socket handed to us; we take sole ownership of it here.
        let l = UnixListener::from(unsafe { OwnedFd::from_raw_fd(fd) });
        match role {
            Role::ReadWrite => out.rw.push(l),
            Role::ReadOnly => out.ro.push(l),
            Role::Admin => out.admin.push(l),
        }
    }
    Ok(Some(out))
}

fn check_listening_unix(fd: RawFd) -> Result<(), String> {
    let opt = |name| {
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: v and len are valid for writing; len holds v's size.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                name,
                &mut v as *mut libc::c_int as *mut libc::c_void,
                &mut len,
            )
        };
        (rc == 0).then_some(v)
    };
    match (
        opt(libc::SO_DOMAIN),
        opt(libc::SO_TYPE),
        opt(libc::SO_ACCEPTCONN),
    ) {
        (Some(libc::AF_UNIX), Some(libc::SOCK_STREAM), Some(1)) => Ok(()),
        (None, _, _) => Err(format!("socket activation: fd {fd} is not an open socket")),
        _ => Err(format!(
            "socket activation: fd {fd} is not a listening UNIX stream socket"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_for_us() {
        assert_eq!(plan(None, Some("3"), Some("a:b:c"), 10), Ok(None));
        assert_eq!(
            plan(Some("11"), Some("1"), Some("virtvzd.socket"), 10),
            Ok(None)
        );
    }

    #[test]
    fn maps_names_to_roles() {
        let p = plan(
            Some("10"),
            Some("3"),
            Some("virtvzd.socket:virtvzd-ro.socket:virtvzd-admin.socket"),
            10,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            p,
            vec![(3, Role::ReadWrite), (4, Role::ReadOnly), (5, Role::Admin)]
        );
        // A masked unit simply loses its socket.
        let p = plan(Some("10"), Some("1"), Some("virtvzd.socket"), 10)
            .unwrap()
            .unwrap();
        assert_eq!(p, vec![(3, Role::ReadWrite)]);
    }

    #[test]
    fn errors_are_clear() {
        let e = plan(Some("10"), Some("1"), Some("foo.socket"), 10).unwrap_err();
        assert!(e.contains("'foo.socket'") && e.contains("fd 3"), "{e}");
        let e = plan(Some("10"), Some("2"), Some("virtvzd.socket"), 10).unwrap_err();
        assert!(e.contains("expecting 2"), "{e}");
        let e = plan(Some("10"), Some("1"), None, 10).unwrap_err();
        assert!(e.contains("LISTEN_FDNAMES"), "{e}");
        let e = plan(Some("10"), Some("x"), Some(""), 10).unwrap_err();
        assert!(e.contains("LISTEN_FDS"), "{e}");
    }
}

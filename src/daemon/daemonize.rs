//! `-d`: into the background, with the parent waiting on a status pipe so
//! it exits 0 only once the daemon serves, or non-zero with the daemon's
//! own error message (libvirt's behaviour).
//!
//! Must be called while the process has a single thread: after `fork`
//! only the calling thread exists in the child.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The daemon's end of the status pipe.
#[derive(Debug)]
pub struct StatusPipe {
    w: File,
}

const READY: u8 = 0;
const FAILED: u8 = 1;

impl StatusPipe {
    /// Startup succeeded: the waiting parent exits 0.
    pub fn ready(mut self) {
        let _ = self.w.write_all(&[READY]);
    }

    /// Startup failed: the waiting parent prints `message` and exits 1.
    pub fn failed(mut self, message: &str) {
        let mut buf = vec![FAILED];
        buf.extend_from_slice(message.as_bytes());
        let _ = self.w.write_all(&buf);
    }
}

/// Turns what the parent read from the pipe into its exit: (status, text
/// for stderr).
fn verdict(data: &[u8]) -> (i32, Option<String>) {
    match data.split_first() {
        Some((&READY, _)) => (0, None),
        Some((&FAILED, msg)) => (
            1,
            Some(format!("virtvzd: {}", String::from_utf8_lossy(msg))),
        ),
        _ => (
            1,
            Some("virtvzd: daemon failed to start (exited before reporting status)".into()),
        ),
    }
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Double-forks into the background. Returns only in the final daemon
/// process; the original process waits for the status and exits.
pub fn daemonize() -> io::Result<StatusPipe> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both descriptors are fresh and owned by us from here on.
    let (r, w) = unsafe {
        (
            File::from(OwnedFd::from_raw_fd(fds[0])),
            File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    };
    // SAFETY: single-threaded (documented precondition); the child only
    // continues with plain Rust code.
    match check(unsafe { libc::fork() })? {
        0 => {}
        _ => {
            drop(w);
            wait_for_status(r);
        }
    }
    drop(r);
    // SAFETY: plain syscalls in the child, results checked.
    check(unsafe { libc::setsid() })?;
    // SAFETY: as above; the intermediate process exits at once so the
    // daemon can never reacquire a controlling terminal.
    match check(unsafe { libc::fork() })? {
        0 => {}
        // SAFETY: _exit skips atexit handlers and buffered-stream flushes
        // that belong to the original process.
        _ => unsafe { libc::_exit(0) },
    }
    std::env::set_current_dir("/")?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors of our own process.
        check(unsafe { libc::dup2(null.as_raw_fd(), fd) })?;
    }
    Ok(StatusPipe { w })
}

/// The original process: read until the daemon reports or dies, then exit.
fn wait_for_status(mut r: File) -> ! {
    let mut data = Vec::new();
    let _ = r.read_to_end(&mut data);
    let (code, text) = verdict(&data);
    if let Some(t) = text {
        eprintln!("{t}");
    }
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(verdict(&[READY]), (0, None));
        let (code, text) = verdict(b"\x01cannot listen on /run/x: in use");
        assert_eq!(code, 1);
        assert_eq!(
            text.as_deref(),
            Some("virtvzd: cannot listen on /run/x: in use")
        );
        let (code, text) = verdict(&[]);
        assert_eq!(code, 1);
        assert!(text.unwrap().contains("exited before reporting"));
    }
}

//! The pid file: created and locked for the daemon's whole life, so a
//! second daemon on the same paths is refused before it touches anything.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A held pid file.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    file: Option<File>,
}

/// Why the pid file could not be taken.
#[derive(Debug)]
pub enum PidFileError {
    /// Another live process holds the lock.
    AlreadyRunning {
        /// The pid file.
        path: PathBuf,
        /// The pid written in it, if readable.
        pid: Option<u32>,
    },
    /// The file could not be created, locked or written.
    Io {
        /// The pid file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl fmt::Display for PidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PidFileError::AlreadyRunning {
                path,
                pid: Some(pid),
            } => write!(
                f,
                "another virtvzd (pid {pid}) holds {}: is the daemon already running?",
                path.display()
            ),
            PidFileError::AlreadyRunning { path, pid: None } => write!(
                f,
                "another virtvzd holds {}: is the daemon already running?",
                path.display()
            ),
            PidFileError::Io { path, source } => {
                write!(f, "cannot take the pid file {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for PidFileError {}

fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    // SAFETY: the descriptor is valid while `file` lives; flock has no
    // memory effects.
    if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl PidFile {
    /// Creates (or reuses a stale) `path`, locks it and writes our pid.
    pub fn acquire(path: &Path) -> Result<PidFile, PidFileError> {
        let io_err = |source| PidFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(dir)
                    .map_err(io_err)?;
            }
        }
        // The file may be unlinked by its previous owner between our open
        // and our lock: then we locked a file nobody sees, so go again.
        for _ in 0..10 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .open(path)
                .map_err(io_err)?;
            match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let mut s = String::new();
                    let pid = file
                        .read_to_string(&mut s)
                        .ok()
                        .and_then(|_| s.trim().parse().ok());
                    return Err(PidFileError::AlreadyRunning {
                        path: path.to_path_buf(),
                        pid,
                    });
                }
                Err(e) => return Err(io_err(e)),
            }
            let ours = file.metadata().map_err(io_err)?;
            match fs::metadata(path) {
                Ok(now) if now.ino() == ours.ino() && now.dev() == ours.dev() => {}
                _ => continue,
            }
            file.set_len(0).map_err(io_err)?;
            file.rewind().map_err(io_err)?;
            file.write_all(format!("{}\n", std::process::id()).as_bytes())
                .map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
            return Ok(PidFile {
                path: path.to_path_buf(),
                file: Some(file),
            });
        }
        Err(io_err(io::Error::other(
            "the pid file keeps being replaced by another process",
        )))
    }

    /// The pid file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file (if it is still ours) and drops the lock.
    pub fn release(mut self) {
        self.remove();
    }

    fn remove(&mut self) {
        if let Some(file) = self.file.take() {
            let still_ours = match (file.metadata(), fs::metadata(&self.path)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if still_ours {
                let _ = fs::remove_file(&self.path);
            }
        }
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("virtvzd-pid-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d.join("sub/virtvzd.pid")
    }

    #[test]
    fn acquire_writes_pid_and_refuses_second() {
        let p = temp("a");
        let held = PidFile::acquire(&p).unwrap();
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            format!("{}\n", std::process::id())
        );
        match PidFile::acquire(&p) {
            Err(PidFileError::AlreadyRunning { pid, .. }) => {
                assert_eq!(pid, Some(std::process::id()))
            }
            other => panic!("{other:?}"),
        }
        // The holder's content is untouched.
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            format!("{}\n", std::process::id())
        );
        held.release();
        assert!(!p.exists());
        let _ = fs::remove_dir_all(p.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn stale_file_is_reused() {
        let p = temp("b");
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, "99999999\n").unwrap();
        let held = PidFile::acquire(&p).unwrap();
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(held);
        assert!(!p.exists());
        let _ = fs::remove_dir_all(p.parent().unwrap().parent().unwrap());
    }
}

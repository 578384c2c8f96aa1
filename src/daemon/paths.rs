//! Where the daemon's files live: the system paths for root, the XDG
//! paths of the user otherwise (the manual page's FILES section).

use std::ffi::{CStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// `SYSCONFDIR`, fixed at build time (`make SYSCONFDIR=...`).
pub const SYSCONFDIR: &str = match option_env!("VIRTVZD_SYSCONFDIR") {
    Some(d) => d,
    None => "/etc",
};
/// `RUNSTATEDIR`, fixed at build time.
pub const RUNSTATEDIR: &str = match option_env!("VIRTVZD_RUNSTATEDIR") {
    Some(d) => d,
    None => "/run",
};
/// `LOCALSTATEDIR`, fixed at build time.
pub const LOCALSTATEDIR: &str = match option_env!("VIRTVZD_LOCALSTATEDIR") {
    Some(d) => d,
    None => "/var",
};

/// Read-write socket name.
pub const RW_SOCKET_NAME: &str = "virtvzd-sock";
/// Read-only socket name (root only).
pub const RO_SOCKET_NAME: &str = "virtvzd-sock-ro";
/// Admin socket name.
pub const ADMIN_SOCKET_NAME: &str = "virtvzd-admin-sock";

/// The daemon's default paths for the user running it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// Running as root: system paths and `vz:///system`.
    pub privileged: bool,
    /// Default config file.
    pub config_file: PathBuf,
    /// Default socket directory.
    pub sock_dir: PathBuf,
    /// Default pid file.
    pub pid_file: PathBuf,
    /// Default store of the embedded Virtuozzo host.
    pub embedded_dir: PathBuf,
    /// Where the default log file goes when running in the background
    /// without a journal (libvirt's choice).
    pub log_dir: PathBuf,
}

impl Paths {
    /// The paths for this process: root by effective uid, the rest from
    /// the environment (and the passwd entry when HOME is unset).
    pub fn detect() -> Result<Paths, String> {
        // SAFETY: geteuid cannot fail and touches no memory.
        let euid = unsafe { libc::geteuid() };
        let home = || std::env::var_os("HOME").or_else(|| passwd_home(euid));
        Paths::resolve(euid == 0, |k| {
            if k == "HOME" {
                home()
            } else {
                std::env::var_os(k)
            }
        })
    }

    /// The paths given privilege and an environment lookup (pure).
    pub fn resolve(
        privileged: bool,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Paths, String> {
        if privileged {
            return Ok(Paths {
                privileged,
                config_file: Path::new(SYSCONFDIR).join("libvirt/virtvzd.conf"),
                sock_dir: Path::new(RUNSTATEDIR).join("libvirt"),
                pid_file: Path::new(RUNSTATEDIR).join("virtvzd.pid"),
                embedded_dir: Path::new(LOCALSTATEDIR).join("lib/libvirt/virtvzd"),
                log_dir: Path::new(LOCALSTATEDIR).join("log/libvirt"),
            });
        }
        let home = env("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .ok_or("cannot find the home directory (HOME is unset and no passwd entry)")?;
        // XDG: an unset, empty or relative value means the default.
        let xdg = |var: &str, default: &str| {
            env(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(default))
        };
        let runtime = xdg("XDG_RUNTIME_DIR", ".cache").join("libvirt");
        Ok(Paths {
            privileged,
            config_file: xdg("XDG_CONFIG_HOME", ".config").join("libvirt/virtvzd.conf"),
            pid_file: runtime.join("virtvzd.pid"),
            sock_dir: runtime,
            embedded_dir: xdg("XDG_DATA_HOME", ".local/share").join("libvirt/virtvzd"),
            log_dir: xdg("XDG_CACHE_HOME", ".cache").join("libvirt"),
        })
    }
}

/// The read-write socket in `dir`.
pub fn rw_socket(dir: &Path) -> PathBuf {
    dir.join(RW_SOCKET_NAME)
}

/// The read-only socket in `dir`.
pub fn ro_socket(dir: &Path) -> PathBuf {
    dir.join(RO_SOCKET_NAME)
}

/// The admin socket in `dir`.
pub fn admin_socket(dir: &Path) -> PathBuf {
    dir.join(ADMIN_SOCKET_NAME)
}

/// The home directory of `uid` from the passwd database.
fn passwd_home(uid: u32) -> Option<OsString> {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data; all-zero is valid before the call.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; buf's length is passed.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir points into buf, NUL-terminated by getpwuid_r.
    let dir = unsafe { CStr::from_ptr(pw.pw_dir) };
    Some(OsString::from_vec(dir.to_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn root_paths() {
        let p = Paths::resolve(true, env(&[])).unwrap();
        assert_eq!(p.config_file, Path::new("/etc/libvirt/virtvzd.conf"));
        assert_eq!(
            rw_socket(&p.sock_dir),
            Path::new("/run/libvirt/virtvzd-sock")
        );
        assert_eq!(
            ro_socket(&p.sock_dir),
            Path::new("/run/libvirt/virtvzd-sock-ro")
        );
        assert_eq!(
            admin_socket(&p.sock_dir),
            Path::new("/run/libvirt/virtvzd-admin-sock")
        );
        assert_eq!(p.pid_file, Path::new("/run/virtvzd.pid"));
        assert_eq!(p.embedded_dir, Path::new("/var/lib/libvirt/virtvzd"));
        assert_eq!(p.log_dir, Path::new("/var/log/libvirt"));
    }

    #[test]
    fn user_paths_follow_xdg() {
        let p = Paths::resolve(
            false,
            env(&[
                ("HOME", "/home/u"),
                ("XDG_CONFIG_HOME", "/c"),
                ("XDG_RUNTIME_DIR", "/run/user/1000"),
                ("XDG_DATA_HOME", "/d"),
                ("XDG_CACHE_HOME", "/k"),
            ]),
        )
        .unwrap();
        assert_eq!(p.log_dir, Path::new("/k/libvirt"));
        assert_eq!(p.config_file, Path::new("/c/libvirt/virtvzd.conf"));
        assert_eq!(p.sock_dir, Path::new("/run/user/1000/libvirt"));
        assert_eq!(p.pid_file, Path::new("/run/user/1000/libvirt/virtvzd.pid"));
        assert_eq!(p.embedded_dir, Path::new("/d/libvirt/virtvzd"));
    }

    #[test]
    fn user_defaults_when_xdg_unset_empty_or_relative() {
        let p = Paths::resolve(
            false,
            env(&[
                ("HOME", "/home/u"),
                ("XDG_CONFIG_HOME", ""),
                ("XDG_RUNTIME_DIR", "rel"),
            ]),
        )
        .unwrap();
        assert_eq!(
            p.config_file,
            Path::new("/home/u/.config/libvirt/virtvzd.conf")
        );
        assert_eq!(p.sock_dir, Path::new("/home/u/.cache/libvirt"));
        assert_eq!(
            p.embedded_dir,
            Path::new("/home/u/.local/share/libvirt/virtvzd")
        );
    }

    #[test]
    fn no_home_is_an_error() {
        assert!(Paths::resolve(false, env(&[])).is_err());
    }
}

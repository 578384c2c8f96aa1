//! The command line, exactly the options of the manual page.

use super::paths::{self, Paths};
use std::ffi::OsString;
use std::path::PathBuf;

/// Largest `--timeout` libvirt accepts (INT_MAX / 1000 seconds).
pub const TIMEOUT_MAX: u32 = 2_147_483;

/// Options for a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-d`: run in the background.
    pub daemon: bool,
    /// `-f FILE`: an explicit config file.
    pub config: Option<PathBuf>,
    /// `-p FILE`: the pid file.
    pub pid_file: Option<PathBuf>,
    /// `-t SECONDS`: idle timeout (0 disables).
    pub timeout: Option<u32>,
    /// `-v`: log at least at info level.
    pub verbose: bool,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the daemon.
    Run(Options),
    /// `--help`
    Help,
    /// `--version`
    Version,
}

/// Parses the arguments after argv[0].
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut o = Options::default();
    let value = |p: &mut lexopt::Parser, what: &str| {
        p.value()
            .map_err(|_| format!("option {what} needs a value"))
    };
    loop {
        let arg = match p.next() {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        };
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Short('d') | Long("daemon") => o.daemon = true,
            Short('v') | Long("verbose") => o.verbose = true,
            Short('f') | Long("config") => {
                o.config = Some(PathBuf::from(value(&mut p, "--config")?));
            }
            Short('p') | Long("pid-file") => {
                o.pid_file = Some(PathBuf::from(value(&mut p, "--pid-file")?));
            }
            Short('t') | Long("timeout") => {
                let v = value(&mut p, "--timeout")?;
                o.timeout = Some(parse_timeout(&v)?);
            }
            Value(v) => return Err(format!("unexpected argument '{}'", v.to_string_lossy())),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Command::Run(o))
}

fn parse_timeout(v: &OsString) -> Result<u32, String> {
    let s = v.to_string_lossy();
    match s.parse::<u32>() {
        Ok(n) if n <= TIMEOUT_MAX => Ok(n),
        _ => Err(format!(
            "Invalid value for timeout: '{s}' (seconds, 0 to {TIMEOUT_MAX})"
        )),
    }
}

/// `virtvzd (libvirt) X.Y.Z`
pub fn version_line() -> String {
    format!("virtvzd (libvirt) {}", crate::libvirt_version_string())
}

/// The `--help` text, with this user's default paths.
pub fn usage(argv0: &str, p: &Paths) -> String {
    let mut sockets = format!("    {}\n", paths::rw_socket(&p.sock_dir).display());
    if p.privileged {
        sockets += &format!("    {}\n", paths::ro_socket(&p.sock_dir).display());
    }
    sockets += &format!("    {}\n", paths::admin_socket(&p.sock_dir).display());
    format!(
        "Usage: {argv0} [OPTION]...\n\
         \n\
         libvirt management daemon for Virtuozzo virtual machines and containers.\n\
         \n\
         Options:\n\
         \x20 -h, --help               show this help and exit\n\
         \x20 -d, --daemon             run in the background; return once serving\n\
         \x20 -f, --config FILE        use FILE as the configuration file\n\
         \x20 -p, --pid-file FILE      use FILE as the pid file\n\
         \x20 -t, --timeout SECONDS    exit after SECONDS without a connected client (0: never)\n\
         \x20 -v, --verbose            log at least informational messages\n\
         \x20 -V, --version            show the version and exit\n\
         \n\
         Defaults for this user ({mode}):\n\
         \x20 Configuration file:\n    {config}\n\
         \x20 Sockets:\n{sockets}\
         \x20 PID file:\n    {pid}\n\
         \x20 Embedded Virtuozzo host store:\n    {store}\n\
         \x20 Connect with:\n    virsh -c {uri}\n",
        mode = if p.privileged { "system" } else { "session" },
        config = p.config_file.display(),
        pid = p.pid_file.display(),
        store = p.embedded_dir.display(),
        uri = if p.privileged {
            "vz:///system"
        } else {
            "vz:///session"
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn every_option() {
        assert_eq!(run(&["-h"]), Ok(Command::Help));
        assert_eq!(run(&["--help"]), Ok(Command::Help));
        assert_eq!(run(&["-V"]), Ok(Command::Version));
        assert_eq!(run(&["--version"]), Ok(Command::Version));
        let all = run(&["-d", "-v", "-f", "/c", "-p", "/p", "-t", "30"]).unwrap();
        assert_eq!(
            all,
            Command::Run(Options {
                daemon: true,
                verbose: true,
                config: Some("/c".into()),
                pid_file: Some("/p".into()),
                timeout: Some(30),
            })
        );
        let long = run(&[
            "--daemon",
            "--verbose",
            "--config=/c",
            "--pid-file",
            "/p",
            "--timeout=0",
        ])
        .unwrap();
        assert_eq!(
            long,
            Command::Run(Options {
                daemon: true,
                verbose: true,
                config: Some("/c".into()),
                pid_file: Some("/p".into()),
                timeout: Some(0),
            })
        );
        assert_eq!(
            run(&["-t120"]),
            Ok(Command::Run(Options {
                timeout: Some(120),
                ..Options::default()
            }))
        );
        assert_eq!(run(&[]), Ok(Command::Run(Options::default())));
    }

    #[test]
    fn bad_timeouts() {
        for t in ["abc", "-1", "2147484", "99999999999", "", "1.5"] {
            let e = run(&["--timeout", t]).unwrap_err();
            assert!(e.contains("timeout"), "{t}: {e}");
        }
        assert!(run(&["--timeout", "2147483"]).is_ok());
    }

    #[test]
    fn bad_arguments() {
        assert!(run(&["--bogus"]).unwrap_err().contains("bogus"));
        assert!(run(&["-x"]).unwrap_err().contains("-x"));
        assert!(run(&["extra"]).unwrap_err().contains("extra"));
        assert!(run(&["-f"]).unwrap_err().contains("config"));
        assert!(run(&["--daemon=yes"]).is_err());
    }

    #[test]
    fn usage_shows_paths() {
        let root = Paths::resolve(true, |_| None).unwrap();
        let u = usage("virtvzd", &root);
        assert!(u.contains("/etc/libvirt/virtvzd.conf"));
        assert!(u.contains("/run/libvirt/virtvzd-sock-ro"));
        assert!(u.contains("/run/virtvzd.pid"));
        let user =
            Paths::resolve(false, |k| (k == "HOME").then(|| OsString::from("/home/u"))).unwrap();
        let u = usage("virtvzd", &user);
        assert!(u.contains("/home/u/.cache/libvirt/virtvzd-sock"));
        assert!(!u.contains("sock-ro"));
    }
}

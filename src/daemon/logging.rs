//! libvirt's logging model — a default level, filters and outputs — as the
//! process's `log` backend, replaceable while running (SIGHUP, virt-admin).
//!
//! Levels are libvirt's: 1 debug, 2 info, 3 warning, 4 error. A message is
//! kept if its level reaches the first filter whose name its category
//! contains (else the default level), and each output takes it if it also
//! reaches the output's own level. `log::max_level` is kept at the most
//! verbose level anything could pass, so a filtered-out `debug!` costs one
//! comparison.

use parking_lot::{Mutex, RwLock};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The logging settings of libvirt's config keys and environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    /// Default level, 1..=4.
    pub level: u32,
    /// Filters, libvirt's text form ("1:rpc 3:vz").
    pub filters: String,
    /// Outputs, libvirt's text form ("3:stderr").
    pub outputs: String,
    /// The outputs that "" resets to.
    pub default_outputs: String,
}

#[derive(Debug)]
struct Filter {
    level: u32,
    name: String,
}

enum Sink {
    Stderr,
    File(Mutex<File>),
    Syslog {
        ident: String,
        sock: Option<UnixDatagram>,
    },
    /// Unconnected: every message goes to the journal's socket by name,
    /// so a journal that restarts is found again.
    Journald(Option<UnixDatagram>),
}

struct Output {
    level: u32,
    sink: Sink,
}

struct State {
    level: u32,
    filters: Vec<Filter>,
    outputs: Vec<Output>,
    filters_text: String,
    outputs_text: String,
    default_outputs: String,
}

static STATE: RwLock<Option<Arc<State>>> = RwLock::new(None);

/// libvirt's level for a `log` level.
fn priority(l: log::Level) -> u32 {
    match l {
        log::Level::Error => 4,
        log::Level::Warn => 3,
        log::Level::Info => 2,
        log::Level::Debug | log::Level::Trace => 1,
    }
}

fn level_filter(p: u32) -> log::LevelFilter {
    match p {
        0 | 1 => log::LevelFilter::Debug,
        2 => log::LevelFilter::Info,
        3 => log::LevelFilter::Warn,
        _ => log::LevelFilter::Error,
    }
}

/// A priority: 1 (debug) to 4 (error).
fn parse_priority(s: &str) -> Option<u32> {
    match s {
        "1" => Some(1),
        "2" => Some(2),
        "3" => Some(3),
        "4" => Some(4),
        _ => None,
    }
}

/// `LIBVIRT_DEBUG`: a number or its name, as libvirt reads it.
fn parse_default_priority(s: &str) -> Result<u32, String> {
    match s {
        "debug" => Ok(1),
        "info" => Ok(2),
        "warning" => Ok(3),
        "error" => Ok(4),
        _ => parse_priority(s)
            .ok_or_else(|| format!("Failed to set logging priority, argument '{s}' is invalid")),
    }
}

/// One filter, worded as libvirt words its errors.
fn parse_filter(item: &str) -> Result<Filter, String> {
    let (lvl, name) = item
        .split_once(':')
        .ok_or_else(|| format!("Malformed format for filter '{item}'"))?;
    let level = parse_priority(lvl)
        .ok_or_else(|| format!("Invalid priority '{lvl}' for filter '{item}'"))?;
    // A leading '+' once asked for stack traces; libvirt ignores it now.
    let pattern = name.strip_prefix('+').unwrap_or(name);
    if pattern.is_empty() {
        return Err(format!("Invalid match string '{name}'"));
    }
    Ok(Filter {
        level,
        name: pattern.to_string(),
    })
}

fn parse_filters(text: &str) -> Result<Vec<Filter>, String> {
    text.split_whitespace().map(parse_filter).collect()
}

/// Checks a filters string.
pub fn validate_filters(s: &str) -> Result<(), String> {
    parse_filters(s).map(|_| ())
}

/// The destination of one output, checked but not opened yet.
enum Destination<'a> {
    Stderr,
    File(&'a Path),
    Syslog(&'a str),
    Journald,
}

/// Parses one output, worded as libvirt words its errors.
fn parse_output(item: &str) -> Result<(u32, Destination<'_>), String> {
    let (lvl, rest) = item
        .split_once(':')
        .ok_or_else(|| format!("Malformed format for log output '{item}'"))?;
    let level = parse_priority(lvl)
        .ok_or_else(|| format!("Invalid log priority '{lvl}' for log output '{item}'"))?;
    let (kind, data) = match rest.split_once(':') {
        Some((k, d)) => (k, Some(d)),
        None => (rest, None),
    };
    let malformed = || {
        format!("Log output '{item}' does not meet the format requirements for destination type '{kind}'")
    };
    let dest = match (kind, data) {
        ("stderr", None) => Destination::Stderr,
        ("journald", None) => Destination::Journald,
        ("syslog", Some(ident)) if !ident.is_empty() => Destination::Syslog(ident),
        ("file", Some(path)) if !path.is_empty() => {
            let path = Path::new(path);
            // libvirt would take it relative to the daemon's working
            // directory, which is / once it runs in the background.
            if !path.is_absolute() {
                return Err(format!(
                    "Log output '{item}': the file must be an absolute path"
                ));
            }
            Destination::File(path)
        }
        ("stderr" | "journald" | "syslog" | "file", _) => return Err(malformed()),
        _ => {
            return Err(format!(
                "Invalid log destination '{kind}' for log output '{item}'"
            ))
        }
    };
    Ok((level, dest))
}

fn open_output(item: &str) -> Result<Output, String> {
    let (level, dest) = parse_output(item)?;
    let sink = match dest {
        Destination::Stderr => Sink::Stderr,
        Destination::File(path) => {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let f = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("failed to open {}: {e}", path.display()))?;
            Sink::File(Mutex::new(f))
        }
        Destination::Syslog(ident) => Sink::Syslog {
            ident: ident.to_string(),
            sock: connect_datagram(SYSLOG_SOCKET),
        },
        Destination::Journald => Sink::Journald(UnixDatagram::unbound().ok()),
    };
    Ok(Output { level, sink })
}

/// The local syslog socket.
const SYSLOG_SOCKET: &str = "/dev/log";
/// The systemd journal's native socket.
const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

fn connect_datagram(path: &str) -> Option<UnixDatagram> {
    let s = UnixDatagram::unbound().ok()?;
    s.connect(path).ok()?;
    Some(s)
}

fn parse_outputs(text: &str) -> Result<Vec<Output>, String> {
    text.split_whitespace().map(open_output).collect()
}

/// Checks an outputs string (opening files to be sure they can be).
pub fn validate_outputs(s: &str) -> Result<(), String> {
    parse_outputs(s).map(|_| ())
}

/// Checks an outputs string's syntax only (a config file being read must
/// not create log files).
pub fn check_outputs(s: &str) -> Result<(), String> {
    s.split_whitespace()
        .try_for_each(|item| parse_output(item).map(|_| ()))
}

/// What decides the default output, as libvirt decides it.
#[derive(Clone, Copy, Debug)]
pub struct OutputContext<'a> {
    /// Running in the background (`-d`).
    pub daemon: bool,
    /// Where the default log file goes (`LOCALSTATEDIR/log/libvirt` for
    /// root, the user's cache directory otherwise).
    pub log_dir: &'a Path,
    /// The journal's socket is there to write to.
    pub journald: bool,
    /// Standard input is a terminal (someone runs us by hand).
    pub stdin_is_tty: bool,
}

impl OutputContext<'_> {
    /// libvirt's default output: in the background the journal if there
    /// is one, else a file; in the foreground the journal when started by
    /// a service manager (stdin not a terminal), else stderr. The journal
    /// never gets debug messages by default (it rate-limits).
    fn default_outputs(&self, level: u32) -> String {
        let journal = || format!("{}:journald", level.max(2));
        if self.daemon {
            if self.journald {
                journal()
            } else {
                format!(
                    "{level}:file:{}",
                    self.log_dir.join("virtvzd.log").display()
                )
            }
        } else if self.journald && !self.stdin_is_tty {
            journal()
        } else {
            format!("{level}:stderr")
        }
    }
}

/// The startup settings, by libvirt's precedence: environment, then the
/// config file, then defaults.
pub fn settings(
    cfg_level: u32,
    cfg_filters: Option<&str>,
    cfg_outputs: Option<&str>,
    verbose: bool,
    context: &OutputContext,
) -> Result<LogSettings, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut level = match env("LIBVIRT_DEBUG") {
        Some(v) => parse_default_priority(&v).map_err(|e| format!("LIBVIRT_DEBUG: {e}"))?,
        None if cfg_level > 0 => cfg_level,
        None => 3,
    };
    if verbose {
        level = level.min(2);
    }
    let filters = env("LIBVIRT_LOG_FILTERS")
        .or_else(|| cfg_filters.map(str::to_string))
        .unwrap_or_default();
    // The level in force, -v included: with -v the default output shows
    // the informational messages it promises (libvirt's keeps the level
    // the output was made with, so -v alone shows nothing more).
    let default_outputs = context.default_outputs(level);
    let outputs = env("LIBVIRT_LOG_OUTPUTS")
        .or_else(|| cfg_outputs.map(str::to_string))
        .filter(|o| !o.trim().is_empty())
        .unwrap_or_else(|| default_outputs.clone());
    validate_filters(&filters)?;
    Ok(LogSettings {
        level,
        filters,
        outputs,
        default_outputs,
    })
}

/// Whether the systemd journal's socket can be written to.
pub fn journal_available() -> bool {
    let Ok(c) = std::ffi::CString::new(JOURNAL_SOCKET) else {
        return false;
    };
    // SAFETY: c is a valid C string; access has no memory effects.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Whether standard input is a terminal.
pub fn stdin_is_tty() -> bool {
    // SAFETY: isatty only inspects descriptor 0.
    unsafe { libc::isatty(0) == 1 }
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn build(s: &LogSettings) -> Result<State, String> {
    Ok(State {
        level: s.level.clamp(1, 4),
        filters: parse_filters(&s.filters)?,
        outputs: parse_outputs(&s.outputs)?,
        filters_text: normalize(&s.filters),
        outputs_text: normalize(&s.outputs),
        default_outputs: s.default_outputs.clone(),
    })
}

fn install(state: State) {
    let thresholds = state
        .filters
        .iter()
        .map(|f| f.level)
        .chain([state.level])
        .min()
        .unwrap_or(4);
    let outputs = state.outputs.iter().map(|o| o.level).min().unwrap_or(4);
    log::set_max_level(level_filter(thresholds.max(outputs)));
    *STATE.write() = Some(Arc::new(state));
}

struct Logger;

static LOGGER: Logger = Logger;

/// Installs the logger with `settings`.
pub fn init(settings: &LogSettings) -> Result<(), String> {
    let state = build(settings)?;
    // A second init (tests) keeps the first logger and swaps the state.
    let _ = log::set_logger(&LOGGER);
    install(state);
    Ok(())
}

/// Replaces the whole configuration (SIGHUP); on error the old one stays.
pub fn apply(settings: &LogSettings) -> Result<(), String> {
    install(build(settings)?);
    Ok(())
}

fn current() -> Option<Arc<State>> {
    STATE.read().clone()
}

fn settings_now() -> Option<LogSettings> {
    current().map(|s| LogSettings {
        level: s.level,
        filters: s.filters_text.clone(),
        outputs: s.outputs_text.clone(),
        default_outputs: s.default_outputs.clone(),
    })
}

/// Replaces the filters live (virt-admin `daemon-log-filters`).
pub fn set_filters(filters: &str) -> Result<(), String> {
    let mut s = settings_now().ok_or("logging is not initialised")?;
    s.filters = filters.to_string();
    apply(&s)
}

/// Replaces the outputs live; "" restores the default outputs.
pub fn set_outputs(outputs: &str) -> Result<(), String> {
    let mut s = settings_now().ok_or("logging is not initialised")?;
    s.outputs = if outputs.trim().is_empty() {
        s.default_outputs.clone()
    } else {
        outputs.to_string()
    };
    apply(&s)
}

/// The filters in force.
pub fn filters() -> String {
    current()
        .map(|s| s.filters_text.clone())
        .unwrap_or_default()
}

/// The outputs in force.
pub fn outputs() -> String {
    current()
        .map(|s| s.outputs_text.clone())
        .unwrap_or_default()
}

/// "virtvzd::rpc::server" → "rpc.server": libvirt-style category names.
fn category(target: &str) -> String {
    target
        .strip_prefix("virtvzd::")
        .unwrap_or(target)
        .replace("::", ".")
}

impl State {
    fn threshold(&self, category: &str) -> u32 {
        self.filters
            .iter()
            .find(|f| contains_match(&f.name, category))
            .map_or(self.level, |f| f.level)
    }
}

/// Whether `pattern` (with libvirt's glob characters `*` and `?`) matches
/// somewhere in `text`: libvirt matches a filter "foo" as "*foo*".
fn contains_match(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return text.contains(pattern);
    }
    glob_within(pattern.as_bytes(), text.as_bytes())
}

/// Whether the glob `p` matches somewhere in `t`, as `*p*` would match
/// all of it (without building that pattern: this runs for each filter
/// on every log call that passes the global level). Greedy with one
/// resume point: on a mismatch only the most recent `*` (at first the
/// implied leading one) takes one more byte, because an earlier `*`
/// swallowing more can never help once a later one matched. That keeps
/// it O(|p|·|t|) where recursing into every `*` was exponential (a filter
/// like "*a*a*a*a*b" hung the logging thread).
fn glob_within(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut resume = (0, 0);
    loop {
        if pi == p.len() {
            // The implied trailing `*` takes the rest.
            return true;
        }
        if ti == t.len() {
            return p[pi..].iter().all(|&c| c == b'*');
        }
        match p[pi] {
            b'*' => {
                pi += 1;
                resume = (pi, ti);
            }
            c if c == b'?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => {
                resume.1 += 1;
                (pi, ti) = resume;
            }
        }
    }
}

impl log::Log for Logger {
    fn enabled(&self, md: &log::Metadata) -> bool {
        match STATE.read().as_ref() {
            Some(s) => {
                let p = priority(md.level());
                p >= s.threshold(&category(md.target())) && s.outputs.iter().any(|o| p >= o.level)
            }
            None => false,
        }
    }

    fn log(&self, record: &log::Record) {
        let Some(state) = current() else {
            return;
        };
        let p = priority(record.level());
        let cat = category(record.target());
        if p < state.threshold(&cat) {
            return;
        }
        let name = match p {
            1 => "debug",
            2 => "info",
            3 => "warning",
            _ => "error",
        };
        let msg = record.args().to_string();
        let line = format!(
            "{}: {}: {name} : {cat} : {msg}\n",
            timestamp(SystemTime::now()),
            thread_id()
        );
        for o in state.outputs.iter().filter(|o| p >= o.level) {
            match &o.sink {
                Sink::Stderr => {
                    let _ = std::io::stderr().write_all(line.as_bytes());
                }
                Sink::File(f) => {
                    let _ = f.lock().write_all(line.as_bytes());
                }
                Sink::Syslog { ident, sock } => {
                    if let Some(s) = sock {
                        let sev = syslog_severity(p);
                        // RFC 3164, as syslog(3) writes it, facility daemon.
                        let m = format!(
                            "<{}>{} {ident}[{}]: {cat} : {msg}",
                            3 * 8 + sev,
                            syslog_time(SystemTime::now()),
                            std::process::id()
                        );
                        let _ = s.send(m.as_bytes());
                    }
                }
                Sink::Journald(sock) => {
                    if let Some(s) = sock {
                        let sev = syslog_severity(p);
                        let m = format!(
                            "MESSAGE={cat} : {}\nPRIORITY={sev}\nSYSLOG_IDENTIFIER=virtvzd\n",
                            msg.replace('\n', " ")
                        );
                        let _ = s.send_to(m.as_bytes(), JOURNAL_SOCKET);
                    }
                }
            }
        }
    }

    fn flush(&self) {}
}

/// syslog severity (debug 7, info 6, warning 4, error 3) of a libvirt level.
fn syslog_severity(p: u32) -> u32 {
    match p {
        1 => 7,
        2 => 6,
        3 => 4,
        _ => 3,
    }
}

/// "Mmm dd hh:mm:ss" in local time, syslog's timestamp.
fn syslog_time(t: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    // SAFETY: tm is plain data; all-zero is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let when = libc::time_t::try_from(secs).unwrap_or(0);
    // SAFETY: both pointers are valid for the call; localtime_r is the
    // thread-safe form.
    let local = unsafe { !libc::localtime_r(&when, &mut tm).is_null() };
    let (mon, day, h, m, s) = if local {
        (
            tm.tm_mon as usize,
            tm.tm_mday as u32,
            tm.tm_hour as u32,
            tm.tm_min as u32,
            tm.tm_sec as u32,
        )
    } else {
        let (_, mo, d, h, mi, s) = crate::civil_time::utc(secs);
        (mo as usize - 1, d, h, mi, s)
    };
    format!("{} {day:2} {h:02}:{m:02}:{s:02}", MONTHS[mon.min(11)])
}

fn thread_id() -> i64 {
    // SAFETY: gettid has no arguments and cannot fail.
    i64::from(unsafe { libc::gettid() })
}

/// "YYYY-MM-DD HH:MM:SS.mmm+0000" in UTC, libvirt's log timestamp.
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, mo, day, h, mi, s) = crate::civil_time::utc(d.as_secs());
    format!(
        "{y:04}-{mo:02}-{day:02} {h:02}:{mi:02}:{s:02}.{:03}+0000",
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn filters_parse_and_match() {
        let f = parse_filters("1:rpc  3:+vz 2:daemon.*ck").unwrap();
        assert_eq!(f.len(), 3);
        let s = State {
            level: 3,
            filters: f,
            outputs: Vec::new(),
            filters_text: String::new(),
            outputs_text: String::new(),
            default_outputs: String::new(),
        };
        assert_eq!(s.threshold("rpc.server"), 1);
        assert_eq!(s.threshold("vz.driver"), 3);
        assert_eq!(s.threshold("daemon"), 3);
        // Globs, as libvirt's g_pattern_match on "*pattern*".
        assert_eq!(s.threshold("daemon.pidlock"), 2);
        assert!(contains_match("r?c", "rpc.client"));
        assert!(!contains_match("r?c", "rc"));
    }

    #[test]
    fn globs_match_as_glib_does() {
        for (pattern, text, want) in [
            ("daemon.*ck", "daemon.pidlock", true),
            ("daemon.*ck", "daemon.pid", false),
            ("*", "", true),
            ("?", "", false),
            ("r*c*t", "rpc.client", true),
            ("r*c*z", "rpc.client", false),
            ("*.server", "rpc.server", true),
            ("rpc.*", "rpc", false),
            ("a*b?d", "xxaXXbcdyy", true),
            ("a*b?d", "xxaXXbdyy", false),
            ("**a**", "bab", true),
        ] {
            assert_eq!(contains_match(pattern, text), want, "{pattern} in {text}");
        }
    }

    #[test]
    fn many_stars_against_a_long_name_finish() {
        // Recursing into every '*' tried every way to split the name among
        // the stars: this pair alone would have run for centuries.
        let name = "a".repeat(4096);
        assert!(!contains_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", &name));
        assert!(contains_match("*a*a*a*a*a*a*a*a*a*a*a*a*", &name));
        let f = parse_filters("1:*a*a*a*a*a*a*a*a*a*a*b 3:*").unwrap();
        let s = State {
            level: 4,
            filters: f,
            outputs: Vec::new(),
            filters_text: String::new(),
            outputs_text: String::new(),
            default_outputs: String::new(),
        };
        assert_eq!(s.threshold(&name), 3);
        for (bad, why) in [
            ("rpc", "Malformed format for filter 'rpc'"),
            ("5:rpc", "Invalid priority '5' for filter '5:rpc'"),
            ("x:rpc", "Invalid priority 'x' for filter 'x:rpc'"),
            ("1:", "Invalid match string ''"),
            ("1:+", "Invalid match string '+'"),
        ] {
            assert_eq!(parse_filters(bad).err().as_deref(), Some(why), "{bad}");
        }
    }

    #[test]
    fn outputs_parse() {
        assert!(validate_outputs("3:stderr").is_ok());
        assert!(validate_outputs("3:syslog:virtvzd 2:journald").is_ok());
        for (bad, why) in [
            ("stderr", "Malformed format for log output 'stderr'"),
            ("0:stderr", "Invalid log priority '0' for log output '0:stderr'"),
            ("3:bogus", "Invalid log destination 'bogus' for log output '3:bogus'"),
            (
                "3:syslog",
                "Log output '3:syslog' does not meet the format requirements for destination type 'syslog'",
            ),
            (
                "3:stderr:x",
                "Log output '3:stderr:x' does not meet the format requirements for destination type 'stderr'",
            ),
            ("3:file:relative", "Log output '3:file:relative': the file must be an absolute path"),
        ] {
            assert_eq!(validate_outputs(bad).err().as_deref(), Some(why), "{bad}");
        }
    }

    #[test]
    fn categories() {
        assert_eq!(category("virtvzd::rpc::server"), "rpc.server");
        assert_eq!(category("mio::poll"), "mio.poll");
    }

    #[test]
    fn timestamps() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_900_000_123);
        assert_eq!(timestamp(t), "2026-11-28 21:06:40.123+0000");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00.000+0000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap), "2000-02-29 00:00:00.000+0000");
    }

    #[test]
    fn precedence_and_defaults() {
        let dir = Path::new("/var/log/libvirt");
        let ctx = |daemon, journald, stdin_is_tty| OutputContext {
            daemon,
            log_dir: dir,
            journald,
            stdin_is_tty,
        };
        // By hand on a terminal, or with no journal: stderr.
        let s = settings(0, None, None, false, &ctx(false, true, true)).unwrap();
        assert_eq!((s.level, s.outputs.as_str()), (3, "3:stderr"));
        let s = settings(0, None, None, false, &ctx(false, false, false)).unwrap();
        assert_eq!(s.outputs, "3:stderr");
        // Started by a service manager with a journal: the journal, never
        // at debug level by default.
        let s = settings(1, None, None, false, &ctx(false, true, false)).unwrap();
        assert_eq!((s.level, s.outputs.as_str()), (1, "2:journald"));
        // In the background: the journal, else the log file.
        let s = settings(0, None, None, true, &ctx(true, true, false)).unwrap();
        assert_eq!((s.level, s.outputs.as_str()), (2, "2:journald"));
        let s = settings(4, Some("1:rpc"), None, false, &ctx(true, false, false)).unwrap();
        assert_eq!(s.outputs, "4:file:/var/log/libvirt/virtvzd.log");
        assert_eq!(s.filters, "1:rpc");
        // The config's outputs win over the default, which stays for "".
        let s = settings(0, None, Some("1:stderr"), false, &ctx(true, false, false)).unwrap();
        assert_eq!(s.outputs, "1:stderr");
        assert_eq!(s.default_outputs, "3:file:/var/log/libvirt/virtvzd.log");
        assert!(settings(0, Some("bad"), None, false, &ctx(false, false, true)).is_err());
        assert_eq!(parse_default_priority("warning"), Ok(3));
        assert!(parse_default_priority("loud").is_err());
    }

    #[test]
    fn file_output_receives_lines() {
        let dir = std::env::temp_dir().join(format!("virtvzd-log-{}", std::process::id()));
        let path = dir.join("sub/out.log");
        let out = open_output(&format!("1:file:{}", path.display())).unwrap();
        assert_eq!(out.level, 1);
        assert!(path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

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
    Journald(UnixDatagram),
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

fn parse_level(s: &str, what: &str) -> Result<u32, String> {
    match s {
        "1" => Ok(1),
        "2" => Ok(2),
        "3" => Ok(3),
        "4" => Ok(4),
        _ => Err(format!(
            "invalid log priority '{s}' in {what}: use 1 (debug) to 4 (error)"
        )),
    }
}

fn parse_filters(text: &str) -> Result<Vec<Filter>, String> {
    text.split_whitespace()
        .map(|item| {
            let (lvl, name) = item
                .split_once(':')
                .ok_or_else(|| format!("invalid log filter '{item}': expected LEVEL:NAME"))?;
            let name = name.trim_start_matches('+');
            if name.is_empty() {
                return Err(format!("invalid log filter '{item}': empty name"));
            }
            Ok(Filter {
                level: parse_level(lvl, "log filter")?,
                name: name.to_string(),
            })
        })
        .collect()
}

/// Checks a filters string.
pub fn validate_filters(s: &str) -> Result<(), String> {
    parse_filters(s).map(|_| ())
}

fn open_output(item: &str) -> Result<Output, String> {
    let (lvl, rest) = item
        .split_once(':')
        .ok_or_else(|| format!("invalid log output '{item}': expected LEVEL:TYPE[:DATA]"))?;
    let level = parse_level(lvl, "log output")?;
    let (kind, data) = match rest.split_once(':') {
        Some((k, d)) => (k, Some(d)),
        None => (rest, None),
    };
    let sink = match (kind, data) {
        ("stderr", None) => Sink::Stderr,
        ("file", Some(path)) => {
            let path = Path::new(path);
            if !path.is_absolute() {
                return Err(format!(
                    "invalid log output '{item}': the file must be an absolute path"
                ));
            }
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let f = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
            Sink::File(Mutex::new(f))
        }
        ("syslog", Some(ident)) if !ident.is_empty() => Sink::Syslog {
            ident: ident.to_string(),
            sock: connect_datagram("/dev/log"),
        },
        ("journald", None) => match connect_datagram("/run/systemd/journal/socket") {
            Some(s) => Sink::Journald(s),
            None => Sink::Syslog {
                ident: "virtvzd".to_string(),
                sock: connect_datagram("/dev/log"),
            },
        },
        _ => {
            return Err(format!(
                "invalid log output '{item}': types are stderr, file:PATH, syslog:IDENT, journald"
            ))
        }
    };
    Ok(Output { level, sink })
}

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

/// The startup settings, by libvirt's precedence: environment, then the
/// config file, then defaults.
pub fn settings(
    cfg_level: u32,
    cfg_filters: Option<&str>,
    cfg_outputs: Option<&str>,
    verbose: bool,
    daemon: bool,
    privileged: bool,
    cache_dir: &Path,
) -> Result<LogSettings, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut level = match env("LIBVIRT_DEBUG") {
        Some(v) => parse_level(&v, "LIBVIRT_DEBUG")?,
        None if cfg_level > 0 => cfg_level,
        None => 3,
    };
    if verbose {
        level = level.min(2);
    }
    let filters = env("LIBVIRT_LOG_FILTERS")
        .or_else(|| cfg_filters.map(str::to_string))
        .unwrap_or_default();
    let default_outputs = if !daemon {
        format!("{level}:stderr")
    } else if privileged {
        format!("{level}:syslog:virtvzd")
    } else {
        format!("{level}:file:{}", cache_dir.join("virtvzd.log").display())
    };
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
            .find(|f| category.contains(&f.name))
            .map_or(self.level, |f| f.level)
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
                        let m = format!(
                            "<{}>{ident}[{}]: {cat} : {msg}",
                            3 * 8 + sev,
                            std::process::id()
                        );
                        let _ = s.send(m.as_bytes());
                    }
                }
                Sink::Journald(s) => {
                    let sev = syslog_severity(p);
                    let m = format!(
                        "MESSAGE={cat} : {}\nPRIORITY={sev}\nSYSLOG_IDENTIFIER=virtvzd\n",
                        msg.replace('\n', " ")
                    );
                    let _ = s.send(m.as_bytes());
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
        let f = parse_filters("1:rpc  3:+vz").unwrap();
        assert_eq!(f.len(), 2);
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
        for bad in ["rpc", "5:rpc", "1:", "x:rpc"] {
            assert!(parse_filters(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outputs_parse() {
        assert!(validate_outputs("3:stderr").is_ok());
        assert!(validate_outputs("3:syslog:virtvzd 2:journald").is_ok());
        for bad in [
            "stderr",
            "3:file:relative",
            "3:bogus",
            "3:syslog",
            "0:stderr",
        ] {
            assert!(validate_outputs(bad).is_err(), "{bad}");
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
        let cache = Path::new("/home/u/.cache/libvirt");
        let s = settings(0, None, None, false, false, true, cache).unwrap();
        assert_eq!((s.level, s.outputs.as_str()), (3, "3:stderr"));
        let s = settings(0, None, None, true, true, true, cache).unwrap();
        assert_eq!((s.level, s.outputs.as_str()), (2, "2:syslog:virtvzd"));
        let s = settings(4, Some("1:rpc"), None, false, true, false, cache).unwrap();
        assert_eq!(s.outputs, "4:file:/home/u/.cache/libvirt/virtvzd.log");
        assert_eq!(s.filters, "1:rpc");
        assert!(settings(0, Some("bad"), None, false, false, true, cache).is_err());
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

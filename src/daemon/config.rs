//! `virtvzd.conf`: libvirt's key names and defaults, plus our `vz_*` keys.
//!
//! libvirt's config syntax (`key = value`, `"strings"`, `[ "lists" ]`,
//! `#` comments) is read as TOML. Unknown keys are warned about, the keys
//! libvirt ignores for this daemon (TCP/TLS) are accepted silently, and a
//! wrong type or an out-of-range value stops startup with file, line and
//! key named.

use std::fmt;
use std::path::{Path, PathBuf};

/// Keys SIGHUP applies live; every other key needs a restart.
pub const LIVE_KEYS: &[&str] = &[
    "log_level",
    "log_filters",
    "log_outputs",
    "max_clients",
    "max_anonymous_clients",
    "min_workers",
    "max_workers",
    "prio_workers",
    "max_client_requests",
    "admin_min_workers",
    "admin_max_workers",
    "admin_max_clients",
    "admin_max_client_requests",
    "keepalive_interval",
    "keepalive_count",
    "admin_keepalive_interval",
    "admin_keepalive_count",
];

macro_rules! restart_keys {
    ($($key:ident),* $(,)?) => {
        /// Keys that take effect only at the next start (sockets, auth,
        /// identity, the SDK): SIGHUP leaves them as they were.
        pub const RESTART_KEYS: &[&str] = &[$(stringify!($key)),*];

        /// The restart-only keys whose value differs between `old` and
        /// `new`, so a reload can say they wait for a restart.
        pub fn restart_only_changes(old: &Config, new: &Config) -> Vec<&'static str> {
            let mut changed = Vec::new();
            $(if old.$key != new.$key {
                changed.push(stringify!($key));
            })*
            changed
        }
    };
}

restart_keys!(
    unix_sock_group,
    unix_sock_ro_perms,
    unix_sock_rw_perms,
    unix_sock_admin_perms,
    unix_sock_dir,
    auth_unix_ro,
    auth_unix_rw,
    access_drivers,
    sasl_allowed_username_list,
    max_queued_clients,
    admin_max_queued_clients,
    audit_level,
    audit_logging,
    host_uuid,
    host_uuid_source,
    ovs_timeout,
    vz_sdk,
    vz_sdk_library,
    vz_embedded_dir,
    vz_job_timeout,
    vz_storage_uri,
);

/// Keys libvirt's modular daemons read only when built with TCP/TLS (or no
/// longer read at all): accepted and ignored, as libvirt does.
const IGNORED_KEYS: &[&str] = &[
    "listen_tls",
    "listen_tcp",
    "tls_port",
    "tcp_port",
    "listen_addr",
    "mdns_adv",
    "mdns_name",
    "auth_tcp",
    "auth_tls",
    "tcp_min_ssf",
    "key_file",
    "cert_file",
    "ca_file",
    "crl_file",
    "tls_no_sanity_certificate",
    "tls_no_verify_certificate",
    "tls_allowed_dn_list",
    "tls_priority",
    "keepalive_required",
    "admin_keepalive_required",
    "unix_sock_admin_group",
];

/// Authentication on a socket. Only "none" exists until polkit and SASL
/// are implemented; asking for them is a startup error, not a silent
/// downgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    /// No authentication (access is decided by the socket's permissions).
    None,
}

/// `host_uuid_source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostUuidSource {
    /// The SMBIOS system UUID.
    Smbios,
    /// /etc/machine-id.
    MachineId,
}

/// `vz_sdk`: which Virtuozzo SDK drives the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdkChoice {
    /// The system library if it loads, else the embedded host.
    Auto,
    /// The system library only.
    System,
    /// The embedded Virtuozzo host.
    Embedded,
}

/// The daemon's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Group of the read-write and read-only sockets.
    pub unix_sock_group: Option<String>,
    /// Mode of the read-only socket.
    pub unix_sock_ro_perms: u32,
    /// Mode of the read-write socket.
    pub unix_sock_rw_perms: u32,
    /// Mode of the admin socket.
    pub unix_sock_admin_perms: u32,
    /// Directory of the sockets.
    pub unix_sock_dir: Option<PathBuf>,
    /// Auth on the read-only socket.
    pub auth_unix_ro: AuthType,
    /// Auth on the read-write socket.
    pub auth_unix_rw: AuthType,
    /// Access control drivers (only "none").
    pub access_drivers: Vec<String>,
    /// SASL user whitelist (unused without SASL).
    pub sasl_allowed_username_list: Vec<String>,
    /// Most clients at once.
    pub max_clients: u32,
    /// Listen backlog.
    pub max_queued_clients: u32,
    /// Most clients waiting for authentication.
    pub max_anonymous_clients: u32,
    /// Workers started at once.
    pub min_workers: u32,
    /// Most workers.
    pub max_workers: u32,
    /// Priority workers.
    pub prio_workers: u32,
    /// Calls in flight per client.
    pub max_client_requests: u32,
    /// Admin server: workers started at once.
    pub admin_min_workers: u32,
    /// Admin server: most workers.
    pub admin_max_workers: u32,
    /// Admin server: most clients.
    pub admin_max_clients: u32,
    /// Admin server: listen backlog.
    pub admin_max_queued_clients: u32,
    /// Admin server: calls in flight per client.
    pub admin_max_client_requests: u32,
    /// 0 unset, 1 debug, 2 info, 3 warning, 4 error.
    pub log_level: u32,
    /// libvirt log filters.
    pub log_filters: Option<String>,
    /// libvirt log outputs.
    pub log_outputs: Option<String>,
    /// Audit level (accepted; this daemon writes no audit records).
    pub audit_level: u32,
    /// Audit records to the log too (accepted; no effect).
    pub audit_logging: bool,
    /// A fixed host UUID.
    pub host_uuid: Option<String>,
    /// Where the host UUID comes from.
    pub host_uuid_source: HostUuidSource,
    /// Seconds of silence before a PING; -1 disables.
    pub keepalive_interval: i32,
    /// Unanswered PINGs before dropping a client.
    pub keepalive_count: u32,
    /// Admin server keepalive interval.
    pub admin_keepalive_interval: i32,
    /// Admin server keepalive count.
    pub admin_keepalive_count: u32,
    /// Open vSwitch timeout (accepted; unused by Virtuozzo).
    pub ovs_timeout: u32,
    /// Which Virtuozzo SDK to use.
    pub vz_sdk: SdkChoice,
    /// The system SDK library's name or path.
    pub vz_sdk_library: String,
    /// The embedded host's store.
    pub vz_embedded_dir: Option<PathBuf>,
    /// Seconds an SDK job may take before the call fails.
    pub vz_job_timeout: u32,
    /// Where storage volumes are resolved: a libvirt storage URI, its
    /// `socket` parameter naming the socket (default: the storage daemon's).
    pub vz_storage_uri: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            unix_sock_group: None,
            unix_sock_ro_perms: 0o777,
            unix_sock_rw_perms: 0o700,
            unix_sock_admin_perms: 0o700,
            unix_sock_dir: None,
            auth_unix_ro: AuthType::None,
            auth_unix_rw: AuthType::None,
            access_drivers: Vec::new(),
            sasl_allowed_username_list: Vec::new(),
            max_clients: 5000,
            max_queued_clients: 1000,
            max_anonymous_clients: 20,
            min_workers: 5,
            max_workers: 20,
            prio_workers: 5,
            max_client_requests: 5,
            admin_min_workers: 5,
            admin_max_workers: 20,
            admin_max_clients: 5000,
            admin_max_queued_clients: 20,
            admin_max_client_requests: 5,
            log_level: 0,
            log_filters: None,
            log_outputs: None,
            audit_level: 1,
            audit_logging: false,
            host_uuid: None,
            host_uuid_source: HostUuidSource::Smbios,
            keepalive_interval: 5,
            keepalive_count: 5,
            admin_keepalive_interval: 5,
            admin_keepalive_count: 5,
            ovs_timeout: 5,
            vz_sdk: SdkChoice::Auto,
            vz_sdk_library: "libprl_sdk.so.7".to_string(),
            vz_embedded_dir: None,
            vz_job_timeout: 300,
            vz_storage_uri: None,
        }
    }
}

/// A loaded config and the warnings it produced.
#[derive(Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Unknown keys and the like.
    pub warnings: Vec<String>,
}

/// Why a config file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// The line, when known.
    pub line: Option<usize>,
    /// The key, when one is at fault.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Reads and checks a config file.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        key: None,
        message: format!("cannot read the configuration file: {e}"),
    })?;
    let loaded = parse_str(&text, path)?;
    // The one check that asks the system (so it stays out of parse_str,
    // which the fuzzer drives): a group that does not resolve is an error
    // in the file like any other, found before anything is created.
    if let Some(g) = &loaded.config.unix_sock_group {
        if let Err(message) = super::sockets::group_id(g) {
            return Err(ConfigError {
                file: path.to_path_buf(),
                line: line_of_key(&text, "unix_sock_group"),
                key: Some("unix_sock_group".into()),
                message,
            });
        }
    }
    Ok(loaded)
}

/// Parses config text that came from `origin`.
pub fn parse_str(text: &str, origin: &Path) -> Result<Loaded, ConfigError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
        file: origin.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        key: None,
        message: format!(
            "syntax error: {}",
            e.message().lines().next().unwrap_or("invalid syntax")
        ),
    })?;
    let r = Reader {
        table: &table,
        text,
        origin,
    };
    let mut c = Config::default();
    let mut warnings = Vec::new();

    macro_rules! set {
        ($field:ident, $v:expr) => {
            if let Some(v) = $v {
                c.$field = v;
            }
        };
    }
    c.unix_sock_group = r.string("unix_sock_group")?;
    set!(unix_sock_ro_perms, r.perms("unix_sock_ro_perms")?);
    set!(unix_sock_rw_perms, r.perms("unix_sock_rw_perms")?);
    set!(unix_sock_admin_perms, r.perms("unix_sock_admin_perms")?);
    c.unix_sock_dir = r.string("unix_sock_dir")?.map(PathBuf::from);
    set!(auth_unix_ro, r.auth("auth_unix_ro")?);
    set!(auth_unix_rw, r.auth("auth_unix_rw")?);
    set!(access_drivers, r.list("access_drivers")?);
    if c.access_drivers.iter().any(|d| d != "none") {
        return Err(r.error(
            "access_drivers",
            "access control drivers are not supported by virtvzd yet; use [ \"none\" ]",
        ));
    }
    set!(
        sasl_allowed_username_list,
        r.list("sasl_allowed_username_list")?
    );
    set!(max_clients, r.uint("max_clients", 1)?);
    set!(max_queued_clients, r.uint("max_queued_clients", 0)?);
    set!(max_anonymous_clients, r.uint("max_anonymous_clients", 0)?);
    set!(min_workers, r.uint("min_workers", 0)?);
    set!(max_workers, r.uint("max_workers", 1)?);
    set!(prio_workers, r.uint("prio_workers", 0)?);
    set!(max_client_requests, r.uint("max_client_requests", 1)?);
    set!(admin_min_workers, r.uint("admin_min_workers", 0)?);
    set!(admin_max_workers, r.uint("admin_max_workers", 1)?);
    set!(admin_max_clients, r.uint("admin_max_clients", 1)?);
    set!(
        admin_max_queued_clients,
        r.uint("admin_max_queued_clients", 0)?
    );
    set!(
        admin_max_client_requests,
        r.uint("admin_max_client_requests", 1)?
    );
    if c.max_clients < c.max_anonymous_clients {
        // libvirt refuses to create such a server, and so do we.
        let key = if table.contains_key("max_clients") {
            "max_clients"
        } else {
            "max_anonymous_clients"
        };
        return Err(r.error(
            key,
            &format!(
                "the maximum number of clients ({}) must not be less than the number of \
                 clients waiting for authentication (max_anonymous_clients, {})",
                c.max_clients, c.max_anonymous_clients
            ),
        ));
    }
    if c.min_workers > c.max_workers {
        return Err(r.error("min_workers", "must not be larger than max_workers"));
    }
    if c.admin_min_workers > c.admin_max_workers {
        return Err(r.error(
            "admin_min_workers",
            "must not be larger than admin_max_workers",
        ));
    }
    set!(log_level, r.uint_range("log_level", 0, 4)?);
    c.log_filters = r.string("log_filters")?;
    if let Some(f) = &c.log_filters {
        super::logging::validate_filters(f).map_err(|e| r.error("log_filters", &e))?;
    }
    c.log_outputs = r.string("log_outputs")?;
    if let Some(o) = &c.log_outputs {
        super::logging::check_outputs(o).map_err(|e| r.error("log_outputs", &e))?;
    }
    set!(audit_level, r.uint_range("audit_level", 0, 2)?);
    set!(audit_logging, r.boolean("audit_logging")?);
    c.host_uuid = r.string("host_uuid")?;
    if let Some(u) = &c.host_uuid {
        if !valid_host_uuid(u) {
            return Err(r.error("host_uuid", "not a usable UUID"));
        }
    }
    if let Some(s) = r.string("host_uuid_source")? {
        c.host_uuid_source = match s.as_str() {
            "smbios" => HostUuidSource::Smbios,
            "machine-id" => HostUuidSource::MachineId,
            _ => {
                return Err(r.error(
                    "host_uuid_source",
                    &format!("'{s}' is not one of smbios, machine-id"),
                ))
            }
        };
    }
    set!(keepalive_interval, r.int("keepalive_interval", -1)?);
    set!(keepalive_count, r.uint("keepalive_count", 0)?);
    set!(
        admin_keepalive_interval,
        r.int("admin_keepalive_interval", -1)?
    );
    set!(admin_keepalive_count, r.uint("admin_keepalive_count", 0)?);
    set!(ovs_timeout, r.uint("ovs_timeout", 0)?);
    if let Some(s) = r.string("vz_sdk")? {
        c.vz_sdk = match s.as_str() {
            "auto" => SdkChoice::Auto,
            "system" => SdkChoice::System,
            "embedded" => SdkChoice::Embedded,
            _ => {
                return Err(r.error(
                    "vz_sdk",
                    &format!("'{s}' is not one of auto, system, embedded"),
                ))
            }
        };
    }
    if let Some(s) = r.string("vz_sdk_library")? {
        if s.is_empty() {
            return Err(r.error("vz_sdk_library", "must not be empty"));
        }
        c.vz_sdk_library = s;
    }
    c.vz_embedded_dir = r.string("vz_embedded_dir")?.map(PathBuf::from);
    set!(vz_job_timeout, r.uint_range("vz_job_timeout", 1, 86_400)?);
    if let Some(s) = r.string("vz_storage_uri")? {
        let any = crate::vz::storage::StorageTarget::default_for(true, Path::new("/"));
        crate::vz::storage::StorageTarget::from_uri(&s, &any)
            .map_err(|e| r.error("vz_storage_uri", &e))?;
        c.vz_storage_uri = Some(s);
    }
    // The daemon works from / once in the background.
    for (key, dir) in [
        ("vz_embedded_dir", &c.vz_embedded_dir),
        ("unix_sock_dir", &c.unix_sock_dir),
    ] {
        if dir.as_ref().is_some_and(|d| !d.is_absolute()) {
            return Err(r.error(key, "must be an absolute path"));
        }
    }

    for key in table.keys() {
        if !KNOWN_KEYS.contains(&key.as_str()) && !IGNORED_KEYS.contains(&key.as_str()) {
            warnings.push(format!(
                "{}:{}: unknown configuration key '{key}' ignored",
                origin.display(),
                r.line_of_key(key).unwrap_or(0)
            ));
        }
    }
    Ok(Loaded {
        config: c,
        warnings,
    })
}

const KNOWN_KEYS: &[&str] = &[
    "unix_sock_group",
    "unix_sock_ro_perms",
    "unix_sock_rw_perms",
    "unix_sock_admin_perms",
    "unix_sock_dir",
    "auth_unix_ro",
    "auth_unix_rw",
    "access_drivers",
    "sasl_allowed_username_list",
    "max_clients",
    "max_queued_clients",
    "max_anonymous_clients",
    "min_workers",
    "max_workers",
    "prio_workers",
    "max_client_requests",
    "admin_min_workers",
    "admin_max_workers",
    "admin_max_clients",
    "admin_max_queued_clients",
    "admin_max_client_requests",
    "log_level",
    "log_filters",
    "log_outputs",
    "audit_level",
    "audit_logging",
    "host_uuid",
    "host_uuid_source",
    "keepalive_interval",
    "keepalive_count",
    "admin_keepalive_interval",
    "admin_keepalive_count",
    "ovs_timeout",
    "vz_sdk",
    "vz_sdk_library",
    "vz_embedded_dir",
    "vz_job_timeout",
    "vz_storage_uri",
];

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// libvirt refuses host UUIDs that are all one repeated digit.
fn valid_host_uuid(u: &str) -> bool {
    let hex: String = u.chars().filter(|c| *c != '-').collect();
    let groups: Vec<usize> = u.split('-').map(str::len).collect();
    hex.len() == 32
        && hex.chars().all(|c| c.is_ascii_hexdigit())
        && (groups == [8, 4, 4, 4, 12] || groups == [32])
        && hex
            .chars()
            .any(|c| !c.eq_ignore_ascii_case(&hex.chars().next().unwrap_or('0')))
}

/// The line (from 1) where `key` is set in `text`.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

struct Reader<'a> {
    table: &'a toml::Table,
    text: &'a str,
    origin: &'a Path,
}

impl Reader<'_> {
    fn line_of_key(&self, key: &str) -> Option<usize> {
        line_of_key(self.text, key)
    }

    fn error(&self, key: &str, message: &str) -> ConfigError {
        ConfigError {
            file: self.origin.to_path_buf(),
            line: self.line_of_key(key),
            key: Some(key.to_string()),
            message: message.to_string(),
        }
    }

    fn int_value(&self, key: &str) -> Result<Option<i64>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) => Ok(Some(*i)),
            Some(_) => Err(self.error(key, "must be an integer")),
        }
    }

    fn uint_range(&self, key: &str, min: u32, max: u32) -> Result<Option<u32>, ConfigError> {
        match self.int_value(key)? {
            None => Ok(None),
            Some(v) if v >= i64::from(min) && v <= i64::from(max) => Ok(Some(v as u32)),
            Some(v) => Err(self.error(key, &format!("{v} is out of range ({min} to {max})"))),
        }
    }

    fn uint(&self, key: &str, min: u32) -> Result<Option<u32>, ConfigError> {
        match self.int_value(key)? {
            Some(v) if v < i64::from(min) => {
                Err(self.error(key, &format!("must be at least {min}")))
            }
            _ => self.uint_range(key, min, u32::MAX),
        }
    }

    fn int(&self, key: &str, min: i32) -> Result<Option<i32>, ConfigError> {
        match self.int_value(key)? {
            None => Ok(None),
            Some(v) if v >= i64::from(min) && v <= i64::from(i32::MAX) => Ok(Some(v as i32)),
            Some(v) => {
                Err(self.error(key, &format!("{v} is out of range ({min} to {})", i32::MAX)))
            }
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.error(key, "must be a string in double quotes")),
        }
    }

    /// libvirt's booleans are integers 0 and 1; TOML's true/false too.
    fn boolean(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(toml::Value::Integer(0)) => Ok(Some(false)),
            Some(toml::Value::Integer(1)) => Ok(Some(true)),
            Some(_) => Err(self.error(key, "must be 0 or 1")),
        }
    }

    fn list(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    _ => Err(self.error(key, "must be a list of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.error(key, "must be a list of strings, like [ \"a\", \"b\" ]")),
        }
    }

    fn perms(&self, key: &str) -> Result<Option<u32>, ConfigError> {
        let Some(s) = self.string(key)? else {
            return Ok(None);
        };
        match u32::from_str_radix(&s, 8) {
            Ok(m) if m <= 0o7777 && !s.is_empty() => Ok(Some(m)),
            _ => Err(self.error(key, &format!("'{s}' is not an octal mode like \"0770\""))),
        }
    }

    fn auth(&self, key: &str) -> Result<Option<AuthType>, ConfigError> {
        match self.string(key)?.as_deref() {
            None => Ok(None),
            Some("none") => Ok(Some(AuthType::None)),
            Some(other @ ("polkit" | "sasl")) => Err(self.error(
                key,
                &format!("\"{other}\" is not supported by virtvzd yet; use \"none\""),
            )),
            Some(other) => {
                Err(self.error(key, &format!("'{other}' is not one of none, polkit, sasl")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Loaded, ConfigError> {
        parse_str(text, Path::new("/etc/libvirt/virtvzd.conf"))
    }

    #[test]
    fn empty_and_comment_only_files_give_defaults() {
        assert_eq!(parse("").unwrap().config, Config::default());
        let stock = "# Master libvirt daemon configuration file\n#\n#listen_tls = 0\n#unix_sock_group = \"libvirt\"\n";
        let l = parse(stock).unwrap();
        assert_eq!(l.config, Config::default());
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn every_key_is_read() {
        let l = parse(
            r#"
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
unix_sock_admin_perms = "0700"
unix_sock_dir = "/tmp/s"
auth_unix_ro = "none"
auth_unix_rw = "none"
access_drivers = [ "none" ]
sasl_allowed_username_list = ["joe@EXAMPLE.COM", "fred@EXAMPLE.COM" ]
max_clients = 10
max_queued_clients = 11
max_anonymous_clients = 3
min_workers = 2
max_workers = 4
prio_workers = 1
max_client_requests = 7
admin_min_workers = 1
admin_max_workers = 2
admin_max_clients = 3
admin_max_queued_clients = 4
admin_max_client_requests = 6
log_level = 1
log_filters = "1:rpc 3:vz"
log_outputs = "3:syslog:virtvzd"
audit_level = 2
audit_logging = 1
host_uuid = "00000000-1111-2222-3333-444444444444"
host_uuid_source = "machine-id"
keepalive_interval = -1
keepalive_count = 0
admin_keepalive_interval = 9
admin_keepalive_count = 8
ovs_timeout = 3
vz_sdk = "embedded"
vz_sdk_library = "/opt/libprl_sdk.so.7"
vz_embedded_dir = "/srv/vz"
vz_job_timeout = 60
vz_storage_uri = "storage:///session?socket=/run/s"
"#,
        )
        .unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let c = l.config;
        assert_eq!(c.unix_sock_rw_perms, 0o770);
        assert_eq!(c.max_workers, 4);
        assert_eq!(c.keepalive_interval, -1);
        assert!(c.audit_logging);
        assert_eq!(c.host_uuid_source, HostUuidSource::MachineId);
        assert_eq!(c.vz_sdk, SdkChoice::Embedded);
        assert_eq!(c.vz_embedded_dir.as_deref(), Some(Path::new("/srv/vz")));
        assert_eq!(
            c.vz_storage_uri.as_deref(),
            Some("storage:///session?socket=/run/s")
        );
        assert_eq!(c.sasl_allowed_username_list.len(), 2);
    }

    #[test]
    fn tcp_tls_keys_load_silently_and_unknown_keys_warn() {
        let l =
            parse("listen_tls = 0\ntls_port = \"16514\"\nkeepalive_required = 1\nfrobnicate = 1\n")
                .unwrap();
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains(":4: unknown configuration key 'frobnicate'"));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = parse("# c\nmax_workers = 0\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/etc/libvirt/virtvzd.conf:2: max_workers: must be at least 1"
        );
        let e = parse("\n\nmax_workers = \"many\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("max_workers"));
        let e = parse("vz_storage_uri = \"storage:///system?socket=rel\"\n").unwrap_err();
        assert!(e.to_string().contains("vz_storage_uri"), "{e}");
        let e = parse("max_clients = -5\n").unwrap_err();
        assert!(e.to_string().contains("max_clients"));
        let e = parse("x = = 1\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("syntax"));
    }

    #[test]
    fn bad_values() {
        for (text, key) in [
            ("unix_sock_rw_perms = \"0999\"", "unix_sock_rw_perms"),
            ("unix_sock_rw_perms = 770", "unix_sock_rw_perms"),
            ("auth_unix_rw = \"polkit\"", "auth_unix_rw"),
            ("auth_unix_ro = \"sasl\"", "auth_unix_ro"),
            ("auth_unix_ro = \"magic\"", "auth_unix_ro"),
            ("access_drivers = [ \"polkit\" ]", "access_drivers"),
            ("log_level = 5", "log_level"),
            ("audit_level = 3", "audit_level"),
            ("audit_logging = 2", "audit_logging"),
            ("host_uuid = \"nonsense\"", "host_uuid"),
            (
                "host_uuid = \"11111111-1111-1111-1111-111111111111\"",
                "host_uuid",
            ),
            ("host_uuid_source = \"dmi\"", "host_uuid_source"),
            ("keepalive_interval = -2", "keepalive_interval"),
            ("min_workers = 30", "min_workers"),
            ("vz_sdk = \"maybe\"", "vz_sdk"),
            ("vz_sdk_library = \"\"", "vz_sdk_library"),
            ("vz_embedded_dir = \"relative\"", "vz_embedded_dir"),
            ("unix_sock_dir = \"run/libvirt\"", "unix_sock_dir"),
            ("vz_job_timeout = 0", "vz_job_timeout"),
            ("max_clients = 99999999999", "max_clients"),
            ("access_drivers = \"none\"", "access_drivers"),
            ("max_clients = 10", "max_clients"),
            ("max_anonymous_clients = 6000", "max_anonymous_clients"),
            ("log_filters = \"1:rpc bogus\"", "log_filters"),
            ("log_filters = \"7:rpc\"", "log_filters"),
            ("log_outputs = \"3:stderr 2:file:rel.log\"", "log_outputs"),
            ("log_outputs = \"3:printer\"", "log_outputs"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.key.as_deref(), Some(key), "{text}: {e}");
            assert_eq!(e.line, Some(1), "{text}");
        }
    }

    #[test]
    fn every_key_is_live_or_needs_a_restart() {
        let mut all: Vec<&str> = LIVE_KEYS.iter().chain(RESTART_KEYS).copied().collect();
        all.sort_unstable();
        let mut known = KNOWN_KEYS.to_vec();
        known.sort_unstable();
        assert_eq!(all, known);
        let old = Config::default();
        let new = Config {
            unix_sock_dir: Some("/elsewhere".into()),
            max_workers: 3,
            vz_job_timeout: 9,
            ..Config::default()
        };
        assert_eq!(
            restart_only_changes(&old, &new),
            ["unix_sock_dir", "vz_job_timeout"]
        );
    }

    #[test]
    fn shipped_file_documents_the_defaults() {
        // Uncommenting every `#key = value` line of etc/virtvzd.conf must
        // give exactly the defaults: the file cannot drift from the code.
        let shipped = include_str!("../../etc/virtvzd.conf");
        let mut keys = Vec::new();
        let uncommented: String = shipped
            .lines()
            .filter_map(|l| {
                let l = l.strip_prefix('#')?;
                let (k, _) = l.split_once('=')?;
                let k = k.trim();
                (KNOWN_KEYS.contains(&k) && !l.starts_with(' ')).then(|| {
                    keys.push(k.to_string());
                    format!("{l}\n")
                })
            })
            .collect();
        let defaults = parse(&uncommented).unwrap();
        assert!(defaults.warnings.is_empty());
        // Values that have no default to show are documented with an
        // example instead.
        let d = &defaults.config;
        let expected = Config {
            unix_sock_group: d.unix_sock_group.clone(),
            unix_sock_dir: d.unix_sock_dir.clone(),
            host_uuid: d.host_uuid.clone(),
            log_filters: d.log_filters.clone(),
            log_outputs: d.log_outputs.clone(),
            vz_embedded_dir: d.vz_embedded_dir.clone(),
            vz_storage_uri: d.vz_storage_uri.clone(),
            access_drivers: d.access_drivers.clone(),
            sasl_allowed_username_list: d.sasl_allowed_username_list.clone(),
            ..Config::default()
        };
        assert_eq!(defaults.config, expected);
        for k in KNOWN_KEYS {
            assert!(
                keys.iter().any(|x| x == k),
                "{k} not documented in etc/virtvzd.conf"
            );
        }
    }
}

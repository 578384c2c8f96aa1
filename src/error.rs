//! libvirt's error model: one error value carrying (code, domain, level,
//! message), the numbers and message templates of `virterror.h`, and nothing
//! else. Every layer returns [`VirError`]; `rpc` turns it into the wire
//! struct `virNetMessageError`.

use std::fmt;

/// `virErrorNumber`: the `code` of an error (the subset this daemon emits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// VIR_ERR_INTERNAL_ERROR
    InternalError = 1,
    /// VIR_ERR_NO_MEMORY
    NoMemory = 2,
    /// VIR_ERR_NO_SUPPORT
    NoSupport = 3,
    /// VIR_ERR_NO_CONNECT
    NoConnect = 5,
    /// VIR_ERR_INVALID_CONN
    InvalidConn = 6,
    /// VIR_ERR_INVALID_DOMAIN
    InvalidDomain = 7,
    /// VIR_ERR_INVALID_ARG
    InvalidArg = 8,
    /// VIR_ERR_OPERATION_FAILED
    OperationFailed = 9,
    /// VIR_ERR_XML_ERROR
    XmlError = 27,
    /// VIR_ERR_DOM_EXIST
    DomExist = 28,
    /// VIR_ERR_OPERATION_DENIED
    OperationDenied = 29,
    /// VIR_ERR_CONF_SYNTAX
    ConfSyntax = 33,
    /// VIR_ERR_XML_DETAIL
    XmlDetail = 35,
    /// VIR_ERR_SYSTEM_ERROR
    SystemError = 38,
    /// VIR_ERR_RPC
    Rpc = 39,
    /// VIR_ERR_NO_DOMAIN
    NoDomain = 42,
    /// VIR_ERR_AUTH_FAILED
    AuthFailed = 45,
    /// VIR_ERR_NO_STORAGE_POOL
    NoStoragePool = 49,
    /// VIR_ERR_NO_STORAGE_VOL
    NoStorageVol = 50,
    /// VIR_ERR_OPERATION_INVALID
    OperationInvalid = 55,
    /// VIR_ERR_CONFIG_UNSUPPORTED
    ConfigUnsupported = 67,
    /// VIR_ERR_OPERATION_TIMEOUT
    OperationTimeout = 68,
    /// VIR_ERR_INVALID_DOMAIN_SNAPSHOT
    InvalidDomainSnapshot = 71,
    /// VIR_ERR_NO_DOMAIN_SNAPSHOT
    NoDomainSnapshot = 72,
    /// VIR_ERR_ARGUMENT_UNSUPPORTED
    ArgumentUnsupported = 74,
    /// VIR_ERR_OPERATION_UNSUPPORTED
    OperationUnsupported = 84,
    /// VIR_ERR_RESOURCE_BUSY
    ResourceBusy = 87,
    /// VIR_ERR_XML_INVALID_SCHEMA
    XmlInvalidSchema = 92,
    /// VIR_ERR_NO_SERVER
    NoServer = 95,
    /// VIR_ERR_NO_CLIENT
    NoClient = 96,
}

impl ErrorCode {
    /// libvirt's message template for this code when a detail is given
    /// (`str1` of the wire error; `%s` stands for the detail).
    pub fn template(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InternalError => "internal error: %s",
            NoMemory => "out of memory",
            NoSupport => "this function is not supported by the connection driver: %s",
            NoConnect => "no connection driver available for %s",
            InvalidConn => "invalid connection pointer in %s",
            InvalidDomain => "invalid domain pointer in %s",
            InvalidArg => "invalid argument: %s",
            OperationFailed => "operation failed: %s",
            XmlError => "XML error: %s",
            DomExist => "domain %s exists already",
            OperationDenied => "operation forbidden: %s",
            ConfSyntax => "configuration file syntax error: %s",
            XmlDetail | SystemError | Rpc => "%s",
            NoDomain => "Domain not found: %s",
            NoStoragePool => "Storage pool not found: %s",
            NoStorageVol => "Storage volume not found: %s",
            AuthFailed => "authentication failed: %s",
            OperationInvalid => "Requested operation is not valid: %s",
            ConfigUnsupported => "unsupported configuration: %s",
            OperationTimeout => "Timed out during operation: %s",
            InvalidDomainSnapshot => "Invalid snapshot: %s",
            NoDomainSnapshot => "Domain snapshot not found: %s",
            ArgumentUnsupported => "argument unsupported: %s",
            OperationUnsupported => "Operation not supported: %s",
            ResourceBusy => "resource busy: %s",
            XmlInvalidSchema => "XML document failed to validate against schema: %s",
            NoServer => "Server not found: %s",
            NoClient => "Client not found: %s",
        }
    }
}

impl ErrorCode {
    /// libvirt's message for this code when no detail is given.
    pub fn bare_message(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InternalError => "internal error",
            NoSupport => "this function is not supported by the connection driver",
            NoConnect => "no connection driver available",
            InvalidConn => "invalid connection pointer in",
            InvalidDomain => "invalid domain pointer in",
            InvalidArg => "invalid argument",
            OperationFailed => "operation failed",
            XmlError => "XML description is invalid or not well formed",
            DomExist => "this domain exists already",
            OperationDenied => "operation forbidden for read only access",
            ConfSyntax => "configuration file syntax error",
            XmlDetail => "XML description is invalid or not well formed",
            SystemError => "system call error",
            Rpc => "RPC error",
            NoDomain => "Domain not found",
            NoStoragePool => "Storage pool not found",
            NoStorageVol => "Storage volume not found",
            AuthFailed => "authentication failed",
            OperationInvalid => "Requested operation is not valid",
            ConfigUnsupported => "unsupported configuration",
            OperationTimeout => "Timed out during operation",
            InvalidDomainSnapshot => "Invalid snapshot",
            NoDomainSnapshot => "Domain snapshot not found",
            ArgumentUnsupported => "argument unsupported",
            OperationUnsupported => "Operation not supported",
            ResourceBusy => "resource busy",
            XmlInvalidSchema => "XML document failed to validate against schema",
            NoServer => "Server not found",
            NoClient => "Client not found",
            NoMemory => "out of memory",
        }
    }
}

/// `virErrorDomain`: which part of libvirt raised the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorDomain {
    /// VIR_FROM_NONE
    None = 0,
    /// VIR_FROM_XML
    Xml = 5,
    /// VIR_FROM_DOM
    Dom = 6,
    /// VIR_FROM_RPC
    Rpc = 7,
    /// VIR_FROM_CONF
    Conf = 9,
    /// VIR_FROM_REMOTE
    Remote = 13,
    /// VIR_FROM_STORAGE
    Storage = 18,
    /// VIR_FROM_NETWORK
    Network = 19,
    /// VIR_FROM_DOMAIN
    Domain = 20,
    /// VIR_FROM_NODEDEV
    NodeDev = 22,
    /// VIR_FROM_INTERFACE
    Interface = 26,
    /// VIR_FROM_SECRET
    Secret = 30,
    /// VIR_FROM_CPU
    Cpu = 31,
    /// VIR_FROM_NWFILTER
    NWFilter = 33,
    /// VIR_FROM_DOMAIN_SNAPSHOT
    DomainSnapshot = 35,
    /// VIR_FROM_PARALLELS: the vz driver's domain (libvirt has no VIR_FROM_VZ)
    Parallels = 48,
    /// VIR_FROM_THREAD
    Thread = 61,
    /// VIR_FROM_ADMIN
    Admin = 62,
    /// VIR_FROM_DOMAIN_CHECKPOINT
    DomainCheckpoint = 69,
}

/// `virErrorLevel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum ErrorLevel {
    /// VIR_ERR_NONE
    None = 0,
    /// VIR_ERR_WARNING
    Warning = 1,
    /// VIR_ERR_ERROR
    Error = 2,
}

/// A libvirt error as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirError {
    /// virErrorNumber
    pub code: ErrorCode,
    /// virErrorDomain
    pub domain: ErrorDomain,
    /// virErrorLevel (always Error from this daemon)
    pub level: ErrorLevel,
    /// The full text, template filled in (what `virsh` prints after "error: ").
    pub message: String,
    /// The detail alone (`str2` on the wire); `None` when the template stands alone.
    pub detail: Option<String>,
}

impl VirError {
    /// An error whose message is `code`'s template filled with `detail`,
    /// as `virReportError(code, "%s", detail)` makes it.
    pub fn new(code: ErrorCode, domain: ErrorDomain, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let message = code.template().replacen("%s", &detail, 1);
        VirError {
            code,
            domain,
            level: ErrorLevel::Error,
            message,
            detail: Some(detail),
        }
    }

    /// VIR_ERR_INTERNAL_ERROR in `domain`.
    pub fn internal(domain: ErrorDomain, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, domain, detail)
    }

    /// VIR_ERR_RPC in VIR_FROM_RPC: problems with the message itself.
    pub fn rpc(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Rpc, ErrorDomain::Rpc, detail)
    }

    /// VIR_ERR_INVALID_ARG for flags a call does not accept, worded as
    /// libvirt's `virCheckFlags` words it: without the "invalid argument: "
    /// prefix (libvirt 9.0 reports it through `virReportInvalidArg`).
    pub fn unsupported_flags(domain: ErrorDomain, flags: u64, function: &str) -> Self {
        Self::unprefixed(
            ErrorCode::InvalidArg,
            domain,
            format!("unsupported flags (0x{flags:x}) in function {function}"),
        )
    }

    /// VIR_ERR_NO_SUPPORT for an API the driver lacks, naming the public
    /// C API (`virDomainXxx`); `domain` is the public API's, which reports
    /// it (libvirt's `virReportUnsupportedError`).
    pub fn no_support(domain: ErrorDomain, api: &str) -> Self {
        Self::new(ErrorCode::NoSupport, domain, api)
    }

    /// VIR_ERR_OPERATION_DENIED for a write call on a read-only connection.
    pub fn read_only(domain: ErrorDomain, api: &str) -> Self {
        Self::new(
            ErrorCode::OperationDenied,
            domain,
            format!("read only access prevents {api}"),
        )
    }

    /// An error with no detail: the code's bare message, as libvirt
    /// reports `virReportError(code, NULL)` (e.g. "Domain not found").
    pub fn bare(code: ErrorCode, domain: ErrorDomain) -> Self {
        VirError {
            code,
            domain,
            level: ErrorLevel::Error,
            message: code.bare_message().to_string(),
            detail: None,
        }
    }

    /// An error whose message is its detail alone: libvirt's public API
    /// reports its argument checks so ("Flags 'A' and 'B' are mutually
    /// exclusive", no "invalid argument: " before it).
    pub fn unprefixed(code: ErrorCode, domain: ErrorDomain, message: impl Into<String>) -> Self {
        let message = message.into();
        VirError {
            code,
            domain,
            level: ErrorLevel::Error,
            detail: Some(message.clone()),
            message,
        }
    }

    /// The `str1` of the wire error: the code's template, or its bare
    /// message when there is no detail.
    pub fn template(&self) -> &'static str {
        match self.detail {
            Some(_) => self.code.template(),
            None => self.code.bare_message(),
        }
    }
}

impl fmt::Display for VirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VirError {}

/// Shorthand for results carrying a [`VirError`].
pub type VirResult<T> = Result<T, VirError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_fills_template() {
        let e = VirError::new(
            ErrorCode::NoDomain,
            ErrorDomain::Parallels,
            "no domain with matching name 'foo'",
        );
        assert_eq!(
            e.message,
            "Domain not found: no domain with matching name 'foo'"
        );
        assert_eq!(e.template(), "Domain not found: %s");
        assert_eq!(e.code as i32, 42);
        assert_eq!(e.domain as i32, 48);
    }

    #[test]
    fn rpc_errors_start_with_detail() {
        // The remote driver turns an RPC error starting with "unknown
        // procedure" into VIR_ERR_NO_SUPPORT; the template must not prefix it.
        let e = VirError::rpc("unknown procedure: 9999");
        assert_eq!(e.message, "unknown procedure: 9999");
    }

    #[test]
    fn bare_error_like_libvirtd() {
        // libvirtd's test driver answers `dominfo nosuch` with no detail.
        let e = VirError::bare(ErrorCode::NoDomain, ErrorDomain::Parallels);
        assert_eq!(e.message, "Domain not found");
        assert_eq!(e.template(), "Domain not found");
        assert!(e.detail.is_none());
    }

    #[test]
    fn read_only_wording() {
        let e = VirError::read_only(ErrorDomain::Domain, "virDomainCreate");
        assert_eq!(
            e.message,
            "operation forbidden: read only access prevents virDomainCreate"
        );
        assert_eq!(e.code as i32, 29);
    }

    #[test]
    fn flag_errors_have_no_prefix() {
        // libvirt 9.0's virCheckFlags (its test driver run by python3-libvirt
        // says "unsupported flags (0x100000) in function testDomainGetXMLDesc").
        let e = VirError::unsupported_flags(ErrorDomain::Parallels, 4, "vzDomainSnapshotDelete");
        assert_eq!(e.code, ErrorCode::InvalidArg);
        assert_eq!(
            e.message,
            "unsupported flags (0x4) in function vzDomainSnapshotDelete"
        );
    }
}

//! The ADMIN program (0x06900690) on the admin socket: what `virt-admin`
//! sees and tunes while the daemon runs — servers, worker pools, clients,
//! client limits, logging and the idle timeout.

pub mod protocol;

use crate::error::{ErrorCode, ErrorDomain, VirError, VirResult};
use crate::rpc::client::Client;
use crate::rpc::program::{decode_only, invoke, Decoder, Priority, Program};
use crate::rpc::server::Server;
use crate::rpc::typed_param::{TypedParam, TypedValue};
use protocol::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::UNIX_EPOCH;

/// What the admin program may ask of the daemon process itself (logging
/// and the idle timeout live in `daemon`, above this layer).
pub trait DaemonControl: Send + Sync {
    /// Current log filters, libvirt's text form.
    fn log_filters(&self) -> String;
    /// Current log outputs, libvirt's text form.
    fn log_outputs(&self) -> String;
    /// Replaces the log filters ("" clears them).
    fn set_log_filters(&self, filters: &str) -> Result<(), String>;
    /// Replaces the log outputs ("" restores the default).
    fn set_log_outputs(&self, outputs: &str) -> Result<(), String>;
    /// Sets the idle timeout in seconds (0 disables it).
    fn set_timeout(&self, seconds: u32);
}

/// The ADMIN program.
pub struct AdminProgram {
    servers: OnceLock<Vec<Arc<Server>>>,
    daemon: Arc<dyn DaemonControl>,
    /// Only the daemon's own user may administer it, as libvirt's rule.
    euid: u32,
}

#[derive(Default)]
struct AdminSession {
    open: AtomicBool,
}

struct Ctx<'a> {
    program: &'a AdminProgram,
    client: &'a Arc<Client>,
}

type Handler = fn(&Ctx, &[u8], &mut Vec<u8>) -> VirResult<()>;

macro_rules! admin_procedures {
    ($($num:literal $name:ident => $h:path;)*) => {
        /// The ADMIN procedures, in number order: (number, name, handler,
        /// the handler's argument decoder alone).
        static PROCEDURES: &[(i32, &str, Handler, Decoder)] = &[$(
            ($num, stringify!($name), |c, a, o| invoke(c, a, o, $h), |a| decode_only(a, $h)),
        )*];
    };
}

admin_procedures! {
    1 CONNECT_OPEN => connect_open;
    2 CONNECT_CLOSE => connect_close;
    3 CONNECT_GET_LIB_VERSION => get_lib_version;
    4 CONNECT_LIST_SERVERS => list_servers;
    5 CONNECT_LOOKUP_SERVER => lookup_server;
    6 SERVER_GET_THREADPOOL_PARAMETERS => get_threadpool;
    7 SERVER_SET_THREADPOOL_PARAMETERS => set_threadpool;
    8 SERVER_LIST_CLIENTS => list_clients;
    9 SERVER_LOOKUP_CLIENT => lookup_client;
    10 CLIENT_GET_INFO => client_info;
    11 CLIENT_CLOSE => client_close;
    12 SERVER_GET_CLIENT_LIMITS => get_client_limits;
    13 SERVER_SET_CLIENT_LIMITS => set_client_limits;
    14 CONNECT_GET_LOGGING_OUTPUTS => get_logging_outputs;
    15 CONNECT_GET_LOGGING_FILTERS => get_logging_filters;
    16 CONNECT_SET_LOGGING_OUTPUTS => set_logging_outputs;
    17 CONNECT_SET_LOGGING_FILTERS => set_logging_filters;
    18 SERVER_UPDATE_TLS_FILES => update_tls_files;
    19 CONNECT_SET_DAEMON_TIMEOUT => set_daemon_timeout;
}

fn lookup(procedure: i32) -> Option<&'static (i32, &'static str, Handler, Decoder)> {
    PROCEDURES.iter().find(|p| p.0 == procedure)
}

/// Decodes the arguments of ADMIN procedure `procedure` as its handler
/// would, without running it; `None` if there is no such procedure.
pub fn decode_args(procedure: i32, args: &[u8]) -> Option<Result<(), crate::rpc::xdr::XdrError>> {
    lookup(procedure).map(|p| (p.3)(args))
}

impl AdminProgram {
    /// The program for a daemon run by `euid`.
    pub fn new(daemon: Arc<dyn DaemonControl>, euid: u32) -> Arc<AdminProgram> {
        Arc::new(AdminProgram {
            servers: OnceLock::new(),
            daemon,
            euid,
        })
    }

    /// Tells the program which servers exist, in the order virt-admin
    /// lists them (libvirt's daemons list `admin` first).
    pub fn set_servers(&self, servers: Vec<Arc<Server>>) {
        let _ = self.servers.set(servers);
    }

    fn servers(&self) -> &[Arc<Server>] {
        self.servers.get().map(Vec::as_slice).unwrap_or(&[])
    }

    /// The server named `name`, or libvirt's NO_SERVER error as the
    /// server layer words it (what LOOKUP_SERVER and most calls answer).
    fn server(&self, name: &str) -> VirResult<&Arc<Server>> {
        self.find_server(name).ok_or_else(|| {
            VirError::new(
                ErrorCode::NoServer,
                ErrorDomain::Rpc,
                format!("No server named '{name}'"),
            )
        })
    }

    /// As [`Self::server`], worded as libvirt's hand-written admin
    /// dispatchers word it (threadpool and client-limit setters, client
    /// info).
    fn server_for_dispatch(&self, name: &str) -> VirResult<&Arc<Server>> {
        self.find_server(name).ok_or_else(|| {
            VirError::new(
                ErrorCode::NoServer,
                ErrorDomain::Admin,
                format!("no server with matching name '{name}' found"),
            )
        })
    }

    fn find_server(&self, name: &str) -> Option<&Arc<Server>> {
        self.servers().iter().find(|s| s.name() == name)
    }
}

impl Program for AdminProgram {
    fn number(&self) -> u32 {
        PROGRAM
    }

    fn priority(&self, procedure: i32, _args: &[u8]) -> Option<Priority> {
        lookup(procedure).map(|_| Priority::Normal)
    }

    fn call(
        &self,
        client: &Arc<Client>,
        procedure: i32,
        args: &[u8],
        reply: &mut Vec<u8>,
    ) -> VirResult<()> {
        let Some((_, _, handler, _)) = lookup(procedure) else {
            return Err(VirError::rpc(format!("unknown procedure: {procedure}")));
        };
        let session = client
            .session(AdminSession::default)
            .ok_or_else(|| VirError::internal(ErrorDomain::Admin, "client session mix-up"))?;
        if procedure != 1 && !session.open.load(Ordering::Acquire) {
            return Err(VirError::internal(ErrorDomain::Rpc, "connection not open"));
        }
        handler(
            &Ctx {
                program: self,
                client,
            },
            args,
            reply,
        )
    }
}

fn no_flags(flags: u32, function: &str) -> VirResult<()> {
    if flags != 0 {
        return Err(VirError::unsupported_flags(
            ErrorDomain::Admin,
            flags.into(),
            function,
        ));
    }
    Ok(())
}

fn connect_open(c: &Ctx, a: FlagsArgs) -> VirResult<()> {
    no_flags(a.flags, "adminDispatchConnectOpen")?;
    if let Some(peer) = c.client.peer {
        if peer.uid != c.program.euid {
            return Err(VirError::new(
                ErrorCode::OperationDenied,
                ErrorDomain::Admin,
                format!("Disallowing client {} with uid {}", peer.pid, peer.uid),
            ));
        }
    }
    let session = c
        .client
        .session(AdminSession::default)
        .ok_or_else(|| VirError::internal(ErrorDomain::Admin, "client session mix-up"))?;
    if session.open.swap(true, Ordering::AcqRel) {
        return Err(VirError::internal(
            ErrorDomain::Rpc,
            "connection already open",
        ));
    }
    Ok(())
}

fn connect_close(c: &Ctx, _: ()) -> VirResult<()> {
    c.client.close_after_flush();
    Ok(())
}

fn get_lib_version(_: &Ctx, _: ()) -> VirResult<u64> {
    Ok(crate::LIBVIRT_VERSION)
}

fn list_servers(c: &Ctx, a: ListServersArgs) -> VirResult<ListServersRet> {
    no_flags(a.flags, "adminConnectListServers")?;
    let all = c.program.servers();
    Ok(ListServersRet {
        servers: if a.need_results != 0 {
            all.iter()
                .map(|s| ServerRef {
                    name: s.name().to_string(),
                })
                .collect()
        } else {
            Vec::new()
        },
        ret: all.len() as u32,
    })
}

fn lookup_server(c: &Ctx, a: LookupServerArgs) -> VirResult<ServerRef> {
    let s = c.program.server(&a.name)?;
    no_flags(a.flags, "adminConnectLookupServer")?;
    Ok(ServerRef {
        name: s.name().to_string(),
    })
}

fn uint(field: &str, v: usize) -> TypedParam {
    TypedParam::new(
        field,
        TypedValue::UInt(u32::try_from(v).unwrap_or(u32::MAX)),
    )
}

fn get_threadpool(c: &Ctx, a: ServerArgs) -> VirResult<ParamsRet> {
    let server = c.program.server(&a.srv.name)?;
    no_flags(a.flags, "adminServerGetThreadPoolParameters")?;
    let st = server.pool_stats();
    Ok(ParamsRet {
        params: vec![
            uint("minWorkers", st.limits.min),
            uint("maxWorkers", st.limits.max),
            uint("nWorkers", st.workers),
            uint("freeWorkers", st.free),
            uint("prioWorkers", st.prio_workers),
            uint("jobQueueDepth", st.queue_depth),
        ],
    })
}

/// Checks typed parameters against the names this call accepts (all
/// UINT), as libvirt's virTypedParamsValidate does, and returns them.
fn uint_params<'p>(params: &'p [TypedParam], allowed: &[&str]) -> VirResult<Vec<(&'p str, u32)>> {
    let mut out = Vec::new();
    for p in params {
        if !allowed.contains(&p.field.as_str()) {
            return Err(VirError::new(
                ErrorCode::ArgumentUnsupported,
                ErrorDomain::None,
                format!("parameter '{}' not supported", p.field),
            ));
        }
        if out.iter().any(|(f, _)| *f == p.field) {
            return Err(VirError::new(
                ErrorCode::InvalidArg,
                ErrorDomain::None,
                format!("parameter '{}' occurs multiple times", p.field),
            ));
        }
        let TypedValue::UInt(v) = p.value else {
            return Err(VirError::new(
                ErrorCode::InvalidArg,
                ErrorDomain::None,
                format!(
                    "invalid type '{}' for parameter '{}', expected 'uint'",
                    p.value.type_name(),
                    p.field
                ),
            ));
        };
        out.push((p.field.as_str(), v));
    }
    Ok(out)
}

/// VIR_ERR_INVALID_ARG from the thread pool (libvirt's util layer: no
/// error domain).
fn pool_invalid(detail: &str) -> VirError {
    VirError::new(ErrorCode::InvalidArg, ErrorDomain::None, detail)
}

fn set_threadpool(c: &Ctx, a: ServerSetArgs) -> VirResult<()> {
    let server = c.program.server_for_dispatch(&a.srv.name)?;
    no_flags(a.flags, "adminServerSetThreadPoolParameters")?;
    let given = uint_params(&a.params.0, &["minWorkers", "maxWorkers", "prioWorkers"])?;
    let mut cfg = server.config();
    let mut max_given = None;
    for (field, v) in given {
        let v = v as usize;
        match field {
            "minWorkers" => cfg.workers.min = v,
            "maxWorkers" => {
                cfg.workers.max = v;
                max_given = Some(v);
            }
            _ => cfg.workers.prio = v,
        }
    }
    if cfg.workers.min > cfg.workers.max {
        return Err(pool_invalid("minWorkers cannot be larger than maxWorkers"));
    }
    // Every pool here has workers, and libvirt will not take them away.
    if max_given == Some(0) {
        return Err(pool_invalid(
            "maxWorkers must not be switched from zero to non-zero and vice versa",
        ));
    }
    server.set_config(cfg);
    Ok(())
}

fn client_ref(server: &Server, client: &Client) -> ClientRef {
    ClientRef {
        srv: ServerRef {
            name: server.name().to_string(),
        },
        id: client.id,
        timestamp: client
            .connected_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
        transport: 0,
    }
}

fn list_clients(c: &Ctx, a: ListClientsArgs) -> VirResult<ListClientsRet> {
    let server = c.program.server(&a.srv.name)?;
    no_flags(a.flags, "adminServerListClients")?;
    let clients = server.clients();
    Ok(ListClientsRet {
        ret: clients.len() as u32,
        clients: if a.need_results != 0 {
            clients.iter().map(|cl| client_ref(server, cl)).collect()
        } else {
            Vec::new()
        },
    })
}

/// The client with this id, or libvirt's NO_CLIENT error as the server
/// layer words it.
fn find_client(server: &Server, id: u64) -> VirResult<Arc<Client>> {
    server.client(id).ok_or_else(|| {
        VirError::new(
            ErrorCode::NoClient,
            ErrorDomain::Rpc,
            format!("No client with matching ID '{id}'"),
        )
    })
}

fn lookup_client(c: &Ctx, a: LookupClientArgs) -> VirResult<ClientRef> {
    let server = c.program.server(&a.srv.name)?;
    no_flags(a.flags, "adminServerLookupClient")?;
    let client = find_client(server, a.id)?;
    Ok(client_ref(server, &client))
}

fn client_info(c: &Ctx, a: ClientArgs) -> VirResult<ParamsRet> {
    let server = c.program.server_for_dispatch(&a.clnt.srv.name)?;
    // libvirt's dispatcher words its own error over the server layer's.
    let client = server.client(a.clnt.id).ok_or_else(|| {
        VirError::new(
            ErrorCode::NoClient,
            ErrorDomain::Admin,
            format!("no client with matching id '{}' found", a.clnt.id),
        )
    })?;
    no_flags(a.flags, "adminClientGetInfo")?;
    let mut params = vec![TypedParam::new(
        "readonly",
        TypedValue::Boolean(client.readonly_socket || client_opened_readonly(&client)),
    )];
    if let Some(peer) = client.peer {
        let uid = i32::try_from(peer.uid).unwrap_or(-1);
        let gid = i32::try_from(peer.gid).unwrap_or(-1);
        params.push(TypedParam::new("unix_user_id", TypedValue::Int(uid)));
        if let Some(name) = passwd_name("/etc/passwd", peer.uid) {
            params.push(TypedParam::new("unix_user_name", TypedValue::String(name)));
        }
        params.push(TypedParam::new("unix_group_id", TypedValue::Int(gid)));
        if let Some(name) = passwd_name("/etc/group", peer.gid) {
            params.push(TypedParam::new("unix_group_name", TypedValue::String(name)));
        }
        params.push(TypedParam::new(
            "unix_process_id",
            TypedValue::Int(peer.pid),
        ));
    }
    Ok(ParamsRet { params })
}

/// Whether the client opened its connection with the read-only flag.
fn client_opened_readonly(client: &Client) -> bool {
    crate::remote::session_readonly(client)
}

/// The name for an id in a passwd-format file (/etc/passwd, /etc/group).
fn passwd_name(file: &str, id: u32) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _ = f.next()?;
        (f.next()?.parse::<u32>().ok()? == id).then(|| name.to_string())
    })
}

fn client_close(c: &Ctx, a: ClientArgs) -> VirResult<()> {
    let server = c.program.server(&a.clnt.srv.name)?;
    let client = find_client(server, a.clnt.id)?;
    no_flags(a.flags, "adminClientClose")?;
    client.close();
    Ok(())
}

fn get_client_limits(c: &Ctx, a: ServerArgs) -> VirResult<ParamsRet> {
    let server = c.program.server(&a.srv.name)?;
    no_flags(a.flags, "adminServerGetClientLimits")?;
    let cfg = server.config();
    Ok(ParamsRet {
        params: vec![
            uint("nclients_max", cfg.max_clients),
            uint("nclients", server.nclients()),
            uint("nclients_unauth_max", cfg.max_anonymous_clients),
            // With auth "none" every client is authenticated on arrival.
            uint("nclients_unauth", 0),
        ],
    })
}

fn set_client_limits(c: &Ctx, a: ServerSetArgs) -> VirResult<()> {
    let server = c.program.server_for_dispatch(&a.srv.name)?;
    no_flags(a.flags, "adminServerSetClientLimits")?;
    let given = uint_params(&a.params.0, &["nclients_max", "nclients_unauth_max"])?;
    let mut cfg = server.config();
    for (field, v) in given {
        match field {
            "nclients_max" => cfg.max_clients = v as usize,
            _ => cfg.max_anonymous_clients = v as usize,
        }
    }
    if cfg.max_clients < cfg.max_anonymous_clients {
        return Err(VirError::new(
            ErrorCode::InvalidArg,
            ErrorDomain::Rpc,
            "The overall maximum number of clients must be greater than the maximum number of clients waiting for authentication",
        ));
    }
    server.set_config(cfg);
    Ok(())
}

fn count(s: &str) -> u32 {
    s.split_whitespace().count() as u32
}

fn get_logging_outputs(c: &Ctx, a: FlagsArgs) -> VirResult<LoggingOutputsRet> {
    no_flags(a.flags, "adminConnectGetLoggingOutputs")?;
    let outputs = c.program.daemon.log_outputs();
    Ok(LoggingOutputsRet {
        noutputs: count(&outputs),
        outputs,
    })
}

fn get_logging_filters(c: &Ctx, a: FlagsArgs) -> VirResult<LoggingFiltersRet> {
    no_flags(a.flags, "adminConnectGetLoggingFilters")?;
    let filters = c.program.daemon.log_filters();
    Ok(LoggingFiltersRet {
        nfilters: count(&filters),
        filters: (!filters.is_empty()).then_some(filters),
    })
}

fn log_error(e: String) -> VirError {
    VirError::new(ErrorCode::InvalidArg, ErrorDomain::None, e)
}

fn set_logging_outputs(c: &Ctx, a: SetLoggingArgs) -> VirResult<()> {
    no_flags(a.flags, "adminConnectSetLoggingOutputs")?;
    c.program
        .daemon
        .set_log_outputs(a.value.as_deref().unwrap_or(""))
        .map_err(log_error)
}

fn set_logging_filters(c: &Ctx, a: SetLoggingArgs) -> VirResult<()> {
    no_flags(a.flags, "adminConnectSetLoggingFilters")?;
    c.program
        .daemon
        .set_log_filters(a.value.as_deref().unwrap_or(""))
        .map_err(log_error)
}

/// No server here listens on TLS: libvirt's answer for such a server.
fn update_tls_files(c: &Ctx, a: ServerArgs) -> VirResult<()> {
    c.program.server(&a.srv.name)?;
    no_flags(a.flags, "adminServerUpdateTlsFiles")?;
    Err(VirError::internal(
        ErrorDomain::Rpc,
        "no tls service found, unable to update tls files",
    ))
}

fn set_daemon_timeout(c: &Ctx, a: SetDaemonTimeoutArgs) -> VirResult<()> {
    no_flags(a.flags, "adminConnectSetDaemonTimeout")?;
    c.program.daemon.set_timeout(a.timeout);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_numbers_are_unique_and_ordered() {
        for w in PROCEDURES.windows(2) {
            assert!(w[0].0 < w[1].0);
        }
        assert_eq!(PROCEDURES.len(), 19);
    }

    #[test]
    fn typed_params_are_validated() {
        let ok = [TypedParam::new("maxWorkers", TypedValue::UInt(8))];
        assert_eq!(
            uint_params(&ok, &["maxWorkers"]).unwrap(),
            vec![("maxWorkers", 8)]
        );
        let unknown = [TypedParam::new("bogus", TypedValue::UInt(8))];
        let e = uint_params(&unknown, &["maxWorkers"]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ArgumentUnsupported);
        let wrong = [TypedParam::new("maxWorkers", TypedValue::Int(8))];
        assert_eq!(
            uint_params(&wrong, &["maxWorkers"]).unwrap_err().code,
            ErrorCode::InvalidArg
        );
    }

    #[test]
    fn passwd_lookup() {
        assert_eq!(passwd_name("/etc/passwd", 0).as_deref(), Some("root"));
        assert_eq!(passwd_name("/etc/passwd", 4_000_000_000), None);
    }
}

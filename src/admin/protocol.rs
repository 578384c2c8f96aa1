//! Argument and return structs of the ADMIN program (`admin_protocol.x`).

use crate::rpc::typed_param::TypedParam;
use crate::rpc::xdr::Bounded;
use serde::{Deserialize, Serialize};

/// ADMIN program number.
pub const PROGRAM: u32 = 0x0690_0690;

/// ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX
pub const THREADPOOL_PARAMETERS_MAX: usize = 32;
/// ADMIN_SERVER_CLIENT_LIMITS_MAX
pub const CLIENT_LIMITS_MAX: usize = 32;
/// ADMIN_CLIENT_INFO_PARAMETERS_MAX
pub const CLIENT_INFO_PARAMETERS_MAX: usize = 64;

/// `admin_nonnull_server`
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ServerRef {
    /// Server name.
    pub name: String,
}

/// `admin_nonnull_client`
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ClientRef {
    /// Its server.
    pub srv: ServerRef,
    /// Client id.
    pub id: u64,
    /// Connection time, seconds since the epoch.
    pub timestamp: i64,
    /// 0 UNIX, 1 TCP, 2 TLS.
    pub transport: u32,
}

/// Flags-only arguments.
#[derive(Serialize, Deserialize, Debug)]
pub struct FlagsArgs {
    /// Flags.
    pub flags: u32,
}

/// `admin_connect_list_servers_args`
#[derive(Serialize, Deserialize, Debug)]
pub struct ListServersArgs {
    /// Whether to return the list.
    pub need_results: u32,
    /// Flags.
    pub flags: u32,
}

/// `admin_connect_list_servers_ret`
#[derive(Serialize, Deserialize, Debug)]
pub struct ListServersRet {
    /// Servers.
    pub servers: Vec<ServerRef>,
    /// Their count.
    pub ret: u32,
}

/// `admin_connect_lookup_server_args`
#[derive(Serialize, Deserialize, Debug)]
pub struct LookupServerArgs {
    /// Server name.
    pub name: String,
    /// Flags.
    pub flags: u32,
}

/// A server and flags (threadpool / client limits get, TLS update).
#[derive(Serialize, Deserialize, Debug)]
pub struct ServerArgs {
    /// The server.
    pub srv: ServerRef,
    /// Flags.
    pub flags: u32,
}

/// A server, parameters and flags (threadpool / client limits set).
#[derive(Serialize, Deserialize, Debug)]
pub struct ServerSetArgs {
    /// The server.
    pub srv: ServerRef,
    /// The parameters.
    pub params: Bounded<TypedParam, THREADPOOL_PARAMETERS_MAX>,
    /// Flags.
    pub flags: u32,
}

/// Typed parameters returned.
#[derive(Serialize, Deserialize, Debug)]
pub struct ParamsRet {
    /// The parameters.
    pub params: Vec<TypedParam>,
}

/// `admin_server_list_clients_args`
#[derive(Serialize, Deserialize, Debug)]
pub struct ListClientsArgs {
    /// The server.
    pub srv: ServerRef,
    /// Whether to return the list.
    pub need_results: u32,
    /// Flags.
    pub flags: u32,
}

/// `admin_server_list_clients_ret`
#[derive(Serialize, Deserialize, Debug)]
pub struct ListClientsRet {
    /// Clients.
    pub clients: Vec<ClientRef>,
    /// Their count.
    pub ret: u32,
}

/// `admin_server_lookup_client_args`
#[derive(Serialize, Deserialize, Debug)]
pub struct LookupClientArgs {
    /// The server.
    pub srv: ServerRef,
    /// Client id.
    pub id: u64,
    /// Flags.
    pub flags: u32,
}

/// A client and flags (client info, client close).
#[derive(Serialize, Deserialize, Debug)]
pub struct ClientArgs {
    /// The client.
    pub clnt: ClientRef,
    /// Flags.
    pub flags: u32,
}

/// `admin_connect_get_logging_outputs_ret`
#[derive(Serialize, Deserialize, Debug)]
pub struct LoggingOutputsRet {
    /// The outputs.
    pub outputs: String,
    /// How many.
    pub noutputs: u32,
}

/// `admin_connect_get_logging_filters_ret`
#[derive(Serialize, Deserialize, Debug)]
pub struct LoggingFiltersRet {
    /// The filters, absent when there are none.
    pub filters: Option<String>,
    /// How many.
    pub nfilters: u32,
}

/// `admin_connect_set_logging_{outputs,filters}_args`
#[derive(Serialize, Deserialize, Debug)]
pub struct SetLoggingArgs {
    /// The new value (absent: none / the default).
    pub value: Option<String>,
    /// Flags.
    pub flags: u32,
}

/// `admin_connect_set_daemon_timeout_args`
#[derive(Serialize, Deserialize, Debug)]
pub struct SetDaemonTimeoutArgs {
    /// Seconds; 0 disables.
    pub timeout: u32,
    /// Flags.
    pub flags: u32,
}

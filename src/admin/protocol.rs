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

#[cfg(test)]
mod tests {
    //! Byte for byte what virt-admin 9.0 sent to libvirt 9.0's libvirtd and
    //! what libvirtd answered (captures/virt-admin-9.0-to-libvirtd.txt):
    //! call bodies must decode, reply bodies must encode to the same bytes.
    use super::*;
    use crate::rpc::hex::{hex, unhex};
    use crate::rpc::typed_param::TypedValue;
    use crate::rpc::xdr;

    fn libvirtd() -> ServerRef {
        ServerRef {
            name: "libvirtd".into(),
        }
    }

    fn client_606() -> ClientRef {
        ClientRef {
            srv: libvirtd(),
            id: 606,
            timestamp: 0x6b05_a70e,
            transport: 0,
        }
    }

    #[test]
    fn list_servers() {
        let a: ListServersArgs = xdr::from_bytes(&unhex("0000000100000000")).unwrap();
        assert_eq!((a.need_results, a.flags), (1, 0));
        let r = ListServersRet {
            servers: vec![
                ServerRef {
                    name: "admin".into(),
                },
                libvirtd(),
            ],
            ret: 2,
        };
        assert_eq!(
            hex(&xdr::to_bytes(&r).unwrap()),
            "000000020000000561646d696e000000000000086c6962766972746400000002"
        );
    }

    #[test]
    fn lookup_server_and_threadpool_set() {
        let a: LookupServerArgs =
            xdr::from_bytes(&unhex("000000086c6962766972746400000000")).unwrap();
        assert_eq!((a.name.as_str(), a.flags), ("libvirtd", 0));
        assert_eq!(
            hex(&xdr::to_bytes(&libvirtd()).unwrap()),
            "000000086c69627669727464"
        );
        let a: ServerSetArgs = xdr::from_bytes(&unhex(
            "000000086c69627669727464000000010000000a6d6178576f726b6572730000000000020000001500000000",
        ))
        .unwrap();
        assert_eq!(a.srv, libvirtd());
        assert_eq!(
            a.params.0,
            vec![TypedParam::new("maxWorkers", TypedValue::UInt(21))]
        );
        assert_eq!(a.flags, 0);
    }

    #[test]
    fn clients_list_lookup_and_info() {
        let a: ListClientsArgs =
            xdr::from_bytes(&unhex("000000086c696276697274640000000100000000")).unwrap();
        assert_eq!((a.srv, a.need_results, a.flags), (libvirtd(), 1, 0));
        let r = ListClientsRet {
            clients: vec![client_606()],
            ret: 1,
        };
        assert_eq!(
            hex(&xdr::to_bytes(&r).unwrap()),
            "00000001000000086c69627669727464000000000000025e000000006b05a70e0000000000000001"
        );
        let a: LookupClientArgs =
            xdr::from_bytes(&unhex("000000086c69627669727464000000000000025e00000000")).unwrap();
        assert_eq!((a.srv, a.id, a.flags), (libvirtd(), 606, 0));
        assert_eq!(
            hex(&xdr::to_bytes(&client_606()).unwrap()),
            "000000086c69627669727464000000000000025e000000006b05a70e00000000"
        );
        let a: ClientArgs = xdr::from_bytes(&unhex(
            "000000086c69627669727464000000000000025e000000006b05a70e0000000000000000",
        ))
        .unwrap();
        assert_eq!((a.clnt, a.flags), (client_606(), 0));
        // client-info of a unix client of user and group "bench" (1001).
        let info = ParamsRet {
            params: vec![
                TypedParam::new("readonly", TypedValue::Boolean(false)),
                TypedParam::new("unix_user_id", TypedValue::Int(1001)),
                TypedParam::new("unix_user_name", TypedValue::String("bench".into())),
                TypedParam::new("unix_group_id", TypedValue::Int(1001)),
                TypedParam::new("unix_group_name", TypedValue::String("bench".into())),
                TypedParam::new("unix_process_id", TypedValue::Int(0x2419)),
            ],
        };
        assert_eq!(
            hex(&xdr::to_bytes(&info).unwrap()),
            "0000000600000008726561646f6e6c7900000006000000000000000c756e69785f75736572\
             5f696400000001000003e90000000e756e69785f757365725f6e616d65000000000007000000\
             0562656e63680000000000000d756e69785f67726f75705f696400000000000001000003e900\
             00000f756e69785f67726f75705f6e616d6500000000070000000562656e6368000000000000\
             0f756e69785f70726f636573735f6964000000000100002419"
        );
    }

    #[test]
    fn client_limits() {
        let r = ParamsRet {
            params: [
                ("nclients_max", 5000),
                ("nclients", 1),
                ("nclients_unauth_max", 20),
                ("nclients_unauth", 0),
            ]
            .iter()
            .map(|(f, v)| TypedParam::new(f, TypedValue::UInt(*v)))
            .collect(),
        };
        assert_eq!(
            hex(&xdr::to_bytes(&r).unwrap()),
            "000000040000000c6e636c69656e74735f6d61780000000200001388000000086e636c69\
             656e74730000000200000001000000136e636c69656e74735f756e617574685f6d617800\
             00000002000000140000000f6e636c69656e74735f756e61757468000000000200000000"
        );
        let a: ServerSetArgs = xdr::from_bytes(&unhex(
            "000000086c69627669727464000000010000000c6e636c69656e74735f6d6178000000020000138700000000",
        ))
        .unwrap();
        assert_eq!(
            a.params.0,
            vec![TypedParam::new("nclients_max", TypedValue::UInt(4999))]
        );
    }

    #[test]
    fn logging() {
        let none = LoggingFiltersRet {
            filters: None,
            nfilters: 0,
        };
        assert_eq!(hex(&xdr::to_bytes(&none).unwrap()), "0000000000000000");
        let a: SetLoggingArgs =
            xdr::from_bytes(&unhex("0000000100000005333a72706300000000000000")).unwrap();
        assert_eq!((a.value.as_deref(), a.flags), (Some("3:rpc"), 0));
        // The capture's last call, an empty filter list: present and empty.
        let a: SetLoggingArgs = xdr::from_bytes(&unhex("000000010000000000000000")).unwrap();
        assert_eq!(a.value.as_deref(), Some(""));
        let out = LoggingOutputsRet {
            outputs: "3:stderr".into(),
            noutputs: 1,
        };
        assert_eq!(
            hex(&xdr::to_bytes(&out).unwrap()),
            "00000008333a73746465727200000001"
        );
        let v: u64 = xdr::from_bytes(&unhex("0000000000895440")).unwrap();
        assert_eq!(v, 9_000_000);
    }
}

//! The REMOTE program's procedures: one line each, in number order.
//!
//! Columns: number, name (REMOTE_PROC_*), the public C API it serves (named
//! in read-only and unsupported errors), access (`Read`: allowed on a
//! read-only connection; `Write`: refused there), priority (`Inline`: on
//! the connection thread; `High`: libvirt's `@priority: high`, also run by
//! the priority workers; `Normal`), stage (`BeforeOpen`: allowed before
//! CONNECT_OPEN; `Open`: needs it), and the handler (`none`: the driver
//! does not implement it, answered with VIR_ERR_NO_SUPPORT as libvirt's
//! daemon answers for a driver that lacks the API).

use super::{connect, host, Call};
use crate::error::VirResult;
use crate::rpc::program::{invoke, Priority};
use std::sync::OnceLock;

/// Whether a read-only connection may call a procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Allowed on read-only connections.
    Read,
    /// Refused on read-only connections (VIR_ERR_OPERATION_DENIED).
    Write,
}

/// Whether a procedure needs CONNECT_OPEN first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Allowed before the connection is open.
    BeforeOpen,
    /// Needs an open connection.
    Open,
}

/// Decodes arguments, runs, encodes the result into the reply.
pub type Handler = fn(&Call, &[u8], &mut Vec<u8>) -> VirResult<()>;

/// One procedure of the table.
#[derive(Debug)]
pub struct Procedure {
    /// Procedure number.
    pub number: i32,
    /// Name without the REMOTE_PROC_ prefix.
    pub name: &'static str,
    /// The public C API it serves.
    pub api: &'static str,
    /// Read-only rule.
    pub access: Access,
    /// Scheduling.
    pub priority: Priority,
    /// Open rule.
    pub stage: Stage,
    /// The handler, or `None` when the driver lacks the API.
    pub handler: Option<Handler>,
}

macro_rules! handler {
    (none) => {
        None
    };
    ($h:path) => {
        Some(|call, args, out| invoke(call, args, out, $h))
    };
}

macro_rules! procedures {
    ($($num:literal $name:ident $api:literal $access:ident $prio:ident $stage:ident => $($h:tt)::+;)*) => {
        /// Every REMOTE procedure this daemon knows, in number order.
        pub static PROCEDURES: &[Procedure] = &[$(
            Procedure {
                number: $num,
                name: stringify!($name),
                api: $api,
                access: Access::$access,
                priority: Priority::$prio,
                stage: Stage::$stage,
                handler: handler!($($h)::+),
            },
        )*];
    };
}

procedures! {
    1 CONNECT_OPEN "virConnectOpen" Read High BeforeOpen => connect::open;
    2 CONNECT_CLOSE "virConnectClose" Read Inline BeforeOpen => connect::close;
    3 CONNECT_GET_TYPE "virConnectGetType" Read Inline Open => connect::get_type;
    4 CONNECT_GET_VERSION "virConnectGetVersion" Read High Open => connect::get_version;
    5 CONNECT_GET_MAX_VCPUS "virConnectGetMaxVcpus" Read Inline Open => connect::get_max_vcpus;
    6 NODE_GET_INFO "virNodeGetInfo" Read Inline Open => host::node_get_info;
    7 CONNECT_GET_CAPABILITIES "virConnectGetCapabilities" Read Normal Open => connect::get_capabilities;
    59 CONNECT_GET_HOSTNAME "virConnectGetHostname" Read Inline Open => connect::get_hostname;
    60 CONNECT_SUPPORTS_FEATURE "virConnectSupportsFeature" Read Inline BeforeOpen => connect::supports_feature;
    66 AUTH_LIST "virConnectAuthList" Read Inline BeforeOpen => connect::auth_list;
    101 NODE_GET_CELLS_FREE_MEMORY "virNodeGetCellsFreeMemory" Read Inline Open => host::node_get_cells_free_memory;
    102 NODE_GET_FREE_MEMORY "virNodeGetFreeMemory" Read Inline Open => host::node_get_free_memory;
    110 CONNECT_GET_URI "virConnectGetURI" Read Inline Open => connect::get_uri;
    122 NODE_GET_SECURITY_MODEL "virNodeGetSecurityModel" Read Inline Open => host::node_get_security_model;
    149 CONNECT_IS_SECURE "virConnectIsSecure" Read Inline Open => connect::is_secure;
    157 CONNECT_GET_LIB_VERSION "virConnectGetLibVersion" Read Inline Open => connect::get_lib_version;
    203 CONNECT_GET_SYSINFO "virConnectGetSysinfo" Read Normal Open => connect::get_sysinfo;
    227 NODE_GET_CPU_STATS "virNodeGetCPUStats" Read Inline Open => host::node_get_cpu_stats;
    228 NODE_GET_MEMORY_STATS "virNodeGetMemoryStats" Read Inline Open => host::node_get_memory_stats;
    293 NODE_GET_CPU_MAP "virNodeGetCPUMap" Read Inline Open => host::node_get_cpu_map;
    360 CONNECT_REGISTER_CLOSE_CALLBACK "virConnectRegisterCloseCallback" Read Inline Open => connect::register_close_callback;
    361 CONNECT_UNREGISTER_CLOSE_CALLBACK "virConnectUnregisterCloseCallback" Read Inline Open => connect::unregister_close_callback;
}

/// The procedure with this number.
pub fn lookup(number: i32) -> Option<&'static Procedure> {
    static INDEX: OnceLock<Vec<Option<&'static Procedure>>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let max = PROCEDURES.iter().map(|p| p.number).max().unwrap_or(0);
        let mut v = vec![None; max as usize + 1];
        for p in PROCEDURES {
            v[p.number as usize] = Some(p);
        }
        v
    });
    usize::try_from(number).ok().and_then(|n| *index.get(n)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in PROCEDURES.windows(2) {
            assert!(w[0].number < w[1].number, "{} / {}", w[0].name, w[1].name);
        }
        assert!(PROCEDURES.iter().all(|p| p.number > 0));
    }

    #[test]
    fn lookup_finds_each_and_nothing_else() {
        for p in PROCEDURES {
            assert_eq!(lookup(p.number).map(|q| q.name), Some(p.name));
        }
        assert!(lookup(0).is_none());
        assert!(lookup(-1).is_none());
        assert!(lookup(100_000).is_none());
    }

    #[test]
    fn apis_are_public_names() {
        for p in PROCEDURES {
            assert!(p.api.starts_with("vir"), "{}", p.name);
        }
    }
}

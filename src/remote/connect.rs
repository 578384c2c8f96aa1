//! Handlers of the connection procedures: auth, open/close, features,
//! identity of the driver and the host.

use super::protocol::*;
use super::Call;
use crate::error::{ErrorDomain, VirError, VirResult};
use crate::rpc::xdr::Bounded;

/// VIR_DRV_FEATURE_* numbers the daemon answers itself.
mod feature {
    pub const FD_PASSING: i32 = 8;
    pub const TYPED_PARAM_STRING: i32 = 9;
    pub const PROGRAM_KEEPALIVE: i32 = 10;
    pub const REMOTE_EVENT_CALLBACK: i32 = 14;
    pub const REMOTE_CLOSE_CALLBACK: i32 = 15;
}

/// AUTH_LIST: the sockets use auth "none".
pub fn auth_list(_: &Call, _: ()) -> VirResult<Bounded<i32, AUTH_TYPE_LIST_MAX>> {
    Ok(Bounded(vec![0]))
}

/// CONNECT_SUPPORTS_FEATURE: only what this daemon really does.
pub fn supports_feature(call: &Call, a: SupportsFeatureArgs) -> VirResult<i32> {
    // PROGRAM_KEEPALIVE is the one feature a client may ask about before
    // CONNECT_OPEN (the remote driver does, right after AUTH_LIST); asking
    // also tells us the client can answer our PINGs.
    if a.feature == feature::PROGRAM_KEEPALIVE {
        call.client.enable_keepalive();
        return Ok(1);
    }
    call.conn()?;
    Ok(match a.feature {
        feature::TYPED_PARAM_STRING
        | feature::REMOTE_EVENT_CALLBACK
        | feature::REMOTE_CLOSE_CALLBACK => 1,
        // We take no descriptors; migration arrives with its issue.
        feature::FD_PASSING => 0,
        _ => 0,
    })
}

/// CONNECT_OPEN
pub fn open(call: &Call, a: ConnectOpenArgs) -> VirResult<()> {
    let mut slot = call.session.conn.write();
    if slot.is_some() {
        return Err(VirError::internal(
            ErrorDomain::Rpc,
            "connection already open",
        ));
    }
    // The RO open flag, or arrival on a read-only socket.
    let readonly = a.flags & 1 != 0 || call.client.readonly_socket;
    let conn = call.remote.driver.open(a.name.as_deref(), readonly)?;
    log::debug!(
        "client {} opened {}{}",
        call.client.id,
        conn.uri(),
        if readonly { " read-only" } else { "" }
    );
    *slot = Some(std::sync::Arc::new(conn));
    Ok(())
}

/// CONNECT_CLOSE: the reply goes out, then the socket closes.
pub fn close(call: &Call, _: ()) -> VirResult<()> {
    call.session.conn.write().take();
    call.client.close_after_flush();
    Ok(())
}

/// CONNECT_GET_TYPE
pub fn get_type(call: &Call, _: ()) -> VirResult<&'static str> {
    Ok(call.conn()?.get_type())
}

/// CONNECT_GET_VERSION
pub fn get_version(call: &Call, _: ()) -> VirResult<u64> {
    call.conn()?.version()
}

/// CONNECT_GET_LIB_VERSION
pub fn get_lib_version(_: &Call, _: ()) -> VirResult<u64> {
    Ok(crate::LIBVIRT_VERSION)
}

/// CONNECT_GET_MAX_VCPUS
pub fn get_max_vcpus(call: &Call, a: GetMaxVcpusArgs) -> VirResult<i32> {
    call.conn()?.max_vcpus(a.r#type.as_deref())
}

/// CONNECT_GET_HOSTNAME
pub fn get_hostname(call: &Call, _: ()) -> VirResult<String> {
    Ok(call.conn()?.driver().host().hostname())
}

/// CONNECT_GET_URI (also on a lost connection: virsh asks for it in its
/// close callback)
pub fn get_uri(call: &Call, _: ()) -> VirResult<String> {
    Ok(call.conn_any()?.uri().to_string())
}

/// CONNECT_IS_SECURE: a local UNIX socket is secure.
pub fn is_secure(_: &Call, _: ()) -> VirResult<i32> {
    Ok(1)
}

/// CONNECT_GET_CAPABILITIES
pub fn get_capabilities(call: &Call, _: ()) -> VirResult<String> {
    call.conn()?.capabilities()
}

/// CONNECT_GET_SYSINFO
pub fn get_sysinfo(call: &Call, a: FlagsArgs) -> VirResult<String> {
    let conn = call.conn()?;
    if a.flags != 0 {
        return Err(VirError::unsupported_flags(
            ErrorDomain::Parallels,
            a.flags.into(),
            "vzConnectGetSysinfo",
        ));
    }
    conn.driver().host().sysinfo_xml()
}

/// CONNECT_BASELINE_CPU (EXPAND_FEATURES, as libvirt's vz driver)
pub fn baseline_cpu(call: &Call, a: BaselineCpuArgs) -> VirResult<String> {
    call.conn()?;
    let expand = crate::vz::cpu::EXPAND_FEATURES;
    if a.flags & !expand != 0 {
        return Err(VirError::unsupported_flags(
            ErrorDomain::Parallels,
            (a.flags & !expand).into(),
            "vzConnectBaselineCPU",
        ));
    }
    crate::vz::cpu::baseline(&a.xml_cpus.0)
}

/// CONNECT_REGISTER_CLOSE_CALLBACK: one per connection (a second is refused
/// as the vz driver refuses it); it fires (CONNECT_EVENT_CONNECTION_CLOSED,
/// reason EOF) when the driver loses the Virtuozzo host.
pub fn register_close_callback(call: &Call, _: ()) -> VirResult<()> {
    call.conn()?;
    if call.session.set_close_callback(true) {
        return Err(VirError::new(
            crate::error::ErrorCode::OperationInvalid,
            ErrorDomain::Parallels,
            "A close callback is already registered",
        ));
    }
    call.remote.close_callbacks.set(call.client, true);
    Ok(())
}

/// CONNECT_UNREGISTER_CLOSE_CALLBACK (also on a lost connection: virsh
/// unregisters before it reconnects)
pub fn unregister_close_callback(call: &Call, _: ()) -> VirResult<()> {
    call.conn_any()?;
    if !call.session.set_close_callback(false) {
        return Err(VirError::new(
            crate::error::ErrorCode::OperationInvalid,
            ErrorDomain::Parallels,
            "A different callback was requested",
        ));
    }
    call.remote.close_callbacks.set(call.client, false);
    Ok(())
}

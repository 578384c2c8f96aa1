//! The embedded Virtuozzo host behind the SDK's C ABI: the same functions,
//! signatures and calling model as `libprl_sdk.so.7` (handles, jobs,
//! results, buffer-size string protocol), backed by `host`'s store.
//!
//! Every function checks its pointers and handles before use: a null
//! pointer is PRL_ERR_INVALID_ARG, a dead or mistyped handle
//! PRL_ERR_INVALID_HANDLE.
//!
//! # Safety
//!
//! The contract of every function here is the SDK's own: each pointer
//! argument is null or valid for what the SDK documents (out-pointers for
//! one value, string buffers for the stated length, NUL-terminated input
//! strings). One statement for all of them rather than one per function.

#![allow(non_snake_case, clippy::missing_safety_doc)]

pub mod devices;
pub mod entry;
pub mod faults;
pub mod handles;
pub mod host;
pub mod index;

pub use devices::*;

use crate::sdk::abi::{err::*, *};
use handles::{new_handle, Job, Object, VmHandle};
use host::{Action, Fail, Guest};
use parking_lot::Mutex;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Stores `v` through `p`.
///
/// # Safety
/// `p` must be null or valid for a write of `T`.
unsafe fn out<T>(p: *mut T, v: T) -> PRL_RESULT {
    if p.is_null() {
        return PRL_ERR_INVALID_ARG;
    }
    // SAFETY: non-null and, by the caller's contract, valid for writes.
    unsafe { p.write(v) };
    PRL_ERR_SUCCESS
}

/// The SDK's string-getter protocol: the size needed (with the NUL) is
/// stored in `*len`; the string is copied when `buf` has room.
///
/// # Safety
/// `len` must be null or valid; `buf` null or valid for `*len` bytes.
unsafe fn put_str(s: &str, buf: PRL_STR, len: *mut u32) -> PRL_RESULT {
    if len.is_null() {
        return PRL_ERR_INVALID_ARG;
    }
    let need = s.len() + 1;
    // SAFETY: len is non-null and valid per the contract.
    let have = unsafe { *len } as usize;
    // SAFETY: as above.
    unsafe { *len = need as u32 };
    if buf.is_null() {
        return if have == 0 {
            PRL_ERR_SUCCESS
        } else {
            PRL_ERR_INVALID_ARG
        };
    }
    if have < need {
        return PRL_ERR_BUFFER_OVERRUN;
    }
    // SAFETY: buf holds at least `have` >= need bytes; s is need-1 bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, s.len());
        *buf.add(s.len()) = 0;
    }
    PRL_ERR_SUCCESS
}

/// A C string argument as Rust text.
///
/// # Safety
/// `p` must be null or a NUL-terminated string.
unsafe fn text(p: PRL_CONST_STR) -> Result<String, PRL_RESULT> {
    if p.is_null() {
        return Err(PRL_ERR_INVALID_ARG);
    }
    // SAFETY: non-null and NUL-terminated per the contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map(str::to_string)
        .map_err(|_| PRL_ERR_INVALID_ARG)
}

fn object(h: PRL_HANDLE) -> Result<Arc<Object>, PRL_RESULT> {
    handles::get(h).ok_or(PRL_ERR_INVALID_HANDLE)
}

fn with_vm<R>(h: PRL_HANDLE, f: impl FnOnce(&VmHandle) -> R) -> Result<R, PRL_RESULT> {
    match &*object(h)? {
        Object::Vm(v) => Ok(f(v)),
        _ => Err(PRL_ERR_INVALID_HANDLE),
    }
}

fn rc(r: Result<PRL_RESULT, PRL_RESULT>) -> PRL_RESULT {
    r.unwrap_or_else(|e| e)
}

/// Starts a job that runs `work` on the host's dispatcher thread.
fn job(work: impl FnOnce() -> Result<Vec<Arc<Object>>, Fail> + Send + 'static) -> PRL_HANDLE {
    let j = Arc::new(Object::Job(Job::default()));
    let h = new_handle(Arc::clone(&j));
    let finish = move |r: Result<Vec<Arc<Object>>, Fail>| {
        if let Object::Job(job) = &*j {
            match r {
                Ok(params) => job.finish(PRL_ERR_SUCCESS, String::new(), params),
                Err((code, msg)) => job.finish(code, msg, Vec::new()),
            }
        }
    };
    match host::host() {
        Some(host) => host.dispatch(move || finish(work())),
        None => finish(Err((
            PRL_ERR_INVALID_ARG,
            "the SDK is not initialised".into(),
        ))),
    }
    h
}

/// A job that has already finished with `code` (and `message` when it
/// failed).
pub(crate) fn finished_job(code: PRL_RESULT, message: String) -> PRL_HANDLE {
    let j = Job::default();
    j.finish(code, message, Vec::new());
    new_handle(Arc::new(Object::Job(j)))
}

/// A job that never finishes by itself (only PrlJob_Cancel or a lost
/// connection end it): the fault injection's hung call.
pub(crate) fn hung_job() -> (PRL_HANDLE, Arc<Object>) {
    let j = Arc::new(Object::Job(Job::default()));
    (new_handle(Arc::clone(&j)), j)
}

pub(super) fn running_host() -> Result<Arc<host::Host>, Fail> {
    host::host().ok_or((
        PRL_ERR_INVALID_ARG,
        "the SDK is not initialised".to_string(),
    ))
}

/// The dispatcher connection the embedded host serves: a new number each
/// time it is lost, so every handle of the lost session fails from then on
/// and a new login gets the new one.
static SESSION: AtomicU64 = AtomicU64::new(1);

/// The current dispatcher session.
pub fn session() -> u64 {
    SESSION.load(Ordering::Acquire)
}

/// Loses the dispatcher connection (fault injection): the logged-in
/// sessions end, their event handlers get PET_DSP_EVT_DISP_CONNECTION_CLOSED
/// and their jobs fail; the next login opens a new session.
pub fn drop_connection() {
    let lost = SESSION.fetch_add(1, Ordering::AcqRel);
    log::warn!("embedded host: the dispatcher connection (session {lost}) is lost");
    faults::end_hung_jobs(no_connection());
    if let Some(h) = host::host() {
        h.connection_closed(lost);
    }
}

pub(crate) fn no_connection() -> Fail {
    (
        PRL_ERR_IO_NO_CONNECTION,
        "The connection to the Virtuozzo dispatcher is lost.".to_string(),
    )
}

/// The session of a logged-in server handle, if it is still connected.
fn server_session(h: PRL_HANDLE) -> Result<u64, Fail> {
    match handles::get(h).as_deref() {
        Some(Object::Server(s)) => match *s.session.lock() {
            Some(n) if n == session() => Ok(n),
            _ => Err(no_connection()),
        },
        _ => Err((PRL_ERR_INVALID_HANDLE, "not a server handle".to_string())),
    }
}

fn live_session(v: &VmHandle) -> Result<(), Fail> {
    if v.session == session() {
        Ok(())
    } else {
        Err(no_connection())
    }
}

/// A job on the guest behind a handle: `work` gets the guest handle and
/// the host on the dispatcher thread.
fn guest_job(
    h: PRL_HANDLE,
    work: impl FnOnce(&VmHandle, &host::Host) -> Result<(), Fail> + Send + 'static,
) -> PRL_HANDLE {
    let obj = object(h);
    job(move || {
        let obj = obj.map_err(|e| (e, "invalid guest handle".to_string()))?;
        let Object::Vm(v) = &*obj else {
            return Err((PRL_ERR_INVALID_HANDLE, "not a guest handle".into()));
        };
        live_session(v)?;
        let host = running_host()?;
        work(v, &host).map(|()| Vec::new())
    })
}

/// The UUID of the guest behind a handle of the current session.
fn vm_uuid(h: PRL_HANDLE) -> Result<String, Fail> {
    with_vm(h, |v| live_session(v).map(|()| v.uuid.lock().clone()))
        .map_err(|e| (e, "invalid guest handle".to_string()))?
}

fn vm_job(h: PRL_HANDLE, action: Action) -> PRL_HANDLE {
    let uuid = vm_uuid(h);
    job(move || {
        let uuid = uuid?;
        let host = running_host()?;
        host.act(&uuid, action).map(|()| Vec::new())
    })
}

/// Whether the SDK prints its log on the console (PrlApi_SwitchConsoleLogging).
static CONSOLE_LOGGING: AtomicBool = AtomicBool::new(true);

/// Whether console logging is on.
pub fn console_logging() -> bool {
    CONSOLE_LOGGING.load(Ordering::Relaxed)
}

/// PrlApi_InitEx: refuses an API version newer than the one it serves.
pub unsafe extern "C" fn PrlApi_InitEx(
    version: PRL_UINT32,
    _app_mode: PRL_ENUM,
    _flags: PRL_UINT32,
    _reserved: PRL_UINT32,
) -> PRL_RESULT {
    // The top three bits carry a sequence number, not the version.
    if version & !0xE000_0000 > VIRTUOZZO_API_VER {
        log::error!("embedded host: API version {version:#x} is newer than {VIRTUOZZO_API_VER:#x}");
        return PRL_ERR_API_INCOMPATIBLE;
    }
    match host::init() {
        Ok(()) => PRL_ERR_SUCCESS,
        Err((code, msg)) => {
            log::error!("embedded host: {msg}");
            code
        }
    }
}

/// PrlApi_Deinit
pub unsafe extern "C" fn PrlApi_Deinit() -> PRL_RESULT {
    host::deinit();
    PRL_ERR_SUCCESS
}

/// PrlApi_SwitchConsoleLogging
pub unsafe extern "C" fn PrlApi_SwitchConsoleLogging(on: PRL_BOOL) -> PRL_RESULT {
    CONSOLE_LOGGING.store(on != 0, Ordering::Relaxed);
    PRL_ERR_SUCCESS
}

/// PrlSrv_Create
pub unsafe extern "C" fn PrlSrv_Create(handle: PRL_HANDLE_PTR) -> PRL_RESULT {
    let server = Object::Server(handles::ServerHandle::default());
    // SAFETY: the caller passes a valid out-pointer or null.
    unsafe { out(handle, new_handle(Arc::new(server))) }
}

/// PrlSrv_LoginLocalEx (job; result: a login response): the server handle
/// joins the current dispatcher session.
pub unsafe extern "C" fn PrlSrv_LoginLocalEx(
    hServer: PRL_HANDLE,
    _prev_session: PRL_CONST_STR,
    _port: PRL_UINT32,
    _security: PRL_ENUM,
    _flags: PRL_UINT32,
) -> PRL_HANDLE {
    let server = handles::get(hServer);
    job(move || {
        let Some(Object::Server(s)) = server.as_deref() else {
            return Err((PRL_ERR_INVALID_HANDLE, "not a server handle".into()));
        };
        *s.session.lock() = Some(session());
        Ok(vec![Arc::new(Object::LoginResponse(host::new_uuid()))])
    })
}

/// PrlSrv_Logoff (job)
pub unsafe extern "C" fn PrlSrv_Logoff(hServer: PRL_HANDLE) -> PRL_HANDLE {
    let server = handles::get(hServer);
    job(move || match server.as_deref() {
        Some(Object::Server(s)) => {
            s.session.lock().take();
            Ok(Vec::new())
        }
        _ => Err((PRL_ERR_INVALID_HANDLE, "not a server handle".into())),
    })
}

/// PrlLoginResponse_GetSessionUuid
pub unsafe extern "C" fn PrlLoginResponse_GetSessionUuid(
    h: PRL_HANDLE,
    buf: PRL_STR,
    len: *mut PRL_UINT32,
) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        // SAFETY: buffer contract passed through from the caller.
        Object::LoginResponse(s) => unsafe { put_str(s, buf, len) },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

fn vm_object(g: Guest, session: u64) -> Arc<Object> {
    Arc::new(Object::Vm(Box::new(VmHandle {
        session,
        uuid: Mutex::new(g.uuid.clone()),
        config: Mutex::new(g),
    })))
}

/// PrlSrv_GetVmListEx (job; result: one guest handle per guest)
pub unsafe extern "C" fn PrlSrv_GetVmListEx(hServer: PRL_HANDLE, flags: PRL_UINT32) -> PRL_HANDLE {
    let session = server_session(hServer);
    job(move || {
        let session = session?;
        let host = running_host()?;
        let want_vm = flags & PVTF_VM != 0 || flags & (PVTF_VM | PVTF_CT) == 0;
        let want_ct = flags & PVTF_CT != 0 || flags & (PVTF_VM | PVTF_CT) == 0;
        Ok(host
            .list()
            .into_iter()
            .filter(|g| (g.vm_type == PVT_VM && want_vm) || (g.vm_type == PVT_CT && want_ct))
            .map(|g| vm_object(g, session))
            .collect())
    })
}

/// PrlSrv_GetVmConfig (job; result: the guest's handle): one guest by
/// UUID (braced or not), so a change to one guest costs one guest.
pub unsafe extern "C" fn PrlSrv_GetVmConfig(
    hServer: PRL_HANDLE,
    id: PRL_CONST_STR,
    _flags: PRL_UINT32,
) -> PRL_HANDLE {
    let session = server_session(hServer);
    // SAFETY: C string from the caller.
    let id = unsafe { text(id) };
    job(move || {
        let session = session?;
        let id = id.map_err(|e| (e, "a guest id is required".to_string()))?;
        let braced = if id.starts_with('{') {
            id
        } else {
            format!("{{{id}}}")
        };
        Ok(vec![vm_object(
            running_host()?.guest_any_case(&braced)?,
            session,
        )])
    })
}

/// PrlSrv_CreateVm: a new, unregistered virtual machine handle.
pub unsafe extern "C" fn PrlSrv_CreateVm(hServer: PRL_HANDLE, phVm: PRL_HANDLE_PTR) -> PRL_RESULT {
    // A handle made while disconnected is born stale, as its jobs would be.
    let session = server_session(hServer).unwrap_or(0);
    let g = Guest {
        vm_type: PVT_VM,
        ram_mb: 512,
        cpus: 1,
        ..Guest::default()
    };
    // SAFETY: out-pointer from the caller.
    unsafe { out(phVm, new_handle(vm_object(g, session))) }
}

/// PrlSrv_GetSrvConfig (job; result: the host configuration)
pub unsafe extern "C" fn PrlSrv_GetSrvConfig(hServer: PRL_HANDLE) -> PRL_HANDLE {
    let session = server_session(hServer);
    job(move || {
        session?;
        Ok(vec![Arc::new(Object::ServerConfig)])
    })
}

/// The memory of a `vswap.<N>MB` / `vswap.<N>GB` configuration sample.
fn sample_ram_mb(sample: &str) -> Option<u32> {
    let size = sample.strip_prefix("vswap.")?;
    let (n, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = n.parse().ok()?;
    match unit {
        "MB" => Some(n),
        "GB" => n.checked_mul(1024),
        _ => None,
    }
}

/// PrlSrv_GetDefaultVmConfig (job; result: a new, unregistered guest
/// handle configured from the sample the parameter names).
pub unsafe extern "C" fn PrlSrv_GetDefaultVmConfig(
    hServer: PRL_HANDLE,
    param: *const PRL_GET_VM_CONFIG_PARAM_DATA,
    _flags: PRL_UINT32,
) -> PRL_HANDLE {
    if param.is_null() {
        return finished_job(PRL_ERR_INVALID_ARG, "no configuration parameters".into());
    }
    // SAFETY: non-null and, by the SDK's contract, a valid (packed) struct.
    let p = unsafe { std::ptr::read_unaligned(param) };
    let sample = if p.config_sample.is_null() {
        Ok(String::new())
    } else {
        // SAFETY: a C string from the caller.
        unsafe { text(p.config_sample) }
    };
    let (vm_type, session) = (p.vm_type, server_session(hServer));
    job(move || {
        let session = session?;
        let sample = sample.map_err(|e| (e, "invalid configuration sample".to_string()))?;
        let g = match vm_type {
            PVT_CT => Guest {
                vm_type: PVT_CT,
                ram_mb: sample_ram_mb(&sample).ok_or_else(|| {
                    (
                        PRL_ERR_ENTRY_DOES_NOT_EXIST,
                        format!("The configuration sample '{sample}' does not exist."),
                    )
                })?,
                cpus: 1,
                ..Guest::default()
            },
            PVT_VM => Guest {
                vm_type: PVT_VM,
                ram_mb: 1024,
                cpus: 2,
                video_ram_mb: 32,
                ..Guest::default()
            },
            t => return Err((PRL_ERR_INVALID_ARG, format!("unknown guest type {t}"))),
        };
        Ok(vec![vm_object(g, session)])
    })
}

/// PrlVmCfg_SetDefaultConfig: the defaults of a new virtual machine for
/// an OS version, from the host configuration (no default devices: the
/// driver adds its own, as libvirt does).
pub unsafe extern "C" fn PrlVmCfg_SetDefaultConfig(
    hVm: PRL_HANDLE,
    hSrvConfig: PRL_HANDLE,
    _os_version: PRL_UINT32,
    create_devices: PRL_BOOL,
) -> PRL_RESULT {
    if !matches!(
        handles::get(hSrvConfig).as_deref(),
        Some(Object::ServerConfig)
    ) {
        return PRL_ERR_INVALID_ARG;
    }
    if create_devices != 0 {
        log::warn!("embedded host: PrlVmCfg_SetDefaultConfig cannot create default devices");
        return PRL_ERR_UNIMPLEMENTED;
    }
    rc(with_vm(hVm, |v| {
        let mut g = v.config.lock();
        g.vm_type = PVT_VM;
        g.ram_mb = 1024;
        g.cpus = 2;
        g.video_ram_mb = 32;
        PRL_ERR_SUCCESS
    }))
}

/// PrlVmCfg_SetOfflineManagementEnabled
pub unsafe extern "C" fn PrlVmCfg_SetOfflineManagementEnabled(
    hVm: PRL_HANDLE,
    on: PRL_BOOL,
) -> PRL_RESULT {
    rc(with_vm(hVm, |v| {
        v.config.lock().offline_management = on != 0;
        PRL_ERR_SUCCESS
    }))
}

/// PrlJob_Wait
pub unsafe extern "C" fn PrlJob_Wait(hJob: PRL_HANDLE, msecs: PRL_UINT32) -> PRL_RESULT {
    rc(object(hJob).map(|o| match &*o {
        Object::Job(j) => {
            let deadline = Instant::now() + Duration::from_millis(msecs.into());
            let mut s = j.state.lock();
            while !s.done {
                if j.cv.wait_until(&mut s, deadline).timed_out() && !s.done {
                    return PRL_ERR_TIMEOUT;
                }
            }
            PRL_ERR_SUCCESS
        }
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlJob_Cancel (job): a job still running ends with
/// PRL_ERR_OPERATION_WAS_CANCELED (its work, if already under way on the
/// dispatcher, may still complete).
pub unsafe extern "C" fn PrlJob_Cancel(hJob: PRL_HANDLE) -> PRL_HANDLE {
    match handles::get(hJob).as_deref() {
        Some(Object::Job(j)) => {
            j.finish(
                PRL_ERR_OPERATION_WAS_CANCELED,
                "The operation was cancelled.".into(),
                Vec::new(),
            );
            finished_job(PRL_ERR_SUCCESS, String::new())
        }
        _ => finished_job(PRL_ERR_INVALID_HANDLE, "not a job handle".into()),
    }
}

fn with_job<R>(h: PRL_HANDLE, f: impl FnOnce(&handles::JobState) -> R) -> Result<R, PRL_RESULT> {
    match &*object(h)? {
        Object::Job(j) => Ok(f(&j.state.lock())),
        _ => Err(PRL_ERR_INVALID_HANDLE),
    }
}

/// PrlJob_GetRetCode
pub unsafe extern "C" fn PrlJob_GetRetCode(
    hJob: PRL_HANDLE,
    retcode: *mut PRL_RESULT,
) -> PRL_RESULT {
    // SAFETY: out-pointer from the caller.
    rc(with_job(hJob, |s| {
        if !s.done {
            return PRL_ERR_NO_DATA;
        }
        unsafe { out(retcode, s.rc) }
    }))
}

/// PrlJob_GetError: an error event describing a failed job.
pub unsafe extern "C" fn PrlJob_GetError(hJob: PRL_HANDLE, phError: PRL_HANDLE_PTR) -> PRL_RESULT {
    rc(with_job(hJob, |s| {
        if !s.done || s.rc == PRL_ERR_SUCCESS {
            return PRL_ERR_NO_DATA;
        }
        let h = new_handle(Arc::new(Object::Error(s.rc, s.error.clone())));
        // SAFETY: out-pointer from the caller.
        unsafe { out(phError, h) }
    }))
}

/// PrlJob_GetResult
pub unsafe extern "C" fn PrlJob_GetResult(hJob: PRL_HANDLE, handle: PRL_HANDLE_PTR) -> PRL_RESULT {
    rc(with_job(hJob, |s| {
        if !s.done {
            return PRL_ERR_NO_DATA;
        }
        let h = new_handle(Arc::new(Object::Result(s.params.clone())));
        // SAFETY: out-pointer from the caller.
        unsafe { out(handle, h) }
    }))
}

fn with_result<R>(h: PRL_HANDLE, f: impl FnOnce(&[Arc<Object>]) -> R) -> Result<R, PRL_RESULT> {
    match &*object(h)? {
        Object::Result(p) => Ok(f(p)),
        _ => Err(PRL_ERR_INVALID_HANDLE),
    }
}

/// PrlResult_GetParamsCount
pub unsafe extern "C" fn PrlResult_GetParamsCount(
    h: PRL_HANDLE,
    count: *mut PRL_UINT32,
) -> PRL_RESULT {
    // SAFETY: out-pointer from the caller.
    rc(with_result(h, |p| unsafe { out(count, p.len() as u32) }))
}

/// PrlResult_GetParamByIndex
pub unsafe extern "C" fn PrlResult_GetParamByIndex(
    h: PRL_HANDLE,
    index: PRL_UINT32,
    phParam: PRL_HANDLE_PTR,
) -> PRL_RESULT {
    rc(with_result(h, |p| match p.get(index as usize) {
        // SAFETY: out-pointer from the caller.
        Some(o) => unsafe { out(phParam, new_handle(Arc::clone(o))) },
        None => PRL_ERR_INVALID_ARG,
    }))
}

/// PrlResult_GetParam: the first parameter.
pub unsafe extern "C" fn PrlResult_GetParam(h: PRL_HANDLE, phParam: PRL_HANDLE_PTR) -> PRL_RESULT {
    // SAFETY: forwarded contract.
    unsafe { PrlResult_GetParamByIndex(h, 0, phParam) }
}

/// PrlEvent_GetErrCode
pub unsafe extern "C" fn PrlEvent_GetErrCode(h: PRL_HANDLE, code: *mut PRL_RESULT) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        // SAFETY: out-pointer from the caller.
        Object::Error(c, _) => unsafe { out(code, *c) },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlEvent_GetErrString
pub unsafe extern "C" fn PrlEvent_GetErrString(
    h: PRL_HANDLE,
    _brief: PRL_BOOL,
    _formatted: PRL_BOOL,
    buf: PRL_STR,
    len: *mut PRL_UINT32,
) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        // SAFETY: buffer contract passed through from the caller.
        Object::Error(_, s) => unsafe { put_str(s, buf, len) },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlHandle_Free
pub unsafe extern "C" fn PrlHandle_Free(h: PRL_HANDLE) -> PRL_RESULT {
    if handles::free(h) {
        PRL_ERR_SUCCESS
    } else {
        PRL_ERR_INVALID_HANDLE
    }
}

/// PrlHandle_AddRef
pub unsafe extern "C" fn PrlHandle_AddRef(h: PRL_HANDLE) -> PRL_RESULT {
    if handles::add_ref(h) {
        PRL_ERR_SUCCESS
    } else {
        PRL_ERR_INVALID_HANDLE
    }
}

/// PrlHandle_GetType
pub unsafe extern "C" fn PrlHandle_GetType(h: PRL_HANDLE, t: *mut PRL_ENUM) -> PRL_RESULT {
    // SAFETY: out-pointer from the caller.
    rc(object(h).map(|o| unsafe { out(t, o.handle_type()) }))
}

/// PrlVm_GetState (job; result: a VM info handle)
pub unsafe extern "C" fn PrlVm_GetState(hVm: PRL_HANDLE) -> PRL_HANDLE {
    let uuid = vm_uuid(hVm);
    job(move || {
        let host = running_host()?;
        let g = host.guest(&uuid?)?;
        Ok(vec![Arc::new(Object::VmInfo(g.state))])
    })
}

/// PrlVmInfo_GetState
pub unsafe extern "C" fn PrlVmInfo_GetState(h: PRL_HANDLE, state: *mut PRL_ENUM) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        // SAFETY: out-pointer from the caller.
        Object::VmInfo(s) => unsafe { out(state, *s) },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlVm_StartEx (job)
pub unsafe extern "C" fn PrlVm_StartEx(
    hVm: PRL_HANDLE,
    _mode: PRL_UINT32,
    _r: PRL_UINT32,
) -> PRL_HANDLE {
    vm_job(hVm, Action::Start)
}

/// PrlVm_StopEx (job)
pub unsafe extern "C" fn PrlVm_StopEx(
    hVm: PRL_HANDLE,
    _mode: PRL_UINT32,
    _flags: PRL_UINT32,
) -> PRL_HANDLE {
    vm_job(hVm, Action::Stop)
}

/// PrlVm_Pause (job)
pub unsafe extern "C" fn PrlVm_Pause(hVm: PRL_HANDLE, _acpi: PRL_BOOL) -> PRL_HANDLE {
    vm_job(hVm, Action::Pause)
}

/// PrlVm_Resume (job)
pub unsafe extern "C" fn PrlVm_Resume(hVm: PRL_HANDLE) -> PRL_HANDLE {
    vm_job(hVm, Action::Resume)
}

/// PrlVm_Suspend (job)
pub unsafe extern "C" fn PrlVm_Suspend(hVm: PRL_HANDLE) -> PRL_HANDLE {
    vm_job(hVm, Action::Suspend)
}

/// PrlVm_DropSuspendedState (job)
pub unsafe extern "C" fn PrlVm_DropSuspendedState(hVm: PRL_HANDLE) -> PRL_HANDLE {
    vm_job(hVm, Action::DropSuspended)
}

/// PrlVm_Restart (job)
pub unsafe extern "C" fn PrlVm_Restart(hVm: PRL_HANDLE) -> PRL_HANDLE {
    vm_job(hVm, Action::Restart)
}

/// PrlVm_Reset (job)
pub unsafe extern "C" fn PrlVm_Reset(hVm: PRL_HANDLE) -> PRL_HANDLE {
    vm_job(hVm, Action::Reset)
}

/// PrlVm_RefreshConfig (job): reloads the handle's configuration.
pub unsafe extern "C" fn PrlVm_RefreshConfig(hVm: PRL_HANDLE) -> PRL_HANDLE {
    guest_job(hVm, |v, host| {
        let uuid = v.uuid.lock().clone();
        *v.config.lock() = host.guest(&uuid)?;
        Ok(())
    })
}

/// PrlVm_BeginEdit (job): starts an edit of the handle's configuration.
pub unsafe extern "C" fn PrlVm_BeginEdit(hVm: PRL_HANDLE) -> PRL_HANDLE {
    // SAFETY: forwarded contract.
    unsafe { PrlVm_RefreshConfig(hVm) }
}

/// PrlVm_CommitEx (job): stores the edited configuration.
pub unsafe extern "C" fn PrlVm_CommitEx(hVm: PRL_HANDLE, _flags: PRL_UINT32) -> PRL_HANDLE {
    guest_job(hVm, |v, host| {
        let uuid = v.uuid.lock().clone();
        let cfg = v.config.lock().clone();
        *v.config.lock() = host.commit(&uuid, &cfg)?;
        Ok(())
    })
}

/// Registers the guest behind a new handle (PrlVm_Reg, PrlVm_RegEx).
fn register_job(hVm: PRL_HANDLE) -> PRL_HANDLE {
    guest_job(hVm, |v, host| {
        if !v.uuid.lock().is_empty() {
            return Err((
                PRL_ERR_VM_ALREADY_REGISTERED,
                "The virtual machine is already registered.".into(),
            ));
        }
        let g = host.register(v.config.lock().clone())?;
        *v.uuid.lock() = g.uuid.clone();
        *v.config.lock() = g;
        Ok(())
    })
}

/// PrlVm_Reg (job): registers a virtual machine made by PrlSrv_CreateVm.
pub unsafe extern "C" fn PrlVm_Reg(
    hVm: PRL_HANDLE,
    _parent_path: PRL_CONST_STR,
    _non_interactive: PRL_BOOL,
) -> PRL_HANDLE {
    register_job(hVm)
}

/// PrlVm_RegEx (job): registers a guest (libvirt's way for containers
/// made by PrlSrv_GetDefaultVmConfig); the embedded host keeps no disk of
/// its own, so PRNVM_PRESERVE_DISK changes nothing.
pub unsafe extern "C" fn PrlVm_RegEx(
    hVm: PRL_HANDLE,
    _parent_path: PRL_CONST_STR,
    _flags: PRL_UINT32,
) -> PRL_HANDLE {
    register_job(hVm)
}

/// PrlVm_Delete (job)
pub unsafe extern "C" fn PrlVm_Delete(hVm: PRL_HANDLE, _devices: PRL_HANDLE) -> PRL_HANDLE {
    let uuid = vm_uuid(hVm);
    job(move || {
        let host = running_host()?;
        host.delete(&uuid?).map(|()| Vec::new())
    })
}

macro_rules! cfg_str {
    ($get:ident, $set:ident, $field:ident) => {
        /// String getter of the guest configuration.
        pub unsafe extern "C" fn $get(
            h: PRL_HANDLE,
            buf: PRL_STR,
            len: *mut PRL_UINT32,
        ) -> PRL_RESULT {
            let s = match with_vm(h, |v| v.config.lock().$field.clone()) {
                Ok(s) => s,
                Err(e) => return e,
            };
            // SAFETY: buffer contract passed through from the caller.
            unsafe { put_str(&s, buf, len) }
        }
        /// String setter of the guest configuration.
        pub unsafe extern "C" fn $set(h: PRL_HANDLE, value: PRL_CONST_STR) -> PRL_RESULT {
            // SAFETY: C string from the caller.
            let v = match unsafe { text(value) } {
                Ok(v) => v,
                Err(e) => return e,
            };
            rc(with_vm(h, |vm| {
                vm.config.lock().$field = v;
                PRL_ERR_SUCCESS
            }))
        }
    };
}

macro_rules! cfg_u32 {
    ($get:ident, $set:ident, $field:ident) => {
        /// Integer getter of the guest configuration.
        pub unsafe extern "C" fn $get(h: PRL_HANDLE, value: *mut PRL_UINT32) -> PRL_RESULT {
            // SAFETY: out-pointer from the caller.
            rc(with_vm(h, |v| unsafe {
                out(value, v.config.lock().$field)
            }))
        }
        /// Integer setter of the guest configuration.
        pub unsafe extern "C" fn $set(h: PRL_HANDLE, value: PRL_UINT32) -> PRL_RESULT {
            rc(with_vm(h, |v| {
                v.config.lock().$field = value;
                PRL_ERR_SUCCESS
            }))
        }
    };
}

cfg_str!(PrlVmCfg_GetName, PrlVmCfg_SetName, name);
cfg_str!(PrlVmCfg_GetUuid, PrlVmCfg_SetUuid, uuid);
cfg_str!(
    PrlVmCfg_GetDescription,
    PrlVmCfg_SetDescription,
    description
);
cfg_u32!(PrlVmCfg_GetRamSize, PrlVmCfg_SetRamSize, ram_mb);
cfg_u32!(PrlVmCfg_GetCpuCount, PrlVmCfg_SetCpuCount, cpus);
cfg_u32!(PrlVmCfg_GetVmType, PrlVmCfg_SetVmType, vm_type);
cfg_u32!(PrlVmCfg_GetAutoStart, PrlVmCfg_SetAutoStart, autostart);
cfg_u32!(PrlVmCfg_GetEnvId, PrlVmCfg_SetEnvId, env_id);
cfg_u32!(PrlVmCfg_GetVNCMode, PrlVmCfg_SetVNCMode, vnc_mode);
cfg_u32!(PrlVmCfg_GetVNCPort, PrlVmCfg_SetVNCPort, vnc_port);
cfg_str!(PrlVmCfg_GetVNCHostName, PrlVmCfg_SetVNCHostName, vnc_host);
cfg_str!(
    PrlVmCfg_GetVNCPassword,
    PrlVmCfg_SetVNCPassword,
    vnc_password
);
cfg_u32!(
    PrlVmCfg_GetVideoRamSize,
    PrlVmCfg_SetVideoRamSize,
    video_ram_mb
);
cfg_str!(PrlVmCfg_GetOsTemplate, PrlVmCfg_SetOsTemplate, os_template);
cfg_str!(PrlVmCfg_GetCpuMask, PrlVmCfg_SetCpuMask, cpu_mask);

/// PrlVmCfg_GetCpuMode: PCM_CPU_MODE_64 unless the guest is 32-bit.
pub unsafe extern "C" fn PrlVmCfg_GetCpuMode(h: PRL_HANDLE, value: *mut PRL_UINT32) -> PRL_RESULT {
    // SAFETY: out-pointer from the caller.
    rc(with_vm(h, |v| unsafe {
        out(
            value,
            if v.config.lock().cpu_mode_32 {
                PCM_CPU_MODE_32
            } else {
                PCM_CPU_MODE_64
            },
        )
    }))
}

/// PrlVmCfg_SetCpuMode
pub unsafe extern "C" fn PrlVmCfg_SetCpuMode(h: PRL_HANDLE, value: PRL_UINT32) -> PRL_RESULT {
    if value != PCM_CPU_MODE_32 && value != PCM_CPU_MODE_64 {
        return PRL_ERR_INVALID_ARG;
    }
    rc(with_vm(h, |v| {
        v.config.lock().cpu_mode_32 = value == PCM_CPU_MODE_32;
        PRL_ERR_SUCCESS
    }))
}

/// PrlVm_SetUserPasswd (job): the guest's user gets a new password.
pub unsafe extern "C" fn PrlVm_SetUserPasswd(
    hVm: PRL_HANDLE,
    user: PRL_CONST_STR,
    _password: PRL_CONST_STR,
    _flags: PRL_UINT32,
) -> PRL_HANDLE {
    let uuid = vm_uuid(hVm);
    // SAFETY: C string from the caller.
    let user = unsafe { text(user) };
    job(move || {
        let host = running_host()?;
        let user = user.map_err(|e| (e, "a user name is required".to_string()))?;
        if user.is_empty() {
            return Err((PRL_ERR_INVALID_ARG, "a user name is required".into()));
        }
        let g = host.guest(&uuid?)?;
        if g.vm_type == PVT_VM && g.state != crate::sdk::abi::vms::VMS_RUNNING {
            return Err((
                PRL_ERR_DISP_VM_IS_NOT_STARTED,
                format!("The virtual machine '{}' is not running.", g.name),
            ));
        }
        Ok(Vec::new())
    })
}

struct Registration {
    /// The server handle's object: events go to the handlers of servers
    /// logged in to the session they belong to.
    server: Arc<Object>,
    handler: unsafe extern "C" fn(PRL_HANDLE, PRL_VOID_PTR) -> PRL_RESULT,
    data: usize,
}

static HANDLERS: Mutex<Vec<Registration>> = Mutex::new(Vec::new());

/// The parameter of a PET_DSP_EVT_DISP_CONNECTION_CLOSED event that names
/// the session it ends (the other events belong to the current one).
pub(crate) const CLOSED_SESSION_PARAM: &str = "session";

fn deliver(ev: host::HostEvent) {
    let target = if ev.0 == crate::sdk::abi::event::PET_DSP_EVT_DISP_CONNECTION_CLOSED {
        ev.2.iter()
            .find(|(n, _)| n == CLOSED_SESSION_PARAM)
            .map_or(0, |(_, v)| *v as u64)
    } else {
        session()
    };
    let regs: Vec<(
        unsafe extern "C" fn(PRL_HANDLE, PRL_VOID_PTR) -> PRL_RESULT,
        usize,
    )> = HANDLERS
        .lock()
        .iter()
        .filter(|r| match &*r.server {
            Object::Server(s) => *s.session.lock() == Some(target),
            _ => false,
        })
        .map(|r| (r.handler, r.data))
        .collect();
    for (handler, data) in regs {
        let h = new_handle(Arc::new(Object::Event(ev.0, ev.1.clone(), ev.2.clone())));
        // SAFETY: the handler and its data were registered together by the
        // SDK user, which keeps them valid until it unregisters; the handler
        // owns (and frees) the event handle, as the SDK's contract says.
        unsafe { handler(h, data as PRL_VOID_PTR) };
    }
}

/// PrlSrv_RegEventHandler
pub unsafe extern "C" fn PrlSrv_RegEventHandler(
    hServer: PRL_HANDLE,
    handler: PRL_EVENT_HANDLER_PTR,
    data: PRL_VOID_PTR,
) -> PRL_RESULT {
    let Some(handler) = handler else {
        return PRL_ERR_INVALID_ARG;
    };
    let server = match handles::get(hServer) {
        Some(o) if matches!(&*o, Object::Server(_)) => o,
        _ => return PRL_ERR_INVALID_HANDLE,
    };
    host::set_event_sink(Arc::new(deliver));
    HANDLERS.lock().push(Registration {
        server,
        handler,
        data: data as usize,
    });
    PRL_ERR_SUCCESS
}

/// PrlSrv_UnregEventHandler
pub unsafe extern "C" fn PrlSrv_UnregEventHandler(
    hServer: PRL_HANDLE,
    handler: PRL_EVENT_HANDLER_PTR,
    data: PRL_VOID_PTR,
) -> PRL_RESULT {
    let Some(handler) = handler else {
        return PRL_ERR_INVALID_ARG;
    };
    let Some(server) = handles::get(hServer) else {
        return PRL_ERR_INVALID_HANDLE;
    };
    let mut regs = HANDLERS.lock();
    let before = regs.len();
    regs.retain(|r| {
        !(Arc::ptr_eq(&r.server, &server)
            && std::ptr::fn_addr_eq(r.handler, handler)
            && r.data == data as usize)
    });
    if regs.len() == before {
        PRL_ERR_INVALID_ARG
    } else {
        PRL_ERR_SUCCESS
    }
}

/// PrlEvent_GetType
pub unsafe extern "C" fn PrlEvent_GetType(h: PRL_HANDLE, t: *mut PRL_ENUM) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        // SAFETY: out-pointer from the caller.
        Object::Event(kind, _, _) => unsafe { out(t, *kind) },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlEvent_GetIssuerId: the guest's UUID.
pub unsafe extern "C" fn PrlEvent_GetIssuerId(
    h: PRL_HANDLE,
    buf: PRL_STR,
    len: *mut PRL_UINT32,
) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        // SAFETY: buffer contract passed through from the caller.
        Object::Event(_, issuer, _) => unsafe { put_str(issuer, buf, len) },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlEvent_GetParamByName
pub unsafe extern "C" fn PrlEvent_GetParamByName(
    h: PRL_HANDLE,
    name: PRL_CONST_STR,
    ph: PRL_HANDLE_PTR,
) -> PRL_RESULT {
    // SAFETY: C string from the caller.
    let name = match unsafe { text(name) } {
        Ok(n) => n,
        Err(e) => return e,
    };
    rc(object(h).map(|o| match &*o {
        Object::Event(_, _, params) => match params.iter().find(|(n, _)| *n == name) {
            // SAFETY: out-pointer from the caller.
            Some((_, v)) => unsafe { out(ph, new_handle(Arc::new(Object::EventParam(*v)))) },
            None => PRL_ERR_NO_DATA,
        },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlEvtPrm_ToInt32
pub unsafe extern "C" fn PrlEvtPrm_ToInt32(h: PRL_HANDLE, v: *mut PRL_INT32) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        Object::EventParam(x) => match i32::try_from(*x) {
            // SAFETY: out-pointer from the caller.
            Ok(x) => unsafe { out(v, x) },
            Err(_) => PRL_ERR_INVALID_ARG,
        },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlEvtPrm_ToInt64
pub unsafe extern "C" fn PrlEvtPrm_ToInt64(h: PRL_HANDLE, v: *mut i64) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        // SAFETY: out-pointer from the caller.
        Object::EventParam(x) => unsafe { out(v, *x) },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

/// PrlVm_SubscribeToPerfStats (job): a perf-stats event follows.
pub unsafe extern "C" fn PrlVm_SubscribeToPerfStats(
    hVm: PRL_HANDLE,
    _filter: PRL_CONST_STR,
) -> PRL_HANDLE {
    let uuid = vm_uuid(hVm);
    job(move || {
        running_host()?.send_perf_stats(&uuid?)?;
        Ok(Vec::new())
    })
}

/// The Virtuozzo release the embedded host behaves as.
pub const EMBEDDED_PRODUCT_VERSION: &str = "7.5.0";

/// PrlSrv_GetServerInfo
pub unsafe extern "C" fn PrlSrv_GetServerInfo(
    hServer: PRL_HANDLE,
    ph: PRL_HANDLE_PTR,
) -> PRL_RESULT {
    match handles::get(hServer).as_deref() {
        // SAFETY: out-pointer from the caller.
        Some(Object::Server(_)) => unsafe { out(ph, new_handle(Arc::new(Object::ServerInfo))) },
        _ => PRL_ERR_INVALID_HANDLE,
    }
}

/// PrlSrvInfo_GetProductVersion
pub unsafe extern "C" fn PrlSrvInfo_GetProductVersion(
    h: PRL_HANDLE,
    buf: PRL_STR,
    len: *mut PRL_UINT32,
) -> PRL_RESULT {
    rc(object(h).map(|o| match &*o {
        // SAFETY: buffer contract passed through from the caller.
        Object::ServerInfo => unsafe { put_str(EMBEDDED_PRODUCT_VERSION, buf, len) },
        _ => PRL_ERR_INVALID_HANDLE,
    }))
}

fn snapshot_job(
    hVm: PRL_HANDLE,
    guid: PRL_CONST_STR,
    work: impl FnOnce(&host::Host, &str, &str) -> Result<(), Fail> + Send + 'static,
) -> PRL_HANDLE {
    let uuid = vm_uuid(hVm);
    // SAFETY: C string from the caller.
    let guid = unsafe { text(guid) };
    job(move || {
        let guid = guid.map_err(|e| (e, "a snapshot id is required".to_string()))?;
        let host = running_host()?;
        work(&host, &uuid?, &guid).map(|()| Vec::new())
    })
}

/// PrlVm_CreateSnapshot (job): the SDK names it (a GUID).
pub unsafe extern "C" fn PrlVm_CreateSnapshot(
    hVm: PRL_HANDLE,
    _name: PRL_CONST_STR,
    description: PRL_CONST_STR,
) -> PRL_HANDLE {
    let uuid = vm_uuid(hVm);
    // SAFETY: C string from the caller (null allowed: no description).
    let description = if description.is_null() {
        Ok(String::new())
    } else {
        unsafe { text(description) }
    };
    job(move || {
        let d = description.map_err(|e| (e, "invalid description".to_string()))?;
        running_host()?
            .create_snapshot(&uuid?, &d)
            .map(|()| Vec::new())
    })
}

/// PrlVm_DeleteSnapshot (job)
pub unsafe extern "C" fn PrlVm_DeleteSnapshot(
    hVm: PRL_HANDLE,
    guid: PRL_CONST_STR,
    child: PRL_BOOL,
) -> PRL_HANDLE {
    snapshot_job(hVm, guid, move |h, uuid, guid| {
        h.delete_snapshot(uuid, guid, child != 0)
    })
}

/// PrlVm_SwitchToSnapshotEx (job)
pub unsafe extern "C" fn PrlVm_SwitchToSnapshotEx(
    hVm: PRL_HANDLE,
    guid: PRL_CONST_STR,
    flags: PRL_UINT32,
) -> PRL_HANDLE {
    snapshot_job(hVm, guid, move |h, uuid, guid| {
        h.revert_snapshot(uuid, guid, flags & PSSF_SKIP_RESUME != 0)
    })
}

/// PrlVm_GetSnapshotsTreeEx (job; result: the tree XML as a string)
pub unsafe extern "C" fn PrlVm_GetSnapshotsTreeEx(
    hVm: PRL_HANDLE,
    _flags: PRL_UINT32,
) -> PRL_HANDLE {
    let uuid = vm_uuid(hVm);
    job(move || {
        let tree = running_host()?.snapshot_tree(&uuid?)?;
        Ok(vec![Arc::new(Object::Text(tree))])
    })
}

/// PrlApi_CreateStringsList: a new, empty list.
pub unsafe extern "C" fn PrlApi_CreateStringsList(list: PRL_HANDLE_PTR) -> PRL_RESULT {
    let handle = handles::new_handle(Arc::new(Object::StringList(Mutex::new(Vec::new()))));
    // SAFETY: out-pointer from the caller.
    let r = unsafe { out(list, handle) };
    if r != PRL_ERR_SUCCESS {
        handles::free(handle);
    }
    r
}

fn with_list<R>(h: PRL_HANDLE, f: impl FnOnce(&mut Vec<String>) -> R) -> Result<R, PRL_RESULT> {
    match &*object(h)? {
        Object::StringList(l) => Ok(f(&mut l.lock())),
        _ => Err(PRL_ERR_INVALID_HANDLE),
    }
}

/// PrlStrList_AddItem
pub unsafe extern "C" fn PrlStrList_AddItem(h: PRL_HANDLE, item: PRL_CONST_STR) -> PRL_RESULT {
    // SAFETY: C string from the caller.
    let item = match unsafe { text(item) } {
        Ok(v) => v,
        Err(e) => return e,
    };
    rc(with_list(h, |l| {
        l.push(item);
        PRL_ERR_SUCCESS
    }))
}

/// PrlStrList_GetItemsCount
pub unsafe extern "C" fn PrlStrList_GetItemsCount(h: PRL_HANDLE, n: *mut PRL_UINT32) -> PRL_RESULT {
    let c = match with_list(h, |l| l.len()) {
        Ok(c) => c,
        Err(e) => return e,
    };
    // SAFETY: out-pointer from the caller.
    unsafe { out(n, c as u32) }
}

/// PrlStrList_GetItem
pub unsafe extern "C" fn PrlStrList_GetItem(
    h: PRL_HANDLE,
    index: PRL_UINT32,
    buf: PRL_STR,
    len: *mut PRL_UINT32,
) -> PRL_RESULT {
    rc(with_list(h, |l| match l.get(index as usize) {
        // SAFETY: buffer contract passed through from the caller.
        Some(s) => unsafe { put_str(s, buf, len) },
        None => PRL_ERR_INVALID_ARG,
    }))
}

/// PrlResult_GetParamAsString
pub unsafe extern "C" fn PrlResult_GetParamAsString(
    h: PRL_HANDLE,
    buf: PRL_STR,
    len: *mut PRL_UINT32,
) -> PRL_RESULT {
    rc(with_result(h, |p| match p.first().map(|o| &**o) {
        // SAFETY: buffer contract passed through from the caller.
        Some(Object::Text(t)) => unsafe { put_str(t, buf, len) },
        _ => PRL_ERR_NO_DATA,
    }))
}

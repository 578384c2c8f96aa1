//! The Virtuozzo SDK boundary: the C ABI (`abi`), the table of entry points
//! (`table`), the embedded host behind the same ABI (`emu`), and the safe
//! wrappers the driver uses — handles freed on drop, jobs waited with a
//! timeout, errors read the way the SDK reports them, strings with the
//! SDK's buffer-size protocol. Nothing outside this module touches the ABI.

pub mod abi;
pub mod emu;
pub mod system;
pub mod table;

use abi::{err::*, *};
use std::ffi::CString;
use std::fmt;
use std::os::raw::c_char;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use table::SdkTable;

/// An SDK failure: its code and its own text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkError {
    /// The PRL_RESULT.
    pub code: PRL_RESULT,
    /// The SDK's description.
    pub message: String,
}

impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:08x})", self.message, self.code as u32)
    }
}

impl SdkError {
    fn new(code: PRL_RESULT, what: &str) -> SdkError {
        SdkError {
            code,
            message: format!("{what} failed"),
        }
    }
}

/// A loaded SDK and how long its jobs may take.
pub struct Sdk {
    t: SdkTable,
    job_timeout: Duration,
    /// Where the functions come from (for messages).
    source: String,
}

impl fmt::Debug for Sdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sdk({}, job timeout {:?})",
            self.source, self.job_timeout
        )
    }
}

/// A registered event handler (see `Sdk::subscribe`).
#[derive(Debug)]
pub struct Subscription {
    sink: usize,
}

/// An SDK handle, freed when dropped.
pub struct Handle {
    sdk: Arc<Sdk>,
    raw: PRL_HANDLE,
}

// SAFETY: a PRL_HANDLE is an opaque token the SDK accepts from any thread
// (its API is documented thread-safe); we never dereference it.
unsafe impl Send for Handle {}
// SAFETY: as above; &Handle only passes the token to SDK calls.
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: raw came from the SDK and is released exactly once.
        unsafe { (self.sdk.t.PrlHandle_Free)(self.raw) };
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({:p})", self.raw)
    }
}

fn cstring(s: &str) -> Result<CString, SdkError> {
    CString::new(s).map_err(|_| SdkError {
        code: PRL_ERR_INVALID_ARG,
        message: "text contains a NUL byte".into(),
    })
}

impl Sdk {
    /// The embedded Virtuozzo host storing its guests in `store`.
    pub fn embedded(store: &Path, job_timeout: Duration) -> Arc<Sdk> {
        emu::host::set_store_dir(store);
        Arc::new(Sdk {
            t: SdkTable::embedded(),
            job_timeout,
            source: "the embedded host".to_string(),
        })
    }

    /// An SDK whose functions come from a loaded library.
    pub fn from_table(t: SdkTable, source: String, job_timeout: Duration) -> Arc<Sdk> {
        Arc::new(Sdk {
            t,
            job_timeout,
            source,
        })
    }

    /// Where the SDK's functions come from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Starts the SDK as libvirt's driver does: console logging off (the
    /// SDK would print on the daemon's stderr), then PrlApi_InitEx for a
    /// server-side client of Virtuozzo 7.
    pub fn init(&self) -> Result<(), SdkError> {
        // SAFETY: a plain value; the call only sets a logging flag.
        unsafe { (self.t.PrlApi_SwitchConsoleLogging)(0) };
        // SAFETY: plain values.
        let rc = unsafe { (self.t.PrlApi_InitEx)(VIRTUOZZO_API_VER, PAM_SERVER, 0, 0) };
        check(rc, "PrlApi_InitEx")
    }

    /// PrlApi_Deinit.
    pub fn deinit(&self) {
        // SAFETY: no arguments.
        unsafe { (self.t.PrlApi_Deinit)() };
    }

    fn wrap(self: &Arc<Self>, raw: PRL_HANDLE, what: &str) -> Result<Handle, SdkError> {
        if raw.is_null() {
            return Err(SdkError::new(PRL_ERR_INVALID_HANDLE, what));
        }
        Ok(Handle {
            sdk: Arc::clone(self),
            raw,
        })
    }

    /// Calls a function that returns a new handle through an out-pointer.
    fn new_handle(
        self: &Arc<Self>,
        what: &str,
        f: impl FnOnce(PRL_HANDLE_PTR) -> PRL_RESULT,
    ) -> Result<Handle, SdkError> {
        let mut raw: PRL_HANDLE = std::ptr::null_mut();
        check(f(&mut raw), what)?;
        self.wrap(raw, what)
    }

    /// Waits for a job (never longer than the configured timeout) and
    /// returns its result handle, or the job's own error.
    pub fn wait(self: &Arc<Self>, job: PRL_HANDLE, what: &str) -> Result<Handle, SdkError> {
        let job = self.wrap(job, what)?;
        let ms = u32::try_from(self.job_timeout.as_millis()).unwrap_or(u32::MAX);
        // SAFETY: job.raw is a live job handle.
        let rc = unsafe { (self.t.PrlJob_Wait)(job.raw, ms) };
        if rc == PRL_ERR_TIMEOUT {
            // The job is given up: cancelled, so the host may stop it, and
            // its handle freed without waiting for the cancel either.
            // SAFETY: job.raw is a live job handle.
            let cancel = unsafe { (self.t.PrlJob_Cancel)(job.raw) };
            if !cancel.is_null() {
                drop(Handle {
                    sdk: Arc::clone(self),
                    raw: cancel,
                });
            }
            return Err(SdkError {
                code: rc,
                message: format!(
                    "{what} did not finish within {:?}; it was cancelled",
                    self.job_timeout
                ),
            });
        }
        check(rc, what)?;
        let mut ret: PRL_RESULT = 0;
        // SAFETY: live job handle, valid out-pointer.
        check(
            unsafe { (self.t.PrlJob_GetRetCode)(job.raw, &mut ret) },
            what,
        )?;
        if ret != PRL_ERR_SUCCESS {
            let text = self
                // SAFETY: live job handle, valid out-pointer.
                .new_handle(what, |p| unsafe { (self.t.PrlJob_GetError)(job.raw, p) })
                .and_then(|e| {
                    self.string(what, |buf, len| {
                        // SAFETY: live error handle; buffer contract kept by string().
                        unsafe { (self.t.PrlEvent_GetErrString)(e.raw, 0, 0, buf, len) }
                    })
                })
                .unwrap_or_else(|_| format!("{what} failed"));
            return Err(SdkError {
                code: ret,
                message: text,
            });
        }
        // SAFETY: live job handle, valid out-pointer.
        self.new_handle(what, |p| unsafe { (self.t.PrlJob_GetResult)(job.raw, p) })
    }

    /// Reads a string with the SDK's two-call buffer protocol.
    pub fn string(
        &self,
        what: &str,
        mut f: impl FnMut(PRL_STR, *mut PRL_UINT32) -> PRL_RESULT,
    ) -> Result<String, SdkError> {
        let mut len: PRL_UINT32 = 0;
        check(f(std::ptr::null_mut(), &mut len), what)?;
        for _ in 0..4 {
            let mut buf = vec![0u8; (len as usize).max(1)];
            let mut have = buf.len() as PRL_UINT32;
            match f(buf.as_mut_ptr() as *mut c_char, &mut have) {
                PRL_ERR_BUFFER_OVERRUN => len = have,
                rc => {
                    check(rc, what)?;
                    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
                    buf.truncate(end);
                    return String::from_utf8(buf).map_err(|_| SdkError {
                        code: PRL_ERR_INVALID_ARG,
                        message: format!("{what}: not UTF-8"),
                    });
                }
            }
        }
        Err(SdkError::new(PRL_ERR_BUFFER_OVERRUN, what))
    }

    /// A logged-in server session (PrlSrv_Create + PrlSrv_LoginLocalEx).
    pub fn login(self: &Arc<Self>) -> Result<Handle, SdkError> {
        // SAFETY: valid out-pointer.
        let server = self.new_handle("PrlSrv_Create", |p| unsafe { (self.t.PrlSrv_Create)(p) })?;
        // SAFETY: live server handle; null previous session is allowed.
        let job = unsafe {
            (self.t.PrlSrv_LoginLocalEx)(
                server.raw,
                std::ptr::null(),
                0,
                PSL_HIGH_SECURITY,
                PACF_NON_INTERACTIVE_MODE,
            )
        };
        self.wait(job, "PrlSrv_LoginLocalEx")?;
        Ok(server)
    }

    /// Ends a login session (PrlSrv_Logoff, waited for).
    pub fn logoff(self: &Arc<Self>, server: &Handle) -> Result<(), SdkError> {
        // SAFETY: live server handle.
        let job = unsafe { (self.t.PrlSrv_Logoff)(server.raw) };
        self.wait(job, "PrlSrv_Logoff").map(|_| ())
    }

    /// Calls `f` for every event of the server session, on the SDK's
    /// event thread. The handler's data lives as long as the process: the
    /// SDK may still be delivering an event while a handler is removed, so
    /// it is never freed (one small allocation per login).
    pub fn subscribe(
        self: &Arc<Self>,
        server: &Handle,
        f: EventFn,
    ) -> Result<Subscription, SdkError> {
        let sink = Box::into_raw(Box::new(Sink {
            sdk: Arc::clone(self),
            f,
        }));
        // SAFETY: live server handle; the handler matches the SDK's type and
        // sink stays valid for ever (leaked on purpose, see above).
        let rc = unsafe {
            (self.t.PrlSrv_RegEventHandler)(server.raw, Some(on_event), sink as PRL_VOID_PTR)
        };
        check(rc, "PrlSrv_RegEventHandler")?;
        Ok(Subscription {
            sink: sink as usize,
        })
    }

    /// Removes an event handler (PrlSrv_UnregEventHandler).
    pub fn unsubscribe(&self, server: &Handle, s: Subscription) -> Result<(), SdkError> {
        // SAFETY: live server handle; the pair given is the one registered.
        let rc = unsafe {
            (self.t.PrlSrv_UnregEventHandler)(server.raw, Some(on_event), s.sink as PRL_VOID_PTR)
        };
        check(rc, "PrlSrv_UnregEventHandler")
    }

    fn read_event(self: &Arc<Self>, ev: Arc<Handle>) -> Result<SdkEvent, SdkError> {
        let mut kind: PRL_ENUM = 0;
        // SAFETY: live event handle, valid out-pointer.
        check(
            unsafe { (self.t.PrlEvent_GetType)(ev.raw, &mut kind) },
            "PrlEvent_GetType",
        )?;
        // Host-wide events (a lost connection) need not have an issuer.
        let issuer = self
            .string("PrlEvent_GetIssuerId", |buf, len| {
                // SAFETY: live event handle; buffer contract kept by string().
                unsafe { (self.t.PrlEvent_GetIssuerId)(ev.raw, buf, len) }
            })
            .unwrap_or_default();
        let name = cstring("vminfo_vm_state")?;
        let state = self
            .new_handle("PrlEvent_GetParamByName", |p| {
                // SAFETY: live event handle, NUL-terminated name, out-pointer.
                unsafe { (self.t.PrlEvent_GetParamByName)(ev.raw, name.as_ptr(), p) }
            })
            .ok()
            .and_then(|param| {
                let mut v: PRL_INT32 = 0;
                // SAFETY: live parameter handle, valid out-pointer.
                let rc = unsafe { (self.t.PrlEvtPrm_ToInt32)(param.raw, &mut v) };
                (rc == PRL_ERR_SUCCESS).then_some(v as u32)
            });
        Ok(SdkEvent {
            kind,
            issuer,
            state,
            handle: ev,
        })
    }

    /// A 64-bit parameter of an event by name (perf counters); None when
    /// the event does not have it.
    pub fn event_i64(self: &Arc<Self>, ev: &Handle, name: &str) -> Option<i64> {
        let name = cstring(name).ok()?;
        let param = self
            .new_handle("PrlEvent_GetParamByName", |p| {
                // SAFETY: live event handle, NUL-terminated name, out-pointer.
                unsafe { (self.t.PrlEvent_GetParamByName)(ev.raw, name.as_ptr(), p) }
            })
            .ok()?;
        let mut v: i64 = 0;
        // SAFETY: live parameter handle, valid out-pointer.
        let rc = unsafe { (self.t.PrlEvtPrm_ToInt64)(param.raw, &mut v) };
        (rc == PRL_ERR_SUCCESS).then_some(v)
    }

    /// The host's product version ("7.5.0"), from its server info.
    pub fn product_version(self: &Arc<Self>, server: &Handle) -> Result<String, SdkError> {
        let info = self.new_handle("PrlSrv_GetServerInfo", |p| {
            // SAFETY: live server handle, out-pointer.
            unsafe { (self.t.PrlSrv_GetServerInfo)(server.raw, p) }
        })?;
        self.string("PrlSrvInfo_GetProductVersion", |buf, len| {
            // SAFETY: live info handle; buffer contract kept by string().
            unsafe { (self.t.PrlSrvInfo_GetProductVersion)(info.raw, buf, len) }
        })
    }

    /// The handles in a job result.
    pub fn params(self: &Arc<Self>, result: &Handle) -> Result<Vec<Handle>, SdkError> {
        let mut n: PRL_UINT32 = 0;
        // SAFETY: live result handle, valid out-pointer.
        check(
            unsafe { (self.t.PrlResult_GetParamsCount)(result.raw, &mut n) },
            "PrlResult_GetParamsCount",
        )?;
        (0..n)
            .map(|i| {
                self.new_handle("PrlResult_GetParamByIndex", |p| {
                    // SAFETY: live result handle, index in range, out-pointer.
                    unsafe { (self.t.PrlResult_GetParamByIndex)(result.raw, i, p) }
                })
            })
            .collect()
    }

    /// Every guest of the given kinds (PVTF_VM, PVTF_CT).
    pub fn guests(self: &Arc<Self>, server: &Handle, flags: u32) -> Result<Vec<Guest>, SdkError> {
        // SAFETY: live server handle.
        let job = unsafe { (self.t.PrlSrv_GetVmListEx)(server.raw, flags) };
        let result = self.wait(job, "PrlSrv_GetVmListEx")?;
        Ok(self
            .params(&result)?
            .into_iter()
            .map(|h| Guest { h })
            .collect())
    }

    /// One guest by its braced UUID (PrlSrv_GetVmConfig).
    pub fn guest_by_uuid(self: &Arc<Self>, server: &Handle, uuid: &str) -> Result<Guest, SdkError> {
        let id = cstring(uuid)?;
        // SAFETY: live server handle, NUL-terminated id.
        let job =
            unsafe { (self.t.PrlSrv_GetVmConfig)(server.raw, id.as_ptr(), PGVC_SEARCH_BY_UUID) };
        let result = self.wait(job, "PrlSrv_GetVmConfig")?;
        let h = self.new_handle("PrlResult_GetParam", |p| {
            // SAFETY: live result handle, out-pointer.
            unsafe { (self.t.PrlResult_GetParam)(result.raw, p) }
        })?;
        Ok(Guest { h })
    }

    /// A new virtual machine, not yet registered, as libvirt's driver
    /// makes one: PrlSrv_CreateVm, the host's default configuration for a
    /// Red Hat guest without default devices (PrlSrv_GetSrvConfig,
    /// PrlVmCfg_SetDefaultConfig), offline management off.
    pub fn new_vm(self: &Arc<Self>, server: &Handle) -> Result<Guest, SdkError> {
        let h = self.new_handle("PrlSrv_CreateVm", |p| {
            // SAFETY: live server handle, out-pointer.
            unsafe { (self.t.PrlSrv_CreateVm)(server.raw, p) }
        })?;
        // SAFETY: live server handle.
        let job = unsafe { (self.t.PrlSrv_GetSrvConfig)(server.raw) };
        let result = self.wait(job, "PrlSrv_GetSrvConfig")?;
        let config = self.new_handle("PrlResult_GetParam", |p| {
            // SAFETY: live result handle, out-pointer.
            unsafe { (self.t.PrlResult_GetParam)(result.raw, p) }
        })?;
        // SAFETY: live guest and server-config handles, plain values.
        check(
            unsafe {
                (self.t.PrlVmCfg_SetDefaultConfig)(h.raw, config.raw, PVS_GUEST_VER_LIN_REDHAT, 0)
            },
            "PrlVmCfg_SetDefaultConfig",
        )?;
        // SAFETY: live guest handle.
        check(
            unsafe { (self.t.PrlVmCfg_SetOfflineManagementEnabled)(h.raw, 0) },
            "PrlVmCfg_SetOfflineManagementEnabled",
        )?;
        Ok(Guest { h })
    }

    /// A new container, not yet registered, from the configuration sample
    /// libvirt's driver uses (PrlSrv_GetDefaultVmConfig).
    pub fn new_container(self: &Arc<Self>, server: &Handle) -> Result<Guest, SdkError> {
        let sample = cstring(CT_CONFIG_SAMPLE)?;
        let param = PRL_GET_VM_CONFIG_PARAM_DATA {
            vm_type: PVT_CT,
            config_sample: sample.as_ptr(),
            os_version: 0,
        };
        // SAFETY: live server handle; param and the string it points to
        // outlive the call, which copies what it needs.
        let job = unsafe { (self.t.PrlSrv_GetDefaultVmConfig)(server.raw, &param, 0) };
        let result = self.wait(job, "PrlSrv_GetDefaultVmConfig")?;
        let h = self.new_handle("PrlResult_GetParam", |p| {
            // SAFETY: live result handle, out-pointer.
            unsafe { (self.t.PrlResult_GetParam)(result.raw, p) }
        })?;
        Ok(Guest { h })
    }
}

/// An SDK event, read out of its handle.
#[derive(Clone, Debug)]
pub struct SdkEvent {
    /// PET_* type.
    pub kind: u32,
    /// The guest it is about (UUID, braced).
    pub issuer: String,
    /// The new VMS_* state, for state changes.
    pub state: Option<u32>,
    /// The event itself, for reading more parameters later (perf stats
    /// are read counter by counter from the latest such event).
    pub handle: Arc<Handle>,
}

type EventFn = Box<dyn Fn(SdkEvent) + Send + Sync>;

struct Sink {
    sdk: Arc<Sdk>,
    f: EventFn,
}

/// The handler the SDK calls on its event thread.
unsafe extern "C" fn on_event(ev: PRL_HANDLE, data: PRL_VOID_PTR) -> PRL_RESULT {
    if data.is_null() {
        return PRL_ERR_INVALID_ARG;
    }
    // SAFETY: data is the Sink registered with this handler, which is
    // never freed (see Sdk::subscribe).
    let sink = unsafe { &*(data as *const Sink) };
    let Ok(handle) = sink.sdk.wrap(ev, "event") else {
        return PRL_ERR_INVALID_HANDLE;
    };
    // An event must never unwind into the SDK's C frames.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match sink.sdk.read_event(Arc::new(handle)) {
            Ok(e) => (sink.f)(e),
            Err(e) => log::warn!("cannot read an SDK event: {e}"),
        }
    }));
    PRL_ERR_SUCCESS
}

fn check(rc: PRL_RESULT, what: &str) -> Result<(), SdkError> {
    if rc == PRL_ERR_SUCCESS {
        Ok(())
    } else {
        Err(SdkError::new(rc, what))
    }
}

/// A guest handle (`PHT_VIRTUAL_MACHINE`), which is also its config.
#[derive(Debug)]
pub struct Guest {
    h: Handle,
}

macro_rules! guest_u32 {
    ($get:ident => $getf:ident, $set:ident => $setf:ident) => {
        guest_get!($get => $getf);
        #[doc = concat!("`", stringify!($setf), "`")]
        pub fn $set(&self, v: u32) -> Result<(), SdkError> {
            // SAFETY: live guest handle.
            check(
                unsafe { (self.t().$setf)(self.h.raw, v) },
                stringify!($setf),
            )
        }
    };
}

macro_rules! guest_get {
    ($get:ident => $getf:ident) => {
        #[doc = concat!("`", stringify!($getf), "`")]
        pub fn $get(&self) -> Result<u32, SdkError> {
            let mut v: PRL_UINT32 = 0;
            // SAFETY: live guest handle, valid out-pointer.
            check(
                unsafe { (self.t().$getf)(self.h.raw, &mut v) },
                stringify!($getf),
            )?;
            Ok(v)
        }
    };
}

macro_rules! guest_str {
    ($get:ident => $getf:ident, $set:ident => $setf:ident) => {
        #[doc = concat!("`", stringify!($getf), "`")]
        pub fn $get(&self) -> Result<String, SdkError> {
            self.h.sdk.string(stringify!($getf), |buf, len| {
                // SAFETY: live guest handle; buffer contract kept by string().
                unsafe { (self.t().$getf)(self.h.raw, buf, len) }
            })
        }
        #[doc = concat!("`", stringify!($setf), "`")]
        pub fn $set(&self, v: &str) -> Result<(), SdkError> {
            let c = cstring(v)?;
            // SAFETY: live guest handle, NUL-terminated string.
            check(
                unsafe { (self.t().$setf)(self.h.raw, c.as_ptr()) },
                stringify!($setf),
            )
        }
    };
}

macro_rules! guest_bool {
    ($get:ident => $getf:ident, $set:ident => $setf:ident) => {
        #[doc = concat!("`", stringify!($getf), "`")]
        pub fn $get(&self) -> Result<bool, SdkError> {
            let mut v: PRL_BOOL = 0;
            // SAFETY: live handle, valid out-pointer.
            check(
                unsafe { (self.t().$getf)(self.h.raw, &mut v) },
                stringify!($getf),
            )?;
            Ok(v != 0)
        }
        #[doc = concat!("`", stringify!($setf), "`")]
        pub fn $set(&self, v: bool) -> Result<(), SdkError> {
            // SAFETY: live handle.
            check(
                unsafe { (self.t().$setf)(self.h.raw, v as PRL_BOOL) },
                stringify!($setf),
            )
        }
    };
}

macro_rules! guest_job {
    ($($name:ident => $f:ident($($arg:expr),*);)*) => {$(
        #[doc = concat!("`", stringify!($f), "` (a job, waited for)")]
        pub fn $name(&self) -> Result<(), SdkError> {
            // SAFETY: live guest handle and plain values.
            let job = unsafe { (self.t().$f)(self.h.raw $(, $arg)*) };
            self.h.sdk.wait(job, stringify!($f)).map(|_| ())
        }
    )*};
}

impl Guest {
    fn t(&self) -> &SdkTable {
        &self.h.sdk.t
    }

    guest_str!(name => PrlVmCfg_GetName, set_name => PrlVmCfg_SetName);
    guest_str!(uuid => PrlVmCfg_GetUuid, set_uuid => PrlVmCfg_SetUuid);
    guest_str!(description => PrlVmCfg_GetDescription, set_description => PrlVmCfg_SetDescription);
    guest_u32!(ram_mb => PrlVmCfg_GetRamSize, set_ram_mb => PrlVmCfg_SetRamSize);
    guest_u32!(cpus => PrlVmCfg_GetCpuCount, set_cpus => PrlVmCfg_SetCpuCount);
    guest_get!(vm_type => PrlVmCfg_GetVmType);
    guest_u32!(autostart => PrlVmCfg_GetAutoStart, set_autostart => PrlVmCfg_SetAutoStart);

    guest_u32!(vnc_mode => PrlVmCfg_GetVNCMode, set_vnc_mode => PrlVmCfg_SetVNCMode);
    guest_u32!(vnc_port => PrlVmCfg_GetVNCPort, set_vnc_port => PrlVmCfg_SetVNCPort);
    guest_str!(vnc_host => PrlVmCfg_GetVNCHostName, set_vnc_host => PrlVmCfg_SetVNCHostName);
    guest_str!(vnc_password => PrlVmCfg_GetVNCPassword, set_vnc_password => PrlVmCfg_SetVNCPassword);
    guest_u32!(video_ram_mb => PrlVmCfg_GetVideoRamSize, set_video_ram_mb => PrlVmCfg_SetVideoRamSize);
    guest_str!(os_template => PrlVmCfg_GetOsTemplate, set_os_template => PrlVmCfg_SetOsTemplate);
    guest_str!(cpu_mask => PrlVmCfg_GetCpuMask, set_cpu_mask => PrlVmCfg_SetCpuMask);
    guest_u32!(cpu_mode => PrlVmCfg_GetCpuMode, set_cpu_mode => PrlVmCfg_SetCpuMode);

    /// The devices of a PDE_* type, in order.
    pub fn devices(&self, dev_type: u32) -> Result<Vec<Device>, SdkError> {
        let mut n: PRL_UINT32 = 0;
        // SAFETY: live guest handle, valid out-pointer.
        check(
            unsafe { (self.t().PrlVmCfg_GetDevsCountByType)(self.h.raw, dev_type, &mut n) },
            "PrlVmCfg_GetDevsCountByType",
        )?;
        (0..n)
            .map(|i| {
                self.h
                    .sdk
                    .new_handle("PrlVmCfg_GetDevByType", |p| {
                        // SAFETY: live guest handle, index in range, out-pointer.
                        unsafe { (self.t().PrlVmCfg_GetDevByType)(self.h.raw, dev_type, i, p) }
                    })
                    .map(|h| Device { h })
            })
            .collect()
    }

    /// A new device of a PDE_* type (PrlVmCfg_CreateVmDev).
    pub fn create_device(&self, dev_type: u32) -> Result<Device, SdkError> {
        self.h
            .sdk
            .new_handle("PrlVmCfg_CreateVmDev", |p| {
                // SAFETY: live guest handle, out-pointer.
                unsafe { (self.t().PrlVmCfg_CreateVmDev)(self.h.raw, dev_type, p) }
            })
            .map(|h| Device { h })
    }

    /// The boot order entries.
    pub fn boot_devices(&self) -> Result<Vec<BootDevice>, SdkError> {
        let mut n: PRL_UINT32 = 0;
        // SAFETY: live guest handle, valid out-pointer.
        check(
            unsafe { (self.t().PrlVmCfg_GetBootDevCount)(self.h.raw, &mut n) },
            "PrlVmCfg_GetBootDevCount",
        )?;
        (0..n)
            .map(|i| {
                self.h
                    .sdk
                    .new_handle("PrlVmCfg_GetBootDev", |p| {
                        // SAFETY: live guest handle, index in range, out-pointer.
                        unsafe { (self.t().PrlVmCfg_GetBootDev)(self.h.raw, i, p) }
                    })
                    .map(|h| BootDevice { h })
            })
            .collect()
    }

    /// A new boot order entry (PrlVmCfg_CreateBootDev).
    pub fn create_boot_device(&self) -> Result<BootDevice, SdkError> {
        self.h
            .sdk
            .new_handle("PrlVmCfg_CreateBootDev", |p| {
                // SAFETY: live guest handle, out-pointer.
                unsafe { (self.t().PrlVmCfg_CreateBootDev)(self.h.raw, p) }
            })
            .map(|h| BootDevice { h })
    }

    guest_get!(env_id => PrlVmCfg_GetEnvId);

    guest_job! {
        start => PrlVm_StartEx(PSM_VM_START, 0);
        kill => PrlVm_StopEx(PSM_KILL, 0);
        shutdown => PrlVm_StopEx(PSM_SHUTDOWN, 0);
        pause => PrlVm_Pause(0);
        resume => PrlVm_Resume();
        suspend => PrlVm_Suspend();
        drop_suspended_state => PrlVm_DropSuspendedState();
        subscribe_perf_stats => PrlVm_SubscribeToPerfStats(std::ptr::null());
        restart => PrlVm_Restart();
        reset => PrlVm_Reset();
        refresh => PrlVm_RefreshConfig();
        begin_edit => PrlVm_BeginEdit();
        // Devices are removed and re-created on every edit, as in
        // libvirt's driver: a removed disk must keep its image.
        commit => PrlVm_CommitEx(PVCF_DETACH_HDD_BUNDLE);
        register => PrlVm_Reg(c"".as_ptr(), 1);
        delete => PrlVm_Delete(std::ptr::null_mut());
    }

    /// `PrlVm_RegEx` (a job, waited for): how libvirt registers containers.
    pub fn register_ex(&self, flags: u32) -> Result<(), SdkError> {
        // SAFETY: live guest handle, an empty C string, a plain value.
        let job = unsafe { (self.t().PrlVm_RegEx)(self.h.raw, c"".as_ptr(), flags) };
        self.h.sdk.wait(job, "PrlVm_RegEx").map(|_| ())
    }

    /// `PrlVm_CreateSnapshot` (a job, waited for); the SDK names it.
    pub fn create_snapshot(&self, description: &str) -> Result<(), SdkError> {
        let (n, d) = (cstring("")?, cstring(description)?);
        // SAFETY: live guest handle, NUL-terminated strings.
        let job = unsafe { (self.t().PrlVm_CreateSnapshot)(self.h.raw, n.as_ptr(), d.as_ptr()) };
        self.h.sdk.wait(job, "PrlVm_CreateSnapshot").map(|_| ())
    }

    /// `PrlVm_DeleteSnapshot` (a job, waited for)
    pub fn delete_snapshot(&self, guid: &str, children: bool) -> Result<(), SdkError> {
        let g = cstring(guid)?;
        // SAFETY: live guest handle, NUL-terminated string.
        let job = unsafe {
            (self.t().PrlVm_DeleteSnapshot)(self.h.raw, g.as_ptr(), children as PRL_BOOL)
        };
        self.h.sdk.wait(job, "PrlVm_DeleteSnapshot").map(|_| ())
    }

    /// `PrlVm_SwitchToSnapshotEx` (a job, waited for); `paused` leaves the
    /// guest paused (PSSF_SKIP_RESUME).
    pub fn revert_to_snapshot(&self, guid: &str, paused: bool) -> Result<(), SdkError> {
        let g = cstring(guid)?;
        let flags = if paused { PSSF_SKIP_RESUME } else { 0 };
        // SAFETY: live guest handle, NUL-terminated string.
        let job = unsafe { (self.t().PrlVm_SwitchToSnapshotEx)(self.h.raw, g.as_ptr(), flags) };
        self.h.sdk.wait(job, "PrlVm_SwitchToSnapshotEx").map(|_| ())
    }

    /// `PrlVm_GetSnapshotsTreeEx`: the snapshot tree as the SDK's XML.
    pub fn snapshot_tree(&self) -> Result<String, SdkError> {
        // SAFETY: live guest handle.
        let job =
            unsafe { (self.t().PrlVm_GetSnapshotsTreeEx)(self.h.raw, PGST_WITHOUT_SCREENSHOTS) };
        let sdk = &self.h.sdk;
        let result = sdk.wait(job, "PrlVm_GetSnapshotsTreeEx")?;
        sdk.string("PrlResult_GetParamAsString", |buf, len| {
            // SAFETY: live result handle; buffer contract kept by string().
            unsafe { (self.t().PrlResult_GetParamAsString)(result.raw, buf, len) }
        })
    }

    /// `PrlVm_SetUserPasswd` (a job, waited for)
    pub fn set_user_password(&self, user: &str, password: &str) -> Result<(), SdkError> {
        let (u, p) = (cstring(user)?, cstring(password)?);
        // SAFETY: live guest handle, NUL-terminated strings.
        let job = unsafe { (self.t().PrlVm_SetUserPasswd)(self.h.raw, u.as_ptr(), p.as_ptr(), 0) };
        self.h.sdk.wait(job, "PrlVm_SetUserPasswd").map(|_| ())
    }

    /// The guest's VMS_* state (PrlVm_GetState + PrlVmInfo_GetState).
    pub fn state(&self) -> Result<u32, SdkError> {
        // SAFETY: live guest handle.
        let job = unsafe { (self.t().PrlVm_GetState)(self.h.raw) };
        let sdk = &self.h.sdk;
        let result = sdk.wait(job, "PrlVm_GetState")?;
        let info = sdk.new_handle("PrlResult_GetParam", |p| {
            // SAFETY: live result handle, out-pointer.
            unsafe { (self.t().PrlResult_GetParam)(result.raw, p) }
        })?;
        let mut s: PRL_ENUM = 0;
        // SAFETY: live info handle, out-pointer.
        check(
            unsafe { (self.t().PrlVmInfo_GetState)(info.raw, &mut s) },
            "PrlVmInfo_GetState",
        )?;
        Ok(s)
    }
}

/// A device handle of a guest.
#[derive(Debug)]
pub struct Device {
    h: Handle,
}

impl Device {
    fn t(&self) -> &SdkTable {
        &self.h.sdk.t
    }

    guest_u32!(index => PrlVmDev_GetIndex, set_index => PrlVmDev_SetIndex);
    guest_u32!(emulated_type => PrlVmDev_GetEmulatedType, set_emulated_type => PrlVmDev_SetEmulatedType);
    guest_u32!(stack_index => PrlVmDev_GetStackIndex, set_stack_index => PrlVmDev_SetStackIndex);
    guest_u32!(iface_type => PrlVmDev_GetIfaceType, set_iface_type => PrlVmDev_SetIfaceType);
    guest_u32!(adapter_type => PrlVmDevNet_GetAdapterType, set_adapter_type => PrlVmDevNet_SetAdapterType);
    guest_u32!(socket_mode => PrlVmDevSerial_GetSocketMode, set_socket_mode => PrlVmDevSerial_SetSocketMode);
    guest_bool!(connected => PrlVmDev_IsConnected, set_connected => PrlVmDev_SetConnected);
    guest_str!(image_path => PrlVmDev_GetImagePath, set_image_path => PrlVmDev_SetImagePath);
    guest_str!(friendly_name => PrlVmDev_GetFriendlyName, set_friendly_name => PrlVmDev_SetFriendlyName);
    guest_str!(mac => PrlVmDevNet_GetMacAddress, set_mac => PrlVmDevNet_SetMacAddress);
    guest_str!(host_iface => PrlVmDevNet_GetHostInterfaceName, set_host_iface => PrlVmDevNet_SetHostInterfaceName);
    guest_str!(network => PrlVmDevNet_GetVirtualNetworkId, set_network => PrlVmDevNet_SetVirtualNetworkId);
    guest_str!(mount_point => PrlVmDevHd_GetMountPoint, set_mount_point => PrlVmDevHd_SetMountPoint);
    guest_str!(storage_url => PrlVmDevHd_GetStorageURL, set_storage_url => PrlVmDevHd_SetStorageURL);
    guest_str!(serial_number => PrlVmDevHd_GetSerialNumber, set_serial_number => PrlVmDevHd_SetSerialNumber);
    guest_bool!(prevent_mac_spoof => PrlVmDevNet_IsPktFilterPreventMacSpoof, set_prevent_mac_spoof => PrlVmDevNet_SetPktFilterPreventMacSpoof);
    guest_str!(gateway => PrlVmDevNet_GetDefaultGateway, set_gateway => PrlVmDevNet_SetDefaultGateway);
    guest_str!(gateway6 => PrlVmDevNet_GetDefaultGatewayIPv6, set_gateway6 => PrlVmDevNet_SetDefaultGatewayIPv6);

    /// `PrlVmDevNet_SetConfigureWithDhcp`, `PrlVmDevNet_SetConfigureWithDhcpIPv6`
    /// and `PrlVmDevNet_SetAutoApply`, as libvirt's driver sets them with
    /// the addresses.
    pub fn set_dhcp_and_auto_apply(&self, dhcp4: bool, dhcp6: bool) -> Result<(), SdkError> {
        let t = self.t();
        for (f, v, what) in [
            (
                t.PrlVmDevNet_SetConfigureWithDhcp,
                dhcp4,
                "PrlVmDevNet_SetConfigureWithDhcp",
            ),
            (
                t.PrlVmDevNet_SetConfigureWithDhcpIPv6,
                dhcp6,
                "PrlVmDevNet_SetConfigureWithDhcpIPv6",
            ),
            (t.PrlVmDevNet_SetAutoApply, true, "PrlVmDevNet_SetAutoApply"),
        ] {
            // SAFETY: live device handle.
            check(unsafe { f(self.h.raw, v as PRL_BOOL) }, what)?;
        }
        Ok(())
    }

    /// `PrlVmDevNet_GetNetAddresses`: the guest addresses ("addr/mask").
    pub fn net_addresses(&self) -> Result<Vec<String>, SdkError> {
        let sdk = &self.h.sdk;
        let list = sdk.new_handle("PrlVmDevNet_GetNetAddresses", |p| {
            // SAFETY: live device handle, out-pointer.
            unsafe { (self.t().PrlVmDevNet_GetNetAddresses)(self.h.raw, p) }
        })?;
        let mut n: PRL_UINT32 = 0;
        // SAFETY: live list handle, valid out-pointer.
        check(
            unsafe { (self.t().PrlStrList_GetItemsCount)(list.raw, &mut n) },
            "PrlStrList_GetItemsCount",
        )?;
        (0..n)
            .map(|i| {
                sdk.string("PrlStrList_GetItem", |buf, len| {
                    // SAFETY: live list handle, index in range; buffer
                    // contract kept by string().
                    unsafe { (self.t().PrlStrList_GetItem)(list.raw, i, buf, len) }
                })
            })
            .collect()
    }

    /// `PrlVmDevNet_SetNetAddresses` with a list made by
    /// `PrlApi_CreateStringsList` and `PrlStrList_AddItem`.
    pub fn set_net_addresses(&self, items: &[String]) -> Result<(), SdkError> {
        let list = self.h.sdk.new_handle("PrlApi_CreateStringsList", |p| {
            // SAFETY: out-pointer.
            unsafe { (self.t().PrlApi_CreateStringsList)(p) }
        })?;
        for item in items {
            let c = cstring(item)?;
            // SAFETY: live list handle, NUL-terminated string.
            check(
                unsafe { (self.t().PrlStrList_AddItem)(list.raw, c.as_ptr()) },
                "PrlStrList_AddItem",
            )?;
        }
        // SAFETY: live device and list handles.
        check(
            unsafe { (self.t().PrlVmDevNet_SetNetAddresses)(self.h.raw, list.raw) },
            "PrlVmDevNet_SetNetAddresses",
        )
    }

    /// `PrlVmDevHd_GetDiskSize`: the disk's size in MiB.
    pub fn disk_size_mb(&self) -> Result<u32, SdkError> {
        let mut v: PRL_UINT32 = 0;
        // SAFETY: live device handle, valid out-pointer.
        check(
            unsafe { (self.t().PrlVmDevHd_GetDiskSize)(self.h.raw, &mut v) },
            "PrlVmDevHd_GetDiskSize",
        )?;
        Ok(v)
    }

    /// `PrlVmDev_SetSysName`
    pub fn set_sys_name(&self, v: &str) -> Result<(), SdkError> {
        let c = cstring(v)?;
        // SAFETY: live device handle, NUL-terminated string.
        check(
            unsafe { (self.t().PrlVmDev_SetSysName)(self.h.raw, c.as_ptr()) },
            "PrlVmDev_SetSysName",
        )
    }

    /// `PrlVmDev_Remove`
    pub fn remove(&self) -> Result<(), SdkError> {
        // SAFETY: live device handle.
        check(
            unsafe { (self.t().PrlVmDev_Remove)(self.h.raw) },
            "PrlVmDev_Remove",
        )
    }

    /// `PrlVmDev_ResizeImage` (a job, waited for), growing the last
    /// partition as libvirt asks.
    pub fn resize(&self, mib: u32) -> Result<(), SdkError> {
        // SAFETY: live device handle and plain values.
        let job =
            unsafe { (self.t().PrlVmDev_ResizeImage)(self.h.raw, mib, PRIF_RESIZE_LAST_PARTITION) };
        self.h.sdk.wait(job, "PrlVmDev_ResizeImage").map(|_| ())
    }
}

/// A boot order entry of a guest.
#[derive(Debug)]
pub struct BootDevice {
    h: Handle,
}

impl BootDevice {
    fn t(&self) -> &SdkTable {
        &self.h.sdk.t
    }

    guest_u32!(dev_type => PrlBootDev_GetType, set_dev_type => PrlBootDev_SetType);
    guest_u32!(index => PrlBootDev_GetIndex, set_index => PrlBootDev_SetIndex);
    guest_u32!(sequence => PrlBootDev_GetSequenceIndex, set_sequence => PrlBootDev_SetSequenceIndex);

    /// `PrlBootDev_SetInUse`
    pub fn set_in_use(&self, v: bool) -> Result<(), SdkError> {
        // SAFETY: live boot entry handle.
        check(
            unsafe { (self.t().PrlBootDev_SetInUse)(self.h.raw, v as PRL_BOOL) },
            "PrlBootDev_SetInUse",
        )
    }

    /// `PrlBootDev_Remove`
    pub fn remove(&self) -> Result<(), SdkError> {
        // SAFETY: live boot entry handle.
        check(
            unsafe { (self.t().PrlBootDev_Remove)(self.h.raw) },
            "PrlBootDev_Remove",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::vms::*;
    use dev::PDE_HARD_DISK;

    #[test]
    fn embedded_host_through_the_c_abi() {
        let dir = std::env::temp_dir().join(format!("virtvzd-sdk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _turn = emu::host::TEST_TURN.lock();
        emu::host::deinit();
        let sdk = Sdk::embedded(&dir, Duration::from_secs(10));
        sdk.init().unwrap();
        let before = emu::handles::live();
        {
            let srv = sdk.login().unwrap();
            let g = sdk.new_vm(&srv).unwrap();
            g.set_name("vm1").unwrap();
            g.set_ram_mb(1024).unwrap();
            g.set_cpus(2).unwrap();
            g.register().unwrap();
            let uuid = g.uuid().unwrap();
            assert!(uuid.starts_with('{') && uuid.len() == 38, "{uuid}");

            // A second guest of the same name is refused with the SDK's code.
            let dup = sdk.new_vm(&srv).unwrap();
            dup.set_name("vm1").unwrap();
            assert_eq!(
                dup.register().unwrap_err().code,
                err::PRL_ERR_VM_ALREADY_REGISTERED
            );

            let list = sdk.guests(&srv, PVTF_VM | PVTF_CT).unwrap();
            assert_eq!(list.len(), 1);
            let g = &list[0];
            assert_eq!(g.name().unwrap(), "vm1");
            assert_eq!((g.ram_mb().unwrap(), g.cpus().unwrap()), (1024, 2));
            assert_eq!(g.state().unwrap(), VMS_STOPPED);

            // Invalid transitions carry the SDK's errors.
            assert_eq!(
                g.pause().unwrap_err().code,
                err::PRL_ERR_DISP_VM_IS_NOT_STARTED
            );
            g.start().unwrap();
            assert_eq!(g.state().unwrap(), VMS_RUNNING);
            assert_eq!(
                g.start().unwrap_err().code,
                err::PRL_ERR_DISP_VM_IS_NOT_STOPPED
            );
            assert_eq!(
                g.delete().unwrap_err().code,
                err::PRL_ERR_DISP_VM_IS_NOT_STOPPED
            );
            g.pause().unwrap();
            assert_eq!(g.state().unwrap(), VMS_PAUSED);
            g.resume().unwrap();
            g.kill().unwrap();

            // Edits reach the store only on commit.
            g.begin_edit().unwrap();
            g.set_ram_mb(2048).unwrap();
            g.commit().unwrap();
            let again = sdk.guests(&srv, PVTF_VM).unwrap();
            assert_eq!(again[0].ram_mb().unwrap(), 2048);
            g.delete().unwrap();
            assert!(sdk.guests(&srv, PVTF_VM).unwrap().is_empty());
        }
        // Every handle the wrappers took was released.
        assert_eq!(emu::handles::live(), before);
        sdk.deinit();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn containers_come_from_the_sample_and_register_with_reg_ex() {
        let dir = std::env::temp_dir().join(format!("virtvzd-sdk-ct-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _turn = emu::host::TEST_TURN.lock();
        emu::host::deinit();
        let sdk = Sdk::embedded(&dir, Duration::from_secs(10));
        sdk.init().unwrap();
        {
            let srv = sdk.login().unwrap();
            let ct = sdk.new_container(&srv).unwrap();
            assert_eq!(ct.vm_type().unwrap(), PVT_CT);
            assert_eq!(ct.ram_mb().unwrap(), 1024, "vswap.1024MB");
            ct.set_name("ct1").unwrap();
            let fs = ct.create_device(PDE_HARD_DISK).unwrap();
            fs.set_mount_point("/data").unwrap();
            fs.set_storage_url("libvirt://localhost/pool1/vol1")
                .unwrap();
            ct.register_ex(PACF_NON_INTERACTIVE_MODE | PRNVM_PRESERVE_DISK)
                .unwrap();
            // Registering the same handle twice is refused.
            assert_eq!(
                ct.register_ex(PACF_NON_INTERACTIVE_MODE).unwrap_err().code,
                err::PRL_ERR_VM_ALREADY_REGISTERED
            );
            let vm = sdk.new_vm(&srv).unwrap();
            assert_eq!(vm.vm_type().unwrap(), PVT_VM);
            let list = sdk.guests(&srv, PVTF_CT).unwrap();
            assert_eq!(list.len(), 1);
            assert_eq!(list[0].name().unwrap(), "ct1");
        }
        // The storage URL is kept in the guest's file: a new session on a
        // reloaded store reads it back.
        sdk.deinit();
        emu::host::deinit();
        sdk.init().unwrap();
        {
            let srv = sdk.login().unwrap();
            let list = sdk.guests(&srv, PVTF_CT).unwrap();
            let urls: Vec<String> = list[0]
                .devices(PDE_HARD_DISK)
                .unwrap()
                .iter()
                .filter(|d| d.mount_point().unwrap() == "/data")
                .map(|d| d.storage_url().unwrap())
                .collect();
            assert_eq!(urls, ["libvirt://localhost/pool1/vol1"]);
            list[0].delete().unwrap();
        }
        sdk.deinit();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_job_that_never_ends_times_out_and_is_cancelled() {
        let dir = std::env::temp_dir().join(format!("virtvzd-sdk-hang-{}", std::process::id()));
        let _turn = emu::host::TEST_TURN.lock();
        emu::host::deinit();
        let sdk = Sdk::embedded(&dir, Duration::from_millis(100));
        sdk.init().unwrap();
        let (raw, job) = emu::hung_job();
        let e = sdk.wait(raw, "PrlVm_StartEx").unwrap_err();
        assert_eq!(e.code, err::PRL_ERR_TIMEOUT);
        assert_eq!(
            e.message,
            "PrlVm_StartEx did not finish within 100ms; it was cancelled"
        );
        match &*job {
            emu::handles::Object::Job(j) => {
                let s = j.state.lock();
                assert!(s.done);
                assert_eq!(s.rc, err::PRL_ERR_OPERATION_WAS_CANCELED);
            }
            _ => panic!("not a job"),
        }
        sdk.deinit();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_lost_dispatcher_ends_the_session_and_tells_its_handlers() {
        let dir = std::env::temp_dir().join(format!("virtvzd-sdk-drop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _turn = emu::host::TEST_TURN.lock();
        emu::host::deinit();
        let sdk = Sdk::embedded(&dir, Duration::from_secs(10));
        sdk.init().unwrap();
        let old = sdk.login().unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        let sub = sdk
            .subscribe(
                &old,
                Box::new(move |e| {
                    let _ = tx.send(e.kind);
                }),
            )
            .unwrap();
        sdk.guests(&old, PVTF_VM).unwrap();
        emu::drop_connection();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Ok(abi::event::PET_DSP_EVT_DISP_CONNECTION_CLOSED)
        );
        assert_eq!(
            sdk.guests(&old, PVTF_VM).unwrap_err().code,
            err::PRL_ERR_IO_NO_CONNECTION
        );
        // A new login works; the old handler hears nothing of it.
        let new = sdk.login().unwrap();
        let g = sdk.new_vm(&new).unwrap();
        g.set_name("after").unwrap();
        g.register().unwrap();
        assert_eq!(sdk.guests(&new, PVTF_VM).unwrap().len(), 1);
        sdk.unsubscribe(&old, sub).unwrap();
        sdk.logoff(&old).unwrap();
        g.delete().unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        sdk.deinit();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

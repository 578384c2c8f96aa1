//! The one table of SDK entry points the driver calls, filled either from
//! the embedded host or by dlsym from a loaded `libprl_sdk.so.7`, under
//! the names the SDK exports.
//!
//! The list of functions exists once, in [`for_each_sdk_function!`]; the
//! table, its names, the embedded host's entry points (`emu::entry`) and
//! the exports of the embedded host built as a shared library
//! (`test/prlsdk-emu`) are all generated from it. Each signature is the
//! one of the SDK's public headers (`Sources/SDK/Include/*.h`); enum
//! parameters appear as `PRL_ENUM`/`PRL_UINT32` (4 bytes, the same C ABI).

#![allow(non_snake_case)]

use super::abi::*;
use std::os::raw::c_void;

/// Expands `$m! { Name(arg: Type, ...) -> Ret; ... }` with every SDK
/// function of the table, so each use of the list is generated from the
/// same source.
#[macro_export]
macro_rules! for_each_sdk_function {
    ($m:ident) => {
        $m! {
            // API set-up.
            PrlApi_InitEx(version: PRL_UINT32, app_mode: PRL_ENUM, flags: PRL_UINT32, reserved: PRL_UINT32) -> PRL_RESULT;
            PrlApi_Deinit() -> PRL_RESULT;
            PrlApi_SwitchConsoleLogging(on: PRL_BOOL) -> PRL_RESULT;
            // The server session.
            PrlSrv_Create(server: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlSrv_LoginLocalEx(server: PRL_HANDLE, prev_session: PRL_CONST_STR, port: PRL_UINT32, security: PRL_ENUM, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlSrv_Logoff(server: PRL_HANDLE) -> PRL_HANDLE;
            PrlLoginResponse_GetSessionUuid(response: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlSrv_GetVmListEx(server: PRL_HANDLE, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlSrv_GetVmConfig(server: PRL_HANDLE, id: PRL_CONST_STR, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlSrv_CreateVm(server: PRL_HANDLE, vm: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlSrv_GetSrvConfig(server: PRL_HANDLE) -> PRL_HANDLE;
            PrlSrv_GetDefaultVmConfig(server: PRL_HANDLE, param: *const PRL_GET_VM_CONFIG_PARAM_DATA, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlSrv_GetServerInfo(server: PRL_HANDLE, info: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlSrvInfo_GetProductVersion(info: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlSrv_RegEventHandler(server: PRL_HANDLE, handler: PRL_EVENT_HANDLER_PTR, data: PRL_VOID_PTR) -> PRL_RESULT;
            PrlSrv_UnregEventHandler(server: PRL_HANDLE, handler: PRL_EVENT_HANDLER_PTR, data: PRL_VOID_PTR) -> PRL_RESULT;
            // Jobs and their results.
            PrlJob_Wait(job: PRL_HANDLE, msecs: PRL_UINT32) -> PRL_RESULT;
            PrlJob_Cancel(job: PRL_HANDLE) -> PRL_HANDLE;
            PrlJob_GetRetCode(job: PRL_HANDLE, rc: *mut PRL_RESULT) -> PRL_RESULT;
            PrlJob_GetError(job: PRL_HANDLE, error: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlJob_GetResult(job: PRL_HANDLE, result: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlResult_GetParamsCount(result: PRL_HANDLE, count: *mut PRL_UINT32) -> PRL_RESULT;
            PrlResult_GetParamByIndex(result: PRL_HANDLE, index: PRL_UINT32, param: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlResult_GetParam(result: PRL_HANDLE, param: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlResult_GetParamAsString(result: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            // Handles, events and errors.
            PrlHandle_Free(handle: PRL_HANDLE) -> PRL_RESULT;
            PrlHandle_AddRef(handle: PRL_HANDLE) -> PRL_RESULT;
            PrlHandle_GetType(handle: PRL_HANDLE, kind: *mut PRL_ENUM) -> PRL_RESULT;
            PrlApi_CreateStringsList(list: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlStrList_AddItem(list: PRL_HANDLE, item: PRL_CONST_STR) -> PRL_RESULT;
            PrlStrList_GetItemsCount(list: PRL_HANDLE, count: *mut PRL_UINT32) -> PRL_RESULT;
            PrlStrList_GetItem(list: PRL_HANDLE, index: PRL_UINT32, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlEvent_GetType(event: PRL_HANDLE, kind: *mut PRL_ENUM) -> PRL_RESULT;
            PrlEvent_GetIssuerId(event: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlEvent_GetParamByName(event: PRL_HANDLE, name: PRL_CONST_STR, param: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlEvent_GetErrCode(event: PRL_HANDLE, code: *mut PRL_RESULT) -> PRL_RESULT;
            PrlEvent_GetErrString(event: PRL_HANDLE, brief: PRL_BOOL, formatted: PRL_BOOL, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlEvtPrm_ToInt32(param: PRL_HANDLE, value: *mut PRL_INT32) -> PRL_RESULT;
            PrlEvtPrm_ToInt64(param: PRL_HANDLE, value: *mut PRL_INT64) -> PRL_RESULT;
            // Guests: state and lifecycle (jobs).
            PrlVm_GetState(vm: PRL_HANDLE) -> PRL_HANDLE;
            PrlVmInfo_GetState(info: PRL_HANDLE, state: *mut PRL_ENUM) -> PRL_RESULT;
            PrlVm_StartEx(vm: PRL_HANDLE, mode: PRL_UINT32, reserved: PRL_UINT32) -> PRL_HANDLE;
            PrlVm_StopEx(vm: PRL_HANDLE, mode: PRL_UINT32, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlVm_Pause(vm: PRL_HANDLE, acpi: PRL_BOOL) -> PRL_HANDLE;
            PrlVm_Resume(vm: PRL_HANDLE) -> PRL_HANDLE;
            PrlVm_Suspend(vm: PRL_HANDLE) -> PRL_HANDLE;
            PrlVm_DropSuspendedState(vm: PRL_HANDLE) -> PRL_HANDLE;
            PrlVm_Restart(vm: PRL_HANDLE) -> PRL_HANDLE;
            PrlVm_Reset(vm: PRL_HANDLE) -> PRL_HANDLE;
            PrlVm_SubscribeToPerfStats(vm: PRL_HANDLE, filter: PRL_CONST_STR) -> PRL_HANDLE;
            PrlVm_SetUserPasswd(vm: PRL_HANDLE, user: PRL_CONST_STR, password: PRL_CONST_STR, flags: PRL_UINT32) -> PRL_HANDLE;
            // Guests: registration and edits (jobs).
            PrlVm_RefreshConfig(vm: PRL_HANDLE) -> PRL_HANDLE;
            PrlVm_BeginEdit(vm: PRL_HANDLE) -> PRL_HANDLE;
            PrlVm_CommitEx(vm: PRL_HANDLE, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlVm_Reg(vm: PRL_HANDLE, parent_path: PRL_CONST_STR, non_interactive: PRL_BOOL) -> PRL_HANDLE;
            PrlVm_RegEx(vm: PRL_HANDLE, parent_path: PRL_CONST_STR, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlVm_Delete(vm: PRL_HANDLE, devices: PRL_HANDLE) -> PRL_HANDLE;
            // Snapshots (jobs).
            PrlVm_CreateSnapshot(vm: PRL_HANDLE, name: PRL_CONST_STR, description: PRL_CONST_STR) -> PRL_HANDLE;
            PrlVm_DeleteSnapshot(vm: PRL_HANDLE, snapshot: PRL_CONST_STR, children: PRL_BOOL) -> PRL_HANDLE;
            PrlVm_SwitchToSnapshotEx(vm: PRL_HANDLE, snapshot: PRL_CONST_STR, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlVm_GetSnapshotsTreeEx(vm: PRL_HANDLE, flags: PRL_UINT32) -> PRL_HANDLE;
            // Guest configuration.
            PrlVmCfg_SetDefaultConfig(vm: PRL_HANDLE, srv_config: PRL_HANDLE, os_version: PRL_UINT32, create_devices: PRL_BOOL) -> PRL_RESULT;
            PrlVmCfg_SetOfflineManagementEnabled(vm: PRL_HANDLE, on: PRL_BOOL) -> PRL_RESULT;
            PrlVmCfg_GetName(vm: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetName(vm: PRL_HANDLE, name: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmCfg_GetUuid(vm: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetUuid(vm: PRL_HANDLE, uuid: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmCfg_GetDescription(vm: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetDescription(vm: PRL_HANDLE, description: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmCfg_GetRamSize(vm: PRL_HANDLE, mib: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetRamSize(vm: PRL_HANDLE, mib: PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetCpuCount(vm: PRL_HANDLE, count: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetCpuCount(vm: PRL_HANDLE, count: PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetCpuMask(vm: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetCpuMode(vm: PRL_HANDLE, mode: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetCpuMode(vm: PRL_HANDLE, mode: PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetCpuMask(vm: PRL_HANDLE, mask: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmCfg_GetVmType(vm: PRL_HANDLE, kind: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetEnvId(vm: PRL_HANDLE, id: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetAutoStart(vm: PRL_HANDLE, option: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetAutoStart(vm: PRL_HANDLE, option: PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetVNCMode(vm: PRL_HANDLE, mode: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetVNCMode(vm: PRL_HANDLE, mode: PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetVNCPort(vm: PRL_HANDLE, port: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetVNCPort(vm: PRL_HANDLE, port: PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetVNCHostName(vm: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetVNCHostName(vm: PRL_HANDLE, host: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmCfg_GetVNCPassword(vm: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetVNCPassword(vm: PRL_HANDLE, password: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmCfg_GetVideoRamSize(vm: PRL_HANDLE, mib: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetVideoRamSize(vm: PRL_HANDLE, mib: PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetOsTemplate(vm: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_SetOsTemplate(vm: PRL_HANDLE, template: PRL_CONST_STR) -> PRL_RESULT;
            // Devices and boot order.
            PrlVmCfg_GetDevsCountByType(vm: PRL_HANDLE, dev_type: PRL_ENUM, count: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetDevByType(vm: PRL_HANDLE, dev_type: PRL_ENUM, index: PRL_UINT32, dev: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlVmCfg_CreateVmDev(vm: PRL_HANDLE, dev_type: PRL_ENUM, dev: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlVmDev_Remove(dev: PRL_HANDLE) -> PRL_RESULT;
            PrlVmDev_ResizeImage(dev: PRL_HANDLE, mib: PRL_UINT32, flags: PRL_UINT32) -> PRL_HANDLE;
            PrlVmDev_GetType(dev: PRL_HANDLE, dev_type: *mut PRL_ENUM) -> PRL_RESULT;
            PrlVmDev_GetIndex(dev: PRL_HANDLE, index: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_SetIndex(dev: PRL_HANDLE, index: PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_GetEmulatedType(dev: PRL_HANDLE, kind: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_SetEmulatedType(dev: PRL_HANDLE, kind: PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_GetStackIndex(dev: PRL_HANDLE, index: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_SetStackIndex(dev: PRL_HANDLE, index: PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_GetIfaceType(dev: PRL_HANDLE, bus: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_SetIfaceType(dev: PRL_HANDLE, bus: PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_IsConnected(dev: PRL_HANDLE, connected: *mut PRL_BOOL) -> PRL_RESULT;
            PrlVmDev_SetConnected(dev: PRL_HANDLE, connected: PRL_BOOL) -> PRL_RESULT;
            PrlVmDev_SetEnabled(dev: PRL_HANDLE, enabled: PRL_BOOL) -> PRL_RESULT;
            PrlVmDev_GetImagePath(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_SetImagePath(dev: PRL_HANDLE, path: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDev_GetFriendlyName(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDev_SetFriendlyName(dev: PRL_HANDLE, name: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDev_SetSysName(dev: PRL_HANDLE, name: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevNet_GetMacAddress(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevNet_SetMacAddress(dev: PRL_HANDLE, mac: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevNet_GetHostInterfaceName(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevNet_SetHostInterfaceName(dev: PRL_HANDLE, name: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevNet_GetVirtualNetworkId(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevNet_SetVirtualNetworkId(dev: PRL_HANDLE, network: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevNet_GetAdapterType(dev: PRL_HANDLE, model: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevNet_SetAdapterType(dev: PRL_HANDLE, model: PRL_UINT32) -> PRL_RESULT;
            PrlVmDevNet_IsPktFilterPreventMacSpoof(dev: PRL_HANDLE, on: *mut PRL_BOOL) -> PRL_RESULT;
            PrlVmDevNet_SetPktFilterPreventMacSpoof(dev: PRL_HANDLE, on: PRL_BOOL) -> PRL_RESULT;
            PrlVmDevNet_GetNetAddresses(dev: PRL_HANDLE, list: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlVmDevNet_SetNetAddresses(dev: PRL_HANDLE, list: PRL_HANDLE) -> PRL_RESULT;
            PrlVmDevNet_GetDefaultGateway(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevNet_SetDefaultGateway(dev: PRL_HANDLE, gateway: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevNet_GetDefaultGatewayIPv6(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevNet_SetDefaultGatewayIPv6(dev: PRL_HANDLE, gateway: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevNet_SetConfigureWithDhcp(dev: PRL_HANDLE, on: PRL_BOOL) -> PRL_RESULT;
            PrlVmDevNet_SetConfigureWithDhcpIPv6(dev: PRL_HANDLE, on: PRL_BOOL) -> PRL_RESULT;
            PrlVmDevNet_SetAutoApply(dev: PRL_HANDLE, on: PRL_BOOL) -> PRL_RESULT;
            PrlVmDevSerial_GetSocketMode(dev: PRL_HANDLE, mode: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevSerial_SetSocketMode(dev: PRL_HANDLE, mode: PRL_UINT32) -> PRL_RESULT;
            PrlVmDevHd_GetMountPoint(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevHd_SetMountPoint(dev: PRL_HANDLE, path: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevHd_GetStorageURL(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevHd_SetStorageURL(dev: PRL_HANDLE, url: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevHd_GetSerialNumber(dev: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmDevHd_SetSerialNumber(dev: PRL_HANDLE, serial: PRL_CONST_STR) -> PRL_RESULT;
            PrlVmDevHd_GetDiskSize(dev: PRL_HANDLE, mib: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetBootDevCount(vm: PRL_HANDLE, count: *mut PRL_UINT32) -> PRL_RESULT;
            PrlVmCfg_GetBootDev(vm: PRL_HANDLE, index: PRL_UINT32, boot: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlVmCfg_CreateBootDev(vm: PRL_HANDLE, boot: PRL_HANDLE_PTR) -> PRL_RESULT;
            PrlBootDev_Remove(boot: PRL_HANDLE) -> PRL_RESULT;
            PrlBootDev_GetType(boot: PRL_HANDLE, dev_type: *mut PRL_UINT32) -> PRL_RESULT;
            PrlBootDev_SetType(boot: PRL_HANDLE, dev_type: PRL_UINT32) -> PRL_RESULT;
            PrlBootDev_GetIndex(boot: PRL_HANDLE, index: *mut PRL_UINT32) -> PRL_RESULT;
            PrlBootDev_SetIndex(boot: PRL_HANDLE, index: PRL_UINT32) -> PRL_RESULT;
            PrlBootDev_GetSequenceIndex(boot: PRL_HANDLE, sequence: *mut PRL_UINT32) -> PRL_RESULT;
            PrlBootDev_SetSequenceIndex(boot: PRL_HANDLE, sequence: PRL_UINT32) -> PRL_RESULT;
            PrlBootDev_SetInUse(boot: PRL_HANDLE, in_use: PRL_BOOL) -> PRL_RESULT;
        }
    };
}

macro_rules! sdk_table {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        /// Pointers to the SDK functions the driver uses.
        pub struct SdkTable {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub $name: unsafe extern "C" fn($($arg: $ty),*) -> $ret,
            )*
        }

        /// The names of the table's functions, as the library exports them.
        pub const FUNCTION_NAMES: &[&str] = &[$(stringify!($name)),*];

        impl SdkTable {
            /// The table of the embedded Virtuozzo host (through its entry
            /// points, which apply the test-only fault injection).
            pub fn embedded() -> SdkTable {
                SdkTable { $($name: super::emu::entry::$name,)* }
            }

            /// The table from a loaded library: `lookup` gives the address
            /// of each exported name (dlsym). Every missing name is
            /// returned, so one error can list them all.
            ///
            /// # Safety
            /// Each non-null address `lookup` returns must be the SDK
            /// function of that name, with the signature of this table.
            pub unsafe fn resolve(
                mut lookup: impl FnMut(&str) -> *mut c_void,
            ) -> Result<SdkTable, Vec<&'static str>> {
                let mut missing = Vec::new();
                $(
                    #[allow(non_snake_case)]
                    let $name = lookup(stringify!($name));
                    if $name.is_null() {
                        missing.push(stringify!($name));
                    }
                )*
                if !missing.is_empty() {
                    return Err(missing);
                }
                Ok(SdkTable {
                    $(
                        // SAFETY: non-null, and by the caller's contract the
                        // function of this name and signature.
                        $name: unsafe {
                            std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($ty),*) -> $ret>($name)
                        },
                    )*
                })
            }
        }
    };
}

for_each_sdk_function!(sdk_table);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_resolve_names_every_missing_one() {
        let mut names = FUNCTION_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FUNCTION_NAMES.len());
        // SAFETY: the lookup returns no address at all.
        let missing = unsafe { SdkTable::resolve(|_| std::ptr::null_mut()) }
            .err()
            .unwrap_or_default();
        assert_eq!(missing, FUNCTION_NAMES);
    }
}

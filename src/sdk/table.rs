//! The one table of SDK entry points the driver calls: filled from the
//! embedded host here, and (with the real-SDK issue) by dlsym from
//! `libprl_sdk.so.7` under the same names.

#![allow(non_snake_case)]

use super::abi::*;
use super::emu;

macro_rules! sdk_table {
    ($($name:ident : fn($($arg:ty),*) -> $ret:ty;)*) => {
        /// Pointers to the SDK functions the driver uses.
        pub struct SdkTable {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub $name: unsafe extern "C" fn($($arg),*) -> $ret,
            )*
        }

        /// The names of the table's functions, as the library exports them.
        pub const FUNCTION_NAMES: &[&str] = &[$(stringify!($name)),*];

        impl SdkTable {
            /// The table of the embedded Virtuozzo host.
            pub fn embedded() -> SdkTable {
                SdkTable { $($name: emu::$name,)* }
            }
        }
    };
}

sdk_table! {
    PrlApi_InitEx: fn(PRL_UINT32, PRL_ENUM, PRL_UINT32, PRL_UINT32) -> PRL_RESULT;
    PrlApi_Deinit: fn() -> PRL_RESULT;
    PrlSrv_Create: fn(PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlSrv_LoginLocalEx: fn(PRL_HANDLE, PRL_CONST_STR, PRL_UINT32, PRL_ENUM, PRL_UINT32) -> PRL_HANDLE;
    PrlSrv_Logoff: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlLoginResponse_GetSessionUuid: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlSrv_GetVmListEx: fn(PRL_HANDLE, PRL_UINT32) -> PRL_HANDLE;
    PrlSrv_GetVmConfig: fn(PRL_HANDLE, PRL_CONST_STR, PRL_UINT32) -> PRL_HANDLE;
    PrlSrv_CreateVm: fn(PRL_HANDLE, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlJob_Wait: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlJob_GetRetCode: fn(PRL_HANDLE, *mut PRL_RESULT) -> PRL_RESULT;
    PrlJob_GetError: fn(PRL_HANDLE, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlJob_GetResult: fn(PRL_HANDLE, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlResult_GetParamsCount: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlResult_GetParamByIndex: fn(PRL_HANDLE, PRL_UINT32, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlResult_GetParam: fn(PRL_HANDLE, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlEvent_GetErrCode: fn(PRL_HANDLE, *mut PRL_RESULT) -> PRL_RESULT;
    PrlEvent_GetErrString: fn(PRL_HANDLE, PRL_BOOL, PRL_BOOL, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlHandle_Free: fn(PRL_HANDLE) -> PRL_RESULT;
    PrlHandle_AddRef: fn(PRL_HANDLE) -> PRL_RESULT;
    PrlHandle_GetType: fn(PRL_HANDLE, *mut PRL_ENUM) -> PRL_RESULT;
    PrlVm_GetState: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlVmInfo_GetState: fn(PRL_HANDLE, *mut PRL_ENUM) -> PRL_RESULT;
    PrlVm_StartEx: fn(PRL_HANDLE, PRL_UINT32, PRL_UINT32) -> PRL_HANDLE;
    PrlVm_StopEx: fn(PRL_HANDLE, PRL_UINT32, PRL_UINT32) -> PRL_HANDLE;
    PrlVm_Pause: fn(PRL_HANDLE, PRL_BOOL) -> PRL_HANDLE;
    PrlVm_Resume: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlVm_Suspend: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlVm_DropSuspendedState: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlVm_Restart: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlVm_Reset: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlVm_RefreshConfig: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlVm_BeginEdit: fn(PRL_HANDLE) -> PRL_HANDLE;
    PrlVm_CommitEx: fn(PRL_HANDLE, PRL_UINT32) -> PRL_HANDLE;
    PrlVm_Reg: fn(PRL_HANDLE, PRL_CONST_STR, PRL_BOOL) -> PRL_HANDLE;
    PrlVm_Delete: fn(PRL_HANDLE, PRL_HANDLE) -> PRL_HANDLE;
    PrlSrv_RegEventHandler: fn(PRL_HANDLE, PRL_EVENT_HANDLER_PTR, PRL_VOID_PTR) -> PRL_RESULT;
    PrlSrv_UnregEventHandler: fn(PRL_HANDLE, PRL_EVENT_HANDLER_PTR, PRL_VOID_PTR) -> PRL_RESULT;
    PrlEvent_GetType: fn(PRL_HANDLE, *mut PRL_ENUM) -> PRL_RESULT;
    PrlEvent_GetIssuerId: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlEvent_GetParamByName: fn(PRL_HANDLE, PRL_CONST_STR, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlEvtPrm_ToInt32: fn(PRL_HANDLE, *mut PRL_INT32) -> PRL_RESULT;
    PrlEvtPrm_ToInt64: fn(PRL_HANDLE, *mut i64) -> PRL_RESULT;
    PrlVm_SubscribeToPerfStats: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_HANDLE;
    PrlVm_CreateSnapshot: fn(PRL_HANDLE, PRL_CONST_STR, PRL_CONST_STR) -> PRL_HANDLE;
    PrlVm_DeleteSnapshot: fn(PRL_HANDLE, PRL_CONST_STR, PRL_BOOL) -> PRL_HANDLE;
    PrlVm_SwitchToSnapshotEx: fn(PRL_HANDLE, PRL_CONST_STR, PRL_UINT32) -> PRL_HANDLE;
    PrlVm_GetSnapshotsTreeEx: fn(PRL_HANDLE, PRL_UINT32) -> PRL_HANDLE;
    PrlResult_GetParamAsString: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVm_SetUserPasswd: fn(PRL_HANDLE, PRL_CONST_STR, PRL_CONST_STR, PRL_UINT32) -> PRL_HANDLE;
    PrlVmCfg_GetName: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetName: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmCfg_GetUuid: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetUuid: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmCfg_GetDescription: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetDescription: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmCfg_GetRamSize: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetRamSize: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetCpuCount: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetCpuCount: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetVmType: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetVmType: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetAutoStart: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetAutoStart: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetEnvId: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetVNCMode: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetVNCMode: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetVNCPort: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetVNCPort: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetVNCHostName: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetVNCHostName: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmCfg_GetVNCPassword: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetVNCPassword: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmCfg_GetVideoRamSize: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetVideoRamSize: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlSrv_GetServerInfo: fn(PRL_HANDLE, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlSrvInfo_GetProductVersion: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetCpuMask: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetCpuMask: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmCfg_GetOsTemplate: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_SetOsTemplate: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmCfg_GetDevsCountByType: fn(PRL_HANDLE, PRL_ENUM, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetDevByType: fn(PRL_HANDLE, PRL_ENUM, PRL_UINT32, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlVmCfg_CreateVmDev: fn(PRL_HANDLE, PRL_ENUM, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlVmDev_Remove: fn(PRL_HANDLE) -> PRL_RESULT;
    PrlVmDev_ResizeImage: fn(PRL_HANDLE, PRL_UINT32, PRL_UINT32) -> PRL_HANDLE;
    PrlVmDev_GetType: fn(PRL_HANDLE, *mut PRL_ENUM) -> PRL_RESULT;
    PrlVmDev_GetIndex: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_SetIndex: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_GetEmulatedType: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_SetEmulatedType: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_GetStackIndex: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_SetStackIndex: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_GetIfaceType: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_SetIfaceType: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_IsConnected: fn(PRL_HANDLE, *mut PRL_BOOL) -> PRL_RESULT;
    PrlVmDev_SetConnected: fn(PRL_HANDLE, PRL_BOOL) -> PRL_RESULT;
    PrlVmDev_SetEnabled: fn(PRL_HANDLE, PRL_BOOL) -> PRL_RESULT;
    PrlVmDev_GetImagePath: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_SetImagePath: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmDev_GetFriendlyName: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDev_SetFriendlyName: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmDev_SetSysName: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmDevNet_GetMacAddress: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDevNet_SetMacAddress: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmDevNet_GetHostInterfaceName: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDevNet_SetHostInterfaceName: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmDevNet_GetVirtualNetworkId: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDevNet_SetVirtualNetworkId: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmDevNet_GetAdapterType: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDevNet_SetAdapterType: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmDevSerial_GetSocketMode: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDevSerial_SetSocketMode: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlVmDevHd_GetMountPoint: fn(PRL_HANDLE, PRL_STR, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmDevHd_SetMountPoint: fn(PRL_HANDLE, PRL_CONST_STR) -> PRL_RESULT;
    PrlVmCfg_GetBootDevCount: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlVmCfg_GetBootDev: fn(PRL_HANDLE, PRL_UINT32, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlVmCfg_CreateBootDev: fn(PRL_HANDLE, PRL_HANDLE_PTR) -> PRL_RESULT;
    PrlBootDev_Remove: fn(PRL_HANDLE) -> PRL_RESULT;
    PrlBootDev_GetType: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlBootDev_SetType: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlBootDev_GetIndex: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlBootDev_SetIndex: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlBootDev_GetSequenceIndex: fn(PRL_HANDLE, *mut PRL_UINT32) -> PRL_RESULT;
    PrlBootDev_SetSequenceIndex: fn(PRL_HANDLE, PRL_UINT32) -> PRL_RESULT;
    PrlBootDev_SetInUse: fn(PRL_HANDLE, PRL_BOOL) -> PRL_RESULT;
}

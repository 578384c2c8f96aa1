//! The Virtuozzo SDK's C ABI (libprl_sdk.so.7, x86-64 Linux): types and the
//! constant values the driver depends on, from the SDK's public headers
//! (`OpenVZ/libprlsdk:Sources/SDK/Include`), restated as facts.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

/// `PRL_HANDLE`: an opaque pointer; null is `PRL_INVALID_HANDLE`.
pub type PRL_HANDLE = *mut c_int;
/// `PRL_HANDLE_PTR`
pub type PRL_HANDLE_PTR = *mut PRL_HANDLE;
/// `PRL_RESULT`: 0 success, negative errors.
pub type PRL_RESULT = c_int;
/// `PRL_UINT32`
pub type PRL_UINT32 = u32;
/// `PRL_INT32`
pub type PRL_INT32 = i32;
/// `PRL_UINT64`
pub type PRL_UINT64 = u64;
/// `PRL_BOOL`: 0 or 1.
pub type PRL_BOOL = c_uint;
/// `PRL_STR`
pub type PRL_STR = *mut c_char;
/// `PRL_CONST_STR`
pub type PRL_CONST_STR = *const c_char;
/// `PRL_VOID_PTR`
pub type PRL_VOID_PTR = *mut c_void;
/// Any SDK enum (4 bytes).
pub type PRL_ENUM = c_uint;
/// The event callback: `PRL_RESULT (*)(PRL_HANDLE hEvent, PRL_VOID_PTR data)`.
pub type PRL_EVENT_HANDLER_PTR =
    Option<unsafe extern "C" fn(event: PRL_HANDLE, data: PRL_VOID_PTR) -> PRL_RESULT>;

/// `PrlApi_InitEx` version for Virtuozzo 7 ((7 << 16) | 0).
pub const VIRTUOZZO_API_VER: u32 = 458_752;
/// Application mode: a server-side client.
pub const PAM_SERVER: u32 = 0;
/// Login security level.
pub const PSL_HIGH_SECURITY: u32 = 2;
/// Login flag: never ask questions.
pub const PACF_NON_INTERACTIVE_MODE: u32 = 4;
/// `PrlSrv_GetVmListEx` flag: virtual machines.
pub const PVTF_VM: u32 = 2048;
/// `PrlSrv_GetVmListEx` flag: containers.
pub const PVTF_CT: u32 = 4096;
/// `PrlSrv_GetVmConfig` flag: the search id is a UUID.
pub const PGVC_SEARCH_BY_UUID: u32 = 2048;
/// `PrlVm_StartEx` mode: a normal start.
pub const PSM_VM_START: u32 = 2048;
/// `PrlVm_StopEx` mode: power off.
pub const PSM_KILL: u32 = 0;
/// `PrlVm_StopEx` mode: ACPI shutdown.
pub const PSM_SHUTDOWN: u32 = 1;

/// `PrlVm_SwitchToSnapshotEx` flag: do not resume the guest.
pub const PSSF_SKIP_RESUME: u32 = 2048;
/// `PrlVm_GetSnapshotsTreeEx` flag: no screenshots in the tree.
pub const PGST_WITHOUT_SCREENSHOTS: u32 = 4096;

/// `PrlVmDev_ResizeImage` flag: grow the last partition too.
pub const PRIF_RESIZE_LAST_PARTITION: u32 = 2048;

/// Guest type: virtual machine.
pub const PVT_VM: u32 = 0;
/// Guest type: container.
pub const PVT_CT: u32 = 1;
/// Autostart: manual.
pub const PAO_VM_START_MANUAL: u32 = 0;
/// Autostart: when the host starts.
pub const PAO_VM_START_ON_LOAD: u32 = 1;

/// Handle types (`PRL_HANDLE_TYPE`).
pub mod handle_type {
    /// An error event.
    pub const PHT_ERROR: u32 = 0;
    /// A server session.
    pub const PHT_SERVER: u32 = 268_435_457;
    /// A guest (and its configuration).
    pub const PHT_VIRTUAL_MACHINE: u32 = 268_435_461;
    /// An event.
    pub const PHT_EVENT: u32 = 268_435_474;
    /// A job.
    pub const PHT_JOB: u32 = 268_435_473;
    /// A job result.
    pub const PHT_RESULT: u32 = 268_435_475;
    /// A login response.
    pub const PHT_LOGIN_RESPONSE: u32 = 268_435_499;
    /// A guest's runtime info.
    pub const PHT_VM_INFO: u32 = 268_435_476;
    /// A hard disk.
    pub const PHT_VIRTUAL_DEV_HARD_DISK: u32 = 268_435_466;
    /// An optical disk.
    pub const PHT_VIRTUAL_DEV_OPTICAL_DISK: u32 = 268_435_470;
    /// A network adapter.
    pub const PHT_VIRTUAL_DEV_NET_ADAPTER: u32 = 268_435_467;
    /// A serial port.
    pub const PHT_VIRTUAL_DEV_SERIAL_PORT: u32 = 268_435_469;
    /// A boot order entry.
    pub const PHT_BOOT_DEVICE: u32 = 268_435_497;
    /// An event parameter.
    pub const PHT_EVENT_PARAMETER: u32 = 268_435_486;
    /// Server facts.
    pub const PHT_SERVER_INFO: u32 = 268_435_496;
}

/// Device types (`PRL_DEVICE_TYPE`).
pub mod dev {
    /// Optical disk.
    pub const PDE_OPTICAL_DISK: u32 = 5;
    /// Hard disk.
    pub const PDE_HARD_DISK: u32 = 6;
    /// Network adapter.
    pub const PDE_GENERIC_NETWORK_ADAPTER: u32 = 8;
    /// Serial port.
    pub const PDE_SERIAL_PORT: u32 = 10;
    /// Emulation: a real host device.
    pub const PDT_USE_REAL_DEVICE: u32 = 0;
    /// Emulation: an image file.
    pub const PDT_USE_IMAGE_FILE: u32 = 1;
    /// Emulation: an output file.
    pub const PDT_USE_OUTPUT_FILE: u32 = 2;
    /// Emulation: a socket.
    pub const PDT_USE_SERIAL_PORT_SOCKET_MODE: u32 = 3;
    /// Emulation: a directory (container file system).
    pub const PDT_USE_FILE_SYSTEM: u32 = 5;
    /// Bus: IDE.
    pub const PMS_IDE_DEVICE: u32 = 0;
    /// Bus: SCSI.
    pub const PMS_SCSI_DEVICE: u32 = 1;
    /// Bus: SATA.
    pub const PMS_SATA_DEVICE: u32 = 2;
    /// Network: host-only.
    pub const PNA_HOST_ONLY: u32 = 0;
    /// Network: a virtual network.
    pub const PNA_BRIDGED_NETWORK: u32 = 2;
    /// Network: routed (containers).
    pub const PNA_ROUTED: u32 = 5;
    /// Network: a host bridge.
    pub const PNA_BRIDGE: u32 = 6;
    /// Adapter model: none given.
    pub const PNT_UNDEFINED: u32 = 0;
    /// Adapter model: RTL8139.
    pub const PNT_RTL: u32 = 1;
    /// Adapter model: e1000.
    pub const PNT_E1000: u32 = 2;
    /// Adapter model: virtio.
    pub const PNT_VIRTIO: u32 = 3;
    /// Serial socket: server.
    pub const PSP_SERIAL_SOCKET_SERVER: u32 = 0;
    /// Serial socket: client.
    pub const PSP_SERIAL_SOCKET_CLIENT: u32 = 1;
    /// VNC off.
    pub const PRD_DISABLED: u32 = 0;
    /// VNC with an automatic port.
    pub const PRD_AUTO: u32 = 1;
    /// VNC on a given port.
    pub const PRD_MANUAL: u32 = 2;
}

/// Guest states (`VIRTUAL_MACHINE_STATE`).
pub mod vms {
    /// Unknown.
    pub const VMS_UNKNOWN: u32 = 0;
    /// Stopped.
    pub const VMS_STOPPED: u32 = 805_306_369;
    /// Starting.
    pub const VMS_STARTING: u32 = 805_306_370;
    /// Restoring from a suspended state.
    pub const VMS_RESTORING: u32 = 805_306_371;
    /// Running.
    pub const VMS_RUNNING: u32 = 805_306_372;
    /// Paused.
    pub const VMS_PAUSED: u32 = 805_306_373;
    /// Suspending.
    pub const VMS_SUSPENDING: u32 = 805_306_374;
    /// Stopping.
    pub const VMS_STOPPING: u32 = 805_306_375;
    /// Suspended to disk.
    pub const VMS_SUSPENDED: u32 = 805_306_377;
    /// Resetting.
    pub const VMS_RESETTING: u32 = 805_306_379;
    /// Pausing.
    pub const VMS_PAUSING: u32 = 805_306_380;
    /// Continuing after a pause.
    pub const VMS_CONTINUING: u32 = 805_306_381;
}

/// Event types (`PRL_EVENT_TYPE`).
pub mod event {
    /// A guest's state changed.
    pub const PET_DSP_EVT_VM_STATE_CHANGED: u32 = 100_001;
    /// A guest's configuration changed.
    pub const PET_DSP_EVT_VM_CONFIG_CHANGED: u32 = 100_002;
    /// A guest was registered.
    pub const PET_DSP_EVT_VM_ADDED: u32 = 100_005;
    /// A guest was deleted.
    pub const PET_DSP_EVT_VM_DELETED: u32 = 100_006;
    /// Performance counters of a guest.
    pub const PET_DSP_EVT_VM_PERFSTATS: u32 = 100_901;
    /// The dispatcher connection was lost.
    pub const PET_DSP_EVT_DISP_CONNECTION_CLOSED: u32 = 100_403;
}

/// Error codes (`PRL_RESULT` values).
pub mod err {
    /// Success.
    pub const PRL_ERR_SUCCESS: i32 = 0;
    /// Not implemented.
    pub const PRL_ERR_UNIMPLEMENTED: i32 = -2_147_483_640;
    /// Invalid argument.
    pub const PRL_ERR_INVALID_ARG: i32 = -2_147_483_645;
    /// Out of memory.
    pub const PRL_ERR_OUT_OF_MEMORY: i32 = -2_147_483_646;
    /// No data.
    pub const PRL_ERR_NO_DATA: i32 = -2_147_483_628;
    /// The buffer is too small (the needed size is stored).
    pub const PRL_ERR_BUFFER_OVERRUN: i32 = -2_147_483_642;
    /// Not a live handle (or the wrong type).
    pub const PRL_ERR_INVALID_HANDLE: i32 = -2_147_483_644;
    /// The guest is not running.
    pub const PRL_ERR_DISP_VM_IS_NOT_STARTED: i32 = -2_147_482_761;
    /// The guest is not stopped.
    pub const PRL_ERR_DISP_VM_IS_NOT_STOPPED: i32 = -2_147_482_281;
    /// The action is not valid in the guest's state.
    pub const PRL_ERR_INVALID_ACTION_REQUESTED: i32 = -2_147_482_346;
    /// No guest with that UUID.
    pub const PRL_ERR_VM_UUID_NOT_FOUND: i32 = -2_147_483_387;
    /// A wait timed out.
    pub const PRL_ERR_TIMEOUT: i32 = -2_147_483_627;
    /// The job was cancelled.
    pub const PRL_ERR_OPERATION_WAS_CANCELED: i32 = -2_147_483_019;
    /// A guest with that name or UUID is registered already.
    pub const PRL_ERR_VM_ALREADY_REGISTERED: i32 = -2_147_482_553;
    /// No such entry.
    pub const PRL_ERR_ENTRY_DOES_NOT_EXIST: i32 = -2_147_483_527;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_the_driver_depends_on() {
        // Pinned from the SDK headers; a change here breaks real hosts.
        assert_eq!(handle_type::PHT_VIRTUAL_MACHINE, 0x1000_0005);
        assert_eq!(handle_type::PHT_JOB, 0x1000_0011);
        assert_eq!(handle_type::PHT_SERVER_INFO, 0x1000_0028);
        assert_eq!(handle_type::PHT_BOOT_DEVICE, 0x1000_0029);
        assert_eq!(dev::PDE_HARD_DISK, 6);
        assert_eq!((dev::PNA_ROUTED, dev::PNA_BRIDGE), (5, 6));
        assert_eq!(vms::VMS_STOPPED, 0x3000_0001);
        assert_eq!(vms::VMS_RUNNING, 0x3000_0004);
        assert_eq!(vms::VMS_PAUSED, 0x3000_0005);
        assert_eq!(err::PRL_ERR_INVALID_ARG as u32, 0x8000_0003);
        assert_eq!(err::PRL_ERR_BUFFER_OVERRUN as u32, 0x8000_0006);
        assert_eq!(VIRTUOZZO_API_VER, 7 << 16);
        assert_eq!((PVTF_VM, PVTF_CT), (0x800, 0x1000));
    }
}

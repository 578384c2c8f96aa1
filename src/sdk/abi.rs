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
/// `PRL_INT64`
pub type PRL_INT64 = i64;
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

/// `PRL_GET_VM_CONFIG_PARAM_DATA`, the argument of
/// `PrlSrv_GetDefaultVmConfig`; the SDK packs its structures (alignment 1),
/// so the pointer sits at offset 4 and the whole is 16 bytes.
#[repr(C, packed)]
#[derive(Clone, Copy, Debug)]
pub struct PRL_GET_VM_CONFIG_PARAM_DATA {
    /// `PVT_VM` or `PVT_CT`.
    pub vm_type: PRL_UINT32,
    /// The configuration sample to start from ("vswap.1024MB").
    pub config_sample: PRL_CONST_STR,
    /// A `PVS_GUEST_VER_*` OS version, or 0.
    pub os_version: PRL_UINT32,
}

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

/// `PrlVm_CommitEx` flag: a removed disk keeps its image (libvirt passes
/// it whenever devices are removed and re-created).
pub const PVCF_DETACH_HDD_BUNDLE: u32 = 16_384;
/// `PrlVm_RegEx` flag: keep the container's existing disk (no template).
pub const PRNVM_PRESERVE_DISK: u32 = 8192;
/// `PrlVmCfg_SetDefaultConfig` guest OS: Red Hat Linux, as libvirt uses.
pub const PVS_GUEST_VER_LIN_REDHAT: u32 = 2305;
/// The configuration sample libvirt creates containers from.
pub const CT_CONFIG_SAMPLE: &str = "vswap.1024MB";

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
    /// A list of strings (PrlApi_CreateStringsList).
    pub const PHT_STRINGS_LIST: u32 = 268_435_498;
    /// An event parameter.
    pub const PHT_EVENT_PARAMETER: u32 = 268_435_486;
    /// Server facts.
    pub const PHT_SERVER_INFO: u32 = 268_435_496;
    /// The host's configuration (PrlSrv_GetSrvConfig).
    pub const PHT_SERVER_CONFIG: u32 = 268_435_458;
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
    /// Emulation: a TCP socket (serial ports).
    pub const PDT_USE_TCP: u32 = 6;
    /// Emulation: a UDP socket (serial ports).
    pub const PDT_USE_UDP: u32 = 7;
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
    /// Compacting its disks.
    pub const VMS_COMPACTING: u32 = 805_306_376;
    /// Suspended to disk.
    pub const VMS_SUSPENDED: u32 = 805_306_377;
    /// Taking a snapshot.
    pub const VMS_SNAPSHOTING: u32 = 805_306_378;
    /// Resetting.
    pub const VMS_RESETTING: u32 = 805_306_379;
    /// Pausing.
    pub const VMS_PAUSING: u32 = 805_306_380;
    /// Continuing after a pause.
    pub const VMS_CONTINUING: u32 = 805_306_381;
    /// Migrating.
    pub const VMS_MIGRATING: u32 = 805_306_382;
    /// Dropping its suspended state.
    pub const VMS_DELETING_STATE: u32 = 805_306_383;
    /// Resuming from a suspended state.
    pub const VMS_RESUMING: u32 = 805_306_384;
    /// Suspending, synchronously.
    pub const VMS_SUSPENDING_SYNC: u32 = 805_306_385;
    /// Reconnecting to a running guest (after a dispatcher restart).
    pub const VMS_RECONNECTING: u32 = 805_306_386;
    /// Stopped with its disks mounted on the host.
    pub const VMS_MOUNTED: u32 = 805_306_387;
}

/// Event types (`PRL_EVENT_TYPE`).
pub mod event {
    /// A guest's state changed.
    pub const PET_DSP_EVT_VM_STATE_CHANGED: u32 = 100_001;
    /// A guest's configuration changed.
    pub const PET_DSP_EVT_VM_CONFIG_CHANGED: u32 = 100_002;
    /// A guest was created.
    pub const PET_DSP_EVT_VM_CREATED: u32 = 100_004;
    /// A guest was registered.
    pub const PET_DSP_EVT_VM_ADDED: u32 = 100_005;
    /// A guest was deleted.
    pub const PET_DSP_EVT_VM_DELETED: u32 = 100_006;
    /// A guest was unregistered (its files kept).
    pub const PET_DSP_EVT_VM_UNREGISTERED: u32 = 100_026;
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
    /// A generic failure.
    pub const PRL_ERR_OPERATION_FAILED: i32 = -2_147_483_626;
    /// No connection to the dispatcher.
    pub const PRL_ERR_IO_NO_CONNECTION: i32 = -2_147_482_623;
    /// The library's API is older than the version asked for.
    pub const PRL_ERR_API_INCOMPATIBLE: i32 = -2_147_482_590;
}

/// `PRL_CPU_MODE`: a 32-bit guest (i686).
pub const PCM_CPU_MODE_32: u32 = 0;
/// `PRL_CPU_MODE`: a 64-bit guest (x86_64).
pub const PCM_CPU_MODE_64: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    /// `PRL_RESULT_DECLARE_ERROR(n)`: the headers paste `n` as hex digits
    /// after 0x8000_0000.
    fn declare_error(n: u32) -> i32 {
        (0x8000_0000_u32 + n) as i32
    }

    #[test]
    fn values_the_driver_depends_on_are_the_headers() {
        // Each value as the SDK headers write it (PrlErrorsValues.h,
        // PrlEnums.h, PrlEventsValues.h, PrlIOStructs.h, PrlApiVersion.h as
        // GenApiVer.py makes it for SDK 7); checked by compiling them. A
        // change here breaks real hosts.
        use dev::*;
        use err::*;
        use event::*;
        use handle_type::*;
        use vms::*;
        let errors = [
            (PRL_ERR_SUCCESS, 0),
            (PRL_ERR_OUT_OF_MEMORY, declare_error(0x2)),
            (PRL_ERR_INVALID_ARG, declare_error(0x3)),
            (PRL_ERR_INVALID_HANDLE, declare_error(0x4)),
            (PRL_ERR_BUFFER_OVERRUN, declare_error(0x6)),
            (PRL_ERR_UNIMPLEMENTED, declare_error(0x8)),
            (PRL_ERR_NO_DATA, declare_error(0x14)),
            (PRL_ERR_TIMEOUT, declare_error(0x15)),
            (PRL_ERR_OPERATION_FAILED, declare_error(0x16)),
            (PRL_ERR_ENTRY_DOES_NOT_EXIST, declare_error(0x79)),
            (PRL_ERR_VM_UUID_NOT_FOUND, declare_error(0x105)),
            (PRL_ERR_OPERATION_WAS_CANCELED, declare_error(0x275)),
            (PRL_ERR_DISP_VM_IS_NOT_STARTED, declare_error(0x377)),
            (PRL_ERR_IO_NO_CONNECTION, declare_error(0x401)),
            (PRL_ERR_API_INCOMPATIBLE, declare_error(0x422)),
            (PRL_ERR_VM_ALREADY_REGISTERED, declare_error(0x447)),
            (PRL_ERR_INVALID_ACTION_REQUESTED, declare_error(0x516)),
            (PRL_ERR_DISP_VM_IS_NOT_STOPPED, declare_error(0x557)),
        ];
        for (i, (ours, header)) in errors.iter().enumerate() {
            assert_eq!(ours, header, "error #{i}");
        }
        let states = [
            (VMS_UNKNOWN, 0),
            (VMS_STOPPED, 0x3000_0001),
            (VMS_STARTING, 0x3000_0002),
            (VMS_RESTORING, 0x3000_0003),
            (VMS_RUNNING, 0x3000_0004),
            (VMS_PAUSED, 0x3000_0005),
            (VMS_SUSPENDING, 0x3000_0006),
            (VMS_STOPPING, 0x3000_0007),
            (VMS_COMPACTING, 0x3000_0008),
            (VMS_SUSPENDED, 0x3000_0009),
            (VMS_SNAPSHOTING, 0x3000_000a),
            (VMS_RESETTING, 0x3000_000b),
            (VMS_PAUSING, 0x3000_000c),
            (VMS_CONTINUING, 0x3000_000d),
            (VMS_MIGRATING, 0x3000_000e),
            (VMS_DELETING_STATE, 0x3000_000f),
            (VMS_RESUMING, 0x3000_0010),
            (VMS_SUSPENDING_SYNC, 0x3000_0011),
            (VMS_RECONNECTING, 0x3000_0012),
            (VMS_MOUNTED, 0x3000_0013),
        ];
        let handles = [
            (PHT_ERROR, 0),
            (PHT_SERVER, 0x1000_0001),
            (PHT_SERVER_CONFIG, 0x1000_0002),
            (PHT_VIRTUAL_MACHINE, 0x1000_0005),
            (PHT_VIRTUAL_DEV_HARD_DISK, 0x1000_000a),
            (PHT_VIRTUAL_DEV_NET_ADAPTER, 0x1000_000b),
            (PHT_VIRTUAL_DEV_SERIAL_PORT, 0x1000_000d),
            (PHT_VIRTUAL_DEV_OPTICAL_DISK, 0x1000_000e),
            (PHT_JOB, 0x1000_0011),
            (PHT_EVENT, 0x1000_0012),
            (PHT_RESULT, 0x1000_0013),
            (PHT_VM_INFO, 0x1000_0014),
            (PHT_STRINGS_LIST, 0x1000_002a),
            (PHT_EVENT_PARAMETER, 0x1000_001e),
            (PHT_SERVER_INFO, 0x1000_0028),
            (PHT_BOOT_DEVICE, 0x1000_0029),
            (PHT_LOGIN_RESPONSE, 0x1000_002b),
        ];
        let events = [
            (PET_DSP_EVT_VM_STATE_CHANGED, 100_001),
            (PET_DSP_EVT_VM_CONFIG_CHANGED, 100_002),
            (PET_DSP_EVT_VM_CREATED, 100_004),
            (PET_DSP_EVT_VM_ADDED, 100_005),
            (PET_DSP_EVT_VM_DELETED, 100_006),
            (PET_DSP_EVT_VM_UNREGISTERED, 100_026),
            (PET_DSP_EVT_DISP_CONNECTION_CLOSED, 100_403),
            (PET_DSP_EVT_VM_PERFSTATS, 100_901),
        ];
        let devices = [
            (PDE_OPTICAL_DISK, 5),
            (PDE_HARD_DISK, 6),
            (PDE_GENERIC_NETWORK_ADAPTER, 8),
            (PDE_SERIAL_PORT, 10),
            (PDT_USE_REAL_DEVICE, 0),
            (PDT_USE_IMAGE_FILE, 1),
            (PDT_USE_OUTPUT_FILE, 2),
            (PDT_USE_SERIAL_PORT_SOCKET_MODE, 3),
            (PDT_USE_FILE_SYSTEM, 5),
            (PMS_IDE_DEVICE, 0),
            (PMS_SCSI_DEVICE, 1),
            (PMS_SATA_DEVICE, 2),
            (PNA_HOST_ONLY, 0),
            (PNA_BRIDGED_NETWORK, 2),
            (PNA_ROUTED, 5),
            (PNA_BRIDGE, 6),
            (PNT_UNDEFINED, 0),
            (PNT_RTL, 1),
            (PNT_E1000, 2),
            (PNT_VIRTIO, 3),
            (PSP_SERIAL_SOCKET_SERVER, 0),
            (PSP_SERIAL_SOCKET_CLIENT, 1),
            (PRD_DISABLED, 0),
            (PRD_AUTO, 1),
            (PRD_MANUAL, 2),
        ];
        let flags = [
            (VIRTUOZZO_API_VER, 7 << 16),
            (PAM_SERVER, 0),
            (PSL_HIGH_SECURITY, 2),
            (PACF_NON_INTERACTIVE_MODE, 4),
            (PVTF_VM, 0x800),
            (PVTF_CT, 0x1000),
            (PSM_VM_START, 0x800),
            (PSM_KILL, 0),
            (PSM_SHUTDOWN, 1),
            (PVCF_DETACH_HDD_BUNDLE, 0x4000),
            (PRNVM_PRESERVE_DISK, 0x2000),
            (PVS_GUEST_VER_LIN_REDHAT, 0x901),
            (PSSF_SKIP_RESUME, 0x800),
            (PGST_WITHOUT_SCREENSHOTS, 0x1000),
            (PRIF_RESIZE_LAST_PARTITION, 0x800),
            (PVT_VM, 0),
            (PVT_CT, 1),
            (PAO_VM_START_MANUAL, 0),
            (PAO_VM_START_ON_LOAD, 1),
        ];
        for (group, list) in [
            ("VMS_", &states[..]),
            ("PHT_", &handles[..]),
            ("PET_", &events[..]),
            ("PDE_/PDT_/PMS_/PNA_/PNT_/PSP_/PRD_", &devices[..]),
            ("flags", &flags[..]),
        ] {
            for (i, (ours, header)) in list.iter().enumerate() {
                assert_eq!(ours, header, "{group} #{i}");
            }
        }
        // The packed argument of PrlSrv_GetDefaultVmConfig.
        assert_eq!(std::mem::size_of::<PRL_GET_VM_CONFIG_PARAM_DATA>(), 16);
        assert_eq!(
            std::mem::offset_of!(PRL_GET_VM_CONFIG_PARAM_DATA, config_sample),
            4
        );
        assert_eq!(
            std::mem::offset_of!(PRL_GET_VM_CONFIG_PARAM_DATA, os_version),
            12
        );
    }
}

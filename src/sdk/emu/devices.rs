//! The embedded host's device calls: the devices and boot order of a
//! guest handle's configuration, reached through device handles.

use super::handles::{new_handle, Object};
use super::host::{BootDev, Device, Guest};
use super::{out, put_str, rc, text};
use crate::sdk::abi::{err::*, *};
use std::sync::Arc;

fn vm_object(h: PRL_HANDLE) -> Result<Arc<Object>, PRL_RESULT> {
    let o = super::handles::get(h).ok_or(PRL_ERR_INVALID_HANDLE)?;
    match &*o {
        Object::Vm(_) => Ok(o),
        _ => Err(PRL_ERR_INVALID_HANDLE),
    }
}

fn with_guest<R>(vm: &Object, f: impl FnOnce(&mut Guest) -> R) -> Result<R, PRL_RESULT> {
    match vm {
        Object::Vm(v) => Ok(f(&mut v.config.lock())),
        _ => Err(PRL_ERR_INVALID_HANDLE),
    }
}

/// Runs `f` on the device behind a device handle.
fn with_dev<R>(h: PRL_HANDLE, f: impl FnOnce(&mut Device) -> R) -> Result<R, PRL_RESULT> {
    let o = super::handles::get(h).ok_or(PRL_ERR_INVALID_HANDLE)?;
    let Object::Device(vm, id) = &*o else {
        return Err(PRL_ERR_INVALID_HANDLE);
    };
    with_guest(vm, |g| g.devices.iter_mut().find(|d| d.id == *id).map(f))?
        .ok_or(PRL_ERR_INVALID_HANDLE)
}

fn with_boot<R>(h: PRL_HANDLE, f: impl FnOnce(&mut BootDev) -> R) -> Result<R, PRL_RESULT> {
    let o = super::handles::get(h).ok_or(PRL_ERR_INVALID_HANDLE)?;
    let Object::BootDev(vm, id) = &*o else {
        return Err(PRL_ERR_INVALID_HANDLE);
    };
    with_guest(vm, |g| g.boot.iter_mut().find(|b| b.id == *id).map(f))?
        .ok_or(PRL_ERR_INVALID_HANDLE)
}

/// PrlVmCfg_GetDevsCountByType
pub unsafe extern "C" fn PrlVmCfg_GetDevsCountByType(
    h: PRL_HANDLE,
    dev_type: PRL_ENUM,
    count: *mut PRL_UINT32,
) -> PRL_RESULT {
    let n = match vm_object(h).and_then(|vm| {
        with_guest(&vm, |g| {
            g.devices.iter().filter(|d| d.dev_type == dev_type).count()
        })
    }) {
        Ok(n) => n,
        Err(e) => return e,
    };
    // SAFETY: out-pointer from the caller.
    unsafe { out(count, n as u32) }
}

/// PrlVmCfg_GetDevByType
pub unsafe extern "C" fn PrlVmCfg_GetDevByType(
    h: PRL_HANDLE,
    dev_type: PRL_ENUM,
    index: PRL_UINT32,
    ph: PRL_HANDLE_PTR,
) -> PRL_RESULT {
    let r = vm_object(h).and_then(|vm| {
        let id = with_guest(&vm, |g| {
            g.devices
                .iter()
                .filter(|d| d.dev_type == dev_type)
                .nth(index as usize)
                .map(|d| d.id)
        })?
        .ok_or(PRL_ERR_INVALID_ARG)?;
        Ok(new_handle(Arc::new(Object::Device(vm, id))))
    });
    match r {
        // SAFETY: out-pointer from the caller.
        Ok(dev) => unsafe { out(ph, dev) },
        Err(e) => e,
    }
}

/// PrlVmCfg_CreateVmDev: a new device of `dev_type`, enabled and connected.
pub unsafe extern "C" fn PrlVmCfg_CreateVmDev(
    h: PRL_HANDLE,
    dev_type: PRL_ENUM,
    ph: PRL_HANDLE_PTR,
) -> PRL_RESULT {
    if ph.is_null() {
        return PRL_ERR_INVALID_ARG;
    }
    let r = vm_object(h).and_then(|vm| {
        let id = with_guest(&vm, |g| {
            g.last_device_id += 1;
            let index = g
                .devices
                .iter()
                .filter(|d| d.dev_type == dev_type)
                .map(|d| d.index + 1)
                .max()
                .unwrap_or(0);
            g.devices.push(Device {
                id: g.last_device_id,
                dev_type,
                index,
                connected: true,
                enabled: true,
                ..Device::default()
            });
            g.last_device_id
        })?;
        Ok(new_handle(Arc::new(Object::Device(vm, id))))
    });
    match r {
        // SAFETY: checked non-null above; the caller's out-pointer.
        Ok(dev) => unsafe { out(ph, dev) },
        Err(e) => e,
    }
}

/// PrlVmDev_Remove: the device leaves the configuration.
pub unsafe extern "C" fn PrlVmDev_Remove(h: PRL_HANDLE) -> PRL_RESULT {
    let Some(o) = super::handles::get(h) else {
        return PRL_ERR_INVALID_HANDLE;
    };
    let Object::Device(vm, id) = &*o else {
        return PRL_ERR_INVALID_HANDLE;
    };
    rc(with_guest(vm, |g| {
        g.devices.retain(|d| d.id != *id);
        PRL_ERR_SUCCESS
    }))
}

macro_rules! dev_u32 {
    ($($get:ident / $set:ident => $field:ident;)*) => {$(
        /// Integer getter of a device.
        pub unsafe extern "C" fn $get(h: PRL_HANDLE, v: *mut PRL_UINT32) -> PRL_RESULT {
            // SAFETY: out-pointer from the caller.
            rc(with_dev(h, |d| unsafe { out(v, d.$field) }))
        }
        /// Integer setter of a device.
        pub unsafe extern "C" fn $set(h: PRL_HANDLE, v: PRL_UINT32) -> PRL_RESULT {
            rc(with_dev(h, |d| {
                d.$field = v;
                PRL_ERR_SUCCESS
            }))
        }
    )*};
}

macro_rules! dev_bool {
    ($($get:ident / $set:ident => $field:ident;)*) => {$(
        /// Boolean getter of a device.
        pub unsafe extern "C" fn $get(h: PRL_HANDLE, v: *mut PRL_BOOL) -> PRL_RESULT {
            // SAFETY: out-pointer from the caller.
            rc(with_dev(h, |d| unsafe { out(v, d.$field as PRL_BOOL) }))
        }
        /// Boolean setter of a device.
        pub unsafe extern "C" fn $set(h: PRL_HANDLE, v: PRL_BOOL) -> PRL_RESULT {
            rc(with_dev(h, |d| {
                d.$field = v != 0;
                PRL_ERR_SUCCESS
            }))
        }
    )*};
}

macro_rules! dev_str {
    ($($get:ident / $set:ident => $field:ident;)*) => {$(
        /// String getter of a device.
        pub unsafe extern "C" fn $get(h: PRL_HANDLE, buf: PRL_STR, len: *mut PRL_UINT32) -> PRL_RESULT {
            let s = match with_dev(h, |d| d.$field.clone()) {
                Ok(s) => s,
                Err(e) => return e,
            };
            // SAFETY: buffer contract passed through from the caller.
            unsafe { put_str(&s, buf, len) }
        }
        /// String setter of a device.
        pub unsafe extern "C" fn $set(h: PRL_HANDLE, v: PRL_CONST_STR) -> PRL_RESULT {
            // SAFETY: C string from the caller.
            let v = match unsafe { text(v) } {
                Ok(v) => v,
                Err(e) => return e,
            };
            rc(with_dev(h, |d| {
                d.$field = v;
                PRL_ERR_SUCCESS
            }))
        }
    )*};
}

/// PrlVmDev_GetType
pub unsafe extern "C" fn PrlVmDev_GetType(h: PRL_HANDLE, v: *mut PRL_ENUM) -> PRL_RESULT {
    // SAFETY: out-pointer from the caller.
    rc(with_dev(h, |d| unsafe { out(v, d.dev_type) }))
}

dev_u32! {
    PrlVmDev_GetIndex / PrlVmDev_SetIndex => index;
    PrlVmDev_GetEmulatedType / PrlVmDev_SetEmulatedType => emulated_type;
    PrlVmDev_GetStackIndex / PrlVmDev_SetStackIndex => stack_index;
    PrlVmDev_GetIfaceType / PrlVmDev_SetIfaceType => iface_type;
    PrlVmDevNet_GetAdapterType / PrlVmDevNet_SetAdapterType => adapter_type;
    PrlVmDevSerial_GetSocketMode / PrlVmDevSerial_SetSocketMode => socket_mode;
    PrlVmDevHd_GetDiskSize / PrlVmDevHd_SetDiskSize => size_mb;
}

dev_bool! {
    PrlVmDev_IsConnected / PrlVmDev_SetConnected => connected;
    PrlVmDev_IsEnabled / PrlVmDev_SetEnabled => enabled;
    PrlVmDevNet_IsPktFilterPreventMacSpoof / PrlVmDevNet_SetPktFilterPreventMacSpoof => prevent_mac_spoof;
}

dev_str! {
    PrlVmDev_GetImagePath / PrlVmDev_SetImagePath => image_path;
    PrlVmDev_GetFriendlyName / PrlVmDev_SetFriendlyName => friendly_name;
    PrlVmDev_GetSysName / PrlVmDev_SetSysName => sys_name;
    PrlVmDevNet_GetMacAddress / PrlVmDevNet_SetMacAddress => mac;
    PrlVmDevNet_GetHostInterfaceName / PrlVmDevNet_SetHostInterfaceName => host_iface;
    PrlVmDevNet_GetVirtualNetworkId / PrlVmDevNet_SetVirtualNetworkId => network;
    PrlVmDevHd_GetMountPoint / PrlVmDevHd_SetMountPoint => mount_point;
    PrlVmDevHd_GetStorageURL / PrlVmDevHd_SetStorageURL => storage_url;
    PrlVmDevHd_GetSerialNumber / PrlVmDevHd_SetSerialNumber => serial_number;
    PrlVmDevNet_GetDefaultGateway / PrlVmDevNet_SetDefaultGateway => gateway;
    PrlVmDevNet_GetDefaultGatewayIPv6 / PrlVmDevNet_SetDefaultGatewayIPv6 => gateway6;
}

macro_rules! dev_set_bool {
    ($($set:ident => $field:ident;)*) => {$(
        /// Boolean setter of a device (the driver never reads it back).
        pub unsafe extern "C" fn $set(h: PRL_HANDLE, v: PRL_BOOL) -> PRL_RESULT {
            rc(with_dev(h, |d| {
                d.$field = v != 0;
                PRL_ERR_SUCCESS
            }))
        }
    )*};
}

dev_set_bool! {
    PrlVmDevNet_SetConfigureWithDhcp => dhcp;
    PrlVmDevNet_SetConfigureWithDhcpIPv6 => dhcp6;
    PrlVmDevNet_SetAutoApply => auto_apply;
}

/// PrlVmDevNet_GetNetAddresses: a new string list of the addresses.
pub unsafe extern "C" fn PrlVmDevNet_GetNetAddresses(
    h: PRL_HANDLE,
    list: PRL_HANDLE_PTR,
) -> PRL_RESULT {
    let items = match with_dev(h, |d| d.net_addresses.clone()) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let handle = new_handle(Arc::new(Object::StringList(parking_lot::Mutex::new(items))));
    // SAFETY: out-pointer from the caller.
    let r = unsafe { out(list, handle) };
    if r != PRL_ERR_SUCCESS {
        super::handles::free(handle);
    }
    r
}

/// PrlVmDevNet_SetNetAddresses: the addresses become the list's items.
pub unsafe extern "C" fn PrlVmDevNet_SetNetAddresses(
    h: PRL_HANDLE,
    list: PRL_HANDLE,
) -> PRL_RESULT {
    let items = match super::handles::get(list).as_deref() {
        Some(Object::StringList(l)) => l.lock().clone(),
        _ => return PRL_ERR_INVALID_ARG,
    };
    rc(with_dev(h, |d| {
        d.net_addresses = items;
        PRL_ERR_SUCCESS
    }))
}

/// PrlVmCfg_GetBootDevCount
pub unsafe extern "C" fn PrlVmCfg_GetBootDevCount(h: PRL_HANDLE, n: *mut PRL_UINT32) -> PRL_RESULT {
    let c = match vm_object(h).and_then(|vm| with_guest(&vm, |g| g.boot.len())) {
        Ok(c) => c,
        Err(e) => return e,
    };
    // SAFETY: out-pointer from the caller.
    unsafe { out(n, c as u32) }
}

/// PrlVmCfg_GetBootDev
pub unsafe extern "C" fn PrlVmCfg_GetBootDev(
    h: PRL_HANDLE,
    i: PRL_UINT32,
    ph: PRL_HANDLE_PTR,
) -> PRL_RESULT {
    let r = vm_object(h).and_then(|vm| {
        let id = with_guest(&vm, |g| g.boot.get(i as usize).map(|b| b.id))?
            .ok_or(PRL_ERR_INVALID_ARG)?;
        Ok(new_handle(Arc::new(Object::BootDev(vm, id))))
    });
    match r {
        // SAFETY: out-pointer from the caller.
        Ok(b) => unsafe { out(ph, b) },
        Err(e) => e,
    }
}

/// PrlVmCfg_CreateBootDev
pub unsafe extern "C" fn PrlVmCfg_CreateBootDev(h: PRL_HANDLE, ph: PRL_HANDLE_PTR) -> PRL_RESULT {
    if ph.is_null() {
        return PRL_ERR_INVALID_ARG;
    }
    let r = vm_object(h).and_then(|vm| {
        let id = with_guest(&vm, |g| {
            g.last_device_id += 1;
            g.boot.push(BootDev {
                id: g.last_device_id,
                in_use: true,
                ..BootDev::default()
            });
            g.last_device_id
        })?;
        Ok(new_handle(Arc::new(Object::BootDev(vm, id))))
    });
    match r {
        // SAFETY: checked non-null; the caller's out-pointer.
        Ok(b) => unsafe { out(ph, b) },
        Err(e) => e,
    }
}

/// PrlBootDev_Remove
pub unsafe extern "C" fn PrlBootDev_Remove(h: PRL_HANDLE) -> PRL_RESULT {
    let Some(o) = super::handles::get(h) else {
        return PRL_ERR_INVALID_HANDLE;
    };
    let Object::BootDev(vm, id) = &*o else {
        return PRL_ERR_INVALID_HANDLE;
    };
    rc(with_guest(vm, |g| {
        g.boot.retain(|b| b.id != *id);
        PRL_ERR_SUCCESS
    }))
}

macro_rules! boot_u32 {
    ($($get:ident / $set:ident => $field:ident;)*) => {$(
        /// Integer getter of a boot entry.
        pub unsafe extern "C" fn $get(h: PRL_HANDLE, v: *mut PRL_UINT32) -> PRL_RESULT {
            // SAFETY: out-pointer from the caller.
            rc(with_boot(h, |b| unsafe { out(v, b.$field) }))
        }
        /// Integer setter of a boot entry.
        pub unsafe extern "C" fn $set(h: PRL_HANDLE, v: PRL_UINT32) -> PRL_RESULT {
            rc(with_boot(h, |b| {
                b.$field = v;
                PRL_ERR_SUCCESS
            }))
        }
    )*};
}

boot_u32! {
    PrlBootDev_GetType / PrlBootDev_SetType => dev_type;
    PrlBootDev_GetIndex / PrlBootDev_SetIndex => index;
    PrlBootDev_GetSequenceIndex / PrlBootDev_SetSequenceIndex => sequence;
}

/// PrlBootDev_IsInUse
pub unsafe extern "C" fn PrlBootDev_IsInUse(h: PRL_HANDLE, v: *mut PRL_BOOL) -> PRL_RESULT {
    // SAFETY: out-pointer from the caller.
    rc(with_boot(h, |b| unsafe { out(v, b.in_use as PRL_BOOL) }))
}

/// PrlBootDev_SetInUse
pub unsafe extern "C" fn PrlBootDev_SetInUse(h: PRL_HANDLE, v: PRL_BOOL) -> PRL_RESULT {
    rc(with_boot(h, |b| {
        b.in_use = v != 0;
        PRL_ERR_SUCCESS
    }))
}

/// PrlVmDev_ResizeImage (job): the disk image gets a new size in MiB. It
/// is the image that changes, so the stored guest changes at once, with no
/// edit of the configuration (the handle's copy follows).
pub unsafe extern "C" fn PrlVmDev_ResizeImage(
    h: PRL_HANDLE,
    size_mb: PRL_UINT32,
    _flags: PRL_UINT32,
) -> PRL_HANDLE {
    // A job: it needs the dispatcher connection the guest handle came from.
    if let Some(Object::Device(vm, _)) = super::handles::get(h).as_deref() {
        if let Object::Vm(v) = &**vm {
            if let Err((code, text)) = super::live_session(v) {
                return super::finished_job(code, text);
            }
        }
    }
    let target = super::handles::get(h).and_then(|o| match &*o {
        Object::Device(vm, id) => match &**vm {
            Object::Vm(v) => Some((Arc::clone(vm), v.uuid.lock().clone(), *id)),
            _ => None,
        },
        _ => None,
    });
    super::job(move || {
        let (vm, uuid, id) =
            target.ok_or((PRL_ERR_INVALID_HANDLE, "invalid device handle".to_string()))?;
        let host = super::running_host()?;
        host.resize_disk(&uuid, id, size_mb)?;
        let _ = with_guest(&vm, |g| {
            if let Some(d) = g.devices.iter_mut().find(|d| d.id == id) {
                d.size_mb = size_mb;
            }
        });
        Ok(Vec::new())
    })
}

//! Loading the system Virtuozzo SDK (`libprl_sdk.so.7`): the C library's
//! dlopen, then dlsym of every function of the table under its SDK name.
//! The library is never closed: the SDK runs threads of its own, and the
//! table's pointers must stay valid for the life of the process.

use super::table::SdkTable;
use super::Sdk;
use std::ffi::{CStr, CString};
use std::os::raw::c_void;
use std::sync::Arc;
use std::time::Duration;

/// The library's last dlopen/dlsym error, as text.
fn dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by the
    // C library (thread-local in glibc), read before any other dl call.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        return "unknown error".to_string();
    }
    // SAFETY: non-null, NUL-terminated (see above).
    unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
}

/// Where the object that defines `addr` was loaded from.
fn path_of(addr: *const c_void) -> Option<String> {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: addr is a symbol address of a loaded object; info is a
    // valid out-pointer.
    let ok = unsafe { libc::dladdr(addr, info.as_mut_ptr()) };
    if ok == 0 {
        return None;
    }
    // SAFETY: dladdr succeeded and filled info.
    let info = unsafe { info.assume_init() };
    if info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string owned by the loader.
    let name = unsafe { CStr::from_ptr(info.dli_fname) }
        .to_string_lossy()
        .into_owned();
    Some(match std::fs::canonicalize(&name) {
        Ok(real) if real.to_string_lossy() != name => format!("{name} ({})", real.display()),
        _ => name,
    })
}

/// Why the system SDK cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum LoadError {
    /// There is no such library (or it cannot be loaded at all).
    NotFound(String),
    /// A library is there, but it is not a Virtuozzo SDK that works.
    Unusable(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound(m) | LoadError::Unusable(m) => f.write_str(m),
        }
    }
}

/// Loads `library` (a name searched the way the dynamic loader searches,
/// or a path) and resolves the whole table; the error names the library
/// and every function it lacks. The SDK is not initialised yet.
pub fn load(library: &str, job_timeout: Duration) -> Result<Arc<Sdk>, LoadError> {
    let name = CString::new(library)
        .map_err(|_| LoadError::NotFound(format!("{library:?}: a NUL byte in the name")))?;
    // SAFETY: a NUL-terminated name; RTLD_NOW resolves the library's own
    // dependencies now, so a broken one fails here and not in a call.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(LoadError::NotFound(format!(
            "cannot load {library}: {}",
            dl_error()
        )));
    }
    let lookup = |f: &str| -> *mut c_void {
        let Ok(sym) = CString::new(f) else {
            return std::ptr::null_mut();
        };
        // SAFETY: a live handle from dlopen and a NUL-terminated name.
        unsafe { libc::dlsym(handle, sym.as_ptr()) }
    };
    // SAFETY: each address is the library's export of that SDK name, whose
    // C signature is the table's (checked against the SDK headers).
    let table = unsafe { SdkTable::resolve(lookup) }.map_err(|missing| {
        LoadError::Unusable(format!(
            "{library} is not a usable Virtuozzo SDK: it lacks {} of its functions: {}",
            missing.len(),
            missing.join(", ")
        ))
    })?;
    let path = path_of(table.PrlApi_InitEx as *const c_void).unwrap_or_else(|| library.to_string());
    Ok(Sdk::from_table(table, path, job_timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_is_named_with_the_loaders_reason() {
        let e = load("/nonexistent/libprl_sdk.so.7", Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, LoadError::NotFound(_)), "{e}");
        let e = e.to_string();
        assert!(
            e.starts_with("cannot load /nonexistent/libprl_sdk.so.7: "),
            "{e}"
        );
        assert!(e.contains("No such file"), "{e}");
    }

    #[test]
    fn a_library_without_the_sdk_lists_what_it_lacks() {
        // The C library itself: loadable, but no SDK function in it.
        let e = load("libc.so.6", Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, LoadError::Unusable(_)), "{e}");
        let e = e.to_string();
        assert!(e.contains("PrlApi_InitEx, PrlApi_Deinit"), "{e}");
        assert!(
            e.contains(&format!(
                "lacks {} of its functions",
                super::super::table::FUNCTION_NAMES.len()
            )),
            "{e}"
        );
    }
}

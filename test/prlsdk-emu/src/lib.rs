//! `libprlsdk_emu.so`: virtvzd's embedded Virtuozzo host as a shared
//! library exporting the SDK's functions under their SDK names, so the
//! daemon's dlopen path (`vz_sdk = "system"`) is tested against a real
//! library it knows nothing about. The exports are generated from the
//! table's one list of functions.
//!
//! Configuration, by environment (test-only): `PRLSDK_EMU_DIR` is the
//! store, `PRLSDK_EMU_FAULTS` the fault injection (see the embedded host's
//! `faults`), `PRLSDK_EMU_LOG` a file for the library's own log (else its
//! warnings go to stderr while console logging is on, as the SDK's do).

#![allow(non_snake_case, clippy::missing_safety_doc)]

use std::io::Write;
use std::sync::{Mutex, Once};
use virtvzd::sdk::abi::*;
use virtvzd::sdk::emu;

/// The environment variable naming the library's log file.
const LOG_ENV: &str = "PRLSDK_EMU_LOG";

/// The library's own log, as a real SDK keeps one.
struct EmuLog {
    file: Option<Mutex<std::fs::File>>,
}

impl log::Log for EmuLog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Info
    }

    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let line = format!("prlsdk-emu: {}: {}\n", r.level(), r.args());
        match &self.file {
            Some(f) => {
                if let Ok(mut f) = f.lock() {
                    let _ = f.write_all(line.as_bytes());
                }
            }
            None if emu::console_logging() && r.level() <= log::Level::Warn => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            None => {}
        }
    }

    fn flush(&self) {}
}

static LOGGER: Once = Once::new();

fn install_logger() {
    let file = std::env::var_os(LOG_ENV).and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });
    let logger = EmuLog {
        file: file.map(Mutex::new),
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

macro_rules! exports {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`, exported under its SDK name.")]
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            LOGGER.call_once(install_logger);
            // SAFETY: the caller keeps the SDK's contract for this
            // function, which is the embedded host's contract too.
            unsafe { emu::entry::$name($($arg),*) }
        }
    )*};
}

virtvzd::for_each_sdk_function!(exports);

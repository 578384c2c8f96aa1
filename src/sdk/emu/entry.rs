//! The embedded host's entry points: every function of the SDK table, as
//! the daemon's table and the shared library (test/prlsdk-emu) use them,
//! each first asking the test-only fault injection whether to misbehave.

#![allow(non_snake_case, clippy::missing_safety_doc)]

use crate::sdk::abi::*;

macro_rules! entry_points {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "` of the embedded host.")]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            if let Some(fault) = super::faults::lookup(stringify!($name)) {
                return <$ret as super::faults::Injected>::inject(stringify!($name), fault);
            }
            // SAFETY: the caller keeps the SDK's contract for this
            // function, which is the embedded host's contract too.
            unsafe { super::$name($($arg),*) }
        }
    )*};
}

crate::for_each_sdk_function!(entry_points);

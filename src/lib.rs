//! virtvzd: the libvirt management daemon for Virtuozzo hosts.
//!
//! Layers, calls going down only: `daemon` (the process) → `rpc` (the wire
//! and the server) → `remote` / `admin` (the programs) → `vz` (the driver).

pub mod admin;
pub mod civil_time;
pub mod daemon;
pub mod error;
pub mod remote;
pub mod rpc;
pub mod sdk;
pub mod vz;

/// The libvirt API level this daemon implements, encoded as libvirt does:
/// major * 1_000_000 + minor * 1_000 + micro. 9.0.0 is what Debian 12's
/// clients speak; everything we answer is checked against them.
pub const LIBVIRT_VERSION: u64 = 9_000_000;

/// `LIBVIRT_VERSION` as "X.Y.Z" for `--version` and logs.
pub fn libvirt_version_string() -> String {
    format!(
        "{}.{}.{}",
        LIBVIRT_VERSION / 1_000_000,
        (LIBVIRT_VERSION / 1_000) % 1_000,
        LIBVIRT_VERSION % 1_000
    )
}

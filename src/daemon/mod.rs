//! The process (being assembled).

pub mod activation;
pub mod cli;
pub mod config;
pub mod daemonize;
pub mod logging;
pub mod paths;
pub mod pidfile;
pub mod sockets;

/// Runs the daemon; returns the process exit status.
pub fn run() -> i32 {
    0
}

//! The process: command line, configuration, paths, pid file, daemonizing,
//! socket activation, signals, logging and the idle watchdog.

pub mod activation;
pub mod cli;
pub mod config;
pub mod daemonize;
pub mod logging;
pub mod paths;
pub mod pidfile;

/// Runs the daemon; returns the process exit status.
pub fn run() -> i32 {
    0
}

//! Test-only fault injection in the embedded host, to prove the daemon
//! copes with a misbehaving Virtuozzo host. The environment variable
//! `PRLSDK_EMU_FAULTS`, read at the first SDK call, lists faults
//! separated by commas:
//!
//! - `fail:FUNCTION[:CODE]`: FUNCTION fails with CODE (hex such as
//!   `0x80000457`, or decimal; PRL_ERR_OPERATION_FAILED when omitted) and
//!   the text "Injected failure of FUNCTION.";
//! - `hang:FUNCTION`: FUNCTION's job never finishes (until it is cancelled
//!   or the connection is lost); a function that is not a job fails with
//!   PRL_ERR_TIMEOUT instead;
//! - `drop:FUNCTION`: calling FUNCTION loses the dispatcher connection
//!   (the logged-in sessions get PET_DSP_EVT_DISP_CONNECTION_CLOSED) and
//!   the call fails with PRL_ERR_IO_NO_CONNECTION.
//!
//! Unset, it costs one atomic load per call.

use super::handles::Object;
use crate::sdk::abi::{err::*, *};
use parking_lot::Mutex;
use std::sync::{OnceLock, Weak};

/// The environment variable listing the faults.
pub const FAULTS_ENV: &str = "PRLSDK_EMU_FAULTS";

/// What an SDK function does instead of its work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Fails with this code.
    Fail(PRL_RESULT),
    /// Never finishes.
    Hang,
    /// Loses the dispatcher connection.
    Drop,
}

static FAULTS: OnceLock<Vec<(&'static str, Fault)>> = OnceLock::new();

/// The fault armed for `function`, if any.
pub fn lookup(function: &str) -> Option<Fault> {
    let all = FAULTS.get_or_init(|| {
        std::env::var(FAULTS_ENV)
            .map(|spec| parse(&spec))
            .unwrap_or_default()
    });
    if all.is_empty() {
        return None;
    }
    all.iter().find(|(n, _)| *n == function).map(|(_, f)| *f)
}

/// Parses the fault list; a malformed item is logged and skipped.
pub fn parse(spec: &str) -> Vec<(&'static str, Fault)> {
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut parts = item.splitn(3, ':');
        let (kind, name, code) = (parts.next(), parts.next(), parts.next());
        let Some(name) = name.and_then(|n| {
            crate::sdk::table::FUNCTION_NAMES
                .iter()
                .find(|f| **f == n)
                .copied()
        }) else {
            log::warn!("{FAULTS_ENV}: '{item}' names no SDK function of the table; ignored");
            continue;
        };
        let fault = match (kind, code) {
            (Some("fail"), None) => Some(Fault::Fail(PRL_ERR_OPERATION_FAILED)),
            (Some("fail"), Some(c)) => parse_code(c).map(Fault::Fail),
            (Some("hang"), None) => Some(Fault::Hang),
            (Some("drop"), None) => Some(Fault::Drop),
            _ => None,
        };
        match fault {
            Some(f) => {
                log::warn!("{FAULTS_ENV}: test-only fault {f:?} armed on {name}");
                out.push((name, f));
            }
            None => log::warn!("{FAULTS_ENV}: cannot parse '{item}'; ignored"),
        }
    }
    out
}

fn parse_code(c: &str) -> Option<PRL_RESULT> {
    match c.strip_prefix("0x").or_else(|| c.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok().map(|v| v as PRL_RESULT),
        None => c.parse().ok(),
    }
}

/// Jobs hung by the fault injection, ended when the connection is lost.
static HUNG: Mutex<Vec<Weak<Object>>> = Mutex::new(Vec::new());

/// Ends every hung job with `fail`.
pub(crate) fn end_hung_jobs(fail: super::host::Fail) {
    for j in HUNG.lock().drain(..) {
        if let Some(j) = j.upgrade() {
            if let Object::Job(job) = &*j {
                job.finish(fail.0, fail.1.clone(), Vec::new());
            }
        }
    }
}

/// What an SDK function returns when a fault replaces its work.
pub trait Injected {
    /// The result of `function` under `fault`.
    fn inject(function: &str, fault: Fault) -> Self;
}

/// Functions returning a result code.
impl Injected for PRL_RESULT {
    fn inject(function: &str, fault: Fault) -> PRL_RESULT {
        log::warn!("embedded host: injected {fault:?} in {function}");
        match fault {
            Fault::Fail(code) => code,
            Fault::Hang => PRL_ERR_TIMEOUT,
            Fault::Drop => {
                super::drop_connection();
                PRL_ERR_IO_NO_CONNECTION
            }
        }
    }
}

/// Functions returning a job.
impl Injected for PRL_HANDLE {
    fn inject(function: &str, fault: Fault) -> PRL_HANDLE {
        log::warn!("embedded host: injected {fault:?} in {function}");
        match fault {
            Fault::Fail(code) => {
                super::finished_job(code, format!("Injected failure of {function}."))
            }
            Fault::Hang => {
                let (h, job) = super::hung_job();
                let mut hung = HUNG.lock();
                hung.retain(|j| j.strong_count() > 0);
                hung.push(std::sync::Arc::downgrade(&job));
                h
            }
            Fault::Drop => {
                super::drop_connection();
                let (code, text) = super::no_connection();
                super::finished_job(code, text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_lists_parse_and_bad_items_are_skipped() {
        assert_eq!(
            parse("fail:PrlVm_StartEx, hang:PrlVm_Pause,drop:PrlSrv_GetVmListEx"),
            vec![
                ("PrlVm_StartEx", Fault::Fail(PRL_ERR_OPERATION_FAILED)),
                ("PrlVm_Pause", Fault::Hang),
                ("PrlSrv_GetVmListEx", Fault::Drop),
            ]
        );
        assert_eq!(
            parse("fail:PrlVm_StartEx:0x80000457,fail:PrlVm_Resume:-5"),
            vec![
                ("PrlVm_StartEx", Fault::Fail(0x8000_0457_u32 as i32)),
                ("PrlVm_Resume", Fault::Fail(-5)),
            ]
        );
        assert!(parse("fail:NoSuchCall,boom:PrlVm_StartEx,hang:PrlVm_Pause:3,").is_empty());
    }
}

//! What the server knows of a program: its number and version, how each
//! procedure is scheduled, and one entry point to run a call.

use super::client::Client;
use super::xdr::{self, XdrError};
use crate::error::{VirError, VirResult};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where a procedure runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// On the connection's own thread, at once: cheap calls that never
    /// block (no SDK, no locks held for long), so they skip a thread hop.
    Inline,
    /// On the worker pool, and also on the priority workers, so a host
    /// whose SDK calls are stuck can still be seen and its guests killed
    /// (libvirt's `@priority: high`).
    High,
    /// On the worker pool.
    Normal,
}

/// A program served on a socket: REMOTE or ADMIN.
pub trait Program: Send + Sync + 'static {
    /// Program number.
    fn number(&self) -> u32;

    /// Program version (1 for every libvirt program).
    fn version(&self) -> u32 {
        1
    }

    /// How `procedure` is scheduled (which may depend on its encoded
    /// `args`, e.g. their flags), or `None` if this program has no such
    /// procedure.
    fn priority(&self, procedure: i32, args: &[u8]) -> Option<Priority>;

    /// Runs one call: decodes `args`, does the work, appends the encoded
    /// return value to `reply` (which holds the packet so far; leave it
    /// untouched on error).
    fn call(
        &self,
        client: &Arc<Client>,
        procedure: i32,
        args: &[u8],
        reply: &mut Vec<u8>,
    ) -> Result<(), VirError>;

    /// The client went away: drop whatever the program kept for it.
    fn disconnected(&self, _client: &Client) {}
}

/// Decodes a call's arguments, runs a typed handler and encodes its result
/// into the reply: the one path every procedure of every program takes.
pub fn invoke<'a, C, A, R>(
    ctx: &C,
    args: &'a [u8],
    out: &mut Vec<u8>,
    f: fn(&C, A) -> VirResult<R>,
) -> VirResult<()>
where
    A: Deserialize<'a>,
    R: Serialize,
{
    let a: A = xdr::from_bytes(args).map_err(|e| {
        log::debug!("cannot decode arguments: {e}");
        VirError::rpc("Unable to decode message payload")
    })?;
    let r = f(ctx, a)?;
    xdr::to_writer(out, &r)
        .map_err(|e| VirError::rpc(format!("Unable to encode message payload: {e}")))
}

/// Decodes a call's arguments as the typed handler `f` takes them, without
/// running it: the fuzz targets' way into every procedure's decoder, from
/// the same table line that builds the handler.
pub fn decode_only<'a, C, A, R>(
    args: &'a [u8],
    _f: fn(&C, A) -> VirResult<R>,
) -> Result<(), XdrError>
where
    A: Deserialize<'a>,
{
    xdr::from_bytes::<A>(args).map(drop)
}

/// Decodes one procedure's arguments and drops them (see [`decode_only`]).
pub type Decoder = fn(&[u8]) -> Result<(), XdrError>;

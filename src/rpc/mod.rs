//! libvirt's RPC wire protocol and the server that speaks it. Knows programs
//! only as tables of procedures; knows nothing of Virtuozzo.

pub mod client;
pub mod message;
pub mod program;
pub mod server;
pub mod typed_param;
pub mod workers;
pub mod xdr;

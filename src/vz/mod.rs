//! The Virtuozzo driver: what the REMOTE program's procedures do.

pub mod capabilities;
pub mod host;

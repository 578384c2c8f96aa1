//! libvirt's RPC wire protocol and the server that speaks it. Knows programs
//! only as tables of procedures; knows nothing of Virtuozzo.

pub mod client;
pub mod message;
pub mod program;
pub mod server;
pub mod typed_param;
pub mod workers;
pub mod xdr;

/// Hex spellings of byte strings, for the golden byte vectors of the tests.
#[cfg(test)]
pub(crate) mod hex {
    /// Bytes from lowercase hex ("0000000a").
    pub fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Lowercase hex of bytes.
    pub fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}

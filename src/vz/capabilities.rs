//! Capabilities XML (temporary minimal version).

use super::host::{HostCpu, NumaCell};

/// Inputs.
pub struct CapsInput<'a> {
    /// UUID.
    pub host_uuid: Option<&'a str>,
    /// CPU.
    pub cpu: &'a HostCpu,
    /// Cells.
    pub cells: &'a [NumaCell],
    /// Root.
    pub privileged: bool,
}

/// The XML.
pub fn capabilities_xml(_i: &CapsInput) -> String {
    "<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>".into()
}

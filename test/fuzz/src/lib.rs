//! What each fuzz target checks, one function per target (the files in
//! `fuzz_targets/` only call these). Beyond "no panic, no abort, no
//! runaway allocation", each states a property the daemon relies on.

use std::path::Path;
use virtvzd::rpc::message::{self, Header, MessageType, WireError, BODY_OFFSET, HEADER_SIZE};
use virtvzd::rpc::xdr;
use virtvzd::vz::domain_xml;
use virtvzd::vz::domain_xml::OsType;

/// A connection's byte stream, cut into packets as the connection thread
/// cuts it: each header decodes and re-encodes to the same bytes, calls
/// go through their procedure's argument decoder, error bodies through the
/// error struct's.
pub fn frame(data: &[u8]) {
    let mut rest = data;
    while let Ok(Some(len)) = message::next_packet(rest) {
        packet(&rest[..len]);
        rest = &rest[len..];
    }
}

fn packet(p: &[u8]) {
    let mut raw = [0u8; HEADER_SIZE];
    raw.copy_from_slice(&p[message::LEN_SIZE..BODY_OFFSET]);
    let header = Header::decode(&raw);
    let mut again = Vec::new();
    header.encode(&mut again);
    assert_eq!(again, raw, "header does not re-encode to its bytes");
    let body = &p[BODY_OFFSET..];
    if header.status == 1 {
        if let Ok(e) = xdr::from_bytes::<WireError>(body) {
            let bytes = xdr::to_bytes(&e).expect("a decoded error struct encodes");
            let back: WireError = xdr::from_bytes(&bytes).expect("and decodes again");
            assert_eq!(back, e);
        }
        return;
    }
    if MessageType::from_i32(header.mtype) == Some(MessageType::Call) {
        let _ = arguments(header.prog, header.proc_, body);
    }
}

/// Arguments of one call of either program's table: the input is the
/// program number and the procedure number (4 bytes each, big-endian, as
/// in the header) and the encoded arguments.
pub fn procedure_args(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let prog = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let proc_ = i32::from_be_bytes([data[4], data[5], data[6], data[7]]);
    let _ = arguments(prog, proc_, &data[8..]);
}

/// Decodes `args` as procedure `proc_` of program `prog` would; `None`
/// when nothing there takes that procedure.
pub fn arguments(prog: u32, proc_: i32, args: &[u8]) -> Option<Result<(), xdr::XdrError>> {
    match prog {
        virtvzd::remote::protocol::PROGRAM => virtvzd::remote::procedures::decode_args(proc_, args),
        virtvzd::admin::protocol::PROGRAM => virtvzd::admin::decode_args(proc_, args),
        _ => None,
    }
}

/// Domain XML as DEFINE_XML gets it, and device XML as attach/update get
/// it: whatever parses formats back to XML that parses to the same
/// definition (what `dumpxml` shows can be defined again).
pub fn domain_xml(data: &[u8]) {
    // The wire carries only UTF-8 strings: the XDR decoder refuses others.
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(def) = domain_xml::parse(xml) {
        let uuid = def.uuid.unwrap_or([7; 16]);
        for id in [None, Some(1)] {
            let text = domain_xml::format_xml(&def, &uuid, id, true);
            let back = domain_xml::parse(&text)
                .unwrap_or_else(|e| panic!("formatted XML does not parse: {e}\n{text}"));
            assert_eq!(
                back,
                domain_xml::DomainDef {
                    uuid: Some(uuid),
                    ..def.clone()
                },
                "round trip changed the definition:\n{text}"
            );
        }
    }
    for os in [OsType::Hvm, OsType::Exe] {
        let _ = domain_xml::parse_device(xml, os, "attaching");
    }
}

/// A `virtvzd.conf`: read, checked, and refused with a message when bad.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = virtvzd::daemon::config::parse_str(text, Path::new("fuzz.conf"));
}

/// A `<domainsnapshot>` as SNAPSHOT_CREATE_XML gets it, with and without
/// the VALIDATE flag's stricter reading: refused or read, never a panic;
/// what the strict reading accepts the plain one accepts too.
pub fn snapshot_xml(data: &[u8]) {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let plain = virtvzd::vz::snapshot_xml::parse(xml);
    if virtvzd::vz::snapshot_xml::parse_validated(xml).is_ok() {
        assert!(
            plain.is_ok(),
            "VALIDATE accepted what the plain parse refused"
        );
    }
}

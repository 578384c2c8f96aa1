#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| virtvzd_fuzz::snapshot_xml(data));

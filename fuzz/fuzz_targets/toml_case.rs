//! Bytes as a TOML data file of a case folder → case loader → audit.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = common::case_dir(&[("data.toml", data)]);
    common::audit(common::RULES, &dir);
});

//! Bytes as a CSV data file of a case folder → case loader → audit. The first byte picks
//! the relation the file is named after.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] = [
    "person.csv",
    "org.csv",
    "holding.csv",
    "role.csv",
    "meeting.csv",
    "payment.csv",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[pick as usize % NAMES.len()];
    let dir = common::case_dir(&[(name, rest)]);
    common::audit(common::RULES, &dir);
});

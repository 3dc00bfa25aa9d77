//! Small rule programs (text after `use std`) run over a fixed small case: parser,
//! checker, planner, evaluator (negation, recursion, aggregates), findings, renderers.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

const TIES: &[u8] = b"[[role]]\nperson = \"ann\"\norg = \"acme\"\nuntil = \"2024-12-01\"\nsource = \"article\"\n\n[[holding]]\nholder = \"ann\"\nasset = \"acme\"\npct = 12.5\n\n[[associate]]\na = \"ann\"\nb = \"acme\"\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.len() > 4096 {
        return;
    }
    let dir = common::case_dir(&[("ties.toml", TIES)]);
    common::audit(&format!("use std\n{text}"), &dir);
});

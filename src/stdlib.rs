//! The standard vocabulary (`rules/std/*.coi`), embedded so the binary works anywhere.
//!
//! `use std` imports every module; `use std/holdings` one of them. The schema is written
//! in the rule language itself; nothing about it is hard-coded in Rust.

/// Every module: (name, source text), in dependency order (entities first).
pub const MODULES: &[(&str, &str)] = &[
    ("entities", include_str!("../rules/std/entities.coi")),
    ("roles", include_str!("../rules/std/roles.coi")),
    ("holdings", include_str!("../rules/std/holdings.coi")),
    ("clients", include_str!("../rules/std/clients.coi")),
    ("meetings", include_str!("../rules/std/meetings.coi")),
    ("ties", include_str!("../rules/std/ties.coi")),
    ("money", include_str!("../rules/std/money.coi")),
    ("matters", include_str!("../rules/std/matters.coi")),
    ("procurement", include_str!("../rules/std/procurement.coi")),
    ("registers", include_str!("../rules/std/registers.coi")),
    ("ftm", include_str!("../rules/std/ftm.coi")),
];

/// The source of one module, by name.
pub fn module(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The path shown in diagnostics for a module (`<std>/holdings.coi`).
pub fn display_path(name: &str) -> String {
    format!("<std>/{name}.coi")
}

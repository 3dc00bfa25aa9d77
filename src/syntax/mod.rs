//! Syntax: `.coi` text to a spanned AST, with recovery at the next item.

pub mod ast;

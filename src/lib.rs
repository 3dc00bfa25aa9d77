//! Probity: a conflict-of-interest rule engine.
//!
//! ```text
//!  rule files (*.coi)  --syntax-->  AST with spans
//!                      --resolve--> typed program (ids, schema, strata checks)
//!  case folder         --case-->    facts with file:line and sources
//!                      --plan-->    strata, join orders, delta variants
//!                      --eval-->    semi-naive fixpoint with provenance
//!                      --findings/render--> table | json | csv | markdown
//! ```
//! Every stage reports problems as [`diag::Diagnostic`]s, rendered in one place.

pub mod case;
pub mod cli;
pub mod diag;
pub mod engine;
pub mod eval;
pub mod facts;
pub mod findings;
pub mod ir;
pub mod limits;
pub mod plan;
pub mod render;
pub mod resolve;
pub mod stdlib;
pub mod syntax;
pub mod testing;
pub mod value;

pub use engine::{Audit, Engine, Failure};

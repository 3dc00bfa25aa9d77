//! Probity: a conflict-of-interest rule engine.
//!
//! ```text
//!  rule files (*.coi)  --syntax-->  AST with spans
//!                      --resolve--> typed program (ids, schema, strata checks)
//!  case folder         --case-->    facts with file:line and sources
//!                      --plan-->    strata, join orders, delta variants
//!                      --eval-->    semi-naive fixpoint with provenance
//!                      --findings/render--> table | json | csv | markdown | html
//! ```
//! Beside the findings: [`nearmiss`] (what failed one condition), [`coverage`] (what no
//! rule read), [`graph`] (who is tied to whom), [`diff`] (what changed between two
//! runs) and the [`manifest`] of a run.
//! Every stage reports problems as [`diag::Diagnostic`]s, rendered in one place.

mod buckets;
pub mod case;
pub mod cli;
pub mod coverage;
pub mod diag;
pub mod diff;
pub mod engine;
pub mod eval;
pub mod facts;
pub mod findings;
pub mod graph;
pub mod import;
pub mod ir;
pub mod limits;
pub mod manifest;
pub mod nearmiss;
pub mod plan;
pub mod render;
pub mod resolve;
pub mod sql;
pub mod stdlib;
pub mod syntax;
pub mod testing;
pub mod timings;
pub mod value;
pub mod values;

pub use engine::{Audit, Engine, Failure};

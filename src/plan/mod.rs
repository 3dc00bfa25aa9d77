//! Planning: strata by SCC condensation, join orders, delta variants.

pub mod strata;

//! resolve stage (under construction).

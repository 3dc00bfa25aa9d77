//! eval stage (under construction).

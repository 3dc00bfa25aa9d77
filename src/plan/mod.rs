//! plan stage (under construction).

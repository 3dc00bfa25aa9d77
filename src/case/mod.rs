//! case stage (under construction).

//! More evaluator tests: aggregates, dates, errors and limits.

//! Benchmarks live here; see BENCHMARKS.md.
fn main() {}

//! The `preau` program (being built).
fn main() {}

//! The `wirekit` command.
fn main() {
    println!("wirekit {}", env!("CARGO_PKG_VERSION"));
}

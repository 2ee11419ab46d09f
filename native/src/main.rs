//! The `wirekit` command. Everything lives in the library; see `cli`.

fn main() {
    std::process::exit(wirekit::cli::main());
}

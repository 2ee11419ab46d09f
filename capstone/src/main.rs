fn main() {
    std::process::exit(wirekit_capstone::cli::main());
}

//! `cargo xtask`: the project's builds and orchestration, in Rust so they run
//! the same on every machine (no shell glue).

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::Command;

mod bench;
mod book;
mod browser;
mod corpus;
mod deny;
mod fuzz;
mod lab;
mod man;
mod peers;
mod runtimes;
mod serve;
mod tools;
mod web;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Wirekit's builds and orchestration")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run every check CI runs: formatting, clippy, all tests, the wasm32 build, the browser lab in Chromium.
    Test,
    /// Start the lab: the browser lab at /, the book at /book/ and the servers, until Ctrl-C.
    Lab(lab::LabArgs),
    /// Build the browser lab into target/web (wasm, its glue, vendored front-end code).
    Web,
    /// Measure the performance figures beside reference peers (target/bench/).
    Bench(bench::BenchArgs),
    /// Render the book (installs mdbook and mdbook-mermaid on first use).
    Book,
    /// Fuzz every parser and machine for a bounded time (installs cargo-fuzz).
    Fuzz(fuzz::FuzzArgs),
    /// Capture the interop peers' traffic and write it as fuzz seeds (fuzz/seeds/).
    Corpus(corpus::CorpusArgs),
    /// The fault tests at a larger count: more kills, floods and hostile peers.
    Soak(SoakArgs),
    /// Write a man page per command (wirekit.1, wirekit-get.1, ...) from the clap definition (target/man/).
    Man,
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Test => test(),
        Task::Lab(args) => lab::run(args),
        Task::Web => web::build().map(|_| ()),
        Task::Fuzz(args) => fuzz::run(args),
        Task::Corpus(args) => corpus::run(&args),
        Task::Bench(args) => bench::run(args),
        Task::Book => book::build().map(|out| {
            println!("book: {}", out.join("index.html").display());
        }),
        Task::Soak(args) => soak(&args),
        Task::Man => man::write().map(|out| println!("man pages: {}", out.display())),
    }
}

#[derive(clap::Args)]
struct SoakArgs {
    /// How many times the counts of `cargo xtask test` (400 WKFT/1 and 200
    /// TFTP transfers killed, 40 servers killed, the idle check's battery
    /// of clients, ...).
    #[arg(long, default_value_t = 10)]
    times: u32,
}

/// `tests/tests/faults.rs` and the idle check (`idle_cpu.rs`) with their
/// counts multiplied (`WIREKIT_SOAK`).
fn soak(args: &SoakArgs) -> Result<()> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "test",
            "-p",
            "wirekit-tests",
            "--test",
            "faults",
            "--test",
            "idle_cpu",
        ])
        .env("WIREKIT_SOAK", args.times.to_string())
        .current_dir(root())
        .status()
        .context("could not run cargo test")?;
    if !status.success() {
        bail!("the soak failed ({status})");
    }
    Ok(())
}

/// The workspace root (the parent of this crate's folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Runs `cargo ARGS` in the workspace root, failing if it fails.
pub fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("==> cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("could not start {cargo}"))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn test() -> Result<()> {
    // Everything the checks need before the first cargo command: the
    // toolchain's parts and the TFTP peers kept under target/peers.
    tools::ensure_components()?;
    tools::ensure_wasm_target()?;
    peers::ensure_tftp()?;
    deny::check()?;
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace"])?;
    // async-std is discontinued upstream: smol must pass every native suite
    // and build alone.
    runtimes::test_on_smol()?;
    cargo(&[
        "clippy",
        "-p",
        "wirekit",
        "--all-targets",
        "--no-default-features",
        "--features",
        "smol",
        "--",
        "-D",
        "warnings",
    ])?;
    // The core must stay free of std, sockets and clocks: building it for a
    // target without an operating system is the proof.
    cargo(&[
        "build",
        "-p",
        "wirekit-core",
        "--target",
        "wasm32-unknown-unknown",
    ])?;
    // The simulator too: the browser will run it.
    cargo(&[
        "build",
        "-p",
        "wirekit-core",
        "--features",
        "sim",
        "--target",
        "wasm32-unknown-unknown",
    ])?;
    // The façade as JavaScript sees it, under node.
    browser::wasm_tests()?;
    // The README's first command, end to end: builds the browser lab and
    // renders the book (catching what the book tests cannot, like an
    // include mdBook rejects), starts the lab on free ports and probes it;
    // then the lab's pages in Chromium, against that same server.
    let lab = lab::start(&lab::LabArgs::check())?;
    lab::check(&lab)?;
    browser::test(&lab)?;
    lab.stop();
    // A few seconds per fuzz target: each still builds and survives mutation.
    fuzz::run(fuzz::FuzzArgs::smoke())?;
    eprintln!("==> all checks passed");
    Ok(())
}

//! `cargo xtask fuzz`: every cargo-fuzz target, each for a bounded time.
//!
//! It runs on the stable toolchain with sanitizers off (`-s none`): a fresh
//! machine has only stable Rust, and the coverage-guided search is what finds
//! the panics and overlong buffers the core must not have. A crash fails the
//! run and cargo-fuzz prints the input that reproduces it.

use crate::tools::{self, CargoTool};
use anyhow::{Context, Result, bail};
use std::process::Command;

pub const CARGO_FUZZ: CargoTool = CargoTool {
    bin: "cargo-fuzz",
    krate: "cargo-fuzz",
    version: "0.13.2",
    locked: true,
};

#[derive(clap::Args, Clone, Debug)]
pub struct FuzzArgs {
    /// Seconds to fuzz each target.
    #[arg(long, default_value_t = 60)]
    pub seconds: u32,
    /// Targets to run (default: every target in fuzz/).
    pub targets: Vec<String>,
}

impl FuzzArgs {
    /// The short run `cargo xtask test` makes: proves every target builds
    /// and survives a few seconds of mutation.
    pub fn smoke() -> Self {
        FuzzArgs {
            seconds: 5,
            targets: Vec::new(),
        }
    }
}

fn cargo_fuzz() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.arg("fuzz").current_dir(crate::root().join("fuzz"));
    cmd
}

pub fn run(args: FuzzArgs) -> Result<()> {
    CARGO_FUZZ.ensure()?;
    let targets = if args.targets.is_empty() {
        let out = cargo_fuzz()
            .arg("list")
            .output()
            .context("could not run cargo fuzz list")?;
        if !out.status.success() {
            bail!("cargo fuzz list failed");
        }
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        args.targets
    };
    for target in &targets {
        tools::run(cargo_fuzz().args([
            "run",
            "-s",
            "none",
            target,
            "--",
            &format!("-max_total_time={}", args.seconds),
        ]))?;
    }
    eprintln!(
        "==> fuzzed {} target(s), {} s each",
        targets.len(),
        args.seconds
    );
    Ok(())
}

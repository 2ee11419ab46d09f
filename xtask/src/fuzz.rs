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
    /// Instead of a time: exactly this many inputs, from a fixed seed, so the
    /// run is the same on every machine (what `cargo xtask test` uses).
    #[arg(long)]
    pub runs: Option<u64>,
    /// Targets to run (default: every target in fuzz/).
    pub targets: Vec<String>,
}

impl FuzzArgs {
    /// The short run `cargo xtask test` makes: proves every target builds
    /// and survives some mutation. A fixed seed and count keep CI
    /// deterministic; longer, time-bound runs (`cargo xtask fuzz`) search.
    pub fn smoke() -> Self {
        FuzzArgs {
            seconds: 5,
            runs: Some(20_000),
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
    let budget = match args.runs {
        Some(n) => vec![format!("-runs={n}"), "-seed=1".to_owned()],
        None => vec![format!("-max_total_time={}", args.seconds)],
    };
    for target in &targets {
        tools::run(
            cargo_fuzz()
                .args(["run", "-s", "none", target, "--"])
                .args(&budget),
        )?;
    }
    eprintln!(
        "==> fuzzed {} target(s), {} each",
        targets.len(),
        budget.join(" ")
    );
    Ok(())
}

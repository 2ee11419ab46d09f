//! Third-party tools the builds need, installed on first use so that the
//! README's two commands work on a fresh machine.

use anyhow::{Context, Result, bail};
use std::process::Command;

/// A tool installed with `cargo install`, pinned so every machine builds alike.
pub struct CargoTool {
    /// The binary it provides.
    pub bin: &'static str,
    /// The crate that provides it.
    pub krate: &'static str,
    /// The exact version.
    pub version: &'static str,
    /// Whether `--locked` works for it (not for every crate).
    pub locked: bool,
}

pub const MDBOOK: CargoTool = CargoTool {
    bin: "mdbook",
    krate: "mdbook",
    version: "0.5.4",
    locked: true,
};

pub const MDBOOK_MERMAID: CargoTool = CargoTool {
    bin: "mdbook-mermaid",
    krate: "mdbook-mermaid",
    version: "0.17.1",
    locked: true,
};

impl CargoTool {
    /// Installs the tool unless the pinned version is already on PATH.
    pub fn ensure(&self) -> Result<()> {
        let installed = Command::new(self.bin)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        if installed
            .as_deref()
            .is_some_and(|v| v.contains(self.version))
        {
            return Ok(());
        }
        eprintln!("==> installing {} {} (once)", self.krate, self.version);
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["install", self.krate, "--version", self.version]);
        if self.locked {
            cmd.arg("--locked");
        }
        let status = cmd
            .status()
            .with_context(|| format!("could not run cargo install {}", self.krate))?;
        if !status.success() {
            bail!("cargo install {} {} failed", self.krate, self.version);
        }
        Ok(())
    }
}

/// Runs a command to completion, failing with its name if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("==> {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// Installs Debian packages whose files are missing: `(path, package)`.
/// Needs root (CI and these machines run as root); elsewhere it says what to
/// install instead of failing halfway.
pub fn ensure_debian(wanted: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(path, _)| !std::path::Path::new(path).exists())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        bail!(
            "missing Debian packages: run `sudo apt-get install {}`",
            missing.join(" ")
        );
    }
    eprintln!("==> installing {} (once)", missing.join(" "));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(std::process::Stdio::null()))
}

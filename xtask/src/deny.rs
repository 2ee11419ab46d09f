//! The supply chain, checked in `cargo xtask test`: cargo-deny's bans,
//! licences and sources against `deny.toml` (offline, from the lock file),
//! its advisories against RustSec's database, and the fuzz crate's lock
//! against the workspace's.
//!
//! The advisory database is a git repository on GitHub. Where it cannot be
//! fetched (these machines reach crates.io but not GitHub), a copy fetched
//! before is used and the run says it is stale; with no copy at all the run
//! says plainly that advisories were not checked, rather than failing every
//! build for a network it cannot change, or passing as if it had looked.

use crate::tools::{self, CargoTool};
use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const CARGO_DENY: CargoTool = CargoTool {
    bin: "cargo-deny",
    krate: "cargo-deny",
    version: "0.20.2",
    lock: None,
};

pub fn check() -> Result<()> {
    locks_agree(
        &crate::root().join("Cargo.lock"),
        &crate::root().join("fuzz/Cargo.lock"),
    )?;
    CARGO_DENY.ensure()?;
    // `--locked`: the policy is checked against the lock as committed.
    deny(&["--locked", "check", "bans", "licenses", "sources"])?;
    advisories()
}

fn deny(args: &[&str]) -> Result<()> {
    let mut cmd = Command::new(tools::cargo_bin());
    cmd.arg("deny").args(args).current_dir(crate::root());
    tools::run(&mut cmd)
}

/// Refreshes the database, then checks against whatever copy there is.
fn advisories() -> Result<()> {
    eprintln!("==> cargo deny fetch db");
    let fetched = Command::new(tools::cargo_bin())
        .args(["deny", "fetch", "db"])
        .current_dir(crate::root())
        .stdin(Stdio::null())
        .output()
        .context("could not run cargo deny fetch")?;
    if !fetched.status.success() {
        let why = String::from_utf8_lossy(&fetched.stderr);
        let why = why
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        match existing_db() {
            Some(db) => eprintln!(
                "==> advisory database could not be refreshed ({why}): \
                 checking against the copy in {}",
                db.display()
            ),
            None => {
                eprintln!(
                    "==> advisory database could not be fetched ({why}): advisories not checked"
                );
                return Ok(());
            }
        }
    }
    // The fetch is done (or could not be): `--offline` keeps the check
    // from trying again.
    deny(&["--locked", "--offline", "check", "advisories"])
}

/// A database cargo-deny fetched before: `$CARGO_HOME/advisory-dbs/*`,
/// where deny.toml leaves it.
fn existing_db() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    std::fs::read_dir(home.join("advisory-dbs"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.join("crates").is_dir())
}

/// Registry packages of a lock file: name → versions.
fn registry_packages(lock: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let text = std::fs::read_to_string(lock).with_context(|| format!("read {}", lock.display()))?;
    let parsed: toml::Table =
        toml::from_str(&text).with_context(|| format!("parse {}", lock.display()))?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in parsed
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        let field = |k: &str| package.get(k).and_then(|v| v.as_str());
        if let (Some(name), Some(version), Some(_registry)) =
            (field("name"), field("version"), field("source"))
        {
            out.entry(name.to_owned())
                .or_default()
                .insert(version.to_owned());
        }
    }
    Ok(out)
}

/// The fuzz crate is its own workspace (cargo-fuzz's flags must not reach
/// the main one), so it has its own lock; it must build the same
/// dependencies the tests do. Every crate both locks name must be, in the
/// fuzz lock, at a version the workspace's lock has too (the fuzz crate
/// builds fewer crates, so it may need fewer versions of one).
fn locks_agree(workspace: &Path, fuzz: &Path) -> Result<()> {
    let ours = registry_packages(workspace)?;
    let theirs = registry_packages(fuzz)?;
    let drift: Vec<String> = drift(&ours, &theirs);
    if !drift.is_empty() {
        bail!(
            "fuzz/Cargo.lock has drifted from Cargo.lock (run `cargo update -p NAME --precise \
             VERSION` in fuzz/ to the workspace's version):\n  {}",
            drift.join("\n  ")
        );
    }
    eprintln!("==> fuzz/Cargo.lock agrees with Cargo.lock");
    Ok(())
}

fn drift(
    ours: &BTreeMap<String, BTreeSet<String>>,
    theirs: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    theirs
        .iter()
        .filter_map(|(name, versions)| {
            let workspace = ours.get(name)?;
            let strays: Vec<&str> = versions.difference(workspace).map(String::as_str).collect();
            (!strays.is_empty()).then(|| {
                format!(
                    "{name}: fuzz {} but the workspace {}",
                    strays.join(", "),
                    workspace.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(entries: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (n, v) in entries {
            out.entry((*n).to_owned())
                .or_default()
                .insert((*v).to_owned());
        }
        out
    }

    #[test]
    fn a_version_the_workspace_lacks_is_drift_and_is_named() {
        let ours = lock(&[("anyhow", "1.0.104"), ("nix", "0.31.3")]);
        let theirs = lock(&[("anyhow", "1.0.105"), ("nix", "0.31.3")]);
        assert_eq!(
            drift(&ours, &theirs),
            ["anyhow: fuzz 1.0.105 but the workspace 1.0.104"]
        );
    }

    #[test]
    fn fewer_versions_and_fuzz_only_crates_are_not_drift() {
        let ours = lock(&[("hashbrown", "0.16.1"), ("hashbrown", "0.17.1")]);
        let theirs = lock(&[("hashbrown", "0.17.1"), ("libfuzzer-sys", "0.4.13")]);
        assert!(drift(&ours, &theirs).is_empty());
    }

    #[test]
    fn only_registry_packages_are_compared() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Cargo.lock");
        std::fs::write(
            &path,
            "version = 4\n\n[[package]]\nname = \"wirekit\"\nversion = \"0.1.0\"\n\n\
             [[package]]\nname = \"nix\"\nversion = \"0.31.3\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        )
        .expect("write");
        assert_eq!(
            registry_packages(&path).expect("parse"),
            lock(&[("nix", "0.31.3")])
        );
    }

    #[test]
    fn the_two_locks_in_the_tree_agree() {
        let root = crate::root();
        let (ours, theirs) = (
            registry_packages(&root.join("Cargo.lock")).expect("workspace lock"),
            registry_packages(&root.join("fuzz/Cargo.lock")).expect("fuzz lock"),
        );
        assert_eq!(drift(&ours, &theirs), Vec::<String>::new());
    }
}

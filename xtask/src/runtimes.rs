//! Every native suite on smol as well as on async-std.
//!
//! async-std, the default runtime, is discontinued upstream
//! (RUSTSEC-2025-0052); smol must stay its equal. The suites are built with
//! both runtimes (tests/Cargo.toml), and `WIREKIT_TEST_RUNTIME` picks the
//! one their servers run on: a second run of the same suites, not a second
//! build with other features.

use anyhow::{Context, Result, bail};
use std::process::Command;

/// The suites in tests/tests/ that start native servers (in-process or a
/// `wirekit serve` child). A unit test below keeps the list whole.
pub const NATIVE_SUITES: &[&str] = &[
    "book_transcripts",
    "faults",
    "idle_cpu",
    "native_deferred",
    "native_interop",
    "native_models",
    "native_robust",
    "native_space",
    "native_store",
    "tftp_interop",
    "wkft_integrity",
];

/// Runs [`NATIVE_SUITES`] with their servers on smol.
pub fn test_on_smol() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // `--workspace`, as the run before: the same packages resolve the
    // features alike, so cargo can reuse the executables it built.
    let mut cmd = Command::new(&cargo);
    cmd.args(["test", "--workspace"]);
    for suite in NATIVE_SUITES {
        cmd.args(["--test", suite]);
    }
    cmd.env("WIREKIT_TEST_RUNTIME", "smol")
        .current_dir(crate::root());
    eprintln!("==> WIREKIT_TEST_RUNTIME=smol {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cargo}"))?;
    if !status.success() {
        bail!("the native suites failed on smol ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// True if a test file starts native servers: it uses the helpers that do.
    fn starts_servers(source: &str) -> bool {
        [
            "wirekit_tests::native",
            "wirekit_tests::process",
            "drive::serve",
        ]
        .iter()
        .any(|helper| source.contains(helper))
    }

    /// The suites of `dir` that start native servers, sorted.
    fn suites_starting_servers(dir: &Path) -> Result<Vec<String>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "rs")
                && starts_servers(&std::fs::read_to_string(&path)?)
            {
                let name = path.file_stem().unwrap_or_default();
                found.push(name.to_string_lossy().into_owned());
            }
        }
        found.sort();
        Ok(found)
    }

    #[test]
    fn every_suite_that_starts_a_native_server_runs_on_smol() {
        let found = suites_starting_servers(&crate::root().join("tests/tests")).expect("read");
        assert_eq!(found, NATIVE_SUITES, "update NATIVE_SUITES");
    }

    #[test]
    fn a_suite_of_codecs_alone_is_not_a_native_one() {
        assert!(!starts_servers("use wirekit_core::wire::echo;"));
        assert!(starts_servers(
            "use wirekit_tests::native::{MODELS, start};"
        ));
    }
}

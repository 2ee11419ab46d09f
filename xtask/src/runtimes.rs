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
///
/// The executables are the ones `cargo test --workspace` just built, run
/// again by path: asking cargo for a few `--test`s of the workspace
/// resolves features for that selection alone, and rebuilt serde, clap and
/// every crate of ours (measured: minutes of a CI run, for nothing).
pub fn test_on_smol() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let listed = Command::new(&cargo)
        .args(["test", "--workspace", "--no-run", "--message-format=json"])
        .current_dir(crate::root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {cargo}"))?;
    if !listed.status.success() {
        bail!("cargo test --no-run failed ({})", listed.status);
    }
    let suites = executables(&String::from_utf8_lossy(&listed.stdout))?;
    for suite in NATIVE_SUITES {
        let Some((exe, dir)) = suites.get(*suite) else {
            bail!("cargo built no test executable named {suite}");
        };
        eprintln!("==> WIREKIT_TEST_RUNTIME=smol {suite}");
        let status = Command::new(exe)
            // Where cargo runs a package's tests: its own folder.
            .current_dir(dir)
            .env("WIREKIT_TEST_RUNTIME", "smol")
            .status()
            .with_context(|| format!("could not start {}", exe.display()))?;
        if !status.success() {
            bail!("{suite} failed on smol ({status})");
        }
    }
    Ok(())
}

/// The integration-test executables in cargo's JSON messages: name →
/// (executable, the folder of its package).
fn executables(
    messages: &str,
) -> Result<std::collections::BTreeMap<String, (std::path::PathBuf, std::path::PathBuf)>> {
    let mut found = std::collections::BTreeMap::new();
    for line in messages.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let target = &msg["target"];
        let is_test = target["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "test"));
        let (Some(name), Some(exe), Some(manifest)) = (
            target["name"].as_str(),
            msg["executable"].as_str(),
            msg["manifest_path"].as_str(),
        ) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact" && is_test {
            let dir = std::path::Path::new(manifest)
                .parent()
                .context("a manifest path with no folder")?
                .to_path_buf();
            found.insert(name.to_owned(), (exe.into(), dir));
        }
    }
    Ok(found)
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
    fn test_executables_are_read_from_cargos_messages() {
        let messages = r#"{"reason":"compiler-artifact","manifest_path":"/w/tests/Cargo.toml","target":{"kind":["test"],"name":"faults"},"executable":"/w/target/debug/deps/faults-1"}
{"reason":"compiler-artifact","manifest_path":"/w/native/Cargo.toml","target":{"kind":["lib"],"name":"wirekit"},"executable":null}
not json
{"reason":"build-finished","success":true}"#;
        let found = executables(messages).expect("parse");
        assert_eq!(found.len(), 1);
        let (exe, dir) = &found["faults"];
        assert_eq!(exe, std::path::Path::new("/w/target/debug/deps/faults-1"));
        assert_eq!(dir, std::path::Path::new("/w/tests"));
    }

    #[test]
    fn a_suite_of_codecs_alone_is_not_a_native_one() {
        assert!(!starts_servers("use wirekit_core::wire::echo;"));
        assert!(starts_servers(
            "use wirekit_tests::native::{MODELS, start};"
        ));
    }
}

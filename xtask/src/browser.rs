//! The browser lab's tests in Chromium, and the façade's in node.
//!
//! Debian's Chromium (playwright cannot download browsers here) is driven by
//! playwright-core, pinned in `tests/browser/package-lock.json`; the tests
//! (node's own runner) load the lab from the server `cargo xtask lab` runs
//! and compare the page's trace hashes with the `wirekit` command's.

use crate::lab::Lab;
use crate::tools::{self, CargoTool};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// The browser the tests drive.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs wasm-bindgen-test's suites under node (the façade as JavaScript
/// sees it).
pub const WASM_BINDGEN_CLI: CargoTool = CargoTool {
    bin: "wasm-bindgen-test-runner",
    krate: "wasm-bindgen-cli",
    version: "0.2.130",
    // The lock wasm-bindgen-cli 0.2.130 ships names webpki-roots 1.0.11,
    // which is yanked, so `cargo install --locked` fails to resolve it.
    // Ours is that lock with webpki-roots 1.0.10 instead (the one change;
    // `diff` it against the published Cargo.lock). The version must be
    // exactly the `wasm-bindgen` the façade links.
    lock: Some(include_str!("../locks/wasm-bindgen-cli-0.2.130.lock")),
};

/// The façade's bindings, compiled to wasm32 and run under node.
pub fn wasm_tests() -> Result<()> {
    WASM_BINDGEN_CLI.ensure()?;
    tools::ensure_wasm_target()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    tools::run(
        Command::new(cargo)
            .args([
                "test",
                "-p",
                "wirekit-wasm",
                "--target",
                "wasm32-unknown-unknown",
                // The unit tests of lab.rs run natively with the workspace.
                "--test",
                "bindings",
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                WASM_BINDGEN_CLI.bin,
            )
            .current_dir(crate::root()),
    )
}

/// Chromium and tshark (which reads the page's pcap) from Debian, and
/// playwright-core from npm, when missing.
pub fn ensure_tools() -> Result<()> {
    tools::ensure_debian(&[(CHROMIUM, "chromium"), ("/usr/bin/tshark", "tshark")])?;
    let dir = crate::root().join("tests/browser");
    if !dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        tools::run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--silent"])
                .current_dir(&dir),
        )
        .context("npm ci in tests/browser")?;
    }
    Ok(())
}

/// Runs `tests/browser/*.test.mjs` against the running lab.
pub fn test(lab: &Lab) -> Result<()> {
    ensure_tools()?;
    let root = crate::root();
    let shots = root.join("target/browser");
    std::fs::create_dir_all(&shots)?;
    let mut node = Command::new("node");
    node.args(["--test", "--test-reporter=spec"]);
    for test in test_files(&root.join("tests/browser"))? {
        node.arg(test);
    }
    tools::run(
        node.env("LAB_URL", format!("http://{}/", lab.web.addr()))
            .env("WIREKIT_BIN", root.join("target/debug/wirekit"))
            .env("SHOTS_DIR", &shots)
            .env("CHROMIUM", CHROMIUM)
            .current_dir(root.join("tests/browser")),
    )?;
    println!("browser: screenshots in {}", shots.display());
    Ok(())
}

/// The browser's simulator speed: `tests/browser/bench.mjs` prints JSON.
pub fn bench(lab: &Lab, preset: &str, runs: &str) -> Result<serde_json::Value> {
    ensure_tools()?;
    let root = crate::root();
    let out = Command::new("node")
        .args(["bench.mjs", preset, runs])
        .env("LAB_URL", format!("http://{}/", lab.web.addr()))
        .env("CHROMIUM", CHROMIUM)
        .env("SHOTS_DIR", root.join("target/browser"))
        .current_dir(root.join("tests/browser"))
        .output()
        .context("could not run node")?;
    if !out.status.success() {
        bail!(
            "tests/browser/bench.mjs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(last).with_context(|| format!("bench.mjs printed {text}"))
}

fn test_files(dir: &Path) -> Result<Vec<String>> {
    let mut files: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".test.mjs"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no browser tests in {}", dir.display());
    }
    Ok(files)
}

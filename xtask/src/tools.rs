//! Third-party tools the builds need, installed on first use so that the
//! README's two commands work on a fresh machine.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tool installed with `cargo install --locked`, pinned so every machine
/// builds it from the same sources.
pub struct CargoTool {
    /// The binary it provides.
    pub bin: &'static str,
    /// The crate that provides it.
    pub krate: &'static str,
    /// The exact version.
    pub version: &'static str,
    /// Our own lock file for the crate, used instead of the one it ships
    /// when that one cannot be built from the registry (see
    /// `browser::WASM_BINDGEN_CLI`). `None`: the crate's own lock.
    pub lock: Option<&'static str>,
}

pub const MDBOOK: CargoTool = CargoTool {
    bin: "mdbook",
    krate: "mdbook",
    version: "0.5.4",
    lock: None,
};

pub const MDBOOK_MERMAID: CargoTool = CargoTool {
    bin: "mdbook-mermaid",
    krate: "mdbook-mermaid",
    version: "0.17.1",
    lock: None,
};

impl CargoTool {
    /// Installs the tool unless the pinned version is already on PATH.
    pub fn ensure(&self) -> Result<()> {
        if self.installed(Path::new(self.bin)) {
            return Ok(());
        }
        self.install(None)
    }

    /// The same into `ROOT/bin`, a folder only this writes: the binary
    /// being there is enough (some tools, tftpd among them, have no
    /// `--version`).
    pub fn ensure_in(&self, root: &Path) -> Result<()> {
        if root.join("bin").join(self.bin).is_file() {
            return Ok(());
        }
        self.install(Some(root))
    }

    fn installed(&self, bin: &Path) -> bool {
        Command::new(bin)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .is_some_and(|o| String::from_utf8_lossy(&o.stdout).contains(self.version))
    }

    fn install(&self, root: Option<&Path>) -> Result<()> {
        eprintln!("==> installing {} {} (once)", self.krate, self.version);
        let mut cmd = Command::new(cargo_bin());
        cmd.args(["install", "--locked"]);
        match self.lock {
            None => cmd.args([self.krate, "--version", self.version]),
            Some(lock) => cmd.arg("--path").arg(self.source_with(lock)?),
        };
        if let Some(root) = root {
            cmd.arg("--root").arg(root);
        }
        run(&mut cmd).with_context(|| format!("cargo install {} {}", self.krate, self.version))
    }

    /// The crate's published source with `lock` as its Cargo.lock, in a
    /// folder outside the workspace (cargo would take it for a member).
    /// Cargo downloads the source itself: a throwaway package depending on
    /// exactly this version, asked for its metadata, says where it is.
    fn source_with(&self, lock: &str) -> Result<PathBuf> {
        let dir =
            std::env::temp_dir().join(format!("wirekit-tools/{}-{}", self.krate, self.version));
        let probe = dir.join("probe");
        std::fs::create_dir_all(probe.join("src"))?;
        std::fs::write(probe.join("src/lib.rs"), "")?;
        std::fs::write(
            probe.join("Cargo.toml"),
            format!(
                "[package]\nname = \"probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
                 [dependencies]\n{} = {{ version = \"={}\", default-features = false }}\n\n\
                 [workspace]\n",
                self.krate, self.version
            ),
        )?;
        let out = Command::new(cargo_bin())
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(probe.join("Cargo.toml"))
            .output()
            .context("could not run cargo metadata")?;
        if !out.status.success() {
            bail!(
                "cargo metadata for {} {}: {}",
                self.krate,
                self.version,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let manifest = meta["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == self.krate && p["version"] == self.version)
            .and_then(|p| p["manifest_path"].as_str())
            .with_context(|| {
                format!(
                    "cargo metadata does not list {} {}",
                    self.krate, self.version
                )
            })?;
        let published = Path::new(manifest)
            .parent()
            .context("a manifest path has a folder")?;
        let source = dir.join("source");
        if source.exists() {
            std::fs::remove_dir_all(&source)?;
        }
        copy_tree(published, &source)?;
        std::fs::write(source.join("Cargo.lock"), lock)?;
        Ok(source)
    }
}

/// The cargo that runs xtask (rustup's proxy sets `CARGO`).
pub fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The target the browser lab and the core's no-std proof build for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Adds the wasm32 target when this toolchain has no standard library for
/// it. `rust-toolchain.toml` names the target, but rustup installs it by
/// itself only where automatic installs are on, which many CI images (and
/// these machines) turn off.
pub fn ensure_wasm_target() -> Result<()> {
    if has_std(WASM_TARGET)? {
        return Ok(());
    }
    eprintln!("==> the {WASM_TARGET} target is not installed: adding it with rustup (once)");
    run(Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .current_dir(crate::root()))
    .with_context(|| {
        format!("without rustup, install the {WASM_TARGET} standard library for this toolchain")
    })?;
    if !has_std(WASM_TARGET)? {
        bail!("rustup added {WASM_TARGET} but rustc still has no std for it");
    }
    Ok(())
}

/// Whether the toolchain the workspace uses has a compiled `std` for
/// `target` (rustc prints the folder whether or not anything is in it).
fn has_std(target: &str) -> Result<bool> {
    let out = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .current_dir(crate::root())
        .output()
        .context("could not run rustc")?;
    if !out.status.success() {
        return Ok(false);
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(std::fs::read_dir(libdir).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libstd-") && name.ends_with(".rlib")
        })
    }))
}

/// rustfmt and clippy, which `cargo xtask test` runs; like the wasm32
/// target, the toolchain file names them but need not bring them.
pub fn ensure_components() -> Result<()> {
    for (component, subcommand) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        let present = Command::new(cargo_bin())
            .args([subcommand, "--version"])
            .current_dir(crate::root())
            .output()
            .is_ok_and(|o| o.status.success());
        if !present {
            eprintln!("==> {component} is not installed: adding it with rustup (once)");
            run(Command::new("rustup")
                .args(["component", "add", component])
                .current_dir(crate::root()))?;
        }
    }
    Ok(())
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

/// Copies a folder's files (not its hidden ones) into `to`.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).with_context(|| format!("copy {}", src.display()))?;
        }
    }
    Ok(())
}

//! `cargo xtask web`: builds the browser lab into `target/web/`.
//!
//! Three inputs, nothing generated committed: the page's own files
//! (`wasm/web/`), the simulator compiled to wasm32 with its JavaScript glue
//! (wasm-bindgen's library, pinned at exactly the `wasm-bindgen` version the
//! crate links, since the two must agree on the ABI), and the front-end
//! packages from the npm registry, checked against their pinned integrity
//! before a byte of them is copied. `wasm-opt` (binaryen, from npm too)
//! shrinks the module; without it the lab is over its size budget.

use anyhow::{Context, Result, bail};
use base64::Engine;
use sha2::{Digest, Sha512};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A front-end package from the npm registry, pinned by its integrity
/// checksum (`npm view NAME@VERSION dist.integrity`).
struct NpmPackage {
    name: &'static str,
    version: &'static str,
    integrity: &'static str,
    /// (file in the package, where it goes under the site).
    files: &'static [(&'static str, &'static str)],
}

const UPLOT: NpmPackage = NpmPackage {
    name: "uplot",
    version: "1.6.32",
    integrity: "sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
    files: &[
        ("package/dist/uPlot.esm.js", "vendor/uplot/uPlot.esm.js"),
        ("package/dist/uPlot.min.css", "vendor/uplot/uPlot.min.css"),
        ("package/LICENSE", "vendor/uplot/LICENSE"),
    ],
};

/// binaryen, for `wasm-opt`: the npm build, compiled to WebAssembly and run
/// by node (which the browser tests need anyway). Chosen over the
/// `wasm-opt` crate, which compiles binaryen's C++ from source: on this
/// project's 2-core machine, shared with three other builds, it had
/// compiled 12 of binaryen's 242 C++ files after 54 minutes, where this
/// 23 MB package takes 14 s to fetch, once; and the crate is binaryen 116,
/// this is 132. Debian's (108) turns wasm-bindgen 0.2.130's externref
/// table into one the engine refuses at start-up (`WebAssembly.Table.set():
/// Argument 1 is invalid`), so whatever `wasm-opt` is on PATH is not used.
/// [`WASM_OPT`] takes the module from 932 to 658 KB (296 to 249.5 KB
/// gzipped):
/// most of what keeps the lab within [`WASM_BUDGET`].
const BINARYEN: NpmPackage = NpmPackage {
    name: "binaryen",
    version: "132.0.0",
    integrity: "sha512-4Usg7yEvwO3FMso3Oov6qkOOHSod1IEv+boKkh77kTljM+eNBouqCTbqWswGzbG+vDNO/b/v2C4gfEh1WgB9Lg==",
    files: &[],
};

/// Size first, but not at any cost in speed: `-Os`, not `-Oz` (the same
/// size once converged, faster code), passes repeated until they stop
/// gaining, and the sections no engine reads (names, producers, target
/// features) dropped. Measured on the `"s"` module: `-Oz` 250.7 KB
/// gzipped, this 249.5 KB; `opt-level = "z"` would save 17 KB more but
/// runs the simulator 1.8 times as long.
const WASM_OPT: &[&str] = &[
    "-Os",
    "--converge",
    "--strip-debug",
    "--strip-producers",
    "--strip-target-features",
];

/// The WebAssembly features rustc enables for wasm32-unknown-unknown, and
/// SIMD (.cargo/config.toml): wasm-opt may use these and no others, so
/// the module runs wherever the unoptimised one did.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
    "--enable-simd",
];

/// Gzipped size budgets: what a learner on a slow link waits for.
pub const WASM_BUDGET: usize = 250 * 1024;
/// The whole page: every file the lab loads.
pub const PAGE_BUDGET: usize = 500 * 1024;

/// Where the site is built.
pub fn out_dir() -> PathBuf {
    crate::root().join("target/web")
}

/// Builds the site and returns its folder.
pub fn build() -> Result<PathBuf> {
    let root = crate::root();
    let out = out_dir();
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("clear {}", out.display()))?;
    }
    crate::tools::copy_tree(&root.join("wasm/web"), &out)?;
    let wasm = bindgen(&out.join("pkg"))?;
    vendor(&UPLOT, &out)?;
    let wasm_gz = gzipped(&std::fs::read(&wasm)?)?;
    let page_gz = page_size(&out)?;
    println!(
        "web: {} — wasm {} KB gzipped (budget {} KB), whole page {} KB gzipped (budget {} KB)",
        out.display(),
        wasm_gz / 1024,
        WASM_BUDGET / 1024,
        page_gz / 1024,
        PAGE_BUDGET / 1024
    );
    if wasm_gz > WASM_BUDGET || page_gz > PAGE_BUDGET {
        bail!("the lab is over its size budget");
    }
    Ok(out)
}

/// The façade for wasm32 (the `wasm` profile: optimised for size, whole
/// program), then its glue for ES modules.
fn bindgen(pkg: &Path) -> Result<PathBuf> {
    crate::tools::ensure_wasm_target()?;
    crate::cargo(&[
        "build",
        "-q",
        "-p",
        "wirekit-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm",
    ])?;
    let input = crate::root().join("target/wasm32-unknown-unknown/wasm/wirekit_wasm.wasm");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .typescript(false)
        .generate(pkg)
        .context("wasm-bindgen")?;
    let wasm = pkg.join("wirekit_wasm_bg.wasm");
    let binaryen = fetch(&BINARYEN)?;
    let shrunk = pkg.join("wirekit_wasm_bg.opt.wasm");
    crate::tools::run(
        Command::new("node")
            .arg(binaryen.join("package/bin/wasm-opt"))
            .args(WASM_OPT)
            .args(WASM_FEATURES)
            .arg(&wasm)
            .arg("-o")
            .arg(&shrunk),
    )
    .context("wasm-opt (binaryen from npm, run by node)")?;
    std::fs::rename(&shrunk, &wasm)?;
    Ok(wasm)
}

/// Fetches `pkg` from the npm registry (once, into target/npm), checks its
/// integrity and copies the files the page uses.
fn vendor(pkg: &NpmPackage, site: &Path) -> Result<()> {
    let unpacked = fetch(pkg)?;
    for (from, to) in pkg.files {
        let dest = site.join(to);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(unpacked.join(from), &dest)
            .with_context(|| format!("{} has no {from}", pkg.name))?;
    }
    Ok(())
}

/// `pkg` unpacked under target/npm, fetched once and checked against its
/// pinned integrity; returns its folder.
fn fetch(pkg: &NpmPackage) -> Result<PathBuf> {
    let cache = crate::root().join("target/npm");
    std::fs::create_dir_all(&cache)?;
    let tarball = cache.join(format!("{}-{}.tgz", pkg.name, pkg.version));
    let unpacked = cache.join(format!("{}-{}", pkg.name, pkg.version));
    // Unpacked only from a checked tarball, and the mark written last: a
    // folder without it is from an interrupted run and is unpacked again.
    let mark = unpacked.join(".intact");
    if mark.exists() {
        return Ok(unpacked);
    }
    if !tarball.exists() || !intact(&tarball, pkg.integrity)? {
        crate::tools::run(
            Command::new("npm")
                .args(["pack", "--silent", &format!("{}@{}", pkg.name, pkg.version)])
                .current_dir(&cache),
        )
        .context("npm pack (is npm installed and the registry reachable?)")?;
    }
    if !intact(&tarball, pkg.integrity)? {
        bail!(
            "{} does not match the pinned integrity {}",
            tarball.display(),
            pkg.integrity
        );
    }
    std::fs::create_dir_all(&unpacked)?;
    crate::tools::run(
        Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&unpacked),
    )?;
    std::fs::write(&mark, pkg.integrity)?;
    Ok(unpacked)
}

/// True if the file's SHA-512 is the `sha512-…` integrity string.
fn intact(file: &Path, integrity: &str) -> Result<bool> {
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let digest = Sha512::digest(&bytes);
    let ours = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    Ok(ours == integrity)
}

fn gzipped(bytes: &[u8]) -> Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len())
}

/// Every file the page can load, gzipped one by one (as a server would
/// send them); the vendored licences are not loaded and do not count.
fn page_size(site: &Path) -> Result<usize> {
    let mut total = 0;
    for file in files(site)? {
        if file.file_name().is_some_and(|n| n == "LICENSE") {
            continue;
        }
        total += gzipped(&std::fs::read(&file)?)?;
    }
    Ok(total)
}

fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_is_checked_against_the_pinned_digest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("x");
        std::fs::write(&f, b"hello").expect("write");
        // `printf hello | openssl dgst -sha512 -binary | base64`
        let good = "sha512-m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw==";
        assert!(intact(&f, good).expect("read"));
        assert!(!intact(&f, UPLOT.integrity).expect("read"));
    }
}

//! `cargo xtask book`: renders the mdBook tutorial with its mermaid diagrams
//! and the browser lab's widgets.

use crate::tools::{self, MDBOOK, MDBOOK_MERMAID};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Command;

/// Builds the book and returns the folder holding the HTML.
pub fn build() -> Result<PathBuf> {
    MDBOOK.ensure()?;
    MDBOOK_MERMAID.ensure()?;
    let book = crate::root().join("book");
    // mdbook-mermaid ships mermaid's JavaScript inside its binary; writing
    // it out at build time keeps 3 MB of vendored JS out of the repository
    // and the book working offline.
    tools::run(Command::new(MDBOOK_MERMAID.bin).arg("install").arg(&book))?;
    // The chapters embed live simulator widgets: the lab goes into the
    // book's source (git-ignored), so that a plain `mdbook serve book`
    // has them too once this has run.
    let site = crate::web::build()?;
    let copy = book.join("src/lab");
    if copy.exists() {
        std::fs::remove_dir_all(&copy)?;
    }
    crate::tools::copy_tree(&site, &copy)?;
    let out = crate::root().join("target/book");
    let mut cmd = Command::new(MDBOOK.bin);
    cmd.arg("build").arg(&book).arg("--dest-dir").arg(&out);
    eprintln!("==> {cmd:?}");
    let run = cmd.output().context("could not start mdbook")?;
    let log = String::from_utf8_lossy(&run.stderr);
    eprint!("{log}{}", String::from_utf8_lossy(&run.stdout));
    if !run.status.success() {
        bail!("mdbook build failed ({})", run.status);
    }
    // Warnings are errors: an unclosed tag or a missing include is a broken
    // page. (mdbook-mermaid's note that it was built against another mdbook
    // version is not a warning about the book.)
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" WARN ") || l.starts_with("WARN"))
        .collect();
    if !warnings.is_empty() {
        bail!("mdbook build warned:\n{}", warnings.join("\n"));
    }
    Ok(out)
}

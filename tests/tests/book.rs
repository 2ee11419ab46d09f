//! The book is part of the product: these checks keep it honest without
//! needing mdBook installed.
//!
//! - every chapter file is listed in SUMMARY.md, and every listed file exists;
//! - every Rust sample is an `{{#include file:anchor}}` of a file in the
//!   workspace, so the sample is compiled (and usually tested) with the code;
//! - every relative link points at a file that exists.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src")
}

fn chapters(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("book/src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            chapters(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// Targets of markdown links `[text](target)` in `text`, outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            match after.find(')') {
                Some(j) => {
                    found.push(after[..j].to_string());
                    rest = &after[j..];
                }
                None => break,
            }
        }
    }
    found
}

/// Code blocks as (info string, body).
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some((info.trim().to_string(), String::new())),
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    assert!(current.is_none(), "a code block is never closed");
    blocks
}

fn all_chapters() -> Vec<PathBuf> {
    let mut files = Vec::new();
    chapters(&book_src(), &mut files);
    files.sort();
    files
}

#[test]
fn summary_lists_every_chapter_and_only_existing_ones() {
    let src = book_src();
    let summary = fs::read_to_string(src.join("SUMMARY.md")).expect("SUMMARY.md");
    let listed: BTreeSet<PathBuf> = links(&summary).into_iter().map(|l| src.join(l)).collect();
    for file in &listed {
        assert!(
            file.is_file(),
            "SUMMARY.md lists a missing file: {}",
            file.display()
        );
    }
    for file in all_chapters() {
        if file.file_name().is_some_and(|n| n == "SUMMARY.md") {
            continue;
        }
        assert!(
            listed.contains(&file),
            "{} is not listed in SUMMARY.md",
            file.display()
        );
    }
}

#[test]
fn rust_samples_are_included_from_compiled_files() {
    let mut includes = 0;
    for chapter in all_chapters() {
        let text = fs::read_to_string(&chapter).expect("chapter is readable");
        for (info, body) in code_blocks(&text) {
            if !info.starts_with("rust") {
                continue;
            }
            for line in body.lines().filter(|l| !l.trim().is_empty()) {
                let inner = line
                    .trim()
                    .strip_prefix("{{#include ")
                    .and_then(|l| l.strip_suffix("}}"))
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: a Rust sample must be an {{{{#include file:anchor}}}} of compiled code, found: {line}",
                            chapter.display()
                        )
                    });
                let (file, anchor) = inner.split_once(':').unwrap_or((inner, ""));
                let path = chapter.parent().expect("chapter has a folder").join(file);
                let code = fs::read_to_string(&path).unwrap_or_else(|e| {
                    panic!("{}: cannot read {}: {e}", chapter.display(), path.display())
                });
                if !anchor.is_empty() {
                    for mark in ["ANCHOR: ", "ANCHOR_END: "] {
                        let needle = format!("{mark}{anchor}");
                        assert!(
                            code.lines().any(|l| l.trim_end().ends_with(&needle)),
                            "{}: {} has no `{needle}`",
                            chapter.display(),
                            path.display()
                        );
                    }
                }
                includes += 1;
            }
        }
    }
    assert!(includes > 0, "the book includes no code at all");
}

#[test]
fn relative_links_resolve() {
    for chapter in all_chapters() {
        let text = fs::read_to_string(&chapter).expect("chapter is readable");
        for link in links(&text) {
            if link.contains("://") || link.starts_with('#') || link.starts_with("mailto:") {
                continue;
            }
            let file = link.split('#').next().unwrap_or_default();
            let target = chapter.parent().expect("chapter has a folder").join(file);
            assert!(
                target.exists(),
                "{}: broken link to {link}",
                chapter.display()
            );
        }
    }
}

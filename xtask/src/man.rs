//! `cargo xtask man`: a man page per command, from the same clap definition
//! as `--help` — `wirekit.1`, `wirekit-get.1`, …, `wirekit-tftp-get.1` —
//! into target/man/ (`man -l target/man/wirekit-get.1`, or add the folder
//! to MANPATH).
//!
//! clap_mangen renders one command per page; what it leaves out is how the
//! pages find each other, so each ends with SEE ALSO: `wirekit.1` names
//! every page, a subcommand's names `wirekit(1)`, its parent and its own
//! subcommands.

use anyhow::{Context, Result};
use std::path::PathBuf;

/// One rendered page.
#[derive(Debug)]
pub struct Page {
    /// `wirekit-tftp-get`: the file is this and `.1`.
    pub name: String,
    /// The page, in roff.
    pub roff: String,
}

/// Every command's page, the top-level one first.
pub fn pages() -> Result<Vec<Page>> {
    // `help` is clap's own, not a command of ours: no page for it.
    let mut root = wirekit::cli::definition().disable_help_subcommand(true);
    root.build();
    let mut commands = Vec::new();
    walk(&root, None, &mut commands);
    let every: Vec<String> = commands.iter().map(|(c, _)| name(c)).collect();
    commands
        .iter()
        .map(|(cmd, parent)| -> Result<Page> {
            let mut roff = Vec::new();
            // Every page's footer names the program, not the subcommand.
            clap_mangen::Man::new(cmd.clone())
                .source(format!("wirekit {}", env!("CARGO_PKG_VERSION")))
                .render(&mut roff)
                .with_context(|| format!("render {}", name(cmd)))?;
            let mut roff = String::from_utf8(roff).context("clap_mangen wrote UTF-8")?;
            let related: Vec<String> = match parent {
                None => every[1..].to_vec(),
                Some(parent) => {
                    let mut related = vec![every[0].clone()];
                    if *parent != every[0] {
                        related.push(parent.clone());
                    }
                    related.extend(ours(cmd).map(name));
                    related
                }
            };
            roff.push_str(&see_also(&related));
            Ok(Page {
                name: name(cmd),
                roff,
            })
        })
        .collect()
}

/// Writes every page into target/man/; returns the folder.
pub fn write() -> Result<PathBuf> {
    let dir = crate::root().join("target/man");
    std::fs::create_dir_all(&dir).context("create target/man")?;
    let pages = pages()?;
    for page in &pages {
        let out = dir.join(format!("{}.1", page.name));
        std::fs::write(&out, &page.roff).with_context(|| format!("write {}", out.display()))?;
    }
    println!("{} man pages", pages.len());
    Ok(dir)
}

/// A built command's page name: clap joins the path with `-`.
fn name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned()
}

/// Every command under `cmd`, parents before their children, each with its
/// parent's page name.
fn walk(
    cmd: &clap::Command,
    parent: Option<String>,
    out: &mut Vec<(clap::Command, Option<String>)>,
) {
    out.push((cmd.clone(), parent));
    for sub in ours(cmd) {
        walk(sub, Some(name(cmd)), out);
    }
}

/// The subcommands a page is written for: not clap's `help`, nor hidden ones.
fn ours(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

fn see_also(pages: &[String]) -> String {
    let refs: Vec<String> = pages
        .iter()
        .map(|p| format!("\\fB{}\\fR(1)", p.replace('-', "\\-")))
        .collect();
    format!(".SH \"SEE ALSO\"\n{}\n", refs.join(",\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Every command's path (`tftp get`) and the options its page must show.
    fn commands() -> Vec<(String, clap::Command)> {
        fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let path = format!("{path}-{}", sub.get_name());
                out.push((path.clone(), sub.clone()));
                walk(sub, &path, out);
            }
        }
        let mut root = wirekit::cli::definition();
        root.build();
        let mut out = vec![("wirekit".to_owned(), root.clone())];
        walk(&root, "wirekit", &mut out);
        out
    }

    /// Text as roff writes it: a `-` is `\-`.
    fn roff(text: &str) -> String {
        text.replace('-', "\\-")
    }

    #[test]
    fn every_command_gets_a_page_showing_each_of_its_options() {
        let pages: BTreeMap<String, String> = pages()
            .expect("pages render")
            .into_iter()
            .map(|p| (p.name, p.roff))
            .collect();
        let commands = commands();
        // Nested commands too, and not only the top level.
        assert!(pages.contains_key("wirekit-tftp-get"), "{:?}", pages.keys());
        assert!(
            pages.contains_key("wirekit-bench-echo"),
            "{:?}",
            pages.keys()
        );
        assert_eq!(pages.len(), commands.len(), "{:?}", pages.keys());
        let mut checked = 0;
        for (path, cmd) in &commands {
            let page = pages
                .get(path)
                .unwrap_or_else(|| panic!("no page for {path}"));
            assert!(page.contains(&roff(path)), "{path}.1 does not name itself");
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                let shown = match (arg.get_long(), arg.get_value_names()) {
                    (Some(long), _) => format!("--{long}"),
                    (None, Some(names)) if arg.is_positional() => names.join(" "),
                    (None, _) if arg.is_positional() => arg.get_id().to_string(),
                    (None, _) => format!("-{}", arg.get_short().unwrap_or_default()),
                };
                assert!(
                    page.contains(&roff(&shown)),
                    "{path}.1 does not show {shown}"
                );
                checked += 1;
            }
        }
        // The walk found the options: `get` alone has a dozen.
        assert!(checked > 100, "only {checked} options checked");
    }

    #[test]
    fn the_pages_find_each_other() {
        let pages = pages().expect("pages render");
        let top = &pages[0];
        assert_eq!(top.name, "wirekit");
        let see_also = top
            .roff
            .split(".SH \"SEE ALSO\"")
            .nth(1)
            .expect("a SEE ALSO");
        for page in &pages[1..] {
            assert!(
                see_also.contains(&format!("\\fB{}\\fR(1)", roff(&page.name))),
                "wirekit.1 does not name {}",
                page.name
            );
        }
        let get = pages
            .iter()
            .find(|p| p.name == "wirekit-tftp-get")
            .expect("wirekit-tftp-get");
        let see_also = get
            .roff
            .split(".SH \"SEE ALSO\"")
            .nth(1)
            .expect("a SEE ALSO");
        assert!(see_also.contains("\\fBwirekit\\fR(1)"));
        assert!(see_also.contains("\\fBwirekit\\-tftp\\fR(1)"));
    }
}

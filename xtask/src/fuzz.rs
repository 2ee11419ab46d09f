//! `cargo xtask fuzz`: every cargo-fuzz target, each for a bounded time.
//!
//! It runs on the stable toolchain with sanitizers off (`-s none`): a fresh
//! machine has only stable Rust, and the coverage-guided search is what finds
//! the panics and overlong buffers the core must not have. A crash fails the
//! run and cargo-fuzz prints the input that reproduces it.

use crate::tools::{self, CargoTool};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Executions each target should reach over its long runs, added up.
pub const GOAL: u64 = 10_000_000;

pub const CARGO_FUZZ: CargoTool = CargoTool {
    bin: "cargo-fuzz",
    krate: "cargo-fuzz",
    version: "0.13.2",
    lock: None,
};

#[derive(clap::Args, Clone, Debug)]
pub struct FuzzArgs {
    /// Seconds to fuzz each target.
    #[arg(long, default_value_t = 60)]
    pub seconds: u32,
    /// Instead of a time: exactly this many inputs, from a fixed seed, so the
    /// run is the same on every machine (what `cargo xtask test` uses).
    #[arg(long)]
    pub runs: Option<u64>,
    /// Search: every target toward 10 million executions, each for at most
    /// `--budget` seconds, keeping the corpus, and write the report.
    #[arg(long, conflicts_with = "runs")]
    pub long: bool,
    /// With `--long`: seconds per target (a bigger machine can give more).
    #[arg(long, default_value_t = 600)]
    pub budget: u64,
    /// Targets to run (default: every target in fuzz/).
    pub targets: Vec<String>,
}

impl FuzzArgs {
    /// The short run `cargo xtask test` makes: proves every target builds
    /// and survives some mutation. A fixed seed and count keep CI
    /// deterministic; longer, time-bound runs (`cargo xtask fuzz`) search.
    pub fn smoke() -> Self {
        FuzzArgs {
            seconds: 5,
            runs: Some(20_000),
            long: false,
            budget: 0,
            targets: Vec::new(),
        }
    }
}

fn cargo_fuzz() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.arg("fuzz").current_dir(crate::root().join("fuzz"));
    cmd
}

pub fn run(args: FuzzArgs) -> Result<()> {
    CARGO_FUZZ.ensure()?;
    let targets = targets(&args.targets)?;
    if args.long {
        return long(&targets, args.budget);
    }
    let budget = match args.runs {
        Some(n) => vec![format!("-runs={n}"), "-seed=1".to_owned()],
        None => vec![format!("-max_total_time={}", args.seconds)],
    };
    for target in &targets {
        tools::run(
            cargo_fuzz()
                .args(["run", "-s", "none", target])
                .args(corpus_dirs(target)?)
                .arg("--")
                .args(&budget),
        )?;
    }
    eprintln!(
        "==> fuzzed {} target(s), {} each",
        targets.len(),
        budget.join(" ")
    );
    Ok(())
}

/// The folders libFuzzer reads a target's inputs from: its working corpus
/// (`fuzz/corpus/TARGET`, not committed; what it finds is written there),
/// then the seeds from real traffic (`fuzz/seeds/TARGET`, committed, written
/// by `cargo xtask corpus`), which it only reads.
fn corpus_dirs(target: &str) -> Result<Vec<PathBuf>> {
    let corpus = crate::root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus).context("create the corpus folder")?;
    let seeds = crate::corpus::seeds(target);
    Ok(std::iter::once(corpus)
        .chain(seeds.is_dir().then_some(seeds))
        .collect())
}

/// The targets named, or every target in fuzz/.
fn targets(named: &[String]) -> Result<Vec<String>> {
    Ok(if named.is_empty() {
        let out = cargo_fuzz()
            .arg("list")
            .output()
            .context("could not run cargo fuzz list")?;
        if !out.status.success() {
            bail!("cargo fuzz list failed");
        }
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        named.to_vec()
    })
}

/// One long run of one target, read from libFuzzer's own words.
#[derive(Debug, Default)]
struct Reached {
    executions: u64,
    exec_per_sec: u64,
    edges: u64,
    features: u64,
    crashed: bool,
    seconds: f64,
}

/// `stat::NAME: VALUE` from `-print_final_stats=1`, and the last status
/// line's `cov:` (edges) and `ft:` (features).
fn read_output(stderr: &str) -> Reached {
    let stat = |name: &str| {
        stderr
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or(0)
    };
    let field = |line: &str, key: &str| -> Option<u64> {
        let mut words = line.split_whitespace();
        words.find(|w| *w == key)?;
        words.next()?.parse().ok()
    };
    let status = stderr.lines().rev().find(|l| l.contains(" cov: "));
    Reached {
        executions: stat("stat::number_of_executed_units:"),
        exec_per_sec: stat("stat::average_exec_per_sec:"),
        edges: status.and_then(|l| field(l, "cov:")).unwrap_or(0),
        features: status.and_then(|l| field(l, "ft:")).unwrap_or(0),
        ..Reached::default()
    }
}

/// Files and bytes in a directory (the corpus, the artifacts).
fn dir_size(dir: &Path, prefix: &[&str]) -> (u64, u64) {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            prefix.is_empty() || prefix.iter().any(|p| name.starts_with(p))
        })
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .fold((0, 0), |(n, b), m| (n + 1, b + m.len()))
}

fn report_path() -> PathBuf {
    crate::root().join("target/fuzz/report.json")
}

/// The table the fuzzing and reliability chapters include (beside
/// `book/src`, so that it is no chapter of its own).
pub fn table_path() -> PathBuf {
    crate::root().join("book/fuzz-report.md")
}

/// Runs every target toward [`GOAL`], `budget` seconds at most each, and
/// adds what it reached to the report of earlier runs.
fn long(targets: &[String], budget: u64) -> Result<()> {
    let path = report_path();
    // target/ is not committed: a fresh checkout picks up the figures
    // from the book's table, so runs in different trees still add up.
    let mut report: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .or_else(|| {
            std::fs::read_to_string(table_path())
                .ok()
                .map(|t| from_table(&t))
        })
        .unwrap_or_else(|| json!({ "targets": {} }));
    report["goal"] = json!(GOAL);
    // Every target at once first, so that each run's budget is all search.
    tools::run(cargo_fuzz().args(["build", "-s", "none"]))?;
    let mut crashed = Vec::new();
    for target in targets {
        let before = &report["targets"][target.as_str()];
        let so_far = before["executions"].as_u64().unwrap_or(0);
        let seconds_so_far = before["seconds"].as_f64().unwrap_or(0.0);
        let left = GOAL.saturating_sub(so_far);
        if left == 0 {
            eprintln!("==> {target}: {so_far} executions, the goal is reached");
            continue;
        }
        let dirs = corpus_dirs(target)?;
        let corpus = &dirs[0];
        // The machines this runs on are shared: the search yields to others.
        let mut cmd = Command::new("nice");
        cmd.args(["-n", "10"])
            .arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["fuzz", "run", "-s", "none", target])
            .args(&dirs)
            .arg("--")
            .arg(format!("-max_total_time={budget}"))
            .arg(format!("-runs={left}"))
            // A hang is a finding too, not a run that never ends.
            .args(["-timeout=10", "-print_final_stats=1"])
            .current_dir(crate::root().join("fuzz"));
        eprintln!("==> {target}: up to {budget} s, {left} executions to the goal");
        let started = Instant::now();
        let out = cmd
            .output()
            .with_context(|| format!("could not run cargo fuzz for {target}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut reached = read_output(&stderr);
        reached.seconds = started.elapsed().as_secs_f64();
        reached.crashed = !out.status.success();
        if reached.crashed {
            // libFuzzer's account of the crash, and the input's file name.
            let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
            for line in tail.iter().rev() {
                eprintln!("    {line}");
            }
            crashed.push(target.clone());
        }
        let artifacts = crate::root().join("fuzz/artifacts").join(target);
        let (crashes, _) = dir_size(&artifacts, &["crash-", "oom-", "timeout-", "leak-"]);
        let (files, bytes) = dir_size(corpus, &[]);
        // A run that had only a few inputs left to the goal ends before
        // libFuzzer measures a rate: keep the last one measured.
        if reached.exec_per_sec == 0 {
            reached.exec_per_sec = before["exec_per_sec"].as_u64().unwrap_or(0);
        }
        let executions = so_far + reached.executions;
        eprintln!(
            "    {} executions ({} exec/s), cov {} ft {}, corpus {files} files; {executions} so far",
            reached.executions, reached.exec_per_sec, reached.edges, reached.features
        );
        report["targets"][target.as_str()] = json!({
            "executions": executions,
            "seconds": seconds_so_far + reached.seconds,
            "runs": before["runs"].as_u64().unwrap_or(0) + 1,
            "last_run": {
                "executions": reached.executions,
                "seconds": reached.seconds,
                "budget_seconds": budget,
                "exec_per_sec": reached.exec_per_sec,
                "crashed": reached.crashed,
            },
            "exec_per_sec": reached.exec_per_sec,
            "edges": reached.edges,
            "features": reached.features,
            "corpus_files": files,
            "corpus_bytes": bytes,
            "crashes": crashes,
        });
        // After every target: a run stopped halfway keeps what it reached.
        save(&report, &path)?;
    }
    save(&report, &path)?;
    eprintln!(
        "==> report: {} and {}",
        path.display(),
        table_path().display()
    );
    if !crashed.is_empty() {
        bail!(
            "crashed: {} (inputs in fuzz/artifacts/)",
            crashed.join(", ")
        );
    }
    Ok(())
}

/// The report as far as the book's table tells it: executions, rate,
/// coverage, corpus and crashes per target (not the seconds or the runs).
fn from_table(text: &str) -> Value {
    let mut targets = serde_json::Map::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [
            _,
            name,
            executions,
            _,
            rate,
            _,
            edges,
            features,
            files,
            crashes,
            _,
        ] = cells[..]
        else {
            continue;
        };
        let Some(name) = name.strip_prefix('`').and_then(|n| n.strip_suffix('`')) else {
            continue;
        };
        let n = |cell: &str| cell.replace(',', "").parse::<u64>().unwrap_or(0);
        targets.insert(
            name.to_owned(),
            json!({
                "executions": n(executions),
                "exec_per_sec": n(rate),
                "edges": n(edges),
                "features": n(features),
                "corpus_files": n(files),
                "crashes": n(crashes),
            }),
        );
    }
    json!({ "targets": targets })
}

/// Writes the report and the book's table.
fn save(report: &Value, path: &Path) -> Result<()> {
    std::fs::create_dir_all(crate::root().join("target/fuzz")).context("create target/fuzz")?;
    let text = serde_json::to_string_pretty(report).context("serialise the report")?;
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))?;
    std::fs::write(table_path(), table(report)).context("write the book's table")
}

/// How long the rest of the way to the goal takes at `rate`, in words.
fn eta(left: u64, rate: u64) -> String {
    match (left, rate) {
        (0, _) => "reached".to_owned(),
        (_, 0) => "unknown".to_owned(),
        _ => {
            let secs = left / rate;
            match secs {
                s if s < 120 => format!("{} s", s.max(1)),
                s if s < 7200 => format!("{} min", s / 60),
                s => format!("{:.1} h", s as f64 / 3600.0),
            }
        }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report as the Markdown table the book includes.
fn table(report: &Value) -> String {
    let mut rows = Vec::new();
    let mut total = 0;
    let empty = serde_json::Map::new();
    for (name, t) in report["targets"].as_object().unwrap_or(&empty) {
        let n = |k: &str| t[k].as_u64().unwrap_or(0);
        let executions = n("executions");
        total += executions;
        let rate = n("exec_per_sec");
        rows.push(format!(
            "| `{name}` | {} | {:.1} % | {} | {} | {} | {} | {} | {} |",
            thousands(executions),
            100.0 * executions.min(GOAL) as f64 / GOAL as f64,
            thousands(rate),
            eta(GOAL.saturating_sub(executions), rate),
            n("edges"),
            n("features"),
            n("corpus_files"),
            n("crashes"),
        ));
    }
    let budgets: std::collections::BTreeSet<u64> = report["targets"]
        .as_object()
        .unwrap_or(&empty)
        .values()
        .filter_map(|t| t["last_run"]["budget_seconds"].as_u64())
        .collect();
    let budgets: Vec<String> = budgets.iter().map(|b| format!("{b} s")).collect();
    format!(
        "<!-- Written by `cargo xtask fuzz --long` from target/fuzz/report.json; do not edit. -->\n\
         \n\
         Executions are added up over every long run so far ({} in all); the goal is \
         {} per target. Last budget per target: {}, under `nice -n 10` on a machine of \
         {} cores. *To the goal* is the time the rest would take at \
         the last run's rate. Edges and features are libFuzzer's `cov:` and `ft:`.\n\
         \n\
         | target | executions | of the goal | exec/s | to the goal | edges | features | corpus files | crashes |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n\
         {}\n",
        thousands(total),
        thousands(GOAL),
        budgets.join(", "),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        rows.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzers_final_stats_and_last_status_line() {
        let out = "INFO: Seed: 1\n\
                   #2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #435573\tDONE   cov: 402 ft: 2311 corp: 278/10Kb lim: 4096 exec/s: 14050 rss: 50Mb\n\
                   stat::number_of_executed_units: 435573\n\
                   stat::average_exec_per_sec:     14050\n";
        let r = read_output(out);
        assert_eq!(
            (r.executions, r.exec_per_sec, r.edges, r.features),
            (435573, 14050, 402, 2311)
        );
    }

    #[test]
    fn the_table_says_how_far_from_the_goal() {
        let report = json!({"targets": {"line": {
            "executions": 2_500_000, "exec_per_sec": 1000, "edges": 5, "features": 6,
            "corpus_files": 7, "crashes": 0, "last_run": {"budget_seconds": 60}}}});
        let t = table(&report);
        assert!(
            t.contains("| `line` | 2,500,000 | 25.0 % | 1,000 | 2.1 h | 5 | 6 | 7 | 0 |"),
            "{t}"
        );
        assert!(t.contains("60 s"), "{t}");
        // And back: a tree without target/fuzz starts from the table.
        let back = from_table(&t);
        assert_eq!(back["targets"]["line"]["executions"], 2_500_000);
        assert_eq!(back["targets"]["line"]["exec_per_sec"], 1000);
        assert_eq!(back["targets"]["line"]["corpus_files"], 7);
    }
}

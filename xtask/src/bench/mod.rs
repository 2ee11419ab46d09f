//! `cargo xtask bench`: the performance figures of the book, measured in one
//! run beside reference peers, and written to `target/bench/`.
//!
//! Servers and load generators are the release `wirekit` binary, started as
//! child processes and stopped by PID. Every figure has a reference measured
//! in the same run (socat, a plain Tokio server, nginx with curl, the TFTP
//! peers, memcpy), and where a comparison runs repeatedly the runs of the
//! contenders alternate, so a burst of load from another build hits both
//! sides alike; the median is reported. The numbers that matter are the
//! ratios, because absolute ones depend on the machine.

mod chart;
mod echo;
mod files;
mod idle;
mod tftp;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ALL_PARTS: [&str; 7] = [
    "echo",
    "files",
    "idle",
    "tftp",
    "sim",
    "browser",
    "criterion",
];

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Seconds per echo measurement.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Size of the GET and PUT file, in MiB.
    #[arg(long, default_value_t = 1024)]
    file_mib: u64,
    /// Idle connections each server must hold.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Size of the TFTP download, in MiB.
    #[arg(long, default_value_t = 100)]
    tftp_mib: u64,
    /// Runs of each comparison; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// A smaller run for development: 1 s per echo cell, 256 MiB GET and
    /// PUT, 2,000 idle connections, 20 MiB TFTP, short criterion runs.
    #[arg(long)]
    quick: bool,
    /// Only redraw the charts (book/src/img/) from target/bench/native.json.
    #[arg(long)]
    charts_only: bool,
    /// Parts to run: echo, files (GET and PUT beside nginx), idle, tftp,
    /// sim, browser, criterion.
    #[arg(long, value_delimiter = ',', default_values_t = ALL_PARTS.map(String::from))]
    parts: Vec<String>,
}

/// A child process stopped by its PID when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wirekit() -> PathBuf {
    crate::root().join("target/release/wirekit")
}

/// Starts `wirekit serve` on free ports; returns it and its sockets.
fn serve(args: &[&str], root: &Path) -> Result<(Proc, Vec<Value>)> {
    let mut child = Command::new(wirekit())
        .args(["serve", "--any-port", "--json", "--root"])
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start wirekit serve")?;
    let mut line = String::new();
    let out = child.stdout.take().context("stdout")?;
    BufReader::new(out).read_line(&mut line)?;
    let listening: Vec<Value> = serde_json::from_str(&line).context("serve's JSON line")?;
    Ok((Proc(child), listening))
}

fn addr(listening: &[Value], service: &str) -> Result<String> {
    listening
        .iter()
        .find(|l| l["service"] == service && l["proto"] == "tcp")
        .and_then(|l| l["addr"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no {service} socket"))
}

fn bench_json(args: &[&str]) -> Result<Value> {
    let out = Command::new(wirekit())
        .arg("bench")
        .args(args)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .context("run wirekit bench")?;
    if !out.status.success() {
        bail!(
            "wirekit bench {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn wait_for(addr: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            bail!("nothing listens on {addr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The median of some runs (the upper one of an even count).
fn median(runs: &[f64]) -> f64 {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The machine's 1-minute load average: the figures are only as quiet as
/// the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

/// What the figures were measured on, for the JSON and the charts.
fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    json!({"cpu": model, "cpus": cpus, "kernel": kernel.trim(), "load": load_average()})
}

/// Lowers this process's priority (and so its children's): the machine is
/// shared with builds that should not wait for a benchmark.
fn be_nice() {
    let pid = std::process::id().to_string();
    let _ = Command::new("renice")
        .args(["-n", "10", "-p", &pid])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A file of `mib` MiB of pseudo-random bytes (kept between runs).
fn big_file(files: &Path, name: &str, mib: u64) -> Result<PathBuf> {
    let big = files.join(name);
    let want = mib << 20;
    if std::fs::metadata(&big).map(|m| m.len()).ok() != Some(want) {
        eprintln!("==> writing a {mib} MiB file");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big)?);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..mib {
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
            }
            f.write_all(&block)?;
        }
        f.flush()?;
    }
    // TFTP servers serve only world-readable files.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o644))?;
    Ok(big)
}

pub fn run(mut args: BenchArgs) -> Result<()> {
    let out_dir = crate::root().join("target/bench");
    let saved = out_dir.join("native.json");
    if args.charts_only {
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(&saved)
                .with_context(|| format!("read {}", saved.display()))?,
        )?;
        return chart::draw(&report);
    }
    if let Some(p) = args.parts.iter().find(|p| !ALL_PARTS.contains(&p.as_str())) {
        bail!("unknown part {p}; the parts are {}", ALL_PARTS.join(", "));
    }
    be_nice();
    crate::tools::ensure_debian(&[
        ("/usr/bin/socat", "socat"),
        ("/usr/bin/curl", "curl"),
        ("/usr/sbin/nginx", "nginx"),
    ])?;
    if args.quick {
        args.seconds = args.seconds.min(1.0);
        args.file_mib = args.file_mib.min(256);
        args.idle = args.idle.min(2_000);
        args.tftp_mib = args.tftp_mib.min(20);
    }
    let runs = args.runs.max(1);
    crate::cargo(&["build", "--release", "-p", "wirekit", "-p", "tokio-echo"])?;
    let files = out_dir.join("files");
    std::fs::create_dir_all(&files)?;
    // A part run alone replaces its own figures and keeps the others', so
    // the charts always show the newest figure of every part.
    let mut report: Value = std::fs::read_to_string(&saved)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    report["machine"] = machine();
    for part in ALL_PARTS {
        if !args.parts.iter().any(|p| p == part) {
            continue;
        }
        let figures = match part {
            "echo" => echo::part(&files, args.seconds, runs)?,
            "files" => files::part(&out_dir, &files, args.file_mib, runs)?,
            "idle" => idle::part(&files, args.idle)?,
            "tftp" => tftp::part(&files, args.tftp_mib, runs)?,
            "sim" => sim_part()?,
            "browser" => browser_part()?,
            _ => criterion_part(args.quick)?,
        };
        let figures = json!({"quick": args.quick, "load": load_average(), "figures": figures});
        std::fs::write(
            out_dir.join(format!("{part}.json")),
            serde_json::to_string_pretty(&figures)?,
        )?;
        report[part] = figures;
        std::fs::write(&saved, serde_json::to_string_pretty(&report)?)?;
    }
    println!("bench: {}", saved.display());
    chart::draw(&report)
}

/// The browser's simulator beside the same runs natively: one preset,
/// the same seeds, packets simulated per second of wall time.
fn browser_part() -> Result<Value> {
    const PRESET: &str = "tcp-transfer-lossy";
    const RUNS: &str = "5";
    let native: Value =
        serde_json::from_str(sim_speed(&[PRESET, RUNS])?.trim()).context("sim_speed's JSON")?;
    let lab = crate::lab::start(&crate::lab::LabArgs::check())?;
    let browser = crate::browser::bench(&lab, PRESET, RUNS);
    lab.stop();
    let browser = browser?;
    let ratio = browser["packets_per_s"].as_f64().unwrap_or(0.0)
        / native["packets_per_s"].as_f64().unwrap_or(f64::NAN);
    eprintln!(
        "sim in Chromium: {} packets/s, natively {} packets/s: {ratio:.2}x native (goal 0.5x)",
        browser["packets_per_s"], native["packets_per_s"]
    );
    Ok(json!({"preset": PRESET, "native": native, "browser": browser, "ratio": ratio}))
}

/// The simulator's speed natively, beside the goals (simulated
/// packets per second of wall time).
fn sim_part() -> Result<Value> {
    let text = sim_speed(&[])?;
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let mut row: Value = serde_json::from_str(line).context("sim_speed's JSON")?;
        let goal = match row["scenario"].as_str() {
            Some("udp-echo") => 3e6,
            _ => 1e6,
        };
        row["goal_packets_per_s"] = json!(goal);
        eprintln!(
            "sim {}: {:.2} M packets/s (goal {:.0} M)",
            row["scenario"],
            row["packets_per_s"].as_f64().unwrap_or(0.0) / 1e6,
            goal / 1e6
        );
        rows.push(row);
    }
    Ok(Value::Array(rows))
}

/// Runs the `sim_speed` example in release with `args`; returns its output.
fn sim_speed(args: &[&str]) -> Result<String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "run",
            "-q",
            "--release",
            "-p",
            "wirekit-core",
            "--features",
            "sim",
            "--example",
            "sim_speed",
            "--",
        ])
        .args(args)
        .current_dir(crate::root())
        .stdin(Stdio::null())
        .output()
        .context("run the sim_speed example")?;
    if !out.status.success() {
        bail!("sim_speed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The criterion benchmarks of the machines in memory, each group beside
/// its own memcpy of the same bytes; criterion keeps its reports in
/// target/criterion/, from which the medians are read back.
fn criterion_part(quick: bool) -> Result<Value> {
    let (warm, measure) = if quick { ("0.5", "1") } else { ("1", "3") };
    crate::cargo(&[
        "bench",
        "-p",
        "wirekit-tests",
        "--bench",
        "machines",
        "--",
        "--noplot",
        "--warm-up-time",
        warm,
        "--measurement-time",
        measure,
    ])?;
    let dir = crate::root().join("target/criterion");
    let mut rows = Vec::new();
    for group in ["wkft", "tftp", "echo"] {
        let mut benches = Vec::new();
        collect_criterion(&dir.join(group), &mut benches)?;
        let memcpy = benches
            .iter()
            .find(|(id, ..)| id.contains("memcpy"))
            .map(|(_, ns, _)| *ns);
        for (id, ns, bytes) in &benches {
            let mib_per_s = bytes / (ns / 1e9) / f64::from(1u32 << 20);
            let ratio = memcpy.map(|m| m / ns);
            eprintln!(
                "criterion {id}: {mib_per_s:.0} MiB/s{}",
                ratio.map_or(String::new(), |r| format!(", {r:.4}x memcpy"))
            );
            rows.push(json!({"group": group, "id": id, "median_ns": ns,
                "mib_per_s": mib_per_s, "vs_memcpy": ratio}));
        }
    }
    Ok(Value::Array(rows))
}

/// Every benchmark under a criterion group's folder: its full id and the
/// median time of one iteration, and the bytes one iteration moves.
fn collect_criterion(dir: &Path, out: &mut Vec<(String, f64, f64)>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n == "new") {
            let read = |name: &str| -> Result<Value> {
                Ok(serde_json::from_str(&std::fs::read_to_string(
                    path.join(name),
                )?)?)
            };
            let (bench, est) = (read("benchmark.json")?, read("estimates.json")?);
            let id = bench["full_id"].as_str().unwrap_or("?").to_owned();
            let ns = est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
            let bytes = bench["throughput"]["Bytes"].as_f64().unwrap_or(f64::NAN);
            out.push((id, ns, bytes));
        } else if path.is_dir()
            && path
                .file_name()
                .is_some_and(|n| n != "base" && n != "report")
        {
            collect_criterion(&path, out)?;
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_is_the_middle_run_whatever_the_order() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[5.0]), 5.0);
        // An even count takes the upper middle, a figure actually measured.
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(median(&[]).is_nan());
    }
}

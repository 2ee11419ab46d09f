//! `cargo xtask bench`: the performance figures of the book, measured in one
//! run beside reference peers, and written to `target/bench/`.
//!
//! Servers and load generators are the release `wirekit` binary, started as
//! child processes and stopped by PID. The reference peers are socat (an
//! echo server forking per connection, and a raw file pipe); the numbers
//! that matter are the ratios, because absolute ones depend on the machine.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Seconds per echo measurement.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Size of the download file, in MiB.
    #[arg(long, default_value_t = 1024)]
    file_mib: u64,
    /// Idle connections the async model must hold.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
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

fn need(tool: &str) -> Result<()> {
    if Command::new(tool).arg("-V").output().is_err() {
        bail!("{tool} is not installed (apt-get install {tool}); it is the reference peer");
    }
    Ok(())
}

pub fn run(args: BenchArgs) -> Result<()> {
    need("socat")?;
    crate::cargo(&["build", "--release", "-p", "wirekit"])?;
    let out_dir = crate::root().join("target/bench");
    let files = out_dir.join("files");
    std::fs::create_dir_all(&files)?;
    let secs = args.seconds.to_string();
    let mut report = json!({});

    // Echo: every IO model, and socat's forking echo server, at three loads.
    let mut echo = Vec::new();
    let loads = ["1", "64", "1000"];
    for model in ["async", "threads", "poll", "iterative"] {
        let (_server, listening) = serve(
            &["--only", "echo", "--model", model, "--max-conns", "5000"],
            &files,
        )?;
        let a = addr(&listening, "echo")?;
        for conns in loads {
            let r = bench_json(&["echo", &a, "--conns", conns, "--seconds", &secs])?;
            eprintln!(
                "echo {model:>9} {conns:>5} conns: {:>8.0} req/s  p99 {} us",
                r["rps"].as_f64().unwrap_or(0.0),
                r["p99_us"]
            );
            echo.push(json!({"server": model, "result": r}));
        }
    }
    let port = free_port()?;
    let a = format!("127.0.0.1:{port}");
    let _socat = Proc(
        Command::new("socat")
            .args([
                format!("TCP4-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=1024"),
                "PIPE".into(),
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start socat")?,
    );
    wait_for(&a)?;
    for conns in loads {
        let r = bench_json(&["echo", &a, "--conns", conns, "--seconds", &secs])?;
        eprintln!(
            "echo {:>9} {conns:>5} conns: {:>8.0} req/s  p99 {} us",
            "socat",
            r["rps"].as_f64().unwrap_or(0.0),
            r["p99_us"]
        );
        echo.push(json!({"server": "socat", "result": r}));
    }
    report["echo"] = Value::Array(echo);

    // GET of a large file, beside a raw socat pipe of the same file.
    let big = files.join("big.bin");
    let want = args.file_mib << 20;
    if std::fs::metadata(&big).map(|m| m.len()).ok() != Some(want) {
        eprintln!("==> writing a {} MiB file", args.file_mib);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big)?);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..args.file_mib {
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
    let (_server, listening) = serve(&["--only", "transfer"], &files)?;
    let ours = bench_json(&[
        "get",
        &addr(&listening, "transfer")?,
        "big.bin",
        "--count",
        "3",
    ])?;
    let mut pipe_secs = Vec::new();
    for _ in 0..3 {
        let port = free_port()?;
        let _sender = Proc(
            Command::new("socat")
                .args([
                    "-u".into(),
                    format!("FILE:{}", big.display()),
                    format!("TCP4-LISTEN:{port},bind=127.0.0.1,reuseaddr"),
                ])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
        wait_for_listen(port)?;
        let t = Instant::now();
        let status = Command::new("socat")
            .args([
                "-u".into(),
                format!("TCP4:127.0.0.1:{port}"),
                "OPEN:/dev/null".into(),
            ])
            .status()?;
        if !status.success() {
            bail!("the socat pipe failed");
        }
        pipe_secs.push(t.elapsed().as_secs_f64());
    }
    pipe_secs.sort_by(f64::total_cmp);
    let pipe_mbps = want as f64 / pipe_secs[1] / 1e6;
    let ours_mbps = ours["mbps"].as_f64().unwrap_or(0.0);
    eprintln!(
        "get {} MiB: wirekit {ours_mbps:.0} MB/s, socat pipe {pipe_mbps:.0} MB/s, ratio {:.2}",
        args.file_mib,
        ours_mbps / pipe_mbps
    );
    report["get"] = json!({"mib": args.file_mib, "wirekit": ours, "socat_pipe_mbps": pipe_mbps, "ratio": ours_mbps / pipe_mbps});

    // Many idle connections on the async model.
    let (_server, listening) = serve(
        &[
            "--only",
            "echo",
            "--max-conns",
            &(args.idle * 2).to_string(),
            "--idle-timeout",
            "300",
        ],
        &files,
    )?;
    let idle = bench_json(&[
        "idle",
        &addr(&listening, "echo")?,
        "--conns",
        &args.idle.to_string(),
        "--hold",
        "3",
    ])?;
    eprintln!("idle: {idle}");
    report["idle"] = idle;

    let path = out_dir.join("native.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("bench: {}", path.display());
    Ok(())
}

/// Waits for a listener without connecting to it (a one-shot socat would
/// take the probe for its client).
fn wait_for_listen(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let needle = format!(":{port:04X} ");
    loop {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        // State 0A is LISTEN.
        if table
            .lines()
            .any(|l| l.contains(&needle) && l.split_whitespace().nth(3) == Some("0A"))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("socat did not listen on {port}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

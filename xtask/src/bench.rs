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
    /// Size of the TFTP download, in MiB.
    #[arg(long, default_value_t = 100)]
    tftp_mib: u64,
    /// Parts to run (default: all).
    /// A smaller run for development: 1 s per echo cell, 256 MiB GET,
    /// 1,000 idle connections, 20 MiB TFTP.
    #[arg(long)]
    quick: bool,
    #[arg(long, value_delimiter = ',', default_values_t = ["echo".to_string(), "get".into(), "idle".into(), "tftp".into(), "sim".into(), "browser".into(), "criterion".into()])]
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

fn need(tool: &str) -> Result<()> {
    if Command::new(tool).arg("-V").output().is_err() {
        bail!("{tool} is not installed (apt-get install {tool}); it is the reference peer");
    }
    Ok(())
}

pub fn run(mut args: BenchArgs) -> Result<()> {
    need("socat")?;
    if args.quick {
        args.seconds = args.seconds.min(1.0);
        args.file_mib = args.file_mib.min(256);
        args.idle = args.idle.min(1_000);
        args.tftp_mib = args.tftp_mib.min(20);
    }
    crate::cargo(&["build", "--release", "-p", "wirekit", "-p", "tokio-echo"])?;
    let out_dir = crate::root().join("target/bench");
    let files = out_dir.join("files");
    std::fs::create_dir_all(&files)?;
    let secs = args.seconds.to_string();
    let mut report = json!({});

    let part = |name: &str| args.parts.iter().any(|p| p == name);
    if part("echo") {
        report["echo"] = echo_part(&files, &secs)?;
    }
    if part("get") {
        report["get"] = get_part(&files, args.file_mib)?;
    }
    if part("idle") {
        report["idle"] = idle_part(&files, args.idle)?;
    }
    if part("tftp") {
        report["tftp"] = tftp_part(&files, args.tftp_mib)?;
    }
    if part("sim") {
        report["sim"] = sim_part()?;
    }
    if part("browser") {
        report["browser"] = browser_part()?;
    }
    if part("criterion") {
        // Criterion keeps its own reports (target/criterion/).
        crate::cargo(&["bench", "-p", "wirekit-tests", "--bench", "machines"])?;
    }
    let path = out_dir.join("native.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("bench: {}", path.display());
    Ok(())
}

/// Echo: every IO model, and socat's forking echo server, at three loads.
fn echo_part(files: &Path, secs: &str) -> Result<Value> {
    let mut echo = Vec::new();
    let loads = ["1", "64", "1000"];
    for model in ["async", "threads", "poll", "iterative"] {
        let (_server, listening) = serve(
            &["--only", "echo", "--model", model, "--max-conns", "5000"],
            files,
        )?;
        let a = addr(&listening, "echo")?;
        echo_loads(&mut echo, model, &a, &loads, secs)?;
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
    echo_loads(&mut echo, "socat", &a, &loads, secs)?;
    let (_tokio, a) = tokio_echo()?;
    echo_loads(&mut echo, "tokio", &a, &loads, secs)?;
    Ok(Value::Array(echo))
}

/// Every echo load against one server, one row each.
fn echo_loads(
    rows: &mut Vec<Value>,
    server: &str,
    addr: &str,
    loads: &[&str],
    secs: &str,
) -> Result<()> {
    for conns in loads {
        let r = bench_json(&["echo", addr, "--conns", conns, "--seconds", secs])?;
        eprintln!(
            "echo {server:>9} {conns:>5} conns: {:>8.0} req/s  p99 {} us  (load {})",
            r["rps"].as_f64().unwrap_or(0.0),
            r["p99_us"],
            load_average()
        );
        rows.push(json!({"server": server, "result": r, "load": load_average()}));
    }
    Ok(())
}

/// The reference Tokio echo server (bench/tokio-echo), on a free port.
fn tokio_echo() -> Result<(Proc, String)> {
    let mut child = Command::new(crate::root().join("target/release/tokio-echo"))
        .arg("0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start tokio-echo")?;
    let out = child.stdout.take().context("stdout")?;
    let proc = Proc(child);
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line)?;
    Ok((proc, line.trim().to_owned()))
}

/// The machine's 1-minute load average: the figures are only as quiet as
/// the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
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

/// GET of a large file, beside a raw socat pipe of the same file.
fn get_part(files: &Path, file_mib: u64) -> Result<Value> {
    let big = big_file(files, "big.bin", file_mib)?;
    let want = file_mib << 20;
    let (_server, listening) = serve(&["--only", "transfer"], files)?;
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
        "get {file_mib} MiB: wirekit {ours_mbps:.0} MB/s, socat pipe {pipe_mbps:.0} MB/s, ratio {:.2}",
        ours_mbps / pipe_mbps
    );
    Ok(
        json!({"mib": file_mib, "wirekit": ours, "socat_pipe_mbps": pipe_mbps, "ratio": ours_mbps / pipe_mbps}),
    )
}

/// Many idle connections on the async model.
fn idle_part(files: &Path, conns: usize) -> Result<Value> {
    let (_server, listening) = serve(
        &[
            "--only",
            "echo",
            "--max-conns",
            &(conns * 2).to_string(),
            "--idle-timeout",
            "300",
        ],
        files,
    )?;
    let idle = bench_json(&[
        "idle",
        &addr(&listening, "echo")?,
        "--conns",
        &conns.to_string(),
        "--hold",
        "3",
    ])?;
    eprintln!("idle: {idle}");
    Ok(idle)
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

/// A peer built or unpacked under target/peers by `.ci/run`, else on PATH.
fn peer(name: &str) -> PathBuf {
    let local = [
        crate::root().join("target/peers/bin"),
        crate::root().join("target/peers/atftpd/usr/sbin"),
    ];
    local
        .iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Starts a TFTP server (ours or a peer) on a free port.
fn tftp_server(kind: &str, dir: &Path) -> Result<(Proc, u16)> {
    let port = free_port()?;
    let d = dir.to_str().context("UTF-8 path")?.to_owned();
    let p = port.to_string();
    let (bin, args): (PathBuf, Vec<String>) = match kind {
        "wirekit" => (
            wirekit(),
            vec![
                "serve".into(),
                "--only".into(),
                "tftp".into(),
                "--tftp-port".into(),
                p,
                "--root".into(),
                d,
            ],
        ),
        // tftpd-hpa's name is also in atftpd's package: take it from PATH.
        "tftpd-hpa" => (
            PathBuf::from("/usr/sbin/in.tftpd"),
            vec![
                "-L".into(),
                "-a".into(),
                format!("127.0.0.1:{port}"),
                "-s".into(),
                "-u".into(),
                "tftp".into(),
                d,
            ],
        ),
        "atftpd" => (
            peer("atftpd"),
            [
                "--daemon",
                "--no-fork",
                "--port",
                &p,
                "--bind-address",
                "127.0.0.1",
                "--user",
                "tftp",
                "--group",
                "tftp",
                "--logfile",
                "/dev/null",
                &d,
            ]
            .map(String::from)
            .to_vec(),
        ),
        "tftpd-rs" => (
            peer("tftpd"),
            ["-i", "127.0.0.1", "-p", &p, "-d", &d, "-q"]
                .map(String::from)
                .to_vec(),
        ),
        other => bail!("unknown TFTP server {other}"),
    };
    let child = Command::new(&bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("start {kind} ({})", bin.display()))?;
    let proc = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        if Instant::now() > deadline {
            bail!("{kind} did not bind UDP {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((proc, port))
}

/// Seconds for one download by `client`, checked for size.
fn tftp_download(client: &str, port: u16, name: &str, out: &Path, want: u64) -> Result<f64> {
    let _ = std::fs::remove_file(out);
    let o = out.to_str().context("UTF-8 path")?;
    let p = port.to_string();
    let url = format!("tftp://127.0.0.1:{port}/{name}");
    let (bin, args): (PathBuf, Vec<String>) = match client {
        "curl" => (
            "curl".into(),
            ["-sS", "-o", o, &url].map(String::from).to_vec(),
        ),
        "curl-1468" => (
            "curl".into(),
            ["-sS", "--tftp-blksize", "1468", "-o", o, &url]
                .map(String::from)
                .to_vec(),
        ),
        "atftp-1468-w16" => (
            "atftp".into(),
            [
                "--option",
                "blksize 1468",
                "--option",
                "windowsize 16",
                "-g",
                "-r",
                name,
                "-l",
                o,
                "127.0.0.1",
                &p,
            ]
            .map(String::from)
            .to_vec(),
        ),
        "wirekit-1468-w16" => (
            wirekit(),
            [
                "tftp",
                "get",
                &format!("127.0.0.1:{port}"),
                name,
                o,
                "--blksize",
                "1468",
                "--windowsize",
                "16",
            ]
            .map(String::from)
            .to_vec(),
        ),
        other => bail!("unknown TFTP client {other}"),
    };
    let t = Instant::now();
    let status = Command::new(&bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("run {client}"))?;
    let secs = t.elapsed().as_secs_f64();
    let got = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    if !status.success() || got != want {
        bail!("{client} from port {port}: {status}, {got} of {want} bytes");
    }
    Ok(secs)
}

/// A TFTP download on loopback: every server under the same clients (the
/// median of three runs each), our client among them.
fn tftp_part(files: &Path, mib: u64) -> Result<Value> {
    big_file(files, "tftp.bin", mib)?;
    let want = mib << 20;
    let out = std::env::temp_dir().join(format!("wirekit-bench-{}.out", std::process::id()));
    let mut rows = Vec::new();
    for server in ["wirekit", "tftpd-hpa", "atftpd", "tftpd-rs"] {
        let (_proc, port) = tftp_server(server, files)?;
        for client in ["curl", "curl-1468", "atftp-1468-w16", "wirekit-1468-w16"] {
            let mut runs = Vec::new();
            for _ in 0..3 {
                runs.push(tftp_download(client, port, "tftp.bin", &out, want)?);
            }
            runs.sort_by(f64::total_cmp);
            eprintln!(
                "tftp {mib} MiB {server:>10} <- {client:<17} {:.2} s",
                runs[1]
            );
            rows.push(
                json!({"server": server, "client": client, "seconds": runs[1], "runs": runs}),
            );
        }
    }
    let _ = std::fs::remove_file(&out);
    Ok(json!({"mib": mib, "rows": rows}))
}

/// The simulator in Chromium beside the same runs natively: one preset,
/// the same seeds, packets simulated per second of wall time.
fn browser_part() -> Result<Value> {
    const PRESET: &str = "tcp-transfer-lossy";
    const RUNS: &str = "5";
    let native: Value =
        serde_json::from_str(&sim_speed(&[PRESET, RUNS])?).context("sim_speed's JSON")?;
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

/// The simulator's speed: its own example, in release, prints what it measured.
fn sim_part() -> Result<Value> {
    let text = sim_speed(&[])?;
    eprint!("{text}");
    Ok(json!({ "sim_speed": text }))
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

//! TFTP downloads on loopback: every server under the same clients, our
//! server and our client among them.

use super::{Proc, big_file, free_port, median, wirekit};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SERVERS: [&str; 4] = ["wirekit", "tftpd-hpa", "atftpd", "tftpd-rs"];
const CLIENTS: [&str; 4] = ["curl", "curl-1468", "atftp-1468-w16", "wirekit-1468-w16"];

/// Installs the peers when they are missing: the clients and tftpd-hpa
/// from Debian, then atftpd and the Rust tftpd under target/peers.
fn ensure_peers() -> Result<()> {
    crate::tools::ensure_debian(&[
        ("/usr/bin/atftp", "atftp"),
        ("/usr/sbin/in.tftpd", "tftpd-hpa"),
    ])?;
    crate::peers::ensure_tftp()
}

/// A peer built or unpacked under target/peers, else on PATH.
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

/// Every server runs at once on its own port, and each run asks every
/// server with every client in turn, so the machine's slow moments are
/// shared out; each cell is the median of `runs` downloads.
pub fn part(files: &Path, mib: u64, runs: usize) -> Result<Value> {
    ensure_peers()?;
    big_file(files, "tftp.bin", mib)?;
    let want = mib << 20;
    let out = std::env::temp_dir().join(format!("wirekit-bench-{}.out", std::process::id()));
    let servers = SERVERS
        .iter()
        .map(|s| tftp_server(s, files))
        .collect::<Result<Vec<_>>>()?;
    let mut secs = vec![vec![Vec::new(); SERVERS.len()]; CLIENTS.len()];
    for run in 0..runs {
        for (c, client) in CLIENTS.iter().enumerate() {
            for (s, (_proc, port)) in servers.iter().enumerate() {
                let t = tftp_download(client, *port, "tftp.bin", &out, want)?;
                eprintln!(
                    "tftp run {run} {mib} MiB {:>10} <- {client:<17} {t:.2} s",
                    SERVERS[s]
                );
                secs[c][s].push(t);
            }
        }
    }
    let _ = std::fs::remove_file(&out);
    let mut rows = Vec::new();
    for (c, client) in CLIENTS.iter().enumerate() {
        for (s, server) in SERVERS.iter().enumerate() {
            rows.push(json!({"server": server, "client": client,
                "seconds": median(&secs[c][s]), "runs": secs[c][s]}));
        }
    }
    let goals = goals(&rows);
    eprintln!("tftp goals: {goals}");
    Ok(json!({"mib": mib, "runs": runs, "rows": rows, "goals": goals}))
}

/// The issue's TFTP goals as speed ratios (above 1.0 is faster than the
/// reference): our pair against the fastest pair of peers (goal 2.0), our
/// server against the fastest peer server under each peer client, and our
/// client against atftp under each peer server (goals 1.0).
fn goals(rows: &[Value]) -> Value {
    let time = |server: &str, client: &str| {
        rows.iter()
            .find(|r| r["server"] == server && r["client"] == client)
            .and_then(|r| r["seconds"].as_f64())
            .unwrap_or(f64::NAN)
    };
    let peers_s = &SERVERS[1..];
    let peers_c = &CLIENTS[..3];
    let (fastest, fs, fc) = peers_s
        .iter()
        .flat_map(|s| peers_c.iter().map(move |c| (time(s, c), *s, *c)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((f64::NAN, "", ""));
    let ours = time("wirekit", "wirekit-1468-w16");
    let server: Vec<Value> = peers_c
        .iter()
        .map(|c| {
            let (best, by) = peers_s
                .iter()
                .map(|s| (time(s, c), *s))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or((f64::NAN, ""));
            json!({"client": c, "fastest_peer_server": by, "speed_vs_it": best / time("wirekit", c)})
        })
        .collect();
    let client: Vec<Value> = peers_s
        .iter()
        .map(|s| {
            json!({"server": s,
            "speed_vs_atftp": time(s, "atftp-1468-w16") / time(s, "wirekit-1468-w16")})
        })
        .collect();
    json!({
        "pair": {"fastest_peer_pair": format!("{fc} <- {fs}"), "fastest_peer_seconds": fastest,
                 "wirekit_seconds": ours, "speed_vs_it": fastest / ours, "goal": 2.0},
        "server": server, "client": client,
    })
}

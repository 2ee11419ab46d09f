//! Many idle connections held against each IO model's echo server (and
//! the Tokio reference): what they cost the server in resident memory.
//!
//! The connections are opened by this process itself, so the figure read
//! from the server's /proc/PID/status is the server's alone.

use super::{Proc, addr, echo::tokio_echo, serve};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// The goal for the async model, in bytes.
const GOAL_RSS: u64 = 64 << 20;

pub fn part(files: &Path, conns: usize) -> Result<Value> {
    // This process holds every client end: one descriptor each.
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    if limit < conns as u64 + 64 {
        bail!("the open-file limit is {limit}; {conns} idle connections need more");
    }
    let max = (conns + 64).to_string();
    let mut rows = Vec::new();
    for model in ["async", "poll", "threads", "tokio"] {
        let (proc, a) = if model == "tokio" {
            tokio_echo()?
        } else {
            let (proc, listening) = serve(
                &[
                    "--only",
                    "echo",
                    "--model",
                    model,
                    "--max-conns",
                    &max,
                    "--idle-timeout",
                    "300",
                ],
                files,
            )?;
            (proc, addr(&listening, "echo")?)
        };
        let row = hold(&proc, model, &a, conns)?;
        eprintln!("idle {row}");
        rows.push(row);
    }
    // One connection at a time: the others would wait in the listen queue,
    // costing the server nothing but measuring nothing either.
    rows.push(json!({"server": "iterative", "skipped": "serves one connection at a time"}));
    Ok(json!({"conns": conns, "goal_rss_bytes": GOAL_RSS, "rows": rows}))
}

/// Opens `conns` connections to one server, waits until it has accepted
/// them all, and reads its resident memory; then checks they are all still
/// open and that a new client is answered.
fn hold(proc: &Proc, server: &str, a: &str, conns: usize) -> Result<Value> {
    let pid = proc.0.id();
    let addr: SocketAddr = a.parse()?;
    let before = rss(pid)?;
    let fds_before = fds(pid);
    let t = Instant::now();
    let mut held = Vec::with_capacity(conns);
    for _ in 0..conns {
        held.push(
            TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                .with_context(|| format!("idle connection {} to {server}", held.len()))?,
        );
    }
    let connect_s = t.elapsed().as_secs_f64();
    // Accepted means a descriptor in the server; wait for all of them.
    let deadline = Instant::now() + Duration::from_secs(30);
    while fds(pid) < fds_before + conns && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let accepted = fds(pid).saturating_sub(fds_before);
    let after = rss(pid)?;
    let mut closed = 0;
    for s in &held {
        s.set_nonblocking(true)?;
        if matches!((&*s).read(&mut [0u8; 1]), Ok(0)) {
            closed += 1;
        }
    }
    let probe_us = probe(addr)?;
    Ok(json!({
        "server": server, "conns": conns, "held": conns - closed, "accepted": accepted,
        "rss_before_bytes": before, "rss_bytes": after,
        "per_conn_bytes": after.saturating_sub(before) / conns.max(1) as u64,
        "goal_met": if server == "async" { json!(after < GOAL_RSS) } else { Value::Null },
        "connect_seconds": connect_s, "probe_us": probe_us,
    }))
}

/// One echo round trip by a new client while the others are held.
fn probe(addr: SocketAddr) -> Result<u64> {
    let t = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(b"probe\n")?;
    let mut back = [0u8; 6];
    s.read_exact(&mut back)?;
    if &back != b"probe\n" {
        bail!("the probe came back as {back:?}");
    }
    Ok(t.elapsed().as_micros() as u64)
}

/// Resident memory of a process, in bytes (VmRSS in /proc/PID/status).
fn rss(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .context("no VmRSS")?
        .parse()?;
    Ok(kib * 1024)
}

/// Open descriptors of a process.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

//! `wirekit bench`: load generators, so the book's performance figures can
//! be measured by anyone, against any server (ours or another).
//!
//! Echo load runs on the async runtime (a task per connection, so 1,000
//! connections cost little on the client side); downloads reuse the real
//! file-transfer client with a sink for a disk, so the digest is still
//! checked and the disk's speed is not measured.

use crate::client::ClientError;
use crate::runtime;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use serde::Serialize;
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Raises this process's open-file limit as far as it may go: 10,000
/// connections need 10,000 descriptors.
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("cannot raise the open-file limit: {e}");
            0
        }
    }
}

/// An echo load.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EchoLoad {
    /// Connections, each with one request in flight at a time.
    pub conns: usize,
    /// Bytes per request.
    pub size: usize,
    /// How long to measure.
    pub duration: Duration,
}

/// What an echo load measured.
#[derive(Clone, Debug, Serialize)]
pub struct EchoReport {
    /// The load.
    pub conns: usize,
    /// Bytes per request.
    pub size: usize,
    /// Seconds measured.
    pub seconds: f64,
    /// Requests answered in that time.
    pub requests: u64,
    /// Requests per second.
    pub rps: f64,
    /// Payload megabytes per second, one way.
    pub mbps: f64,
    /// Median latency, microseconds.
    pub p50_us: u64,
    /// 99th-percentile latency, microseconds.
    pub p99_us: u64,
    /// Connections that failed.
    pub errors: usize,
}

/// Drives `conns` connections that each send `size` bytes and wait for them
/// to come back, as fast as they can, for `duration`.
pub fn echo(addr: SocketAddr, load: EchoLoad) -> Result<EchoReport, ClientError> {
    raise_fd_limit();
    // Every task connects first; measuring starts for all at once.
    let start = Instant::now() + Duration::from_millis(500 + load.conns as u64);
    let end = start + load.duration;
    let (tx, rx) = mpsc::channel();
    let rt = runtime::default_runtime();
    for _ in 0..load.conns {
        let tx = tx.clone();
        rt.spawn(Box::pin(async move {
            let _ = tx.send(echo_conn(addr, load.size, start, end).await);
        }));
    }
    drop(tx);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for result in rx {
        match result {
            Ok(mut l) => latencies.append(&mut l),
            Err(e) => {
                tracing::debug!("bench connection: {e}");
                errors += 1;
            }
        }
    }
    if errors == load.conns {
        return Err(ClientError::Unreachable {
            addr: addr.to_string(),
            source: std::io::Error::other("every connection failed"),
        });
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).copied().unwrap_or(0)
    };
    let seconds = load.duration.as_secs_f64();
    let requests = latencies.len() as u64;
    Ok(EchoReport {
        conns: load.conns,
        size: load.size,
        seconds,
        requests,
        rps: requests as f64 / seconds,
        mbps: (requests * load.size as u64) as f64 / seconds / 1e6,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        errors,
    })
}

async fn echo_conn(
    addr: SocketAddr,
    size: usize,
    start: Instant,
    end: Instant,
) -> std::io::Result<Vec<u64>> {
    let mut s = runtime::connect(addr).await?;
    s.get_ref().set_nodelay(true)?;
    runtime::sleep(start.saturating_duration_since(Instant::now())).await;
    let msg = vec![b'x'; size];
    let mut back = vec![0; size];
    let mut latencies = Vec::new();
    loop {
        let t = Instant::now();
        if t >= end {
            return Ok(latencies);
        }
        s.write_all(&msg).await?;
        s.read_exact(&mut back).await?;
        latencies.push(t.elapsed().as_micros() as u64);
    }
}

/// What a download benchmark measured.
#[derive(Clone, Debug, Serialize)]
pub struct GetReport {
    /// The file's size.
    pub size: u64,
    /// Seconds per download, in the order run.
    pub seconds: Vec<f64>,
    /// Megabytes per second of the median run.
    pub mbps: f64,
}

/// Downloads `remote` `count` times into a sink (digest still checked).
pub fn get(
    opts: &crate::client::transfer::Options,
    remote: &str,
    count: usize,
) -> Result<GetReport, ClientError> {
    let mut seconds = Vec::new();
    let mut size = 0;
    for _ in 0..count.max(1) {
        let t = Instant::now();
        size = crate::client::transfer::get_to_sink(opts, remote)?;
        seconds.push(t.elapsed().as_secs_f64());
    }
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted
        .get(sorted.len() / 2)
        .copied()
        .unwrap_or(f64::INFINITY);
    Ok(GetReport {
        size,
        mbps: size as f64 / median / 1e6,
        seconds,
    })
}

/// What holding many idle connections showed.
#[derive(Clone, Debug, Serialize)]
pub struct IdleReport {
    /// Connections opened and held.
    pub held: usize,
    /// Connections that could not be opened.
    pub failed: usize,
    /// A fresh echo request's round trip while they were held, microseconds.
    pub probe_us: u64,
}

/// Opens `conns` connections, holds them `hold`, and checks the server still
/// answers a new client meanwhile.
pub fn idle(addr: SocketAddr, conns: usize, hold: Duration) -> Result<IdleReport, ClientError> {
    raise_fd_limit();
    let mut held = Vec::with_capacity(conns);
    let mut failed = 0;
    for _ in 0..conns {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => held.push(s),
            Err(e) => {
                failed += 1;
                tracing::debug!("idle connection: {e}");
            }
        }
    }
    std::thread::sleep(hold);
    // Each held connection must still be open: a closed one would read EOF.
    let mut closed = 0;
    for s in &held {
        s.set_nonblocking(true)?;
        let mut b = [0u8; 1];
        if matches!(std::io::Read::read(&mut &*s, &mut b), Ok(0)) {
            closed += 1;
        }
    }
    let t = Instant::now();
    crate::client::echo::tcp(addr, &["probe".into()], Duration::from_secs(10))?;
    Ok(IdleReport {
        held: held.len() - closed,
        failed: failed + closed,
        probe_us: t.elapsed().as_micros() as u64,
    })
}

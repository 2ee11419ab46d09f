//! A deterministic network simulator (feature `sim`).
//!
//! Wirekit's protocols are meant to survive real networks, and a learner
//! should be able to *watch* what a lossy link does to them. This module
//! simulates a small IPv4 network entirely in memory: hosts run real TCP and
//! UDP (smoltcp), the core's protocol machines run on top of those sockets,
//! and links between hosts apply Linux netem's impairments. There is no I/O
//! and no clock: time is virtual and jumps from event to event, and every
//! random choice comes from RNGs seeded by the run's seed. The same scenario
//! and seed give the same run — natively, in tests and in the browser — and
//! the same trace hash.
//!
//! | concern | module |
//! |---|---|
//! | link profiles and netem syntax | [`netem`] |
//! | one link direction's decisions | [`link`] |
//! | a packet's headers, for the trace | [`packet`] |
//! | the event queue | [`queue`] |
//! | the virtual network card | [`device`] |
//! | machines on sockets (back-pressure) | [`app`] |
//! | the caller's own applications | [`custom`] |
//! | per-request servers: a port per request | [`listen`] |
//! | what each workload does | [`workload`], [`store`], [`tftp`] |
//! | scenarios and presets | [`scenario`] |
//! | hosts, links, the event loop | [`engine`] |
//! | trace and hash; pcap | [`trace`], [`pcap`] |
//! | one packet, decoded for an inspector | [`inspect`] |
//!
//! For a front end (`wirekit sim`, the browser page):
//!
//! - [`presets`] lists the built-in scenarios (`name`, `description`);
//!   [`preset`] finds one. A [`Scenario`] is serde data (JSON or TOML); link
//!   profiles in it are netem strings.
//! - [`run`] / [`run_with`] run one to the end and return a [`Report`];
//!   [`Report::summary`] is the text to print, `trace-hash:` last.
//!   [`Options`] asks for the trace records (serde, for `--trace` and the
//!   page) and the pcap bytes (for `--pcap`).
//! - To animate, build a [`Sim`], call [`Sim::run_until`] once per frame,
//!   drain [`Sim::take_records`], and finish with [`report`].
//! - To run a protocol of your own, name it in the scenario as a
//!   [`Workload::Custom`] and build the run with [`Sim::with_apps`]: your
//!   [`Apps`] puts your machine and its [`Responder`] on a socket through
//!   the [`Place`] it is given.
//!
//! The simplest use:
//!
//! ```
//! use wirekit_core::sim::{preset, run, Outcome};
//! let report = run(&preset("udp-time").expect("a preset"), 7).expect("a valid scenario");
//! assert_eq!(report.outcome, Outcome::Completed);
//! println!("trace-hash: {}", report.trace_hash);
//! ```

pub mod app;
pub mod custom;
pub mod device;
pub mod engine;
pub mod inspect;
pub mod link;
pub mod listen;
pub mod netem;
pub mod packet;
pub mod pcap;
pub mod queue;
pub mod scenario;
pub mod store;
pub mod tftp;
pub mod trace;
pub mod workload;

pub use app::{App, AppState, Responder, Status};
pub use custom::{Apps, Place, SimMachine};
pub use engine::{Options, Sim, Stats};
pub use link::DropReason;
pub use netem::{Netem, NetemError};
pub use scenario::{Scenario, ScenarioError, Workload, preset, presets};
pub use trace::{TraceKind, TraceRecord};

use crate::time::Instant;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Every client reached its goal.
    Completed,
    /// The time limit came first (or the network fell silent) with a client
    /// still working.
    DidNotFinish,
    /// A client failed; why (the first failure, in application order).
    Failed(String),
}

/// One application's end state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppReport {
    /// Its host's name.
    pub host: String,
    /// Its workload kind (`transfer-get`, ...).
    pub kind: String,
    /// True for clients (applications with a goal).
    pub client: bool,
    /// Where it stands.
    pub status: Status,
    /// Application bytes it received (downloads, echoes, replies).
    pub delivered: u64,
    /// Retries it made itself (datagram clients).
    pub retries: u64,
}

/// The summary of a run: what `wirekit sim` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Virtual time when every client finished, if they did.
    pub completed_at: Option<Instant>,
    /// Virtual time when the run stopped.
    pub ended_at: Instant,
    /// Application bytes the clients received.
    pub delivered_bytes: u64,
    /// `delivered_bytes` per second of virtual time until completion (or
    /// the end), in bits per second.
    pub goodput_bps: u64,
    /// TCP segments sent again (seen on the wire).
    pub tcp_retransmissions: u64,
    /// Requests sent again by datagram clients.
    pub app_retries: u64,
    /// Drops by reason (short names, see [`DropReason::name`]).
    pub drops: Vec<(String, u64)>,
    /// Counters.
    pub stats: Stats,
    /// Each application.
    pub apps: Vec<AppReport>,
    /// Events traced.
    pub events: u64,
    /// The trace hash, lower-case hex (the `trace-hash:` line).
    pub trace_hash: String,
    /// The trace records, if asked for.
    pub trace: Vec<TraceRecord>,
    /// The pcap file, if asked for.
    #[serde(skip)]
    pub pcap: Option<Vec<u8>>,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Completed => f.write_str("completed"),
            Outcome::DidNotFinish => f.write_str("did not finish"),
            Outcome::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

impl Report {
    /// The summary `wirekit sim` prints, one fact per line, the trace hash
    /// last (`trace-hash: <hex>`), so every front end prints the same text.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "scenario: {} (seed {})", self.scenario, self.seed);
        let _ = writeln!(s, "outcome: {}", self.outcome);
        match self.completed_at {
            Some(t) => {
                let _ = writeln!(s, "completion time: {t}");
            }
            None => {
                let _ = writeln!(s, "ended at: {}", self.ended_at);
            }
        }
        let _ = writeln!(
            s,
            "delivered: {} bytes, goodput {:.3} Mbit/s",
            self.delivered_bytes,
            self.goodput_bps as f64 / 1e6
        );
        let _ = writeln!(
            s,
            "retransmissions: {} TCP segments, {} application retries",
            self.tcp_retransmissions, self.app_retries
        );
        let _ = write!(s, "drops:");
        if self.drops.is_empty() {
            let _ = write!(s, " none");
        }
        for (why, n) in &self.drops {
            let _ = write!(s, " {why} {n}");
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "packets: {} sent, {} delivered, {} duplicated, {} corrupted, {} reordered",
            self.stats.packets_sent,
            self.stats.packets_delivered,
            self.stats.duplicated,
            self.stats.corrupted,
            self.stats.reordered
        );
        for a in &self.apps {
            let _ = writeln!(s, "app {} on {}: {:?}", a.kind, a.host, a.status);
        }
        let _ = writeln!(s, "trace-hash: {}", self.trace_hash);
        s
    }
}

/// Runs `scenario` with `seed` and summarises it (no trace records, no pcap).
pub fn run(scenario: &Scenario, seed: u64) -> Result<Report, ScenarioError> {
    run_with(scenario, seed, Options::default())
}

/// Runs `scenario` with `seed`, keeping the trace records and pcap if asked.
pub fn run_with(scenario: &Scenario, seed: u64, options: Options) -> Result<Report, ScenarioError> {
    let mut sim = Sim::new(scenario, seed, options)?;
    sim.run();
    Ok(report(scenario, seed, &mut sim))
}

/// Summarises a simulation that has run (or stopped early), taking its
/// trace records and pcap into the report.
pub fn report(scenario: &Scenario, seed: u64, sim: &mut Sim) -> Report {
    let mut r = summarize(scenario, seed, sim);
    r.trace = sim.take_records();
    r.pcap = sim.take_pcap();
    r
}

/// Summarises a simulation so far, leaving its records and pcap where they
/// are: a page that animates a run asks for this after every frame.
pub fn summarize(scenario: &Scenario, seed: u64, sim: &Sim) -> Report {
    let apps = sim.apps();
    let mut delivered = 0;
    let mut retries = 0;
    let mut failed = None;
    let mut all_done = true;
    for a in apps.iter().filter(|a| a.client) {
        delivered += a.delivered;
        retries += a.retries;
        match &a.status {
            Status::Running => all_done = false,
            Status::Completed => {}
            Status::Failed(why) => {
                failed.get_or_insert_with(|| why.clone());
            }
        }
    }
    let outcome = match failed {
        Some(why) => Outcome::Failed(why),
        None if all_done => Outcome::Completed,
        None => Outcome::DidNotFinish,
    };
    let completed_at = match outcome {
        Outcome::Completed => sim.finished_at(),
        _ => None,
    };
    let ended_at = sim.now();
    let span = completed_at.unwrap_or(ended_at).as_micros().max(1);
    let stats = sim.stats().clone();
    Report {
        scenario: scenario.name.clone(),
        seed,
        outcome,
        completed_at,
        ended_at,
        delivered_bytes: delivered,
        goodput_bps: (u128::from(delivered) * 8 * 1_000_000 / u128::from(span)) as u64,
        tcp_retransmissions: stats.tcp_retransmissions,
        app_retries: retries,
        drops: stats
            .drops
            .iter()
            .map(|(r, n)| (String::from(r.name()), *n))
            .collect(),
        stats,
        apps,
        events: sim.trace().len(),
        trace_hash: trace::hex(&sim.trace().hash()),
        trace: Vec::new(),
        pcap: None,
    }
}
#[cfg(test)]
mod tests;

//! What happened, when, and why: the trace of a run, with a running hash.
//!
//! Every packet a link is offered gets one record with the link's verdict
//! (dropped and why, or carried: how long, reordered, corrupted, duplicated).
//! Deliveries, application starts, application notes and link changes are
//! recorded too. Each record is fed to BLAKE3 in a fixed binary encoding as
//! it happens, so two runs agree on the hash exactly when they agree on every
//! event — natively, in the browser, on any machine.

use super::link::{DropReason, Verdict};
use super::packet::PacketInfo;
use crate::time::Instant;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Records kept in memory at most; later ones are only hashed.
pub const MAX_TRACE_RECORDS: usize = 1_000_000;

/// Encoded records are hashed in batches of about this many bytes: BLAKE3 is
/// several times faster on long inputs than on one small record at a time,
/// and the hash does not depend on how the input is split.
const HASH_BATCH: usize = 16 * 1024;

/// One direction of one link: `dir` 0 is from the link's `a` host to `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LinkRef {
    /// Index of the link in the scenario.
    pub link: u16,
    /// 0: a to b, 1: b to a.
    pub dir: u8,
}

/// One event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceKind {
    /// The first record of every trace: which seed this run used. A hash
    /// names one run, so two seeds hash apart even where the network made
    /// no random choice (a perfect UDP link).
    Begin {
        /// The run's seed.
        seed: u64,
    },
    /// A packet was offered to a link, and what the link decided.
    Link {
        /// The packet's number in this run.
        packet: u64,
        /// Where.
        on: LinkRef,
        /// Its length in bytes.
        len: u32,
        /// Its headers, as sent (before any corruption).
        info: Option<PacketInfo>,
        /// The decision, with its reasons.
        verdict: Verdict,
        /// The number given to the duplicate, if one was made.
        duplicate: Option<u64>,
    },
    /// A packet had no link to its destination.
    NoRoute {
        /// The packet's number.
        packet: u64,
        /// The host that sent it.
        host: u16,
    },
    /// A packet reached a host.
    Delivered {
        /// The packet's number.
        packet: u64,
        /// The receiving host.
        host: u16,
    },
    /// An application started.
    Started {
        /// Its host.
        host: u16,
        /// Its index among the scenario's applications.
        app: u16,
    },
    /// Something an application reported (a reply, a retry, done, an error).
    App {
        /// Its index among the scenario's applications.
        app: u16,
        /// What, for people.
        note: String,
    },
    /// A link direction got a new profile.
    Changed {
        /// Which.
        on: LinkRef,
    },
}

/// One event and its virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// When.
    pub at: Instant,
    /// What.
    pub kind: TraceKind,
}

/// The trace of one run.
#[derive(Clone, Debug)]
pub struct Trace {
    hasher: blake3::Hasher,
    keep: bool,
    records: Vec<TraceRecord>,
    count: u64,
    scratch: Vec<u8>,
}

fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_link(b: &mut Vec<u8>, on: LinkRef) {
    b.extend_from_slice(&on.link.to_le_bytes());
    b.push(on.dir);
}

/// Appends the canonical encoding of one record to `b`.
fn encode(b: &mut Vec<u8>, at: u64, kind: &TraceKind) {
    put_u64(b, at);
    match kind {
        TraceKind::Link {
            packet,
            on,
            len,
            info,
            verdict,
            duplicate,
        } => {
            b.push(1);
            put_u64(b, *packet);
            put_link(b, *on);
            b.extend_from_slice(&len.to_le_bytes());
            match info {
                Some(i) => {
                    b.push(1);
                    i.encode(b);
                }
                None => b.push(0),
            }
            match verdict {
                Verdict::Drop(r) => {
                    b.push(0);
                    b.push(DropReason::code(*r));
                }
                Verdict::Carry(c) => {
                    b.push(1);
                    put_u64(b, c.after_us);
                    put_u64(b, c.queued_us);
                    b.push(u8::from(c.reordered));
                    match c.corrupted {
                        Some((at, bit)) => {
                            b.push(1);
                            b.extend_from_slice(&at.to_le_bytes());
                            b.push(bit);
                        }
                        None => b.push(0),
                    }
                    put_u64(b, c.duplicate_after_us.unwrap_or(u64::MAX));
                }
                Verdict::Hold => b.push(2),
            }
            put_u64(b, duplicate.unwrap_or(u64::MAX));
        }
        TraceKind::NoRoute { packet, host } => {
            b.push(2);
            put_u64(b, *packet);
            b.extend_from_slice(&host.to_le_bytes());
        }
        TraceKind::Delivered { packet, host } => {
            b.push(3);
            put_u64(b, *packet);
            b.extend_from_slice(&host.to_le_bytes());
        }
        TraceKind::Started { host, app } => {
            b.push(4);
            b.extend_from_slice(&host.to_le_bytes());
            b.extend_from_slice(&app.to_le_bytes());
        }
        TraceKind::App { app, note } => {
            b.push(5);
            b.extend_from_slice(&app.to_le_bytes());
            b.extend_from_slice(&(note.len() as u32).to_le_bytes());
            b.extend_from_slice(note.as_bytes());
        }
        TraceKind::Changed { on } => {
            b.push(6);
            put_link(b, *on);
        }
        TraceKind::Begin { seed } => {
            b.push(7);
            put_u64(b, *seed);
        }
    }
}

impl Trace {
    /// A trace that hashes every event and keeps the records too if `keep`.
    pub fn new(keep: bool) -> Self {
        Trace {
            hasher: blake3::Hasher::new(),
            keep,
            records: Vec::new(),
            count: 0,
            scratch: Vec::with_capacity(HASH_BATCH + 256),
        }
    }

    /// Records an event at virtual µs `at`.
    pub fn push(&mut self, at: u64, kind: TraceKind) {
        encode(&mut self.scratch, at, &kind);
        if self.scratch.len() >= HASH_BATCH {
            self.hasher.update(&self.scratch);
            self.scratch.clear();
        }
        self.count += 1;
        if self.keep && self.records.len() < MAX_TRACE_RECORDS {
            self.records.push(TraceRecord {
                at: Instant::from_micros(at),
                kind,
            });
        }
    }

    /// Events recorded (kept or not).
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True before the first event.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The hash of every event so far.
    pub fn hash(&self) -> [u8; 32] {
        let mut h = self.hasher.clone();
        h.update(&self.scratch);
        *h.finalize().as_bytes()
    }

    /// The kept records (empty unless asked for; at most [`MAX_TRACE_RECORDS`]).
    pub fn records(&self) -> &[TraceRecord] {
        &self.records
    }

    /// Takes the kept records.
    pub fn take_records(&mut self) -> Vec<TraceRecord> {
        core::mem::take(&mut self.records)
    }
}

/// Lower-case hex of a hash, for the `trace-hash:` line.
pub fn hex(hash: &[u8; 32]) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(64);
    for b in hash {
        let _ = write!(s, "{b:02x}");
    }
    s
}

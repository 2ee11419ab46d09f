//! A WKFT/1 client and server wired in memory, with a tiny in-memory store
//! on the server side and an in-memory "local disk" on the client side that
//! answer the machines' events. Answers are delivered late, in random
//! batches, and the byte streams are cut at random: the schedule a real
//! driver on a real network might produce.

// The harnesses need std (the crate is no_std without `testing`).
use super::store::Faulty;
pub use super::store::special;
use crate::pair::{PairError, StreamPair};
use crate::store::mem;
use crate::transfer::client::{self, Client, Failure};
use crate::transfer::server::{self, Server};
use crate::transfer::store::Files;
use crate::transfer::{ErrorCode, Misuse, ProtocolError};
use crate::wire::transfer::Digest;
use crate::{Machine, Now};
use bytes::Bytes;
use std::collections::VecDeque;
#[allow(unused_imports)]
use std::prelude::rust_2024::*;
#[allow(unused_imports)]
use std::{format, vec};

/// A small deterministic generator (SplitMix64) for schedules.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..=n`.
    pub fn upto(&mut self, n: usize) -> usize {
        (self.next_u64() % (n as u64 + 1)) as usize
    }
}

/// The server's store in the tests: [`Faulty`] behind WKFT/1's adapter of
/// the store contract, the same adapter the native and simulated servers
/// answer with.
#[derive(Debug)]
pub struct MemStore {
    files: Files<Faulty>,
    pub protocol_errors: Vec<ProtocolError>,
}

impl Default for MemStore {
    fn default() -> Self {
        MemStore::new()
    }
}

impl MemStore {
    /// An empty store with room for 1 GiB uploads, reading short.
    pub fn new() -> Self {
        let mut store = Faulty::new(mem::MemStore::new().with_quota(1 << 30));
        store.short_reads = true;
        MemStore {
            files: Files::new(store),
            protocol_errors: Vec::new(),
        }
    }

    /// The files and partials.
    pub fn mem(&self) -> &mem::MemStore {
        &self.files.store().mem
    }

    /// The files and partials, to set up a test.
    pub fn mem_mut(&mut self) -> &mut mem::MemStore {
        &mut self.files.store_mut().mem
    }

    /// A write past `offset` finds the disk full (see [`Faulty::fill_at`]).
    pub fn fill_at(&mut self, offset: u64) {
        self.files.store_mut().fill_at = Some(offset);
    }

    /// Reads return fewer bytes than asked, at random (on by default).
    pub fn set_short_reads(&mut self, on: bool) {
        self.files.store_mut().short_reads = on;
    }

    /// The connection ended: nothing stays open, an upload's partial is
    /// kept for a resume (what the native server does on a broken stream).
    pub fn close(&mut self) {
        self.files.close();
    }

    /// Answers one server event, as a driver would; `rng` picks the length
    /// of short reads.
    pub fn answer(&mut self, ev: server::Event, rng: &mut Rng) -> Option<server::Command> {
        self.files.store_mut().reseed(rng.next_u64());
        let committing = match &ev {
            server::Event::CommitUpload { path, size, digest } => {
                Some((path.clone(), *size, *digest))
            }
            server::Event::Protocol(e) => {
                self.protocol_errors.push(e.clone());
                None
            }
            _ => None,
        };
        let answer = self.files.answer(ev);
        if let (Some((path, size, digest)), Some(server::Command::Committed(Ok(())))) =
            (committing, &answer)
        {
            // What STORED will name is what the store holds.
            let data = self.mem().file(&path).unwrap_or_default();
            assert_eq!(data.len() as u64, size, "committed with a wrong size");
            assert_eq!(Digest::of(data), digest, "committed with a wrong digest");
        }
        answer
    }
}

fn chunk_of(data: &[u8], pos: &mut usize, max: usize, rng: Option<&mut Rng>) -> Bytes {
    let left = data.len().saturating_sub(*pos);
    // A local read may return less than asked; at least one byte if any is left.
    let n = match rng {
        _ if left == 0 => 0,
        Some(rng) => 1 + rng.upto(max.min(left) - 1),
        None => max.min(left),
    };
    let b = Bytes::copy_from_slice(&data[*pos..*pos + n]);
    *pos += n;
    b
}

/// The client's local disk, in memory: one source for uploads, one file
/// being downloaded.
#[derive(Debug, Default)]
pub struct MemLocal {
    pub source: Vec<u8>,
    pub dest: Vec<u8>,
    /// Pretend the source is this long when read (to make it end early).
    pub source_len: Option<usize>,
    read_pos: usize,
    /// Results of requests: everything but chunk traffic.
    pub outcomes: Vec<client::Event>,
}

impl MemLocal {
    pub fn answer(&mut self, ev: client::Event, rng: &mut Rng) -> Option<client::Command> {
        use client::{Command as C, Event as E};
        match ev {
            E::ReadPrefix { max } => {
                let dest = self.dest.clone();
                Some(C::Chunk(chunk_of(
                    &dest,
                    &mut self.read_pos,
                    max,
                    Some(rng),
                )))
            }
            E::ReadChunk { max } => {
                let len = self.source_len.unwrap_or(self.source.len());
                let src = self.source[..len].to_vec();
                Some(C::Chunk(chunk_of(&src, &mut self.read_pos, max, Some(rng))))
            }
            E::Download { offset, .. } => {
                self.dest.truncate(offset as usize);
                None
            }
            E::WriteChunk(b) => {
                self.dest.extend_from_slice(&b);
                None
            }
            other => {
                self.outcomes.push(other);
                None
            }
        }
    }
}

/// A client and a server, their stores, and a schedule.
#[derive(Debug)]
pub struct Session {
    pub pair: StreamPair<Client, Server>,
    pub store: MemStore,
    pub local: MemLocal,
    pub rng: Rng,
    /// Largest piece of a stream delivered at once.
    pub max_piece: usize,
    to_server: VecDeque<server::Command>,
    to_client: VecDeque<client::Command>,
}

/// The run did not settle, or a side misused its machine.
pub type RunError = PairError<Misuse, Misuse>;

impl Session {
    pub fn new(store: MemStore, seed: u64, max_piece: usize) -> Self {
        Session {
            pair: StreamPair::new(Client::new(), Server::new(), Now::default()),
            store,
            local: MemLocal::default(),
            rng: Rng(seed),
            max_piece: max_piece.max(1),
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
        }
    }

    /// Runs until nothing moves: bytes cut at random, answers delivered in
    /// random batches. Returns false if it did not settle within `rounds`.
    pub fn run(&mut self, rounds: usize) -> Result<bool, RunError> {
        for _ in 0..rounds {
            let max_piece = self.max_piece;
            let mut cut_rng = Rng(self.rng.next_u64());
            let moved = self.pair.step(&mut || 1 + cut_rng.upto(max_piece - 1))?;
            for ev in std::mem::take(&mut self.pair.server_events) {
                self.to_server.extend(self.store.answer(ev, &mut self.rng));
            }
            for ev in std::mem::take(&mut self.pair.client_events) {
                self.to_client.extend(self.local.answer(ev, &mut self.rng));
            }
            let quiet = !moved && self.pair.is_idle();
            let n = if quiet {
                self.to_server.len()
            } else {
                self.rng.upto(self.to_server.len())
            };
            for cmd in self.to_server.drain(..n).collect::<Vec<_>>() {
                let now = self.pair.now;
                self.pair
                    .server
                    .handle_command(now, cmd)
                    .map_err(PairError::Server)?;
            }
            let n = if quiet {
                self.to_client.len()
            } else {
                self.rng.upto(self.to_client.len())
            };
            for cmd in self.to_client.drain(..n).collect::<Vec<_>>() {
                let now = self.pair.now;
                self.pair
                    .client
                    .handle_command(now, cmd)
                    .map_err(PairError::Client)?;
            }
            self.pair.drain_both();
            if quiet
                && self.to_server.is_empty()
                && self.to_client.is_empty()
                && self.pair.server_events.is_empty()
                && self.pair.client_events.is_empty()
                && self.pair.is_idle()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Gives the client a command without running the session.
    pub fn begin(&mut self, cmd: client::Command) -> Result<(), RunError> {
        let now = self.pair.now;
        self.pair
            .client
            .handle_command(now, cmd)
            .map_err(PairError::Client)?;
        self.pair.drain_both();
        self.local.read_pos_reset();
        Ok(())
    }

    /// Gives the client a command, runs to quiet, and returns the outcomes
    /// it produced (not counting chunk traffic).
    pub fn request(&mut self, cmd: client::Command) -> Result<Vec<client::Event>, RunError> {
        self.begin(cmd)?;
        let settled = self.run(100_000)?;
        assert!(settled, "the session did not settle");
        Ok(std::mem::take(&mut self.local.outcomes))
    }

    /// The connection is cut where it stands (bytes in flight are lost):
    /// the server's store closes the session as a driver would, and both
    /// disks are handed back for the next session to resume from.
    pub fn cut(mut self) -> (MemStore, MemLocal) {
        self.store.close();
        self.local.outcomes.clear();
        self.local.read_pos_reset();
        (self.store, self.local)
    }

    /// Connects: runs the handshake and checks it succeeded.
    pub fn connect(&mut self) -> Result<(), RunError> {
        assert!(self.run(10_000)?, "handshake did not settle");
        let out = std::mem::take(&mut self.local.outcomes);
        assert_eq!(out, [client::Event::Ready]);
        Ok(())
    }
}

impl MemLocal {
    fn read_pos_reset(&mut self) {
        self.read_pos = 0;
    }
}

/// Feeds `bytes` to a machine in pieces of the lengths in `cuts`, taken in turn.
pub fn feed<M: Machine>(m: &mut M, bytes: &[u8], cuts: &[usize]) {
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts[i % cuts.len()].clamp(1, rest.len());
        i += 1;
        let input = crate::Input::Data {
            from: crate::PeerId::FIRST,
            bytes: &rest[..n],
        };
        assert!(m.handle_input(Now::default(), input).is_ok());
        rest = &rest[n..];
    }
}

/// Everything a machine has to send, as text.
pub fn transmitted<M: Machine>(m: &mut M) -> String {
    let mut out = Vec::new();
    while let Some(t) = m.poll_transmit() {
        out.extend_from_slice(&t.payload);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A server session fed `input` in one piece, its store events answered
/// from `store` only once all of it has arrived (the requests pipelined):
/// what the server sent, and whether it closed.
pub fn serve(store: &mut MemStore, input: &[u8]) -> (String, bool) {
    serve_turns(store, &[input])
}

/// A server session fed one piece of input at a time, as a person types,
/// each answered in full before the next: what the server sent, and
/// whether it closed.
pub fn serve_turns(store: &mut MemStore, pieces: &[&[u8]]) -> (String, bool) {
    let mut srv = Server::new();
    let mut rng = Rng(0);
    let mut out = String::new();
    for piece in pieces {
        feed(&mut srv, piece, &[piece.len().max(1)]);
        loop {
            out.push_str(&transmitted(&mut srv));
            let Some(e) = srv.poll_event() else { break };
            if let Some(cmd) = store.answer(e, &mut rng) {
                assert!(srv.handle_command(Now::default(), cmd).is_ok());
            }
        }
    }
    (out, srv.is_done())
}

/// The single outcome of a request that failed remotely, as its code.
pub fn remote_code(outcomes: &[client::Event]) -> Option<ErrorCode> {
    match outcomes {
        [client::Event::Failed(Failure::Remote { code, .. })] => Some(*code),
        _ => None,
    }
}

//! A WKFT/1 client and server wired in memory, with a tiny in-memory store
//! on the server side and an in-memory "local disk" on the client side that
//! answer the machines' events. Answers are delivered late, in random
//! batches, and the byte streams are cut at random: the schedule a real
//! driver on a real network might produce.

use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use wirekit_core::pair::{PairError, StreamPair};
use wirekit_core::transfer::client::{self, Client, Failure};
use wirekit_core::transfer::server::{self, Server};
use wirekit_core::transfer::{Entry, ErrorCode, Kind, Misuse, ProtocolError, Stat, StoreError};
use wirekit_core::wire::transfer::Digest;
use wirekit_core::{Machine, Now};

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

/// Paths the store treats specially, so that every error code is reachable.
pub mod special {
    /// Anything under it is `403 denied`.
    pub const DENIED: &str = "secret";
    /// Anything under it is `503 busy`.
    pub const BUSY: &str = "locked";
    /// Reading or writing it fails: `500 internal`.
    pub const FLAKY: &str = "flaky";
}

/// The server's store, in memory.
#[derive(Debug, Default)]
pub struct MemStore {
    pub files: BTreeMap<String, Vec<u8>>,
    pub partials: BTreeMap<String, Vec<u8>>,
    /// Largest upload accepted (`413` above).
    pub quota: u64,
    /// Answer reads with fewer bytes than asked, at random.
    pub short_reads: bool,
    /// Paths committed, in order.
    pub commits: Vec<String>,
    pub protocol_errors: Vec<ProtocolError>,
    reading: Option<(Vec<u8>, usize, bool)>,
    upload: Option<(String, usize)>,
    /// After a failed write, the rest of the upload's events are ignored.
    write_failed: bool,
}

fn gate(path: &str) -> Result<(), StoreError> {
    if path.starts_with(special::DENIED) {
        return Err(StoreError::from_code(ErrorCode::Denied));
    }
    if path.starts_with(special::BUSY) {
        return Err(StoreError::from_code(ErrorCode::Busy));
    }
    Ok(())
}

fn chunk_of(data: &[u8], pos: &mut usize, max: usize, rng: Option<&mut Rng>) -> Bytes {
    let left = data.len().saturating_sub(*pos);
    // A store may return less than asked; at least one byte if any is left.
    let n = match rng {
        _ if left == 0 => 0,
        Some(rng) => 1 + rng.upto(max.min(left) - 1),
        None => max.min(left),
    };
    let b = Bytes::copy_from_slice(&data[*pos..*pos + n]);
    *pos += n;
    b
}

impl MemStore {
    pub fn new() -> Self {
        MemStore {
            quota: 1 << 30,
            short_reads: true,
            ..Default::default()
        }
    }

    /// Answers one server event, as a driver would.
    pub fn answer(&mut self, ev: server::Event, rng: &mut Rng) -> Option<server::Command> {
        use server::{Command as C, Event as E};
        Some(match ev {
            E::List { path: None } => {
                let files = self.files.iter().map(|(n, d)| (n, d, Kind::File));
                let partials = self.partials.iter().map(|(n, d)| (n, d, Kind::Partial));
                let entries = files
                    .chain(partials)
                    .map(|(name, data, kind)| Entry {
                        name: name.clone(),
                        kind,
                        size: data.len() as u64,
                    })
                    .collect();
                C::Listing(Ok(entries))
            }
            E::List { path: Some(p) } => C::Listing(gate(&p).and(Err(StoreError::new(
                ErrorCode::NotFound,
                "no such directory",
            )))),
            E::Stat { path } => C::Status(gate(&path).and_then(|()| {
                if let Some(d) = self.files.get(&path) {
                    Ok(Stat {
                        kind: Kind::File,
                        size: d.len() as u64,
                    })
                } else if let Some(d) = self.partials.get(&path) {
                    Ok(Stat {
                        kind: Kind::Partial,
                        size: d.len() as u64,
                    })
                } else {
                    Err(StoreError::from_code(ErrorCode::NotFound))
                }
            })),
            E::OpenRead { path } => C::Opened(gate(&path).and_then(|()| {
                let data = self
                    .files
                    .get(&path)
                    .ok_or(StoreError::from_code(ErrorCode::NotFound))?;
                let flaky = path.starts_with(special::FLAKY);
                self.reading = Some((data.clone(), 0, flaky));
                Ok(data.len() as u64)
            })),
            E::ReadChunk { max } => match &mut self.reading {
                Some((_, _, true)) => C::ReadFailed(StoreError::new(ErrorCode::Internal, "EIO")),
                Some((data, pos, false)) => {
                    let rng = self.short_reads.then_some(rng);
                    C::Chunk(chunk_of(data, pos, max, rng))
                }
                None => panic!("ReadChunk without an open file"),
            },
            E::CloseRead => {
                self.reading = None;
                return None;
            }
            E::BeginUpload { path, size, offset } => C::UploadReady(gate(&path).and_then(|()| {
                if size > self.quota {
                    return Err(StoreError::new(ErrorCode::TooLarge, "over quota"));
                }
                if self.files.contains_key(&path) {
                    return Err(StoreError::from_code(ErrorCode::Exists));
                }
                if offset == 0 {
                    self.partials.insert(path.clone(), Vec::new());
                } else {
                    let p = self
                        .partials
                        .get_mut(&path)
                        .filter(|p| p.len() as u64 >= offset)
                        .ok_or(StoreError::new(ErrorCode::NotFound, "no partial"))?;
                    p.truncate(offset as usize);
                }
                self.upload = Some((path, 0));
                self.write_failed = false;
                Ok(())
            })),
            E::ReadPrefix { max } => {
                let (path, pos) = self.upload.as_mut().expect("ReadPrefix outside an upload");
                let data = self.partials.get(path.as_str()).expect("partial").clone();
                C::Chunk(chunk_of(&data, pos, max, self.short_reads.then_some(rng)))
            }
            E::WriteChunk(bytes) => {
                if self.write_failed {
                    return None;
                }
                let (path, _) = self.upload.as_ref().expect("WriteChunk outside an upload");
                if path.starts_with(special::FLAKY) {
                    self.write_failed = true;
                    return Some(C::WriteFailed(StoreError::new(
                        ErrorCode::Internal,
                        "ENOSPC",
                    )));
                }
                self.partials
                    .get_mut(path.as_str())
                    .expect("partial")
                    .extend_from_slice(&bytes);
                return None;
            }
            E::CommitUpload { path, size, digest } => {
                if self.write_failed {
                    return None;
                }
                let data = self.partials.remove(&path).expect("partial to commit");
                // The machine promised: size and digest verified before this.
                assert_eq!(data.len() as u64, size, "committed with a wrong size");
                assert_eq!(Digest::of(&data), digest, "committed with a wrong digest");
                self.files.insert(path.clone(), data);
                self.commits.push(path);
                self.upload = None;
                C::Committed(Ok(()))
            }
            E::AbortUpload { keep_partial } => {
                if let Some((path, _)) = self.upload.take()
                    && !keep_partial
                {
                    self.partials.remove(&path);
                }
                return None;
            }
            E::Protocol(e) => {
                self.protocol_errors.push(e);
                return None;
            }
        })
    }
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

    /// Gives the client a command, runs to quiet, and returns the outcomes
    /// it produced (not counting chunk traffic).
    pub fn request(&mut self, cmd: client::Command) -> Result<Vec<client::Event>, RunError> {
        let now = self.pair.now;
        self.pair
            .client
            .handle_command(now, cmd)
            .map_err(PairError::Client)?;
        self.pair.drain_both();
        self.local.read_pos_reset();
        let settled = self.run(100_000)?;
        assert!(settled, "the session did not settle");
        Ok(std::mem::take(&mut self.local.outcomes))
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

/// The single outcome of a request that failed remotely, as its code.
pub fn remote_code(outcomes: &[client::Event]) -> Option<ErrorCode> {
    match outcomes {
        [client::Event::Failed(Failure::Remote { code, .. })] => Some(*code),
        _ => None,
    }
}

//! TFTP machines wired in memory: an in-memory store that answers a
//! server transfer's events, a local file that answers a client's, and a
//! datagram network between them with seeded loss and duplication, where
//! time jumps to the next timeout whenever nothing is in flight.

// The harnesses need std (the crate is no_std without `testing`).
use super::store::Faulty;
use crate::store::mem;
use crate::tftp::Misuse;
use crate::tftp::client::{self, Client};
use crate::tftp::server::{self, ServerConfig, Transfer, accept};
use crate::tftp::store;
use crate::{Input, Instant, Machine, Now, PeerId, Transmit};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
#[allow(unused_imports)]
use std::prelude::rust_2024::*;
#[allow(unused_imports)]
use std::{format, vec};

/// Files by name, as a server's store.
pub type Files = BTreeMap<String, Vec<u8>>;

/// A server [`Transfer`] whose events are answered from an in-memory store,
/// through TFTP's adapter of the store contract (the one the native and
/// simulated servers use).
#[derive(Debug)]
pub struct StoreServer {
    /// The machine.
    pub transfer: Transfer,
    store: store::Files<Faulty>,
    /// Every event the transfer produced.
    pub log: Vec<server::Event>,
    /// The upload's name, once it began.
    writing: Option<String>,
    events: VecDeque<server::Event>,
}

impl StoreServer {
    /// Wraps a transfer; its first event is answered at once.
    pub fn new(transfer: Transfer, files: Files, now: Now) -> Self {
        let mut mem = mem::MemStore::new().with_quota(u64::MAX);
        for (name, data) in files {
            mem.insert(name, Bytes::from(data));
        }
        let mut s = StoreServer {
            transfer,
            store: store::Files::new(Faulty::new(mem)),
            log: Vec::new(),
            writing: None,
            events: VecDeque::new(),
        };
        s.answer(now);
        s
    }

    /// Reads from this offset on fail (to test read errors).
    pub fn fail_reads_at(&mut self, offset: u64) {
        self.store.store_mut().fail_reads_at = Some(offset);
    }

    /// The complete files (committed uploads included).
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.store.store().mem.files()
    }

    fn answer(&mut self, now: Now) {
        use server::Event as E;
        while let Some(e) = self.transfer.poll_event() {
            // What the machine promises its store, checked on the way.
            let kept = |s: &Self| {
                let name = s.writing.as_deref().unwrap_or_default();
                s.store
                    .store()
                    .mem
                    .partial(name)
                    .map_or(0, |p| p.len() as u64)
            };
            match &e {
                E::OpenWrite { filename, .. } => self.writing = Some(filename.clone()),
                E::WriteChunk { offset, .. } => {
                    assert_eq!(*offset, kept(self), "writes arrive in order")
                }
                E::Commit { size } => assert_eq!(*size, kept(self), "commits what was written"),
                _ => {}
            }
            let reply = self.store.answer(e.clone());
            self.log.push(e.clone());
            self.events.push_back(e);
            if let Some(c) = reply {
                self.transfer
                    .handle_command(now, c)
                    .expect("the store answers only what was asked");
            }
        }
    }
}

impl Machine for StoreServer {
    type Command = Infallible;
    type Event = server::Event;
    type Error = Misuse;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Misuse> {
        self.transfer.handle_input(now, input)?;
        self.answer(now);
        Ok(())
    }
    fn handle_command(&mut self, _now: Now, cmd: Infallible) -> Result<(), Misuse> {
        match cmd {}
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transfer.poll_transmit()
    }
    fn poll_event(&mut self) -> Option<server::Event> {
        self.events.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.transfer.poll_timeout()
    }
    fn is_done(&self) -> bool {
        self.transfer.is_done()
    }
}

/// A [`Client`] whose events are answered from a local file in memory.
#[derive(Debug)]
pub struct FileClient {
    /// The machine.
    pub client: Client,
    /// Put: the file sent. Get: the file received so far.
    pub local: Vec<u8>,
    /// Every event the client produced.
    pub log: Vec<client::Event>,
    events: VecDeque<client::Event>,
}

impl FileClient {
    /// Wraps a client; `local` is the file to put, or empty for a get.
    pub fn new(client: Client, local: Vec<u8>) -> Self {
        FileClient {
            client,
            local,
            log: Vec::new(),
            events: VecDeque::new(),
        }
    }

    fn answer(&mut self, now: Now) {
        use client::{Command as C, Event as E};
        while let Some(e) = self.client.poll_event() {
            let reply = match &e {
                E::Data { offset, data } => {
                    assert_eq!(*offset, self.local.len() as u64, "data arrives in order");
                    self.local.extend_from_slice(data);
                    None
                }
                E::ReadChunk { offset, len } => {
                    let start = usize::try_from(*offset)
                        .unwrap_or(usize::MAX)
                        .min(self.local.len());
                    let end = start.saturating_add(*len).min(self.local.len());
                    Some(C::Chunk(Bytes::copy_from_slice(&self.local[start..end])))
                }
                _ => None,
            };
            self.log.push(e.clone());
            self.events.push_back(e);
            if let Some(c) = reply {
                self.client
                    .handle_command(now, c)
                    .expect("the file answers only what was asked");
            }
        }
    }

    /// The transfer's outcome: `Some(Ok(bytes))` after `Done`, `Some(Err)` after `Failed`.
    pub fn outcome(&self) -> Option<Result<u64, crate::tftp::Failure>> {
        self.log.iter().find_map(|e| match e {
            client::Event::Done { bytes } => Some(Ok(*bytes)),
            client::Event::Failed(f) => Some(Err(f.clone())),
            _ => None,
        })
    }
}

impl Machine for FileClient {
    type Command = Infallible;
    type Event = client::Event;
    type Error = Misuse;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Misuse> {
        self.client.handle_input(now, input)?;
        self.answer(now);
        Ok(())
    }
    fn handle_command(&mut self, _now: Now, cmd: Infallible) -> Result<(), Misuse> {
        match cmd {}
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.client.poll_transmit()
    }
    fn poll_event(&mut self) -> Option<client::Event> {
        self.events.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }
    fn is_done(&self) -> bool {
        self.client.is_done()
    }
}

/// A network address in the harness.
pub type Addr = u32;
/// The client's address.
pub const CLIENT: Addr = 1;
/// The server's well-known port.
pub const LISTEN: Addr = 69;
/// The first transfer port the server hands out.
pub const FIRST_TRANSFER: Addr = 1000;

/// A datagram on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Sender.
    pub from: Addr,
    /// Receiver.
    pub to: Addr,
    /// The bytes.
    pub payload: Bytes,
}

/// One server transfer in the harness: its port, its machine, its peers.
#[derive(Debug)]
pub struct Port {
    /// The transfer's address.
    pub addr: Addr,
    /// The machine with its store.
    pub server: StoreServer,
    /// `peers[i]` is the address of `PeerId(i)`; `peers[0]` is the client.
    pub peers: Vec<Addr>,
}

/// Seeded impairments.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Impairment {
    /// Chance a datagram is lost.
    pub loss: f64,
    /// Chance a datagram is delivered twice.
    pub dup: f64,
    /// Chance a datagram overtakes the one sent before it.
    pub reorder: f64,
}

/// A client and a TFTP server joined by an in-memory datagram network.
#[derive(Debug)]
pub struct Net {
    /// The current moment.
    pub now: Now,
    /// The client and its local file.
    pub client: FileClient,
    /// The client's peers: `client_peers[i]` is the address of `PeerId(i)`.
    pub client_peers: Vec<Addr>,
    /// The server's configuration.
    pub config: ServerConfig,
    /// The server's files (copied into each transfer; uploads copied back).
    pub files: Files,
    /// Transfers the server started.
    pub ports: Vec<Port>,
    /// Refusals on the well-known port.
    pub refusals: Vec<server::Refusal>,
    /// Every datagram handed to the network, delivered or not.
    pub wire: Vec<Datagram>,
    /// Datagrams to lose: each entry loses the next datagram equal to it.
    pub drops: Vec<Datagram>,
    in_flight: VecDeque<Datagram>,
    impair: Impairment,
    rng: u64,
}

impl Net {
    /// A network with `client` started at `now`.
    pub fn new(client: FileClient, config: ServerConfig, files: Files, now: Now) -> Self {
        let mut net = Net {
            now,
            client,
            client_peers: vec![LISTEN],
            config,
            files,
            ports: Vec::new(),
            refusals: Vec::new(),
            wire: Vec::new(),
            drops: Vec::new(),
            in_flight: VecDeque::new(),
            impair: Impairment::default(),
            rng: 0,
        };
        net.collect();
        net
    }

    /// Impairs every later datagram, deterministically from `seed`.
    pub fn impair(&mut self, impair: Impairment, seed: u64) {
        self.impair = impair;
        self.rng = seed | 1;
    }

    fn random(&mut self) -> f64 {
        // xorshift64*: small, seeded, good enough for dropping packets.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Puts a datagram on the wire, through the impairments.
    pub fn send(&mut self, d: Datagram) {
        self.wire.push(d.clone());
        if let Some(i) = self.drops.iter().position(|x| *x == d) {
            self.drops.remove(i);
            return;
        }
        if self.impair.loss > 0.0 && self.random() < self.impair.loss {
            return;
        }
        if self.impair.dup > 0.0 && self.random() < self.impair.dup {
            self.in_flight.push_back(d.clone());
        }
        if self.impair.reorder > 0.0
            && !self.in_flight.is_empty()
            && self.random() < self.impair.reorder
        {
            let at = self.in_flight.len() - 1;
            self.in_flight.insert(at, d);
        } else {
            self.in_flight.push_back(d);
        }
    }

    fn collect(&mut self) {
        let mut out = Vec::new();
        while let Some(t) = self.client.poll_transmit() {
            let to = self.client_peers[t.to.0 as usize];
            out.push(Datagram {
                from: CLIENT,
                to,
                payload: t.payload,
            });
        }
        for port in &mut self.ports {
            while let Some(t) = port.server.poll_transmit() {
                out.push(Datagram {
                    from: port.addr,
                    to: port.peers[t.to.0 as usize],
                    payload: t.payload,
                });
            }
            if port.server.is_done() {
                // Uploads land in the server's store.
                for (name, data) in port.server.files() {
                    if self.files.get(name).map(Vec::as_slice) != Some(data) {
                        self.files.insert(name.to_owned(), data.to_vec());
                    }
                }
            }
        }
        for d in out {
            self.send(d);
        }
    }

    fn peer_of(peers: &mut Vec<Addr>, addr: Addr) -> PeerId {
        let i = peers.iter().position(|a| *a == addr).unwrap_or_else(|| {
            peers.push(addr);
            peers.len() - 1
        });
        PeerId(u32::try_from(i).expect("few peers"))
    }

    /// Delivers one datagram now, whatever the impairments.
    pub fn deliver(&mut self, d: Datagram) {
        let now = self.now;
        if d.to == CLIENT {
            let from = Self::peer_of(&mut self.client_peers, d.from);
            let input = Input::Data {
                from,
                bytes: &d.payload,
            };
            self.client
                .handle_input(now, input)
                .expect("peer input is never Err");
        } else if d.to == LISTEN {
            match accept(&d.payload, &self.config) {
                Ok(request) => {
                    let addr = FIRST_TRANSFER + self.ports.len() as Addr;
                    let transfer = Transfer::new(request, &self.config);
                    let server = StoreServer::new(transfer, self.files.clone(), now);
                    self.ports.push(Port {
                        addr,
                        server,
                        peers: vec![d.from],
                    });
                }
                Err(refusal) => {
                    if let Some(reply) = refusal.reply.clone() {
                        self.send(Datagram {
                            from: LISTEN,
                            to: d.from,
                            payload: reply,
                        });
                    }
                    self.refusals.push(refusal);
                }
            }
        } else if let Some(port) = self.ports.iter_mut().find(|p| p.addr == d.to) {
            let from = Self::peer_of(&mut port.peers, d.from);
            let input = Input::Data {
                from,
                bytes: &d.payload,
            };
            port.server
                .handle_input(now, input)
                .expect("peer input is never Err");
        }
        self.collect();
    }

    fn next_timeout(&self) -> Option<Instant> {
        let live_ports = self.ports.iter().filter(|p| !p.server.is_done());
        live_ports
            .filter_map(|p| p.server.poll_timeout())
            .chain(self.client.poll_timeout())
            .min()
    }

    /// True when the client and every transfer are done and nothing is in flight.
    pub fn is_settled(&self) -> bool {
        self.in_flight.is_empty()
            && self.client.is_done()
            && self.ports.iter().all(|p| p.server.is_done())
    }

    /// One step: deliver the next datagram, or jump to the next timeout.
    /// Returns false when nothing is left to happen.
    pub fn step(&mut self) -> bool {
        if let Some(d) = self.in_flight.pop_front() {
            self.deliver(d);
            return true;
        }
        let Some(at) = self.next_timeout() else {
            return false;
        };
        if at > self.now.mono {
            let gap = at.saturating_duration_since(self.now.mono);
            self.now = self.now.advanced(gap);
        }
        let now = self.now;
        if self.client.poll_timeout().is_some_and(|t| t <= now.mono) {
            self.client
                .handle_input(now, Input::Timeout)
                .expect("timeouts are never Err");
        }
        for port in &mut self.ports {
            if port.server.poll_timeout().is_some_and(|t| t <= now.mono) {
                port.server
                    .handle_input(now, Input::Timeout)
                    .expect("timeouts are never Err");
            }
        }
        self.collect();
        true
    }

    /// Steps until nothing is left to happen or `max_steps` pass; returns
    /// the steps taken.
    pub fn run(&mut self, max_steps: usize) -> usize {
        let mut steps = 0;
        while steps < max_steps && self.step() {
            steps += 1;
        }
        steps
    }

    /// Datagrams on the wire with this opcode, sent from `from`.
    pub fn count(&self, from: Addr, opcode: u16) -> usize {
        self.wire
            .iter()
            .filter(|d| d.from == from && d.payload.get(..2) == Some(&opcode.to_be_bytes()[..]))
            .count()
    }
}

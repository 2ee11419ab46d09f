//! Two stream machines wired back to back in memory.
//!
//! The quickest way to see a protocol work, and the harness its tests use:
//! what one side transmits is delivered to the other in pieces whose sizes
//! the caller chooses (so tests can split the stream at random, as TCP may),
//! a side that is done sends an end of stream, and time jumps to the next
//! timeout when nothing else is moving. No sockets, no threads, no clock.

use crate::machine::{Input, Machine, PeerId, drain};
use crate::time::Now;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// A client and a server machine joined by two in-memory byte streams.
#[derive(Debug)]
pub struct StreamPair<C: Machine, S: Machine> {
    /// The side that speaks first, usually.
    pub client: C,
    /// The other side.
    pub server: S,
    /// The current moment; advanced only by [`StreamPair::fire_next_timeout`].
    pub now: Now,
    /// Events the client produced, oldest first; take them as you like.
    pub client_events: Vec<C::Event>,
    /// Events the server produced, oldest first.
    pub server_events: Vec<S::Event>,
    to_server: Pipe,
    to_client: Pipe,
}

/// Which side misused its machine (see [`Machine::Error`]).
#[derive(Debug, PartialEq, Eq)]
pub enum PairError<CE, SE> {
    /// The client returned an error.
    Client(CE),
    /// The server returned an error.
    Server(SE),
}

#[derive(Debug, Default)]
struct Pipe {
    bytes: VecDeque<u8>,
    eof_sent: bool,
}

impl Pipe {
    /// Takes the next piece of at most `max` bytes (at least one byte if any).
    fn piece(&mut self, max: usize) -> Vec<u8> {
        let n = max.max(1).min(self.bytes.len());
        self.bytes.drain(..n).collect()
    }
}

impl<C: Machine, S: Machine> StreamPair<C, S> {
    /// Joins `client` and `server`, draining whatever they queued at birth
    /// (a greeting, a first request).
    pub fn new(client: C, server: S, now: Now) -> Self {
        let mut pair = StreamPair {
            client,
            server,
            now,
            client_events: Vec::new(),
            server_events: Vec::new(),
            to_server: Pipe::default(),
            to_client: Pipe::default(),
        };
        pair.drain_both();
        pair
    }

    /// True when no bytes are in flight either way.
    pub fn is_idle(&self) -> bool {
        self.to_server.bytes.is_empty() && self.to_client.bytes.is_empty()
    }

    /// Delivers at most one piece each way (sizes from `piece_len`, at least
    /// one byte), then an end of stream to a side whose peer is done and
    /// whose bytes have all arrived. Returns whether anything was delivered.
    pub fn step(
        &mut self,
        piece_len: &mut dyn FnMut() -> usize,
    ) -> Result<bool, PairError<C::Error, S::Error>> {
        let mut moved = false;
        if !self.to_server.bytes.is_empty() {
            let piece = self.to_server.piece(piece_len());
            let input = Input::Data {
                from: PeerId::FIRST,
                bytes: &piece,
            };
            self.server
                .handle_input(self.now, input)
                .map_err(PairError::Server)?;
            moved = true;
        }
        if !self.to_client.bytes.is_empty() {
            let piece = self.to_client.piece(piece_len());
            let input = Input::Data {
                from: PeerId::FIRST,
                bytes: &piece,
            };
            self.client
                .handle_input(self.now, input)
                .map_err(PairError::Client)?;
            moved = true;
        }
        self.drain_both();
        if self.client.is_done() && self.to_server.bytes.is_empty() && !self.to_server.eof_sent {
            self.to_server.eof_sent = true;
            let eof = Input::Eof {
                from: PeerId::FIRST,
            };
            self.server
                .handle_input(self.now, eof)
                .map_err(PairError::Server)?;
            moved = true;
        }
        if self.server.is_done() && self.to_client.bytes.is_empty() && !self.to_client.eof_sent {
            self.to_client.eof_sent = true;
            let eof = Input::Eof {
                from: PeerId::FIRST,
            };
            self.client
                .handle_input(self.now, eof)
                .map_err(PairError::Client)?;
            moved = true;
        }
        self.drain_both();
        Ok(moved)
    }

    /// Steps until nothing moves, at most `max_steps` times. Returns whether
    /// it became quiet within the bound.
    pub fn settle(
        &mut self,
        piece_len: &mut dyn FnMut() -> usize,
        max_steps: usize,
    ) -> Result<bool, PairError<C::Error, S::Error>> {
        for _ in 0..max_steps {
            if !self.step(piece_len)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Moves time to the earliest timeout either side asked for and fires it
    /// on every side that is due. Returns false if neither side wants one.
    pub fn fire_next_timeout(&mut self) -> Result<bool, PairError<C::Error, S::Error>> {
        let next = match (self.client.poll_timeout(), self.server.poll_timeout()) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return Ok(false),
        };
        if next > self.now.mono {
            self.now = self.now.advanced(next - self.now.mono);
        }
        if self
            .client
            .poll_timeout()
            .is_some_and(|t| t <= self.now.mono)
        {
            self.client
                .handle_input(self.now, Input::Timeout)
                .map_err(PairError::Client)?;
        }
        if self
            .server
            .poll_timeout()
            .is_some_and(|t| t <= self.now.mono)
        {
            self.server
                .handle_input(self.now, Input::Timeout)
                .map_err(PairError::Server)?;
        }
        self.drain_both();
        Ok(true)
    }

    /// Queues what both machines want to send and collects their events.
    /// Call it after handing a machine a command.
    pub fn drain_both(&mut self) {
        let (to_server, client_events) = (&mut self.to_server, &mut self.client_events);
        drain(
            &mut self.client,
            |t| to_server.bytes.extend(&t.payload[..]),
            |e| client_events.push(e),
        );
        let (to_client, server_events) = (&mut self.to_client, &mut self.server_events);
        drain(
            &mut self.server,
            |t| to_client.bytes.extend(&t.payload[..]),
            |e| server_events.push(e),
        );
    }
}

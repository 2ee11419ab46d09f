//! The contract every protocol endpoint obeys.
//!
//! An echo server, a TFTP client and a file-transfer session all look the
//! same from outside: a [`Machine`] that is fed input (bytes from a peer, an
//! end of stream, a timeout) and commands (what the local application wants),
//! and that is polled for output (datagrams or stream bytes to send, events
//! for the application, the next time it wants to be woken).
//!
//! One shape for every protocol is what lets one driver loop, one simulator
//! and one fuzz harness serve them all. The rules, which every machine in
//! this crate keeps and tests:
//!
//! - Time enters only as an argument ([`Now`]).
//! - Bytes from a peer never panic and never return `Err`: malformed input
//!   becomes an event (a typed protocol error), an error reply where the
//!   protocol has one, and a close. `Err` means the *local caller* misused
//!   the machine (a command in the wrong state, say).
//! - Every buffer is bounded; limits are named constants with named errors.
//! - `poll_*` are cheap; after a timeout at `t`, [`Machine::poll_timeout`] is
//!   `None` or later than `t`.
//! - Any split of a byte stream into chunks gives the same events.
//! - No hidden randomness: where a machine needs some, it takes a seed.

use crate::time::{Instant, Now};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Who sent or receives bytes. The driver maps its sockets or addresses to
/// ids; the machine never sees an address.
///
/// A stream machine speaks to one peer and conventionally uses
/// [`PeerId::FIRST`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct PeerId(pub u32);

impl PeerId {
    /// The first peer a driver knows, and the only one of most machines:
    /// a stream's peer, a datagram client's server, a per-request child's
    /// client. One name for id 0 everywhere.
    pub const FIRST: PeerId = PeerId(0);
}

/// Bytes the machine wants sent: one datagram, or the next piece of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transmit {
    /// The destination.
    pub to: PeerId,
    /// What to send. For a datagram machine, exactly one datagram.
    pub payload: Bytes,
}

/// Something that happened on the network side of a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Bytes arrived: a datagram, or any piece of a stream.
    Data {
        /// Who sent them.
        from: PeerId,
        /// The bytes, borrowed: a machine copies only what it must keep.
        bytes: &'a [u8],
    },
    /// The peer closed its sending side (TCP FIN). Nothing more will come.
    Eof {
        /// Who closed.
        from: PeerId,
    },
    /// The time returned by [`Machine::poll_timeout`] has come.
    ///
    /// Machines tolerate an early or repeated timeout: they look at
    /// `now` and do only what is due.
    Timeout,
}

// ANCHOR: machine
/// A protocol endpoint without I/O. See the module docs for the rules.
pub trait Machine {
    /// What the local application asks for: send this message, here is the
    /// file chunk you wanted, close.
    type Command;
    /// What the local application learns: a reply, the time, a chunk wanted,
    /// done, a peer's protocol error.
    type Event;
    /// Local misuse only; peers cannot cause it.
    type Error;

    /// Feeds network input.
    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Self::Error>;

    /// Feeds an application command.
    fn handle_command(&mut self, now: Now, cmd: Self::Command) -> Result<(), Self::Error>;

    /// The next bytes to send, if any.
    fn poll_transmit(&mut self) -> Option<Transmit>;

    /// The next event for the application, if any.
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// When the machine next wants [`Input::Timeout`], if ever.
    fn poll_timeout(&self) -> Option<Instant>;

    /// True once the machine has nothing more to do on this connection: the
    /// driver sends what [`Machine::poll_transmit`] still yields, then closes.
    /// A machine serving many datagram peers is never done.
    fn is_done(&self) -> bool;

    /// Where the machine stands, in a word or two for people ("receiving",
    /// "idle"): what an inspector such as the browser lab shows beside a
    /// packet. It is no part of any protocol; machines with more than two
    /// states worth telling apart say which one they are in.
    fn phase(&self) -> &'static str {
        if self.is_done() { "done" } else { "running" }
    }
}
// ANCHOR_END: machine

// ANCHOR: drain
/// Drains a machine after it was fed: every transmit goes to `transmit`, then
/// every event to `event`. Returns when the machine next wants a timeout.
///
/// This is the one helper every driver uses, so that the order in which
/// output leaves a machine is the same under sockets, the simulator and tests.
pub fn drain<M: Machine + ?Sized>(
    machine: &mut M,
    mut transmit: impl FnMut(Transmit),
    mut event: impl FnMut(M::Event),
) -> Option<Instant> {
    while let Some(t) = machine.poll_transmit() {
        transmit(t);
    }
    while let Some(e) = machine.poll_event() {
        event(e);
    }
    machine.poll_timeout()
}
// ANCHOR_END: drain

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;
    use alloc::vec::Vec;
    use core::convert::Infallible;

    /// Echoes every datagram back and counts them: the smallest honest machine.
    #[derive(Default)]
    struct Reflector {
        out: VecDeque<Transmit>,
        seen: VecDeque<usize>,
    }

    impl Machine for Reflector {
        type Command = Infallible;
        type Event = usize;
        type Error = Infallible;
        fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Infallible> {
            if let Input::Data { from, bytes } = input {
                self.out.push_back(Transmit {
                    to: from,
                    payload: Bytes::copy_from_slice(bytes),
                });
                self.seen.push_back(bytes.len());
            }
            Ok(())
        }
        fn handle_command(&mut self, _now: Now, cmd: Infallible) -> Result<(), Infallible> {
            match cmd {}
        }
        fn poll_transmit(&mut self) -> Option<Transmit> {
            self.out.pop_front()
        }
        fn poll_event(&mut self) -> Option<usize> {
            self.seen.pop_front()
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
        fn is_done(&self) -> bool {
            false
        }
    }

    #[test]
    fn drain_empties_transmits_then_events_in_order() {
        let mut m = Reflector::default();
        let now = Now::default();
        for (peer, msg) in [(1, &b"ab"[..]), (2, b"cde")] {
            m.handle_input(
                now,
                Input::Data {
                    from: PeerId(peer),
                    bytes: msg,
                },
            )
            .unwrap_or_else(|e| match e {});
        }
        let mut sent = Vec::new();
        let mut events = Vec::new();
        let next = drain(&mut m, |t| sent.push((t.to, t.payload)), |e| events.push(e));
        assert_eq!(next, None);
        assert_eq!(
            sent,
            [
                (PeerId(1), Bytes::from_static(b"ab")),
                (PeerId(2), Bytes::from_static(b"cde"))
            ]
        );
        assert_eq!(events, [2, 3]);
        assert!(m.poll_transmit().is_none() && m.poll_event().is_none());
    }
}

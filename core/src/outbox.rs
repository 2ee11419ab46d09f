//! The one output queue every machine keeps: transmits waiting for
//! `poll_transmit`, with their bytes counted so that each machine can hold
//! its queue under its own named limit (a peer must not grow it).

use crate::machine::{PeerId, Transmit};
use alloc::collections::VecDeque;
use bytes::Bytes;

/// Replies a datagram server holds before it drops new requests (a flood
/// of requests must not grow its queue).
pub const MAX_QUEUED: usize = 64;

/// Transmits waiting to be polled, and their size.
#[derive(Debug, Default)]
pub struct Outbox {
    queue: VecDeque<Transmit>,
    bytes: usize,
}

impl Outbox {
    /// Queues `payload` for `to` (an empty one too: over UDP an empty
    /// datagram is a message).
    pub fn push(&mut self, to: PeerId, payload: Bytes) {
        self.bytes += payload.len();
        self.queue.push_back(Transmit { to, payload });
    }

    /// The oldest transmit, for `poll_transmit`.
    pub fn pop(&mut self) -> Option<Transmit> {
        let t = self.queue.pop_front()?;
        self.bytes -= t.payload.len();
        Some(t)
    }

    /// Bytes queued.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Transmits queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Nothing queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Whether `more` bytes fit under `limit`.
    pub fn has_room(&self, more: usize, limit: usize) -> bool {
        self.bytes.saturating_add(more) <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_it_holds_in_order() {
        let mut o = Outbox::default();
        o.push(PeerId::FIRST, Bytes::from_static(b"abc"));
        o.push(PeerId(1), Bytes::new());
        o.push(PeerId(2), Bytes::from_static(b"de"));
        assert_eq!((o.len(), o.bytes()), (3, 5));
        assert!(o.has_room(5, 10) && !o.has_room(6, 10));
        assert_eq!(o.pop().map(|t| t.to), Some(PeerId::FIRST));
        assert_eq!(o.pop().map(|t| t.to), Some(PeerId(1)));
        assert_eq!((o.len(), o.bytes()), (1, 2));
        assert_eq!(o.pop().map(|t| t.to), Some(PeerId(2)));
        assert!(o.pop().is_none() && o.is_empty());
    }
}

//! The receiving half of a transfer: a client getting a file, a server
//! taking an upload.
//!
//! The receiver keeps the number of the next block it needs. That block is
//! delivered (translated, for netascii) and counted; a full window of them,
//! or the last block, is acknowledged. Other blocks are answered sparingly,
//! because an ACK in the middle of a window makes the sender go back and
//! send the rest of the window again (RFC 7440):
//!
//! - A block after a gap (one was lost) is answered with the ACK of the
//!   last block in order, once per gap: the sender starts again after it.
//! - The first block of the window *before* the last ACK means the sender
//!   did not hear that ACK and timed out: the same ACK goes out again. In
//!   lock-step this is RFC 1350's "acknowledge a duplicate DATA".
//! - Other old blocks are network duplicates and are dropped: answering
//!   each with an ACK would make the sender resend windows for nothing.
//!
//! When its timer runs out the receiver sends its last ACK again (the ACK
//! or the DATA may have been lost). After the last block it dallies,
//! acknowledging the last block again each time it comes back, until it
//! has heard nothing for the dally time ([`super::dally`]: as long as the
//! sender may keep retransmitting).

use super::blocks::Rollover;
use super::{Params, ProtocolError};
use crate::machine::PeerId;
use crate::outbox::Outbox;
use crate::time::Instant;
use crate::wire::tftp::{ack_bytes, netascii::Decoder};
use bytes::{Bytes, BytesMut};
use core::time::Duration;

/// File bytes to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Where they go in the local file.
    pub(crate) offset: u64,
    /// The bytes (translated for netascii; may be empty).
    pub(crate) data: Bytes,
    /// The file is complete after these.
    pub(crate) last: bool,
}

/// What a timeout did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    NotYet,
    /// The last ACK went out again.
    Resent,
    /// Too many timeouts in a row.
    GiveUp(u32),
    /// The dally is over: the receiver is finished.
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Receiving,
    /// The last block is in; its ACK waits for [`Receiver::release_final`].
    Holding,
    Dallying,
    Closed,
}

#[derive(Debug)]
pub(crate) struct Receiver {
    blksize: usize,
    windowsize: usize,
    rollover: Rollover,
    timeout: Duration,
    max_retries: u32,
    decoder: Option<Decoder>,
    /// Absolute number of the next block needed.
    expected: u64,
    /// Blocks in order since the last ACK.
    since_ack: usize,
    /// Absolute block of the last ACK sent (0: ACK 0 or the OACK).
    last_ack: u64,
    /// The ACK before it, if any.
    prev_ack: Option<u64>,
    /// What acknowledges "nothing yet": ACK 0, or the server's OACK.
    first: Bytes,
    /// How long to wait for a repeated last block.
    dally: Duration,
    offset: u64,
    phase: Phase,
    deadline: Option<Instant>,
    retries: u32,
}

impl Receiver {
    /// A receiver that has just sent (or will send) `first` — ACK 0, an
    /// OACK — and waits for DATA 1 until `now` plus the timeout.
    pub(crate) fn new(
        params: &Params,
        netascii: bool,
        max_retries: u32,
        first: Bytes,
        now: Instant,
    ) -> Self {
        Receiver {
            blksize: usize::from(params.blksize),
            windowsize: usize::from(params.windowsize.max(1)),
            rollover: params.rollover,
            timeout: params.timeout,
            max_retries,
            decoder: netascii.then(Decoder::new),
            expected: 1,
            since_ack: 0,
            last_ack: 0,
            prev_ack: None,
            first,
            dally: params.timeout,
            offset: 0,
            phase: Phase::Receiving,
            deadline: Some(now + params.timeout),
            retries: 0,
        }
    }

    /// Acknowledges the last block in order (ACK 0 or the OACK before
    /// any), and starts counting a new window.
    fn ack(&mut self, to: PeerId, out: &mut Outbox) {
        let abs = self.expected - 1;
        if abs != self.last_ack {
            self.prev_ack = Some(self.last_ack);
            self.last_ack = abs;
        }
        let payload = if abs == 0 {
            self.first.clone()
        } else {
            ack_bytes(self.rollover.wire(abs))
        };
        self.since_ack = 0;
        out.push(to, payload);
    }

    /// A block other than the one needed: answer it or not (module docs).
    fn unexpected(&mut self, wire: u16, to: PeerId, out: &mut Outbox) {
        let ahead = self
            .rollover
            .forward(self.expected, wire)
            .map_or(u64::MAX, |abs| abs - self.expected);
        if ahead < 1 << 15 {
            // After a gap: once, while blocks in order wait unacknowledged.
            if self.since_ack > 0 {
                self.ack(to, out);
            }
        } else if self
            .prev_ack
            .is_some_and(|prev| wire == self.rollover.wire(prev + 1))
        {
            self.ack(to, out);
        }
    }

    /// A DATA packet from the peer.
    pub(crate) fn on_data(
        &mut self,
        now: Instant,
        wire: u16,
        data: &[u8],
        to: PeerId,
        out: &mut Outbox,
    ) -> Result<Option<Delivery>, ProtocolError> {
        if data.len() > self.blksize {
            return Err(ProtocolError::BlockTooLong {
                len: data.len(),
                blksize: u16::try_from(self.blksize).unwrap_or(u16::MAX),
            });
        }
        match self.phase {
            Phase::Receiving => {}
            Phase::Dallying => {
                // The sender did not hear our last ACK: say it again, and
                // wait another while for it to hear.
                if wire == self.rollover.wire(self.expected - 1) {
                    self.ack(to, out);
                    self.deadline = Some(now + self.dally);
                }
                return Ok(None);
            }
            Phase::Holding | Phase::Closed => return Ok(None),
        }
        if wire != self.rollover.wire(self.expected) {
            self.unexpected(wire, to, out);
            return Ok(None);
        }
        let offset = self.offset;
        let last = data.len() < self.blksize;
        let bytes = match &mut self.decoder {
            None => Bytes::copy_from_slice(data),
            Some(d) => {
                let mut local = BytesMut::with_capacity(data.len() + 1);
                d.decode(data, &mut local);
                if last {
                    d.finish(&mut local);
                }
                local.freeze()
            }
        };
        self.offset += bytes.len() as u64;
        self.expected += 1;
        self.since_ack += 1;
        self.retries = 0;
        if last {
            self.phase = Phase::Holding;
            self.deadline = None;
        } else {
            self.deadline = Some(now + self.timeout);
            if self.since_ack >= self.windowsize {
                self.ack(to, out);
            }
        }
        Ok(Some(Delivery {
            offset,
            data: bytes,
            last,
        }))
    }

    /// Acknowledges the last block and dallies for `dally`.
    pub(crate) fn release_final(
        &mut self,
        now: Instant,
        dally: Duration,
        to: PeerId,
        out: &mut Outbox,
    ) {
        if self.phase != Phase::Holding {
            return;
        }
        self.ack(to, out);
        self.phase = Phase::Dallying;
        self.dally = dally;
        self.deadline = Some(now + dally);
    }

    /// A timeout at `now`.
    /// The last block is acknowledged; only the dally is left.
    pub(crate) fn is_dallying(&self) -> bool {
        self.phase == Phase::Dallying
    }

    pub(crate) fn on_timeout(&mut self, now: Instant, to: PeerId, out: &mut Outbox) -> Tick {
        match self.deadline {
            Some(d) if now >= d => {}
            _ => return Tick::NotYet,
        }
        if self.phase == Phase::Dallying {
            self.phase = Phase::Closed;
            self.deadline = None;
            return Tick::Closed;
        }
        self.retries += 1;
        if self.retries > self.max_retries {
            self.deadline = None;
            return Tick::GiveUp(self.retries);
        }
        self.ack(to, out);
        self.deadline = Some(now + self.timeout);
        Tick::Resent
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Local bytes delivered so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// True before DATA 1 (a repeated OACK then asks for ACK 0 again).
    pub(crate) fn expects_first_block(&self) -> bool {
        self.expected == 1 && self.phase == Phase::Receiving
    }

    /// Sends the last ACK again now (a repeated OACK asks for it).
    pub(crate) fn repeat_last(&mut self, to: PeerId, out: &mut Outbox) {
        self.ack(to, out);
    }
}

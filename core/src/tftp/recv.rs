//! The receiving half of a transfer: a client getting a file, a server
//! taking an upload.
//!
//! The receiver keeps the number of the next block it needs. That block is
//! delivered (translated, for netascii) and counted; a full window of them,
//! or the last block, is acknowledged. Any other block — a duplicate, or
//! one after a gap — is answered at once with the ACK of the last block in
//! order, which tells the sender where to start again (RFC 7440) and costs
//! it nothing if it already knew: a sender ignores duplicate ACKs.
//!
//! When its timer runs out the receiver sends its last ACK again (the ACK
//! or the DATA may have been lost). After the last block it dallies for a
//! timeout, acknowledging the last block again should it come back.

use super::blocks::Rollover;
use super::{Params, ProtocolError};
use crate::machine::{PeerId, Transmit};
use crate::time::Instant;
use crate::wire::tftp::{ack_bytes, netascii::Decoder};
use alloc::collections::VecDeque;
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
    /// What to send again on a timeout or an unexpected block.
    last_ack: Bytes,
    offset: u64,
    phase: Phase,
    deadline: Option<Instant>,
    retries: u32,
}

impl Receiver {
    /// A receiver that has just sent (or will send) `last_ack` — ACK 0, an
    /// OACK — and waits for DATA 1 until `now` plus the timeout.
    pub(crate) fn new(
        params: &Params,
        netascii: bool,
        max_retries: u32,
        last_ack: Bytes,
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
            last_ack,
            offset: 0,
            phase: Phase::Receiving,
            deadline: Some(now + params.timeout),
            retries: 0,
        }
    }

    fn ack(&mut self, to: PeerId, out: &mut VecDeque<Transmit>) {
        self.last_ack = ack_bytes(self.rollover.wire(self.expected - 1));
        self.since_ack = 0;
        out.push_back(Transmit {
            to,
            payload: self.last_ack.clone(),
        });
    }

    fn resend(&mut self, to: PeerId, out: &mut VecDeque<Transmit>) {
        self.since_ack = 0;
        out.push_back(Transmit {
            to,
            payload: self.last_ack.clone(),
        });
    }

    /// A DATA packet from the peer.
    pub(crate) fn on_data(
        &mut self,
        now: Instant,
        wire: u16,
        data: &[u8],
        to: PeerId,
        out: &mut VecDeque<Transmit>,
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
                // The sender did not hear our last ACK: say it again.
                if wire == self.rollover.wire(self.expected - 1) {
                    self.resend(to, out);
                }
                return Ok(None);
            }
            Phase::Holding | Phase::Closed => return Ok(None),
        }
        if wire != self.rollover.wire(self.expected) {
            self.resend(to, out);
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
        out: &mut VecDeque<Transmit>,
    ) {
        if self.phase != Phase::Holding {
            return;
        }
        self.ack(to, out);
        self.phase = Phase::Dallying;
        self.deadline = Some(now + dally);
    }

    /// A timeout at `now`.
    pub(crate) fn on_timeout(
        &mut self,
        now: Instant,
        to: PeerId,
        out: &mut VecDeque<Transmit>,
    ) -> Tick {
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
        self.resend(to, out);
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
    pub(crate) fn repeat_last(&mut self, to: PeerId, out: &mut VecDeque<Transmit>) {
        self.resend(to, out);
    }
}

//! The sending half of a transfer: a server answering a read, a client
//! putting a file.
//!
//! File bytes come from the driver in reads the engine asks for
//! ([`Sender::want_read`]); they are translated (netascii) into a staging
//! buffer and cut into DATA packets, which stay in the window until
//! acknowledged. A read shorter than asked means the file ended: the rest
//! of the staging buffer becomes the last block, shorter than the block
//! size and empty when the file is a multiple of it.
//!
//! Packets leave only in [`Sender::flush`]: after an ACK that moved the
//! window, after a read filled it, or after a timeout rewound it. A
//! duplicate ACK moves nothing, so it sends nothing.

use super::blocks::Rollover;
use super::{MAX_READ, Misuse, Params};
use crate::machine::PeerId;
use crate::outbox::Outbox;
use crate::time::Instant;
use crate::wire::tftp::{encode_data, netascii};
use alloc::collections::VecDeque;
use bytes::{Bytes, BytesMut};
use core::time::Duration;

/// What an ACK did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AckOutcome {
    /// A duplicate, or a block not sent: nothing changes.
    Ignored,
    /// The window moved.
    Advanced,
    /// The last block is acknowledged: the transfer is complete.
    Finished,
}

/// What a timeout did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeoutOutcome {
    /// Not due (early or repeated timeout).
    NotYet,
    /// The window will be sent again from its first block.
    Rewound,
    /// Too many timeouts in a row.
    GiveUp(u32),
}

#[derive(Debug)]
pub(crate) struct Sender {
    blksize: usize,
    windowsize: usize,
    rollover: Rollover,
    timeout: Duration,
    max_retries: u32,
    netascii: bool,
    /// Translated file bytes not yet cut into blocks.
    staging: BytesMut,
    /// Packets from `base` on, cut and not yet acknowledged.
    window: VecDeque<Bytes>,
    /// Absolute number of `window[0]` (0 while an OACK waits for ACK 0).
    base: u64,
    /// Packets of the window sent in the current round.
    sent: usize,
    /// Packets of the window sent at least once (ACKs beyond are bogus).
    ever_sent: usize,
    /// Absolute number of the next block to cut.
    next_cut: u64,
    read_offset: u64,
    reading: Option<usize>,
    source_done: bool,
    cut_last: bool,
    deadline: Option<Instant>,
    retries: u32,
    acked_bytes: u64,
}

impl Sender {
    /// A sender whose first packet is `oack` (the server's answer to an RRQ
    /// with options, acknowledged by ACK 0), or DATA 1 when `None`.
    pub(crate) fn new(
        params: &Params,
        netascii: bool,
        max_retries: u32,
        oack: Option<Bytes>,
    ) -> Self {
        let mut window = VecDeque::new();
        let base = match oack {
            Some(p) => {
                window.push_back(p);
                0
            }
            None => 1,
        };
        Sender {
            blksize: usize::from(params.blksize),
            windowsize: usize::from(params.windowsize.max(1)),
            rollover: params.rollover,
            timeout: params.timeout,
            max_retries,
            netascii,
            staging: BytesMut::new(),
            window,
            base,
            sent: 0,
            ever_sent: 0,
            next_cut: 1,
            read_offset: 0,
            reading: None,
            source_done: false,
            cut_last: false,
            deadline: None,
            retries: 0,
            acked_bytes: 0,
        }
    }

    /// Packets the window may hold: one while the OACK waits alone.
    fn send_limit(&self) -> usize {
        if self.base == 0 { 1 } else { self.windowsize }
    }

    /// Blocks are read and cut one window ahead of the one in flight, so
    /// that when an ACK comes the next blocks leave at once and the driver
    /// reads while they travel.
    fn cut_room(&self) -> usize {
        let limit = 2 * self.windowsize + usize::from(self.base == 0);
        limit.saturating_sub(self.window.len())
    }

    /// The next read to ask the driver for, once: `(offset, len)`.
    pub(crate) fn want_read(&mut self) -> Option<(u64, usize)> {
        if self.reading.is_some() || self.source_done || self.cut_last {
            return None;
        }
        let room = self.cut_room();
        if room == 0 || self.staging.len() >= self.blksize {
            return None;
        }
        let len = if self.netascii {
            // Translation may double the bytes: one block at a time.
            self.blksize
        } else {
            (room * self.blksize - self.staging.len()).min(MAX_READ.max(self.blksize))
        };
        self.reading = Some(len);
        Some((self.read_offset, len))
    }

    /// The driver's answer to the read asked last.
    pub(crate) fn on_chunk(&mut self, data: &[u8]) -> Result<(), Misuse> {
        let asked = self.reading.ok_or(Misuse::Unasked)?;
        if data.len() > asked {
            return Err(Misuse::ChunkTooLong {
                len: data.len(),
                asked,
            });
        }
        self.reading = None;
        self.read_offset += data.len() as u64;
        if data.len() < asked {
            self.source_done = true;
        }
        if self.netascii {
            netascii::encode(data, &mut self.staging);
        } else {
            self.staging.extend_from_slice(data);
        }
        self.cut();
        Ok(())
    }

    fn cut(&mut self) {
        while !self.cut_last && self.cut_room() > 0 {
            let n = if self.staging.len() >= self.blksize {
                self.blksize
            } else if self.source_done {
                self.cut_last = true;
                self.staging.len()
            } else {
                break;
            };
            let data = self.staging.split_to(n);
            let mut packet = BytesMut::with_capacity(4 + n);
            encode_data(self.rollover.wire(self.next_cut), &data, &mut packet);
            self.window.push_back(packet.freeze());
            self.next_cut += 1;
        }
    }

    /// Sends what the window allows and has not sent this round.
    pub(crate) fn flush(&mut self, now: Instant, to: PeerId, out: &mut Outbox) {
        let limit = self.send_limit().min(self.window.len());
        while self.sent < limit {
            let Some(p) = self.window.get(self.sent) else {
                break;
            };
            out.push(to, p.clone());
            self.sent += 1;
            self.ever_sent = self.ever_sent.max(self.sent);
            self.deadline = Some(now + self.timeout);
        }
    }

    /// An ACK (or, for the block before the first, an OACK: pass 0) came.
    pub(crate) fn on_ack(&mut self, wire: u16) -> AckOutcome {
        let acked = if self.base == 0 {
            usize::from(wire == 0)
        } else {
            match self.rollover.forward(self.base - 1, wire) {
                Some(abs) => usize::try_from(abs - (self.base - 1)).unwrap_or(usize::MAX),
                None => 0,
            }
        };
        if acked == 0 || acked > self.ever_sent {
            return AckOutcome::Ignored;
        }
        // At base 0 the one packet acknowledged is the OACK: no file bytes.
        let skip = usize::from(self.base == 0);
        for p in self.window.drain(..acked).skip(skip) {
            self.acked_bytes += (p.len() as u64).saturating_sub(4);
        }
        self.base += acked as u64;
        // RFC 7440: go on from the block after the one acknowledged, sending
        // again what followed it in the old window.
        self.sent = 0;
        self.ever_sent -= acked;
        self.retries = 0;
        self.deadline = None;
        self.cut();
        if self.cut_last && self.window.is_empty() {
            AckOutcome::Finished
        } else {
            AckOutcome::Advanced
        }
    }

    /// A timeout at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant) -> TimeoutOutcome {
        match self.deadline {
            Some(d) if now >= d => {}
            _ => return TimeoutOutcome::NotYet,
        }
        self.deadline = None;
        self.retries += 1;
        if self.retries > self.max_retries {
            return TimeoutOutcome::GiveUp(self.retries);
        }
        self.sent = 0;
        TimeoutOutcome::Rewound
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// File bytes (wire bytes, for netascii) the peer has acknowledged.
    pub(crate) fn acked_bytes(&self) -> u64 {
        self.acked_bytes
    }

    /// File bytes read from the driver so far: the file's size, once the
    /// last block is acknowledged.
    pub(crate) fn local_bytes(&self) -> u64 {
        self.read_offset
    }

    /// True while a read is outstanding.
    pub(crate) fn is_reading(&self) -> bool {
        self.reading.is_some()
    }
}

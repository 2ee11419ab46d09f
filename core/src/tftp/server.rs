//! The TFTP server: [`accept`] for requests, one [`Transfer`] per transfer.
//!
//! A driver's checklist:
//!
//! 1. Listen on the well-known port (7069 for Wirekit). For each datagram
//!    call [`accept`]. On `Err(refusal)` send `refusal.reply`, if any, back
//!    to the sender (from a fresh socket, as tftp-hpa does, or from the
//!    listening one) and forget it: garbage gets no answer at all, so the
//!    server cannot be used to reflect traffic.
//! 2. On `Ok(request)` open a new UDP socket on a new port (the server's
//!    transfer ID), map the client's address on it to [`PeerId::FIRST`] and any
//!    other source address to another [`PeerId`] (ids are only for this
//!    transfer), and create [`Transfer::new`]. Run it like every machine:
//!    feed datagrams and timeouts, send what `poll_transmit` yields to the
//!    address of its `to`, answer its events.
//! 3. Events and their answers:
//!    - [`Event::OpenRead`]: open the file (inside the store's root) and
//!      answer [`Command::Opened`] with its size, or with a [`StoreError`]
//!      (code 1 not found, 2 access violation).
//!    - [`Event::OpenWrite`]: start a partial (temporary) file and answer
//!      [`Command::Created`] (code 6 exists, 2 access violation, 3 full).
//!    - [`Event::ReadChunk`]: read `len` bytes at `offset` and answer
//!      [`Command::Chunk`] with exactly `len` bytes, fewer only at the end
//!      of the file (a short chunk *is* the end), or [`Command::ReadFailed`].
//!    - [`Event::WriteChunk`]: write the bytes at `offset` of the partial;
//!      no answer unless it fails: [`Command::WriteFailed`].
//!    - [`Event::Commit`]: the upload is complete: rename the partial into
//!      place and answer [`Command::Committed`]. The client gets its last
//!      ACK only after that.
//!    - [`Event::Abort`]: delete the partial.
//!    - [`Event::Negotiated`], [`Event::Done`], [`Event::Failed`]: for logs.
//! 4. When [`Machine::is_done`] turns true, send what is left and close the
//!    socket. Answers to questions asked before the end are accepted and
//!    ignored.

use super::options::{Direction, Limits, Negotiation, OptionError, negotiate};
use super::recv::{Receiver, Tick};
use super::send::{AckOutcome, Sender, TimeoutOutcome};
use super::{
    DEFAULT_RETRIES, DEFAULT_TIMEOUT, Failure, Misuse, Params, ProtocolError, StoreError, dally,
};
use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::outbox::Outbox;
use crate::time::{Instant, Now};
use crate::wire::tftp::{
    ErrorCode, Mode, Packet, ParseError, ack_bytes, error_bytes, opcode, parse, peek_data,
};
use alloc::collections::VecDeque;
use alloc::string::String;
use bytes::Bytes;
use core::time::Duration;
use serde::{Deserialize, Serialize};

/// Largest upload a server takes unless configured.
pub const DEFAULT_MAX_UPLOAD: u64 = 1 << 40;

/// How a server behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// Accept write requests (otherwise they get ERROR 2).
    pub allow_write: bool,
    /// Most a client can negotiate.
    pub limits: Limits,
    /// The retransmission timeout when the client asks none.
    pub timeout: Duration,
    /// Timeouts in a row before a transfer gives up.
    pub retries: u32,
    /// Largest upload, by tsize or by bytes received (ERROR 3 past it).
    pub max_upload: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            allow_write: false,
            limits: Limits::default(),
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            max_upload: DEFAULT_MAX_UPLOAD,
        }
    }
}

/// A request the server will serve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// RRQ (read) or WRQ (write).
    pub direction: Direction,
    /// The file as the client named it; the driver maps it into its store.
    pub filename: String,
    /// Transfer mode.
    pub mode: Mode,
    /// The options granted.
    pub negotiation: Negotiation,
}

/// Why a datagram on the well-known port starts no transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    /// Not a TFTP packet (no answer).
    Malformed(ParseError),
    /// A TFTP packet that is not a request (no answer).
    NotARequest {
        /// Its opcode.
        opcode: u16,
    },
    /// A mode other than octet and netascii (ERROR 4).
    UnknownMode(String),
    /// A write to a read-only server (ERROR 2).
    ReadOnly,
    /// Options refused (ERROR 8).
    Options(OptionError),
    /// An upload announced larger than the server takes (ERROR 3).
    TooLarge {
        /// The announced size.
        size: u64,
    },
}

/// A refused request, with the answer to send, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Why.
    pub reason: RefusalReason,
    /// The ERROR packet to send back, or `None` to stay silent.
    pub reply: Option<Bytes>,
}

fn refuse(reason: RefusalReason, reply: Option<(ErrorCode, &str)>) -> Refusal {
    Refusal {
        reason,
        reply: reply.map(|(code, text)| error_bytes(code, text)),
    }
}

// ANCHOR: accept
/// Reads a datagram that came to the server's well-known port.
pub fn accept(datagram: &[u8], config: &ServerConfig) -> Result<Request, Refusal> {
    let (direction, request) = match parse(datagram) {
        Ok(Packet::Rrq(r)) => (Direction::Read, r),
        Ok(Packet::Wrq(r)) => (Direction::Write, r),
        Ok(p) => {
            let opcode = p.opcode();
            return Err(refuse(RefusalReason::NotARequest { opcode }, None));
        }
        Err(ParseError::UnknownMode(m)) => {
            return Err(refuse(
                RefusalReason::UnknownMode(m),
                Some((ErrorCode::IllegalOperation, "unknown transfer mode")),
            ));
        }
        Err(e) => return Err(refuse(RefusalReason::Malformed(e), None)),
    };
    if direction == Direction::Write && !config.allow_write {
        return Err(refuse(
            RefusalReason::ReadOnly,
            Some((
                ErrorCode::AccessViolation,
                "this server takes no TFTP uploads",
            )),
        ));
    }
    let negotiation = negotiate(
        direction,
        request.mode,
        &request.options,
        &config.limits,
        config.timeout,
    )
    .map_err(|e| {
        let text = alloc::format!("{e}");
        refuse(
            RefusalReason::Options(e),
            Some((ErrorCode::OptionRefused, &text)),
        )
    })?;
    if let Some(size) = negotiation.params.tsize.filter(|s| *s > config.max_upload) {
        return Err(refuse(
            RefusalReason::TooLarge { size },
            Some((ErrorCode::DiskFull, "file too large for this server")),
        ));
    }
    Ok(Request {
        direction,
        filename: request.filename,
        mode: request.mode,
        negotiation,
    })
}
// ANCHOR_END: accept

// ANCHOR: events
/// What a transfer asks of its driver, or tells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// Open this file for reading. Answer: [`Command::Opened`].
    OpenRead {
        /// As the client named it.
        filename: String,
    },
    /// Start a partial file for this name. Answer: [`Command::Created`].
    OpenWrite {
        /// As the client named it.
        filename: String,
        /// The size the client announced (tsize), if any.
        size: Option<u64>,
    },
    /// Read `len` bytes at `offset`. Answer: [`Command::Chunk`] (exactly
    /// `len` bytes unless the file ends first) or [`Command::ReadFailed`].
    ReadChunk {
        /// Byte offset in the file.
        offset: u64,
        /// Bytes wanted.
        len: usize,
    },
    /// Write these bytes at `offset` of the partial. No answer unless the
    /// write fails: [`Command::WriteFailed`].
    WriteChunk {
        /// Byte offset in the file.
        offset: u64,
        /// The bytes.
        data: Bytes,
    },
    /// The upload is complete: move the partial into place.
    /// Answer: [`Command::Committed`].
    Commit {
        /// The file's size.
        size: u64,
    },
    /// The upload failed: delete the partial. No answer.
    Abort,
    /// The transfer starts with these parameters.
    Negotiated(Params),
    /// The transfer succeeded (a read's last block is acknowledged, or a
    /// write is committed).
    Done {
        /// File bytes sent or received.
        bytes: u64,
    },
    /// The transfer ended without success.
    Failed(Failure),
}

/// The driver's answers, and its own wishes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Answers [`Event::OpenRead`] with the file's size.
    Opened(Result<u64, StoreError>),
    /// Answers [`Event::OpenWrite`].
    Created(Result<(), StoreError>),
    /// Answers [`Event::ReadChunk`].
    Chunk(Bytes),
    /// Answers [`Event::ReadChunk`]: the read failed.
    ReadFailed(StoreError),
    /// A [`Event::WriteChunk`] failed.
    WriteFailed(StoreError),
    /// Answers [`Event::Commit`].
    Committed(Result<(), StoreError>),
    /// End the transfer now (server shutting down): ERROR 0 to the client.
    Cancel,
}
// ANCHOR_END: events

#[derive(Debug)]
enum State {
    Opening,
    Sending(Sender),
    Receiving { rx: Receiver, committing: bool },
    Finished,
}

/// One transfer, server side, on its own socket.
#[derive(Debug)]
pub struct Transfer {
    request: Request,
    retries: u32,
    max_upload: u64,
    state: State,
    /// A partial file exists (a write was created and not yet committed).
    partial: bool,
    out: Outbox,
    events: VecDeque<Event>,
}

impl Transfer {
    /// A transfer for an accepted request. Its first event asks the driver
    /// to open the file.
    pub fn new(request: Request, config: &ServerConfig) -> Self {
        let first = match request.direction {
            Direction::Read => Event::OpenRead {
                filename: request.filename.clone(),
            },
            Direction::Write => Event::OpenWrite {
                filename: request.filename.clone(),
                size: request.negotiation.params.tsize,
            },
        };
        Transfer {
            request,
            retries: config.retries,
            max_upload: config.max_upload,
            state: State::Opening,
            partial: false,
            out: Outbox::default(),
            events: VecDeque::from([first]),
        }
    }

    /// The request this transfer serves.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The upload is committed and acknowledged: the transfer only waits
    /// in case its last ACK was lost (the dally).
    pub fn is_dallying(&self) -> bool {
        matches!(&self.state, State::Receiving { rx, .. } if rx.is_dallying())
    }

    fn netascii(&self) -> bool {
        self.request.mode == Mode::Netascii
    }

    fn send(&mut self, to: PeerId, payload: Bytes) {
        self.out.push(to, payload);
    }

    fn fail(&mut self, failure: Failure, reply: Option<(ErrorCode, &str)>) {
        if let Some((code, text)) = reply {
            self.send(PeerId::FIRST, error_bytes(code, text));
        }
        if core::mem::take(&mut self.partial) {
            self.events.push_back(Event::Abort);
        }
        self.events.push_back(Event::Failed(failure));
        self.state = State::Finished;
    }

    fn store_failed(&mut self, e: StoreError) {
        let message = e.message.clone();
        self.fail(Failure::Store(e.clone()), Some((e.code, &message)));
    }

    fn protocol(&mut self, e: ProtocolError) {
        self.fail(
            Failure::Protocol(e),
            Some((ErrorCode::IllegalOperation, "illegal TFTP operation")),
        );
    }

    fn pump(&mut self, now: Instant) {
        if let State::Sending(tx) = &mut self.state {
            if let Some((offset, len)) = tx.want_read() {
                self.events.push_back(Event::ReadChunk { offset, len });
            }
            tx.flush(now, PeerId::FIRST, &mut self.out);
        }
    }

    fn stranger(&mut self, from: PeerId, bytes: &[u8]) {
        // Never answer an error with an error: two confused hosts would
        // bounce packets forever.
        if bytes.get(..2) != Some(&opcode::ERROR.to_be_bytes()[..]) {
            self.send(
                from,
                error_bytes(ErrorCode::UnknownTid, "unknown transfer ID"),
            );
        }
    }

    fn on_packet(&mut self, now: Instant, bytes: &[u8]) {
        // The hot path: DATA to a receiver, parsed without a copy.
        if let (State::Receiving { rx, .. }, Some((block, data))) =
            (&mut self.state, peek_data(bytes))
        {
            match rx.on_data(now, block, data, PeerId::FIRST, &mut self.out) {
                Ok(Some(d)) => {
                    if d.offset + d.data.len() as u64 > self.max_upload {
                        self.store_failed(StoreError::new(
                            ErrorCode::DiskFull,
                            "file too large for this server",
                        ));
                        return;
                    }
                    let size = d.offset + d.data.len() as u64;
                    if !d.data.is_empty() {
                        self.events.push_back(Event::WriteChunk {
                            offset: d.offset,
                            data: d.data,
                        });
                    }
                    if d.last {
                        self.state = match core::mem::replace(&mut self.state, State::Finished) {
                            State::Receiving { rx, .. } => State::Receiving {
                                rx,
                                committing: true,
                            },
                            other => other,
                        };
                        self.events.push_back(Event::Commit { size });
                    }
                }
                Ok(None) => {}
                Err(e) => self.protocol(e),
            }
            return;
        }
        let packet = match parse(bytes) {
            Ok(p) => p,
            Err(e) => return self.protocol(ProtocolError::Malformed(e)),
        };
        match (&mut self.state, packet) {
            // The upload is complete: nothing the client says now changes
            // that (only a repeated last block, above, gets an answer).
            (
                State::Receiving {
                    committing: true, ..
                },
                _,
            ) => {}
            (_, Packet::Error { code, message }) => {
                self.fail(Failure::Peer { code, message }, None)
            }
            (State::Sending(tx), Packet::Ack { block }) => match tx.on_ack(block) {
                AckOutcome::Ignored | AckOutcome::Advanced => {}
                AckOutcome::Finished => {
                    let bytes = tx.local_bytes();
                    self.events.push_back(Event::Done { bytes });
                    self.state = State::Finished;
                }
            },
            (State::Opening, _) => {}
            (_, p) => self.protocol(ProtocolError::Unexpected { opcode: p.opcode() }),
        }
    }

    fn start_read(&mut self, now: Instant, size: u64) {
        let octet = self.request.mode == Mode::Octet;
        let n = &self.request.negotiation;
        let oack = n.oack(octet.then_some(size));
        let mut params = n.params;
        if octet && n.has_oack() {
            params.tsize = Some(size);
        }
        self.events.push_back(Event::Negotiated(params));
        self.state = State::Sending(Sender::new(&params, self.netascii(), self.retries, oack));
        self.pump(now);
    }

    fn start_write(&mut self, now: Instant) {
        let n = &self.request.negotiation;
        let first = n.oack(None).unwrap_or_else(|| ack_bytes(0));
        let params = n.params;
        self.partial = true;
        self.events.push_back(Event::Negotiated(params));
        self.send(PeerId::FIRST, first.clone());
        let rx = Receiver::new(&params, self.netascii(), self.retries, first, now);
        self.state = State::Receiving {
            rx,
            committing: false,
        };
    }
}

impl Machine for Transfer {
    type Command = Command;
    type Event = Event;
    type Error = Misuse;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Misuse> {
        match input {
            Input::Data { from, bytes } => {
                if matches!(self.state, State::Finished) {
                    return Ok(());
                }
                if from != PeerId::FIRST {
                    self.stranger(from, bytes);
                } else {
                    self.on_packet(now.mono, bytes);
                }
            }
            Input::Eof { .. } => {}
            Input::Timeout => match &mut self.state {
                State::Sending(tx) => match tx.on_timeout(now.mono) {
                    TimeoutOutcome::NotYet | TimeoutOutcome::Rewound => {}
                    TimeoutOutcome::GiveUp(timeouts) => {
                        self.fail(Failure::TimedOut { timeouts }, None);
                    }
                },
                State::Receiving { rx, .. } => {
                    match rx.on_timeout(now.mono, PeerId::FIRST, &mut self.out) {
                        Tick::NotYet | Tick::Resent => {}
                        Tick::Closed => self.state = State::Finished,
                        Tick::GiveUp(timeouts) => self.fail(Failure::TimedOut { timeouts }, None),
                    }
                }
                State::Opening | State::Finished => {}
            },
        }
        self.pump(now.mono);
        Ok(())
    }

    fn handle_command(&mut self, now: Now, cmd: Command) -> Result<(), Misuse> {
        let direction = self.request.direction;
        match (&mut self.state, cmd) {
            (State::Finished, _) => {}
            (_, Command::Cancel) => self.fail(
                Failure::Cancelled,
                Some((ErrorCode::NotDefined, "transfer cancelled")),
            ),
            (State::Opening, Command::Opened(r)) if direction == Direction::Read => match r {
                Ok(size) => self.start_read(now.mono, size),
                Err(e) => self.store_failed(e),
            },
            (State::Opening, Command::Created(r)) if direction == Direction::Write => match r {
                Ok(()) => self.start_write(now.mono),
                Err(e) => self.store_failed(e),
            },
            (State::Sending(tx), Command::Chunk(data)) => {
                tx.on_chunk(&data)?;
                self.pump(now.mono);
            }
            (State::Sending(tx), Command::ReadFailed(e)) if tx.is_reading() => self.store_failed(e),
            (State::Receiving { .. }, Command::WriteFailed(e)) => self.store_failed(e),
            (
                State::Receiving {
                    rx,
                    committing: true,
                },
                Command::Committed(r),
            ) => match r {
                Ok(()) => {
                    self.partial = false;
                    let bytes = rx.offset();
                    rx.release_final(
                        now.mono,
                        dally(self.request.negotiation.params.timeout, self.retries),
                        PeerId::FIRST,
                        &mut self.out,
                    );
                    self.events.push_back(Event::Done { bytes });
                }
                Err(e) => self.store_failed(e),
            },
            _ => return Err(Misuse::Unasked),
        }
        Ok(())
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Sending(tx) => tx.deadline(),
            State::Receiving { rx, .. } => rx.deadline(),
            State::Opening | State::Finished => None,
        }
    }

    fn phase(&self) -> &'static str {
        match self.state {
            State::Opening => "opening the file",
            State::Sending(_) => "sending blocks",
            State::Receiving {
                committing: true, ..
            } => "committing",
            State::Receiving { .. } => "receiving blocks",
            State::Finished => "finished",
        }
    }

    fn is_done(&self) -> bool {
        matches!(self.state, State::Finished)
    }
}

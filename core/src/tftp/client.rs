//! The TFTP client: one machine per get or put.
//!
//! A driver's checklist:
//!
//! - Create [`Client::get`] or [`Client::put`]; it queues the request for
//!   [`PeerId::FIRST`], the server's well-known address.
//! - Give every new source address its own [`PeerId`] and feed datagrams
//!   with it: the client keeps talking to the first id that answers (the
//!   server's transfer port; see [`Client::peer`]) and answers any other
//!   with ERROR 5. Datagrams from other hosts than the server's are best
//!   dropped by the driver before the machine sees them.
//! - Events: [`Event::Data`] (get): write the bytes at the offset;
//!   [`Event::ReadChunk`] (put): answer [`Command::Chunk`] with exactly
//!   `len` bytes from `offset`, fewer only at the end of the file, or
//!   [`Command::ReadFailed`]; [`Event::Negotiated`] and
//!   [`Event::Progress`] are for the progress bar; [`Event::Done`] and
//!   [`Event::Failed`] end the transfer.
//! - After a get's [`Event::Done`] the machine dallies `retries + 1`
//!   timeouts (longer if the last block keeps coming back) to acknowledge
//!   it again;
//!   [`Machine::is_done`] turns true after that. A command-line client
//!   may stop waiting at `Done`.

use super::options::Wishes;
use super::recv::{Receiver, Tick};
use super::send::{AckOutcome, Sender, TimeoutOutcome};
use super::{
    DEFAULT_RETRIES, DEFAULT_TIMEOUT, Failure, Misuse, Params, ProtocolError, StoreError, dally,
};
use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::outbox::Outbox;
use crate::time::{Instant, Now};
use crate::wire::tftp::{
    ErrorCode, Mode, Packet, Request, ack_bytes, error_bytes, opcode, parse, peek_data,
};
use alloc::collections::VecDeque;
use alloc::string::String;
use bytes::Bytes;
use core::time::Duration;
use serde::{Deserialize, Serialize};

/// How a client behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// octet or netascii.
    pub mode: Mode,
    /// Options to ask for.
    pub wishes: Wishes,
    /// Retransmission timeout until (or unless) one is negotiated; the
    /// `timeout` wish, when set, replaces it.
    pub timeout: Duration,
    /// Timeouts in a row before giving up.
    pub retries: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            mode: Mode::Octet,
            wishes: Wishes::default(),
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
        }
    }
}

// ANCHOR: events
/// What the client tells its driver, or asks of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The server answered; the transfer runs with these parameters
    /// (`tsize`: the size the server announced, on a get).
    Negotiated(Params),
    /// Get: store these bytes at `offset` of the local file.
    Data {
        /// Byte offset.
        offset: u64,
        /// The bytes (translated, in netascii mode).
        data: Bytes,
    },
    /// Put: read `len` bytes at `offset`. Answer: [`Command::Chunk`] or
    /// [`Command::ReadFailed`].
    ReadChunk {
        /// Byte offset.
        offset: u64,
        /// Bytes wanted.
        len: usize,
    },
    /// Put: the server has acknowledged this many bytes (wire bytes, in
    /// netascii mode).
    Progress {
        /// Bytes acknowledged.
        bytes: u64,
    },
    /// The transfer succeeded.
    Done {
        /// The local file's size: bytes received (get) or sent (put).
        bytes: u64,
    },
    /// The transfer ended without success.
    Failed(Failure),
}

/// The driver's answers, and its own wishes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Answers [`Event::ReadChunk`]: exactly the bytes asked, fewer only at
    /// the end of the file.
    Chunk(Bytes),
    /// Answers [`Event::ReadChunk`]: the local read failed.
    ReadFailed(StoreError),
    /// Stop now: ERROR 0 to the server.
    Cancel,
}
// ANCHOR_END: events

#[derive(Debug)]
enum State {
    Requesting {
        request: Bytes,
        deadline: Instant,
        retries: u32,
    },
    Getting(Receiver),
    Putting(Sender),
    Finished,
}

/// A TFTP get or put.
#[derive(Debug)]
pub struct Client {
    put: bool,
    config: ClientConfig,
    wishes: Wishes,
    peer: Option<PeerId>,
    /// A get is complete and dallies: only a repeated last block matters.
    got_all: bool,
    timeout: Duration,
    state: State,
    out: Outbox,
    events: VecDeque<Event>,
}

impl Client {
    /// Downloads `filename`.
    pub fn get(filename: &str, config: ClientConfig, now: Now) -> Result<Self, Misuse> {
        Self::start(false, filename, None, config, now)
    }

    /// Uploads to `filename` a local file of `size` bytes (sent as tsize
    /// when the wishes ask for it; unknown sizes send 0).
    pub fn put(
        filename: &str,
        size: Option<u64>,
        config: ClientConfig,
        now: Now,
    ) -> Result<Self, Misuse> {
        Self::start(true, filename, size, config, now)
    }

    fn start(
        put: bool,
        filename: &str,
        size: Option<u64>,
        mut config: ClientConfig,
        now: Now,
    ) -> Result<Self, Misuse> {
        let mut wishes = config.wishes.settled().map_err(Misuse::BadConfig)?;
        // A timeout asked of the server is ours too, from the first request.
        if let Some(secs) = wishes.timeout {
            config.timeout = Duration::from_secs(u64::from(secs));
        }
        if config.timeout.is_zero() {
            return Err(Misuse::BadConfig("timeout 0"));
        }
        if config.mode == Mode::Netascii && put {
            // The wire size of a text file is not its size on disk.
            wishes.tsize = false;
        }
        let request = Request {
            filename: String::from(filename),
            mode: config.mode,
            options: wishes.to_options(size),
        };
        let packet = if put {
            Packet::Wrq(request)
        } else {
            Packet::Rrq(request)
        };
        let request = packet
            .to_bytes()
            .map_err(|_| Misuse::BadConfig("filename empty, too long or holding a NUL"))?;
        let mut client = Client {
            put,
            config,
            wishes,
            peer: None,
            got_all: false,
            timeout: config.timeout,
            state: State::Requesting {
                request: request.clone(),
                deadline: now.mono + config.timeout,
                retries: 0,
            },
            out: Outbox::default(),
            events: VecDeque::new(),
        };
        client.send(PeerId::FIRST, request);
        Ok(client)
    }

    /// The server's transfer port, once it has answered.
    pub fn peer(&self) -> Option<PeerId> {
        self.peer
    }

    fn netascii(&self) -> bool {
        self.config.mode == Mode::Netascii
    }

    fn send(&mut self, to: PeerId, payload: Bytes) {
        self.out.push(to, payload);
    }

    fn fail(&mut self, failure: Failure, reply: Option<(ErrorCode, &str)>) {
        if let (Some((code, text)), Some(peer)) = (reply, self.peer) {
            self.send(peer, error_bytes(code, text));
        }
        self.events.push_back(Event::Failed(failure));
        self.state = State::Finished;
    }

    fn protocol(&mut self, e: ProtocolError) {
        self.fail(
            Failure::Protocol(e),
            Some((ErrorCode::IllegalOperation, "illegal TFTP operation")),
        );
    }

    fn pump(&mut self, now: Instant) {
        if let (State::Putting(tx), Some(peer)) = (&mut self.state, self.peer) {
            if let Some((offset, len)) = tx.want_read() {
                self.events.push_back(Event::ReadChunk { offset, len });
            }
            tx.flush(now, peer, &mut self.out);
        }
    }

    /// The first answer to the request.
    fn on_answer(&mut self, now: Instant, from: PeerId, bytes: &[u8]) {
        let Ok(packet) = parse(bytes) else { return };
        let params = match (self.put, packet) {
            (_, Packet::Error { code, message }) => {
                self.peer = Some(from);
                return self.fail(Failure::Peer { code, message }, None);
            }
            (_, Packet::Oack { options }) => {
                self.peer = Some(from);
                match self.wishes.check_oack(&options, self.config.timeout) {
                    Ok(p) => p,
                    Err(why) => {
                        return self.fail(
                            Failure::BadOack(why),
                            Some((ErrorCode::OptionRefused, "unacceptable OACK")),
                        );
                    }
                }
            }
            (false, Packet::Data { block: 1, .. }) | (true, Packet::Ack { block: 0 }) => {
                self.peer = Some(from);
                Params::plain(self.config.timeout)
            }
            _ => return,
        };
        self.timeout = params.timeout;
        self.events.push_back(Event::Negotiated(params));
        if self.put {
            self.state = State::Putting(Sender::new(
                &params,
                self.netascii(),
                self.config.retries,
                None,
            ));
        } else {
            let ack0 = ack_bytes(0);
            let is_oack = bytes.get(..2) == Some(&opcode::OACK.to_be_bytes()[..]);
            if is_oack {
                self.send(from, ack0.clone());
            }
            self.state = State::Getting(Receiver::new(
                &params,
                self.netascii(),
                self.config.retries,
                ack0,
                now,
            ));
            if !is_oack {
                self.on_packet(now, from, bytes);
            }
        }
    }

    fn on_packet(&mut self, now: Instant, peer: PeerId, bytes: &[u8]) {
        if let (State::Getting(rx), Some((block, data))) = (&mut self.state, peek_data(bytes)) {
            match rx.on_data(now, block, data, peer, &mut self.out) {
                Ok(Some(d)) => {
                    if !d.data.is_empty() {
                        self.events.push_back(Event::Data {
                            offset: d.offset,
                            data: d.data,
                        });
                    }
                    if d.last {
                        rx.release_final(
                            now,
                            dally(self.timeout, self.config.retries),
                            peer,
                            &mut self.out,
                        );
                        let bytes = rx.offset();
                        self.events.push_back(Event::Done { bytes });
                        self.got_all = true;
                    }
                }
                Ok(None) => {}
                Err(e) => self.protocol(e),
            }
            return;
        }
        if self.got_all {
            return;
        }
        let packet = match parse(bytes) {
            Ok(p) => p,
            Err(e) => return self.protocol(ProtocolError::Malformed(e)),
        };
        match (&mut self.state, packet) {
            (_, Packet::Error { code, message }) => {
                self.fail(Failure::Peer { code, message }, None)
            }
            (State::Getting(rx), Packet::Oack { .. }) => {
                // Our ACK 0 was lost: the server sent its OACK again.
                if rx.expects_first_block() {
                    rx.repeat_last(peer, &mut self.out);
                }
            }
            (State::Putting(tx), Packet::Ack { block }) => match tx.on_ack(block) {
                AckOutcome::Ignored => {}
                AckOutcome::Advanced => {
                    let bytes = tx.acked_bytes();
                    self.events.push_back(Event::Progress { bytes });
                }
                AckOutcome::Finished => {
                    let bytes = tx.local_bytes();
                    self.events.push_back(Event::Done { bytes });
                    self.state = State::Finished;
                }
            },
            // A repeated OACK answers our WRQ again: a duplicate, like ACK 0.
            (State::Putting(_), Packet::Oack { .. }) => {}
            (_, p) => self.protocol(ProtocolError::Unexpected { opcode: p.opcode() }),
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        match &mut self.state {
            State::Requesting {
                request,
                deadline,
                retries,
            } => {
                if now < *deadline {
                    return;
                }
                *retries += 1;
                if *retries > self.config.retries {
                    let timeouts = *retries;
                    return self.fail(Failure::TimedOut { timeouts }, None);
                }
                *deadline = now + self.config.timeout;
                let again = request.clone();
                self.send(PeerId::FIRST, again);
            }
            State::Getting(rx) => {
                let Some(peer) = self.peer else { return };
                match rx.on_timeout(now, peer, &mut self.out) {
                    Tick::NotYet | Tick::Resent => {}
                    Tick::Closed => self.state = State::Finished,
                    Tick::GiveUp(timeouts) => self.fail(Failure::TimedOut { timeouts }, None),
                }
            }
            State::Putting(tx) => match tx.on_timeout(now) {
                TimeoutOutcome::NotYet | TimeoutOutcome::Rewound => {}
                TimeoutOutcome::GiveUp(timeouts) => {
                    self.fail(Failure::TimedOut { timeouts }, None);
                }
            },
            State::Finished => {}
        }
    }
}

impl Machine for Client {
    type Command = Command;
    type Event = Event;
    type Error = Misuse;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Misuse> {
        match input {
            Input::Data { from, bytes } => match (&self.state, self.peer) {
                (State::Finished, _) => {}
                (State::Requesting { .. }, _) => self.on_answer(now.mono, from, bytes),
                (_, Some(peer)) if from == peer => self.on_packet(now.mono, peer, bytes),
                _ => {
                    // Another transfer ID: tell it, and go on (RFC 1350).
                    if bytes.get(..2) != Some(&opcode::ERROR.to_be_bytes()[..]) {
                        self.send(
                            from,
                            error_bytes(ErrorCode::UnknownTid, "unknown transfer ID"),
                        );
                    }
                }
            },
            Input::Eof { .. } => {}
            Input::Timeout => self.on_timeout(now.mono),
        }
        self.pump(now.mono);
        Ok(())
    }

    fn handle_command(&mut self, now: Now, cmd: Command) -> Result<(), Misuse> {
        match (&mut self.state, cmd) {
            (State::Finished, _) => {}
            (_, Command::Cancel) => self.fail(
                Failure::Cancelled,
                Some((ErrorCode::NotDefined, "transfer cancelled")),
            ),
            (State::Putting(tx), Command::Chunk(data)) => {
                tx.on_chunk(&data)?;
                self.pump(now.mono);
            }
            (State::Putting(tx), Command::ReadFailed(e)) if tx.is_reading() => {
                let message = e.message.clone();
                self.fail(Failure::Store(e.clone()), Some((e.code, &message)));
            }
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
            State::Requesting { deadline, .. } => Some(*deadline),
            State::Getting(rx) => rx.deadline(),
            State::Putting(tx) => tx.deadline(),
            State::Finished => None,
        }
    }

    fn phase(&self) -> &'static str {
        match self.state {
            State::Requesting { .. } => "requesting",
            State::Getting(_) if self.got_all => "dallying",
            State::Getting(_) => "receiving blocks",
            State::Putting(_) => "sending blocks",
            State::Finished => "finished",
        }
    }

    fn is_done(&self) -> bool {
        matches!(self.state, State::Finished)
    }
}

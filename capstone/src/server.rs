//! The KV/1 server machine: it reads request lines and keeps the answers
//! in order. It holds no data: every question goes out as an [`Event`] and
//! comes back as a [`Command`], so whoever hosts it decides where the keys
//! live (a map shared by every connection, natively; one per simulated host).

use crate::wire::{self, BadLine, MAX_LINE, Request, Response};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use wirekit_core::outbox::Outbox;
use wirekit_core::wire::line::{LineBuffer, LineTooLong};
use wirekit_core::{Input, Instant, Machine, Now, PeerId, Transmit};

/// Answers a server owes or holds unsent at most: a client that pipelines
/// more than this before it reads is cut off here (`ERR` and a close)
/// rather than grow our memory. The client keeps to it:
/// [`crate::client::MAX_OUTSTANDING`] is the same number.
pub const MAX_PENDING: usize = 64;

// ANCHOR: events
/// A question for the application, or a peer's mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Answer this with [`Command::Answer`], in the order asked.
    Asked(Query),
    /// The peer broke the protocol; the server said `ERR` and closes.
    Protocol(Trouble),
}

/// A request that needs the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// Store `value` under `key`.
    Set { key: String, value: String },
    /// Look `key` up.
    Get { key: String },
    /// Forget `key`.
    Del { key: String },
}

// ANCHOR_END: events

impl Query {
    /// The query a request makes, if it needs the store (QUIT does not).
    pub fn of(request: Request) -> Option<Query> {
        match request {
            Request::Set { key, value } => Some(Query::Set { key, value }),
            Request::Get { key } => Some(Query::Get { key }),
            Request::Del { key } => Some(Query::Del { key }),
            Request::Quit => None,
        }
    }
}

/// What the application tells the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// The answer to the oldest unanswered [`Event::Asked`].
    Answer(Response),
}

/// How a peer broke the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// A line that is no request.
    Bad(BadLine),
    /// A line past [`MAX_LINE`].
    TooLong(LineTooLong),
    /// More than [`MAX_PENDING`] requests waiting.
    NotReading,
}

/// The application answered a question that was never asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unasked;

/// One reply's place in the output order.
#[derive(Debug)]
enum Slot {
    /// Asked, not answered yet.
    Waiting,
    /// Ready to go.
    Ready(Bytes),
}

/// A KV/1 server for one connection.
#[derive(Debug)]
pub struct Server {
    lines: LineBuffer,
    slots: VecDeque<Slot>,
    out: Outbox,
    events: VecDeque<Event>,
    /// No more requests will be read (QUIT, an error, or the peer's EOF).
    closing: bool,
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl Server {
    /// A server for a connection just accepted.
    pub fn new() -> Self {
        Server {
            lines: LineBuffer::new(MAX_LINE),
            slots: VecDeque::new(),
            out: Outbox::default(),
            events: VecDeque::new(),
            closing: false,
        }
    }

    fn ready(&mut self, response: &Response) {
        let mut buf = BytesMut::new();
        wire::encode_response(response, &mut buf);
        self.slots.push_back(Slot::Ready(buf.freeze()));
    }

    // ANCHOR: refuse
    /// Says `ERR` (after every answer still owed) and stops reading.
    fn refuse(&mut self, trouble: Trouble) {
        let why = match &trouble {
            Trouble::Bad(b) => b.to_string(),
            Trouble::TooLong(_) => String::from("line too long"),
            Trouble::NotReading => String::from("too many requests unread"),
        };
        self.ready(&Response::Err(why));
        self.events.push_back(Event::Protocol(trouble));
        self.closing = true;
    }
    // ANCHOR_END: refuse

    // ANCHOR: on_line
    fn on_line(&mut self, line: &[u8]) {
        if self.slots.len() + self.out.len() >= MAX_PENDING {
            return self.refuse(Trouble::NotReading);
        }
        let query = match wire::parse_request(line).map(Query::of) {
            Ok(Some(query)) => query,
            Ok(None) => {
                // QUIT: the last answer.
                self.ready(&Response::Bye);
                self.closing = true;
                return;
            }
            Err(bad) => return self.refuse(Trouble::Bad(bad)),
        };
        self.slots.push_back(Slot::Waiting);
        self.events.push_back(Event::Asked(query));
    }
    // ANCHOR_END: on_line

    /// Moves answered replies, oldest first, to the output queue.
    fn release(&mut self) {
        while let Some(Slot::Ready(_)) = self.slots.front() {
            if let Some(Slot::Ready(bytes)) = self.slots.pop_front() {
                self.out.push(PeerId::FIRST, bytes);
            }
        }
    }
}

impl Machine for Server {
    type Command = Command;
    type Event = Event;
    type Error = Unasked;

    // ANCHOR: handle_input
    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Unasked> {
        let Input::Data { mut bytes, .. } = input else {
            if let Input::Eof { .. } = input {
                self.closing = true;
            }
            return Ok(());
        };
        while !bytes.is_empty() && !self.closing {
            match self.lines.take_line(bytes) {
                Ok((used, line)) => {
                    bytes = &bytes[used..];
                    if let Some(line) = line {
                        self.on_line(&line);
                    }
                }
                Err(too_long) => self.refuse(Trouble::TooLong(too_long)),
            }
        }
        self.release();
        Ok(())
    }
    // ANCHOR_END: handle_input

    fn handle_command(&mut self, _now: Now, cmd: Command) -> Result<(), Unasked> {
        let Command::Answer(response) = cmd;
        let slot = self
            .slots
            .iter_mut()
            .find(|s| matches!(s, Slot::Waiting))
            .ok_or(Unasked)?;
        let mut buf = BytesMut::new();
        wire::encode_response(&response, &mut buf);
        *slot = Slot::Ready(buf.freeze());
        self.release();
        Ok(())
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_done(&self) -> bool {
        self.closing && self.slots.is_empty() && self.out.is_empty()
    }

    fn phase(&self) -> &'static str {
        match (self.closing, self.slots.is_empty()) {
            (false, true) => "reading",
            (false, false) => "answering",
            (true, false) => "closing",
            (true, true) => "done",
        }
    }
}

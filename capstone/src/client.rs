//! The KV/1 client machine: requests in as commands, responses out as
//! events, matched to their requests by order alone (a server answers in
//! the order it was asked, so the client may send many before the first
//! answer comes: pipelining).

use crate::wire::{self, BadLine, MAX_LINE, Request, Response};
use bytes::BytesMut;
use std::collections::VecDeque;
use wirekit_core::outbox::Outbox;
use wirekit_core::wire::line::{LineBuffer, LineTooLong};
use wirekit_core::{Input, Instant, Machine, Now, PeerId, Transmit};

/// Requests sent and not yet answered at most: what a server holds
/// ([`crate::server::MAX_PENDING`]).
pub const MAX_OUTSTANDING: usize = crate::server::MAX_PENDING;

/// What the client learns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The answer to `request`.
    Answered {
        /// What was asked.
        request: Request,
        /// What the server said.
        response: Response,
    },
    /// The server broke the protocol; the client stops.
    Protocol(String),
    /// The connection ended; `unanswered` requests never got a reply.
    Closed {
        /// Requests left without an answer.
        unanswered: usize,
    },
}

/// A request the client cannot send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Misuse {
    /// A field breaks the protocol's rules.
    Invalid(BadLine),
    /// More than [`MAX_OUTSTANDING`] requests wait for answers.
    TooMany,
    /// The session is over (QUIT was sent, or the connection ended).
    Finished,
}

/// A KV/1 client on one connection.
#[derive(Debug)]
pub struct Client {
    lines: LineBuffer,
    asked: VecDeque<Request>,
    out: Outbox,
    events: VecDeque<Event>,
    quit_sent: bool,
    done: bool,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    /// A client for a fresh connection.
    pub fn new() -> Self {
        Client {
            lines: LineBuffer::new(MAX_LINE),
            asked: VecDeque::new(),
            out: Outbox::default(),
            events: VecDeque::new(),
            quit_sent: false,
            done: false,
        }
    }

    fn stop(&mut self, event: Event) {
        self.events.push_back(event);
        self.done = true;
    }

    // ANCHOR: on_line
    fn on_line(&mut self, line: &[u8]) {
        let response = match wire::parse_response(line) {
            Ok(r) => r,
            Err(bad) => return self.stop(Event::Protocol(format!("{bad}: {line:?}"))),
        };
        let Some(request) = self.asked.pop_front() else {
            return self.stop(Event::Protocol(String::from("an answer nobody asked for")));
        };
        let last = matches!(response, Response::Bye | Response::Err(_));
        self.events.push_back(Event::Answered { request, response });
        if last {
            let unanswered = self.asked.len();
            self.stop(Event::Closed { unanswered });
        }
    }
    // ANCHOR_END: on_line
}

impl Machine for Client {
    type Command = Request;
    type Event = Event;
    type Error = Misuse;

    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Misuse> {
        let mut bytes = match input {
            Input::Data { bytes, .. } => bytes,
            Input::Eof { .. } if !self.done => {
                let unanswered = self.asked.len();
                self.stop(Event::Closed { unanswered });
                return Ok(());
            }
            _ => return Ok(()),
        };
        while !bytes.is_empty() && !self.done {
            match self.lines.take_line(bytes) {
                Ok((used, line)) => {
                    bytes = &bytes[used..];
                    if let Some(line) = line {
                        self.on_line(&line);
                    }
                }
                Err(LineTooLong { limit }) => {
                    self.stop(Event::Protocol(format!("a line past {limit} bytes")));
                }
            }
        }
        Ok(())
    }

    // ANCHOR: send
    fn handle_command(&mut self, _now: Now, request: Request) -> Result<(), Misuse> {
        if self.done || self.quit_sent {
            return Err(Misuse::Finished);
        }
        if self.asked.len() >= MAX_OUTSTANDING {
            return Err(Misuse::TooMany);
        }
        request.check().map_err(Misuse::Invalid)?;
        let mut buf = BytesMut::new();
        wire::encode_request(&request, &mut buf);
        self.out.push(PeerId::FIRST, buf.freeze());
        self.quit_sent = request == Request::Quit;
        self.asked.push_back(request);
        Ok(())
    }
    // ANCHOR_END: send

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
        self.done && self.out.is_empty()
    }
}

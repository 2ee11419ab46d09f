//! Echo (RFC 862) and the classic tutorials' variants, as machines.
//!
//! | machine | transport | what it does |
//! |---|---|---|
//! | [`StreamServer`] | stream | echoes bytes ([`StreamMode::Plain`]) or runs the hello dialogue |
//! | [`DatagramServer`] | datagrams | answers each datagram: echo, ack or hello |
//! | [`StreamClient`] | stream | sends bytes and checks they come back unchanged |
//! | [`HelloClient`] | stream | the hello dialogue from the client's side |
//! | [`UdpClient`] | datagrams | one request at a time, retried with backoff |
//!
//! A stream server is made when the driver accepts a connection, so it can
//! queue its greeting at once: there is no "connection opened" input. Wire
//! formats are in [`crate::wire::echo`].

use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::outbox::Outbox;
use crate::request::{Answer, Reply, RequestEvent, Requester, Server};
use crate::time::{Instant, Now};
use crate::wire::echo::{
    EXIT, GREETING, MAX_DATAGRAM, MAX_LINE, ack, encode_line, hello_reply, parse_hello_reply,
};
use crate::wire::line::LineBuffer;
use alloc::collections::VecDeque;
use alloc::string::String;
use bytes::{Bytes, BytesMut};
use core::convert::Infallible;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Bytes a stream server holds for a peer that is not reading its echo.
/// Past this the peer is cut off: an echo server must not buffer without end.
pub const MAX_PENDING: usize = 256 * 1024;

pub use crate::outbox::MAX_QUEUED;

/// Bytes a [`StreamClient`] has sent and not yet seen come back.
pub const MAX_IN_FLIGHT: usize = 1024 * 1024;

/// What a stream echo server does with the bytes it gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamMode {
    /// RFC 862: every byte back, unchanged.
    #[default]
    Plain,
    /// The classic tutorials' dialogue: `Welcome!`, then `Hello, <line>!` per line, `exit` closes.
    Hello,
}

/// What a datagram echo server answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatagramMode {
    /// RFC 862: the datagram itself.
    #[default]
    Plain,
    /// `Your data was N bytes`.
    Ack,
    /// `Hello, <datagram>!`.
    Hello,
}

/// A peer broke the protocol or a limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolError {
    /// A hello line longer than [`MAX_LINE`].
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// The peer sent more than [`MAX_PENDING`] bytes without reading the echo.
    NotReading {
        /// The limit.
        limit: usize,
    },
    /// Bytes came back that were not the ones sent, at this offset.
    Mismatch {
        /// Offset of the first wrong byte in the stream.
        offset: u64,
    },
    /// More bytes came back than were sent.
    Unsolicited {
        /// How many extra bytes.
        extra: usize,
    },
    /// The server closed before everything came back.
    Truncated {
        /// Bytes sent.
        sent: u64,
        /// Bytes that came back.
        echoed: u64,
    },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::LineTooLong { limit } => write!(f, "line longer than {limit} bytes"),
            ProtocolError::NotReading { limit } => {
                write!(f, "peer sent {limit} bytes without reading the echo")
            }
            ProtocolError::Mismatch { offset } => {
                write!(f, "echo differs from what was sent at byte {offset}")
            }
            ProtocolError::Unsolicited { extra } => {
                write!(f, "{extra} bytes came back that were never sent")
            }
            ProtocolError::Truncated { sent, echoed } => {
                write!(f, "closed after echoing {echoed} of {sent} bytes")
            }
        }
    }
}

impl core::error::Error for ProtocolError {}

/// A client was asked to do something it cannot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Misuse {
    /// More than [`MAX_IN_FLIGHT`] bytes would be waiting for their echo.
    InFlightFull {
        /// The limit.
        limit: usize,
    },
    /// A message after the client finished.
    Finished,
    /// A hello message with a line break, or longer than [`MAX_LINE`].
    BadLine,
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::InFlightFull { limit } => {
                write!(f, "more than {limit} bytes waiting for their echo")
            }
            Misuse::Finished => f.write_str("the client has finished"),
            Misuse::BadLine => write!(f, "a hello message is one line of at most {MAX_LINE} bytes"),
        }
    }
}

impl core::error::Error for Misuse {}

/// What an echo server reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerEvent {
    /// Bytes (a stream piece, a line or a datagram) were answered.
    Answered {
        /// Who sent them.
        from: PeerId,
        /// How many bytes came in.
        len: usize,
    },
    /// The hello peer said `exit`; the server closes.
    Exit,
    /// The peer closed its side; the server closes too.
    PeerClosed,
    /// The peer broke the protocol; a stream server closes.
    Protocol(ProtocolError),
}

fn line_bytes(line: &[u8]) -> Bytes {
    let mut out = BytesMut::new();
    encode_line(line, &mut out);
    out.freeze()
}

// ANCHOR: stream_server
/// An echo server for one stream connection.
#[derive(Debug)]
pub struct StreamServer {
    mode: StreamMode,
    lines: LineBuffer,
    out: Outbox,
    events: VecDeque<ServerEvent>,
    closed: bool,
}

impl StreamServer {
    /// A server for a connection just accepted. In hello mode the greeting
    /// is queued at once.
    pub fn new(mode: StreamMode) -> Self {
        let mut server = StreamServer {
            mode,
            lines: LineBuffer::new(MAX_LINE),
            out: Outbox::default(),
            events: VecDeque::new(),
            closed: false,
        };
        if mode == StreamMode::Hello {
            server.out.push(PeerId::FIRST, line_bytes(GREETING));
        }
        server
    }

    fn fail(&mut self, error: ProtocolError) {
        self.events.push_back(ServerEvent::Protocol(error));
        self.closed = true;
    }

    fn hello(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.closed {
            match self.lines.take_line(bytes) {
                Ok((used, line)) => {
                    bytes = bytes.get(used..).unwrap_or_default();
                    let Some(line) = line else { continue };
                    if line == EXIT {
                        self.events.push_back(ServerEvent::Exit);
                        self.closed = true;
                    } else {
                        let mut reply = BytesMut::new();
                        hello_reply(&line, &mut reply);
                        self.out.push(PeerId::FIRST, line_bytes(&reply));
                        self.events.push_back(ServerEvent::Answered {
                            from: PeerId::FIRST,
                            len: line.len(),
                        });
                    }
                }
                Err(e) => {
                    self.out
                        .push(PeerId::FIRST, line_bytes(b"Line too long, goodbye"));
                    self.fail(ProtocolError::LineTooLong { limit: e.limit });
                }
            }
        }
    }
}

impl Machine for StreamServer {
    type Command = Infallible;
    type Event = ServerEvent;
    type Error = Infallible;

    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Infallible> {
        if self.closed {
            return Ok(());
        }
        match input {
            Input::Data { bytes, .. } if self.mode == StreamMode::Plain => {
                if !self.out.has_room(bytes.len(), MAX_PENDING) {
                    self.fail(ProtocolError::NotReading { limit: MAX_PENDING });
                } else if !bytes.is_empty() {
                    self.out.push(PeerId::FIRST, Bytes::copy_from_slice(bytes));
                    self.events.push_back(ServerEvent::Answered {
                        from: PeerId::FIRST,
                        len: bytes.len(),
                    });
                }
            }
            Input::Data { bytes, .. } => {
                if !self.out.has_room(bytes.len(), MAX_PENDING) {
                    self.fail(ProtocolError::NotReading { limit: MAX_PENDING });
                } else {
                    self.hello(bytes);
                }
            }
            Input::Eof { .. } => {
                self.events.push_back(ServerEvent::PeerClosed);
                self.closed = true;
            }
            Input::Timeout => {}
        }
        Ok(())
    }

    fn handle_command(&mut self, _now: Now, cmd: Infallible) -> Result<(), Infallible> {
        match cmd {}
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_done(&self) -> bool {
        self.closed
    }
}
// ANCHOR_END: stream_server

// ANCHOR: datagram_server
/// What a datagram echo server answers, in each mode.
impl Answer for DatagramMode {
    fn answer(&self, _now: Now, bytes: &[u8]) -> Bytes {
        match self {
            DatagramMode::Plain => Bytes::copy_from_slice(bytes),
            DatagramMode::Ack => {
                let mut out = BytesMut::new();
                ack(bytes.len(), &mut out);
                out.freeze()
            }
            DatagramMode::Hello => {
                let mut out = BytesMut::new();
                // A reply must fit in one datagram: long messages are cut.
                let room = MAX_DATAGRAM - b"Hello, !".len();
                hello_reply(bytes.get(..room).unwrap_or(bytes), &mut out);
                out.freeze()
            }
        }
    }
}

/// An echo server for datagrams: the one datagram server, answering in a
/// [`DatagramMode`]. Make one with `DatagramServer::new(mode)`.
pub type DatagramServer = Server<DatagramMode>;
// ANCHOR_END: datagram_server

/// What a [`StreamClient`] is asked to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamCommand {
    /// Send these bytes and expect them back.
    Send(Bytes),
    /// Nothing more to send: finish once everything came back.
    Finish,
}

/// What a [`StreamClient`] reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamEvent {
    /// These bytes came back, matching what was sent.
    Echoed(Bytes),
    /// Everything sent came back; the client closes.
    Complete {
        /// Bytes sent and echoed.
        bytes: u64,
    },
    /// The server broke the protocol; the client closes.
    Protocol(ProtocolError),
}

/// An RFC 862 client over a stream that checks every byte comes back.
#[derive(Debug, Default)]
pub struct StreamClient {
    out: Outbox,
    unechoed: VecDeque<u8>,
    sent: u64,
    echoed: u64,
    finishing: bool,
    done: bool,
    events: VecDeque<StreamEvent>,
}

impl StreamClient {
    /// A client for a connection just opened.
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, e: ProtocolError) {
        self.events.push_back(StreamEvent::Protocol(e));
        self.done = true;
    }

    fn check_complete(&mut self) {
        if self.finishing && self.unechoed.is_empty() && !self.done {
            self.events
                .push_back(StreamEvent::Complete { bytes: self.echoed });
            self.done = true;
        }
    }
}

impl Machine for StreamClient {
    type Command = StreamCommand;
    type Event = StreamEvent;
    type Error = Misuse;

    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Misuse> {
        if self.done {
            return Ok(());
        }
        match input {
            Input::Data { bytes, .. } => {
                if bytes.len() > self.unechoed.len() {
                    self.fail(ProtocolError::Unsolicited {
                        extra: bytes.len() - self.unechoed.len(),
                    });
                    return Ok(());
                }
                if let Some(i) = bytes
                    .iter()
                    .zip(self.unechoed.iter())
                    .position(|(got, sent)| got != sent)
                {
                    self.fail(ProtocolError::Mismatch {
                        offset: self.echoed + i as u64,
                    });
                    return Ok(());
                }
                self.unechoed.drain(..bytes.len());
                self.echoed += bytes.len() as u64;
                if !bytes.is_empty() {
                    self.events
                        .push_back(StreamEvent::Echoed(Bytes::copy_from_slice(bytes)));
                }
                self.check_complete();
            }
            Input::Eof { .. } => {
                self.check_complete();
                if !self.done {
                    self.fail(ProtocolError::Truncated {
                        sent: self.sent,
                        echoed: self.echoed,
                    });
                }
            }
            Input::Timeout => {}
        }
        Ok(())
    }

    fn handle_command(&mut self, _now: Now, cmd: StreamCommand) -> Result<(), Misuse> {
        if self.finishing || self.done {
            return Err(Misuse::Finished);
        }
        match cmd {
            StreamCommand::Send(bytes) => {
                if self.unechoed.len() + bytes.len() > MAX_IN_FLIGHT {
                    return Err(Misuse::InFlightFull {
                        limit: MAX_IN_FLIGHT,
                    });
                }
                self.unechoed.extend(bytes.iter());
                self.sent += bytes.len() as u64;
                if !bytes.is_empty() {
                    self.out.push(PeerId::FIRST, bytes);
                }
            }
            StreamCommand::Finish => {
                self.finishing = true;
                self.check_complete();
            }
        }
        Ok(())
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<StreamEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

/// What a [`HelloClient`] is asked to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelloCommand {
    /// Send one line (without its line end).
    Say(String),
    /// Send `exit` and wait for the server to close.
    Exit,
}

/// What a [`HelloClient`] reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelloEvent {
    /// The server's first line (`Welcome!` from ours).
    Greeting(String),
    /// `Hello, <msg>!` came back: the message inside.
    Reply(String),
    /// Any other line.
    Line(String),
    /// The server closed the connection.
    Closed,
    /// The server broke the protocol; the client closes.
    Protocol(ProtocolError),
}

/// The client side of the hello dialogue.
#[derive(Debug)]
pub struct HelloClient {
    lines: LineBuffer,
    greeted: bool,
    out: Outbox,
    exiting: bool,
    done: bool,
    events: VecDeque<HelloEvent>,
}

impl Default for HelloClient {
    fn default() -> Self {
        HelloClient {
            lines: LineBuffer::new(MAX_LINE + b"Hello, !".len()),
            greeted: false,
            out: Outbox::default(),
            exiting: false,
            done: false,
            events: VecDeque::new(),
        }
    }
}

impl HelloClient {
    /// A client for a connection just opened.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Machine for HelloClient {
    type Command = HelloCommand;
    type Event = HelloEvent;
    type Error = Misuse;

    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Misuse> {
        if self.done {
            return Ok(());
        }
        match input {
            Input::Data { mut bytes, .. } => {
                while !bytes.is_empty() && !self.done {
                    match self.lines.take_line(bytes) {
                        Ok((used, line)) => {
                            bytes = bytes.get(used..).unwrap_or_default();
                            let Some(line) = line else { continue };
                            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                            let event = if !self.greeted {
                                self.greeted = true;
                                HelloEvent::Greeting(text(&line))
                            } else if let Some(msg) = parse_hello_reply(&line) {
                                HelloEvent::Reply(text(msg))
                            } else {
                                HelloEvent::Line(text(&line))
                            };
                            self.events.push_back(event);
                        }
                        Err(e) => {
                            self.events.push_back(HelloEvent::Protocol(
                                ProtocolError::LineTooLong { limit: e.limit },
                            ));
                            self.done = true;
                        }
                    }
                }
            }
            Input::Eof { .. } => {
                self.events.push_back(HelloEvent::Closed);
                self.done = true;
            }
            Input::Timeout => {}
        }
        Ok(())
    }

    fn handle_command(&mut self, _now: Now, cmd: HelloCommand) -> Result<(), Misuse> {
        if self.exiting || self.done {
            return Err(Misuse::Finished);
        }
        match cmd {
            HelloCommand::Say(line) => {
                if line.len() > MAX_LINE || line.contains(['\r', '\n']) {
                    return Err(Misuse::BadLine);
                }
                self.out.push(PeerId::FIRST, line_bytes(line.as_bytes()));
            }
            HelloCommand::Exit => {
                self.exiting = true;
                self.out.push(PeerId::FIRST, line_bytes(EXIT));
            }
        }
        Ok(())
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<HelloEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

// ANCHOR: udp_client
/// Reads an echo reply: the bytes themselves, whatever they are (comparing
/// them with the request is the application's business).
#[derive(Clone, Copy, Debug, Default)]
pub struct Echoed;

impl Reply for Echoed {
    type Value = Bytes;
    fn read(&self, datagram: &[u8]) -> Bytes {
        Bytes::copy_from_slice(datagram)
    }
}

/// The datagram echo client: the one request client, reading replies as
/// bytes. Make one with `UdpClient::new(Echoed, config, seed)`.
pub type UdpClient = Requester<Echoed>;

/// What a [`UdpClient`] reports.
pub type UdpEvent = RequestEvent<Bytes>;
// ANCHOR_END: udp_client

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pair::StreamPair;
    use alloc::vec::Vec;

    fn now() -> Now {
        Now::mono(Instant::ZERO)
    }

    #[test]
    fn hello_dialogue() {
        let mut pair = StreamPair::new(
            HelloClient::new(),
            StreamServer::new(StreamMode::Hello),
            now(),
        );
        pair.client
            .handle_command(now(), HelloCommand::Say("world".into()))
            .unwrap();
        pair.client
            .handle_command(now(), HelloCommand::Exit)
            .unwrap();
        pair.drain_both();
        assert!(pair.settle(&mut || 3, 1000).unwrap());
        assert_eq!(
            pair.client_events,
            [
                HelloEvent::Greeting("Welcome!".into()),
                HelloEvent::Reply("world".into()),
                HelloEvent::Closed
            ]
        );
        assert!(pair.server_events.contains(&ServerEvent::Exit));
    }

    #[test]
    fn plain_stream_echo_completes() {
        let mut pair = StreamPair::new(
            StreamClient::new(),
            StreamServer::new(StreamMode::Plain),
            now(),
        );
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        pair.client
            .handle_command(now(), StreamCommand::Send(data.clone().into()))
            .unwrap();
        pair.client
            .handle_command(now(), StreamCommand::Finish)
            .unwrap();
        pair.drain_both();
        assert!(pair.settle(&mut || 97, 1000).unwrap());
        assert_eq!(
            pair.client_events.last(),
            Some(&StreamEvent::Complete { bytes: 5000 })
        );
        assert_eq!(pair.server_events.last(), Some(&ServerEvent::PeerClosed));
    }

    #[test]
    fn a_wrong_echo_is_caught() {
        let mut c = StreamClient::new();
        c.handle_command(now(), StreamCommand::Send(Bytes::from_static(b"abc")))
            .unwrap();
        c.handle_input(
            now(),
            Input::Data {
                from: PeerId::FIRST,
                bytes: b"abX",
            },
        )
        .unwrap();
        assert_eq!(
            c.poll_event(),
            Some(StreamEvent::Protocol(ProtocolError::Mismatch { offset: 2 }))
        );
        assert!(c.is_done());
    }

    #[test]
    fn backoff_schedule_then_server_down() {
        let mut c = UdpClient::new(Echoed, crate::retry::BackoffConfig::default(), 0).unwrap();
        let mut t = now();
        c.handle_command(t, Bytes::from_static(b"ping")).unwrap();
        assert_eq!(
            c.poll_transmit().map(|t| t.payload),
            Some(Bytes::from_static(b"ping"))
        );
        let mut waits = Vec::new();
        let mut sends = 1;
        while let Some(deadline) = c.poll_timeout() {
            waits.push((deadline - t.mono).as_millis());
            t = Now::mono(deadline);
            c.handle_input(t, Input::Timeout).unwrap();
            while c.poll_transmit().is_some() {
                sends += 1;
            }
        }
        assert_eq!(waits, [100, 200, 400, 800, 1600]);
        assert_eq!(sends, 5);
        let events: Vec<_> = core::iter::from_fn(|| c.poll_event()).collect();
        assert_eq!(events.last(), Some(&UdpEvent::ServerDown { attempts: 5 }));
    }
}

//! Timestamp protocols as machines: RFC 867 daytime, RFC 868 time, and the
//! classic tutorials' stamped echo.
//!
//! | machine | transport | what it does |
//! |---|---|---|
//! | [`StreamServer`] | stream | daytime or time: one reply, then close; stamp: `[ctime] : line` per line |
//! | [`DatagramServer`] | datagrams | a reply to every datagram |
//! | [`StreamClient`] | stream | reads the reply until the server closes |
//! | [`DatagramClient`] | datagrams | asks, retrying with backoff |
//! | [`StampClient`] | stream | sends lines, reads their stamps |
//!
//! The wall clock is an input like any other: servers read `now.wall`, so a
//! test (or the simulator) can serve any date, 2036's wrap included.

use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::outbox::Outbox;
use crate::request::{Answer, Reply, RequestEvent, Requester, Server};
use crate::time::{Instant, Now, UnixTime};
use crate::wire::line::LineBuffer;
use crate::wire::timestamp::{
    Daytime, MAX_DAYTIME, MAX_STAMP_LINE, TIME_LEN, encode_daytime, encode_stamp, encode_time,
    parse_daytime, parse_stamp, time_value, unix_from_time_value,
};
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};
use core::convert::Infallible;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Which timestamp service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Service {
    /// RFC 867: the time as a line of text.
    Daytime,
    /// RFC 868: the time as a 32-bit count of seconds since 1900.
    Time,
    /// The classic tutorials' stamped echo: `[ctime] : data`.
    Stamp,
}

/// A server broke the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolError {
    /// The reply was longer than the limit.
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// The connection closed before a whole reply arrived.
    Truncated {
        /// Bytes received.
        got: usize,
    },
    /// A stamped echo that did not parse.
    NotAStamp(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::TooLong { limit } => write!(f, "reply longer than {limit} bytes"),
            ProtocolError::Truncated { got } => {
                write!(f, "connection closed after {got} bytes of the reply")
            }
            ProtocolError::NotAStamp(line) => write!(f, "not a stamped echo: {line:?}"),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// A client was asked to do something it cannot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Misuse {
    /// A stamp line with a line break or over [`MAX_STAMP_LINE`] bytes.
    BadLine,
    /// A command after the client finished.
    Finished,
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Misuse::BadLine => "a stamp line is one line of limited length",
            Misuse::Finished => "the client has finished",
        })
    }
}

impl core::error::Error for Misuse {}

/// What a timestamp server reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerEvent {
    /// A reply was queued for this peer.
    Answered {
        /// Who asked.
        from: PeerId,
    },
    /// A stamp line over [`MAX_STAMP_LINE`]; the server closes.
    LineTooLong,
}

fn reply(service: Service, wall: UnixTime, data: &[u8]) -> Bytes {
    let mut out = BytesMut::new();
    match service {
        Service::Daytime => encode_daytime(wall.secs(), &mut out),
        Service::Time => encode_time(time_value(wall.secs()), &mut out),
        Service::Stamp => encode_stamp(wall.secs(), data, &mut out),
    }
    out.freeze()
}

// ANCHOR: stream_server
/// A timestamp server for one stream connection.
#[derive(Debug)]
pub struct StreamServer {
    service: Service,
    lines: LineBuffer,
    out: Outbox,
    events: VecDeque<ServerEvent>,
    closed: bool,
}

impl StreamServer {
    /// A server for a connection accepted at `now`. Daytime and time queue
    /// their one reply at once and are done: the driver sends it and closes.
    pub fn new(service: Service, now: Now) -> Self {
        let mut server = StreamServer {
            service,
            lines: LineBuffer::new(MAX_STAMP_LINE),
            out: Outbox::default(),
            events: VecDeque::new(),
            closed: false,
        };
        if service != Service::Stamp {
            server
                .out
                .push(PeerId::FIRST, reply(service, now.wall, &[]));
            server.events.push_back(ServerEvent::Answered {
                from: PeerId::FIRST,
            });
            server.closed = true;
        }
        server
    }

    /// The service this connection gets.
    pub fn service(&self) -> Service {
        self.service
    }
}
// ANCHOR_END: stream_server

impl Machine for StreamServer {
    type Command = Infallible;
    type Event = ServerEvent;
    type Error = Infallible;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Infallible> {
        if self.closed {
            return Ok(());
        }
        match input {
            Input::Data { mut bytes, .. } => {
                while !bytes.is_empty() && !self.closed {
                    match self.lines.take_line(bytes) {
                        Ok((used, line)) => {
                            bytes = bytes.get(used..).unwrap_or_default();
                            let Some(line) = line else { continue };
                            let mut payload = BytesMut::new();
                            encode_stamp(now.wall.secs(), &line, &mut payload);
                            payload.extend_from_slice(b"\r\n");
                            self.out.push(PeerId::FIRST, payload.freeze());
                            self.events.push_back(ServerEvent::Answered {
                                from: PeerId::FIRST,
                            });
                        }
                        Err(_) => {
                            self.events.push_back(ServerEvent::LineTooLong);
                            self.closed = true;
                        }
                    }
                }
            }
            Input::Eof { .. } => self.closed = true,
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

/// What a timestamp server for datagrams answers: the time (stamp: the
/// datagram back, stamped).
impl Answer for Service {
    fn answer(&self, now: Now, bytes: &[u8]) -> Bytes {
        // A stamp must fit one datagram: long data is cut.
        let room = crate::wire::echo::MAX_DATAGRAM - 40;
        reply(*self, now.wall, bytes.get(..room).unwrap_or(bytes))
    }
}

/// A timestamp server for datagrams: the one datagram server, answering
/// by service. Make one with `DatagramServer::new(service)`.
pub type DatagramServer = Server<Service>;

/// What a time or daytime client learns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientEvent {
    /// RFC 868: the server's time.
    Time(UnixTime),
    /// RFC 867: the server's line, parsed when we know its layout.
    Daytime(Daytime),
    /// The stamped echo: a line came back with the server's time (over
    /// datagrams; the stream client reports [`StampEvent::Stamped`]).
    Stamped {
        /// The server's clock, to the second.
        time: UnixTime,
        /// The line.
        data: String,
    },
    /// The server broke the protocol.
    Protocol(ProtocolError),
}

fn daytime_line(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let line = bytes.get(..end).unwrap_or(bytes);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A daytime or time client over a stream: the server speaks first and
/// closes, so the client only reads.
#[derive(Debug)]
pub struct StreamClient {
    service: Service,
    got: Vec<u8>,
    events: VecDeque<ClientEvent>,
    done: bool,
}

impl StreamClient {
    /// A client of `Service::Daytime` or `Service::Time`, for a connection just
    /// opened. For the stamp service use [`StampClient`].
    pub fn new(service: Service) -> Self {
        StreamClient {
            service,
            got: Vec::new(),
            events: VecDeque::new(),
            done: false,
        }
    }

    fn finish(&mut self, event: ClientEvent) {
        self.events.push_back(event);
        self.done = true;
    }
}

impl Machine for StreamClient {
    type Command = Infallible;
    type Event = ClientEvent;
    type Error = Infallible;

    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Infallible> {
        if self.done {
            return Ok(());
        }
        let limit = match self.service {
            Service::Time => TIME_LEN,
            _ => MAX_DAYTIME,
        };
        match input {
            Input::Data { bytes, .. } => {
                if self.got.len() + bytes.len() > limit {
                    self.finish(ClientEvent::Protocol(ProtocolError::TooLong { limit }));
                } else {
                    self.got.extend_from_slice(bytes);
                }
            }
            Input::Eof { .. } => match self.service {
                Service::Time => match <[u8; TIME_LEN]>::try_from(&self.got[..]) {
                    Ok(four) => {
                        let secs = unix_from_time_value(u32::from_be_bytes(four));
                        self.finish(ClientEvent::Time(UnixTime::from_secs(secs)));
                    }
                    Err(_) => {
                        let got = self.got.len();
                        self.finish(ClientEvent::Protocol(ProtocolError::Truncated { got }));
                    }
                },
                _ => {
                    let daytime = parse_daytime(daytime_line(&self.got));
                    self.finish(ClientEvent::Daytime(daytime));
                }
            },
            Input::Timeout => {}
        }
        Ok(())
    }

    fn handle_command(&mut self, _now: Now, cmd: Infallible) -> Result<(), Infallible> {
        match cmd {}
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        None
    }

    fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

// ANCHOR: datagram_client
/// Reads a timestamp reply datagram as its service defines it, so a service
/// is all the one request client needs to ask for the time (send an empty
/// datagram: the RFCs ignore its content) or a stamp (send the line).
impl Reply for Service {
    type Value = ClientEvent;
    fn read(&self, bytes: &[u8]) -> ClientEvent {
        match self {
            Service::Time => match <[u8; TIME_LEN]>::try_from(bytes) {
                Ok(four) => ClientEvent::Time(UnixTime::from_secs(unix_from_time_value(
                    u32::from_be_bytes(four),
                ))),
                Err(_) if bytes.len() < TIME_LEN => {
                    ClientEvent::Protocol(ProtocolError::Truncated { got: bytes.len() })
                }
                Err(_) => ClientEvent::Protocol(ProtocolError::TooLong { limit: TIME_LEN }),
            },
            Service::Stamp => {
                // The reply is one datagram: only its own line end is not data.
                let line = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                match parse_stamp(line) {
                    Some((time, data)) => ClientEvent::Stamped {
                        time,
                        data: String::from_utf8_lossy(data).into_owned(),
                    },
                    None => ClientEvent::Protocol(ProtocolError::NotAStamp(
                        String::from_utf8_lossy(line).into_owned(),
                    )),
                }
            }
            Service::Daytime if bytes.len() > MAX_DAYTIME => {
                ClientEvent::Protocol(ProtocolError::TooLong { limit: MAX_DAYTIME })
            }
            Service::Daytime => ClientEvent::Daytime(parse_daytime(daytime_line(bytes))),
        }
    }
}

/// A time, daytime or stamp client over datagrams: the one request client,
/// reading replies by service. Make one with
/// `DatagramClient::new(service, config, seed)`.
pub type DatagramClient = Requester<Service>;

/// What a [`DatagramClient`] reports.
pub type DatagramEvent = RequestEvent<ClientEvent>;
// ANCHOR_END: datagram_client

/// What a [`StampClient`] is asked to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StampCommand {
    /// Send one line (without its line end).
    Send(String),
    /// Nothing more to send: close once every line came back.
    Finish,
}

/// What a [`StampClient`] learns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StampEvent {
    /// A line came back with the server's time.
    Stamped {
        /// The server's clock, to the second.
        time: UnixTime,
        /// The line.
        data: String,
    },
    /// Every line came back; the client closes.
    Complete,
    /// The server closed early or broke the protocol.
    Protocol(ProtocolError),
}

/// The classic tutorials' stamped-echo client over a stream.
#[derive(Debug)]
pub struct StampClient {
    lines: LineBuffer,
    out: Outbox,
    waiting: usize,
    finishing: bool,
    done: bool,
    events: VecDeque<StampEvent>,
}

impl Default for StampClient {
    fn default() -> Self {
        StampClient {
            // The stamp adds `[` ctime `] : ` (at most ~40 bytes) to a line.
            lines: LineBuffer::new(MAX_STAMP_LINE + 64),
            out: Outbox::default(),
            waiting: 0,
            finishing: false,
            done: false,
            events: VecDeque::new(),
        }
    }
}

impl StampClient {
    /// A client for a connection just opened.
    pub fn new() -> Self {
        Self::default()
    }

    fn check_complete(&mut self) {
        if self.finishing && self.waiting == 0 && !self.done {
            self.events.push_back(StampEvent::Complete);
            self.done = true;
        }
    }

    fn fail(&mut self, e: ProtocolError) {
        self.events.push_back(StampEvent::Protocol(e));
        self.done = true;
    }
}

impl Machine for StampClient {
    type Command = StampCommand;
    type Event = StampEvent;
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
                            match parse_stamp(&line) {
                                Some((time, data)) => {
                                    self.waiting = self.waiting.saturating_sub(1);
                                    self.events.push_back(StampEvent::Stamped {
                                        time,
                                        data: String::from_utf8_lossy(data).into_owned(),
                                    });
                                    self.check_complete();
                                }
                                None => self.fail(ProtocolError::NotAStamp(
                                    String::from_utf8_lossy(&line).into_owned(),
                                )),
                            }
                        }
                        Err(e) => self.fail(ProtocolError::TooLong { limit: e.limit }),
                    }
                }
            }
            Input::Eof { .. } => {
                self.check_complete();
                if !self.done {
                    self.fail(ProtocolError::Truncated { got: 0 });
                }
            }
            Input::Timeout => {}
        }
        Ok(())
    }

    fn handle_command(&mut self, _now: Now, cmd: StampCommand) -> Result<(), Misuse> {
        if self.finishing || self.done {
            return Err(Misuse::Finished);
        }
        match cmd {
            StampCommand::Send(line) => {
                if line.len() > MAX_STAMP_LINE || line.contains(['\r', '\n']) {
                    return Err(Misuse::BadLine);
                }
                let mut payload = BytesMut::from(line.as_bytes());
                payload.extend_from_slice(b"\r\n");
                self.out.push(PeerId::FIRST, payload.freeze());
                self.waiting += 1;
            }
            StampCommand::Finish => {
                self.finishing = true;
                self.check_complete();
            }
        }
        Ok(())
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }

    fn poll_event(&mut self) -> Option<StampEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DateTime;
    use crate::pair::StreamPair;
    use core::time::Duration;

    fn at(secs: i64) -> Now {
        Now::new(Instant::ZERO, UnixTime::from_secs(secs))
    }

    fn wrap() -> i64 {
        DateTime::new(2036, 2, 7, 6, 28, 16)
            .unwrap()
            .to_unix()
            .unwrap()
    }

    #[test]
    fn time_over_a_stream_across_the_wrap() {
        for secs in [0, wrap() - 1, wrap(), wrap() + 86_400 * 365] {
            let now = at(secs);
            let mut pair = StreamPair::new(
                StreamClient::new(Service::Time),
                StreamServer::new(Service::Time, now),
                now,
            );
            assert!(pair.settle(&mut || 1, 100).unwrap());
            assert_eq!(
                pair.client_events,
                [ClientEvent::Time(UnixTime::from_secs(secs))]
            );
        }
    }

    #[test]
    fn daytime_over_a_stream() {
        let secs = 1_795_343_443; // 2026-11-22 10:30:43 UTC
        let now = at(secs);
        let mut pair = StreamPair::new(
            StreamClient::new(Service::Daytime),
            StreamServer::new(Service::Daytime, now),
            now,
        );
        assert!(pair.settle(&mut || 5, 100).unwrap());
        match &pair.client_events[..] {
            [ClientEvent::Daytime(Daytime::Parsed { time, text })] => {
                assert_eq!(time.secs(), secs);
                assert_eq!(text, "Sunday, November 22, 2026 10:30:43-UTC");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stamped_lines() {
        let now = at(1_795_343_443);
        let mut pair = StreamPair::new(
            StampClient::new(),
            StreamServer::new(Service::Stamp, now),
            now,
        );
        pair.client
            .handle_command(now, StampCommand::Send("hi".into()))
            .unwrap();
        pair.client
            .handle_command(now, StampCommand::Finish)
            .unwrap();
        pair.drain_both();
        assert!(pair.settle(&mut || 4, 100).unwrap());
        assert_eq!(
            pair.client_events,
            [
                StampEvent::Stamped {
                    time: UnixTime::from_secs(1_795_343_443),
                    data: "hi".into()
                },
                StampEvent::Complete
            ]
        );
    }

    #[test]
    fn datagram_time_with_a_lost_request() {
        let mut client =
            DatagramClient::new(Service::Time, crate::retry::BackoffConfig::default(), 0).unwrap();
        let mut server = DatagramServer::new(Service::Time);
        let t0 = at(wrap() + 5);
        client.handle_command(t0, Bytes::new()).unwrap();
        assert!(client.poll_transmit().is_some(), "first request, lost");
        let t1 = Now::new(client.poll_timeout().unwrap(), t0.wall);
        client.handle_input(t1, Input::Timeout).unwrap();
        let again = client.poll_transmit().unwrap();
        server
            .handle_input(
                t1,
                Input::Data {
                    from: PeerId(9),
                    bytes: &again.payload,
                },
            )
            .unwrap();
        let answer = server.poll_transmit().unwrap();
        assert_eq!(answer.to, PeerId(9));
        client
            .handle_input(
                t1,
                Input::Data {
                    from: PeerId::FIRST,
                    bytes: &answer.payload,
                },
            )
            .unwrap();
        let events: Vec<_> = core::iter::from_fn(|| client.poll_event()).collect();
        assert_eq!(
            events,
            [
                DatagramEvent::Retrying {
                    attempt: 2,
                    wait: Duration::from_millis(200)
                },
                DatagramEvent::Reply {
                    value: ClientEvent::Time(UnixTime::from_secs(wrap() + 5)),
                    attempts: 2
                }
            ]
        );
        assert_eq!(client.poll_timeout(), None);
    }
}

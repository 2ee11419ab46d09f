//! The WKFT/1 client: one session, one request at a time.
//!
//! The application asks with a [`Command`] (`List`, `Stat`, `Get`, `Put`,
//! `Delete`, `Quit`); the machine sends `HELLO` on its own at birth — asking
//! for WKFT/1.1 and falling back to 1.0 when the server speaks only that —
//! and reports [`Event::Ready`] once the server answered. File bytes cross the boundary
//! the same way as on the server: the machine asks for local chunks
//! ([`Event::ReadPrefix`], [`Event::ReadChunk`]) and hands received ones over
//! ([`Event::WriteChunk`]).

use super::flow::{Inbox, Reader, Taken, output_room};
use super::{Misuse, ProtocolError};
use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::outbox::Outbox;
use crate::time::{Instant, Now};
use crate::wire::transfer::{
    self, Digest, Entry, ErrorCode, MAX_FILE_SIZE, Reply, Request, Stat, VERSION, VERSION_1_1,
    Version,
};
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};
use core::fmt;
use serde::{Deserialize, Serialize};

// ANCHOR: client_command
/// What the application asks of the client machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// List a directory (the root for `None`). Ends in [`Event::Listing`].
    List { path: Option<String> },
    /// Look at a path. Ends in [`Event::Status`].
    Stat { path: String },
    /// Download `path`. `offset > 0` resumes: the local file holds the first
    /// `offset` bytes, which the machine reads back ([`Event::ReadPrefix`])
    /// to hash them. With a `version` (from the [`Event::Download`] that
    /// began the kept bytes; WKFT/1.1) the server refuses a file that
    /// changed since with [`ErrorCode::Changed`] before sending anything.
    /// Ends in [`Event::Done`] or [`Event::Failed`].
    Get {
        path: String,
        offset: u64,
        version: Option<Version>,
    },
    /// Upload a local file of `size` bytes as `path`, sending from `offset`
    /// (a resume; learn it with `Stat`, which reports the server's partial).
    /// The machine reads the local file from byte 0 ([`Event::ReadChunk`]).
    /// Ends in [`Event::Done`] or [`Event::Failed`].
    Put {
        path: String,
        size: u64,
        offset: u64,
        /// Take the place of a complete file of that name once verified
        /// (WKFT/1.1; a 1.0 server cannot, and the request fails unsent).
        replace: bool,
        /// With `offset == 0`, discard a partial of that name the server
        /// keeps (WKFT/1.1 refuses to, otherwise; a 1.0 server always does).
        restart: bool,
    },
    /// Remove a file, or a partial of that name (WKFT/1.1). Ends in
    /// [`Event::Deleted`] or [`Event::Failed`].
    Delete { path: String },
    /// Stop the `Get` in flight (WKFT/1.1's `CANCEL`): it ends in
    /// [`Event::Failed`] with [`Failure::Cancelled`], or, if its last bytes
    /// were already on their way, as usual; the session stays usable either
    /// way. Nothing happens when no `Get` is in flight, or in a WKFT/1.0
    /// session (which has no `CANCEL`: close the connection instead).
    Cancel,
    /// Answers [`Event::ReadPrefix`] and [`Event::ReadChunk`]: at most `max`
    /// bytes, fewer is fine, none means the local file ended early.
    Chunk(Bytes),
    /// End the session politely (`QUIT`).
    Quit,
}
// ANCHOR_END: client_command

// ANCHOR: client_event
/// What the client machine tells the application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The handshake is done: requests may be sent.
    Ready,
    /// The answer to `List`.
    Listing(Vec<Entry>),
    /// The answer to `Stat`.
    Status(Stat),
    /// `Get` resume: read the next at most `max` bytes of the kept local
    /// file, from byte 0. Answer: [`Command::Chunk`].
    ReadPrefix { max: usize },
    /// `Get` accepted: the remote file has `size` bytes; keep the first
    /// `offset` local bytes and append what follows. A WKFT/1.1 server
    /// names the file's `version`, for a later resume to ask for.
    Download {
        size: u64,
        offset: u64,
        version: Option<Version>,
    },
    /// `Get` data: append it to the local file.
    WriteChunk(Bytes),
    /// `Put`: read the next at most `max` bytes of the local file, from
    /// byte 0. Answer: [`Command::Chunk`].
    ReadChunk { max: usize },
    /// The transfer is complete and the whole-file digest verified (a
    /// download), or the server stored it with our digest (an upload).
    Done { size: u64, digest: Digest },
    /// The answer to `Delete`: the name is gone.
    Deleted,
    /// The request failed. After [`Failure::Protocol`] and
    /// [`Failure::ConnectionClosed`] the session is over.
    Failed(Failure),
}
// ANCHOR_END: client_event

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    /// The server said `ERR`.
    Remote { code: ErrorCode, message: String },
    /// A download's bytes do not hash to the server's digest: discard the
    /// local file, it cannot be trusted (not even its kept prefix).
    DigestMismatch { expected: Digest, actual: Digest },
    /// The local file ended before the size or offset given. For an upload
    /// the machine closes the session so that the server keeps its partial.
    LocalShort,
    /// The server broke the protocol; the machine closes.
    Protocol(ProtocolError),
    /// The connection ended in the middle of a request.
    ConnectionClosed,
    /// The request needs WKFT/1.1 and the server speaks 1.0; nothing was sent.
    Unsupported,
    /// A resumed upload's `READY` named a kept prefix that is not the
    /// start of the local file: another file's upload. The machine closes
    /// without sending a byte, so the server keeps that partial.
    PrefixDiffers,
    /// A `Get` stopped by [`Command::Cancel`]; the local file holds what
    /// came before the stop (resume it later).
    Cancelled,
}

impl Failure {
    /// Whether the session is over after this failure: the connection
    /// broke, the server broke the protocol, or (WKFT/1.1) the server sent
    /// an error of the fatal class ([`ErrorCode::is_fatal`]) and closes.
    /// The machine is then done; a new request needs a new connection.
    pub fn ends_session(&self, version: u32) -> bool {
        match self {
            Failure::Protocol(_) | Failure::ConnectionClosed | Failure::PrefixDiffers => true,
            Failure::Remote { code, .. } => version >= VERSION_1_1 && code.is_fatal(),
            _ => false,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Remote { code, message } => write!(f, "server: {} {message}", code.code()),
            Failure::DigestMismatch { expected, actual } => {
                write!(f, "digest mismatch: server {expected}, received {actual}")
            }
            Failure::LocalShort => f.write_str("local file shorter than announced"),
            Failure::Protocol(e) => write!(f, "protocol error: {e}"),
            Failure::ConnectionClosed => f.write_str("connection closed mid-request"),
            Failure::Unsupported => {
                f.write_str("the server speaks WKFT/1.0, which cannot replace or delete files")
            }
            Failure::Cancelled => f.write_str("download cancelled"),
            Failure::PrefixDiffers => f.write_str(
                "the server's unfinished upload of this name does not begin like this file",
            ),
        }
    }
}

impl core::error::Error for Failure {}

#[derive(Debug)]
enum State {
    Greeting,
    Idle,
    Listing {
        path: Option<String>,
        /// This page's count, once its `ENTRIES` came; and whether a next
        /// page follows (WKFT/1.1).
        expected: Option<(u32, bool)>,
        /// The entries before this page.
        page_start: usize,
        entries: Vec<Entry>,
    },
    Stating,
    Deleting,
    /// Hashing the kept local prefix before sending `GET`.
    Prefix {
        path: String,
        reader: Reader,
    },
    Requested {
        offset: u64,
        hasher: blake3::Hasher,
    },
    Receiving {
        size: u64,
        left: u64,
        hasher: blake3::Hasher,
    },
    Offering {
        size: u64,
        offset: u64,
    },
    /// Sending; on a WKFT/1.1 resume, the kept prefix's digest to check
    /// before the first byte goes.
    Uploading {
        reader: Reader,
        prefix: Option<Digest>,
    },
    Finishing {
        size: u64,
        digest: Digest,
    },
    Quitting,
    Closed,
}

/// The most entries a paged listing gathers before the client gives up on
/// it: a bound on memory whatever the server sends.
pub const MAX_LISTED: usize = 1 << 20;

/// One WKFT/1 session, client side.
#[derive(Debug)]
pub struct Client {
    state: State,
    inbox: Inbox,
    outbox: Outbox,
    events: VecDeque<Event>,
    /// A chunk was asked for, and the request it was for has ended.
    swallow_chunk: bool,
    /// The version asked for in the `HELLO` sent, then the one settled.
    version: u32,
    /// What a WKFT/1.1 server announced.
    features: Vec<String>,
    /// `CANCEL` was sent for the `GET` in flight.
    cancel_sent: bool,
    /// The `GET` ended before the server read our `CANCEL`, which it then
    /// answers `OK`: that reply is still to come.
    cancel_ok_due: bool,
    /// The version a resumed `Get` asks for, while its prefix is hashed.
    resume_version: Option<Version>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A session that greets the server at once, asking for WKFT/1.1
    /// (`HELLO 2`); a 1.0 server refuses that and keeps the session, and the
    /// machine asks again for 1.0.
    pub fn new() -> Self {
        Self::speaking(VERSION_1_1)
    }

    /// A session that asks for `version` only: [`VERSION`] is a plain
    /// WKFT/1.0 client.
    pub fn speaking(version: u32) -> Self {
        let mut c = Client {
            state: State::Greeting,
            inbox: Inbox::default(),
            outbox: Outbox::default(),
            events: VecDeque::new(),
            swallow_chunk: false,
            version,
            features: Vec::new(),
            cancel_sent: false,
            cancel_ok_due: false,
            resume_version: None,
        };
        c.send(&Request::Hello { version });
        c
    }

    /// The version of the session: 1 (WKFT/1.0) or 2 (WKFT/1.1), once
    /// [`Event::Ready`] came.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The features a WKFT/1.1 server announced.
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// True between [`Event::Ready`] and the next request.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    fn send(&mut self, req: &Request) {
        // Paths are checked when a command arrives and chunks are bounded
        // by what the machine asked for: encoding cannot fail here.
        let _ = self.try_send(req);
    }

    /// Sends a request in the session's syntax, or says why it cannot be
    /// written (a path WKFT/1.0 cannot carry, or too long a line).
    fn try_send(&mut self, req: &Request) -> Result<(), Misuse> {
        let mut out = BytesMut::new();
        req.encode_in(&mut out, self.version)
            .map_err(|e| Misuse::BadPath(e.0))?;
        if !out.is_empty() {
            self.outbox.push(PeerId::FIRST, out.freeze());
        }
        Ok(())
    }

    fn pump(&mut self) {
        while !matches!(self.state, State::Closed) {
            let parsed = match transfer::reply_in(&self.inbox.buf, self.version) {
                Ok((rest, rep)) => Ok((self.inbox.buf.len() - rest.len(), rep)),
                Err(nom::Err::Incomplete(_)) => return,
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
            };
            match parsed {
                Ok((used, rep)) => {
                    let _ = self.inbox.buf.split_to(used);
                    self.on_reply(rep);
                }
                Err(e) => return self.protocol_error(ProtocolError::Wire(e)),
            }
        }
    }

    fn protocol_error(&mut self, e: ProtocolError) {
        self.events.push_back(Event::Failed(Failure::Protocol(e)));
        self.close();
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.inbox.buf.clear();
    }

    fn finish(&mut self, event: Event) {
        if let State::Uploading { reader: r, .. } | State::Prefix { reader: r, .. } = &self.state {
            self.swallow_chunk = r.is_waiting();
        }
        self.state = State::Idle;
        self.events.push_back(event);
    }

    // ANCHOR: client_cancel
    fn on_reply(&mut self, rep: Reply) {
        if self.cancel_ok_due && rep == Reply::Ok {
            // The answer to a CANCEL that came after its GET had ended.
            self.cancel_ok_due = false;
            return;
        }
        let in_get = matches!(
            self.state,
            State::Requested { .. } | State::Receiving { .. }
        );
        let cancelled = matches!(
            rep,
            Reply::Error {
                code: ErrorCode::Cancelled,
                ..
            }
        );
        if self.cancel_sent && in_get && cancelled {
            self.cancel_sent = false;
            return self.finish(Event::Failed(Failure::Cancelled));
        }
        self.on_reply_in_turn(rep);
        let in_get = matches!(
            self.state,
            State::Requested { .. } | State::Receiving { .. }
        );
        if self.cancel_sent && !in_get {
            // The GET ended another way: the CANCEL will be answered `OK`.
            self.cancel_sent = false;
            self.cancel_ok_due = !matches!(self.state, State::Closed);
        }
    }
    // ANCHOR_END: client_cancel

    fn on_reply_in_turn(&mut self, rep: Reply) {
        match (&mut self.state, rep) {
            // The server may settle on an older version than asked for.
            (State::Greeting, Reply::Hello { version, features })
                if (VERSION..=self.version).contains(&version) =>
            {
                self.version = version;
                self.features = features;
                self.state = State::Idle;
                self.events.push_back(Event::Ready);
            }
            (State::Greeting, Reply::Hello { version, .. }) => {
                self.protocol_error(ProtocolError::Version { theirs: version });
            }
            // A WKFT/1.0 server: it refused 1.1 and kept the session.
            (
                State::Greeting,
                Reply::Error {
                    code: ErrorCode::BadRequest | ErrorCode::VersionNotSupported,
                    ..
                },
            ) if self.version > VERSION => {
                self.version = VERSION;
                self.send(&Request::Hello { version: VERSION });
            }
            (State::Greeting, Reply::Error { code, message }) => {
                self.events
                    .push_back(Event::Failed(Failure::Remote { code, message }));
                self.close();
            }
            (State::Idle | State::Closed | State::Prefix { .. }, _) => {
                self.protocol_error(ProtocolError::OutOfTurn);
            }
            (_, Reply::Error { code, message }) => {
                let fatal = self.version >= VERSION_1_1 && code.is_fatal();
                self.finish(Event::Failed(Failure::Remote { code, message }));
                if fatal {
                    // The fatal class: the server closes after it.
                    self.close();
                }
            }
            (State::Listing { expected, .. }, Reply::Entries { count, more })
                if expected.is_none() && (!more || self.version >= VERSION_1_1) =>
            {
                *expected = Some((count, more));
                self.maybe_listed();
            }
            (
                State::Listing {
                    expected: Some((n, _)),
                    page_start,
                    entries,
                    ..
                },
                Reply::Entry(e),
            ) if entries.len() < *page_start + *n as usize => {
                entries.push(e);
                self.maybe_listed();
            }
            (State::Stating, Reply::Stat(stat)) => self.finish(Event::Status(stat)),
            (State::Deleting, Reply::Ok) => self.finish(Event::Deleted),
            (
                &mut State::Requested { offset, .. },
                Reply::File {
                    size,
                    offset: theirs,
                    version,
                },
            ) => {
                if theirs != offset || size < offset || size > MAX_FILE_SIZE {
                    return self.protocol_error(ProtocolError::BadOffer);
                }
                let State::Requested { hasher, .. } =
                    core::mem::replace(&mut self.state, State::Idle)
                else {
                    return;
                };
                self.state = State::Receiving {
                    size,
                    left: size - offset,
                    hasher,
                };
                self.events.push_back(Event::Download {
                    size,
                    offset,
                    version,
                });
            }
            (State::Receiving { left, hasher, .. }, Reply::Data(bytes)) => {
                let len = bytes.len() as u64;
                if len > *left {
                    return self.protocol_error(ProtocolError::TooMuchData);
                }
                *left -= len;
                hasher.update(&bytes);
                self.events.push_back(Event::WriteChunk(bytes));
            }
            (&mut State::Receiving { size, left, .. }, Reply::Done { digest }) => {
                if left > 0 {
                    return self.protocol_error(ProtocolError::TooLittleData);
                }
                let State::Receiving { hasher, .. } =
                    core::mem::replace(&mut self.state, State::Idle)
                else {
                    return;
                };
                let actual: Digest = hasher.finalize().into();
                if actual == digest {
                    self.finish(Event::Done { size, digest });
                } else {
                    self.finish(Event::Failed(Failure::DigestMismatch {
                        expected: digest,
                        actual,
                    }));
                }
            }
            (
                &mut State::Offering { size, offset },
                Reply::Ready {
                    offset: theirs,
                    prefix,
                },
            ) => {
                if theirs != offset {
                    return self.protocol_error(ProtocolError::BadOffer);
                }
                self.state = State::Uploading {
                    reader: Reader::new(size, offset),
                    prefix,
                };
                self.upload_step();
            }
            (&mut State::Finishing { size, digest }, Reply::Stored { size: s, digest: d }) => {
                if (s, d) != (size, digest) {
                    return self.protocol_error(ProtocolError::StoredMismatch);
                }
                self.finish(Event::Done { size, digest });
            }
            (State::Quitting, Reply::Bye) => self.close(),
            _ => self.protocol_error(ProtocolError::OutOfTurn),
        }
    }

    /// After an entry: the listing is complete, or its next page is asked for.
    fn maybe_listed(&mut self) {
        let State::Listing {
            path,
            expected,
            page_start,
            entries,
        } = &mut self.state
        else {
            return;
        };
        let Some((n, more)) = *expected else { return };
        if entries.len() < *page_start + n as usize {
            return;
        }
        if !more {
            let entries = core::mem::take(entries);
            return self.finish(Event::Listing(entries));
        }
        let last = entries.last().map(|e| e.name.clone());
        if entries.len() >= MAX_LISTED || last.is_none() {
            // A server that pages forever, or pages nothing.
            return self.protocol_error(ProtocolError::Wire(transfer::WireError::TooManyEntries));
        }
        *page_start = entries.len();
        *expected = None;
        let req = Request::List {
            path: path.clone(),
            after: last,
        };
        self.send(&req);
    }

    /// Finishes an upload whose bytes are all sent, or asks for more.
    fn upload_step(&mut self) {
        let room = output_room(&self.outbox);
        match &mut self.state {
            State::Uploading { reader: r, prefix } if r.past_prefix() && prefix.is_some() => {
                // The kept prefix is read and hashed; nothing is sent yet.
                if prefix.take() != Some(r.digest()) {
                    self.finish(Event::Failed(Failure::PrefixDiffers));
                    return self.close();
                }
                self.upload_step();
            }
            State::Uploading { reader: r, .. } if r.is_done() => {
                let (size, digest) = (r.total(), r.digest());
                self.send(&Request::Done { digest });
                self.state = State::Finishing { size, digest };
            }
            State::Uploading { reader: r, .. } => {
                if let Some(max) = r.ask(room) {
                    self.events.push_back(Event::ReadChunk { max });
                }
            }
            State::Prefix { reader, .. } if reader.is_done() => {
                let State::Prefix { path, reader } =
                    core::mem::replace(&mut self.state, State::Idle)
                else {
                    return;
                };
                let offset = reader.total();
                let version = self.resume_version.take().filter(|_| offset > 0);
                self.send(&Request::Get {
                    path,
                    offset,
                    version,
                });
                self.state = State::Requested {
                    offset,
                    hasher: reader.into_hasher(),
                };
            }
            State::Prefix { reader, .. } => {
                if let Some(max) = reader.ask(true) {
                    self.events.push_back(Event::ReadPrefix { max });
                }
            }
            _ => {}
        }
    }

    fn on_chunk(&mut self, chunk: Bytes) -> Result<(), Misuse> {
        if self.swallow_chunk {
            self.swallow_chunk = false;
            return Ok(());
        }
        let taken = match &mut self.state {
            State::Uploading { reader: r, .. } | State::Prefix { reader: r, .. } => {
                r.take(chunk)?
            }
            State::Closed => return Ok(()),
            _ => return Err(Misuse::Unexpected),
        };
        match taken {
            Taken::Send(bytes) => {
                if !bytes.is_empty() {
                    self.send(&Request::Data(bytes));
                }
                self.upload_step();
            }
            Taken::Short => {
                let uploading = matches!(self.state, State::Uploading { .. });
                self.finish(Event::Failed(Failure::LocalShort));
                if uploading {
                    // The server expects more bytes than we have: only
                    // closing ends the upload with its partial kept.
                    self.close();
                }
            }
        }
        Ok(())
    }

    fn start(&mut self) -> Result<(), Misuse> {
        match self.state {
            State::Idle => Ok(()),
            State::Greeting | State::Closed | State::Quitting => Err(Misuse::NotReady),
            _ => Err(Misuse::Busy),
        }
    }
}

impl Client {
    /// Whether the session can carry `path` in a request line: by encoding
    /// the longest request a path goes in, so that what is checked is
    /// exactly what is sent.
    fn check(&self, path: &str) -> Result<(), Misuse> {
        let probe = Request::Put {
            path: String::from(path),
            size: MAX_FILE_SIZE,
            offset: MAX_FILE_SIZE,
            replace: true,
            restart: true,
        };
        probe
            .encode_in(&mut BytesMut::new(), self.version)
            .map_err(|e| Misuse::BadPath(e.0))
    }
}

impl Machine for Client {
    type Command = Command;
    type Event = Event;
    type Error = Misuse;

    fn handle_input(&mut self, _now: Now, input: Input<'_>) -> Result<(), Misuse> {
        match input {
            Input::Data { bytes, .. } => {
                let mut rest = bytes;
                while !rest.is_empty() && !matches!(self.state, State::Closed) {
                    rest = self.inbox.fill(rest);
                    self.pump();
                    if !rest.is_empty() && self.inbox.is_full() {
                        self.protocol_error(ProtocolError::InputOverflow);
                    }
                }
            }
            Input::Eof { .. } => {
                if !matches!(self.state, State::Idle | State::Closed | State::Quitting) {
                    self.events
                        .push_back(Event::Failed(Failure::ConnectionClosed));
                }
                self.close();
            }
            Input::Timeout => {}
        }
        Ok(())
    }

    fn handle_command(&mut self, _now: Now, cmd: Command) -> Result<(), Misuse> {
        match cmd {
            Command::Chunk(chunk) => return self.on_chunk(chunk),
            Command::List { path } => {
                self.start()?;
                self.try_send(&Request::List {
                    path: path.clone(),
                    after: None,
                })?;
                self.state = State::Listing {
                    path,
                    expected: None,
                    page_start: 0,
                    entries: Vec::new(),
                };
            }
            Command::Stat { path } => {
                self.start()?;
                self.try_send(&Request::Stat { path })?;
                self.state = State::Stating;
            }
            Command::Get {
                path,
                offset,
                version,
            } => {
                self.start()?;
                self.check(&path)?;
                if offset > MAX_FILE_SIZE {
                    return Err(Misuse::TooLarge);
                }
                self.resume_version = version.filter(|_| self.version >= VERSION_1_1);
                self.state = State::Prefix {
                    path,
                    reader: Reader::new(offset, offset),
                };
                self.upload_step();
            }
            Command::Put {
                path,
                size,
                offset,
                replace,
                restart,
            } => {
                self.start()?;
                self.check(&path)?;
                if size > MAX_FILE_SIZE {
                    return Err(Misuse::TooLarge);
                }
                if offset > size {
                    return Err(Misuse::BadOffset);
                }
                if replace && self.version < VERSION_1_1 {
                    self.events.push_back(Event::Failed(Failure::Unsupported));
                    return Ok(());
                }
                self.send(&Request::Put {
                    path,
                    size,
                    offset,
                    replace,
                    // A 1.0 server restarts anyway and knows no such flag.
                    restart: restart && offset == 0 && self.version >= VERSION_1_1,
                });
                self.state = State::Offering { size, offset };
            }
            Command::Delete { path } => {
                self.start()?;
                self.check(&path)?;
                if self.version < VERSION_1_1 {
                    self.events.push_back(Event::Failed(Failure::Unsupported));
                    return Ok(());
                }
                self.send(&Request::Delete { path });
                self.state = State::Deleting;
            }
            Command::Cancel => match self.state {
                // Nothing sent yet: stop here.
                State::Prefix { .. } => self.finish(Event::Failed(Failure::Cancelled)),
                State::Requested { .. } | State::Receiving { .. }
                    if self.version >= VERSION_1_1 && !self.cancel_sent =>
                {
                    self.send(&Request::Cancel);
                    self.cancel_sent = true;
                }
                _ => {}
            },
            Command::Quit => {
                self.start()?;
                self.send(&Request::Quit);
                self.state = State::Quitting;
            }
        }
        Ok(())
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.outbox.pop()?;
        self.upload_step();
        Some(t)
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn phase(&self) -> &'static str {
        match self.state {
            State::Greeting => "greeting",
            State::Idle => "idle",
            State::Listing { .. } => "listing",
            State::Stating => "stating",
            State::Deleting => "deleting",
            State::Prefix { .. } => "hashing the kept prefix",
            State::Requested { .. } => "GET sent",
            State::Receiving { .. } => "receiving",
            State::Offering { .. } => "PUT sent",
            State::Uploading { .. } => "uploading",
            State::Finishing { .. } => "waiting for STORED",
            State::Quitting => "quitting",
            State::Closed => "closed",
        }
    }

    fn is_done(&self) -> bool {
        matches!(self.state, State::Closed)
    }
}

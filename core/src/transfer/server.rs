//! The WKFT/1 server: one session (one TCP connection) per machine.
//!
//! The machine speaks the protocol; its driver owns the store. Every store
//! operation is an [`Event`] the driver answers with a [`Command`], in order,
//! whenever it likes: the machine holds further input meanwhile.
//!
//! A driver's checklist:
//!
//! - At most one question is outstanding at a time (`List`, `Stat`,
//!   `OpenRead`, `ReadChunk`, `CheckRead`, `BeginUpload`, `CommitUpload`,
//!   `Delete`);
//!   answer it with the command its docs name. `WriteChunk`, `CloseRead`,
//!   `AbortUpload` and `Protocol` need no answer.
//! - A store keeps an unfinished upload as a *partial* beside the final name
//!   (a temporary file), reports it from `Stat` and `List` as
//!   [`Kind::Partial`](crate::wire::transfer::Kind) with the bytes it holds, and
//!   renames it into place only on `CommitUpload`.
//! - `WriteChunk` appends to the partial of the upload begun last.
//! - When [`Machine::is_done`] turns true, send what `poll_transmit` still
//!   yields, then close the connection. Answers to questions raised before
//!   the end are accepted and ignored.
//! - On end of stream from the socket, feed [`Input::Eof`]: an upload in
//!   progress ends with `AbortUpload { keep_partial: true }`.

use super::flow::{Inbox, Reader, Taken, output_room};
use super::{MAX_PENDING_OUTPUT, Misuse, ProtocolError, StoreError};
use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::outbox::Outbox;
use crate::time::{Instant, Now};
use crate::wire::transfer::{
    self, Digest, Entry, ErrorCode, MAX_ENTRIES, MAX_FILE_SIZE, MAX_LINE, MAX_NAME, MAX_PUT_NAME,
    Reply, Request, Stat, VERSION, VERSION_1_1, Version, WireError,
};
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};
use core::time::Duration;
use serde::{Deserialize, Serialize};

// ANCHOR: server_event
/// What the server machine asks of its driver (the store), or tells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// List a directory (the root for `None`).
    /// Answer: [`Command::Listing`].
    List { path: Option<String> },
    /// Look at a path. Answer: [`Command::Status`].
    Stat { path: String },
    /// Open a complete file, to be sent from `offset`. With a `version`
    /// (a WKFT/1.1 resume), refuse with [`ErrorCode::Changed`] if the file
    /// is another one now. Answer: [`Command::Opened`]; with `offset > 0` it
    /// must carry the file's digest (the kept prefix is not sent, so the
    /// machine cannot hash it).
    OpenRead {
        path: String,
        offset: u64,
        version: Option<Version>,
    },
    /// Read the next at most `max` bytes of the open file, in order from
    /// the offset it was opened at.
    /// Answer: [`Command::Chunk`] (empty if the file ended early) or
    /// [`Command::ReadFailed`].
    ReadChunk { max: usize },
    /// Every byte was sent, and `digest` is the whole file's: check the
    /// file is still the version it was opened at (a file written during
    /// the download would give the client a torn copy that this digest
    /// vouches for). Answer: [`Command::Checked`].
    CheckRead { digest: Digest },
    /// The open file is no longer needed.
    CloseRead,
    /// An upload of a file of `size` bytes, data from `offset`, as the
    /// store contract's [`crate::store::Begin`] describes. Answer:
    /// [`Command::UploadReady`], with the kept prefix's digest on a resume.
    BeginUpload {
        path: String,
        size: u64,
        offset: u64,
        /// WKFT/1.1's `PUT … replace`: a complete file at `path` is no
        /// refusal; the commit takes its place atomically.
        replace: bool,
        /// From byte 0, a kept partial of the name is discarded, not
        /// refused (WKFT/1.1's `PUT … restart`, and every 1.0 upload).
        restart: bool,
    },
    /// WKFT/1.1's `DELETE`: remove the file at `path`, or a partial of
    /// that name. Answer: [`Command::Deleted`].
    Delete { path: String },
    /// Append these bytes to the partial. No answer, unless the write fails:
    /// then [`Command::WriteFailed`], and ignore the rest of this upload's events.
    WriteChunk(Bytes),
    /// The size is right and the client says the file hashes to `digest`:
    /// check the bytes *as stored* hash to it, then make the partial the
    /// file at `path` (the machine does not hash what it receives: bytes
    /// can go astray between the socket and the disk). Answer:
    /// [`Command::Committed`]; [`ErrorCode::Mismatch`] if they differ.
    CommitUpload {
        path: String,
        size: u64,
        digest: Digest,
    },
    /// The upload ended without a commit. Keep the partial for a resume
    /// (`keep_partial`: the connection ended or broke), or delete it (the
    /// digest or byte count did not match, so its contents are suspect).
    AbortUpload { keep_partial: bool },
    /// The client broke the protocol; the machine sent `ERR 400` (`ERR 408`
    /// for [`ProtocolError::SlowRequest`]) and is closing.
    Protocol(ProtocolError),
}
// ANCHOR_END: server_event

// ANCHOR: server_command
/// The driver's answers, and its own wishes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Answers [`Event::List`]. Entries whose names the protocol cannot carry
    /// (spaces, control characters, over `MAX_NAME`) are left out.
    Listing(Result<Vec<Entry>, StoreError>),
    /// Answers [`Event::Stat`].
    Status(Result<Stat, StoreError>),
    /// Answers [`Event::OpenRead`].
    Opened(Result<Opened, StoreError>),
    /// Answers [`Event::ReadChunk`]: at most `max` bytes; fewer is fine,
    /// none means the file ended early.
    Chunk(Bytes),
    /// Answers [`Event::ReadChunk`]: reading failed.
    ReadFailed(StoreError),
    /// Answers [`Event::CheckRead`].
    Checked(Result<(), StoreError>),
    /// Answers [`Event::BeginUpload`]: on a resume, the digest of the kept
    /// prefix (bytes `0..offset`).
    UploadReady(Result<Option<Digest>, StoreError>),
    /// A [`Event::WriteChunk`] failed. The rest of the upload is read and
    /// dropped, and the error answers its `DONE` (a client still sending
    /// cannot be stopped mid-stream, and one that is cut off with unread
    /// bytes gets a reset instead of the error); the partial is kept.
    WriteFailed(StoreError),
    /// Answers [`Event::CommitUpload`].
    Committed(Result<(), StoreError>),
    /// Answers [`Event::Delete`].
    Deleted(Result<(), StoreError>),
    /// Close the session (server shutting down).
    Close,
}
// ANCHOR_END: server_command

/// A file opened for a download.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    /// Its size.
    pub size: u64,
    /// Its version now.
    pub version: Version,
    /// Its digest, if the store knows it for this version (required when
    /// the download starts past byte 0).
    pub digest: Option<Digest>,
}

#[derive(Debug)]
enum State {
    /// Before `HELLO`.
    Greeting,
    Idle,
    Listing {
        /// A 1.1 page: names after this one.
        after: Option<String>,
    },
    Stating,
    Deleting,
    Opening {
        offset: u64,
    },
    Sending(Reader),
    /// Every byte sent; the store checks the file did not change.
    Checking {
        digest: Digest,
    },
    Accepting {
        path: String,
        size: u64,
        offset: u64,
    },
    Receiving {
        path: String,
        size: u64,
        left: u64,
    },
    Committing {
        size: u64,
        digest: Digest,
    },
    /// A write failed: the rest of the upload is dropped, then `error` is
    /// the answer to its `DONE`.
    Draining {
        left: u64,
        error: StoreError,
    },
    Closed,
}

/// What a WKFT/1.1 server announces in its `HELLO`: its requests beyond
/// 1.0's (`cancel`, `delete`, `noop`, `replace`), percent-encoded paths
/// (`escape`), pipelined requests (`pipeline`), partials that only
/// `PUT … restart` takes over (`restart`) and version tokens (`versions`).
pub const FEATURES: [&str; 8] = [
    "cancel", "delete", "escape", "noop", "pipeline", "replace", "restart", "versions",
];

// ANCHOR: header_deadline
/// How long a request line (or `HELLO`) may take from its first byte to its
/// line end. The driver's idle limit restarts with every byte, so a peer
/// that trickles one a second holds a session forever without this
/// (slowloris); `DATA` bodies are not lines and are governed by the idle
/// limit alone, so a slow upload is not cut.
pub const HEADER_DEADLINE: Duration = Duration::from_secs(10);
// ANCHOR_END: header_deadline

/// One WKFT/1 session, server side.
#[derive(Debug)]
pub struct Server {
    state: State,
    header_deadline: Duration,
    /// When the request line now at the front of the input began, while it
    /// has no line end.
    header_since: Option<Instant>,
    /// How long the session waits for the client before it says `ERR 408`
    /// and closes (`None`: it leaves that to its driver).
    idle_deadline: Option<Duration>,
    /// When the client last sent something, or the session last began to
    /// wait for it.
    quiet_since: Option<Instant>,
    /// The version `HELLO` settled: 1 (WKFT/1.0) or 2 (WKFT/1.1).
    version: u32,
    inbox: Inbox,
    outbox: Outbox,
    events: VecDeque<Event>,
    /// A `CANCEL` came while a chunk of the `GET` was asked for: the chunk
    /// is dropped when it comes and the `GET` ends there.
    cancelling: bool,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// A session waiting for the client's `HELLO`.
    pub fn new() -> Self {
        Server {
            state: State::Greeting,
            header_deadline: HEADER_DEADLINE,
            header_since: None,
            idle_deadline: None,
            quiet_since: None,
            version: VERSION,
            inbox: Inbox::default(),
            outbox: Outbox::default(),
            events: VecDeque::new(),
            cancelling: false,
        }
    }

    /// The same with another [`HEADER_DEADLINE`].
    #[must_use]
    pub fn with_header_deadline(mut self, deadline: Duration) -> Self {
        self.header_deadline = deadline;
        self
    }

    /// The same, closing with `ERR 408` a session that waited `deadline`
    /// for its client: the request it is due, or the next `DATA` of an
    /// upload. A driver that also has an idle limit gives this one room to
    /// speak first.
    /// Its clock starts at `now`, the session's birth: a client that
    /// connects and says nothing is closed too.
    #[must_use]
    pub fn with_idle_deadline(mut self, deadline: Duration, now: Instant) -> Self {
        self.idle_deadline = Some(deadline);
        self.quiet_since = Some(now);
        self
    }

    /// Whether the session waits for its client (not for its store, nor
    /// for the client to read what it sent).
    fn waits_for_client(&self) -> bool {
        matches!(
            self.state,
            State::Greeting | State::Idle | State::Receiving { .. } | State::Draining { .. }
        ) && self.outbox.is_empty()
    }

    fn idle_until(&self) -> Option<Instant> {
        let since = self.quiet_since.filter(|_| self.waits_for_client())?;
        Some(since + self.idle_deadline?)
    }

    /// Starts the header clock when a line begins, stops it when none is
    /// half-read. A whole line waiting for the machine is no peer's delay.
    fn watch_header(&mut self, now: Instant) {
        let front = self
            .inbox
            .buf
            .get(..MAX_LINE + 2)
            .unwrap_or(&self.inbox.buf);
        let pending = !front.is_empty() && !front.contains(&b'\n');
        self.header_since = match self.header_since {
            Some(t) if pending => Some(t),
            _ if pending => Some(now),
            _ => None,
        };
    }

    fn header_overdue(&self, now: Instant) -> bool {
        self.header_since
            .is_some_and(|t| now >= t + self.header_deadline)
    }

    fn send(&mut self, reply: &Reply) {
        let mut out = BytesMut::new();
        // Replies built here are valid by construction (names are filtered,
        // chunks bounded); a failure would only drop the message.
        if reply.encode_in(&mut out, self.version).is_ok() && !out.is_empty() {
            self.outbox.push(PeerId::FIRST, out.freeze());
        }
    }

    fn send_error(&mut self, code: ErrorCode, message: &str) {
        self.send(&Reply::Error {
            code,
            message: String::from(message),
        });
    }

    /// A store's refusal. WKFT/1.1 tells a path locked by another upload
    /// (423) from a server too busy (503), and no room (507) from a size
    /// over a limit; a 1.0 session hears the codes 1.0 had (503, 413). And
    /// 1.1 keeps `400` for the fatal class: a store's "not a directory" or
    /// "is a directory" is `409`, a conflict with what is at the path, and
    /// the session goes on.
    fn refuse(&mut self, e: &StoreError) {
        let code = match e.code {
            ErrorCode::Changed => return self.changed(e),
            ErrorCode::Busy if self.version >= VERSION_1_1 => ErrorCode::Locked,
            ErrorCode::BadRequest if self.version >= VERSION_1_1 => ErrorCode::Exists,
            ErrorCode::InsufficientStorage if self.version < VERSION_1_1 => ErrorCode::TooLarge,
            code => code,
        };
        self.send_error(code, &e.message);
    }

    /// The file changed: WKFT/1.1's own code; 1.0's nearest is 422.
    fn changed(&mut self, e: &StoreError) {
        let code = if self.version >= VERSION_1_1 {
            ErrorCode::Changed
        } else {
            ErrorCode::Mismatch
        };
        self.send_error(code, &e.message);
    }

    /// An offset past the end: WKFT/1.1's own code, 1.0's 400.
    fn bad_offset(&mut self, text: &str) {
        let code = if self.version >= VERSION_1_1 {
            ErrorCode::BadOffset
        } else {
            ErrorCode::BadRequest
        };
        self.send_error(code, text);
    }

    // ANCHOR: pump
    /// Parses and handles buffered requests while the state can take them.
    /// Pipelined requests (WKFT/1.1) wait here, unparsed, until the one
    /// before is answered and its replies have room in the output: a client
    /// that sends requests without reading replies is held by the input
    /// limit, never by memory.
    fn pump(&mut self) {
        loop {
            match self.state {
                State::Sending(_) => return self.look_for_cancel(),
                State::Idle if self.outbox.bytes() >= MAX_PENDING_OUTPUT => return,
                State::Greeting
                | State::Idle
                | State::Receiving { .. }
                | State::Draining { .. } => {}
                _ => return,
            }
            let parsed = match transfer::request_in(&self.inbox.buf, self.version) {
                Ok((rest, req)) => Ok((self.inbox.buf.len() - rest.len(), req)),
                Err(nom::Err::Incomplete(_)) => return,
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
            };
            match parsed {
                Ok((used, req)) => {
                    let _ = self.inbox.buf.split_to(used);
                    // The next line's clock starts when it is watched.
                    self.header_since = None;
                    self.on_request(req);
                }
                Err(e) => {
                    if let Some(code) = self.recoverable(&e) {
                        // A well-framed line: skip it, refuse it, go on.
                        let used = transfer::line_len(&self.inbox.buf).unwrap_or(0);
                        if used > 0 {
                            let _ = self.inbox.buf.split_to(used);
                            self.header_since = None;
                            let text = match code {
                                ErrorCode::NotImplemented => String::from("unknown request"),
                                _ => format!("{e}"),
                            };
                            self.send_error(code, &text);
                            continue;
                        }
                    }
                    return self.protocol_error(ProtocolError::Wire(e));
                }
            }
        }
    }

    /// The parse errors after which a WKFT/1.1 session goes on, and their
    /// codes: a verb this server does not know (`501`, so that later
    /// revisions can add verbs), a path or name over its limit (`413`, the
    /// line itself being well framed). Everything else broke the grammar:
    /// `400` and a close.
    fn recoverable(&self, e: &WireError) -> Option<ErrorCode> {
        if self.version < VERSION_1_1 || !matches!(self.state, State::Idle) {
            return None;
        }
        match e {
            WireError::UnknownKeyword => Some(ErrorCode::NotImplemented),
            WireError::PathTooLong | WireError::NameTooLong => Some(ErrorCode::TooLarge),
            _ => None,
        }
    }

    /// While a `GET` streams, the one request a WKFT/1.1 server takes out
    /// of turn is a `CANCEL` right behind it; anything else waits its turn.
    fn look_for_cancel(&mut self) {
        if self.version < VERSION_1_1 || self.cancelling {
            return;
        }
        let Ok((rest, Request::Cancel)) = transfer::request_in(&self.inbox.buf, self.version)
        else {
            return;
        };
        let used = self.inbox.buf.len() - rest.len();
        let _ = self.inbox.buf.split_to(used);
        match &self.state {
            // The chunk asked for is still to come: end when it does, so
            // that the driver's answer is not left dangling.
            State::Sending(r) if r.is_waiting() => self.cancelling = true,
            _ => self.end_cancelled(),
        }
    }

    /// Ends a cancelled `GET` at a message boundary: `ERR 499` in place of
    /// the next `DATA` or `DONE` answers both the `GET` and the `CANCEL`.
    fn end_cancelled(&mut self) {
        self.cancelling = false;
        self.events.push_back(Event::CloseRead);
        self.state = State::Idle;
        self.send_error(ErrorCode::Cancelled, "cancelled");
    }
    // ANCHOR_END: pump

    fn on_request(&mut self, req: Request) {
        match (&mut self.state, req) {
            (State::Greeting, Request::Hello { version }) => match version {
                VERSION => {
                    self.send(&Reply::Hello {
                        version,
                        features: Vec::new(),
                    });
                    self.state = State::Idle;
                }
                VERSION_1_1 => {
                    self.version = version;
                    let features = FEATURES.iter().map(|f| String::from(*f)).collect();
                    self.send(&Reply::Hello { version, features });
                    self.state = State::Idle;
                }
                _ => {
                    // WKFT/1.0 said 400 here; 505 is WKFT/1.1's own code,
                    // and only a client newer than 1.0 asks for another version.
                    let text = format!(
                        "unsupported version {version}; this server speaks {VERSION} and {VERSION_1_1}"
                    );
                    self.send_error(ErrorCode::VersionNotSupported, &text);
                }
            },
            // WKFT/1.0 sessions know none of WKFT/1.1's requests.
            (
                State::Idle,
                Request::Delete { .. }
                | Request::Noop
                | Request::Cancel
                | Request::Put { replace: true, .. }
                | Request::Put { restart: true, .. },
            ) if self.version < VERSION_1_1 => {
                self.protocol_error(ProtocolError::Wire(WireError::UnknownKeyword));
            }
            // A `CANCEL` with no `GET` in flight (it ended first): nothing
            // to stop, and the answer keeps replies and requests paired.
            (State::Idle, Request::Noop | Request::Cancel) => self.send(&Reply::Ok),
            (State::Idle, Request::Delete { path }) => {
                self.state = State::Deleting;
                self.events.push_back(Event::Delete { path });
            }
            (
                State::Idle,
                Request::List { after: Some(_), .. }
                | Request::Get {
                    version: Some(_), ..
                },
            ) if self.version < VERSION_1_1 => {
                self.protocol_error(ProtocolError::Wire(WireError::BadArguments));
            }
            (State::Idle, Request::List { path, after }) => {
                // 1.1 names the root `.` when it asks for a page of it.
                let path = path.filter(|p| p != ".");
                self.state = State::Listing { after };
                self.events.push_back(Event::List { path });
            }
            (State::Idle, Request::Stat { path }) => {
                self.state = State::Stating;
                self.events.push_back(Event::Stat { path });
            }
            (
                State::Idle,
                Request::Get {
                    path,
                    offset,
                    version,
                },
            ) => {
                if offset > MAX_FILE_SIZE {
                    self.bad_offset("offset past the end");
                } else {
                    self.state = State::Opening { offset };
                    self.events.push_back(Event::OpenRead {
                        path,
                        offset,
                        version,
                    });
                }
            }
            (
                State::Idle,
                Request::Put {
                    path,
                    size,
                    offset,
                    replace,
                    restart,
                },
            ) => {
                if size > MAX_FILE_SIZE {
                    self.send_error(ErrorCode::TooLarge, "size over MAX_FILE_SIZE");
                } else if last_segment(&path).len() > MAX_PUT_NAME {
                    let text = format!("name too long to upload: at most {MAX_PUT_NAME} bytes");
                    self.send_error(ErrorCode::TooLarge, &text);
                } else if offset > size {
                    self.bad_offset("offset past the size");
                } else {
                    self.events.push_back(Event::BeginUpload {
                        path: path.clone(),
                        size,
                        offset,
                        replace,
                        // WKFT/1.0 had no partials of others to protect.
                        restart: restart || self.version < VERSION_1_1,
                    });
                    self.state = State::Accepting { path, size, offset };
                }
            }
            (State::Idle, Request::Quit) => {
                self.send(&Reply::Bye);
                self.state = State::Closed;
            }
            (State::Receiving { left, .. }, Request::Data(bytes)) => {
                let len = bytes.len() as u64;
                if len > *left {
                    return self.protocol_error(ProtocolError::TooMuchData);
                }
                *left -= len;
                self.events.push_back(Event::WriteChunk(bytes));
            }
            (State::Receiving { .. }, Request::Done { digest }) => self.on_done(digest),
            (State::Draining { left, .. }, Request::Data(bytes)) => {
                let len = bytes.len() as u64;
                if len > *left {
                    return self.protocol_error(ProtocolError::TooMuchData);
                }
                *left -= len;
            }
            (State::Draining { .. }, Request::Done { .. }) => {
                if let State::Draining { error, .. } =
                    core::mem::replace(&mut self.state, State::Idle)
                {
                    self.refuse(&error);
                }
            }
            _ => self.protocol_error(ProtocolError::OutOfTurn),
        }
    }

    fn on_done(&mut self, claimed: Digest) {
        let State::Receiving { path, size, left } =
            core::mem::replace(&mut self.state, State::Idle)
        else {
            return;
        };
        if left > 0 {
            self.events.push_back(Event::AbortUpload {
                keep_partial: false,
            });
            return self.send_error(
                ErrorCode::Mismatch,
                "fewer bytes than the size: nothing stored",
            );
        }
        self.events.push_back(Event::CommitUpload {
            path,
            size,
            digest: claimed,
        });
        self.state = State::Committing {
            size,
            digest: claimed,
        };
    }

    /// Tells the driver what to drop when the session ends mid-operation.
    fn release(&mut self) {
        self.cancelling = false;
        match self.state {
            State::Accepting { .. } | State::Receiving { .. } => {
                self.events
                    .push_back(Event::AbortUpload { keep_partial: true });
            }
            State::Sending(_) | State::Checking { .. } => self.events.push_back(Event::CloseRead),
            _ => {}
        }
        self.state = State::Closed;
    }

    fn protocol_error(&mut self, e: ProtocolError) {
        self.close_with(ErrorCode::BadRequest, e);
    }

    fn close_with(&mut self, code: ErrorCode, e: ProtocolError) {
        self.release();
        let text = format!("{e}");
        self.send_error(code, &text);
        self.events.push_back(Event::Protocol(e));
        self.inbox.buf.clear();
        self.header_since = None;
    }

    /// Asks for the next chunk when it is time.
    fn ask(&mut self) {
        let room = output_room(&self.outbox);
        if let State::Sending(r) = &mut self.state
            && let Some(max) = r.ask(room)
        {
            self.events.push_back(Event::ReadChunk { max });
        }
    }

    fn start_sending(&mut self, offset: u64, file: Opened) {
        let Opened {
            size,
            version,
            digest,
        } = file;
        let reader = match digest {
            Some(digest) => Reader::known(size, offset, digest),
            None if offset == 0 => Reader::new(size, 0),
            None => {
                self.events.push_back(Event::CloseRead);
                self.state = State::Idle;
                let e = StoreError::new(ErrorCode::Internal, "the store gave no digest to resume");
                return self.refuse(&e);
            }
        };
        let version = (self.version >= VERSION_1_1).then_some(version);
        self.send(&Reply::File {
            size,
            offset,
            version,
        });
        self.state = State::Sending(reader);
        self.finish_or_ask();
    }

    /// After a reader moved: finish the transfer it belongs to, or ask on.
    fn finish_or_ask(&mut self) {
        match &self.state {
            State::Sending(r) if r.is_done() => {
                let digest = r.digest();
                self.events.push_back(Event::CheckRead { digest });
                self.state = State::Checking { digest };
            }
            _ => self.ask(),
        }
    }

    fn on_chunk(&mut self, chunk: Bytes) -> Result<(), Misuse> {
        let taken = match &mut self.state {
            State::Sending(r) => r.take(chunk)?,
            _ => return Err(Misuse::Unexpected),
        };
        match taken {
            Taken::Send(bytes) => {
                if !bytes.is_empty() {
                    self.send(&Reply::Data(bytes));
                }
                self.finish_or_ask();
            }
            Taken::Short => self.read_failed(&StoreError::new(
                ErrorCode::Internal,
                "file shorter than its size",
            )),
        }
        Ok(())
    }

    fn read_failed(&mut self, e: &StoreError) {
        if let State::Sending(_) = self.state {
            self.events.push_back(Event::CloseRead);
        }
        self.state = State::Idle;
        self.refuse(e);
    }
}

impl Machine for Server {
    type Command = Command;
    type Event = Event;
    type Error = Misuse;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Misuse> {
        if self.header_overdue(now.mono) && !matches!(self.state, State::Closed) {
            // Checked on bytes too: a driver may feed a late byte before
            // it notices the timeout.
            self.close_with(ErrorCode::RequestTimeout, ProtocolError::SlowRequest);
            return Ok(());
        }
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
                self.release();
                self.inbox.buf.clear();
            }
            Input::Timeout => {
                if self.idle_until().is_some_and(|t| now.mono >= t) {
                    self.close_with(ErrorCode::RequestTimeout, ProtocolError::Idle);
                    return Ok(());
                }
            }
        }
        if !matches!(input, Input::Timeout) {
            self.quiet_since = Some(now.mono);
        }
        self.watch_header(now.mono);
        Ok(())
    }

    fn handle_command(&mut self, now: Now, cmd: Command) -> Result<(), Misuse> {
        if matches!(self.state, State::Closed) {
            // Answers to events raised before the session ended are moot.
            return Ok(());
        }
        // The store's answer may end a wait for it: the client's turn, and
        // its idle clock, start now.
        self.quiet_since = Some(now.mono);
        if self.cancelling && matches!(cmd, Command::Chunk(_) | Command::ReadFailed(_)) {
            // The chunk a cancelled GET asked for: dropped, and the GET ends.
            self.end_cancelled();
            self.pump();
            return Ok(());
        }
        match (&self.state, cmd) {
            (_, Command::Close) => {
                self.release();
                return Ok(());
            }
            (State::Listing { .. }, Command::Listing(result)) => {
                let State::Listing { after } = core::mem::replace(&mut self.state, State::Idle)
                else {
                    return Ok(());
                };
                match result {
                    Ok(entries) => self.send_listing(entries, after.as_deref()),
                    Err(e) => self.refuse(&e),
                }
            }
            (State::Deleting, Command::Deleted(result)) => {
                self.state = State::Idle;
                match result {
                    Ok(()) => self.send(&Reply::Ok),
                    Err(e) => self.refuse(&e),
                }
            }
            (State::Stating, Command::Status(result)) => {
                self.state = State::Idle;
                match result {
                    Ok(stat) => {
                        let version = stat.version.filter(|_| self.version >= VERSION_1_1);
                        self.send(&Reply::Stat(Stat { version, ..stat }));
                    }
                    Err(e) => self.refuse(&e),
                }
            }
            (&State::Opening { offset }, Command::Opened(result)) => match result {
                Ok(file) if file.size > MAX_FILE_SIZE => {
                    self.state = State::Idle;
                    self.events.push_back(Event::CloseRead);
                    self.send_error(ErrorCode::TooLarge, "file over MAX_FILE_SIZE");
                }
                Ok(file) if offset > file.size => {
                    self.state = State::Idle;
                    self.events.push_back(Event::CloseRead);
                    self.bad_offset("offset past the end");
                }
                Ok(file) => self.start_sending(offset, file),
                Err(e) => {
                    self.state = State::Idle;
                    self.refuse(&e);
                }
            },
            (State::Sending(_), Command::Chunk(chunk)) => self.on_chunk(chunk)?,
            (State::Sending(r), Command::ReadFailed(e)) if r.is_waiting() => self.read_failed(&e),
            (&State::Checking { digest }, Command::Checked(result)) => {
                self.events.push_back(Event::CloseRead);
                self.state = State::Idle;
                match result {
                    Ok(()) => self.send(&Reply::Done { digest }),
                    Err(e) => self.refuse(&e),
                }
            }
            (State::Accepting { .. }, Command::UploadReady(result)) => {
                let State::Accepting { path, size, offset } =
                    core::mem::replace(&mut self.state, State::Idle)
                else {
                    return Ok(());
                };
                match result {
                    Ok(_) if self.version >= VERSION_1_1 && has_request(&self.inbox.buf) => {
                        // Sent before READY, so before the client could know
                        // the upload was accepted (WKFT/1.1 says it waits).
                        self.events
                            .push_back(Event::AbortUpload { keep_partial: true });
                        self.protocol_error(ProtocolError::EarlyData);
                    }
                    Ok(prefix) => {
                        // 1.0 has no digest in READY; its clients find a
                        // prefix that differs only from STORED's 422.
                        let prefix = prefix.filter(|_| self.version >= VERSION_1_1 && offset > 0);
                        self.send(&Reply::Ready { offset, prefix });
                        self.state = State::Receiving {
                            path,
                            size,
                            left: size - offset,
                        };
                    }
                    Err(e) => self.refuse(&e),
                }
            }
            (&State::Receiving { left, .. }, Command::WriteFailed(error)) => {
                self.events
                    .push_back(Event::AbortUpload { keep_partial: true });
                self.state = State::Draining { left, error };
            }
            (State::Committing { .. }, Command::WriteFailed(e)) => {
                self.events
                    .push_back(Event::AbortUpload { keep_partial: true });
                self.state = State::Idle;
                self.refuse(&e);
            }
            (&State::Committing { size, digest }, Command::Committed(result)) => {
                self.state = State::Idle;
                match result {
                    Ok(()) => self.send(&Reply::Stored { size, digest }),
                    Err(e) => self.refuse(&e),
                }
            }
            _ => return Err(Misuse::Unexpected),
        }
        self.pump();
        self.watch_header(now.mono);
        Ok(())
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.outbox.pop()?;
        // Output drained: maybe time to ask for the next chunk, or to take
        // the next pipelined request.
        self.ask();
        if matches!(self.state, State::Idle) && !self.inbox.buf.is_empty() {
            self.pump();
        }
        Some(t)
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.is_done() {
            return None;
        }
        let header = self.header_since.map(|t| t + self.header_deadline);
        match (header, self.idle_until()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn phase(&self) -> &'static str {
        match self.state {
            State::Greeting => "greeting",
            State::Idle => "idle",
            State::Listing { .. } => "listing",
            State::Stating => "stating",
            State::Deleting => "deleting",
            State::Opening { .. } => "opening a file",
            State::Sending(_) => "sending",
            State::Checking { .. } => "checking the file did not change",
            State::Accepting { .. } => "accepting an upload",
            State::Receiving { .. } => "receiving",
            State::Committing { .. } => "committing",
            State::Draining { .. } => "dropping a failed upload",
            State::Closed => "closed",
        }
    }

    fn is_done(&self) -> bool {
        matches!(self.state, State::Closed)
    }
}

impl Server {
    /// A listing, or in WKFT/1.1 one page of it: the entries named after
    /// `after`, at most `MAX_ENTRIES`, and whether more follow. A page never
    /// ends between two entries of one name (a file and a partial), so the
    /// next page's `after` skips neither.
    fn send_listing(&mut self, entries: Vec<Entry>, after: Option<&str>) {
        let mut fit: Vec<Entry> = entries
            .into_iter()
            .filter(|e| transfer::can_carry(&e.name, MAX_NAME, self.version).is_ok())
            .filter(|e| after.is_none_or(|a| e.name.as_str() > a))
            .collect();
        fit.sort_by(|a, b| a.name.cmp(&b.name));
        let max = MAX_ENTRIES as usize;
        let more = fit.len() > max;
        if more && self.version < VERSION_1_1 {
            return self.send_error(ErrorCode::TooLarge, "too many entries");
        }
        if more {
            let mut end = max;
            while end > 1 && fit.get(end).map(|e| &e.name) == fit.get(end - 1).map(|e| &e.name) {
                end -= 1;
            }
            fit.truncate(end);
        }
        let count = u32::try_from(fit.len()).unwrap_or(MAX_ENTRIES);
        self.send(&Reply::Entries { count, more });
        for e in fit {
            self.send(&Reply::Entry(e));
        }
    }
}

/// Whether unparsed input holds more than blank lines.
fn has_request(buf: &[u8]) -> bool {
    buf.iter()
        .any(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The name a path ends with: what `PUT` creates.
fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

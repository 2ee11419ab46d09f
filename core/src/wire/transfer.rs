//! WKFT/1, Wirekit's file-transfer protocol: messages, limits, parsers and
//! encoders. The specification is `book/src/spec/file-transfer.md`.
//!
//! Every message is a text header line a person can type; `DATA` carries a
//! body whose length the header states, followed by a line end. The parsers
//! are nom *streaming* parsers: a prefix of a message is
//! `Err::Incomplete`, never an error, so the machines can feed them whatever
//! piece of the stream has arrived.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;
use nom::error::{ErrorKind, ParseError};
use nom::{Err, IResult, Needed};
use serde::{Deserialize, Serialize};

// ANCHOR: limits
/// The protocol version this module speaks (`HELLO 1`).
pub const VERSION: u32 = 1;
/// The revision number of WKFT/1.1 in `HELLO` (a WKFT/1.0 server refuses
/// it and keeps the session, so a client can fall back to [`VERSION`]).
pub const VERSION_1_1: u32 = 2;
/// Longest header line, not counting its line end.
pub const MAX_LINE: usize = 1024;
/// Longest path in a request.
pub const MAX_PATH: usize = 512;
/// Longest name in a listing entry, and longest segment of a path.
pub const MAX_NAME: usize = 255;
/// Longest last segment of a path that `PUT` can create: a store keeps an
/// unfinished upload beside the final name under a longer one (Wirekit's
/// `.NAME.wkpart`, 8 bytes more), and disks allow [`MAX_NAME`].
pub const MAX_PUT_NAME: usize = MAX_NAME - 8;
/// Longest human-readable text of an `ERR`; longer texts are cut when encoded.
pub const MAX_MESSAGE: usize = 200;
/// Largest body of one `DATA` message.
pub const MAX_CHUNK: usize = 64 * 1024;
/// Most entries in one listing.
pub const MAX_ENTRIES: u32 = 1024;
/// Largest file size and offset the machines accept.
pub const MAX_FILE_SIZE: u64 = 1 << 40;
// ANCHOR_END: limits

/// The longest encoded message: a header line, its end, a full body and its end.
pub const MAX_MESSAGE_BYTES: usize = MAX_LINE + 2 + MAX_CHUNK + 2;

/// A BLAKE3-256 digest of a whole file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest of `bytes`, in one go (tests; machines hash incrementally).
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(*blake3::hash(bytes).as_bytes())
    }

    fn from_hex(hex: &[u8]) -> Option<Digest> {
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            let hi = char::from(*pair.first()?).to_digit(16)?;
            let lo = char::from(*pair.get(1)?).to_digit(16)?;
            *byte = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(Digest(out))
    }
}

impl From<blake3::Hash> for Digest {
    fn from(h: blake3::Hash) -> Digest {
        Digest(*h.as_bytes())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// A file's version token (WKFT/1.1): it changes whenever the file's bytes
/// may have, so a client can tell the file it resumes or verifies is still
/// the one it began with. Opaque: sixteen hex digits on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Version(pub u64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({self})")
    }
}

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A complete file.
    File,
    /// A directory (size 0).
    Dir,
    /// No complete file, but a kept upload of `size` bytes that `PUT` can resume.
    Partial,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Partial => "partial",
        }
    }

    fn from_word(w: &[u8]) -> Option<Kind> {
        [Kind::File, Kind::Dir, Kind::Partial]
            .into_iter()
            .find(|k| k.word().as_bytes().eq_ignore_ascii_case(w))
    }
}

/// The answer to `STAT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    /// What is there.
    pub kind: Kind,
    /// Bytes in the file, or kept of a partial; 0 for a directory.
    pub size: u64,
    /// *(1.1)* A complete file's version, as `FILE` would name it.
    #[serde(default)]
    pub version: Option<Version>,
}

impl Stat {
    /// What is there, with no version.
    pub const fn of(kind: Kind, size: u64) -> Stat {
        Stat {
            kind,
            size,
            version: None,
        }
    }
}

/// One line of a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The name inside the listed directory (no `/`).
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// As in [`Stat::size`].
    pub size: u64,
}

// ANCHOR: codes
/// Why a request failed: the numeric code of `ERR <code> <message>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// 400: malformed, out of turn, unsupported version, bad offset.
    BadRequest,
    /// 403: the store refuses the path.
    Denied,
    /// 404: no such file or directory, or no partial to resume.
    NotFound,
    /// 409: `PUT` of a path that holds a complete file.
    Exists,
    /// 413: a size or length over its limit.
    TooLarge,
    /// 422: an upload's digest or byte count does not match; nothing committed.
    Mismatch,
    /// 500: the store failed.
    Internal,
    /// 503: the path is in use; try later.
    Busy,
    /// 416 (WKFT/1.1): an offset past the end of the file or the size.
    BadOffset,
    /// 423 (WKFT/1.1): the path is locked by another session's upload.
    Locked,
    /// 412 (WKFT/1.1): the file is not the version asked for, or changed
    /// while it was being sent; nothing it sent can be trusted.
    Changed,
    /// 501 (WKFT/1.1): a request this server does not implement; the
    /// session goes on.
    NotImplemented,
    /// 408: a request line not complete within the server's deadline;
    /// the session closes.
    RequestTimeout,
    /// 505 (WKFT/1.1): a `HELLO` version this server does not speak; the
    /// session stays open for another `HELLO`.
    VersionNotSupported,
    /// 499 (WKFT/1.1): a `GET` stopped by the client's `CANCEL`; the
    /// session goes on.
    Cancelled,
    /// 507 (WKFT/1.1): the server has no room for the upload (its disk,
    /// its quota, or its caps on partials); a 1.0 session gets 413.
    InsufficientStorage,
    /// A code this side does not know, read by its class: 4xx the request
    /// was refused, 5xx the server failed (WKFT/1.1 clients).
    Other(u16),
}
// ANCHOR_END: codes

impl ErrorCode {
    /// Every code this side knows, in numeric order.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::BadRequest,
        ErrorCode::Denied,
        ErrorCode::NotFound,
        ErrorCode::RequestTimeout,
        ErrorCode::Exists,
        ErrorCode::Changed,
        ErrorCode::TooLarge,
        ErrorCode::BadOffset,
        ErrorCode::Mismatch,
        ErrorCode::Locked,
        ErrorCode::Cancelled,
        ErrorCode::Internal,
        ErrorCode::NotImplemented,
        ErrorCode::Busy,
        ErrorCode::VersionNotSupported,
        ErrorCode::InsufficientStorage,
    ];

    /// The number on the wire.
    pub const fn code(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Denied => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::Exists => 409,
            ErrorCode::Changed => 412,
            ErrorCode::TooLarge => 413,
            ErrorCode::Mismatch => 422,
            ErrorCode::BadOffset => 416,
            ErrorCode::Locked => 423,
            ErrorCode::Internal => 500,
            ErrorCode::NotImplemented => 501,
            ErrorCode::Busy => 503,
            ErrorCode::VersionNotSupported => 505,
            ErrorCode::Cancelled => 499,
            ErrorCode::InsufficientStorage => 507,
            ErrorCode::Other(n) => n,
        }
    }

    /// Whether the code is one of the 4xx class: the request was refused
    /// (the others, 5xx, are the server's own failures).
    pub const fn is_refusal(self) -> bool {
        self.code() < 500
    }

    // ANCHOR: fatal
    /// Whether the code is of WKFT/1.1's fatal class: the server closes the
    /// session after it. `400` (a broken or unexpected message, too much
    /// input), `408` (too slow), and the ranges `480..=489` and `580..=589`
    /// kept for later fatal codes, so that a client knows even from a code it
    /// has never seen whether its session survived.
    pub const fn is_fatal(self) -> bool {
        matches!(self.code(), 400 | 408 | 480..=489 | 580..=589)
    }
    // ANCHOR_END: fatal

    /// The code with that number, if this side knows it.
    pub fn from_code(n: u16) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.code() == n)
    }

    /// Any code of the 4xx and 5xx classes, unknown ones as
    /// [`ErrorCode::Other`] (how a WKFT/1.1 client reads a later code).
    pub fn by_class(n: u16) -> Option<ErrorCode> {
        Self::from_code(n).or(((400..600).contains(&n)).then_some(ErrorCode::Other(n)))
    }

    /// A short default text.
    pub const fn reason(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad request",
            ErrorCode::Denied => "denied",
            ErrorCode::NotFound => "not found",
            ErrorCode::RequestTimeout => "request timeout",
            ErrorCode::Exists => "exists",
            ErrorCode::Changed => "file changed",
            ErrorCode::TooLarge => "too large",
            ErrorCode::Mismatch => "mismatch",
            ErrorCode::Internal => "internal error",
            ErrorCode::BadOffset => "offset past the end",
            ErrorCode::Locked => "locked",
            ErrorCode::NotImplemented => "not implemented",
            ErrorCode::Busy => "busy",
            ErrorCode::VersionNotSupported => "version not supported",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::InsufficientStorage => "insufficient storage",
            ErrorCode::Other(n) if n < 500 => "refused",
            ErrorCode::Other(_) => "server error",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.reason())
    }
}

// ANCHOR: messages
/// What a client sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// `HELLO <version>`: the first message of a session.
    Hello { version: u32 },
    /// `LIST [<path> [<after>]]`: a directory, the root without a path;
    /// *(1.1)* only the entries whose names sort after `after` (the next
    /// page), with `.` for the root.
    List {
        path: Option<String>,
        after: Option<String>,
    },
    /// `STAT <path>`.
    Stat { path: String },
    /// `GET <path> [<offset> [<version>]]`: download, sending from
    /// `offset`; *(1.1)* only if the file is still `version` (a resume).
    Get {
        path: String,
        offset: u64,
        version: Option<Version>,
    },
    /// `PUT <path> <size> [<offset> [replace] [restart]]`: upload `size`
    /// bytes, sending from `offset`. WKFT/1.1's flags: `replace` lets the
    /// verified upload take the place of a complete file of that name;
    /// `restart` lets an upload from byte 0 discard another's partial.
    Put {
        path: String,
        size: u64,
        offset: u64,
        replace: bool,
        restart: bool,
    },
    /// `DELETE <path>` (WKFT/1.1): remove a file, or a partial of that name.
    Delete { path: String },
    /// `NOOP` (WKFT/1.1): answered with `OK`; keeps an idle session alive.
    Noop,
    /// `CANCEL` (WKFT/1.1): stop the `GET` in flight; it ends with
    /// `ERR 499`, or, if it had already ended, `CANCEL` is answered `OK`.
    Cancel,
    /// `DATA <length>` and a body: the next bytes of an upload.
    Data(Bytes),
    /// `DONE <digest>`: the end of an upload, the digest of the whole file.
    Done { digest: Digest },
    /// `QUIT`.
    Quit,
}

/// What a server sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// `HELLO <version> [<feature>…]`: features only in WKFT/1.1.
    Hello { version: u32, features: Vec<String> },
    /// `OK` (WKFT/1.1): a `DELETE` or `NOOP` succeeded.
    Ok,
    /// `ENTRIES <count> [more]`: that many `ENTRY` lines follow; *(1.1)*
    /// `more`: the listing goes on after the last of them.
    Entries { count: u32, more: bool },
    /// `ENTRY <kind> <size> <name>`.
    Entry(Entry),
    /// `STAT <kind> <size>`.
    Stat(Stat),
    /// `FILE <size> <offset> [<version>]`: a download starts; *(1.1)* the
    /// file's version token.
    File {
        size: u64,
        offset: u64,
        version: Option<Version>,
    },
    /// `DATA <length>` and a body: the next bytes of a download.
    Data(Bytes),
    /// `DONE <digest>`: a download is complete.
    Done { digest: Digest },
    /// `READY <offset> [<digest>]`: send upload data from `offset`;
    /// *(1.1)* a resume gets the digest of the kept prefix, to check before
    /// sending more.
    Ready { offset: u64, prefix: Option<Digest> },
    /// `STORED <size> <digest>`: the upload is verified and committed.
    Stored { size: u64, digest: Digest },
    /// `ERR <code> <message>`.
    Error { code: ErrorCode, message: String },
    /// `BYE`: the server closes.
    Bye,
}
// ANCHOR_END: messages

/// A message a peer sent that breaks the grammar or a limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireError {
    /// A header line longer than [`MAX_LINE`].
    LineTooLong,
    /// The keyword is not one this side understands.
    UnknownKeyword,
    /// Missing, extra or malformed arguments.
    BadArguments,
    /// A number with non-digits or over 64 bits.
    BadNumber,
    /// A path or name that is empty, not UTF-8, or holds a space or control character.
    BadPath,
    /// A path longer than [`MAX_PATH`].
    PathTooLong,
    /// A listing name longer than [`MAX_NAME`].
    NameTooLong,
    /// A `DATA` length of 0 or over [`MAX_CHUNK`].
    BadChunkLength,
    /// A body not followed by a line end.
    MissingBodyEnd,
    /// A digest that is not 64 hex digits.
    BadDigest,
    /// An `ERR` code version 1 does not define.
    UnknownErrorCode,
    /// An `ERR` text over [`MAX_MESSAGE`] bytes or not UTF-8.
    BadMessage,
    /// An `ENTRIES` count over [`MAX_ENTRIES`].
    TooManyEntries,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            WireError::LineTooLong => "header line longer than MAX_LINE",
            WireError::UnknownKeyword => "unknown message",
            WireError::BadArguments => "malformed arguments",
            WireError::BadNumber => "malformed number",
            WireError::BadPath => "malformed path",
            WireError::PathTooLong => "path longer than MAX_PATH",
            WireError::NameTooLong => "name longer than MAX_NAME",
            WireError::BadChunkLength => "DATA length must be 1..=MAX_CHUNK",
            WireError::MissingBodyEnd => "no line end after the body",
            WireError::BadDigest => "digest is not 64 hex digits",
            WireError::UnknownErrorCode => "unknown error code",
            WireError::BadMessage => "malformed error text",
            WireError::TooManyEntries => "more than MAX_ENTRIES entries",
        };
        f.write_str(s)
    }
}

impl core::error::Error for WireError {}

impl<I> ParseError<I> for WireError {
    fn from_error_kind(_input: I, _kind: ErrorKind) -> Self {
        WireError::BadArguments
    }
    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a [u8], T, WireError>;

fn fail<T>(e: WireError) -> Result<T, Err<WireError>> {
    Err(Err::Failure(e))
}

// ANCHOR: header_line
/// Skips empty lines (nothing but blanks before the line end), then takes
/// one header line without its end. Blanks before the keyword and after
/// the last argument are allowed, as the grammar's `*WSP` says, so that a
/// line a person typed with a stray space is read as they meant it.
fn header_line(mut input: &[u8]) -> Res<'_, &[u8]> {
    loop {
        // Look no further than a full line could reach: a peer that never
        // sends a newline is refused once it is clearly over the limit.
        let window = &input[..input.len().min(MAX_LINE + 2)];
        let Some(end) = window.iter().position(|b| *b == b'\n') else {
            if window.len() <= MAX_LINE + 1 {
                return Err(Err::Incomplete(Needed::new(1)));
            }
            return fail(WireError::LineTooLong);
        };
        let (line, rest) = (&input[..end], &input[end + 1..]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > MAX_LINE {
            return fail(WireError::LineTooLong);
        }
        if line.iter().all(|b| is_blank(*b)) {
            input = rest;
            continue;
        }
        return Ok((rest, line));
    }
}
// ANCHOR_END: header_line

/// A body of `len` bytes and the line end after it.
fn body(input: &[u8], len: usize) -> Res<'_, Bytes> {
    let (rest, bytes) = nom::bytes::streaming::take(len)(input)?;
    let rest = match rest {
        [] | [b'\r'] => return Err(Err::Incomplete(Needed::Unknown)),
        [b'\n', r @ ..] | [b'\r', b'\n', r @ ..] => r,
        _ => return fail(WireError::MissingBodyEnd),
    };
    Ok((rest, Bytes::copy_from_slice(bytes)))
}

/// The words of a header line: the keyword and its arguments.
struct Words<'a> {
    rest: &'a [u8],
    /// The session's path syntax: percent-encoded in WKFT/1.1.
    escaped: bool,
}

impl<'a> Words<'a> {
    fn new(line: &'a [u8], version: u32) -> Self {
        Words {
            rest: line,
            escaped: version >= VERSION_1_1,
        }
    }

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|b| !is_blank(*b))?;
        let rest = self.rest.get(start..)?;
        let end = rest.iter().position(|b| is_blank(*b)).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        self.rest = tail;
        Some(word)
    }

    /// The rest of the line without the blanks around it (the text of `ERR`).
    fn tail(&mut self) -> &'a [u8] {
        let start = self
            .rest
            .iter()
            .position(|b| !is_blank(*b))
            .unwrap_or(self.rest.len());
        let end = self
            .rest
            .iter()
            .rposition(|b| !is_blank(*b))
            .map_or(start, |e| e + 1);
        self.rest.get(start..end.max(start)).unwrap_or_default()
    }

    fn end(&mut self) -> Result<(), Err<WireError>> {
        match self.next() {
            None => Ok(()),
            Some(_) => fail(WireError::BadArguments),
        }
    }

    fn required(&mut self) -> Result<&'a [u8], Err<WireError>> {
        self.next().ok_or(Err::Failure(WireError::BadArguments))
    }

    fn path(&self, word: &[u8], limit: usize) -> Result<String, Err<WireError>> {
        decode_path(word, limit, self.escaped).map_err(Err::Failure)
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn number(word: &[u8]) -> Result<u64, Err<WireError>> {
    let digits: Res<'_, &[u8]> = nom::character::complete::digit1(word);
    match digits {
        Ok(([], d)) if d.len() <= 20 => core::str::from_utf8(d)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Err::Failure(WireError::BadNumber)),
        _ => fail(WireError::BadNumber),
    }
}

fn small<T: TryFrom<u64>>(word: &[u8]) -> Result<T, Err<WireError>> {
    T::try_from(number(word)?).map_err(|_| Err::Failure(WireError::BadNumber))
}

// ANCHOR: raw_char
/// Whether a path may carry `c` as it is. Not: white space (Unicode's
/// `White_Space`, so U+0085 and U+2028 as well as the space), control
/// characters (`Cc`) and format characters (`Cf`, invisible ones such as
/// U+200B and the bidirectional overrides): a listing a person reads must
/// not hide, break or reorder a name. WKFT/1.0 cannot express the others;
/// WKFT/1.1 percent-encodes them.
pub fn is_raw_char(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || is_format(c))
}
// ANCHOR_END: raw_char

/// Unicode 15.1's general category `Cf`.
fn is_format(c: char) -> bool {
    const CF: [(u32, u32); 21] = [
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    let n = u32::from(c);
    CF.iter().any(|&(lo, hi)| (lo..=hi).contains(&n))
}

fn too_long(limit: usize) -> WireError {
    if limit == MAX_NAME {
        WireError::NameTooLong
    } else {
        WireError::PathTooLong
    }
}

/// Checks a WKFT/1.0 path as it is on the wire (or, with `limit` =
/// [`MAX_NAME`], a listing name): UTF-8 of raw characters only
/// ([`is_raw_char`]), 1 to `limit` bytes.
pub fn check_path(path: &[u8], limit: usize) -> Result<&str, WireError> {
    let s = core::str::from_utf8(path).map_err(|_| WireError::BadPath)?;
    if s.is_empty() || !s.chars().all(is_raw_char) {
        return Err(WireError::BadPath);
    }
    if path.len() > limit {
        return Err(too_long(limit));
    }
    Ok(s)
}

/// Whether a session of `version` can carry `name` as a path (or, with
/// `limit` = [`MAX_NAME`], a listing name): WKFT/1.0 only raw characters,
/// WKFT/1.1 any text, percent-encoded where needed.
pub fn can_carry(name: &str, limit: usize, version: u32) -> Result<(), WireError> {
    if version < VERSION_1_1 {
        return check_path(name.as_bytes(), limit).map(|_| ());
    }
    if name.is_empty() {
        return Err(WireError::BadPath);
    }
    if name.len() > limit {
        return Err(too_long(limit));
    }
    Ok(())
}

// ANCHOR: decode_path
/// A path (or name) as the session's syntax writes it. WKFT/1.1: raw
/// characters other than `%`, and `%` with two hex digits for a byte; the
/// bytes must be UTF-8. The limit counts the decoded bytes. Form is checked
/// before length, so that a well-formed but long path is told apart (a 1.1
/// server refuses it and goes on).
fn decode_path(word: &[u8], limit: usize, escaped: bool) -> Result<String, WireError> {
    if !escaped {
        return check_path(word, limit).map(ToString::to_string);
    }
    let text = core::str::from_utf8(word).map_err(|_| WireError::BadPath)?;
    let mut out = Vec::with_capacity(word.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            let hi = chars.next().and_then(|h| h.to_digit(16));
            let lo = chars.next().and_then(|l| l.to_digit(16));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(WireError::BadPath);
            };
            out.push(u8::try_from(hi * 16 + lo).map_err(|_| WireError::BadPath)?);
        } else if is_raw_char(c) {
            let mut utf8 = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        } else {
            return Err(WireError::BadPath);
        }
    }
    let path = String::from_utf8(out).map_err(|_| WireError::BadPath)?;
    if path.is_empty() {
        return Err(WireError::BadPath);
    }
    if path.len() > limit {
        return Err(too_long(limit));
    }
    // WKFT/1.1 states the segment limit in the grammar, so that every
    // store answers a segment no disk can hold alike (413, session kept).
    if path.split('/').any(|seg| seg.len() > MAX_NAME) {
        return Err(WireError::NameTooLong);
    }
    Ok(path)
}
// ANCHOR_END: decode_path

/// Writes `path` in the session's syntax; `Err` if WKFT/1.0 cannot carry it.
fn encode_path(path: &str, limit: usize, escaped: bool) -> Result<String, EncodeError> {
    if !escaped {
        return check_path(path.as_bytes(), limit)
            .map(ToString::to_string)
            .map_err(EncodeError);
    }
    can_carry(path, limit, VERSION_1_1).map_err(EncodeError)?;
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c != '%' && is_raw_char(c) {
            out.push(c);
            continue;
        }
        let mut utf8 = [0; 4];
        for b in c.encode_utf8(&mut utf8).bytes() {
            use core::fmt::Write;
            // Writing into a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    Ok(out)
}

fn digest(word: &[u8]) -> Result<Digest, Err<WireError>> {
    Digest::from_hex(word).ok_or(Err::Failure(WireError::BadDigest))
}

fn version(word: &[u8]) -> Result<Version, Err<WireError>> {
    let hex = core::str::from_utf8(word)
        .ok()
        .filter(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    hex.and_then(|h| u64::from_str_radix(h, 16).ok())
        .map(Version)
        .ok_or(Err::Failure(WireError::BadArguments))
}

fn chunk_len(word: &[u8]) -> Result<usize, Err<WireError>> {
    match small::<usize>(word)? {
        n @ 1..=MAX_CHUNK => Ok(n),
        _ => fail(WireError::BadChunkLength),
    }
}

fn keyword(words: &mut Words<'_>) -> Result<String, Err<WireError>> {
    let word = words.required()?;
    if word.is_empty() || !word.iter().all(u8::is_ascii_alphabetic) {
        return fail(WireError::UnknownKeyword);
    }
    let mut k = String::from_utf8_lossy(word).into_owned();
    k.make_ascii_uppercase();
    Ok(k)
}

/// Parses one request from the front of `input` (streaming), in WKFT/1.0's
/// path syntax; [`request_in`] for a session's own.
pub fn request(input: &[u8]) -> Res<'_, Request> {
    request_in(input, VERSION)
}

// ANCHOR: parse_request
/// Parses one request from the front of `input` (streaming) in the syntax
/// of a session of `version`: WKFT/1.1 percent-encodes paths.
pub fn request_in(input: &[u8], revision: u32) -> Res<'_, Request> {
    let (rest, line) = header_line(input)?;
    let mut w = Words::new(line, revision);
    let req = match keyword(&mut w)?.as_str() {
        "HELLO" => Request::Hello {
            version: small(w.required()?)?,
        },
        "LIST" => {
            let path = w.next();
            let after = w.next();
            Request::List {
                path: path.map(|p| w.path(p, MAX_PATH)).transpose()?,
                after: after.map(|a| w.path(a, MAX_NAME)).transpose()?,
            }
        }
        "STAT" => Request::Stat {
            path: w.required().and_then(|p| w.path(p, MAX_PATH))?,
        },
        "GET" => Request::Get {
            path: w.required().and_then(|p| w.path(p, MAX_PATH))?,
            offset: w.next().map(number).transpose()?.unwrap_or(0),
            version: w.next().map(version).transpose()?,
        },
        "PUT" => {
            let path = w.required().and_then(|p| w.path(p, MAX_PATH))?;
            let size = number(w.required()?)?;
            let offset = w.next().map(number).transpose()?.unwrap_or(0);
            let (mut replace, mut restart) = (false, false);
            // Each flag at most once, in this order.
            let mut flag = w.next();
            if flag.is_some_and(|f| f.eq_ignore_ascii_case(b"replace")) {
                replace = true;
                flag = w.next();
            }
            if flag.is_some_and(|f| f.eq_ignore_ascii_case(b"restart")) {
                restart = true;
                flag = w.next();
            }
            if flag.is_some() {
                return fail(WireError::BadArguments);
            }
            Request::Put {
                path,
                size,
                offset,
                replace,
                restart,
            }
        }
        "DELETE" => Request::Delete {
            path: w.required().and_then(|p| w.path(p, MAX_PATH))?,
        },
        "NOOP" => Request::Noop,
        "CANCEL" => Request::Cancel,
        "DATA" => {
            let len = chunk_len(w.required()?)?;
            w.end()?;
            let (rest, bytes) = body(rest, len)?;
            return Ok((rest, Request::Data(bytes)));
        }
        "DONE" => Request::Done {
            digest: digest(w.required()?)?,
        },
        "QUIT" => Request::Quit,
        _ => return fail(WireError::UnknownKeyword),
    };
    w.end()?;
    Ok((rest, req))
}
// ANCHOR_END: parse_request

/// Parses one reply from the front of `input` (streaming), in WKFT/1.0's
/// path syntax; [`reply_in`] for a session's own.
pub fn reply(input: &[u8]) -> Res<'_, Reply> {
    reply_in(input, VERSION)
}

/// Parses one reply from the front of `input` (streaming) in the syntax of
/// a session of `version`.
pub fn reply_in(input: &[u8], revision: u32) -> Res<'_, Reply> {
    let (rest, line) = header_line(input)?;
    let mut w = Words::new(line, revision);
    let rep = match keyword(&mut w)?.as_str() {
        "HELLO" => {
            let version = small(w.required()?)?;
            let mut features = Vec::new();
            while let Some(word) = w.next() {
                features.push(feature(word)?);
            }
            return Ok((rest, Reply::Hello { version, features }));
        }
        "OK" => Reply::Ok,
        "ENTRIES" => {
            let count = small(w.required()?)?;
            if count > MAX_ENTRIES {
                return fail(WireError::TooManyEntries);
            }
            let more = match w.next() {
                None => false,
                Some(word) if word.eq_ignore_ascii_case(b"more") => true,
                Some(_) => return fail(WireError::BadArguments),
            };
            Reply::Entries { count, more }
        }
        "ENTRY" => {
            let kind = kind(w.required()?)?;
            let size = number(w.required()?)?;
            let name = w.required().and_then(|n| w.path(n, MAX_NAME))?;
            Reply::Entry(Entry { name, kind, size })
        }
        "STAT" => Reply::Stat(Stat {
            kind: kind(w.required()?)?,
            size: number(w.required()?)?,
            version: w.next().map(version).transpose()?,
        }),
        "FILE" => Reply::File {
            size: number(w.required()?)?,
            offset: number(w.required()?)?,
            version: w.next().map(version).transpose()?,
        },
        "DATA" => {
            let len = chunk_len(w.required()?)?;
            w.end()?;
            let (rest, bytes) = body(rest, len)?;
            return Ok((rest, Reply::Data(bytes)));
        }
        "DONE" => Reply::Done {
            digest: digest(w.required()?)?,
        },
        "READY" => Reply::Ready {
            offset: number(w.required()?)?,
            prefix: w.next().map(digest).transpose()?,
        },
        "STORED" => Reply::Stored {
            size: number(w.required()?)?,
            digest: digest(w.required()?)?,
        },
        "ERR" => {
            let code = small::<u16>(w.required()?)?;
            let code =
                ErrorCode::by_class(code).ok_or(Err::Failure(WireError::UnknownErrorCode))?;
            let text = w.tail();
            if text.len() > MAX_MESSAGE {
                return fail(WireError::BadMessage);
            }
            let message = core::str::from_utf8(text)
                .ok()
                .filter(|t| t.chars().all(is_text_char))
                .ok_or(Err::Failure(WireError::BadMessage))?
                .to_string();
            return Ok((rest, Reply::Error { code, message }));
        }
        "BYE" => Reply::Bye,
        _ => return fail(WireError::UnknownKeyword),
    };
    w.end()?;
    Ok((rest, rep))
}

/// Whether the text of an `ERR` may hold `c`: anything but control
/// characters (the tab aside) and the line and paragraph separators.
fn is_text_char(c: char) -> bool {
    c == '\t' || !(c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

/// A feature's name: lower-case letters and `-`, at most 32 of them.
fn feature(word: &[u8]) -> Result<String, Err<WireError>> {
    let fine = |b: &u8| b.is_ascii_lowercase() || *b == b'-';
    if word.is_empty() || word.len() > 32 || !word.iter().all(fine) {
        return fail(WireError::BadArguments);
    }
    Ok(String::from_utf8_lossy(word).into_owned())
}

/// The length of the header line at the front of `input`, line end
/// included, if a whole one is there: how a WKFT/1.1 server skips a request
/// it does not implement and answers `501` instead of closing.
pub fn line_len(input: &[u8]) -> Option<usize> {
    match header_line(input) {
        Ok((rest, _)) => Some(input.len() - rest.len()),
        Err(_) => None,
    }
}

fn kind(word: &[u8]) -> Result<Kind, Err<WireError>> {
    Kind::from_word(word).ok_or(Err::Failure(WireError::BadArguments))
}

/// A local message that cannot be encoded: a field breaks a limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodeError(pub WireError);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot encode: {}", self.0)
    }
}

impl core::error::Error for EncodeError {}

struct Line<'a>(&'a mut BytesMut);

impl Line<'_> {
    fn word(&mut self, w: impl fmt::Display) -> &mut Self {
        use core::fmt::Write;
        if !self.0.is_empty() && !self.0.ends_with(b"\n") {
            self.0.put_u8(b' ');
        }
        // Writing into a BytesMut cannot fail.
        let _ = write!(Writer(self.0), "{w}");
        self
    }
    /// A trailing argument that only some messages carry (WKFT/1.1's).
    fn word_if(&mut self, w: Option<impl fmt::Display>) -> &mut Self {
        match w {
            Some(w) => self.word(w),
            None => self,
        }
    }
    fn end(&mut self) {
        self.0.put_u8(b'\n');
    }
}

struct Writer<'a>(&'a mut BytesMut);

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

fn check_body(b: &Bytes) -> Result<(), EncodeError> {
    if b.is_empty() || b.len() > MAX_CHUNK {
        return Err(EncodeError(WireError::BadChunkLength));
    }
    Ok(())
}

fn put_body(out: &mut BytesMut, b: &Bytes) {
    Line(out).word("DATA").word(b.len()).end();
    out.put_slice(b);
    out.put_u8(b'\n');
}

/// A chunk, checked first so that nothing can fail once writing starts:
/// it then goes straight into `out`, copied once rather than twice (a
/// quarter GiB GET spent 5.7% of the server's time in memmove; `perf
/// record` in the performance chapter).
fn encode_body(b: &Bytes, out: &mut BytesMut) -> Result<(), EncodeError> {
    check_body(b)?;
    out.reserve(b.len() + 24);
    put_body(out, b);
    Ok(())
}

/// A header line built, checked against [`MAX_LINE`]: a WKFT/1.1 path can
/// take three bytes a character once encoded, and no peer reads a longer line.
fn finish_line(buf: BytesMut, out: &mut BytesMut) -> Result<(), EncodeError> {
    if buf.len() > MAX_LINE + 1 {
        return Err(EncodeError(WireError::LineTooLong));
    }
    out.extend_from_slice(&buf);
    Ok(())
}

/// An `ERR` text fit for one line: trimmed, control characters and line
/// separators become spaces, and the text is cut to [`MAX_MESSAGE`] bytes
/// on a character boundary.
pub fn clean_message(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = if c == '\t' || !is_text_char(c) {
            ' '
        } else {
            c
        };
        if out.len() + c.len_utf8() > MAX_MESSAGE {
            break;
        }
        out.push(c);
    }
    // The parser drops blanks around the text, so the encoder does too.
    let trimmed = out.trim_matches(|c: char| c == ' ' || c == '\t');
    String::from(trimmed)
}

impl Request {
    /// Appends the encoding to `out` in WKFT/1.0's path syntax; on error
    /// nothing is appended. [`Request::encode_in`] for a session's own.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.encode_in(out, VERSION)
    }

    /// Appends the encoding to `out` in the syntax of a session of
    /// `version` (WKFT/1.1 percent-encodes paths); on error nothing is
    /// appended.
    pub fn encode_in(&self, out: &mut BytesMut, version: u32) -> Result<(), EncodeError> {
        if let Request::Data(b) = self {
            return encode_body(b, out);
        }
        let esc = version >= VERSION_1_1;
        let checked = |p: &str| encode_path(p, MAX_PATH, esc);
        let mut buf = BytesMut::new();
        let mut l = Line(&mut buf);
        match self {
            Request::Hello { version } => l.word("HELLO").word(version).end(),
            Request::List { path, after } => {
                let l = l.word("LIST");
                match (path, after) {
                    (None, None) => {}
                    (Some(p), None) => {
                        l.word(checked(p)?);
                    }
                    (p, Some(a)) => {
                        let a = encode_path(a, MAX_NAME, esc)?;
                        let p = p.as_deref().map_or(Ok(String::from(".")), checked)?;
                        l.word(p).word(a);
                    }
                }
                l.end();
            }
            Request::Stat { path } => l.word("STAT").word(checked(path)?).end(),
            Request::Get {
                path,
                offset,
                version,
            } => {
                l.word("GET").word(checked(path)?).word(offset);
                l.word_if(*version).end();
            }
            Request::Put {
                path,
                size,
                offset,
                replace,
                restart,
            } => {
                let l = l.word("PUT").word(checked(path)?).word(size);
                if *offset > 0 || *replace || *restart {
                    l.word(offset);
                }
                if *replace {
                    l.word("replace");
                }
                if *restart {
                    l.word("restart");
                }
                l.end();
            }
            Request::Delete { path } => l.word("DELETE").word(checked(path)?).end(),
            Request::Noop => l.word("NOOP").end(),
            Request::Cancel => l.word("CANCEL").end(),
            // Encoded above, without the line buffer.
            Request::Data(_) => {}
            Request::Done { digest } => l.word("DONE").word(digest).end(),
            Request::Quit => l.word("QUIT").end(),
        }
        finish_line(buf, out)
    }
}

impl Reply {
    /// Appends the encoding to `out` in WKFT/1.0's path syntax; on error
    /// nothing is appended. An `ERR` text is cleaned with [`clean_message`]
    /// rather than refused. [`Reply::encode_in`] for a session's own syntax.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.encode_in(out, VERSION)
    }

    /// Appends the encoding to `out` in the syntax of a session of
    /// `version` (WKFT/1.1 percent-encodes names); on error nothing is
    /// appended.
    pub fn encode_in(&self, out: &mut BytesMut, version: u32) -> Result<(), EncodeError> {
        if let Reply::Data(b) = self {
            return encode_body(b, out);
        }
        let mut buf = BytesMut::new();
        let mut l = Line(&mut buf);
        match self {
            Reply::Hello { version, features } => {
                let l = l.word("HELLO").word(version);
                for f in features {
                    feature(f.as_bytes()).map_err(|_| EncodeError(WireError::BadArguments))?;
                    l.word(f);
                }
                l.end();
            }
            Reply::Ok => l.word("OK").end(),
            Reply::Entries { count, more } => {
                if *count > MAX_ENTRIES {
                    return Err(EncodeError(WireError::TooManyEntries));
                }
                let l = l.word("ENTRIES").word(count);
                if *more {
                    l.word("more");
                }
                l.end();
            }
            Reply::Entry(e) => {
                let name = encode_path(&e.name, MAX_NAME, version >= VERSION_1_1)?;
                l.word("ENTRY")
                    .word(e.kind.word())
                    .word(e.size)
                    .word(name)
                    .end();
            }
            Reply::Stat(s) => {
                l.word("STAT").word(s.kind.word()).word(s.size);
                l.word_if(s.version).end();
            }
            Reply::File {
                size,
                offset,
                version,
            } => {
                l.word("FILE")
                    .word(size)
                    .word(offset)
                    .word_if(*version)
                    .end();
            }
            // Encoded above, without the line buffer.
            Reply::Data(_) => {}
            Reply::Done { digest } => l.word("DONE").word(digest).end(),
            Reply::Ready { offset, prefix } => {
                l.word("READY").word(offset).word_if(*prefix).end();
            }
            Reply::Stored { size, digest } => l.word("STORED").word(size).word(digest).end(),
            Reply::Error { code, message } => {
                let l = l.word("ERR").word(code.code());
                let text = clean_message(message);
                if !text.is_empty() {
                    l.word(text);
                }
                l.end();
            }
            Reply::Bye => l.word("BYE").end(),
        }
        finish_line(buf, out)
    }
}

#[cfg(test)]
mod tests;

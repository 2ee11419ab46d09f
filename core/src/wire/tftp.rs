//! TFTP packets (RFC 1350) with options (RFC 2347, 2348, 2349, 7440).
//!
//! Every TFTP packet is one UDP datagram that starts with a big-endian
//! 16-bit opcode:
//!
//! | opcode | packet | rest of the datagram |
//! |---|---|---|
//! | 1 | RRQ | filename NUL mode NUL { option NUL value NUL } |
//! | 2 | WRQ | as RRQ |
//! | 3 | DATA | block (u16), 0 to blksize bytes |
//! | 4 | ACK | block (u16) |
//! | 5 | ERROR | code (u16), message NUL |
//! | 6 | OACK | { option NUL value NUL } |
//!
//! A datagram is whole or lost, so the parsers here are *complete* parsers:
//! a short packet is an error, not "need more". Mode and option names are
//! compared without regard to case; options are kept as the peer spelled
//! them ([`TftpOption`]), so an option this crate does not know survives
//! parsing and the machines can ignore it, and an answer can echo the
//! peer's spelling. What the values mean is decided in
//! [`crate::tftp::options`].
//!
//! Netascii translation lives in [`netascii`].

pub mod netascii;

use alloc::string::String;
use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;
use nom::Parser;
use nom::bytes::complete::take_till;
use nom::number::complete::be_u16;
use serde::{Deserialize, Serialize};

// ANCHOR: limits
/// The block size of RFC 1350, used when no `blksize` is negotiated.
pub const DEFAULT_BLKSIZE: u16 = 512;
/// The smallest block size RFC 2348 allows.
pub const MIN_BLKSIZE: u16 = 8;
/// The largest block size RFC 2348 allows (a UDP datagram over IPv4 minus headers).
pub const MAX_BLKSIZE: u16 = 65464;
/// Longest filename accepted in a request.
pub const MAX_FILENAME: usize = 512;
/// Most options in one request or OACK.
pub const MAX_OPTIONS: usize = 16;
/// Longest option name or value.
pub const MAX_OPTION_TEXT: usize = 64;
/// Longest ERROR message kept (longer ones are cut on parse and encode).
pub const MAX_ERROR_MESSAGE: usize = 255;
/// Longest mode name (`netascii` is 8; anything longer is not a mode).
pub const MAX_MODE: usize = 16;
/// The largest datagram a valid TFTP packet needs: a DATA of the largest block.
pub const MAX_PACKET: usize = 4 + MAX_BLKSIZE as usize;
// ANCHOR_END: limits

/// The opcodes.
pub mod opcode {
    /// Read request.
    pub const RRQ: u16 = 1;
    /// Write request.
    pub const WRQ: u16 = 2;
    /// A block of data.
    pub const DATA: u16 = 3;
    /// Acknowledgement of a block.
    pub const ACK: u16 = 4;
    /// The transfer ends with an error.
    pub const ERROR: u16 = 5;
    /// Option acknowledgement (RFC 2347).
    pub const OACK: u16 = 6;
}

/// How file contents travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Bytes as they are.
    #[default]
    Octet,
    /// Text: lines end in CR LF on the wire, a lone CR is CR NUL (see [`netascii`]).
    Netascii,
}

impl Mode {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Octet => "octet",
            Mode::Netascii => "netascii",
        }
    }
}

/// A TFTP error code (RFC 1350 and 2347).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// 0: not defined, see the message.
    NotDefined,
    /// 1: file not found.
    FileNotFound,
    /// 2: access violation.
    AccessViolation,
    /// 3: disk full or allocation exceeded.
    DiskFull,
    /// 4: illegal TFTP operation.
    IllegalOperation,
    /// 5: unknown transfer ID.
    UnknownTid,
    /// 6: file already exists.
    FileExists,
    /// 7: no such user.
    NoSuchUser,
    /// 8: the transfer should end during option negotiation (RFC 2347).
    OptionRefused,
    /// Any other code.
    Other(u16),
}

impl ErrorCode {
    /// What the code means (RFC 1350, RFC 2347): a server may cut its
    /// message short rather than answer with more bytes than it was sent.
    pub fn meaning(self) -> &'static str {
        match self {
            ErrorCode::NotDefined => "not defined",
            ErrorCode::FileNotFound => "file not found",
            ErrorCode::AccessViolation => "access violation",
            ErrorCode::DiskFull => "disk full",
            ErrorCode::IllegalOperation => "illegal operation",
            ErrorCode::UnknownTid => "unknown transfer ID",
            ErrorCode::FileExists => "file exists",
            ErrorCode::NoSuchUser => "no such user",
            ErrorCode::OptionRefused => "options refused",
            ErrorCode::Other(_) => "unknown code",
        }
    }

    /// The number on the wire.
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::NotDefined => 0,
            ErrorCode::FileNotFound => 1,
            ErrorCode::AccessViolation => 2,
            ErrorCode::DiskFull => 3,
            ErrorCode::IllegalOperation => 4,
            ErrorCode::UnknownTid => 5,
            ErrorCode::FileExists => 6,
            ErrorCode::NoSuchUser => 7,
            ErrorCode::OptionRefused => 8,
            ErrorCode::Other(n) => n,
        }
    }

    /// The code for a number.
    pub fn from_code(n: u16) -> Self {
        match n {
            0 => ErrorCode::NotDefined,
            1 => ErrorCode::FileNotFound,
            2 => ErrorCode::AccessViolation,
            3 => ErrorCode::DiskFull,
            4 => ErrorCode::IllegalOperation,
            5 => ErrorCode::UnknownTid,
            6 => ErrorCode::FileExists,
            7 => ErrorCode::NoSuchUser,
            8 => ErrorCode::OptionRefused,
            n => ErrorCode::Other(n),
        }
    }

    /// RFC 1350's description.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::NotDefined | ErrorCode::Other(_) => "not defined",
            ErrorCode::FileNotFound => "file not found",
            ErrorCode::AccessViolation => "access violation",
            ErrorCode::DiskFull => "disk full or allocation exceeded",
            ErrorCode::IllegalOperation => "illegal TFTP operation",
            ErrorCode::UnknownTid => "unknown transfer ID",
            ErrorCode::FileExists => "file already exists",
            ErrorCode::NoSuchUser => "no such user",
            ErrorCode::OptionRefused => "option negotiation refused",
        }
    }
}

/// The options this crate understands (compared without regard to case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OptionKind {
    /// RFC 2348: bytes per DATA block.
    Blksize,
    /// RFC 2349: retransmission timeout in seconds.
    Timeout,
    /// RFC 2349: the file's size in bytes.
    Tsize,
    /// RFC 7440: blocks sent before waiting for an ACK.
    Windowsize,
    /// Block number after 65535: 0 (the default) or 1 (tftp-hpa's `rollover`).
    Rollover,
}

impl OptionKind {
    /// Every known option.
    pub const ALL: [OptionKind; 5] = [
        OptionKind::Blksize,
        OptionKind::Timeout,
        OptionKind::Tsize,
        OptionKind::Windowsize,
        OptionKind::Rollover,
    ];

    /// The name we send (lower case).
    pub fn name(self) -> &'static str {
        match self {
            OptionKind::Blksize => "blksize",
            OptionKind::Timeout => "timeout",
            OptionKind::Tsize => "tsize",
            OptionKind::Windowsize => "windowsize",
            OptionKind::Rollover => "rollover",
        }
    }

    /// The option named `name`, in any case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }
}

/// One option as the peer wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TftpOption {
    /// The name, in the peer's spelling.
    pub name: String,
    /// The value, as text.
    pub value: String,
}

impl TftpOption {
    /// An option from a name and a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        TftpOption {
            name: name.into(),
            value: value.into(),
        }
    }

    /// A known option with a numeric value, spelled our way.
    pub fn number(kind: OptionKind, value: u64) -> Self {
        let mut text = String::new();
        let _ = fmt::Write::write_fmt(&mut text, format_args!("{value}"));
        TftpOption::new(kind.name(), text)
    }

    /// Which known option this is, if any.
    pub fn kind(&self) -> Option<OptionKind> {
        OptionKind::from_name(&self.name)
    }

    /// The value as a decimal number: digits only, at most 20 of them,
    /// fitting in a `u64`. Anything else is `None`.
    pub fn value_u64(&self) -> Option<u64> {
        let v = self.value.as_bytes();
        if v.is_empty() || v.len() > 20 || !v.iter().all(u8::is_ascii_digit) {
            return None;
        }
        v.iter().try_fold(0u64, |acc, d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
    }
}

/// A read or write request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The file, as the client named it.
    pub filename: String,
    /// Transfer mode.
    pub mode: Mode,
    /// Options in the order sent, unknown ones included.
    pub options: Vec<TftpOption>,
}

/// Any TFTP packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Packet {
    /// Read request.
    Rrq(Request),
    /// Write request.
    Wrq(Request),
    /// A block of data.
    Data {
        /// Block number (wraps after 65535).
        block: u16,
        /// 0 to blksize bytes.
        data: Bytes,
    },
    /// Acknowledges a block (0: the WRQ, or the OACK of an RRQ).
    Ack {
        /// Block number.
        block: u16,
    },
    /// The sender gives up on the transfer.
    Error {
        /// Why.
        code: ErrorCode,
        /// For a person; lossy UTF-8, cut to [`MAX_ERROR_MESSAGE`] bytes.
        message: String,
    },
    /// Option acknowledgement: the options accepted, with their values.
    Oack {
        /// Options in the order sent.
        options: Vec<TftpOption>,
    },
}

/// Why a datagram is not a TFTP packet we accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParseError {
    /// Fewer than the bytes this packet type needs.
    TooShort,
    /// An opcode outside 1 to 6.
    UnknownOpcode(u16),
    /// A text field without its NUL terminator.
    Unterminated,
    /// A filename, mode or option that is not UTF-8.
    NotUtf8,
    /// An empty filename.
    EmptyFilename,
    /// A filename over [`MAX_FILENAME`] bytes.
    FilenameTooLong,
    /// A mode other than octet and netascii (RFC 1350's `mail` included).
    UnknownMode(String),
    /// More than [`MAX_OPTIONS`] options.
    TooManyOptions,
    /// An option name or value over [`MAX_OPTION_TEXT`] bytes, or an empty name.
    BadOption,
    /// An option name without a value.
    OptionWithoutValue,
    /// A DATA packet with more than [`MAX_BLKSIZE`] bytes.
    DataTooLong,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooShort => f.write_str("packet too short"),
            ParseError::UnknownOpcode(op) => write!(f, "unknown opcode {op}"),
            ParseError::Unterminated => f.write_str("text field without its NUL"),
            ParseError::NotUtf8 => f.write_str("text field is not UTF-8"),
            ParseError::EmptyFilename => f.write_str("empty filename"),
            ParseError::FilenameTooLong => {
                write!(f, "filename longer than {MAX_FILENAME} bytes")
            }
            ParseError::UnknownMode(m) => write!(f, "unknown mode {m:?}"),
            ParseError::TooManyOptions => write!(f, "more than {MAX_OPTIONS} options"),
            ParseError::BadOption => {
                write!(
                    f,
                    "empty option name, or option over {MAX_OPTION_TEXT} bytes"
                )
            }
            ParseError::OptionWithoutValue => f.write_str("option without a value"),
            ParseError::DataTooLong => write!(f, "DATA with more than {MAX_BLKSIZE} bytes"),
        }
    }
}

impl core::error::Error for ParseError {}

/// A packet that cannot be encoded: a field breaks a limit or holds a NUL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EncodeError {
    /// A filename, option name or value that is empty where it must not be,
    /// holds a NUL, or is too long.
    BadText,
    /// More than [`MAX_OPTIONS`] options.
    TooManyOptions,
    /// DATA over [`MAX_BLKSIZE`] bytes.
    DataTooLong,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncodeError::BadText => "text field empty, too long or holding a NUL",
            EncodeError::TooManyOptions => "too many options",
            EncodeError::DataTooLong => "DATA block too long",
        })
    }
}

impl core::error::Error for EncodeError {}

type Res<'a, T> = Result<(&'a [u8], T), ParseError>;

/// A NUL-terminated field (the NUL is consumed, not returned).
fn cstr(input: &[u8]) -> Res<'_, &[u8]> {
    let parsed: nom::IResult<&[u8], &[u8]> = take_till(|b| b == 0).parse(input);
    let (rest, field) = parsed.map_err(|_| ParseError::Unterminated)?;
    match rest.split_first() {
        Some((0, rest)) => Ok((rest, field)),
        _ => Err(ParseError::Unterminated),
    }
}

fn utf8(bytes: &[u8]) -> Result<String, ParseError> {
    core::str::from_utf8(bytes)
        .map(String::from)
        .map_err(|_| ParseError::NotUtf8)
}

fn options(mut input: &[u8]) -> Result<Vec<TftpOption>, ParseError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        if out.len() == MAX_OPTIONS {
            return Err(ParseError::TooManyOptions);
        }
        let (rest, name) = cstr(input)?;
        if rest.is_empty() {
            return Err(ParseError::OptionWithoutValue);
        }
        let (rest, value) = cstr(rest)?;
        if name.is_empty() || name.len() > MAX_OPTION_TEXT || value.len() > MAX_OPTION_TEXT {
            return Err(ParseError::BadOption);
        }
        out.push(TftpOption {
            name: utf8(name)?,
            value: utf8(value)?,
        });
        input = rest;
    }
    Ok(out)
}

fn mode(bytes: &[u8]) -> Result<Mode, ParseError> {
    if bytes.eq_ignore_ascii_case(b"octet") {
        Ok(Mode::Octet)
    } else if bytes.eq_ignore_ascii_case(b"netascii") {
        Ok(Mode::Netascii)
    } else {
        let cut = bytes.get(..MAX_MODE).unwrap_or(bytes);
        Err(ParseError::UnknownMode(String::from_utf8_lossy(cut).into()))
    }
}

fn request(input: &[u8]) -> Result<Request, ParseError> {
    let (rest, filename) = cstr(input)?;
    if filename.is_empty() {
        return Err(ParseError::EmptyFilename);
    }
    if filename.len() > MAX_FILENAME {
        return Err(ParseError::FilenameTooLong);
    }
    let (rest, mode_name) = cstr(rest)?;
    Ok(Request {
        filename: utf8(filename)?,
        mode: mode(mode_name)?,
        options: options(rest)?,
    })
}

fn error_message(bytes: &[u8]) -> String {
    // Lenient: some stacks leave out the NUL; stop at the first one if any.
    let text = bytes.split(|b| *b == 0).next().unwrap_or_default();
    let mut cut = text.get(..MAX_ERROR_MESSAGE).unwrap_or(text);
    // Do not split a UTF-8 sequence when cutting.
    while core::str::from_utf8(cut).is_err_and(|e| e.error_len().is_none()) {
        cut = cut.get(..cut.len().saturating_sub(1)).unwrap_or_default();
    }
    // Invalid bytes become U+FFFD, three bytes each: cut again, so that the
    // message re-encodes to exactly what it says (found by fuzzing).
    let mut text: String = String::from_utf8_lossy(cut).into();
    let mut end = text.len().min(MAX_ERROR_MESSAGE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn u16_field(input: &[u8]) -> Res<'_, u16> {
    let parsed: nom::IResult<&[u8], u16> = be_u16(input);
    parsed.map_err(|_| ParseError::TooShort)
}

// ANCHOR: parse
/// Reads one datagram. Never panics; anything unexpected is a [`ParseError`].
///
/// Lenient where real stacks differ: bytes after an ACK's block number are
/// ignored, and an ERROR message may lack its NUL.
pub fn parse(datagram: &[u8]) -> Result<Packet, ParseError> {
    let (rest, op) = u16_field(datagram)?;
    match op {
        opcode::RRQ => Ok(Packet::Rrq(request(rest)?)),
        opcode::WRQ => Ok(Packet::Wrq(request(rest)?)),
        opcode::DATA => {
            let (data, block) = u16_field(rest)?;
            if data.len() > usize::from(MAX_BLKSIZE) {
                return Err(ParseError::DataTooLong);
            }
            Ok(Packet::Data {
                block,
                data: Bytes::copy_from_slice(data),
            })
        }
        opcode::ACK => {
            let (_, block) = u16_field(rest)?;
            Ok(Packet::Ack { block })
        }
        opcode::ERROR => {
            let (text, code) = u16_field(rest)?;
            Ok(Packet::Error {
                code: ErrorCode::from_code(code),
                message: error_message(text),
            })
        }
        opcode::OACK => Ok(Packet::Oack {
            options: options(rest)?,
        }),
        other => Err(ParseError::UnknownOpcode(other)),
    }
}
// ANCHOR_END: parse

/// The opcode and block number of a DATA packet, without copying its data:
/// the hot path of a receiver. `None` if the datagram is not a DATA packet
/// of at most [`MAX_BLKSIZE`] bytes.
pub fn peek_data(datagram: &[u8]) -> Option<(u16, &[u8])> {
    match datagram {
        [0, 3, hi, lo, data @ ..] if data.len() <= usize::from(MAX_BLKSIZE) => {
            Some((u16::from_be_bytes([*hi, *lo]), data))
        }
        _ => None,
    }
}

fn put_text(
    out: &mut BytesMut,
    text: &str,
    max: usize,
    may_be_empty: bool,
) -> Result<(), EncodeError> {
    if text.len() > max || text.as_bytes().contains(&0) || (!may_be_empty && text.is_empty()) {
        return Err(EncodeError::BadText);
    }
    out.put_slice(text.as_bytes());
    out.put_u8(0);
    Ok(())
}

fn put_options(out: &mut BytesMut, options: &[TftpOption]) -> Result<(), EncodeError> {
    if options.len() > MAX_OPTIONS {
        return Err(EncodeError::TooManyOptions);
    }
    for o in options {
        put_text(out, &o.name, MAX_OPTION_TEXT, false)?;
        put_text(out, &o.value, MAX_OPTION_TEXT, true)?;
    }
    Ok(())
}

fn put_request(out: &mut BytesMut, op: u16, r: &Request) -> Result<(), EncodeError> {
    out.put_u16(op);
    put_text(out, &r.filename, MAX_FILENAME, false)?;
    put_text(out, r.mode.name(), MAX_MODE, false)?;
    put_options(out, &r.options)
}

impl Packet {
    /// The packet's opcode.
    pub fn opcode(&self) -> u16 {
        match self {
            Packet::Rrq(_) => opcode::RRQ,
            Packet::Wrq(_) => opcode::WRQ,
            Packet::Data { .. } => opcode::DATA,
            Packet::Ack { .. } => opcode::ACK,
            Packet::Error { .. } => opcode::ERROR,
            Packet::Oack { .. } => opcode::OACK,
        }
    }

    /// Appends the packet to `out`. On error `out` may hold part of it:
    /// encode into a fresh buffer.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Packet::Rrq(r) => put_request(out, opcode::RRQ, r),
            Packet::Wrq(r) => put_request(out, opcode::WRQ, r),
            Packet::Data { block, data } => {
                if data.len() > usize::from(MAX_BLKSIZE) {
                    return Err(EncodeError::DataTooLong);
                }
                encode_data(*block, data, out);
                Ok(())
            }
            Packet::Ack { block } => {
                encode_ack(*block, out);
                Ok(())
            }
            Packet::Error { code, message } => {
                encode_error(*code, message, out);
                Ok(())
            }
            Packet::Oack { options } => {
                out.put_u16(opcode::OACK);
                put_options(out, options)
            }
        }
    }

    /// The packet as a fresh datagram.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::new();
        self.encode(&mut out)?;
        Ok(out.freeze())
    }
}

/// Appends a DATA packet. The caller keeps `data` within the block size.
pub fn encode_data(block: u16, data: &[u8], out: &mut BytesMut) {
    out.reserve(4 + data.len());
    out.put_u16(opcode::DATA);
    out.put_u16(block);
    out.put_slice(data);
}

/// Appends an ACK packet.
pub fn encode_ack(block: u16, out: &mut BytesMut) {
    out.put_u16(opcode::ACK);
    out.put_u16(block);
}

/// Appends an ERROR packet. NULs in `message` end it early and it is cut to
/// [`MAX_ERROR_MESSAGE`] bytes (at a character boundary), so this cannot fail.
pub fn encode_error(code: ErrorCode, message: &str, out: &mut BytesMut) {
    out.put_u16(opcode::ERROR);
    out.put_u16(code.code());
    let text = message.split('\0').next().unwrap_or_default();
    let mut end = text.len().min(MAX_ERROR_MESSAGE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.put_slice(text.get(..end).unwrap_or_default().as_bytes());
    out.put_u8(0);
}

/// An ACK as a fresh datagram.
pub fn ack_bytes(block: u16) -> Bytes {
    let mut out = BytesMut::with_capacity(4);
    encode_ack(block, &mut out);
    out.freeze()
}

/// An ERROR as a fresh datagram.
pub fn error_bytes(code: ErrorCode, message: &str) -> Bytes {
    let mut out = BytesMut::new();
    encode_error(code, message, &mut out);
    out.freeze()
}

#[cfg(test)]
mod tests;

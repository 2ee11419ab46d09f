//! KV/1 on the wire: one request or response per line, text a person can
//! type with `nc`.
//!
//! ```text
//! request  = ( "SET" SP key SP value / "GET" SP key / "DEL" SP key / "QUIT" ) LF
//! response = ( "OK" / "VALUE" SP value / "NOTFOUND" / "DELETED" / "BYE" / "ERR" SP value ) LF
//! key      = 1*64 VISIBLE           ; printable ASCII, no space
//! value    = *400 ( VISIBLE / SP )
//! VISIBLE  = %x21-7E
//! SP       = %x20
//! LF       = %x0A                   ; a CR before it is accepted
//! ```
//!
//! Each line ends in LF (a CR before it is accepted). Parsing never
//! panics and never allocates more than the line it was given.

use bytes::{BufMut, BytesMut};
use std::fmt;

// ANCHOR: limits
/// Longest line, either way, without its ending: `SET`, a key, a value.
pub const MAX_LINE: usize = 4 + MAX_KEY + 1 + MAX_VALUE;
/// Longest key.
pub const MAX_KEY: usize = 64;
/// Longest value.
pub const MAX_VALUE: usize = 400;
// ANCHOR_END: limits

// ANCHOR: messages
/// What a client asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Store `value` under `key`.
    Set { key: String, value: String },
    /// The value under `key`.
    Get { key: String },
    /// Forget `key`.
    Del { key: String },
    /// End the session.
    Quit,
}

/// What a server answers, one per request, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Stored.
    Ok,
    /// The value asked for.
    Value(String),
    /// No such key.
    NotFound,
    /// Forgotten.
    Deleted,
    /// The session ends.
    Bye,
    /// The request was refused; why. The server closes after it.
    Err(String),
}
// ANCHOR_END: messages

/// Why a line is not a valid KV/1 message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadLine {
    /// Not one of the verbs.
    UnknownVerb,
    /// The verb's key (or value) is missing, or something follows it.
    WrongShape,
    /// A key is empty, longer than [`MAX_KEY`], or not printable ASCII.
    BadKey,
    /// A value longer than [`MAX_VALUE`], or not printable ASCII.
    BadValue,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BadLine::UnknownVerb => "unknown verb",
            BadLine::WrongShape => "wrong number of words",
            BadLine::BadKey => "bad key",
            BadLine::BadValue => "bad value",
        })
    }
}

impl std::error::Error for BadLine {}

fn key(bytes: &[u8]) -> Result<String, BadLine> {
    let printable = bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    if bytes.is_empty() || bytes.len() > MAX_KEY || !printable {
        return Err(BadLine::BadKey);
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn value(bytes: &[u8]) -> Result<String, BadLine> {
    let printable = bytes.iter().all(|b| (0x20..=0x7e).contains(b));
    if bytes.len() > MAX_VALUE || !printable {
        return Err(BadLine::BadValue);
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// The verb of `line` and what follows its first space.
fn verb(line: &[u8]) -> (&[u8], Option<&[u8]>) {
    match line.iter().position(|&b| b == b' ') {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line, None),
    }
}

// ANCHOR: parse_request
/// Reads one request line (without its ending).
pub fn parse_request(line: &[u8]) -> Result<Request, BadLine> {
    let (word, rest) = verb(line);
    match (word, rest) {
        (b"SET", Some(rest)) => {
            let (k, v) = verb(rest);
            let v = v.ok_or(BadLine::WrongShape)?;
            Ok(Request::Set {
                key: key(k)?,
                value: value(v)?,
            })
        }
        (b"GET", Some(k)) => Ok(Request::Get { key: key(k)? }),
        (b"DEL", Some(k)) => Ok(Request::Del { key: key(k)? }),
        (b"QUIT", None) => Ok(Request::Quit),
        (b"SET" | b"GET" | b"DEL" | b"QUIT", _) => Err(BadLine::WrongShape),
        _ => Err(BadLine::UnknownVerb),
    }
}
// ANCHOR_END: parse_request

/// Reads one response line (without its ending).
pub fn parse_response(line: &[u8]) -> Result<Response, BadLine> {
    match verb(line) {
        (b"OK", None) => Ok(Response::Ok),
        (b"VALUE", Some(v)) => Ok(Response::Value(value(v)?)),
        (b"NOTFOUND", None) => Ok(Response::NotFound),
        (b"DELETED", None) => Ok(Response::Deleted),
        (b"BYE", None) => Ok(Response::Bye),
        (b"ERR", Some(why)) => Ok(Response::Err(value(why)?)),
        (b"OK" | b"VALUE" | b"NOTFOUND" | b"DELETED" | b"BYE" | b"ERR", _) => {
            Err(BadLine::WrongShape)
        }
        _ => Err(BadLine::UnknownVerb),
    }
}

impl Request {
    /// Checks the fields, as [`parse_request`] would: what a client must do
    /// before it sends a request built in code.
    pub fn check(&self) -> Result<(), BadLine> {
        match self {
            Request::Set { key: k, value: v } => key(k.as_bytes()).and(value(v.as_bytes())),
            Request::Get { key: k } | Request::Del { key: k } => key(k.as_bytes()),
            Request::Quit => Ok(String::new()),
        }
        .map(|_| ())
    }
}

// ANCHOR: encode
/// Writes `request` as one line. Call [`Request::check`] first: an
/// unchecked field is written as it is.
pub fn encode_request(request: &Request, out: &mut BytesMut) {
    match request {
        Request::Set { key, value } => line(out, &["SET", key, value]),
        Request::Get { key } => line(out, &["GET", key]),
        Request::Del { key } => line(out, &["DEL", key]),
        Request::Quit => line(out, &["QUIT"]),
    }
}

// ANCHOR_END: encode

/// Writes `response` as one line.
pub fn encode_response(response: &Response, out: &mut BytesMut) {
    match response {
        Response::Ok => line(out, &["OK"]),
        Response::Value(v) => line(out, &["VALUE", v]),
        Response::NotFound => line(out, &["NOTFOUND"]),
        Response::Deleted => line(out, &["DELETED"]),
        Response::Bye => line(out, &["BYE"]),
        Response::Err(why) => line(out, &["ERR", why]),
    }
}

fn line(out: &mut BytesMut, words: &[&str]) {
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.put_u8(b' ');
        }
        out.put_slice(w.as_bytes());
    }
    out.put_u8(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_reads_as_written() {
        let set = parse_request(b"SET colour dark blue").expect("valid");
        assert_eq!(
            set,
            Request::Set {
                key: "colour".into(),
                value: "dark blue".into()
            }
        );
        assert_eq!(parse_request(b"QUIT"), Ok(Request::Quit));
        assert_eq!(parse_request(b"SET colour"), Err(BadLine::WrongShape));
        assert_eq!(parse_request(b"GET a b"), Err(BadLine::BadKey));
        assert_eq!(parse_request(b"get a"), Err(BadLine::UnknownVerb));
        assert_eq!(parse_request(b"QUIT now"), Err(BadLine::WrongShape));
        let long = format!("GET {}", "k".repeat(MAX_KEY + 1));
        assert_eq!(parse_request(long.as_bytes()), Err(BadLine::BadKey));
        assert_eq!(
            parse_response(b"VALUE "),
            Ok(Response::Value(String::new()))
        );
        assert_eq!(
            parse_response(b"ERR full"),
            Ok(Response::Err("full".into()))
        );
    }
}

//! Echo's wire formats.
//!
//! RFC 862 echo has no format: the bytes come back as they went. The classic tutorials'
//! two variants do have one, and here it is:
//!
//! - *hello* (a stream of lines): the server greets `Welcome!`, answers each
//!   line `msg` with `Hello, msg!`, and closes on the line `exit`;
//! - *ack* (datagrams): the server answers each datagram with
//!   `Your data was N bytes`.
//!
//! Lines end in CR LF when we send them; either LF or CR LF is accepted.

use bytes::{BufMut, BytesMut};
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::tag;
use nom::character::complete::u64 as dec_u64;
use nom::combinator::{all_consuming, rest};
use nom::sequence::{delimited, preceded};

/// The longest hello-mode line, either way, without its line end.
pub const MAX_LINE: usize = 1024;

/// The largest UDP payload over IPv4 (65,535 − 8 − 20).
pub const MAX_DATAGRAM: usize = 65_507;

/// The hello server's first line.
pub const GREETING: &[u8] = b"Welcome!";

/// The line that ends a hello session.
pub const EXIT: &[u8] = b"exit";

/// Writes one line and its CR LF.
pub fn encode_line(line: &[u8], out: &mut BytesMut) {
    out.reserve(line.len() + 2);
    out.put_slice(line);
    out.put_slice(b"\r\n");
}

// ANCHOR: hello_reply
/// The hello server's answer to `msg`: `Hello, msg!` (without the line end).
pub fn hello_reply(msg: &[u8], out: &mut BytesMut) {
    out.reserve(msg.len() + 8);
    out.put_slice(b"Hello, ");
    out.put_slice(msg);
    out.put_slice(b"!");
}
// ANCHOR_END: hello_reply

/// The message inside a hello reply line, if the line is one.
pub fn parse_hello_reply(line: &[u8]) -> Option<&[u8]> {
    let inner: IResult<&[u8], &[u8]> =
        all_consuming(preceded(tag(&b"Hello, "[..]), rest)).parse(line);
    let (_, inner) = inner.ok()?;
    inner.strip_suffix(b"!")
}

/// The ack server's answer to a datagram of `len` bytes.
pub fn ack(len: usize, out: &mut BytesMut) {
    use core::fmt::Write;
    let mut text = alloc::string::String::new();
    // Writing to a String cannot fail.
    let _ = write!(text, "Your data was {len} bytes");
    out.put_slice(text.as_bytes());
}

/// The byte count in an ack datagram, if the datagram is one.
pub fn parse_ack(datagram: &[u8]) -> Option<u64> {
    let parsed: IResult<&[u8], u64> = all_consuming(delimited(
        tag(&b"Your data was "[..]),
        dec_u64,
        tag(&b" bytes"[..]),
    ))
    .parse(datagram);
    parsed.ok().map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats() {
        let mut out = BytesMut::new();
        hello_reply(b"world", &mut out);
        assert_eq!(&out[..], b"Hello, world!");
        assert_eq!(parse_hello_reply(&out), Some(&b"world"[..]));
        assert_eq!(parse_hello_reply(b"Hello, world"), None);
        let mut out = BytesMut::new();
        ack(18, &mut out);
        assert_eq!(&out[..], b"Your data was 18 bytes");
        assert_eq!(parse_ack(&out), Some(18));
        assert_eq!(parse_ack(b"Your data was 18 bytes!"), None);
        assert_eq!(
            parse_ack(b"Your data was 99999999999999999999999 bytes"),
            None
        );
    }

    proptest! {
        // ANCHOR: round_trip
        #[test]
        fn hello_round_trip(msg in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut out = BytesMut::new();
            hello_reply(&msg, &mut out);
            prop_assert_eq!(parse_hello_reply(&out), Some(&msg[..]));
        }
        // ANCHOR_END: round_trip

        #[test]
        fn ack_round_trip(n in any::<u64>()) {
            let mut out = BytesMut::new();
            ack(n as usize, &mut out);
            prop_assert_eq!(parse_ack(&out), Some(n as usize as u64));
        }

        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = parse_ack(&bytes);
            let _ = parse_hello_reply(&bytes);
        }
    }
}

//! Timestamp wire formats: RFC 868 time, RFC 867 daytime, and the classic tutorials'
//! stamped echo.
//!
//! - **time** is four bytes, big-endian: seconds since 1900-01-01 00:00 UTC,
//!   modulo 2³². The count wraps on 2036-02-07 06:28:16 UTC, so a reader
//!   takes a value with the top bit clear as the era after the wrap (1968 to
//!   2104 is covered without ambiguity).
//! - **daytime** is one line of text with no fixed syntax. We send RFC 867's
//!   example layout, `Sunday, November 22, 2026 10:30:43-UTC`, and read that,
//!   xinetd's `22 NOV 2026 13:58:14 UTC` and C's ctime layout; any other line
//!   is kept as text, since a server may say the time however it likes.
//! - **stamped echo** answers `data` with `[Sun Nov 22 10:30:43 2026] : data`.

use crate::calendar::{DateTime, month_from_name, weekday_from_name};
use crate::time::UnixTime;
use alloc::string::String;
use bytes::{BufMut, BytesMut};
use core::fmt::Write;
use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_until, take_while1};
use nom::character::complete::{char, i64 as dec_i64, space0, space1, u8 as dec_u8};
use nom::combinator::{all_consuming, opt, rest};
use nom::sequence::terminated;
use nom::{IResult, Needed};
use serde::{Deserialize, Serialize};

// ANCHOR: rfc868
/// Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01 (Unix's).
pub const RFC868_OFFSET: i64 = 2_208_988_800;

/// The RFC 868 value a server sends at `unix` seconds.
pub fn time_value(unix: i64) -> u32 {
    // Modulo 2^32, and rem_euclid keeps times before 1900 in range too.
    (i128::from(unix) + i128::from(RFC868_OFFSET)).rem_euclid(1 << 32) as u32
}

/// The Unix second an RFC 868 value stands for, reading a value with the top
/// bit clear as the era that began 2036-02-07 06:28:16 UTC.
pub fn unix_from_time_value(value: u32) -> i64 {
    let since_1900 = if value & 0x8000_0000 != 0 {
        i64::from(value)
    } else {
        i64::from(value) + (1 << 32)
    };
    since_1900 - RFC868_OFFSET
}
// ANCHOR_END: rfc868

/// The four bytes of an RFC 868 reply.
pub const TIME_LEN: usize = 4;

/// The longest daytime reply a client keeps, in bytes.
pub const MAX_DAYTIME: usize = 512;

/// The longest stamped-echo line, either way, without its line end.
pub const MAX_STAMP_LINE: usize = 1024;

/// Streaming parse of an RFC 868 value: "incomplete" until four bytes are in.
pub fn parse_time(input: &[u8]) -> IResult<&[u8], u32> {
    match input {
        [a, b, c, d, rest @ ..] => Ok((rest, u32::from_be_bytes([*a, *b, *c, *d]))),
        _ => Err(nom::Err::Incomplete(Needed::new(TIME_LEN - input.len()))),
    }
}

/// Writes an RFC 868 value.
pub fn encode_time(value: u32, out: &mut BytesMut) {
    out.put_u32(value);
}

/// Writes Wirekit's daytime line for `unix` seconds, with its CR LF.
pub fn encode_daytime(unix: i64, out: &mut BytesMut) {
    let mut line = String::new();
    let _ = write!(line, "{}\r\n", DateTime::from_unix(unix).daytime());
    out.put_slice(line.as_bytes());
}

/// What a daytime server said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Daytime {
    /// A line in a layout we know, and the time it names.
    Parsed {
        /// The time, to the second.
        time: UnixTime,
        /// The line as received (lossy UTF-8, without the line end).
        text: String,
    },
    /// A line in a layout we do not know: RFC 867 allows any.
    Text(String),
}

type Res<'a, T> = IResult<&'a [u8], T>;

fn hms(input: &[u8]) -> Res<'_, (u8, u8, u8)> {
    (dec_u8, char(':'), dec_u8, char(':'), dec_u8)
        .map(|(h, _, m, _, s)| (h, m, s))
        .parse(input)
}

fn word(input: &[u8]) -> Res<'_, &[u8]> {
    take_while1(|b: u8| b.is_ascii_alphabetic())(input)
}

fn month(input: &[u8]) -> Res<'_, u8> {
    word.map_opt(month_from_name).parse(input)
}

fn weekday(input: &[u8]) -> Res<'_, u8> {
    word.map_opt(weekday_from_name).parse(input)
}

fn checked(date: (i64, u8, u8), time: (u8, u8, u8)) -> Option<i64> {
    DateTime::new(date.0, date.1, date.2, time.0, time.1, time.2)
        .ok()?
        .to_unix()
        .ok()
}

/// `Sunday, November 22, 2026 10:30:43-UTC` (ours, RFC 867's example).
fn rfc867_layout(input: &[u8]) -> Res<'_, i64> {
    (
        terminated(weekday, (char(','), space1)),
        terminated(month, space1),
        terminated(dec_u8, (char(','), space1)),
        terminated(dec_i64, space1),
        hms,
        opt(tag(&b"-UTC"[..])),
    )
        .map_opt(|(_, mo, d, y, t, _)| checked((y, mo, d), t))
        .parse(input)
}

/// `22 NOV 2026 13:58:14 UTC` (xinetd's).
fn xinetd_layout(input: &[u8]) -> Res<'_, i64> {
    (
        terminated(dec_u8, space1),
        terminated(month, space1),
        terminated(dec_i64, space1),
        hms,
        opt((space1, tag(&b"UTC"[..]))),
    )
        .map_opt(|(d, mo, y, t, _)| checked((y, mo, d), t))
        .parse(input)
}

/// `Sun Nov 22 10:30:43 2026` (C's ctime, with one or two spaces before the day).
fn ctime_layout(input: &[u8]) -> Res<'_, i64> {
    (
        terminated(weekday, space1),
        terminated(month, space1),
        terminated(dec_u8, space1),
        terminated(hms, space1),
        dec_i64,
    )
        .map_opt(|(_, mo, d, t, y)| checked((y, mo, d), t))
        .parse(input)
}

/// Reads one daytime line (without its line end). Never fails: an unknown
/// layout is [`Daytime::Text`].
pub fn parse_daytime(line: &[u8]) -> Daytime {
    let text = String::from_utf8_lossy(line).into_owned();
    let trimmed = line.trim_ascii();
    let known: Res<'_, i64> = all_consuming(terminated(
        alt((rfc867_layout, xinetd_layout, ctime_layout)),
        space0,
    ))
    .parse(trimmed);
    match known {
        Ok((_, secs)) => Daytime::Parsed {
            time: UnixTime::from_secs(secs),
            text,
        },
        Err(_) => Daytime::Text(text),
    }
}

// ANCHOR: stamp
/// Writes the stamped echo of `data` at `unix` seconds: `[ctime] : data`.
pub fn encode_stamp(unix: i64, data: &[u8], out: &mut BytesMut) {
    let mut head = String::new();
    let _ = write!(head, "[{}] : ", DateTime::from_unix(unix).ctime());
    out.reserve(head.len() + data.len());
    out.put_slice(head.as_bytes());
    out.put_slice(data);
}
// ANCHOR_END: stamp

/// Reads a stamped echo: the time in the brackets and the data after.
pub fn parse_stamp(reply: &[u8]) -> Option<(UnixTime, &[u8])> {
    let parsed: Res<'_, (&[u8], &[u8])> = (
        tag(&b"["[..]),
        take_until(&b"] : "[..]),
        tag(&b"] : "[..]),
        rest,
    )
        .map(|(_, stamp, _, data)| (stamp, data))
        .parse(reply);
    let (_, (stamp, data)) = parsed.ok()?;
    let (_, secs) = all_consuming(ctime_layout).parse(stamp).ok()?;
    Some((UnixTime::from_secs(secs), data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(y: i64, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> i64 {
        DateTime::new(y, mo, d, h, mi, s)
            .unwrap()
            .to_unix()
            .unwrap()
    }

    #[test]
    fn rfc868_fixed_points() {
        assert_eq!(time_value(0), 2_208_988_800);
        assert_eq!(unix_from_time_value(2_208_988_800), 0);
        assert_eq!(time_value(at(1980, 1, 1, 0, 0, 0)), 2_524_521_600);
        assert_eq!(unix_from_time_value(2_524_521_600), at(1980, 1, 1, 0, 0, 0));
        // The wrap: one second before, at, and after 2036-02-07 06:28:16.
        let wrap = at(2036, 2, 7, 6, 28, 16);
        assert_eq!(time_value(wrap - 1), u32::MAX);
        assert_eq!(time_value(wrap), 0);
        assert_eq!(time_value(wrap + 1), 1);
        assert_eq!(unix_from_time_value(u32::MAX), wrap - 1);
        assert_eq!(unix_from_time_value(0), wrap);
        assert_eq!(unix_from_time_value(1), wrap + 1);
    }

    #[test]
    fn daytime_layouts() {
        let t = at(2026, 11, 22, 13, 58, 14);
        for line in [
            &b"Sunday, November 22, 2026 13:58:14-UTC"[..],
            b"22 NOV 2026 13:58:14 UTC",
            b"Sun Nov 22 13:58:14 2026",
            b"  22 NOV 2026 13:58:14 UTC ",
        ] {
            match parse_daytime(line) {
                Daytime::Parsed { time, .. } => assert_eq!(time.secs(), t),
                other => panic!("{other:?} for {line:?}"),
            }
        }
        assert!(matches!(
            parse_daytime(b"it is late"),
            Daytime::Text(s) if s == "it is late"
        ));
        // Valid shape, impossible date: kept as text, never a wrong time.
        assert!(matches!(
            parse_daytime(b"31 FEB 2026 13:58:14 UTC"),
            Daytime::Text(_)
        ));
    }

    #[test]
    fn time_parser_streams() {
        assert!(matches!(
            parse_time(&[1, 2, 3]),
            Err(nom::Err::Incomplete(_))
        ));
        assert_eq!(parse_time(&[0, 0, 1, 0, 9]), Ok((&[9u8][..], 256)));
    }

    #[test]
    fn stamp_layout() {
        let mut out = BytesMut::new();
        encode_stamp(at(2026, 11, 22, 10, 30, 43), b"hi", &mut out);
        assert_eq!(&out[..], b"[Sun Nov 22 10:30:43 2026] : hi");
        let (time, data) = parse_stamp(&out).unwrap();
        assert_eq!(time.secs(), at(2026, 11, 22, 10, 30, 43));
        assert_eq!(data, b"hi");
        assert_eq!(parse_stamp(b"[yesterday] : hi"), None);
    }

    proptest! {
        #[test]
        fn time_round_trip_within_the_two_eras(unix in (-(1i64 << 31) + 1)..((1i64 << 32) + (1 << 31) - RFC868_OFFSET)) {
            // 1968-01-20 .. 2104-02-26: the span the top-bit rule covers.
            prop_assume!(unix >= -RFC868_OFFSET + (1 << 31));
            let v = time_value(unix);
            let mut out = BytesMut::new();
            encode_time(v, &mut out);
            let (rest, parsed) = parse_time(&out).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(unix_from_time_value(parsed), unix);
        }

        #[test]
        fn daytime_round_trip(unix in -(1i64 << 40)..(1i64 << 40)) {
            let mut out = BytesMut::new();
            encode_daytime(unix, &mut out);
            let line = out.strip_suffix(b"\r\n").unwrap();
            match parse_daytime(line) {
                Daytime::Parsed { time, .. } => prop_assert_eq!(time.secs(), unix),
                Daytime::Text(t) => prop_assert!(false, "not parsed: {}", t),
            }
        }

        #[test]
        fn stamp_round_trip(unix in 0i64..(1i64 << 36), data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut out = BytesMut::new();
            encode_stamp(unix, &data, &mut out);
            let (time, got) = parse_stamp(&out).unwrap();
            prop_assert_eq!(time.secs(), unix);
            prop_assert_eq!(got, &data[..]);
        }

        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = parse_daytime(&bytes);
            let _ = parse_stamp(&bytes);
            let _ = parse_time(&bytes);
        }
    }
}

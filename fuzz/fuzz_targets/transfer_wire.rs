//! WKFT/1 parsers, in both versions' path syntax: any bytes in any pieces — no panic, and the same messages
//! (and the same final error) as one pass over the joined input. Whatever
//! parses re-encodes to something that parses to the same message.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wirekit_core::wire::transfer::{VERSION, VERSION_1_1, WireError, reply_in, request_in};

/// A version-aware streaming parser of requests or replies.
type Parser<T> = fn(&[u8], u32) -> nom::IResult<&[u8], T, WireError>;

/// Messages parsed from `pieces` fed one after another, keeping the
/// unparsed tail, and the error that stopped parsing, if any.
fn pieces_parse<T>(
    pieces: &[Vec<u8>],
    version: u32,
    parse: Parser<T>,
) -> (Vec<T>, Option<WireError>) {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match parse(&buf, version) {
                Ok((rest, msg)) => {
                    let used = buf.len() - rest.len();
                    assert!(used > 0);
                    buf.drain(..used);
                    out.push(msg);
                }
                Err(nom::Err::Incomplete(_)) => break,
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

fuzz_target!(|pieces: Vec<Vec<u8>>| {
    let joined = vec![pieces.concat()];
    // WKFT/1.0's raw paths and 1.1's percent-encoded ones.
    for version in [VERSION, VERSION_1_1] {
        let (split, e1) = pieces_parse(&pieces, version, request_in);
        let (whole, e2) = pieces_parse(&joined, version, request_in);
        assert_eq!((&split, &e1), (&whole, &e2));
        for m in &split {
            let mut b = BytesMut::new();
            m.encode_in(&mut b, version)
                .expect("a parsed request encodes");
            assert_eq!(&request_in(&b, version).expect("and parses back").1, m);
        }
        let (split, e1) = pieces_parse(&pieces, version, reply_in);
        let (whole, e2) = pieces_parse(&joined, version, reply_in);
        assert_eq!((&split, &e1), (&whole, &e2));
        for m in &split {
            let mut b = BytesMut::new();
            m.encode_in(&mut b, version)
                .expect("a parsed reply encodes");
            let back = reply_in(&b, version).expect("and parses back").1;
            if !matches!(m, wirekit_core::wire::transfer::Reply::Error { .. }) {
                assert_eq!(&back, m);
            }
        }
    }
});

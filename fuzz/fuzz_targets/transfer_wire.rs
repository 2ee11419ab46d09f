//! WKFT/1 parsers: any bytes in any pieces — no panic, and the same messages
//! (and the same final error) as one pass over the joined input. Whatever
//! parses re-encodes to something that parses to the same message.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wirekit_core::wire::transfer::{WireError, reply, request};

/// Messages parsed from `pieces` fed one after another, keeping the
/// unparsed tail, and the error that stopped parsing, if any.
fn pieces_parse<T>(
    pieces: &[Vec<u8>],
    parse: impl Fn(&[u8]) -> nom::IResult<&[u8], T, WireError>,
) -> (Vec<T>, Option<WireError>) {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match parse(&buf) {
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
    let (split, e1) = pieces_parse(&pieces, request);
    let (whole, e2) = pieces_parse(&joined, request);
    assert_eq!((&split, &e1), (&whole, &e2));
    for m in &split {
        let mut b = BytesMut::new();
        m.encode(&mut b).expect("a parsed request encodes");
        assert_eq!(&request(&b).expect("and parses back").1, m);
    }
    let (split, e1) = pieces_parse(&pieces, reply);
    let (whole, e2) = pieces_parse(&joined, reply);
    assert_eq!((&split, &e1), (&whole, &e2));
    for m in &split {
        let mut b = BytesMut::new();
        m.encode(&mut b).expect("a parsed reply encodes");
        let back = reply(&b).expect("and parses back").1;
        if !matches!(m, wirekit_core::wire::transfer::Reply::Error { .. }) {
            assert_eq!(&back, m);
        }
    }
});

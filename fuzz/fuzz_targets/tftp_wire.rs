//! TFTP packets and netascii: any datagram parses or fails without a panic;
//! whatever parses re-encodes to a datagram that parses to the same packet;
//! the server's `accept` never panics and answers only what it can parse;
//! netascii decoding is the same however the wire bytes are split.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wirekit_core::tftp::server::{ServerConfig, accept};
use wirekit_core::wire::tftp::{netascii, parse};

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (datagram, cuts) = input;
    if let Ok(p) = parse(&datagram) {
        let again = p.to_bytes().expect("a parsed packet encodes");
        assert_eq!(parse(&again).as_ref(), Ok(&p));
    }
    let config = ServerConfig {
        allow_write: true,
        ..ServerConfig::default()
    };
    match accept(&datagram, &config) {
        Ok(_) => assert!(parse(&datagram).is_ok()),
        Err(refusal) => {
            if let Some(reply) = refusal.reply {
                assert!(parse(&reply).is_ok(), "replies are valid ERROR packets");
            }
        }
    }
    // Netascii: the same output for any split of the wire bytes.
    let whole = netascii::decode_all(&datagram);
    let mut d = netascii::Decoder::new();
    let mut out = BytesMut::new();
    let mut start = 0;
    for c in cuts {
        let end = (start + usize::from(c)).min(datagram.len());
        d.decode(&datagram[start..end], &mut out);
        start = end;
    }
    d.decode(&datagram[start..], &mut out);
    d.finish(&mut out);
    assert_eq!(out, whole);
    // And encoding then decoding gives the input back.
    let mut wire = BytesMut::new();
    netascii::encode(&datagram, &mut wire);
    assert_eq!(&netascii::decode_all(&wire)[..], &datagram[..]);
});

//! Echo and timestamp parsers on arbitrary bytes: no panic, and what parses
//! re-encodes to the same meaning.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wirekit_core::wire::{echo, timestamp};

fuzz_target!(|data: &[u8]| {
    if let Some(n) = echo::parse_ack(data) {
        let mut out = BytesMut::new();
        echo::ack(n as usize, &mut out);
        assert_eq!(echo::parse_ack(&out), Some(n));
    }
    if let Some(msg) = echo::parse_hello_reply(data) {
        let mut out = BytesMut::new();
        echo::hello_reply(msg, &mut out);
        assert_eq!(&out[..], data);
    }
    if let timestamp::Daytime::Parsed { time, .. } = timestamp::parse_daytime(data) {
        let mut out = BytesMut::new();
        timestamp::encode_daytime(time.secs(), &mut out);
        let line = out.strip_suffix(b"\r\n").unwrap_or(&out);
        assert!(matches!(
            timestamp::parse_daytime(line),
            timestamp::Daytime::Parsed { time: t, .. } if t == time
        ));
    }
    if let Some((time, rest)) = timestamp::parse_stamp(data) {
        let mut out = BytesMut::new();
        timestamp::encode_stamp(time.secs(), rest, &mut out);
        assert_eq!(timestamp::parse_stamp(&out), Some((time, rest)));
    }
    let _ = timestamp::parse_time(data);
});

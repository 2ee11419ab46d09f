//! The fuzzing chapter's worked example: an input the `tftp_wire` fuzz
//! target once found, kept as a plain test so the bug cannot come back.

use wirekit_core::wire::tftp::{MAX_ERROR_MESSAGE, Packet, parse};

// ANCHOR: regression
/// An ERROR packet whose message is 255 invalid UTF-8 bytes. Each bad byte
/// becomes U+FFFD (three bytes), so the decoded message was once three times
/// longer than an ERROR may carry, and re-encoding it cut it: the packet did
/// not survive a round trip, and the `tftp_wire` target's assertion failed.
#[test]
fn an_error_message_of_invalid_utf8_round_trips() {
    let mut datagram = vec![0x00, 0x05, 0x00, 0x00]; // ERROR, code 0
    datagram.extend([0xff; MAX_ERROR_MESSAGE]);
    datagram.push(0x00);
    let packet = parse(&datagram).expect("a lenient parse");
    let Packet::Error { message, .. } = &packet else {
        panic!("{packet:?}")
    };
    assert!(message.len() <= MAX_ERROR_MESSAGE);
    let again = packet.to_bytes().expect("a parsed packet encodes");
    assert_eq!(parse(&again), Ok(packet));
}
// ANCHOR_END: regression

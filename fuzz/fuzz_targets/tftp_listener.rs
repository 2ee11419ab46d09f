//! The TFTP server's well-known port, under any datagram and any load:
//! no panic; a transfer starts only for a read or write request and only
//! when both the listener's limit and the host's admission have room;
//! anything that is not even shaped as a request gets no answer, and no
//! answer is larger than the datagram that caused it, so the port cannot
//! be used to amplify reflected traffic; every answer is one ERROR packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::host::{Accepted, Listen, Load};
use wirekit_core::tftp::listener::Listener;
use wirekit_core::tftp::server::ServerConfig;
use wirekit_core::wire::tftp::{Packet, parse};

/// An ERROR packet: opcode, code, at most 255 bytes of message, a NUL.
const MAX_ERROR: usize = 4 + 255 + 1;

fuzz_target!(|input: (Vec<u8>, u8, bool, u8, bool)| {
    let (datagram, running, room, max, allow_write) = input;
    let config = ServerConfig {
        allow_write,
        ..ServerConfig::default()
    };
    let mut listener = Listener::new(config, usize::from(max));
    let load = Load {
        running: usize::from(running),
        room,
    };
    let request = matches!(parse(&datagram), Ok(Packet::Rrq(_) | Packet::Wrq(_)));
    // A malformed request (an unknown mode, say) is refused for what it is.
    let shaped = matches!(datagram.get(..2), Some([0, 1 | 2]));
    match listener.accept(&datagram, load) {
        Accepted::Start(_) => {
            assert!(request, "a transfer started for a non-request");
            assert!(room && running < max, "a transfer started past a limit");
        }
        Accepted::Reply { reply, .. } => {
            assert!(shaped, "garbage got an answer: {datagram:?}");
            assert!(reply.len() <= MAX_ERROR, "a {}-byte answer", reply.len());
            assert!(
                reply.len() <= datagram.len(),
                "a {}-byte answer to {} bytes",
                reply.len(),
                datagram.len()
            );
            assert!(
                matches!(parse(&reply), Ok(Packet::Error { .. })),
                "an answer that is not an ERROR packet"
            );
        }
        Accepted::Ignore { .. } => {}
    }
});

//! The capstone's KV/1: the server and client machines under a hostile
//! peer's script keep the core contract, and any line that parses encodes
//! back to a line that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_capstone::client::Client;
use wirekit_capstone::server::Server;
use wirekit_capstone::wire;
use wirekit_core::Now;
use wirekit_core::testing::contract::{Op, exercise};

fuzz_target!(|input: (Vec<u8>, Vec<Op>)| {
    let (line, ops) = input;
    if let Ok(request) = wire::parse_request(&line) {
        let mut again = bytes::BytesMut::new();
        wire::encode_request(&request, &mut again);
        assert_eq!(wire::parse_request(&again[..again.len() - 1]), Ok(request));
    }
    if let Ok(response) = wire::parse_response(&line) {
        let mut again = bytes::BytesMut::new();
        wire::encode_response(&response, &mut again);
        assert_eq!(
            wire::parse_response(&again[..again.len() - 1]),
            Ok(response)
        );
    }
    if let Err(v) = exercise(&mut Server::new(), Now::default(), &ops) {
        panic!("server: contract broken: {v:?}");
    }
    if let Err(v) = exercise(&mut Client::new(), Now::default(), &ops) {
        panic!("client: contract broken: {v:?}");
    }
});

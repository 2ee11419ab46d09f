//! The WKFT/1 server under a hostile client script: the contract holds
//! (no `Err` from peer input, bounded output, no panic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::Now;
use wirekit_core::testing::contract::{Op, exercise};
use wirekit_core::transfer::server::Server;

fuzz_target!(|ops: Vec<Op>| {
    let mut server = Server::new();
    if let Err(v) = exercise(&mut server, Now::default(), &ops) {
        panic!("contract broken: {v:?}");
    }
});

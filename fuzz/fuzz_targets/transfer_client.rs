//! The WKFT/1 client under a hostile server script: the contract holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::Now;
use wirekit_core::testing::contract::{Op, exercise};
use wirekit_core::transfer::client::Client;

fuzz_target!(|ops: Vec<Op>| {
    let mut client = Client::new();
    if let Err(v) = exercise(&mut client, Now::default(), &ops) {
        panic!("contract broken: {v:?}");
    }
});

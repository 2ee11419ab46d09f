//! TFTP server transfers (read and write) and clients (get and put), each
//! answered by an in-memory store, under a hostile peer script: the
//! contract holds (no `Err` from peer input, timeouts move forward,
//! bounded output, no panic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::testing::contract::{Op, exercise};
use wirekit_core::testing::tftp::{FileClient, Files, StoreServer};
use wirekit_core::tftp::client::{Client, ClientConfig};
use wirekit_core::tftp::options::Wishes;
use wirekit_core::tftp::server::{ServerConfig, Transfer, accept};
use wirekit_core::{Instant, Now};

fuzz_target!(|input: (u8, Vec<Op>)| {
    let (which, ops) = input;
    let now = Now::mono(Instant::from_millis(1000));
    let file: Vec<u8> = (0..700u32).map(|i| (i * 7) as u8).collect();
    let wishes = Wishes {
        blksize: Some(16),
        windowsize: Some(1 + u16::from(which >> 4)),
        tsize: true,
        ..Wishes::default()
    };
    match which % 4 {
        0 | 1 => {
            let rrq = which % 4 == 0;
            let mut req = vec![0, if rrq { 1 } else { 2 }];
            req.extend(b"f\0octet\0blksize\x0016\0windowsize\x004\0tsize\x000\0");
            let config = ServerConfig {
                allow_write: true,
                ..ServerConfig::default()
            };
            let request = accept(&req, &config).expect("a valid request");
            let files = Files::from([("f".to_string(), file)]);
            let mut m = StoreServer::new(Transfer::new(request, &config), files, now);
            if let Err(v) = exercise(&mut m, now, &ops) {
                panic!("server contract broken: {v:?}");
            }
        }
        k => {
            let config = ClientConfig {
                wishes,
                ..ClientConfig::default()
            };
            let client = if k == 2 {
                Client::get("f", config, now)
            } else {
                Client::put("f", Some(file.len() as u64), config, now)
            }
            .expect("a valid client");
            // A get starts with nothing on the local side; a put with the file.
            let local = if k == 2 { Vec::new() } else { file };
            let mut m = FileClient::new(client, local);
            if let Err(v) = exercise(&mut m, now, &ops) {
                panic!("client contract broken: {v:?}");
            }
        }
    }
});

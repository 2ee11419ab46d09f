//! A TFTP client and server joined by a lossy in-memory network, with
//! fuzzed option wishes (blksize, windowsize, timeout, tsize), file, and
//! loss/duplication/reordering: every run settles, and ends either
//! byte-exact or in a typed failure; wrong bytes are never delivered or
//! committed.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wirekit_core::testing::tftp::{FileClient, Files, Impairment, Net};
use wirekit_core::tftp::client::{Client, ClientConfig};
use wirekit_core::tftp::options::Wishes;
use wirekit_core::tftp::server::ServerConfig;
use wirekit_core::{Instant, Now};

#[derive(Arbitrary, Debug)]
struct Run {
    put: bool,
    data: Vec<u8>,
    blksize: Option<u16>,
    windowsize: Option<u8>,
    timeout: Option<u8>,
    tsize: bool,
    /// Per mille, each cut to at most 40 %: beyond that the 30 retries
    /// give up so often that the search learns nothing.
    loss: u16,
    dup: u16,
    reorder: u16,
    seed: u64,
}

fn chance(per_mille: u16) -> f64 {
    f64::from(per_mille % 401) / 1000.0
}

fuzz_target!(|run: Run| {
    let now = Now::mono(Instant::from_millis(1000));
    let wishes = Wishes {
        blksize: run.blksize,
        windowsize: run.windowsize.map(u16::from),
        timeout: run.timeout,
        tsize: run.tsize,
        ..Wishes::default()
    };
    let config = ClientConfig {
        wishes,
        retries: 30,
        ..ClientConfig::default()
    };
    let server = ServerConfig {
        allow_write: true,
        retries: 30,
        ..ServerConfig::default()
    };
    let data = run.data;
    let size = Some(data.len() as u64);
    let (client, files) = if run.put {
        match Client::put("f", size, config, now) {
            Ok(c) => (FileClient::new(c, data.clone()), Files::new()),
            // Wishes the client refuses locally (blksize below 8) are its caller's error.
            Err(_) => return,
        }
    } else {
        match Client::get("f", config, now) {
            Ok(c) => (
                FileClient::new(c, Vec::new()),
                Files::from([("f".to_string(), data.clone())]),
            ),
            Err(_) => return,
        }
    };
    let mut net = Net::new(client, server, files, now);
    net.impair(
        Impairment {
            loss: chance(run.loss),
            dup: chance(run.dup),
            reorder: chance(run.reorder),
        },
        run.seed,
    );
    net.run(2_000_000);
    assert!(net.is_settled(), "the transfer did not settle");
    match net.client.outcome() {
        Some(Ok(n)) => {
            assert_eq!(n, data.len() as u64);
            let got = if run.put {
                net.files.get("f").cloned()
            } else {
                Some(net.client.local.clone())
            };
            assert!(
                got.as_deref() == Some(&data[..]),
                "wrong bytes after success"
            );
        }
        Some(Err(_failure)) => {
            // A failed upload may leave nothing, or the whole file if only
            // the final ACK was lost; never a short or different one.
            if run.put
                && let Some(f) = net.files.get("f")
            {
                assert!(f == &data, "a failed upload committed wrong bytes");
            }
        }
        None => panic!("settled without an outcome"),
    }
});

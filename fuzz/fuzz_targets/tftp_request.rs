//! A TFTP client (get or put) with fuzzed wishes, from its request on:
//! fed well-formed first replies (OACKs that grant, bend or invent
//! options, DATA, ACK, ERROR) from the well-known port, from new ports and
//! from strangers, with time passing. The contract holds (no `Err` from
//! peer input, timeouts move forward, bounded output, no panic); the
//! parameters it settles on are never more than it asked; once it has
//! picked the server's port, anyone else gets only ERROR 5; and every
//! DATA of a put holds the file's bytes at its block's offset.
#![no_main]

#[path = "shared/tftp_peer.rs"]
mod tftp_peer;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tftp_peer::{Seen, Step, check_stranger};
use wirekit_core::testing::contract::Checker;
use wirekit_core::testing::tftp::FileClient;
use wirekit_core::tftp::Rollover;
use wirekit_core::tftp::client::{self, Client, ClientConfig};
use wirekit_core::tftp::options::Wishes;
use wirekit_core::wire::tftp::{DEFAULT_BLKSIZE, Mode, Packet, parse};
use wirekit_core::{Instant, Now};

#[derive(Arbitrary, Debug)]
struct Start {
    put: bool,
    netascii: bool,
    blksize: Option<u16>,
    windowsize: Option<u16>,
    timeout: Option<u8>,
    tsize: bool,
    rollover: Option<bool>,
    /// Bytes in the file a put sends.
    len: u16,
    steps: Vec<Step>,
}

fuzz_target!(|start: Start| {
    let wishes = Wishes {
        blksize: start.blksize.map(|b| b % 4096),
        windowsize: start.windowsize.map(|w| w % 64),
        timeout: start.timeout,
        tsize: start.tsize,
        rollover: start
            .rollover
            .map(|one| if one { Rollover::One } else { Rollover::Zero }),
    };
    let mode = if start.netascii {
        Mode::Netascii
    } else {
        Mode::Octet
    };
    let config = ClientConfig {
        mode,
        wishes,
        ..ClientConfig::default()
    };
    let now = Now::mono(Instant::from_millis(1000));
    let file: Vec<u8> = (0..u32::from(start.len) % 20_000)
        .map(|i| (i * 5 + i / 253) as u8)
        .collect();
    let made = if start.put {
        Client::put("f", Some(file.len() as u64), config, now)
    } else {
        Client::get("f", config, now)
    };
    // Wishes the client refuses (blksize below 8, windowsize 0) are the
    // caller's error, not the peer's.
    let Ok(c) = made else { return };
    let local = if start.put { file.clone() } else { Vec::new() };
    let mut m = FileClient::new(c, local);
    let mut checker = match Checker::new(&mut m, now) {
        Ok(c) => c,
        Err(v) => panic!("client contract broken: {v:?}"),
    };
    // The request it sent first, and what it asked for.
    let request = checker
        .sent()
        .first()
        .and_then(|t| match parse(&t.payload) {
            Ok(Packet::Rrq(r) | Packet::Wrq(r)) => Some(r),
            _ => None,
        })
        .expect("the client starts with its request");
    let asked = wishes.settled().expect("the client took them");
    let mut seen = Seen::new(request.options);
    for step in &start.steps {
        let op = seen.op(step);
        if let Err(v) = checker.step(&op) {
            panic!("client contract broken: {v:?}");
        }
        let peer = checker.machine().client.peer();
        let negotiated = checker.machine().log.iter().find_map(|e| match e {
            client::Event::Negotiated(p) => Some(*p),
            _ => None,
        });
        if let Some(p) = negotiated {
            // A server that ignores the options leaves RFC 1350's defaults.
            let within = |got: u16, plain: u16, wish: Option<u16>, least: u16| {
                got == plain || wish.is_some_and(|w| (least..=w).contains(&got))
            };
            assert!(
                within(p.blksize, DEFAULT_BLKSIZE, asked.blksize, 8),
                "{p:?} against {asked:?}"
            );
            assert!(
                within(p.windowsize, 1, asked.windowsize, 1),
                "{p:?} against {asked:?}"
            );
            seen.blksize = p.blksize;
        }
        for t in checker.sent() {
            if peer.is_some_and(|p| t.to != p) {
                check_stranger(&t.payload);
                continue;
            }
            let learnt = seen.learn(&t.payload);
            if let (Some(Packet::Data { block, data }), true) =
                (learnt, start.put && mode == Mode::Octet)
            {
                let blk = usize::from(negotiated.map_or(DEFAULT_BLKSIZE, |p| p.blksize));
                let at = usize::from(block.wrapping_sub(1)) * blk;
                let want = file.get(at..(at + blk).min(file.len()));
                assert_eq!(Some(&data[..]), want, "block {block} of {blk} at {at}");
            }
        }
    }
});

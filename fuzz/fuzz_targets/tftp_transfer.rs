//! A TFTP server transfer (a read or a write, on its own port) after a
//! valid request with fuzzed options, fed well-formed packets shaped after
//! what it last sent, from its client and from strangers, with time
//! passing: the contract holds (no `Err` from peer input, timeouts move
//! forward, bounded output, no panic), strangers only ever get ERROR 5, and
//! every DATA of a read holds the file's bytes at its block's offset, full
//! blocks but the last.
#![no_main]

#[path = "shared/tftp_peer.rs"]
mod tftp_peer;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tftp_peer::{Seen, Step, check_stranger};
use wirekit_core::testing::contract::Checker;
use wirekit_core::testing::tftp::{Files, StoreServer};
use wirekit_core::tftp::options::Limits;
use wirekit_core::tftp::server::{ServerConfig, Transfer, accept};
use wirekit_core::wire::tftp::{Mode, OptionKind, Packet, Request, TftpOption};
use wirekit_core::{Instant, Now, PeerId};

#[derive(Arbitrary, Debug)]
struct Start {
    write: bool,
    netascii: bool,
    blksize: Option<u16>,
    windowsize: Option<u16>,
    timeout: Option<u8>,
    tsize: Option<u32>,
    rollover: Option<u8>,
    /// Bytes in the file a read sends.
    len: u16,
    steps: Vec<Step>,
}

fuzz_target!(|start: Start| {
    let file: Vec<u8> = (0..u32::from(start.len) % 20_000)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect();
    let mut options = Vec::new();
    let mut opt = |kind, v: Option<u64>| {
        if let Some(v) = v {
            options.push(TftpOption::number(kind, v));
        }
    };
    opt(OptionKind::Blksize, start.blksize.map(u64::from));
    opt(OptionKind::Windowsize, start.windowsize.map(u64::from));
    opt(OptionKind::Timeout, start.timeout.map(u64::from));
    opt(OptionKind::Tsize, start.tsize.map(u64::from));
    opt(OptionKind::Rollover, start.rollover.map(u64::from));
    let mode = if start.netascii {
        Mode::Netascii
    } else {
        Mode::Octet
    };
    let request = Request {
        filename: "f".into(),
        mode,
        options: options.clone(),
    };
    let packet = if start.write {
        Packet::Wrq(request)
    } else {
        Packet::Rrq(request)
    };
    let config = ServerConfig {
        allow_write: true,
        // Small enough that uploads and windows stay quick to fuzz; a
        // larger wish is clamped to it (that is negotiation too).
        limits: Limits {
            max_blksize: 4096,
            max_windowsize: 64,
        },
        max_upload: 256 * 1024,
        ..ServerConfig::default()
    };
    let Ok(bytes) = packet.to_bytes() else { return };
    // A refused request starts no transfer: the listener's target covers it.
    let Ok(accepted) = accept(&bytes, &config) else {
        return;
    };
    let now = Now::mono(Instant::from_millis(1000));
    let files = Files::from([("f".to_string(), file.clone())]);
    let mut m = StoreServer::new(Transfer::new(accepted, &config), files, now);
    let mut seen = Seen::new(options);
    let mut checker = match Checker::new(&mut m, now) {
        Ok(c) => c,
        Err(v) => panic!("server contract broken: {v:?}"),
    };
    let octet_read = !start.write && mode == Mode::Octet;
    let learn = |seen: &mut Seen, sent: &[wirekit_core::Transmit]| {
        for t in sent {
            if t.to != PeerId::FIRST {
                check_stranger(&t.payload);
                continue;
            }
            if let Some(Packet::Data { block, data }) = seen.learn(&t.payload)
                && octet_read
            {
                let blk = usize::from(seen.blksize);
                let at = usize::from(block.wrapping_sub(1)) * blk;
                let want = file.get(at..(at + blk).min(file.len()));
                assert_eq!(
                    Some(&data[..]),
                    want,
                    "block {block} of {blk} is not the file's bytes at {at}"
                );
            }
        }
    };
    learn(&mut seen, checker.sent());
    for step in &start.steps {
        let op = seen.op(step);
        if let Err(v) = checker.step(&op) {
            panic!("server contract broken: {v:?}");
        }
        learn(&mut seen, checker.sent());
    }
});

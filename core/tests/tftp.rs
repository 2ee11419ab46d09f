//! TFTP client and server machines wired in memory: byte-exact transfers
//! under loss and duplication, block-number wrap, option negotiation as
//! the peers in PEERS.md do it, refusals, unknown transfer IDs, dallying,
//! retry limits, netascii, and the machine contract under hostile input.

use bytes::Bytes;
use proptest::prelude::*;
use std::time::Duration;
use wirekit_core::testing::contract::{Op, exercise};
use wirekit_core::testing::tftp::{
    CLIENT, Datagram, FIRST_TRANSFER, FileClient, Files, Impairment, Net, StoreServer,
};
use wirekit_core::tftp::client::{self, Client, ClientConfig};
use wirekit_core::tftp::options::Wishes;
use wirekit_core::tftp::server::{self, RefusalReason, ServerConfig, Transfer, accept};
use wirekit_core::tftp::{Failure, Rollover};
use wirekit_core::wire::tftp::{
    ErrorCode, Mode, Packet, Request, TftpOption, ack_bytes, opcode, parse,
};
use wirekit_core::{Input, Instant, Machine, Now, PeerId};

fn start() -> Now {
    Now::mono(Instant::from_millis(1000))
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 9)) as u8)
        .collect()
}

fn files(name: &str, data: &[u8]) -> Files {
    Files::from([(name.to_string(), data.to_vec())])
}

fn config(wishes: Wishes, retries: u32) -> ClientConfig {
    ClientConfig {
        wishes,
        retries,
        ..ClientConfig::default()
    }
}

fn writable() -> ServerConfig {
    ServerConfig {
        allow_write: true,
        retries: 30,
        ..ServerConfig::default()
    }
}

fn get_net(data: &[u8], cfg: ClientConfig, impair: Impairment, seed: u64) -> Net {
    let client = Client::get("file.bin", cfg, start()).expect("valid client");
    let mut net = Net::new(
        FileClient::new(client, Vec::new()),
        writable(),
        files("file.bin", data),
        start(),
    );
    net.impair(impair, seed);
    net
}

fn put_net(data: &[u8], cfg: ClientConfig, impair: Impairment, seed: u64) -> Net {
    let client = Client::put("up.bin", Some(data.len() as u64), cfg, start()).expect("valid");
    let mut net = Net::new(
        FileClient::new(client, data.to_vec()),
        writable(),
        Files::new(),
        start(),
    );
    net.impair(impair, seed);
    net
}

fn assert_get(data: &[u8], wishes: Wishes, impair: Impairment, seed: u64) -> Net {
    assert_get_with(data, config(wishes, 30), impair, seed)
}

fn assert_get_with(data: &[u8], cfg: ClientConfig, impair: Impairment, seed: u64) -> Net {
    let mut net = get_net(data, cfg, impair, seed);
    net.run(5_000_000);
    assert!(net.is_settled(), "settled");
    assert_eq!(net.client.outcome(), Some(Ok(data.len() as u64)));
    assert!(
        net.client.local == data,
        "byte-exact download of {}",
        data.len()
    );
    net
}

fn assert_put(data: &[u8], wishes: Wishes, impair: Impairment, seed: u64) -> Net {
    assert_put_with(data, config(wishes, 30), impair, seed)
}

fn assert_put_with(data: &[u8], cfg: ClientConfig, impair: Impairment, seed: u64) -> Net {
    let mut net = put_net(data, cfg, impair, seed);
    net.run(5_000_000);
    assert!(net.is_settled(), "settled");
    assert_eq!(net.client.outcome(), Some(Ok(data.len() as u64)));
    assert!(
        net.files.get("up.bin").map(Vec::as_slice) == Some(data),
        "byte-exact upload of {}",
        data.len()
    );
    net
}

const SIZES: [usize; 6] = [0, 1, 511, 512, 513, 512 * 3];

fn windows() -> [Wishes; 3] {
    [
        Wishes::default(),
        Wishes {
            windowsize: Some(16),
            ..Wishes::default()
        },
        Wishes {
            blksize: Some(1468),
            windowsize: Some(16),
            tsize: true,
            ..Wishes::default()
        },
    ]
}

#[test]
fn clean_transfers_send_each_block_once() {
    for wishes in windows() {
        for size in SIZES {
            let data = pattern(size);
            let blk = usize::from(wishes.blksize.unwrap_or(512));
            let blocks = size / blk + 1;
            let net = assert_get(&data, wishes, Impairment::default(), 0);
            assert_eq!(net.count(FIRST_TRANSFER, opcode::DATA), blocks, "{size}");
            // A multiple of the block size ends with an empty block.
            let last = net
                .wire
                .iter()
                .rev()
                .find(|d| d.from == FIRST_TRANSFER && d.payload[..2] == [0, 3])
                .expect("data was sent");
            assert_eq!(last.payload.len() - 4, size % blk);
            let net = assert_put(&data, wishes, Impairment::default(), 0);
            assert_eq!(net.count(CLIENT, opcode::DATA), blocks, "{size}");
        }
    }
}

#[test]
fn transfers_survive_loss_duplication_and_reordering() {
    let impair = Impairment {
        loss: 0.15,
        dup: 0.15,
        reorder: 0.2,
    };
    for (i, wishes) in windows().into_iter().enumerate() {
        for (j, size) in SIZES.into_iter().chain([20_000]).enumerate() {
            let seed = (i * 100 + j) as u64 + 1;
            assert_get(&pattern(size), wishes, impair, seed);
            assert_put(&pattern(size), wishes, impair, seed + 50);
        }
    }
}

#[test]
fn duplication_alone_never_causes_a_retransmission() {
    // The Sorcerer's Apprentice: if duplicate ACKs triggered DATA, every
    // duplicated ACK would double the rest of the transfer.
    let impair = Impairment {
        loss: 0.0,
        dup: 0.5,
        reorder: 0.0,
    };
    for wishes in windows() {
        let data = pattern(40 * 512 + 7);
        let blk = usize::from(wishes.blksize.unwrap_or(512));
        let net = assert_get(&data, wishes, impair, 7);
        assert_eq!(
            net.count(FIRST_TRANSFER, opcode::DATA),
            data.len() / blk + 1
        );
        let net = assert_put(&data, wishes, impair, 8);
        assert_eq!(net.count(CLIENT, opcode::DATA), data.len() / blk + 1);
    }
}

fn data_blocks(net: &Net, from: u32) -> Vec<u16> {
    net.wire
        .iter()
        .filter(|d| d.from == from)
        .filter_map(|d| match parse(&d.payload) {
            Ok(Packet::Data { block, .. }) => Some(block),
            _ => None,
        })
        .collect()
}

#[test]
fn block_numbers_wrap_past_65535() {
    // 65536 + 2 blocks of 8 bytes: block numbers go round once.
    let data = pattern(8 * 65537 + 3);
    let base = Wishes {
        blksize: Some(8),
        windowsize: Some(64),
        ..Wishes::default()
    };
    let net = assert_get(&data, base, Impairment::default(), 0);
    let blocks = data_blocks(&net, FIRST_TRANSFER);
    assert_eq!(blocks.len(), 65538);
    assert_eq!(&blocks[65533..], [65534, 65535, 0, 1, 2]);

    let one = Wishes {
        rollover: Some(Rollover::One),
        ..base
    };
    let net = assert_get(&data, one, Impairment::default(), 0);
    let blocks = data_blocks(&net, FIRST_TRANSFER);
    assert_eq!(&blocks[65533..], [65534, 65535, 1, 2, 3]);

    let net = assert_put(&data, base, Impairment::default(), 0);
    assert_eq!(&data_blocks(&net, CLIENT)[65534..], [65535, 0, 1, 2]);
}

#[test]
fn lock_step_wrap_with_loss() {
    let data = pattern(8 * 65536);
    let wishes = Wishes {
        blksize: Some(8),
        ..Wishes::default()
    };
    let impair = Impairment {
        loss: 0.01,
        dup: 0.01,
        reorder: 0.0,
    };
    assert_get(&data, wishes, impair, 3);
}

fn request_bytes(rrq: bool, name: &str, options: &[(&str, &str)]) -> Bytes {
    let r = Request {
        filename: name.into(),
        mode: Mode::Octet,
        options: options
            .iter()
            .map(|(n, v)| TftpOption::new(*n, *v))
            .collect(),
    };
    let p = if rrq { Packet::Rrq(r) } else { Packet::Wrq(r) };
    p.to_bytes().expect("valid request")
}

/// A raw client: sends `request` to the server, returns the first answer.
fn first_answer(request: Bytes, config: ServerConfig, files: Files) -> Packet {
    match accept(&request, &config) {
        Err(refusal) => parse(&refusal.reply.expect("a refusal with a reply")).expect("valid"),
        Ok(req) => {
            let mut s = StoreServer::new(Transfer::new(req, &config), files, start());
            let t = s.poll_transmit().expect("an answer");
            assert_eq!(t.to, PeerId(0));
            parse(&t.payload).expect("valid")
        }
    }
}

fn oack(pairs: &[(&str, &str)]) -> Packet {
    Packet::Oack {
        options: pairs.iter().map(|(n, v)| TftpOption::new(*n, *v)).collect(),
    }
}

#[test]
fn negotiation_as_the_peers_do_it() {
    let f = || files("f", &pattern(1000));
    let cfg = ServerConfig::default;
    // curl: tsize 0, blksize, timeout 6; the answer holds the real size.
    assert_eq!(
        first_answer(
            request_bytes(
                true,
                "f",
                &[("tsize", "0"), ("blksize", "1468"), ("timeout", "6")]
            ),
            cfg(),
            f()
        ),
        oack(&[("tsize", "1000"), ("blksize", "1468"), ("timeout", "6")])
    );
    // Names come back in the client's case; unknown options are left out;
    // blksize 70000 is clamped, not refused.
    assert_eq!(
        first_answer(
            request_bytes(
                true,
                "f",
                &[("BlkSize", "70000"), ("multicast", ""), ("WINDOWSIZE", "4")]
            ),
            cfg(),
            f()
        ),
        oack(&[("BlkSize", "65464"), ("WINDOWSIZE", "4")])
    );
    // No options (tftp-hpa's client): DATA 1 at once, 512 bytes.
    match first_answer(request_bytes(true, "f", &[]), cfg(), f()) {
        Packet::Data { block: 1, data } => assert_eq!(data.len(), 512),
        other => panic!("{other:?}"),
    }
    // Only unknown options: no OACK either.
    assert!(matches!(
        first_answer(request_bytes(true, "f", &[("foo", "1")]), cfg(), f()),
        Packet::Data { block: 1, .. }
    ));
    // A write with options gets an OACK, without them ACK 0.
    assert_eq!(
        first_answer(
            request_bytes(false, "new", &[("tsize", "5")]),
            writable(),
            f()
        ),
        oack(&[("tsize", "5")])
    );
    assert_eq!(
        first_answer(request_bytes(false, "new", &[]), writable(), f()),
        Packet::Ack { block: 0 }
    );
}

#[test]
fn refusals() {
    let f = || files("f", b"x");
    for bad in [
        ("blksize", "4"),
        ("timeout", "0"),
        ("windowsize", "0"),
        ("timeout", "300"),
    ] {
        let req = request_bytes(true, "f", &[bad]);
        let refusal = accept(&req, &ServerConfig::default()).expect_err("refused");
        assert!(matches!(refusal.reason, RefusalReason::Options(_)));
        assert!(matches!(
            parse(&refusal.reply.expect("ERROR 8")),
            Ok(Packet::Error {
                code: ErrorCode::OptionRefused,
                ..
            })
        ));
    }
    // Missing file: ERROR 1, from the transfer.
    assert!(matches!(
        first_answer(
            request_bytes(true, "nope", &[]),
            ServerConfig::default(),
            f()
        ),
        Packet::Error {
            code: ErrorCode::FileNotFound,
            ..
        }
    ));
    // Read-only: ERROR 2.
    assert!(matches!(
        first_answer(request_bytes(false, "f", &[]), ServerConfig::default(), f()),
        Packet::Error {
            code: ErrorCode::AccessViolation,
            ..
        }
    ));
    // Unknown mode: ERROR 4. Garbage and non-requests: silence.
    let mail = accept(b"\0\x01f\0mail\0", &ServerConfig::default()).expect_err("refused");
    assert!(mail.reply.is_some());
    for junk in [
        &b""[..],
        b"\0\x04\0\x01",
        b"\0\x03\0\x01data",
        b"GET / HTTP/1.0\r\n",
        b"\0\x01f",
    ] {
        let r = accept(junk, &ServerConfig::default()).expect_err("refused");
        assert_eq!(r.reply, None, "{junk:?}");
    }
}

#[test]
fn a_client_reports_refusals_and_missing_files() {
    let mut net = get_net(b"", config(Wishes::default(), 3), Impairment::default(), 0);
    net.files.clear();
    net.run(1000);
    assert!(matches!(
        net.client.outcome(),
        Some(Err(Failure::Peer {
            code: ErrorCode::FileNotFound,
            ..
        }))
    ));
    let client = Client::put("x", Some(1), config(Wishes::default(), 3), start()).expect("ok");
    let mut net = Net::new(
        FileClient::new(client, vec![1]),
        ServerConfig::default(),
        Files::new(),
        start(),
    );
    net.run(1000);
    assert!(matches!(
        net.client.outcome(),
        Some(Err(Failure::Peer {
            code: ErrorCode::AccessViolation,
            ..
        }))
    ));
    assert!(net.is_settled());
}

#[test]
fn a_client_refuses_an_oack_it_did_not_ask_for() {
    let mut c = Client::get("f", ClientConfig::default(), start()).expect("ok");
    let _request = c.poll_transmit().expect("RRQ");
    let bad = oack(&[("blksize", "1024")]).to_bytes().expect("ok");
    c.handle_input(
        start(),
        Input::Data {
            from: PeerId(1),
            bytes: &bad,
        },
    )
    .expect("never Err");
    let t = c.poll_transmit().expect("ERROR 8");
    assert_eq!(t.to, PeerId(1));
    assert!(matches!(
        parse(&t.payload),
        Ok(Packet::Error {
            code: ErrorCode::OptionRefused,
            ..
        })
    ));
    assert!(matches!(
        c.poll_event(),
        Some(client::Event::Failed(Failure::BadOack(_)))
    ));
    assert!(c.is_done());
}

#[test]
fn a_client_without_options_accepted_falls_back_to_lock_step() {
    // tftpd-hpa leaves windowsize out of its OACK: the client runs lock-step.
    let mut c = Client::get(
        "f",
        config(
            Wishes {
                windowsize: Some(16),
                tsize: true,
                ..Wishes::default()
            },
            3,
        ),
        start(),
    )
    .expect("ok");
    let _ = c.poll_transmit();
    let o = oack(&[("tsize", "600")]).to_bytes().expect("ok");
    c.handle_input(
        start(),
        Input::Data {
            from: PeerId(1),
            bytes: &o,
        },
    )
    .expect("never Err");
    assert_eq!(c.poll_transmit().expect("ACK 0").payload, ack_bytes(0));
    match c.poll_event() {
        Some(client::Event::Negotiated(p)) => {
            assert_eq!((p.windowsize, p.blksize, p.tsize), (1, 512, Some(600)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_transfer_id_gets_error_5_and_the_transfer_goes_on() {
    let data = pattern(5000);
    let mut net = get_net(
        &data,
        config(Wishes::default(), 5),
        Impairment::default(),
        0,
    );
    // Let the transfer start, then a stranger writes to both ends.
    for _ in 0..6 {
        net.step();
    }
    let stray = ack_bytes(3);
    net.deliver(Datagram {
        from: 4242,
        to: FIRST_TRANSFER,
        payload: stray.clone(),
    });
    net.deliver(Datagram {
        from: 4343,
        to: CLIENT,
        payload: stray,
    });
    // An ERROR from a stranger is not answered (no error ping-pong).
    net.deliver(Datagram {
        from: 4444,
        to: CLIENT,
        payload: Bytes::from_static(b"\0\x05\0\x05bye\0"),
    });
    net.run(100_000);
    assert_eq!(net.client.outcome(), Some(Ok(5000)));
    assert!(net.client.local == data);
    for stranger in [4242, 4343] {
        let answers: Vec<_> = net.wire.iter().filter(|d| d.to == stranger).collect();
        assert_eq!(answers.len(), 1);
        assert!(matches!(
            parse(&answers[0].payload),
            Ok(Packet::Error {
                code: ErrorCode::UnknownTid,
                ..
            })
        ));
    }
    assert!(!net.wire.iter().any(|d| d.to == 4444));
}

#[test]
fn the_receiver_dallies_to_acknowledge_a_repeated_last_block() {
    // Download: the client's last ACK is lost; the server sends the last
    // block again and the dallying client acknowledges it again.
    let data = pattern(700);
    let mut net = get_net(
        &data,
        config(Wishes::default(), 5),
        Impairment::default(),
        0,
    );
    net.drops.push(Datagram {
        from: CLIENT,
        to: FIRST_TRANSFER,
        payload: ack_bytes(2),
    });
    net.run(10_000);
    assert!(net.is_settled());
    assert_eq!(net.client.outcome(), Some(Ok(700)));
    assert_eq!(
        net.count(FIRST_TRANSFER, opcode::DATA),
        3,
        "block 2 sent twice"
    );
    assert!(matches!(
        net.ports[0].server.log.last(),
        Some(server::Event::Done { bytes: 700 })
    ));
    // Upload: the same from the server's side.
    let mut net = put_net(
        &data,
        config(Wishes::default(), 5),
        Impairment::default(),
        0,
    );
    net.drops.push(Datagram {
        from: FIRST_TRANSFER,
        to: CLIENT,
        payload: ack_bytes(2),
    });
    net.run(10_000);
    assert!(net.is_settled());
    assert_eq!(net.client.outcome(), Some(Ok(700)));
    assert_eq!(net.count(CLIENT, opcode::DATA), 3);
}

#[test]
fn a_silent_server_ends_in_a_timeout_error() {
    let mut net = get_net(
        b"x",
        config(Wishes::default(), 3),
        Impairment {
            loss: 1.0,
            dup: 0.0,
            reorder: 0.0,
        },
        1,
    );
    net.run(1000);
    assert_eq!(
        net.client.outcome(),
        Some(Err(Failure::TimedOut { timeouts: 4 }))
    );
    assert_eq!(
        net.count(CLIENT, opcode::RRQ),
        4,
        "first send and three retries"
    );
    assert!(net.is_settled());
    // A client that vanishes mid-transfer: the server gives up too.
    let data = pattern(5000);
    let mut net = get_net(
        &data,
        config(Wishes::default(), 3),
        Impairment::default(),
        0,
    );
    for _ in 0..8 {
        net.step();
    }
    net.impair(
        Impairment {
            loss: 1.0,
            dup: 0.0,
            reorder: 0.0,
        },
        1,
    );
    net.run(1000);
    assert!(net.is_settled());
    assert!(matches!(
        net.ports[0].server.log.last(),
        Some(server::Event::Failed(Failure::TimedOut { .. }))
    ));
}

#[test]
fn read_errors_reach_the_client() {
    let data = pattern(5000);
    let mut net = get_net(
        &data,
        config(Wishes::default(), 3),
        Impairment::default(),
        0,
    );
    net.step();
    net.ports[0].server.fail_reads_at(1024);
    net.run(1000);
    assert!(matches!(
        net.client.outcome(),
        Some(Err(Failure::Peer {
            code: ErrorCode::NotDefined,
            ..
        }))
    ));
}

#[test]
fn netascii_both_ways() {
    let text = b"line one\nline two\r\nbare\rcarriage\n\n".repeat(40);
    let cfg = ClientConfig {
        mode: Mode::Netascii,
        ..config(Wishes::default(), 5)
    };
    // Download: the store holds local text; the wire carries CR LF.
    let mut net = get_net(&text, cfg, Impairment::default(), 0);
    net.run(100_000);
    assert_eq!(net.client.outcome().map(|r| r.is_ok()), Some(true));
    assert!(net.client.local == text);
    let wire: Vec<u8> = net
        .wire
        .iter()
        .filter(|d| d.from == FIRST_TRANSFER)
        .filter_map(|d| match parse(&d.payload) {
            Ok(Packet::Data { data, .. }) => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut expected = bytes::BytesMut::new();
    wirekit_core::wire::tftp::netascii::encode(&text, &mut expected);
    assert!(wire == expected[..], "the wire carries netascii");
    assert!(wire.len() > text.len());
    // Upload, with loss: the server stores local text again.
    let mut net = put_net(
        &text,
        cfg,
        Impairment {
            loss: 0.1,
            dup: 0.1,
            reorder: 0.0,
        },
        9,
    );
    net.run(100_000);
    assert_eq!(net.client.outcome().map(|r| r.is_ok()), Some(true));
    assert!(net.files.get("up.bin") == Some(&text));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_transfers_are_byte_exact(
        size in 0usize..20000,
        blksize in prop_oneof![Just(None), (8u16..600).prop_map(Some)],
        windowsize in prop_oneof![Just(None), (1u16..20).prop_map(Some)],
        loss in 0.0f64..0.3,
        dup in 0.0f64..0.3,
        reorder in prop_oneof![Just(0.0), 0.0f64..0.5],
        seed in any::<u64>(),
        put in any::<bool>(),
        netascii in any::<bool>(),
    ) {
        let data = pattern(size);
        let wishes = Wishes { blksize, windowsize, ..Wishes::default() };
        let mode = if netascii { Mode::Netascii } else { Mode::Octet };
        let cfg = ClientConfig { mode, ..config(wishes, 30) };
        let impair = Impairment { loss, dup, reorder };
        if put {
            assert_put_with(&data, cfg, impair, seed);
        } else {
            assert_get_with(&data, cfg, impair, seed);
        }
    }

    #[test]
    fn machines_keep_the_contract(ops in proptest::collection::vec(op(), 0..60), write in any::<bool>(), get in any::<bool>()) {
        let req = request_bytes(!write, "f", &[("blksize", "16"), ("windowsize", "4"), ("tsize", "0")]);
        let cfg = writable();
        let request = accept(&req, &cfg).expect("valid request");
        let mut server = StoreServer::new(Transfer::new(request, &cfg), files("f", &pattern(300)), start());
        if let Err(v) = exercise(&mut server, start(), &ops) {
            panic!("server: {v:?}");
        }
        let cfg = config(Wishes { blksize: Some(16), windowsize: Some(4), ..Wishes::default() }, 3);
        let client = if get {
            Client::get("f", cfg, start())
        } else {
            Client::put("f", Some(300), cfg, start())
        }
        .expect("valid");
        let mut client = FileClient::new(client, pattern(300));
        if let Err(v) = exercise(&mut client, start(), &ops) {
            panic!("client: {v:?}");
        }
    }
}

/// Hostile input, biased toward packets that look like TFTP.
fn op() -> impl Strategy<Value = Op> {
    let packet = prop_oneof![
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(b, d)| {
            let mut v = vec![0, 3];
            v.extend(b.to_be_bytes());
            v.extend(d);
            v
        }),
        (0u16..8).prop_map(|b| {
            let mut v = vec![0, 4];
            v.extend(b.to_be_bytes());
            v
        }),
        Just(b"\0\x06blksize\x0016\0windowsize\x004\0".to_vec()),
        Just(b"\0\x05\0\x01nope\0".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..30),
    ];
    prop_oneof![
        4 => (0u8..3, packet).prop_map(|(from, bytes)| Op::Data { from, bytes }),
        1 => any::<u16>().prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::EarlyTimeout),
        1 => (0u8..4).prop_map(|from| Op::Eof { from }),
    ]
}

#[test]
fn timeouts_follow_the_negotiated_value() {
    let req = request_bytes(true, "f", &[("timeout", "3")]);
    let cfg = ServerConfig::default();
    let mut s = StoreServer::new(
        Transfer::new(accept(&req, &cfg).expect("ok"), &cfg),
        files("f", b"abc"),
        start(),
    );
    let _oack = s.poll_transmit().expect("OACK");
    assert_eq!(
        s.poll_timeout(),
        Some(start().mono + Duration::from_secs(3))
    );
    // Early timeouts do nothing; the due one resends the OACK.
    s.handle_input(start(), Input::Timeout).expect("ok");
    assert!(s.poll_transmit().is_none());
    let later = start().advanced(Duration::from_secs(3));
    s.handle_input(later, Input::Timeout).expect("ok");
    assert!(matches!(
        parse(&s.poll_transmit().expect("OACK again").payload),
        Ok(Packet::Oack { .. })
    ));
    assert_eq!(s.poll_timeout(), Some(later.mono + Duration::from_secs(3)));
    // Duplicate ACK 0s start the data once.
    for _ in 0..3 {
        s.handle_input(
            later,
            Input::Data {
                from: PeerId(0),
                bytes: &ack_bytes(0),
            },
        )
        .expect("ok");
    }
    let sent: Vec<_> = std::iter::from_fn(|| s.poll_transmit()).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0].payload[..], b"\0\x03\0\x01abc");
}

fn data_numbers(s: &mut StoreServer) -> Vec<u16> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|t| match parse(&t.payload) {
            Ok(Packet::Data { block, .. }) => block,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn feed_ack(s: &mut StoreServer, now: Now, block: u16) {
    s.handle_input(
        now,
        Input::Data {
            from: PeerId(0),
            bytes: &ack_bytes(block),
        },
    )
    .expect("never Err");
}

#[test]
fn a_duplicate_ack_sends_nothing() {
    let cfg = ServerConfig::default();
    let req = accept(&request_bytes(true, "f", &[]), &cfg).expect("ok");
    let mut s = StoreServer::new(
        Transfer::new(req, &cfg),
        files("f", &pattern(3000)),
        start(),
    );
    assert_eq!(data_numbers(&mut s), [1]);
    feed_ack(&mut s, start(), 1);
    assert_eq!(data_numbers(&mut s), [2]);
    for _ in 0..3 {
        feed_ack(&mut s, start(), 1);
        assert_eq!(data_numbers(&mut s), [0u16; 0], "Sorcerer's Apprentice");
    }
    // An ACK for a block never sent is ignored too.
    feed_ack(&mut s, start(), 9);
    assert_eq!(data_numbers(&mut s), [0u16; 0]);
    feed_ack(&mut s, start(), 2);
    assert_eq!(data_numbers(&mut s), [3]);
}

#[test]
fn an_ack_in_the_middle_of_a_window_makes_the_sender_go_back() {
    let cfg = ServerConfig::default();
    let req = request_bytes(true, "f", &[("blksize", "8"), ("windowsize", "4")]);
    let req = accept(&req, &cfg).expect("ok");
    let mut s = StoreServer::new(Transfer::new(req, &cfg), files("f", &pattern(100)), start());
    let _oack = s.poll_transmit().expect("OACK");
    feed_ack(&mut s, start(), 0);
    assert_eq!(data_numbers(&mut s), [1, 2, 3, 4]);
    feed_ack(&mut s, start(), 2);
    assert_eq!(data_numbers(&mut s), [3, 4, 5, 6]);
    feed_ack(&mut s, start(), 2);
    assert_eq!(data_numbers(&mut s), [0u16; 0], "duplicate");
    // Silence: the timer resends the window from its first block.
    let later = start().advanced(Duration::from_secs(1));
    s.handle_input(later, Input::Timeout).expect("ok");
    assert_eq!(data_numbers(&mut s), [3, 4, 5, 6]);
    feed_ack(&mut s, later, 6);
    assert_eq!(data_numbers(&mut s), [7, 8, 9, 10]);
}

#[test]
fn a_receiver_answers_gaps_once_and_network_duplicates_never() {
    // The client receives with windowsize 4 and blksize 8.
    let wishes = Wishes {
        blksize: Some(8),
        windowsize: Some(4),
        ..Wishes::default()
    };
    let mut c = Client::get("f", config(wishes, 3), start()).expect("ok");
    let _rrq = c.poll_transmit();
    let server = PeerId(1);
    let feed = |c: &mut Client, bytes: &[u8]| {
        c.handle_input(
            start(),
            Input::Data {
                from: server,
                bytes,
            },
        )
        .expect("never Err");
        std::iter::from_fn(|| c.poll_transmit())
            .map(|t| parse(&t.payload).expect("valid"))
            .collect::<Vec<_>>()
    };
    let data = |block: u16| {
        Packet::Data {
            block,
            data: Bytes::from_static(b"12345678"),
        }
        .to_bytes()
        .expect("ok")
    };
    let o = oack(&[("blksize", "8"), ("windowsize", "4")])
        .to_bytes()
        .expect("ok");
    assert_eq!(feed(&mut c, &o), [Packet::Ack { block: 0 }]);
    assert!(feed(&mut c, &data(1)).is_empty());
    assert!(feed(&mut c, &data(1)).is_empty(), "a network duplicate");
    assert!(feed(&mut c, &data(2)).is_empty());
    // 3 is lost: 4 comes after a gap, answered once.
    assert_eq!(feed(&mut c, &data(4)), [Packet::Ack { block: 2 }]);
    assert!(feed(&mut c, &data(5)).is_empty());
    for b in 3..=6 {
        let acks = feed(&mut c, &data(b));
        assert_eq!(acks.is_empty(), b < 6, "{b}");
    }
    // The window 3..6 is complete: ACK 6. Its first block again means the
    // sender timed out without hearing ACK 6: say it again. Block 4 again
    // is only a network duplicate.
    assert_eq!(feed(&mut c, &data(3)), [Packet::Ack { block: 6 }]);
    assert!(feed(&mut c, &data(4)).is_empty());
}

#[test]
fn an_empty_file_gets_no_tsize_in_its_oack() {
    // curl refuses `tsize 0` in an OACK; tftpd-hpa sends it and curl fails.
    let f = files("empty", b"");
    assert_eq!(
        first_answer(
            request_bytes(
                true,
                "empty",
                &[("tsize", "0"), ("blksize", "512"), ("timeout", "6")]
            ),
            ServerConfig::default(),
            f.clone()
        ),
        oack(&[("blksize", "512"), ("timeout", "6")])
    );
    // With tsize alone there is nothing left to acknowledge: DATA 1, empty.
    assert_eq!(
        first_answer(
            request_bytes(true, "empty", &[("tsize", "0")]),
            ServerConfig::default(),
            f
        ),
        Packet::Data {
            block: 1,
            data: Bytes::new()
        }
    );
}

#[test]
fn dallies_are_bounded() {
    use wirekit_core::tftp::{MAX_DALLY, dally};
    assert_eq!(dally(Duration::from_secs(1), 5), Duration::from_secs(6));
    assert_eq!(dally(Duration::from_secs(6), 5), MAX_DALLY);
    assert_eq!(dally(Duration::from_secs(255), 5), Duration::from_secs(510));
    assert_eq!(dally(Duration::MAX, u32::MAX), Duration::MAX);
}

#[test]
fn after_the_last_block_only_a_repeat_of_it_matters() {
    // Upload: once the last block is in, an ERROR or junk from the client
    // does not undo the commit.
    let mut net = put_net(
        &pattern(100),
        config(Wishes::default(), 3),
        Impairment::default(),
        0,
    );
    net.run(5);
    assert!(matches!(
        net.ports[0].server.log.last(),
        Some(server::Event::Done { bytes: 100 })
    ));
    for junk in [&b"\0\x05\0\x00bye\0"[..], b"\0\x04\0\x07", b"junk"] {
        net.deliver(Datagram {
            from: CLIENT,
            to: FIRST_TRANSFER,
            payload: Bytes::copy_from_slice(junk),
        });
    }
    net.run(1000);
    assert!(net.is_settled());
    assert!(
        !net.ports[0]
            .server
            .log
            .iter()
            .any(|e| matches!(e, server::Event::Failed(_) | server::Event::Abort))
    );
    assert!(net.files.get("up.bin") == Some(&pattern(100)));
    // Download: the same on the client's side.
    let mut net = get_net(
        &pattern(100),
        config(Wishes::default(), 3),
        Impairment::default(),
        0,
    );
    net.run(5);
    assert_eq!(net.client.outcome(), Some(Ok(100)));
    net.deliver(Datagram {
        from: FIRST_TRANSFER,
        to: CLIENT,
        payload: Bytes::from_static(b"\0\x05\0\x00bye\0"),
    });
    net.run(1000);
    assert!(
        !net.client
            .log
            .iter()
            .any(|e| matches!(e, client::Event::Failed(_)))
    );
}

#[test]
fn a_get_learns_the_size_and_a_put_announces_it() {
    let wishes = Wishes {
        tsize: true,
        ..Wishes::default()
    };
    let net = assert_get(&pattern(1234), wishes, Impairment::default(), 0);
    assert!(
        net.client
            .log
            .iter()
            .any(|e| matches!(e, client::Event::Negotiated(p) if p.tsize == Some(1234)))
    );
    let net = assert_put(&pattern(1234), wishes, Impairment::default(), 0);
    assert!(matches!(
        net.ports[0].server.log.first(),
        Some(server::Event::OpenWrite {
            size: Some(1234),
            ..
        })
    ));
}

#[test]
fn commands_out_of_turn_are_local_misuse() {
    use wirekit_core::tftp::Misuse;
    let cfg = ServerConfig::default();
    let req = accept(&request_bytes(true, "f", &[]), &cfg).expect("ok");
    let mut t = Transfer::new(req, &cfg);
    assert!(matches!(
        t.poll_event(),
        Some(server::Event::OpenRead { .. })
    ));
    assert_eq!(
        t.handle_command(start(), server::Command::Chunk(Bytes::new())),
        Err(Misuse::Unasked)
    );
    assert_eq!(
        t.handle_command(start(), server::Command::Created(Ok(()))),
        Err(Misuse::Unasked),
        "a read is opened, not created"
    );
    t.handle_command(start(), server::Command::Opened(Ok(10)))
        .expect("asked");
    assert!(matches!(t.poll_event(), Some(server::Event::Negotiated(_))));
    assert_eq!(
        t.poll_event(),
        Some(server::Event::ReadChunk {
            offset: 0,
            len: 1024
        }),
        "two lock-step blocks: one in flight, one read ahead"
    );
    assert_eq!(
        t.handle_command(start(), server::Command::Chunk(Bytes::from(vec![0; 1025]))),
        Err(Misuse::ChunkTooLong {
            len: 1025,
            asked: 1024
        })
    );
    let mut c = Client::get("f", ClientConfig::default(), start()).expect("ok");
    assert_eq!(
        c.handle_command(start(), client::Command::Chunk(Bytes::new())),
        Err(Misuse::Unasked)
    );
    assert!(matches!(
        Client::get("", ClientConfig::default(), start()),
        Err(Misuse::BadConfig(_))
    ));
    let no_window = ClientConfig {
        wishes: Wishes {
            windowsize: Some(0),
            ..Wishes::default()
        },
        ..ClientConfig::default()
    };
    assert!(Client::get("f", no_window, start()).is_err());
    // Cancelling sends ERROR 0 once the server is known.
    c.handle_command(start(), client::Command::Cancel)
        .expect("ok");
    assert!(matches!(
        c.poll_event(),
        Some(client::Event::Failed(Failure::Cancelled))
    ));
    assert!(c.is_done());
}

#[test]
fn a_client_uses_the_timeout_it_asks_for_from_the_start() {
    let wishes = Wishes {
        timeout: Some(3),
        ..Wishes::default()
    };
    let c = Client::get("f", config(wishes, 3), start()).expect("ok");
    assert_eq!(
        c.poll_timeout(),
        Some(start().mono + Duration::from_secs(3))
    );
}

//! WKFT/1 client and server machines wired in memory under random chunking
//! and random driver schedules: transfers are byte-exact with the digest
//! verified, resumes work both ways from any offset, every error code is
//! reachable, corruption is refused and never committed, and the contract
//! holds under hostile input.
// Helpers outside `#[test]` functions are test code too.
#![allow(clippy::unwrap_used)]

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use wirekit_core::store::mem::MemStore as Memory;
use wirekit_core::testing::contract::{Op, exercise};
use wirekit_core::testing::transfer::{MemStore, Session, feed, remote_code, special, transmitted};
use wirekit_core::transfer::client::{self, Client, Failure};

use wirekit_core::transfer::server::{self, Server};
use wirekit_core::transfer::store::Files;
use wirekit_core::transfer::{ErrorCode, Kind, MAX_PENDING_OUTPUT, ProtocolError, Stat};
use wirekit_core::wire::transfer::{Digest, MAX_CHUNK, MAX_FILE_SIZE, Reply, Request, Version};
use wirekit_core::{Input, Machine, Now, PeerId};

fn file(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn done(size: usize, data: &[u8]) -> client::Event {
    client::Event::Done {
        size: size as u64,
        digest: Digest::of(data),
    }
}

fn session(seed: u64, max_piece: usize) -> Session {
    let mut s = Session::new(MemStore::new(), seed, max_piece);
    s.connect().unwrap();
    s
}

fn put(path: &str, size: usize, offset: usize) -> client::Command {
    client::Command::Put {
        path: path.into(),
        size: size as u64,
        offset: offset as u64,
        replace: false,
        restart: false,
    }
}

fn get(path: &str, offset: usize) -> client::Command {
    client::Command::Get {
        path: path.into(),
        offset: offset as u64,
        version: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Upload then download, fresh and resumed, under random schedules.
    #[test]
    fn files_transfer_byte_exact_and_resume_both_ways(
        (len, max_piece) in prop_oneof![(0usize..64, 1usize..8), (0usize..300_000, 256usize..100_000)],
        cut in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let data = file(len, seed as u8);
        let k = cut.index(len + 1);
        let mut s = session(seed, max_piece);

        s.local.source = data.clone();
        prop_assert_eq!(s.request(put("a.bin", len, 0)).unwrap(), [done(len, &data)]);
        prop_assert_eq!(s.store.mem().file("a.bin"), Some(&data[..]));

        prop_assert_eq!(s.request(get("a.bin", 0)).unwrap(), [done(len, &data)]);
        prop_assert_eq!(&s.local.dest, &data);

        // Resume a download: the client kept the first k bytes.
        s.local.dest = data[..k].to_vec();
        prop_assert_eq!(s.request(get("a.bin", k)).unwrap(), [done(len, &data)]);
        prop_assert_eq!(&s.local.dest, &data);

        // Resume an upload: the server kept the first k bytes of another path.
        s.store.mem_mut().insert_partial("b.bin", data[..k].to_vec());
        let stat = s.request(client::Command::Stat { path: "b.bin".into() }).unwrap();
        prop_assert_eq!(stat, [client::Event::Status(Stat::of(Kind::Partial, k as u64))]);
        prop_assert_eq!(s.request(put("b.bin", len, k)).unwrap(), [done(len, &data)]);
        prop_assert_eq!(s.store.mem().file("b.bin"), Some(&data[..]));
        prop_assert!(s.store.mem().partials().next().is_none());
        prop_assert_eq!(s.store.mem().committed(), &["a.bin".to_string(), "b.bin".to_string()][..]);

        prop_assert_eq!(s.request(client::Command::Quit).unwrap(), []);
        prop_assert!(s.pair.client.is_done() && s.pair.server.is_done());
    }

    /// A connection that ends mid-upload leaves a partial; a new session
    /// finds it with STAT and resumes it.
    #[test]
    fn an_interrupted_upload_resumes_in_a_new_session(
        (len, max_piece) in prop_oneof![(1usize..64, 1usize..8), (1usize..200_000, 256usize..70_000)],
        cut in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let data = file(len, 7);
        let short = cut.index(len);
        let mut s = session(seed, max_piece);
        s.local.source = data.clone();
        s.local.source_len = Some(short);
        prop_assert_eq!(
            s.request(put("big", len, 0)).unwrap(),
            [client::Event::Failed(Failure::LocalShort)]
        );
        prop_assert!(s.pair.server.is_done());
        prop_assert!(s.store.mem().files().next().is_none());
        let kept = s.store.mem().partial("big").map(<[u8]>::to_vec).unwrap_or_default();
        prop_assert!(kept.len() <= short && data.starts_with(&kept));

        let mut t = Session::new(std::mem::take(&mut s.store), seed ^ 1, max_piece);
        t.connect().unwrap();
        let stat = t.request(client::Command::Stat { path: "big".into() }).unwrap();
        prop_assert_eq!(
            stat,
            [client::Event::Status(Stat::of(Kind::Partial, kept.len() as u64))]
        );
        t.local.source = data.clone();
        prop_assert_eq!(t.request(put("big", len, kept.len())).unwrap(), [done(len, &data)]);
        prop_assert_eq!(t.store.mem().file("big"), Some(&data[..]));
    }

    /// A damaged kept prefix is caught by the whole-file digest, both ways,
    /// and nothing is committed.
    #[test]
    fn a_corrupt_prefix_is_refused(
        len in 1usize..100_000,
        flip in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let data = file(len, 3);
        let at = flip.index(len);
        let mut bad = data[..=at].to_vec();
        bad[at] ^= 0x40;
        let mut s = session(seed, 4096);
        s.store.mem_mut().insert("f", Bytes::from(data.clone()));

        s.local.dest = bad.clone();
        let out = s.request(get("f", bad.len())).unwrap();
        prop_assert!(
            matches!(out.as_slice(), [client::Event::Failed(Failure::DigestMismatch { expected, .. })] if *expected == Digest::of(&data)),
            "{:?}", out
        );

        // WKFT/1.1's READY shows the kept prefix's digest: the client sees
        // it is not its file's start and sends nothing.
        s.store.mem_mut().insert_partial("g", bad.clone());
        s.local.source = data.clone();
        let out = s.request(put("g", len, bad.len())).unwrap();
        prop_assert_eq!(out, [client::Event::Failed(Failure::PrefixDiffers)]);
        prop_assert!(s.store.mem().file("g").is_none());
        prop_assert_eq!(s.store.mem().partial("g"), Some(&bad[..]), "another's partial is kept");
        prop_assert!(s.store.mem().committed().is_empty());
        // The store serves the next session.
        let (store, _) = s.cut();
        let mut t = Session::new(store, seed ^ 1, 4096);
        t.connect().unwrap();
        prop_assert_eq!(t.request(get("f", 0)).unwrap(), [done(len, &data)]);
    }

    /// A byte flipped in transit, in a body or a digest, is refused by the
    /// server (422, nothing committed) and by the client (digest mismatch).
    #[test]
    fn corruption_in_transit_is_refused(
        len in 1usize..5000,
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
        cuts in prop::collection::vec(1usize..600, 1..20),
    ) {
        let data = file(len, 9);
        let enc = |r: Request| {
            let mut b = BytesMut::new();
            r.encode(&mut b).unwrap();
            b.to_vec()
        };
        let mut pre = enc(Request::Hello { version: 1 });
        pre.extend(enc(Request::Put { path: "x".into(), size: len as u64, offset: 0, replace: false, restart: false }));
        let mut body = enc(Request::Data(Bytes::from(data.clone())));
        let mut done = enc(Request::Done { digest: Digest::of(&data) });
        // Flip a body bit, or turn one digest hex digit into another.
        let target = flip.index(len + 64);
        if target < len {
            let at = body.len() - 1 - len + target;
            body[at] ^= 1 << bit;
        } else {
            let at = "DONE ".len() + target - len;
            done[at] = if done[at] == b'0' { b'1' } else { b'0' };
        }
        let stream = [pre, body, done].concat();
        let mut srv = Server::new();
        let mut events = Vec::new();
        let mut files = Files::new(Memory::new());
        feed_store(&mut srv, &stream, &cuts, &mut events, &mut files);
        // The machine passes the claim on; the bytes as stored refute it.
        prop_assert!(files.store().file("x").is_none(), "committed: {:?}", events);
        prop_assert!(files.store().partial("x").is_none(), "not discarded: {:?}", events);
        let out = transmitted(&mut srv);
        prop_assert!(out.ends_with("ERR 422 digest mismatch: nothing stored\n"), "{}", out);

        // Download side: a reply stream with a flipped body bit.
        let enc = |r: Reply| {
            let mut b = BytesMut::new();
            r.encode(&mut b).unwrap();
            b.to_vec()
        };
        let mut body = enc(Reply::Data(Bytes::from(data.clone())));
        let at = body.len() - 1 - len + flip.index(len);
        body[at] ^= 1 << bit;
        let stream = [
            enc(Reply::File { size: len as u64, offset: 0, version: None }),
            body,
            enc(Reply::Done { digest: Digest::of(&data) }),
        ]
        .concat();
        let mut c = Client::new();
        feed(&mut c, &enc(Reply::Hello { version: 1, features: vec![] }), &cuts);
        prop_assert_eq!(c.poll_event(), Some(client::Event::Ready));
        c.handle_command(Now::default(), get("x", 0)).unwrap();
        feed(&mut c, &stream, &cuts);
        let evs: Vec<client::Event> = std::iter::from_fn(|| c.poll_event()).collect();
        prop_assert!(
            matches!(evs.last(), Some(client::Event::Failed(Failure::DigestMismatch { .. }))),
            "{:?}", evs
        );
        let finished = evs.iter().any(|e| matches!(e, client::Event::Done { .. }));
        prop_assert!(!finished, "{:?}", evs);
    }

    /// The contract checker's hostile scripts, over both machines, starting
    /// from fresh machines and from machines mid-handshake.
    #[test]
    fn contract_holds_for_both_machines(
        ops in prop::collection::vec(op_strategy(), 0..40),
    ) {
        let mut srv = Server::new();
        exercise(&mut srv, Now::default(), &ops).unwrap();
        let mut cli = Client::new();
        exercise(&mut cli, Now::default(), &ops).unwrap();
    }
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let valid = prop_oneof![
        Just(b"HELLO 1\n".to_vec()),
        Just(b"PUT x 10\nDATA 3\nabc\n".to_vec()),
        Just(b"GET x\nLIST\nSTAT y\n".to_vec()),
        Just(b"FILE 10 0\nDATA 2\nhi\nDONE 00\n".to_vec()),
        Just(b"ENTRIES 2\nENTRY file 1 a\n".to_vec()),
        Just(b"READY 0\nSTORED 1 x\nERR 404 nope\nBYE\n".to_vec()),
    ];
    prop_oneof![
        4 => (any::<u8>(), valid).prop_map(|(from, bytes)| Op::Data { from, bytes }),
        3 => (any::<u8>(), prop::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(from, bytes)| Op::Data { from, bytes }),
        1 => (any::<u8>(), 1usize..200_000)
            .prop_map(|(from, n)| Op::Data { from, bytes: vec![b'A'; n] }),
        1 => any::<u8>().prop_map(|from| Op::Eof { from }),
        1 => any::<u16>().prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::EarlyTimeout),
    ]
}

/// Feeds a server, answering its store events as an accepting store that
/// keeps nothing would.
/// Feeds `bytes` in pieces of `cuts`, answering events from a memory store.
fn feed_server(srv: &mut Server, bytes: &[u8], cuts: &[usize], events: &mut Vec<server::Event>) {
    feed_store(srv, bytes, cuts, events, &mut Files::new(Memory::new()));
}

fn feed_store(
    srv: &mut Server,
    bytes: &[u8],
    cuts: &[usize],
    events: &mut Vec<server::Event>,
    files: &mut Files<Memory>,
) {
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts[i % cuts.len()].min(rest.len());
        i += 1;
        let input = Input::Data {
            from: PeerId::FIRST,
            bytes: &rest[..n],
        };
        srv.handle_input(Now::default(), input).unwrap();
        rest = &rest[n..];
        while let Some(e) = srv.poll_event() {
            events.push(e.clone());
            if let Some(answer) = files.answer(e) {
                srv.handle_command(Now::default(), answer).unwrap();
            }
        }
    }
}

#[test]
fn every_error_code_is_reachable() {
    let mut s = session(1, 50);
    s.store.mem_mut().insert("have", Bytes::from(file(10, 1)));
    s.store
        .mem_mut()
        .insert("flaky.txt", Bytes::from(file(10, 1)));
    s.store.mem_mut().set_quota(100);
    s.local.dest = vec![0; 11];
    let stat = |p: &str| client::Command::Stat { path: p.into() };
    let cases: Vec<(client::Command, ErrorCode)> = vec![
        (get("have", 11), ErrorCode::BadOffset),
        (stat("secret/x"), ErrorCode::Denied),
        (get("missing", 0), ErrorCode::NotFound),
        (put("have", 10, 0), ErrorCode::Exists),
        (put("huge", 101, 0), ErrorCode::TooLarge),
        (get("flaky.txt", 0), ErrorCode::Internal),
        (stat("locked/y"), ErrorCode::Locked),
        (put("nopartial", 10, 5), ErrorCode::NotFound),
    ];
    for (cmd, want) in cases {
        let out = s.request(cmd.clone()).unwrap();
        assert_eq!(remote_code(&out), Some(want), "{cmd:?} gave {out:?}");
    }
    // 422 needs a lie about the data: a digest of other bytes.
    let mut srv2 = Server::new();
    let mut events = Vec::new();
    // The DATA after READY: in 1.1, DATA before it is a protocol error.
    let mut files = Files::new(Memory::new());
    feed_store(
        &mut srv2,
        b"HELLO 2\nPUT p 1\n",
        &[100],
        &mut events,
        &mut files,
    );
    let stream = format!("DATA 1\nx\nDONE {}\n", Digest::of(b"y"));
    feed_store(
        &mut srv2,
        stream.as_bytes(),
        &[100],
        &mut events,
        &mut files,
    );
    assert!(transmitted(&mut srv2).ends_with("ERR 422 digest mismatch: nothing stored\n"));
    // 413 from the machine itself, for a size over the protocol limit.
    let mut srv = Server::new();
    feed(
        &mut srv,
        format!("HELLO 1\nPUT x {}\n", MAX_FILE_SIZE + 1).as_bytes(),
        &[1000],
    );
    assert!(transmitted(&mut srv).ends_with("ERR 413 size over MAX_FILE_SIZE\n"));
    // A failed write answers the upload's DONE with 500 and keeps the
    // partial; the rest of the upload is dropped and the session goes on.
    s.local.source = file(10, 2);
    let out = s.request(put("flaky.bin", 10, 0)).unwrap();
    assert_eq!(remote_code(&out), Some(ErrorCode::Internal));
    assert!(!s.pair.server.is_done());
    assert!(s.store.mem().partial("flaky.bin").is_some());
    assert!(s.store.mem().committed().is_empty());
    let out = s.request(put("fine.bin", 10, 0)).unwrap();
    assert!(
        matches!(out[..], [client::Event::Done { size: 10, .. }]),
        "{out:?}"
    );
}

#[test]
fn listings_round_trip_and_leave_out_unsayable_names_in_1_0() {
    let mut s = session(5, 7);
    s.store.mem_mut().insert("a.txt", Bytes::from(file(3, 0)));
    s.store
        .mem_mut()
        .insert("with space", Bytes::from(file(3, 0)));
    s.store.mem_mut().insert_partial("half", file(2, 0));
    let out = s.request(client::Command::List { path: None }).unwrap();
    let client::Event::Listing(entries) = &out[0] else {
        panic!("{out:?}")
    };
    let names: Vec<(&str, Kind, u64)> = entries
        .iter()
        .map(|e| (e.name.as_str(), e.kind, e.size))
        .collect();
    // WKFT/1.1 escapes the space.
    assert_eq!(
        names,
        [
            ("a.txt", Kind::File, 3),
            ("half", Kind::Partial, 2),
            ("with space", Kind::File, 3)
        ]
    );
    // WKFT/1.0 cannot say it, and leaves it out.
    let (out, _) = wirekit_core::testing::transfer::serve(&mut s.store, b"HELLO 1\nLIST\n");
    assert_eq!(
        out,
        "HELLO 1\nENTRIES 2\nENTRY file 3 a.txt\nENTRY partial 2 half\n"
    );
    let out = s
        .request(client::Command::List {
            path: Some(special::DENIED.into()),
        })
        .unwrap();
    assert_eq!(remote_code(&out), Some(ErrorCode::Denied));
}

#[test]
fn garbage_gets_400_and_a_close() {
    for (input, want) in [
        (&b"LIST\n"[..], ProtocolError::OutOfTurn),
        (b"HELLO 1\nDATA 3\nabc\n", ProtocolError::OutOfTurn),
        (
            b"HELLO 1\nFETCH x\n",
            ProtocolError::Wire(wirekit_core::wire::transfer::WireError::UnknownKeyword),
        ),
    ] {
        let mut srv = Server::new();
        feed(&mut srv, input, &[3]);
        let out = transmitted(&mut srv);
        assert!(out.contains("ERR 400 "), "{out}");
        assert!(srv.is_done());
        let evs: Vec<_> = std::iter::from_fn(|| srv.poll_event()).collect();
        assert_eq!(evs, [server::Event::Protocol(want)]);
    }
    // A client that sends while the server waits for its store overflows it.
    let mut srv = Server::new();
    feed(&mut srv, b"HELLO 1\nSTAT x\n", &[100]);
    feed(&mut srv, &vec![b'Q'; 300_000], &[70_000]);
    assert!(srv.is_done());
    assert!(
        std::iter::from_fn(|| srv.poll_event())
            .any(|e| e == server::Event::Protocol(ProtocolError::InputOverflow))
    );
    // An unsupported version is refused but the session stays open.
    let mut srv = Server::new();
    feed(&mut srv, b"HELLO 3\nHELLO 1\n", &[5]);
    assert_eq!(
        transmitted(&mut srv),
        "ERR 505 unsupported version 3; this server speaks 1 and 2\nHELLO 1\n"
    );
    assert!(!srv.is_done());
}

#[test]
fn the_server_asks_for_chunks_only_while_output_is_small() {
    let mut srv = Server::new();
    feed(&mut srv, b"HELLO 1\nGET big\n", &[100]);
    assert_eq!(
        srv.poll_event(),
        Some(server::Event::OpenRead {
            path: "big".into(),
            offset: 0,
            version: None
        })
    );
    let opened = server::Opened {
        size: 100 * MAX_CHUNK as u64,
        version: Version(1),
        digest: None,
    };
    srv.handle_command(Now::default(), server::Command::Opened(Ok(opened)))
        .unwrap();
    let mut asked = 0;
    while let Some(e) = srv.poll_event() {
        let server::Event::ReadChunk { max } = e else {
            panic!("{e:?}")
        };
        asked += 1;
        srv.handle_command(
            Now::default(),
            server::Command::Chunk(Bytes::from(vec![1; max])),
        )
        .unwrap();
    }
    // Nobody took the output: the server stopped asking at its bound.
    assert!(
        asked >= 1 && asked * MAX_CHUNK <= MAX_PENDING_OUTPUT,
        "{asked}"
    );
    let first = srv.poll_transmit().unwrap();
    assert!(!first.payload.is_empty());
    let _ = transmitted(&mut srv);
    assert!(matches!(
        srv.poll_event(),
        Some(server::Event::ReadChunk { .. })
    ));
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    use wirekit_core::transfer::Misuse;
    let mut c = Client::new();
    let now = Now::default();
    assert_eq!(c.handle_command(now, get("x", 0)), Err(Misuse::NotReady));
    feed(&mut c, b"HELLO 1\n", &[2]);
    assert_eq!(c.poll_event(), Some(client::Event::Ready));
    assert!(matches!(
        c.handle_command(now, get("a b", 0)),
        Err(Misuse::BadPath(_))
    ));
    assert_eq!(
        c.handle_command(now, put("x", 1, 2)),
        Err(Misuse::BadOffset)
    );
    c.handle_command(now, get("x", 0)).unwrap();
    assert_eq!(
        c.handle_command(now, client::Command::Quit),
        Err(Misuse::Busy)
    );
    assert_eq!(
        c.handle_command(now, client::Command::Chunk(Bytes::new())),
        Err(Misuse::Unexpected)
    );
    let mut srv = Server::new();
    assert_eq!(
        srv.handle_command(now, server::Command::Chunk(Bytes::new())),
        Err(Misuse::Unexpected)
    );
}

/// The `nc` session in the specification, replayed against the server
/// machine and an in-memory store: what it says the server answers is what
/// the server answers.
#[test]
fn the_spec_session_is_exact() {
    let spec = include_str!("../../book/src/spec/file-transfer.md");
    let starts: Vec<usize> = spec
        .match_indices("$ nc 127.0.0.1 7021\n")
        .map(|(i, _)| i)
        .collect();
    assert!(starts.len() >= 2, "a 1.0 and a 1.1 session");
    for start in starts {
        let session = &spec[start..spec[start..].find("```").expect("its end") + start];
        replay_spec_session(session);
    }
}

fn replay_spec_session(session: &str) {
    let (mut typed, mut answered) = (String::new(), String::new());
    for line in session.lines().skip(1) {
        if let Some(t) = line.strip_prefix('>') {
            typed.push_str(t.strip_prefix(' ').unwrap_or(t));
            typed.push('\n');
        } else if let Some(a) = line.strip_prefix('<') {
            answered.push_str(a.strip_prefix(' ').unwrap_or(a));
            answered.push('\n');
        }
    }
    let mut store = MemStore::new();
    store.set_short_reads(false);
    // A person types one line at a time, waiting for each answer.
    let lines: Vec<&[u8]> = typed.split_inclusive('\n').map(str::as_bytes).collect();
    let (out, closed) = wirekit_core::testing::transfer::serve_turns(&mut store, &lines);
    assert_eq!(out, answered, "{session}");
    assert!(closed);
}

#[test]
fn upload_byte_counts_are_enforced() {
    // More data than announced: 400, close, partial kept.
    let mut srv = Server::new();
    let mut events = Vec::new();
    feed_server(
        &mut srv,
        b"HELLO 1\nPUT x 2\nDATA 3\nabc\n",
        &[4],
        &mut events,
    );
    assert!(srv.is_done());
    assert!(transmitted(&mut srv).ends_with("ERR 400 more data than the size announced\n"));
    assert!(events.contains(&server::Event::AbortUpload { keep_partial: true }));
    assert!(events.contains(&server::Event::Protocol(ProtocolError::TooMuchData)));
    // DONE before all of it: 422, partial discarded, session open.
    let mut srv = Server::new();
    let mut events = Vec::new();
    let done = format!("DONE {}\n", Digest::of(b"ab"));
    let stream = format!("HELLO 1\nPUT x 3\nDATA 2\nab\n{done}");
    feed_server(&mut srv, stream.as_bytes(), &[5], &mut events);
    assert!(!srv.is_done());
    assert!(transmitted(&mut srv).ends_with("ERR 422 fewer bytes than the size: nothing stored\n"));
    assert_eq!(
        events.last(),
        Some(&server::Event::AbortUpload {
            keep_partial: false
        })
    );
}

#[test]
fn a_misbehaving_server_fails_the_request_and_the_client_closes() {
    let ready = |c: &mut Client| {
        feed(c, b"HELLO 1\n", &[8]);
        assert_eq!(c.poll_event(), Some(client::Event::Ready));
    };
    let failure = |c: &mut Client| -> Vec<client::Event> {
        assert!(c.is_done());
        std::iter::from_fn(|| c.poll_event()).collect()
    };
    let protocol = |e| vec![client::Event::Failed(Failure::Protocol(e))];

    let mut c = Client::new();
    feed(&mut c, b"HELLO 3\n", &[3]);
    assert_eq!(
        failure(&mut c),
        protocol(ProtocolError::Version { theirs: 3 })
    );

    let mut c = Client::new();
    ready(&mut c);
    c.handle_command(Now::default(), get("x", 0)).unwrap();
    feed(&mut c, b"FILE 10 3\n", &[3]);
    assert_eq!(failure(&mut c), protocol(ProtocolError::BadOffer));

    let mut c = Client::new();
    ready(&mut c);
    c.handle_command(Now::default(), get("x", 0)).unwrap();
    feed(&mut c, b"FILE 1 0\nDATA 2\nab\n", &[3]);
    let evs = failure(&mut c);
    assert_eq!(evs.last(), protocol(ProtocolError::TooMuchData).last());

    let mut c = Client::new();
    ready(&mut c);
    feed(&mut c, b"BYE\n", &[1]);
    assert_eq!(failure(&mut c), protocol(ProtocolError::OutOfTurn));

    // A chunk longer than asked is the local driver's mistake: an Err.
    let mut c = Client::new();
    ready(&mut c);
    c.handle_command(Now::default(), put("x", 5, 0)).unwrap();
    feed(&mut c, b"READY 0\n", &[8]);
    assert_eq!(c.poll_event(), Some(client::Event::ReadChunk { max: 5 }));
    assert_eq!(
        c.handle_command(
            Now::default(),
            client::Command::Chunk(Bytes::from_static(b"toolong"))
        ),
        Err(wirekit_core::transfer::Misuse::ChunkTooLong { max: 5, got: 7 })
    );
}

#[derive(Clone, Debug)]
enum Step {
    Put { path: usize, len: usize, seed: u8 },
    Get { path: usize, offset: usize },
    Stat { path: usize },
    List,
}

const PATHS: [&str; 5] = ["a", "b", "dir/c", "secret/d", "locked/e"];

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..PATHS.len(), 0usize..20_000, any::<u8>()).prop_map(|(path, len, seed)| Step::Put {
            path,
            len,
            seed
        }),
        (0..PATHS.len(), 0usize..25_000).prop_map(|(path, offset)| Step::Get { path, offset }),
        (0..PATHS.len()).prop_map(|path| Step::Stat { path }),
        Just(Step::List),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Any sequence of requests in one session: each ends in exactly the
    /// outcome a simple model predicts, and the store matches the model.
    #[test]
    fn a_long_session_matches_a_model(
        steps in prop::collection::vec(step_strategy(), 1..16),
        seed in any::<u64>(),
        max_piece in 1usize..20_000,
    ) {
        let mut s = session(seed, max_piece);
        let mut model: std::collections::BTreeMap<&str, Vec<u8>> = Default::default();
        let refused = |p: &str| {
            if p.starts_with(special::DENIED) {
                Some(ErrorCode::Denied)
            } else if p.starts_with(special::BUSY) {
                Some(ErrorCode::Locked)
            } else {
                None
            }
        };
        for step in steps {
            match step {
                Step::Put { path, len, seed } => {
                    let p = PATHS[path];
                    let data = file(len, seed);
                    s.local.source = data.clone();
                    let out = s.request(put(p, len, 0)).unwrap();
                    if let Some(code) = refused(p) {
                        prop_assert_eq!(remote_code(&out), Some(code));
                    } else if model.contains_key(p) {
                        prop_assert_eq!(remote_code(&out), Some(ErrorCode::Exists));
                    } else {
                        prop_assert_eq!(out, [done(len, &data)]);
                        model.insert(p, data);
                    }
                }
                Step::Get { path, offset } => {
                    let p = PATHS[path];
                    let want = model.get(p).cloned();
                    let offset = offset.min(want.as_ref().map_or(0, |d| d.len() + 1));
                    // Resume from a kept prefix when the model has one to keep.
                    s.local.dest = want.as_ref().map_or(vec![0; offset], |d| {
                        let mut kept = d[..offset.min(d.len())].to_vec();
                        kept.resize(offset, 0);
                        kept
                    });
                    let out = s.request(get(p, offset)).unwrap();
                    match (refused(p), want) {
                        (Some(code), _) => prop_assert_eq!(remote_code(&out), Some(code)),
                        (None, None) => prop_assert_eq!(remote_code(&out), Some(ErrorCode::NotFound)),
                        (None, Some(d)) if offset > d.len() => {
                            prop_assert_eq!(remote_code(&out), Some(ErrorCode::BadOffset));
                        }
                        (None, Some(d)) => {
                            prop_assert_eq!(out, [done(d.len(), &d)]);
                            prop_assert_eq!(&s.local.dest, &d);
                        }
                    }
                }
                Step::Stat { path } => {
                    let p = PATHS[path];
                    let out = s.request(client::Command::Stat { path: p.into() }).unwrap();
                    match (refused(p), model.get(p)) {
                        (Some(code), _) => prop_assert_eq!(remote_code(&out), Some(code)),
                        (None, None) => prop_assert_eq!(remote_code(&out), Some(ErrorCode::NotFound)),
                        (None, Some(d)) => prop_assert!(
                            matches!(
                                out.as_slice(),
                                [client::Event::Status(st)]
                                    if (st.kind, st.size) == (Kind::File, d.len() as u64)
                                        && st.version.is_some()
                            ),
                            "{:?}", out
                        ),
                    }
                }
                Step::List => {
                    let out = s.request(client::Command::List { path: None }).unwrap();
                    let want: Vec<_> = model
                        .iter()
                        .map(|(n, d)| wirekit_core::transfer::Entry {
                            name: n.to_string(),
                            kind: Kind::File,
                            size: d.len() as u64,
                        })
                        .collect();
                    prop_assert_eq!(out, [client::Event::Listing(want)]);
                }
            }
            prop_assert!(!s.pair.client.is_done() && !s.pair.server.is_done());
        }
        let stored: Vec<(&str, &[u8])> = s.store.mem().files().collect();
        let modelled: Vec<(&str, &[u8])> = model.iter().map(|(k, v)| (*k, &v[..])).collect();
        prop_assert_eq!(stored, modelled);
    }
}

/// A WKFT/1.1 client asks for 1.1; a 1.0 server refuses that and keeps the
/// session, and the client settles on 1.0, where replacing and deleting
/// fail unsent.
#[test]
fn a_1_1_client_falls_back_to_a_1_0_server() {
    let now = Now::default();
    let mut c = Client::new();
    assert_eq!(transmitted(&mut c), "HELLO 2\n");
    feed(
        &mut c,
        b"ERR 400 unsupported version 2; this server speaks 1\n",
        &[7],
    );
    assert_eq!(transmitted(&mut c), "HELLO 1\n");
    feed(&mut c, b"HELLO 1\n", &[3]);
    assert_eq!(c.poll_event(), Some(client::Event::Ready));
    assert_eq!(c.version(), 1);
    let replace = client::Command::Put {
        path: "x".into(),
        size: 1,
        offset: 0,
        replace: true,
        restart: false,
    };
    c.handle_command(now, replace).unwrap();
    assert_eq!(
        c.poll_event(),
        Some(client::Event::Failed(Failure::Unsupported))
    );
    c.handle_command(now, client::Command::Delete { path: "x".into() })
        .unwrap();
    assert_eq!(
        c.poll_event(),
        Some(client::Event::Failed(Failure::Unsupported))
    );
    assert_eq!(
        transmitted(&mut c),
        "",
        "nothing a 1.0 server would choke on"
    );
    assert!(c.is_idle());
}

/// A 1.0 client meets the 1.1 server as it met 1.0: the same replies, and
/// 1.1's requests are unknown verbs that end the session.
#[test]
fn a_1_0_session_on_the_new_server_is_exactly_1_0() {
    let mut srv = Server::new();
    feed(&mut srv, b"HELLO 1\nNOOP\n", &[4]);
    assert_eq!(transmitted(&mut srv), "HELLO 1\nERR 400 unknown message\n");
    assert!(srv.is_done());
    // And a 1.0 client gets its work done against it.
    let mut s = session(7, 64);
    s.pair = wirekit_core::pair::StreamPair::new(
        Client::speaking(wirekit_core::wire::transfer::VERSION),
        Server::new(),
        Now::default(),
    );
    s.connect().unwrap();
    assert_eq!(s.pair.client.version(), 1);
    s.local.source = b"hello".to_vec();
    assert_eq!(s.request(put("a", 5, 0)).unwrap(), [done(5, b"hello")]);
}

/// WKFT/1.1: `PUT … replace` takes the place of a file only once verified,
/// `DELETE` removes a file or a partial, `NOOP` answers, and an unknown verb
/// is refused with 501 while the session goes on.
#[test]
fn a_1_1_session_replaces_deletes_and_skips_unknown_verbs() {
    let mut s = session(3, 64);
    assert_eq!(s.pair.client.version(), 2);
    s.store.mem_mut().insert("f", Bytes::from_static(b"old"));
    // A replacing upload that fails leaves the old file as it was.
    s.local.source = b"new!".to_vec();
    let replace = client::Command::Put {
        path: "f".into(),
        size: 4,
        offset: 0,
        replace: true,
        restart: false,
    };
    s.store.mem_mut().set_quota(2);
    assert_eq!(
        remote_code(&s.request(replace.clone()).unwrap()),
        Some(ErrorCode::TooLarge)
    );
    assert_eq!(s.store.mem().file("f"), Some(&b"old"[..]));
    s.store.mem_mut().set_quota(1 << 20);
    assert_eq!(s.request(replace).unwrap(), [done(4, b"new!")]);
    assert_eq!(s.store.mem().file("f"), Some(&b"new!"[..]));
    // Without `replace` the name is still protected.
    assert_eq!(
        remote_code(&s.request(put("f", 4, 0)).unwrap()),
        Some(ErrorCode::Exists)
    );
    assert_eq!(
        s.request(client::Command::Delete { path: "f".into() })
            .unwrap(),
        [client::Event::Deleted]
    );
    assert_eq!(s.store.mem().file("f"), None);
    assert_eq!(
        remote_code(
            &s.request(client::Command::Delete { path: "f".into() })
                .unwrap()
        ),
        Some(ErrorCode::NotFound)
    );
    // The server side of the grammar: NOOP, and an unknown verb kept apart.
    let mut srv = Server::new();
    feed(&mut srv, b"HELLO 2\nNOOP\nFETCH x\nNOOP\n", &[5]);
    assert_eq!(
        transmitted(&mut srv),
        "HELLO 2 cancel delete escape noop pipeline replace restart versions\nOK\nERR 501 unknown request\nOK\n"
    );
    assert!(!srv.is_done());
}

/// WKFT/1.1 pages a long listing (`ENTRIES n more`, then `LIST path after`)
/// and the client gathers every page; a page never ends between a file and
/// a partial of one name. A 1.0 session gets 413, as 1.0 says.
#[test]
fn a_long_listing_comes_in_pages_and_a_1_0_session_gets_413() {
    let names: Vec<String> = (0..2500).map(|i| format!("f{i:04}")).collect();
    let fill = |s: &mut Session| {
        for n in &names {
            s.store
                .mem_mut()
                .insert(n.clone(), Bytes::from_static(b"x"));
        }
        // Entry 1024 and 1025 share a name: the first page must not split them.
        s.store.mem_mut().insert_partial("f1023", b"ab".to_vec());
    };
    let mut s = session(11, 4096);
    fill(&mut s);
    let out = s.request(client::Command::List { path: None }).unwrap();
    let [client::Event::Listing(entries)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(entries.len(), 2501);
    let f1023: Vec<Kind> = entries
        .iter()
        .filter(|e| e.name == "f1023")
        .map(|e| e.kind)
        .collect();
    assert_eq!(f1023, [Kind::File, Kind::Partial]);
    let mut sorted = entries.clone();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(&sorted, entries, "pages arrive in order, none twice");

    let mut old = session(11, 4096);
    old.pair = wirekit_core::pair::StreamPair::new(
        Client::speaking(wirekit_core::wire::transfer::VERSION),
        Server::new(),
        Now::default(),
    );
    old.connect().unwrap();
    fill(&mut old);
    let out = old.request(client::Command::List { path: None }).unwrap();
    assert_eq!(remote_code(&out), Some(ErrorCode::TooLarge));
}

/// A client's bytes, marked: the header lines (whose first byte to line end
/// the header deadline bounds) and the `DATA` bodies (which it does not).
fn session_with_bodies(body: &[u8]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut bytes = Vec::new();
    let mut lines = Vec::new();
    let mut line = |bytes: &mut Vec<u8>, text: &str| {
        lines.push((bytes.len(), bytes.len() + text.len() - 1));
        bytes.extend_from_slice(text.as_bytes());
    };
    line(&mut bytes, "HELLO 2\n");
    line(&mut bytes, "NOOP\n");
    line(&mut bytes, &format!("PUT up.bin {}\n", body.len()));
    line(&mut bytes, &format!("DATA {}\n", body.len()));
    bytes.extend_from_slice(body);
    bytes.push(b'\n');
    line(&mut bytes, &format!("DONE {}\n", Digest::of(body)));
    line(&mut bytes, "QUIT\n");
    (bytes, lines)
}

/// When a client sends what: `(from, to, at ms)`, pieces of `len` bytes
/// after gaps of `gap` ms, cycling through `chunks`, and none across `wait`
/// (the end of its `PUT` line: a client waits for `READY` there).
fn schedule(total: usize, wait: usize, chunks: &[(usize, u64)]) -> Vec<(usize, usize, u64)> {
    let (mut at, mut pos) = (0u64, 0usize);
    let mut out = Vec::new();
    for &(len, gap) in chunks.iter().cycle() {
        if pos >= total {
            break;
        }
        at += gap;
        let mut end = (pos + len).min(total);
        if pos < wait {
            end = end.min(wait);
        }
        out.push((pos, end, at));
        pos = end;
    }
    out
}

/// Drives a server as a driver honouring `poll_timeout` would: before a
/// piece due at `t`, any timeout due by then is fed first. Store questions
/// are answered at once. Returns what it sent.
fn trickle(srv: &mut Server, bytes: &[u8], pieces: &[(usize, usize, u64)]) -> String {
    let mut out = String::new();
    let now = |ms: u64| Now {
        mono: wirekit_core::time::Instant::from_millis(ms),
        ..Now::default()
    };
    for &(pos, end, at) in pieces {
        if srv.is_done() {
            break;
        }
        while let Some(t) = srv.poll_timeout().filter(|t| t.as_micros() <= at * 1000) {
            let fired = Now {
                mono: t,
                ..Now::default()
            };
            srv.handle_input(fired, Input::Timeout).unwrap();
            let next = srv.poll_timeout();
            assert!(next.is_none_or(|n| n > t), "timeout at {t:?} left {next:?}");
        }
        if srv.is_done() {
            break;
        }
        let input = Input::Data {
            from: PeerId::FIRST,
            bytes: &bytes[pos..end],
        };
        srv.handle_input(now(at), input).unwrap();
        while let Some(e) = srv.poll_event() {
            let answer = match e {
                server::Event::BeginUpload { .. } => server::Command::UploadReady(Ok(None)),
                server::Event::CommitUpload { .. } => server::Command::Committed(Ok(())),
                _ => continue,
            };
            srv.handle_command(now(at), answer).unwrap();
        }
        out.push_str(&transmitted(srv));
    }
    out.push_str(&transmitted(srv));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A session cut into chunks that arrive with gaps: the server answers
    /// `ERR 408` and closes exactly when some header line took the deadline
    /// or longer from its first byte to its line end, however slowly the
    /// `DATA` body came.
    #[test]
    fn the_header_deadline_bounds_lines_not_bodies(
        body in prop::collection::vec(any::<u8>(), 1..200),
        chunks in prop::collection::vec((1usize..40, 0u64..1500), 1..20),
    ) {
        let deadline = std::time::Duration::from_secs(2);
        let (bytes, lines) = session_with_bodies(&body);
        // The PUT line is the third: the client waits for READY after it.
        let pieces = schedule(bytes.len(), lines[2].1 + 1, &chunks);
        // When each byte arrives.
        let arrival: Vec<u64> = pieces
            .iter()
            .flat_map(|&(from, to, at)| std::iter::repeat_n(at, to - from))
            .collect();
        let too_slow = lines
            .iter()
            .any(|&(start, end)| arrival[end] - arrival[start] >= 2000);
        let mut srv = Server::new().with_header_deadline(deadline);
        let out = trickle(&mut srv, &bytes, &pieces);
        prop_assert_eq!(out.contains("ERR 408 "), too_slow, "{}", out);
        prop_assert!(srv.is_done());
        if !too_slow {
            prop_assert!(out.contains("\nSTORED "), "{}", out);
            prop_assert!(out.ends_with("BYE\n"), "{}", out);
        }
    }
}

#[test]
fn a_trickled_request_line_gets_408_at_the_deadline() {
    let at = |ms| Now {
        mono: wirekit_core::time::Instant::from_millis(ms),
        ..Now::default()
    };
    let mut srv = Server::new();
    let data = |b: &'static [u8]| Input::Data {
        from: PeerId::FIRST,
        bytes: b,
    };
    assert_eq!(srv.poll_timeout(), None);
    srv.handle_input(at(0), data(b"HELLO 1\n")).unwrap();
    assert_eq!(srv.poll_timeout(), None, "a whole line starts no clock");
    // One byte every half second, faster than any idle limit.
    for (i, b) in b"STAT f.txt".chunks(1).enumerate() {
        let input = Input::Data {
            from: PeerId::FIRST,
            bytes: b,
        };
        srv.handle_input(at(1000 + 500 * i as u64), input).unwrap();
    }
    let due = wirekit_core::time::Instant::from_millis(1000) + server::HEADER_DEADLINE;
    assert_eq!(srv.poll_timeout(), Some(due));
    // An early wake changes nothing.
    srv.handle_input(at(9000), Input::Timeout).unwrap();
    assert!(!srv.is_done());
    assert_eq!(srv.poll_timeout(), Some(due));
    srv.handle_input(
        Now {
            mono: due,
            ..Now::default()
        },
        Input::Timeout,
    )
    .unwrap();
    assert!(srv.is_done());
    assert_eq!(srv.poll_timeout(), None);
    assert_eq!(
        transmitted(&mut srv),
        "HELLO 1\nERR 408 request line not complete in time\n"
    );
    let evs: Vec<_> = std::iter::from_fn(|| srv.poll_event()).collect();
    assert_eq!(evs, [server::Event::Protocol(ProtocolError::SlowRequest)]);

    // A half-sent HELLO is a header too, and a late byte is not let in.
    let mut srv = Server::new().with_header_deadline(std::time::Duration::from_secs(2));
    srv.handle_input(at(0), data(b"HEL")).unwrap();
    srv.handle_input(at(2000), data(b"LO 1\n")).unwrap();
    assert!(srv.is_done());
    assert!(transmitted(&mut srv).starts_with("ERR 408 "));
}
/// No room for an upload is 507 in WKFT/1.1 and 413 (what 1.0 said for a
/// disk full) in a 1.0 session; a write that finds the store full loses its
/// partial, so the next upload that fits goes through.
#[test]
fn no_room_is_507_in_1_1_and_413_in_1_0() {
    for (version, want) in [
        (
            wirekit_core::wire::transfer::VERSION_1_1,
            ErrorCode::InsufficientStorage,
        ),
        (wirekit_core::wire::transfer::VERSION, ErrorCode::TooLarge),
    ] {
        let mut s = session(11, 64);
        s.pair = wirekit_core::pair::StreamPair::new(
            Client::speaking(version),
            Server::new(),
            Now::default(),
        );
        s.connect().unwrap();
        s.store.mem_mut().insert("have", Bytes::from(file(40, 1)));
        s.store.mem_mut().set_capacity(Some(100));
        s.local.source = file(61, 2);
        let out = s.request(put("big", 61, 0)).unwrap();
        assert_eq!(remote_code(&out), Some(want), "version {version}: {out:?}");
        assert!(s.store.mem().partial("big").is_none());
        // Room for it, then another writer takes the rest of the disk while
        // it is written: the write fails, and its partial is given back.
        s.store.mem_mut().set_capacity(Some(200));
        s.store.fill_at(30);
        s.local.source = file(60, 3);
        let out = s.request(put("fills", 60, 0)).unwrap();
        assert_eq!(remote_code(&out), Some(want), "version {version}: {out:?}");
        assert!(s.store.mem().partial("fills").is_none(), "given back");
        assert_eq!(s.store.mem().file("have"), Some(&file(40, 1)[..]));
        assert_eq!(s.store.mem().held(), 40, "nothing of the upload is left");
        // Room for exactly five more bytes: no leftover stands in the way.
        s.store.mem_mut().set_capacity(Some(45));
        s.local.source = file(5, 4);
        assert_eq!(
            s.request(put("small", 5, 0)).unwrap(),
            [done(5, &file(5, 4))]
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Uploads of any sizes into a store of any capacity, some of them
    /// meeting a disk that fills under them: each is stored whole or is
    /// refused with 507 and leaves nothing; the store never holds more
    /// than its capacity, and no complete file is ever lost.
    #[test]
    fn uploads_into_a_small_store_are_whole_or_leave_nothing(
        capacity in 0u64..4000,
        uploads in prop::collection::vec((1usize..1500, prop::option::of(0u64..1500)), 1..8),
        seed in any::<u64>(),
    ) {
        let mut s = session(seed, 700);
        s.store.mem_mut().set_capacity(Some(capacity));
        let mut stored: Vec<(String, Vec<u8>)> = Vec::new();
        for (i, (len, fill)) in uploads.into_iter().enumerate() {
            let name = format!("u{i}");
            let body = file(len, i as u8);
            if let Some(at) = fill {
                s.store.fill_at(at);
            }
            s.local.source = body.clone();
            let out = s.request(put(&name, len, 0)).unwrap();
            if out == [done(len, &body)] {
                stored.push((name.clone(), body));
            } else {
                prop_assert_eq!(remote_code(&out), Some(ErrorCode::InsufficientStorage), "{:?}", out);
                prop_assert!(s.store.mem().partial(&name).is_none());
                prop_assert!(s.store.mem().file(&name).is_none());
            }
            prop_assert!(s.store.mem().held() <= capacity);
            for (n, b) in &stored {
                prop_assert_eq!(s.store.mem().file(n), Some(&b[..]));
            }
            // The other writer leaves again: the next upload meets the
            // store's own capacity, and no fill left armed.
            s.store.mem_mut().set_capacity(Some(capacity));
            s.store.fill_at(u64::MAX);
        }
    }
}

/// Found by the `transfer_resume` fuzz target, whose own assumption it broke
/// (`Run { put: true, data: [255], cuts: [9, 9, 175, 0], corrupt: Some((2, 3)) }`):
/// since WKFT/1.1's `READY` carries the kept prefix's digest, a client
/// stops at a partial that differs before it sends, and the partial stays
/// on the server until an upload restarts it. A restart cut before it
/// reaches the server leaves that partial as it was — a partial still,
/// never committed — and the next resume is refused by the digest again,
/// until a restart completes byte-exact.
#[test]
fn a_restart_cut_before_it_lands_leaves_the_differing_partial_refused() {
    use wirekit_core::testing::transfer::MemLocal;
    let data = vec![255u8];
    let mut store = MemStore::new();
    store.mem_mut().insert_partial("f", vec![255 ^ 0x5a]);
    let mut local = MemLocal::default();
    local.source = data.clone();
    let restart = client::Command::Put {
        path: "f".into(),
        size: 1,
        offset: 0,
        replace: false,
        restart: true,
    };
    let mut s = Session::new(store, 1, 9);
    s.local = local;
    s.connect().unwrap();
    let out = s.request(put("f", 1, 1)).unwrap();
    assert!(
        matches!(out[..], [client::Event::Failed(Failure::PrefixDiffers)]),
        "{out:?}"
    );
    // The client gives the session up; the restart, in a new one, is cut
    // before a byte of it moves.
    let (store, local) = s.cut();
    let mut s = Session::new(store, 2, 9);
    s.local = local;
    s.connect().unwrap();
    s.begin(restart.clone()).unwrap();
    assert!(!s.run(0).unwrap());
    let (store, local) = s.cut();
    assert_eq!(store.mem().partial("f"), Some(&[255 ^ 0x5a][..]));
    assert_eq!(store.mem().file("f"), None);
    let mut s = Session::new(store, 3, 9);
    s.local = local;
    s.connect().unwrap();
    let out = s.request(put("f", 1, 1)).unwrap();
    assert!(
        matches!(out[..], [client::Event::Failed(Failure::PrefixDiffers)]),
        "{out:?}"
    );
    assert_eq!(s.store.mem().file("f"), None);
    let (store, local) = s.cut();
    let mut s = Session::new(store, 4, 9);
    s.local = local;
    s.connect().unwrap();
    assert_eq!(s.request(restart).unwrap(), [done(1, &data)]);
    assert_eq!(s.store.mem().file("f"), Some(&data[..]));
}

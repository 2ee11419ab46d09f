//! WKFT/1.1's grammar and session rules through the machines: stray blanks
//! and blank lines, names with spaces and invisible characters, limits that
//! agree, the fatal class of errors, pipelining, `DATA` before `READY`, and
//! `CANCEL` of a download — each beside what a WKFT/1.0 session still gets.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use proptest::prelude::*;
use wirekit_core::testing::transfer::{
    MemStore, Session, feed, remote_code, serve, serve_turns, transmitted,
};
use wirekit_core::transfer::client::{self, Client, Failure};
use wirekit_core::transfer::server::{self, Server};
use wirekit_core::transfer::{ErrorCode, Kind, MAX_BUFFERED_INPUT, Stat, StoreError};
use wirekit_core::wire::transfer::{
    self, Digest, MAX_NAME, MAX_PATH, MAX_PUT_NAME, Reply, VERSION, VERSION_1_1, Version,
};
use wirekit_core::{Machine, Now};

/// A 1.1 server's output without the version tokens of `STAT` and `FILE`
/// (the store's business, not the grammar's).
fn unversioned(out: &str) -> String {
    let mut text = String::new();
    for line in out.lines() {
        let versioned = line.starts_with("STAT ") || line.starts_with("FILE ");
        let cut = match line.rsplit_once(' ') {
            Some((head, token))
                if versioned
                    && token.len() == 16
                    && token.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                head
            }
            _ => line,
        };
        text.push_str(cut);
        text.push('\n');
    }
    text
}

fn store_with(files: &[(&str, &[u8])]) -> MemStore {
    let mut store = MemStore::new();
    store.set_short_reads(false);
    for (name, data) in files {
        store.mem_mut().insert(*name, Bytes::copy_from_slice(data));
    }
    store
}

fn session(seed: u64) -> Session {
    let mut s = Session::new(MemStore::new(), seed, 97);
    s.connect().unwrap();
    s
}

/// Whether a `Stat`'s outcome says: a file of `size` bytes (of any version).
fn is_file_of(out: &[client::Event], size: usize) -> bool {
    matches!(out, [client::Event::Status(Stat { kind: Kind::File, size: s, .. })] if *s == size as u64)
}

fn stat(path: &str) -> client::Command {
    client::Command::Stat { path: path.into() }
}

fn get(path: &str) -> client::Command {
    client::Command::Get {
        path: path.into(),
        offset: 0,
        version: None,
    }
}

/// Blanks before the keyword and after the last argument are read as the
/// person meant; a line of nothing but blanks is an empty line, ignored.
#[test]
fn stray_blanks_and_blank_lines_are_read_as_typed() {
    let mut store = store_with(&[("a.txt", b"abc")]);
    let (out, closed) = serve(
        &mut store,
        b"HELLO 2\n   \n\t\r\n  NOOP  \nSTAT \t a.txt \t\r\n \n",
    );
    assert_eq!(
        unversioned(&out),
        "HELLO 2 cancel delete escape noop pipeline replace\nOK\nSTAT file 3\n"
    );
    assert!(!closed);
    // The same in a 1.0 session: blank lines were always ignored.
    let (out, closed) = serve(&mut store, b"HELLO 1\n  \nSTAT a.txt  \n");
    assert_eq!(out, "HELLO 1\nSTAT file 3\n");
    assert!(!closed);
}

/// WKFT/1.1 percent-encodes what a path cannot carry as it is; a client and
/// a server move, list, look at and delete such names.
#[test]
fn names_with_spaces_and_invisible_characters_work_in_1_1() {
    let names = [
        "my notes.txt",
        "100%",
        "tab\there",
        "line\u{2028}sep",
        "nel\u{85}x",
        "zero\u{200B}width",
        "dir name/inner file",
    ];
    let mut s = session(5);
    for (i, name) in names.iter().enumerate() {
        let data = vec![i as u8; i + 1];
        s.local.source = data.clone();
        let out = s
            .request(client::Command::Put {
                path: (*name).into(),
                size: data.len() as u64,
                offset: 0,
                replace: false,
                restart: false,
            })
            .unwrap();
        assert!(
            matches!(out[..], [client::Event::Done { .. }]),
            "{name}: {out:?}"
        );
        assert_eq!(s.store.mem().file(name), Some(&data[..]), "{name}");
        let out = s.request(stat(name)).unwrap();
        assert!(is_file_of(&out, data.len()), "{name}: {out:?}");
        s.local.dest.clear();
        let out = s.request(get(name)).unwrap();
        assert!(
            matches!(out[..], [client::Event::Done { .. }]),
            "{name}: {out:?}"
        );
        assert_eq!(s.local.dest, data);
    }
    let out = s.request(client::Command::List { path: None }).unwrap();
    let [client::Event::Listing(entries)] = &out[..] else {
        panic!("{out:?}")
    };
    let mut listed: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut want = names.to_vec();
    listed.sort_unstable();
    want.sort_unstable();
    assert_eq!(listed, want);
    assert_eq!(
        s.request(client::Command::Delete {
            path: "my notes.txt".into()
        })
        .unwrap(),
        [client::Event::Deleted]
    );

    // On the wire: escaped in 1.1, literal in 1.0 (where `%` is a plain
    // character and a space cannot be said).
    let mut store = store_with(&[("my notes.txt", b"abc"), ("100%", b"x")]);
    let (out, _) = serve(&mut store, b"HELLO 2\nSTAT my%20notes.txt\nLIST\n");
    let out = unversioned(&out);
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        [
            "STAT file 3",
            "ENTRIES 2",
            "ENTRY file 1 100%25",
            "ENTRY file 3 my%20notes.txt"
        ]
    );
    let (out, closed) = serve(
        &mut store,
        b"HELLO 1\nSTAT 100%\nSTAT my%20notes.txt\nLIST\n",
    );
    assert_eq!(
        out,
        "HELLO 1\nSTAT file 1\nERR 404 not found\nENTRIES 1\nENTRY file 1 100%\n"
    );
    assert!(!closed);
}

/// One rule for every invisible character, in both versions: white space,
/// control and format characters are never carried as they are.
#[test]
fn invisible_characters_follow_one_rule() {
    for raw in [
        "\u{85}", "\u{2028}", "\u{2029}", "\u{200B}", "\u{A0}", "\u{202E}", "\u{7F}",
    ] {
        for version in [VERSION, VERSION_1_1] {
            let mut store = store_with(&[]);
            let input = format!("HELLO {version}\nSTAT a{raw}b\n");
            let (out, closed) = serve(&mut store, input.as_bytes());
            assert!(
                out.ends_with("ERR 400 malformed path\n"),
                "{raw:?} {version}: {out}"
            );
            assert!(closed);
        }
        // Escaped, 1.1 reads it as a name (here, one not there).
        let escaped: String = raw.bytes().map(|b| format!("%{b:02X}")).collect();
        let input = format!("HELLO 2\nSTAT a{escaped}b\n");
        let (out, closed) = serve(&mut store_with(&[]), input.as_bytes());
        assert!(out.ends_with("ERR 404 not found\n"), "{out}");
        assert!(!closed);
    }
}

/// A well-framed line with a path or segment over its limit is `413` and
/// the session stays (1.1); `PUT` refuses a name over `MAX_PUT_NAME` alike.
#[test]
fn limits_agree() {
    let long_path = "a".repeat(MAX_PATH + 1);
    let long_segment = format!("d/{}", "s".repeat(MAX_NAME + 1));
    let mut store = store_with(&[]);
    let input = format!("HELLO 2\nSTAT {long_path}\nSTAT {long_segment}\nNOOP\n");
    let (out, closed) = serve(&mut store, input.as_bytes());
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        [
            "ERR 413 path longer than MAX_PATH",
            "ERR 413 name longer than MAX_NAME",
            "OK"
        ]
    );
    assert!(!closed);
    // 1.0 keeps its rule: a path over MAX_PATH broke the grammar.
    let (out, closed) = serve(
        &mut store,
        format!("HELLO 1\nSTAT {long_path}\n").as_bytes(),
    );
    assert!(out.ends_with("ERR 400 path longer than MAX_PATH\n") && closed);

    // Uploadable names: MAX_PUT_NAME bytes pass, one more is 413 from the
    // machine, whatever the store, and the session goes on.
    let fits = "n".repeat(MAX_PUT_NAME);
    let over = "n".repeat(MAX_PUT_NAME + 1);
    for version in [VERSION, VERSION_1_1] {
        let input = format!("HELLO {version}\nPUT d/{over} 1\nPUT {fits} 1\n");
        let (out, closed) = serve(&mut store, input.as_bytes());
        let want =
            format!("ERR 413 name too long to upload: at most {MAX_PUT_NAME} bytes\nREADY 0\n");
        assert!(out.ends_with(&want), "{out}");
        assert!(!closed);
    }
}

/// What a 1.1 server answers to `request` (after `HELLO 2`), and whether
/// it closed.
fn answer_1_1(store: &mut MemStore, request: &[u8]) -> (Reply, bool) {
    let input = [&b"HELLO 2\n"[..], request].concat();
    let (out, closed) = serve(store, &input);
    let out = out.split_once('\n').unwrap().1.to_owned();
    let (_, reply) = transfer::reply_in(out.as_bytes(), VERSION_1_1).unwrap();
    (reply, closed)
}

/// The fatal class is exactly the codes after which the server closes.
#[test]
fn the_server_closes_after_exactly_the_fatal_codes() {
    let mut store = store_with(&[("have", b"0123456")]);
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"GET have 99999999999999999999\n".to_vec(), 400),
        (b"GET have 8\n".to_vec(), 416),
        (b"GET have 7 8\n".to_vec(), 400),
        (b"DATA 3\nabc\n".to_vec(), 400),
        (b"FETCH x\n".to_vec(), 501),
        (b"GET missing\n".to_vec(), 404),
        (b"PUT have 3\n".to_vec(), 409),
        (b"PUT secret/x 3\n".to_vec(), 403),
        (b"PUT locked/x 3\n".to_vec(), 423),
        (b"STAT a%zz\n".to_vec(), 400),
        (b"HELLO 2\n".to_vec(), 400),
        (vec![b'x'; 5000], 400),
    ];
    for (request, code) in cases {
        let (reply, closed) = answer_1_1(&mut store, &request);
        let Reply::Error { code: got, .. } = reply else {
            panic!("{reply:?} for {:?}", String::from_utf8_lossy(&request))
        };
        assert_eq!(got.code(), code, "{:?}", String::from_utf8_lossy(&request));
        assert_eq!(closed, got.is_fatal(), "{got:?}");
    }
    // A store's "is a directory" is a conflict in 1.1, still 400 in 1.0;
    // neither closes.
    for (version, want) in [
        (VERSION_1_1, "ERR 409 is a directory\n"),
        (VERSION, "ERR 400 is a directory\n"),
    ] {
        let mut srv = Server::new();
        feed(
            &mut srv,
            format!("HELLO {version}\nGET d\n").as_bytes(),
            &[100],
        );
        let _ = transmitted(&mut srv);
        assert!(matches!(
            srv.poll_event(),
            Some(server::Event::OpenRead { .. })
        ));
        let e = StoreError::new(ErrorCode::BadRequest, "is a directory");
        srv.handle_command(Now::default(), server::Command::Opened(Err(e)))
            .unwrap();
        assert_eq!(transmitted(&mut srv), want);
        assert!(!srv.is_done());
    }
    // A read error and a write error both leave the session open.
    let mut s = session(9);
    s.store
        .mem_mut()
        .insert("flaky.txt", Bytes::from_static(b"0123456789"));
    let out = s.request(get("flaky.txt")).unwrap();
    assert_eq!(remote_code(&out), Some(ErrorCode::Internal));
    s.local.source = vec![1; 10];
    let out = s
        .request(client::Command::Put {
            path: "flaky.bin".into(),
            size: 10,
            offset: 0,
            replace: false,
            restart: false,
        })
        .unwrap();
    assert_eq!(remote_code(&out), Some(ErrorCode::Internal));
    assert!(!s.pair.server.is_done() && !s.pair.client.is_done());
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("STAT have".to_string()),
        Just("GET have 3".to_string()),
        Just("GET have 9".to_string()),
        Just("GET nothing".to_string()),
        Just("LIST".to_string()),
        Just("NOOP".to_string()),
        Just("CANCEL".to_string()),
        Just("DELETE nothing".to_string()),
        Just("FETCH x".to_string()),
        Just("PUT have 1".to_string()),
        Just("DONE 00".to_string()),
        Just("DATA 1\nx".to_string()),
        Just("STAT a b".to_string()),
        Just("  ".to_string()),
        "[A-Z]{1,6}( [ -~]{0,12}){0,3}",
        (MAX_PATH - 2..MAX_PATH + 3).prop_map(|n| format!("STAT {}", "p".repeat(n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any pipelined stream of requests, good and bad: every reply parses,
    /// the server closes right after a fatal `ERR` (or `BYE`) and at no other time.
    #[test]
    fn a_session_ends_exactly_at_a_fatal_error(lines in prop::collection::vec(line_strategy(), 1..12)) {
        let mut store = store_with(&[("have", b"0123456")]);
        let mut input = String::from("HELLO 2\n");
        for l in &lines {
            input.push_str(l);
            input.push('\n');
        }
        let (out, closed) = serve(&mut store, input.as_bytes());
        let mut rest = out.as_bytes();
        let mut last = None;
        while !rest.is_empty() {
            let (r, reply) = transfer::reply_in(rest, VERSION_1_1).unwrap();
            rest = r;
            if let Some(Reply::Error { code, .. }) = &last {
                prop_assert!(!code.is_fatal(), "a reply after a fatal {:?}", code);
            }
            last = Some(reply);
        }
        let ended_fatally = matches!(&last, Some(Reply::Error { code, .. }) if code.is_fatal());
        prop_assert_eq!(closed, ended_fatally || last == Some(Reply::Bye));
    }
}

/// A WKFT/1.1 client reads a code it does not know by its class, and knows
/// from the class whether its session survived.
#[test]
fn the_client_knows_from_the_class_whether_the_session_survived() {
    for (code, survives) in [
        (466, true),
        (507, true),
        (400, false),
        (408, false),
        (483, false),
        (586, false),
    ] {
        let mut c = Client::new();
        feed(&mut c, b"HELLO 2 noop\n", &[100]);
        assert_eq!(c.poll_event(), Some(client::Event::Ready));
        let _ = transmitted(&mut c);
        c.handle_command(Now::default(), stat("x")).unwrap();
        feed(&mut c, format!("ERR {code} something\n").as_bytes(), &[100]);
        let Some(client::Event::Failed(f)) = c.poll_event() else {
            panic!("no failure for {code}")
        };
        assert_eq!(f.ends_session(c.version()), !survives, "{code}");
        assert_eq!(c.is_done(), !survives, "{code}");
        assert_eq!(c.is_idle(), survives, "{code}");
    }
    // In 1.0 a 400 could leave the session open (an offset past the end):
    // the class says nothing there, and the client stays.
    let mut c = Client::new();
    feed(&mut c, b"ERR 400 no\nHELLO 1\n", &[100]);
    assert_eq!(c.poll_event(), Some(client::Event::Ready));
    c.handle_command(Now::default(), stat("x")).unwrap();
    feed(&mut c, b"ERR 400 bad offset\n", &[100]);
    assert!(matches!(c.poll_event(), Some(client::Event::Failed(_))));
    assert!(c.is_idle());
}

/// Pipelined requests are answered in order, each after the one before,
/// while the store answers late.
#[test]
fn pipelined_requests_are_answered_in_order() {
    let files: Vec<(String, Vec<u8>)> = (0..50).map(|i| (format!("f{i}"), vec![b'x'; i])).collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
    let mut store = store_with(&refs);
    let mut input = String::from("HELLO 2\n");
    let mut want = String::from("HELLO 2 cancel delete escape noop pipeline replace\n");
    for round in 0..40 {
        for i in (0..50).rev() {
            if (i + round) % 7 == 0 {
                input.push_str(&format!("STAT nothing{i}\n"));
                want.push_str("ERR 404 not found\n");
            } else {
                input.push_str(&format!("STAT f{i}\n"));
                want.push_str(&format!("STAT file {i}\n"));
            }
        }
    }
    assert!(
        input.len() <= MAX_BUFFERED_INPUT,
        "the spec's pipelining bound"
    );
    let (out, closed) = serve(&mut store, input.as_bytes());
    assert!(unversioned(&out) == want, "replies out of order");
    assert!(!closed);
}

/// A client that pipelines but never reads holds the server at its output
/// bound: it stops taking requests, and past the input bound it closes.
#[test]
fn pipelining_without_reading_is_bounded() {
    let names: Vec<String> = (0..1000).map(|i| format!("name-{i:04}")).collect();
    let refs: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let mut store = store_with(&refs);
    let mut srv = Server::new();
    let mut rng = wirekit_core::testing::transfer::Rng(0);
    let lists = "LIST\n".repeat(100);
    feed(&mut srv, format!("HELLO 2\n{lists}").as_bytes(), &[10_000]);
    let mut listed = 0;
    while let Some(e) = srv.poll_event() {
        listed += usize::from(matches!(e, server::Event::List { .. }));
        if let Some(cmd) = store.answer(e, &mut rng) {
            srv.handle_command(Now::default(), cmd).unwrap();
        }
    }
    assert!(
        listed > 1 && listed < 100,
        "{listed} listings before anyone read"
    );
    // Reading lets it go on, to the end.
    let mut replies = 0;
    loop {
        replies += transmitted(&mut srv).matches("ENTRIES 1000").count();
        let Some(e) = srv.poll_event() else { break };
        if let Some(cmd) = store.answer(e, &mut rng) {
            srv.handle_command(Now::default(), cmd).unwrap();
        }
    }
    assert_eq!(replies, 100);
    assert!(!srv.is_done());
}

/// `DATA` sent before `READY` is a protocol error in 1.1: the server sees
/// it arrive before it sent `READY`. 1.0 sessions keep taking it.
#[test]
fn data_before_ready_is_refused_in_1_1() {
    let body = b"PUT x 3\nDATA 3\nabc\n";
    let done = format!("DONE {}\n", Digest::of(b"abc"));
    let (out, closed) = serve(&mut store_with(&[]), &[&b"HELLO 2\n"[..], body].concat());
    assert!(out.ends_with("ERR 400 data before READY\n"), "{out}");
    assert!(closed);
    let mut store = store_with(&[]);
    let input = [&b"HELLO 1\n"[..], body, done.as_bytes()].concat();
    let (out, closed) = serve(&mut store, &input);
    assert!(
        out.ends_with(&format!("STORED 3 {}\n", Digest::of(b"abc"))),
        "{out}"
    );
    assert!(!closed);
    // A refused PUT with early DATA behind it: the refusal, then the close.
    let (out, closed) = serve(
        &mut store_with(&[("x", b"old")]),
        &[&b"HELLO 2\n"[..], body].concat(),
    );
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        ["ERR 409 exists", "ERR 400 message out of turn"]
    );
    assert!(closed);
}

/// `CANCEL` stops a download at a message boundary with `ERR 499`; the
/// session goes on. After a download that already ended, it is `OK`.
#[test]
fn cancel_stops_a_download_and_the_session_goes_on() {
    let big = vec![7u8; 40 * 65_536];
    // Right behind the GET: FILE, then at once the end marker.
    let mut store = store_with(&[("big", &big), ("small", b"abc")]);
    let (out, closed) = serve(&mut store, b"HELLO 2\nGET big\nCANCEL\nSTAT small\n");
    let out = unversioned(&out);
    let file = format!("FILE {} 0", big.len());
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        [file.as_str(), "ERR 499 cancelled", "STAT file 3"]
    );
    assert!(!closed);
    // After the GET ended, a CANCEL has nothing to stop.
    let (out, _) = serve_turns(&mut store, &[b"HELLO 2\nGET small\n", b"CANCEL\nNOOP\n"]);
    assert!(
        out.ends_with(&format!("DONE {}\nOK\nOK\n", Digest::of(b"abc"))),
        "{out}"
    );

    // Behind another request, it stops nothing: the GET ends, then OK.
    let (out, _) = serve(&mut store, b"HELLO 2\nGET small\nSTAT small\nCANCEL\n");
    let want = format!("DONE {}\nSTAT file 3\nOK\n", Digest::of(b"abc"));
    assert!(unversioned(&out).ends_with(&want), "{out}");

    // With a chunk asked for and not yet given: the chunk is dropped.
    let mut srv = Server::new();
    feed(&mut srv, b"HELLO 2\nGET big\n", &[100]);
    assert!(matches!(
        srv.poll_event(),
        Some(server::Event::OpenRead { .. })
    ));
    srv.handle_command(
        Now::default(),
        server::Command::Opened(Ok(server::Opened {
            size: big.len() as u64,
            version: Version(1),
            digest: None,
        })),
    )
    .unwrap();
    let _ = transmitted(&mut srv);
    let Some(server::Event::ReadChunk { max }) = srv.poll_event() else {
        panic!("no read")
    };
    feed(&mut srv, b"CANCEL\n", &[3]);
    srv.handle_command(
        Now::default(),
        server::Command::Chunk(Bytes::from(vec![1; max])),
    )
    .unwrap();
    assert_eq!(transmitted(&mut srv), "ERR 499 cancelled\n");
    assert_eq!(srv.poll_event(), Some(server::Event::CloseRead));
    assert!(!srv.is_done());

    // 1.0 has no CANCEL.
    let (out, closed) = serve(&mut store, b"HELLO 1\nCANCEL\n");
    assert!(out.ends_with("ERR 400 unknown message\n") && closed);
}

/// Client and server together: a download cancelled midway ends in
/// `Failure::Cancelled`, and the next request works.
#[test]
fn a_client_cancels_a_download_midway() {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
    let mut s = session(17);
    s.store.mem_mut().insert("big", Bytes::from(big.clone()));
    s.store.set_short_reads(false);
    s.begin(get("big")).unwrap();
    assert!(!s.run(3).unwrap(), "three rounds do not move 3 MB");
    s.begin(client::Command::Cancel).unwrap();
    let settled = s.run(100_000).unwrap();
    assert!(settled);
    assert_eq!(
        std::mem::take(&mut s.local.outcomes),
        [client::Event::Failed(Failure::Cancelled)]
    );
    assert!(s.local.dest.len() < big.len() && big.starts_with(&s.local.dest));
    let out = s.request(stat("big")).unwrap();
    assert!(is_file_of(&out, big.len()), "{out:?}");
    // The rest resumes from what was kept.
    let kept = s.local.dest.len();
    let out = s
        .request(client::Command::Get {
            path: "big".into(),
            offset: kept as u64,
            version: None,
        })
        .unwrap();
    assert!(matches!(out[..], [client::Event::Done { .. }]), "{out:?}");
    assert_eq!(s.local.dest, big);
}

/// The client side of a `CANCEL` that crossed the download's end.
#[test]
fn a_cancel_that_crossed_the_end_is_answered_ok() {
    let now = Now::default();
    let mut c = Client::new();
    feed(&mut c, b"HELLO 2 cancel\n", &[100]);
    assert_eq!(c.poll_event(), Some(client::Event::Ready));
    let _ = transmitted(&mut c);
    c.handle_command(now, get("x")).unwrap();
    c.handle_command(now, client::Command::Cancel).unwrap();
    assert_eq!(transmitted(&mut c), "GET x 0\nCANCEL\n");
    let done = format!("FILE 1 0\nDATA 1\na\nDONE {}\nOK\n", Digest::of(b"a"));
    feed(&mut c, done.as_bytes(), &[5]);
    let evs: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        evs.last(),
        Some(&client::Event::Done {
            size: 1,
            digest: Digest::of(b"a")
        })
    );
    assert!(c.is_idle() && !c.is_done());
    // A DELETE's OK after that is the DELETE's.
    c.handle_command(now, client::Command::Delete { path: "x".into() })
        .unwrap();
    feed(&mut c, b"OK\n", &[5]);
    assert_eq!(c.poll_event(), Some(client::Event::Deleted));
    // Nothing to cancel: nothing is sent.
    c.handle_command(now, client::Command::Cancel).unwrap();
    assert_eq!(transmitted(&mut c), "DELETE x\n");
    assert!(c.is_idle());
}

/// A path that fits `MAX_PATH` but not the line once encoded is refused
/// before it is sent.
#[test]
fn the_client_refuses_a_path_whose_encoding_does_not_fit_a_line() {
    let mut c = Client::new();
    feed(&mut c, b"HELLO 2\n", &[100]);
    assert_eq!(c.poll_event(), Some(client::Event::Ready));
    let spaces = " ".repeat(MAX_PATH);
    assert!(matches!(
        c.handle_command(Now::default(), stat(&spaces)),
        Err(wirekit_core::transfer::Misuse::BadPath(_))
    ));
    assert!(c.is_idle());
}

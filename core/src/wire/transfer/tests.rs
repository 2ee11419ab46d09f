use super::*;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

fn req(input: &[u8]) -> Result<(usize, Request), Err<WireError>> {
    request(input).map(|(rest, r)| (input.len() - rest.len(), r))
}

fn rep(input: &[u8]) -> Result<(usize, Reply), Err<WireError>> {
    reply(input).map(|(rest, r)| (input.len() - rest.len(), r))
}

#[test]
fn typed_requests_parse() {
    let cases: Vec<(&[u8], Request)> = vec![
        (b"HELLO 1\n", Request::Hello { version: 1 }),
        (
            b"\r\n\nlist\r\n",
            Request::List {
                path: None,
                after: None,
            },
        ),
        (
            b"LIST . b.txt\n",
            Request::List {
                path: Some(".".into()),
                after: Some("b.txt".into()),
            },
        ),
        (
            b"LIST  docs\t\n",
            Request::List {
                path: Some("docs".into()),
                after: None,
            },
        ),
        (
            b"get a/b.txt\n",
            Request::Get {
                path: "a/b.txt".into(),
                offset: 0,
                version: None,
            },
        ),
        (
            b"PUT x 10 4\n",
            Request::Put {
                path: "x".into(),
                size: 10,
                offset: 4,
                replace: false,
                restart: false,
            },
        ),
        (
            b"PUT x 10 0 restart\n",
            Request::Put {
                path: "x".into(),
                size: 10,
                offset: 0,
                replace: false,
                restart: true,
            },
        ),
        (
            b"GET x 4 00000000000000ff\n",
            Request::Get {
                path: "x".into(),
                offset: 4,
                version: Some(Version(255)),
            },
        ),
        (
            b"PUT x 10 0 replace\n",
            Request::Put {
                path: "x".into(),
                size: 10,
                offset: 0,
                replace: true,
                restart: false,
            },
        ),
        (b"delete a/b\n", Request::Delete { path: "a/b".into() }),
        (b"NOOP\n", Request::Noop),
        (
            b"DATA 6\r\nhello\n\r\n",
            Request::Data(Bytes::from_static(b"hello\n")),
        ),
        (b"QUIT\n", Request::Quit),
    ];
    for (bytes, want) in cases {
        assert_eq!(req(bytes).unwrap(), (bytes.len(), want), "{bytes:?}");
    }
}

#[test]
fn bad_requests_are_named() {
    let cases: Vec<(&[u8], WireError)> = vec![
        (b"FETCH x\n", WireError::UnknownKeyword),
        (b"GET\n", WireError::BadArguments),
        (b"GET x 1 2\n", WireError::BadArguments),
        (b"GET x -1\n", WireError::BadNumber),
        (b"GET x 99999999999999999999999\n", WireError::BadNumber),
        (b"STAT a\x01b\n", WireError::BadPath),
        (b"STAT \xff\n", WireError::BadPath),
        (b"DATA 0\n\n", WireError::BadChunkLength),
        (b"DATA 65537\n", WireError::BadChunkLength),
        (b"DATA 2\nabc\n", WireError::MissingBodyEnd),
        (b"DONE abc\n", WireError::BadDigest),
    ];
    for (bytes, want) in cases {
        assert_eq!(req(bytes), Err(Err::Failure(want)), "{bytes:?}");
    }
    let long_path = [&b"STAT "[..], &[b'a'; MAX_PATH + 1], b"\n"].concat();
    assert_eq!(req(&long_path), Err(Err::Failure(WireError::PathTooLong)));
    let mut long_line = vec![b'x'; MAX_LINE + 2];
    assert_eq!(req(&long_line), Err(Err::Failure(WireError::LineTooLong)));
    long_line.truncate(MAX_LINE + 1);
    assert!(matches!(req(&long_line), Err(Err::Incomplete(_))));
    let err_line = [&b"ERR 400 "[..], &[b'm'; MAX_MESSAGE + 1], b"\n"].concat();
    assert_eq!(rep(&err_line), Err(Err::Failure(WireError::BadMessage)));
    // A code this side does not know is read by its class; outside the
    // 4xx and 5xx classes it is no code at all.
    assert_eq!(
        rep(b"ERR 418 teapot\n"),
        Ok((
            15,
            Reply::Error {
                code: ErrorCode::Other(418),
                message: "teapot".into()
            }
        ))
    );
    assert!(ErrorCode::Other(418).is_refusal() && !ErrorCode::Other(507).is_refusal());
    assert_eq!(
        rep(b"ERR 302 moved\n"),
        Err(Err::Failure(WireError::UnknownErrorCode))
    );
    assert_eq!(
        rep(b"ENTRIES 1025\n"),
        Err(Err::Failure(WireError::TooManyEntries))
    );
    let long_name = [&b"ENTRY file 1 "[..], &[b'n'; MAX_NAME + 1], b"\n"].concat();
    assert_eq!(rep(&long_name), Err(Err::Failure(WireError::NameTooLong)));
}

#[test]
fn err_text_is_cleaned_and_cut() {
    let mut out = BytesMut::new();
    let long = "é".repeat(MAX_MESSAGE);
    Reply::Error {
        code: ErrorCode::Busy,
        message: alloc::format!(" two\nlines {long}"),
    }
    .encode(&mut out)
    .unwrap();
    let (_, parsed) = rep(&out).unwrap();
    let Reply::Error { code, message } = parsed else {
        panic!("not an error: {parsed:?}")
    };
    assert_eq!(code, ErrorCode::Busy);
    assert!(message.starts_with("two lines é"));
    assert!(message.len() <= MAX_MESSAGE);
}

#[test]
fn digest_is_hex_blake3() {
    // Known answer: BLAKE3 of the empty input.
    assert_eq!(
        Digest::of(b"").to_string(),
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    );
    let d = Digest::of(b"hello\n");
    let line = alloc::format!("DONE {}\n", d.to_string().to_uppercase());
    assert_eq!(req(line.as_bytes()).unwrap().1, Request::Done { digest: d });
}

fn path_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._/é-]{1,40}"
}

fn name_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._-]{1,30}"
}

fn body_strategy() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..300),
        proptest::collection::vec(any::<u8>(), MAX_CHUNK..=MAX_CHUNK),
    ]
    .prop_map(Bytes::from)
}

fn digest_strategy() -> impl Strategy<Value = Digest> {
    any::<[u8; 32]>().prop_map(Digest)
}

fn kind_strategy() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::File), Just(Kind::Dir), Just(Kind::Partial)]
}

pub(crate) fn request_strategy() -> impl Strategy<Value = Request> {
    prop_oneof![
        any::<u32>().prop_map(|version| Request::Hello { version }),
        (
            proptest::option::of(path_strategy()),
            proptest::option::of(name_strategy())
        )
            .prop_map(|(path, after)| Request::List {
                path: path.or_else(|| after.as_ref().map(|_| ".".into())),
                after
            }),
        path_strategy().prop_map(|path| Request::Stat { path }),
        (
            path_strategy(),
            any::<u64>(),
            proptest::option::of(any::<u64>())
        )
            .prop_map(|(path, offset, version)| Request::Get {
                path,
                offset,
                version: version.map(Version)
            }),
        (
            path_strategy(),
            any::<u64>(),
            any::<u64>(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(path, size, offset, replace, restart)| Request::Put {
                path,
                size,
                offset,
                replace,
                restart
            }),
        path_strategy().prop_map(|path| Request::Delete { path }),
        Just(Request::Noop),
        body_strategy().prop_map(Request::Data),
        digest_strategy().prop_map(|digest| Request::Done { digest }),
        Just(Request::Quit),
    ]
}

pub(crate) fn reply_strategy() -> impl Strategy<Value = Reply> {
    let code = proptest::sample::select(ErrorCode::ALL.to_vec());
    prop_oneof![
        (
            any::<u32>(),
            proptest::collection::vec("[a-z][a-z-]{0,31}", 0..4)
        )
            .prop_map(|(version, features)| Reply::Hello { version, features }),
        Just(Reply::Ok),
        (400u16..600).prop_map(|n| Reply::Error {
            code: ErrorCode::by_class(n).unwrap_or(ErrorCode::Internal),
            message: "x".into()
        }),
        (0..=MAX_ENTRIES, any::<bool>()).prop_map(|(count, more)| Reply::Entries { count, more }),
        (name_strategy(), kind_strategy(), any::<u64>())
            .prop_map(|(name, kind, size)| Reply::Entry(Entry { name, kind, size })),
        (
            kind_strategy(),
            any::<u64>(),
            proptest::option::of(any::<u64>())
        )
            .prop_map(|(kind, size, version)| Reply::Stat(Stat {
                kind,
                size,
                version: version.map(Version)
            })),
        (
            any::<u64>(),
            any::<u64>(),
            proptest::option::of(any::<u64>())
        )
            .prop_map(|(size, offset, version)| Reply::File {
                size,
                offset,
                version: version.map(Version)
            }),
        body_strategy().prop_map(Reply::Data),
        digest_strategy().prop_map(|digest| Reply::Done { digest }),
        (any::<u64>(), proptest::option::of(digest_strategy()))
            .prop_map(|(offset, prefix)| Reply::Ready { offset, prefix }),
        (any::<u64>(), digest_strategy()).prop_map(|(size, digest)| Reply::Stored { size, digest }),
        (code, "[ -~]{0,250}").prop_map(|(code, message)| Reply::Error { code, message }),
        Just(Reply::Bye),
    ]
}

/// What a parse should give back for a message: `ERR` texts come back cleaned.
fn canonical(r: &Reply) -> Reply {
    match r {
        Reply::Error { code, message } => Reply::Error {
            code: *code,
            message: clean_message(message),
        },
        other => other.clone(),
    }
}

/// Parses everything in `stream` that `parse` can, feeding it in pieces cut at `cuts`,
/// the way a machine does: keep the unparsed tail, append the next piece.
fn parse_pieces<T>(
    stream: &[u8],
    cuts: &[usize],
    parse: impl Fn(&[u8]) -> Result<(usize, T), Err<WireError>>,
) -> Vec<T> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(stream.len());
    let mut buf = Vec::new();
    let mut got = Vec::new();
    let mut start = 0;
    for end in cuts {
        buf.extend_from_slice(&stream[start..end]);
        start = end;
        loop {
            match parse(&buf) {
                Ok((used, msg)) => {
                    buf.drain(..used);
                    got.push(msg);
                }
                Err(Err::Incomplete(_)) => break,
                Err(e) => panic!("valid stream refused: {e:?}"),
            }
        }
    }
    assert!(buf.is_empty(), "left over: {buf:?}");
    got
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn requests_round_trip(r in request_strategy()) {
        let mut out = BytesMut::new();
        r.encode(&mut out).unwrap();
        prop_assert_eq!(req(&out).unwrap(), (out.len(), r));
        // Every proper prefix is "need more", never an error or a message.
        for cut in [0, 1, out.len() / 2, out.len() - 1] {
            prop_assert!(matches!(req(&out[..cut]), Err(Err::Incomplete(_))), "cut {}", cut);
        }
    }

    #[test]
    fn replies_round_trip(r in reply_strategy()) {
        let mut out = BytesMut::new();
        r.encode(&mut out).unwrap();
        prop_assert_eq!(rep(&out).unwrap(), (out.len(), canonical(&r)));
        for cut in [0, 1, out.len() / 2, out.len() - 1] {
            prop_assert!(matches!(rep(&out[..cut]), Err(Err::Incomplete(_))), "cut {}", cut);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        for parse in [|b: &[u8]| req(b).map(|(n, _)| n), |b: &[u8]| rep(b).map(|(n, _)| n)] {
            if let Ok(n) = parse(&bytes) {
                prop_assert!(n > 0 && n <= bytes.len());
            }
        }
    }

    #[test]
    fn typed_looking_garbage_never_panics(
        words in proptest::collection::vec(
            prop_oneof![
                Just("DATA".to_string()), Just("ERR".to_string()), Just("ENTRY".to_string()),
                Just("PUT".to_string()), "[0-9]{0,25}", "[ -~]{0,8}", Just("\r\n".to_string()),
            ],
            0..12,
        ),
    ) {
        let text = words.join(" ");
        let _ = req(text.as_bytes());
        let _ = rep(text.as_bytes());
    }

    #[test]
    fn any_split_gives_the_same_requests(
        msgs in proptest::collection::vec(request_strategy(), 1..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut stream = BytesMut::new();
        for m in &msgs { m.encode(&mut stream).unwrap(); }
        prop_assert_eq!(parse_pieces(&stream, &cuts, req), msgs);
    }

    #[test]
    fn any_split_gives_the_same_replies(
        msgs in proptest::collection::vec(reply_strategy(), 1..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut stream = BytesMut::new();
        for m in &msgs { m.encode(&mut stream).unwrap(); }
        let want: Vec<Reply> = msgs.iter().map(canonical).collect();
        prop_assert_eq!(parse_pieces(&stream, &cuts, rep), want);
    }

    #[test]
    fn serde_round_trips(r in request_strategy(), p in reply_strategy()) {
        let json = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), r);
        let json = serde_json::to_string(&p).unwrap();
        prop_assert_eq!(serde_json::from_str::<Reply>(&json).unwrap(), p);
    }
}

#[test]
fn blank_lines_and_blanks_around_words_are_the_grammars() {
    let line = b"  \t \r\n\n \t\n  GET \t a.txt  7 \t\r\n";
    let (n, r) = req(line).unwrap();
    assert_eq!(
        r,
        Request::Get {
            path: "a.txt".into(),
            offset: 7,
            version: None
        }
    );
    assert_eq!(n, line.len());
    // Blank lines alone are "need more", never an error.
    assert!(matches!(req(b"   \n\t\n  "), Err(Err::Incomplete(_))));
    // Blank lines count towards nothing but their own line's limit.
    let long_blank = [&vec![b' '; MAX_LINE + 1][..], b"\n"].concat();
    assert_eq!(req(&long_blank), Err(Err::Failure(WireError::LineTooLong)));
    // A lone CR is no line end: it is part of the line, and breaks it.
    assert_eq!(
        req(b"NOOP\rQUIT\n"),
        Err(Err::Failure(WireError::UnknownKeyword))
    );
    assert_eq!(req(b"CANCEL\n").unwrap().1, Request::Cancel);
}

#[test]
fn err_text_is_text() {
    assert_eq!(
        rep(b"ERR 404  not\tfound  \t\n").unwrap().1,
        Reply::Error {
            code: ErrorCode::NotFound,
            message: "not\tfound".into()
        }
    );
    for bad in [
        &b"ERR 404 a\x01b\n"[..],
        b"ERR 404 a\rb\n",
        "ERR 404 a\u{2028}b\n".as_bytes(),
    ] {
        assert_eq!(
            rep(bad),
            Err(Err::Failure(WireError::BadMessage)),
            "{bad:?}"
        );
    }
    assert_eq!(clean_message("a\u{2028}b\u{85}c"), "a b c");
}

#[test]
fn paths_are_escaped_in_1_1_only() {
    let in_1_1 = |line: &str| request_in(line.as_bytes(), VERSION_1_1).map(|(_, r)| r);
    assert_eq!(
        in_1_1("STAT my%20notes%2etxt\n"),
        Ok(Request::Stat {
            path: "my notes.txt".into()
        })
    );
    assert_eq!(
        in_1_1("STAT caf%C3%A9\n"),
        Ok(Request::Stat {
            path: "café".into()
        })
    );
    for bad in [
        "STAT 100%\n",
        "STAT %4\n",
        "STAT %zz\n",
        "STAT %FF\n",
        "STAT %C3\n",
        "STAT a\u{2028}\n",
    ] {
        assert_eq!(
            in_1_1(bad),
            Err(Err::Failure(WireError::BadPath)),
            "{bad:?}"
        );
    }
    // In 1.0 `%` is a character like another.
    assert_eq!(
        req(b"STAT 100%\n").unwrap().1,
        Request::Stat {
            path: "100%".into()
        }
    );
    let mut out = BytesMut::new();
    let entry = Reply::Entry(Entry {
        name: "50% off\u{200B}".into(),
        kind: Kind::File,
        size: 1,
    });
    entry.encode_in(&mut out, VERSION_1_1).unwrap();
    assert_eq!(&out[..], b"ENTRY file 1 50%25%20off%E2%80%8B\n");
    assert_eq!(
        entry.encode(&mut BytesMut::new()),
        Err(EncodeError(WireError::BadPath)),
        "1.0 cannot say it"
    );
    // A path within MAX_PATH whose encoding does not fit a line.
    let spaces = Request::Stat {
        path: " ".repeat(MAX_PATH),
    };
    assert_eq!(
        spaces.encode_in(&mut BytesMut::new(), VERSION_1_1),
        Err(EncodeError(WireError::LineTooLong))
    );
}

/// One token of a path word, and how the grammar classifies it, decided
/// here by hand rather than by the parser's own tables.
fn token_strategy() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        // raw in both versions
        "a",
        "Z",
        "0",
        "/",
        ".",
        "-",
        "~",
        "!",
        "é",
        "中",
        "😀",
        "f",
        "E",
        // never raw: white space, Cc, Cf
        "\u{85}",
        "\u{A0}",
        "\u{2028}",
        "\u{2029}",
        "\u{3000}",
        "\u{200B}",
        "\u{202E}",
        "\u{FEFF}",
        "\u{7F}",
        "\u{1}",
        "\r",
        "\u{AD}",
        // escapes, good and bad
        "%",
        "%20",
        "%25",
        "%2f",
        "%C3%A9",
        "%C3",
        "%A9",
        "%FF",
        "%2",
        "%zz",
        "%e2%80%a8",
    ])
}

const NEVER_RAW: [char; 11] = [
    '\u{85}', '\u{A0}', '\u{2028}', '\u{2029}', '\u{3000}', '\u{200B}', '\u{202E}', '\u{FEFF}',
    '\u{7F}', '\u{1}', '\r',
];

/// The grammar's verdict on a path word: its decoded text, or `None`.
fn grammar_path(word: &str, escaped: bool) -> Option<String> {
    let never = |c: char| NEVER_RAW.contains(&c) || c == '\u{AD}';
    if word.is_empty() {
        return None;
    }
    if !escaped {
        return (!word.chars().any(never) && word.len() <= MAX_PATH).then(|| word.to_string());
    }
    let mut bytes = Vec::new();
    let mut rest = word;
    while let Some(c) = rest.chars().next() {
        if c == '%' {
            let hex = rest.get(1..3)?;
            bytes.push(
                u8::from_str_radix(hex, 16)
                    .ok()
                    .filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()))?,
            );
            rest = &rest[3..];
        } else if never(c) {
            return None;
        } else {
            bytes.extend_from_slice(c.to_string().as_bytes());
            rest = &rest[c.len_utf8()..];
        }
    }
    let text = String::from_utf8(bytes).ok()?;
    let fits = text.len() <= MAX_PATH && text.split('/').all(|s| s.len() <= MAX_NAME);
    fits.then_some(text)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The parser takes a path exactly when the grammar does, and reads it
    /// as the grammar says, in both versions.
    #[test]
    fn the_parser_accepts_exactly_the_grammars_paths(
        tokens in proptest::collection::vec(token_strategy(), 1..12),
        version in prop_oneof![Just(VERSION), Just(VERSION_1_1)],
    ) {
        let word: String = tokens.concat();
        let line = alloc::format!("STAT {word}\n");
        let got = request_in(line.as_bytes(), version).ok().map(|(_, r)| r);
        // A CR at the end of the word is the line's CRLF.
        let read = word.strip_suffix('\r').unwrap_or(&word);
        let want = grammar_path(read, version >= VERSION_1_1).map(|path| Request::Stat { path });
        prop_assert_eq!(got, want, "{:?}", word);
    }

    /// What a 1.1 encoder writes for any text, its parser reads back.
    #[test]
    fn any_name_round_trips_in_1_1(chars in proptest::collection::vec(any::<char>(), 1..60)) {
        let name: String = chars.into_iter().collect();
        let entry = Reply::Entry(Entry { name: name.clone(), kind: Kind::File, size: 3 });
        let mut out = BytesMut::new();
        entry.encode_in(&mut out, VERSION_1_1).unwrap();
        let (rest, back) = reply_in(&out, VERSION_1_1).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back, entry.clone());
        // Every raw character of the encoding is one the grammar allows.
        let text = core::str::from_utf8(&out[..out.len() - 1]).unwrap();
        let word = text.rsplit(' ').next().unwrap();
        prop_assert!(word.chars().all(|c| c != ' ' && is_raw_char(c)));
        // And 1.0 carries it exactly when it has no character to escape.
        let raw_ok = name.chars().all(is_raw_char) && name.len() <= MAX_NAME;
        prop_assert_eq!(entry.encode(&mut BytesMut::new()).is_ok(), raw_ok);
    }

    /// Blanks before, between and after the words, and blank lines before
    /// the line, change nothing.
    #[test]
    fn blanks_change_nothing(
        before in proptest::collection::vec("[ \t]{0,3}", 0..3),
        pre in "[ \t]{0,3}",
        seps in proptest::collection::vec("[ \t]{1,3}", 2..=2),
        post in "[ \t]{0,3}",
        crlf in any::<bool>(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut line = String::new();
        for b in &before {
            line.push_str(b);
            line.push_str(end);
        }
        line.push_str(&alloc::format!("{pre}put{}a%20b{}9{post}{end}", seps[0], seps[1]));
        let want = Request::Put { path: "a b".into(), size: 9, offset: 0, replace: false, restart: false };
        prop_assert_eq!(request_in(line.as_bytes(), VERSION_1_1).map(|(r, m)| (r.len(), m)), Ok((0, want)));
    }

    #[test]
    fn requests_round_trip_in_1_1(r in request_strategy()) {
        let mut out = BytesMut::new();
        r.encode_in(&mut out, VERSION_1_1).unwrap();
        let (rest, back) = request_in(&out, VERSION_1_1).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back, r);
    }
}

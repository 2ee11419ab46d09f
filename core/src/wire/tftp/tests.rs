use super::*;
use alloc::vec;
use proptest::prelude::*;

fn req(filename: &str, mode: Mode, options: &[(&str, &str)]) -> Request {
    Request {
        filename: filename.into(),
        mode,
        options: options
            .iter()
            .map(|(n, v)| TftpOption::new(*n, *v))
            .collect(),
    }
}

#[test]
fn a_curl_style_request() {
    let bytes = b"\0\x01file.bin\0OCTET\0tsize\x000\0BlkSize\x001468\0timeout\x006\0";
    let p = parse(bytes).expect("valid");
    assert_eq!(
        p,
        Packet::Rrq(req(
            "file.bin",
            Mode::Octet,
            &[("tsize", "0"), ("BlkSize", "1468"), ("timeout", "6")]
        ))
    );
    let Packet::Rrq(r) = &p else { panic!() };
    assert_eq!(r.options[1].kind(), Some(OptionKind::Blksize));
    assert_eq!(r.options[1].value_u64(), Some(1468));
    // Re-encoding writes the mode our way and keeps the option spellings.
    assert_eq!(
        &p.to_bytes().expect("encodes")[..],
        b"\0\x01file.bin\0octet\0tsize\x000\0BlkSize\x001468\0timeout\x006\0"
    );
}

#[test]
fn modes_in_any_case_and_unknown_modes() {
    assert!(matches!(
        parse(b"\0\x02a\0NetAscii\0"),
        Ok(Packet::Wrq(Request {
            mode: Mode::Netascii,
            ..
        }))
    ));
    assert_eq!(
        parse(b"\0\x01a\0mail\0"),
        Err(ParseError::UnknownMode("mail".into()))
    );
}

#[test]
fn malformed_requests() {
    assert_eq!(parse(b""), Err(ParseError::TooShort));
    assert_eq!(parse(b"\0"), Err(ParseError::TooShort));
    assert_eq!(parse(b"\0\x09"), Err(ParseError::UnknownOpcode(9)));
    assert_eq!(parse(b"\0\x01file"), Err(ParseError::Unterminated));
    assert_eq!(parse(b"\0\x01file\0octet"), Err(ParseError::Unterminated));
    assert_eq!(parse(b"\0\x01\0octet\0"), Err(ParseError::EmptyFilename));
    assert_eq!(
        parse(b"\0\x01f\0octet\0blksize\0"),
        Err(ParseError::OptionWithoutValue)
    );
    assert_eq!(
        parse(b"\0\x01f\0octet\0blksize\x00512"),
        Err(ParseError::Unterminated)
    );
    assert_eq!(
        parse(b"\0\x01f\0octet\0\x00512\0"),
        Err(ParseError::BadOption)
    );
    assert_eq!(parse(b"\0\x01\xff\0octet\0"), Err(ParseError::NotUtf8));
    let mut long = vec![0u8, 1];
    long.extend(core::iter::repeat_n(b'a', MAX_FILENAME + 1));
    long.extend(b"\0octet\0");
    assert_eq!(parse(&long), Err(ParseError::FilenameTooLong));
    let mut many = b"\0\x01f\0octet\0".to_vec();
    for _ in 0..=MAX_OPTIONS {
        many.extend(b"x\0y\0");
    }
    assert_eq!(parse(&many), Err(ParseError::TooManyOptions));
}

#[test]
fn data_ack_error_oack() {
    assert_eq!(
        parse(b"\0\x03\xff\xffabc"),
        Ok(Packet::Data {
            block: 65535,
            data: Bytes::from_static(b"abc")
        })
    );
    assert_eq!(peek_data(b"\0\x03\x00\x07xy"), Some((7, &b"xy"[..])));
    assert_eq!(peek_data(b"\0\x04\x00\x07"), None);
    assert_eq!(parse(b"\0\x03\0"), Err(ParseError::TooShort));
    let mut big = vec![0u8, 3, 0, 1];
    big.resize(4 + usize::from(MAX_BLKSIZE) + 1, 7);
    assert_eq!(parse(&big), Err(ParseError::DataTooLong));
    assert_eq!(parse(b"\0\x04\0\x01"), Ok(Packet::Ack { block: 1 }));
    assert_eq!(
        parse(b"\0\x04\0\x01junk"),
        Ok(Packet::Ack { block: 1 }),
        "lenient"
    );
    assert_eq!(parse(b"\0\x04\0"), Err(ParseError::TooShort));
    assert_eq!(
        parse(b"\0\x05\0\x01File not found\0"),
        Ok(Packet::Error {
            code: ErrorCode::FileNotFound,
            message: "File not found".into()
        })
    );
    assert_eq!(
        parse(b"\0\x05\0\x63no nul"),
        Ok(Packet::Error {
            code: ErrorCode::Other(99),
            message: "no nul".into()
        })
    );
    assert_eq!(
        parse(b"\0\x06blksize\x001468\0"),
        Ok(Packet::Oack {
            options: vec![TftpOption::new("blksize", "1468")]
        })
    );
    assert_eq!(parse(b"\0\x06"), Ok(Packet::Oack { options: vec![] }));
}

#[test]
fn error_messages_are_cut_and_nul_free() {
    let long = "é".repeat(200);
    let bytes = error_bytes(ErrorCode::DiskFull, &long);
    assert_eq!(bytes.len(), 4 + 254 + 1, "cut at a character boundary");
    let Ok(Packet::Error { message, .. }) = parse(&bytes) else {
        panic!()
    };
    assert_eq!(message, "é".repeat(127));
    assert_eq!(
        &error_bytes(ErrorCode::NotDefined, "a\0b")[..],
        b"\0\x05\0\0a\0"
    );
}

#[test]
fn an_invalid_utf8_message_re_encodes_to_itself() {
    // 200 bytes that are not UTF-8 become 200 three-byte U+FFFDs: the
    // parsed message must still fit, so that encoding it changes nothing.
    let mut bytes = vec![0, 5, 0, 0];
    bytes.extend([0xffu8; 200]);
    bytes.push(0);
    let parsed = parse(&bytes).expect("an ERROR packet");
    let Packet::Error { message, .. } = &parsed else {
        panic!("not an error: {parsed:?}")
    };
    assert!(message.len() <= MAX_ERROR_MESSAGE, "{}", message.len());
    let again = parsed.to_bytes().expect("encodes");
    assert_eq!(parse(&again), Ok(parsed));
}

#[test]
fn option_values() {
    let v = |s: &str| TftpOption::new("x", s).value_u64();
    assert_eq!(v("0"), Some(0));
    assert_eq!(v("18446744073709551615"), Some(u64::MAX));
    assert_eq!(v("18446744073709551616"), None);
    assert_eq!(v(""), None);
    assert_eq!(v("+1"), None);
    assert_eq!(v("12a"), None);
    assert_eq!(
        OptionKind::from_name("WINDOWSIZE"),
        Some(OptionKind::Windowsize)
    );
    assert_eq!(OptionKind::from_name("blocksize"), None);
    assert_eq!(
        TftpOption::number(OptionKind::Tsize, 42),
        TftpOption::new("tsize", "42")
    );
}

#[test]
fn encoding_refuses_what_cannot_be_parsed_back() {
    let bad = Packet::Rrq(req("a\0b", Mode::Octet, &[]));
    assert_eq!(bad.to_bytes(), Err(EncodeError::BadText));
    let bad = Packet::Oack {
        options: vec![TftpOption::new("", "1")],
    };
    assert_eq!(bad.to_bytes(), Err(EncodeError::BadText));
}

fn text(max: usize, may_be_empty: bool) -> impl Strategy<Value = String> {
    let min = usize::from(!may_be_empty);
    proptest::collection::vec(any::<char>().prop_filter("no NUL", |c| *c != '\0'), min..8)
        .prop_map(move |cs| {
            let mut s: String = cs.into_iter().collect();
            while s.len() > max {
                s.pop();
            }
            s
        })
        .prop_filter("length", move |s| may_be_empty || !s.is_empty())
}

fn options() -> impl Strategy<Value = Vec<TftpOption>> {
    proptest::collection::vec(
        (text(MAX_OPTION_TEXT, false), text(MAX_OPTION_TEXT, true))
            .prop_map(|(n, v)| TftpOption::new(n, v)),
        0..MAX_OPTIONS,
    )
}

fn request() -> impl Strategy<Value = Request> {
    (
        text(MAX_FILENAME, false),
        prop_oneof![Just(Mode::Octet), Just(Mode::Netascii)],
        options(),
    )
        .prop_map(|(filename, mode, options)| Request {
            filename,
            mode,
            options,
        })
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        request().prop_map(Packet::Rrq),
        request().prop_map(Packet::Wrq),
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..600)).prop_map(|(block, data)| {
            Packet::Data {
                block,
                data: data.into(),
            }
        }),
        any::<u16>().prop_map(|block| Packet::Ack { block }),
        (any::<u16>(), text(MAX_ERROR_MESSAGE, true)).prop_map(|(code, message)| {
            Packet::Error {
                code: ErrorCode::from_code(code),
                message,
            }
        }),
        options().prop_map(|options| Packet::Oack { options }),
    ]
}

proptest! {
    #[test]
    fn round_trip(p in packet()) {
        let bytes = p.to_bytes().expect("valid packets encode");
        prop_assert_eq!(parse(&bytes), Ok(p));
    }

    #[test]
    fn parse_never_panics_and_reencodes(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        if let Ok(p) = parse(&bytes) {
            // What we accept, we can write again, and read again the same.
            let again = p.to_bytes().expect("parsed packets encode");
            prop_assert_eq!(parse(&again), Ok(p));
        }
    }

    #[test]
    fn request_like_bytes_never_panic(
        op in 1u16..=6,
        fields in proptest::collection::vec(prop_oneof![
            Just(b"octet".to_vec()), Just(b"blksize".to_vec()), Just(b"512".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..6)
        ], 0..8),
    ) {
        let mut bytes = op.to_be_bytes().to_vec();
        for f in fields {
            bytes.extend(f);
            bytes.push(0);
        }
        if let Ok(p) = parse(&bytes) {
            prop_assert_eq!(parse(&p.to_bytes().expect("encodes")), Ok(p));
        }
    }
}

//! KV/1's properties, with Wirekit's own harnesses: the codec round-trips
//! and never panics, any split of the stream gives the same answers, a
//! client and a server wired in memory answer as the model does, and both
//! machines keep the core contract under hostile input.

use proptest::prelude::*;
use wirekit_capstone::client::{self, Client};
use wirekit_capstone::server::{Command, Event, Query, Server};
use wirekit_capstone::store::Store;
use wirekit_capstone::wire::{self, Request, Response};
use wirekit_core::pair::StreamPair;
use wirekit_core::testing::contract::{Op, exercise};
use wirekit_core::{Machine, Now};

fn key() -> impl Strategy<Value = String> {
    // Few keys, so that requests meet each other's keys.
    prop_oneof![Just("a".to_string()), Just("b".to_string()), "[!-~]{1,64}"]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (key(), "[ -~]{0,400}").prop_map(|(key, value)| Request::Set { key, value }),
        key().prop_map(|key| Request::Get { key }),
        key().prop_map(|key| Request::Del { key }),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        Just(Response::Ok),
        "[ -~]{0,400}".prop_map(Response::Value),
        Just(Response::NotFound),
        Just(Response::Deleted),
        Just(Response::Bye),
        "[ -~]{0,400}".prop_map(Response::Err),
    ]
}

/// Encodes with `encode` and strips the line ending.
fn one_line(encode: impl FnOnce(&mut bytes::BytesMut)) -> Vec<u8> {
    let mut buf = bytes::BytesMut::new();
    encode(&mut buf);
    assert_eq!(buf.last(), Some(&b'\n'));
    buf[..buf.len() - 1].to_vec()
}

// ANCHOR: pair
/// Runs `script` (then QUIT) through a client and a server joined by the
/// core's in-memory stream pair, each piece of the stream `pieces` long in
/// turn, the server answered from a fresh store. Returns the client's events.
fn converse(script: &[Request], pieces: &[usize]) -> Vec<client::Event> {
    let now = Now::default();
    let mut client = Client::new();
    for r in script.iter().cloned().chain([Request::Quit]) {
        client.handle_command(now, r).expect("a valid script");
    }
    let mut pair = StreamPair::new(client, Server::new(), now);
    let store = Store::default();
    let mut turn = 0;
    let mut piece = || {
        turn += 1;
        pieces[turn % pieces.len()]
    };
    for _ in 0..=script.len() {
        pair.settle(&mut piece, 100_000).expect("no misuse");
        let asked: Vec<Event> = pair.server_events.drain(..).collect();
        for event in asked {
            if let Event::Asked(q) = event {
                let answer = Command::Answer(store.answer(q));
                pair.server.handle_command(pair.now, answer).expect("asked");
            }
        }
        pair.drain_both();
    }
    pair.settle(&mut piece, 100_000).expect("no misuse");
    pair.client_events
}
// ANCHOR_END: pair

/// What a correct server answers, from a model store of the test's own.
fn expected(script: &[Request]) -> Vec<client::Event> {
    let model = Store::default();
    let mut out: Vec<client::Event> = script
        .iter()
        .cloned()
        .map(|request| {
            let response = model.answer(Query::of(request.clone()).expect("no QUIT"));
            client::Event::Answered { request, response }
        })
        .collect();
    out.push(client::Event::Answered {
        request: Request::Quit,
        response: Response::Bye,
    });
    out.push(client::Event::Closed { unanswered: 0 });
    out
}

proptest! {
    // ANCHOR: round_trip
    #[test]
    fn requests_and_responses_round_trip(req in request(), resp in response()) {
        let line = one_line(|b| wire::encode_request(&req, b));
        prop_assert_eq!(wire::parse_request(&line), Ok(req));
        let line = one_line(|b| wire::encode_response(&resp, b));
        prop_assert_eq!(wire::parse_response(&line), Ok(resp));
    }
    // ANCHOR_END: round_trip

    #[test]
    fn parsing_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = wire::parse_request(&bytes);
        let _ = wire::parse_response(&bytes);
    }

    // ANCHOR: split
    #[test]
    fn any_split_gives_the_answers_a_correct_server_gives(
        script in proptest::collection::vec(request(), 0..20),
        pieces in proptest::collection::vec(1usize..40, 1..8),
    ) {
        prop_assert_eq!(converse(&script, &pieces), expected(&script));
    }
    // ANCHOR_END: split

    #[test]
    fn the_server_keeps_the_contract(ops in proptest::collection::vec(op(), 0..40)) {
        let mut server = Server::new();
        prop_assert!(exercise(&mut server, Now::default(), &ops).is_ok());
        let mut client = Client::new();
        prop_assert!(exercise(&mut client, Now::default(), &ops).is_ok());
    }
}

/// Hostile peer input: KV/1-looking lines and raw bytes, split anywhere.
fn op() -> impl Strategy<Value = Op> {
    let lines = prop_oneof![
        request().prop_map(|r| {
            let mut b = bytes::BytesMut::new();
            wire::encode_request(&r, &mut b);
            b.to_vec()
        }),
        proptest::collection::vec(any::<u8>(), 0..64),
    ];
    prop_oneof![
        8 => (any::<u8>(), lines).prop_map(|(from, bytes)| Op::Data { from, bytes }),
        1 => any::<u8>().prop_map(|from| Op::Eof { from }),
        1 => any::<u16>().prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::EarlyTimeout),
    ]
}

#[test]
fn a_line_too_long_gets_err_and_a_close() {
    let mut server = Server::new();
    let now = Now::default();
    let long = vec![b'x'; wire::MAX_LINE + 10];
    let input = wirekit_core::Input::Data {
        from: wirekit_core::PeerId::FIRST,
        bytes: &long,
    };
    server.handle_input(now, input).expect("peer input");
    let sent = server.poll_transmit().expect("an answer");
    assert_eq!(&sent.payload[..], b"ERR line too long\n");
    assert!(server.is_done());
}

#[test]
fn answers_leave_in_the_order_asked() {
    // The second question is answered first; its answer waits for the first's.
    let mut server = Server::new();
    let now = Now::default();
    let input = wirekit_core::Input::Data {
        from: wirekit_core::PeerId::FIRST,
        bytes: b"GET a\nGET b\n",
    };
    server.handle_input(now, input).expect("peer input");
    assert!(server.poll_transmit().is_none(), "nothing answered yet");
    let answer = |r| Command::Answer(r);
    server
        .handle_command(now, answer(Response::NotFound))
        .expect("asked");
    let first = server.poll_transmit().expect("the first answer");
    assert_eq!(&first.payload[..], b"NOTFOUND\n");
    server
        .handle_command(now, answer(Response::Value("2".into())))
        .expect("asked");
    assert_eq!(
        &server.poll_transmit().expect("second").payload[..],
        b"VALUE 2\n"
    );
    assert!(
        server.handle_command(now, answer(Response::Ok)).is_err(),
        "nothing was asked"
    );
}

#[test]
fn a_client_that_asks_too_much_at_once_is_cut_off_after_the_answers_owed() {
    use wirekit_capstone::server::{MAX_PENDING, Trouble};
    let mut server = Server::new();
    let now = Now::default();
    let flood = "GET a\n".repeat(MAX_PENDING + 10);
    let input = wirekit_core::Input::Data {
        from: wirekit_core::PeerId::FIRST,
        bytes: flood.as_bytes(),
    };
    server.handle_input(now, input).expect("peer input");
    let mut asked = 0;
    while let Some(event) = server.poll_event() {
        match event {
            Event::Asked(_) => asked += 1,
            Event::Protocol(t) => assert_eq!(t, Trouble::NotReading),
        }
    }
    assert_eq!(asked, MAX_PENDING);
    for _ in 0..asked {
        server
            .handle_command(now, Command::Answer(Response::NotFound))
            .expect("asked");
    }
    let mut lines = Vec::new();
    while let Some(t) = server.poll_transmit() {
        lines.push(String::from_utf8_lossy(&t.payload).into_owned());
    }
    assert_eq!(lines.len(), MAX_PENDING + 1);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("ERR too many requests unread\n")
    );
    assert!(server.is_done());
}

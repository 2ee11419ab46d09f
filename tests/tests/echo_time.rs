//! Echo and timestamp machines under random chunking, random schedules and
//! hostile input.

use bytes::Bytes;
use proptest::prelude::*;
use std::time::Duration;
use wirekit_core::echo::{
    self, DatagramMode, DatagramServer, Echoed, HelloClient, HelloCommand, HelloEvent,
    StreamClient, StreamCommand, StreamEvent, StreamMode, StreamServer, UdpClient, UdpEvent,
};
use wirekit_core::pair::StreamPair;
use wirekit_core::retry::BackoffConfig;
use wirekit_core::timestamp::{self, Service, StampClient, StampCommand, StampEvent};
use wirekit_core::{Input, Instant, Machine, Now, PeerId, UnixTime, drain};
use wirekit_tests::contract::{Op, exercise};

/// Feeds `bytes` to `m` cut at the given lengths, then an end of stream, and
/// returns everything it sent and every event, in order.
fn run_split<M>(mut m: M, bytes: &[u8], cuts: &[usize]) -> (Vec<u8>, Vec<M::Event>)
where
    M: Machine,
    M::Error: std::fmt::Debug,
{
    let now = Now::new(Instant::ZERO, UnixTime::from_secs(1_795_343_443));
    let mut out = Vec::new();
    let mut events = Vec::new();
    drain(
        &mut m,
        |t| out.extend_from_slice(&t.payload),
        |e| events.push(e),
    );
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts[i % cuts.len()].clamp(1, rest.len());
        i += 1;
        let (piece, tail) = rest.split_at(n);
        m.handle_input(
            now,
            Input::Data {
                from: PeerId::FIRST,
                bytes: piece,
            },
        )
        .expect("peer input is never an error");
        drain(
            &mut m,
            |t| out.extend_from_slice(&t.payload),
            |e| events.push(e),
        );
        rest = tail;
    }
    m.handle_input(
        now,
        Input::Eof {
            from: PeerId::FIRST,
        },
    )
    .expect("peer input is never an error");
    drain(
        &mut m,
        |t| out.extend_from_slice(&t.payload),
        |e| events.push(e),
    );
    (out, events)
}

fn line_stream() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        "[a-zA-Z0-9 ,.!]{0,40}".prop_map(|s| s.into_bytes()),
        Just(b"exit".to_vec()),
        prop::collection::vec(any::<u8>(), 0..60),
    ];
    (
        prop::collection::vec(line, 0..12),
        prop::bool::ANY,
        prop::option::of(2000usize..3000),
    )
        .prop_map(|(lines, crlf, long)| {
            let mut out = Vec::new();
            for mut l in lines {
                l.retain(|&b| b != b'\n');
                out.extend_from_slice(&l);
                out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
            if let Some(n) = long {
                out.extend(std::iter::repeat_n(b'x', n));
            }
            out
        })
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..64, 1..8)
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let valid = prop_oneof![
        Just(b"hello\n".to_vec()),
        Just(b"exit\r\n".to_vec()),
        Just(b"Welcome!\r\nHello, x!\r\n".to_vec()),
        Just(b"[Sun Nov 22 10:30:43 2026] : hi\r\n".to_vec()),
        Just(vec![0x83, 0xaa, 0x7e, 0x80]),
        Just(b"Sunday, November 22, 2026 10:30:43-UTC\r\n".to_vec()),
    ];
    prop_oneof![
        4 => (any::<u8>(), valid).prop_map(|(from, bytes)| Op::Data { from, bytes }),
        3 => (any::<u8>(), prop::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(from, bytes)| Op::Data { from, bytes }),
        1 => (any::<u8>(), 1usize..300_000)
            .prop_map(|(from, n)| Op::Data { from, bytes: vec![b'A'; n] }),
        1 => any::<u8>().prop_map(|from| Op::Eof { from }),
        1 => any::<u16>().prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::EarlyTimeout),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    // ANCHOR: cut
    /// TCP has no message boundaries: any split gives the same bytes and events.
    #[test]
    fn servers_ignore_how_the_stream_is_cut(bytes in line_stream(), a in cuts(), b in cuts()) {
        let hello = || StreamServer::new(StreamMode::Hello);
        let whole = run_split(hello(), &bytes, &[usize::MAX]);
        prop_assert_eq!(&run_split(hello(), &bytes, &a), &whole);
        prop_assert_eq!(&run_split(hello(), &bytes, &b), &whole);
        // Plain echo reports each piece it answers, so only the bytes and
        // their total must agree.
        let plain = |cuts: &[usize]| {
            let (out, events) = run_split(StreamServer::new(StreamMode::Plain), &bytes, cuts);
            let answered: usize = events
                .iter()
                .map(|e| match e {
                    echo::ServerEvent::Answered { len, .. } => *len,
                    _ => 0,
                })
                .sum();
            (out, answered)
        };
        prop_assert_eq!(plain(&a), plain(&[usize::MAX]));
        prop_assert_eq!(plain(&a), (bytes.clone(), bytes.len()));
        // ANCHOR_END: cut
        let now = Now::new(Instant::ZERO, UnixTime::from_secs(1_795_343_443));
        let stamp = || timestamp::StreamServer::new(Service::Stamp, now);
        let whole = run_split(stamp(), &bytes, &[usize::MAX]);
        prop_assert_eq!(&run_split(stamp(), &bytes, &a), &whole);
    }

    #[test]
    fn clients_ignore_how_the_stream_is_cut(bytes in line_stream(), a in cuts()) {
        prop_assert_eq!(
            run_split(HelloClient::new(), &bytes, &a),
            run_split(HelloClient::new(), &bytes, &[usize::MAX])
        );
        prop_assert_eq!(
            run_split(StampClient::new(), &bytes, &a),
            run_split(StampClient::new(), &bytes, &[usize::MAX])
        );
        for service in [Service::Daytime, Service::Time] {
            prop_assert_eq!(
                run_split(timestamp::StreamClient::new(service), &bytes, &a),
                run_split(timestamp::StreamClient::new(service), &bytes, &[usize::MAX])
            );
        }
    }

    // ANCHOR: pair
    /// Plain echo over a randomly cut stream: every byte back, in order.
    #[test]
    fn plain_echo_pair(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..3000), 0..8), piece in 1usize..700) {
        let now = Now::default();
        let mut pair = StreamPair::new(StreamClient::new(), StreamServer::new(StreamMode::Plain), now);
        let mut sent = Vec::new();
        for c in &chunks {
            sent.extend_from_slice(c);
            pair.client.handle_command(now, StreamCommand::Send(Bytes::from(c.clone()))).unwrap();
        }
        pair.client.handle_command(now, StreamCommand::Finish).unwrap();
        pair.drain_both();
        prop_assert!(pair.settle(&mut || piece, 100_000).unwrap());
        let mut back = Vec::new();
        for e in &pair.client_events {
            match e {
                StreamEvent::Echoed(b) => back.extend_from_slice(b),
                StreamEvent::Complete { bytes } => prop_assert_eq!(*bytes, sent.len() as u64),
                StreamEvent::Protocol(p) => prop_assert!(false, "{}", p),
            }
        }
        prop_assert_eq!(back, sent);
        prop_assert!(pair.client.is_done() && pair.server.is_done());
    }
    // ANCHOR_END: pair

    /// The hello dialogue: each message answered in order, exit closes.
    #[test]
    fn hello_pair(msgs in prop::collection::vec("[a-zA-Z0-9 ]{0,30}", 0..10), piece in 1usize..20) {
        let now = Now::default();
        let mut pair = StreamPair::new(HelloClient::new(), StreamServer::new(StreamMode::Hello), now);
        for m in &msgs {
            pair.client.handle_command(now, HelloCommand::Say(m.clone())).unwrap();
        }
        pair.client.handle_command(now, HelloCommand::Exit).unwrap();
        pair.drain_both();
        prop_assert!(pair.settle(&mut || piece, 10_000).unwrap());
        let mut expected = vec![HelloEvent::Greeting("Welcome!".into())];
        expected.extend(msgs.iter().map(|m| HelloEvent::Reply(m.clone())));
        expected.push(HelloEvent::Closed);
        prop_assert_eq!(&pair.client_events, &expected);
    }

    /// The UDP client waits exactly its schedule, jitter within bounds, and
    /// reports the server down when every reply is lost.
    #[test]
    fn udp_client_follows_its_schedule(initial_ms in 1u64..500, factor in 2u32..4, max_ms in 1u64..5000, jitter in 0u8..50, seed in any::<u64>()) {
        let config = BackoffConfig {
            initial: Duration::from_millis(initial_ms),
            factor,
            max_wait: Duration::from_millis(max_ms),
            jitter_percent: jitter,
        };
        let nominal: Vec<Duration> = config.schedule(64).collect();
        let mut c = UdpClient::new(Echoed, config, seed).unwrap();
        let mut now = Now::default();
        c.handle_command(now, Bytes::from_static(b"ping")).unwrap();
        let mut sends = 0;
        let mut waits = Vec::new();
        let mut events = Vec::new();
        for _ in 0..100 {
            sends += std::iter::from_fn(|| c.poll_transmit()).count();
            events.extend(std::iter::from_fn(|| c.poll_event()));
            let Some(deadline) = c.poll_timeout() else { break };
            waits.push(deadline - now.mono);
            now = Now::mono(deadline);
            c.handle_input(now, Input::Timeout).unwrap();
        }
        events.extend(std::iter::from_fn(|| c.poll_event()));
        prop_assert_eq!(waits.len(), nominal.len());
        for (w, n) in waits.iter().zip(&nominal) {
            let spread = n.as_micros() as u64 / 100 * u64::from(jitter);
            let (w, n) = (w.as_micros() as u64, n.as_micros() as u64);
            prop_assert!(w + spread >= n && w <= n + spread, "wait {} vs {} ± {}", w, n, spread);
        }
        prop_assert_eq!(sends, nominal.len());
        let down = UdpEvent::ServerDown { attempts: nominal.len() as u32 };
        prop_assert_eq!(events.last(), Some(&down));
    }

    /// The contract holds for every echo and timestamp machine under hostile input.
    #[test]
    fn contract(ops in prop::collection::vec(op_strategy(), 0..30)) {
        let now = Now::new(Instant::ZERO, UnixTime::from_secs(1_795_343_443));
        exercise(&mut StreamServer::new(StreamMode::Plain), now, &ops).unwrap();
        exercise(&mut StreamServer::new(StreamMode::Hello), now, &ops).unwrap();
        for mode in [DatagramMode::Plain, DatagramMode::Ack, DatagramMode::Hello] {
            exercise(&mut DatagramServer::new(mode), now, &ops).unwrap();
        }
        let mut c = StreamClient::new();
        c.handle_command(now, StreamCommand::Send(Bytes::from_static(b"hello\n"))).unwrap();
        exercise(&mut c, now, &ops).unwrap();
        exercise(&mut HelloClient::new(), now, &ops).unwrap();
        let mut u = UdpClient::new(Echoed, BackoffConfig::default(), 1).unwrap();
        u.handle_command(now, Bytes::from_static(b"ping")).unwrap();
        exercise(&mut u, now, &ops).unwrap();
        for service in [Service::Daytime, Service::Time, Service::Stamp] {
            exercise(&mut timestamp::StreamServer::new(service, now), now, &ops).unwrap();
            exercise(&mut timestamp::DatagramServer::new(service), now, &ops).unwrap();
        }
        for service in [Service::Daytime, Service::Time] {
            exercise(&mut timestamp::StreamClient::new(service), now, &ops).unwrap();
        }
        for service in [Service::Daytime, Service::Time, Service::Stamp] {
            let mut d = timestamp::DatagramClient::new(service, BackoffConfig::default(), 2).unwrap();
            d.handle_command(now, Bytes::from_static(b"hi")).unwrap();
            exercise(&mut d, now, &ops).unwrap();
        }
        let mut s = StampClient::new();
        s.handle_command(now, StampCommand::Send("hi".into())).unwrap();
        exercise(&mut s, now, &ops).unwrap();
    }
}

#[test]
fn a_peer_that_never_reads_is_cut_off() {
    let mut server = StreamServer::new(StreamMode::Plain);
    let chunk = vec![7u8; 64 * 1024];
    let mut cut = false;
    for _ in 0..10 {
        server
            .handle_input(
                Now::default(),
                Input::Data {
                    from: PeerId::FIRST,
                    bytes: &chunk,
                },
            )
            .unwrap();
        if server.is_done() {
            cut = true;
            break;
        }
    }
    assert!(cut, "a server must not queue echo without end");
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(events.contains(&echo::ServerEvent::Protocol(
        echo::ProtocolError::NotReading {
            limit: echo::MAX_PENDING
        }
    )));
}

#[test]
fn a_datagram_server_answers_each_peer_and_drops_past_its_queue() {
    let mut server = DatagramServer::new(DatagramMode::Ack);
    for i in 0..(echo::MAX_QUEUED as u32 + 3) {
        server
            .handle_input(
                Now::default(),
                Input::Data {
                    from: PeerId(i),
                    bytes: b"This is my message",
                },
            )
            .unwrap();
    }
    let replies: Vec<_> = std::iter::from_fn(|| server.poll_transmit()).collect();
    assert_eq!(replies.len(), echo::MAX_QUEUED);
    assert_eq!(replies[5].to, PeerId(5));
    assert_eq!(&replies[5].payload[..], b"Your data was 18 bytes");
    let dropped = std::iter::from_fn(|| server.poll_event())
        .filter(|e| matches!(e, wirekit_core::request::ServeEvent::Dropped { .. }))
        .count();
    assert_eq!(dropped, 3);
}

#[test]
fn the_stamp_client_reports_an_early_close() {
    let mut c = StampClient::new();
    c.handle_command(Now::default(), StampCommand::Send("a".into()))
        .unwrap();
    c.handle_input(
        Now::default(),
        Input::Eof {
            from: PeerId::FIRST,
        },
    )
    .unwrap();
    assert!(matches!(c.poll_event(), Some(StampEvent::Protocol(_))));
}

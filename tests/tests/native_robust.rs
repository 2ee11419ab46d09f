//! The servers under misbehaving clients: silent ones, too many, garbage
//! datagrams, and thousands of short connections.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};
use wirekit::client::{echo, time};
use wirekit::services::{Proto, Service};
use wirekit_core::retry::BackoffConfig;
use wirekit_core::timestamp::Service as Clock;
use wirekit_tests::native::{MODELS, addr, start, start_with};

/// Reads until the server closes; the time it took.
fn closed_within(s: &mut TcpStream, limit: Duration) -> Duration {
    s.set_read_timeout(Some(limit)).expect("timeout");
    let start = Instant::now();
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return start.elapsed(),
            Err(e) => panic!("the server did not close within {limit:?}: {e}"),
        }
    }
}

#[test]
fn a_silent_client_is_dropped_after_the_idle_timeout() {
    for model in MODELS {
        let dir = tempfile::tempdir().unwrap();
        let r = start_with(dir.path(), |c| {
            c.model = model;
            c.idle_timeout = Duration::from_millis(300);
        });
        // Slowloris: half a request line, then nothing.
        let mut s = TcpStream::connect(addr(&r, Service::Transfer, Proto::Tcp)).unwrap();
        s.write_all(b"HEL").unwrap();
        let took = closed_within(&mut s, Duration::from_secs(10));
        assert!(
            took >= Duration::from_millis(250),
            "{model:?}: closed early, {took:?}"
        );
        let mut e = TcpStream::connect(addr(&r, Service::Echo, Proto::Tcp)).unwrap();
        closed_within(&mut e, Duration::from_secs(10));
    }
}

/// A WKFT/1 session past its handshake.
fn greeted(a: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(a).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"HELLO 1\r\n").expect("send");
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\n") {
        s.read_exact(&mut b).expect("the server's HELLO");
        line.push(b[0]);
    }
    assert!(line.starts_with(b"HELLO 1"), "{line:?}");
    s
}

#[test]
fn connections_over_the_limit_are_refused_clearly() {
    for model in [
        wirekit::drive::Model::Async,
        wirekit::drive::Model::Threads,
        wirekit::drive::Model::Poll,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let r = start_with(dir.path(), |c| {
            c.model = model;
            c.max_conns = 2;
        });
        let a = addr(&r, Service::Transfer, Proto::Tcp);
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(greeted(a));
        }
        let mut third = TcpStream::connect(a).unwrap();
        third
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut text = String::new();
        let _ = third.read_to_string(&mut text);
        assert!(
            text.starts_with("ERR 503 too many connections"),
            "{model:?}: {text:?}"
        );
        // Wirekit's own client reports it as the server's refusal, typed.
        let o = wirekit_tests::native::opts(&r);
        let e = wirekit::client::transfer::list(&o, None).unwrap_err();
        assert_eq!(
            wirekit::client::transfer::refused_code(&e),
            Some(wirekit_core::transfer::ErrorCode::Busy),
            "{model:?}: {e}"
        );
        // A slot frees when a client leaves.
        drop(held.pop());
        let deadline = Instant::now() + Duration::from_secs(10);
        while r.open_connections() > 1 {
            assert!(
                Instant::now() < deadline,
                "{model:?}: the slot was not freed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        greeted(a);
    }
}

#[test]
fn udp_servers_shrug_off_garbage_and_vanished_clients() {
    for model in MODELS {
        let dir = tempfile::tempdir().unwrap();
        let r = start(model, dir.path());
        let mut silent = Vec::new();
        for service in [
            Service::Echo,
            Service::Time,
            Service::Daytime,
            Service::Stamp,
        ] {
            let target = addr(&r, service, Proto::Udp);
            // Clients that send and never read, and clients that send and
            // close before the reply (their port answers with ICMP).
            for i in 0..20u8 {
                let s = UdpSocket::bind("127.0.0.1:0").unwrap();
                s.send_to(&[i; 3], target).unwrap();
                if i % 2 == 0 {
                    silent.push(s);
                }
            }
            // Garbage: empty, binary, a datagram near the 64 KiB limit.
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.send_to(&[], target).unwrap();
            s.send_to(&[0xff, 0, 0x80, b'\n', b'\r'], target).unwrap();
            s.send_to(&vec![b'x'; 65_000], target).unwrap();
        }
        // Let the replies to the closed clients go out first: a new socket
        // may get a closed one's port, and a late reply to it would look
        // like an answer (UDP cannot tell them apart).
        std::thread::sleep(Duration::from_millis(300));
        // Still serving.
        let config = BackoffConfig::default();
        let e = echo::udp(
            addr(&r, Service::Echo, Proto::Udp),
            &["still".into()],
            config,
            |_, _| {},
        )
        .unwrap();
        assert_eq!(e[0].reply, "still", "{model:?}");
        time::udp(addr(&r, Service::Time, Proto::Udp), Clock::Time, config).unwrap();
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

#[test]
fn thousands_of_connections_leak_no_descriptors() {
    for model in MODELS {
        let dir = tempfile::tempdir().unwrap();
        let r = start(model, dir.path());
        let echo_addr = addr(&r, Service::Echo, Proto::Tcp);
        let time_addr = addr(&r, Service::Time, Proto::Tcp);
        // Warm up (lazy runtime threads and the like), then count.
        let mut s = TcpStream::connect(time_addr).unwrap();
        let _ = s.read_to_end(&mut Vec::new());
        std::thread::sleep(Duration::from_millis(300));
        let before = open_fds();
        for i in 0..2000 {
            if i % 2 == 0 {
                let mut s = TcpStream::connect(echo_addr).unwrap();
                s.write_all(b"x").unwrap();
                let mut b = [0u8; 1];
                s.read_exact(&mut b).unwrap();
            } else {
                // Connect and leave at once, without a byte.
                drop(TcpStream::connect(time_addr).unwrap());
            }
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while r.open_connections() > 0 || open_fds() > before + 4 {
            assert!(
                Instant::now() < deadline,
                "{model:?}: {} descriptors before, {} after; {} connections open",
                before,
                open_fds(),
                r.open_connections()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

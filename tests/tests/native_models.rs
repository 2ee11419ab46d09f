//! Every client against the real servers on 127.0.0.1, for each IO model.

use std::time::Duration;
use wirekit::client::ClientError;
use wirekit::client::transfer::{self, Partial};
use wirekit::client::{echo, time};
use wirekit::drive::Model;
use wirekit::services::{EchoMode, Proto, Service};
use wirekit_core::retry::BackoffConfig;
use wirekit_core::timestamp::Service as Clock;
use wirekit_core::transfer::{ErrorCode, Kind};
use wirekit_tests::native::{MODELS, addr, data, opts, start, start_echo};

const T: Duration = Duration::from_secs(10);

fn msgs(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn check_model(model: Model) {
    let dir = tempfile::tempdir().expect("request");
    let r = start(model, dir.path());

    // Echo over TCP and UDP.
    let replies = echo::tcp(
        addr(&r, Service::Echo, Proto::Tcp),
        &msgs(&["one", "two words"]),
        T,
    )
    .expect("request");
    let got: Vec<_> = replies.iter().map(|r| r.reply.as_str()).collect();
    assert_eq!(got, ["one", "two words"], "{model:?}");
    let replies = echo::udp(
        addr(&r, Service::Echo, Proto::Udp),
        &msgs(&["ping"]),
        BackoffConfig::default(),
        |_, _| {},
    )
    .expect("request");
    assert_eq!(replies[0].reply, "ping", "{model:?}");

    // Time and daytime over both transports, within a few seconds of ours.
    for told in [
        time::tcp(addr(&r, Service::Time, Proto::Tcp), Clock::Time, T).expect("request"),
        time::udp(
            addr(&r, Service::Time, Proto::Udp),
            Clock::Time,
            BackoffConfig::default(),
        )
        .expect("request"),
        time::tcp(addr(&r, Service::Daytime, Proto::Tcp), Clock::Daytime, T).expect("request"),
        time::udp(
            addr(&r, Service::Daytime, Proto::Udp),
            Clock::Daytime,
            BackoffConfig::default(),
        )
        .expect("request"),
    ] {
        let unix = told.unix.expect("a time we can read");
        assert!((unix - now_secs()).abs() <= 5, "{model:?}: {told:?}");
    }

    // The stamped echo.
    let stamped = time::stamp_tcp(
        addr(&r, Service::Stamp, Proto::Tcp),
        &msgs(&["a", "b c"]),
        T,
    )
    .expect("request");
    let data_back: Vec<_> = stamped
        .iter()
        .map(|t| t.data.clone().expect("request"))
        .collect();
    assert_eq!(data_back, ["a", "b c"], "{model:?}");
    let stamped = time::stamp_udp(
        addr(&r, Service::Stamp, Proto::Udp),
        &msgs(&["u"]),
        BackoffConfig::default(),
    )
    .expect("request");
    assert_eq!(stamped[0].data.as_deref(), Some("u"));
    assert!((stamped[0].unix.expect("request") - now_secs()).abs() <= 5);

    // File transfer: put, list, stat, get, byte-exact.
    let o = opts(&r);
    let local = dir.path().join("local.bin");
    let body = data(300_000, model as u64);
    std::fs::write(&local, &body).expect("request");
    std::fs::create_dir(dir.path().join("sub")).expect("request");
    let put = transfer::put(&o, &local, "sub/up.bin", Partial::Keep).expect("request");
    assert_eq!(put.size, body.len() as u64);
    assert_eq!(
        std::fs::read(dir.path().join("sub/up.bin")).expect("request"),
        body
    );
    let listing = transfer::list(&o, Some("sub".into())).expect("request");
    assert_eq!(listing.len(), 1);
    assert_eq!(
        (listing[0].name.as_str(), listing[0].kind, listing[0].size),
        ("up.bin", Kind::File, body.len() as u64)
    );
    let stat = transfer::stat(&o, "sub/up.bin".into()).expect("request");
    assert_eq!((stat.kind, stat.size), (Kind::File, body.len() as u64));
    let back = dir.path().join("back.bin");
    let got = transfer::get(&o, "sub/up.bin", &back, Partial::Keep).expect("request");
    assert_eq!(got.digest, put.digest);
    assert_eq!(std::fs::read(&back).expect("request"), body);
    assert!(
        !wirekit::client::local::partial_path(&back).exists(),
        "the partial was renamed into place"
    );

    // Errors reach the client typed.
    let e =
        transfer::get(&o, "missing", &dir.path().join("m"), Partial::Keep).expect_err("must fail");
    assert_eq!(transfer::refused_code(&e), Some(ErrorCode::NotFound), "{e}");
    assert!(!dir.path().join("m").exists());
    let e = transfer::put(&o, &local, "sub/up.bin", Partial::Keep).expect_err("must fail");
    assert_eq!(transfer::refused_code(&e), Some(ErrorCode::Exists), "{e}");
    assert_eq!(e.exit_code(), 4);
}

#[test]
fn async_model_serves_every_client() {
    check_model(Model::Async);
}

#[test]
fn threads_model_serves_every_client() {
    check_model(Model::Threads);
}

#[test]
fn poll_model_serves_every_client() {
    check_model(Model::Poll);
}

#[test]
fn iterative_model_serves_every_client() {
    check_model(Model::Iterative);
}

#[test]
fn echo_variants_on_every_model() {
    for model in MODELS {
        let dir = tempfile::tempdir().unwrap();
        let r = start_echo(model, EchoMode::Hello, dir.path());
        let (greeting, replies) = echo::hello(
            addr(&r, Service::Echo, Proto::Tcp),
            &msgs(&["world", "you"]),
            T,
        )
        .unwrap();
        assert_eq!(greeting, "Welcome!", "{model:?}");
        let got: Vec<_> = replies.iter().map(|r| r.reply.as_str()).collect();
        assert_eq!(got, ["Hello, world!", "Hello, you!"], "{model:?}");
        let udp = echo::udp(
            addr(&r, Service::Echo, Proto::Udp),
            &msgs(&["x"]),
            BackoffConfig::default(),
            |_, _| {},
        )
        .unwrap();
        assert_eq!(udp[0].reply, "Hello, x!", "{model:?}");

        let r = start_echo(model, EchoMode::Ack, dir.path());
        let udp = echo::udp(
            addr(&r, Service::Echo, Proto::Udp),
            &msgs(&["12345"]),
            BackoffConfig::default(),
            |_, _| {},
        )
        .unwrap();
        assert_eq!(udp[0].reply, "Your data was 5 bytes", "{model:?}");
    }
}

#[test]
fn udp_client_backs_off_and_reports_the_server_down() {
    // A socket that never answers: bound, so no ICMP cuts the wait short.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let config = BackoffConfig {
        initial: Duration::from_millis(20),
        factor: 2,
        max_wait: Duration::from_millis(160),
        jitter_percent: 0,
    };
    let mut retries = Vec::new();
    let e = echo::udp(
        silent.local_addr().unwrap(),
        &msgs(&["hello?"]),
        config,
        |a, w| retries.push((a, w)),
    )
    .unwrap_err();
    assert!(matches!(e, ClientError::NoReply { attempts: 4, .. }), "{e}");
    assert_eq!(e.exit_code(), 3);
    let waits: Vec<_> = retries.iter().map(|(_, w)| w.as_millis()).collect();
    assert_eq!(
        waits,
        [40, 80, 160],
        "the classic tutorials' doubling schedule"
    );
    // Every attempt really went out.
    silent
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut n = 0;
    let mut buf = [0u8; 64];
    while silent.recv(&mut buf).is_ok() {
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn the_async_model_runs_on_the_runtime_asked_for() {
    let expected = std::env::var(wirekit_tests::native::RUNTIME_VAR)
        .unwrap_or_else(|_| "async-std".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let r = start(Model::Async, dir.path());
    assert_eq!(r.runtime(), expected);
}

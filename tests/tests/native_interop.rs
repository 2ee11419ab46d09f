//! Our servers with third-party clients (socat, netcat, rdate), and our
//! clients against a third-party server (xinetd's internal services).

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use wirekit::client::{echo, time};
use wirekit::drive::Model;
use wirekit::services::{Proto, Service};
use wirekit_core::retry::BackoffConfig;
use wirekit_core::timestamp::Service as Clock;
use wirekit_tests::native::{MODELS, addr, start};
use wirekit_tests::peers::{Xinetd, require};

fn run_with_input(tool: &str, args: &[String], input: &[u8]) -> Output {
    let mut child = Command::new(require(tool))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the peer");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("feed the peer");
    // Bounded: every peer here is told to time out on its own (-t, -w, rdate's own).
    child.wait_with_output().expect("peer output")
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

fn hostport(a: SocketAddr) -> String {
    format!("{}:{}", a.ip(), a.port())
}

#[test]
fn socat_and_netcat_echo_through_our_servers() {
    for model in MODELS {
        let dir = tempfile::tempdir().unwrap();
        let r = start(model, dir.path());
        let tcp = addr(&r, Service::Echo, Proto::Tcp);
        let udp = addr(&r, Service::Echo, Proto::Udp);
        let o = run_with_input(
            "socat",
            &["-t2".into(), "-".into(), format!("TCP:{}", hostport(tcp))],
            b"abc\ndef\n",
        );
        assert_eq!(o.stdout, b"abc\ndef\n", "{model:?} socat tcp: {o:?}");
        let o = run_with_input(
            "socat",
            &["-t2".into(), "-".into(), format!("UDP:{}", hostport(udp))],
            b"datagram",
        );
        assert_eq!(o.stdout, b"datagram", "{model:?} socat udp: {o:?}");
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let o = run_with_input(
            "socat",
            &["-t5".into(), "-".into(), format!("TCP:{}", hostport(tcp))],
            &big,
        );
        assert!(
            o.stdout == big,
            "{model:?}: 200 kB through socat came back changed"
        );
        let o = run_with_input(
            "nc.openbsd",
            &[
                "-N".into(),
                "-w2".into(),
                tcp.ip().to_string(),
                tcp.port().to_string(),
            ],
            b"netcat\n",
        );
        assert_eq!(o.stdout, b"netcat\n", "{model:?} nc: {o:?}");
        // Daytime with netcat: one line, then the server closes.
        let day = addr(&r, Service::Daytime, Proto::Tcp);
        let o = run_with_input(
            "nc.openbsd",
            &["-w2".into(), day.ip().to_string(), day.port().to_string()],
            b"",
        );
        let line = String::from_utf8_lossy(&o.stdout);
        assert!(
            line.ends_with("-UTC\r\n") && line.contains(", 20"),
            "{model:?}: {line:?}"
        );
    }
}

#[test]
fn rdate_reads_our_time_over_tcp_and_udp() {
    for model in MODELS {
        rdate_against(model);
    }
}

fn rdate_against(model: Model) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let r = start(model, dir.path());
    for (proto, flag) in [(Proto::Tcp, None), (Proto::Udp, Some("-u"))] {
        let a = addr(&r, Service::Time, proto);
        let mut args = vec!["-p".to_string()];
        args.extend(flag.map(String::from));
        args.extend(["-o".into(), a.port().to_string(), a.ip().to_string()]);
        let o = run_with_input("rdate", &args, b"");
        assert!(o.status.success(), "{model:?} rdate {proto}: {o:?}");
        // rdate prints the date it received, in ctime form.
        let text = String::from_utf8_lossy(&o.stdout);
        let year = wirekit_core::calendar::DateTime::from_unix(now_secs()).year;
        assert!(
            text.contains(&year.to_string()),
            "{model:?} rdate {proto}: {text:?}"
        );
    }
}

#[test]
fn our_clients_against_xinetd() {
    let x = Xinetd::start();
    let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let t = Duration::from_secs(10);
    let replies = echo::tcp(at(x.echo), &["one".into(), "two".into()], t).unwrap();
    assert_eq!(replies[1].reply, "two");
    let replies = echo::udp(
        at(x.echo),
        &["dgram".into()],
        BackoffConfig::default(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(replies[0].reply, "dgram");
    for told in [
        time::tcp(at(x.time), Clock::Time, t).unwrap(),
        time::udp(at(x.time), Clock::Time, BackoffConfig::default()).unwrap(),
        time::tcp(at(x.daytime), Clock::Daytime, t).unwrap(),
        time::udp(at(x.daytime), Clock::Daytime, BackoffConfig::default()).unwrap(),
    ] {
        let unix = told.unix.expect("xinetd's answer is one we can read");
        assert!((unix - now_secs()).abs() <= 5, "{told:?}");
    }
}

//! An idle server stays idle and keeps serving (issue #30).
//!
//! Every service under every IO model (the async one on both runtimes) is
//! put through a battery of clients — well-behaved ones, ones that give up
//! mid-exchange and stay connected, empty and oversized datagrams, datagrams
//! from sockets closed before the reply — and then left alone: over the next
//! five seconds the whole process, every server at once, must use less than
//! 1 % of one core, and every service must still answer.
//!
//! The clients are written from the protocols' specifications with plain
//! `std::net`, not with Wirekit's own clients, so they share no code with
//! the servers. `WIREKIT_SOAK=N` (`cargo xtask soak`) runs the battery N
//! times over.
//!
//! This file holds one test on purpose: the measurement is of this whole
//! process, so nothing else may run beside it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;
use wirekit::drive::Model;
use wirekit::server::Running;
use wirekit::services::{Proto, Service};
use wirekit_tests::native::start_with;

const IO: Duration = Duration::from_secs(10);

/// What `/proc/self/stat` counts CPU time in: USER_HZ, 100 on Linux.
const TICK: Duration = Duration::from_millis(10);

/// User and system CPU time in a `stat` line of `/proc`, and the name in it.
fn stat_time(stat: &str) -> (String, Duration) {
    // The command name, in parentheses, may hold spaces: count from after it.
    let (head, after) = stat.rsplit_once(')').expect("a stat line");
    let name = head.split_once('(').map_or("", |(_, n)| n).to_owned();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3 of the line, utime 14 and stime 15.
    let ticks = |i: usize| -> u32 { fields[i - 3].parse().expect("a tick count") };
    (name, TICK * (ticks(14) + ticks(15)))
}

/// User and system CPU time of this whole process so far.
fn cpu_time() -> Duration {
    stat_time(&std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat")).1
}

/// The same for each of its threads, by thread id: who used it, if too much.
fn thread_times() -> std::collections::BTreeMap<String, (String, Duration)> {
    let mut times = std::collections::BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .flatten()
    {
        if let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) {
            let tid = task.file_name().to_string_lossy().into_owned();
            times.insert(tid, stat_time(&stat));
        }
    }
    times
}

struct Server {
    name: String,
    running: Running,
    _root: tempfile::TempDir,
}

impl Server {
    fn start(model: Model, runtime: &str) -> Server {
        let root = tempfile::tempdir().expect("a temp dir");
        std::fs::write(root.path().join("hello.txt"), b"hello\n").expect("a file to serve");
        let running = start_with(root.path(), |c| {
            c.model = model;
            c.runtime = wirekit::runtime::by_name(runtime).expect("a runtime this build has");
            c.tftp_write = true;
        });
        Server {
            name: format!("{model:?}/{runtime}"),
            running,
            _root: root,
        }
    }

    fn at(&self, service: Service, proto: Proto) -> SocketAddr {
        self.running
            .addr(service, proto)
            .unwrap_or_else(|| panic!("{}: {service:?} over {proto} is not running", self.name))
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, IO).expect("connect");
    s.set_read_timeout(Some(IO)).expect("read timeout");
    s
}

fn read_line(s: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while s.read(&mut byte).expect("read a line") == 1 {
        line.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

fn udp_client() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(IO)).expect("read timeout");
    s
}

/// One request, one reply; `None` if none came in time.
fn ask_udp(addr: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let s = udp_client();
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("read timeout");
    // Datagrams may be lost: ask a few times, as any UDP client must.
    for _ in 0..5 {
        s.send_to(request, addr).expect("send");
        let mut buf = vec![0; 65536];
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            buf.truncate(n);
            return Some(buf);
        }
    }
    None
}

/// RFC 1350: reads `name` whole, acknowledging each block.
fn tftp_get(addr: SocketAddr, name: &str) -> Vec<u8> {
    let s = udp_client();
    let mut rrq = vec![0, 1];
    rrq.extend_from_slice(name.as_bytes());
    rrq.extend_from_slice(b"\0octet\0");
    s.send_to(&rrq, addr).expect("send RRQ");
    let mut file = Vec::new();
    let mut buf = [0u8; 516];
    loop {
        let (n, from) = s.recv_from(&mut buf).expect("a TFTP DATA");
        assert_eq!(&buf[..2], &[0, 3], "a DATA packet, got {:?}", &buf[..n]);
        file.extend_from_slice(&buf[4..n]);
        s.send_to(&[0, 4, buf[2], buf[3]], from).expect("send ACK");
        if n < 516 {
            return file;
        }
    }
}

/// Every service answers, as a well-behaved client asks.
fn well_behaved(srv: &Server) {
    let name = &srv.name;
    let mut echo = connect(srv.at(Service::Echo, Proto::Tcp));
    echo.write_all(b"hello\n").expect("send");
    assert_eq!(read_line(&mut echo), "hello\n", "{name}: TCP echo");
    drop(echo);

    let mut daytime = connect(srv.at(Service::Daytime, Proto::Tcp));
    let mut text = String::new();
    daytime.read_to_string(&mut text).expect("daytime");
    assert!(text.ends_with('\n'), "{name}: daytime said {text:?}");

    let mut time = connect(srv.at(Service::Time, Proto::Tcp));
    let mut secs = Vec::new();
    time.read_to_end(&mut secs).expect("time");
    assert_eq!(secs.len(), 4, "{name}: RFC 868 time is 4 bytes");

    let mut stamp = connect(srv.at(Service::Stamp, Proto::Tcp));
    stamp.write_all(b"hi\n").expect("send");
    let line = read_line(&mut stamp);
    assert!(
        line.trim_end().ends_with("] : hi"),
        "{name}: stamped echo said {line:?}"
    );
    drop(stamp);

    // WKFT/1.0 as the spec's own nc session types it.
    let mut wkft = connect(srv.at(Service::Transfer, Proto::Tcp));
    wkft.write_all(b"HELLO 1\n").expect("send");
    let hello = read_line(&mut wkft);
    assert!(hello.starts_with("HELLO 1"), "{name}: WKFT said {hello:?}");
    wkft.write_all(b"STAT hello.txt\n").expect("send");
    let stat = read_line(&mut wkft);
    assert!(stat.starts_with("STAT "), "{name}: WKFT STAT said {stat:?}");
    drop(wkft);

    assert_eq!(
        ask_udp(srv.at(Service::Echo, Proto::Udp), b"ping").as_deref(),
        Some(&b"ping"[..]),
        "{name}: UDP echo"
    );
    let daytime = ask_udp(srv.at(Service::Daytime, Proto::Udp), b"");
    assert!(daytime.is_some(), "{name}: UDP daytime");
    let time = ask_udp(srv.at(Service::Time, Proto::Udp), b"");
    assert_eq!(time.map(|t| t.len()), Some(4), "{name}: UDP time");
    let stamp = ask_udp(srv.at(Service::Stamp, Proto::Udp), b"x");
    assert!(stamp.is_some(), "{name}: UDP stamped echo");

    assert_eq!(
        tftp_get(srv.at(Service::Tftp, Proto::Udp), "hello.txt"),
        b"hello\n",
        "{name}: TFTP"
    );
}

/// Clients that misbehave: what they leave behind must cost nothing.
/// Returns the connections they keep open through the measurement.
fn misbehaving(srv: &Server) -> Vec<TcpStream> {
    let mut kept = Vec::new();
    for service in [Service::Echo, Service::Stamp, Service::Transfer] {
        let addr = srv.at(service, Proto::Tcp);
        // Half a line, then gone.
        let mut s = connect(addr);
        s.write_all(b"half a li").expect("send");
        drop(s);
        // Connected, and never a word.
        drop(connect(addr));
    }
    // An upload abandoned mid-body, a listing abandoned before its reply
    // was read: both left connected while the server is measured.
    let mut put = connect(srv.at(Service::Transfer, Proto::Tcp));
    put.write_all(b"HELLO 1\nPUT abandoned.bin 100000\n")
        .expect("send");
    let _ = read_line(&mut put);
    let _ = read_line(&mut put);
    put.write_all(b"DATA 1000\n").expect("send");
    put.write_all(&[7; 500]).expect("send");
    kept.push(put);
    let mut half = connect(srv.at(Service::Echo, Proto::Tcp));
    half.write_all(b"no newline yet").expect("send");
    kept.push(half);

    for service in [
        Service::Echo,
        Service::Daytime,
        Service::Time,
        Service::Stamp,
    ] {
        let addr = srv.at(service, Proto::Udp);
        let s = udp_client();
        s.send_to(b"", addr).expect("an empty datagram");
        s.send_to(&vec![b'x'; 65_507], addr)
            .expect("the largest datagram");
        drop(s);
        // From a socket closed before the replies come back: the server's
        // sends meet a closed port.
        let gone = udp_client();
        for _ in 0..200 {
            let _ = gone.send_to(b"burst", addr);
        }
        drop(gone);
    }

    let tftp = srv.at(Service::Tftp, Proto::Udp);
    // A read whose client vanished at once: the transfer retries, then gives up.
    let gone = udp_client();
    gone.send_to(b"\0\x01hello.txt\0octet\0", tftp)
        .expect("RRQ");
    drop(gone);
    // A write that sends its first block and stops.
    let stalled = udp_client();
    stalled
        .send_to(b"\0\x02stalled.bin\0octet\0", tftp)
        .expect("WRQ");
    let mut buf = [0u8; 516];
    if let Ok((_, from)) = stalled.recv_from(&mut buf) {
        let mut data = vec![0, 3, 0, 1];
        data.extend_from_slice(&[1; 512]);
        let _ = stalled.send_to(&data, from);
    }
    drop(stalled);
    // Nonsense, and an unknown opcode.
    let s = udp_client();
    s.send_to(b"\xff\xffjunk", tftp).expect("junk");
    s.send_to(b"", tftp).expect("an empty datagram");
    kept
}

#[test]
fn every_service_under_every_model_stays_idle_after_a_battery_of_clients() {
    let rounds: usize = std::env::var("WIREKIT_SOAK")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let mut servers = Vec::new();
    for runtime in wirekit::runtime::available() {
        servers.push(Server::start(Model::Async, runtime));
    }
    for model in [Model::Threads, Model::Poll, Model::Iterative] {
        servers.push(Server::start(model, wirekit::runtime::DEFAULT));
    }

    let mut kept = Vec::new();
    for _ in 0..rounds {
        for srv in &servers {
            well_behaved(srv);
        }
    }
    for srv in &servers {
        kept.extend(misbehaving(srv));
    }
    // Let the floods drain and the refused transfers settle.
    std::thread::sleep(Duration::from_millis(500));

    let window = Duration::from_secs(5);
    let threads_before = thread_times();
    let before = cpu_time();
    std::thread::sleep(window);
    let used = cpu_time() - before;
    // 1 % of one core, for all the servers at once.
    let budget = window / 100;
    if used >= budget {
        let mut busy: Vec<(Duration, String)> = thread_times()
            .into_iter()
            .map(|(tid, (name, t))| {
                let was = threads_before.get(&tid).map_or(Duration::ZERO, |b| b.1);
                (t.saturating_sub(was), format!("{name} ({tid})"))
            })
            .filter(|(t, _)| !t.is_zero())
            .collect();
        busy.sort_by(|a, b| b.cmp(a));
        panic!(
            "{} servers idle for {window:?} used {used:?} of CPU (budget {budget:?}); \
             busiest threads: {busy:?}",
            servers.len()
        );
    }
    eprintln!(
        "idle: {} servers used {used:?} of CPU in {window:?} ({:.2} % of a core)",
        servers.len(),
        used.as_secs_f64() * 100.0 / window.as_secs_f64()
    );

    drop(kept);
    // And every service still answers. The iterative model serves one
    // client at a time per listener: the connections just dropped are
    // read to their end first.
    for srv in &servers {
        well_behaved(srv);
    }
    for srv in servers {
        srv.running.stop();
    }
}

//! Slow local work and the end of a connection, through the real drivers
//! in every IO model: a slow answer (a hash, on the work pool) holds up no
//! other connection, and a fatal error reaches a client still sending.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wirekit::drive::{self, Bound, Limits, Model, Serve, Served};
use wirekit::endpoint::{Endpoint, Hosted};
use wirekit::services::{Proto, Service};
use wirekit::work::{Answers, Offload, Pool};
use wirekit_core::Now;
use wirekit_core::store::mem::MemStore;
use wirekit_core::transfer::server::{Command, Event, Server};
use wirekit_core::transfer::store::Files;
use wirekit_tests::native::{MODELS, addr, runtime, start_with};

const T: Duration = Duration::from_secs(20);

fn connect(to: SocketAddr) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(to).expect("connect");
    s.set_read_timeout(Some(T)).expect("timeout");
    let r = BufReader::new(s.try_clone().expect("clone"));
    (s, r)
}

fn line(r: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut l = String::new();
    r.read_line(&mut l)?;
    Ok(l.trim_end().to_string())
}

// ANCHOR: fatal_mid_upload
/// A client mid-upload sends a frame longer than the upload and 16 MiB
/// more after it. The server's `ERR 400` is fatal, but the server lingers
/// rather than closing on unread input: the client's writes all go through
/// (a close would answer them with a reset: "broken pipe"), it reads the
/// error, and then a clean end of stream.
fn fatal_error_reaches_a_client_still_sending(model: Model) {
    let dir = tempfile::tempdir().expect("dir");
    let r = start_with(dir.path(), |c| {
        c.model = model;
        c.services = vec![Service::Transfer];
    });
    let (mut s, mut rd) = connect(addr(&r, Service::Transfer, Proto::Tcp));
    s.write_all(b"HELLO 1\nPUT f 10\n").expect("write");
    assert_eq!(line(&mut rd).expect("hello"), "HELLO 1", "{model:?}");
    assert_eq!(line(&mut rd).expect("ready"), "READY 0", "{model:?}");
    let frame = [b"DATA 65536\n".as_slice(), &[b'x'; 65536]].concat();
    for n in 0..256 {
        if let Err(e) = s.write_all(&frame) {
            panic!("{model:?}: frame {n} not sent: {e}");
        }
    }
    s.shutdown(Shutdown::Write).expect("shutdown");
    let reply = line(&mut rd).unwrap_or_else(|e| panic!("{model:?}: no reply: {e}"));
    assert!(reply.starts_with("ERR 400"), "{model:?}: {reply:?}");
    let mut rest = Vec::new();
    let end = rd.read_to_end(&mut rest);
    assert!(
        matches!(end, Ok(0)),
        "{model:?}: after the error {end:?}, {} bytes",
        rest.len()
    );
}
// ANCHOR_END: fatal_mid_upload

/// A client that never stops sending after the error is not read forever:
/// the linger ends (by [`drive::LINGER`]), and its writes start failing.
fn lingering_is_bounded(model: Model) {
    let dir = tempfile::tempdir().expect("dir");
    let r = start_with(dir.path(), |c| {
        c.model = model;
        c.services = vec![Service::Transfer];
    });
    let (mut s, mut rd) = connect(addr(&r, Service::Transfer, Proto::Tcp));
    s.write_all(b"HELLO 1\nPUT f 10\nDATA 11\n0123456789X\n")
        .expect("write");
    assert_eq!(line(&mut rd).expect("hello"), "HELLO 1", "{model:?}");
    assert_eq!(line(&mut rd).expect("ready"), "READY 0", "{model:?}");
    assert!(
        line(&mut rd).expect("err").starts_with("ERR 400"),
        "{model:?}"
    );
    let started = Instant::now();
    let chunk = [b'x'; 65536];
    let cut = loop {
        if let Err(e) = s.write_all(&chunk) {
            break e;
        }
        assert!(
            started.elapsed() < drive::LINGER * 5,
            "{model:?}: still read after {:?}",
            started.elapsed()
        );
    };
    assert!(
        matches!(
            cut.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        ),
        "{model:?}: {cut}"
    );
}

#[test]
fn lingering_is_bounded_in_every_model() {
    let runs: Vec<_> = MODELS
        .into_iter()
        .map(|m| std::thread::spawn(move || lingering_is_bounded(m)))
        .collect();
    for run in runs {
        run.join().expect("no model failed");
    }
}

#[test]
fn fatal_error_reaches_a_client_still_sending_async() {
    fatal_error_reaches_a_client_still_sending(Model::Async);
}

#[test]
fn fatal_error_reaches_a_client_still_sending_threads() {
    fatal_error_reaches_a_client_still_sending(Model::Threads);
}

#[test]
fn fatal_error_reaches_a_client_still_sending_poll() {
    fatal_error_reaches_a_client_still_sending(Model::Poll);
}

#[test]
fn fatal_error_reaches_a_client_still_sending_iterative() {
    fatal_error_reaches_a_client_still_sending(Model::Iterative);
}

/// How long the synthetic slow answer takes.
const SLOW: Duration = Duration::from_secs(2);

/// A WKFT session over memory whose `STAT slow` takes [`SLOW`] to answer,
/// on the pool: a stand-in for hashing a large file.
#[derive(Debug)]
struct SlowStat(Files<MemStore>);

impl Answers<Server> for SlowStat {
    fn answer(&mut self, event: Event, cmds: &mut Vec<Command>) {
        if self.is_slow(&event) {
            std::thread::sleep(SLOW);
        }
        cmds.extend(self.0.answer(event));
    }

    fn is_slow(&self, event: &Event) -> bool {
        matches!(event, Event::Stat { path } if path == "slow")
    }

    fn close(&mut self) {
        self.0.close();
    }
}

#[derive(Debug)]
struct SlowService {
    store: MemStore,
    pool: Pool,
}

impl Serve for SlowService {
    fn name(&self) -> &'static str {
        "slow"
    }

    fn stream(&self, _now: Now) -> Box<dyn Endpoint> {
        let files = SlowStat(Files::new(self.store.clone()));
        let handler = Offload::new(files, Some(self.pool.clone()));
        Box::new(Hosted::new(Server::new(), handler))
    }

    fn datagram(&self) -> Option<Served> {
        None
    }
}

/// Three listeners of the slow service under `model`, on `runtime`.
fn serve_slow(model: Model, runtime: &str) -> (drive::Serving, Vec<SocketAddr>) {
    let mut store = MemStore::new();
    store.insert("slow", bytes::Bytes::from_static(b"late"));
    store.insert("fast", bytes::Bytes::from_static(b"at once"));
    let service: Arc<dyn Serve> = Arc::new(SlowService {
        store,
        pool: Pool::new(2).expect("pool"),
    });
    let mut bound = Bound::default();
    let mut addrs = Vec::new();
    for _ in 0..3 {
        let l = drive::listen(SocketAddr::from(([127, 0, 0, 1], 0))).expect("listen");
        addrs.push(l.local_addr().expect("addr"));
        bound.tcp.push((Arc::clone(&service), l));
    }
    let limits = Limits {
        idle: Duration::from_secs(30),
        max_conns: 64,
    };
    let rt = wirekit::runtime::by_name(runtime).expect("a runtime of this build");
    let serving = drive::serve(model, bound, limits, rt).expect("serve");
    (serving, addrs)
}

// ANCHOR: slow_answer
/// Two sessions each ask a question that takes 2 s to answer (on a pool of
/// two workers); a third session's `HELLO` and `STAT` are answered before
/// either slow answer comes. Under `iterative` a listener serves one client
/// at a time, so each session has a listener of its own there; everywhere
/// else they share one.
fn slow_answers_hold_up_no_other_session(model: Model, runtime: &str) {
    let (_serving, addrs) = serve_slow(model, runtime);
    let own = |i: usize| addrs[if model == Model::Iterative { i } else { 0 }];
    let asked = Instant::now();
    let mut slow = Vec::new();
    for i in 0..2 {
        let (mut s, mut rd) = connect(own(i));
        s.write_all(b"HELLO 1\nSTAT slow\n").expect("write");
        assert_eq!(line(&mut rd).expect("hello"), "HELLO 1", "{model:?}");
        slow.push((s, rd));
    }
    let (mut s, mut rd) = connect(own(2));
    s.write_all(b"HELLO 1\nSTAT fast\n").expect("write");
    assert_eq!(line(&mut rd).expect("hello"), "HELLO 1", "{model:?}");
    assert_eq!(line(&mut rd).expect("stat"), "STAT file 7", "{model:?}");
    let fast = asked.elapsed();
    for (mut s, mut rd) in slow {
        assert_eq!(line(&mut rd).expect("stat"), "STAT file 4", "{model:?}");
        // Later requests were held behind the slow one, and answered after it.
        s.write_all(b"STAT fast\nQUIT\n").expect("write");
        assert_eq!(line(&mut rd).expect("stat"), "STAT file 7", "{model:?}");
        assert_eq!(line(&mut rd).expect("bye"), "BYE", "{model:?}");
    }
    let slowest = asked.elapsed();
    assert!(
        slowest >= SLOW,
        "{model:?}: the slow answers took {slowest:?}"
    );
    assert!(
        fast < SLOW / 2,
        "{model:?} on {runtime}: the quick session waited {fast:?} behind the slow ones"
    );
}
// ANCHOR_END: slow_answer

#[test]
fn slow_answers_hold_up_no_other_session_async() {
    slow_answers_hold_up_no_other_session(Model::Async, runtime());
}

#[test]
fn slow_answers_hold_up_no_other_session_threads() {
    slow_answers_hold_up_no_other_session(Model::Threads, wirekit::runtime::DEFAULT);
}

#[test]
fn slow_answers_hold_up_no_other_session_poll() {
    slow_answers_hold_up_no_other_session(Model::Poll, wirekit::runtime::DEFAULT);
}

#[test]
fn slow_answers_hold_up_no_other_session_iterative() {
    slow_answers_hold_up_no_other_session(Model::Iterative, wirekit::runtime::DEFAULT);
}

// ANCHOR: resume_probe
/// Issue #16's probe: two `GET`s of a large sparse file resumed at its end
/// make the store hash the whole file for each before it answers (its
/// digest is not cached yet); a third session's `HELLO` and `STAT` must not
/// wait for them. (Hashed in place on the driver, the probe waited 3.7 s.) (1 GiB, not the
/// issue's 32: a debug build hashes some 250 MB/s here, which is seconds.)
fn resumed_gets_hold_up_no_other_session(model: Model, runtime: &'static str) {
    let dir = tempfile::tempdir().expect("dir");
    let size: u64 = 1 << 30;
    std::fs::File::create(dir.path().join("sparse"))
        .and_then(|f| f.set_len(size))
        .expect("a sparse file");
    let r = start_with(dir.path(), |c| {
        c.model = model;
        c.services = vec![Service::Transfer];
        c.runtime = wirekit::runtime::by_name(runtime).expect("a runtime of this build");
        c.max_hashes = 2;
    });
    let at = addr(&r, Service::Transfer, Proto::Tcp);
    let asked = Instant::now();
    let mut gets = Vec::new();
    for _ in 0..2 {
        let (mut s, mut rd) = connect(at);
        s.write_all(format!("HELLO 1\nGET sparse {size}\n").as_bytes())
            .expect("write");
        assert_eq!(line(&mut rd).expect("hello"), "HELLO 1", "{model:?}");
        gets.push((s, rd));
    }
    let (mut s, mut rd) = connect(at);
    s.write_all(b"HELLO 1\nSTAT sparse\n").expect("write");
    assert_eq!(line(&mut rd).expect("hello"), "HELLO 1", "{model:?}");
    let stat = line(&mut rd).expect("stat");
    let probe = asked.elapsed();
    assert_eq!(stat, format!("STAT file {size}"), "{model:?}");
    let mut digests = Vec::new();
    for (_s, mut rd) in gets {
        let file = line(&mut rd).expect("file");
        assert_eq!(file, format!("FILE {size} {size}"), "{model:?}");
        let done = line(&mut rd).expect("done");
        assert!(done.starts_with("DONE "), "{model:?}: {done}");
        digests.push(done);
    }
    let hashed = asked.elapsed();
    assert_eq!(digests[0], digests[1], "{model:?}: one file, one digest");
    assert!(
        probe < Duration::from_millis(1500) && probe < hashed / 2,
        "{model:?} on {runtime}: HELLO and STAT took {probe:?} beside two hashes of {hashed:?}"
    );
}
// ANCHOR_END: resume_probe

/// Iterative is left out: it serves one client at a time per listener by
/// design, so the probe waits there whatever the store does.
#[test]
fn resumed_gets_of_a_large_file_hold_up_no_other_session() {
    resumed_gets_hold_up_no_other_session(Model::Async, runtime());
    resumed_gets_hold_up_no_other_session(Model::Poll, wirekit::runtime::DEFAULT);
    resumed_gets_hold_up_no_other_session(Model::Threads, wirekit::runtime::DEFAULT);
}

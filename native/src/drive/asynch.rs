//! The `async` model: a task per connection and per UDP socket on the async
//! runtime picked at run time ([`crate::runtime::Runtime`]). The loop is the blocking one's, with
//! `await` where that one blocks — which is the whole lesson: the protocol
//! code (the machines) does not change at all.

use super::blocking::{Ending, Until, run_child};
use super::{BUF_SIZE, Bound, LINGER, PeerTable, Request, STOP_CHECK, Serve, Served, Shared};
use super::{fire_due, request, until_due};
use crate::endpoint::{Dispatch, Endpoint};
use crate::runtime::{self, TcpListener, TcpStream, UdpSocket};
use futures_lite::io::AsyncWriteExt;
use std::cell::RefCell;
use std::io::{self, Read};
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;
use wirekit_core::{Input, PeerId};

/// Starts the runtime on a thread of its own and every socket's task on it.
pub fn spawn(bound: Bound, shared: Arc<Shared>) -> io::Result<()> {
    let mut listeners = Vec::new();
    for (service, l) in bound.tcp {
        listeners.push((service, runtime::listener(l)?));
    }
    let mut sockets = Vec::new();
    for (service, s) in bound.udp {
        sockets.push((service, runtime::udp(s)?));
    }
    let rt = Arc::clone(&shared.runtime);
    std::thread::Builder::new()
        .name("async".into())
        .spawn(move || {
            rt.block_on(Box::pin(async move {
                for (service, l) in listeners {
                    shared
                        .runtime
                        .spawn(Box::pin(accept_loop(l, service, Arc::clone(&shared))));
                }
                for (service, s) in sockets {
                    let name = service.name();
                    match service.datagram() {
                        Some(Served::Socket(ep)) => shared.runtime.spawn(Box::pin(datagram_loop(
                            s,
                            ep,
                            name,
                            Arc::clone(&shared),
                            PeerTable::default(),
                            Until::Stopped,
                        ))),
                        Some(Served::PerRequest(dispatch)) => shared.runtime.spawn(Box::pin(
                            per_request_loop(s, dispatch, name, Arc::clone(&shared)),
                        )),
                        None => {}
                    }
                }
                shared.until_stopped().await;
            }));
        })?;
    Ok(())
}

/// A socket that always has input never makes its task wait: its reads
/// are ready at once, and the task would keep the executor's thread for
/// ever (smol runs its tasks on one thread by default, so a flooded UDP
/// socket held every other service). Every [`Fair::EVERY`] inputs the task
/// steps aside once.
#[derive(Default)]
struct Fair(u32);

impl Fair {
    const EVERY: u32 = 64;

    async fn served(&mut self) {
        self.0 = self.0.wrapping_add(1);
        if self.0.is_multiple_of(Self::EVERY) {
            futures_lite::future::yield_now().await;
        }
    }
}

/// Runs `f` until it is done, `wait` has passed (`TimedOut`) or the server
/// stops (`Interrupted`). The async model's every wait goes through here:
/// a task is woken by its socket, its own deadline or the stop, never to
/// look at a flag, so an idle server wakes for nothing (issue #30).
async fn bounded<T>(
    shared: &Shared,
    wait: Duration,
    f: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    futures_lite::future::or(runtime::timeout(wait, f), async {
        shared.until_stopped().await;
        Err(io::ErrorKind::Interrupted.into())
    })
    .await
}

async fn accept_loop(listener: TcpListener, service: Arc<dyn Serve>, shared: Arc<Shared>) {
    while !shared.stopping() {
        let accepted = bounded(&shared, Duration::MAX, listener.accept()).await;
        if shared.stopping() {
            // The connection that woke us is shutdown's own, not a client.
            break;
        }
        match accepted {
            Ok((stream, peer)) => {
                tracing::debug!(service = service.name(), %peer, "accepted");
                let Some(admission) = shared.admit() else {
                    refuse(stream, service.as_ref(), &shared).await;
                    continue;
                };
                let shared2 = Arc::clone(&shared);
                let ep = service.stream(shared.clock.now());
                let name = service.name();
                shared.runtime.spawn(Box::pin(async move {
                    serve_conn(stream, ep, name, &shared2).await;
                    drop(admission);
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!(service = service.name(), "accept: {e}");
                runtime::sleep(STOP_CHECK).await;
            }
        }
    }
}

async fn refuse(mut stream: TcpStream, service: &dyn Serve, shared: &Shared) {
    tracing::warn!(
        service = service.name(),
        "connection refused: {} open",
        shared.limits.max_conns
    );
    let _ = runtime::timeout(Duration::from_secs(1), stream.write_all(service.refusal())).await;
    let _ = stream.get_ref().shutdown(Shutdown::Both);
}

async fn serve_conn(
    mut stream: TcpStream,
    mut ep: Box<dyn Endpoint>,
    service: &'static str,
    shared: &Shared,
) {
    let ended = conn_loop(&mut stream, ep.as_mut(), service, shared).await;
    match &ended {
        Ok(ending) => tracing::debug!(service, ?ending, "connection ended"),
        Err(e) => tracing::debug!(service, "connection broke: {e}"),
    }
    ep.close(shared.clock.now());
    if matches!(ended, Ok(Ending::Done)) {
        linger(&stream, shared).await;
    }
    let _ = stream.get_ref().shutdown(Shutdown::Both);
}

/// The blocking model's [`super::blocking::linger`], awaited: our side
/// closed, the peer's input read and dropped until it closes or
/// [`LINGER`] passes.
async fn linger(stream: &TcpStream, shared: &Shared) {
    if stream.get_ref().shutdown(Shutdown::Write).is_err() {
        return;
    }
    let end = std::time::Instant::now() + LINGER;
    loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || shared.stopping() {
            return;
        }
        match bounded(shared, left, read_into(stream, |_| {})).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// Awaits the endpoint's local work (a hash on the pool) without holding
/// an executor thread, up to `wait`.
async fn local_work(ep: &mut dyn Endpoint, shared: &Shared, wait: Duration) {
    let clock = &shared.clock;
    let done = futures_lite::future::poll_fn(|cx| ep.poll_local(clock.now(), cx).map(Ok));
    let _ = bounded(shared, wait, done).await;
}

// ANCHOR: conn_loop
async fn conn_loop(
    stream: &mut TcpStream,
    ep: &mut dyn Endpoint,
    service: &'static str,
    shared: &Shared,
) -> io::Result<Ending> {
    let (clock, idle) = (&shared.clock, shared.limits.idle);
    let mut eof = false;
    let mut last = std::time::Instant::now();
    let mut fair = Fair::default();
    loop {
        while let Some(t) = ep.poll_transmit(clock.now()) {
            runtime::timeout(idle, stream.write_all(&t.payload)).await?;
            last = std::time::Instant::now();
        }
        if ep.is_done() {
            stream.flush().await?;
            return Ok(Ending::Done);
        }
        if shared.stopping() {
            return Ok(Ending::Stopped);
        }
        if ep.waiting() {
            // Not reading meanwhile holds the client back (TCP), and the
            // wait is not the client's idleness.
            let far = std::time::Instant::now() + idle;
            let wait = until_due(clock, ep.poll_timeout(), Some(far));
            local_work(ep, shared, wait).await;
            last = std::time::Instant::now();
        } else {
            let idle_deadline = last + idle;
            if std::time::Instant::now() >= idle_deadline {
                return Ok(Ending::Idle);
            }
            let wait = until_due(clock, ep.poll_timeout(), Some(idle_deadline));
            if read_or_sleep(stream, ep, shared, wait, &mut eof, &mut last).await? {
                fair.served().await;
                continue;
            }
        }
        fire_due(ep, clock, service);
    }
}

/// Waits up to `wait` for input and feeds it; `true` when something came.
async fn read_or_sleep(
    stream: &mut TcpStream,
    ep: &mut dyn Endpoint,
    shared: &Shared,
    wait: Duration,
    eof: &mut bool,
    last: &mut std::time::Instant,
) -> io::Result<bool> {
    let clock = &shared.clock;
    if *eof {
        let _ = bounded(
            shared,
            wait,
            futures_lite::future::pending::<io::Result<()>>(),
        )
        .await;
        return Ok(false);
    }
    let feed = |bytes: &[u8]| {
        let from = PeerId::FIRST;
        ep.input(clock.now(), Input::Data { from, bytes });
    };
    match bounded(shared, wait, read_into(stream, feed)).await {
        Ok(0) => {
            *eof = true;
            let from = PeerId::FIRST;
            ep.input(clock.now(), Input::Eof { from });
            Ok(true)
        }
        Ok(_) => {
            *last = std::time::Instant::now();
            Ok(true)
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

// ANCHOR_END: conn_loop

thread_local! {
    /// The read buffer of every connection whose task runs on this thread.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; BUF_SIZE]);
}

/// Reads what the socket has into this thread's scratch buffer and hands
/// it to `feed` before anything else can run; returns the count (0 at end
/// of stream). An idle connection thus holds no read buffer of its own: with
/// a 64 KiB one each, 10,000 idle connections cost the async server 102 MB
/// (the allocator touches a page at each end of every buffer), 21 MB
/// without (`cargo xtask bench --parts idle`; the poll model, which always
/// shared one buffer, 9.5 MB).
async fn read_into(stream: &TcpStream, mut feed: impl FnMut(&[u8])) -> io::Result<usize> {
    loop {
        let read = SCRATCH.with_borrow_mut(|buf| {
            let n = stream.get_ref().read(buf)?;
            if n > 0 {
                feed(buf.get(..n).unwrap_or_default());
            }
            Ok::<_, io::Error>(n)
        });
        match read {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => stream.readable().await?,
            other => return other,
        }
    }
}

/// Serves one UDP socket until the server stops (or, with [`Until::Done`],
/// its endpoint is done); `peers` holds the peers known up front.
async fn datagram_loop(
    socket: UdpSocket,
    mut ep: Box<dyn Endpoint>,
    service: &'static str,
    shared: Arc<Shared>,
    mut peers: PeerTable,
    until: Until,
) {
    let clock = &shared.clock;
    let mut buf = vec![0; BUF_SIZE];
    let mut fair = Fair::default();
    loop {
        while let Some(t) = ep.poll_transmit(clock.now()) {
            let Some(addr) = peers.addr(t.to) else {
                continue;
            };
            if let Err(e) = socket.send_to(&t.payload, addr).await {
                tracing::debug!(service, %addr, "udp send: {e}");
            }
        }
        if shared.stopping() || until.ends(ep.as_ref()) {
            break;
        }
        let wait = until_due(clock, ep.poll_timeout(), None);
        match bounded(&shared, wait, socket.recv_from(&mut buf)).await {
            Ok((n, addr)) => {
                let from = peers.id(addr);
                let bytes = buf.get(..n).unwrap_or_default();
                ep.input(clock.now(), Input::Data { from, bytes });
                fair.served().await;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => tracing::debug!(service, "udp receive: {e}"),
        }
        // After every datagram too: a busy peer must not hold back a due
        // retransmission.
        fire_due(ep.as_mut(), clock, service);
    }
    if until != Until::Stopped {
        ep.close(clock.now());
    }
}

/// A per-request listener, as a task: every accepted request is served from
/// a fresh socket until its endpoint is done.
async fn per_request_loop(
    socket: UdpSocket,
    mut dispatch: Box<dyn Dispatch>,
    service: &'static str,
    shared: Arc<Shared>,
) {
    let mut buf = vec![0; BUF_SIZE];
    let mut fair = Fair::default();
    let running = Arc::new(AtomicUsize::new(0));
    let ip = match socket.get_ref().local_addr() {
        Ok(a) => a.ip(),
        Err(e) => {
            tracing::error!(service, "udp socket: {e}");
            return;
        }
    };
    while !shared.stopping() {
        let (n, from) = match bounded(&shared, Duration::MAX, socket.recv_from(&mut buf)).await {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::debug!(service, "udp receive: {e}");
                continue;
            }
        };
        fair.served().await;
        let datagram = buf.get(..n).unwrap_or_default();
        match request(dispatch.as_mut(), &shared, &running, ip, datagram, from) {
            Request::Child(child) => {
                // Each transfer runs the blocking datagram loop on a thread
                // of its own. A per-request exchange is lock-step small
                // datagrams, and a wake-up through the runtime per datagram
                // made a 10 MiB TFTP download at 512-byte blocks take 1.48 s
                // against 0.22 s on a thread (`cargo xtask bench --parts
                // tftp --tftp-mib 10`, a loaded two-core machine).
                let shared = Arc::clone(&shared);
                let spawned = std::thread::Builder::new()
                    .name(format!("{service}-req"))
                    .spawn(move || run_child(child, &shared, Until::Done));
                if let Err(e) = spawned {
                    tracing::error!(service, "cannot start a thread: {e}");
                }
            }
            Request::Reply(reply) => {
                if let Err(e) = socket.send_to(&reply, from).await {
                    tracing::debug!(service, %from, "udp send: {e}");
                }
            }
            Request::Nothing => {}
        }
    }
}

//! The `poll` model: one thread, non-blocking sockets, and a readiness loop
//! on the `polling` crate (epoll on Linux) — the classic tutorials' `select` server,
//! grown up. No threads per client and no runtime: the loop itself keeps
//! every connection's state, which is exactly what a machine is.

use super::{
    Admission, BUF_SIZE, Bound, Child, LINGER, PeerTable, Request, STOP_CHECK, Serve, Served,
    Shared, Slot, fire_due, next_wake, request,
};
use crate::endpoint::{Dispatch, Endpoint};
use bytes::{Buf, Bytes};
use polling::{Event, Events, Poller};
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Wake, Waker};
use std::time::Duration;
use wirekit_core::{Input, PeerId};

/// Output taken from a machine but not yet accepted by the socket; the loop
/// takes no more from the machine past this, which is the back-pressure.
const MAX_QUEUED_OUT: usize = 256 * 1024;

struct Conn {
    stream: TcpStream,
    service: &'static str,
    ep: Box<dyn Endpoint>,
    out: VecDeque<Bytes>,
    queued: usize,
    eof: bool,
    last: std::time::Instant,
    /// Wakes the loop for this connection when its local work is done.
    waker: Waker,
    /// Done, our side closed: reading and dropping the peer's input until
    /// it closes or this deadline passes.
    linger: Option<std::time::Instant>,
    _admission: Admission,
}

// ANCHOR: wake
/// Local work done (a hash on the pool, on a worker thread): the
/// connection's key is noted and the poller woken, so the loop takes the
/// answer at once rather than at its next timeout.
struct Wakeup {
    key: usize,
    woken: Arc<Mutex<Vec<usize>>>,
    poller: Arc<Poller>,
}

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.key);
        if let Err(e) = self.poller.notify() {
            tracing::warn!("poller: {e}");
        }
    }
}
// ANCHOR_END: wake

struct Datagram {
    socket: UdpSocket,
    service: &'static str,
    ep: Box<dyn Endpoint>,
    peers: PeerTable,
    /// A per-request child's place in the limits; `None` for a socket that
    /// serves as long as the server runs.
    slot: Option<Slot>,
}

/// A per-request listener; its children are [`Datagram`]s of their own.
struct PerRequest {
    socket: UdpSocket,
    service: &'static str,
    dispatch: Box<dyn Dispatch>,
    running: Arc<AtomicUsize>,
    ip: IpAddr,
}

/// Starts the loop on a thread of its own.
pub fn spawn(bound: Bound, shared: Arc<Shared>) -> io::Result<()> {
    let poller = Poller::new()?;
    let mut listeners = Vec::new();
    for (service, l) in bound.tcp {
        l.set_nonblocking(true)?;
        listeners.push((service, l));
    }
    let mut datagrams = Vec::new();
    let mut per_request = Vec::new();
    for (service, socket) in bound.udp {
        socket.set_nonblocking(true)?;
        match service.datagram() {
            Some(Served::Socket(ep)) => datagrams.push(Datagram {
                socket,
                service: service.name(),
                ep,
                peers: PeerTable::default(),
                slot: None,
            }),
            Some(Served::PerRequest(dispatch)) => per_request.push(PerRequest {
                ip: socket.local_addr()?.ip(),
                socket,
                service: service.name(),
                dispatch,
                running: Arc::new(AtomicUsize::new(0)),
            }),
            None => {}
        }
    }
    for (key, (_, l)) in listeners.iter().enumerate() {
        add(&poller, l, Event::readable(key))?;
    }
    for (i, d) in datagrams.iter().enumerate() {
        add(&poller, &d.socket, Event::readable(listeners.len() + i))?;
    }
    for (i, p) in per_request.iter().enumerate() {
        let key = listeners.len() + datagrams.len() + i;
        add(&poller, &p.socket, Event::readable(key))?;
    }
    std::thread::Builder::new()
        .name("poll".into())
        .spawn(move || {
            let next_key = listeners.len() + datagrams.len() + per_request.len();
            let mut looper = Loop {
                poller: Arc::new(poller),
                woken: Arc::default(),
                listeners,
                datagrams,
                per_request,
                children: BTreeMap::new(),
                conns: BTreeMap::new(),
                next_key,
                shared,
            };
            if let Err(e) = looper.run() {
                tracing::error!("poll loop failed: {e}");
            }
        })?;
    Ok(())
}

// ANCHOR: add
/// Registers a socket with the poller.
#[allow(unsafe_code)]
fn add(poller: &Poller, source: &impl std::os::fd::AsRawFd, interest: Event) -> io::Result<()> {
    // SAFETY: `polling` requires a registered socket to be deleted from the
    // poller before it is closed. Every socket added here is owned by the
    // loop, which deletes connections in `Loop::close` and per-request
    // children in `Loop::reap` before dropping them; listeners and the other
    // UDP sockets live as long as the poller itself.
    unsafe { poller.add(source.as_raw_fd(), interest) }
}
// ANCHOR_END: add

struct Loop {
    poller: Arc<Poller>,
    /// Connections whose local work is done, noted by their wakers.
    woken: Arc<Mutex<Vec<usize>>>,
    listeners: Vec<(Arc<dyn Serve>, TcpListener)>,
    datagrams: Vec<Datagram>,
    per_request: Vec<PerRequest>,
    /// Per-request children, keyed like connections.
    children: BTreeMap<usize, Datagram>,
    conns: BTreeMap<usize, Conn>,
    next_key: usize,
    shared: Arc<Shared>,
}

impl Loop {
    // ANCHOR: run
    fn run(&mut self) -> io::Result<()> {
        let mut events = Events::new();
        let mut buf = vec![0; BUF_SIZE];
        while !self.shared.stopping() {
            let wait = self.next_wait();
            events.clear();
            self.poller.wait(&mut events, Some(wait))?;
            let ready: Vec<(usize, bool, bool)> = events
                .iter()
                .map(|e| (e.key, e.readable, e.writable))
                .collect();
            for (key, readable, writable) in ready {
                let (nl, nd) = (self.listeners.len(), self.datagrams.len());
                let np = self.per_request.len();
                if key < nl {
                    self.accept(key)?;
                } else if key < nl + nd {
                    if let Some(d) = self.datagrams.get_mut(key - nl) {
                        receive(d, &self.shared, &mut buf);
                        self.poller.modify(&d.socket, Event::readable(key))?;
                    }
                } else if key < nl + nd + np {
                    self.requests(key - nl - nd, key, &mut buf)?;
                } else if let Some(d) = self.children.get_mut(&key) {
                    receive(d, &self.shared, &mut buf);
                    self.poller.modify(&d.socket, Event::readable(key))?;
                } else {
                    self.conn(key, readable, writable, &mut buf);
                }
            }
            let woken =
                std::mem::take(&mut *self.woken.lock().unwrap_or_else(PoisonError::into_inner));
            for key in woken {
                self.conn(key, false, true, &mut buf);
            }
            self.timeouts(&mut buf);
            self.reap();
        }
        Ok(())
    }
    // ANCHOR_END: run

    fn next_wait(&self) -> Duration {
        let clock = &self.shared.clock;
        let conns = self.conns.values().map(|c| match c.linger {
            // A finished endpoint's timeouts are no longer fed.
            Some(end) => next_wake(clock, None, Some(end)),
            None if c.ep.waiting() => next_wake(clock, c.ep.poll_timeout(), None),
            None => next_wake(
                clock,
                c.ep.poll_timeout(),
                Some(c.last + self.shared.limits.idle),
            ),
        });
        let dgrams = self
            .datagrams
            .iter()
            .chain(self.children.values())
            .map(|d| next_wake(clock, d.ep.poll_timeout(), None));
        conns.chain(dgrams).fold(STOP_CHECK, Duration::min)
    }

    fn accept(&mut self, key: usize) -> io::Result<()> {
        let Some((service, listener)) = self.listeners.get(key) else {
            return Ok(());
        };
        if self.shared.stopping() {
            // Shutdown's own wake-up connections: no client to log or serve.
            return Ok(());
        }
        let service = Arc::clone(service);
        let mut accepted = Vec::new();
        loop {
            match listener.accept() {
                Ok((stream, peer)) => {
                    tracing::debug!(service = service.name(), %peer, "accepted");
                    accepted.push(stream);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::warn!(service = service.name(), "accept: {e}");
                    break;
                }
            }
        }
        self.poller.modify(listener, Event::readable(key))?;
        for stream in accepted {
            let Some(admission) = self.shared.admit() else {
                super::threads::refuse(stream, service.as_ref(), &self.shared);
                continue;
            };
            stream.set_nonblocking(true)?;
            let ck = self.next_key;
            self.next_key += 1;
            add(&self.poller, &stream, Event::readable(ck))?;
            let ep = service.stream(self.shared.clock.now());
            let waker = Waker::from(Arc::new(Wakeup {
                key: ck,
                woken: Arc::clone(&self.woken),
                poller: Arc::clone(&self.poller),
            }));
            self.conns.insert(
                ck,
                Conn {
                    stream,
                    service: service.name(),
                    ep,
                    out: VecDeque::new(),
                    queued: 0,
                    eof: false,
                    last: std::time::Instant::now(),
                    waker,
                    linger: None,
                    _admission: admission,
                },
            );
            // A server that speaks first has output already.
            self.conn(ck, false, true, &mut []);
        }
        Ok(())
    }

    /// First requests on a per-request listener: each accepted one becomes
    /// a child with a socket of its own, registered with the poller.
    fn requests(&mut self, index: usize, key: usize, buf: &mut [u8]) -> io::Result<()> {
        let Some(p) = self.per_request.get_mut(index) else {
            return Ok(());
        };
        let mut accepted = Vec::new();
        loop {
            match p.socket.recv_from(buf) {
                Ok((n, from)) => {
                    let datagram = buf.get(..n).unwrap_or_default();
                    let asked = request(
                        p.dispatch.as_mut(),
                        &self.shared,
                        &p.running,
                        p.ip,
                        datagram,
                        from,
                    );
                    match asked {
                        Request::Child(child) => accepted.push((p.service, child)),
                        Request::Reply(reply) => {
                            if let Err(e) = p.socket.send_to(&reply, from) {
                                tracing::debug!(service = p.service, %from, "udp send: {e}");
                            }
                        }
                        Request::Nothing => {}
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => tracing::debug!(service = p.service, "udp receive: {e}"),
            }
        }
        self.poller.modify(&p.socket, Event::readable(key))?;
        for (service, child) in accepted {
            let Child {
                socket,
                ep,
                peers,
                slot,
            } = child;
            socket.set_nonblocking(true)?;
            let ck = self.next_key;
            self.next_key += 1;
            add(&self.poller, &socket, Event::readable(ck))?;
            let mut d = Datagram {
                socket,
                service,
                ep,
                peers,
                slot: Some(slot),
            };
            // The first answer (an OACK, the first block) goes out now.
            flush(&mut d, &self.shared.clock);
            self.children.insert(ck, d);
        }
        Ok(())
    }

    /// Children whose endpoint is done leave the poller, then close.
    fn reap(&mut self) {
        let done: Vec<usize> = self
            .children
            .iter()
            .filter(|(_, d)| d.ep.is_done())
            .map(|(k, _)| *k)
            .collect();
        for key in done {
            if let Some(mut d) = self.children.remove(&key) {
                // Deleted before the socket drops: the contract of `add`.
                let _ = self.poller.delete(&d.socket);
                d.ep.close(self.shared.clock.now());
                drop(d.slot.take());
            }
        }
    }

    /// Moves one connection along: read what is there, send what can go.
    fn conn(&mut self, key: usize, readable: bool, _writable: bool, buf: &mut [u8]) {
        let clock = self.shared.clock;
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        if c.linger.is_some() {
            if readable && drop_input(c, buf) {
                self.close(key);
            } else {
                self.rearm(key);
            }
            return;
        }
        let mut broken = None;
        // While local work is pending nothing is read: TCP holds the client
        // back, and the machine's buffer does not fill.
        if readable && !c.eof && !c.ep.waiting() {
            loop {
                match c.stream.read(buf) {
                    Ok(0) => {
                        c.eof = true;
                        c.ep.input(
                            clock.now(),
                            Input::Eof {
                                from: PeerId::FIRST,
                            },
                        );
                        break;
                    }
                    Ok(n) => {
                        c.last = std::time::Instant::now();
                        let bytes = buf.get(..n).unwrap_or_default();
                        c.ep.input(
                            clock.now(),
                            Input::Data {
                                from: PeerId::FIRST,
                                bytes,
                            },
                        );
                        if c.queued >= MAX_QUEUED_OUT || c.ep.waiting() {
                            break; // let the writes, or the local work, catch up first
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        broken = Some(e);
                        break;
                    }
                }
            }
        }
        if broken.is_none()
            && let Err(e) = write_and_wait(c, &clock)
        {
            broken = Some(e);
        }
        let finished = c.ep.is_done() && c.out.is_empty();
        if let Some(e) = broken {
            tracing::debug!(service = c.service, "connection broke: {e}");
            self.close(key);
        } else if finished {
            self.finish(key);
        } else {
            self.rearm(key);
        }
    }

    /// Asks the poller for what the connection waits on next.
    fn rearm(&mut self, key: usize) {
        let Some(c) = self.conns.get(&key) else {
            return;
        };
        let read = !c.eof && !c.ep.waiting();
        let interest = match (read, c.out.is_empty()) {
            (true, true) => Event::readable(key),
            (true, false) => Event::all(key),
            (false, false) => Event::writable(key),
            (false, true) => Event::none(key),
        };
        if let Err(e) = self.poller.modify(&c.stream, interest) {
            tracing::warn!("poller: {e}");
            self.close(key);
        }
    }

    /// The endpoint is done and its output sent: our side closes, and the
    /// connection lingers (see [`super::blocking::linger`]) unless the peer
    /// has closed already.
    fn finish(&mut self, key: usize) {
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        c.ep.close(self.shared.clock.now());
        if c.eof || c.stream.shutdown(Shutdown::Write).is_err() {
            let _ = self.poller.delete(&c.stream);
            self.conns.remove(&key);
            return;
        }
        c.linger = Some(std::time::Instant::now() + LINGER);
        self.rearm(key);
    }

    fn timeouts(&mut self, buf: &mut [u8]) {
        let clock = self.shared.clock;
        let now = std::time::Instant::now();
        let mut due = Vec::new();
        let mut idle = Vec::new();
        let mut lingered = Vec::new();
        for (&key, c) in &mut self.conns {
            if let Some(end) = c.linger {
                if now >= end {
                    lingered.push(key);
                }
                continue;
            }
            if fire_due(c.ep.as_mut(), &clock, "") {
                due.push(key);
            } else if now >= c.last + self.shared.limits.idle && !c.ep.waiting() {
                idle.push(key);
            }
        }
        for key in due {
            self.conn(key, false, true, buf);
        }
        for key in idle {
            tracing::debug!("idle connection closed");
            self.close(key);
        }
        for key in lingered {
            self.close(key);
        }
        for d in self.datagrams.iter_mut().chain(self.children.values_mut()) {
            if fire_due(d.ep.as_mut(), &clock, "") {
                flush(d, &clock);
            }
        }
    }

    fn close(&mut self, key: usize) {
        if let Some(mut c) = self.conns.remove(&key) {
            // Deleted before the socket drops: the contract of `add`.
            let _ = self.poller.delete(&c.stream);
            if c.linger.is_none() {
                c.ep.close(self.shared.clock.now());
            }
            let _ = c.stream.shutdown(Shutdown::Both);
        }
    }
}

/// Writes what can go, and when the endpoint waits on local work, takes
/// the answer if it is ready (then writes on) or leaves the connection's
/// waker to bring the loop back when it is.
fn write_and_wait(c: &mut Conn, clock: &crate::clock::Clock) -> io::Result<()> {
    loop {
        write_out(c, clock)?;
        if !c.ep.waiting() {
            return Ok(());
        }
        if c.ep
            .poll_local(clock.now(), &mut Context::from_waker(&c.waker))
            .is_pending()
        {
            return Ok(());
        }
        // The wait was not the client's idleness.
        c.last = std::time::Instant::now();
    }
}

/// Reads and drops a lingering connection's input; `true` once it should
/// close (the peer closed, or the socket broke).
fn drop_input(c: &mut Conn, buf: &mut [u8]) -> bool {
    loop {
        match c.stream.read(buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return true,
        }
    }
}

/// Takes output from the machine while there is room, and writes what the
/// socket accepts without blocking.
fn write_out(c: &mut Conn, clock: &crate::clock::Clock) -> io::Result<()> {
    loop {
        while c.queued < MAX_QUEUED_OUT {
            let Some(t) = c.ep.poll_transmit(clock.now()) else {
                break;
            };
            c.queued += t.payload.len();
            c.out.push_back(t.payload);
        }
        let Some(front) = c.out.front_mut() else {
            return Ok(());
        };
        match c.stream.write(front) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                c.last = std::time::Instant::now();
                c.queued -= n;
                front.advance(n);
                if front.is_empty() {
                    c.out.pop_front();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Feeds every datagram waiting on `d`'s socket to its endpoint.
fn receive(d: &mut Datagram, shared: &Shared, buf: &mut [u8]) {
    let clock = shared.clock;
    loop {
        match d.socket.recv_from(buf) {
            Ok((n, addr)) => {
                let from = d.peers.id(addr);
                let bytes = buf.get(..n).unwrap_or_default();
                d.ep.input(clock.now(), Input::Data { from, bytes });
                flush(d, &clock);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => tracing::debug!(service = d.service, "udp receive: {e}"),
        }
    }
}

fn flush(d: &mut Datagram, clock: &crate::clock::Clock) {
    while let Some(t) = d.ep.poll_transmit(clock.now()) {
        if let Some(addr) = d.peers.addr(t.to)
            && let Err(e) = d.socket.send_to(&t.payload, addr)
        {
            // A full send buffer drops the datagram: UDP promises nothing more.
            tracing::debug!(service = d.service, %addr, "udp send: {e}");
        }
    }
}

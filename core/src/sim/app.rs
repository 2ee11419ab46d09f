//! Core machines on smoltcp sockets: the one adapter every application uses.
//!
//! A [`Machine`] knows nothing of sockets, so something must move bytes
//! between the two. [`StreamApp`] does it for a TCP socket and
//! [`DatagramApp`] for a UDP socket. Both respect back-pressure: a stream
//! machine is polled for output only while the socket's send buffer has
//! room, and bytes that did not fit wait as a leftover (a machine's
//! `poll_transmit` hands out a piece only once). A server reads input only
//! while its output flows, so a client that does not read its replies is
//! slowed down by TCP's own window instead of filling the server's memory;
//! a client always reads (see the comment in `StreamApp::step`).
//!
//! What a machine *means* (answer a store event, send the next request,
//! check the bytes) is left to a [`Responder`], one per workload.

use crate::host::{Handler, Hosted};
use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::time::{Instant, Now};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt::Debug;
use smoltcp::iface::{Context, SocketHandle, SocketSet};
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::IpEndpoint;

/// Where an application stands.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// Still working (servers are always working).
    Running,
    /// Finished what it was asked to do.
    Completed,
    /// Gave up or went wrong; why.
    Failed(String),
}

/// One application's state at a moment: what an inspector (the browser
/// lab) shows beside a packet.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppState {
    /// Where the application stands.
    pub status: Status,
    /// Its socket: a TCP state as RFC 793 names it (`ESTABLISHED`), `UDP
    /// bound`, or `None` before it opened one.
    pub socket: Option<String>,
    /// Its machine's [`Machine::phase`].
    pub phase: String,
    /// Application bytes delivered so far.
    pub delivered: u64,
    /// Retries so far.
    pub retries: u64,
}

/// The application logic around one machine: a [`Handler`] that answers
/// its events (with commands and trace notes) and judges whether it reached
/// its goal.
pub trait Responder<M: Machine>: Handler<M> {
    /// Where the application stands.
    fn status(&self) -> Status;
    /// Application bytes delivered so far (for goodput).
    fn delivered(&self) -> u64 {
        0
    }
    /// Retries the application made itself (datagram clients).
    fn retries(&self) -> u64 {
        0
    }
}

/// Where a hosted application stands: its socket's failure first, then a
/// misuse of its machine, then what its responder judges.
fn judged<M, R>(socket_failed: Option<&str>, hosted: &Hosted<M, R>) -> Status
where
    M: Machine,
    M::Error: Debug,
    R: Responder<M>,
{
    match (socket_failed, hosted.failure()) {
        (Some(f), _) => Status::Failed(String::from(f)),
        (None, Some(misuse)) => Status::Failed(format!("misuse: {misuse}")),
        (None, None) => hosted.handler().status(),
    }
}

/// An application on a host, as the simulator drives it.
pub trait App: Debug {
    /// Opens its socket: listen, bind or connect.
    fn start(&mut self, now: Now, cx: &mut Context, sockets: &mut SocketSet<'static>);
    /// Moves bytes and events; returns true if anything moved. `notes`
    /// collects trace notes.
    fn step(&mut self, now: Now, sockets: &mut SocketSet<'static>, notes: &mut Vec<String>)
    -> bool;
    /// When the machine next wants a timeout.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Where it stands.
    fn status(&self) -> Status;
    /// Application bytes delivered.
    fn delivered(&self) -> u64;
    /// Retries made by the application itself.
    fn retries(&self) -> u64;
    /// Its state now, socket included.
    fn state(&self, sockets: &SocketSet<'static>) -> AppState;
}

/// TCP socket buffer size, each way. 64 KiB is the largest window TCP
/// offers without window scaling.
pub const TCP_BUFFER: usize = 64 * 1024;
/// UDP socket buffer: payload bytes, each way.
pub const UDP_BUFFER: usize = 64 * 1024;
/// UDP socket buffer: datagrams, each way.
pub const UDP_SLOTS: usize = 64;
/// Rounds of moving bytes in one step at most (the loop ends sooner when
/// nothing moves; this only bounds a machine that never settles).
const MAX_ROUNDS: usize = 1024;

/// How a stream application opens its connection.
#[derive(Clone, Copy, Debug)]
pub enum Open {
    /// Wait for a client on this port.
    Listen(u16),
    /// Connect from `local_port` to `remote`.
    Connect {
        /// The server.
        remote: IpEndpoint,
        /// Our port.
        local_port: u16,
    },
}

/// Makes a server's machine when a connection is accepted (servers that
/// speak first, like RFC 868 time, need the moment of the connection).
pub struct Accept<M>(Box<dyn Fn(Now) -> M>);

impl<M> core::fmt::Debug for Accept<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Accept(..)")
    }
}

/// A stream machine on a TCP socket.
#[derive(Debug)]
pub struct StreamApp<M: Machine, R> {
    hosted: Hosted<M, R>,
    open: Open,
    accept: Option<Accept<M>>,
    handle: Option<SocketHandle>,
    leftover: Option<Bytes>,
    established: bool,
    eof_fed: bool,
    closing: bool,
    /// The socket failed (refused, could not listen).
    failed: Option<String>,
}

impl<M, R> StreamApp<M, R>
where
    M: Machine,
    M::Error: Debug,
    R: Responder<M>,
{
    /// `machine` driven by `responder`, on a TCP socket opened as `open`.
    pub fn new(machine: M, responder: R, open: Open) -> Self {
        StreamApp {
            hosted: Hosted::new(machine, responder).keeping_notes(),
            open,
            accept: None,
            handle: None,
            leftover: None,
            established: false,
            eof_fed: false,
            closing: false,
            failed: None,
        }
    }

    /// A server on `port` whose machine is made by `make` at the moment a
    /// client connects.
    pub fn accepting(make: impl Fn(Now) -> M + 'static, responder: R, port: u16) -> Self {
        let machine = make(Now::default());
        let mut app = Self::new(machine, responder, Open::Listen(port));
        app.accept = Some(Accept(Box::new(make)));
        app
    }

    /// The machine.
    pub fn machine(&self) -> &M {
        self.hosted.machine()
    }

    /// The responder.
    pub fn responder(&self) -> &R {
        self.hosted.handler()
    }
}

impl<M, R> App for StreamApp<M, R>
where
    M: Machine + Debug,
    M::Error: Debug,
    M::Command: Debug,
    R: Responder<M> + Debug,
{
    fn start(&mut self, now: Now, cx: &mut Context, sockets: &mut SocketSet<'static>) {
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(alloc::vec![0; TCP_BUFFER]),
            tcp::SocketBuffer::new(alloc::vec![0; TCP_BUFFER]),
        );
        socket.set_congestion_control(tcp::CongestionControl::Reno);
        let opened = match self.open {
            Open::Listen(port) => socket.listen(port).map_err(|e| format!("listen: {e:?}")),
            Open::Connect { remote, local_port } => socket
                .connect(cx, remote, local_port)
                .map_err(|e| format!("connect: {e:?}")),
        };
        if let Err(e) = opened {
            self.failed = Some(e);
        }
        self.handle = Some(sockets.add(socket));
        self.hosted.start(now);
    }

    fn step(
        &mut self,
        now: Now,
        sockets: &mut SocketSet<'static>,
        notes: &mut Vec<String>,
    ) -> bool {
        let Some(handle) = self.handle else {
            return false;
        };
        let socket = sockets.get_mut::<tcp::Socket>(handle);
        let moved = self.step_socket(now, socket);
        self.hosted.take_notes(notes);
        moved
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.hosted.poll_timeout()
    }

    fn status(&self) -> Status {
        judged(self.failed.as_deref(), &self.hosted)
    }

    fn delivered(&self) -> u64 {
        self.hosted.handler().delivered()
    }

    fn retries(&self) -> u64 {
        self.hosted.handler().retries()
    }

    fn state(&self, sockets: &SocketSet<'static>) -> AppState {
        let socket = self
            .handle
            .map(|h| format!("{}", sockets.get::<tcp::Socket>(h).state()));
        AppState {
            status: self.status(),
            socket,
            phase: self.hosted.machine().phase().into(),
            delivered: self.delivered(),
            retries: self.retries(),
        }
    }
}

impl<M, R> StreamApp<M, R>
where
    M: Machine,
    M::Error: Debug,
    R: Responder<M>,
{
    /// Moves bytes between the machine and its socket until neither moves.
    fn step_socket(&mut self, now: Now, socket: &mut tcp::Socket<'static>) -> bool {
        let mut moved = false;
        if self.hosted.poll_timeout().is_some_and(|t| t <= now.mono) {
            self.hosted.input(now, Input::Timeout);
            moved = true;
        }
        for _ in 0..MAX_ROUNDS {
            let mut any = self.hosted.pump(now);
            if !self.established {
                if !socket.may_send() {
                    // Not connected yet (or never): nothing to move but commands.
                    if matches!(self.open, Open::Connect { .. })
                        && socket.state() == tcp::State::Closed
                    {
                        self.failed
                            .get_or_insert_with(|| String::from("connection refused"));
                    }
                    moved |= any;
                    break;
                }
                self.established = true;
                if let Some(Accept(make)) = &self.accept {
                    *self.hosted.machine_mut() = make(now);
                }
                any = true;
            }
            // ANCHOR: back_pressure
            // Output, while the send buffer has room.
            loop {
                if let Some(mut bytes) = self.leftover.take() {
                    let n = socket.send_slice(&bytes).unwrap_or(0);
                    any |= n > 0;
                    if n < bytes.len() {
                        let _ = bytes.split_to(n);
                        self.leftover = Some(bytes);
                        break;
                    }
                }
                if !socket.can_send() {
                    break;
                }
                match self.hosted.poll_transmit(now) {
                    Some(Transmit { payload, .. }) => {
                        any = true;
                        self.leftover = Some(payload);
                    }
                    None => break,
                }
            }
            // Input. A server's output is caused by its input, so it reads
            // only while its output flows: when it is stuck, the unread
            // input fills the window and TCP slows the client down. A
            // client always reads: its peer's replies are what unblocks its
            // own sending, and two sides that both wait to write before
            // reading wait forever.
            let output_flows = self.leftover.is_none() && socket.can_send();
            let reads = match self.open {
                Open::Listen(_) => output_flows,
                Open::Connect { .. } => true,
            };
            if reads && socket.can_recv() {
                let hosted = &mut self.hosted;
                let got = socket.recv(|buf| {
                    let from = PeerId::FIRST;
                    hosted.input(now, Input::Data { from, bytes: buf });
                    (buf.len(), buf.len())
                });
                any |= got.is_ok_and(|n| n > 0);
            }
            // ANCHOR_END: back_pressure
            // The peer's FIN (or a reset) after the connection was up.
            if self.established && !self.eof_fed && !socket.may_recv() && !socket.can_recv() {
                self.eof_fed = true;
                any = true;
                let from = PeerId::FIRST;
                self.hosted.input(now, Input::Eof { from });
            }
            if self.hosted.machine().is_done() && self.leftover.is_none() && !self.closing {
                // Drain what the machine still has, then FIN.
                if socket.can_send() || !socket.may_send() {
                    match self.hosted.poll_transmit(now) {
                        Some(t) => {
                            self.leftover = Some(t.payload);
                            any = true;
                            continue;
                        }
                        None => {
                            socket.close();
                            self.closing = true;
                            any = true;
                        }
                    }
                }
            }
            if !any {
                break;
            }
            moved = true;
        }
        moved
    }
}

/// A datagram machine on a UDP socket. Endpoints become [`PeerId`]s: the
/// ones given up front keep their ids (a client's server is
/// [`PeerId::FIRST`]), new senders get the next free id.
#[derive(Debug)]
pub struct DatagramApp<M: Machine, R> {
    hosted: Hosted<M, R>,
    port: u16,
    handle: Option<SocketHandle>,
    ids: BTreeMap<IpEndpoint, PeerId>,
    endpoints: BTreeMap<PeerId, IpEndpoint>,
    next_id: u32,
    leftover: Option<Transmit>,
    /// The socket failed (could not bind).
    failed: Option<String>,
}

/// A UDP socket with the simulator's buffers ([`UDP_SLOTS`] datagrams,
/// [`UDP_BUFFER`] bytes, each way).
pub fn udp_socket() -> udp::Socket<'static> {
    let buf = || {
        udp::PacketBuffer::new(
            alloc::vec![udp::PacketMetadata::EMPTY; UDP_SLOTS],
            alloc::vec![0; UDP_BUFFER],
        )
    };
    udp::Socket::new(buf(), buf())
}

/// Peers a datagram application remembers at most; a flood of new senders
/// past it shares one id (the oldest mapping is kept).
pub const MAX_PEERS: usize = 4096;

impl<M, R> DatagramApp<M, R>
where
    M: Machine,
    M::Error: Debug,
    R: Responder<M>,
{
    /// `machine` driven by `responder` on UDP `port`, with `known` peers.
    pub fn new(machine: M, responder: R, port: u16, known: &[(PeerId, IpEndpoint)]) -> Self {
        let ids = known.iter().map(|(p, e)| (*e, *p)).collect();
        let endpoints = known.iter().copied().collect();
        let next_id = known.iter().map(|(p, _)| p.0 + 1).max().unwrap_or(1);
        DatagramApp {
            hosted: Hosted::new(machine, responder).keeping_notes(),
            port,
            handle: None,
            ids,
            endpoints,
            next_id,
            leftover: None,
            failed: None,
        }
    }

    fn peer(&mut self, ep: IpEndpoint) -> PeerId {
        if let Some(p) = self.ids.get(&ep) {
            return *p;
        }
        if self.ids.len() >= MAX_PEERS {
            return PeerId(u32::MAX);
        }
        let p = PeerId(self.next_id);
        self.next_id += 1;
        self.ids.insert(ep, p);
        self.endpoints.insert(p, ep);
        p
    }

    /// The responder.
    pub fn responder(&self) -> &R {
        self.hosted.handler()
    }

    /// Binds its socket (UDP needs no interface context, so a listener can
    /// open one for each request it accepts).
    pub fn open(&mut self, now: Now, sockets: &mut SocketSet<'static>) {
        let mut socket = udp_socket();
        if let Err(e) = socket.bind(self.port) {
            self.failed = Some(format!("bind: {e:?}"));
        }
        self.handle = Some(sockets.add(socket));
        self.hosted.start(now);
    }

    /// The UDP port it binds.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The machine is done and everything it sent has left.
    pub fn finished(&self) -> bool {
        self.hosted.machine().is_done() && self.leftover.is_none()
    }

    /// What ended it, if something did: its socket, or a local misuse.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref().or(self.hosted.failure())
    }

    /// Closes its socket and frees it.
    pub fn close(&mut self, sockets: &mut SocketSet<'static>) {
        if let Some(handle) = self.handle.take() {
            sockets.remove(handle);
        }
    }
}

impl<M, R> App for DatagramApp<M, R>
where
    M: Machine + Debug,
    M::Error: Debug,
    M::Command: Debug,
    R: Responder<M> + Debug,
{
    fn start(&mut self, now: Now, _cx: &mut Context, sockets: &mut SocketSet<'static>) {
        self.open(now, sockets);
    }

    fn step(
        &mut self,
        now: Now,
        sockets: &mut SocketSet<'static>,
        notes: &mut Vec<String>,
    ) -> bool {
        let Some(handle) = self.handle else {
            return false;
        };
        let mut moved = false;
        if self.hosted.poll_timeout().is_some_and(|t| t <= now.mono) {
            self.hosted.input(now, Input::Timeout);
            moved = true;
        }
        for _ in 0..MAX_ROUNDS {
            let mut any = self.hosted.pump(now);
            // Input: every datagram waiting.
            loop {
                let socket = sockets.get_mut::<udp::Socket>(handle);
                let Ok((data, meta)) = socket.recv() else {
                    break;
                };
                let from = self.peer(meta.endpoint);
                any = true;
                self.hosted.input(now, Input::Data { from, bytes: data });
            }
            // Output, while the socket takes it.
            let socket = sockets.get_mut::<udp::Socket>(handle);
            loop {
                let Some(t) = self
                    .leftover
                    .take()
                    .or_else(|| self.hosted.poll_transmit(now))
                else {
                    break;
                };
                let Some(ep) = self.endpoints.get(&t.to).copied() else {
                    // A machine answering a peer it never heard from: nowhere to send.
                    any = true;
                    continue;
                };
                match socket.send_slice(&t.payload, ep) {
                    Ok(()) => any = true,
                    Err(_) => {
                        self.leftover = Some(t);
                        break;
                    }
                }
            }
            if !any {
                break;
            }
            moved = true;
        }
        self.hosted.take_notes(notes);
        moved
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.hosted.poll_timeout()
    }

    fn status(&self) -> Status {
        judged(self.failed.as_deref(), &self.hosted)
    }

    fn delivered(&self) -> u64 {
        self.hosted.handler().delivered()
    }

    fn retries(&self) -> u64 {
        self.hosted.handler().retries()
    }

    fn state(&self, _sockets: &SocketSet<'static>) -> AppState {
        AppState {
            status: self.status(),
            socket: self.handle.map(|_| String::from("UDP bound")),
            phase: self.hosted.machine().phase().into(),
            delivered: self.delivered(),
            retries: self.retries(),
        }
    }
}

/// Copies of one application, run side by side as one: how a stream server
/// accepts several connections (smoltcp gives each listening socket one
/// connection) and how one scenario entry runs many clients.
#[derive(Debug)]
pub struct Pool(pub Vec<Box<dyn App>>);

impl App for Pool {
    fn start(&mut self, now: Now, cx: &mut Context, sockets: &mut SocketSet<'static>) {
        for a in &mut self.0 {
            a.start(now, cx, sockets);
        }
    }

    fn step(
        &mut self,
        now: Now,
        sockets: &mut SocketSet<'static>,
        notes: &mut Vec<String>,
    ) -> bool {
        let mut moved = false;
        for a in &mut self.0 {
            moved |= a.step(now, sockets, notes);
        }
        moved
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.0.iter().filter_map(|a| a.poll_timeout()).min()
    }

    /// Failed if any copy failed, completed when all did.
    fn status(&self) -> Status {
        let mut all = Status::Completed;
        for a in &self.0 {
            match a.status() {
                Status::Failed(why) => return Status::Failed(why),
                Status::Running => all = Status::Running,
                Status::Completed => {}
            }
        }
        all
    }

    fn delivered(&self) -> u64 {
        self.0.iter().map(|a| a.delivered()).sum()
    }

    fn retries(&self) -> u64 {
        self.0.iter().map(|a| a.retries()).sum()
    }

    /// The copies' sockets and phases, counted: `3 ESTABLISHED, 1 LISTEN`.
    fn state(&self, sockets: &SocketSet<'static>) -> AppState {
        let mut state = tally(self.0.iter().map(|a| a.state(sockets)));
        state.status = self.status();
        state.delivered = self.delivered();
        state.retries = self.retries();
        state
    }
}

/// Several applications' states as one: sockets and phases counted
/// (`3 ESTABLISHED, 1 LISTEN`); status, delivered and retries are left for
/// the caller, who knows how its parts add up.
pub(super) fn tally(states: impl Iterator<Item = AppState>) -> AppState {
    let mut sockets_seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut phases: BTreeMap<String, usize> = BTreeMap::new();
    for s in states {
        if let Some(sock) = s.socket {
            *sockets_seen.entry(sock).or_default() += 1;
        }
        *phases.entry(s.phase).or_default() += 1;
    }
    let count = |m: BTreeMap<String, usize>| {
        m.into_iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    AppState {
        status: Status::Running,
        socket: (!sockets_seen.is_empty()).then(|| count(sockets_seen)),
        phase: count(phases),
        delivered: 0,
        retries: 0,
    }
}

//! The simulator proper: hosts, links and the event loop.
//!
//! One loop pops the earliest event (a packet arriving, a host's timer, an
//! application starting, a link changing), lets the host concerned run its
//! smoltcp interface and applications at that virtual instant, and hands the
//! packets they sent to the links, which schedule their arrival. Nothing else
//! advances time, so a run is a pure function of its scenario and seed.

use super::AppReport;
use super::app::{App, Pool, Status};
use super::custom::{Apps, NoApps};
use super::device::SimDevice;
use super::link::{DropReason, LinkDir, Verdict};
use super::netem::Netem;
use super::packet::{PacketInfo, Transport};
use super::pcap::Pcap;
use super::queue::EventQueue;
use super::scenario::{Direction, MAX_HOSTS, MAX_INSTANCES, Scenario, ScenarioError, Workload};
use super::trace::{LinkRef, Trace, TraceKind};
use super::workload;
use crate::time::{Instant, Now, UnixTime};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpEndpoint};

/// Rounds of "poll the interface, step the applications" per host event at
/// most; the loop ends as soon as nothing moves.
const MAX_HOST_ROUNDS: usize = 64;

/// First local port of client applications (app `i` uses this plus `i`).
const CLIENT_PORT_BASE: u16 = 49_152;

/// The local port of copy `copy` of application `app` (clients; servers
/// listen on the port their workload names).
pub fn client_port(app: usize, copy: u16) -> u16 {
    CLIENT_PORT_BASE
        .wrapping_add((app as u16).wrapping_mul(MAX_INSTANCES))
        .wrapping_add(copy)
}

/// The address of host `i`.
pub fn host_addr(i: usize) -> [u8; 4] {
    [10, 0, 0, (i + 1) as u8]
}

/// Mixes a seed with indices (SplitMix64), so every RNG gets its own stream.
pub(crate) fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Host {
    iface: Interface,
    device: SimDevice,
    sockets: SocketSet<'static>,
    apps: Vec<(u16, Box<dyn App>)>,
    wake_at: Option<u64>,
}

/// A packet a link holds (`hold`) until its profile changes.
struct Held {
    from: u16,
    on: LinkRef,
    packet: u64,
    bytes: Vec<u8>,
    info: Option<PacketInfo>,
}

enum Ev {
    Deliver {
        host: u16,
        on: LinkRef,
        packet: u64,
        bytes: Vec<u8>,
    },
    Wake {
        host: u16,
    },
    Start {
        host: u16,
        app: u16,
    },
    Change {
        on: LinkRef,
        profile: Box<Netem>,
    },
}

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Packets hosts sent.
    pub packets_sent: u64,
    /// Packets that reached a host (duplicates included).
    pub packets_delivered: u64,
    /// Packets dropped, by reason.
    pub drops: BTreeMap<DropReason, u64>,
    /// Duplicates made by links.
    pub duplicated: u64,
    /// Packets with a flipped bit.
    pub corrupted: u64,
    /// Packets that skipped the delay.
    pub reordered: u64,
    /// TCP segments carrying data already sent (seen on the wire).
    pub tcp_retransmissions: u64,
    /// Events the loop ran (arrivals, timers, starts, changes).
    pub events: u64,
    /// Timer wake-ups that were superseded by an earlier one.
    pub stale_wakes: u64,
}

/// A scenario being simulated.
pub struct Sim {
    now: u64,
    limit: u64,
    wall0: UnixTime,
    queue: EventQueue<Ev>,
    hosts: Vec<Host>,
    links: Vec<[LinkDir; 2]>,
    routes: BTreeMap<(u16, u16), LinkRef>,
    /// Each link's hosts (a, b).
    ends: Vec<(u16, u16)>,
    /// Application index → (host, is client, kind: a custom one's name).
    apps: Vec<(u16, bool, String)>,
    trace: Trace,
    pcap: Option<Pcap>,
    stats: Stats,
    next_packet: u64,
    flows: BTreeMap<(u32, u32, u16, u16), u32>,
    notes: Vec<String>,
    tx: Vec<Vec<u8>>,
    held: Vec<Held>,
    host_names: Vec<String>,
    finished_at: Option<u64>,
    linger: u64,
    /// With `keep_packets`: the first bytes of packet `n` at index `n`
    /// (empty once the budget is spent).
    kept: Option<Vec<Vec<u8>>>,
    kept_bytes: usize,
}

impl core::fmt::Debug for Sim {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sim")
            .field("now", &self.now)
            .field("hosts", &self.hosts.len())
            .field("links", &self.links.len())
            .field("queue", &self.queue)
            .finish()
    }
}

/// What a run asks for beyond the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Options {
    /// Keep every trace record (they are always hashed).
    pub keep_trace: bool,
    /// Write a pcap of every packet offered to a link.
    pub pcap: bool,
    /// Keep the first [`SNAP_LEN`] bytes of every packet, by packet number,
    /// for an inspector ([`Sim::packet`]); at most [`MAX_KEPT_BYTES`] in all.
    pub keep_packets: bool,
}

/// Bytes of each packet kept for the inspector: every header, and enough
/// payload for a WKFT/1 header line with its 64-digit digest or a TFTP
/// request with its options.
pub const SNAP_LEN: usize = 512;

/// Packet bytes kept in all at most; later packets are not kept.
pub const MAX_KEPT_BYTES: usize = 32 * 1024 * 1024;

impl Sim {
    /// Builds the network of `scenario`, every RNG derived from `seed`. A
    /// [`Workload::Custom`] in it is an error: see [`Sim::with_apps`].
    pub fn new(scenario: &Scenario, seed: u64, options: Options) -> Result<Sim, ScenarioError> {
        Sim::with_apps(scenario, seed, options, &NoApps)
    }

    // ANCHOR: with_apps
    /// Builds the network of `scenario` as [`Sim::new`] does, its
    /// [`Workload::Custom`] applications built by `custom`: how a protocol
    /// of the caller's own runs on simulated hosts.
    pub fn with_apps(
        scenario: &Scenario,
        seed: u64,
        options: Options,
        custom: &dyn Apps,
    ) -> Result<Sim, ScenarioError> {
        // ANCHOR_END: with_apps
        let n = scenario.hosts.len();
        if n == 0 || n > MAX_HOSTS {
            return Err(ScenarioError::HostCount(n));
        }
        let index = |name: &str| -> Result<u16, ScenarioError> {
            scenario
                .hosts
                .iter()
                .position(|h| h == name)
                .map(|i| i as u16)
                .ok_or_else(|| ScenarioError::UnknownHost(name.into()))
        };
        for (i, h) in scenario.hosts.iter().enumerate() {
            if scenario.hosts[..i].contains(h) {
                return Err(ScenarioError::DuplicateHost(h.clone()));
            }
        }
        let mtu = scenario.mtu.clamp(576, 65_535) as usize;
        let mut hosts = Vec::with_capacity(n);
        for i in 0..n {
            let mut device = SimDevice::new(mtu);
            let mut config = Config::new(HardwareAddress::Ip);
            config.random_seed = mix(seed, 1, i as u64);
            let mut iface = Interface::new(config, &mut device, SmolInstant::ZERO);
            let [a, b, c, d] = host_addr(i);
            iface.update_ip_addrs(|addrs| {
                let _ = addrs.push(IpCidr::new(IpAddress::v4(a, b, c, d), 24));
            });
            hosts.push(Host {
                iface,
                device,
                sockets: SocketSet::new(Vec::new()),
                apps: Vec::new(),
                wake_at: None,
            });
        }
        let mut links = Vec::new();
        let mut ends = Vec::new();
        let mut routes = BTreeMap::new();
        for (l, spec) in scenario.links.iter().enumerate() {
            let (a, b) = (index(&spec.a)?, index(&spec.b)?);
            let on = |dir| LinkRef {
                link: l as u16,
                dir,
            };
            if a == b
                || routes.insert((a, b), on(0)).is_some()
                || routes.insert((b, a), on(1)).is_some()
            {
                return Err(ScenarioError::BadLink(l));
            }
            ends.push((a, b));
            links.push([
                LinkDir::new(spec.a_to_b.clone(), mix(seed, 2, (l as u64) << 1)),
                LinkDir::new(spec.b_to_a.clone(), mix(seed, 2, (l as u64) << 1 | 1)),
            ]);
        }
        let mut queue = EventQueue::default();
        let mut apps = Vec::new();
        let resolve = |name: &str, port: u16| -> Result<IpEndpoint, ScenarioError> {
            let [a, b, c, d] = host_addr(usize::from(index(name)?));
            Ok(IpEndpoint::new(IpAddress::v4(a, b, c, d), port))
        };
        let file_size = |host: &str, port: u16, path: &str| -> Option<u64> {
            scenario.apps.iter().find_map(|a| match &a.workload {
                Workload::TransferServer { port: p, files }
                | Workload::TftpServer { port: p, files }
                    if a.host == host && *p == port =>
                {
                    files.iter().find(|f| f.name == path).map(|f| f.size)
                }
                _ => None,
            })
        };
        for (i, spec) in scenario.apps.iter().enumerate() {
            let h = index(&spec.host)?;
            let copies = spec.instances.clamp(1, MAX_INSTANCES);
            let mut pool = Vec::with_capacity(usize::from(copies));
            for k in 0..copies {
                pool.push(workload::build(
                    &spec.workload,
                    &resolve,
                    &file_size,
                    client_port(i, k),
                    mix(seed, 3, (i as u64) << 16 | u64::from(k)),
                    custom,
                )?);
            }
            let app: Box<dyn App> = if copies == 1 {
                pool.remove(0)
            } else {
                Box::new(Pool(pool))
            };
            hosts[usize::from(h)].apps.push((i as u16, app));
            let kind = match &spec.workload {
                Workload::Custom { name, .. } => name.clone(),
                w => String::from(w.kind()),
            };
            apps.push((h, spec.workload.is_client(), kind));
            queue.push(
                spec.start_ms.saturating_mul(1000),
                Ev::Start {
                    host: h,
                    app: i as u16,
                },
            );
        }
        for c in &scenario.changes {
            if c.link >= links.len() {
                return Err(ScenarioError::UnknownLink(c.link));
            }
            let dirs: &[u8] = match c.direction {
                Direction::AToB => &[0],
                Direction::BToA => &[1],
                Direction::Both => &[0, 1],
            };
            for &dir in dirs {
                queue.push(
                    c.at_ms.saturating_mul(1000),
                    Ev::Change {
                        on: LinkRef {
                            link: c.link as u16,
                            dir,
                        },
                        profile: Box::new(c.profile.clone()),
                    },
                );
            }
        }
        let mut trace = Trace::new(options.keep_trace);
        trace.push(0, TraceKind::Begin { seed });
        Ok(Sim {
            now: 0,
            limit: scenario.time_limit_ms.saturating_mul(1000),
            wall0: UnixTime::from_secs(scenario.start_unix),
            queue,
            hosts,
            links,
            routes,
            ends,
            apps,
            trace,
            pcap: options.pcap.then(Pcap::new),
            stats: Stats::default(),
            next_packet: 0,
            flows: BTreeMap::new(),
            notes: Vec::new(),
            tx: Vec::new(),
            held: Vec::new(),
            host_names: scenario.hosts.clone(),
            finished_at: None,
            linger: scenario.linger_ms.saturating_mul(1000),
            kept: options.keep_packets.then(Vec::new),
            kept_bytes: 0,
        })
    }

    /// When the next event is due, if any is left (a page that steps one
    /// event at a time advances to it).
    pub fn next_event_at(&self) -> Option<Instant> {
        self.queue.peek_time().map(Instant::from_micros)
    }

    /// Virtual time now.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.now)
    }

    fn clock(&self) -> Now {
        Now::new(
            Instant::from_micros(self.now),
            self.wall0 + Duration::from_micros(self.now),
        )
    }

    /// Runs one event. Returns false when there is nothing left to do
    /// before the time limit, or every client has finished (completed or
    /// failed) and the linger time after that has passed.
    pub fn step(&mut self) -> bool {
        let Some(at) = self.queue.peek_time() else {
            return false;
        };
        let end = self.end();
        if at > end {
            // Nothing more happens before the end: the clock runs out.
            self.now = self.now.max(end);
            return false;
        }
        let Some((at, ev)) = self.queue.pop() else {
            return false;
        };
        debug_assert!(at >= self.now, "virtual time went backwards");
        self.stats.events += 1;
        self.now = at.max(self.now);
        let host = match ev {
            Ev::Deliver {
                host,
                on,
                packet,
                bytes,
            } => {
                self.links[usize::from(on.link)][usize::from(on.dir)].delivered();
                self.stats.packets_delivered += 1;
                self.trace.push(at, TraceKind::Delivered { packet, host });
                self.hosts[usize::from(host)].device.rx.push_back(bytes);
                host
            }
            Ev::Wake { host } => {
                let h = &mut self.hosts[usize::from(host)];
                if h.wake_at != Some(at) {
                    self.stats.stale_wakes += 1;
                    return true; // superseded
                }
                h.wake_at = None;
                host
            }
            Ev::Start { host, app } => {
                let now = self.clock();
                let h = &mut self.hosts[usize::from(host)];
                if let Some((_, a)) = h.apps.iter_mut().find(|(i, _)| *i == app) {
                    a.start(now, h.iface.context(), &mut h.sockets);
                }
                self.trace.push(at, TraceKind::Started { host, app });
                host
            }
            Ev::Change { on, profile } => {
                let dir = &mut self.links[usize::from(on.link)][usize::from(on.dir)];
                let release = !profile.hold;
                dir.set_config(*profile);
                self.trace.push(at, TraceKind::Changed { on });
                if release {
                    // Held packets go on, in the order they came, through
                    // the new profile (which may still drop or delay them).
                    let (go, keep): (Vec<Held>, Vec<Held>) = core::mem::take(&mut self.held)
                        .into_iter()
                        .partition(|h| h.on == on);
                    self.held = keep;
                    for h in go {
                        self.links[usize::from(on.link)][usize::from(on.dir)].delivered();
                        self.offer(h.from, h.on, h.packet, h.bytes, h.info);
                    }
                }
                return true;
            }
        };
        self.run_host(host);
        if self.finished_at.is_none() && self.all_clients_done() {
            self.finished_at = Some(self.now);
        }
        true
    }

    /// The virtual time at which the run stops: the time limit, or the end of
    /// the linger after every client finished.
    fn end(&self) -> u64 {
        match self.finished_at {
            Some(f) => f.saturating_add(self.linger).min(self.limit),
            None => self.limit,
        }
    }

    /// Runs until every client finished, the time limit, or no events are left.
    pub fn run(&mut self) {
        while self.step() {}
    }

    /// Runs every event up to virtual time `t` (for a page that animates a
    /// run frame by frame). Returns false once the run is over.
    pub fn run_until(&mut self, t: Instant) -> bool {
        loop {
            match self.queue.peek_time() {
                Some(at) if at <= t.as_micros() => {
                    if !self.step() {
                        return false;
                    }
                }
                Some(_) if t.as_micros() >= self.end() => return self.step(),
                Some(_) => {
                    self.now = self.now.max(t.as_micros());
                    return true;
                }
                None => return false,
            }
        }
    }

    fn all_clients_done(&self) -> bool {
        let mut any = false;
        for h in &self.hosts {
            for (i, app) in &h.apps {
                if self.apps[usize::from(*i)].1 {
                    any = true;
                    if app.status() == Status::Running {
                        return false;
                    }
                }
            }
        }
        any
    }

    fn run_host(&mut self, host: u16) {
        let now = self.clock();
        let ts = SmolInstant::from_micros(self.now as i64);
        let h = &mut self.hosts[usize::from(host)];
        for _ in 0..MAX_HOST_ROUNDS {
            h.iface.poll(ts, &mut h.device, &mut h.sockets);
            let mut moved = false;
            for (i, app) in h.apps.iter_mut() {
                moved |= app.step(now, &mut h.sockets, &mut self.notes);
                for note in self.notes.drain(..) {
                    self.trace.push(self.now, TraceKind::App { app: *i, note });
                }
            }
            if !moved {
                break;
            }
        }
        let mut next = h
            .iface
            .poll_at(ts, &h.sockets)
            .map(|t| t.total_micros().max(0) as u64);
        for (_, app) in &h.apps {
            if let Some(t) = app.poll_timeout() {
                let t = t.as_micros();
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        if let Some(t) = next {
            // A timer due now was just served: the next chance is a µs later.
            let t = t.max(self.now + 1);
            if h.wake_at.is_none_or(|w| t < w || w <= self.now) {
                h.wake_at = Some(t);
                self.queue.push(t, Ev::Wake { host });
            }
        }
        core::mem::swap(&mut self.tx, &mut h.device.tx);
        let mut tx = core::mem::take(&mut self.tx);
        for packet in tx.drain(..) {
            self.send(host, packet);
        }
        self.tx = tx;
    }

    fn send(&mut self, from: u16, bytes: Vec<u8>) {
        let packet = self.next_packet;
        self.next_packet += 1;
        self.keep(&bytes);
        self.stats.packets_sent += 1;
        let to = match bytes.get(16..20) {
            Some([10, 0, 0, d]) if *d >= 1 => Some(u16::from(*d) - 1),
            _ => None,
        };
        let Some(on) = to.and_then(|to| self.routes.get(&(from, to)).copied()) else {
            self.trace
                .push(self.now, TraceKind::NoRoute { packet, host: from });
            *self.stats.drops.entry(DropReason::NoRoute).or_default() += 1;
            self.hosts[usize::from(from)].device.recycle(bytes);
            return;
        };
        if let Some(p) = &mut self.pcap {
            let wall = self.wall0 + Duration::from_micros(self.now);
            let us =
                (wall.secs().max(0) as u64) * 1_000_000 + u64::from(wall.subsec_nanos() / 1000);
            p.record(us, &bytes);
        }
        let info = PacketInfo::parse(&bytes);
        if let Some(i) = &info {
            self.count_retransmission(i);
        }
        self.offer(from, on, packet, bytes, info);
    }

    /// Offers a packet to one link direction and acts on the verdict.
    fn offer(
        &mut self,
        from: u16,
        on: LinkRef,
        packet: u64,
        mut bytes: Vec<u8>,
        info: Option<PacketInfo>,
    ) {
        let dir = &mut self.links[usize::from(on.link)][usize::from(on.dir)];
        let verdict = dir.offer(self.now, bytes.len());
        let len = bytes.len() as u32;
        let mut duplicate = None;
        match verdict {
            Verdict::Drop(reason) => {
                *self.stats.drops.entry(reason).or_default() += 1;
                self.hosts[usize::from(from)].device.recycle(bytes);
            }
            Verdict::Hold => {
                self.held.push(Held {
                    from,
                    on,
                    packet,
                    bytes,
                    info,
                });
            }
            Verdict::Carry(c) => {
                let (a, b) = self.ends[usize::from(on.link)];
                let dest = if on.dir == 0 { b } else { a };
                if let Some((at, bit)) = c.corrupted {
                    if let Some(b) = bytes.get_mut(at as usize) {
                        *b ^= 1 << bit;
                    }
                    self.stats.corrupted += 1;
                }
                if c.reordered {
                    self.stats.reordered += 1;
                }
                if let Some(after) = c.duplicate_after_us {
                    let id = self.next_packet;
                    self.next_packet += 1;
                    self.keep(&bytes);
                    self.stats.duplicated += 1;
                    duplicate = Some(id);
                    self.queue.push(
                        self.now + after,
                        Ev::Deliver {
                            host: dest,
                            on,
                            packet: id,
                            bytes: bytes.clone(),
                        },
                    );
                }
                self.queue.push(
                    self.now + c.after_us,
                    Ev::Deliver {
                        host: dest,
                        on,
                        packet,
                        bytes,
                    },
                );
            }
        }
        self.trace.push(
            self.now,
            TraceKind::Link {
                packet,
                on,
                len,
                info,
                verdict,
                duplicate,
            },
        );
    }

    /// Keeps the start of the packet just numbered, if asked to. Called
    /// once per packet number, in order, so the number is the index.
    fn keep(&mut self, bytes: &[u8]) {
        let Some(kept) = &mut self.kept else {
            return;
        };
        let snap = &bytes[..bytes.len().min(SNAP_LEN)];
        if self.kept_bytes + snap.len() <= MAX_KEPT_BYTES {
            self.kept_bytes += snap.len();
            kept.push(snap.to_vec());
        } else {
            kept.push(Vec::new());
        }
    }

    /// The first [`SNAP_LEN`] bytes of packet `n` as sent (before any
    /// corruption), if the run keeps packets and still had room for it.
    pub fn packet(&self, n: u64) -> Option<&[u8]> {
        let p = self.kept.as_ref()?.get(usize::try_from(n).ok()?)?;
        (!p.is_empty()).then_some(p.as_slice())
    }

    /// Each application's state now, in scenario order.
    pub fn app_states(&self) -> Vec<super::app::AppState> {
        let mut out: Vec<(u16, super::app::AppState)> = self
            .hosts
            .iter()
            .flat_map(|h| h.apps.iter().map(move |(i, a)| (*i, a.state(&h.sockets))))
            .collect();
        out.sort_by_key(|a| a.0);
        out.into_iter().map(|(_, s)| s).collect()
    }

    /// Counts TCP segments whose data ends at or before the highest byte
    /// already sent on their flow: retransmissions, as a capture shows them.
    fn count_retransmission(&mut self, info: &PacketInfo) {
        let Transport::Tcp(t) = info.transport else {
            return;
        };
        if t.payload == 0 {
            return;
        }
        let key = (
            u32::from_be_bytes(info.src),
            u32::from_be_bytes(info.dst),
            t.src_port,
            t.dst_port,
        );
        let end = t.seq.wrapping_add(u32::from(t.payload));
        match self.flows.get_mut(&key) {
            Some(high) if (end.wrapping_sub(*high) as i32) <= 0 => {
                self.stats.tcp_retransmissions += 1;
            }
            Some(high) => *high = end,
            None => {
                self.flows.insert(key, end);
            }
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Takes the trace records kept so far.
    pub fn take_records(&mut self) -> Vec<super::trace::TraceRecord> {
        self.trace.take_records()
    }

    /// The pcap file written so far, if the run writes one.
    pub fn pcap(&self) -> Option<&[u8]> {
        self.pcap.as_ref().map(Pcap::bytes)
    }

    /// Takes the pcap file written so far.
    pub fn take_pcap(&mut self) -> Option<Vec<u8>> {
        self.pcap.take().map(Pcap::into_bytes)
    }

    /// When every client finished, if they have.
    pub fn finished_at(&self) -> Option<Instant> {
        self.finished_at.map(Instant::from_micros)
    }

    /// Each application's state, in scenario order.
    pub fn apps(&self) -> Vec<AppReport> {
        let mut out: Vec<(u16, AppReport)> = self
            .hosts
            .iter()
            .flat_map(|h| h.apps.iter())
            .map(|(i, a)| {
                let (host, client, kind) = &self.apps[usize::from(*i)];
                let (host, client) = (*host, *client);
                let report = AppReport {
                    host: self
                        .host_names
                        .get(usize::from(host))
                        .cloned()
                        .unwrap_or_default(),
                    kind: kind.clone(),
                    client,
                    status: a.status(),
                    delivered: a.delivered(),
                    retries: a.retries(),
                };
                (*i, report)
            })
            .collect();
        out.sort_by_key(|a| a.0);
        out.into_iter().map(|(_, r)| r).collect()
    }
}

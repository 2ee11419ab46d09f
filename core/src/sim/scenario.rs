//! Scenarios: hosts, links, applications, a seed and a time limit — as data.
//!
//! A scenario is plain serde data, so it can be written in TOML or JSON,
//! shipped in a URL, or built in code. Hosts are named; the simulator gives
//! host `i` the address `10.0.0.(i + 1)`. Links join two hosts and carry a
//! [`Netem`] profile per direction, written in netem syntax. [`presets`]
//! returns the built-in scenarios that `wirekit sim --list` shows.

use super::netem::Netem;
use super::store::FileSpec;
use crate::echo::{DatagramMode, StreamMode};
use crate::retry::BackoffConfig;
use crate::timestamp::Service;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Hosts in one scenario at most (addresses 10.0.0.1 to 10.0.0.250).
pub const MAX_HOSTS: usize = 250;

/// A whole simulated network and what runs on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// A short name (presets: the name `wirekit sim` takes).
    pub name: String,
    /// One line for people.
    #[serde(default)]
    pub description: String,
    /// The seed used when the caller gives none.
    #[serde(default)]
    pub seed: u64,
    /// The run stops here (virtual ms) if the applications have not finished.
    pub time_limit_ms: u64,
    /// After every client finished, the run goes on this long (virtual ms)
    /// so that connections close in the trace and the capture.
    #[serde(default = "default_linger")]
    pub linger_ms: u64,
    /// Every host's interface MTU, bytes.
    #[serde(default = "default_mtu")]
    pub mtu: u32,
    /// The wall clock at virtual time zero (seconds since 1970), for the
    /// timestamp protocols and pcap timestamps.
    #[serde(default = "default_start")]
    pub start_unix: i64,
    /// Host names; host `i` is 10.0.0.(i + 1).
    pub hosts: Vec<String>,
    /// Links between hosts.
    pub links: Vec<LinkSpec>,
    /// Applications on hosts.
    pub apps: Vec<AppSpec>,
    /// Profile changes at given virtual times.
    #[serde(default)]
    pub changes: Vec<ChangeSpec>,
}

fn default_linger() -> u64 {
    200
}

fn default_mtu() -> u32 {
    1500
}

fn default_start() -> i64 {
    // 2026-11-22 10:30:43 UTC, the classic tutorials' example date.
    1_795_343_443
}

/// A link between hosts `a` and `b`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSpec {
    /// One end.
    pub a: String,
    /// The other end.
    pub b: String,
    /// The profile from `a` to `b`.
    #[serde(default)]
    pub a_to_b: Netem,
    /// The profile from `b` to `a`.
    #[serde(default)]
    pub b_to_a: Netem,
}

/// Which way along a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From `a` to `b`.
    AToB,
    /// From `b` to `a`.
    BToA,
    /// Both ways.
    Both,
}

/// A link direction that gets a new profile at a given time: a link that
/// goes bad at t = 2 s, a partition that heals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSpec {
    /// When, virtual ms.
    pub at_ms: u64,
    /// Index into [`Scenario::links`].
    pub link: usize,
    /// Which way.
    pub direction: Direction,
    /// The new profile.
    pub profile: Netem,
}

/// An application on a host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSpec {
    /// The host's name.
    pub host: String,
    /// When it starts, virtual ms.
    #[serde(default)]
    pub start_ms: u64,
    /// What it runs.
    pub workload: Workload,
    /// Copies to run side by side (at most [`MAX_INSTANCES`]): a stream
    /// server accepts this many connections at once (one machine each), and
    /// copies of a client each use their own port.
    #[serde(default = "one")]
    pub instances: u16,
}

/// Copies of one application at most.
pub const MAX_INSTANCES: u16 = 64;

fn one() -> u16 {
    1
}

/// The machines the simulator can run, with their inputs.
///
/// Servers run until the end; clients have a goal, and the run completes
/// when every client reached its goal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Workload {
    /// A WKFT/1 server ([`crate::transfer::server::Server`]) serving one
    /// connection from generated files.
    TransferServer {
        /// TCP port.
        port: u16,
        /// The files it holds.
        files: Vec<FileSpec>,
    },
    /// A WKFT/1 client that downloads one file and checks every byte.
    TransferGet {
        /// The server's host name.
        server: String,
        /// Its TCP port.
        port: u16,
        /// The file.
        path: String,
    },
    /// A WKFT/1 client that uploads one generated file of `size` bytes.
    TransferPut {
        /// The server's host name.
        server: String,
        /// Its TCP port.
        port: u16,
        /// The name to store it under.
        path: String,
        /// Its size in bytes.
        size: u64,
    },
    /// An echo server on one TCP connection.
    EchoStreamServer {
        /// TCP port.
        port: u16,
        /// Plain or hello.
        #[serde(default)]
        mode: StreamMode,
    },
    /// A plain echo client sending `bytes` generated bytes and checking they
    /// all come back.
    EchoStreamClient {
        /// The server's host name.
        server: String,
        /// Its TCP port.
        port: u16,
        /// How many bytes (at most 1 MiB).
        bytes: u64,
    },
    /// An echo server for datagrams.
    EchoUdpServer {
        /// UDP port.
        port: u16,
        /// Plain, ack or hello.
        #[serde(default)]
        mode: DatagramMode,
    },
    /// An echo client: `requests` datagrams, one at a time, each retried
    /// with backoff.
    EchoUdpClient {
        /// The server's host name.
        server: String,
        /// Its UDP port.
        port: u16,
        /// How many requests.
        requests: u32,
        /// The retry schedule.
        #[serde(default)]
        backoff: BackoffConfig,
    },
    /// A time (RFC 868) or daytime (RFC 867) server on one TCP connection:
    /// it sends the time the moment the client connects, and closes.
    TimeStreamServer {
        /// TCP port.
        port: u16,
        /// Time or daytime.
        service: Service,
    },
    /// A client reading the time from a stream server.
    TimeStreamClient {
        /// The server's host name.
        server: String,
        /// Its TCP port.
        port: u16,
        /// Time or daytime.
        service: Service,
    },
    /// A time (RFC 868) or daytime (RFC 867) server for datagrams.
    TimeUdpServer {
        /// UDP port.
        port: u16,
        /// Which service.
        service: Service,
    },
    /// A client asking a datagram time or daytime server once.
    TimeUdpClient {
        /// The server's host name.
        server: String,
        /// Its UDP port.
        port: u16,
        /// Which service.
        service: Service,
        /// The retry schedule.
        #[serde(default)]
        backoff: BackoffConfig,
    },
    /// A TFTP server (one transfer at a time, from its well-known port)
    /// serving generated files, read-only.
    TftpServer {
        /// UDP port.
        port: u16,
        /// The files it holds.
        files: Vec<FileSpec>,
    },
    /// A TFTP client that downloads one file and checks every byte.
    TftpGet {
        /// The server's host name.
        server: String,
        /// Its UDP port.
        port: u16,
        /// The file.
        path: String,
        /// Block size to ask for (RFC 2348); 512 without.
        #[serde(default)]
        blksize: Option<u16>,
        /// Window to ask for (RFC 7440); lock-step without.
        #[serde(default)]
        windowsize: Option<u16>,
    },
    /// An application of the caller's own, built by the
    /// [`Apps`](super::custom::Apps) given to
    /// [`Sim::with_apps`](super::Sim::with_apps). One that names a `server`
    /// is a client (it has a goal); one that names none is a server on
    /// `port`.
    Custom {
        /// The name the caller's `Apps` knows it by.
        name: String,
        /// A client's server: a host name.
        #[serde(default)]
        server: Option<String>,
        /// The port a server listens on, or the one a client talks to.
        port: u16,
        /// Anything else the application needs, in its own words.
        #[serde(default)]
        args: Vec<String>,
    },
}

impl Workload {
    /// True for applications with a goal (clients).
    pub fn is_client(&self) -> bool {
        if let Workload::Custom { server, .. } = self {
            return server.is_some();
        }
        !matches!(
            self,
            Workload::TransferServer { .. }
                | Workload::EchoStreamServer { .. }
                | Workload::EchoUdpServer { .. }
                | Workload::TimeUdpServer { .. }
                | Workload::TimeStreamServer { .. }
                | Workload::TftpServer { .. }
        )
    }

    /// The port a server listens on (`None` for clients, which send from
    /// the port the simulator gives them).
    pub fn listen_port(&self) -> Option<u16> {
        match self {
            Workload::TransferServer { port, .. }
            | Workload::EchoStreamServer { port, .. }
            | Workload::EchoUdpServer { port, .. }
            | Workload::TimeStreamServer { port, .. }
            | Workload::TimeUdpServer { port, .. }
            | Workload::TftpServer { port, .. } => Some(*port),
            Workload::Custom {
                port, server: None, ..
            } => Some(*port),
            _ => None,
        }
    }

    /// The workload's kind, as in the scenario file.
    pub fn kind(&self) -> &'static str {
        match self {
            Workload::TransferServer { .. } => "transfer-server",
            Workload::TransferGet { .. } => "transfer-get",
            Workload::TransferPut { .. } => "transfer-put",
            Workload::EchoStreamServer { .. } => "echo-stream-server",
            Workload::EchoStreamClient { .. } => "echo-stream-client",
            Workload::EchoUdpServer { .. } => "echo-udp-server",
            Workload::EchoUdpClient { .. } => "echo-udp-client",
            Workload::TimeStreamServer { .. } => "time-stream-server",
            Workload::TimeStreamClient { .. } => "time-stream-client",
            Workload::TimeUdpServer { .. } => "time-udp-server",
            Workload::TimeUdpClient { .. } => "time-udp-client",
            Workload::TftpServer { .. } => "tftp-server",
            Workload::TftpGet { .. } => "tftp-get",
            Workload::Custom { .. } => "custom",
        }
    }
}

/// A scenario the simulator cannot build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScenarioError {
    /// A link or application names a host that is not listed.
    UnknownHost(String),
    /// The same host name twice.
    DuplicateHost(String),
    /// More than [`MAX_HOSTS`] hosts, or none.
    HostCount(usize),
    /// Two links join the same pair of hosts, or a link joins a host to itself.
    BadLink(usize),
    /// A change names a link that does not exist.
    UnknownLink(usize),
    /// An application's parameters are unusable; why.
    BadWorkload(String),
    /// No preset by that name.
    UnknownPreset(String),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::UnknownHost(h) => write!(f, "unknown host `{h}`"),
            ScenarioError::DuplicateHost(h) => write!(f, "host `{h}` named twice"),
            ScenarioError::HostCount(n) => write!(f, "{n} hosts: need 1 to {MAX_HOSTS}"),
            ScenarioError::BadLink(i) => {
                write!(f, "link {i} joins a host to itself or repeats a pair")
            }
            ScenarioError::UnknownLink(i) => {
                write!(f, "change names link {i}, which does not exist")
            }
            ScenarioError::BadWorkload(w) => write!(f, "bad application: {w}"),
            ScenarioError::UnknownPreset(p) => write!(f, "no preset named `{p}`"),
        }
    }
}

impl core::error::Error for ScenarioError {}

/// A 256 KiB TFTP download over 20 ms RTT and 2% loss, with these options.
fn tftp_download(
    name: &str,
    description: &str,
    blksize: Option<u16>,
    windowsize: Option<u16>,
) -> Scenario {
    two_hosts(
        name,
        description,
        300_000,
        "delay 10ms loss 2%",
        Workload::TftpServer {
            port: 69,
            files: vec![FileSpec {
                name: "boot.img".to_string(),
                size: 256 * 1024,
            }],
        },
        Workload::TftpGet {
            server: "server".to_string(),
            port: 69,
            path: "boot.img".to_string(),
            blksize,
            windowsize,
        },
    )
}

fn two_hosts(
    name: &str,
    description: &str,
    time_limit_ms: u64,
    profile: &str,
    server: Workload,
    client: Workload,
) -> Scenario {
    let profile: Netem = profile.parse().unwrap_or_default();
    Scenario {
        name: name.to_string(),
        description: description.to_string(),
        seed: 7,
        time_limit_ms,
        linger_ms: default_linger(),
        mtu: default_mtu(),
        start_unix: default_start(),
        hosts: vec!["client".to_string(), "server".to_string()],
        links: vec![LinkSpec {
            a: "client".to_string(),
            b: "server".to_string(),
            a_to_b: profile.clone(),
            b_to_a: profile,
        }],
        apps: vec![
            AppSpec {
                host: "server".to_string(),
                start_ms: 0,
                workload: server,
                instances: 1,
            },
            AppSpec {
                host: "client".to_string(),
                start_ms: 10,
                workload: client,
                instances: 1,
            },
        ],
        changes: Vec::new(),
    }
}

/// 1 MiB.
const MIB: u64 = 1024 * 1024;

fn transfer(name: &str, description: &str, size: u64, limit_ms: u64, profile: &str) -> Scenario {
    two_hosts(
        name,
        description,
        limit_ms,
        profile,
        Workload::TransferServer {
            port: 7021,
            files: vec![FileSpec {
                name: "file.bin".to_string(),
                size,
            }],
        },
        Workload::TransferGet {
            server: "server".to_string(),
            port: 7021,
            path: "file.bin".to_string(),
        },
    )
}

/// The built-in scenarios, in listing order.
pub fn presets() -> Vec<Scenario> {
    let mut link_goes_bad = transfer(
        "tcp-transfer-goes-bad",
        "a 1 MiB download; at t = 300 ms the link starts losing 5% each way",
        MIB,
        300_000,
        "delay 20ms",
    );
    link_goes_bad.changes.push(ChangeSpec {
        at_ms: 300,
        link: 0,
        direction: Direction::Both,
        profile: "delay 20ms loss 5%".parse().unwrap_or_default(),
    });
    let mut upload = transfer(
        "tcp-upload-lossy",
        "a 1 MiB WKFT/1 upload over TCP, 40 ms RTT, 2% loss each way: stored only when size and digest match",
        MIB,
        120_000,
        "delay 20ms loss 2%",
    );
    if let Some(app) = upload.apps.get_mut(1) {
        app.workload = Workload::TransferPut {
            server: "server".to_string(),
            port: 7021,
            path: "upload.bin".to_string(),
            size: MIB,
        };
    }
    vec![
        transfer(
            "tcp-transfer-lossy",
            "a 1 MiB WKFT/1 download over TCP, 40 ms RTT, 2% loss each way",
            MIB,
            120_000,
            "delay 20ms loss 2%",
        ),
        transfer(
            "tcp-transfer-clean",
            "a 1 MiB WKFT/1 download over TCP, 40 ms RTT, no loss",
            MIB,
            60_000,
            "delay 20ms",
        ),
        transfer(
            "tcp-transfer-bursty",
            "a 1 MiB download over a Gilbert-Elliott link with jitter and a 10 Mbit/s rate",
            MIB,
            120_000,
            "delay 20ms 5ms distribution normal loss gemodel 1% 30% rate 10mbit",
        ),
        link_goes_bad,
        upload,
        two_hosts(
            "udp-echo-backoff",
            "UDP echo, 5 requests with the classic tutorials' backoff (100 ms doubling to 2 s), 50% loss each way",
            60_000,
            "delay 10ms loss 50%",
            Workload::EchoUdpServer {
                port: 7007,
                mode: DatagramMode::Plain,
            },
            Workload::EchoUdpClient {
                server: "server".to_string(),
                port: 7007,
                requests: 5,
                backoff: BackoffConfig::default(),
            },
        ),
        two_hosts(
            "tcp-echo",
            "RFC 862 echo over TCP: 64 KiB out and back, 10 ms RTT, 1% loss",
            60_000,
            "delay 5ms loss 1%",
            Workload::EchoStreamServer {
                port: 7007,
                mode: StreamMode::Plain,
            },
            Workload::EchoStreamClient {
                server: "server".to_string(),
                port: 7007,
                bytes: 64 * 1024,
            },
        ),
        two_hosts(
            "tcp-time",
            "RFC 868 time over TCP: the server speaks first and closes, 10 ms RTT, 10% loss",
            30_000,
            "delay 5ms loss 10%",
            Workload::TimeStreamServer {
                port: 7037,
                service: Service::Time,
            },
            Workload::TimeStreamClient {
                server: "server".to_string(),
                port: 7037,
                service: Service::Time,
            },
        ),
        tftp_download(
            "tftp-lossy",
            "TFTP: a 256 KiB download, blksize 1468, windowsize 8, 20 ms RTT, 2% loss each way",
            Some(1468),
            Some(8),
        ),
        tftp_download(
            "tftp-lockstep",
            "TFTP: the same 256 KiB download in RFC 1350's lock-step, 512-byte blocks, one ACK each",
            None,
            None,
        ),
        two_hosts(
            "udp-time",
            "RFC 868 time over UDP, 10 ms RTT, 10% loss",
            30_000,
            "delay 5ms loss 10%",
            Workload::TimeUdpServer {
                port: 7037,
                service: Service::Time,
            },
            Workload::TimeUdpClient {
                server: "server".to_string(),
                port: 7037,
                service: Service::Time,
                backoff: BackoffConfig::default(),
            },
        ),
    ]
}

/// The preset called `name`.
pub fn preset(name: &str) -> Result<Scenario, ScenarioError> {
    presets()
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ScenarioError::UnknownPreset(name.to_string()))
}

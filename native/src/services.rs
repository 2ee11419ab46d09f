//! What `wirekit serve` offers: each service, its default port and
//! transports, and the endpoint that answers one connection or socket.

use crate::drive::{Serve, Served};
use crate::endpoint::{Endpoint, Hosted, LogEvents, PerRequest};
use crate::store::Store;
use crate::store::wkft::WkftSession;
use clap::ValueEnum;
use serde::Serialize;
use std::sync::Arc;
use wirekit_core::Now;
use wirekit_core::echo::{self, DatagramMode, StreamMode};
use wirekit_core::timestamp::{self, Service as Clock};
use wirekit_core::transfer::server::Server as TransferServer;

/// A service `wirekit serve` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// RFC 862 echo, TCP and UDP.
    Echo,
    /// RFC 867 daytime, TCP and UDP.
    Daytime,
    /// RFC 868 time, TCP and UDP.
    Time,
    /// The classic tutorials' stamped echo (`[ctime] : line`), TCP and UDP.
    Stamp,
    /// WKFT/1 file transfer, TCP.
    Transfer,
    /// TFTP, UDP (a port of its own for every transfer).
    Tftp,
}

/// A transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// A TCP listener.
    Tcp,
    /// A UDP socket.
    Udp,
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

impl Service {
    /// Every service, in banner order.
    pub const ALL: [Service; 6] = [
        Service::Echo,
        Service::Daytime,
        Service::Time,
        Service::Stamp,
        Service::Transfer,
        Service::Tftp,
    ];

    /// The well-known port plus 7000 (stamped echo has none: 7012).
    pub const fn default_port(self) -> u16 {
        match self {
            Service::Echo => 7007,
            Service::Daytime => 7013,
            Service::Time => 7037,
            Service::Stamp => 7012,
            Service::Transfer => 7021,
            Service::Tftp => 7069,
        }
    }

    /// The transports it runs on.
    pub fn protos(self) -> &'static [Proto] {
        match self {
            Service::Transfer => &[Proto::Tcp],
            Service::Tftp => &[Proto::Udp],
            _ => &[Proto::Tcp, Proto::Udp],
        }
    }

    /// Its name, as `--only` takes it.
    pub const fn name(self) -> &'static str {
        match self {
            Service::Echo => "echo",
            Service::Daytime => "daytime",
            Service::Time => "time",
            Service::Stamp => "stamp",
            Service::Transfer => "transfer",
            Service::Tftp => "tftp",
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which echo the echo service speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize)]
pub enum EchoMode {
    /// RFC 862: every byte back.
    #[default]
    Plain,
    /// The classic tutorials' dialogue: `Welcome!`, `Hello, <line>!`, `exit`.
    Hello,
    /// UDP answers `Your data was N bytes` (TCP stays plain).
    Ack,
}

/// Makes the endpoint for each new connection or socket.
#[derive(Clone, Debug)]
pub struct Factory {
    /// The file store for the transfer service.
    pub store: Store,
    /// The echo variant.
    pub echo: EchoMode,
    /// How the TFTP server behaves (uploads allowed or not, limits).
    pub tftp: wirekit_core::tftp::server::ServerConfig,
    /// Most TFTP transfers at once.
    pub max_tftp: usize,
    /// How long a WKFT/1 request line may take to arrive whole.
    pub header_deadline: std::time::Duration,
    /// How long a WKFT/1 session waits for its client before it says
    /// `ERR 408` and closes.
    pub idle_deadline: std::time::Duration,
    /// Where the transfer service's slow store work (hashing) runs.
    pub pool: crate::work::Pool,
}

impl Factory {
    /// The endpoint for a TCP connection accepted at `now`.
    pub fn stream(&self, service: Service, now: Now) -> Box<dyn Endpoint> {
        match service {
            Service::Echo => {
                let mode = match self.echo {
                    EchoMode::Hello => StreamMode::Hello,
                    EchoMode::Plain | EchoMode::Ack => StreamMode::Plain,
                };
                Box::new(Hosted::new(
                    echo::StreamServer::new(mode),
                    LogEvents("echo"),
                ))
            }
            Service::Daytime => Box::new(Hosted::new(
                timestamp::StreamServer::new(Clock::Daytime, now),
                LogEvents("daytime"),
            )),
            Service::Time => Box::new(Hosted::new(
                timestamp::StreamServer::new(Clock::Time, now),
                LogEvents("time"),
            )),
            Service::Stamp => Box::new(Hosted::new(
                timestamp::StreamServer::new(Clock::Stamp, now),
                LogEvents("stamp"),
            )),
            Service::Transfer | Service::Tftp => {
                let session = WkftSession::with_pool(self.store.for_session(), self.pool.clone());
                let server = TransferServer::new()
                    .with_header_deadline(self.header_deadline)
                    .with_idle_deadline(self.idle_deadline, now.mono);
                Box::new(Hosted::new(server, session))
            }
        }
    }

    /// What serves a UDP socket of `service`; `None` for a service without
    /// UDP.
    pub fn datagram(&self, service: Service) -> Option<Served> {
        Some(Served::Socket(match service {
            Service::Echo => {
                let mode = match self.echo {
                    EchoMode::Plain => DatagramMode::Plain,
                    EchoMode::Hello => DatagramMode::Hello,
                    EchoMode::Ack => DatagramMode::Ack,
                };
                Box::new(Hosted::new(
                    echo::DatagramServer::new(mode),
                    LogEvents("echo"),
                ))
            }
            Service::Daytime => Box::new(Hosted::new(
                timestamp::DatagramServer::new(Clock::Daytime),
                LogEvents("daytime"),
            )),
            Service::Time => Box::new(Hosted::new(
                timestamp::DatagramServer::new(Clock::Time),
                LogEvents("time"),
            )),
            Service::Stamp => Box::new(Hosted::new(
                timestamp::DatagramServer::new(Clock::Stamp),
                LogEvents("stamp"),
            )),
            // A transfer per request, each from a port of its own.
            Service::Tftp => {
                let listener =
                    wirekit_core::tftp::listener::Listener::new(self.tftp, self.max_tftp);
                let store = self.store.clone();
                return Some(Served::PerRequest(Box::new(PerRequest::new(
                    listener,
                    move || crate::store::tftp::TftpSession::new(store.clone()),
                ))));
            }
            Service::Transfer => return None,
        }))
    }

    /// What an over-the-limit connection is told before it is closed.
    pub fn refusal(&self, service: Service) -> &'static [u8] {
        match service {
            Service::Transfer => b"ERR 503 too many connections; try later\n",
            // Echo and timestamp have no error message: the close is the answer.
            _ => b"",
        }
    }
}

/// A service and the factory of its endpoints: what the drivers run on each
/// of its sockets.
#[derive(Debug)]
pub struct On {
    /// The service.
    pub service: Service,
    /// Its endpoints' maker.
    pub factory: Arc<Factory>,
}

impl Serve for On {
    fn name(&self) -> &'static str {
        self.service.name()
    }

    fn stream(&self, now: Now) -> Box<dyn Endpoint> {
        self.factory.stream(self.service, now)
    }

    fn datagram(&self) -> Option<Served> {
        self.factory.datagram(self.service)
    }

    fn refusal(&self) -> &'static [u8] {
        self.factory.refusal(self.service)
    }
}

//! `wirekit serve`: bind every service, start the chosen IO model's driver,
//! print a banner saying how to try each one.

use crate::drive::{self, Bound, Limits, Model, Serve};
use crate::services::{EchoMode, Factory, On, Proto, Service};
use crate::store::Store;
use crate::store::space::Sweeper;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything `wirekit serve` can be told.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address every service binds.
    pub bind: IpAddr,
    /// The services to run.
    pub services: Vec<Service>,
    /// Port overrides (0 picks a free port).
    pub ports: BTreeMap<Service, u16>,
    /// The file store's root.
    pub root: PathBuf,
    /// Refuse uploads.
    pub read_only: bool,
    /// The room uploads may take: quota, caps on partials, their TTL.
    pub space: crate::store::space::Limits,
    /// Most TCP connections at once.
    pub max_conns: usize,
    /// Close connections quiet for this long.
    pub idle_timeout: Duration,
    /// A WKFT/1 request line begun must be whole within this (`ERR 408`).
    pub header_deadline: Duration,
    /// The IO model.
    pub model: Model,
    /// The echo variant.
    pub echo: EchoMode,
    /// Accept TFTP uploads.
    pub tftp_write: bool,
    /// Most TFTP transfers at once.
    pub max_tftp: usize,
    /// Most file hashes at once (the transfer service's worker pool).
    pub max_hashes: usize,
    /// The async model's runtime.
    pub runtime: Arc<dyn crate::runtime::Runtime>,
}

impl Config {
    /// Every service on 127.0.0.1 on its default port, serving `root`.
    pub fn new(root: PathBuf) -> Self {
        Config {
            bind: IpAddr::from([127, 0, 0, 1]),
            services: Service::ALL.to_vec(),
            ports: BTreeMap::new(),
            root,
            read_only: false,
            space: crate::store::space::Limits::default(),
            max_conns: 1024,
            idle_timeout: Duration::from_secs(60),
            header_deadline: wirekit_core::transfer::server::HEADER_DEADLINE,
            model: Model::Async,
            echo: EchoMode::Plain,
            tftp_write: false,
            max_tftp: wirekit_core::tftp::listener::DEFAULT_MAX_TRANSFERS,
            max_hashes: crate::work::default_workers(),
            runtime: crate::runtime::default_runtime(),
        }
    }

    /// The same, every port 0: what tests use.
    pub fn ephemeral(root: PathBuf) -> Self {
        let mut c = Config::new(root);
        for s in Service::ALL {
            c.ports.insert(s, 0);
        }
        c
    }

    fn port(&self, s: Service) -> u16 {
        self.ports.get(&s).copied().unwrap_or(s.default_port())
    }
}

/// One socket a running server listens on.
#[derive(Clone, Debug, Serialize)]
pub struct Listening {
    /// Its service.
    pub service: Service,
    /// Its transport.
    pub proto: Proto,
    /// Its address.
    pub addr: SocketAddr,
}

/// A server that runs until [`Running::stop`] (or the process ends).
#[derive(Debug)]
pub struct Running {
    /// Where each service listens.
    pub listening: Vec<Listening>,
    serving: drive::Serving,
    /// Removes abandoned partials now and then; stops with the server.
    _sweeper: Option<Sweeper>,
}

/// Binds every socket and starts the driver.
pub fn start(config: &Config) -> io::Result<Running> {
    let store = Store::open(&config.root, config.read_only).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("file store root {}: {e}", config.root.display()),
        )
    })?;
    let store = store.with_limits(config.space);
    // A read-only server removes nothing, abandoned partials included.
    let sweeper = match config.read_only {
        true => None,
        false => {
            // The first sweep before any upload: partials a crash left long
            // ago go, and the quota counts what the root holds.
            let expired = store.space().sweep();
            if !expired.is_empty() {
                tracing::info!(count = expired.len(), "expired partials removed at start");
            }
            Some(Sweeper::start(store.space().clone())?)
        }
    };
    let factory = Arc::new(Factory {
        store,
        echo: config.echo,
        tftp: wirekit_core::tftp::server::ServerConfig {
            allow_write: config.tftp_write && !config.read_only,
            ..Default::default()
        },
        max_tftp: config.max_tftp,
        header_deadline: config.header_deadline,
        idle_deadline: session_idle(config.idle_timeout),
        pool: crate::work::Pool::new(config.max_hashes)?,
    });
    let (bound, listening) = bind(config, &factory)?;
    let limits = Limits {
        idle: config.idle_timeout,
        max_conns: config.max_conns,
    };
    let serving = drive::serve(config.model, bound, limits, Arc::clone(&config.runtime))?;
    Ok(Running {
        listening,
        serving,
        _sweeper: sweeper,
    })
}

/// Binds every service's sockets, before any driver runs, so that their
/// addresses (port 0 in tests) are known up front.
fn bind(config: &Config, factory: &Arc<Factory>) -> io::Result<(Bound, Vec<Listening>)> {
    let mut bound = Bound::default();
    // TCP sockets first, then UDP, as the banner has always listed them.
    let (mut tcp, mut udp) = (Vec::new(), Vec::new());
    for &service in &config.services {
        let addr = SocketAddr::new(config.bind, config.port(service));
        let on: Arc<dyn Serve> = Arc::new(On {
            service,
            factory: Arc::clone(factory),
        });
        for &proto in service.protos() {
            let err = |e: io::Error| {
                io::Error::new(e.kind(), format!("{service} on {proto} {addr}: {e}"))
            };
            match proto {
                Proto::Tcp => {
                    let l = drive::listen(addr).map_err(err)?;
                    tcp.push(Listening {
                        service,
                        proto,
                        addr: l.local_addr()?,
                    });
                    bound.tcp.push((Arc::clone(&on), l));
                }
                Proto::Udp => {
                    let u = std::net::UdpSocket::bind(addr).map_err(err)?;
                    udp.push(Listening {
                        service,
                        proto,
                        addr: u.local_addr()?,
                    });
                    bound.udp.push((Arc::clone(&on), u));
                }
            }
        }
    }
    tcp.append(&mut udp);
    Ok((bound, tcp))
}

impl Running {
    /// The address of a service on a transport.
    pub fn addr(&self, service: Service, proto: Proto) -> Option<SocketAddr> {
        self.listening
            .iter()
            .find(|l| l.service == service && l.proto == proto)
            .map(|l| l.addr)
    }

    /// The name of the async model's runtime.
    pub fn runtime(&self) -> &'static str {
        self.serving.runtime()
    }

    /// TCP connections open now.
    pub fn open_connections(&self) -> usize {
        self.serving.open_connections()
    }

    /// Asks every loop to stop; they notice within a fraction of a second.
    /// Uploads in flight keep their partials, never a file under its final name.
    pub fn stop(&self) {
        self.serving.stop();
    }

    /// The lines `wirekit serve` prints: each service with a command to try it.
    pub fn banner(&self, config: &Config) -> String {
        let mut out = format!(
            "wirekit {} serving {} ({} model, {})\n",
            env!("CARGO_PKG_VERSION"),
            config.root.display(),
            match config.model {
                Model::Async => "async",
                Model::Threads => "threads",
                Model::Poll => "poll",
                Model::Iterative => "iterative",
            },
            if config.read_only {
                "read-only"
            } else {
                "read-write"
            },
        );
        for l in &self.listening {
            let (ip, port) = (l.addr.ip(), l.addr.port());
            let hint = match (l.service, l.proto) {
                (Service::Echo, Proto::Tcp) => format!("printf 'hi\\n' | nc -N {ip} {port}"),
                (Service::Echo, Proto::Udp) => format!("wirekit echo --udp {ip}:{port} hi"),
                (Service::Daytime, Proto::Tcp) => format!("nc {ip} {port}"),
                (Service::Daytime, Proto::Udp) => {
                    format!("wirekit time --daytime --udp {ip}:{port}")
                }
                (Service::Time, Proto::Tcp) => format!("rdate -p -o {port} {ip}"),
                (Service::Time, Proto::Udp) => format!("rdate -p -u -o {port} {ip}"),
                (Service::Stamp, Proto::Tcp) => format!("wirekit time --stamp {ip}:{port} hi"),
                (Service::Stamp, Proto::Udp) => {
                    format!("wirekit time --stamp --udp {ip}:{port} hi")
                }
                (Service::Transfer, _) => format!("wirekit ls {ip}:{port}   (or: nc {ip} {port})"),
                (Service::Tftp, _) => format!("curl -o hello.txt tftp://{ip}:{port}/hello.txt"),
            };
            out.push_str(&format!(
                "  {:<9}{} {:<22} try: {hint}\n",
                l.service.name(),
                l.proto,
                l.addr.to_string()
            ));
        }
        out
    }
}

/// The WKFT session's own idle limit: a little inside the connection's, so
/// that the session's `ERR 408` leaves before the driver's limit (the same
/// for every service, and silent) closes the socket.
fn session_idle(idle: Duration) -> Duration {
    idle - (idle / 10).min(Duration::from_secs(1))
}

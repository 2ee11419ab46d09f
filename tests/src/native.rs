//! The native servers started in-process on free loopback ports, for tests
//! of every IO model, and small helpers around them.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;
use wirekit::client::transfer::Options;
use wirekit::drive::Model;
use wirekit::server::{self, Config, Running};
use wirekit::services::{EchoMode, Proto, Service};

/// Every IO model.
pub const MODELS: [Model; 4] = [Model::Async, Model::Threads, Model::Poll, Model::Iterative];

/// Picks the async model's runtime for every native suite: `async-std` (the
/// default) or `smol`. The suites are built with both, so `cargo xtask test`
/// runs them a second time with this set to `smol` and nothing recompiles.
pub const RUNTIME_VAR: &str = "WIREKIT_TEST_RUNTIME";

/// The runtime the servers of this run use ([`RUNTIME_VAR`], else the
/// build's default). A name the build lacks stops the run: a suite that
/// fell back to the default would pass without testing what was asked.
pub fn runtime() -> &'static str {
    match std::env::var(RUNTIME_VAR) {
        Ok(name) => wirekit::runtime::available()
            .into_iter()
            .find(|&have| have == name)
            .unwrap_or_else(|| {
                panic!(
                    "{RUNTIME_VAR}={name}: this build has {:?}",
                    wirekit::runtime::available()
                )
            }),
        Err(_) => wirekit::runtime::DEFAULT,
    }
}

/// `--runtime NAME` for a `wirekit serve` child when [`RUNTIME_VAR`] asks
/// for one (nothing otherwise: a `WIREKIT_BIN` built with one runtime keeps
/// its own default).
pub fn runtime_args() -> Vec<&'static str> {
    match std::env::var_os(RUNTIME_VAR) {
        Some(_) => vec!["--runtime", runtime()],
        None => Vec::new(),
    }
}

/// A server on port 0 for every service, serving `root`.
pub fn start(model: Model, root: &Path) -> Running {
    start_with(root, |c| c.model = model)
}

/// The same, after `tune` adjusted the configuration.
pub fn start_with(root: &Path, tune: impl FnOnce(&mut Config)) -> Running {
    let mut config = Config::ephemeral(root.to_path_buf());
    config.runtime = wirekit::runtime::by_name(runtime()).expect("a runtime of this build");
    tune(&mut config);
    server::start(&config).expect("start the server")
}

/// A server whose echo speaks `mode`.
pub fn start_echo(model: Model, mode: EchoMode, root: &Path) -> Running {
    start_with(root, |c| {
        c.model = model;
        c.echo = mode;
        c.services = vec![Service::Echo];
    })
}

/// Where `service` listens on `proto`.
pub fn addr(r: &Running, service: Service, proto: Proto) -> SocketAddr {
    r.addr(service, proto).expect("the service is running")
}

/// Client options for the transfer service of `r`.
pub fn opts(r: &Running) -> Options {
    Options {
        addr: addr(r, Service::Transfer, Proto::Tcp),
        timeout: Duration::from_secs(20),
        progress: false,
    }
}

/// Deterministic bytes, different for different seeds.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A raw WKFT/1 session, typed by hand as a person with `nc` would.
#[derive(Debug)]
pub struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    /// A WKFT/1.0 session.
    pub fn open(addr: SocketAddr) -> Raw {
        Raw::speaking(addr, 1)
    }

    /// A session that said `HELLO version` and got it.
    pub fn speaking(addr: SocketAddr, version: u32) -> Raw {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut raw = Raw {
            reader: BufReader::new(s.try_clone().expect("clone")),
            writer: s,
        };
        raw.send(format!("HELLO {version}\r\n").as_bytes());
        let hello = raw.line();
        assert!(hello.starts_with(&format!("HELLO {version}")), "{hello}");
        raw
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// The next line, without its end.
    pub fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).expect("read a line");
        l.trim_end().to_owned()
    }

    /// Sends a request line, returns the reply line.
    pub fn say(&mut self, request: &str) -> String {
        self.send(format!("{request}\n").as_bytes());
        self.line()
    }

    /// Sends `body` as `DATA` messages.
    pub fn data(&mut self, body: &[u8]) {
        for chunk in body.chunks(60_000) {
            self.send(format!("DATA {}\r\n", chunk.len()).as_bytes());
            self.send(chunk);
            self.send(b"\r\n");
        }
    }

    /// Reads one `DATA` message's body, or returns the line that came instead.
    pub fn read_data(&mut self) -> Result<Vec<u8>, String> {
        use std::io::Read;
        let line = self.line();
        let Some(len) = line
            .strip_prefix("DATA ")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return Err(line);
        };
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).expect("a body");
        let end = self.line();
        assert!(end.is_empty(), "a body ends with a line end, not {end:?}");
        Ok(body)
    }
}

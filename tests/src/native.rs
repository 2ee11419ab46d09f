//! The native servers started in-process on free loopback ports, for tests
//! of every IO model, and small helpers around them.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use wirekit::client::transfer::Options;
use wirekit::drive::Model;
use wirekit::server::{self, Config, Running};
use wirekit::services::{EchoMode, Proto, Service};

/// Every IO model.
pub const MODELS: [Model; 4] = [Model::Async, Model::Threads, Model::Poll, Model::Iterative];

/// A server on port 0 for every service, serving `root`.
pub fn start(model: Model, root: &Path) -> Running {
    start_with(root, |c| c.model = model)
}

/// The same, after `tune` adjusted the configuration.
pub fn start_with(root: &Path, tune: impl FnOnce(&mut Config)) -> Running {
    let mut config = Config::ephemeral(root.to_path_buf());
    // `--features smol` runs every native suite on smol.
    if cfg!(feature = "smol") {
        config.runtime = wirekit::runtime::by_name("smol").expect("built with smol");
    }
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

/// A WKFT session typed as with `nc`: request lines out, reply lines in.
#[derive(Debug)]
pub struct RawSession {
    out: std::net::TcpStream,
    lines: std::io::BufReader<std::net::TcpStream>,
}

impl RawSession {
    /// Connects to `addr` and says `HELLO version`.
    pub fn open(addr: SocketAddr, version: u32) -> RawSession {
        let s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut raw = RawSession {
            lines: std::io::BufReader::new(s.try_clone().expect("clone")),
            out: s,
        };
        let hello = raw.say(&format!("HELLO {version}"));
        assert!(hello.starts_with(&format!("HELLO {version}")), "{hello}");
        raw
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.out.write_all(bytes).expect("send");
    }

    /// The next reply line, without its line end.
    pub fn line(&mut self) -> String {
        use std::io::BufRead;
        let mut l = String::new();
        self.lines.read_line(&mut l).expect("a reply");
        l.trim_end().to_owned()
    }

    /// Sends a request line, returns the reply line.
    pub fn say(&mut self, request: &str) -> String {
        self.send(format!("{request}\n").as_bytes());
        self.line()
    }

    /// Sends `body` as `DATA` messages of at most 64 KiB.
    pub fn data(&mut self, body: &[u8]) {
        for chunk in body.chunks(65_536) {
            let mut msg = format!("DATA {}\n", chunk.len()).into_bytes();
            msg.extend_from_slice(chunk);
            msg.push(b'\n');
            self.send(&msg);
        }
    }
}

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

//! # wirekit
//!
//! The native half of Wirekit: the core's sans-IO machines on real sockets.
//!
//! | concern | module |
//! |---|---|
//! | the async runtime (async-std, or smol) | [`runtime`] |
//! | the core's clock input | [`clock`] |
//! | one face for every protocol endpoint | [`endpoint`] |
//! | the IO models' driver loops | [`drive`] |
//! | what `wirekit serve` runs, and on which ports | [`services`], [`server`] |
//! | the server's sandboxed disk, and its adapter per protocol | [`store`] |
//! | slow store work off the drivers: a bounded worker pool | [`work`] |
//! | clients: echo, time, file transfer, TFTP, netcat | [`client`] |
//! | the network simulator, natively | [`sim`] |
//! | load generators for the performance figures | [`bench`] |
//! | the command line | [`cli`] |

pub mod bench;
pub mod cli;
pub mod client;
pub mod clock;
pub mod drive;
pub mod endpoint;
pub mod runtime;
pub mod server;
pub mod services;
pub mod sim;
pub mod store;
pub mod work;

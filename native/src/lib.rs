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
//! | the server's sandboxed disk | [`store`] |
//! | clients: echo, time, file transfer, netcat | [`client`], [`echo`], [`time`], [`transfer`], [`nc`] |
//! | TFTP: the server's listener and transfers, the client | [`tftp`] |
//! | the network simulator, natively | [`sim`] |
//! | load generators for the performance figures | [`bench`] |
//! | the command line | [`cli`] |

pub mod bench;
pub mod cli;
pub mod client;
pub mod clock;
pub mod drive;
pub mod echo;
pub mod endpoint;
pub mod nc;
pub mod runtime;
pub mod server;
pub mod services;
pub mod sim;
pub mod store;
pub mod tftp;
pub mod time;
pub mod transfer;

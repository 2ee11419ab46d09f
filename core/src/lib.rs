//! # wirekit-core
//!
//! The pure, *sans-IO* half of Wirekit. Every protocol endpoint here is a
//! [`Machine`]: bytes and time go in, bytes and events come out. Nothing in
//! this crate opens a socket, reads a clock, spawns a thread or touches a
//! disk, which is why the same code runs under the native drivers, inside the
//! network simulator and in the browser.
//!
//! Where to find things:
//!
//! | concern | module |
//! |---|---|
//! | time as an input | [`time`] |
//! | the contract every protocol obeys | [`machine`] |
//! | the one bounded output queue every machine keeps | [`outbox`] |
//! | what drivers share beyond it: listeners for per-request protocols | [`host`] |
//! | wire formats (nom parsers, `bytes` encoders) | [`wire`] |
//! | retry schedules with backoff | [`retry`] |
//! | the one datagram request client (echo, time, daytime, stamp) | [`request`] |
//! | the store contract file servers answer from | [`store`] |
//! | civil dates without `std` | [`calendar`] |
//! | echo (RFC 862) and the classic tutorials' hello and ack | [`echo`] |
//! | daytime (RFC 867), time (RFC 868), stamped echo | [`timestamp`] |
//! | two machines wired together in memory | [`pair`] |
//! | WKFT/1 file transfer: server and client machines | [`transfer`] |
//! | TFTP: server transfers and client | [`tftp`] |
//! | the deterministic network simulator (feature `sim`) | `sim` |
//! | test harnesses: the contract checker (feature `testing`) | `testing` |
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;
// The harnesses are for tests and fuzzing, which have std; arbitrary's
// derive names it. Without `testing` the crate stays no_std.
#[cfg(all(feature = "testing", not(test)))]
extern crate std;

pub mod calendar;
pub mod echo;
pub mod host;
pub mod machine;
pub mod outbox;
pub mod pair;
pub mod request;
pub mod retry;
#[cfg(feature = "sim")]
pub mod sim;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tftp;
pub mod time;
pub mod timestamp;
pub mod transfer;
pub mod wire;

pub use machine::{Input, Machine, PeerId, Transmit, drain};
pub use time::{Instant, Now, UnixTime};

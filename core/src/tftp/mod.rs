//! TFTP (RFC 1350 with RFC 2347 options, 2348 blksize, 2349 timeout and
//! tsize, 7440 windowsize) as machines.
//!
//! | module | what it holds |
//! |---|---|
//! | [`options`] | option negotiation: what a server accepts, what a client checks in an OACK |
//! | [`blocks`] | block numbers: 16 bits on the wire, wrapping to 0 or 1 |
//! | [`server`] | [`server::accept`] for requests on the well-known port, and one [`server::Transfer`] per transfer |
//! | [`listener`] | [`listener::Listener`]: the well-known port, admission and busy replies |
//! | [`store`] | [`store::Files`]: a transfer's file events answered from any [`crate::store::Store`] |
//! | [`client`] | [`client::Client`]: get and put |
//!
//! The sending and receiving halves of a transfer are the same on both
//! sides (a server sends on a read, a client on a write), so they live in
//! two private engines, `send` and `recv`, that the machines wrap.
//!
//! ## Peers
//!
//! A TFTP transfer is identified by its two ports (RFC 1350's transfer
//! IDs). The machines never see ports; the driver maps addresses to
//! [`crate::PeerId`]s:
//!
//! - A server [`server::Transfer`] runs on its own socket. The client's
//!   address on that socket is [`crate::PeerId::FIRST`]; any other address gets another id,
//!   and the transfer answers it with ERROR 5 and goes on.
//! - A [`client::Client`] sends its request to [`crate::PeerId::FIRST`], the server's
//!   well-known address. The server answers from a new port: the driver
//!   gives every new source address a new id, and the client keeps talking
//!   to whichever id answered its request first. Later datagrams from any
//!   other id, [`crate::PeerId::FIRST`] included, get ERROR 5.
//!
//! ## Reliability, in one paragraph
//!
//! The sender sends a window of blocks (one, in RFC 1350's lock-step) and
//! waits for the ACK of the last one. It resends only when its timer runs
//! out, never because an ACK came twice: answering duplicates with
//! duplicates is the Sorcerer's Apprentice bug (RFC 1123 4.2.3.1), where
//! every later block is sent twice. The receiver acknowledges the last
//! block it has in order whenever a window is complete, once when a block
//! arrives after a gap, and again when the sender shows it missed an ACK;
//! an ACK for a block in the middle of a window makes the sender start over
//! from the block after it, so the receiver never answers mere network
//! duplicates (see `recv`). The
//! last block is shorter than the block size (empty when the file is a
//! multiple of it), and its receiver waits a while after acknowledging it
//! ("dallies") to acknowledge it again should the sender not have heard.

//! ## A whole transfer, driven by hand
//!
//! What a driver does, with the network replaced by a loop that hands each
//! datagram to the other side (the server's file is a byte slice):
//!
//! ```
//! use bytes::Bytes;
//! use wirekit_core::tftp::client::{self, Client, ClientConfig};
//! use wirekit_core::tftp::server::{self, accept, ServerConfig, Transfer};
//! use wirekit_core::{Input, Instant, Machine, Now, PeerId};
//!
//! let file = b"hello, tftp".repeat(100);
//! let now = Now::mono(Instant::ZERO);
//! let config = ServerConfig::default();
//! let mut client = Client::get("greeting.txt", ClientConfig::default(), now)?;
//!
//! // The request goes to the well-known port; the server accepts it and
//! // starts a transfer on a new port, where the client is PeerId::FIRST.
//! let rrq = client.poll_transmit().expect("the request");
//! assert_eq!(rrq.to, PeerId::FIRST);
//! let request = accept(&rrq.payload, &config).expect("a valid request");
//! let mut transfer = Transfer::new(request, &config);
//! // The client calls the server's transfer port PeerId(1): a new address.
//! let server_port = PeerId(1);
//!
//! let mut received = Vec::new();
//! let mut done = false;
//! while !done {
//!     // The driver answers the transfer's questions from its store.
//!     while let Some(event) = transfer.poll_event() {
//!         let answer = match event {
//!             server::Event::OpenRead { .. } => Some(server::Command::Opened(Ok(file.len() as u64))),
//!             server::Event::ReadChunk { offset, len } => {
//!                 let start = (offset as usize).min(file.len());
//!                 let end = (start + len).min(file.len());
//!                 Some(server::Command::Chunk(Bytes::copy_from_slice(&file[start..end])))
//!             }
//!             _ => None,
//!         };
//!         if let Some(command) = answer {
//!             transfer.handle_command(now, command)?;
//!         }
//!     }
//!     // Datagrams both ways, then the client's events.
//!     while let Some(t) = transfer.poll_transmit() {
//!         client.handle_input(now, Input::Data { from: server_port, bytes: &t.payload })?;
//!     }
//!     while let Some(t) = client.poll_transmit() {
//!         assert_eq!(t.to, server_port);
//!         transfer.handle_input(now, Input::Data { from: PeerId::FIRST, bytes: &t.payload })?;
//!     }
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             client::Event::Data { offset, data } => {
//!                 assert_eq!(offset, received.len() as u64);
//!                 received.extend_from_slice(&data);
//!             }
//!             // A command-line client may stop here; the machine would
//!             // dally a while to acknowledge a repeated last block.
//!             client::Event::Done { .. } => done = true,
//!             client::Event::Failed(f) => panic!("{f}"),
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(received, file);
//! assert!(transfer.is_done(), "the server heard the last ACK");
//! # Ok::<(), wirekit_core::tftp::Misuse>(())
//! ```

pub mod blocks;
pub mod client;
pub mod listener;
pub mod options;
mod recv;
mod send;
pub mod server;
pub mod store;

use crate::wire::tftp::{DEFAULT_BLKSIZE, ErrorCode, ParseError};
use alloc::string::String;
use core::fmt;
use core::time::Duration;
use serde::{Deserialize, Serialize};

pub use blocks::Rollover;

/// Timeouts in a row after which a transfer gives up, unless configured.
pub const DEFAULT_RETRIES: u32 = 5;

/// The retransmission timeout when none is negotiated.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Largest window, in datagram bytes (block size plus the 4-byte header,
/// times the window size): what one timeout or ACK can make a sender send.
/// Windows are cut to fit. A sender buffers two windows: the one in flight
/// and the next, read ahead.
pub const MAX_WINDOW_BYTES: usize = 1 << 20;

/// Largest file read the sender asks of its driver at once.
pub const MAX_READ: usize = 64 * 1024;

/// The longest dally, unless two timeouts are longer still.
pub const MAX_DALLY: Duration = Duration::from_secs(30);

/// How long the receiver of the last block stays to acknowledge it again:
/// as long as a sender with the same retry limit may keep sending it, but
/// no more than [`MAX_DALLY`] (or two timeouts, if longer) so that a peer
/// asking `timeout=255` cannot hold a transfer open for half an hour. A
/// dally of only one or two timeouts can end just before the sender's
/// retransmission arrives.
pub fn dally(timeout: Duration, retries: u32) -> Duration {
    let full = timeout
        .checked_mul(retries.saturating_add(1))
        .unwrap_or(Duration::MAX);
    let cap = MAX_DALLY.max(timeout.checked_mul(2).unwrap_or(Duration::MAX));
    full.min(cap)
}

/// What a transfer runs with once options are settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Bytes per DATA block.
    pub blksize: u16,
    /// Blocks sent before waiting for an ACK (1: RFC 1350 lock-step).
    pub windowsize: u16,
    /// Retransmission timeout.
    pub timeout: Duration,
    /// What follows block 65535.
    pub rollover: Rollover,
    /// The file size, when it was announced (RFC 2349).
    pub tsize: Option<u64>,
}

impl Params {
    /// RFC 1350 without options, with this retransmission timeout.
    pub fn plain(timeout: Duration) -> Self {
        Params {
            blksize: DEFAULT_BLKSIZE,
            windowsize: 1,
            timeout,
            rollover: Rollover::Zero,
            tsize: None,
        }
    }
}

/// A file-store problem the driver reports; the transfer sends it to the
/// peer as an ERROR packet with this code and message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreError {
    /// The TFTP code (1 not found, 2 access violation, 3 disk full, 6 exists…).
    pub code: ErrorCode,
    /// For a person.
    pub message: String,
}

impl StoreError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        StoreError {
            code,
            message: message.into(),
        }
    }

    /// An error with RFC 1350's text for its code.
    pub fn from_code(code: ErrorCode) -> Self {
        StoreError::new(code, code.description())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (TFTP error {})", self.message, self.code.code())
    }
}

/// The peer broke the protocol; the machine sent ERROR 4 and stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolError {
    /// A datagram that is not a TFTP packet.
    Malformed(ParseError),
    /// A packet this side of the transfer never expects (a DATA to a sender…).
    Unexpected {
        /// Its opcode.
        opcode: u16,
    },
    /// A DATA block longer than the block size.
    BlockTooLong {
        /// Its length.
        len: usize,
        /// The block size.
        blksize: u16,
    },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Malformed(e) => write!(f, "malformed packet: {e}"),
            ProtocolError::Unexpected { opcode } => write!(f, "unexpected opcode {opcode}"),
            ProtocolError::BlockTooLong { len, blksize } => {
                write!(f, "DATA of {len} bytes with a block size of {blksize}")
            }
        }
    }
}

/// Why a transfer ended without success.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    /// The peer sent an ERROR packet.
    Peer {
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
    /// The peer stopped answering: this many timeouts in a row.
    TimedOut {
        /// Timeouts counted.
        timeouts: u32,
    },
    /// The peer broke the protocol (we sent ERROR 4).
    Protocol(ProtocolError),
    /// The server's OACK does not answer what we asked (we sent ERROR 8).
    BadOack(String),
    /// The local store failed (we sent ERROR with its code).
    Store(StoreError),
    /// The application cancelled (we sent ERROR 0).
    Cancelled,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Peer { code, message } => {
                write!(f, "peer sent error {}: {message}", code.code())
            }
            Failure::TimedOut { timeouts } => {
                write!(f, "no answer after {timeouts} timeouts in a row")
            }
            Failure::Protocol(e) => write!(f, "protocol error: {e}"),
            Failure::BadOack(why) => write!(f, "unacceptable option acknowledgement: {why}"),
            Failure::Store(e) => write!(f, "local store: {e}"),
            Failure::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl core::error::Error for Failure {}

/// The local application misused a machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Misuse {
    /// A command that answers a question the machine did not ask.
    Unasked,
    /// A chunk longer than the read asked for.
    ChunkTooLong {
        /// Bytes given.
        len: usize,
        /// Bytes asked.
        asked: usize,
    },
    /// A configuration the machine cannot run (the reason says which value).
    BadConfig(&'static str),
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::Unasked => f.write_str("a command that answers nothing asked"),
            Misuse::ChunkTooLong { len, asked } => {
                write!(f, "a chunk of {len} bytes for a read of {asked}")
            }
            Misuse::BadConfig(why) => write!(f, "bad configuration: {why}"),
        }
    }
}

impl core::error::Error for Misuse {}

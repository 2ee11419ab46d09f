//! WKFT/1 file transfer: the [`server::Server`] and [`client::Client`]
//! machines. The protocol is specified in `book/src/spec/file-transfer.md`;
//! its messages live in [`crate::wire::transfer`].
//!
//! Neither machine touches a disk or holds a whole file. File contents cross
//! the boundary in chunks: a machine raises an event that asks its driver for
//! the next chunk (`ReadChunk`, `ReadPrefix`) only while its pending output is
//! small (see [`MAX_PENDING_OUTPUT`]), the driver answers with
//! `Command::Chunk`, and received data leaves as `WriteChunk` events. Store
//! operations (list, stat, open, begin/commit an upload) are events the driver
//! answers with a command carrying a `Result<_, StoreError>`.
//!
//! Both sides hash the **whole file** with BLAKE3. The side that sends reads
//! its file from byte 0 and hashes the prefix it skips on a resume; the side
//! that receives a resumed transfer first reads back the prefix it kept.

pub mod client;
mod flow;
pub mod server;
pub mod store;

pub use crate::wire::transfer::{Digest, Entry, ErrorCode, Kind, Stat};

use crate::wire::transfer::{MAX_CHUNK, MAX_LINE, WireError};
use alloc::string::String;
use core::fmt;
use serde::{Deserialize, Serialize};

// ANCHOR: pending
/// Output a machine lets pile up before it stops asking for file chunks.
/// The driver empties it with `poll_transmit`; the machine then asks for more.
pub const MAX_PENDING_OUTPUT: usize = 4 * (MAX_CHUNK + MAX_LINE);

/// Unparsed input a machine holds: two whole messages. A server holds input
/// while it waits for its driver or for room in its output; this is also
/// how much a WKFT/1.1 client may pipeline (requests sent and not yet
/// answered), and a peer that sends more meanwhile is refused with
/// [`ProtocolError::InputOverflow`].
pub const MAX_BUFFERED_INPUT: usize = 2 * crate::wire::transfer::MAX_MESSAGE_BYTES;
// ANCHOR_END: pending

// ANCHOR: store_error
/// A store's refusal, as the driver reports it. It reaches the peer as
/// `ERR <code> <message>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people; cut to `MAX_MESSAGE` bytes on the wire.
    pub message: String,
}
// ANCHOR_END: store_error

impl StoreError {
    /// An error with a text of its own.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        StoreError {
            code,
            message: message.into(),
        }
    }

    /// An error with the code's default text.
    pub fn from_code(code: ErrorCode) -> Self {
        StoreError::new(code, code.reason())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl core::error::Error for StoreError {}

/// A peer broke the protocol. The machine answers `ERR 400` where it can and
/// closes: after a framing error nobody knows where the next message starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolError {
    /// A message that breaks the grammar or a limit.
    Wire(WireError),
    /// A well-formed message that is not expected now (a request before
    /// `HELLO`, `DATA` outside an upload, a reply to nothing).
    OutOfTurn,
    /// More than [`MAX_BUFFERED_INPUT`] bytes arrived while the machine could
    /// not take them.
    InputOverflow,
    /// More `DATA` than the transfer's size announced.
    TooMuchData,
    /// `DONE` before all the bytes the transfer announced.
    TooLittleData,
    /// The server speaks another version.
    Version {
        /// The version it named.
        theirs: u32,
    },
    /// A `FILE` or `READY` offset that is not the one asked for, or a size
    /// over `MAX_FILE_SIZE`.
    BadOffer,
    /// `STORED` names another size or digest than the client sent.
    StoredMismatch,
    /// A request line not complete within the server's header deadline
    /// (answered `ERR 408`).
    SlowRequest,
    /// The client sent nothing for the server's idle timeout while the
    /// session waited for it (answered `ERR 408`).
    Idle,
    /// WKFT/1.1: a client sent more (its `DATA`) after `PUT` before the
    /// server's `READY`.
    EarlyData,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Wire(e) => write!(f, "{e}"),
            ProtocolError::OutOfTurn => f.write_str("message out of turn"),
            ProtocolError::InputOverflow => f.write_str("too much input while busy"),
            ProtocolError::TooMuchData => f.write_str("more data than the size announced"),
            ProtocolError::TooLittleData => f.write_str("DONE before all the data"),
            ProtocolError::Version { theirs } => write!(f, "peer speaks version {theirs}"),
            ProtocolError::BadOffer => f.write_str("size or offset not as requested"),
            ProtocolError::StoredMismatch => f.write_str("server stored another size or digest"),
            ProtocolError::SlowRequest => f.write_str("request line not complete in time"),
            ProtocolError::Idle => f.write_str("idle timeout: nothing came from the client"),
            ProtocolError::EarlyData => f.write_str("data before READY"),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// Local misuse of a machine: a command it cannot take now. Peers never
/// cause these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Misuse {
    /// The client has not finished its handshake, or the session is over.
    NotReady,
    /// The client already has a request in flight.
    Busy,
    /// A command that answers no outstanding event.
    Unexpected,
    /// A chunk longer than the `max` the machine asked for.
    ChunkTooLong {
        /// What was asked for.
        max: usize,
        /// What came.
        got: usize,
    },
    /// A path the protocol cannot carry.
    BadPath(WireError),
    /// A size over `MAX_FILE_SIZE`.
    TooLarge,
    /// An offset past the size.
    BadOffset,
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::NotReady => f.write_str("session not ready"),
            Misuse::Busy => f.write_str("a request is already in flight"),
            Misuse::Unexpected => f.write_str("command answers no outstanding event"),
            Misuse::ChunkTooLong { max, got } => write!(f, "chunk of {got} bytes, asked {max}"),
            Misuse::BadPath(e) => write!(f, "bad path: {e}"),
            Misuse::TooLarge => f.write_str("size over MAX_FILE_SIZE"),
            Misuse::BadOffset => f.write_str("offset past the size"),
        }
    }
}

impl core::error::Error for Misuse {}

//! Wire formats: one module per protocol, nom parsers and `bytes` encoders.
//!
//! Conventions every codec here follows:
//!
//! - A parser of a stream format is *streaming*: given a prefix of a valid
//!   message it answers "need more" (nom's `Incomplete`), never an error.
//! - Every length has a named limit (`MAX_…`) and exceeding it is a named
//!   error variant, checked before anything is allocated.
//! - Encoders write into a `BytesMut` and never fail for a message that the
//!   type system lets you build, except where a field has a limit.
//! - Message types derive `serde` traits so traces and the browser can show them.

pub mod echo;
pub mod line;
pub mod tftp;
pub mod timestamp;
pub mod transfer;

//! The store contract: what a file server's machines need from the files
//! behind them, whichever protocol asks. Two implementations exist — the
//! sandboxed disk store of `native/` and the in-memory [`mem::MemStore`]
//! the simulator and the tests share — and each protocol has a thin
//! adapter that turns its machine's events into calls of this trait
//! (WKFT/1's: [`crate::transfer::store::Files`]; TFTP's:
//! [`crate::tftp::store::Files`]).
//!
//! Verification is the machines' job (a WKFT/1 digest, a TFTP byte count);
//! the store only promises that nothing appears under its final name until
//! [`Store::commit`] says the partial holds exactly the verified size.

pub mod mem;

use crate::transfer::{Entry, Stat};
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

/// What went wrong, in words no protocol owns; each adapter maps it to its
/// own error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No such file, or no partial to resume.
    NotFound,
    /// The path is refused (outside the root, not a regular file).
    Denied,
    /// The request makes no sense (a bad offset).
    Invalid,
    /// A complete file holds the name already.
    Exists,
    /// Over a size limit, or the disk is full.
    Full,
    /// The bytes kept do not match what was announced.
    Mismatch,
    /// The name is in use by another upload; try later.
    Busy,
    /// The store itself failed.
    Internal,
}

/// A store's refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// For programs.
    pub kind: ErrorKind,
    /// For people.
    pub message: String,
}

impl Error {
    /// An error with a text of its own.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
}

/// The files behind a server.
pub trait Store {
    /// A file open for reading.
    type Reader;
    /// An upload in progress: a partial file, invisible under its name.
    type Partial;
    /// The entries of a directory (`None`: the root).
    fn list(&self, dir: Option<&str>) -> Result<Vec<Entry>, Error>;
    /// One path's kind and size.
    fn stat(&self, path: &str) -> Result<Stat, Error>;
    /// Opens a complete file; returns it and its size.
    fn open_read(&mut self, path: &str) -> Result<(Self::Reader, u64), Error>;
    /// `len` bytes at `offset`, fewer only at the end of the file.
    fn read_at(&mut self, file: &mut Self::Reader, offset: u64, len: usize)
    -> Result<Bytes, Error>;
    /// Starts (or, with `offset > 0`, resumes) a partial for `path`,
    /// announced as `size` bytes.
    fn create_partial(
        &mut self,
        path: &str,
        size: u64,
        offset: u64,
    ) -> Result<Self::Partial, Error>;
    /// Writes `data` at `offset` of the partial.
    fn append(
        &mut self,
        partial: &mut Self::Partial,
        offset: u64,
        data: &[u8],
    ) -> Result<(), Error>;
    /// `len` bytes of the partial at `offset`, fewer only at its end: a
    /// resumed upload's kept prefix, read back to be hashed.
    fn read_partial(
        &mut self,
        partial: &mut Self::Partial,
        offset: u64,
        len: usize,
    ) -> Result<Bytes, Error>;
    /// Renames the partial into place if it holds exactly `size` bytes. A
    /// partial that cannot be committed is removed: it could never be.
    fn commit(&mut self, partial: Self::Partial, size: u64) -> Result<(), Error>;
    /// Deletes the partial.
    fn discard(&mut self, partial: Self::Partial);
    /// As [`Store::create_partial`], for an upload that may take the place
    /// of a complete file at `path` (WKFT/1.1's `PUT … replace`): its commit
    /// replaces the file in one step, so a failed upload loses nothing.
    /// Stores that cannot replace refuse.
    fn create_replacing(
        &mut self,
        path: &str,
        size: u64,
        offset: u64,
    ) -> Result<Self::Partial, Error> {
        let _ = (path, size, offset);
        Err(Error::new(
            ErrorKind::Denied,
            "this store cannot replace files",
        ))
    }
    /// Removes the complete file at `path`, and any partial of that name
    /// (WKFT/1.1's `DELETE`). Stores that cannot delete refuse.
    fn remove(&mut self, path: &str) -> Result<(), Error> {
        let _ = path;
        Err(Error::new(
            ErrorKind::Denied,
            "this store cannot delete files",
        ))
    }
    /// Leaves the partial for a later resume (an upload cut off).
    fn keep(&mut self, partial: Self::Partial) {
        drop(partial);
    }
}

/// WKFT/1's codes as the store contract's kinds (stores written against
/// WKFT/1's errors keep them; the contract is protocol-neutral).
impl From<crate::transfer::StoreError> for Error {
    fn from(e: crate::transfer::StoreError) -> Self {
        use crate::transfer::ErrorCode;
        use ErrorKind as K;
        let kind = match e.code {
            ErrorCode::BadRequest => K::Invalid,
            ErrorCode::Denied => K::Denied,
            ErrorCode::NotFound => K::NotFound,
            ErrorCode::Exists => K::Exists,
            ErrorCode::TooLarge => K::Full,
            ErrorCode::Mismatch => K::Mismatch,
            ErrorCode::Busy | ErrorCode::Locked => K::Busy,
            ErrorCode::BadOffset | ErrorCode::RequestTimeout => K::Invalid,
            ErrorCode::Other(n) if n < 500 => K::Invalid,
            ErrorCode::Internal
            | ErrorCode::NotImplemented
            | ErrorCode::VersionNotSupported
            | ErrorCode::Other(_) => K::Internal,
        };
        Error::new(kind, e.message)
    }
}

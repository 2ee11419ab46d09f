//! The store contract: what a file server's machines need from the files
//! behind them, whichever protocol asks. Two implementations exist — the
//! sandboxed disk store of `native/` and the in-memory [`mem::MemStore`]
//! the simulator and the tests share — and each protocol has a thin
//! adapter that turns its machine's events into calls of this trait
//! (WKFT/1's: [`crate::transfer::store::Files`]; TFTP's:
//! [`crate::tftp::store::Files`]).
//!
//! What is verified is the machines' and adapters' business (a WKFT/1
//! digest of the bytes *as stored*, read back through
//! [`Store::read_partial`]; a TFTP byte count); the store promises that
//! nothing appears under its final name until [`Store::commit`] says the
//! partial holds exactly the verified size, and that a partial is only
//! ever written by the one upload that holds it.

pub mod mem;

use crate::transfer::{Digest, Entry, Stat};
use crate::wire::transfer::Version;
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
    /// Over a size limit the server sets for one file (the announced size,
    /// or a file-size limit of the system).
    Full,
    /// No room for the upload: the disk is full, the store's quota is
    /// spent, or too many partials are kept. Distinct from [`ErrorKind::Full`]:
    /// another upload, or the same later, may fit.
    NoSpace,
    /// The bytes kept do not match what was announced.
    Mismatch,
    /// The name is in use by another upload; try later.
    Busy,
    /// The file is not the version asked for, or changed while it was read.
    Changed,
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

/// How an upload begins ([`Store::create_partial`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Begin {
    /// The size announced for the whole file.
    pub size: u64,
    /// Where this session's bytes start: 0 for a new upload, more to resume
    /// a kept partial, which must hold at least that many bytes and have
    /// been announced with the same `size` ([`ErrorKind::Exists`] if not:
    /// it belongs to another upload).
    pub offset: u64,
    /// A complete file at the path is no refusal: the commit takes its
    /// place in one step, so a failed upload loses nothing (WKFT/1.1's
    /// `PUT … replace`). Stores that cannot replace refuse.
    pub replace: bool,
    /// With `offset == 0`, a kept partial of that name holding any bytes is
    /// discarded rather than refused (WKFT/1.1's `PUT … restart`; WKFT/1.0
    /// and TFTP always start over).
    pub restart: bool,
}

impl Begin {
    /// A new upload of `size` bytes that may discard an old partial, as
    /// TFTP's and WKFT/1.0's writes do.
    pub const fn fresh(size: u64) -> Self {
        Begin {
            size,
            offset: 0,
            replace: false,
            restart: true,
        }
    }
}

/// The refusal of an upload from byte 0 when a partial of that name waits
/// for its resume.
pub fn partial_waits(kept: u64, announced: Option<u64>) -> Error {
    let of = announced.map_or(String::new(), |n| alloc::format!(" of {n}"));
    Error::new(
        ErrorKind::Exists,
        alloc::format!(
            "an unfinished upload of this name holds {kept}{of} bytes: resume it from {kept}, or restart it"
        ),
    )
}

/// The refusal of a resume that announces another size than the partial's.
pub fn partial_differs(announced: u64, size: u64) -> Error {
    Error::new(
        ErrorKind::Exists,
        alloc::format!(
            "the unfinished upload of this name was announced as {announced} bytes, not {size}: restart it"
        ),
    )
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
    /// The version of the open file now: a token that changes whenever its
    /// bytes may have.
    fn version(&mut self, file: &Self::Reader) -> Result<Version, Error>;
    /// The whole file's digest, if the store knows it for this version.
    fn known_digest(&mut self, file: &Self::Reader, version: Version) -> Option<Digest> {
        let _ = (file, version);
        None
    }
    /// The digest of this version of the file, worked out by a reader that
    /// read all of it, for [`Store::known_digest`] to answer later.
    fn learn_digest(&mut self, file: &Self::Reader, version: Version, digest: Digest) {
        let _ = (file, version, digest);
    }
    /// Starts (or, with `offset > 0`, resumes) a partial for `path`. The
    /// partial is not cut to `offset` here: a resume that goes no further
    /// loses nothing (see [`Store::truncate_partial`]).
    fn create_partial(&mut self, path: &str, how: Begin) -> Result<Self::Partial, Error>;
    /// Cuts the partial to `len` bytes (a resume's first write, or a failed
    /// resume put back as it was).
    fn truncate_partial(&mut self, partial: &mut Self::Partial, len: u64) -> Result<(), Error>;
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
    /// Renames the partial into place if it holds exactly `size` bytes (and,
    /// unless it was begun with `replace`, no file took the name meanwhile),
    /// durably. A partial that cannot be committed is removed: it could
    /// never be. `digest`, when the caller verified one, is the new file's,
    /// for [`Store::known_digest`].
    fn commit(
        &mut self,
        partial: Self::Partial,
        size: u64,
        digest: Option<Digest>,
    ) -> Result<(), Error>;
    /// Deletes the partial.
    fn discard(&mut self, partial: Self::Partial);
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
            ErrorCode::InsufficientStorage => K::NoSpace,
            ErrorCode::Mismatch => K::Mismatch,
            ErrorCode::Busy | ErrorCode::Locked => K::Busy,
            ErrorCode::BadOffset | ErrorCode::Cancelled | ErrorCode::RequestTimeout => K::Invalid,
            ErrorCode::Changed => K::Changed,
            ErrorCode::Other(n) if n < 500 => K::Invalid,
            ErrorCode::Internal
            | ErrorCode::NotImplemented
            | ErrorCode::VersionNotSupported
            | ErrorCode::Other(_) => K::Internal,
        };
        Error::new(kind, e.message)
    }
}

//! The store the tests run the machines against: the core's in-memory
//! store with faults injected where a test needs them. Each protocol's
//! machines answer from it through the same adapter the native and
//! simulated servers use.

// The harnesses need std (the crate is no_std without `testing`).
use super::transfer::Rng;
use crate::store::{self, Begin, ErrorKind, Store, mem};
use crate::transfer::{Digest, Entry, Stat};
use crate::wire::transfer::Version;
use bytes::Bytes;
#[allow(unused_imports)]
use std::prelude::rust_2024::*;
#[allow(unused_imports)]
use std::{format, vec};

/// Paths the store treats specially, so that every error code is reachable.
pub mod special {
    /// Anything under it is `403 denied`.
    pub const DENIED: &str = "secret";
    /// Anything under it is `503 busy`.
    pub const BUSY: &str = "locked";
    /// Reading or writing it fails: `500 internal`.
    pub const FLAKY: &str = "flaky";
}

/// The core's in-memory store with the faults a test needs: special paths
/// that are refused or fail, and reads shorter than asked, at random.
#[derive(Debug)]
pub struct Faulty {
    pub mem: mem::MemStore,
    /// Answer reads with fewer bytes than asked, at random.
    pub short_reads: bool,
    /// Reads of a file from this offset on fail.
    pub fail_reads_at: Option<u64>,
    /// A write past this offset finds the disk full: the store's capacity
    /// shrinks to what it holds at that moment (another writer took the rest).
    pub fill_at: Option<u64>,
    rng: Rng,
}

fn gate(path: &str) -> Result<(), store::Error> {
    if path.starts_with(special::DENIED) {
        return Err(store::Error::new(ErrorKind::Denied, "denied"));
    }
    if path.starts_with(special::BUSY) {
        return Err(store::Error::new(ErrorKind::Busy, "busy"));
    }
    Ok(())
}

fn flaky(path: &str, what: &str) -> Result<(), store::Error> {
    match path.starts_with(special::FLAKY) {
        true => Err(store::Error::new(ErrorKind::Internal, what)),
        false => Ok(()),
    }
}

impl Faulty {
    /// `mem` with no faults but its special paths.
    pub fn new(mem: mem::MemStore) -> Self {
        Faulty {
            mem,
            short_reads: false,
            fail_reads_at: None,
            fill_at: None,
            rng: Rng(0),
        }
    }

    /// Picks new lengths for short reads.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng(seed);
    }

    /// A store may return less than asked: at least one byte if any is left.
    fn shorten(&mut self, mut b: Bytes) -> Bytes {
        if self.short_reads && b.len() > 1 {
            b.truncate(1 + self.rng.upto(b.len() - 1));
        }
        b
    }
}

impl Store for Faulty {
    /// The file's bytes and its name (reads of a flaky one fail).
    type Reader = (Bytes, String);
    type Partial = String;

    fn list(&self, dir: Option<&str>) -> Result<Vec<Entry>, store::Error> {
        dir.map_or(Ok(()), gate)?;
        self.mem.list(dir)
    }

    fn stat(&self, path: &str) -> Result<Stat, store::Error> {
        gate(path)?;
        self.mem.stat(path)
    }

    fn open_read(&mut self, path: &str) -> Result<(Self::Reader, u64), store::Error> {
        gate(path)?;
        let (file, size) = self.mem.open_read(path)?;
        Ok(((file, path.to_owned()), size))
    }

    fn read_at(
        &mut self,
        (file, path): &mut Self::Reader,
        offset: u64,
        len: usize,
    ) -> Result<Bytes, store::Error> {
        flaky(path, "EIO")?;
        if self.fail_reads_at.is_some_and(|at| offset >= at) {
            return Err(store::Error::new(ErrorKind::Internal, "disk on fire"));
        }
        let b = self.mem.read_at(file, offset, len)?;
        Ok(self.shorten(b))
    }

    fn version(&mut self, (file, _): &Self::Reader) -> Result<Version, store::Error> {
        self.mem.version(file)
    }

    fn create_partial(&mut self, path: &str, how: Begin) -> Result<String, store::Error> {
        gate(path)?;
        self.mem.create_partial(path, how)
    }

    fn truncate_partial(&mut self, partial: &mut String, len: u64) -> Result<(), store::Error> {
        self.mem.truncate_partial(partial, len)
    }

    fn append(
        &mut self,
        partial: &mut String,
        offset: u64,
        data: &[u8],
    ) -> Result<(), store::Error> {
        flaky(partial, "ENOSPC")?;
        let end = offset.saturating_add(data.len() as u64);
        if self.fill_at.take_if(|at| end > *at).is_some() {
            let held = self.mem.held();
            self.mem.set_capacity(Some(held));
        }
        self.mem.append(partial, offset, data)
    }

    fn read_partial(
        &mut self,
        partial: &mut String,
        offset: u64,
        len: usize,
    ) -> Result<Bytes, store::Error> {
        let b = self.mem.read_partial(partial, offset, len)?;
        Ok(self.shorten(b))
    }

    fn commit(
        &mut self,
        partial: String,
        size: u64,
        digest: Option<Digest>,
    ) -> Result<(), store::Error> {
        self.mem.commit(partial, size, digest)
    }

    fn discard(&mut self, partial: String) {
        self.mem.discard(partial);
    }

    fn remove(&mut self, path: &str) -> Result<(), store::Error> {
        gate(path)?;
        self.mem.remove(path)
    }
}

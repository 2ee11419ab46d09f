//! An in-memory, read-only file store for the simulated transfer server.
//!
//! The transfer server machine asks its driver for everything to do with
//! files (see [`crate::transfer::server`]). In the simulator the driver is
//! this store: files are generated from their name and size (BLAKE3's
//! extendable output of the name), so a scenario can say "a 1 MiB file"
//! without carrying a megabyte, and a client can check every byte it
//! receives against [`content`]. Uploads are refused: the simulator's
//! scenarios download.

use crate::transfer::server::{Command, Event};
use crate::transfer::{Entry, ErrorCode, Kind, Stat, StoreError};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Largest generated file: the simulator keeps files in memory.
pub const MAX_SIM_FILE: u64 = 256 * 1024 * 1024;

/// A file in a simulated store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    /// Its name (a valid WKFT/1 path).
    pub name: String,
    /// Its size in bytes (at most [`MAX_SIM_FILE`]).
    pub size: u64,
}

/// The bytes of the file named `name` with `size` bytes.
pub fn content(name: &str, size: u64) -> Vec<u8> {
    let mut out = vec![0; size.min(MAX_SIM_FILE) as usize];
    let mut h = blake3::Hasher::new();
    h.update(name.as_bytes());
    h.finalize_xof().fill(&mut out);
    out
}

/// Answers a transfer server's events from files held in memory.
#[derive(Clone, Debug, Default)]
pub struct MemStore {
    files: Vec<(String, Bytes)>,
    reading: Option<(Bytes, usize)>,
}

impl MemStore {
    /// A store holding these files.
    pub fn new(files: &[FileSpec]) -> Self {
        let mut files: Vec<(String, Bytes)> = files
            .iter()
            .map(|f| (f.name.clone(), Bytes::from(content(&f.name, f.size))))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        MemStore {
            files,
            reading: None,
        }
    }

    fn find(&self, path: &str) -> Option<&Bytes> {
        self.files
            .binary_search_by(|(n, _)| n.as_str().cmp(path))
            .ok()
            .and_then(|i| self.files.get(i))
            .map(|(_, d)| d)
    }

    /// The answer to one event, if it needs one.
    pub fn answer(&mut self, event: Event) -> Option<Command> {
        let not_found = || StoreError::from_code(ErrorCode::NotFound);
        Some(match event {
            Event::List { path: None } => Command::Listing(Ok(self
                .files
                .iter()
                .map(|(name, d)| Entry {
                    name: name.clone(),
                    kind: Kind::File,
                    size: d.len() as u64,
                })
                .collect())),
            Event::List { path: Some(_) } => Command::Listing(Err(not_found())),
            Event::Stat { path } => Command::Status(
                self.find(&path)
                    .map(|d| Stat {
                        kind: Kind::File,
                        size: d.len() as u64,
                    })
                    .ok_or_else(not_found),
            ),
            Event::OpenRead { path } => match self.find(&path).cloned() {
                Some(d) => {
                    let size = d.len() as u64;
                    self.reading = Some((d, 0));
                    Command::Opened(Ok(size))
                }
                None => Command::Opened(Err(not_found())),
            },
            Event::ReadChunk { max } | Event::ReadPrefix { max } => match &mut self.reading {
                Some((d, pos)) => {
                    let end = (*pos + max).min(d.len());
                    let chunk = d.slice(*pos..end);
                    *pos = end;
                    Command::Chunk(chunk)
                }
                None => Command::ReadFailed(StoreError::new(ErrorCode::Internal, "no open file")),
            },
            Event::CloseRead => {
                self.reading = None;
                return None;
            }
            Event::BeginUpload { .. } => Command::UploadReady(Err(StoreError::new(
                ErrorCode::Denied,
                "the simulated store is read-only",
            ))),
            Event::CommitUpload { .. } => Command::Committed(Err(StoreError::new(
                ErrorCode::Denied,
                "the simulated store is read-only",
            ))),
            Event::WriteChunk(_) | Event::AbortUpload { .. } | Event::Protocol(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_a_prefix_family() {
        let a = content("f", 100);
        let b = content("f", 1000);
        assert_eq!(a[..], b[..100]);
        assert_ne!(content("g", 100), a);
    }

    #[test]
    fn reads_in_chunks() {
        let mut s = MemStore::new(&[FileSpec {
            name: "f".into(),
            size: 10,
        }]);
        assert_eq!(
            s.answer(Event::OpenRead { path: "f".into() }),
            Some(Command::Opened(Ok(10)))
        );
        let Some(Command::Chunk(c)) = s.answer(Event::ReadChunk { max: 8 }) else {
            panic!("a chunk")
        };
        assert_eq!(c.len(), 8);
        assert_eq!(
            s.answer(Event::ReadChunk { max: 8 }),
            Some(Command::Chunk(Bytes::from(content("f", 10)).slice(8..)))
        );
    }
}

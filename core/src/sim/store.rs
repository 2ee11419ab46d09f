//! An in-memory file store for the simulated servers: answers the WKFT/1
//! server's events, and implements the store contract ([`crate::store`])
//! that TFTP's adapter answers from.
//!
//! The transfer server machine asks its driver for everything to do with
//! files (see [`crate::transfer::server`]). In the simulator the driver is
//! this store: files are generated from their name and size (BLAKE3's
//! extendable output of the name), so a scenario can say "a 1 MiB file"
//! without carrying a megabyte, and a client can check every byte it
//! receives against [`content`]. Uploads are kept in memory, as a partial
//! until the server machine commits them.

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
    // SplitMix64 keyed by the name's hash, not BLAKE3's XOF: in wasm32,
    // without SIMD, the XOF took a third of a simulated 1 MiB download
    // (profiled under node), for bytes that need only look random.
    let key = blake3::hash(name.as_bytes());
    let mut state = u64::from_le_bytes(key.as_bytes()[..8].try_into().unwrap_or_default());
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_le_bytes()
    };
    let mut out = vec![0; size.min(MAX_SIM_FILE) as usize];
    // Whole words as fixed-size copies (one store each, also in wasm),
    // then the tail.
    let mut words = out.chunks_exact_mut(8);
    for word in &mut words {
        if let Ok(word) = <&mut [u8; 8]>::try_from(word) {
            *word = next();
        }
    }
    let tail = words.into_remainder();
    let last = next();
    tail.copy_from_slice(&last[..tail.len()]);
    out
}

/// Byte-for-byte equality, a word at a time: wasm32 has no instruction for
/// `memcmp`, and its byte loop was a tenth of a simulated download in the
/// browser, where clients check every byte they receive.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let word = |w: &[u8]| <[u8; 8]>::try_from(w).map(u64::from_ne_bytes).unwrap_or(0);
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    a.len() == b.len()
        && wa.remainder() == wb.remainder()
        && wa.zip(wb).all(|(x, y)| word(x) == word(y))
}

/// Largest upload the store accepts (bytes): it keeps uploads in memory.
pub const MAX_UPLOAD: u64 = 64 * 1024 * 1024;

/// Answers a transfer server's events from files held in memory.
///
/// Downloads read generated files; uploads go to a *partial* beside the
/// final name and become a file only on `CommitUpload`, which the server
/// machine sends only after size and digest matched.
#[derive(Clone, Debug, Default)]
pub struct MemStore {
    files: Vec<(String, Bytes)>,
    partials: Vec<(String, Vec<u8>)>,
    reading: Option<(Bytes, usize)>,
    /// The upload in progress: its path and how much of the kept prefix
    /// was read back so far.
    upload: Option<(String, usize)>,
    committed: Vec<String>,
}

fn position<T>(list: &[(String, T)], path: &str) -> Result<usize, usize> {
    list.binary_search_by(|(n, _)| n.as_str().cmp(path))
}

impl MemStore {
    /// A store holding these files.
    pub fn new(files: &[FileSpec]) -> Self {
        let mut files: Vec<(String, Bytes)> = files
            .iter()
            .map(|f| (f.name.clone(), Bytes::from(content(&f.name, f.size))))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files.dedup_by(|a, b| a.0 == b.0);
        MemStore {
            files,
            ..MemStore::default()
        }
    }

    fn find(&self, path: &str) -> Option<&Bytes> {
        position(&self.files, path)
            .ok()
            .and_then(|i| self.files.get(i))
            .map(|(_, d)| d)
    }

    /// A complete file's bytes.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.find(path).map(|b| &b[..])
    }

    /// Paths committed by uploads, in order.
    pub fn committed(&self) -> &[String] {
        &self.committed
    }

    fn partial(&mut self, path: &str) -> Option<&mut Vec<u8>> {
        let i = position(&self.partials, path).ok()?;
        self.partials.get_mut(i).map(|(_, d)| d)
    }

    fn begin_upload(&mut self, path: String, size: u64, offset: u64) -> Result<(), StoreError> {
        if size > MAX_UPLOAD {
            return Err(StoreError::new(
                ErrorCode::TooLarge,
                "over the simulated quota",
            ));
        }
        if self.find(&path).is_some() {
            return Err(StoreError::from_code(ErrorCode::Exists));
        }
        match position(&self.partials, &path) {
            Ok(i) if offset > 0 => {
                let kept = self.partials.get_mut(i).map(|(_, d)| d);
                match kept {
                    Some(d) if d.len() as u64 >= offset => d.truncate(offset as usize),
                    _ => return Err(StoreError::new(ErrorCode::NotFound, "no partial")),
                }
            }
            Ok(i) => {
                if let Some((_, d)) = self.partials.get_mut(i) {
                    d.clear();
                }
            }
            Err(_) if offset > 0 => {
                return Err(StoreError::new(ErrorCode::NotFound, "no partial"));
            }
            Err(i) => self.partials.insert(i, (path.clone(), Vec::new())),
        }
        self.upload = Some((path, 0));
        Ok(())
    }

    fn commit(&mut self, path: &str, size: u64) -> Result<(), StoreError> {
        let i = position(&self.partials, path)
            .map_err(|_| StoreError::new(ErrorCode::Internal, "no partial to commit"))?;
        let (name, data) = self.partials.remove(i);
        if data.len() as u64 != size {
            return Err(StoreError::new(
                ErrorCode::Internal,
                "partial has the wrong size",
            ));
        }
        match position(&self.files, &name) {
            Ok(j) => {
                if let Some(slot) = self.files.get_mut(j) {
                    slot.1 = Bytes::from(data);
                }
            }
            Err(j) => self.files.insert(j, (name.clone(), Bytes::from(data))),
        }
        self.committed.push(name);
        self.upload = None;
        Ok(())
    }

    /// Every file and partial (there are no directories).
    fn listing(&self, dir: Option<&str>) -> Result<Vec<Entry>, StoreError> {
        if dir.is_some() {
            return Err(StoreError::from_code(ErrorCode::NotFound));
        }
        let files = self.files.iter().map(|(n, d)| (n, d.len(), Kind::File));
        let partials = self
            .partials
            .iter()
            .map(|(n, d)| (n, d.len(), Kind::Partial));
        Ok(files
            .chain(partials)
            .map(|(name, size, kind)| Entry {
                name: name.clone(),
                kind,
                size: size as u64,
            })
            .collect())
    }

    fn status(&self, path: &str) -> Result<Stat, StoreError> {
        match (self.find(path), position(&self.partials, path)) {
            (Some(d), _) => Ok(Stat {
                kind: Kind::File,
                size: d.len() as u64,
            }),
            (None, Ok(i)) => Ok(Stat {
                kind: Kind::Partial,
                size: self.partials.get(i).map_or(0, |(_, d)| d.len() as u64),
            }),
            (None, Err(_)) => Err(StoreError::from_code(ErrorCode::NotFound)),
        }
    }

    /// The answer to one event, if it needs one.
    pub fn answer(&mut self, event: Event) -> Option<Command> {
        let not_found = || StoreError::from_code(ErrorCode::NotFound);
        Some(match event {
            Event::List { path } => Command::Listing(self.listing(path.as_deref())),
            Event::Stat { path } => Command::Status(self.status(&path)),
            Event::OpenRead { path } => match self.find(&path).cloned() {
                Some(d) => {
                    let size = d.len() as u64;
                    self.reading = Some((d, 0));
                    Command::Opened(Ok(size))
                }
                None => Command::Opened(Err(not_found())),
            },
            Event::ReadChunk { max } => match &mut self.reading {
                Some((d, pos)) => {
                    let end = (*pos + max).min(d.len());
                    let chunk = d.slice(*pos..end);
                    *pos = end;
                    Command::Chunk(chunk)
                }
                None => Command::ReadFailed(StoreError::new(ErrorCode::Internal, "no open file")),
            },
            Event::ReadPrefix { max } => {
                let Some((path, pos)) = self.upload.clone() else {
                    return Some(Command::ReadFailed(StoreError::new(
                        ErrorCode::Internal,
                        "no upload",
                    )));
                };
                let chunk = self.partial(&path).map(|d| {
                    let end = (pos + max).min(d.len());
                    Bytes::copy_from_slice(d.get(pos..end).unwrap_or_default())
                });
                let chunk = chunk.unwrap_or_default();
                if let Some((_, p)) = &mut self.upload {
                    *p += chunk.len();
                }
                Command::Chunk(chunk)
            }
            Event::CloseRead => {
                self.reading = None;
                return None;
            }
            Event::BeginUpload { path, size, offset } => {
                Command::UploadReady(self.begin_upload(path, size, offset))
            }
            Event::WriteChunk(bytes) => {
                let path = self.upload.as_ref().map(|(p, _)| p.clone())?;
                match self.partial(&path) {
                    Some(d) if (d.len() + bytes.len()) as u64 <= MAX_UPLOAD => {
                        d.extend_from_slice(&bytes);
                        return None;
                    }
                    _ => Command::WriteFailed(StoreError::new(ErrorCode::Internal, "ENOSPC")),
                }
            }
            Event::CommitUpload { path, size, .. } => Command::Committed(self.commit(&path, size)),
            Event::AbortUpload { keep_partial } => {
                if let Some((path, _)) = self.upload.take()
                    && !keep_partial
                    && let Ok(i) = position(&self.partials, &path)
                {
                    self.partials.remove(i);
                }
                return None;
            }
            Event::Protocol(_) => return None,
        })
    }
}

/// The store contract over memory: what the simulated TFTP server answers
/// from (and any other protocol's adapter).
impl crate::store::Store for MemStore {
    type Reader = Bytes;
    /// The partial's path.
    type Partial = String;

    fn list(&self, dir: Option<&str>) -> Result<Vec<Entry>, crate::store::Error> {
        self.listing(dir).map_err(Into::into)
    }

    fn stat(&self, path: &str) -> Result<Stat, crate::store::Error> {
        self.status(path).map_err(Into::into)
    }

    fn open_read(&mut self, path: &str) -> Result<(Bytes, u64), crate::store::Error> {
        let d = self
            .find(path)
            .cloned()
            .ok_or_else(|| StoreError::new(ErrorCode::NotFound, "no such file"))?;
        let size = d.len() as u64;
        Ok((d, size))
    }

    fn read_at(
        &mut self,
        file: &mut Bytes,
        offset: u64,
        len: usize,
    ) -> Result<Bytes, crate::store::Error> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(file.len());
        let end = start.saturating_add(len).min(file.len());
        Ok(file.slice(start..end))
    }

    fn create_partial(
        &mut self,
        path: &str,
        size: u64,
        offset: u64,
    ) -> Result<String, crate::store::Error> {
        self.begin_upload(String::from(path), size, offset)?;
        Ok(String::from(path))
    }

    fn append(
        &mut self,
        partial: &mut String,
        offset: u64,
        data: &[u8],
    ) -> Result<(), crate::store::Error> {
        let full = || StoreError::new(ErrorCode::TooLarge, "over the simulated quota");
        let end = offset.saturating_add(data.len() as u64);
        if end > MAX_UPLOAD {
            return Err(full().into());
        }
        let d = self
            .partial(partial)
            .ok_or_else(|| StoreError::new(ErrorCode::Internal, "no partial"))?;
        let (from, to) = (offset as usize, end as usize);
        if d.len() < to {
            d.resize(to, 0);
        }
        if let Some(slot) = d.get_mut(from..to) {
            slot.copy_from_slice(data);
        }
        Ok(())
    }

    fn commit(&mut self, partial: String, size: u64) -> Result<(), crate::store::Error> {
        MemStore::commit(self, &partial, size).map_err(Into::into)
    }

    fn discard(&mut self, partial: String) {
        if let Ok(i) = position(&self.partials, &partial) {
            self.partials.remove(i);
        }
        self.upload = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_a_prefix_family() {
        assert!(same_bytes(&content("f", 1001), &content("f", 1001)));
        let mut other = content("f", 1001);
        other[998] ^= 1;
        assert!(!same_bytes(&content("f", 1001), &other));
        other[998] ^= 1;
        other[3] ^= 0x80;
        assert!(!same_bytes(&content("f", 1001), &other));
        assert!(!same_bytes(b"abc", b"abcd"));
        let a = content("f", 100);
        let b = content("f", 1000);
        assert_eq!(a[..], b[..100]);
        assert_ne!(content("g", 100), a);
    }

    #[test]
    fn an_upload_becomes_a_file_only_on_commit() {
        let mut s = MemStore::new(&[]);
        let begin = Event::BeginUpload {
            path: "up".into(),
            size: 3,
            offset: 0,
        };
        assert_eq!(s.answer(begin), Some(Command::UploadReady(Ok(()))));
        assert_eq!(
            s.answer(Event::WriteChunk(Bytes::from_static(b"abc"))),
            None
        );
        assert_eq!(s.file("up"), None);
        let commit = Event::CommitUpload {
            path: "up".into(),
            size: 3,
            digest: crate::wire::transfer::Digest::of(b"abc"),
        };
        assert_eq!(s.answer(commit), Some(Command::Committed(Ok(()))));
        assert_eq!(s.file("up"), Some(&b"abc"[..]));
        assert_eq!(s.committed(), ["up"]);
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

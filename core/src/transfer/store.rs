//! WKFT/1's adapter of the store contract: the server machine's file
//! events answered from any [`Store`], and the contract's error kinds as
//! WKFT/1's codes. The native server runs it over the sandboxed disk, the
//! simulator and the tests over memory.
//!
//! The adapter is where an upload is verified: the machine passes on the
//! digest the client claims, and the adapter hashes the partial as the
//! store holds it before it lets the store commit. It also hashes what a
//! resume needs (a file's digest for a `GET` past byte 0, a kept prefix's
//! for `READY`); those are the slow answers a driver may want to give from
//! elsewhere than its event loop.

use super::StoreError;
use super::server::{Command, Event, Opened};
use crate::store::{self, Begin, ErrorKind, Store};
use crate::wire::transfer::{Digest, ErrorCode, Version};
use bytes::Bytes;

/// How much a hashing pass reads at a time.
const HASH_CHUNK: usize = 1 << 20;

/// Hashes `len` bytes from byte 0 of whatever `read(offset, max)` reads;
/// `None` if it ends sooner.
fn hash_prefix(
    len: u64,
    mut read: impl FnMut(u64, usize) -> Result<Bytes, store::Error>,
) -> Result<Option<Digest>, store::Error> {
    let mut hasher = blake3::Hasher::new();
    let mut pos = 0;
    while pos < len {
        let max = usize::try_from(len - pos)
            .unwrap_or(HASH_CHUNK)
            .min(HASH_CHUNK);
        let chunk = read(pos, max)?;
        if chunk.is_empty() {
            return Ok(None);
        }
        hasher.update(&chunk);
        pos += chunk.len() as u64;
    }
    Ok(Some(hasher.finalize().into()))
}

// ANCHOR: wkft_error
/// A store refusal as WKFT/1 says it.
pub fn wkft_error(e: store::Error) -> StoreError {
    let code = match e.kind {
        ErrorKind::NotFound => ErrorCode::NotFound,
        ErrorKind::Denied => ErrorCode::Denied,
        ErrorKind::Invalid => ErrorCode::BadRequest,
        ErrorKind::Exists => ErrorCode::Exists,
        ErrorKind::Full => ErrorCode::TooLarge,
        ErrorKind::NoSpace => ErrorCode::InsufficientStorage,
        ErrorKind::Mismatch => ErrorCode::Mismatch,
        ErrorKind::Busy => ErrorCode::Busy,
        ErrorKind::Changed => ErrorCode::Changed,
        _ => ErrorCode::Internal,
    };
    StoreError::new(code, e.message)
}
// ANCHOR_END: wkft_error

/// The file a session reads, and how far.
#[derive(Debug)]
struct Reading<R> {
    file: R,
    offset: u64,
    /// The version it was opened at.
    version: Version,
    /// Whether the store knew its digest (else the machine hashes it).
    known: bool,
}

/// The upload a session writes: WKFT/1 streams it in order, so the adapter
/// keeps the offsets the contract asks for.
#[derive(Debug)]
struct Upload<P> {
    partial: P,
    /// Where this session's bytes start (a resume's offset).
    start: u64,
    /// Where the next `WriteChunk` goes.
    written: u64,
    /// A write failed: the rest of this upload's events are ignored.
    failed: bool,
}

/// One session's use of a store.
#[derive(Debug)]
pub struct Files<S: Store> {
    store: S,
    reading: Option<Reading<S::Reader>>,
    upload: Option<Upload<S::Partial>>,
}

impl<S: Store> Files<S> {
    /// A session's answers from `store`.
    pub fn new(store: S) -> Self {
        Files {
            store,
            reading: None,
            upload: None,
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    // ANCHOR: answer
    /// The answer to one event of a [`super::server::Server`], if it needs one.
    pub fn answer(&mut self, event: Event) -> Option<Command> {
        Some(match event {
            Event::List { path } => {
                Command::Listing(self.store.list(path.as_deref()).map_err(wkft_error))
            }
            Event::Stat { path } => Command::Status(self.store.stat(&path).map_err(wkft_error)),
            Event::OpenRead {
                path,
                offset,
                version,
            } => Command::Opened(self.open_read(&path, offset, version).map_err(wkft_error)),
            Event::ReadChunk { max } => match &mut self.reading {
                Some(r) => match self.store.read_at(&mut r.file, r.offset, max) {
                    Ok(b) => {
                        r.offset += b.len() as u64;
                        Command::Chunk(b)
                    }
                    Err(e) => Command::ReadFailed(wkft_error(e)),
                },
                None => Command::ReadFailed(StoreError::new(ErrorCode::Internal, "no open file")),
            },
            Event::CheckRead { digest } => Command::Checked(self.check_read(digest)),
            Event::CloseRead => {
                self.reading = None;
                return None;
            }
            Event::BeginUpload {
                path,
                size,
                offset,
                replace,
                restart,
            } => {
                self.abort(true);
                let how = Begin {
                    size,
                    offset,
                    replace,
                    restart,
                };
                Command::UploadReady(self.begin_upload(&path, how).map_err(wkft_error))
            }
            Event::WriteChunk(bytes) => {
                let up = self.upload.as_mut().filter(|up| !up.failed)?;
                // A resume cuts what lies past its offset only once it has
                // bytes to put there: one that sends nothing loses nothing.
                let cut = if up.written == up.start {
                    self.store.truncate_partial(&mut up.partial, up.start)
                } else {
                    Ok(())
                };
                match cut.and_then(|()| self.store.append(&mut up.partial, up.written, &bytes)) {
                    Ok(()) => {
                        up.written += bytes.len() as u64;
                        return None;
                    }
                    Err(e) => {
                        up.failed = true;
                        Command::WriteFailed(wkft_error(e))
                    }
                }
            }
            Event::CommitUpload { size, digest, .. } => {
                let up = self.upload.take()?;
                if up.failed {
                    // The write failure was answered; the partial stays.
                    self.store.keep(up.partial);
                    return None;
                }
                Command::Committed(self.commit(up, size, digest).map_err(wkft_error))
            }
            Event::AbortUpload { keep_partial } => {
                self.abort(keep_partial);
                return None;
            }
            Event::Delete { path } => {
                Command::Deleted(self.store.remove(&path).map_err(wkft_error))
            }
            Event::Protocol(_) => return None,
        })
    }
    // ANCHOR_END: answer

    fn open_read(
        &mut self,
        path: &str,
        offset: u64,
        wanted: Option<Version>,
    ) -> Result<Opened, store::Error> {
        self.reading = None;
        let (mut file, size) = self.store.open_read(path)?;
        let version = self.store.version(&file)?;
        if wanted.is_some_and(|w| w != version) {
            return Err(store::Error::new(
                ErrorKind::Changed,
                "the file is not the version the download began with: get it again from 0",
            ));
        }
        let mut digest = self.store.known_digest(&file, version);
        if digest.is_none() && offset > 0 {
            // The prefix is not sent, so the machine cannot hash it: the
            // whole file is hashed here, once per version.
            let whole = hash_prefix(size, |at, max| self.store.read_at(&mut file, at, max))?;
            let Some(whole) = whole else {
                return Err(store::Error::new(
                    ErrorKind::Changed,
                    "the file shrank while it was read",
                ));
            };
            if self.store.version(&file)? != version {
                return Err(store::Error::new(
                    ErrorKind::Changed,
                    "the file changed while it was read",
                ));
            }
            self.store.learn_digest(&file, version, whole);
            digest = Some(whole);
        }
        self.reading = Some(Reading {
            file,
            offset,
            version,
            known: digest.is_some(),
        });
        Ok(Opened {
            size,
            version,
            digest,
        })
    }

    /// The last byte of a download was sent: it is only vouched for if the
    /// file is still the version it was opened at.
    fn check_read(&mut self, digest: Digest) -> Result<(), StoreError> {
        let Some(r) = &self.reading else {
            return Err(StoreError::new(ErrorCode::Internal, "no open file"));
        };
        let now = self.store.version(&r.file).map_err(wkft_error)?;
        if now != r.version {
            return Err(StoreError::new(
                ErrorCode::Changed,
                "the file changed while it was sent: discard what came and get it again",
            ));
        }
        if !r.known {
            self.store.learn_digest(&r.file, r.version, digest);
        }
        Ok(())
    }

    fn begin_upload(&mut self, path: &str, how: Begin) -> Result<Option<Digest>, store::Error> {
        let mut partial = self.store.create_partial(path, how)?;
        let prefix = if how.offset > 0 {
            let p = &mut partial;
            match hash_prefix(how.offset, |at, max| self.store.read_partial(p, at, max)) {
                Ok(Some(d)) => Some(d),
                Ok(None) => {
                    self.store.keep(partial);
                    return Err(store::Error::new(
                        ErrorKind::NotFound,
                        "the partial is shorter than the offset",
                    ));
                }
                Err(e) => {
                    self.store.keep(partial);
                    return Err(e);
                }
            }
        } else {
            None
        };
        self.upload = Some(Upload {
            partial,
            start: how.offset,
            written: how.offset,
            failed: false,
        });
        Ok(prefix)
    }

    /// Hashes the partial as stored, and commits it only if that is the
    /// digest the client sent.
    fn commit(
        &mut self,
        mut up: Upload<S::Partial>,
        size: u64,
        claimed: Digest,
    ) -> Result<(), store::Error> {
        let p = &mut up.partial;
        let stored = hash_prefix(size, |at, max| self.store.read_partial(p, at, max));
        match stored {
            Ok(Some(d)) if d == claimed => self.store.commit(up.partial, size, Some(d)),
            Ok(_) => {
                self.fail_upload(up);
                Err(store::Error::new(
                    ErrorKind::Mismatch,
                    "digest mismatch: nothing stored",
                ))
            }
            Err(e) => {
                self.store.keep(up.partial);
                Err(e)
            }
        }
    }

    /// An upload whose bytes cannot be trusted: a new one is deleted, a
    /// resume is put back as it was before it wrote (its kept prefix was
    /// another session's, and its digest was shown in `READY`).
    fn fail_upload(&mut self, mut up: Upload<S::Partial>) {
        if up.start == 0 {
            return self.store.discard(up.partial);
        }
        match self.store.truncate_partial(&mut up.partial, up.start) {
            Ok(()) => self.store.keep(up.partial),
            Err(_) => self.store.discard(up.partial),
        }
    }

    /// The upload in progress ends without a commit: its partial is kept
    /// for a resume, or (its bytes suspect) dealt with as a failed upload.
    pub fn abort(&mut self, keep_partial: bool) {
        if let Some(up) = self.upload.take() {
            if keep_partial {
                self.store.keep(up.partial);
            } else {
                self.fail_upload(up);
            }
        }
    }

    /// The session is over (the connection ended or broke): nothing is
    /// left open, and an upload's partial is kept for a resume.
    pub fn close(&mut self) {
        self.reading = None;
        self.abort(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::mem::MemStore;
    use crate::wire::transfer::Digest;
    use bytes::Bytes;

    fn files() -> Files<MemStore> {
        let mut store = MemStore::new();
        store.insert("f", Bytes::from_static(b"0123456789"));
        Files::new(store)
    }

    fn open(path: &str, offset: u64) -> Event {
        Event::OpenRead {
            path: path.into(),
            offset,
            version: None,
        }
    }

    fn begin(path: &str, size: u64, offset: u64) -> Event {
        Event::BeginUpload {
            path: path.into(),
            size,
            offset,
            replace: false,
            restart: false,
        }
    }

    fn commit(path: &str, data: &[u8]) -> Event {
        Event::CommitUpload {
            path: path.into(),
            size: data.len() as u64,
            digest: Digest::of(data),
        }
    }

    #[test]
    fn a_download_reads_in_order_to_the_end_and_is_checked_unchanged() {
        let mut f = files();
        let Some(Command::Opened(Ok(opened))) = f.answer(open("f", 0)) else {
            panic!("not opened")
        };
        assert_eq!((opened.size, opened.digest), (10, None));
        let mut got = alloc::vec::Vec::new();
        for _ in 0..5 {
            match f.answer(Event::ReadChunk { max: 4 }) {
                Some(Command::Chunk(b)) => got.extend_from_slice(&b),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, b"0123456789");
        let check = Event::CheckRead {
            digest: Digest::of(&got),
        };
        assert_eq!(f.answer(check), Some(Command::Checked(Ok(()))));
        assert_eq!(f.answer(Event::CloseRead), None);
        assert!(matches!(
            f.answer(Event::ReadChunk { max: 4 }),
            Some(Command::ReadFailed(_))
        ));
    }

    #[test]
    fn a_resumed_download_gets_the_whole_digest_and_a_stale_version_is_refused() {
        let mut f = files();
        let Some(Command::Opened(Ok(opened))) = f.answer(open("f", 4)) else {
            panic!("not opened")
        };
        assert_eq!(opened.digest, Some(Digest::of(b"0123456789")));
        let Some(Command::Chunk(b)) = f.answer(Event::ReadChunk { max: 64 }) else {
            panic!("no chunk")
        };
        assert_eq!(&b[..], b"456789", "reading starts at the offset");
        f.store_mut()
            .insert("f", Bytes::from_static(b"another file"));
        let stale = Event::OpenRead {
            path: "f".into(),
            offset: 4,
            version: Some(opened.version),
        };
        let Some(Command::Opened(Err(e))) = f.answer(stale) else {
            panic!("a changed file was opened")
        };
        assert_eq!(e.code, ErrorCode::Changed);
    }

    #[test]
    fn a_resumed_upload_shows_its_prefix_then_appends_and_commits() {
        let mut f = files();
        assert_eq!(
            f.answer(begin("up", 5, 0)),
            Some(Command::UploadReady(Ok(None)))
        );
        assert_eq!(
            f.answer(Event::WriteChunk(Bytes::from_static(b"abc"))),
            None
        );
        f.close();
        assert_eq!(
            f.store().partial("up"),
            Some(&b"abc"[..]),
            "kept for a resume"
        );
        assert_eq!(
            f.answer(begin("up", 5, 2)),
            Some(Command::UploadReady(Ok(Some(Digest::of(b"ab")))))
        );
        assert_eq!(
            f.store().partial("up"),
            Some(&b"abc"[..]),
            "nothing is cut before a byte comes"
        );
        assert_eq!(
            f.answer(Event::WriteChunk(Bytes::from_static(b"cde"))),
            None
        );
        assert_eq!(
            f.answer(commit("up", b"abcde")),
            Some(Command::Committed(Ok(())))
        );
        assert_eq!(f.store().file("up"), Some(&b"abcde"[..]));
    }

    #[test]
    fn the_bytes_as_stored_are_verified_and_a_failed_resume_is_put_back() {
        let mut f = files();
        f.store_mut().insert_partial("up", b"kept!".to_vec());
        assert!(matches!(
            f.answer(begin("up", 8, 5)),
            Some(Command::UploadReady(Ok(Some(_))))
        ));
        assert_eq!(
            f.answer(Event::WriteChunk(Bytes::from_static(b"xyz"))),
            None
        );
        // The client's digest is of other bytes than those stored.
        let Some(Command::Committed(Err(e))) = f.answer(commit("up", b"kept!XYZ")) else {
            panic!("committed bytes that do not match")
        };
        assert_eq!(e.code, ErrorCode::Mismatch);
        assert_eq!(f.store().file("up"), None);
        assert_eq!(
            f.store().partial("up"),
            Some(&b"kept!"[..]),
            "another session's kept prefix survives a failed resume"
        );
    }

    #[test]
    fn no_room_is_507_and_507_is_no_room() {
        let e = wkft_error(store::Error::new(ErrorKind::NoSpace, "disk full"));
        assert_eq!(e.code, ErrorCode::InsufficientStorage);
        let back = store::Error::from(e);
        assert_eq!(back.kind, ErrorKind::NoSpace);
        let full = wkft_error(store::Error::new(ErrorKind::Full, "too big"));
        assert_eq!(full.code, ErrorCode::TooLarge);
    }

    #[test]
    fn refusals_carry_wkft_codes_and_a_failed_write_ends_the_upload() {
        let mut f = Files::new(MemStore::new().with_quota(4));
        let Some(Command::UploadReady(Err(e))) = f.answer(begin("big", 9, 0)) else {
            panic!("over the quota")
        };
        assert_eq!(e.code, ErrorCode::TooLarge);
        assert_eq!(
            f.answer(begin("x", 4, 0)),
            Some(Command::UploadReady(Ok(None)))
        );
        let over = f.answer(Event::WriteChunk(Bytes::from_static(b"12345")));
        assert!(matches!(over, Some(Command::WriteFailed(_))), "{over:?}");
        assert_eq!(f.answer(Event::WriteChunk(Bytes::from_static(b"1"))), None);
        assert_eq!(
            f.answer(commit("x", b"1234")),
            None,
            "nothing commits after a failed write"
        );
        assert_eq!(f.store().file("x"), None);
    }
}

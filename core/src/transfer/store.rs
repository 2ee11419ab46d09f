//! WKFT/1's adapter of the store contract: the server machine's file
//! events answered from any [`Store`], and the contract's error kinds as
//! WKFT/1's codes. The native server runs it over the sandboxed disk, the
//! simulator and the tests over memory.

use super::StoreError;
use super::server::{Command, Event};
use crate::store::{self, ErrorKind, Store};
use crate::wire::transfer::ErrorCode;

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
}

/// The upload a session writes: WKFT/1 streams it in order, so the adapter
/// keeps the offsets the contract asks for.
#[derive(Debug)]
struct Upload<P> {
    partial: P,
    /// Where the next `WriteChunk` goes.
    written: u64,
    /// How much of the kept prefix was read back.
    prefix_read: u64,
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
            Event::OpenRead { path } => Command::Opened(
                self.store
                    .open_read(&path)
                    .map(|(file, size)| {
                        self.reading = Some(Reading { file, offset: 0 });
                        size
                    })
                    .map_err(wkft_error),
            ),
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
            Event::CloseRead => {
                self.reading = None;
                return None;
            }
            Event::BeginUpload {
                path,
                size,
                offset,
                replace,
            } => {
                self.abort(true);
                let created = if replace {
                    self.store.create_replacing(&path, size, offset)
                } else {
                    self.store.create_partial(&path, size, offset)
                };
                Command::UploadReady(
                    created
                        .map(|partial| {
                            self.upload = Some(Upload {
                                partial,
                                written: offset,
                                prefix_read: 0,
                                failed: false,
                            });
                        })
                        .map_err(wkft_error),
                )
            }
            Event::ReadPrefix { max } => match &mut self.upload {
                Some(up) => match self
                    .store
                    .read_partial(&mut up.partial, up.prefix_read, max)
                {
                    Ok(b) => {
                        up.prefix_read += b.len() as u64;
                        Command::Chunk(b)
                    }
                    Err(e) => Command::ReadFailed(wkft_error(e)),
                },
                None => Command::ReadFailed(StoreError::new(ErrorCode::Internal, "no partial")),
            },
            Event::WriteChunk(bytes) => {
                let up = self.upload.as_mut().filter(|up| !up.failed)?;
                match self.store.append(&mut up.partial, up.written, &bytes) {
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
            Event::CommitUpload { size, .. } => {
                let up = self.upload.take()?;
                if up.failed {
                    // The write failure was answered; the partial stays.
                    self.store.keep(up.partial);
                    return None;
                }
                Command::Committed(self.store.commit(up.partial, size).map_err(wkft_error))
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

    /// The upload in progress ends without a commit: its partial is kept
    /// for a resume, or deleted.
    pub fn abort(&mut self, keep_partial: bool) {
        if let Some(up) = self.upload.take() {
            if keep_partial {
                self.store.keep(up.partial);
            } else {
                self.store.discard(up.partial);
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

    #[test]
    fn a_download_reads_in_order_to_the_end() {
        let mut f = files();
        assert_eq!(
            f.answer(Event::OpenRead { path: "f".into() }),
            Some(Command::Opened(Ok(10)))
        );
        let mut got = alloc::vec::Vec::new();
        for _ in 0..5 {
            match f.answer(Event::ReadChunk { max: 4 }) {
                Some(Command::Chunk(b)) => got.extend_from_slice(&b),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, b"0123456789");
        assert_eq!(f.answer(Event::CloseRead), None);
        assert!(matches!(
            f.answer(Event::ReadChunk { max: 4 }),
            Some(Command::ReadFailed(_))
        ));
    }

    #[test]
    fn a_resumed_upload_reads_its_prefix_then_appends_and_commits() {
        let mut f = files();
        let begin = |offset| Event::BeginUpload {
            path: "up".into(),
            size: 5,
            offset,
            replace: false,
        };
        assert_eq!(f.answer(begin(0)), Some(Command::UploadReady(Ok(()))));
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
        assert_eq!(f.answer(begin(2)), Some(Command::UploadReady(Ok(()))));
        assert_eq!(
            f.answer(Event::ReadPrefix { max: 64 }),
            Some(Command::Chunk(Bytes::from_static(b"ab")))
        );
        assert_eq!(
            f.answer(Event::WriteChunk(Bytes::from_static(b"cde"))),
            None
        );
        let commit = Event::CommitUpload {
            path: "up".into(),
            size: 5,
            digest: Digest::of(b"abcde"),
        };
        assert_eq!(f.answer(commit), Some(Command::Committed(Ok(()))));
        assert_eq!(f.store().file("up"), Some(&b"abcde"[..]));
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
        let refused = f.answer(Event::BeginUpload {
            path: "big".into(),
            size: 9,
            offset: 0,
            replace: false,
        });
        let Some(Command::UploadReady(Err(e))) = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(e.code, ErrorCode::TooLarge);
        let begin = Event::BeginUpload {
            path: "x".into(),
            size: 4,
            offset: 0,
            replace: false,
        };
        assert_eq!(f.answer(begin), Some(Command::UploadReady(Ok(()))));
        let over = f.answer(Event::WriteChunk(Bytes::from_static(b"12345")));
        assert!(matches!(over, Some(Command::WriteFailed(_))), "{over:?}");
        assert_eq!(f.answer(Event::WriteChunk(Bytes::from_static(b"1"))), None);
        let commit = Event::CommitUpload {
            path: "x".into(),
            size: 4,
            digest: Digest::of(b"1234"),
        };
        assert_eq!(
            f.answer(commit),
            None,
            "nothing commits after a failed write"
        );
        assert_eq!(f.store().file("x"), None);
    }
}

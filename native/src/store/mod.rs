//! The server's disk: a sandbox under one root directory, answering the
//! file-transfer server machine's events.
//!
//! Two promises shape it. No request leaves the root, whatever the path
//! says (`..`, absolute paths, NUL, backslashes, links pointing out, device
//! files). And no upload appears under its final name until it is complete
//! and verified: bytes go to a *partial* (`.NAME.wkpart` beside the final
//! name), which is renamed into place only on commit. A dropped connection,
//! a crash or Ctrl-C leaves at most a partial, which a later `PUT` with an
//! offset resumes.
//!
//! Each protocol answers from it through the core's store contract: WKFT/1
//! through [`wkft`], TFTP through [`tftp`], each a thin adapter.

pub mod space;
pub mod tftp;
pub mod wkft;

use bytes::Bytes;
use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use wirekit_core::transfer::{Entry, ErrorCode, Kind, Stat, StoreError};
use wirekit_core::wire::transfer::{MAX_NAME, MAX_PATH};

/// The suffix of a kept, unfinished upload.
pub const PARTIAL_SUFFIX: &str = ".wkpart";

/// The sandbox. Cheap to clone: sessions share the set of uploads in flight.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
    read_only: bool,
    uploading: Arc<Mutex<BTreeSet<PathBuf>>>,
    /// Room for uploads and the partials they leave (shared by clones).
    space: space::Space,
    /// The WKFT/1 session this clone serves (0: none), for the cap on the
    /// partials one session leaves behind.
    session: u64,
}

/// Session numbers, from 1.
static SESSIONS: AtomicU64 = AtomicU64::new(1);

fn denied(why: &str) -> StoreError {
    StoreError::new(ErrorCode::Denied, why)
}

/// Maps an operating-system error to the protocol's codes. A missing or
/// forbidden file is said in the protocol's own words (the specification's
/// session shows `ERR 404 not found`); other errors keep the system's text,
/// which is what an operator needs.
pub fn store_error(e: &io::Error) -> StoreError {
    let code = match e.kind() {
        io::ErrorKind::NotFound => return StoreError::from_code(ErrorCode::NotFound),
        io::ErrorKind::PermissionDenied => return StoreError::from_code(ErrorCode::Denied),
        // `LIST file`, or a path through a file: the request, not the disk.
        io::ErrorKind::NotADirectory => {
            return StoreError::new(ErrorCode::BadRequest, "not a directory");
        }
        io::ErrorKind::ReadOnlyFilesystem => ErrorCode::Denied,
        io::ErrorKind::AlreadyExists => ErrorCode::Exists,
        // A per-file limit (RLIMIT_FSIZE) is the upload's size; a full disk
        // or a spent disk quota is no room, which may pass (WKFT/1.1's 507).
        io::ErrorKind::FileTooLarge => ErrorCode::TooLarge,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => ErrorCode::InsufficientStorage,
        _ => ErrorCode::Internal,
    };
    let mut text = e.to_string().replace(['\r', '\n'], " ");
    text.truncate(150);
    StoreError::new(code, text)
}

// ANCHOR: check_path
/// Checks a protocol path's text, before the disk is consulted.
///
/// The rules are strict on purpose: a path that could mean something else on
/// another system, or that names the store's own partials, is refused.
pub fn check_path(path: &str) -> Result<Vec<&str>, StoreError> {
    if path.is_empty() {
        return Err(denied("empty path"));
    }
    if path.len() > MAX_PATH {
        return Err(StoreError::new(ErrorCode::TooLarge, "path too long"));
    }
    if path.starts_with('/') {
        return Err(denied("absolute paths are not allowed"));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(denied(
            "control characters (NUL, line ends) are not allowed",
        ));
    }
    if path.contains('\\') {
        return Err(denied("backslashes are not allowed; use /"));
    }
    let segments: Vec<&str> = path.split('/').collect();
    for seg in &segments {
        match *seg {
            "" => return Err(denied("empty path segment")),
            "." | ".." => return Err(denied("'.' and '..' are not allowed")),
            s if s.starts_with('.') => return Err(denied("hidden names are not served")),
            s if s.len() > MAX_NAME => {
                return Err(StoreError::new(ErrorCode::TooLarge, "name too long"));
            }
            s if s.contains(':') => return Err(denied("':' is not allowed in names")),
            _ => {}
        }
    }
    Ok(segments)
}

// ANCHOR_END: check_path
impl Store {
    /// A store rooted at `root`, which must be a directory.
    pub fn open(root: &Path, read_only: bool) -> io::Result<Store> {
        let root = root.canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(Store {
            space: space::Space::new(&root, space::Limits::default()),
            root,
            read_only,
            uploading: Arc::default(),
            session: 0,
        })
    }

    /// The same store with these limits on the room uploads take.
    pub fn with_limits(mut self, limits: space::Limits) -> Store {
        self.space = space::Space::new(&self.root, limits);
        self
    }

    /// The accounting of the store's room (to sweep it).
    pub fn space(&self) -> &space::Space {
        &self.space
    }

    /// The root directory, canonical.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh WKFT/1 session's view of the store.
    pub fn session(&self) -> wkft::WkftSession {
        let mut store = self.clone();
        store.session = SESSIONS.fetch_add(1, Ordering::Relaxed);
        wkft::WkftSession::new(store)
    }

    /// Turns a protocol path into a path on disk inside the root, refusing
    /// anything that would leave it. The result may not exist.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, StoreError> {
        let segments = check_path(path)?;
        let mut full = self.root.clone();
        for seg in segments {
            full.push(seg);
            match fs::symlink_metadata(&full) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    // A link is fine while it stays inside the root.
                    let target = full.canonicalize().map_err(|e| store_error(&e))?;
                    if !target.starts_with(&self.root) {
                        return Err(denied("link points outside the root"));
                    }
                }
                Ok(_) => {}
                // What does not exist yet cannot point anywhere.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(store_error(&e)),
            }
        }
        debug_assert!(
            full.components()
                .all(|c| !matches!(c, Component::ParentDir))
        );
        Ok(full)
    }

    fn partial_of(final_path: &Path) -> Option<PathBuf> {
        let name = final_path.file_name()?.to_str()?;
        Some(final_path.with_file_name(format!(".{name}{PARTIAL_SUFFIX}")))
    }

    /// What is at `path`: a file, a directory, or a kept partial upload.
    pub fn stat(&self, path: &str) -> Result<Stat, StoreError> {
        let full = self.resolve(path)?;
        match fs::metadata(&full) {
            Ok(m) if m.is_file() => Ok(Stat {
                kind: Kind::File,
                size: m.len(),
            }),
            Ok(m) if m.is_dir() => Ok(Stat {
                kind: Kind::Dir,
                size: 0,
            }),
            Ok(_) => Err(denied("not a regular file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let part = Self::partial_of(&full).ok_or_else(|| denied("bad name"))?;
                match fs::metadata(part) {
                    Ok(m) if m.is_file() => Ok(Stat {
                        kind: Kind::Partial,
                        size: m.len(),
                    }),
                    _ => Err(StoreError::from_code(ErrorCode::NotFound)),
                }
            }
            Err(e) => Err(store_error(&e)),
        }
    }

    /// The entries of a directory (the root for `None`), sorted by name.
    pub fn list(&self, path: Option<&str>) -> Result<Vec<Entry>, StoreError> {
        let dir = match path {
            None => self.root.clone(),
            Some(p) => self.resolve(p)?,
        };
        let mut entries = Vec::new();
        for item in fs::read_dir(&dir).map_err(|e| store_error(&e))? {
            let item = item.map_err(|e| store_error(&e))?;
            let Some(name) = item.file_name().to_str().map(str::to_owned) else {
                continue; // not UTF-8: the protocol cannot name it
            };
            let entry = if let Some(base) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(PARTIAL_SUFFIX))
            {
                let size = item.metadata().map(|m| m.len()).unwrap_or(0);
                Entry {
                    name: base.to_owned(),
                    kind: Kind::Partial,
                    size,
                }
            } else if check_path(&name).is_err() {
                continue;
            } else {
                // Follow links, but only those that stay inside.
                let full = dir.join(&name);
                match full.canonicalize() {
                    Ok(t) if t.starts_with(&self.root) => {}
                    _ => continue,
                }
                match fs::metadata(&full) {
                    Ok(m) if m.is_file() => Entry {
                        name,
                        kind: Kind::File,
                        size: m.len(),
                    },
                    Ok(m) if m.is_dir() => Entry {
                        name,
                        kind: Kind::Dir,
                        size: 0,
                    },
                    _ => continue,
                }
            };
            if entry.name.contains(' ') || check_path(&entry.name).is_err() {
                continue;
            }
            entries.push(entry);
        }
        entries.sort_by(|a, b| (&a.name, a.kind as u8).cmp(&(&b.name, b.kind as u8)));
        // Paging (WKFT/1.1) or refusing a long listing (1.0's 413) is the
        // machine's part: the store hands over the whole directory.
        Ok(entries)
    }

    /// Opens a complete regular file for reading; returns it and its size.
    pub fn open_read(&self, path: &str) -> Result<(File, u64), StoreError> {
        let full = self.resolve(path)?;
        let meta = fs::metadata(&full).map_err(|e| store_error(&e))?;
        if meta.is_dir() {
            return Err(StoreError::new(ErrorCode::BadRequest, "is a directory"));
        }
        if !meta.is_file() {
            // Devices, pipes, sockets: reading them could block or never end.
            return Err(denied("not a regular file"));
        }
        let file = File::open(&full).map_err(|e| store_error(&e))?;
        Ok((file, meta.len()))
    }

    /// Removes the file at `path` and any partial of that name (WKFT/1.1's
    /// `DELETE`). An upload in progress to the name makes it busy.
    pub fn remove(&self, path: &str) -> Result<(), StoreError> {
        if self.read_only {
            return Err(denied("the server is read-only"));
        }
        let full = self.resolve(path)?;
        let _lock = UploadLock::take(&self.uploading, full.clone())?;
        let part = Self::partial_of(&full).ok_or_else(|| denied("bad name"))?;
        let file = match fs::symlink_metadata(&full) {
            Ok(m) if m.is_dir() => return Err(denied("a directory is not deleted")),
            Ok(m) => fs::remove_file(&full).map(|()| Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
        .map_err(|e| store_error(&e))?;
        self.space.removed(&part, file.unwrap_or(0));
        let file = file.is_some();
        let partial = match fs::remove_file(&part) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(store_error(&e)),
        };
        if !(file || partial) {
            return Err(StoreError::from_code(ErrorCode::NotFound));
        }
        tracing::info!(path, "deleted");
        Ok(())
    }

    /// Starts (or, with `offset > 0`, resumes) an upload to `path` into its
    /// partial; nothing appears under `path` before [`Upload::commit`]. With
    /// `replace`, a complete file there is no refusal: the commit takes its
    /// place in one rename, so a failed upload leaves it as it was.
    pub fn begin_upload(
        &self,
        path: &str,
        size: u64,
        offset: u64,
        replace: bool,
    ) -> Result<Upload, StoreError> {
        if self.read_only {
            return Err(denied("the server is read-only"));
        }
        let full = self.resolve(path)?;
        let parent = full.parent().ok_or_else(|| denied("bad path"))?;
        if !parent.is_dir() {
            return Err(StoreError::new(ErrorCode::NotFound, "no such directory"));
        }
        // The partial's name is the final one and 8 bytes more, and the
        // disk's limit is 255: say so rather than fail at the open.
        let name_len = full.file_name().map_or(0, |n| n.len());
        if name_len + 1 + PARTIAL_SUFFIX.len() > MAX_NAME {
            return Err(StoreError::new(
                ErrorCode::TooLarge,
                format!(
                    "name too long to upload: at most {} bytes",
                    MAX_NAME - 1 - PARTIAL_SUFFIX.len()
                ),
            ));
        }
        match fs::symlink_metadata(&full) {
            Ok(m) if m.is_file() && replace => {}
            Ok(m) if m.is_dir() => {
                return Err(StoreError::new(
                    ErrorCode::Exists,
                    "a directory has that name",
                ));
            }
            Ok(_) => return Err(StoreError::from_code(ErrorCode::Exists)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(store_error(&e)),
        }
        let lock = UploadLock::take(&self.uploading, full.clone())?;
        let part = Self::partial_of(&full).ok_or_else(|| denied("bad name"))?;
        // Before the open: no sweep removes the partial from under it.
        let room = self.space.reserve(&part, size, offset, self.session)?;
        // Read as well as written: a resume reads its kept prefix back.
        let file = if offset == 0 {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&part)
                .map_err(|e| store_error(&e))?
        } else {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&part)
                .map_err(|_| StoreError::new(ErrorCode::NotFound, "no partial upload to resume"))?;
            let kept = file.metadata().map_err(|e| store_error(&e))?.len();
            if kept < offset {
                return Err(StoreError::new(
                    ErrorCode::NotFound,
                    format!("the partial holds only {kept} bytes"),
                ));
            }
            file.set_len(offset).map_err(|e| store_error(&e))?;
            file
        };
        tracing::info!(path, size, offset, replace, "upload begins");
        Ok(Upload {
            final_path: full,
            part,
            file,
            replace,
            room,
            _lock: lock,
        })
    }
}

/// Marks a final path as being uploaded, for as long as it lives: the second
/// of two simultaneous uploads to one name is refused, not interleaved.
#[derive(Debug)]
struct UploadLock {
    set: Arc<Mutex<BTreeSet<PathBuf>>>,
    path: PathBuf,
}

impl UploadLock {
    fn take(set: &Arc<Mutex<BTreeSet<PathBuf>>>, path: PathBuf) -> Result<Self, StoreError> {
        let mut held = set.lock().unwrap_or_else(PoisonError::into_inner);
        if !held.insert(path.clone()) {
            return Err(StoreError::new(
                ErrorCode::Busy,
                "another upload to this path is in progress",
            ));
        }
        Ok(UploadLock {
            set: Arc::clone(set),
            path,
        })
    }
}

impl Drop for UploadLock {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.path);
    }
}

/// An upload in progress: a partial file and the lock on its final name.
#[derive(Debug)]
pub struct Upload {
    final_path: PathBuf,
    part: PathBuf,
    file: File,
    /// The commit may take the place of a complete file.
    replace: bool,
    /// The room promised to it.
    room: space::Reservation,
    _lock: UploadLock,
}

impl Upload {
    /// Writes `data` at `offset` of the partial.
    pub fn write_at(&self, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        use std::os::unix::fs::FileExt;
        self.file
            .write_all_at(data, offset)
            .map_err(|e| self.room.write_failed(&self.file, &e))?;
        self.room.wrote(offset + data.len() as u64);
        Ok(())
    }

    /// Deletes the partial.
    pub fn discard(self) {
        // Gone already when a full disk's write gave it back.
        if let Err(e) = fs::remove_file(&self.part)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(part = %self.part.display(), "could not remove partial: {e}");
        }
        self.room.discarded();
    }

    /// Checks the partial holds `size` bytes and renames it into place; a
    /// partial that cannot be committed is removed.
    pub fn commit(self, size: u64) -> Result<(), StoreError> {
        // The bytes a replacing commit frees, for the quota's count.
        let replaced = match self.replace {
            true => fs::metadata(&self.final_path).map_or(0, |m| m.len()),
            false => 0,
        };
        let result = self.rename_into_place(size);
        match result {
            Ok(()) => self.room.committed(size, replaced),
            Err(_) => {
                if let Err(e) = fs::remove_file(&self.part) {
                    tracing::warn!(part = %self.part.display(), "could not remove partial: {e}");
                }
                self.room.discarded();
            }
        }
        result
    }

    fn rename_into_place(&self, size: u64) -> Result<(), StoreError> {
        self.file.sync_all().map_err(|e| store_error(&e))?;
        let len = self.file.metadata().map_err(|e| store_error(&e))?.len();
        if len != size {
            return Err(StoreError::new(
                ErrorCode::Mismatch,
                format!("{len} bytes on disk, {size} announced"),
            ));
        }
        if !self.replace && self.final_path.exists() {
            return Err(StoreError::from_code(ErrorCode::Exists));
        }
        fs::rename(&self.part, &self.final_path).map_err(|e| store_error(&e))?;
        Ok(())
    }
}

/// Reads `len` bytes at `offset`, fewer only at the end of the file.
pub fn read_exact_at(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
    let mut buf = vec![0; len];
    let mut got = 0;
    while got < len {
        let n = file.read_at(buf.get_mut(got..).unwrap_or_default(), offset + got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    buf.truncate(got);
    Ok(Bytes::from(buf))
}

/// A window of the file read in one system call and handed out block by
/// block: lock-step TFTP asks for 512 bytes at a time, and a read per block
/// made our server slower than tftpd-hpa's buffered one.
#[derive(Debug, Default)]
pub struct ReadAhead {
    start: u64,
    buf: Bytes,
}

impl ReadAhead {
    const SIZE: usize = 256 * 1024;

    fn read(&mut self, file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
        let end = offset.saturating_add(len as u64);
        let have = self.start + self.buf.len() as u64;
        let inside = offset >= self.start && end <= have;
        if !inside {
            self.start = offset;
            self.buf = read_exact_at(file, offset, len.max(Self::SIZE))?;
        }
        let from = (offset - self.start) as usize;
        let to = (from + len).min(self.buf.len());
        Ok(self.buf.slice(from.min(to)..to))
    }
}

/// A file open for reading, with its read-ahead window.
#[derive(Debug)]
pub struct Reading {
    file: File,
    ahead: ReadAhead,
}

/// The core's store contract over the sandbox: what every protocol's
/// adapter (TFTP's here) answers from.
impl wirekit_core::store::Store for Store {
    type Reader = Reading;
    type Partial = Upload;

    fn list(&self, dir: Option<&str>) -> Result<Vec<Entry>, wirekit_core::store::Error> {
        Store::list(self, dir).map_err(Into::into)
    }

    fn stat(&self, path: &str) -> Result<Stat, wirekit_core::store::Error> {
        Store::stat(self, path).map_err(Into::into)
    }

    fn open_read(&mut self, path: &str) -> Result<(Reading, u64), wirekit_core::store::Error> {
        let (file, size) = Store::open_read(self, path)?;
        let ahead = ReadAhead::default();
        Ok((Reading { file, ahead }, size))
    }

    fn read_at(
        &mut self,
        r: &mut Reading,
        offset: u64,
        len: usize,
    ) -> Result<Bytes, wirekit_core::store::Error> {
        r.ahead
            .read(&r.file, offset, len)
            .map_err(|e| store_error(&e).into())
    }

    fn create_partial(
        &mut self,
        path: &str,
        size: u64,
        offset: u64,
    ) -> Result<Upload, wirekit_core::store::Error> {
        self.begin_upload(path, size, offset, false)
            .map_err(Into::into)
    }

    fn create_replacing(
        &mut self,
        path: &str,
        size: u64,
        offset: u64,
    ) -> Result<Upload, wirekit_core::store::Error> {
        self.begin_upload(path, size, offset, true)
            .map_err(Into::into)
    }

    fn remove(&mut self, path: &str) -> Result<(), wirekit_core::store::Error> {
        Store::remove(self, path).map_err(Into::into)
    }

    fn append(
        &mut self,
        up: &mut Upload,
        offset: u64,
        data: &[u8],
    ) -> Result<(), wirekit_core::store::Error> {
        up.write_at(offset, data).map_err(Into::into)
    }

    fn read_partial(
        &mut self,
        up: &mut Upload,
        offset: u64,
        len: usize,
    ) -> Result<Bytes, wirekit_core::store::Error> {
        read_exact_at(&up.file, offset, len).map_err(|e| store_error(&e).into())
    }

    fn commit(&mut self, up: Upload, size: u64) -> Result<(), wirekit_core::store::Error> {
        up.commit(size).map_err(Into::into)
    }

    fn discard(&mut self, up: Upload) {
        up.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_of(len: usize) -> (tempfile::TempDir, File, Vec<u8>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &body).expect("write");
        let file = File::open(&path).expect("open");
        (dir, file, body)
    }

    #[test]
    fn read_ahead_hands_out_exact_blocks_and_a_short_last_one() {
        let len = ReadAhead::SIZE + 1000;
        let (_dir, file, body) = file_of(len);
        let mut ahead = ReadAhead::default();
        let mut offset = 0;
        while offset < len {
            let got = ahead.read(&file, offset as u64, 512).expect("read");
            let want = body.get(offset..(offset + 512).min(len)).expect("in range");
            assert_eq!(&got[..], want, "at {offset}");
            offset += 512;
        }
        // Past the end: nothing, not an error.
        assert!(
            ahead
                .read(&file, len as u64 + 10, 512)
                .expect("read")
                .is_empty()
        );
        // Backwards (a retransmission after a window restart) still right.
        let again = ahead.read(&file, 0, 512).expect("read");
        assert_eq!(&again[..], body.get(..512).expect("in range"));
    }

    #[test]
    fn read_exact_at_reads_fewer_only_at_the_end() {
        let (_dir, file, body) = file_of(3000);
        assert_eq!(
            &read_exact_at(&file, 100, 1000).expect("read")[..],
            &body[100..1100]
        );
        assert_eq!(read_exact_at(&file, 2500, 1000).expect("read").len(), 500);
    }
}

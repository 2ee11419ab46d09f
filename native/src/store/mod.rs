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
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, XattrFlags};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use wirekit_core::store::{Begin, partial_differs, partial_waits};
use wirekit_core::transfer::store::wkft_error;
use wirekit_core::transfer::{Digest, Entry, ErrorCode, Kind, Stat, StoreError};
use wirekit_core::wire::transfer::{MAX_NAME, MAX_PATH, MAX_PUT_NAME, Version};

/// The suffix of a kept, unfinished upload.
pub const PARTIAL_SUFFIX: &str = ".wkpart";

// The protocol's limit on uploadable names is this store's partial naming.
const _: () = assert!(MAX_NAME - 1 - PARTIAL_SUFFIX.len() == MAX_PUT_NAME);

/// The sandbox. Cheap to clone: sessions share the set of uploads in
/// flight and the digests already worked out.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
    read_only: bool,
    uploading: Arc<Mutex<BTreeSet<LockKey>>>,
    digests: Arc<Mutex<DigestCache>>,
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

/// A name in a directory held open: every operation on the name goes
/// through the handle, so a link swapped into the path after it was
/// checked is never followed.
#[derive(Debug)]
struct Place {
    dir: File,
    name: String,
    /// The name's path through canonical directories, for the books of
    /// [`space`] (never opened by path).
    full: PathBuf,
}

/// What identifies a file or a directory whatever path reaches it.
type FileId = (u64, u64);

/// The name of an upload's lock: the directory's identity and the name in
/// it, so that two paths through links to one directory are one lock.
type LockKey = (FileId, String);

fn id_of(meta: &fs::Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// A file's version token: its identity, size and modification time, which
/// every write moves. Not its ctime: that moves on a rename or a chmod too,
/// which change no byte (a file renamed away while it is sent is still sent
/// whole). A local user who writes into the store and sets the mtime back
/// is not a peer the protocol defends against.
fn version_of(meta: &fs::Metadata) -> Version {
    let mut h = blake3::Hasher::new();
    for n in [meta.dev(), meta.ino(), meta.size()] {
        h.update(&n.to_le_bytes());
    }
    h.update(&meta.mtime().to_le_bytes());
    h.update(&meta.mtime_nsec().to_le_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(h.finalize().as_bytes().get(..8).unwrap_or(&[0; 8]));
    Version(u64::from_le_bytes(first))
}

/// Digests of files already hashed, by file identity and version: a resumed
/// `GET` of a file served before costs no re-read, and an upload's commit
/// leaves its digest here for the first download.
#[derive(Debug, Default)]
struct DigestCache {
    known: HashMap<FileId, (Version, Digest)>,
    order: VecDeque<FileId>,
}

impl DigestCache {
    /// Enough for a big tree; a digest and its keys are under 100 bytes.
    const MAX: usize = 16_384;

    fn get(&self, id: FileId, version: Version) -> Option<Digest> {
        self.known
            .get(&id)
            .filter(|(v, _)| *v == version)
            .map(|&(_, d)| d)
    }

    fn put(&mut self, id: FileId, version: Version, digest: Digest) {
        if self.known.insert(id, (version, digest)).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > Self::MAX {
            if let Some(old) = self.order.pop_front() {
                self.known.remove(&old);
            }
        }
    }
}

const ANNOUNCED: &str = "user.wirekit.size";

/// The size an upload announced, kept with its partial so that a resume
/// announcing another size is told it resumes another file's bytes. Where
/// the filesystem keeps no extended attributes, no size is known and only
/// the prefix digest in `READY` protects the partial.
fn announce(file: &File, size: u64) {
    let text = size.to_string();
    if let Err(e) = rustix::fs::fsetxattr(file, ANNOUNCED, text.as_bytes(), XattrFlags::empty()) {
        tracing::debug!("cannot record the announced size: {e}");
    }
}

fn announced(file: &File) -> Option<u64> {
    let mut buf = [0u8; 24];
    let n = rustix::fs::fgetxattr(file, ANNOUNCED, &mut buf).ok()?;
    std::str::from_utf8(buf.get(..n)?).ok()?.parse().ok()
}

fn rustix_error(e: rustix::io::Errno) -> StoreError {
    if e == rustix::io::Errno::LOOP {
        return denied("the path changed while it was resolved");
    }
    store_error(&io::Error::from(e))
}

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
            digests: Arc::default(),
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
        wkft::WkftSession::new(self.for_session())
    }

    /// The store as one session uses it: numbered, for the cap on the
    /// partials a session leaves behind.
    pub fn for_session(&self) -> Store {
        let mut store = self.clone();
        store.session = SESSIONS.fetch_add(1, Ordering::Relaxed);
        store
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

    /// Opens the directory at `dir` (canonical, inside the root) one
    /// component at a time from the root, following no link.
    fn open_dir(&self, dir: &Path) -> Result<File, StoreError> {
        let rel = dir
            .strip_prefix(&self.root)
            .map_err(|_| denied("link points outside the root"))?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut here = File::open(&self.root).map_err(|e| store_error(&e))?;
        for part in rel.components() {
            let Component::Normal(part) = part else {
                return Err(denied("bad path"));
            };
            let next = rustix::fs::openat(&here, part, flags, Mode::empty()).map_err(|e| {
                if e == rustix::io::Errno::NOTDIR {
                    StoreError::new(ErrorCode::BadRequest, "not a directory")
                } else {
                    rustix_error(e)
                }
            })?;
            here = File::from(next);
        }
        Ok(here)
    }

    /// Where `path` is: its directory held open and its name there. With
    /// `follow`, a final link (inside the root) is followed to its target;
    /// without, the name is the link itself (an upload replaces a link, it
    /// never writes through one).
    fn place(&self, path: &str, follow: bool) -> Result<Place, StoreError> {
        let full = self.resolve(path)?;
        let full = match full.canonicalize() {
            Ok(target) if follow => target,
            _ => full,
        };
        let name = full
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| denied("bad name"))?
            .to_owned();
        let parent = full.parent().ok_or_else(|| denied("bad path"))?;
        let parent = match parent.canonicalize() {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::new(ErrorCode::NotFound, "no such directory"));
            }
            Err(e) => return Err(store_error(&e)),
        };
        if !parent.starts_with(&self.root) {
            return Err(denied("link points outside the root"));
        }
        let dir = self.open_dir(&parent)?;
        let full = parent.join(&name);
        Ok(Place { dir, name, full })
    }

    fn lock_key(place: &Place) -> Result<LockKey, StoreError> {
        let meta = place.dir.metadata().map_err(|e| store_error(&e))?;
        Ok((id_of(&meta), place.name.clone()))
    }

    fn partial_name(name: &str) -> String {
        format!(".{name}{PARTIAL_SUFFIX}")
    }

    fn partial_of(final_path: &Path) -> Option<PathBuf> {
        let name = final_path.file_name()?.to_str()?;
        Some(final_path.with_file_name(Self::partial_name(name)))
    }

    /// What is at `path`: a file, a directory, or a kept partial upload.
    pub fn stat(&self, path: &str) -> Result<Stat, StoreError> {
        let full = self.resolve(path)?;
        match fs::metadata(&full) {
            Ok(m) if m.is_file() => Ok(Stat {
                kind: Kind::File,
                size: m.len(),
                version: Some(version_of(&m)),
            }),
            Ok(m) if m.is_dir() => Ok(Stat::of(Kind::Dir, 0)),
            Ok(_) => Err(denied("not a regular file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let part = Self::partial_of(&full).ok_or_else(|| denied("bad name"))?;
                match fs::metadata(part) {
                    Ok(m) if m.is_file() => Ok(Stat::of(Kind::Partial, m.len())),
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
            // Names with spaces are the protocol's to carry (WKFT/1.1
            // escapes them) or leave out (a 1.0 listing): the machine decides.
            if check_path(&entry.name).is_err() {
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
        let place = self.place(path, true)?;
        // Non-blocking: opening a FIFO must not wait for a writer.
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let file = rustix::fs::openat(&place.dir, place.name.as_str(), flags, Mode::empty())
            .map(File::from)
            .map_err(rustix_error)?;
        let meta = file.metadata().map_err(|e| store_error(&e))?;
        if meta.is_dir() {
            return Err(StoreError::new(ErrorCode::BadRequest, "is a directory"));
        }
        if !meta.is_file() {
            // Devices, pipes, sockets: reading them could block or never end.
            return Err(denied("not a regular file"));
        }
        Ok((file, meta.len()))
    }

    /// Removes the file at `path` and any partial of that name (WKFT/1.1's
    /// `DELETE`). An upload in progress to the name makes it busy.
    pub fn remove(&self, path: &str) -> Result<(), StoreError> {
        if self.read_only {
            return Err(denied("the server is read-only"));
        }
        let place = self.place(path, false)?;
        let _lock = UploadLock::take(&self.uploading, Self::lock_key(&place)?)?;
        let len = rustix::fs::statat(&place.dir, place.name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
            .map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0));
        let unlink = |name: &str| match rustix::fs::unlinkat(&place.dir, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(rustix::io::Errno::NOENT) => Ok(false),
            Err(rustix::io::Errno::ISDIR) => Err(denied("a directory is not deleted")),
            Err(e) => Err(rustix_error(e)),
        };
        let file = unlink(&place.name)?;
        let part = Self::partial_name(&place.name);
        let partial = unlink(&part)?;
        self.space
            .removed(&place.full.with_file_name(part), if file { len } else { 0 });
        if !(file || partial) {
            return Err(StoreError::from_code(ErrorCode::NotFound));
        }
        tracing::info!(path, "deleted");
        Ok(())
    }

    /// Starts (or, with an offset, resumes) an upload to `path` into its
    /// partial; nothing appears under `path` before [`Upload::commit`]. The
    /// rules are the store contract's ([`Begin`]): a partial belongs to the
    /// upload that announced its size, and with `replace` the commit takes
    /// the place of a complete file in one rename.
    pub fn begin_upload(&self, path: &str, how: Begin) -> Result<Upload, StoreError> {
        let Begin {
            size,
            offset,
            replace,
            restart,
        } = how;
        if self.read_only {
            return Err(denied("the server is read-only"));
        }
        let place = self.place(path, false)?;
        // The partial's name is the final one and 8 bytes more, and the
        // disk's limit is 255: say so rather than fail at the open.
        if place.name.len() + 1 + PARTIAL_SUFFIX.len() > MAX_NAME {
            return Err(StoreError::new(
                ErrorCode::TooLarge,
                format!(
                    "name too long to upload: at most {} bytes",
                    MAX_NAME - 1 - PARTIAL_SUFFIX.len()
                ),
            ));
        }
        match rustix::fs::statat(&place.dir, place.name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                return Err(StoreError::new(
                    ErrorCode::Exists,
                    "a directory has that name",
                ));
            }
            Ok(st) if replace && FileType::from_raw_mode(st.st_mode) == FileType::RegularFile => {}
            Ok(_) => return Err(StoreError::from_code(ErrorCode::Exists)),
            Err(rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(rustix_error(e)),
        }
        let lock = UploadLock::take(&self.uploading, Self::lock_key(&place)?)?;
        let part = Self::partial_name(&place.name);
        // Before the open: no sweep removes the partial from under it.
        let room = self.space.reserve(
            &place.full.with_file_name(&part),
            size,
            offset,
            self.session,
        )?;
        // Read as well as written: the adapter reads the partial back to
        // hash it (a resume's prefix, and every upload as stored).
        let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let existing = match rustix::fs::openat(&place.dir, part.as_str(), flags, Mode::empty()) {
            Ok(fd) => Some(File::from(fd)),
            Err(rustix::io::Errno::NOENT) => None,
            Err(e) => return Err(rustix_error(e)),
        };
        let file = match existing {
            Some(file) => {
                let kept = file.metadata().map_err(|e| store_error(&e))?.len();
                let theirs = announced(&file);
                if offset == 0 && kept > 0 && !restart {
                    return Err(wkft_error(partial_waits(kept, theirs)));
                }
                if offset > 0 && kept < offset {
                    return Err(StoreError::new(
                        ErrorCode::NotFound,
                        format!("the partial holds only {kept} bytes"),
                    ));
                }
                if offset > 0
                    && let Some(theirs) = theirs.filter(|&n| n != size)
                {
                    return Err(wkft_error(partial_differs(theirs, size)));
                }
                if offset == 0 {
                    file.set_len(0).map_err(|e| store_error(&e))?;
                }
                file
            }
            None if offset > 0 => {
                return Err(StoreError::new(
                    ErrorCode::NotFound,
                    "no partial upload to resume",
                ));
            }
            None => {
                let create = flags | OFlags::CREATE | OFlags::EXCL;
                let mode = Mode::from_raw_mode(0o644);
                rustix::fs::openat(&place.dir, part.as_str(), create, mode)
                    .map(File::from)
                    .map_err(rustix_error)?
            }
        };
        announce(&file, size);
        tracing::info!(path, size, offset, replace, restart, "upload begins");
        Ok(Upload {
            place,
            part,
            file,
            replace,
            digests: Arc::clone(&self.digests),
            room,
            _lock: lock,
        })
    }
}

/// Marks a final name (its directory's identity and the name) as being
/// uploaded, for as long as it lives: the second of two simultaneous
/// uploads to one file is refused, not interleaved, whatever paths they
/// came by.
#[derive(Debug)]
struct UploadLock {
    set: Arc<Mutex<BTreeSet<LockKey>>>,
    key: LockKey,
}

impl UploadLock {
    fn take(set: &Arc<Mutex<BTreeSet<LockKey>>>, key: LockKey) -> Result<Self, StoreError> {
        let mut held = set.lock().unwrap_or_else(PoisonError::into_inner);
        if !held.insert(key.clone()) {
            return Err(StoreError::new(
                ErrorCode::Busy,
                "another upload to this path is in progress",
            ));
        }
        Ok(UploadLock {
            set: Arc::clone(set),
            key,
        })
    }
}

impl Drop for UploadLock {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

/// An upload in progress: a partial file and the lock on its final name.
#[derive(Debug)]
pub struct Upload {
    place: Place,
    /// The partial's name in `place.dir`.
    part: String,
    file: File,
    /// The commit may take the place of a complete file.
    replace: bool,
    digests: Arc<Mutex<DigestCache>>,
    /// The room promised to it.
    room: space::Reservation,
    _lock: UploadLock,
}

impl Upload {
    /// Writes `data` at `offset` of the partial.
    pub fn write_at(&self, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all_at(data, offset)
            .map_err(|e| self.room.write_failed(&self.file, &e))?;
        self.room.wrote(offset + data.len() as u64);
        Ok(())
    }

    /// Cuts the partial to `len` bytes.
    pub fn truncate(&self, len: u64) -> Result<(), StoreError> {
        self.file.set_len(len).map_err(|e| store_error(&e))
    }

    /// Deletes the partial.
    pub fn discard(self) {
        self.unlink_partial();
        self.room.discarded();
    }

    fn unlink_partial(&self) {
        // Gone already when a full disk's write gave it back.
        match rustix::fs::unlinkat(&self.place.dir, self.part.as_str(), AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => {}
            Err(e) => tracing::warn!(part = self.part, "could not remove partial: {e}"),
        }
    }

    /// Checks the partial holds `size` bytes and renames it into place,
    /// durably; a partial that cannot be committed is removed. `digest` is
    /// remembered for the new file.
    pub fn commit(self, size: u64, digest: Option<Digest>) -> Result<(), StoreError> {
        // The bytes a replacing commit frees, for the quota's count.
        let replaced = match self.replace {
            true => rustix::fs::statat(&self.place.dir, self.place.name.as_str(), AtFlags::empty())
                .map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0)),
            false => 0,
        };
        let result = self.rename_into_place(size);
        match (&result, digest) {
            (Err(_), _) => {
                self.unlink_partial();
                self.room.discarded();
            }
            (Ok(()), digest) => {
                // The file is the partial renamed: same inode, same version.
                if let (Some(d), Ok(meta)) = (digest, self.file.metadata()) {
                    self.digests
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .put(id_of(&meta), version_of(&meta), d);
                }
                self.room.committed(size, replaced);
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
        let (dir, part, name) = (
            &self.place.dir,
            self.part.as_str(),
            self.place.name.as_str(),
        );
        let renamed = if self.replace {
            rustix::fs::renameat(dir, part, dir, name)
        } else {
            // Atomic: a file that took the name meanwhile is never replaced.
            rustix::fs::renameat_with(dir, part, dir, name, RenameFlags::NOREPLACE)
        };
        match renamed {
            Ok(()) => {}
            Err(rustix::io::Errno::EXIST) => return Err(StoreError::from_code(ErrorCode::Exists)),
            Err(e) => return Err(rustix_error(e)),
        }
        // The rename is durable once the directory is: STORED promises it.
        self.place.dir.sync_all().map_err(|e| store_error(&e))?;
        let _ = rustix::fs::fremovexattr(&self.file, ANNOUNCED);
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

    fn version(&mut self, r: &Reading) -> Result<Version, wirekit_core::store::Error> {
        let meta = r.file.metadata().map_err(|e| store_error(&e))?;
        Ok(version_of(&meta))
    }

    fn known_digest(&mut self, r: &Reading, version: Version) -> Option<Digest> {
        let id = id_of(&r.file.metadata().ok()?);
        self.digests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id, version)
    }

    fn learn_digest(&mut self, r: &Reading, version: Version, digest: Digest) {
        if let Ok(meta) = r.file.metadata() {
            self.digests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .put(id_of(&meta), version, digest);
        }
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
        how: Begin,
    ) -> Result<Upload, wirekit_core::store::Error> {
        self.begin_upload(path, how).map_err(Into::into)
    }

    fn truncate_partial(
        &mut self,
        up: &mut Upload,
        len: u64,
    ) -> Result<(), wirekit_core::store::Error> {
        up.truncate(len).map_err(Into::into)
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

    fn commit(
        &mut self,
        up: Upload,
        size: u64,
        digest: Option<Digest>,
    ) -> Result<(), wirekit_core::store::Error> {
        up.commit(size, digest).map_err(Into::into)
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
    fn a_committed_digest_is_known_to_its_version_only() {
        use wirekit_core::store::Store as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path(), false).expect("store");
        let up = store.begin_upload("f", Begin::fresh(3)).expect("begin");
        up.write_at(0, b"abc").expect("write");
        up.commit(3, Some(Digest::of(b"abc"))).expect("commit");
        let (r, _) = wirekit_core::store::Store::open_read(&mut store, "f").expect("open");
        let v = store.version(&r).expect("version");
        assert_eq!(store.known_digest(&r, v), Some(Digest::of(b"abc")));
        // A write moves the version: the digest is no longer vouched for.
        std::thread::sleep(std::time::Duration::from_millis(10));
        fs::write(dir.path().join("f"), b"xyz").expect("rewrite");
        let now = store.version(&r).expect("version");
        assert_ne!(now, v);
        assert_eq!(store.known_digest(&r, now), None);
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

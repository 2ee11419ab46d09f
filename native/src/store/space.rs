//! The store's room: what an upload may take before its `READY`, and the
//! partials it leaves behind.
//!
//! Before an upload starts, [`Space::reserve`] checks that it fits: in the
//! disk's free space (`statvfs` of the root) less what uploads in flight
//! have been promised and not yet written, in the store's quota, and in the
//! caps on partials (how many, how many announced bytes, how many one
//! session left). A refusal is `507` (`ErrorCode::InsufficientStorage`)
//! with the figures in words. The [`Reservation`] it returns lives as long
//! as the upload: the store tells it how far the partial has been written,
//! and whether the upload was committed, discarded, or kept for a resume.
//!
//! Abandoned partials expire: [`Space::sweep`] removes those not written for
//! the configured time, and never one an upload is writing. The server runs
//! it at start and then from a thread of its own ([`Sweeper`]), because it
//! walks the whole tree: never on the executor, never per request.
//!
//! A write that finds the disk full (`ENOSPC`, `EDQUOT`) costs the upload
//! its partial: [`Reservation::no_room`] truncates and unlinks it, so that
//! its bytes are free at once and the next upload that fits goes through.
//! Nothing complete is ever removed to make room.

use super::PARTIAL_SUFFIX;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};
use wirekit_core::transfer::{ErrorCode, StoreError};

/// How much room uploads may take; `wirekit serve` sets these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes complete files and partials may hold together (`--quota`);
    /// `None`: only the disk's free space limits them.
    pub quota: Option<u64>,
    /// Most partials at once, kept and in flight (`--max-partials`).
    pub max_partials: usize,
    /// Most bytes all partials may announce together (`--max-partial-bytes`).
    pub max_partial_bytes: u64,
    /// Most partials one session may leave behind and still start another
    /// upload.
    pub max_partials_per_session: usize,
    /// A partial not written for this long is removed (`--partial-ttl`).
    pub partial_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            quota: None,
            max_partials: 1024,
            // One largest file's worth (MAX_FILE_SIZE): a thousand clients
            // cannot each be promised a tebibyte.
            max_partial_bytes: wirekit_core::wire::transfer::MAX_FILE_SIZE,
            max_partials_per_session: 16,
            partial_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Free bytes at a path, and the filesystem's block size.
pub type FreeFn = fn(&Path) -> io::Result<(u64, u64)>;

/// `statvfs`: the bytes an unprivileged writer may still use.
fn statvfs_free(root: &Path) -> io::Result<(u64, u64)> {
    let v = rustix::fs::statvfs(root).map_err(io::Error::from)?;
    let block = v.f_frsize.max(1);
    Ok((v.f_bavail.saturating_mul(block), block))
}

/// The bytes an upload may still take from the disk holding `root`.
pub fn free_space(root: &Path) -> io::Result<u64> {
    statvfs_free(root).map(|(free, _)| free)
}

/// What the books know of one partial.
#[derive(Debug)]
struct Partial {
    /// The size its upload announced (for one found on disk: its length).
    announced: u64,
    /// The session that left it (`None`: found on disk).
    owner: Option<u64>,
    /// How far it has been written, while an upload writes it.
    live: Option<Arc<AtomicU64>>,
}

#[derive(Debug, Default)]
struct Books {
    /// Partials by their path on disk.
    partials: BTreeMap<PathBuf, Partial>,
    /// Bytes of complete files: the last sweep's count, plus commits and
    /// less deletions since (a commit during a sweep's walk may be missed
    /// until the next sweep).
    files: u64,
}

/// The accounting of one store; cheap to clone (clones share the books).
#[derive(Clone, Debug)]
pub struct Space {
    root: PathBuf,
    limits: Limits,
    free: FreeFn,
    books: Arc<Mutex<Books>>,
}

fn no_room(text: String) -> StoreError {
    StoreError::new(ErrorCode::InsufficientStorage, text)
}

/// Bytes as people read them: exact below a mebibyte, where a rounded
/// figure would hide how much is missing.
fn human(n: u64) -> String {
    const UNITS: [&str; 3] = ["MiB", "GiB", "TiB"];
    if n < 1 << 20 {
        return format!("{n} bytes");
    }
    let mut unit = 0;
    let mut v = n as f64 / f64::from(1 << 20);
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS.get(unit).copied().unwrap_or("TiB"))
}

fn round_up(n: u64, block: u64) -> u64 {
    n.div_ceil(block).saturating_mul(block)
}

/// Whether a write failed because the disk (or the user's disk quota) is full.
pub fn is_no_room(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

impl Space {
    /// The books of a store at `root`, empty until the first [`Space::sweep`].
    pub fn new(root: &Path, limits: Limits) -> Space {
        Space::with_free(root, limits, statvfs_free)
    }

    /// The same, asking `free` rather than `statvfs` (tests).
    pub fn with_free(root: &Path, limits: Limits, free: FreeFn) -> Space {
        Space {
            root: root.to_owned(),
            limits,
            free,
            books: Arc::default(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Promises room for an upload of `size` bytes into the partial `part`
    /// from `offset` on, for `session` (0: none, as TFTP's transfers, which
    /// never leave a partial); refuses (507) if it does not fit.
    /// Call it before the partial is opened, so that no sweep removes a
    /// partial between its open and its first write.
    pub fn reserve(
        &self,
        part: &Path,
        size: u64,
        offset: u64,
        session: u64,
    ) -> Result<Reservation, StoreError> {
        let mut books = self.books();
        let others = || books.partials.iter().filter(|(p, _)| *p != part);
        let count = others().count();
        if count >= self.limits.max_partials {
            return Err(no_room(format!(
                "{count} unfinished uploads are kept, the most this server allows; \
                 resume or DELETE one"
            )));
        }
        let left_here = others()
            .filter(|(_, k)| k.owner == Some(session) && k.live.is_none())
            .count();
        if session != 0 && left_here >= self.limits.max_partials_per_session {
            return Err(no_room(format!(
                "this session left {left_here} unfinished uploads; resume or DELETE one"
            )));
        }
        let announced: u64 = others().map(|(_, k)| k.announced).sum();
        if announced.saturating_add(size) > self.limits.max_partial_bytes {
            return Err(no_room(format!(
                "unfinished uploads announce {} already; at most {} in all",
                human(announced),
                human(self.limits.max_partial_bytes)
            )));
        }
        if let Some(quota) = self.limits.quota {
            let used = books.files.saturating_add(announced);
            if used.saturating_add(size) > quota {
                return Err(no_room(format!(
                    "over the quota: {} of {} left",
                    human(quota.saturating_sub(used)),
                    human(quota)
                )));
            }
        }
        let (free, block) = (self.free)(&self.root).map_err(|e| super::store_error(&e))?;
        // What uploads in flight will still write: already promised.
        let promised: u64 = others()
            .filter_map(|(_, k)| {
                let written = k.live.as_ref()?.load(Ordering::Relaxed);
                Some(round_up(k.announced.saturating_sub(written), block))
            })
            .sum();
        let need = round_up(size.saturating_sub(offset), block);
        let room = free.saturating_sub(promised);
        if need > room {
            return Err(no_room(format!(
                "not enough free space: {} needed, {} free",
                human(need),
                human(room)
            )));
        }
        let written = Arc::new(AtomicU64::new(offset));
        books.partials.insert(
            part.to_owned(),
            Partial {
                announced: size,
                owner: Some(session),
                live: Some(Arc::clone(&written)),
            },
        );
        Ok(Reservation {
            space: self.clone(),
            part: part.to_owned(),
            written,
            open: AtomicBool::new(true),
        })
    }

    /// A complete file of `bytes` was removed (`DELETE`).
    pub fn removed(&self, part: &Path, bytes: u64) {
        let mut books = self.books();
        books.files = books.files.saturating_sub(bytes);
        books.partials.remove(part);
    }

    /// Walks the root: counts the bytes of complete files, learns of the
    /// partials on disk, and removes those not written for the partial TTL
    /// that no upload is writing. Returns the partials removed.
    pub fn sweep(&self) -> Vec<PathBuf> {
        self.sweep_at(SystemTime::now())
    }

    fn sweep_at(&self, now: SystemTime) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut files = 0;
        walk(&self.root, &mut files, &mut found);
        let mut books = self.books();
        books.files = files;
        let on_disk: std::collections::BTreeSet<&PathBuf> = found.iter().map(|(p, ..)| p).collect();
        // Forget what is gone (deleted, committed by a crashed run, removed
        // by hand); keep what an upload writes even if not yet on disk.
        books
            .partials
            .retain(|p, k| k.live.is_some() || on_disk.contains(p));
        let mut expired = Vec::new();
        for (path, len, modified) in found {
            let live = books.partials.get(&path).is_some_and(|k| k.live.is_some());
            let idle = now.duration_since(modified).unwrap_or_default();
            if !live && idle >= self.limits.partial_ttl {
                match fs::remove_file(&path) {
                    Ok(()) => {
                        books.partials.remove(&path);
                        tracing::info!(part = %path.display(), idle_secs = idle.as_secs(), "expired partial removed");
                        expired.push(path);
                    }
                    Err(e) => {
                        tracing::warn!(part = %path.display(), "could not remove an expired partial: {e}")
                    }
                }
                continue;
            }
            // Committed or deleted since the walk saw it: not a partial now.
            if !live && !path.exists() {
                continue;
            }
            books.partials.entry(path).or_insert(Partial {
                announced: len,
                owner: None,
                live: None,
            });
        }
        expired
    }
}

/// Files under `dir`: complete files' bytes added to `files`, partials
/// pushed with their length and time of last write. Links are not followed
/// (a link to a directory inside the root would count it twice), and what
/// cannot be read is skipped.
fn walk(dir: &Path, files: &mut u64, partials: &mut Vec<(PathBuf, u64, SystemTime)>) {
    let Ok(items) = fs::read_dir(dir) else {
        return;
    };
    for item in items.flatten() {
        let Ok(meta) = item.metadata() else { continue };
        let path = item.path();
        if meta.is_dir() {
            walk(&path, files, partials);
        } else if meta.is_file() {
            let name = item.file_name();
            let is_partial = name
                .to_str()
                .is_some_and(|n| n.starts_with('.') && n.ends_with(PARTIAL_SUFFIX));
            if is_partial {
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                partials.push((path, meta.len(), modified));
            } else {
                *files = files.saturating_add(meta.len());
            }
        }
    }
}

/// The room promised to one upload, for as long as it runs. Dropped without
/// [`Reservation::committed`] or [`Reservation::discarded`], its partial is
/// kept for a resume and counts as one left behind.
#[derive(Debug)]
pub struct Reservation {
    space: Space,
    part: PathBuf,
    written: Arc<AtomicU64>,
    /// Still in the books (not committed, discarded or given back).
    open: AtomicBool,
}

impl Reservation {
    /// The partial now holds bytes up to `end`.
    pub fn wrote(&self, end: u64) {
        self.written.fetch_max(end, Ordering::Relaxed);
    }

    /// A write into `file` failed with `e`: if the disk is full, the partial
    /// is emptied and unlinked (its bytes free at once) and the answer is
    /// 507; other errors are the store's usual ones and keep the partial.
    pub fn write_failed(&self, file: &fs::File, e: &io::Error) -> StoreError {
        if !is_no_room(e) {
            return super::store_error(e);
        }
        if let Err(e) = file.set_len(0).and_then(|()| fs::remove_file(&self.part)) {
            tracing::warn!(part = %self.part.display(), "could not give a full disk's partial back: {e}");
        }
        self.forget();
        tracing::warn!(part = %self.part.display(), "disk full: partial removed");
        no_room(String::from(
            "the disk is full: nothing of this upload is kept; retry when there is room",
        ))
    }

    fn forget(&self) {
        if self.open.swap(false, Ordering::Relaxed) {
            self.space.books().partials.remove(&self.part);
        }
    }

    /// The partial became a complete file of `size` bytes, in the place of
    /// one of `replaced` bytes (0: none).
    pub fn committed(self, size: u64, replaced: u64) {
        if self.open.swap(false, Ordering::Relaxed) {
            let mut books = self.space.books();
            books.files = books.files.saturating_add(size).saturating_sub(replaced);
            books.partials.remove(&self.part);
        }
    }

    /// The partial was deleted.
    pub fn discarded(self) {
        self.forget();
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.open.load(Ordering::Relaxed) {
            return;
        }
        let mut books = self.space.books();
        // Kept for a resume, if there is anything to resume.
        if self.part.exists() {
            if let Some(k) = books.partials.get_mut(&self.part) {
                k.live = None;
            }
        } else {
            books.partials.remove(&self.part);
        }
    }
}

/// The thread that sweeps a store now and then; stops when dropped.
#[derive(Debug)]
pub struct Sweeper {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sweeper {
    /// Sweeps `space` every quarter of its partial TTL (between 50 ms and
    /// 10 minutes), so a partial lives at most 1.25 TTL unwritten.
    pub fn start(space: Space) -> io::Result<Sweeper> {
        let every = (space.limits.partial_ttl / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(600));
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("wirekit-sweeper".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                    space.sweep();
                }
            })?;
        Ok(Sweeper {
            stop: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn ten_gib(_: &Path) -> io::Result<(u64, u64)> {
        Ok((10 * GIB, 4096))
    }

    fn books(limits: Limits) -> (tempfile::TempDir, Space) {
        let dir = tempfile::tempdir().expect("tmp");
        let space = Space::with_free(dir.path(), limits, ten_gib);
        (dir, space)
    }

    fn part(dir: &Path, name: &str) -> PathBuf {
        dir.join(format!(".{name}{PARTIAL_SUFFIX}"))
    }

    fn code(r: Result<Reservation, StoreError>) -> String {
        match r {
            Ok(_) => "reserved".into(),
            Err(e) => format!("{} {}", e.code.code(), e.message),
        }
    }

    #[test]
    fn an_upload_must_fit_in_the_free_space_less_what_is_promised() {
        let (dir, s) = books(Limits::default());
        let d = dir.path();
        assert_eq!(
            code(s.reserve(&part(d, "huge"), 1 << 40, 0, 1)),
            "507 not enough free space: 1.0 TiB needed, 10.0 GiB free"
        );
        let six = s.reserve(&part(d, "a"), 6 * GIB, 0, 1).expect("fits");
        // Six are promised: five more do not fit, four do.
        assert!(code(s.reserve(&part(d, "b"), 5 * GIB, 0, 2)).starts_with("507 not enough"));
        // Bytes written are on the disk already (the test's free space does
        // not shrink), so they are no longer counted as promised.
        six.wrote(2 * GIB);
        let b = s.reserve(&part(d, "b"), 5 * GIB, 0, 2).expect("fits now");
        drop((six, b));
        // A resume needs room only for what is still to come.
        assert_eq!(
            code(s.reserve(&part(d, "c"), 12 * GIB, 3 * GIB, 3)),
            "reserved"
        );
    }

    #[test]
    fn caps_on_partials_refuse_with_507_and_say_what_to_do() {
        let limits = Limits {
            max_partials: 3,
            max_partials_per_session: 2,
            max_partial_bytes: 100,
            ..Limits::default()
        };
        let (dir, s) = books(limits);
        let d = dir.path();
        for name in ["a", "b"] {
            std::fs::write(part(d, name), b"x").expect("partial");
            drop(s.reserve(&part(d, name), 10, 0, 7).expect("fits"));
        }
        assert_eq!(
            code(s.reserve(&part(d, "c"), 10, 0, 7)),
            "507 this session left 2 unfinished uploads; resume or DELETE one"
        );
        // Resuming one of its own is no new partial.
        assert_eq!(code(s.reserve(&part(d, "a"), 10, 1, 7)), "reserved");
        let c = s.reserve(&part(d, "c"), 10, 0, 8).expect("another session");
        assert_eq!(
            code(s.reserve(&part(d, "d"), 10, 0, 9)),
            "507 3 unfinished uploads are kept, the most this server allows; resume or DELETE one"
        );
        c.discarded();
        assert_eq!(
            code(s.reserve(&part(d, "d"), 81, 0, 9)),
            "507 unfinished uploads announce 20 bytes already; at most 100 bytes in all"
        );
        // An upload that ends with nothing on disk leaves no partial behind.
        drop(s.reserve(&part(d, "e"), 80, 0, 9).expect("fits"));
        assert_eq!(code(s.reserve(&part(d, "f"), 80, 0, 9)), "reserved");
    }

    #[test]
    fn the_quota_counts_files_and_announced_partials() {
        let limits = Limits {
            quota: Some(1000),
            ..Limits::default()
        };
        let (dir, s) = books(limits);
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).expect("dir");
        std::fs::write(d.join("sub/f"), vec![0; 600]).expect("file");
        s.sweep();
        assert_eq!(
            code(s.reserve(&part(d, "a"), 401, 0, 1)),
            "507 over the quota: 400 bytes of 1000 bytes left"
        );
        let a = s.reserve(&part(d, "a"), 300, 0, 1).expect("fits");
        a.committed(300, 0);
        assert!(code(s.reserve(&part(d, "b"), 101, 0, 1)).starts_with("507 over the quota"));
        // A replacing upload needs room beside the file until it commits;
        // replacing the 300 bytes with 50 then gives 250 back.
        let a = s.reserve(&part(d, "a"), 50, 0, 1).expect("fits");
        a.committed(50, 300);
        assert_eq!(
            code(s.reserve(&part(d, "b"), 351, 0, 1)),
            "507 over the quota: 350 bytes of 1000 bytes left"
        );
        s.removed(&part(d, "f"), 600);
        assert_eq!(code(s.reserve(&part(d, "b"), 101, 0, 1)), "reserved");
    }

    #[test]
    fn a_sweep_removes_old_partials_but_never_one_being_written_nor_a_file() {
        let limits = Limits {
            partial_ttl: Duration::from_secs(3600),
            ..Limits::default()
        };
        let (dir, s) = books(limits);
        let d = dir.path();
        let (old, live, fresh) = (part(d, "old"), part(d, "live"), part(d, "fresh"));
        for p in [&old, &live, &fresh] {
            std::fs::write(p, b"kept").expect("partial");
        }
        let complete = d.join(".old-looking-but-complete");
        std::fs::write(&complete, b"file").expect("file");
        let writing = s.reserve(&live, 10, 4, 1).expect("fits");
        let later = SystemTime::now() + Duration::from_secs(2 * 3600);
        // Everything on disk is two hours old by then; only the idle old
        // and fresh partials go, the one being written stays.
        std::fs::File::options()
            .write(true)
            .open(&fresh)
            .and_then(|f| f.set_modified(later))
            .expect("touch");
        assert_eq!(s.sweep_at(later), vec![old.clone()]);
        assert!(!old.exists() && live.exists() && fresh.exists() && complete.exists());
        drop(writing);
        let much_later = later + Duration::from_secs(3600);
        let mut gone = s.sweep_at(much_later);
        gone.sort();
        assert_eq!(gone, vec![fresh.clone(), live.clone()]);
        assert!(complete.exists());
    }

    #[test]
    fn a_full_disk_write_gives_the_partial_back_and_other_errors_keep_it() {
        let (dir, s) = books(Limits::default());
        let p = part(dir.path(), "up");
        std::fs::write(&p, vec![1; 4096]).expect("partial");
        let file = std::fs::File::options().write(true).open(&p).expect("open");
        let r = s.reserve(&p, 8192, 4096, 1).expect("fits");
        let other = r.write_failed(&file, &io::Error::other("EIO"));
        assert_eq!(other.code, ErrorCode::Internal);
        assert!(p.exists());
        let full = r.write_failed(&file, &io::Error::from(io::ErrorKind::StorageFull));
        assert_eq!(full.code, ErrorCode::InsufficientStorage);
        assert!(!p.exists(), "the partial is given back");
        drop(r);
        assert!(s.books().partials.is_empty());
    }
}

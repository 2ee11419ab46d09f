//! The store contract over memory: what the simulator's servers answer
//! from, and what the tests run the machines against. There are no
//! directories; names are kept sorted so that listings are deterministic.

use super::{Begin, Error, ErrorKind, Store, partial_differs, partial_waits};
use crate::transfer::{Digest, Entry, Kind, Stat};
use crate::wire::transfer::Version;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

/// Largest upload a [`MemStore`] accepts unless told otherwise (bytes): it
/// keeps uploads in memory.
pub const DEFAULT_QUOTA: u64 = 64 * 1024 * 1024;

/// Files and partials held in memory.
#[derive(Clone, Debug)]
pub struct MemStore {
    files: Vec<(String, Bytes)>,
    partials: Vec<(String, Vec<u8>)>,
    committed: Vec<String>,
    /// Partials whose commit may replace a complete file.
    replacing: Vec<String>,
    /// The size each partial was announced with (none for one put in by
    /// [`MemStore::insert_partial`]).
    announced: Vec<(String, u64)>,
    quota: u64,
    /// Most bytes files and partials may hold together (`None`: no limit).
    capacity: Option<u64>,
}

impl Default for MemStore {
    fn default() -> Self {
        MemStore {
            files: Vec::new(),
            partials: Vec::new(),
            committed: Vec::new(),
            replacing: Vec::new(),
            announced: Vec::new(),
            quota: DEFAULT_QUOTA,
            capacity: None,
        }
    }
}

/// A file's bytes never change under a reader (it holds them), so its
/// version is what they hash to: deterministic, as the simulator needs.
fn content_version(data: &[u8]) -> Version {
    let hash = blake3::hash(data);
    let mut first = [0u8; 8];
    first.copy_from_slice(hash.as_bytes().get(..8).unwrap_or(&[0; 8]));
    Version(u64::from_be_bytes(first))
}

fn position<T>(list: &[(String, T)], path: &str) -> Result<usize, usize> {
    list.binary_search_by(|(n, _)| n.as_str().cmp(path))
}

fn slice_of(data: &[u8], offset: u64, len: usize) -> &[u8] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let end = start.saturating_add(len).min(data.len());
    data.get(start..end).unwrap_or_default()
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        MemStore::default()
    }

    /// Uploads over `quota` bytes are refused as [`ErrorKind::Full`].
    pub fn with_quota(mut self, quota: u64) -> Self {
        self.quota = quota;
        self
    }

    /// Files and partials together may hold at most `capacity` bytes, as
    /// a disk does: an upload that would not fit is refused before it
    /// starts, and one whose write finds no room loses its partial, both
    /// as [`ErrorKind::NoSpace`] (the native store's rules).
    pub fn with_capacity(mut self, capacity: u64) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// Changes the capacity (see [`MemStore::with_capacity`]; `None`: no limit).
    pub fn set_capacity(&mut self, capacity: Option<u64>) {
        self.capacity = capacity;
    }

    /// Bytes held by files and partials.
    pub fn held(&self) -> u64 {
        self.used(None)
    }

    /// Bytes held by files and partials, but the partial of `except`.
    fn used(&self, except: Option<&str>) -> u64 {
        let files = self.files.iter().map(|(_, d)| d.len() as u64);
        let partials = self
            .partials
            .iter()
            .filter(|(n, _)| Some(n.as_str()) != except)
            .map(|(_, d)| d.len() as u64);
        files.chain(partials).sum()
    }

    /// Room for `more` bytes beside what the store holds but `path`'s partial.
    fn room(&self, path: &str, more: u64) -> Result<(), Error> {
        match self.capacity {
            Some(cap) if self.used(Some(path)).saturating_add(more) > cap => Err(Error::new(
                ErrorKind::NoSpace,
                alloc::format!(
                    "no room: {} bytes free",
                    cap.saturating_sub(self.used(Some(path)))
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Starts or resumes the partial of `path` (not checking for a file).
    fn start_partial(&mut self, path: &str, how: Begin) -> Result<String, Error> {
        let Begin {
            size,
            offset,
            restart,
            ..
        } = how;
        if size > self.quota {
            return Err(Error::new(ErrorKind::Full, "over the store's quota"));
        }
        let announced = self.announced_size(path);
        self.room(path, size)?;
        match position(&self.partials, path) {
            Ok(i) => {
                let kept = self.partials.get_mut(i).map(|(_, d)| d);
                match kept {
                    // A partial with nothing in it has nothing to lose.
                    Some(d) if offset == 0 && (restart || d.is_empty()) => d.clear(),
                    Some(d) if offset == 0 => return Err(partial_waits(d.len() as u64, announced)),
                    Some(_) if announced.is_some_and(|n| n != size) => {
                        return Err(partial_differs(announced.unwrap_or(0), size));
                    }
                    Some(d) if d.len() as u64 >= offset => {}
                    _ => return Err(Error::new(ErrorKind::NotFound, "no partial that long")),
                }
            }
            Err(_) if offset > 0 => return Err(Error::new(ErrorKind::NotFound, "no partial")),
            Err(i) => self.partials.insert(i, (String::from(path), Vec::new())),
        }
        self.announced.retain(|(n, _)| n != path);
        self.announced.push((String::from(path), size));
        Ok(String::from(path))
    }

    fn announced_size(&self, path: &str) -> Option<u64> {
        self.announced
            .iter()
            .find(|(n, _)| n == path)
            .map(|&(_, size)| size)
    }

    fn forget_partial(&mut self, path: &str) {
        if let Ok(i) = position(&self.partials, path) {
            self.partials.remove(i);
        }
        self.replacing.retain(|p| p != path);
        self.announced.retain(|(n, _)| n != path);
    }

    /// Puts a complete file under `name` (replacing one there).
    pub fn insert(&mut self, name: impl Into<String>, data: Bytes) {
        let name = name.into();
        match position(&self.files, &name) {
            Ok(i) => {
                if let Some(slot) = self.files.get_mut(i) {
                    slot.1 = data;
                }
            }
            Err(i) => self.files.insert(i, (name, data)),
        }
    }

    /// Changes the quota (see [`MemStore::with_quota`]).
    pub fn set_quota(&mut self, quota: u64) {
        self.quota = quota;
    }

    /// Puts a partial under `name`, as if an upload had been cut off.
    pub fn insert_partial(&mut self, name: impl Into<String>, data: Vec<u8>) {
        let name = name.into();
        match position(&self.partials, &name) {
            Ok(i) => {
                if let Some(slot) = self.partials.get_mut(i) {
                    slot.1 = data;
                }
            }
            Err(i) => self.partials.insert(i, (name, data)),
        }
    }

    /// A complete file's bytes.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        let i = position(&self.files, path).ok()?;
        self.files.get(i).map(|(_, d)| &d[..])
    }

    /// A partial's bytes.
    pub fn partial(&self, path: &str) -> Option<&[u8]> {
        let i = position(&self.partials, path).ok()?;
        self.partials.get(i).map(|(_, d)| &d[..])
    }

    /// Every complete file, by name.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(n, d)| (n.as_str(), &d[..]))
    }

    /// Every partial, by name.
    pub fn partials(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.partials.iter().map(|(n, d)| (n.as_str(), &d[..]))
    }

    /// Paths committed by uploads, in order.
    pub fn committed(&self) -> &[String] {
        &self.committed
    }

    fn partial_mut(&mut self, path: &str) -> Result<&mut Vec<u8>, Error> {
        let i = position(&self.partials, path)
            .map_err(|_| Error::new(ErrorKind::NotFound, "no partial"))?;
        match self.partials.get_mut(i) {
            Some((_, d)) => Ok(d),
            None => Err(Error::new(ErrorKind::Internal, "no partial")),
        }
    }
}

impl Store for MemStore {
    type Reader = Bytes;
    /// The partial's path.
    type Partial = String;

    fn list(&self, dir: Option<&str>) -> Result<Vec<Entry>, Error> {
        if dir.is_some() {
            return Err(Error::new(ErrorKind::NotFound, "no such directory"));
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

    fn stat(&self, path: &str) -> Result<Stat, Error> {
        match (self.file(path), self.partial(path)) {
            (Some(d), _) => Ok(Stat {
                kind: Kind::File,
                size: d.len() as u64,
                version: Some(content_version(d)),
            }),
            (None, Some(d)) => Ok(Stat::of(Kind::Partial, d.len() as u64)),
            (None, None) => Err(Error::new(ErrorKind::NotFound, "not found")),
        }
    }

    fn version(&mut self, file: &Bytes) -> Result<Version, Error> {
        Ok(content_version(file))
    }

    fn open_read(&mut self, path: &str) -> Result<(Bytes, u64), Error> {
        let i = position(&self.files, path)
            .map_err(|_| Error::new(ErrorKind::NotFound, "not found"))?;
        let d = self
            .files
            .get(i)
            .map(|(_, d)| d.clone())
            .unwrap_or_default();
        let size = d.len() as u64;
        Ok((d, size))
    }

    fn read_at(&mut self, file: &mut Bytes, offset: u64, len: usize) -> Result<Bytes, Error> {
        let part = slice_of(file, offset, len);
        Ok(file.slice_ref(part))
    }

    fn create_partial(&mut self, path: &str, how: Begin) -> Result<String, Error> {
        if !how.replace && self.file(path).is_some() {
            return Err(Error::new(ErrorKind::Exists, "exists"));
        }
        let partial = self.start_partial(path, how)?;
        if how.replace && !self.replacing.contains(&partial) {
            self.replacing.push(partial.clone());
        }
        Ok(partial)
    }

    fn truncate_partial(&mut self, partial: &mut String, len: u64) -> Result<(), Error> {
        let d = self.partial_mut(partial)?;
        d.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(())
    }

    fn remove(&mut self, path: &str) -> Result<(), Error> {
        let file = position(&self.files, path).map(|i| self.files.remove(i));
        let partial = position(&self.partials, path).map(|i| self.partials.remove(i));
        self.announced.retain(|(n, _)| n != path);
        match (file, partial) {
            (Err(_), Err(_)) => Err(Error::new(ErrorKind::NotFound, "not found")),
            _ => Ok(()),
        }
    }

    fn append(&mut self, partial: &mut String, offset: u64, data: &[u8]) -> Result<(), Error> {
        let end = offset.saturating_add(data.len() as u64);
        if end > self.quota {
            return Err(Error::new(ErrorKind::Full, "over the store's quota"));
        }
        let grown = end.max(self.partial(partial).map_or(0, |d| d.len() as u64));
        if let Err(e) = self.room(partial, grown) {
            // A partial that found the disk full is given back at once, so
            // that the next upload that fits can go through.
            self.discard(partial.clone());
            return Err(e);
        }
        let d = self.partial_mut(partial)?;
        let (from, to) = (offset as usize, end as usize);
        if d.len() < to {
            d.resize(to, 0);
        }
        if let Some(slot) = d.get_mut(from..to) {
            slot.copy_from_slice(data);
        }
        Ok(())
    }

    fn read_partial(
        &mut self,
        partial: &mut String,
        offset: u64,
        len: usize,
    ) -> Result<Bytes, Error> {
        let d = self.partial_mut(partial)?;
        Ok(Bytes::copy_from_slice(slice_of(d, offset, len)))
    }

    fn commit(&mut self, partial: String, size: u64, _: Option<Digest>) -> Result<(), Error> {
        let i = position(&self.partials, &partial)
            .map_err(|_| Error::new(ErrorKind::Internal, "no partial to commit"))?;
        let (name, data) = self.partials.remove(i);
        self.announced.retain(|(n, _)| *n != name);
        if data.len() as u64 != size {
            return Err(Error::new(
                ErrorKind::Mismatch,
                "the partial holds another size than announced",
            ));
        }
        let replaces = self.replacing.iter().position(|p| *p == name);
        if let Some(i) = replaces {
            self.replacing.swap_remove(i);
        } else if self.file(&name).is_some() {
            return Err(Error::new(ErrorKind::Exists, "exists"));
        }
        self.insert(name.clone(), Bytes::from(data));
        self.committed.push(name);
        Ok(())
    }

    fn discard(&mut self, partial: String) {
        self.forget_partial(&partial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_becomes_a_file_only_on_commit_and_resumes_from_its_prefix() {
        let mut s = MemStore::new();
        let mut p = s.create_partial("up", Begin::fresh(6)).unwrap();
        s.append(&mut p, 0, b"abc").unwrap();
        assert_eq!(s.file("up"), None);
        assert_eq!(s.stat("up").unwrap().kind, Kind::Partial);
        s.keep(p);
        // Resume at 2: nothing is cut until the resume writes, then the
        // third byte is dropped and rewritten.
        let resume = Begin {
            offset: 2,
            restart: false,
            ..Begin::fresh(6)
        };
        let mut p = s.create_partial("up", resume).unwrap();
        assert_eq!(&s.read_partial(&mut p, 0, 10).unwrap()[..], b"abc");
        s.truncate_partial(&mut p, 2).unwrap();
        assert_eq!(&s.read_partial(&mut p, 0, 10).unwrap()[..], b"ab");
        s.append(&mut p, 2, b"cdef").unwrap();
        s.commit(p, 6, None).unwrap();
        assert_eq!(s.file("up"), Some(&b"abcdef"[..]));
        assert_eq!(s.committed(), ["up"]);
        assert_eq!(
            s.create_partial("up", Begin::fresh(1)).unwrap_err().kind,
            ErrorKind::Exists
        );
    }

    #[test]
    fn a_partial_belongs_to_its_upload() {
        let mut s = MemStore::new();
        let mut p = s.create_partial("wip", Begin::fresh(5)).unwrap();
        s.append(&mut p, 0, b"abc").unwrap();
        s.keep(p);
        let new = Begin {
            restart: false,
            ..Begin::fresh(3)
        };
        let e = s.create_partial("wip", new).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Exists, "{e:?}");
        assert!(e.message.contains("holds 3 of 5 bytes"), "{e:?}");
        let other_size = Begin {
            offset: 3,
            restart: false,
            ..Begin::fresh(9)
        };
        let e = s.create_partial("wip", other_size).unwrap_err();
        assert!(e.message.contains("announced as 5 bytes"), "{e:?}");
        assert_eq!(
            s.partial("wip"),
            Some(&b"abc"[..]),
            "refusals touch nothing"
        );
        let p = s.create_partial("wip", Begin::fresh(3)).unwrap();
        assert_eq!(s.partial("wip"), Some(&b""[..]), "restart starts over");
        s.discard(p);
    }

    #[test]
    fn refusals_have_their_kinds() {
        let mut s = MemStore::new().with_quota(4);
        assert_eq!(
            s.create_partial("big", Begin::fresh(5)).unwrap_err().kind,
            ErrorKind::Full
        );
        assert_eq!(
            s.create_partial(
                "x",
                Begin {
                    offset: 3,
                    ..Begin::fresh(1)
                }
            )
            .unwrap_err()
            .kind,
            ErrorKind::NotFound
        );
        let mut p = s.create_partial("x", Begin::fresh(4)).unwrap();
        assert_eq!(
            s.append(&mut p, 3, b"yy").unwrap_err().kind,
            ErrorKind::Full
        );
        s.append(&mut p, 0, b"yy").unwrap();
        assert_eq!(s.commit(p, 4, None).unwrap_err().kind, ErrorKind::Mismatch);
        assert_eq!(s.partial("x"), None, "a partial that cannot commit is gone");
        assert_eq!(s.list(Some("d")).unwrap_err().kind, ErrorKind::NotFound);
    }

    #[test]
    fn a_full_store_refuses_before_the_upload_and_gives_a_failed_partial_back() {
        let mut s = MemStore::new().with_capacity(10);
        s.insert("f", Bytes::from_static(b"0123"));
        let e = s.create_partial("big", Begin::fresh(7)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoSpace);
        assert_eq!(e.message, "no room: 6 bytes free");
        let mut p = s.create_partial("fits", Begin::fresh(6)).unwrap();
        s.append(&mut p, 0, b"abc").unwrap();
        // Someone else takes the room meanwhile: the write finds it gone.
        s.insert("g", Bytes::from_static(b"xx"));
        assert_eq!(
            s.append(&mut p, 3, b"def").unwrap_err().kind,
            ErrorKind::NoSpace
        );
        assert_eq!(s.partial("fits"), None, "the failed partial is gone");
        assert_eq!(s.file("f"), Some(&b"0123"[..]), "files are never reclaimed");
        let p = s.create_partial("small", Begin::fresh(4)).unwrap();
        s.discard(p);
    }

    #[test]
    fn reads_stop_at_the_end() {
        let mut s = MemStore::new();
        s.insert("f", Bytes::from_static(b"0123456789"));
        let (mut r, size) = s.open_read("f").unwrap();
        assert_eq!(size, 10);
        assert_eq!(&s.read_at(&mut r, 8, 8).unwrap()[..], b"89");
        assert!(s.read_at(&mut r, 20, 8).unwrap().is_empty());
    }
}

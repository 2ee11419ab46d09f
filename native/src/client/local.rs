//! Local-file helpers of the clients: partials and batched writes.

use crate::client::ClientError;
use crate::store::PARTIAL_SUFFIX;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The partial a download or upload is kept in until it is complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    path.with_file_name(format!(".{name}{PARTIAL_SUFFIX}"))
}

/// The size of the partial at `part`, if an earlier attempt left one.
pub fn kept_partial(part: &Path) -> Result<Option<u64>, ClientError> {
    match fs::metadata(part) {
        Ok(m) if m.is_file() => Ok(Some(m.len())),
        Ok(_) => Err(ClientError::Local(format!(
            "{} is in the way of the download's partial",
            part.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClientError::Local(format!(
            "cannot read {}: {e}",
            part.display()
        ))),
    }
}

/// Where a download goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A local file (through its partial).
    File(PathBuf),
    /// Standard output (`-`): written as it comes, checked at the end.
    Stdout,
}

impl From<&Path> for Dest {
    fn from(p: &Path) -> Dest {
        Dest::File(p.to_owned())
    }
}

impl From<&PathBuf> for Dest {
    fn from(p: &PathBuf) -> Dest {
        Dest::File(p.clone())
    }
}

/// How an existing local file may be replaced.
#[derive(Clone, Copy, Debug, Default)]
pub struct Replace {
    /// Never replace one (`--no-clobber`).
    pub no_clobber: bool,
    /// Replace even a read-only one (`--force`).
    pub force: bool,
}

/// The destination of a download of `remote`, as cp and scp read it: none
/// means the remote name here; a directory (or a path ending in `/`) means
/// the remote name inside it; `-` means standard output. Checked before
/// anything touches the network.
pub fn destination(
    local: Option<&Path>,
    remote: &str,
    replace: Replace,
) -> Result<Dest, ClientError> {
    let name = remote
        .rsplit('/')
        .find(|s| !s.is_empty())
        .ok_or_else(|| ClientError::Usage(format!("the remote path {remote:?} names no file")))?;
    let path = match local {
        Some(l) if l.as_os_str() == "-" => return Ok(Dest::Stdout),
        None => PathBuf::from(name),
        Some(l) if l.as_os_str().to_string_lossy().ends_with('/') || l.is_dir() => l.join(name),
        Some(l) => l.to_owned(),
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(ClientError::Local(format!(
            "cannot write {}: there is no directory {}",
            path.display(),
            parent.display()
        )));
    }
    match fs::symlink_metadata(&path) {
        Err(_) => {}
        Ok(m) if m.is_dir() => {
            return Err(ClientError::Local(format!(
                "{} is a directory",
                path.display()
            )));
        }
        Ok(_) if replace.no_clobber => {
            return Err(ClientError::Local(format!(
                "{} exists and --no-clobber keeps it",
                path.display()
            )));
        }
        Ok(m) if m.permissions().readonly() && !replace.force => {
            return Err(ClientError::Local(format!(
                "{} is read-only: add --force to replace it",
                path.display()
            )));
        }
        Ok(_) => {}
    }
    Ok(Dest::File(path))
}

/// What an upload reads: a local file, or standard input (`-`).
#[derive(Debug)]
pub struct Source {
    /// Open for reading, from the start.
    pub file: File,
    /// Standard input was a pipe, copied to a temporary file (deleted when
    /// closed): both protocols announce the size before the first byte.
    pub spooled: bool,
}

/// Opens what an upload of `local` reads.
pub fn upload_source(local: &Path) -> Result<Source, ClientError> {
    if local.as_os_str() != "-" {
        let file = File::open(local)
            .map_err(|e| ClientError::Local(format!("cannot read {}: {e}", local.display())))?;
        return Ok(Source {
            file,
            spooled: false,
        });
    }
    let stdin_err = |e: io::Error| ClientError::Local(format!("cannot read standard input: {e}"));
    let stdin = std::os::fd::AsFd::as_fd(&io::stdin())
        .try_clone_to_owned()
        .map_err(stdin_err)?;
    let file = File::from(stdin);
    if file.metadata().map_err(stdin_err)?.is_file() {
        // `< file`: its size is known, no copy needed.
        return Ok(Source {
            file,
            spooled: false,
        });
    }
    let mut spool = tempfile::tempfile()
        .map_err(|e| ClientError::Local(format!("cannot make a temporary file: {e}")))?;
    io::copy(&mut io::stdin().lock(), &mut spool).map_err(stdin_err)?;
    io::Seek::rewind(&mut spool).map_err(stdin_err)?;
    Ok(Source {
        file: spool,
        spooled: true,
    })
}

/// Blocks arrive in order, one small datagram each: gather them and write
/// in large pieces, one system call per [`Batched::SIZE`] instead of per block.
#[derive(Debug)]
pub struct Batched {
    file: File,
    start: u64,
    buf: Vec<u8>,
}

impl Batched {
    const SIZE: usize = 256 * 1024;

    /// Writes into `file`.
    pub fn new(file: File) -> Self {
        Batched {
            file,
            start: 0,
            buf: Vec::with_capacity(Self::SIZE),
        }
    }

    /// Writes `data` at `offset`, flushing first if it does not follow.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        if offset != self.start + self.buf.len() as u64 {
            self.flush()?;
            self.start = offset;
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::SIZE {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes out what is gathered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.write_all_at(&self.buf, self.start)?;
        self.start += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_follow_cp_and_scp() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let d = dir.path();
        let keep = Replace::default();
        let at = |local: &Path| destination(Some(local), "docs/notes.txt", keep);
        assert_eq!(
            destination(None, "docs/notes.txt", keep).expect("ok"),
            Dest::File("notes.txt".into())
        );
        assert_eq!(at(d).expect("ok"), Dest::File(d.join("notes.txt")));
        assert_eq!(at(&d.join("x")).expect("ok"), Dest::File(d.join("x")));
        assert_eq!(at(Path::new("-")).expect("ok"), Dest::Stdout);
        assert!(matches!(
            destination(None, "docs/", keep),
            Ok(Dest::File(p)) if p == Path::new("docs")
        ));
        assert!(matches!(
            destination(None, "/", keep),
            Err(ClientError::Usage(_))
        ));
        assert!(matches!(at(&d.join("none/x")), Err(ClientError::Local(_))));
        fs::write(d.join("x"), b"mine").expect("write");
        let no_clobber = Replace {
            no_clobber: true,
            ..keep
        };
        assert!(destination(Some(&d.join("x")), "n", no_clobber).is_err());
        let mut perms = fs::metadata(d.join("x")).expect("meta").permissions();
        perms.set_readonly(true);
        fs::set_permissions(d.join("x"), perms).expect("chmod");
        assert!(at(&d.join("x")).is_err());
        let force = Replace {
            force: true,
            ..keep
        };
        assert!(destination(Some(&d.join("x")), "n", force).is_ok());
    }
}

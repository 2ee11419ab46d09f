//! Local-file helpers of the clients: partials, progress bars, batched
//! writes.

use crate::store::PARTIAL_SUFFIX;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
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

/// A progress bar of unknown length yet, hidden unless `show`.
pub fn bar_for(show: bool, label: &str) -> ProgressBar {
    bar(show, 0, 0, label)
}

pub fn bar(show: bool, len: u64, pos: u64, label: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(
        Some(len),
        if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(label.to_owned());
    pb.set_position(pos);
    pb
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

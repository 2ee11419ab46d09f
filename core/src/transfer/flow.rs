//! The pieces both machines share: the room check of their output queue,
//! unparsed input, and a reader
//! that pulls a file from byte 0 in chunks, hashing all of it and handing
//! back only the part past the resume offset.

use super::{MAX_BUFFERED_INPUT, MAX_PENDING_OUTPUT, Misuse};
use crate::wire::transfer::{Digest, MAX_CHUNK, MAX_LINE};
use bytes::{Bytes, BytesMut};

/// Room in a machine's output for one more `DATA` message without passing
/// [`MAX_PENDING_OUTPUT`].
pub(crate) fn output_room(out: &crate::outbox::Outbox) -> bool {
    out.has_room(MAX_CHUNK + MAX_LINE + 2, MAX_PENDING_OUTPUT)
}

/// Unparsed input, never more than [`MAX_BUFFERED_INPUT`].
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    pub(crate) buf: BytesMut,
}

impl Inbox {
    /// Appends as much of `bytes` as fits and returns the rest.
    pub(crate) fn fill<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let room = MAX_BUFFERED_INPUT.saturating_sub(self.buf.len());
        let (now, later) = bytes.split_at(room.min(bytes.len()));
        self.buf.extend_from_slice(now);
        later
    }

    pub(crate) fn is_full(&self) -> bool {
        self.buf.len() >= MAX_BUFFERED_INPUT
    }
}

/// What a chunk from the driver amounted to.
#[derive(Debug)]
pub(crate) enum Taken {
    /// The file ended before the size it was announced with.
    Short,
    /// Hashed; these bytes (possibly none, inside the skipped prefix) go out.
    Send(Bytes),
}

/// Pulls `total` bytes of a file from byte 0; bytes before `send_from` are
/// only hashed. Or, when the file's digest is known already, pulls only the
/// bytes from `send_from` and hashes nothing.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    total: u64,
    send_from: u64,
    pos: u64,
    hash: Hash,
    asked: Option<usize>,
}

#[derive(Debug, Clone)]
enum Hash {
    // Boxed: a hasher is 1.9 KB, and most readers hash nothing.
    Reading(alloc::boxed::Box<blake3::Hasher>),
    Known(Digest),
}

impl Reader {
    pub(crate) fn new(total: u64, send_from: u64) -> Self {
        Reader {
            total,
            send_from,
            pos: 0,
            hash: Hash::Reading(alloc::boxed::Box::default()),
            asked: None,
        }
    }

    /// A reader of a file whose digest is known: nothing before
    /// `send_from` is read.
    pub(crate) fn known(total: u64, send_from: u64, digest: Digest) -> Self {
        Reader {
            total,
            send_from,
            pos: send_from,
            hash: Hash::Known(digest),
            asked: None,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.pos >= self.total
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// How much to ask the driver for, if it is time to ask. Chunks stop at
    /// `send_from`, so a chunk is either all skipped or all sent; a skipped
    /// chunk adds no output, so it is asked for whatever the output holds.
    pub(crate) fn ask(&mut self, outbox_has_room: bool) -> Option<usize> {
        if self.asked.is_some() || self.is_done() {
            return None;
        }
        let end = if self.pos < self.send_from {
            self.send_from
        } else if outbox_has_room {
            self.total
        } else {
            return None;
        };
        let max = usize::try_from(end - self.pos)
            .unwrap_or(MAX_CHUNK)
            .min(MAX_CHUNK);
        self.asked = Some(max);
        Some(max)
    }

    /// True while a chunk was asked for and has not come.
    pub(crate) fn is_waiting(&self) -> bool {
        self.asked.is_some()
    }

    pub(crate) fn take(&mut self, chunk: Bytes) -> Result<Taken, Misuse> {
        let max = self.asked.ok_or(Misuse::Unexpected)?;
        if chunk.len() > max {
            return Err(Misuse::ChunkTooLong {
                max,
                got: chunk.len(),
            });
        }
        self.asked = None;
        if chunk.is_empty() {
            return Ok(Taken::Short);
        }
        let skipped = self.pos < self.send_from;
        if let Hash::Reading(h) = &mut self.hash {
            h.update(&chunk);
        }
        self.pos += chunk.len() as u64;
        Ok(Taken::Send(if skipped { Bytes::new() } else { chunk }))
    }

    pub(crate) fn digest(&self) -> Digest {
        match &self.hash {
            Hash::Reading(h) => h.finalize().into(),
            Hash::Known(d) => *d,
        }
    }

    /// True once every byte before `send_from` is read (and hashed).
    pub(crate) fn past_prefix(&self) -> bool {
        self.pos >= self.send_from
    }

    /// The hash so far, to go on hashing what arrives after a kept prefix.
    pub(crate) fn into_hasher(self) -> blake3::Hasher {
        match self.hash {
            Hash::Reading(h) => *h,
            // Only readers made by `new` are turned into hashers.
            Hash::Known(_) => blake3::Hasher::new(),
        }
    }
}

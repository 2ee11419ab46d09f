//! Bounded text lines, for the protocols a person can type with `nc`.
//!
//! TCP delivers a byte stream, not lines: a line may arrive in many pieces
//! and one piece may hold many lines. [`LineBuffer`] keeps only the
//! unfinished tail of a line between pieces, and refuses to keep more than
//! its limit, so a peer that never sends a newline cannot grow memory.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// A line grew past the limit without a newline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTooLong {
    /// The limit in bytes, not counting the line ending.
    pub limit: usize,
}

impl core::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "line longer than {} bytes", self.limit)
    }
}

impl core::error::Error for LineTooLong {}

/// Splits a byte stream into lines ending in `\n` (a `\r` before it is
/// dropped too), holding at most `limit` bytes of an unfinished line.
#[derive(Clone, Debug)]
pub struct LineBuffer {
    partial: Vec<u8>,
    limit: usize,
}

impl LineBuffer {
    /// A buffer for lines of at most `limit` bytes (without the ending).
    pub fn new(limit: usize) -> Self {
        LineBuffer {
            partial: Vec::new(),
            limit,
        }
    }

    /// The line limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes of an unfinished line held from earlier pieces.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }

    /// Takes at most one line from `input`, completing any line held from
    /// earlier pieces. Returns how many bytes of `input` were consumed and
    /// the line if it is now complete; a piece without a newline is kept
    /// (and consumed whole). Bytes after the first newline are left for the
    /// caller, which may parse them as something else (a body, say).
    pub fn take_line(&mut self, input: &[u8]) -> Result<(usize, Option<Vec<u8>>), LineTooLong> {
        // A line may end in "\r\n": allow one byte of slack for the '\r'.
        let slack = self.limit.saturating_add(1);
        match input.iter().position(|&b| b == b'\n') {
            Some(nl) => {
                if self.partial.len() + nl > slack {
                    return Err(self.too_long());
                }
                let mut line = core::mem::take(&mut self.partial);
                line.extend_from_slice(&input[..nl]);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > self.limit {
                    return Err(self.too_long());
                }
                Ok((nl + 1, Some(line)))
            }
            None => {
                if self.partial.len() + input.len() > slack {
                    return Err(self.too_long());
                }
                self.partial.extend_from_slice(input);
                Ok((input.len(), None))
            }
        }
    }

    fn too_long(&mut self) -> LineTooLong {
        self.partial.clear();
        LineTooLong { limit: self.limit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    fn all_lines(buf: &mut LineBuffer, mut input: &[u8]) -> Result<Vec<Vec<u8>>, LineTooLong> {
        let mut out = Vec::new();
        while !input.is_empty() {
            let (used, line) = buf.take_line(input)?;
            input = &input[used..];
            out.extend(line);
        }
        Ok(out)
    }

    #[test]
    fn splits_crlf_and_lf() {
        let mut b = LineBuffer::new(16);
        let lines = all_lines(&mut b, b"one\r\ntwo\n\nthr").unwrap();
        assert_eq!(lines, vec![b"one".to_vec(), b"two".to_vec(), vec![]]);
        assert_eq!(b.pending(), 3);
        assert_eq!(all_lines(&mut b, b"ee\n").unwrap(), vec![b"three".to_vec()]);
    }

    #[test]
    fn refuses_long_lines_without_holding_them() {
        let mut b = LineBuffer::new(4);
        assert_eq!(
            b.take_line(b"abcd\r\n").unwrap(),
            (6, Some(b"abcd".to_vec()))
        );
        assert_eq!(b.take_line(b"abcde\n"), Err(LineTooLong { limit: 4 }));
        assert_eq!(b.take_line(b"abc").unwrap(), (3, None));
        assert_eq!(b.take_line(b"xyz"), Err(LineTooLong { limit: 4 }));
        assert_eq!(b.pending(), 0);
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_lines(
            lines in proptest::collection::vec("[a-z ]{0,20}", 0..8),
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let mut stream = Vec::new();
            for l in &lines { stream.extend_from_slice(l.as_bytes()); stream.extend_from_slice(b"\r\n"); }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
            cuts.sort_unstable();
            let mut b = LineBuffer::new(20);
            let mut got = Vec::new();
            let mut start = 0;
            for end in cuts.into_iter().chain([stream.len()]) {
                got.extend(all_lines(&mut b, &stream[start..end]).unwrap());
                start = end;
            }
            let want: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn memory_stays_bounded(input in proptest::collection::vec(any::<u8>(), 0..512), limit in 0usize..64) {
            let mut b = LineBuffer::new(limit);
            let mut rest = &input[..];
            while !rest.is_empty() {
                match b.take_line(rest) {
                    Ok((used, _)) => rest = &rest[used..],
                    Err(_) => break,
                }
                prop_assert!(b.pending() <= limit + 1);
            }
        }
    }
}

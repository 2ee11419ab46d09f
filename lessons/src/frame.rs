//! Netstrings, a framing small enough to test completely: `5:hello,` is the
//! five bytes `hello`. The property-testing chapter writes its properties
//! against this module (`tests/frames.rs`).

/// The longest payload a [`Decoder`] accepts.
pub const MAX_PAYLOAD: usize = 64 * 1024;

// ANCHOR: encode
/// `payload` as a netstring: its length in decimal, `:`, the bytes, `,`.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("{}:", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out.push(b',');
    out
}
// ANCHOR_END: encode

/// What a peer can get wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The length is not digits followed by `:`, or is over [`MAX_PAYLOAD`].
    BadLength,
    /// The payload is not followed by `,`.
    MissingComma,
}

// ANCHOR: decoder
/// Takes bytes in pieces of any size and hands back whole payloads.
#[derive(Debug, Default)]
pub struct Decoder {
    buffer: Vec<u8>,
}

impl Decoder {
    /// Adds `bytes` and returns every payload they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
        self.buffer.extend_from_slice(bytes);
        let mut done = Vec::new();
        loop {
            let Some(colon) = self.buffer.iter().position(|&b| b == b':') else {
                // No colon yet: fine while what we have could still be a length.
                let digits = self.buffer.iter().all(u8::is_ascii_digit);
                return if digits && self.buffer.len() <= 5 {
                    Ok(done)
                } else {
                    Err(FrameError::BadLength)
                };
            };
            let len = parse_len(&self.buffer[..colon])?;
            let end = colon + 1 + len;
            if self.buffer.len() <= end {
                return Ok(done); // the payload or its comma is still on the way
            }
            if self.buffer[end] != b',' {
                return Err(FrameError::MissingComma);
            }
            done.push(self.buffer[colon + 1..end].to_vec());
            self.buffer.drain(..=end);
        }
    }
}
// ANCHOR_END: decoder

fn parse_len(digits: &[u8]) -> Result<usize, FrameError> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(FrameError::BadLength);
    }
    let len: usize = std::str::from_utf8(digits)
        .map_err(|_| FrameError::BadLength)?
        .parse()
        .map_err(|_| FrameError::BadLength)?;
    if len > MAX_PAYLOAD {
        Err(FrameError::BadLength)
    } else {
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert_eq!(encode(b"hello"), b"5:hello,");
        assert_eq!(encode(b""), b"0:,");
        let mut d = Decoder::default();
        assert_eq!(d.push(b"5:hel"), Ok(vec![]));
        assert_eq!(d.push(b"lo,0:,"), Ok(vec![b"hello".to_vec(), vec![]]));
        assert_eq!(Decoder::default().push(b"x:"), Err(FrameError::BadLength));
        assert_eq!(
            Decoder::default().push(b"2:abc"),
            Err(FrameError::MissingComma)
        );
        assert_eq!(
            Decoder::default().push(b"999999:"),
            Err(FrameError::BadLength)
        );
    }
}

//! The simulated servers' files: generated from their name and size, so a
//! scenario can say "a 1 MiB file" without carrying a megabyte and a client
//! can check every byte it receives against [`content`]. They are held in
//! the core's in-memory store ([`crate::store::mem`]), which both the WKFT/1
//! and the TFTP adapters answer from.

pub use crate::store::mem::MemStore;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Largest generated file: the simulator keeps files in memory.
pub const MAX_SIM_FILE: u64 = 256 * 1024 * 1024;

/// A file in a simulated store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    /// Its name (a valid WKFT/1 path).
    pub name: String,
    /// Its size in bytes (at most [`MAX_SIM_FILE`]).
    pub size: u64,
}

/// The bytes of the file named `name` with `size` bytes.
pub fn content(name: &str, size: u64) -> Vec<u8> {
    // SplitMix64 keyed by the name's hash, not BLAKE3's XOF: in wasm32,
    // without SIMD, the XOF took a third of a simulated 1 MiB download
    // (profiled under node), for bytes that need only look random.
    let key = blake3::hash(name.as_bytes());
    let mut state = u64::from_le_bytes(key.as_bytes()[..8].try_into().unwrap_or_default());
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_le_bytes()
    };
    let mut out = vec![0; size.min(MAX_SIM_FILE) as usize];
    // Whole words as fixed-size copies (one store each, also in wasm),
    // then the tail.
    let mut words = out.chunks_exact_mut(8);
    for word in &mut words {
        if let Ok(word) = <&mut [u8; 8]>::try_from(word) {
            *word = next();
        }
    }
    let tail = words.into_remainder();
    let last = next();
    tail.copy_from_slice(&last[..tail.len()]);
    out
}

/// Byte-for-byte equality, a word at a time: wasm32 has no instruction for
/// `memcmp`, and its byte loop was a tenth of a simulated download in the
/// browser, where clients check every byte they receive.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let word = |w: &[u8]| <[u8; 8]>::try_from(w).map(u64::from_ne_bytes).unwrap_or(0);
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    a.len() == b.len()
        && wa.remainder() == wb.remainder()
        && wa.zip(wb).all(|(x, y)| word(x) == word(y))
}

/// Largest upload a simulated server accepts (bytes): it keeps uploads in
/// memory.
pub const MAX_UPLOAD: u64 = crate::store::mem::DEFAULT_QUOTA;

/// A store holding these generated files (see [`content`]).
pub fn mem_store(files: &[FileSpec]) -> MemStore {
    let mut store = MemStore::new().with_quota(MAX_UPLOAD);
    for f in files {
        store.insert(f.name.clone(), Bytes::from(content(&f.name, f.size)));
    }
    store
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_a_prefix_family() {
        assert!(same_bytes(&content("f", 1001), &content("f", 1001)));
        let mut other = content("f", 1001);
        other[998] ^= 1;
        assert!(!same_bytes(&content("f", 1001), &other));
        other[998] ^= 1;
        other[3] ^= 0x80;
        assert!(!same_bytes(&content("f", 1001), &other));
        assert!(!same_bytes(b"abc", b"abcd"));
        let a = content("f", 100);
        let b = content("f", 1000);
        assert_eq!(a[..], b[..100]);
        assert_ne!(content("g", 100), a);
    }
}

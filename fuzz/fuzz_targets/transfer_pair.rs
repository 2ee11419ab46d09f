//! A WKFT/1 client and server wired in memory with the in-memory store,
//! under a fuzzed file, resume offset and schedule: the upload and the
//! resumed download are byte-exact, and nothing wrong is ever committed
//! (the store asserts size and digest on every commit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::testing::transfer::{MemStore, Session};
use wirekit_core::transfer::client::{Command, Event};
use wirekit_core::wire::transfer::Digest;

/// A name WKFT/1.1 percent-encodes (a space, `%`), so that every run
/// crosses the escaping both ways.
const NAME: &str = "f 100%";

fuzz_target!(|input: (Vec<u8>, u16, u64, u16)| {
    let (data, cut, seed, piece) = input;
    let k = usize::from(cut) % (data.len() + 1);
    let mut s = Session::new(MemStore::new(), seed, usize::from(piece).max(1));
    s.connect().expect("handshake");
    let done = Event::Done {
        size: data.len() as u64,
        digest: Digest::of(&data),
    };
    s.local.source = data.clone();
    let put = Command::Put {
        path: NAME.into(),
        size: data.len() as u64,
        offset: 0,
        replace: false,
        restart: false,
    };
    assert_eq!(s.request(put).expect("put"), std::slice::from_ref(&done));
    s.local.dest = data[..k].to_vec();
    let get = Command::Get {
        path: NAME.into(),
        offset: k as u64,
        version: None,
    };
    assert_eq!(s.request(get).expect("get"), [done]);
    assert_eq!(s.local.dest, data);
    // WKFT/1.1: a replacing upload takes the file's place whole.
    let other: Vec<u8> = data.iter().rev().map(|b| b ^ 0x5a).collect();
    s.local.source = other.clone();
    let replace = Command::Put {
        path: NAME.into(),
        size: other.len() as u64,
        offset: 0,
        replace: true,
        restart: false,
    };
    let stored = Event::Done {
        size: other.len() as u64,
        digest: Digest::of(&other),
    };
    assert_eq!(s.request(replace).expect("replace"), [stored]);
    assert_eq!(s.store.mem().file(NAME), Some(&other[..]));
});

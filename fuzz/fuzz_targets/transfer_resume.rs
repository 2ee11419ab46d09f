//! A WKFT/1 upload or download cut off again and again and resumed each
//! time by a new session, as `wirekit put/get --resume` does after a broken
//! connection: the stream stops after a fuzzed number of delivery rounds
//! (bytes in flight are lost), the server's store closes the session and
//! keeps its partial, and the next client resumes from what survived. A
//! fuzzed byte of the kept prefix may be flipped too. However it is cut,
//! the transfer ends byte-exact or in a typed failure; no committed file
//! and no finished download ever holds wrong bytes, and a corrupted prefix
//! is caught by the digest, never delivered.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wirekit_core::testing::transfer::{MemLocal, MemStore, Session};
use wirekit_core::transfer::client::{Command, Event, Failure};
use wirekit_core::transfer::{ErrorCode, Kind};

/// More cuts than this teach the search nothing new.
const MAX_CUTS: usize = 6;

#[derive(Arbitrary, Debug)]
struct Run {
    put: bool,
    data: Vec<u8>,
    seed: u64,
    piece: u8,
    /// Delivery rounds before each cut.
    cuts: Vec<u8>,
    /// Before attempt `.0`, flip the kept prefix's byte at `.1` (mod its length).
    corrupt: Option<(u8, u16)>,
}

/// What one attempt ended in.
enum Ended {
    Done,
    /// A typed failure that says the kept prefix cannot be trusted: start over.
    Restart,
    Failed(Failure),
    Cut,
}

fn judge(outcomes: &[Event], size: usize) -> Ended {
    match outcomes {
        [Event::Done { size: n, .. }] => {
            assert_eq!(*n, size as u64, "done with a wrong size");
            Ended::Done
        }
        [Event::Failed(Failure::DigestMismatch { .. } | Failure::PrefixDiffers)]
        | [
            Event::Failed(Failure::Remote {
                code: ErrorCode::Mismatch,
                ..
            }),
        ] => Ended::Restart,
        [Event::Failed(f)] => Ended::Failed(f.clone()),
        other => panic!("a request ended in {other:?}"),
    }
}

/// The kept prefix: the server's partial for an upload, the local file for a download.
fn prefix(put: bool, store: &MemStore, local: &MemLocal) -> Vec<u8> {
    match put {
        true => store
            .mem()
            .partial("f")
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
        false => local.dest.clone(),
    }
}

fuzz_target!(|run: Run| {
    let data = run.data;
    let mut store = MemStore::new();
    let mut local = MemLocal::default();
    if run.put {
        local.source = data.clone();
    } else {
        store.mem_mut().insert("f", data.clone().into());
    }
    let mut corrupted = false;
    let mut restart = false;
    let cuts = run
        .cuts
        .iter()
        .take(MAX_CUTS)
        .map(|&c| Some(usize::from(c)));
    // The last attempt runs uncut; one more follows if it had to start over.
    for (attempt, cut) in cuts.chain([None, None]).enumerate() {
        let seed = run.seed.wrapping_add(attempt as u64);
        let mut s = Session::new(store, seed, usize::from(run.piece).max(1));
        s.local = local;
        s.connect().expect("handshake");
        if let Some((at, pos)) = run.corrupt
            && usize::from(at) == attempt
        {
            let mut kept = prefix(run.put, &s.store, &s.local);
            let at = usize::from(pos) % kept.len().max(1);
            if let Some(b) = kept.get_mut(at) {
                *b ^= 0x5a;
                corrupted = true;
                match run.put {
                    true => s.store.mem_mut().insert_partial("f", kept),
                    false => s.local.dest = kept,
                }
            }
        }
        let cmd = if run.put {
            // As `wirekit put --resume`: STAT, then resume a partial it kept.
            let offset = match s.request(Command::Stat { path: "f".into() }).expect("stat")[..] {
                [Event::Status(st)] if st.kind == Kind::File => {
                    // Committed, but the cut lost the answer.
                    assert_eq!(s.store.mem().file("f"), Some(&data[..]));
                    return;
                }
                [Event::Status(st)] if st.kind == Kind::Partial && !restart => st.size,
                _ => 0,
            };
            Command::Put {
                path: "f".into(),
                size: data.len() as u64,
                offset,
                replace: false,
                restart,
            }
        } else {
            if restart {
                s.local.dest.clear();
            }
            Command::Get {
                path: "f".into(),
                offset: s.local.dest.len() as u64,
                version: None,
            }
        };
        // A restart that is cut before it reaches the server leaves the
        // corrupted partial in place (a partial still, refused by its digest
        // on the next resume): the corruption counts as gone only once the
        // kept prefix is seen to be the file's again, below.
        restart = false;
        // ANCHOR: cut
        s.begin(cmd).expect("request");
        let settled = s.run(cut.unwrap_or(100_000)).expect("no misuse");
        let ended = match settled {
            true => judge(&std::mem::take(&mut s.local.outcomes), data.len()),
            false => {
                assert!(cut.is_some(), "an uncut session did not settle");
                Ended::Cut
            }
        };
        // Never wrong bytes under the final name, whatever happened.
        if let Some(f) = s.store.mem().file("f") {
            assert!(f == &data[..], "a committed file holds wrong bytes");
        }
        match ended {
            Ended::Done => {
                if !run.put {
                    assert!(
                        s.local.dest == data,
                        "a finished download holds wrong bytes"
                    );
                }
                return;
            }
            Ended::Restart => {
                assert!(corrupted, "a digest mismatch without a corruption");
                restart = true;
            }
            Ended::Failed(f) => panic!("attempt {attempt} failed: {f}"),
            Ended::Cut => {}
        }
        (store, local) = s.cut();
        // ANCHOR_END: cut
        let kept = prefix(run.put, &store, &local);
        if data.starts_with(&kept) {
            corrupted = false;
        }
        assert!(
            corrupted || data.starts_with(&kept),
            "the kept prefix is not the file's"
        );
    }
    panic!("the transfer never completed");
});

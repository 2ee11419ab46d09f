//! The store contract over memory (what the simulator's servers and every
//! machine test answer from), under any sequence of calls: each answer
//! agrees with a plain model of files and partials, refusals carry the
//! kind the contract names, nothing grows past the quota, and a file
//! appears (or is replaced, by an upload that asked to) only through a
//! commit of exactly its announced size.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use wirekit_core::store::mem::MemStore;
use wirekit_core::store::{ErrorKind, Store};
use wirekit_core::transfer::Kind;

const QUOTA: u64 = 4096;
const NAMES: [&str; 3] = ["a", "b", "c"];

#[derive(Arbitrary, Debug)]
enum Op {
    Create {
        name: u8,
        size: u16,
        offset: u16,
    },
    /// WKFT/1.1's `PUT … replace`: its commit may take a file's place.
    CreateReplacing {
        name: u8,
        size: u16,
        offset: u16,
    },
    /// WKFT/1.1's `DELETE`.
    Remove {
        name: u8,
    },
    Append {
        name: u8,
        offset: u16,
        data: Vec<u8>,
    },
    ReadPartial {
        name: u8,
        offset: u16,
        len: u16,
    },
    Commit {
        name: u8,
        size: u16,
    },
    Discard {
        name: u8,
    },
    Read {
        name: u8,
        offset: u16,
        len: u16,
    },
    Stat {
        name: u8,
    },
    List,
}

fn name(i: u8) -> &'static str {
    NAMES[usize::from(i) % NAMES.len()]
}

#[derive(Default)]
struct Model {
    files: BTreeMap<&'static str, Vec<u8>>,
    partials: BTreeMap<&'static str, Vec<u8>>,
    replacing: std::collections::BTreeSet<&'static str>,
}

fn window(d: &[u8], offset: u16, len: u16) -> &[u8] {
    let start = usize::from(offset).min(d.len());
    &d[start..(start + usize::from(len)).min(d.len())]
}

fuzz_target!(|ops: Vec<Op>| {
    let mut s = MemStore::new().with_quota(QUOTA);
    let mut m = Model::default();
    for op in ops.into_iter().take(64) {
        match op {
            Op::Create {
                name: n,
                size,
                offset,
            } => {
                let n = name(n);
                let got = s.create_partial(n, size.into(), offset.into());
                let kept = m.partials.get(n).map_or(0, Vec::len);
                let want = if m.files.contains_key(n) {
                    Err(ErrorKind::Exists)
                } else if u64::from(size) > QUOTA {
                    Err(ErrorKind::Full)
                } else if usize::from(offset) > kept {
                    Err(ErrorKind::NotFound)
                } else {
                    Ok(())
                };
                assert_eq!(got.as_ref().map(|_| ()).map_err(|e| e.kind), want);
                if got.is_ok() {
                    m.partials.entry(n).or_default().truncate(offset.into());
                }
            }
            Op::CreateReplacing {
                name: n,
                size,
                offset,
            } => {
                let n = name(n);
                let got = s.create_replacing(n, size.into(), offset.into());
                let kept = m.partials.get(n).map_or(0, Vec::len);
                let want = if u64::from(size) > QUOTA {
                    Err(ErrorKind::Full)
                } else if usize::from(offset) > kept {
                    Err(ErrorKind::NotFound)
                } else {
                    Ok(())
                };
                assert_eq!(got.as_ref().map(|_| ()).map_err(|e| e.kind), want);
                if got.is_ok() {
                    m.partials.entry(n).or_default().truncate(offset.into());
                    m.replacing.insert(n);
                }
            }
            Op::Remove { name: n } => {
                let n = name(n);
                let got = s.remove(n).map_err(|e| e.kind);
                let had = m.files.remove(n).is_some() | m.partials.remove(n).is_some();
                assert_eq!(
                    got,
                    if had {
                        Ok(())
                    } else {
                        Err(ErrorKind::NotFound)
                    }
                );
            }
            Op::Append {
                name: n,
                offset,
                data,
            } => {
                let n = name(n);
                let got = s.append(&mut n.to_owned(), offset.into(), &data);
                let end = usize::from(offset) + data.len();
                match m.partials.get_mut(n) {
                    _ if end as u64 > QUOTA => {
                        assert_eq!(got.map_err(|e| e.kind), Err(ErrorKind::Full))
                    }
                    None => assert!(got.is_err(), "appended to no partial"),
                    Some(d) => {
                        assert!(got.is_ok(), "{got:?}");
                        if d.len() < end {
                            d.resize(end, 0);
                        }
                        d[usize::from(offset)..end].copy_from_slice(&data);
                    }
                }
            }
            Op::ReadPartial {
                name: n,
                offset,
                len,
            } => {
                let n = name(n);
                let got = s.read_partial(&mut n.to_owned(), offset.into(), len.into());
                match m.partials.get(n) {
                    Some(d) => assert_eq!(&got.expect("read")[..], window(d, offset, len)),
                    None => assert!(got.is_err()),
                }
            }
            Op::Commit { name: n, size } => {
                let n = name(n);
                let got = s.commit(n.to_owned(), size.into());
                match m.partials.remove(n) {
                    None => assert!(got.is_err(), "committed no partial"),
                    Some(d) if d.len() != usize::from(size) => {
                        assert_eq!(got.map_err(|e| e.kind), Err(ErrorKind::Mismatch))
                    }
                    Some(_) if m.files.contains_key(n) && !m.replacing.contains(n) => {
                        assert_eq!(got.map_err(|e| e.kind), Err(ErrorKind::Exists))
                    }
                    Some(d) => {
                        assert!(got.is_ok(), "{got:?}");
                        m.replacing.remove(n);
                        m.files.insert(n, d);
                    }
                }
            }
            Op::Discard { name: n } => {
                let n = name(n);
                s.discard(n.to_owned());
                m.partials.remove(n);
                m.replacing.remove(n);
            }
            Op::Read {
                name: n,
                offset,
                len,
            } => {
                let n = name(n);
                match (s.open_read(n), m.files.get(n)) {
                    (Ok((mut r, size)), Some(d)) => {
                        assert_eq!(size, d.len() as u64);
                        let got = s.read_at(&mut r, offset.into(), len.into()).expect("read");
                        assert_eq!(&got[..], window(d, offset, len));
                    }
                    (Err(e), None) => assert_eq!(e.kind, ErrorKind::NotFound),
                    (got, want) => panic!("open_read {got:?}, model {want:?}"),
                }
            }
            Op::Stat { name: n } => {
                let n = name(n);
                let got = s.stat(n).map(|st| (st.kind, st.size));
                let want = match (m.files.get(n), m.partials.get(n)) {
                    (Some(d), _) => Ok((Kind::File, d.len() as u64)),
                    (None, Some(d)) => Ok((Kind::Partial, d.len() as u64)),
                    (None, None) => Err(ErrorKind::NotFound),
                };
                assert_eq!(got.map_err(|e| e.kind), want);
            }
            Op::List => {
                let got = s.list(None).expect("list");
                assert_eq!(got.len(), m.files.len() + m.partials.len());
            }
        }
        for (n, d) in &m.files {
            assert_eq!(s.file(n), Some(&d[..]), "file {n}");
        }
        for (n, d) in &m.partials {
            assert_eq!(s.partial(n), Some(&d[..]), "partial {n}");
        }
        assert!(s.partials().all(|(_, d)| d.len() as u64 <= QUOTA));
        assert_eq!(s.files().count(), m.files.len());
    }
});

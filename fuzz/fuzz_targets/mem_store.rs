//! The store contract over memory (what the simulator's servers and every
//! machine test answer from), under any sequence of calls: each answer
//! agrees with a plain model of files and partials, refusals carry the
//! kind the contract names, nothing grows past the quota, and a file
//! appears (or is replaced, by an upload that asked to) only through a
//! commit of exactly its announced size, and a partial with bytes in it is
//! only ever taken over by a resume of the same size or an upload that
//! asked to restart.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use wirekit_core::store::mem::MemStore;
use wirekit_core::store::{Begin, ErrorKind, Store};
use wirekit_core::transfer::Kind;

const QUOTA: u64 = 4096;
const NAMES: [&str; 3] = ["a", "b", "c"];

#[derive(Arbitrary, Debug)]
enum Op {
    /// `replace`: WKFT/1.1's `PUT … replace`, whose commit may take a
    /// file's place; `restart`: `PUT … restart`.
    Create {
        name: u8,
        size: u16,
        offset: u16,
        replace: bool,
        restart: bool,
    },
    Truncate {
        name: u8,
        len: u16,
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
    announced: BTreeMap<&'static str, u64>,
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
                replace,
                restart,
            } => {
                let n = name(n);
                let how = Begin {
                    size: size.into(),
                    offset: offset.into(),
                    replace,
                    restart,
                };
                let got = s.create_partial(n, how);
                let kept = m.partials.get(n).map(Vec::len);
                let announced = m.announced.get(n).copied();
                let want = if m.files.contains_key(n) && !replace {
                    Err(ErrorKind::Exists)
                } else if u64::from(size) > QUOTA {
                    Err(ErrorKind::Full)
                } else if (offset == 0 && kept.is_some_and(|k| k > 0) && !restart)
                    || (offset > 0
                        && kept.is_some()
                        && announced.is_some_and(|a| a != u64::from(size)))
                {
                    // Another upload's partial.
                    Err(ErrorKind::Exists)
                } else if usize::from(offset) > kept.unwrap_or(0) {
                    Err(ErrorKind::NotFound)
                } else {
                    Ok(())
                };
                assert_eq!(got.as_ref().map(|_| ()).map_err(|e| e.kind), want);
                if got.is_ok() {
                    let d = m.partials.entry(n).or_default();
                    if offset == 0 {
                        d.clear();
                    }
                    m.announced.insert(n, size.into());
                    if replace {
                        m.replacing.insert(n);
                    }
                }
            }
            Op::Truncate { name: n, len } => {
                let n = name(n);
                let got = s.truncate_partial(&mut n.to_owned(), len.into());
                match m.partials.get_mut(n) {
                    Some(d) => {
                        assert!(got.is_ok(), "{got:?}");
                        d.truncate(len.into());
                    }
                    None => assert!(got.is_err(), "truncated no partial"),
                }
            }
            Op::Remove { name: n } => {
                let n = name(n);
                let got = s.remove(n).map_err(|e| e.kind);
                let had = m.files.remove(n).is_some() | m.partials.remove(n).is_some();
                m.announced.remove(n);
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
                let got = s.commit(n.to_owned(), size.into(), None);
                m.announced.remove(n);
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
                m.announced.remove(n);
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

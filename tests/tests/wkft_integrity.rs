//! WKFT/1.1's integrity rules against the real server: the probes of the
//! protocol review (aliased uploads, files changed during a download,
//! partials taken over by other uploads) each get the answer the
//! specification gives, and `STORED` never names a digest other than the
//! file's on disk.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use wirekit::client::ClientError;
use wirekit::client::local::partial_path;
use wirekit::client::transfer::{self, Partial};
use wirekit::drive::Model;
use wirekit::store::{PARTIAL_SUFFIX, Store};
use wirekit_core::store::Begin;
use wirekit_core::wire::transfer::Digest;
use wirekit_tests::native::{MODELS, Raw, data, opts, start};

fn partial_len(dir: &std::path::Path, name: &str) -> Option<u64> {
    let part = dir.join(format!(".{name}{PARTIAL_SUFFIX}"));
    fs::metadata(part).ok().map(|m| m.len())
}

/// Waits until the server has seen a cut connection's partial (bounded).
fn partial_settles(dir: &std::path::Path, name: &str, len: u64) {
    let kept = wirekit_tests::process::eventually(std::time::Duration::from_secs(5), || {
        partial_len(dir, name) == Some(len)
    });
    assert!(kept, "the partial of {name} did not settle at {len} bytes");
}

#[test]
fn two_paths_to_one_file_are_one_lock_and_stored_is_the_file_on_disk() {
    // The iterative model serves one connection at a time: no races.
    for model in MODELS.into_iter().filter(|m| *m != Model::Iterative) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        let r = start(model, dir.path());
        let body = data(20, 1);
        let mut x = Raw::speaking(opts(&r).addr, 2);
        let mut y = Raw::speaking(opts(&r).addr, 2);
        x.send(b"PUT a/f 20\r\n");
        assert_eq!(x.line(), "READY 0", "{model:?}");
        y.send(b"PUT b/f 20\r\n");
        let refused = y.line();
        assert!(refused.starts_with("ERR 423"), "{model:?}: {refused}");
        x.data(&body);
        x.send(format!("DONE {}\r\n", Digest::of(&body)).as_bytes());
        let stored = x.line();
        let on_disk = fs::read(dir.path().join("a/f")).unwrap();
        assert_eq!(on_disk, body, "{model:?}");
        assert_eq!(
            stored,
            format!("STORED 20 {}", Digest::of(&on_disk)),
            "{model:?}"
        );
        // 1.0 says the same with its own code.
        let mut old = Raw::open(opts(&r).addr);
        old.send(b"PUT b/g 1\r\n");
        assert_eq!(old.line(), "READY 0");
        let mut y = Raw::open(opts(&r).addr);
        y.send(b"PUT a/g 1\r\n");
        assert!(y.line().starts_with("ERR 503"), "{model:?}");
    }
}

#[test]
fn a_file_written_during_a_download_is_not_vouched_for() {
    let dir = tempfile::tempdir().unwrap();
    let body = data(30 << 20, 2);
    fs::write(dir.path().join("big"), &body).unwrap();
    let r = start(Model::Async, dir.path());
    let mut raw = Raw::speaking(opts(&r).addr, 2);
    raw.send(b"GET big\r\n");
    let file = raw.line();
    assert!(
        file.starts_with(&format!("FILE {} 0 ", body.len())),
        "{file}"
    );
    let mut got = raw.read_data().expect("a first chunk").len();
    // The last 1,000 bytes change in place while the rest is on its way.
    let f = OpenOptions::new()
        .write(true)
        .open(dir.path().join("big"))
        .unwrap();
    f.write_all_at(&[0x55; 1000], body.len() as u64 - 1000)
        .unwrap();
    let end = loop {
        match raw.read_data() {
            Ok(chunk) => got += chunk.len(),
            Err(line) => break line,
        }
    };
    assert_eq!(got, body.len(), "every byte was sent");
    assert!(end.starts_with("ERR 412"), "{end}");
    // The session goes on, and the file as it is now is served whole.
    raw.send(b"NOOP\r\n");
    assert_eq!(raw.line(), "OK");
}

#[test]
fn a_resume_names_the_version_it_began_with() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f"), b"0123456789").unwrap();
    let r = start(Model::Threads, dir.path());
    let mut raw = Raw::speaking(opts(&r).addr, 2);
    raw.send(b"GET f 4\r\n");
    let file = raw.line();
    let version = file
        .strip_prefix("FILE 10 4 ")
        .expect("a version")
        .to_owned();
    assert_eq!(raw.read_data().unwrap(), b"456789");
    let done = raw.line();
    assert_eq!(done, format!("DONE {}", Digest::of(b"0123456789")));
    raw.send(format!("GET f 4 {version}\r\n").as_bytes());
    assert_eq!(raw.line(), file, "the same version resumes");
    assert_eq!(raw.read_data().unwrap(), b"456789");
    assert_eq!(raw.line(), done);
    // Replaced between sessions: refused before a byte crosses.
    fs::write(dir.path().join("f.new"), b"abcdefghij").unwrap();
    fs::rename(dir.path().join("f.new"), dir.path().join("f")).unwrap();
    raw.send(format!("GET f 4 {version}\r\n").as_bytes());
    let refused = raw.line();
    assert!(refused.starts_with("ERR 412"), "{refused}");
    raw.send(b"GET f 4\r\n");
    assert!(raw.line().starts_with("FILE 10 4 "));
    assert_eq!(raw.read_data().unwrap(), b"efghij");
    assert_eq!(raw.line(), format!("DONE {}", Digest::of(b"abcdefghij")));
}

#[test]
fn a_partial_belongs_to_the_upload_that_announced_it() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(Model::Poll, dir.path());
    let addr = opts(&r).addr;
    let body = b"hello";
    {
        let mut first = Raw::speaking(addr, 2);
        first.send(b"PUT wip 5\r\n");
        assert_eq!(first.line(), "READY 0");
        first.data(&body[..3]);
    }
    partial_settles(dir.path(), "wip", 3);
    let mut other = Raw::speaking(addr, 2);
    other.send(b"PUT wip 3\r\n");
    let refused = other.line();
    assert!(
        refused.starts_with("ERR 409") && refused.contains("holds 3 of 5 bytes"),
        "{refused}"
    );
    other.send(b"PUT wip 9 3\r\n");
    let refused = other.line();
    assert!(
        refused.starts_with("ERR 409") && refused.contains("announced as 5 bytes"),
        "{refused}"
    );
    // A resume that asks for less than was kept cuts nothing until it sends.
    other.send(b"PUT wip 5 1\r\n");
    assert_eq!(other.line(), format!("READY 1 {}", Digest::of(b"h")));
    drop(other);
    partial_settles(dir.path(), "wip", 3);
    // A client that goes on after READY's digest gets what it sent, and
    // STORED names the file on disk.
    let mut wrong = Raw::speaking(addr, 2);
    wrong.send(b"PUT wip 5 3\r\n");
    assert_eq!(wrong.line(), format!("READY 3 {}", Digest::of(b"hel")));
    wrong.data(b"XY");
    wrong.send(format!("DONE {}\r\n", Digest::of(b"helXY")).as_bytes());
    let stored = wrong.line();
    assert_eq!(stored, format!("STORED 5 {}", Digest::of(b"helXY")));
    assert_eq!(fs::read(dir.path().join("wip")).unwrap(), b"helXY");
    // A restart is the one way to take another's partial over.
    let mut first = Raw::speaking(addr, 2);
    first.send(b"PUT wip2 5\r\n");
    assert_eq!(first.line(), "READY 0");
    first.data(&body[..2]);
    drop(first);
    partial_settles(dir.path(), "wip2", 2);
    let mut again = Raw::speaking(addr, 2);
    again.send(b"PUT wip2 5 2\r\n");
    assert_eq!(again.line(), format!("READY 2 {}", Digest::of(b"he")));
    again.data(b"LLO");
    again.send(format!("DONE {}\r\n", Digest::of(b"heLLx")).as_bytes());
    let refused = again.line();
    assert!(refused.starts_with("ERR 422"), "{refused}");
    assert_eq!(
        partial_len(dir.path(), "wip2"),
        Some(2),
        "a failed resume leaves the partial as READY showed it"
    );
    again.send(b"PUT wip2 4 0 restart\r\n");
    assert_eq!(again.line(), "READY 0");
    again.data(b"new!");
    again.send(format!("DONE {}\r\n", Digest::of(b"new!")).as_bytes());
    assert_eq!(again.line(), format!("STORED 4 {}", Digest::of(b"new!")));
    // WKFT/1.0 clients knew no such rule: from 0 they start over.
    let mut old = Raw::open(addr);
    old.send(b"PUT wip3 5\r\n");
    assert_eq!(old.line(), "READY 0");
    old.data(b"ab");
    drop(old);
    partial_settles(dir.path(), "wip3", 2);
    let mut old = Raw::open(addr);
    old.send(b"PUT wip3 1\r\n");
    assert_eq!(old.line(), "READY 0");
}

#[test]
fn a_commit_never_replaces_a_file_that_took_the_name_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), false).unwrap();
    let up = store.begin_upload("late", Begin::fresh(3)).unwrap();
    up.write_at(0, b"new").unwrap();
    fs::write(dir.path().join("late"), b"theirs").unwrap();
    let e = up.commit(3, None).unwrap_err();
    assert_eq!(e.code, wirekit_core::transfer::ErrorCode::Exists, "{e}");
    assert_eq!(fs::read(dir.path().join("late")).unwrap(), b"theirs");
    assert_eq!(partial_len(dir.path(), "late"), None);
}

#[test]
fn a_path_swapped_for_a_link_after_it_was_checked_is_not_followed() {
    // The store holds the directory open: once it has begun an upload, a
    // directory renamed away and replaced by a link to outside changes
    // nothing about where the bytes go.
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("d")).unwrap();
    let store = Store::open(&root, false).unwrap();
    let up = store.begin_upload("d/f", Begin::fresh(2)).unwrap();
    fs::rename(root.join("d"), root.join("moved")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("d")).unwrap();
    up.write_at(0, b"ok").unwrap();
    up.commit(2, None).unwrap();
    assert_eq!(fs::read(root.join("moved/f")).unwrap(), b"ok");
    assert!(fs::read_dir(outside.path()).unwrap().next().is_none());
    // A new request through the link is refused as before.
    let e = store.begin_upload("d/g", Begin::fresh(1)).unwrap_err();
    assert_eq!(e.code, wirekit_core::transfer::ErrorCode::Denied, "{e}");
}

#[test]
fn wirekit_get_resume_asks_for_the_version_its_partial_began_with() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let body = data(300_000, 5);
    fs::write(dir.path().join("f"), &body).unwrap();
    let r = start(Model::Async, dir.path());
    // What an interrupted `wirekit get` leaves: a prefix, and the version
    // it came from on the partial.
    let mut raw = Raw::speaking(opts(&r).addr, 2);
    raw.send(b"STAT f\r\n");
    let stat = raw.line();
    let version = stat.rsplit(' ').next().unwrap().to_owned();
    assert!(stat.starts_with("STAT file 300000 "), "{stat}");
    drop(raw);
    let local = work.path().join("f");
    let kept = |what: &[u8]| {
        let part = partial_path(&local);
        fs::write(&part, what).unwrap();
        let file = fs::File::open(&part).unwrap();
        rustix::fs::fsetxattr(
            &file,
            "user.wirekit.version",
            version.as_bytes(),
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
    };
    kept(&body[..100_000]);
    let done = transfer::get(&opts(&r), "f", &local, Partial::Resume).expect("resumed");
    assert_eq!((done.offset, done.sent), (100_000, 200_000));
    assert_eq!(fs::read(&local).unwrap(), body);
    // The file is replaced: the same resume is refused before a byte
    // crosses, and the kept bytes, another version's, are removed.
    fs::remove_file(&local).unwrap();
    kept(&body[..100_000]);
    let other = data(300_000, 6);
    fs::write(dir.path().join("f.new"), &other).unwrap();
    fs::rename(dir.path().join("f.new"), dir.path().join("f")).unwrap();
    let e = transfer::get(&opts(&r), "f", &local, Partial::Resume).unwrap_err();
    assert!(
        matches!(&e, ClientError::Verify(m) if m.starts_with("412 ")),
        "{e}"
    );
    assert!(!partial_path(&local).exists() && !local.exists());
    let fresh = transfer::get(&opts(&r), "f", &local, Partial::Keep).expect("from 0");
    assert_eq!(fresh.offset, 0);
    assert_eq!(fs::read(&local).unwrap(), other);
}

#[test]
fn an_idle_session_hears_408_before_the_close() {
    for model in MODELS {
        let dir = tempfile::tempdir().unwrap();
        let r = wirekit_tests::native::start_with(dir.path(), |c| {
            c.model = model;
            c.idle_timeout = std::time::Duration::from_secs(1);
        });
        let addr = opts(&r).addr;
        // A client that connects and says nothing.
        let s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut said = String::new();
        std::io::Read::read_to_string(&mut &s, &mut said).unwrap();
        assert_eq!(
            said, "ERR 408 idle timeout: nothing came from the client\n",
            "{model:?}"
        );
        drop(s);
        // An upload that stalls: the same, and its partial is kept.
        let mut up = Raw::speaking(addr, 2);
        up.send(b"PUT stalled 10\r\n");
        assert_eq!(up.line(), "READY 0", "{model:?}");
        up.data(b"abc");
        assert!(up.line().starts_with("ERR 408 idle timeout"), "{model:?}");
        assert_eq!(up.line(), "", "{model:?}: the server closed");
        partial_settles(dir.path(), "stalled", 3);
    }
}

//! The real server's room for uploads (WKFT/1.1 #16): the free-space check
//! before `READY`, the quota, the caps on partials, and the expiry of
//! abandoned ones. Each probe of the issue gets its specified answer. The
//! full disk itself (ENOSPC mid-upload) is in `faults.rs`, which can give a
//! server a small filesystem of its own.

use std::path::Path;
use std::time::{Duration, SystemTime};
use wirekit::client::transfer::{self, Partial};
use wirekit::drive::Model;
use wirekit::server::Running;
use wirekit::services::{Proto, Service};
use wirekit::store::space::{Limits, free_space};
use wirekit_core::transfer::ErrorCode;
use wirekit_tests::native::{Raw, addr, data, opts, start_with};

const TIB: u64 = 1 << 40;

/// A raw session with the server `r`, speaking `version`.
fn raw(r: &Running, version: u32) -> Raw {
    Raw::speaking(addr(r, Service::Transfer, Proto::Tcp), version)
}

/// Starts an upload and leaves it after `kept` bytes: the connection ends,
/// so the server keeps the partial.
fn abandon(mut s: Raw, path: &str, size: u64, kept: usize) {
    assert_eq!(s.say(&format!("PUT {path} {size}")), "READY 0");
    s.data(&data(kept, 1));
}

fn root() -> tempfile::TempDir {
    tempfile::tempdir().expect("tmp")
}

fn server(root: &Path, limits: Limits) -> Running {
    start_with(root, |c| {
        c.model = Model::Threads;
        c.space = limits;
    })
}

/// A partial `name` of `root` exists.
fn has_partial(root: &Path, name: &str) -> bool {
    root.join(format!(".{name}.wkpart")).exists()
}

/// Probe: `PUT` of 2⁴⁰ bytes got `READY`. Now: `507` (WKFT/1.1) or `413`
/// (a 1.0 session, which knows no 507) before `READY`, and no partial.
#[test]
fn a_put_larger_than_the_free_space_is_refused_before_ready() {
    let dir = root();
    let r = server(dir.path(), Limits::default());
    let free = free_space(dir.path()).expect("statvfs");
    assert!(free < TIB, "this test needs less than 1 TiB free");
    let mut v11 = raw(&r, 2);
    let reply = v11.say(&format!("PUT huge {TIB}"));
    assert!(
        reply.starts_with("ERR 507 not enough free space: 1.0 TiB needed"),
        "{reply}"
    );
    let mut v10 = raw(&r, 1);
    let reply = v10.say(&format!("PUT huge {TIB}"));
    assert!(
        reply.starts_with("ERR 413 not enough free space"),
        "{reply}"
    );
    assert!(!has_partial(dir.path(), "huge"));
    // The sessions go on: a small upload in each.
    assert_eq!(v11.say("PUT small 2"), "READY 0");
    assert_eq!(v10.say("QUIT"), "BYE");
}

/// Probe: 300 partials announced at 1 TiB each were accepted. Now each is
/// refused with 507 and leaves nothing; and caps bound the partials that
/// do fit, in number and in announced bytes.
#[test]
fn partials_are_capped_in_number_and_announced_bytes() {
    let dir = root();
    let r = server(dir.path(), Limits::default());
    for i in 0..300 {
        let reply = raw(&r, 2).say(&format!("PUT p{i} {TIB}"));
        assert!(reply.starts_with("ERR 507 "), "{i}: {reply}");
    }
    assert!(wirekit_tests::process::names(dir.path()).is_empty());
    drop(r);

    let limits = Limits {
        max_partials: 3,
        max_partial_bytes: 1 << 20,
        ..Limits::default()
    };
    let r = server(dir.path(), limits);
    for name in ["a", "b", "c"] {
        abandon(raw(&r, 2), name, 1000, 10);
    }
    let kept = wirekit_tests::process::eventually(Duration::from_secs(10), || {
        ["a", "b", "c"].iter().all(|n| has_partial(dir.path(), n))
    });
    assert!(kept, "three partials kept");
    let mut s = raw(&r, 2);
    assert_eq!(
        s.say("PUT d 1000"),
        "ERR 507 3 unfinished uploads are kept, the most this server allows; resume or DELETE one"
    );
    // A resume of one of them is no new partial, and a DELETE makes room
    // (once the sessions that left them have ended: until then, 423).
    let s = settle(&r, "PUT a 1000 5", "READY 5");
    let mut t = settle(&r, "DELETE b", "OK");
    assert_eq!(t.say("PUT d 4"), "READY 0");
    drop(t);
    settle(&r, "DELETE d", "OK");
    // Announced bytes: a (being resumed) and c, 1000 each; 1 MiB in all.
    let mut u = raw(&r, 2);
    assert_eq!(
        u.say("PUT e 1046577"),
        "ERR 507 unfinished uploads announce 2000 bytes already; at most 1.0 MiB in all"
    );
    assert_eq!(u.say("PUT e 1046576"), "READY 0");
    drop(s);
}

/// Opens sessions until `request` is answered `want` (a path another
/// session just left is locked for a moment); returns that session.
fn settle(r: &Running, request: &str, want: &str) -> Raw {
    for _ in 0..200 {
        let mut s = raw(r, 2);
        let got = s.say(request);
        // WKFT/1.1's READY for a resume goes on with the prefix's digest.
        if got.starts_with(want) {
            return s;
        }
        assert!(got.starts_with("ERR 423"), "{request}: {got}");
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{request}: never {want}");
}

/// The quota counts the root's files and the announced partials; `DELETE`
/// gives room back at once.
#[test]
fn a_quota_refuses_what_would_pass_it_and_delete_makes_room() {
    let dir = root();
    std::fs::write(dir.path().join("old.bin"), data(400, 1)).expect("file");
    let limits = Limits {
        quota: Some(1000),
        ..Limits::default()
    };
    let r = server(dir.path(), limits);
    let work = root();
    let local = |name: &str, len| {
        let p = work.path().join(name);
        std::fs::write(&p, data(len, 2)).expect("local");
        p
    };
    transfer::put(&opts(&r), &local("a", 500), "a.bin", Partial::Keep).expect("fits");
    let e = transfer::put(&opts(&r), &local("b", 101), "b.bin", Partial::Keep)
        .expect_err("over the quota");
    assert_eq!(
        transfer::refused_code(&e),
        Some(ErrorCode::InsufficientStorage),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("over the quota: 100 bytes of 1000 bytes left"),
        "{e}"
    );
    assert!(!has_partial(dir.path(), "b.bin"));
    transfer::delete(&opts(&r), "old.bin".into()).expect("delete");
    transfer::put(&opts(&r), &local("b", 101), "b.bin", Partial::Keep).expect("room now");
    assert_eq!(
        std::fs::read(dir.path().join("b.bin")).expect("stored"),
        data(101, 2)
    );
}

fn age(path: &Path, by: Duration) {
    let when = SystemTime::now() - by;
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(when))
        .expect("age a file");
}

/// Probe: partials never expired. Now an abandoned one goes once idle past
/// `--partial-ttl` (at start, and by the sweeper), a complete file never,
/// and an upload in progress keeps its partial however long it pauses.
#[test]
fn abandoned_partials_expire_and_one_being_written_does_not() {
    let dir = root();
    let d = dir.path();
    std::fs::create_dir(d.join("sub")).expect("dir");
    for (name, idle) in [
        ("sub/.old.wkpart", 48),
        (".fresh.wkpart", 1),
        ("complete", 48),
    ] {
        std::fs::write(d.join(name), b"abc").expect("file");
        age(&d.join(name), Duration::from_secs(idle * 3600));
    }
    let r = server(d, Limits::default());
    // The sweep at start: a day is the default TTL.
    assert!(!d.join("sub/.old.wkpart").exists(), "expired at start");
    assert!(d.join(".fresh.wkpart").exists() && d.join("complete").exists());
    drop(r);

    let ttl = Duration::from_millis(400);
    let r = server(
        d,
        Limits {
            partial_ttl: ttl,
            ..Limits::default()
        },
    );
    // An upload begins, then pauses for three TTLs before its last bytes.
    let mut live = raw(&r, 2);
    assert_eq!(live.say("PUT live 6"), "READY 0");
    live.data(b"abc");
    let paused = std::time::Instant::now();
    abandon(raw(&r, 2), "left", 9, 4);
    // `.fresh` (an hour old) went at start, `left` once idle for a TTL.
    assert!(!d.join(".fresh.wkpart").exists(), "expired at start");
    let gone =
        wirekit_tests::process::eventually(Duration::from_secs(10), || !has_partial(d, "left"));
    assert!(gone, "the abandoned partial expired");
    std::thread::sleep((ttl * 3).saturating_sub(paused.elapsed()));
    assert!(
        has_partial(d, "live"),
        "an upload in progress keeps its partial"
    );
    live.data(b"def");
    let digest = wirekit_core::wire::transfer::Digest::of(b"abcdef");
    assert_eq!(
        live.say(&format!("DONE {digest}")),
        format!("STORED 6 {digest}")
    );
    assert!(d.join("complete").exists(), "nothing complete is removed");
}

//! The server's disk: the sandbox refuses hostile paths, uploads appear
//! under their final name only when complete, and concurrent uploads to one
//! name cannot interleave.

use std::path::Path;
use std::time::Duration;
use wirekit::client::transfer::{self, Partial};
use wirekit::drive::Model;
use wirekit::store::{Store, check_path};
use wirekit_core::transfer::ErrorCode;
use wirekit_core::wire::transfer::Digest;
use wirekit_tests::native::{MODELS, Raw, data, opts, start, start_with};

const HOSTILE: &[&str] = &[
    "..",
    "../x",
    "../../etc/passwd",
    "a/../../x",
    "sub/..",
    "sub/../..",
    "/etc/passwd",
    "//etc/passwd",
    "/",
    "a\\b",
    "..\\..\\windows",
    "\\server\\share",
    "a\0b",
    "\0",
    "a\nb",
    "a\rb",
    "a\tb",
    "\x1b[31m",
    ".",
    "./a",
    "a/./b",
    "a/.",
    ".hidden",
    "sub/.hidden",
    ".a.wkpart",
    "sub/.x.wkpart",
    "...",
    ".../x",
    "a//b",
    "a/",
    "",
    "C:\\x",
    "c:/windows",
    "x:y",
    "con:",
    "a/b\u{7f}",
    "\u{85}next-line",
];

#[test]
fn hostile_paths_are_refused_by_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"outside").unwrap();
    std::fs::write(root.join("ok.txt"), b"inside").unwrap();
    // Links: one out of the root (to a directory, to a file, to a device),
    // one that stays inside and is allowed.
    std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("secret")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("zero")).unwrap();
    std::os::unix::fs::symlink(root.join("ok.txt"), root.join("alias")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .unwrap();
    assert!(fifo.success());

    let store = Store::open(&root, false).unwrap();
    let long_name = "n".repeat(256);
    let long_path = vec!["d"; 300].join("/");
    let mut hostile: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    hostile.extend([
        long_name,
        long_path,
        "up/secret.txt".into(),
        "up".into(),
        "secret".into(),
        "zero".into(),
        "pipe".into(),
    ]);
    assert!(hostile.len() >= 40, "{} hostile names", hostile.len());
    for p in &hostile {
        assert!(store.open_read(p).is_err(), "read of {p:?} must be refused");
        if let Ok(stat) = store.stat(p) {
            panic!("stat of {p:?} must be refused, got {stat:?}");
        }
    }
    // Every refusal is typed: 403, or 413 for the over-long ones.
    for p in HOSTILE {
        let e = check_path(p).expect_err(p);
        assert!(
            matches!(e.code, ErrorCode::Denied | ErrorCode::TooLarge),
            "{p:?}: {e}"
        );
    }
    // Innocent names still work, and a link that stays inside is followed.
    assert_eq!(store.open_read("ok.txt").unwrap().1, 6);
    assert_eq!(store.open_read("alias").unwrap().1, 6);
    assert!(store.stat("sub").is_ok());
    let names: Vec<_> = store
        .list(None)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names,
        ["alias", "ok.txt", "sub"],
        "links out, devices and pipes are not listed"
    );
}

#[test]
fn hostile_paths_are_refused_over_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"outside").unwrap();
    let r = start(Model::Async, &root);
    let mut raw = Raw::open(opts(&r).addr);
    for p in [
        "../secret.txt",
        "/etc/passwd",
        "a\\..\\..\\secret.txt",
        "sub/../../secret.txt",
        ".hidden",
    ] {
        raw.send(format!("GET {p}\r\n").as_bytes());
        let reply = raw.line();
        assert!(reply.starts_with("ERR 403"), "GET {p}: {reply}");
        raw.send(format!("PUT {p} 1\r\n").as_bytes());
        let reply = raw.line();
        assert!(reply.starts_with("ERR 403"), "PUT {p}: {reply}");
    }
    assert_eq!(
        std::fs::read(dir.path().join("secret.txt")).unwrap(),
        b"outside"
    );
}

fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read the root")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".wkpart"))
        .collect()
}

#[test]
fn a_killed_upload_leaves_only_a_partial_and_resume_completes_it() {
    for model in MODELS {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let r = start(model, &root);
        let body = data(1_000_000, 7);
        {
            let mut raw = Raw::open(opts(&r).addr);
            raw.send(format!("PUT big.bin {}\r\n", body.len()).as_bytes());
            assert_eq!(raw.line(), "READY 0");
            raw.data(&body[..400_000]);
            // The client dies here: the connection drops mid-upload.
        }
        // Wait (bounded) until the server noticed and closed the partial.
        let mut kept = 0;
        for _ in 0..100 {
            let s = transfer::stat(&opts(&r), "big.bin".into());
            if let Ok(s) = s {
                kept = s.size;
                if kept == 400_000 {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(kept, 400_000, "{model:?}: the partial holds what arrived");
        assert!(
            !root.join("big.bin").exists(),
            "{model:?}: nothing under the final name"
        );
        assert_eq!(partials(&root).len(), 1);

        let local = dir.path().join("big.bin");
        std::fs::write(&local, &body).unwrap();
        let done = transfer::put(&opts(&r), &local, "big.bin", Partial::Resume).unwrap();
        assert_eq!((done.offset, done.sent), (400_000, 600_000), "{model:?}");
        assert_eq!(std::fs::read(root.join("big.bin")).unwrap(), body);
        assert!(partials(&root).is_empty());
    }
}

#[test]
fn a_wrong_digest_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(Model::Poll, dir.path());
    let mut raw = Raw::open(opts(&r).addr);
    raw.send(b"PUT f.txt 6\r\n");
    assert_eq!(raw.line(), "READY 0");
    raw.data(b"hello\n");
    raw.send(format!("DONE {}\r\n", Digest::of(b"other\n")).as_bytes());
    assert!(raw.line().starts_with("ERR 422"));
    assert!(!dir.path().join("f.txt").exists());
    assert!(
        partials(dir.path()).is_empty(),
        "a suspect partial is discarded"
    );
}

#[test]
fn two_uploads_to_one_name_one_wins_whole() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(Model::Threads, dir.path());
    let a_body = data(200_000, 1);
    let mut a = Raw::open(opts(&r).addr);
    let mut b = Raw::open(opts(&r).addr);
    a.send(format!("PUT same.bin {}\r\n", a_body.len()).as_bytes());
    assert_eq!(a.line(), "READY 0");
    b.send(b"PUT same.bin 5\r\n");
    let refused = b.line();
    assert!(refused.starts_with("ERR 503"), "{refused}");
    a.data(&a_body);
    a.send(format!("DONE {}\r\n", Digest::of(&a_body)).as_bytes());
    assert!(a.line().starts_with("STORED"));
    b.send(b"PUT same.bin 5\r\n");
    assert!(
        b.line().starts_with("ERR 409"),
        "the winner's file is never overwritten"
    );
    assert_eq!(std::fs::read(dir.path().join("same.bin")).unwrap(), a_body);
}

#[test]
fn a_read_only_server_refuses_uploads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), b"x").unwrap();
    let r = start_with(dir.path(), |c| c.read_only = true);
    let local = dir.path().join("keep.txt");
    let e = transfer::put(&opts(&r), &local, "new.txt", Partial::Keep).unwrap_err();
    assert_eq!(transfer::refused_code(&e), Some(ErrorCode::Denied), "{e}");
    assert!(e.to_string().contains("read-only"), "{e}");
    assert!(!dir.path().join("new.txt").exists());
    // Reading still works.
    let got = transfer::get(
        &opts(&r),
        "keep.txt",
        &dir.path().join("copy"),
        Partial::Keep,
    )
    .unwrap();
    assert_eq!(got.size, 1);
}

#[test]
fn an_interrupted_download_resumes_from_its_partial() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let body = data(500_000, 3);
    std::fs::write(root.join("f.bin"), &body).unwrap();
    let r = start(Model::Async, &root);
    let local = dir.path().join("f.bin");
    // What an interrupted download leaves: a partial with a correct prefix.
    std::fs::write(
        wirekit::client::local::partial_path(&local),
        &body[..123_456],
    )
    .unwrap();
    let got = transfer::get(&opts(&r), "f.bin", &local, Partial::Resume).unwrap();
    assert_eq!((got.offset, got.sent), (123_456, 500_000 - 123_456));
    assert_eq!(std::fs::read(&local).unwrap(), body);
    // A corrupt prefix fails the digest and is thrown away, not renamed.
    let mut bad = body[..1000].to_vec();
    bad[10] ^= 1;
    let other = dir.path().join("g.bin");
    std::fs::write(wirekit::client::local::partial_path(&other), &bad).unwrap();
    let e = transfer::get(&opts(&r), "f.bin", &other, Partial::Resume).unwrap_err();
    assert_eq!(e.exit_code(), 6, "{e}");
    assert!(!other.exists() && !wirekit::client::local::partial_path(&other).exists());
}

#[test]
fn read_errors_do_not_leak_files_outside() {
    // Reading a directory is a typed error, not a crash: in WKFT/1.1 a
    // conflict with what is at the path (400 is the fatal class there).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    let r = start(Model::Iterative, dir.path());
    let e = transfer::get(&opts(&r), "d", &dir.path().join("out"), Partial::Keep).unwrap_err();
    assert_eq!(transfer::refused_code(&e), Some(ErrorCode::Exists), "{e}");
    assert!(e.to_string().contains("is a directory"), "{e}");
    let mut raw = Raw::open(opts(&r).addr);
    raw.send(b"LIST\r\n");
    assert_eq!(raw.line(), "ENTRIES 1");
    assert_eq!(raw.line(), "ENTRY dir 0 d");
}

#[test]
fn put_resume_with_nothing_kept_uploads_from_the_start() {
    // Found by the fault tests: a client killed before its first byte
    // left no partial, and `put --resume` then stopped at STAT's 404
    // (fixed on main by the CLI rework at the same time).
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let r = start(Model::Async, &root);
    let local = dir.path().join("f.bin");
    let body = data(10_000, 3);
    std::fs::write(&local, &body).unwrap();
    let done = transfer::put(&opts(&r), &local, "f.bin", Partial::Resume).unwrap();
    assert_eq!((done.offset, done.sent), (0, 10_000));
    assert_eq!(std::fs::read(root.join("f.bin")).unwrap(), body);
}

#[test]
fn a_path_through_a_file_is_a_bad_request() {
    // Found by the store_resolve fuzz target ("f/+"), after the store
    // began to answer ENOTDIR with 400: a code the target had not listed.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"in").unwrap();
    let store = Store::open(dir.path(), false).unwrap();
    let code = match store.resolve("f/+") {
        Ok(p) => panic!("resolved through a file: {p:?}"),
        Err(e) => e.code,
    };
    assert_eq!(code, ErrorCode::BadRequest);
}

/// An upload onto a directory says so, and a name too long to have a
/// partial beside it is refused before any byte, with its limit.
#[test]
fn uploads_onto_a_directory_or_under_a_too_long_name_are_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    let local = dir.path().join("up.txt");
    std::fs::write(&local, b"x").unwrap();
    let r = start(Model::Threads, dir.path());
    let e = transfer::put(&opts(&r), &local, "d", Partial::Restart).unwrap_err();
    assert_eq!(transfer::refused_code(&e), Some(ErrorCode::Exists), "{e}");
    assert!(e.to_string().contains("a directory has that name"), "{e}");
    let long = "n".repeat(250);
    let e = transfer::put(&opts(&r), &local, &long, Partial::Keep).unwrap_err();
    assert_eq!(transfer::refused_code(&e), Some(ErrorCode::TooLarge), "{e}");
    assert!(e.to_string().contains("at most 247 bytes"), "{e}");
    // 247 is fine, partial included.
    let fits = "n".repeat(247);
    transfer::put(&opts(&r), &local, &fits, Partial::Keep).unwrap();
    assert!(dir.path().join(&fits).exists());
}

/// Issue #16's grammar probes against the real server, in WKFT/1.1: each
/// gets its specified answer, and the session survives exactly the
/// non-fatal ones.
#[test]
fn wkft_1_1_probes_get_their_specified_answers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello\n").unwrap();
    std::fs::write(dir.path().join("my notes.txt"), b"two words\n").unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    let big = data(8_000_000, 5);
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    for model in MODELS {
        let r = start(model, dir.path());
        let addr = opts(&r).addr;
        let mut raw = Raw::speaking(addr, 2);
        let long_path = "a".repeat(513);
        let long_segment = "s".repeat(256);
        let long_put = "n".repeat(248);
        // Pipelined, blank lines and stray blanks included.
        let probes = format!(
            "  STAT my%20notes.txt \r\n   \r\nGET notes.txt 7\r\nSTAT {long_path}\r\n\
             STAT {long_segment}\r\nPUT {long_put} 1\r\nPUT d 1\r\nLIST d\r\nRENAME a b\r\nNOOP\r\n"
        );
        raw.send(probes.as_bytes());
        // STAT's version token is the store's business here: cut it.
        let unversioned = |l: String| match l.strip_prefix("STAT file ") {
            Some(rest) => format!("STAT file {}", rest.split(' ').next().unwrap_or("")),
            None => l,
        };
        let answers: Vec<String> = (0..9).map(|_| unversioned(raw.line())).collect();
        assert_eq!(
            answers,
            [
                "STAT file 10",
                "ERR 416 offset past the end",
                "ERR 413 path longer than MAX_PATH",
                "ERR 413 name longer than MAX_NAME",
                "ERR 413 name too long to upload: at most 247 bytes",
                "ERR 409 a directory has that name",
                "ENTRIES 0",
                "ERR 501 unknown request",
                "OK",
            ],
            "{model:?}"
        );
        // A listing shows the name with a space, escaped.
        raw.send(b"LIST\r\n");
        let listing: Vec<String> = (0..5).map(|_| raw.line()).collect();
        assert!(
            listing.contains(&"ENTRY file 10 my%20notes.txt".to_string()),
            "{listing:?}"
        );
        // CANCEL right behind a GET stops it with 499; the session goes on.
        raw.send(b"GET big.bin\r\nCANCEL\r\n");
        let file = raw.line();
        assert!(
            file.starts_with(&format!("FILE {} 0 ", big.len())),
            "{file}"
        );
        let mut got = 0;
        let end = loop {
            match raw.read_data() {
                Ok(body) => got += body.len(),
                Err(line) => break line,
            }
        };
        assert_eq!(end, "ERR 499 cancelled", "{model:?} after {got} bytes");
        assert!(got < big.len());
        raw.send(b"CANCEL\r\nSTAT notes.txt\r\n");
        assert_eq!(
            (raw.line(), unversioned(raw.line())),
            ("OK".into(), "STAT file 6".into())
        );
        // The fatal class: a 20-digit number is 400, and the server closes.
        raw.send(b"GET notes.txt 99999999999999999999\r\n");
        assert_eq!(raw.line(), "ERR 400 malformed number");
        assert_eq!(raw.line(), "", "{model:?}: closed");
        // WKFT/1.0 leaves the name out, and keeps its 400 for a bad offset.
        let mut old = Raw::open(addr);
        old.send(b"LIST\r\nGET notes.txt 7\r\nNOOP\r\n");
        let old_listing: Vec<String> = (0..4).map(|_| old.line()).collect();
        assert!(
            !old_listing
                .iter()
                .any(|l| l.contains("notes.txt") && l.contains("my"))
        );
        assert_eq!(old_listing[0], "ENTRIES 3", "{old_listing:?}");
        assert_eq!(old.line(), "ERR 400 offset past the end");
        assert_eq!(old.line(), "ERR 400 unknown message");
    }
}

/// The command-line client takes, moves and shows real names.
#[test]
fn names_with_spaces_travel_through_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let r = start(Model::Async, &root);
    let local = dir.path().join("up.txt");
    std::fs::write(&local, b"spaced out\n").unwrap();
    for name in ["my notes.txt", "100% done", "sub dir name"] {
        transfer::put(&opts(&r), &local, name, Partial::Keep).unwrap();
        assert_eq!(std::fs::read(root.join(name)).unwrap(), b"spaced out\n");
        let stat = transfer::stat(&opts(&r), name.into()).unwrap();
        assert_eq!(stat.size, 11);
        let back = dir.path().join("back.txt");
        transfer::get(&opts(&r), name, &back, Partial::Restart).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), b"spaced out\n");
    }
    let mut names: Vec<String> = transfer::list(&opts(&r), None)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    assert_eq!(names, ["100% done", "my notes.txt", "sub dir name"]);
    transfer::delete(&opts(&r), "my notes.txt".into()).unwrap();
    assert!(!root.join("my notes.txt").exists());
}

//! Bad input on purpose, through the built binary: every case asserts the
//! exit code of its documented class, the words of its message, and what
//! is left on disk (nothing, or only what the user already had).

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{BIN, Server};

/// One bad command line.
struct Case {
    args: &'static str,
    exit: i32,
    says: &'static str,
    /// Files in the working directory before the command (name, bytes,
    /// read-only); they must be unchanged after it, and nothing added.
    before: &'static [(&'static str, &'static [u8], bool)],
}

const fn case(args: &'static str, exit: i32, says: &'static str) -> Case {
    Case {
        args,
        exit,
        says,
        before: &[],
    }
}

const fn with(
    args: &'static str,
    exit: i32,
    says: &'static str,
    before: &'static [(&'static str, &'static [u8], bool)],
) -> Case {
    Case {
        args,
        exit,
        says,
        before,
    }
}

const CASES: &[Case] = &[
    // Usage errors: exit 2, before the network or the disk.
    case("get 127.0.0.1:1:2 x", 2, "is not a host name"),
    case("get 127.0.0.1:70000 x", 2, "not a port"),
    case("get 127.0.0.1:0 x", 2, "not a port"),
    case("echo [::1 hi", 2, "is not a host name"),
    case("echo {wkft}:9 hi", 2, "is not a host name"),
    case("get {wkft} hello.txt --timeout 0", 2, "seconds"),
    case("get {wkft} hello.txt --timeout=-1", 2, "seconds"),
    case("get {wkft} hello.txt --timeout NaN", 2, "seconds"),
    case(
        "get {wkft} hello.txt --timeout soon",
        2,
        "not a number of seconds",
    ),
    case("tftp get {tftp} hello.txt --blksize 70000", 2, "8..=65464"),
    case("tftp get {tftp} hello.txt --blksize 4", 2, "8..=65464"),
    case("tftp get {tftp} hello.txt --windowsize 0", 2, "windowsize"),
    case("tftp get {tftp} hello.txt --timeout 0", 2, "timeout"),
    case("bench echo {echo} --seconds 0", 2, "seconds"),
    case("bench echo {echo} --conns 0", 2, "1 or more"),
    case("echo {echo} hi --retry-initial 0", 2, "1 or more"),
    case("echo {echo} hi --jitter 101", 2, "jitter"),
    case("serve --max-conns 0", 2, "1 or more"),
    case("serve --max-transfers 0", 2, "1 or more"),
    case("serve --idle-timeout 0", 2, "seconds"),
    case("serve --quota 12X", 2, "not a size"),
    case("serve --quota 0", 2, "not a size"),
    case("serve --max-partial-bytes lots", 2, "not a size"),
    case("serve --max-partials 0", 2, "1 or more"),
    case("serve --partial-ttl 0", 2, "seconds"),
    case("serve --read-only --tftp-write", 2, "cannot be used with"),
    case("get {wkft} ''", 2, "bad remote path"),
    case("get {wkft} {long}", 2, "bad remote path"),
    // A space is no bad path since WKFT/1.1: the name is asked for, and missing.
    case("get {wkft} 'a b'", 4, "404 not found (a b)"),
    case("get {wkft} /", 2, "names no file"),
    case("get {wkft}", 2, "give the remote file"),
    case(
        "get {wkft} hello.txt --resume --restart",
        2,
        "cannot be used with",
    ),
    case(
        "get {wkft} hello.txt --force --no-clobber",
        2,
        "cannot be used with",
    ),
    case(
        "get {wkft} hello.txt - --resume",
        2,
        "--resume needs a local file",
    ),
    case(
        "get wkft://{wkft}/hello.txt a b",
        2,
        "one argument too many",
    ),
    case(
        "get http://{wkft}/hello.txt",
        2,
        "http:// URLs are not understood",
    ),
    case(
        "tftp get wkft://{tftp}/hello.txt",
        2,
        "wkft:// URLs are not understood",
    ),
    case(
        "get wkft://bob@{wkft}/hello.txt",
        2,
        "no user name or password",
    ),
    case("tftp get tftp://bob:pw@{tftp}/hello.txt", 2, "no user name"),
    case("get wkft://{wkft}/100%", 2, "is not a percent-escape"),
    case("get wkft://{wkft}/a%zz", 2, "is not a percent-escape"),
    case("get wkft://{wkft}/a%00b", 2, "NUL"),
    case(
        "get wkft://{wkft}/docs%2Fa.txt",
        2,
        "%2F is a / inside a name",
    ),
    case(
        "tftp get tftp://{tftp}/a%2fb",
        2,
        "%2F is a / inside a name",
    ),
    case("get wkft://{wkft}/%FF", 2, "not UTF-8"),
    case(
        "get gopher://{wkft}/hello.txt",
        2,
        "gopher:// URLs are not understood",
    ),
    // The query is not part of the name, as curl leaves it out of a TFTP request.
    case(
        "get wkft://{wkft}/missing.txt?hello.txt",
        4,
        "404 not found (missing.txt)",
    ),
    case("stat {wkft}", 2, "give the remote path"),
    case("rm {wkft}", 2, "give the remote path to delete"),
    case("ls wkft://{wkft}/docs extra", 2, "one argument too many"),
    case(
        "put {wkft} -",
        2,
        "give the remote name when uploading standard input",
    ),
    case("nc 127.0.0.1", 2, "give a port"),
    case("nc {echo} 7", 2, "give the port once"),
    case("serve --model fork", 2, "fork"),
    // Local errors: exit 1, the user's files untouched.
    case("get {wkft} hello.txt nodir/x", 1, "there is no directory"),
    with(
        "get {wkft} hello.txt mine.txt --no-clobber",
        1,
        "exists and --no-clobber keeps it",
        &[("mine.txt", b"mine", false)],
    ),
    with(
        "get {wkft} hello.txt locked.txt",
        1,
        "is read-only: add --force",
        &[("locked.txt", b"keep me", true)],
    ),
    with(
        "get {wkft} hello.txt",
        1,
        "add --resume to continue it or --restart",
        &[(".hello.txt.wkpart", b"hel", false)],
    ),
    case("put {wkft} missing.txt", 1, "cannot read missing.txt"),
    with(
        "tftp get {tftp} hello.txt",
        1,
        "which TFTP cannot continue",
        &[(".hello.txt.wkpart", b"he", false)],
    ),
    // Unreachable, or silent: exit 3.
    case("get {closed} hello.txt", 3, "cannot reach"),
    case("ls {closed}", 3, "cannot reach"),
    case(
        "echo {silent} hi --udp --retry-initial 20 --retry-max 80",
        3,
        "no reply from",
    ),
    case(
        "time {silent} --udp --retry-initial 20 --retry-max 80",
        3,
        "no reply from",
    ),
    case(
        "tftp get {silent} hello.txt --timeout 1",
        3,
        "stopped answering",
    ),
    // Refused by the server: exit 4, its code and reason in words.
    case("get {wkft} missing.txt", 4, "404"),
    case("stat {wkft} missing.txt", 4, "404"),
    case("rm {wkft} missing.txt", 4, "404"),
    case("ls {wkft} hello.txt", 4, "wirekit stat"),
    with(
        "put {wkft} hello.txt",
        4,
        "the server already has hello.txt",
        &[("hello.txt", b"other\n", false)],
    ),
    with(
        "put {wkft} wip.bin",
        4,
        "add --resume to continue it or --restart",
        &[("wip.bin", b"0123456789", false)],
    ),
    with(
        "tftp put {tftp} up.txt",
        4,
        "TFTP error 2 (access violation)",
        &[("up.txt", b"x", false)],
    ),
    case(
        "tftp get {tftp} missing.txt",
        4,
        "TFTP error 1 (file not found)",
    ),
    // Protocol errors: exit 5.
    case("get {echo} hello.txt --timeout 1", 5, ""),
];

fn fill(args: &str, vars: &BTreeMap<&str, String>) -> Vec<String> {
    let mut text = args.to_owned();
    for (k, v) in vars {
        text = text.replace(&format!("{{{k}}}"), v);
    }
    // Single quotes group words, as a shell's would (no nesting needed here).
    let mut words = Vec::new();
    for (i, part) in text.split('\'').enumerate() {
        if i % 2 == 1 {
            words.push(part.to_owned());
        } else {
            words.extend(part.split_whitespace().map(str::to_owned));
        }
    }
    words
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

#[test]
fn bad_input_gets_its_exit_class_its_words_and_leaves_nothing() {
    let s = Server::start(&[]);
    // A partial the server keeps for `wip.bin`: a plain put must not discard it.
    std::fs::write(s.root().join(".wip.bin.wkpart"), b"01234").expect("write");
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let vars = BTreeMap::from([
        ("wkft", s.addr("transfer", "tcp")),
        ("tftp", s.addr("tftp", "udp")),
        ("echo", s.addr("echo", "tcp")),
        ("silent", silent.local_addr().expect("addr").to_string()),
        ("closed", "127.0.0.1:1".to_owned()),
        // A path over MAX_PATH (512 bytes).
        ("long", "p".repeat(513)),
    ]);
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    let mut failures = Vec::new();
    for c in CASES {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, bytes, read_only) in c.before {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            if *read_only {
                let mut p = std::fs::metadata(&path).expect("meta").permissions();
                p.set_readonly(true);
                std::fs::set_permissions(&path, p).expect("chmod");
            }
        }
        let before = snapshot(dir.path());
        let args = fill(c.args, &vars);
        let out = Command::new(BIN)
            .args(&args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run wirekit");
        let err = String::from_utf8_lossy(&out.stderr);
        let after = snapshot(dir.path());
        let mut wrong = Vec::new();
        if out.status.code() != Some(c.exit) {
            wrong.push(format!("exit {:?}, not {}", out.status.code(), c.exit));
        }
        if !err.contains(c.says) {
            wrong.push(format!("no {:?} in the message", c.says));
        }
        if err.contains("panicked") || err.contains("BadPath(") || err.contains("BadConfig(") {
            wrong.push("a panic or a Debug print".into());
        }
        if after != before {
            wrong.push(format!(
                "the directory changed: {:?} -> {:?}",
                before.keys().collect::<Vec<_>>(),
                after.keys().collect::<Vec<_>>()
            ));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "`wirekit {}`: {}\n    {err}",
                c.args,
                wrong.join("; ")
            ));
        }
    }
    // The server survived all of it, and kept the partial it was asked about.
    assert_eq!(
        std::fs::read(s.root().join(".wip.bin.wkpart")).expect("kept"),
        b"01234"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn errors_are_json_when_json_was_asked_for() {
    let s = Server::start(&[]);
    let out = Command::new(BIN)
        .args(["get", &s.addr("transfer", "tcp"), "missing.txt", "--json"])
        .current_dir(s.root())
        .stdin(Stdio::null())
        .output()
        .expect("run wirekit");
    assert_eq!(out.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(v["error"]["kind"], "refused");
    assert_eq!(v["error"]["exit_code"], 4);
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("404")),
        "{v}"
    );
}

//! The servers under faults: clients and servers killed (SIGKILL) at random
//! moments of many transfers, a disk that fills up, peers that trickle or
//! stall, floods of garbage datagrams, hostile names, and more connections
//! than allowed. Every check is bounded and on 127.0.0.1; only processes
//! this test started are killed, by their own PIDs.
//!
//! Its own `main` (libtest-mimic for libtest's arguments): the clients and
//! servers that get killed are this very executable called through a link
//! named `wirekit`. `cargo test -p wirekit-tests --test faults -- --list`
//! lists the checks, `-- NAME` runs the matching ones (`cargo nextest` works
//! too); `WIREKIT_SOAK=N` multiplies the counts (`cargo xtask soak`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wirekit::client::transfer::Partial;
use wirekit::client::{ClientError, tftp, transfer};
use wirekit::drive::Model;
use wirekit::services::{Proto, Service};
use wirekit_core::tftp::client::ClientConfig;
use wirekit_core::tftp::options::Wishes;
use wirekit_core::transfer::ErrorCode;
use wirekit_core::wire::transfer::Digest;
use wirekit_tests::native::{MODELS, Raw, addr, data, opts, start_with};
use wirekit_tests::process::{
    Guard, Moments, Served, be_wirekit_if_called_so, eventually, names, wirekit_link,
};

/// What one check did, for the figures of the book's reliability chapter.
#[derive(Debug, Default)]
struct Tally {
    /// Faults injected (kills, refusals provoked, datagrams, connections).
    faults: u64,
    /// Files whose bytes were compared with what they must hold.
    files_checked: u64,
    /// Bytes that should have arrived and did not, or arrived wrong.
    bytes_lost: u64,
    note: String,
}

fn soak() -> u64 {
    std::env::var("WIREKIT_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// A file at `path` holds exactly `want`, or does not exist; the bytes
/// lost if it holds anything else.
fn absent_or_exact(path: &Path, want: &[u8]) -> u64 {
    match std::fs::read(path) {
        Err(_) => 0,
        Ok(got) if got == want => 0,
        Ok(got) => want.len().max(got.len()) as u64,
    }
}

/// It holds exactly `want`; the bytes lost otherwise.
fn exact(path: &Path, want: &[u8]) -> u64 {
    match std::fs::read(path) {
        Ok(got) if got == want => 0,
        Ok(got) => want.len().max(got.len()) as u64,
        Err(_) => want.len() as u64,
    }
}

fn tftp_config() -> ClientConfig {
    ClientConfig {
        wishes: Wishes {
            blksize: Some(1428),
            ..Wishes::default()
        },
        ..ClientConfig::default()
    }
}

/// A scratch folder with a server's `root` and a client's `work` in it.
fn folders() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let (root, work) = (dir.path().join("root"), dir.path().join("work"));
    std::fs::create_dir_all(&root).expect("root");
    std::fs::create_dir_all(&work).expect("work");
    (dir, root, work)
}

/// One transfer of a killing loop: even rounds upload, odd ones download;
/// the source side holds the file already.
struct Round {
    body: Vec<u8>,
    upload: bool,
    name: String,
    local: PathBuf,
    remote: PathBuf,
}

impl Round {
    fn new(i: u64, prefix: &str, len: usize, root: &Path, work: &Path) -> Round {
        let body = data(len, i);
        let upload = i.is_multiple_of(2);
        let name = format!("{prefix}{i}.bin");
        let (local, remote) = (work.join(&name), root.join(&name));
        let source = if upload { &local } else { &remote };
        std::fs::write(source, &body).expect("the source file");
        Round {
            body,
            upload,
            name,
            local,
            remote,
        }
    }
}

/// Partials the store or a client left in `dir`.
fn partials(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".wkpart"))
        .collect()
}

/// WKFT/1: `wirekit put` and `wirekit get` killed at a random moment, then
/// `--resume` (the library call the command makes) finishes the job.
fn killed_wkft_clients() -> Tally {
    let (_bin_dir, bin) = wirekit_link();
    let (_dir, root, work) = folders();
    let servers: Vec<_> = MODELS
        .iter()
        .map(|&m| start_with(&root, |c| c.model = m))
        .collect();
    let mut t = Tally::default();
    let mut at = Moments(13);
    let (mut interrupted, n) = (0, 400 * soak());
    for i in 0..n {
        let r = &servers[i as usize % servers.len()];
        let o = opts(r);
        let a = o.addr.to_string();
        let Round {
            body,
            upload,
            name,
            local,
            remote,
        } = Round::new(i, "f", 20_000 + at.below(400_000) as usize, &root, &work);
        let (l, verb) = (
            local.to_string_lossy().into_owned(),
            ["get", "put"][upload as usize],
        );
        let args = match upload {
            true => [verb, &a, &l, &name],
            false => [verb, &a, &name, &l],
        };
        // ANCHOR: kill
        let child = Guard::spawn(&bin, &args);
        std::thread::sleep(Duration::from_millis(at.below(40)));
        child.kill();
        t.faults += 1;
        // The server notices the broken connection and closes its side.
        assert!(
            eventually(Duration::from_secs(10), || r.open_connections() == 0),
            "the server kept a dead client's connection"
        );
        // Never a short or wrong file under its final name, on either side.
        let target = if upload { &remote } else { &local };
        t.bytes_lost += absent_or_exact(target, &body);
        let done = std::fs::read(target).is_ok_and(|d| d == body);
        interrupted += u64::from(!done);
        if !done {
            let resumed = match upload {
                true => transfer::put(&o, &local, &name, Partial::Resume),
                false => transfer::get(&o, &name, &local, Partial::Resume),
            };
            if let Err(e) = resumed {
                panic!("{verb} --resume of {name} failed: {e}");
            }
        }
        t.bytes_lost += exact(target, &body);
        // ANCHOR_END: kill
        t.files_checked += 1;
        let side = if upload { &root } else { &work };
        assert_eq!(
            partials(side),
            Vec::<String>::new(),
            "{name}: a partial stayed"
        );
        let _ = std::fs::remove_file(&local);
        let _ = std::fs::remove_file(&remote);
    }
    // Still serving, in every model.
    for r in &servers {
        transfer::list(&opts(r), None).expect("the server still serves");
    }
    t.note = format!(
        "{n} WKFT/1 transfers (half up, half down) killed, {interrupted} before they completed, every model"
    );
    t
}

/// Runs a TFTP transfer until the server has room for it: the abandoned
/// transfers of killed clients hold their slots until they time out, and
/// the server says so (`too many transfers; try later`). Returns how many
/// times it was told to wait.
fn patiently<T>(mut transfer: impl FnMut() -> Result<T, ClientError>) -> Result<u64, ClientError> {
    let until = Instant::now() + Duration::from_secs(20);
    let mut waits = 0;
    loop {
        match transfer() {
            // Code 0 with the reason, which the listener cuts to the
            // request's length: `too many transfers; try later`, or less.
            Err(ClientError::Refused(m))
                if m.contains("TFTP error 0 ") && Instant::now() < until =>
            {
                waits += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other.map(|_| waits),
        }
    }
}

/// TFTP: `wirekit tftp get/put` killed at a random moment. TFTP has no
/// resume: the transfer is made again, and the server's abandoned one ends
/// by its own timeout without leaving anything under the final name.
fn killed_tftp_clients() -> Tally {
    let (_bin_dir, bin) = wirekit_link();
    let (_dir, root, work) = folders();
    // The iterative model serves one transfer at a time: an abandoned one
    // holds it until its retries run out (about 6 s), as long as a new
    // client waits. Its TFTP is killed in `killed_servers`-like rounds of
    // the soak only.
    let models = [Model::Async, Model::Threads, Model::Poll];
    let servers: Vec<_> = models
        .iter()
        .map(|&m| {
            start_with(&root, |c| {
                c.model = m;
                c.tftp_write = true;
            })
        })
        .collect();
    let mut t = Tally::default();
    let mut at = Moments(69);
    let (mut interrupted, n) = (0, 200 * soak());
    let (mut uploads, mut busy, mut stale) = (Vec::new(), 0, 0);
    for i in 0..n {
        let r = &servers[i as usize % servers.len()];
        let server = addr(r, Service::Tftp, Proto::Udp);
        let a = server.to_string();
        let Round {
            body,
            upload,
            name,
            local,
            remote,
        } = Round::new(i, "t", 10_000 + at.below(300_000) as usize, &root, &work);
        let l = local.to_string_lossy().into_owned();
        let args = match upload {
            // 512-byte blocks in lock step: long enough to be cut.
            true => ["tftp", "put", &a, &l, &name],
            false => ["tftp", "get", &a, &name, &l],
        };
        let child = Guard::spawn(&bin, &args);
        std::thread::sleep(Duration::from_millis(at.below(40)));
        child.kill();
        t.faults += 1;
        let target = if upload { &remote } else { &local };
        interrupted += u64::from(std::fs::read(target).map_or(true, |d| d != body));
        if upload {
            t.bytes_lost += absent_or_exact(&remote, &body);
            // Made again under another name: the abandoned transfer may
            // hold the first one until its retries run out.
            let again = format!("t{i}.again.bin");
            let repeat = || tftp::put(server, &local, &again, tftp_config(), false);
            busy += patiently(repeat).unwrap_or_else(|e| {
                panic!("{:?}: TFTP put {i} again: {e}", models[i as usize % 3])
            });
            t.bytes_lost += exact(&root.join(&again), &body);
            uploads.push((remote, body));
        } else {
            t.bytes_lost += absent_or_exact(&local, &body);
            // A SIGKILL leaves the client no moment to remove its partial,
            // and the next `wirekit tftp get` will not write over one (it
            // could be another download's, and TFTP has no digest to tell
            // them apart): the person removes it, as this does.
            let part = work.join(format!(".{name}.wkpart"));
            if part.exists() {
                stale += 1;
                std::fs::remove_file(&part).expect("remove the stale partial");
            }
            let repeat = || tftp::get(server, &name, &local, tftp_config(), false);
            busy += patiently(repeat).unwrap_or_else(|e| {
                panic!("{:?}: TFTP get {i} again: {e}", models[i as usize % 3])
            });
            t.bytes_lost += exact(&local, &body);
            assert_eq!(
                partials(&work),
                Vec::<String>::new(),
                "{name}: a partial stayed"
            );
        }
        t.files_checked += 1;
    }
    // The abandoned uploads end by timeout: complete or absent, never short.
    for (remote, body) in &uploads {
        t.bytes_lost += absent_or_exact(remote, body);
        t.files_checked += 1;
    }
    let idle = eventually(Duration::from_secs(30), || partials(&root).is_empty());
    assert!(idle, "partials stayed: {:?}", partials(&root));
    for r in &servers {
        let probe = work.join("probe");
        std::fs::write(root.join("probe.bin"), b"still here").expect("probe");
        let got = tftp::get(
            addr(r, Service::Tftp, Proto::Udp),
            "probe.bin",
            &probe,
            tftp_config(),
            false,
        );
        got.expect("the TFTP server still serves");
    }
    t.note = format!(
        "{n} TFTP transfers (half up, half down) killed, {interrupted} before they completed, \
         async, threads, poll; {busy} repeats told 'too many transfers' while abandoned ones timed out; \
         {stale} stale download partials removed before a repeat"
    );
    t
}

/// The server killed mid-upload and mid-download (a child `wirekit serve`),
/// started again on the same root: the resume completes byte-exact.
fn killed_servers() -> Tally {
    let (_bin_dir, bin) = wirekit_link();
    let (_dir, root, work) = folders();
    let r = root.to_string_lossy().into_owned();
    let models = ["async", "threads", "poll", "iterative"];
    let mut t = Tally::default();
    let mut at = Moments(7021);
    let (mut interrupted, n) = (0, 40 * soak());
    for i in 0..n {
        let model = models[i as usize % models.len()];
        let args = ["--root", &r, "--only", "transfer", "--model", model];
        let served = Served::start(&bin, "", &args);
        let mut o = transfer::Options {
            addr: served.addr("transfer"),
            timeout: Duration::from_secs(5),
            progress: false,
        };
        let Round {
            body,
            upload,
            name,
            local,
            remote,
        } = Round::new(
            i,
            "s",
            2_000_000 + at.below(2_000_000) as usize,
            &root,
            &work,
        );
        let (o2, l2, n2) = (o.clone(), local.clone(), name.clone());
        let first = std::thread::spawn(move || match upload {
            true => transfer::put(&o2, &l2, &n2, Partial::Keep).map(|_| ()),
            false => transfer::get(&o2, &n2, &l2, Partial::Keep).map(|_| ()),
        });
        std::thread::sleep(Duration::from_millis(at.below(30)));
        served.proc.kill();
        t.faults += 1;
        let _ = first.join();
        let target = if upload { &remote } else { &local };
        interrupted += u64::from(std::fs::read(target).map_or(true, |d| d != body));
        t.bytes_lost += absent_or_exact(target, &body);
        let again = Served::start(&bin, "", &args);
        o.addr = again.addr("transfer");
        if std::fs::read(target).map_or(true, |d| d != body) {
            let resumed = match upload {
                true => transfer::put(&o, &local, &name, Partial::Resume).map(|_| ()),
                false => transfer::get(&o, &name, &local, Partial::Resume).map(|_| ()),
            };
            resumed.unwrap_or_else(|e| panic!("resume after a server kill: {e}"));
        }
        t.bytes_lost += exact(target, &body);
        t.files_checked += 1;
        assert!(partials(&root).is_empty() && partials(&work).is_empty());
        drop(again);
    }
    t.note =
        format!("{n} servers killed, {interrupted} before the transfer completed, every model");
    t
}

fn refused(e: &ClientError) -> Option<ErrorCode> {
    transfer::refused_code(e)
}

/// A disk that fills up: the server runs with a file-size limit (RLIMIT_FSIZE,
/// SIGXFSZ ignored so a write fails with EFBIG instead of killing it).
fn full_disk() -> Tally {
    let (_bin_dir, bin) = wirekit_link();
    let (_dir, root, work) = folders();
    let r = root.to_string_lossy().into_owned();
    let mut t = Tally::default();
    // ANCHOR: prelude
    // 1024 blocks of 512 bytes (dash and bash in POSIX mode): 512 KiB. An
    // ignored signal stays ignored across exec, so the server inherits it.
    let prelude = "trap '' XFSZ; ulimit -f 1024";
    // ANCHOR_END: prelude
    for model in ["async", "threads", "poll", "iterative"] {
        let args = [
            "--root",
            &r,
            "--only",
            "transfer,tftp",
            "--tftp-write",
            "--model",
            model,
        ];
        let served = Served::start(&bin, prelude, &args);
        let o = transfer::Options {
            addr: served.addr("transfer"),
            timeout: Duration::from_secs(10),
            progress: false,
        };
        let (big, small) = (data(2_000_000, 1), data(100_000, 2));
        let (lb, ls) = (work.join("big"), work.join("small"));
        std::fs::write(&lb, &big).expect("big");
        std::fs::write(&ls, &small).expect("small");
        for round in 0..3 {
            let name = format!("big-{model}-{round}.bin");
            let e =
                transfer::put(&o, &lb, &name, Partial::Keep).expect_err("an upload past the limit");
            let code = refused(&e);
            // EFBIG, a limit on one file, is the store's 413; a full disk
            // (ENOSPC, EDQUOT) is 507: see `disk_full`.
            assert_eq!(
                code,
                Some(ErrorCode::TooLarge),
                "{model}: a full disk said {e}"
            );
            t.faults += 1;
            assert!(
                !root.join(&name).exists(),
                "{model}: a short file under its name"
            );
            // The server keeps serving: a file that fits goes through.
            let ok = format!("small-{model}-{round}.bin");
            transfer::put(&o, &ls, &ok, Partial::Keep).expect("a small upload after a full disk");
            t.bytes_lost += exact(&root.join(&ok), &small);
            t.files_checked += 1;
        }
        // TFTP too: an error packet, nothing under the name.
        let tftp_addr = served.addr("tftp");
        let name = format!("big-{model}.tftp");
        let e = tftp::put(tftp_addr, &lb, &name, tftp_config(), false)
            .expect_err("a TFTP upload past the limit");
        assert!(matches!(e, ClientError::Refused(_)), "{model}: {e}");
        t.faults += 1;
        assert!(!root.join(&name).exists());
        let ok = format!("small-{model}.tftp");
        tftp::put(tftp_addr, &ls, &ok, tftp_config(), false).expect("a small TFTP upload");
        t.bytes_lost += exact(&root.join(&ok), &small);
        t.files_checked += 1;
        // A partial, if one is kept, is only ever a partial.
        for p in partials(&root) {
            assert!(p.starts_with(".big-"), "{model}: unexpected partial {p}");
        }
        drop(served);
    }
    t.note = "uploads past a 512 KiB RLIMIT_FSIZE, WKFT/1 and TFTP, every model".into();
    t
}

/// A server of `model` whose root holds `f.txt` (6 bytes), tuned by `tune`.
fn serving_f_txt(
    model: Model,
    tune: impl FnOnce(&mut wirekit::server::Config),
) -> (tempfile::TempDir, wirekit::server::Running) {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("f.txt"), b"hello\n").expect("file");
    let r = start_with(dir.path(), |c| {
        c.model = model;
        tune(c);
    });
    (dir, r)
}

/// A disk that is really full (ENOSPC): the server runs in a user and mount
/// namespace of its own (`unshare -Urm`) with its root on a 4 MiB tmpfs. An
/// upload too large for the free space is refused before `READY`; one that
/// fits is begun, another writer then takes most of the disk (a filler
/// inside the namespace, started through a FIFO), and the upload's writes
/// fail: `507`, its partial given back, so that a small upload right after
/// succeeds and the complete file stored before is untouched.
fn disk_full() -> Tally {
    let mut t = Tally::default();
    let namespaces = std::process::Command::new("unshare")
        .args(["-Urm", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !namespaces {
        // The ENOSPC path is still covered by the store's unit tests
        // (store::space) and the machines' (core/tests/transfer.rs).
        t.note = "skipped: this system allows no user namespaces (unshare -Urm)".into();
        return t;
    }
    let (_bin_dir, bin) = wirekit_link();
    for model in ["async", "threads", "poll", "iterative"] {
        let (_dir, root, work) = folders();
        let (go, done) = (work.join("go"), work.join("done"));
        for fifo in [&go, &done] {
            let made = std::process::Command::new("mkfifo").arg(fifo).status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        }
        let (r, g, d) = (root.display(), go.display(), done.display());
        // The filler waits at most a minute for its signal, so that a
        // failed check leaves no process behind for long.
        let prelude = format!(
            "exec unshare -Urm sh -c 'mount -t tmpfs -o size=4m wirekit-full {r} || exit 9
             (timeout 60 head -c 1 {g} >/dev/null && head -c 2621440 /dev/zero > {r}/.filler
              timeout 60 sh -c \"echo filled > {d}\") &
             exec \"$0\" serve --json --any-port \"$@\"' \"$0\" \"$@\""
        );
        let args = [
            "--root",
            "ROOT",
            "--only",
            "transfer,tftp",
            "--tftp-write",
            "--model",
            model,
        ];
        let root_arg = root.to_string_lossy().into_owned();
        let args = args.map(|a| if a == "ROOT" { root_arg.as_str() } else { a });
        let served = Served::start(&bin, &prelude, &args);
        let o = transfer::Options {
            addr: served.addr("transfer"),
            timeout: Duration::from_secs(10),
            progress: false,
        };
        // A complete file first: nothing may take its room.
        let keep = data(100_000, 3);
        std::fs::write(work.join("keep"), &keep).expect("keep");
        transfer::put(&o, &work.join("keep"), "keep.bin", Partial::Keep).expect("keep.bin");
        let mut s = Raw::speaking(o.addr, 2);
        let too_big = s.say("PUT huge 5000000");
        assert!(
            too_big.starts_with("ERR 507 not enough free space"),
            "{model}: {too_big}"
        );
        t.faults += 1;
        let body = data(3_000_000, 4);
        assert_eq!(s.say("PUT big 3000000"), "READY 0", "{model}");
        s.data(&body[..1 << 20]);
        // Another writer takes 2.5 MiB of the 4: the rest cannot fit.
        std::fs::write(&go, b"!").expect("start the filler");
        let filled = std::fs::read_to_string(&done).expect("the filler is done");
        assert_eq!(filled.trim(), "filled");
        t.faults += 1;
        // The rest, read and dropped by the server.
        s.data(&body[1 << 20..]);
        let digest = Digest::of(&body);
        let full = s.say(&format!("DONE {digest}"));
        assert!(
            full.starts_with("ERR 507 the disk is full: nothing of this upload is kept"),
            "{model}: {full}"
        );
        assert_eq!(s.say("STAT big"), "ERR 404 not found", "{model}");
        // The session goes on, and the room the partial held is back.
        assert_eq!(s.say("PUT small 5"), "READY 0", "{model}");
        let small = Digest::of(b"small");
        s.data(b"small");
        assert_eq!(
            s.say(&format!("DONE {small}")),
            format!("STORED 5 {small}"),
            "{model}"
        );
        t.files_checked += 1;
        // The iterative model serves one session at a time.
        assert_eq!(s.say("QUIT"), "BYE");
        let back = work.join("keep.back");
        transfer::get(&o, "keep.bin", &back, Partial::Restart).expect("keep.bin is served");
        t.bytes_lost += exact(&back, &keep);
        t.files_checked += 1;
        // TFTP announces its size (tsize): too large for the room left is
        // its disk-full error before any data, and a small upload goes on.
        let tftp_addr = served.addr("tftp");
        std::fs::write(work.join("tbig"), &body[..2_000_000]).expect("tbig");
        let e = tftp::put(tftp_addr, &work.join("tbig"), "t.big", tftp_config(), false)
            .expect_err("no room for a TFTP upload");
        let ClientError::Refused(text) = &e else {
            panic!("{model}: {e}")
        };
        assert!(text.contains("disk full"), "{model}: {text}");
        t.faults += 1;
        std::fs::write(work.join("tiny"), b"tiny").expect("tiny");
        tftp::put(
            tftp_addr,
            &work.join("tiny"),
            "t.tiny",
            tftp_config(),
            false,
        )
        .expect("a small TFTP upload");
        let back = work.join("tiny.back");
        transfer::get(&o, "t.tiny", &back, Partial::Restart).expect("t.tiny is served");
        t.bytes_lost += exact(&back, b"tiny");
        t.files_checked += 1;
        drop(served);
    }
    t.note = "a 4 MiB tmpfs filled mid-upload, WKFT/1.1 and TFTP, every model: 507 (TFTP's disk full), the partial given back, the next upload stored".into();
    t
}

/// Slowloris: hundreds of connections that send half a request line and
/// then a byte every few seconds are closed by the idle deadline, while a
/// normal client's requests succeed all along.
fn slowloris() -> Tally {
    let mut t = Tally::default();
    let conns = 200;
    // The iterative model serves one client at a time by design: a
    // trickling peer holds it until the deadline (see the IO models chapter).
    for model in [Model::Async, Model::Threads, Model::Poll] {
        let (_dir, r) = serving_f_txt(model, |c| c.idle_timeout = Duration::from_millis(700));
        let a = addr(&r, Service::Transfer, Proto::Tcp);
        let mut slow: Vec<TcpStream> = (0..conns)
            .map(|i| {
                let mut s = TcpStream::connect(a).expect("connect");
                let half: &[u8] = if i % 2 == 0 {
                    b"HELLO"
                } else {
                    b"HELLO 1\r\nGET f.t"
                };
                s.write_all(half).expect("half a request");
                s.set_read_timeout(Some(Duration::from_millis(50)))
                    .expect("timeout");
                s
            })
            .collect();
        t.faults += conns;
        let start = Instant::now();
        let mut open = vec![true; slow.len()];
        // A byte every 2 s (slower than the deadline), for up to 6 s.
        while start.elapsed() < Duration::from_secs(6) && open.iter().any(|o| *o) {
            for (s, o) in slow.iter_mut().zip(open.iter_mut()).filter(|(_, o)| **o) {
                let mut b = [0u8; 64];
                match s.read(&mut b) {
                    Ok(0) => *o = false,
                    Err(e)
                        if e.kind() != std::io::ErrorKind::WouldBlock
                            && e.kind() != std::io::ErrorKind::TimedOut =>
                    {
                        *o = false
                    }
                    _ => {}
                }
            }
            let o = opts(&r);
            let got = transfer::get_to_sink(&o, "f.txt").expect("a normal client succeeds");
            assert_eq!(got, 6);
            t.files_checked += 1;
            if start.elapsed().as_millis() % 2000 < 200 {
                for s in &mut slow {
                    let _ = s.write_all(b"x");
                }
            }
        }
        let left = open.iter().filter(|o| **o).count();
        assert_eq!(
            left, 0,
            "{model:?}: {left} trickling peers still open after 6 s"
        );
    }
    t.note = format!("{conns} trickling connections per model (async, threads, poll)");
    t
}

/// Reads one reply line (up to its line end) from a blocking stream.
fn reply_line(s: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\n") {
        match s.read(&mut b) {
            Ok(1) => line.push(b[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// An upload whose `DATA` body trickles in, a byte every half second for
/// longer than the header deadline: bodies are not headers, so it is
/// stored. Returns the reply to its `DONE`.
fn slow_body_upload(a: SocketAddr, name: &str, tick: Duration) -> String {
    let body = b"trickled";
    let mut s = greet(a).expect("a session");
    s.write_all(format!("PUT {name} {}\r\n", body.len()).as_bytes())
        .expect("PUT");
    let ready = reply_line(&mut s);
    assert_eq!(ready, "READY 0\n");
    s.write_all(format!("DATA {}\r\n", body.len()).as_bytes())
        .expect("DATA");
    for b in body {
        std::thread::sleep(tick);
        s.write_all(&[*b]).expect("a byte of the body");
    }
    let digest = wirekit_core::wire::transfer::Digest::of(body);
    s.write_all(format!("\r\nDONE {digest}\r\n").as_bytes())
        .expect("DONE");
    reply_line(&mut s)
}

/// Slowloris faster than the idle limit: peers that send a byte every half
/// second, never a whole request line, are each closed with `ERR 408` once
/// the header deadline (2 s here) has passed since the line began, while a
/// normal client's requests succeed all along and an upload whose body
/// trickles just as slowly is stored.
fn trickled_headers() -> Tally {
    let mut t = Tally::default();
    let conns = 60;
    let tick = Duration::from_millis(500);
    let deadline = Duration::from_secs(2);
    // The iterative model serves one client at a time by design: each
    // trickler would hold it for the whole deadline in turn.
    for model in [Model::Async, Model::Threads, Model::Poll] {
        let (dir, r) = serving_f_txt(model, |c| {
            // Longer than a tick: the idle limit alone never closes them.
            c.idle_timeout = Duration::from_secs(5);
            c.header_deadline = deadline;
        });
        let a = addr(&r, Service::Transfer, Proto::Tcp);
        let upload = {
            let name = format!("slow-{model:?}.bin");
            std::thread::spawn(move || slow_body_upload(a, &name, tick))
        };
        let start = Instant::now();
        let mut slow: Vec<(TcpStream, Vec<u8>, Option<Duration>)> = (0..conns)
            .map(|i| {
                let mut s = if i % 2 == 0 {
                    TcpStream::connect(a).expect("connect")
                } else {
                    greet(a).expect("a session")
                };
                let half: &[u8] = if i % 2 == 0 { b"HEL" } else { b"GET f" };
                s.write_all(half).expect("half a request");
                s.set_nonblocking(true).expect("non-blocking");
                (s, Vec::new(), None)
            })
            .collect();
        t.faults += conns as u64;
        let mut ticks = 0;
        while start.elapsed() < Duration::from_secs(8) && slow.iter().any(|c| c.2.is_none()) {
            for (s, got, closed) in slow.iter_mut().filter(|c| c.2.is_none()) {
                let mut b = [0u8; 256];
                match s.read(&mut b) {
                    Ok(0) => *closed = Some(start.elapsed()),
                    Ok(n) => got.extend_from_slice(&b[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => *closed = Some(start.elapsed()),
                }
            }
            // A byte a tick, a quarter tick off the deadline's beat so the
            // last one does not cross the server's close; none once the
            // server has answered.
            if start.elapsed() >= tick / 4 + tick * ticks {
                ticks += 1;
                for (s, _, _) in slow.iter_mut().filter(|c| c.2.is_none() && c.1.is_empty()) {
                    let _ = s.write_all(b"x");
                }
                let got =
                    transfer::get_to_sink(&opts(&r), "f.txt").expect("a normal client succeeds");
                assert_eq!(got, 6);
                t.files_checked += 1;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for (i, (_, got, closed)) in slow.iter().enumerate() {
            let got = String::from_utf8_lossy(got);
            let closed =
                closed.unwrap_or_else(|| panic!("{model:?}: trickler {i} still open after 8 s"));
            assert!(
                got.contains("ERR 408 "),
                "{model:?}: trickler {i} got {got:?}"
            );
            // The deadline, plus the time to connect them all and a loaded
            // machine's slack.
            assert!(
                closed < deadline + Duration::from_secs(3),
                "{model:?}: trickler {i} closed after {closed:?}"
            );
        }
        let stored = upload.join().expect("the slow upload");
        assert!(
            stored.starts_with("STORED 8 "),
            "{model:?}: slow body got {stored:?}"
        );
        t.files_checked += 1;
        t.bytes_lost += exact(&dir.path().join(format!("slow-{model:?}.bin")), b"trickled");
    }
    t.note = format!(
        "{conns} peers trickling a request line (a byte per 0.5 s, deadline 2 s) per model, and a body as slow"
    );
    t
}

/// Peers that ask for a big file and never read it: their send buffers
/// fill, and the server must go on serving everyone else.
fn peers_that_never_read() -> Tally {
    let mut t = Tally::default();
    let stalled = 20;
    // The iterative model serves one client at a time by design: a stalled
    // one holds it until the idle deadline.
    for model in [Model::Async, Model::Threads, Model::Poll] {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("big.bin"), data(8_000_000, 5)).expect("big");
        let small = data(50_000, 6);
        std::fs::write(dir.path().join("small.bin"), &small).expect("small");
        let r = start_with(dir.path(), |c| c.model = model);
        let a = addr(&r, Service::Transfer, Proto::Tcp);
        let held: Vec<TcpStream> = (0..stalled)
            .map(|_| {
                let mut s = greet(a).expect("a session");
                s.write_all(b"GET big.bin 0\r\n").expect("ask");
                s
            })
            .collect();
        t.faults += stalled;
        // Let the server fill their buffers, then serve others meanwhile.
        std::thread::sleep(Duration::from_millis(300));
        for k in 0..10 {
            let local = dir.path().join(format!("got{k}"));
            transfer::get(&opts(&r), "small.bin", &local, Partial::Keep)
                .unwrap_or_else(|e| panic!("{model:?}: a reader was stalled: {e}"));
            t.bytes_lost += exact(&local, &small);
            t.files_checked += 1;
        }
        drop(held);
    }
    t.note = format!("{stalled} peers that never read, async, threads, poll");
    t
}

/// Garbage datagrams at full speed at the UDP ports during a TFTP download
/// and UDP echo traffic: both complete, and no reply to garbage is larger
/// than the datagram that caused it (no amplification).
fn udp_flood() -> Tally {
    let (mut t, mut heard) = (Tally::default(), 0);
    for model in MODELS {
        let dir = tempfile::tempdir().expect("tmp");
        let body = data(3_000_000, 9);
        std::fs::write(dir.path().join("big.bin"), &body).expect("file");
        let r = start_with(dir.path(), |c| c.model = model);
        let targets = [
            addr(&r, Service::Tftp, Proto::Udp),
            addr(&r, Service::Echo, Proto::Udp),
        ];
        let stop = Arc::new(AtomicBool::new(false));
        // Full speed during the TFTP transfer; during the echo requests a
        // gap of 200 µs per round (some 40,000 datagrams a second): at full
        // speed the echo socket's buffer is never free, and a request
        // client that gives up after a bounded backoff can lose every try.
        let calm = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let answered = Arc::new(AtomicU64::new(0));
        let flooders: Vec<_> = [1usize, 4, 17, 516]
            .into_iter()
            .map(|len| {
                let (stop, calm) = (stop.clone(), calm.clone());
                let (sent, answered) = (sent.clone(), answered.clone());
                std::thread::spawn(move || {
                    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
                    s.set_nonblocking(true).expect("nonblocking");
                    let mut x = len as u64;
                    let mut reply = [0u8; 70_000];
                    while !stop.load(Ordering::Relaxed) {
                        if calm.load(Ordering::Relaxed) {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        for to in targets {
                            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                            let garbage: Vec<u8> =
                                (0..len).map(|k| (x >> (k % 56)) as u8).collect();
                            if s.send_to(&garbage, to).is_ok() {
                                sent.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        while let Ok((n, from)) = s.recv_from(&mut reply) {
                            // Echo answers in kind; anything else must not be larger.
                            answered.fetch_add(1, Ordering::Relaxed);
                            if n > len {
                                panic!("{n}-byte reply from {from} to {len}-byte garbage");
                            }
                        }
                    }
                })
            })
            .collect();
        let local = dir.path().join("got.bin");
        // A full socket buffer drops requests too: the client's retries
        // are what gets the first one through.
        let patient = ClientConfig {
            retries: 30,
            ..tftp_config()
        };
        let got = tftp::get(targets[0], "big.bin", &local, patient, false);
        got.unwrap_or_else(|e| panic!("{model:?}: TFTP under a flood: {e}"));
        t.bytes_lost += exact(&local, &body);
        t.files_checked += 1;
        // The flood fills the echo socket's buffer too: more patience
        // than the default 2 s, still bounded (8 attempts over ~12 s).
        let backoff = wirekit_core::retry::BackoffConfig {
            initial: Duration::from_millis(50),
            max_wait: Duration::from_millis(6400),
            ..Default::default()
        };
        calm.store(true, Ordering::Relaxed);
        let msgs: Vec<String> = (0..20).map(|i| format!("ping {i}")).collect();
        let replies = wirekit::client::echo::udp(targets[1], &msgs, backoff, |_, _| {})
            .unwrap_or_else(|e| panic!("{model:?}: UDP echo under a flood: {e}"));
        assert!(replies.iter().all(|r| r.reply == r.sent));
        stop.store(true, Ordering::Relaxed);
        for f in flooders {
            if f.join().is_err() {
                panic!("{model:?}: amplification (see above)");
            }
        }
        t.faults += sent.load(Ordering::Relaxed);
        heard += answered.load(Ordering::Relaxed);
    }
    t.note = format!(
        "garbage datagrams of 1 to 516 bytes at TFTP and UDP echo, every model (at full speed through a TFTP download, then some 40,000 a second through 20 echo requests); {heard} replies, none larger than its datagram"
    );
    t
}

/// The server's first line after `HELLO 1` and `line`.
fn raw_answer(a: SocketAddr, line: &str) -> String {
    let mut s = TcpStream::connect(a).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(format!("HELLO 1\r\n{line}").as_bytes())
        .expect("send");
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while got.iter().filter(|&&c| c == b'\n').count() < 2 {
        match s.read(&mut b) {
            Ok(1) => got.push(b[0]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    text.lines().nth(1).unwrap_or_default().to_owned()
}

/// The error code of the TFTP server's answer to a raw RRQ (1) or WRQ (2).
fn raw_tftp_error(server: SocketAddr, opcode: u8, name: &str) -> Option<u16> {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    // Loopback answers in microseconds; a second means no answer.
    s.set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let mut packet = vec![0, opcode];
    packet.extend_from_slice(name.as_bytes());
    packet.extend_from_slice(b"\0octet\0");
    s.send_to(&packet, server).expect("send");
    let mut b = [0u8; 1024];
    let (n, _) = s.recv_from(&mut b).ok()?;
    (n >= 4 && b[..2] == [0, 5]).then(|| u16::from_be_bytes([b[2], b[3]]))
}

/// A hostile name's request was refused with a typed error, or it is one
/// of the odd names that are inside the root and may succeed.
fn judge(what: &str, name: &str, way: &str, typed: bool, res: &Result<(), ClientError>) {
    if std::env::var_os("FAULTS_VERBOSE").is_some() {
        eprintln!("{what} {name:?}: {res:?}");
    }
    let inside =
        matches!(name, ". ." | "..." | "name\twith\ttab") || (way == "get" && name == "hard.txt");
    assert!(typed || (inside && res.is_ok()), "{what} {name:?}: {res:?}");
}

/// Hostile names, through WKFT/1 and TFTP, both ways.
fn hostile_names() -> Tally {
    let mut t = Tally::default();
    let dir = tempfile::tempdir().expect("tmp");
    let (root, outside, work) = (
        dir.path().join("root"),
        dir.path().join("outside"),
        dir.path().join("work"),
    );
    for d in [&root, &outside, &work] {
        std::fs::create_dir_all(d).expect("dir");
    }
    std::fs::write(outside.join("secret.txt"), b"outside the root\n").expect("secret");
    std::fs::write(root.join("ok.txt"), b"inside\n").expect("ok");
    std::os::unix::fs::symlink(&outside, root.join("door")).expect("symlink to a dir");
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("link.txt")).expect("link");
    std::os::unix::fs::symlink("../outside/secret.txt", root.join("rel.txt")).expect("rel link");
    // A hard link is the outside file itself, inside the root: reading it
    // is reading a file of the root, but no upload may write through it.
    std::fs::hard_link(outside.join("secret.txt"), root.join("hard.txt")).expect("hard link");
    let up = work.join("up.bin");
    std::fs::write(&up, b"hostile upload\n").expect("upload source");
    let long = "a".repeat(300);
    let deep = vec!["d"; 200].join("/");
    let hostile: Vec<String> = [
        "..",
        "../",
        "../outside/secret.txt",
        "../../etc/passwd",
        "a/../../outside/secret.txt",
        "./../outside/secret.txt",
        "ok.txt/..",
        "ok.txt/../..",
        "/etc/passwd",
        "/",
        "//etc/passwd",
        "/tmp/x",
        "\\..\\outside\\secret.txt",
        "..\\outside",
        "a\\b",
        "C:\\Windows\\win.ini",
        "C:/Windows/win.ini",
        "c:secret",
        "ok.txt\0.png",
        "\0",
        "a\0/../../x",
        "door/secret.txt",
        "door",
        "door/../ok.txt",
        "link.txt",
        "rel.txt",
        "door/new.txt",
        ". .",
        "..%2f..%2fetc",
        "%2e%2e/outside",
        "\u{2025}/outside",
        "\u{FF0E}\u{FF0E}/outside",
        "\u{2024}\u{2024}/secret",
        "..\u{2215}outside",
        "\u{FE52}\u{FE52}/x",
        "a/./../../x",
        "...",
        "a//../../x",
        "\n",
        "\r\nLIST",
        "name\twith\ttab",
        "./",
        "a/..",
        "hard.txt",
    ]
    .into_iter()
    .map(String::from)
    .chain([long.clone(), format!("{long}/{long}"), deep.clone()])
    .collect();
    assert!(hostile.len() >= 40);
    let before = std::fs::read(outside.join("secret.txt")).expect("secret");
    let models = [Model::Async, Model::Poll];
    for model in models {
        let r = start_with(&root, |c| {
            c.model = model;
            c.tftp_write = true;
        });
        let o = opts(&r);
        let tftp_addr = addr(&r, Service::Tftp, Proto::Udp);
        for name in &hostile {
            let local = work.join("down.bin");
            // WKFT/1 download and upload: refused with a typed code.
            for (way, res) in [
                (
                    "get",
                    transfer::get(&o, name, &local, Partial::Keep).map(|_| ()),
                ),
                (
                    "put",
                    transfer::put(&o, &up, name, Partial::Keep).map(|_| ()),
                ),
            ] {
                // A name with a NUL or a line break cannot even be sent: the
                // client refuses it before a byte leaves.
                // WKFT/1's requests are words on a line: no spaces either.
                let unsendable = name.chars().any(|c| c.is_whitespace() || c.is_control());
                let typed = match &res {
                    Err(e) => {
                        matches!(e, ClientError::Local(_) | ClientError::Usage(_))
                            || refused(e).is_some()
                    }
                    Ok(()) => false,
                };
                // What the client would not send, a hostile peer would: the
                // server must refuse it itself.
                if !unsendable && res.as_ref().is_err_and(|e| refused(e).is_none()) {
                    let line = match way {
                        "get" => format!("GET {name} 0\r\n"),
                        _ => format!("PUT {name} 5\r\n"),
                    };
                    let answer = raw_answer(o.addr, &line);
                    assert!(
                        answer.starts_with("ERR 4"),
                        "{model:?} raw {line:?}: {answer:?}"
                    );
                    t.faults += 1;
                }
                judge(&format!("{model:?} WKFT/1 {way}"), name, way, typed, &res);
                t.faults += 1;
            }
            for (way, res) in [
                (
                    "get",
                    tftp::get(tftp_addr, name, &local, tftp_config(), false).map(|_| ()),
                ),
                (
                    "put",
                    tftp::put(tftp_addr, &up, name, tftp_config(), false).map(|_| ()),
                ),
            ] {
                let unsendable = name.contains('\0');
                let typed = matches!(
                    &res,
                    Err(ClientError::Local(_) | ClientError::Usage(_) | ClientError::Refused(_))
                );
                if !unsendable && matches!(res, Err(ClientError::Local(_) | ClientError::Usage(_)))
                {
                    let opcode = if way == "get" { 1 } else { 2 };
                    let code = raw_tftp_error(tftp_addr, opcode, name);
                    // A request over RFC 1350's 512 bytes is not a request:
                    // dropped unanswered, like any garbage.
                    let oversize = name.len() + 10 > 512;
                    assert!(
                        code.is_some() || oversize,
                        "{model:?} raw TFTP {way} {name:?}: no ERROR"
                    );
                    t.faults += 1;
                }
                judge(&format!("{model:?} TFTP {way}"), name, way, typed, &res);
                t.faults += 1;
            }
        }
    }
    // Nothing outside the root was read into a download or written.
    assert_eq!(
        std::fs::read(outside.join("secret.txt")).expect("secret"),
        before
    );
    assert_eq!(names(&outside), ["secret.txt"]);
    assert_eq!(names(dir.path()), ["outside", "root", "work"]);
    t.files_checked += 1;
    t.note = format!(
        "{} hostile names, WKFT/1 and TFTP, get and put, async and poll",
        hostile.len()
    );
    t
}

/// A file replaced by a symbolic link out of the root *during* its
/// download: the server reads the file it opened, to the end, and the
/// next request for the name is refused.
fn swapped_link() -> Tally {
    let mut t = Tally::default();
    for model in [Model::Async, Model::Threads, Model::Poll, Model::Iterative] {
        let (_dir, root, work) = folders();
        let body = data(8_000_000, 11);
        std::fs::write(root.join("big.bin"), &body).expect("big");
        let secret = work.join("secret.bin");
        std::fs::write(&secret, vec![b'S'; body.len()]).expect("secret");
        let r = start_with(&root, |c| c.model = model);
        let mut s = greet(addr(&r, Service::Transfer, Proto::Tcp)).expect("a session");
        s.write_all(b"GET big.bin 0\r\n").expect("ask");
        let mut reader = std::io::BufReader::new(s);
        let mut line = String::new();
        let mut got = Vec::new();
        let mut swapped = false;
        loop {
            line.clear();
            std::io::BufRead::read_line(&mut reader, &mut line).expect("a reply line");
            if let Some(len) = line.strip_prefix("DATA ") {
                let len: usize = len.trim().parse().expect("a length");
                let mut chunk = vec![0; len + 1];
                reader.read_exact(&mut chunk).expect("a body");
                got.extend_from_slice(&chunk[..len]);
            } else if !line.starts_with("FILE ") {
                break;
            }
            // A quarter in, with the rest still on the server's side.
            if !swapped && got.len() > body.len() / 4 {
                let tmp = root.join("swap");
                std::os::unix::fs::symlink(&secret, &tmp).expect("link");
                std::fs::rename(&tmp, root.join("big.bin")).expect("swap in the link");
                swapped = true;
                t.faults += 1;
            }
        }
        assert!(line.starts_with("DONE "), "{model:?}: {line:?}");
        assert!(swapped, "{model:?}: the swap came too late");
        t.bytes_lost += (got != body) as u64 * body.len() as u64;
        t.files_checked += 1;
        // The iterative model serves one session at a time: end this one.
        drop(reader);
        let e = transfer::get(&opts(&r), "big.bin", &work.join("again"), Partial::Keep)
            .expect_err("the link is refused");
        assert_eq!(refused(&e), Some(ErrorCode::Denied), "{model:?}: {e}");
    }
    t.note = "a file swapped for a link out of the root mid-download, every model".into();
    t
}

/// A WKFT/1 session past its greeting, or the refusal the server sent.
fn greet(a: SocketAddr) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(a).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let _ = s.write_all(b"HELLO 1\r\n");
    let line = reply_line(&mut s);
    match line.starts_with("HELLO 1") {
        true => Ok(s),
        false => Err(line),
    }
}

/// More connections than `--max-conns`: the extra ones are refused with
/// `503`, every held one works, and the server serves again once they go.
fn connection_limit() -> Tally {
    let mut t = Tally::default();
    let (limit, tries) = (100, 300);
    // The iterative model holds one client and queues the rest in the
    // kernel's backlog: it has no limit to refuse beyond.
    for model in [Model::Async, Model::Threads, Model::Poll] {
        let dir = tempfile::tempdir().expect("tmp");
        let r = start_with(dir.path(), |c| {
            c.model = model;
            c.max_conns = limit;
        });
        let a = addr(&r, Service::Transfer, Proto::Tcp);
        let (mut held, mut refusals) = (Vec::new(), 0);
        for _ in 0..tries {
            match greet(a) {
                Ok(s) => held.push(s),
                Err(line) => {
                    assert!(line.starts_with("ERR 503"), "{model:?}: {line:?}");
                    refusals += 1;
                }
            }
        }
        assert_eq!(held.len(), limit, "{model:?}: held beyond the limit");
        assert_eq!(refusals, tries - limit);
        t.faults += refusals as u64;
        for s in &mut held {
            s.write_all(b"LIST\r\n").expect("a held session works");
        }
        drop(held);
        let freed = eventually(Duration::from_secs(10), || r.open_connections() == 0);
        assert!(freed, "{model:?}: slots not freed");
        transfer::list(&opts(&r), None).expect("serves again");
        t.files_checked += 1;
    }
    t.note = format!("{tries} connections against --max-conns {limit}, async, threads, poll");
    t
}

/// A named check.
type Check = (&'static str, fn() -> Tally);

const CHECKS: &[Check] = &[
    ("killed_wkft_clients", killed_wkft_clients),
    ("killed_tftp_clients", killed_tftp_clients),
    ("killed_servers", killed_servers),
    ("full_disk", full_disk),
    ("disk_full", disk_full),
    ("slowloris", slowloris),
    ("trickled_headers", trickled_headers),
    ("peers_that_never_read", peers_that_never_read),
    ("udp_flood", udp_flood),
    ("hostile_names", hostile_names),
    ("swapped_link", swapped_link),
    ("connection_limit", connection_limit),
];

/// What the checks that ran did, for the totals printed after them.
static TALLIES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
static TOTAL: std::sync::Mutex<(u64, u64, u64)> = std::sync::Mutex::new((0, 0, 0));

/// A check as a libtest trial: it fails if it panics or lost a byte.
fn trial(&(name, check): &Check) -> libtest_mimic::Trial {
    libtest_mimic::Trial::test(name, move || {
        let start = Instant::now();
        let t = check();
        let line = format!(
            "{name} ({:.1} s): {}; faults {}, files checked {}, bytes lost {}",
            start.elapsed().as_secs_f64(),
            t.note,
            t.faults,
            t.files_checked,
            t.bytes_lost
        );
        if let Ok(mut total) = TOTAL.lock() {
            total.0 += t.faults;
            total.1 += t.files_checked;
            total.2 += t.bytes_lost;
        }
        if let Ok(mut lines) = TALLIES.lock() {
            lines.push(line.clone());
        }
        if t.bytes_lost > 0 {
            return Err(line.into());
        }
        Ok(())
    })
}

fn main() {
    be_wirekit_if_called_so();
    let mut args = libtest_mimic::Arguments::from_args();
    // One check at a time unless asked otherwise: they count their own
    // kills, descriptors and connections against the machine's limits.
    args.test_threads.get_or_insert(1);
    let conclusion = libtest_mimic::run(&args, CHECKS.iter().map(trial).collect());
    if !args.list {
        if let Ok(lines) = TALLIES.lock() {
            for line in lines.iter() {
                println!("{line}");
            }
        }
        let (faults, files, lost) = TOTAL.lock().map(|t| *t).unwrap_or_default();
        println!("faults injected {faults}, files checked {files}, bytes lost {lost}");
    }
    conclusion.exit();
}

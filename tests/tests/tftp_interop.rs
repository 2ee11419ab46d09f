//! TFTP interop: our server with curl, tftp-hpa, atftp and busybox; our
//! client against tftpd-hpa, atftpd and the Rust tftpd; refusals on the wire.

use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use wirekit::client::tftp;
use wirekit::drive::Model;
use wirekit::services::{Proto, Service};
use wirekit_core::tftp::client::ClientConfig;
use wirekit_core::tftp::options::Wishes;
use wirekit_tests::native::{MODELS, data, start_with};
use wirekit_tests::peers::{require, tftp_server};

/// 65,537 blocks of 512 bytes and a bit: past the block-number wrap.
const WRAP: usize = 512 * 65_537 + 100;

/// Test files: empty, exactly one block, a few blocks, and past the wrap.
fn files(dir: &Path, wrap: bool) -> Vec<(&'static str, Vec<u8>)> {
    let mut set = vec![
        ("empty.bin", Vec::new()),
        ("block.bin", data(512, 1)),
        ("small.bin", data(100_000, 2)),
    ];
    if wrap {
        set.push(("wrap.bin", data(WRAP, 3)));
    }
    for (name, body) in &set {
        std::fs::write(dir.join(name), body).expect("write a test file");
    }
    // tftpd-hpa serves only world-readable files, and writes into a world-writable directory.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    for (name, _) in &set {
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
    }
    set
}

fn run(tool: &str, args: &[&str]) {
    let out = Command::new(require(tool))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the peer");
    assert!(out.status.success(), "{tool} {args:?}: {out:?}");
}

fn url(port: u16, name: &str) -> String {
    format!("tftp://127.0.0.1:{port}/{name}")
}

/// Every IO model serves TFTP: the same listener machine on each one's loops.
#[test]
fn third_party_clients_against_our_server() {
    for model in MODELS {
        third_party_clients_against(model);
    }
}

// A test body, run once per model: unwrap as in a #[test].
#[allow(clippy::unwrap_used)]
fn third_party_clients_against(model: Model) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let set = files(&root, true);
    let r = start_with(&root, |c| {
        c.services = vec![Service::Tftp];
        c.tftp_write = true;
        c.model = model;
    });
    let port = r.addr(Service::Tftp, Proto::Udp).unwrap().port();
    let p = port.to_string();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let check = |who: &str, name: &str, body: &[u8]| {
        let got = std::fs::read(&out).unwrap_or_else(|e| panic!("{model:?} {who} {name}: {e}"));
        assert!(
            got == body,
            "{model:?} {who} {name}: {} bytes, want {}",
            got.len(),
            body.len()
        );
        std::fs::remove_file(&out).unwrap();
    };
    for (name, body) in &set {
        run("curl", &["-sS", "-o", o, &url(port, name)]);
        check("curl", name, body);
        if *name == "wrap.bin" {
            continue; // one pass over the wrap per client is enough
        }
        run(
            "curl",
            &["-sS", "--tftp-blksize", "1468", "-o", o, &url(port, name)],
        );
        check("curl --tftp-blksize 1468", name, body);
        run(
            "tftp",
            &["127.0.0.1", &p, "-m", "binary", "-c", "get", name, o],
        );
        check("tftp-hpa", name, body);
        run(
            "atftp",
            &[
                "--option",
                "blksize 1468",
                "--option",
                "windowsize 16",
                "--option",
                "tsize 0",
                "-g",
                "-r",
                name,
                "-l",
                o,
                "127.0.0.1",
                &p,
            ],
        );
        check("atftp", name, body);
        run(
            "busybox",
            &[
                "tftp",
                "-b",
                "1468",
                "-g",
                "-r",
                name,
                "-l",
                o,
                "127.0.0.1",
                &p,
            ],
        );
        check("busybox", name, body);
    }
    // Uploads land whole, under their final name only.
    let up = dir.path().join("up.bin");
    let body = data(200_000, 9);
    std::fs::write(&up, &body).unwrap();
    let u = up.to_str().unwrap();
    run("curl", &["-sS", "-T", u, &url(port, "curl.bin")]);
    run(
        "tftp",
        &["127.0.0.1", &p, "-m", "binary", "-c", "put", u, "hpa.bin"],
    );
    run(
        "atftp",
        &[
            "--option",
            "blksize 1468",
            "-p",
            "-l",
            u,
            "-r",
            "atftp.bin",
            "127.0.0.1",
            &p,
        ],
    );
    run(
        "busybox",
        &[
            "tftp",
            "-b",
            "1468",
            "-p",
            "-l",
            u,
            "-r",
            "busybox.bin",
            "127.0.0.1",
            &p,
        ],
    );
    for name in ["curl.bin", "hpa.bin", "atftp.bin", "busybox.bin"] {
        assert!(
            std::fs::read(root.join(name)).unwrap() == body,
            "{model:?} upload {name}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".wkpart"))
        .collect();
    assert!(leftovers.is_empty(), "no partials left: {leftovers:?}");
}

fn config(blksize: Option<u16>, windowsize: Option<u16>) -> ClientConfig {
    let d = ClientConfig::default();
    ClientConfig {
        wishes: Wishes {
            blksize,
            windowsize,
            tsize: true,
            ..d.wishes
        },
        ..d
    }
}

#[test]
fn our_client_against_third_party_servers() {
    for kind in ["in.tftpd", "atftpd", "tftpd"] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let set = files(&root, kind == "in.tftpd");
        let (port, _guard) = tftp_server(kind, &root);
        let server = SocketAddr::from(([127, 0, 0, 1], port));
        for (name, body) in &set {
            for (blk, win) in [(None, None), (Some(1468), Some(16))] {
                let local = dir.path().join(format!("{name}.{}", blk.unwrap_or(512)));
                let done = tftp::get(server, name, &local, config(blk, win), false)
                    .unwrap_or_else(|e| panic!("{kind} {name} {blk:?}: {e}"));
                assert_eq!(done.bytes, body.len() as u64, "{kind} {name}");
                assert!(
                    std::fs::read(&local).unwrap() == *body,
                    "{kind} {name} {blk:?}"
                );
            }
        }
        // tftpd-hpa and atftpd take uploads of new files only into a writable directory.
        let up = dir.path().join("up.bin");
        let body = data(150_000, 5);
        std::fs::write(&up, &body).unwrap();
        tftp::put(server, &up, "uploaded.bin", config(Some(1468), None), false)
            .unwrap_or_else(|e| panic!("{kind} put: {e}"));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::fs::metadata(root.join("uploaded.bin"))
            .map(|m| m.len())
            .ok()
            != Some(body.len() as u64)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{kind}: upload not stored"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            std::fs::read(root.join("uploaded.bin")).unwrap() == body,
            "{kind} put"
        );
    }
}

/// Sends one raw request; returns the reply's opcode and error code, if any.
fn ask(server: SocketAddr, packet: &[u8]) -> Option<(u16, u16)> {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_millis(1500)))
        .expect("timeout");
    s.send_to(packet, server).expect("send");
    let mut buf = [0u8; 1024];
    let n = s.recv(&mut buf).ok()?;
    let op = u16::from_be_bytes([buf[0], buf[1]]);
    let code = if n >= 4 {
        u16::from_be_bytes([buf[2], buf[3]])
    } else {
        0
    };
    Some((op, code))
}

fn rrq(op: u8, name: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut p = vec![0, op];
    for part in [name, "octet"]
        .into_iter()
        .chain(options.iter().flat_map(|(k, v)| [*k, *v]))
    {
        p.extend_from_slice(part.as_bytes());
        p.push(0);
    }
    p
}

#[test]
fn refusals_are_the_rfc_errors() {
    for model in MODELS {
        refusals_under(model);
    }
}

// A test body, run once per model: unwrap as in a #[test].
#[allow(clippy::unwrap_used)]
fn refusals_under(model: Model) {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path(), false);
    let r = start_with(dir.path(), |c| {
        c.services = vec![Service::Tftp];
        c.model = model;
    });
    let server = r.addr(Service::Tftp, Proto::Udp).unwrap();
    for bad in [("blksize", "4"), ("timeout", "0"), ("windowsize", "0")] {
        assert_eq!(
            ask(server, &rrq(1, "small.bin", &[bad])),
            Some((5, 8)),
            "{bad:?}: ERROR 8"
        );
    }
    assert_eq!(
        ask(server, &rrq(1, "missing.bin", &[])),
        Some((5, 1)),
        "ERROR 1"
    );
    assert_eq!(
        ask(server, &rrq(2, "new.bin", &[])),
        Some((5, 2)),
        "read-only: ERROR 2"
    );
    assert_eq!(
        ask(server, &rrq(1, "../etc/passwd", &[])).map(|r| r.0),
        Some(5),
        "outside the root"
    );
    // Garbage and stray packets get no answer: the server reflects nothing.
    assert_eq!(ask(server, b"\x00\x03\x00\x01hello"), None);
    assert_eq!(ask(server, b"GET / HTTP/1.0\r\n\r\n"), None);
    // And it still serves.
    let local = dir.path().join("copy");
    tftp::get(server, "block.bin", &local, ClientConfig::default(), false).unwrap();
    assert_eq!(std::fs::read(local).unwrap().len(), 512);
}

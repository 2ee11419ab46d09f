//! The `wirekit` binary as a user runs it: help, JSON output, exit codes,
//! and a server that stops cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wirekit");

fn wirekit(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run wirekit")
}

/// A `wirekit serve` child on free ports, killed by PID if a test fails.
struct Server {
    child: Child,
    listening: Vec<serde_json::Value>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("hello.txt"), b"hello\n").expect("write");
        let root = dir.path().to_str().expect("utf-8 path").to_owned();
        let mut child = Command::new(BIN)
            .args(["serve", "--any-port", "--json", "--root", &root])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wirekit serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the ready line");
        let listening: Vec<serde_json::Value> = serde_json::from_str(&line).expect("JSON");
        Server {
            child,
            listening,
            _dir: dir,
        }
    }

    fn addr(&self, service: &str, proto: &str) -> String {
        self.listening
            .iter()
            .find(|l| l["service"] == service && l["proto"] == proto)
            .and_then(|l| l["addr"].as_str())
            .expect("a listening socket")
            .to_owned()
    }

    fn root(&self) -> &std::path::Path {
        self._dir.path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    let top = wirekit(&["--help"]);
    assert!(top.status.success());
    let text = stdout(&top);
    assert!(text.contains("Exit codes"), "{text}");
    for sub in [
        "serve", "echo", "time", "ls", "stat", "get", "put", "nc", "resolve",
    ] {
        let o = wirekit(&[sub, "--help"]);
        assert!(o.status.success(), "{sub} --help");
        assert!(
            stdout(&o).contains("Usage: wirekit "),
            "{sub}: {}",
            stdout(&o)
        );
    }
    // A usage error is exit code 2, with a message.
    let o = wirekit(&["serve", "--model", "fork"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("fork"));
}

#[test]
fn clients_print_json_and_exit_with_documented_codes() {
    let s = Server::start(&["--model", "poll"]);
    let t = s.addr("transfer", "tcp");

    let o = wirekit(&["echo", &s.addr("echo", "tcp"), "a", "b", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v[1]["reply"], "b");

    let o = wirekit(&["time", &s.addr("time", "udp"), "--udp", "--json"]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert!(v[0]["offset"].as_i64().expect("an offset").abs() <= 5);

    let o = wirekit(&["ls", &t, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v[0]["name"], "hello.txt");

    let mine = tempfile::tempdir().expect("dir");
    let local = mine.path().join("copy.txt");
    let local = local.to_str().expect("utf-8");
    let o = wirekit(&["get", &t, "hello.txt", local, "--json"]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["size"], 6);
    let o = wirekit(&["put", &t, local, "copy.txt", "--json"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        std::fs::read(s.root().join("copy.txt")).expect("stored"),
        b"hello\n"
    );

    // 4: the server refused (404, 409).
    let o = wirekit(&["get", &t, "nothing.txt", local]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("404"));
    let o = wirekit(&["put", &t, local, "copy.txt"]);
    assert_eq!(o.status.code(), Some(4));
    // 3: nothing listens, or a UDP server never answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let o = wirekit(&["ls", &format!("127.0.0.1:{port}")]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let a = silent.local_addr().expect("addr").to_string();
    let o = wirekit(&[
        "echo",
        "--udp",
        &a,
        "x",
        "--retry-initial",
        "10",
        "--retry-max",
        "40",
    ]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("looks down"));
}

#[test]
fn serve_stops_cleanly_on_sigint() {
    let mut s = Server::start(&[]);
    let pid = s.child.id().to_string();
    let status = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = s.child.try_wait().expect("wait") {
            assert!(code.success(), "{code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port().to_string();
    let dir = tempfile::tempdir().expect("dir");
    let o = Command::new(BIN)
        .args([
            "serve",
            "--only",
            "transfer",
            "--transfer-port",
            &port,
            "--root",
        ])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("transfer on tcp") && err.contains(&port),
        "{err}"
    );
}

fn trace_hash(o: &Output) -> String {
    stdout(o)
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("trace-hash: "))
        .expect("the last line is the trace hash")
        .to_owned()
}

#[test]
fn sim_runs_a_preset_writes_a_pcap_tshark_reads_and_repeats_exactly() {
    let dir = tempfile::tempdir().expect("dir");
    let pcap = dir.path().join("out.pcap");
    let trace = dir.path().join("trace.jsonl");
    let p = pcap.to_str().expect("utf-8");
    let t = trace.to_str().expect("utf-8");
    let o = wirekit(&[
        "sim",
        "tcp-transfer-lossy",
        "--seed",
        "7",
        "--pcap",
        p,
        "--trace",
        t,
    ]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(text.contains("outcome: completed"), "{text}");
    let hash = trace_hash(&o);
    assert_eq!(hash.len(), 64);
    // The same seed gives the same run; another seed another.
    assert_eq!(
        trace_hash(&wirekit(&["sim", "tcp-transfer-lossy", "--seed", "7"])),
        hash
    );
    assert_ne!(
        trace_hash(&wirekit(&["sim", "tcp-transfer-lossy", "--seed", "8"])),
        hash
    );
    // Every trace line is a JSON object.
    let lines = std::fs::read_to_string(&trace).expect("trace");
    assert!(lines.lines().count() > 100);
    for l in lines.lines().take(50) {
        serde_json::from_str::<serde_json::Value>(l).expect("a JSON trace record");
    }
    // A real dissector reads the capture without complaint.
    let tshark = ["/usr/bin/tshark", "/usr/sbin/tshark"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("tshark is installed by .ci/run (package tshark)");
    let read = Command::new(tshark)
        .args(["-r", p])
        .stdin(Stdio::null())
        .output()
        .expect("run tshark");
    assert!(read.status.success(), "{read:?}");
    let dissected = stdout(&read);
    assert!(
        dissected.lines().count() > 1000,
        "every packet is in the capture"
    );
    assert!(dissected.contains("10.0.0.1") && dissected.contains("TCP"));
    assert!(!dissected.to_lowercase().contains("malformed"));
}

#[test]
fn sim_lists_presets_and_reads_scenario_files() {
    let o = wirekit(&["sim", "--list"]);
    assert!(o.status.success());
    for name in ["tcp-transfer-lossy", "udp-echo-backoff"] {
        assert!(stdout(&o).contains(name), "{name}");
    }
    let o = wirekit(&["sim", "no-such-preset"]);
    assert_eq!(o.status.code(), Some(1));
    // A preset written out as TOML runs exactly as the preset does.
    let shown = wirekit(&["sim", "udp-time", "--show"]);
    assert!(shown.status.success(), "{shown:?}");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, &shown.stdout).expect("write");
    let from_file = wirekit(&["sim", file.to_str().expect("utf-8")]);
    assert!(from_file.status.success(), "{from_file:?}");
    assert_eq!(
        trace_hash(&from_file),
        trace_hash(&wirekit(&["sim", "udp-time"]))
    );
    // And the report is there as JSON for scripts.
    let json = wirekit(&["sim", "udp-time", "--json"]);
    assert!(json.status.success(), "{json:?}");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert_eq!(report["outcome"], "Completed");
}

fn partial_size(dir: &std::path::Path) -> Option<u64> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().ends_with(".wkpart"))
        .and_then(|e| e.metadata().ok())
        .map(|m| m.len())
}

#[test]
fn a_killed_put_leaves_nothing_under_the_final_name_and_resume_completes_it() {
    let s = Server::start(&["--model", "threads"]);
    let t = s.addr("transfer", "tcp");
    let mine = tempfile::tempdir().expect("dir");
    let local = mine.path().join("big.bin");
    // Large enough that the upload is still running when it is killed.
    let body: Vec<u8> = (0..256u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&local, &body).expect("write");
    let l = local.to_str().expect("utf-8");
    let mut client = Command::new(BIN)
        .args(["put", &t, l, "big.bin"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wirekit put");
    let deadline = Instant::now() + Duration::from_secs(60);
    while partial_size(s.root()).unwrap_or(0) < 1 << 20 {
        assert!(Instant::now() < deadline, "the upload never started");
        assert!(
            client.try_wait().expect("wait").is_none(),
            "the upload ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    client.kill().expect("kill the client"); // SIGKILL: no goodbye
    client.wait().expect("reap");
    std::thread::sleep(Duration::from_millis(200));
    let final_path = s.root().join("big.bin");
    assert!(!final_path.exists(), "nothing under the final name");
    let kept = partial_size(s.root()).expect("the partial is kept");
    assert!(kept > 0 && kept < body.len() as u64, "{kept}");

    let o = wirekit(&["put", &t, l, "big.bin", "--resume", "--json"]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert!(v["offset"].as_u64().expect("offset") > 0, "it resumed: {v}");
    assert!(
        std::fs::read(&final_path).expect("stored") == body,
        "byte-exact after the resume"
    );
    assert_eq!(partial_size(s.root()), None, "the partial became the file");
}

#[test]
fn a_100_mib_get_and_put_round_trip_with_digests() {
    let s = Server::start(&[]);
    let t = s.addr("transfer", "tcp");
    let mine = tempfile::tempdir().expect("dir");
    let up = mine.path().join("up.bin");
    let body: Vec<u8> = (0..100u32 << 20)
        .map(|i| (i.wrapping_mul(40_503) >> 7) as u8)
        .collect();
    std::fs::write(&up, &body).expect("write");
    let o = wirekit(&[
        "put",
        &t,
        up.to_str().expect("utf-8"),
        "round.bin",
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let put: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let down = mine.path().join("down.bin");
    let o = wirekit(&[
        "get",
        &t,
        "round.bin",
        down.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(put["digest"], got["digest"]);
    assert_eq!(got["size"], 100u64 << 20);
    assert!(std::fs::read(&down).expect("read") == body);
}

/// Runs `wirekit ARGS` with `input` on standard input.
fn wirekit_with_input(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wirekit");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("feed stdin");
    child.wait_with_output().expect("output")
}

#[test]
fn nc_talks_tcp_and_udp_and_resolve_finds_localhost() {
    let s = Server::start(&[]);
    let o = wirekit_with_input(&["nc", &s.addr("echo", "tcp"), "-w", "2"], b"one\ntwo\n");
    assert!(o.status.success(), "{o:?}");
    assert_eq!(o.stdout, b"one\ntwo\n");
    let o = wirekit_with_input(
        &["nc", "--udp", &s.addr("echo", "udp"), "-w", "1"],
        b"dgram\n",
    );
    assert!(o.status.success(), "{o:?}");
    assert_eq!(o.stdout, b"dgram\n");
    // A WKFT/1 session typed by hand, as the book shows.
    let o = wirekit_with_input(
        &["nc", &s.addr("transfer", "tcp"), "-w", "2"],
        b"HELLO 1\nSTAT hello.txt\nQUIT\n",
    );
    assert_eq!(stdout(&o), "HELLO 1\nSTAT file 6\nBYE\n", "{o:?}");
    let o = wirekit(&["resolve", "localhost"]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(text.contains("127.0.0.1") || text.contains("::1"), "{text}");
}

#[test]
fn completions_for_every_shell_come_from_the_clap_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = wirekit(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {o:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("wirekit"), "{shell}");
        assert!(text.contains("tftp"), "{shell}: subcommands are in it");
    }
    let o = wirekit(&["completions", "tcsh"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// Output into a pipe whose reader went away (`| head -1`) ends the
/// command quietly, as coreutils do: exit 0, no panic.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let mut child = Command::new(BIN)
        .args(["sim", "tcp-transfer-lossy", "--show"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wirekit sim");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a first line");
    // The reader is dropped here, with thousands of lines still to come.
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!first.is_empty());
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// A download that fails before any byte arrives leaves no partial behind.
#[test]
fn a_failed_get_leaves_no_partial() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Port 1 on loopback: nothing listens there, the connection is refused.
    let out = Command::new(BIN)
        .args(["get", "127.0.0.1:1", "x.bin"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run wirekit get");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

//! The `wirekit` binary as a user runs it: help, JSON output, exit codes,
//! and a server that stops cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{BIN, Server, stdout, wirekit};

#[test]
fn every_subcommand_has_help() {
    let top = wirekit(&["--help"]);
    assert!(top.status.success());
    let text = stdout(&top);
    assert!(text.contains("Exit codes"), "{text}");
    for sub in [
        "serve",
        "echo",
        "time",
        "ls",
        "stat",
        "get",
        "put",
        "nc",
        "resolve",
        "sim",
        "completions",
        "tftp get",
        "tftp put",
        "bench echo",
        "bench get",
        "bench idle",
    ] {
        let mut args: Vec<&str> = sub.split(' ').collect();
        args.push("--help");
        let o = wirekit(&args);
        assert!(o.status.success(), "{sub} --help");
        let text = stdout(&o);
        assert!(text.contains("Usage: wirekit "), "{sub}: {text}");
        // Examples to copy, then the exit codes, in every subcommand's help.
        let examples = text.find("Examples:").expect("examples");
        let codes = text.find("Exit codes:").expect("exit codes");
        assert!(examples < codes, "{sub}: {text}");
        assert!(
            text[examples..codes].matches("wirekit ").count() >= 1,
            "{sub}"
        );
    }
    // Serve's port flags say their defaults, though they are optional.
    let serve = stdout(&wirekit(&["serve", "--help"]));
    for port in ["7007", "7013", "7037", "7012", "7021", "7069"] {
        assert!(serve.contains(&format!("[default: {port}")), "{port}");
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

/// What bash offers for `words` (the last one being completed), with the
/// script `wirekit completions bash` prints loaded.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let o = Command::new("bash")
        .args([
            "--norc",
            "-c",
            r#"source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
               COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
               _wirekit wirekit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
               printf '%s\n' "${COMPREPLY[@]}""#,
            "bash",
        ])
        .arg(script)
        .args(words)
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut offered: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    offered.retain(|w| !w.is_empty());
    offered.sort();
    offered
}

/// bash completes the simulator's presets and the subcommands, at every level.
#[test]
fn bash_completion_offers_preset_and_subcommand_names() {
    let presets: Vec<String> = stdout(&wirekit(&["sim", "--list"]))
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(presets.len() > 5, "{presets:?}");
    let o = wirekit(&["completions", "bash"]);
    assert!(o.status.success(), "{o:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("wirekit.bash");
    std::fs::write(&script, &o.stdout).expect("write");
    let text = stdout(&o);
    for name in &presets {
        assert!(text.contains(name.as_str()), "{name} is not in the script");
    }
    // Every preset after `sim`, and those that match what is typed.
    let offered = bash_completes(&script, &["wirekit", "sim", ""]);
    for name in &presets {
        assert!(offered.contains(name), "{name} not offered: {offered:?}");
    }
    let mut tcp: Vec<String> = presets
        .iter()
        .filter(|p| p.starts_with("tcp-"))
        .cloned()
        .collect();
    tcp.sort();
    assert!(!tcp.is_empty());
    assert_eq!(bash_completes(&script, &["wirekit", "sim", "tcp-"]), tcp);
    // Subcommands, nested ones included.
    let top = bash_completes(&script, &["wirekit", ""]);
    for sub in [
        "serve",
        "get",
        "put",
        "ls",
        "tftp",
        "sim",
        "bench",
        "completions",
    ] {
        assert!(top.contains(&sub.to_owned()), "{sub} not offered: {top:?}");
    }
    let tftp = bash_completes(&script, &["wirekit", "tftp", ""]);
    for sub in ["get", "put"] {
        assert!(
            tftp.contains(&sub.to_owned()),
            "{sub} not offered: {tftp:?}"
        );
    }
    assert_eq!(bash_completes(&script, &["wirekit", "se"]), ["serve"]);
}

/// A scenario file is still a scenario, though the presets are the
/// argument's possible values: clap takes any text there.
#[test]
fn sim_takes_a_file_where_presets_are_completed() {
    let dir = tempfile::tempdir().expect("dir");
    let o = run_in(dir.path(), &["sim", "no-such-file.toml"], None);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("invalid value"), "clap refused it: {err}");
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

fn run_in(dir: &std::path::Path, args: &[&str], input: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wirekit");
    if let Some(bytes) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(bytes).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

/// `get` writes where cp and scp would: into a directory, `.`, or `-` for
/// standard output; URLs name the server and the file at once; `put -`
/// reads a pipe; `nc HOST PORT` as netcat users type it.
#[test]
fn destinations_urls_and_pipes_work_as_users_expect() {
    let s = Server::start(&[]);
    let wkft = s.addr("transfer", "tcp");
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::create_dir(d.join("into")).expect("mkdir");
    let ok = |o: &Output| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for target in ["into", "into/", "."] {
        let o = run_in(d, &["get", &wkft, "hello.txt", target], None);
        ok(&o);
        let want = if target == "." {
            d.join("hello.txt")
        } else {
            d.join("into/hello.txt")
        };
        assert_eq!(std::fs::read(&want).expect(target), b"hello\n", "{target}");
        std::fs::remove_file(&want).expect("rm");
    }
    // Standard output holds the bytes; the summary goes to standard error.
    let o = run_in(d, &["get", &format!("wkft://{wkft}/hello.txt"), "-"], None);
    ok(&o);
    assert_eq!(o.stdout, b"hello\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains("hello.txt -> -"));
    // A pipe is spooled, so the upload can announce its size.
    let o = run_in(d, &["put", &wkft, "-", "piped.txt"], Some(b"from a pipe\n"));
    ok(&o);
    assert_eq!(
        std::fs::read(s.root().join("piped.txt")).expect("stored"),
        b"from a pipe\n"
    );
    // put prints local -> remote.
    std::fs::write(d.join("up.txt"), b"up\n").expect("write");
    let o = run_in(
        d,
        &["put", &format!("wkft://{wkft}/copy.txt"), "up.txt"],
        None,
    );
    ok(&o);
    assert!(
        stdout(&o).starts_with("up.txt -> copy.txt: 3 bytes"),
        "{}",
        stdout(&o)
    );
    // TFTP to standard output, by URL.
    let tftp = s.addr("tftp", "udp");
    let o = run_in(
        d,
        &["tftp", "get", &format!("tftp://{tftp}/hello.txt"), "-"],
        None,
    );
    ok(&o);
    assert_eq!(o.stdout, b"hello\n");
    // netcat's HOST PORT.
    let echo = s.addr("echo", "tcp");
    let (host, port) = echo.rsplit_once(':').expect("host:port");
    let o = run_in(d, &["nc", host, port, "-w", "0.5"], Some(b"ping\n"));
    ok(&o);
    assert_eq!(stdout(&o), "ping\n");
    // Nothing else was left in the working directory.
    let mut left: Vec<_> = std::fs::read_dir(d)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["into", "up.txt"]);
}

/// A URL names a file as curl would: `%20` is a space, the query and the
/// fragment are no part of the name; over WKFT and TFTP alike.
#[test]
fn percent_escapes_in_urls_name_the_file_they_spell() {
    let s = Server::start(&[]);
    std::fs::write(s.root().join("with space.txt"), b"spaced\n").expect("write");
    let (wkft, tftp) = (s.addr("transfer", "tcp"), s.addr("tftp", "udp"));
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [
        vec![
            "get".to_owned(),
            format!("wkft://{wkft}/with%20space.txt"),
            "-".into(),
        ],
        vec![
            "get".into(),
            format!("wkft://{wkft}/with%20space.txt?v=1#top"),
            "-".into(),
        ],
        vec![
            "tftp".into(),
            "get".into(),
            format!("tftp://{tftp}/with%20space.txt"),
            "-".into(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run_in(dir.path(), &args, None);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.stdout, b"spaced\n", "{args:?}");
    }
    // Into a file, it takes the decoded name.
    let o = run_in(
        dir.path(),
        &["get", &format!("wkft://{wkft}/with%20space.txt")],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(dir.path().join("with space.txt")).expect("kept"),
        b"spaced\n"
    );
    // And an upload by URL is stored under the decoded name.
    let o = run_in(
        dir.path(),
        &[
            "put",
            &format!("wkft://{wkft}/up%20load.txt"),
            "with space.txt",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(s.root().join("up load.txt")).expect("stored"),
        b"spaced\n"
    );
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Ctrl-C in the middle of a download keeps the partial and prints the
/// exact command that continues it; that command completes the file.
#[test]
fn an_interrupted_get_says_what_it_kept_and_how_to_resume() {
    let s = Server::start(&[]);
    let body: Vec<u8> = (0..300_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(s.root().join("big.bin"), &body).expect("write");
    let dir = tempfile::tempdir().expect("temp dir");
    let part = dir.path().join(".big.bin.wkpart");
    let wkft = s.addr("transfer", "tcp");
    let child = Command::new(BIN)
        .args(["get", &wkft, "big.bin"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wirekit get");
    wait_for("the first bytes", || {
        std::fs::metadata(&part).is_ok_and(|m| m.len() > 0)
    });
    signal(child.id(), "-INT");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("bytes kept in"), "{err}");
    let command = err
        .lines()
        .find_map(|l| l.strip_prefix("continue with: "))
        .unwrap_or_else(|| panic!("no resume command in {err}"));
    assert_eq!(command, format!("wirekit get --resume {wkft} big.bin"));
    assert!(
        !dir.path().join("big.bin").exists(),
        "nothing under the final name"
    );
    let kept = std::fs::metadata(&part).expect("the partial stays").len();
    // Without --resume or --restart the partial is not thrown away.
    let again = run_in(dir.path(), &["get", &wkft, "big.bin"], None);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(std::fs::metadata(&part).expect("still kept").len(), kept);
    let words: Vec<&str> = command.split(' ').skip(1).collect();
    let resumed = run_in(dir.path(), &words, None);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        stdout(&resumed).contains(&format!("resumed at {kept}")),
        "{}",
        stdout(&resumed)
    );
    assert!(std::fs::read(dir.path().join("big.bin")).expect("complete") == body);
    assert!(!part.exists());
}

/// The same for an upload: the server keeps the partial, the client says
/// how to continue, a plain put refuses to discard it.
#[test]
fn an_interrupted_put_says_how_to_resume() {
    let s = Server::start(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let body: Vec<u8> = (0..300_000_000u32)
        .map(|i| (i.wrapping_mul(40_503) >> 8) as u8)
        .collect();
    std::fs::write(dir.path().join("up.bin"), &body).expect("write");
    let server_part = s.root().join(".up.bin.wkpart");
    let wkft = s.addr("transfer", "tcp");
    let child = Command::new(BIN)
        .args(["put", &wkft, "up.bin", "--restart"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wirekit put");
    wait_for("the first bytes on the server", || {
        std::fs::metadata(&server_part).is_ok_and(|m| m.len() > 0)
    });
    signal(child.id(), "-TERM");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!(
            "continue with: wirekit put --resume {wkft} up.bin"
        )),
        "{err}"
    );
    let plain = run_in(dir.path(), &["put", &wkft, "up.bin"], None);
    assert_eq!(plain.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("--resume"));
    // The server lets go of the upload once it has read what was in flight.
    let mut resumed = run_in(dir.path(), &["put", "--resume", &wkft, "up.bin"], None);
    let deadline = Instant::now() + Duration::from_secs(10);
    while String::from_utf8_lossy(&resumed.stderr).contains("423 ") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        resumed = run_in(dir.path(), &["put", "--resume", &wkft, "up.bin"], None);
    }
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        stdout(&resumed).contains("resumed at"),
        "{}",
        stdout(&resumed)
    );
    assert!(std::fs::read(s.root().join("up.bin")).expect("stored") == body);
}

/// SIGTERM shuts a server down as Ctrl-C does; its log, written to a file,
/// has no colour codes and does not count shutdown's own wake-ups as
/// clients; a client with -v tells its connection.
#[test]
fn serve_logs_plainly_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = std::fs::File::create(dir.path().join("serve.log")).expect("log");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--any-port",
            "--json",
            "--only",
            "echo",
            "--model",
            "threads",
        ])
        .env("RUST_LOG", "debug")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let listening: Vec<serde_json::Value> = serde_json::from_str(&line).expect("JSON");
    let echo = listening
        .iter()
        .find(|l| l["proto"] == "tcp")
        .and_then(|l| l["addr"].as_str())
        .expect("echo")
        .to_owned();
    let o = wirekit(&["-v", "echo", &echo, "hi"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("connected"));
    signal(child.id(), "-TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let text = std::fs::read_to_string(dir.path().join("serve.log")).expect("log");
    assert!(!text.contains('\x1b'), "colour codes in a log file: {text}");
    assert!(text.contains("shutting down"), "{text}");
    assert_eq!(
        text.matches("accepted").count(),
        1,
        "one client, one accept: {text}"
    );
}

/// `put --force` replaces a file on a WKFT/1.1 server (the old one stays
/// until the new one is verified); `rm` deletes it.
#[test]
fn put_force_replaces_and_rm_deletes() {
    let s = Server::start(&[]);
    let wkft = s.addr("transfer", "tcp");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("hello.txt"), b"replaced\n").expect("write");
    let plain = run_in(dir.path(), &["put", &wkft, "hello.txt"], None);
    assert_eq!(plain.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("add --force"));
    assert_eq!(
        std::fs::read(s.root().join("hello.txt")).expect("kept"),
        b"hello\n"
    );
    let forced = run_in(dir.path(), &["put", &wkft, "hello.txt", "--force"], None);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(
        std::fs::read(s.root().join("hello.txt")).expect("replaced"),
        b"replaced\n"
    );
    let rm = run_in(dir.path(), &["rm", &wkft, "hello.txt"], None);
    assert!(
        rm.status.success(),
        "{}",
        String::from_utf8_lossy(&rm.stderr)
    );
    assert_eq!(stdout(&rm), "deleted hello.txt\n");
    assert!(!s.root().join("hello.txt").exists());
    let again = run_in(dir.path(), &["rm", &wkft, "hello.txt"], None);
    assert_eq!(again.status.code(), Some(4));
}

/// A simulated workload that fails says so in its JSON report, which stays
/// the one JSON document on standard output (the exit code tells too).
#[test]
fn a_failed_simulation_prints_one_json_report() {
    let o = wirekit(&["sim", "udp-echo-backoff", "--seed", "7", "--json"]);
    assert_eq!(o.status.code(), Some(5));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert!(
        report["outcome"].is_object() || report["outcome"].is_string(),
        "{report}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("server down"));
}

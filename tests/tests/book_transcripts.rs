//! Replays every "Try it yourself" transcript in the book through the real
//! `wirekit` command line, against servers started for the purpose, and
//! checks that internal links and their anchors resolve.
//!
//! # The transcript convention
//!
//! A fenced block whose info string starts with `console,replay`:
//!
//! ````text
//! ```console,replay
//! $ wirekit echo 127.0.0.1:7007 hello
//! hello
//! ```
//! ````
//!
//! - `$ ` starts a command (one line, run by `sh`, stderr merged into
//!   stdout); the lines up to the next `$ ` are what it prints.
//! - `[..]` in an expected line matches any text (times, digests, sizes of
//!   things that vary); `[exit N]` as the last line expects exit status N,
//!   otherwise the command must succeed.
//! - A command followed by `> ` and `< ` lines is a session: each `>` line
//!   is typed (written to its input) after the `<` lines before it arrived.
//! - Each block gets fresh servers (`wirekit serve`) on free ports and a
//!   fresh store holding `hello.txt`, as the lab's does; the standard ports
//!   (7007, 7012, 7013, 7021, 7037, 7069) in commands are swapped for the
//!   real ones, and back in the output. `serve=ARG` items in the info
//!   string are passed to `wirekit serve` (`console,replay,serve=--echo-mode=hello`);
//!   `root=empty` starts the store without `hello.txt`.
//! - Commands run in an empty folder of their own, with `wirekit` (and the
//!   capstone's `wirekit-kv`) first on PATH and `$WIREKIT_LAB_ROOT` naming
//!   the store's folder.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SERVICES: [(&str, u16, &str); 6] = [
    ("echo", 7007, "--echo-port"),
    ("stamp", 7012, "--stamp-port"),
    ("daytime", 7013, "--daytime-port"),
    ("transfer", 7021, "--transfer-port"),
    ("time", 7037, "--time-port"),
    ("tftp", 7069, "--tftp-port"),
];
const LAB_FILE: (&str, &str) = ("hello.txt", "Hello from the Wirekit lab!\n");
const STEP: Duration = Duration::from_secs(20);

/// A named check: how many things it looked at, or what was wrong.
type Check = (&'static str, fn() -> Result<usize, String>);

/// The checks, named as libtest would name them.
const CHECKS: [Check; 4] = [
    ("internal_links_and_anchors_resolve", links_and_anchors),
    ("the_replayers_own_rules", rules),
    (
        "every_chapter_has_a_diagram_a_try_it_and_three_exercises",
        chapter_parts,
    ),
    ("every_marked_transcript_replays", transcripts),
];

/// How many things each check that passed looked at, printed after them.
static COUNTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn main() {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    match Path::new(&argv0).file_name().and_then(|n| n.to_str()) {
        Some("wirekit") => std::process::exit(wirekit::cli::main()),
        Some("wirekit-kv") => std::process::exit(wirekit_capstone::cli::main()),
        _ => {}
    }
    let mut args = libtest_mimic::Arguments::from_args();
    // One at a time unless asked otherwise: each transcript starts its own
    // servers and commands, and two would share the machine's two cores.
    args.test_threads.get_or_insert(1);
    let trials = CHECKS
        .iter()
        .map(|&(name, check)| {
            libtest_mimic::Trial::test(name, move || {
                let n = check()?;
                if let Ok(mut counts) = COUNTS.lock() {
                    counts.push(format!("{name}: {n} checked"));
                }
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if let Ok(counts) = COUNTS.lock() {
        for line in counts.iter() {
            println!("{line}");
        }
    }
    conclusion.exit();
}

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src")
}

fn chapters() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir)
            .expect("book/src is readable")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&book_src(), &mut out);
    out.sort();
    out
}

// ANCHOR: blocks
/// One transcript: where it is, the `serve` arguments, and its lines.
struct Transcript {
    place: String,
    serve: Vec<String>,
    empty_root: bool,
    lines: Vec<String>,
}

fn transcripts_in(path: &Path) -> Vec<Transcript> {
    let text = std::fs::read_to_string(path).expect("chapter is readable");
    let name = path
        .strip_prefix(book_src())
        .unwrap_or(path)
        .display()
        .to_string();
    let mut found = Vec::new();
    let mut current: Option<Transcript> = None;
    for (n, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match current.take() {
            Some(t) if fence => found.push(t),
            Some(mut t) => {
                t.lines.push(line.to_string());
                current = Some(t);
            }
            None if fence => {
                let info = line.trim_start().trim_start_matches('`');
                let mut items = info.split(',').map(str::trim);
                if items.next() == Some("console") && items.next() == Some("replay") {
                    let items: Vec<&str> = items.collect();
                    let empty_root = items.contains(&"root=empty");
                    let serve = items
                        .into_iter()
                        .filter_map(|i| i.strip_prefix("serve="))
                        .map(String::from)
                        .collect();
                    let place = format!("{name}:{}", n + 1);
                    current = Some(Transcript {
                        place,
                        serve,
                        empty_root,
                        lines: Vec::new(),
                    });
                }
            }
            None => {}
        }
    }
    found
}
// ANCHOR_END: blocks

/// Does `line` match `pattern`, where `[..]` stands for any text?
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Replaces each whole number `from` in `text` by `to`.
fn swap_numbers(text: &str, map: &BTreeMap<u16, u16>) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        let swapped = digits
            .parse::<u16>()
            .ok()
            .and_then(|n| map.get(&n))
            .map(u16::to_string);
        out.push_str(swapped.as_deref().unwrap_or(digits));
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// A port free for both TCP and UDP on 127.0.0.1 (the services use both).
fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("a free TCP port");
        let port = tcp.local_addr().expect("its address").port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `wirekit serve` on free ports, the way a block asked for it.
struct Lab {
    server: Child,
    /// Standard port → the one used here.
    ports: BTreeMap<u16, u16>,
    root: tempfile::TempDir,
    work: tempfile::TempDir,
    /// The server's standard error, shown if it does not start.
    _logs: tempfile::TempDir,
}

impl Lab {
    /// Starts the servers; a port taken between our probe and the server's
    /// bind (another test may grab it) gets a second and third try.
    fn start(bin: &Path, extra: &[String], empty_root: bool) -> Result<Lab, String> {
        let mut last = String::new();
        for _ in 0..3 {
            match Lab::try_start(bin, extra, empty_root) {
                Ok(lab) => return Ok(lab),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn try_start(bin: &Path, extra: &[String], empty_root: bool) -> Result<Lab, String> {
        let root = tempfile::tempdir().map_err(|e| e.to_string())?;
        if !empty_root {
            std::fs::write(root.path().join(LAB_FILE.0), LAB_FILE.1).map_err(|e| e.to_string())?;
        }
        let work = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .args(wirekit_tests::native::runtime_args())
            .arg("--json")
            .arg("--root")
            .arg(root.path());
        let mut ports = BTreeMap::new();
        for (_, standard, flag) in SERVICES {
            let port = loop {
                let p = free_port();
                if !ports.values().any(|&q| q == p) {
                    break p;
                }
            };
            ports.insert(standard, port);
            cmd.arg(flag).arg(port.to_string());
        }
        // Beside, not in, the folder the commands run in (a transcript may
        // list it) or the root (LIST shows it).
        let logs = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log_path = logs.path().join("serve.log");
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        cmd.args(extra).stdout(Stdio::piped()).stderr(log);
        let mut server = cmd
            .spawn()
            .map_err(|e| format!("cannot start wirekit serve: {e}"))?;
        let mut ready = String::new();
        let stdout = server.stdout.take().expect("piped");
        BufReader::new(stdout)
            .read_line(&mut ready)
            .map_err(|e| e.to_string())?;
        if !ready.starts_with('[') {
            let _ = server.kill();
            let _ = server.wait();
            let why = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!(
                "wirekit serve {extra:?} did not start: {ready:?}, stderr: {why}"
            ));
        }
        Ok(Lab {
            server,
            ports,
            root,
            work,
            _logs: logs,
        })
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// The folder holding a `wirekit` to put first on PATH.
fn wirekit_dir() -> (tempfile::TempDir, PathBuf) {
    let (dir, link) = wirekit_tests::process::wirekit_link();
    // The capstone's command, for its chapter: this executable again,
    // whatever WIREKIT_BIN says.
    let this = std::env::current_exe().expect("this test's executable");
    std::os::unix::fs::symlink(this, dir.path().join("wirekit-kv"))
        .expect("a link named wirekit-kv");
    (dir, link)
}

fn shell(lab: &Lab, bin_dir: &Path, command: &str) -> Command {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("exec 2>&1; {}", swap_numbers(command, &lab.ports)))
        .current_dir(lab.work.path())
        .env("PATH", format!("{}:{path}", bin_dir.display()))
        .env("WIREKIT_LAB_ROOT", lab.root.path());
    cmd
}

fn wait_bounded(child: &mut Child) -> Result<ExitStatus, String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if start.elapsed() > STEP {
            let _ = child.kill();
            return Err("did not finish within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Checks what a command printed (already mapped back to the standard
/// ports) against the expected lines, the last of which may be `[exit N]`.
fn compare(got: &[String], status: ExitStatus, expected: &[String]) -> Result<(), String> {
    let mut expected = expected.to_vec();
    let want_code = match expected
        .last()
        .and_then(|l| l.strip_prefix("[exit ")?.strip_suffix(']')?.parse().ok())
    {
        Some(code) => {
            expected.pop();
            code
        }
        None => 0,
    };
    let same = got.len() == expected.len() && got.iter().zip(&expected).all(|(g, e)| matches(e, g));
    if !same || status.code() != Some(want_code) {
        return Err(format!(
            "expected (exit {want_code}):\n{}\ngot ({status}):\n{}",
            expected.join("\n"),
            got.join("\n")
        ));
    }
    Ok(())
}

fn run_plain(lab: &Lab, bin_dir: &Path, command: &str, expected: &[String]) -> Result<(), String> {
    let mut child = shell(lab, bin_dir, command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stdout.read_to_end(&mut all);
        let _ = tx.send(all);
    });
    let status = wait_bounded(&mut child)?;
    // A command that left a process behind holding its output must not
    // hang the replay.
    let out = rx
        .recv_timeout(STEP)
        .map_err(|_| "its output stayed open after it exited (a process left behind?)")?;
    let back: BTreeMap<u16, u16> = lab.ports.iter().map(|(a, b)| (*b, *a)).collect();
    let text = swap_numbers(&String::from_utf8_lossy(&out), &back);
    let got: Vec<String> = text.lines().map(String::from).collect();
    compare(&got, status, expected)
}

// ANCHOR: session
/// A typed session: `>` lines go in one at a time, each after the `<`
/// lines before it have come out.
fn run_session(lab: &Lab, bin_dir: &Path, command: &str, lines: &[String]) -> Result<(), String> {
    let mut child = shell(lab, bin_dir, command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let back: BTreeMap<u16, u16> = lab.ports.iter().map(|(a, b)| (*b, *a)).collect();
    for line in lines {
        let strip = |l: &str, p: &str| {
            l.strip_prefix(p)
                .map(|t| t.strip_prefix(' ').unwrap_or(t).to_string())
        };
        if let Some(typed) = strip(line, ">") {
            stdin
                .write_all(format!("{typed}\n").as_bytes())
                .map_err(|e| e.to_string())?;
            stdin.flush().map_err(|e| e.to_string())?;
        } else if let Some(want) = strip(line, "<") {
            let got = rx
                .recv_timeout(STEP)
                .map_err(|_| format!("no line came; expected {want:?}"))?;
            let got = swap_numbers(&got, &back);
            if !matches(&want, &got) {
                return Err(format!("expected {want:?}, got {got:?}"));
            }
        } else {
            return Err(format!("a session line must start with > or <: {line:?}"));
        }
    }
    drop(stdin); // end of input, as Ctrl-D
    let status = wait_bounded(&mut child)?;
    let rest: Vec<String> = rx.try_iter().collect();
    compare(&rest, status, &[])
}
// ANCHOR_END: session

fn replay(t: &Transcript, bin: &Path, bin_dir: &Path) -> Result<usize, String> {
    let lab = Lab::start(bin, &t.serve, t.empty_root)?;
    let mut commands = 0;
    let mut i = 0;
    while i < t.lines.len() {
        let Some(command) = t.lines[i].strip_prefix("$ ") else {
            return Err(format!("expected a `$ ` command, found {:?}", t.lines[i]));
        };
        let mut j = i + 1;
        while j < t.lines.len() && !t.lines[j].starts_with("$ ") {
            j += 1;
        }
        let body = &t.lines[i + 1..j];
        let session = body.iter().any(|l| l.starts_with('>'));
        let result = if session {
            run_session(&lab, bin_dir, command, body)
        } else {
            run_plain(&lab, bin_dir, command, body)
        };
        result.map_err(|e| format!("{}: `{command}`\n{e}", t.place))?;
        commands += 1;
        i = j;
    }
    Ok(commands)
}

fn transcripts() -> Result<usize, String> {
    let (dir, bin) = wirekit_dir();
    let all: Vec<Transcript> = chapters().iter().flat_map(|c| transcripts_in(c)).collect();
    if all.is_empty() {
        return Err("no transcript is marked `console,replay`".into());
    }
    let mut errors = Vec::new();
    let mut commands = 0;
    for t in &all {
        match replay(t, &bin, dir.path()) {
            Ok(n) => commands += n,
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(commands)
    } else {
        Err(errors.join("\n\n"))
    }
}

/// mdBook's id for a heading: lower case, spaces to `-`, other punctuation dropped.
fn heading_id(heading: &str) -> String {
    let text: String = heading.replace('`', "");
    let mut id = String::new();
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            id.extend(c.to_lowercase());
        } else if c == ' ' {
            id.push('-');
        }
    }
    id
}

fn anchors_of(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut ids: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            let base = heading_id(line.trim_start_matches('#'));
            let n = ids
                .iter()
                .filter(|i| **i == base || i.starts_with(&format!("{base}-")))
                .count();
            ids.push(if n == 0 { base } else { format!("{base}-{n}") });
        }
    }
    ids
}

fn links_and_anchors() -> Result<usize, String> {
    let mut errors = Vec::new();
    let mut checked = 0;
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).expect("readable");
        let mut in_code = false;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            let mut rest = line;
            while let Some(i) = rest.find("](").filter(|_| !in_code) {
                let after = &rest[i + 2..];
                let Some(j) = after.find(')') else { break };
                let link = &after[..j];
                rest = &after[j..];
                if link.contains("://") || link.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = link.split_once('#').unwrap_or((link, ""));
                let target = if file.is_empty() {
                    chapter.clone()
                } else {
                    chapter.parent().expect("a folder").join(file)
                };
                checked += 1;
                if !target.exists() {
                    errors.push(format!("{}: no file {link}", chapter.display()));
                } else if !anchor.is_empty()
                    && target.extension().is_some_and(|e| e == "md")
                    && !anchors_of(&target).iter().any(|a| a == anchor)
                {
                    errors.push(format!(
                        "{}: no heading #{anchor} in {file}",
                        chapter.display()
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors.join("\n"))
    }
}

/// The matching and port-swapping rules the transcripts rely on.
fn rules() -> Result<usize, String> {
    let map: BTreeMap<u16, u16> = [(7007, 41234)].into_iter().collect();
    let cases = [
        (matches("a [..] c", "a b c"), true),
        (matches("a [..] c", "a c"), false),
        (matches("[..]", ""), true),
        (matches("x[..]y[..]z", "x1y2z"), true),
        (matches("x[..]y[..]z", "xzy"), false),
        (matches("exact", "exact "), false),
        (
            swap_numbers("nc 127.0.0.1 7007", &map) == "nc 127.0.0.1 41234",
            true,
        ),
        (
            swap_numbers("70070 17007 7007:", &map) == "70070 17007 41234:",
            true,
        ),
        (
            heading_id("TCP: a server and a client") == "tcp-a-server-and-a-client",
            true,
        ),
        (
            heading_id("From Python's `socket` to std::net") == "from-pythons-socket-to-stdnet",
            true,
        ),
    ];
    match cases.iter().position(|(got, want)| got != want) {
        Some(i) => Err(format!("rule {} does not hold", i + 1)),
        None => Ok(cases.len()),
    }
}

/// Chapters that need not have every part: the front and back matter, and
/// the specification (a reference, not a lesson).
const PARTS_EXEMPT: [&str; 4] = [
    "SUMMARY.md",
    "introduction.md",
    "solutions.md",
    "spec/file-transfer.md",
];

/// Every chapter: a mermaid diagram, a "Try it yourself" section, and an
/// "Exercises" section with three numbered exercises, each with a hint.
fn chapter_parts() -> Result<usize, String> {
    let mut errors = Vec::new();
    let mut checked = 0;
    for chapter in chapters() {
        let name = chapter
            .strip_prefix(book_src())
            .unwrap_or(&chapter)
            .display()
            .to_string();
        if PARTS_EXEMPT.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&chapter).expect("readable");
        let tables_only = name == "tutorial-map.md"; // maps topics, describes no exchange
        if !tables_only && !text.contains("```mermaid") {
            errors.push(format!("{name}: no mermaid diagram"));
        }
        if !text.contains("\n## Try it yourself\n") {
            errors.push(format!("{name}: no \"Try it yourself\" section"));
        }
        match text.split_once("\n## Exercises\n") {
            None => errors.push(format!("{name}: no exercises")),
            Some((_, rest)) => {
                let section = rest.split("\n## ").next().unwrap_or_default();
                let numbered = ["1. ", "2. ", "3. "]
                    .iter()
                    .all(|n| section.lines().any(|l| l.starts_with(n)));
                if !numbered || section.matches("*Hint:*").count() < 3 {
                    errors.push(format!(
                        "{name}: exercises must be three, each with a *Hint:*"
                    ));
                }
            }
        }
        checked += 1;
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors.join("\n"))
    }
}

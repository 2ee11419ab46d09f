//! `cargo xtask lab`: builds the browser lab and the book and serves them
//! (the lab at `/`, the book at `/book/`), with the protocol servers beside
//! them, until Ctrl-C. `--check` starts everything, probes it and stops: the
//! proof, in CI, that the README's first command works.

use crate::serve::{Site, WebServer};
use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;
use wirekit::client::{echo, time, transfer};
use wirekit::server::{self, Config, Running};
use wirekit::services::{Proto, Service};
use wirekit_core::retry::BackoffConfig;
use wirekit_core::timestamp::Service as Clock;

#[derive(clap::Args)]
pub struct LabArgs {
    /// Where to serve the book and the browser lab.
    #[arg(long, default_value = "127.0.0.1:7080")]
    web: String,
    /// Start everything, check that it answers, then stop.
    #[arg(long)]
    check: bool,
    /// The file server's root (default: target/lab-files, with a sample file).
    #[arg(long)]
    root: Option<std::path::PathBuf>,
    /// Free ports instead of the default ones (7007, 7013, …).
    #[arg(long)]
    any_port: bool,
}

impl LabArgs {
    /// `--check` on free ports, for `cargo xtask test`.
    pub fn check() -> Self {
        LabArgs {
            web: "127.0.0.1:0".into(),
            check: true,
            root: None,
            any_port: true,
        }
    }
}

/// The file server's root, with something in it to download.
fn lab_root(args: &LabArgs) -> Result<PathBuf> {
    let root = match &args.root {
        Some(r) => r.clone(),
        None => crate::root().join("target").join("lab-files"),
    };
    std::fs::create_dir_all(&root).with_context(|| format!("create {}", root.display()))?;
    let hello = root.join("hello.txt");
    if !hello.exists() {
        std::fs::write(&hello, "Hello from the Wirekit lab!\n")?;
    }
    Ok(root)
}

/// Starts `wirekit serve`'s servers in this process.
fn servers(args: &LabArgs) -> Result<(Running, Config)> {
    let mut config = Config::new(lab_root(args)?);
    if args.any_port {
        config = Config::ephemeral(config.root);
    }
    let running =
        server::start(&config).context("cannot start the servers (is another lab running?)")?;
    Ok((running, config))
}

/// Asks every service once, with Wirekit's own clients.
fn probe(running: &Running) -> Result<()> {
    let at = |s, p| running.addr(s, p).context("a service is missing");
    let t = Duration::from_secs(10);
    let echoed = echo::tcp(at(Service::Echo, Proto::Tcp)?, &["lab".into()], t)?;
    if echoed.first().map(|r| r.reply.as_str()) != Some("lab") {
        bail!("echo answered {echoed:?}");
    }
    echo::udp(
        at(Service::Echo, Proto::Udp)?,
        &["lab".into()],
        BackoffConfig::default(),
        |_, _| {},
    )?;
    time::tcp(at(Service::Time, Proto::Tcp)?, Clock::Time, t)?;
    time::udp(
        at(Service::Daytime, Proto::Udp)?,
        Clock::Daytime,
        BackoffConfig::default(),
    )?;
    let opts = transfer::Options {
        addr: at(Service::Transfer, Proto::Tcp)?,
        timeout: t,
        progress: false,
    };
    let entries = transfer::list(&opts, None)?;
    if !entries.iter().any(|e| e.name == "hello.txt") {
        bail!("the file server does not list hello.txt: {entries:?}");
    }
    Ok(())
}

/// Everything `cargo xtask lab` runs, started.
pub struct Lab {
    pub running: Running,
    pub web: WebServer,
}

/// Builds the site and the `wirekit` command, starts the servers and the web
/// server, and prints the banner.
pub fn start(args: &LabArgs) -> Result<Lab> {
    // The book embeds the lab's widgets, so this builds the lab too.
    let book = crate::book::build()?;
    // The `wirekit` command itself, for the banner's "try" lines.
    crate::cargo(&["build", "-q", "-p", "wirekit"])?;
    let (running, config) = servers(args)?;
    let web = WebServer::start(
        &args.web,
        Site {
            lab: crate::web::out_dir(),
            book,
        },
    )?;
    let url = format!("http://{}/", web.addr());
    println!();
    println!("Wirekit lab");
    println!("  the browser lab: {url}   (try {url}?preset=tcp-transfer-lossy&seed=7)");
    println!("  the book:        {url}book/");
    print!("{}", running.banner(&config));
    println!(
        "  the wirekit command: {} (or: cargo install --path native)",
        crate::root().join("target/debug/wirekit").display()
    );
    Ok(Lab { running, web })
}

impl Lab {
    /// Stops the servers.
    pub fn stop(self) {
        self.running.stop();
        self.web.stop();
    }
}

pub fn run(args: LabArgs) -> Result<()> {
    let lab = start(&args)?;
    if args.check {
        check(&lab)?;
        lab.stop();
        return Ok(());
    }
    println!("Press Ctrl-C to stop.");
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    let _ = rx.recv();
    println!("stopping");
    lab.stop();
    Ok(())
}

/// The lab, the book and every protocol server answer.
pub fn check(lab: &Lab) -> Result<()> {
    let addr = lab.web.addr();
    let page = http_get(addr, "/").context("the lab's web server does not answer")?;
    if !page.contains("Wirekit") {
        bail!("the lab's front page does not look like the lab");
    }
    let book = http_get(addr, "/book/").context("the book is not served")?;
    if !book.contains("Wirekit") {
        bail!("/book/ does not look like the book");
    }
    let wasm = http_get(addr, "/pkg/wirekit_wasm_bg.wasm")?;
    if !wasm
        .to_ascii_lowercase()
        .contains("content-type: application/wasm")
    {
        bail!("the simulator is not served as application/wasm");
    }
    println!("lab check: the lab answers at http://{addr}/ and the book at http://{addr}/book/");
    probe(&lab.running).context("the lab's servers do not answer")?;
    println!("lab check: echo, time, daytime and file transfer answer");
    idle(lab)?;
    Ok(())
}

/// The lab left alone uses almost no CPU, and still answers (issue #30: a
/// lab left running for an hour once spun both cores and stopped answering
/// TCP). The servers run in this process, so its own CPU time is theirs.
fn idle(lab: &Lab) -> Result<()> {
    let window = Duration::from_secs(5);
    let before = cpu_time()?;
    std::thread::sleep(window);
    let used = cpu_time()? - before;
    let share = used.as_secs_f64() * 100.0 / window.as_secs_f64();
    if used >= window / 100 {
        bail!(
            "the idle lab used {used:?} of CPU in {window:?} ({share:.1} % of a core; at most 1 %)"
        );
    }
    probe(&lab.running).context("the lab's servers do not answer after idling")?;
    println!("lab check: idle for {window:?}, {share:.2} % of a core, and still answering");
    Ok(())
}

/// This process's user and system CPU time, from `/proc/self/stat` (in
/// USER_HZ ticks: 100 a second on Linux).
fn cpu_time() -> Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("read /proc/self/stat")?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let tick = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .context("an unexpected /proc/self/stat")
    };
    Ok(Duration::from_millis(10 * (tick(11)? + tick(12)?)))
}

/// A minimal HTTP/1.0 GET, enough to probe our own static server.
fn http_get(addr: std::net::SocketAddr, path: &str) -> Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes)?;
    let body = String::from_utf8_lossy(&bytes).into_owned();
    if !body.starts_with("HTTP/1.1 200") && !body.starts_with("HTTP/1.0 200") {
        bail!("GET {path}: {}", body.lines().next().unwrap_or("no answer"));
    }
    Ok(body)
}

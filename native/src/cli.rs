//! The command line: `wirekit serve` and the clients.

use crate::client::{ClientError, resolve};
use crate::client::{echo, nc, time, transfer};
use crate::drive::Model;
use crate::server::{self, Config};
use crate::services::{EchoMode, Service};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use wirekit_core::retry::BackoffConfig;
use wirekit_core::timestamp::Service as Clock;

/// Writes to standard output without the panic `println!` has on a closed
/// pipe: `wirekit ls ADDR | head -1` ends quietly, other errors get words.
macro_rules! outln {
    ($($t:tt)*) => {
        write_out(&format!("{}\n", format_args!($($t)*)))?
    };
}

macro_rules! out {
    ($($t:tt)*) => {
        write_out(&format!($($t)*))?
    };
}

fn write_out(text: &str) -> Result<(), ClientError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(ClientError::ClosedPipe),
        Err(e) => Err(ClientError::Local(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  local error (a file could not be read or written, bad options)
  2  usage error
  3  server unreachable, or a UDP server never answered
  4  the server refused the request (WKFT/1 ERR; the code is printed)
  5  protocol or network error, or a timeout
  6  verification failed: received bytes did not match their digest

Logs go to standard error; set RUST_LOG=debug (or info, warn) to see them.";

/// Echo, timestamp and file-transfer servers and clients, built on a sans-IO core.
#[derive(Debug, Parser)]
#[command(name = "wirekit", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every server: echo 7007, daytime 7013, time 7037, stamped echo 7012
    /// (TCP and UDP each), file transfer 7021 (TCP) and TFTP 7069 (UDP), on
    /// 127.0.0.1.
    Serve(ServeArgs),
    /// Echo messages through an echo server (TCP by default).
    Echo(EchoArgs),
    /// Ask a time server (RFC 868 by default) what time it is.
    Time(TimeArgs),
    /// List a directory on a file-transfer server.
    Ls(LsArgs),
    /// Show what is at a path on a file-transfer server.
    Stat(StatArgs),
    /// Download a file; the digest is checked before it gets its name.
    Get(GetArgs),
    /// Upload a file; the server commits it only if size and digest match.
    Put(PutArgs),
    /// Copy standard input to a server and its replies to standard output.
    Nc(NcArgs),
    /// TFTP client: get and put files (RFC 1350 with options).
    #[command(subcommand)]
    Tftp(TftpCommand),
    /// Run a scenario in the deterministic network simulator.
    Sim(SimArgs),
    /// Look a host name up (the classic tutorials' gethostbyname).
    Resolve(ResolveArgs),
    /// Load generators: echo requests/s and latency, download throughput,
    /// many idle connections.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print a shell completion script (e.g. `wirekit completions bash >
    /// ~/.local/share/bash-completion/completions/wirekit`).
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// The clap definition of the command line, for the man page and the
/// completions (generated from it, so they cannot drift from `--help`).
pub fn definition() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[derive(Debug, Subcommand)]
enum TftpCommand {
    /// Download REMOTE (to LOCAL, default its name here).
    Get {
        /// Server address; the port defaults to 7069.
        addr: String,
        /// Remote file name.
        remote: String,
        /// Local file.
        local: Option<PathBuf>,
        #[command(flatten)]
        opts: TftpOpts,
    },
    /// Upload LOCAL (as REMOTE, default its name).
    Put {
        /// Server address; the port defaults to 7069.
        addr: String,
        /// Local file.
        local: PathBuf,
        /// Remote file name.
        remote: Option<String>,
        #[command(flatten)]
        opts: TftpOpts,
    },
}

#[derive(Debug, Args)]
struct TftpOpts {
    /// Ask for this block size (8 to 65464; RFC 2348). Without it, 512.
    #[arg(long)]
    blksize: Option<u16>,
    /// Ask for this window (blocks per ACK; RFC 7440). Without it, 1.
    #[arg(long)]
    windowsize: Option<u16>,
    /// Retransmission timeout in seconds (1 to 255; asked of the server too).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..))]
    timeout: Option<u8>,
    /// Ask for (get) or announce (put) the file size (RFC 2349).
    #[arg(long)]
    tsize: bool,
    /// Transfer mode.
    #[arg(long, value_enum, default_value_t = TftpMode::Octet)]
    mode: TftpMode,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum TftpMode {
    /// Bytes as they are.
    Octet,
    /// Text: line ends become CR LF on the wire.
    Netascii,
}

impl TftpOpts {
    fn config(&self) -> wirekit_core::tftp::client::ClientConfig {
        use wirekit_core::tftp::client::ClientConfig;
        use wirekit_core::tftp::options::Wishes;
        let defaults = ClientConfig::default();
        ClientConfig {
            mode: match self.mode {
                TftpMode::Octet => wirekit_core::wire::tftp::Mode::Octet,
                TftpMode::Netascii => wirekit_core::wire::tftp::Mode::Netascii,
            },
            wishes: Wishes {
                blksize: self.blksize,
                windowsize: self.windowsize,
                timeout: self.timeout,
                tsize: self.tsize,
                ..defaults.wishes
            },
            timeout: self
                .timeout
                .map_or(defaults.timeout, |t| Duration::from_secs(u64::from(t))),
            ..defaults
        }
    }
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Echo requests over many connections; prints requests/s, MB/s, p50/p99.
    Echo {
        /// Echo server (port 7007 by default).
        addr: String,
        /// Connections, one request in flight each.
        #[arg(long, default_value_t = 64)]
        conns: usize,
        /// Bytes per request.
        #[arg(long, default_value_t = 64)]
        size: usize,
        /// Seconds to measure.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a file repeatedly (bytes checked, then discarded); prints MB/s.
    Get {
        /// File-transfer server (port 7021 by default).
        addr: String,
        /// Remote path.
        remote: String,
        /// Downloads; the median is reported.
        #[arg(long, default_value_t = 3)]
        count: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Open many connections, hold them, and check the server still answers.
    Idle {
        /// Echo server (port 7007 by default).
        addr: String,
        /// Connections to hold.
        #[arg(long, default_value_t = 10_000)]
        conns: usize,
        /// Seconds to hold them.
        #[arg(long, default_value_t = 5.0)]
        hold: f64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address every service binds.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Run only these services (comma-separated).
    #[arg(long, value_delimiter = ',', value_enum)]
    only: Vec<Service>,
    /// The file store's root directory.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Refuse uploads.
    #[arg(long)]
    read_only: bool,
    /// Most TCP connections open at once; more are refused.
    #[arg(long, default_value_t = 1024)]
    max_conns: usize,
    /// Close a connection after this many seconds without traffic.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    idle_timeout: f64,
    /// The IO model that drives the sockets.
    #[arg(long, value_enum, default_value_t = Model::Async)]
    model: Model,
    /// The async model's runtime: async-std or smol, each a cargo feature.
    #[arg(long, default_value = crate::runtime::DEFAULT, value_parser = runtime_name)]
    runtime: String,
    /// The echo variant.
    #[arg(long, value_enum, default_value_t = EchoMode::Plain)]
    echo_mode: EchoMode,
    /// Echo port (0 picks a free one).
    #[arg(long, value_name = "PORT")]
    echo_port: Option<u16>,
    /// Daytime port.
    #[arg(long, value_name = "PORT")]
    daytime_port: Option<u16>,
    /// Time port.
    #[arg(long, value_name = "PORT")]
    time_port: Option<u16>,
    /// Stamped-echo port.
    #[arg(long, value_name = "PORT")]
    stamp_port: Option<u16>,
    /// File-transfer port.
    #[arg(long, value_name = "PORT")]
    transfer_port: Option<u16>,
    /// TFTP port.
    #[arg(long, value_name = "PORT")]
    tftp_port: Option<u16>,
    /// Accept TFTP uploads (TFTP has no authentication; off by default).
    #[arg(long)]
    tftp_write: bool,
    /// Most TFTP transfers at once.
    #[arg(long, default_value_t = wirekit_core::tftp::listener::DEFAULT_MAX_TRANSFERS)]
    max_transfers: usize,
    /// Every port 0 (free ports; the banner tells which).
    #[arg(long)]
    any_port: bool,
    /// Print the listening sockets as one JSON line instead of the banner.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct Common {
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Seconds without progress before giving up.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    timeout: f64,
}

#[derive(Debug, Args)]
struct Retry {
    /// UDP: first wait for a reply, in milliseconds (then doubling).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    retry_initial: u64,
    /// UDP: give up rather than wait longer than this, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    retry_max: u64,
    /// UDP: spread each wait at random by up to this many percent.
    #[arg(long, default_value_t = 0, value_name = "PERCENT")]
    jitter: u8,
}

impl Retry {
    fn config(&self) -> BackoffConfig {
        BackoffConfig {
            initial: Duration::from_millis(self.retry_initial),
            factor: 2,
            max_wait: Duration::from_millis(self.retry_max),
            jitter_percent: self.jitter,
        }
    }
}

#[derive(Debug, Args)]
struct EchoArgs {
    /// Server address; the port defaults to 7007.
    addr: String,
    /// Messages, one line (or datagram) each.
    #[arg(required = true)]
    messages: Vec<String>,
    /// Use UDP, retrying with exponential backoff.
    #[arg(long)]
    udp: bool,
    /// Speak the hello dialogue (`Welcome!`, `Hello, <msg>!`, `exit`).
    #[arg(long, conflicts_with = "udp")]
    hello: bool,
    #[command(flatten)]
    retry: Retry,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct TimeArgs {
    /// Server address; the port defaults to the service's (7037, 7013, 7012).
    addr: String,
    /// Ask the daytime service (RFC 867) instead.
    #[arg(long, conflicts_with = "stamp")]
    daytime: bool,
    /// Stamped echo: send these lines, get them back with the server's time.
    #[arg(long)]
    stamp: bool,
    /// Lines for --stamp.
    lines: Vec<String>,
    /// Use UDP.
    #[arg(long)]
    udp: bool,
    #[command(flatten)]
    retry: Retry,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct LsArgs {
    /// Server address; the port defaults to 7021.
    addr: String,
    /// Directory (the root by default).
    path: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct StatArgs {
    /// Server address; the port defaults to 7021.
    addr: String,
    /// Remote path.
    path: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct GetArgs {
    /// Server address; the port defaults to 7021.
    addr: String,
    /// Remote path.
    remote: String,
    /// Local file (default: the remote name, in the current directory).
    local: Option<PathBuf>,
    /// Continue from the partial an interrupted download left.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct PutArgs {
    /// Server address; the port defaults to 7021.
    addr: String,
    /// Local file.
    local: PathBuf,
    /// Remote path (default: the local file's name).
    remote: Option<String>,
    /// Continue the partial an interrupted upload left on the server.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct NcArgs {
    /// Server address, with its port (HOST:PORT).
    addr: String,
    /// Use UDP: each input line is one datagram.
    #[arg(long)]
    udp: bool,
    /// Seconds to wait for more replies once input has ended.
    #[arg(long, short = 'w', default_value_t = 2.0, value_name = "SECONDS")]
    wait: f64,
}

#[derive(Debug, Args)]
struct SimArgs {
    /// A preset's name, or a scenario file (.toml or .json).
    #[arg(required_unless_present = "list")]
    scenario: Option<String>,
    /// List the presets.
    #[arg(long)]
    list: bool,
    /// Print the scenario as TOML (as JSON with --json) instead of running
    /// it: a start for your own, or a file for the browser lab, which reads JSON.
    #[arg(long)]
    show: bool,
    /// The seed (default: the scenario's own). Same seed, same run.
    #[arg(long)]
    seed: Option<u64>,
    /// Write every packet on every link to this pcap file.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Write every traced event to this file, one JSON object per line.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Print the report as JSON instead of the summary.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ResolveArgs {
    /// Host name.
    name: String,
    #[arg(long)]
    json: bool,
}

fn secs(s: f64) -> Result<Duration, ClientError> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| ClientError::Local(format!("{s} is not a number of seconds")))
}

fn print_json(value: &impl Serialize) -> Result<(), ClientError> {
    let text = serde_json::to_string(value).map_err(|e| ClientError::Local(e.to_string()))?;
    outln!("{text}");
    Ok(())
}

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        // Escape codes only for a person: not in a log file, nor with NO_COLOR.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    match run(cli.command) {
        Ok(()) | Err(ClientError::ClosedPipe) => 0,
        Err(e) => {
            eprintln!("wirekit: {e}");
            e.exit_code()
        }
    }
}

fn show_progress(json: bool) -> bool {
    !json && std::io::stdout().is_terminal()
}

fn run(command: Command) -> Result<(), ClientError> {
    match command {
        Command::Serve(a) => serve(a),
        Command::Echo(a) => {
            let addr = resolve(&a.addr, Service::Echo.default_port())?;
            let timeout = secs(a.common.timeout)?;
            let replies = if a.udp {
                echo::udp(addr, &a.messages, a.retry.config(), |attempt, wait| {
                    eprintln!("no reply yet: sent again (attempt {attempt}), waiting {wait:?}");
                })?
            } else if a.hello {
                let (greeting, replies) = echo::hello(addr, &a.messages, timeout)?;
                if !a.common.json {
                    outln!("{greeting}");
                }
                replies
            } else {
                echo::tcp(addr, &a.messages, timeout)?
            };
            if a.common.json {
                return print_json(&replies);
            }
            for r in replies {
                outln!("{}", r.reply);
            }
            Ok(())
        }
        Command::Time(a) => {
            let service = if a.stamp {
                Service::Stamp
            } else if a.daytime {
                Service::Daytime
            } else {
                Service::Time
            };
            let addr = resolve(&a.addr, service.default_port())?;
            let timeout = secs(a.common.timeout)?;
            let answers = match (service, a.udp) {
                (Service::Stamp, false) => time::stamp_tcp(addr, &a.lines, timeout)?,
                (Service::Stamp, true) => time::stamp_udp(addr, &a.lines, a.retry.config())?,
                (Service::Daytime, false) => vec![time::tcp(addr, Clock::Daytime, timeout)?],
                (Service::Daytime, true) => {
                    vec![time::udp(addr, Clock::Daytime, a.retry.config())?]
                }
                (_, false) => vec![time::tcp(addr, Clock::Time, timeout)?],
                (_, true) => vec![time::udp(addr, Clock::Time, a.retry.config())?],
            };
            if a.common.json {
                return print_json(&answers);
            }
            for t in answers {
                match (&t.data, t.offset) {
                    (Some(d), _) => outln!("[{}] : {d}", t.text),
                    (None, Some(off)) => outln!("{}  (server clock {off:+} s from ours)", t.text),
                    (None, None) => outln!("{}", t.text),
                }
            }
            Ok(())
        }
        Command::Ls(a) => {
            let opts = transfer_opts(&a.addr, &a.common, false)?;
            let entries = transfer::list(&opts, a.path)?;
            if a.common.json {
                return print_json(&entries);
            }
            for e in entries {
                let kind = match e.kind {
                    wirekit_core::transfer::Kind::File => "file",
                    wirekit_core::transfer::Kind::Dir => "dir",
                    wirekit_core::transfer::Kind::Partial => "partial",
                };
                outln!("{kind:<8}{:>14}  {}", e.size, e.name);
            }
            Ok(())
        }
        Command::Stat(a) => {
            let opts = transfer_opts(&a.addr, &a.common, false)?;
            let stat = transfer::stat(&opts, a.path)?;
            if a.common.json {
                return print_json(&stat);
            }
            outln!("{:?} {}", stat.kind, stat.size);
            Ok(())
        }
        Command::Get(a) => {
            let opts = transfer_opts(&a.addr, &a.common, show_progress(a.common.json))?;
            let local = match a.local {
                Some(l) => l,
                None => PathBuf::from(a.remote.rsplit('/').next().unwrap_or(&a.remote)),
            };
            let done = transfer::get(&opts, &a.remote, &local, a.resume)?;
            report(&done, a.common.json)
        }
        Command::Put(a) => {
            let opts = transfer_opts(&a.addr, &a.common, show_progress(a.common.json))?;
            let remote = match a.remote {
                Some(r) => r,
                None => a
                    .local
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or_else(|| ClientError::Local("give a remote name".into()))?
                    .to_owned(),
            };
            let done = transfer::put(&opts, &a.local, &remote, a.resume)?;
            report(&done, a.common.json)
        }
        Command::Nc(a) => {
            let addr = resolve(&a.addr, 0)?;
            let wait = secs(a.wait)?;
            if a.udp {
                nc::udp(addr, wait, std::io::stdin().lock(), std::io::stdout())?;
            } else {
                nc::tcp(addr, wait, std::io::stdin(), std::io::stdout())?;
            }
            Ok(())
        }
        Command::Bench(b) => bench(b),
        Command::Tftp(t) => tftp(t),
        Command::Sim(a) => sim(a),
        Command::Completions(a) => {
            // Into a buffer first: clap_complete panics on a write error, and
            // `wirekit completions bash | head` closes the pipe early.
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut definition(), "wirekit", &mut script);
            match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(ClientError::Local(format!("cannot write the script: {e}")))
                }
                _ => Ok(()),
            }
        }
        Command::Resolve(a) => {
            let addrs = nc::resolve(&a.name)?;
            if a.json {
                return print_json(&addrs);
            }
            for ip in addrs {
                outln!("{ip}");
            }
            Ok(())
        }
    }
}

fn sim(a: SimArgs) -> Result<(), ClientError> {
    if a.list {
        for (name, description) in crate::sim::list() {
            outln!("{name:<22} {description}");
        }
        return Ok(());
    }
    let name = a.scenario.unwrap_or_default();
    let scenario = crate::sim::load(&name)?;
    if a.show && a.json {
        let text = serde_json::to_string_pretty(&scenario)
            .map_err(|e| ClientError::Local(e.to_string()))?;
        outln!("{text}");
        return Ok(());
    }
    if a.show {
        let text = toml::to_string(&scenario).map_err(|e| ClientError::Local(e.to_string()))?;
        out!("{text}");
        return Ok(());
    }
    let report = crate::sim::run(&scenario, a.seed, a.pcap.as_deref(), a.trace.as_deref())?;
    if a.json {
        print_json(&report)?;
    } else {
        out!("{}", report.summary());
    }
    match report.outcome {
        wirekit_core::sim::Outcome::Completed => Ok(()),
        // The run itself worked; say how it ended through the exit code.
        other => Err(ClientError::Protocol(format!(
            "the simulated workload {other}"
        ))),
    }
}

fn tftp(t: TftpCommand) -> Result<(), ClientError> {
    let port = Service::Tftp.default_port();
    let (done, json) = match t {
        TftpCommand::Get {
            addr,
            remote,
            local,
            opts,
        } => {
            let local = local
                .unwrap_or_else(|| PathBuf::from(remote.rsplit('/').next().unwrap_or(&remote)));
            let server = resolve(&addr, port)?;
            (
                crate::client::tftp::get(
                    server,
                    &remote,
                    &local,
                    opts.config(),
                    show_progress(opts.json),
                )?,
                opts.json,
            )
        }
        TftpCommand::Put {
            addr,
            local,
            remote,
            opts,
        } => {
            let remote = match remote {
                Some(r) => r,
                None => local
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or_else(|| ClientError::Local("give a remote name".into()))?
                    .to_owned(),
            };
            let server = resolve(&addr, port)?;
            (
                crate::client::tftp::put(
                    server,
                    &local,
                    &remote,
                    opts.config(),
                    show_progress(opts.json),
                )?,
                opts.json,
            )
        }
    };
    if json {
        return print_json(&done);
    }
    outln!(
        "{} <-> {}: {} bytes in {:.2} s (blksize {}, windowsize {})",
        done.remote,
        done.local.display(),
        done.bytes,
        done.seconds,
        done.blksize,
        done.windowsize
    );
    Ok(())
}

fn bench(b: BenchCommand) -> Result<(), ClientError> {
    match b {
        BenchCommand::Echo {
            addr,
            conns,
            size,
            seconds,
            json,
        } => {
            let addr = resolve(&addr, Service::Echo.default_port())?;
            let load = crate::bench::EchoLoad {
                conns: conns.max(1),
                size: size.max(1),
                duration: secs(seconds)?,
            };
            let r = crate::bench::echo(addr, load)?;
            if json {
                return print_json(&r);
            }
            outln!(
                "{} conns x {} B: {:.0} requests/s, {:.1} MB/s, p50 {} us, p99 {} us, {} failed",
                r.conns,
                r.size,
                r.rps,
                r.mbps,
                r.p50_us,
                r.p99_us,
                r.errors
            );
            Ok(())
        }
        BenchCommand::Get {
            addr,
            remote,
            count,
            json,
        } => {
            let opts = transfer::Options {
                addr: resolve(&addr, Service::Transfer.default_port())?,
                timeout: Duration::from_secs(30),
                progress: false,
            };
            let r = crate::bench::get(&opts, &remote, count)?;
            if json {
                return print_json(&r);
            }
            outln!(
                "{} bytes: {:.1} MB/s (median of {:?} s)",
                r.size,
                r.mbps,
                r.seconds
            );
            Ok(())
        }
        BenchCommand::Idle {
            addr,
            conns,
            hold,
            json,
        } => {
            let addr = resolve(&addr, Service::Echo.default_port())?;
            let r = crate::bench::idle(addr, conns, secs(hold)?)?;
            if json {
                return print_json(&r);
            }
            outln!(
                "held {} idle connections ({} failed); a new client's echo took {} us",
                r.held,
                r.failed,
                r.probe_us
            );
            Ok(())
        }
    }
}

fn transfer_opts(
    addr: &str,
    common: &Common,
    progress: bool,
) -> Result<transfer::Options, ClientError> {
    Ok(transfer::Options {
        addr: resolve(addr, Service::Transfer.default_port())?,
        timeout: secs(common.timeout)?,
        progress,
    })
}

fn report(done: &transfer::Transferred, json: bool) -> Result<(), ClientError> {
    if json {
        return print_json(done);
    }
    let rate = done.sent as f64 / done.seconds.max(1e-6) / 1e6;
    outln!(
        "{} -> {}: {} bytes ({} sent{}) in {:.2} s, {rate:.1} MB/s, blake3 {}",
        done.remote,
        done.local.display(),
        done.size,
        done.sent,
        if done.offset > 0 {
            format!(", resumed at {}", done.offset)
        } else {
            String::new()
        },
        done.seconds,
        done.digest
    );
    Ok(())
}

fn serve(a: ServeArgs) -> Result<(), ClientError> {
    crate::bench::raise_fd_limit();
    let mut config = Config::new(a.root.clone());
    config.bind = a.bind;
    if !a.only.is_empty() {
        config.services = Service::ALL
            .into_iter()
            .filter(|s| a.only.contains(s))
            .collect();
    }
    config.read_only = a.read_only;
    config.max_conns = a.max_conns.max(1);
    config.idle_timeout = secs(a.idle_timeout)?;
    config.model = a.model;
    if let Some(rt) = crate::runtime::by_name(&a.runtime) {
        config.runtime = rt;
    }
    config.echo = a.echo_mode;
    config.tftp_write = a.tftp_write;
    config.max_tftp = a.max_transfers.max(1);
    for (svc, port) in [
        (Service::Echo, a.echo_port),
        (Service::Daytime, a.daytime_port),
        (Service::Time, a.time_port),
        (Service::Stamp, a.stamp_port),
        (Service::Transfer, a.transfer_port),
        (Service::Tftp, a.tftp_port),
    ] {
        if let Some(p) = port.or(a.any_port.then_some(0)) {
            config.ports.insert(svc, p);
        }
    }
    let running =
        server::start(&config).map_err(|e| ClientError::Local(format!("cannot start: {e}")))?;
    let (tx, rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| ClientError::Local(format!("cannot watch for Ctrl-C: {e}")))?;
    if a.json {
        print_json(&running.listening)?;
    } else {
        out!("{}", running.banner(&config));
        outln!("ready; Ctrl-C stops");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = rx.recv();
    eprintln!("wirekit: shutting down (uploads in flight keep their partials)");
    running.stop();
    // Give loops a moment to notice and close their connections.
    std::thread::sleep(crate::drive::STOP_CHECK * 2);
    Ok(())
}

/// A runtime this build has.
fn runtime_name(name: &str) -> Result<String, String> {
    let have = crate::runtime::available();
    if have.contains(&name) {
        Ok(name.to_owned())
    } else {
        Err(format!("this build has {}", have.join(", ")))
    }
}

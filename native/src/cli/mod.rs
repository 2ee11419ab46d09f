//! The command line: `wirekit serve` and the clients.
//!
//! | part | module |
//! |---|---|
//! | the arguments, their checks and their help | this file, [`parse`] |
//! | writing results, JSON errors | [`out`] |
//! | what each command does | [`run`] |

mod out;
mod parse;
mod run;

use crate::client::{ClientError, Target};
use crate::drive::Model;
use crate::services::{EchoMode, Service};
use crate::store::space::Limits;
use clap::{Args, FromArgMatches, Parser, Subcommand};
use parse::{count, positive, seconds, tftp_target, wkft_target};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use wirekit_core::retry::BackoffConfig;

/// Every subcommand's help ends with this table; the book's native chapter
/// includes the same file.
pub const EXIT_CODES: &str = include_str!("exit-codes.txt");

/// Echo, time and file-transfer servers and clients, for learning and
/// testing network protocols.
#[derive(Debug, Parser)]
#[command(name = "wirekit", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bar and no summary line (results and errors still print).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Log the client's connection, negotiation and retries to standard
    /// error (-vv: everything).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every server: echo 7007, daytime 7013, time 7037, stamped echo 7012
    /// (TCP and UDP each), file transfer 7021 (TCP) and TFTP 7069 (UDP), on
    /// 127.0.0.1.
    #[command(after_help = "Examples:
  wirekit serve --root ./files
  wirekit serve --any-port --only echo,transfer --json
  wirekit serve --model threads --read-only")]
    Serve(ServeArgs),
    /// Echo messages through an echo server (TCP by default).
    #[command(after_help = "Examples:
  wirekit echo 127.0.0.1 hello world
  wirekit echo 127.0.0.1:7007 --udp ping
  wirekit echo localhost --hello Alice")]
    Echo(EchoArgs),
    /// Ask a time server (RFC 868 by default) what time it is.
    #[command(after_help = "Examples:
  wirekit time 127.0.0.1
  wirekit time 127.0.0.1 --daytime --udp
  wirekit time 127.0.0.1 --stamp hello")]
    Time(TimeArgs),
    /// List a directory on a file-transfer server.
    #[command(after_help = "Examples:
  wirekit ls 127.0.0.1
  wirekit ls 127.0.0.1 docs
  wirekit ls wkft://127.0.0.1:7021/docs --json")]
    Ls(LsArgs),
    /// Show what is at a path on a file-transfer server.
    #[command(after_help = "Examples:
  wirekit stat 127.0.0.1 hello.txt
  wirekit stat wkft://127.0.0.1:7021/hello.txt --json")]
    Stat(PathArgs),
    /// Download a file; the digest is checked before it gets its name.
    #[command(after_help = "Examples:
  wirekit get 127.0.0.1 hello.txt
  wirekit get 127.0.0.1 docs/big.iso downloads/
  wirekit get wkft://127.0.0.1:7021/hello.txt - | wc -c")]
    Get(GetArgs),
    /// Delete a file (or an interrupted upload's partial) on a file-transfer server.
    #[command(after_help = "Examples:
  wirekit rm 127.0.0.1 old.txt
  wirekit rm wkft://127.0.0.1:7021/backups/old.tar")]
    Rm(PathArgs),
    /// Upload a file; the server commits it only if size and digest match.
    #[command(after_help = "Examples:
  wirekit put 127.0.0.1 notes.txt
  wirekit put 127.0.0.1 big.iso backups/big.iso --resume
  wirekit put 127.0.0.1 notes.txt --force
  tar c docs | wirekit put 127.0.0.1 - docs.tar")]
    Put(PutArgs),
    /// Copy standard input to a server and its replies to standard output.
    #[command(after_help = "Examples:
  printf 'hello\\n' | wirekit nc 127.0.0.1 7007
  wirekit nc 127.0.0.1:7021
  wirekit nc --udp 127.0.0.1 7007")]
    Nc(NcArgs),
    /// TFTP client: get and put files (RFC 1350 with options).
    #[command(subcommand)]
    Tftp(TftpCommand),
    /// Run a scenario in the deterministic network simulator.
    #[command(after_help = "Examples:
  wirekit sim --list
  wirekit sim tcp-transfer-lossy --pcap run.pcap
  wirekit sim udp-echo-backoff --show > mine.toml")]
    Sim(SimArgs),
    /// Look a host name up (the classic tutorials' gethostbyname).
    #[command(after_help = "Examples:
  wirekit resolve localhost
  wirekit resolve example.org --json")]
    Resolve(ResolveArgs),
    /// Load generators: echo requests/s and latency, download throughput,
    /// many idle connections.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print a shell completion script.
    #[command(after_help = "Examples:
  wirekit completions bash > ~/.local/share/bash-completion/completions/wirekit
  wirekit completions zsh > ~/.zfunc/_wirekit")]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// The clap definition of the command line, for parsing, the man page and
/// the completions (all from here, so they cannot drift from `--help`).
/// Every subcommand's help ends with the exit codes.
pub fn definition() -> clap::Command {
    fn with_codes(cmd: clap::Command) -> clap::Command {
        let examples = cmd
            .get_after_help()
            .map(|h| format!("{h}\n\n"))
            .unwrap_or_default();
        let cmd = cmd.after_help(format!("{examples}{EXIT_CODES}"));
        let subs: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        subs.iter()
            .fold(cmd, |cmd, name| cmd.mut_subcommand(name, with_codes))
    }
    with_codes(<Cli as clap::CommandFactory>::command())
}

#[derive(Debug, Subcommand)]
enum TftpCommand {
    /// Download REMOTE (to LOCAL; default: its name here).
    #[command(after_help = "Examples:
  wirekit tftp get 127.0.0.1 hello.txt
  wirekit tftp get tftp://127.0.0.1:7069/big.bin --blksize 1468 --windowsize 16
  wirekit tftp get 127.0.0.1 hello.txt - | head")]
    Get {
        /// Server (HOST, HOST:PORT, or tftp://HOST:PORT/REMOTE); the port
        /// defaults to 7069.
        #[arg(value_parser = tftp_target)]
        addr: Target,
        /// Remote file name (with a URL: the local file).
        remote: Option<String>,
        /// Local file, a directory to put it in, or - for standard output.
        local: Option<PathBuf>,
        #[command(flatten)]
        opts: TftpOpts,
    },
    /// Upload LOCAL (as REMOTE; default: its name).
    #[command(after_help = "Examples:
  wirekit tftp put 127.0.0.1 notes.txt
  wirekit tftp put tftp://127.0.0.1:7069/copy.txt notes.txt --tsize")]
    Put {
        /// Server (HOST, HOST:PORT, or tftp://HOST:PORT/REMOTE); the port
        /// defaults to 7069.
        #[arg(value_parser = tftp_target)]
        addr: Target,
        /// Local file, or - for standard input.
        local: PathBuf,
        /// Remote file name.
        remote: Option<String>,
        #[command(flatten)]
        opts: TftpOpts,
    },
}

#[derive(Debug, Args)]
struct TftpOpts {
    /// Ask for this block size in bytes (RFC 2348). Without it, 512.
    #[arg(long, value_parser = clap::value_parser!(u16).range(8..=65464))]
    blksize: Option<u16>,
    /// Ask for this window, in blocks per ACK (RFC 7440). Without it, 1.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    windowsize: Option<u16>,
    /// Retransmission timeout in seconds (asked of the server too).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..))]
    timeout: Option<u8>,
    /// Ask for (get) or announce (put) the file size (RFC 2349).
    #[arg(long)]
    tsize: bool,
    /// Transfer mode.
    #[arg(long, value_enum, default_value_t = TftpMode::Octet)]
    mode: TftpMode,
    /// Replace a read-only local file.
    #[arg(long)]
    force: bool,
    /// Never replace an existing local file.
    #[arg(long, conflicts_with = "force")]
    no_clobber: bool,
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
    #[command(after_help = "Examples:
  wirekit bench echo 127.0.0.1 --conns 64 --seconds 5
  wirekit bench echo 127.0.0.1:7007 --conns 1000 --json")]
    Echo {
        /// Echo server (port 7007 by default).
        #[arg(value_parser = parse::plain_target)]
        addr: Target,
        /// Connections, one request in flight each.
        #[arg(long, default_value_t = 64, value_parser = count)]
        conns: usize,
        /// Bytes per request.
        #[arg(long, default_value_t = 64, value_parser = count)]
        size: usize,
        /// Seconds to measure.
        #[arg(long, default_value = "5", value_parser = seconds)]
        seconds: Duration,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a file repeatedly (bytes checked, then discarded); prints MB/s.
    #[command(after_help = "Examples:
  wirekit bench get 127.0.0.1 big.bin --count 5")]
    Get {
        /// File-transfer server (port 7021 by default).
        #[arg(value_parser = parse::plain_target)]
        addr: Target,
        /// Remote path.
        remote: String,
        /// Downloads; the median is reported.
        #[arg(long, default_value_t = 3, value_parser = count)]
        count: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Open many connections, hold them, and check the server still answers.
    #[command(after_help = "Examples:
  wirekit bench idle 127.0.0.1 --conns 10000 --hold 5")]
    Idle {
        /// Echo server (port 7007 by default).
        #[arg(value_parser = parse::plain_target)]
        addr: Target,
        /// Connections to hold.
        #[arg(long, default_value_t = 10_000, value_parser = count)]
        conns: usize,
        /// Seconds to hold them.
        #[arg(long, default_value = "5", value_parser = seconds)]
        hold: Duration,
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
    #[arg(long, conflicts_with = "tftp_write")]
    read_only: bool,
    /// Most bytes the root's files and unfinished uploads may hold together
    /// (e.g. 500M, 20G); an upload that would pass it is refused (507).
    /// Without it only the disk's free space limits uploads.
    #[arg(long, value_name = "SIZE", value_parser = parse::size)]
    quota: Option<u64>,
    /// Most unfinished uploads (partials) kept at once, in all.
    #[arg(long, default_value_t = Limits::default().max_partials, value_parser = count)]
    max_partials: usize,
    /// Most bytes all unfinished uploads may announce together.
    #[arg(long, value_name = "SIZE", default_value = "1T", value_parser = parse::size)]
    max_partial_bytes: u64,
    /// Remove an unfinished upload not written for this many seconds (a day).
    #[arg(long, default_value = "86400", value_name = "SECONDS", value_parser = seconds)]
    partial_ttl: Duration,
    /// Most TCP connections open at once; more are refused.
    #[arg(long, default_value_t = 1024, value_parser = count)]
    max_conns: usize,
    /// Close a connection after this many seconds without traffic.
    #[arg(long, default_value = "60", value_name = "SECONDS", value_parser = seconds)]
    idle_timeout: Duration,
    /// Close a file-transfer session whose request line, once begun, is not
    /// whole after this many seconds (ERR 408): a peer trickling bytes
    /// defeats the idle timeout, not this.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = seconds)]
    header_timeout: Duration,
    /// The IO model that drives the sockets.
    #[arg(long, value_enum, default_value_t = Model::Async)]
    model: Model,
    /// The async model's runtime: async-std (the default) or smol, each a
    /// cargo feature.
    ///
    /// async-std is the runtime Wirekit was specified on, and the default;
    /// its authors have discontinued it (RUSTSEC-2025-0052), so it gets no
    /// more fixes. smol is maintained and of the same lineage (async-std
    /// runs on smol's reactor and executor), and every native test suite
    /// passes on both: pick smol for a server you keep running.
    #[arg(long, default_value = crate::runtime::DEFAULT, value_parser = runtime_name)]
    runtime: String,
    /// The echo variant.
    #[arg(long, value_enum, default_value_t = EchoMode::Plain)]
    echo_mode: EchoMode,
    /// Echo port [default: 7007; 0 picks a free one].
    #[arg(long, value_name = "PORT")]
    echo_port: Option<u16>,
    /// Daytime port [default: 7013].
    #[arg(long, value_name = "PORT")]
    daytime_port: Option<u16>,
    /// Time port [default: 7037].
    #[arg(long, value_name = "PORT")]
    time_port: Option<u16>,
    /// Stamped-echo port [default: 7012].
    #[arg(long, value_name = "PORT")]
    stamp_port: Option<u16>,
    /// File-transfer port [default: 7021].
    #[arg(long, value_name = "PORT")]
    transfer_port: Option<u16>,
    /// TFTP port [default: 7069].
    #[arg(long, value_name = "PORT")]
    tftp_port: Option<u16>,
    /// Accept TFTP uploads (TFTP has no authentication; off by default).
    #[arg(long)]
    tftp_write: bool,
    /// Most TFTP transfers at once.
    #[arg(long, default_value_t = wirekit_core::tftp::listener::DEFAULT_MAX_TRANSFERS,
          value_parser = count)]
    max_transfers: usize,
    /// Most files hashed at once (resuming a transfer, verifying an upload);
    /// more wait their turn. Default: one per core.
    #[arg(long, value_parser = count)]
    max_hashes: Option<usize>,
    /// Every port 0 (free ports; the banner tells which).
    #[arg(long)]
    any_port: bool,
    /// Print the listening sockets as one JSON line instead of the banner.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct Common {
    /// Print the result as JSON (errors too).
    #[arg(long)]
    json: bool,
    /// Seconds without progress before giving up.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = seconds)]
    timeout: Duration,
}

#[derive(Debug, Args)]
struct Retry {
    /// UDP: first wait for a reply, in milliseconds (then doubling).
    #[arg(long, default_value_t = 100, value_name = "MS", value_parser = positive)]
    retry_initial: u64,
    /// UDP: give up rather than wait longer than this, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS", value_parser = positive)]
    retry_max: u64,
    /// UDP: spread each wait at random by up to this many percent.
    #[arg(long, default_value_t = 0, value_name = "PERCENT",
          value_parser = clap::value_parser!(u8).range(0..=100))]
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
    /// Server (HOST or HOST:PORT); the port defaults to 7007.
    #[arg(value_parser = parse::plain_target)]
    addr: Target,
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
    /// Server (HOST or HOST:PORT); the port defaults to the service's
    /// (7037, 7013, 7012).
    #[arg(value_parser = parse::plain_target)]
    addr: Target,
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
    /// Server (HOST, HOST:PORT, or wkft://HOST:PORT/DIR); the port defaults
    /// to 7021.
    #[arg(value_parser = wkft_target)]
    addr: Target,
    /// Directory (the root by default).
    path: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// A command about one remote path: `stat`, `rm`.
#[derive(Debug, Args)]
struct PathArgs {
    /// Server (HOST, HOST:PORT, or wkft://HOST:PORT/PATH); the port defaults
    /// to 7021.
    #[arg(value_parser = wkft_target)]
    addr: Target,
    /// Remote path.
    path: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct GetArgs {
    /// Server (HOST, HOST:PORT, or wkft://HOST:PORT/REMOTE); the port
    /// defaults to 7021.
    #[arg(value_parser = wkft_target)]
    addr: Target,
    /// Remote path (with a URL: the local file).
    remote: Option<String>,
    /// Local file, a directory to put it in, or - for standard output
    /// (default: the remote name, here).
    local: Option<PathBuf>,
    /// Continue from the partial an interrupted download left.
    #[arg(long, conflicts_with = "restart")]
    resume: bool,
    /// Throw away the partial an interrupted download left, and start over.
    #[arg(long)]
    restart: bool,
    /// Replace a read-only local file.
    #[arg(long)]
    force: bool,
    /// Never replace an existing local file.
    #[arg(long, conflicts_with = "force")]
    no_clobber: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct PutArgs {
    /// Server (HOST, HOST:PORT, or wkft://HOST:PORT/REMOTE); the port
    /// defaults to 7021.
    #[arg(value_parser = wkft_target)]
    addr: Target,
    /// Local file, or - for standard input.
    local: PathBuf,
    /// Remote path (default: the local file's name).
    remote: Option<String>,
    /// Continue the partial an interrupted upload left on the server.
    #[arg(long, conflicts_with = "restart")]
    resume: bool,
    /// Replace the partial an interrupted upload left on the server.
    #[arg(long)]
    restart: bool,
    /// Replace a file of that name on the server; the old one stays until
    /// the new one is verified.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct NcArgs {
    /// Server: HOST PORT, or HOST:PORT.
    #[arg(value_parser = parse::plain_target)]
    addr: Target,
    /// The port, when not in the address.
    #[arg(value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// Use UDP: each input line is one datagram.
    #[arg(long, short = 'u')]
    udp: bool,
    /// Seconds to wait for more replies once input has ended.
    #[arg(long, short = 'w', default_value = "2", value_name = "SECONDS",
          value_parser = seconds)]
    wait: Duration,
}

#[derive(Debug, Args)]
struct SimArgs {
    /// A preset's name, or a scenario file (.toml or .json).
    #[arg(required_unless_present = "list", value_parser = parse::PresetOrFile,
          value_hint = clap::ValueHint::FilePath)]
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
    /// Print the addresses as JSON.
    #[arg(long)]
    json: bool,
}

impl Command {
    /// Whether the user asked for JSON: errors are JSON too, then.
    fn json(&self) -> bool {
        match self {
            Command::Serve(a) => a.json,
            Command::Echo(a) => a.common.json,
            Command::Time(a) => a.common.json,
            Command::Ls(a) => a.common.json,
            Command::Stat(a) => a.common.json,
            Command::Rm(a) => a.common.json,
            Command::Get(a) => a.common.json,
            Command::Put(a) => a.common.json,
            Command::Tftp(TftpCommand::Get { opts, .. } | TftpCommand::Put { opts, .. }) => {
                opts.json
            }
            Command::Sim(a) => a.json,
            Command::Resolve(a) => a.json,
            Command::Bench(
                BenchCommand::Echo { json, .. }
                | BenchCommand::Get { json, .. }
                | BenchCommand::Idle { json, .. },
            ) => *json,
            Command::Nc(_) | Command::Completions(_) => false,
        }
    }

    /// Whether the command's loops stop on Ctrl-C and say what was kept
    /// (the others end the process at once, as usual).
    fn stops_cleanly(&self) -> bool {
        matches!(
            self,
            Command::Echo(_)
                | Command::Time(_)
                | Command::Ls(_)
                | Command::Stat(_)
                | Command::Rm(_)
                | Command::Get(_)
                | Command::Put(_)
                | Command::Tftp(_)
        )
    }
}

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::from_arg_matches(&definition().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let level = match cli.verbose {
        0 => "warn",
        1 => "wirekit=debug,wirekit_core=debug,warn",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_writer(std::io::stderr)
        // Escape codes only for a person: not in a log file, nor with NO_COLOR.
        .with_ansi(out::colour())
        .init();
    let json = cli.command.json();
    let result = if cli.command.stops_cleanly() {
        crate::client::watch_interrupts().and_then(|()| run::run(cli.command, cli.quiet))
    } else {
        run::run(cli.command, cli.quiet)
    };
    match result {
        Ok(()) | Err(ClientError::ClosedPipe) => 0,
        Err(e) => {
            // A simulated workload that did not complete has said so in its
            // JSON report already: one JSON document on standard output.
            let as_json = json && !matches!(e, ClientError::Workload(_));
            out::error(&e, as_json);
            e.exit_code()
        }
    }
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

//! What each command does, once its arguments have passed their checks.

use super::out::{self, out, outln};
use super::parse::remote_path;
use super::{
    BenchCommand, Command, Common, GetArgs, PutArgs, ServeArgs, SimArgs, TftpCommand, TftpOpts,
};
use crate::client::local::{Dest, Replace, destination, upload_source};
use crate::client::progress;
use crate::client::transfer::{self, Partial};
use crate::client::{ClientError, Target};
use crate::client::{echo, nc, time};
use crate::server::{self, Config};
use crate::services::Service;
use crate::store::space::Limits;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wirekit_core::timestamp::Service as Clock;

pub fn run(command: Command, quiet: bool) -> Result<(), ClientError> {
    match command {
        Command::Serve(a) => serve(a),
        Command::Echo(a) => {
            let addr = a.addr.resolve(Service::Echo.default_port())?;
            let timeout = a.common.timeout;
            let replies = if a.udp {
                echo::udp(addr, &a.messages, a.retry.config(), |attempt, wait| {
                    if !quiet {
                        out::note(&format!(
                            "no reply yet: sent again (attempt {attempt}), waiting {wait:?}"
                        ));
                    }
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
                return out::json(&replies);
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
            let addr = a.addr.resolve(service.default_port())?;
            let timeout = a.common.timeout;
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
                return out::json(&answers);
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
            let path = one_path(&a.addr, a.path)?
                .map(|p| remote_path(&p))
                .transpose()?;
            let opts = transfer_opts(&a.addr, &a.common, false)?;
            let entries = transfer::list(&opts, path.clone()).map_err(|e| match e {
                ClientError::Refused(why) if why.contains("not a directory") => {
                    ClientError::Refused(format!(
                        "{why}; to look at a file: wirekit stat {} {}",
                        a.addr,
                        path.unwrap_or_default()
                    ))
                }
                e => e,
            })?;
            if a.common.json {
                return out::json(&entries);
            }
            for e in entries {
                let kind = match e.kind {
                    wirekit_core::transfer::Kind::File => "file",
                    wirekit_core::transfer::Kind::Dir => "dir",
                    wirekit_core::transfer::Kind::Partial => "partial",
                };
                outln!(
                    "{kind:<8}{:>14}  {}",
                    e.size,
                    super::parse::shown_name(&e.name)
                );
            }
            Ok(())
        }
        Command::Stat(a) => {
            let path = one_path(&a.addr, a.path)?
                .ok_or_else(|| ClientError::Usage("give the remote path to look at".into()))?;
            let path = remote_path(&path)?;
            let opts = transfer_opts(&a.addr, &a.common, false)?;
            let stat = transfer::stat(&opts, path)?;
            if a.common.json {
                return out::json(&stat);
            }
            outln!("{:?} {}", stat.kind, stat.size);
            Ok(())
        }
        Command::Rm(a) => {
            let path = one_path(&a.addr, a.path)?
                .ok_or_else(|| ClientError::Usage("give the remote path to delete".into()))?;
            let path = remote_path(&path)?;
            let opts = transfer_opts(&a.addr, &a.common, false)?;
            transfer::delete(&opts, path.clone())?;
            if a.common.json {
                return out::json(&serde_json::json!({ "deleted": path }));
            }
            if !quiet {
                outln!("deleted {path}");
            }
            Ok(())
        }
        Command::Get(a) => get(a, quiet),
        Command::Put(a) => put(a, quiet),
        Command::Nc(a) => {
            let port = match (a.addr.port, a.port) {
                (Some(_), Some(_)) => {
                    return Err(ClientError::Usage(
                        "give the port once: HOST PORT or HOST:PORT".into(),
                    ));
                }
                (Some(p), None) | (None, Some(p)) => p,
                (None, None) => {
                    return Err(ClientError::Usage(
                        "give a port: wirekit nc HOST PORT (or HOST:PORT)".into(),
                    ));
                }
            };
            let addr = a.addr.resolve(port)?;
            if a.udp {
                nc::udp(addr, a.wait, std::io::stdin().lock(), std::io::stdout())?;
            } else {
                nc::tcp(addr, a.wait, std::io::stdin(), std::io::stdout())?;
            }
            Ok(())
        }
        Command::Bench(b) => bench(b),
        Command::Tftp(t) => tftp(t, quiet),
        Command::Sim(a) => sim(a),
        Command::Completions(a) => {
            // Into a buffer first: clap_complete panics on a write error, and
            // `wirekit completions bash | head` closes the pipe early.
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut super::definition(), "wirekit", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
        Command::Resolve(a) => {
            let addrs = nc::resolve(&a.name)?;
            if a.json {
                return out::json(&addrs);
            }
            for ip in addrs {
                outln!("{ip}");
            }
            Ok(())
        }
    }
}

/// The remote path of a command that takes one: from the URL or the
/// argument, not both.
fn one_path(addr: &Target, arg: Option<String>) -> Result<Option<String>, ClientError> {
    match (&addr.path, arg) {
        (Some(_), Some(extra)) => Err(ClientError::Usage(format!(
            "the URL already names the remote path; {extra:?} is one argument too many"
        ))),
        (Some(p), None) if p.is_empty() => Ok(None),
        (Some(p), None) => Ok(Some(p.clone())),
        (None, arg) => Ok(arg),
    }
}

/// A download's REMOTE and LOCAL: `ADDR REMOTE [LOCAL]` or `URL [LOCAL]`.
fn remote_and_local(
    addr: &Target,
    remote: Option<String>,
    local: Option<PathBuf>,
) -> Result<(String, Option<PathBuf>), ClientError> {
    match (&addr.path, remote, local) {
        (Some(_), Some(_), Some(extra)) => Err(ClientError::Usage(format!(
            "the URL already names the remote file; {} is one argument too many",
            extra.display()
        ))),
        (Some(p), local, None) => Ok((p.clone(), local.map(PathBuf::from))),
        (None, Some(r), local) => Ok((r, local)),
        (Some(_), _, Some(_)) | (None, None, _) => Err(ClientError::Usage(
            "give the remote file to download".into(),
        )),
    }
}

fn partial_mode(resume: bool, restart: bool) -> Partial {
    match (resume, restart) {
        (true, _) => Partial::Resume,
        (_, true) => Partial::Restart,
        _ => Partial::Keep,
    }
}

/// The command the user ran, with `--resume` in place of `--restart` (or
/// added): what continues an interrupted transfer.
fn resume_command() -> String {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--restart")
        .collect();
    if !args.iter().any(|a| a == "--resume")
        && let Some(i) = args.iter().position(|a| a == "get" || a == "put")
    {
        args.insert(i + 1, "--resume".into());
    }
    let quoted: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
    format!("wirekit {}", quoted.join(" "))
}

fn shell_word(a: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c);
    if !a.is_empty() && a.chars().all(plain) {
        a.to_owned()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

fn with_resume_hint(e: ClientError) -> ClientError {
    match e {
        ClientError::Interrupted(kept) => {
            ClientError::Interrupted(format!("{kept}\ncontinue with: {}", resume_command()))
        }
        e => e,
    }
}

fn get(a: GetArgs, quiet: bool) -> Result<(), ClientError> {
    let (remote, local) = remote_and_local(&a.addr, a.remote, a.local)?;
    let remote = remote_path(&remote)?;
    let replace = Replace {
        no_clobber: a.no_clobber,
        force: a.force,
    };
    let dest = destination(local.as_deref(), &remote, replace)?;
    if dest == Dest::Stdout && a.resume {
        return Err(ClientError::Usage(
            "--resume needs a local file to continue, not standard output".into(),
        ));
    }
    let show = progress::wanted(quiet, a.common.json);
    let opts = transfer_opts(&a.addr, &a.common, show)?;
    let done = transfer::get(
        &opts,
        &remote,
        dest.clone(),
        partial_mode(a.resume, a.restart),
    )
    .map_err(with_resume_hint)?;
    let line = summary(&done, &done.remote, &done.local.display().to_string());
    match (a.common.json, dest) {
        (true, _) => out::json(&done),
        _ if quiet => Ok(()),
        // Standard output holds the file: the summary goes beside it.
        (false, Dest::Stdout) => {
            out::note(&line);
            Ok(())
        }
        (false, Dest::File(_)) => {
            outln!("{line}");
            Ok(())
        }
    }
}

fn put(a: PutArgs, quiet: bool) -> Result<(), ClientError> {
    let remote = match (&a.addr.path, a.remote) {
        (Some(_), Some(extra)) => {
            return Err(ClientError::Usage(format!(
                "the URL already names the remote path; {extra:?} is one argument too many"
            )));
        }
        (Some(p), None) if !p.is_empty() => p.clone(),
        (_, Some(r)) => r,
        _ => default_remote(&a.local)?,
    };
    let remote = remote_path(&remote)?;
    let source = upload_source(&a.local)?;
    if source.spooled && a.resume {
        return Err(ClientError::Usage(
            "--resume needs the same file again, not a pipe on standard input".into(),
        ));
    }
    let show = progress::wanted(quiet, a.common.json);
    let opts = transfer_opts(&a.addr, &a.common, show)?;
    let done = transfer::put_from(
        &opts,
        source.file,
        &a.local,
        &remote,
        partial_mode(a.resume, a.restart),
        a.force,
    )
    .map_err(with_resume_hint)?;
    if a.common.json {
        return out::json(&done);
    }
    if !quiet {
        outln!(
            "{}",
            summary(&done, &done.local.display().to_string(), &done.remote)
        );
    }
    Ok(())
}

/// The remote name an upload of `local` gets when none is given.
fn default_remote(local: &Path) -> Result<String, ClientError> {
    if local.as_os_str() == "-" {
        return Err(ClientError::Usage(
            "give the remote name when uploading standard input".into(),
        ));
    }
    local
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            ClientError::Usage(format!(
                "{} has no file name to upload under: give the remote name",
                local.display()
            ))
        })
}

/// One line on a finished transfer, `from -> to`, in MB as the bar shows.
fn summary(done: &transfer::Transferred, from: &str, to: &str) -> String {
    let rate = done.sent as f64 / done.seconds.max(1e-6) / 1e6;
    format!(
        "{from} -> {to}: {} bytes ({} sent{}) in {:.2} s, {rate:.1} MB/s, blake3 {}",
        done.size,
        done.sent,
        if done.offset > 0 {
            format!(", resumed at {}", done.offset)
        } else {
            String::new()
        },
        done.seconds,
        done.digest
    )
}

fn transfer_opts(
    addr: &Target,
    common: &Common,
    progress: bool,
) -> Result<transfer::Options, ClientError> {
    Ok(transfer::Options {
        addr: addr.resolve(Service::Transfer.default_port())?,
        timeout: common.timeout,
        progress,
    })
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
            .map_err(|e| ClientError::Local(format!("cannot write JSON: {e}")))?;
        outln!("{text}");
        return Ok(());
    }
    if a.show {
        let text = toml::to_string(&scenario)
            .map_err(|e| ClientError::Local(format!("cannot write TOML: {e}")))?;
        out!("{text}");
        return Ok(());
    }
    let report = crate::sim::run(&scenario, a.seed, a.pcap.as_deref(), a.trace.as_deref())?;
    if a.json {
        out::json(&report)?;
    } else {
        out!("{}", report.summary());
    }
    match report.outcome {
        wirekit_core::sim::Outcome::Completed => Ok(()),
        // The run itself worked; say how it ended through the exit code.
        other => Err(ClientError::Workload(format!(
            "the simulated workload {other}"
        ))),
    }
}

fn tftp(t: TftpCommand, quiet: bool) -> Result<(), ClientError> {
    let port = Service::Tftp.default_port();
    let (done, opts): (crate::client::tftp::Transferred, TftpOpts) = match t {
        TftpCommand::Get {
            addr,
            remote,
            local,
            opts,
        } => {
            let (remote, local) = remote_and_local(&addr, remote, local)?;
            let replace = Replace {
                no_clobber: opts.no_clobber,
                force: opts.force,
            };
            let dest = destination(local.as_deref(), &remote, replace)?;
            let server = addr.resolve(port)?;
            let show = progress::wanted(quiet, opts.json);
            let done = crate::client::tftp::get(server, &remote, dest, opts.config(), show)?;
            (done, opts)
        }
        TftpCommand::Put {
            addr,
            local,
            remote,
            opts,
        } => {
            let remote = match one_path(&addr, remote)? {
                Some(r) => r,
                None => default_remote(&local)?,
            };
            let source = upload_source(&local)?;
            let server = addr.resolve(port)?;
            let show = progress::wanted(quiet, opts.json);
            let done = crate::client::tftp::put_from(
                server,
                source.file,
                &local,
                &remote,
                opts.config(),
                show,
            )?;
            (done, opts)
        }
    };
    if opts.json {
        return out::json(&done);
    }
    if quiet {
        return Ok(());
    }
    let line = format!(
        "{} <-> {}: {} bytes in {:.2} s (blksize {}, windowsize {})",
        done.remote,
        done.local.display(),
        done.bytes,
        done.seconds,
        done.blksize,
        done.windowsize
    );
    if done.local.as_os_str() == "-" {
        out::note(&line);
    } else {
        outln!("{line}");
    }
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
            let addr = addr.resolve(Service::Echo.default_port())?;
            let load = crate::bench::EchoLoad {
                conns,
                size,
                duration: seconds,
            };
            let r = crate::bench::echo(addr, load)?;
            if json {
                return out::json(&r);
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
                addr: addr.resolve(Service::Transfer.default_port())?,
                timeout: Duration::from_secs(30),
                progress: false,
            };
            let r = crate::bench::get(&opts, &remote_path(&remote)?, count)?;
            if json {
                return out::json(&r);
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
            let addr = addr.resolve(Service::Echo.default_port())?;
            let r = crate::bench::idle(addr, conns, hold)?;
            if json {
                return out::json(&r);
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
    config.space = Limits {
        quota: a.quota,
        max_partials: a.max_partials,
        max_partial_bytes: a.max_partial_bytes,
        partial_ttl: a.partial_ttl,
        ..Limits::default()
    };
    config.max_conns = a.max_conns;
    config.idle_timeout = a.idle_timeout;
    config.header_deadline = a.header_timeout;
    config.model = a.model;
    if let Some(rt) = crate::runtime::by_name(&a.runtime) {
        config.runtime = rt;
    }
    config.echo = a.echo_mode;
    config.tftp_write = a.tftp_write;
    config.max_tftp = a.max_transfers;
    if let Some(n) = a.max_hashes {
        config.max_hashes = n;
    }
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
    // SIGTERM too (ctrlc's `termination` feature): a service manager's
    // stop is a shutdown, not a kill.
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| ClientError::Local(format!("cannot watch for Ctrl-C: {e}")))?;
    if a.json {
        out::json(&running.listening)?;
    } else {
        out!("{}", running.banner(&config));
        outln!("ready; Ctrl-C stops");
    }
    let _ = rx.recv();
    out::note("wirekit: shutting down (uploads in flight keep their partials)");
    running.stop();
    // Give loops a moment to notice and close their connections.
    std::thread::sleep(crate::drive::STOP_CHECK * 2);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_hint_quotes_what_a_shell_would_split() {
        assert_eq!(shell_word("notes.txt"), "notes.txt");
        assert_eq!(shell_word("my file"), "'my file'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}

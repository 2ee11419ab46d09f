//! GET and PUT of a large file over WKFT/1, beside nginx serving the same
//! file to curl (and taking curl's upload by WebDAV PUT), and beside a bare
//! socat pipe.

use super::{Proc, addr, bench_json, big_file, free_port, load_average, median, serve, wait_for};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn part(out_dir: &Path, files: &Path, mib: u64, runs: usize) -> Result<Value> {
    // What an interrupted run left: the upload, and its partial, which the
    // server keeps for a resume.
    for name in ["upload.bin", ".upload.bin.wkpart"] {
        let _ = std::fs::remove_file(files.join(name));
    }
    // The file, a partial of the upload and nginx's temporary copy exist at
    // once; on a shared disk, better to stop than to fill it.
    let room = free_bytes(out_dir)?;
    if room < 4 * (mib << 20) {
        bail!(
            "{} MiB free under {}; GET and PUT of {mib} MiB need four times that (try --file-mib)",
            room >> 20,
            out_dir.display()
        );
    }
    let big = big_file(files, "big.bin", mib)?;
    let want = mib << 20;
    let (_server, listening) = serve(&["--only", "transfer"], files)?;
    let wk = addr(&listening, "transfer")?;
    let (_nginx, web) = nginx(out_dir, files)?;
    let put_dir = out_dir.join("nginx-put/up");

    let mut get: [Vec<f64>; 3] = Default::default();
    let mut put: [Vec<f64>; 2] = Default::default();
    for run in 0..runs {
        let r = bench_json(&["get", &wk, "big.bin", "--count", "1"])?;
        get[0].push(
            r["seconds"][0]
                .as_f64()
                .context("wirekit bench get's seconds")?,
        );
        get[1].push(curl_get(&web, want)?);
        get[2].push(socat_pipe(&big)?);

        // The uploads go under a name of their own and are removed after
        // each run, so every run creates a new file on both servers.
        let name = "upload.bin";
        let t = Instant::now();
        let status = Command::new(super::wirekit())
            .args(["put", &wk])
            .arg(&big)
            .arg(name)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()?;
        put[0].push(t.elapsed().as_secs_f64());
        check_upload(status.success(), &files.join(name), want, "wirekit put")?;
        put[1].push(curl_put(&web, &big, &put_dir.join(name), want)?);
        eprintln!(
            "files run {run} ({mib} MiB): GET wirekit {:.2} s, nginx+curl {:.2} s, socat {:.2} s; \
             PUT wirekit {:.2} s, curl→nginx {:.2} s (load {})",
            get[0][run],
            get[1][run],
            get[2][run],
            put[0][run],
            put[1][run],
            load_average()
        );
    }
    let mbps = |runs: &[f64]| want as f64 / median(runs) / 1e6;
    let (wk_get, ng_get, pipe) = (mbps(&get[0]), mbps(&get[1]), mbps(&get[2]));
    let (wk_put, ng_put) = (mbps(&put[0]), mbps(&put[1]));
    eprintln!(
        "GET {mib} MiB: wirekit {wk_get:.0} MB/s, nginx+curl {ng_get:.0} MB/s ({:.2}x), socat pipe {pipe:.0} MB/s ({:.2}x)",
        wk_get / ng_get,
        wk_get / pipe
    );
    eprintln!(
        "PUT {mib} MiB: wirekit {wk_put:.0} MB/s, curl→nginx {ng_put:.0} MB/s ({:.2}x)",
        wk_put / ng_put
    );
    Ok(json!({
        "mib": mib, "runs": runs,
        "get": {"wirekit_mbps": wk_get, "nginx_curl_mbps": ng_get, "socat_pipe_mbps": pipe,
                "vs_nginx": wk_get / ng_get, "vs_socat": wk_get / pipe,
                "seconds": {"wirekit": get[0], "nginx_curl": get[1], "socat_pipe": get[2]}},
        "put": {"wirekit_mbps": wk_put, "nginx_curl_mbps": ng_put, "vs_nginx": wk_put / ng_put,
                "seconds": {"wirekit": put[0], "nginx_curl": put[1]}},
    }))
}

/// Free bytes on the file system holding `dir` (by `df`, which every
/// Debian has; the xtask has no unsafe code for `statvfs`).
fn free_bytes(dir: &Path) -> Result<u64> {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .context("run df")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .context("df's answer")
}

/// Debian's nginx on a free port with a configuration of our own: the
/// files folder served with sendfile, and `/up/` taking WebDAV PUTs. One
/// process (no master), so stopping it by its PID stops all of it.
fn nginx(out_dir: &Path, files: &Path) -> Result<(Proc, String)> {
    let port = free_port()?;
    let d = out_dir.display();
    for sub in ["nginx-put/up", "nginx-tmp"] {
        std::fs::create_dir_all(out_dir.join(sub))?;
    }
    let conf = format!(
        "daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    types {{ }}
    default_type application/octet-stream;
    client_max_body_size 0;
    client_body_temp_path {d}/nginx-tmp;
    proxy_temp_path {d}/nginx-tmp;
    fastcgi_temp_path {d}/nginx-tmp;
    uwsgi_temp_path {d}/nginx-tmp;
    scgi_temp_path {d}/nginx-tmp;
    server {{
        listen 127.0.0.1:{port};
        root {files};
        location /up/ {{
            root {d}/nginx-put;
            dav_methods PUT;
            dav_access user:rw;
        }}
    }}
}}
",
        files = files.display()
    );
    let conf_path = out_dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let child = Command::new("nginx")
        .arg("-p")
        .arg(out_dir)
        .arg("-e")
        .arg(out_dir.join("nginx-error.log"))
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start nginx")?;
    let proc = Proc(child);
    let a = format!("127.0.0.1:{port}");
    wait_for(&a).with_context(|| format!("nginx; see {d}/nginx-error.log"))?;
    Ok((proc, a))
}

/// Seconds for curl to fetch the big file from nginx into /dev/null,
/// checked for size (curl verifies no digest; WKFT/1 does).
fn curl_get(web: &str, want: u64) -> Result<f64> {
    let t = Instant::now();
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
        ])
        .arg(format!("http://{web}/big.bin"))
        .stdin(Stdio::null())
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.trim() != format!("200 {want}") {
        bail!("curl GET from nginx: {}, {text}", out.status);
    }
    Ok(secs)
}

/// Seconds for curl to upload the big file to nginx, checked on disk.
fn curl_put(web: &str, big: &Path, stored: &Path, want: u64) -> Result<f64> {
    let name = stored.file_name().context("a file name")?.to_string_lossy();
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T"])
        .arg(big)
        .arg(format!("http://{web}/up/{name}"))
        .stdin(Stdio::null())
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    let code = String::from_utf8_lossy(&out.stdout);
    let ok = out.status.success() && (code == "201" || code == "204");
    check_upload(ok, stored, want, &format!("curl PUT to nginx ({code})"))?;
    Ok(secs)
}

/// An upload succeeded only if its file is there at its full size; the
/// file is removed, so the next run creates it again.
fn check_upload(ok: bool, stored: &Path, want: u64, what: &str) -> Result<()> {
    let got = std::fs::metadata(stored).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(stored);
    if !ok || got != want {
        bail!("{what}: {got} of {want} bytes stored");
    }
    Ok(())
}

/// Seconds to send the file through a raw socat pipe (FILE → TCP →
/// /dev/null): no framing, no hashing.
fn socat_pipe(big: &Path) -> Result<f64> {
    let port = free_port()?;
    let _sender = Proc(
        Command::new("socat")
            .args([
                "-u".into(),
                format!("FILE:{}", big.display()),
                format!("TCP4-LISTEN:{port},bind=127.0.0.1,reuseaddr"),
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    wait_for_listen(port)?;
    let t = Instant::now();
    let status = Command::new("socat")
        .args([
            "-u".into(),
            format!("TCP4:127.0.0.1:{port}"),
            "OPEN:/dev/null".into(),
        ])
        .status()?;
    if !status.success() {
        bail!("the socat pipe failed");
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Waits for a listener without connecting to it (a one-shot socat would
/// take the probe for its client).
fn wait_for_listen(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let needle = format!(":{port:04X} ");
    loop {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        // State 0A is LISTEN.
        if table
            .lines()
            .any(|l| l.contains(&needle) && l.split_whitespace().nth(3) == Some("0A"))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("socat did not listen on {port}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

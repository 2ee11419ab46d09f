//! Echo: every IO model beside socat's forking echo server and a plain
//! Tokio server, at three loads.

use super::{Proc, addr, bench_json, free_port, load_average, median, serve, wait_for};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const MODELS: [&str; 4] = ["async", "threads", "poll", "iterative"];
const LOADS: [u32; 3] = [1, 64, 1000];

/// Every server is started first and all stay up: each run then measures
/// every server at a load in turn, so slow phases of the shared machine
/// fall on all of them.
pub fn part(files: &Path, secs: f64, runs: usize) -> Result<Value> {
    let mut servers: Vec<(String, String, Proc)> = Vec::new();
    for model in MODELS {
        let (proc, listening) = serve(
            &["--only", "echo", "--model", model, "--max-conns", "5000"],
            files,
        )?;
        servers.push((model.into(), addr(&listening, "echo")?, proc));
    }
    let (proc, a) = socat_echo()?;
    servers.push(("socat".into(), a, proc));
    let (proc, a) = tokio_echo()?;
    servers.push(("tokio".into(), a, proc));

    let secs = secs.to_string();
    // (server, load) → one report per run.
    let mut cells: Vec<(String, u32, Vec<Value>)> = Vec::new();
    for run in 0..runs {
        for conns in LOADS {
            for (name, a, _) in &servers {
                let r =
                    bench_json(&["echo", a, "--conns", &conns.to_string(), "--seconds", &secs])?;
                eprintln!(
                    "echo run {run} {name:>9} {conns:>5} conns: {:>8.0} req/s  p99 {:>7} us  (load {})",
                    r["rps"].as_f64().unwrap_or(0.0),
                    r["p99_us"],
                    load_average()
                );
                let r = json!({"report": r, "load": load_average()});
                match cells.iter_mut().find(|c| c.0 == *name && c.1 == conns) {
                    Some(c) => c.2.push(r),
                    None => cells.push((name.clone(), conns, vec![r])),
                }
            }
        }
    }
    let rows: Vec<Value> = cells.into_iter().map(|(s, c, r)| row(&s, c, r)).collect();
    let ratios = ratios(&rows);
    for r in ratios.as_array().into_iter().flatten() {
        eprintln!("echo {r}");
    }
    Ok(json!({"seconds": secs, "runs": runs, "rows": rows, "ratios": ratios}))
}

/// One server at one load: the median run's figures, every run kept.
fn row(server: &str, conns: u32, runs: Vec<Value>) -> Value {
    let rps: Vec<f64> = runs
        .iter()
        .map(|r| r["report"]["rps"].as_f64().unwrap_or(0.0))
        .collect();
    let m = median(&rps);
    let mid = runs
        .iter()
        .find(|r| r["report"]["rps"].as_f64() == Some(m))
        .cloned()
        .unwrap_or(Value::Null);
    json!({"server": server, "conns": conns, "rps": m, "p99_us": mid["report"]["p99_us"],
        "p50_us": mid["report"]["p50_us"], "load": mid["load"], "runs": runs})
}

/// The goals' ratios at each load: the best model and the async one,
/// each against Tokio, with p99 beside Tokio's.
fn ratios(rows: &[Value]) -> Value {
    let get = |server: &str, conns: u32| {
        rows.iter()
            .find(|r| r["server"] == server && r["conns"] == conns)
    };
    let mut out = Vec::new();
    for conns in LOADS {
        let Some(tokio) = get("tokio", conns) else {
            continue;
        };
        let t = tokio["rps"].as_f64().unwrap_or(f64::NAN);
        let best = MODELS.iter().filter_map(|m| get(m, conns)).max_by(|a, b| {
            a["rps"]
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&b["rps"].as_f64().unwrap_or(0.0))
        });
        let Some(best) = best else { continue };
        let asy = get("async", conns).cloned().unwrap_or(Value::Null);
        out.push(json!({
            "conns": conns,
            "best_model": best["server"],
            "best_vs_tokio": best["rps"].as_f64().unwrap_or(0.0) / t,
            "async_vs_tokio": asy["rps"].as_f64().unwrap_or(0.0) / t,
            "async_p99_us": asy["p99_us"], "best_p99_us": best["p99_us"],
            "tokio_p99_us": tokio["p99_us"],
        }));
    }
    Value::Array(out)
}

/// socat's echo server: a process forked per connection.
fn socat_echo() -> Result<(Proc, String)> {
    let port = free_port()?;
    let a = format!("127.0.0.1:{port}");
    let proc = Proc(
        Command::new("socat")
            .args([
                format!("TCP4-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=1024"),
                "PIPE".into(),
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start socat")?,
    );
    wait_for(&a)?;
    Ok((proc, a))
}

/// The reference Tokio echo server (bench/tokio-echo), on a free port.
pub fn tokio_echo() -> Result<(Proc, String)> {
    let mut child = Command::new(crate::root().join("target/release/tokio-echo"))
        .arg("0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start tokio-echo")?;
    let out = child.stdout.take().context("stdout")?;
    let proc = Proc(child);
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line)?;
    Ok((proc, line.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::{ratios, row};
    use serde_json::json;

    fn cell(server: &str, conns: u32, rps: &[f64]) -> serde_json::Value {
        let runs = rps
            .iter()
            .map(|r| json!({"report": {"rps": r, "p99_us": 10, "p50_us": 5}, "load": "1.0"}))
            .collect();
        row(server, conns, runs)
    }

    #[test]
    fn each_load_is_compared_with_tokio_by_its_best_model_and_by_async() {
        let rows = [
            cell("async", 1, &[90.0, 80.0, 100.0]),
            cell("threads", 1, &[150.0, 140.0, 160.0]),
            cell("tokio", 1, &[100.0, 120.0, 110.0]),
        ];
        assert_eq!(rows[0]["rps"], 90.0, "the median of the runs");
        let r = ratios(&rows);
        assert_eq!(r[0]["best_model"], "threads");
        assert_eq!(r[0]["best_vs_tokio"], 150.0 / 110.0);
        assert_eq!(r[0]["async_vs_tokio"], 90.0 / 110.0);
        // A load that Tokio was not measured at has no ratio.
        assert_eq!(r.as_array().map(Vec::len), Some(1));
    }
}

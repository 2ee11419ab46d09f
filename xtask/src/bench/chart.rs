//! The bench figures drawn as SVG charts for the book (book/src/img/):
//! ratios beside their goals first, absolute figures after.

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use serde_json::Value;
use std::path::Path;

/// One bar: its label, its value, and the goal it is held to, if any.
type Bar = (String, f64, Option<f64>);

pub fn draw(report: &Value) -> Result<()> {
    let dir = crate::root().join("book/src/img");
    std::fs::create_dir_all(&dir)?;
    let m = &report["machine"];
    let machine = format!(
        "{} × {}, Linux {}, shared with other builds",
        m["cpus"],
        m["cpu"].as_str().unwrap_or("?"),
        m["kernel"].as_str().unwrap_or("?")
    );
    let mut drawn = Vec::new();
    let charts: [(&str, &str, &str, Vec<Bar>, bool); 5] = [
        (
            "bench-ratios.svg",
            "Wirekit's speed ÷ the reference's, same run (| = goal)",
            "ratio (log scale; 1 = as fast as the reference)",
            ratio_bars(report),
            true,
        ),
        (
            "bench-echo.svg",
            "Echo: requests/s, 64-byte requests, one in flight per connection",
            "requests per second (median of the runs)",
            echo_bars(report),
            false,
        ),
        (
            "bench-files.svg",
            "A large file over loopback: MB/s (median of the runs)",
            "MB/s",
            file_bars(report),
            false,
        ),
        (
            "bench-idle.svg",
            "Server resident memory holding idle connections (| = goal)",
            "MiB (VmRSS)",
            idle_bars(report),
            false,
        ),
        (
            "bench-sim.svg",
            "The simulator natively: simulated packets per second (| = goal)",
            "million packets/s",
            sim_bars(report),
            false,
        ),
    ];
    for (name, title, x_desc, bars, log) in charts {
        if bars.is_empty() {
            continue;
        }
        let path = dir.join(name);
        hbar(&path, title, x_desc, &machine, &bars, log)?;
        drawn.push(path.display().to_string());
    }
    println!("charts: {}", drawn.join(", "));
    Ok(())
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn conns(n: &Value) -> String {
    match n.as_u64() {
        Some(1) => "1 connection".into(),
        Some(n) => format!("{n} connections"),
        None => "? connections".into(),
    }
}

fn ratio_bars(r: &Value) -> Vec<Bar> {
    let mut bars = Vec::new();
    let echo = r["echo"]["figures"]["ratios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for e in &echo {
        if let Some(v) = f(&e["best_vs_tokio"]) {
            let best = e["best_model"].as_str().unwrap_or("?");
            bars.push((
                format!("echo, {}: best ({best}) ÷ Tokio", conns(&e["conns"])),
                v,
                Some(1.0),
            ));
        }
    }
    for e in &echo {
        if let Some(v) = f(&e["async_vs_tokio"]) {
            bars.push((
                format!("echo, {}: async ÷ Tokio", conns(&e["conns"])),
                v,
                Some(0.9),
            ));
        }
    }
    let files = &r["files"]["figures"];
    if let Some(v) = f(&files["get"]["vs_nginx"]) {
        bars.push((
            format!("GET {} MiB ÷ nginx + curl", files["mib"]),
            v,
            Some(1.0),
        ));
    }
    if let Some(v) = f(&files["put"]["vs_nginx"]) {
        bars.push((
            format!("PUT {} MiB ÷ curl → nginx", files["mib"]),
            v,
            Some(1.0),
        ));
    }
    let tftp = &r["tftp"]["figures"]["goals"];
    if let Some(v) = f(&tftp["pair"]["speed_vs_it"]) {
        bars.push((
            "TFTP w16: our pair ÷ fastest peer pair".into(),
            v,
            Some(2.0),
        ));
    }
    for s in tftp["server"].as_array().into_iter().flatten() {
        if let Some(v) = f(&s["speed_vs_it"]) {
            let c = s["client"].as_str().unwrap_or("?");
            bars.push((
                format!("TFTP server ÷ fastest peer server ({c})"),
                v,
                Some(1.0),
            ));
        }
    }
    for s in tftp["client"].as_array().into_iter().flatten() {
        if let Some(v) = f(&s["speed_vs_atftp"]) {
            let srv = s["server"].as_str().unwrap_or("?");
            bars.push((format!("TFTP client ÷ atftp (server {srv})"), v, Some(1.0)));
        }
    }
    for c in r["criterion"]["figures"].as_array().into_iter().flatten() {
        let id = c["id"].as_str().unwrap_or("?");
        if id.contains("memcpy") {
            continue;
        }
        if let Some(v) = f(&c["vs_memcpy"]) {
            let goal = (c["group"] != "echo").then_some(0.5);
            bars.push((format!("in memory: {id} ÷ memcpy"), v, goal));
        }
    }
    if let Some(v) = f(&r["browser"]["figures"]["ratio"]) {
        bars.push(("simulator in Chromium ÷ native".into(), v, Some(0.5)));
    }
    bars
}

fn echo_bars(r: &Value) -> Vec<Bar> {
    r["echo"]["figures"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let v = f(&row["rps"])?;
            let s = row["server"].as_str()?;
            Some((format!("{s}, {}", conns(&row["conns"])), v, None))
        })
        .collect()
}

fn file_bars(r: &Value) -> Vec<Bar> {
    let files = &r["files"]["figures"];
    [
        (
            "GET: wirekit get ← wirekit serve",
            &files["get"]["wirekit_mbps"],
        ),
        (
            "GET: curl ← nginx (sendfile)",
            &files["get"]["nginx_curl_mbps"],
        ),
        (
            "GET: socat pipe, no framing",
            &files["get"]["socat_pipe_mbps"],
        ),
        (
            "PUT: wirekit put → wirekit serve",
            &files["put"]["wirekit_mbps"],
        ),
        (
            "PUT: curl -T → nginx WebDAV",
            &files["put"]["nginx_curl_mbps"],
        ),
    ]
    .into_iter()
    .filter_map(|(label, v)| Some((label.to_owned(), f(v)?, None)))
    .collect()
}

fn idle_bars(r: &Value) -> Vec<Bar> {
    let idle = &r["idle"]["figures"];
    let mib = f64::from(1u32 << 20);
    let goal = f(&idle["goal_rss_bytes"]).map(|b| b / mib);
    idle["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let v = f(&row["rss_bytes"])? / mib;
            let s = row["server"].as_str()?;
            let g = if s == "async" { goal } else { None };
            Some((format!("{s}, {} idle conns", row["conns"]), v, g))
        })
        .collect()
}

fn sim_bars(r: &Value) -> Vec<Bar> {
    r["sim"]["figures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let v = f(&row["packets_per_s"])? / 1e6;
            let label = row["label"].as_str()?.to_owned();
            Some((label, v, f(&row["goal_packets_per_s"]).map(|g| g / 1e6)))
        })
        .collect()
}

/// A horizontal bar chart, one row per bar, each labelled with its value
/// and marked at its goal.
fn hbar(
    path: &Path,
    title: &str,
    x_desc: &str,
    machine: &str,
    bars: &[Bar],
    log: bool,
) -> Result<()> {
    let e = |e: &dyn std::fmt::Display| anyhow!("chart {}: {e}", path.display());
    let height = 110 + 26 * bars.len() as u32;
    let root = SVGBackend::new(path, (960, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let (body, foot) = root.split_vertically(height - 22);
    foot.draw(&Text::new(
        machine.to_owned(),
        (10, 4),
        ("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90)),
    ))
    .map_err(|x| e(&x))?;
    let top = bars
        .iter()
        .flat_map(|(_, v, g)| [Some(*v), *g])
        .flatten()
        .fold(0.0f64, f64::max);
    // Drawn bottom up: reversed, the first bar is the top row.
    let bars: Vec<Bar> = bars.iter().rev().cloned().collect();
    let n = bars.len();
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let blue = RGBColor(60, 110, 180);
    let text = |s: String, x: f64, i: usize| {
        Text::new(
            s,
            (x, SegmentValue::CenterOf(i)),
            ("sans-serif", 13).into_font(),
        )
    };
    let mut builder = ChartBuilder::on(&body);
    builder
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .margin_right(60)
        .x_label_area_size(40)
        .y_label_area_size(330);
    // The two scales differ only in their coordinate type; a macro keeps
    // the drawing in one place.
    macro_rules! body {
        ($chart:expr, $low:expr) => {{
            let mut chart = $chart.map_err(|x| e(&x))?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(n)
                .y_label_formatter(&label)
                .x_labels(12)
                .x_label_formatter(&|v| short(*v))
                .x_desc(x_desc)
                .label_style(("sans-serif", 13))
                .draw()
                .map_err(|x| e(&x))?;
            chart
                .draw_series(bars.iter().enumerate().map(|(i, (_, v, _))| {
                    let mut r = Rectangle::new(
                        [
                            ($low, SegmentValue::Exact(i)),
                            (*v, SegmentValue::Exact(i + 1)),
                        ],
                        blue.filled(),
                    );
                    r.set_margin(4, 4, 0, 0);
                    r
                }))
                .map_err(|x| e(&x))?;
            chart
                .draw_series(bars.iter().enumerate().filter_map(|(i, (_, _, g))| {
                    let g = (*g)?;
                    Some(PathElement::new(
                        vec![(g, SegmentValue::Exact(i)), (g, SegmentValue::Exact(i + 1))],
                        RED.stroke_width(3),
                    ))
                }))
                .map_err(|x| e(&x))?;
            chart
                .draw_series(
                    bars.iter()
                        .enumerate()
                        .map(|(i, (_, v, _))| text(format!(" {}", short(*v)), *v, i)),
                )
                .map_err(|x| e(&x))?;
        }};
    }
    if log {
        let low = bars.iter().map(|b| b.1).fold(1.0f64, f64::min).max(1e-4) / 2.0;
        body!(
            builder.build_cartesian_2d((low..top * 1.6).log_scale(), (0..n - 1).into_segmented()),
            low
        );
    } else {
        body!(
            builder.build_cartesian_2d(0.0..top * 1.15, (0..n - 1).into_segmented()),
            0.0
        );
    }
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// A value as the charts print it: three significant figures at most.
fn short(v: f64) -> String {
    match v.abs() {
        a if a >= 1e6 => format!("{:.2} M", v / 1e6),
        a if a >= 1e4 => format!("{:.0} k", v / 1e3),
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        a if a >= 1.0 => format!("{v:.2}"),
        0.0 => "0".into(),
        _ => format!("{v:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{hbar, ratio_bars};
    use serde_json::json;

    #[test]
    fn a_chart_has_every_bar_its_label_and_its_goal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.svg");
        let bars = vec![
            ("first bar".to_string(), 0.5, Some(1.0)),
            ("second bar".to_string(), 2.0, None),
        ];
        hbar(&path, "title", "x", "the machine", &bars, true).expect("drawn");
        let svg = std::fs::read_to_string(&path).expect("written");
        for text in ["first bar", "second bar", "the machine", "title"] {
            assert!(svg.contains(text), "{text} missing");
        }
        // One goal, one red marker.
        assert_eq!(svg.matches("#FF0000").count(), 1);
    }

    #[test]
    fn the_ratio_chart_reads_every_part_it_finds() {
        let report = json!({
            "files": {"figures": {"mib": 8, "get": {"vs_nginx": 0.8}, "put": {"vs_nginx": 0.4}}},
            "criterion": {"figures": [
                {"group": "wkft", "id": "wkft/memcpy 1 MiB", "vs_memcpy": 1.0},
                {"group": "wkft", "id": "wkft/download 1 MiB", "vs_memcpy": 0.01},
            ]},
        });
        let bars = ratio_bars(&report);
        let labels: Vec<&str> = bars.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(
            labels,
            [
                "GET 8 MiB ÷ nginx + curl",
                "PUT 8 MiB ÷ curl → nginx",
                "in memory: wkft/download 1 MiB ÷ memcpy"
            ]
        );
        assert_eq!(bars[2].2, Some(0.5));
    }
}

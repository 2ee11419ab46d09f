//! `wirekit sim`: the core's deterministic network simulator, run natively.
//! Scenarios come from the presets or from a TOML or JSON file; the run
//! prints the same summary the browser shows, the trace hash last.

use crate::client::ClientError;
use std::io::Write;
use std::path::Path;
use wirekit_core::sim::{Options, Report, Scenario, preset, presets, run_with};

/// Where a scenario comes from: a preset's name, or a file.
pub fn load(name_or_file: &str) -> Result<Scenario, ClientError> {
    let path = Path::new(name_or_file);
    if !path.exists() {
        return preset(name_or_file).map_err(|e| {
            ClientError::Local(format!(
                "{e} (wirekit sim --list shows the presets; or give a .toml or .json file)"
            ))
        });
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ClientError::Local(format!("cannot read {}: {e}", path.display())))?;
    let parsed = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| ClientError::Local(format!("{}: {e}", path.display())))
}

/// The presets, as (name, description).
pub fn list() -> Vec<(String, String)> {
    presets()
        .into_iter()
        .map(|s| (s.name, s.description))
        .collect()
}

/// Runs a scenario; writes the pcap and the trace (JSON lines) if asked.
pub fn run(
    scenario: &Scenario,
    seed: Option<u64>,
    pcap: Option<&Path>,
    trace: Option<&Path>,
) -> Result<Report, ClientError> {
    let seed = seed.unwrap_or(scenario.seed);
    let options = Options {
        keep_trace: trace.is_some(),
        pcap: pcap.is_some(),
        ..Options::default()
    };
    let report = run_with(scenario, seed, options)
        .map_err(|e| ClientError::Local(format!("scenario: {e}")))?;
    if let (Some(path), Some(bytes)) = (pcap, &report.pcap) {
        write_atomically(path, bytes)?;
    }
    if let Some(path) = trace {
        let mut out = Vec::new();
        for record in &report.trace {
            serde_json::to_writer(&mut out, record)
                .map_err(|e| ClientError::Local(e.to_string()))?;
            out.push(b'\n');
        }
        write_atomically(path, &out)?;
    }
    Ok(report)
}

/// Writes through a temporary file renamed into place: a failed run leaves
/// no half-written capture under the name asked for.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let tmp = crate::client::local::partial_path(path);
    let err =
        |e: std::io::Error| ClientError::Local(format!("cannot write {}: {e}", path.display()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    });
    if written.is_err() {
        // `--pcap DIR` fails at the rename: take the temporary away too.
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

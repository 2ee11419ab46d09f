//! The façade's logic, in plain Rust so that it is tested natively too; the
//! bindings in `lib.rs` only convert to JavaScript.
//!
//! Everything structured leaves as JSON, in the core's own serde forms (the
//! same records `wirekit sim --trace` writes), so the page reads exactly what
//! the native command prints and the browser needs no second description of
//! any type.

use serde::Serialize;
use wirekit_core::sim::inspect::{Ports, inspect};
use wirekit_core::sim::trace::MAX_TRACE_RECORDS;
use wirekit_core::sim::{
    Netem, Options, Scenario, Sim, TraceKind, TraceRecord, engine, presets, summarize,
};
use wirekit_core::time::Instant;

/// A failure the page shows to a person.
pub type Failure = String;

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| format!("cannot encode as JSON: {e}"))
}

/// Reads a seed as the URL and the form carry it: decimal text.
pub fn seed(text: &str) -> Result<u64, Failure> {
    text.trim().parse().map_err(|_| {
        format!(
            "the seed `{}` is not a whole number from 0 to {}",
            text.trim(),
            u64::MAX
        )
    })
}

/// The presets, each with its scenario: `[{name, description, scenario}]`.
pub fn presets_json() -> Result<String, Failure> {
    #[derive(Serialize)]
    struct Preset {
        name: String,
        description: String,
        scenario: Scenario,
    }
    let list: Vec<Preset> = presets()
        .into_iter()
        .map(|s| Preset {
            name: s.name.clone(),
            description: s.description.clone(),
            scenario: s,
        })
        .collect();
    json(&list)
}

/// A scenario from JSON, checked by building its network once.
///
/// The browser reads JSON only: a TOML parser would add some 110 KB
/// (gzipped) to a module whose budget is 300 KB. `wirekit sim --show
/// --json FILE.toml` turns a TOML scenario into the JSON the page takes.
pub fn parse_scenario(text: &str) -> Result<Scenario, Failure> {
    if !text.trim_start().starts_with('{') {
        return Err(
            "the lab reads scenarios as JSON (an object, starting with `{`); \
             `wirekit sim --show --json FILE.toml` converts a TOML scenario"
                .into(),
        );
    }
    let scenario: Scenario = serde_json::from_str(text).map_err(|e| format!("JSON: {e}"))?;
    Sim::new(&scenario, scenario.seed, Options::default()).map_err(|e| format!("scenario: {e}"))?;
    Ok(scenario)
}

/// A link profile in netem syntax, printed back in its canonical form.
pub fn check_netem(text: &str) -> Result<String, Failure> {
    text.parse::<Netem>()
        .map(|n| n.to_string())
        .map_err(|e| format!("netem: {e}"))
}

/// Runs a scenario to the end and returns its report (no trace): what a
/// seed sweep needs per seed.
pub fn run_summary(json_text: &str, seed_text: &str) -> Result<String, Failure> {
    let scenario = parse_scenario(json_text)?;
    let seed = seed(seed_text)?;
    let mut sim = Sim::new(&scenario, seed, Options::default()).map_err(|e| e.to_string())?;
    sim.run();
    json(&summarize(&scenario, seed, &sim))
}

/// One run the page animates: the simulator, and every record it traced.
#[derive(Debug)]
pub struct Run {
    scenario: Scenario,
    seed: u64,
    sim: Sim,
    /// Every record so far, in trace order (the core hands them out once).
    records: Vec<TraceRecord>,
    ports: Ports,
    over: bool,
}

/// An application's state, with what the page needs to label it.
#[derive(Serialize)]
struct AppStateView {
    app: usize,
    host: String,
    kind: &'static str,
    #[serde(flatten)]
    state: wirekit_core::sim::AppState,
    last_note: Option<String>,
}

impl Run {
    /// A run of `scenario` (JSON or TOML) with `seed` (decimal).
    pub fn new(scenario_text: &str, seed_text: &str) -> Result<Run, Failure> {
        let scenario = parse_scenario(scenario_text)?;
        let seed = seed(seed_text)?;
        let options = Options {
            keep_trace: true,
            pcap: true,
            keep_packets: true,
        };
        let sim = Sim::new(&scenario, seed, options).map_err(|e| format!("scenario: {e}"))?;
        let mut run = Run {
            ports: Ports::of(&scenario),
            scenario,
            seed,
            sim,
            records: Vec::new(),
            over: false,
        };
        run.collect();
        Ok(run)
    }

    fn collect(&mut self) {
        let new = self.sim.take_records();
        let room = MAX_TRACE_RECORDS.saturating_sub(self.records.len());
        self.records.extend(new.into_iter().take(room));
    }

    /// Runs every event up to virtual time `until_us`; false once over.
    pub fn advance(&mut self, until_us: u64) -> bool {
        if !self.over {
            self.over = !self.sim.run_until(Instant::from_micros(until_us));
            self.collect();
        }
        !self.over
    }

    /// Runs to the end.
    pub fn finish(&mut self) {
        if !self.over {
            self.sim.run();
            self.over = true;
            self.collect();
        }
    }

    /// True once the run is over.
    pub fn done(&self) -> bool {
        self.over
    }

    /// Virtual time now, µs.
    pub fn now_us(&self) -> u64 {
        self.sim.now().as_micros()
    }

    /// When the next event is due, µs; `None` once the run is over.
    pub fn next_event_us(&self) -> Option<u64> {
        if self.over {
            return None;
        }
        self.sim.next_event_at().map(|t| t.as_micros())
    }

    /// Records from number `k` on, as a JSON array.
    pub fn records_since(&self, k: usize) -> Result<String, Failure> {
        json(self.records.get(k..).unwrap_or_default())
    }

    /// Records so far.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }

    /// The report so far (no trace inside), as JSON.
    pub fn report(&self) -> Result<String, Failure> {
        json(&summarize(&self.scenario, self.seed, &self.sim))
    }

    /// The text `wirekit sim` prints, `trace-hash:` last.
    pub fn summary(&self) -> String {
        summarize(&self.scenario, self.seed, &self.sim).summary()
    }

    /// The hash of every event so far.
    pub fn trace_hash(&self) -> String {
        wirekit_core::sim::trace::hex(&self.sim.trace().hash())
    }

    /// A pcap file of every packet so far.
    pub fn pcap(&self) -> Vec<u8> {
        self.sim.pcap().map(<[u8]>::to_vec).unwrap_or_default()
    }

    /// The trace as JSON lines, as `wirekit sim --trace` writes it.
    pub fn trace_jsonl(&self) -> Result<String, Failure> {
        let mut out = String::new();
        for r in &self.records {
            out.push_str(&json(r)?);
            out.push('\n');
        }
        Ok(out)
    }

    /// Packet `n`, its headers and decoded payload, as JSON (`null` if the
    /// run did not keep it).
    pub fn packet(&self, n: u64) -> Result<String, Failure> {
        match self.sim.packet(n) {
            Some(bytes) => json(&inspect(n, bytes, &self.ports)),
            None => Ok("null".into()),
        }
    }

    /// Every application's state at virtual time `t_us`. The run is
    /// deterministic, so a fresh simulation stopped at `t_us` is the run as
    /// it was then: no snapshot of every moment need be kept.
    pub fn states_at(&self, t_us: u64) -> Result<String, Failure> {
        let mut past =
            Sim::new(&self.scenario, self.seed, Options::default()).map_err(|e| e.to_string())?;
        past.run_until(Instant::from_micros(t_us));
        let mut views = Vec::new();
        for (i, (state, spec)) in past
            .app_states()
            .into_iter()
            .zip(&self.scenario.apps)
            .enumerate()
        {
            let last_note = self
                .records
                .iter()
                .rev()
                .filter(|r| r.at.as_micros() <= t_us)
                .find_map(|r| match &r.kind {
                    TraceKind::App { app, note } if usize::from(*app) == i => Some(note.clone()),
                    _ => None,
                });
            views.push(AppStateView {
                app: i,
                host: spec.host.clone(),
                kind: spec.workload.kind(),
                state,
                last_note,
            });
        }
        json(&views)
    }

    /// The hosts: `[{name, addr}]`.
    pub fn hosts(&self) -> Result<String, Failure> {
        #[derive(Serialize)]
        struct Host<'a> {
            name: &'a str,
            addr: String,
        }
        let hosts: Vec<Host> = self
            .scenario
            .hosts
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let [a, b, c, d] = engine::host_addr(i);
                Host {
                    name,
                    addr: format!("{a}.{b}.{c}.{d}"),
                }
            })
            .collect();
        json(&hosts)
    }

    /// The applications: `[{index, host, kind, client, port}]`, with the
    /// port a server listens on or the first copy of a client sends from.
    pub fn apps(&self) -> Result<String, Failure> {
        #[derive(Serialize)]
        struct App<'a> {
            index: usize,
            host: &'a str,
            kind: &'static str,
            client: bool,
            port: u16,
        }
        let apps: Vec<App> = self
            .scenario
            .apps
            .iter()
            .enumerate()
            .map(|(i, a)| App {
                index: i,
                host: &a.host,
                kind: a.workload.kind(),
                client: a.workload.is_client(),
                port: a
                    .workload
                    .listen_port()
                    .unwrap_or_else(|| engine::client_port(i, 0)),
            })
            .collect();
        json(&apps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirekit_core::sim::preset;

    fn preset_json(name: &str) -> String {
        serde_json::to_string(&preset(name).expect("a preset")).expect("json")
    }

    #[test]
    fn a_run_in_frames_hashes_like_a_run_to_the_end() {
        for p in presets() {
            let text = serde_json::to_string(&p).expect("json");
            let native = wirekit_core::sim::run(&p, 3).expect("runs");
            let mut run = Run::new(&text, "3").expect("valid");
            let mut t = 0;
            while run.advance(t) {
                t += 50_000;
            }
            assert_eq!(run.next_event_us(), None);
            assert_eq!(run.trace_hash(), native.trace_hash, "{}", p.name);
            assert!(
                run.summary()
                    .ends_with(&format!("trace-hash: {}\n", native.trace_hash))
            );
            assert_eq!(run.record_count() as u64, native.events, "{}", p.name);
        }
    }

    #[test]
    fn the_trace_and_capture_are_what_the_native_command_writes() {
        let text = preset_json("udp-echo-backoff");
        let mut run = Run::new(&text, "7").expect("valid");
        run.finish();
        let scenario = preset("udp-echo-backoff").expect("preset");
        let native = wirekit_core::sim::run_with(
            &scenario,
            7,
            Options {
                keep_trace: true,
                pcap: true,
                ..Options::default()
            },
        )
        .expect("runs");
        let lines: Vec<String> = native
            .trace
            .iter()
            .map(|r| serde_json::to_string(r).expect("json") + "\n")
            .collect();
        assert_eq!(run.trace_jsonl().expect("jsonl"), lines.concat());
        assert_eq!(Some(run.pcap()), native.pcap);
        let some: Vec<TraceRecord> =
            serde_json::from_str(&run.records_since(3).expect("json")).expect("records");
        assert_eq!(some, native.trace[3..]);
    }

    #[test]
    fn states_at_a_moment_show_the_connection_opening_and_done() {
        let mut run = Run::new(&preset_json("tcp-transfer-clean"), "7").expect("valid");
        run.finish();
        let early: serde_json::Value =
            serde_json::from_str(&run.states_at(10_000).expect("states")).expect("json");
        assert_eq!(early[0]["socket"], "LISTEN");
        assert_eq!(early[1]["socket"], "SYN-SENT");
        assert_eq!(early[1]["phase"], "greeting");
        let end = run.now_us();
        let late: serde_json::Value =
            serde_json::from_str(&run.states_at(end).expect("states")).expect("json");
        assert_eq!(late[1]["status"], "Completed");
        assert_eq!(late[1]["delivered"], 1_048_576);
        assert!(late[1]["last_note"].is_string());
    }

    #[test]
    fn packets_are_decoded_and_missing_ones_are_null() {
        let mut run = Run::new(&preset_json("tcp-transfer-clean"), "7").expect("valid");
        run.finish();
        let syn: serde_json::Value =
            serde_json::from_str(&run.packet(0).expect("json")).expect("view");
        assert_eq!(syn["tcp"]["flags"][0], "SYN");
        assert_eq!(syn["protocol"], "WKFT/1");
        assert_eq!(run.packet(u64::MAX).expect("json"), "null");
    }

    #[test]
    fn bad_input_gets_a_sentence() {
        assert!(seed("-1").unwrap_err().contains("not a whole number"));
        assert!(seed("abc").is_err());
        assert_eq!(seed(" 42 "), Ok(42));
        assert!(check_netem("delay 20ms loss 200%").is_err());
        assert_eq!(
            check_netem("delay 20ms loss 2%").as_deref(),
            Ok("delay 20ms loss random 2% 0%")
        );
        let err = parse_scenario("{\"name\": 3}").unwrap_err();
        assert!(err.starts_with("JSON:"), "{err}");
        let err = parse_scenario("name = \"x\"").unwrap_err();
        assert!(err.contains("wirekit sim --show --json"), "{err}");
        let mut s = preset("udp-time").expect("preset");
        s.apps[1].host = "nowhere".into();
        let err = parse_scenario(&serde_json::to_string(&s).expect("json")).unwrap_err();
        assert!(err.contains("unknown host `nowhere`"), "{err}");
        assert!(Run::new("{", "1").is_err());
    }

    #[test]
    fn presets_parse_back_and_run() {
        let list: serde_json::Value =
            serde_json::from_str(&presets_json().expect("json")).expect("list");
        assert_eq!(list.as_array().map(Vec::len), Some(presets().len()));
        let text = preset_json("tftp-lossy");
        assert_eq!(
            parse_scenario(&text),
            preset("tftp-lossy").map_err(|e| e.to_string())
        );
        let report: serde_json::Value =
            serde_json::from_str(&run_summary(&text, "7").expect("report")).expect("json");
        assert_eq!(report["outcome"], "Completed");
    }
}

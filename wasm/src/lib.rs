//! The browser lab's bridge to the core's simulator (wasm-bindgen).
//!
//! A thin façade: it runs `wirekit_core::sim` and hands the page what the
//! core produces — trace records, reports, a decoded packet, the pcap — as
//! JSON in the core's own serde forms. No protocol is described twice: the
//! page draws, the core knows. Errors become JavaScript `Error`s whose
//! message is a sentence for the person at the page, never a panic.
//!
//! Seeds cross as decimal text, since a JavaScript number cannot hold every
//! `u64`; virtual times cross as numbers of µs (exact below 2^53 µs, some
//! 285 years of virtual time).

pub mod lab;

use wasm_bindgen::prelude::*;

fn js(r: Result<String, lab::Failure>) -> Result<String, JsError> {
    r.map_err(|e| JsError::new(&e))
}

/// A whole number from JavaScript (virtual µs, a packet number):
/// negative and NaN are 0, fractions are cut.
fn whole(t: f64) -> u64 {
    if t.is_finite() && t > 0.0 {
        t as u64
    } else {
        0
    }
}

/// The built-in scenarios: `[{name, description, scenario}]`.
#[wasm_bindgen]
pub fn presets() -> Result<String, JsError> {
    js(lab::presets_json())
}

/// A scenario (JSON), checked; returned as JSON.
#[wasm_bindgen]
pub fn parse_scenario(text: &str) -> Result<String, JsError> {
    js(
        lab::parse_scenario(text)
            .and_then(|s| serde_json::to_string(&s).map_err(|e| e.to_string())),
    )
}

/// A netem profile in its canonical spelling, or why it is not one.
#[wasm_bindgen]
pub fn check_netem(text: &str) -> Result<String, JsError> {
    js(lab::check_netem(text))
}

/// Runs a scenario to the end and returns its report, without the trace.
#[wasm_bindgen]
pub fn simulate(scenario: &str, seed: &str) -> Result<String, JsError> {
    js(lab::run_summary(scenario, seed))
}

/// This crate's version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").into()
}

/// One simulation the page plays, steps and inspects.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Run(lab::Run);

#[wasm_bindgen]
impl Run {
    /// A run of `scenario` (JSON) with `seed` (decimal text).
    #[wasm_bindgen(constructor)]
    pub fn new(scenario: &str, seed: &str) -> Result<Run, JsError> {
        lab::Run::new(scenario, seed)
            .map(Run)
            .map_err(|e| JsError::new(&e))
    }

    /// Runs every event up to virtual time `until_us`; false once over.
    pub fn advance(&mut self, until_us: f64) -> bool {
        self.0.advance(whole(until_us))
    }

    /// Runs to the end.
    pub fn finish(&mut self) {
        self.0.finish()
    }

    /// True once the run is over.
    pub fn done(&self) -> bool {
        self.0.done()
    }

    /// Virtual time now, µs.
    pub fn now_us(&self) -> f64 {
        self.0.now_us() as f64
    }

    /// When the next event is due (µs), or `undefined` once the run is over.
    pub fn next_event_us(&self) -> Option<f64> {
        self.0.next_event_us().map(|t| t as f64)
    }

    /// Trace records from number `k` on (JSON array).
    pub fn records_since(&self, k: usize) -> Result<String, JsError> {
        js(self.0.records_since(k))
    }

    /// Trace records so far.
    pub fn record_count(&self) -> usize {
        self.0.record_count()
    }

    /// The report so far (JSON, no trace).
    pub fn report(&self) -> Result<String, JsError> {
        js(self.0.report())
    }

    /// The summary `wirekit sim` prints.
    pub fn summary(&self) -> String {
        self.0.summary()
    }

    /// The trace hash so far, hex.
    pub fn trace_hash(&self) -> String {
        self.0.trace_hash()
    }

    /// The run as a pcap file.
    pub fn pcap(&self) -> Vec<u8> {
        self.0.pcap()
    }

    /// The trace as JSON lines.
    pub fn trace_jsonl(&self) -> Result<String, JsError> {
        js(self.0.trace_jsonl())
    }

    /// Packet `n` decoded (JSON, or `null`).
    pub fn packet(&self, n: f64) -> Result<String, JsError> {
        js(self.0.packet(whole(n)))
    }

    /// Every application's state at virtual time `t_us` (JSON).
    pub fn states_at(&self, t_us: f64) -> Result<String, JsError> {
        js(self.0.states_at(whole(t_us)))
    }

    /// The hosts (JSON).
    pub fn hosts(&self) -> Result<String, JsError> {
        js(self.0.hosts())
    }

    /// The applications (JSON).
    pub fn apps(&self) -> Result<String, JsError> {
        js(self.0.apps())
    }
}

//! Runs one preset and prints its summary, like `wirekit sim` will:
//! `cargo run -p wirekit-core --features sim --example sim_run -- PRESET [SEED] [PCAP]`.

use wirekit_core::sim::{Options, preset, presets, run_with};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        for s in presets() {
            println!("{:24} {}", s.name, s.description);
        }
        return;
    };
    let scenario = preset(&name).unwrap_or_else(|e| panic!("{e}"));
    let seed = args
        .next()
        .map_or(scenario.seed, |s| s.parse().expect("a numeric seed"));
    let pcap_path = args.next();
    let options = Options {
        keep_trace: false,
        pcap: pcap_path.is_some(),
    };
    let r = run_with(&scenario, seed, options).unwrap_or_else(|e| panic!("{e}"));
    println!("scenario: {} (seed {})", r.scenario, r.seed);
    println!("outcome: {:?}", r.outcome);
    if let Some(t) = r.completed_at {
        println!("completed at: {t}");
    }
    println!("ended at: {}", r.ended_at);
    println!(
        "delivered: {} bytes, goodput {} bit/s",
        r.delivered_bytes, r.goodput_bps
    );
    println!(
        "tcp retransmissions: {}, application retries: {}",
        r.tcp_retransmissions, r.app_retries
    );
    println!("drops: {:?}", r.drops);
    println!(
        "packets: {} sent, {} delivered; events {} ({} stale wakes)",
        r.stats.packets_sent, r.stats.packets_delivered, r.stats.events, r.stats.stale_wakes
    );
    if let (Some(path), Some(pcap)) = (pcap_path, &r.pcap) {
        std::fs::write(&path, pcap).expect("write the pcap");
        println!("pcap: {path}");
    }
    println!("trace-hash: {}", r.trace_hash);
}

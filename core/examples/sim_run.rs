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
        ..Options::default()
    };
    let r = run_with(&scenario, seed, options).unwrap_or_else(|e| panic!("{e}"));
    if let (Some(path), Some(pcap)) = (pcap_path, &r.pcap) {
        std::fs::write(&path, pcap).expect("write the pcap");
        println!("pcap: {path}");
    }
    print!("{}", r.summary());
}

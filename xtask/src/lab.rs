//! `cargo xtask lab`: for now, an in-process demo of the core.

use anyhow::Result;
use wirekit_core::retry::{Backoff, BackoffConfig};

pub fn run() -> Result<()> {
    let mut backoff = Backoff::new(BackoffConfig::default(), 0)?;
    println!("UDP request retry schedule (the seeds' defaults):");
    while let Some(wait) = backoff.next_wait() {
        println!(
            "  attempt {}: wait {} ms",
            backoff.attempts(),
            wait.as_millis()
        );
    }
    println!("  then: the server looks down");
    Ok(())
}

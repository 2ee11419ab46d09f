//! A child process that has exited but was not waited for is a zombie.
use std::process::Command;
use std::time::{Duration, Instant};

/// The state letter Linux shows in /proc/PID/stat (R, S, Z, ...), or "gone".
fn state(pid: u32) -> String {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .map_or("?", |(_, rest)| &rest[..1])
            .to_string(),
        Err(_) => "gone".into(),
    }
}

fn main() -> std::io::Result<()> {
    // ANCHOR: spawn
    let mut child = Command::new("true").spawn()?; // fork() and exec(), done safely by std
    let pid = child.id();
    let start = Instant::now();
    while state(pid) != "Z" && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10)); // `true` exits at once
    }
    println!("the child has exited, nobody waited: state {}", state(pid));
    // ANCHOR_END: spawn
    // ANCHOR: reap
    let status = child.wait()?; // waitpid(): read the exit status, free the entry
    println!("after wait ({status}): {}", state(pid));
    // ANCHOR_END: reap
    Ok(())
}

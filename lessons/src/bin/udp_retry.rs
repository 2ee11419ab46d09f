//! A lost UDP reply: wait with a timeout, send again, wait twice as long.
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::thread;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    // ANCHOR: lossy_server
    let server = UdpSocket::bind("127.0.0.1:0")?;
    let addr = server.local_addr()?;
    thread::spawn(move || {
        let mut buf = [0; 1500];
        for n in 1.. {
            let Ok((len, from)) = server.recv_from(&mut buf) else {
                break;
            };
            if n % 3 != 0 {
                continue; // pretend the network lost two requests out of three
            }
            let _ = server.send_to(&buf[..len], from);
        }
    });
    // ANCHOR_END: lossy_server
    // ANCHOR: client
    let client = UdpSocket::bind("127.0.0.1:0")?;
    client.connect(addr)?;
    let mut wait = Duration::from_millis(100);
    let mut buf = [0; 1500];
    for attempt in 1..=5 {
        client.send(b"are you there?")?;
        client.set_read_timeout(Some(wait))?;
        match client.recv(&mut buf) {
            Ok(n) => {
                println!(
                    "attempt {attempt}: reply {:?}",
                    String::from_utf8_lossy(&buf[..n])
                );
                return Ok(());
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                println!("attempt {attempt}: no reply within {} ms", wait.as_millis());
                wait *= 2; // exponential backoff
            }
            Err(e) => return Err(e),
        }
    }
    println!("giving up: the server looks down");
    // ANCHOR_END: client
    Ok(())
}

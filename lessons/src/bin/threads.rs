//! A thread per connection: a silent client holds its thread, nobody else's.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    // ANCHOR: server
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream)); // the whole concurrency model is this line
        }
    });
    // ANCHOR_END: server
    // ANCHOR: clients
    let silent = TcpStream::connect(addr)?; // connects and says nothing
    let asks: Vec<_> = (1..=3)
        .map(|i| thread::spawn(move || ask(addr, i)))
        .collect();
    for ask in asks {
        println!("{}", ask.join().expect("a client thread")?);
    }
    drop(silent);
    // ANCHOR_END: clients
    Ok(())
}

// ANCHOR: serve
fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?; // blocks this thread only
    write!(stream, "hello, {}", line.trim_end())
}
// ANCHOR_END: serve

fn ask(addr: SocketAddr, i: u32) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    writeln!(stream, "client {i}")?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply)
}

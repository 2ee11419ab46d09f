//! UDP: a socket gets its port at the first send, and `connect` filters replies.
use socket2::{Domain, Socket, Type};
use std::net::UdpSocket;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let server = UdpSocket::bind("127.0.0.1:0")?;
    let server_addr = server.local_addr()?;
    // ANCHOR: ephemeral
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, None)?; // socket(AF_INET, SOCK_DGRAM)
    let before = socket.local_addr()?.as_socket().expect("an IP socket");
    println!("before the first send: {before}");
    socket.send_to(b"ping", &server_addr.into())?; // the kernel binds a free port here
    let client: UdpSocket = socket.into();
    let after = client.local_addr()?;
    println!("after the first send:  {after}");
    // ANCHOR_END: ephemeral
    // ANCHOR: reply
    let mut buf = [0; 1500];
    let (n, from) = server.recv_from(&mut buf)?;
    println!(
        "server got {:?}; from our port? {}",
        String::from_utf8_lossy(&buf[..n]),
        from.port() == after.port()
    );
    server.send_to(b"pong", from)?;
    // ANCHOR_END: reply
    // ANCHOR: filter
    client.connect(server_addr)?; // from now on, only the server's datagrams get in
    let stranger = UdpSocket::bind("127.0.0.1:0")?;
    stranger.send_to(b"I am the server, honest", ("127.0.0.1", after.port()))?;
    client.set_read_timeout(Some(Duration::from_millis(200)))?;
    for _ in 0..2 {
        match client.recv(&mut buf) {
            Ok(n) => println!("client got {:?}", String::from_utf8_lossy(&buf[..n])),
            Err(e) => println!("client got nothing within 200 ms ({:?})", e.kind()),
        }
    }
    // ANCHOR_END: filter
    Ok(())
}

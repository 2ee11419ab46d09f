//! Async tasks: a thousand connections served without a thread each (smol).
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    smol::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // ANCHOR: server
        let _server = smol::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                smol::spawn(async move {
                    let mut buf = [0; 1024]; // a task: a small state machine, not a stack
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                })
                .detach();
            }
        });
        // ANCHOR_END: server
        // ANCHOR: clients
        let asks: Vec<_> = (0..1000)
            .map(|i| {
                smol::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await?;
                    let text = format!("task {i}");
                    stream.write_all(text.as_bytes()).await?;
                    let mut back = vec![0; text.len()];
                    stream.read_exact(&mut back).await?;
                    Ok::<bool, std::io::Error>(back == text.as_bytes())
                })
            })
            .collect();
        let mut echoed = 0;
        for ask in asks {
            echoed += usize::from(ask.await?);
        }
        println!("{echoed} of 1000 connections got their echo");
        // ANCHOR_END: clients
        Ok(())
    })
}

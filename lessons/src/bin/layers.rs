//! Encapsulation: each layer wraps the bytes of the layer above in a header
//! of its own. Builds, by hand, the Ethernet frame that carries "hi\n" to a
//! UDP echo server on 127.0.0.1:7007, and dumps it.
use wirekit_lessons::hexdump;

fn main() {
    // ANCHOR: app
    let app = b"hi\n".to_vec(); // what the echo client wants to say
    // ANCHOR_END: app
    // ANCHOR: udp
    let mut udp = Vec::new();
    udp.extend(50_000u16.to_be_bytes()); // source port: the client's
    udp.extend(7007u16.to_be_bytes()); // destination port: the echo server's
    udp.extend((8 + app.len() as u16).to_be_bytes()); // length: header and data
    udp.extend([0, 0]); // checksum 0 means "not computed" (allowed over IPv4)
    udp.extend(&app);
    // ANCHOR_END: udp
    // ANCHOR: ip
    let mut ip = vec![0x45, 0x00]; // version 4, a header of 5 words; no priority
    ip.extend((20 + udp.len() as u16).to_be_bytes()); // total length
    ip.extend([0x00, 0x00, 0x40, 0x00]); // identification; flags: don't fragment
    ip.extend([64, 17, 0x00, 0x00]); // time to live, protocol 17 = UDP, checksum
    ip.extend([127, 0, 0, 1]); // source address
    ip.extend([127, 0, 0, 1]); // destination address
    ip.extend(&udp);
    // ANCHOR_END: ip
    // ANCHOR: ethernet
    let mut frame = vec![0x02, 0x00, 0x00, 0x00, 0x00, 0x02]; // destination MAC
    frame.extend([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]); // source MAC
    frame.extend(0x0800u16.to_be_bytes()); // EtherType: an IPv4 packet follows
    frame.extend(&ip);
    // ANCHOR_END: ethernet
    let sizes = (app.len(), udp.len(), ip.len(), frame.len());
    println!(
        "application {} bytes, UDP {}, IPv4 {}, Ethernet {}",
        sizes.0, sizes.1, sizes.2, sizes.3
    );
    print!("{}", hexdump(&frame));
}

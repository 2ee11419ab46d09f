//! Byte order: what htons, ntohs, inet_aton and inet_ntoa do, in Rust.
use std::net::Ipv4Addr;
use wirekit_lessons::hexdump;

fn main() {
    // ANCHOR: port
    let port: u16 = 7007;
    println!("{port} is {port:#06x}");
    println!(
        "big-endian, network order (htons): {:02x?}",
        port.to_be_bytes()
    );
    println!(
        "little-endian, as x86 and most ARM keep it: {:02x?}",
        port.to_le_bytes()
    );
    println!(
        "read back as big-endian (ntohs): {}",
        u16::from_be_bytes([0x1b, 0x5f])
    );
    println!(
        "read back the wrong way round: {}",
        u16::from_le_bytes([0x1b, 0x5f])
    );
    // ANCHOR_END: port
    // ANCHOR: ipv4
    let ip: Ipv4Addr = "192.168.1.247".parse().expect("a dotted quad"); // inet_aton
    println!(
        "{ip}: bytes {:?}, one number {:#010x}",
        ip.octets(),
        u32::from(ip)
    );
    println!("and back (inet_ntoa): {}", Ipv4Addr::from(0xc0a8_01f7));
    // ANCHOR_END: ipv4
    // ANCHOR: dump
    let mut wire = Vec::new();
    wire.extend(4u16.to_be_bytes()); // a TFTP ACK (opcode 4) ...
    wire.extend(258u16.to_be_bytes()); // ... of block 258
    wire.extend(4_004_332_243u32.to_be_bytes()); // an RFC 868 time answer
    print!("{}", hexdump(&wire));
    // ANCHOR_END: dump
}

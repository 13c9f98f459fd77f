//! Whatever arrives on the local socket, in either direction: decoded
//! strictly or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfuse_link::local::{decode, ToApp, ToLink};

fuzz_target!(|data: &[u8]| {
    let _ = decode::<ToLink>(data);
    let _ = decode::<ToApp>(data);
    // And as a body behind a valid header.
    let mut packet = b"PFLK\x01\x00".to_vec();
    packet.extend_from_slice(&(data.len().min(u16::MAX as usize) as u16).to_le_bytes());
    packet.extend_from_slice(data);
    let _ = decode::<ToLink>(&packet);
    let _ = decode::<ToApp>(&packet);
});

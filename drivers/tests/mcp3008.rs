//! Bus-level tests of the mcp3008 driver: scripted transactions, ended with `.done()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unused_imports
)]

use embedded_hal_mock::eh1::spi::{Mock, Transaction};
use perfuse_drivers::mcp3008::*;
use perfuse_drivers::Error;

fn conversion(command: u8, reply: [u8; 3]) -> Vec<Transaction<u8>> {
    vec![
        Transaction::transaction_start(),
        Transaction::transfer_in_place(vec![0x01, command, 0x00], reply.to_vec()),
        Transaction::transaction_end(),
    ]
}

#[test]
fn reads_a_single_ended_channel() {
    let mut expected = conversion(0x80, [0x00, 0x02, 0x9A]);
    expected.extend(conversion(0xF0, [0x00, 0x03, 0xFF]));
    let mut adc = Mcp3008::new(Mock::new(&expected));
    assert_eq!(
        adc.read(Channel::try_from(0).unwrap()).unwrap().get(),
        0x29A
    );
    assert_eq!(adc.read(Channel::try_from(7).unwrap()).unwrap().get(), 1023);
    adc.release().done();
}

#[test]
fn a_floating_bus_is_an_error_not_a_reading() {
    let expected = conversion(0x90, [0xFF, 0xFF, 0xFF]);
    let mut adc = Mcp3008::new(Mock::new(&expected));
    assert!(matches!(
        adc.read(Channel::try_from(1).unwrap()),
        Err(Error::UnexpectedResponse(_))
    ));
    adc.release().done();
}

#[test]
fn channels_beyond_seven_do_not_exist() {
    assert!(Channel::try_from(8).is_err());
    assert!(AdcCounts::new(1024).is_none());
}

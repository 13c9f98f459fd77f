//! Bus-level tests of the ls7366r driver: scripted transactions, ended with `.done()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unused_imports
)]

use embedded_hal_mock::eh1::spi::{Mock, Transaction};
use perfuse_drivers::ls7366r::*;
use perfuse_drivers::Error;

fn framed(inner: Transaction<u8>) -> Vec<Transaction<u8>> {
    vec![
        Transaction::transaction_start(),
        inner,
        Transaction::transaction_end(),
    ]
}

#[test]
fn configures_verifies_and_counts_both_ways() {
    let mut expected = Vec::new();
    expected.extend(framed(Transaction::write_vec(vec![0x88, 0x03])));
    expected.extend(framed(Transaction::write_vec(vec![0x90, 0x00])));
    expected.extend(framed(Transaction::transfer_in_place(
        vec![0x48, 0],
        vec![0xFF, 0x03],
    )));
    expected.extend(framed(Transaction::write_vec(vec![0x20])));
    expected.extend(framed(Transaction::transfer_in_place(
        vec![0x60, 0, 0, 0, 0],
        vec![0, 0, 0, 0x12, 0x34],
    )));
    expected.extend(framed(Transaction::transfer_in_place(
        vec![0x60, 0, 0, 0, 0],
        vec![0, 0xFF, 0xFF, 0xFF, 0xFE],
    )));
    let mut counter = Ls7366r::new(Mock::new(&expected));
    counter.configure().unwrap();
    assert_eq!(counter.count().unwrap(), EncoderCounts(0x1234));
    assert_eq!(counter.count().unwrap(), EncoderCounts(-2));
    counter.release().done();
}

#[test]
fn a_missing_counter_is_detected() {
    let mut expected = Vec::new();
    expected.extend(framed(Transaction::write_vec(vec![0x88, 0x03])));
    expected.extend(framed(Transaction::write_vec(vec![0x90, 0x00])));
    expected.extend(framed(Transaction::transfer_in_place(
        vec![0x48, 0],
        vec![0xFF, 0xFF],
    )));
    let mut counter = Ls7366r::new(Mock::new(&expected));
    assert!(matches!(
        counter.configure(),
        Err(Error::UnexpectedResponse(_))
    ));
    counter.release().done();
}

#[test]
fn a_checked_count_proves_the_counter_still_answers() {
    let mut expected = Vec::new();
    expected.extend(framed(Transaction::transfer_in_place(
        vec![0x48, 0],
        vec![0xFF, 0x03],
    )));
    expected.extend(framed(Transaction::transfer_in_place(
        vec![0x60, 0, 0, 0, 0],
        vec![0, 0, 0, 0x01, 0x00],
    )));
    // Gone silent: MDR0 reads all ones, and no count is taken.
    expected.extend(framed(Transaction::transfer_in_place(
        vec![0x48, 0],
        vec![0xFF, 0xFF],
    )));
    let mut counter = Ls7366r::new(Mock::new(&expected));
    assert_eq!(counter.checked_count().unwrap(), EncoderCounts(0x100));
    assert!(matches!(
        counter.checked_count(),
        Err(Error::UnexpectedResponse(_))
    ));
    counter.release().done();
}

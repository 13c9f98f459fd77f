//! Bus-level tests of the tmc5160 driver: scripted transactions, ended with `.done()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unused_imports
)]

use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as PinTransaction};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as SpiTransaction};
use perfuse_drivers::tmc5160::*;
use perfuse_drivers::Error;

/// One datagram on the bus: chip select, 5 bytes each way, deselect.
fn datagram(sent: [u8; 5], received: [u8; 5]) -> Vec<SpiTransaction<u8>> {
    vec![
        SpiTransaction::transaction_start(),
        SpiTransaction::transfer_in_place(sent.to_vec(), received.to_vec()),
        SpiTransaction::transaction_end(),
    ]
}

fn config() -> DriverConfig {
    DriverConfig {
        microsteps: Microsteps::try_from(16).unwrap(),
        run_current: CurrentScale::try_from(20).unwrap(),
        hold_current: CurrentScale::try_from(8).unwrap(),
        global_scaler: 0,
    }
}

#[test]
fn configure_checks_the_version_then_writes_every_register() {
    let chop = chopconf(Microsteps::try_from(16).unwrap());
    assert_eq!(
        chop, 0x3401_00C3,
        "MRES 4 for 16 microsteps, dedge, intpol, TBL 2, HEND 1, HSTRT 4, TOFF 3"
    );
    let mut expected = Vec::new();
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0x09, 0, 0, 0, 0]));
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0x09, 0x30, 0x00, 0x00, 0x5F]));
    expected.extend(datagram([0x81, 0, 0, 0, 0x07], [0x09, 0, 0, 0, 0]));
    expected.extend(datagram([0x80, 0, 0, 0, 0], [0x08, 0, 0, 0, 0]));
    expected.extend(datagram([0x8B, 0, 0, 0, 0], [0x08, 0, 0, 0, 0]));
    expected.extend(datagram([0x90, 0, 0x06, 20, 8], [0x08, 0, 0, 0, 0]));
    expected.extend(datagram([0x91, 0, 0, 0, 10], [0x08, 0, 0, 0, 0]));
    expected.extend(datagram([0xEC, 0x34, 0x01, 0x00, 0xC3], [0x08, 0, 0, 0, 0]));
    let mut driver = Tmc5160::new(SpiMock::new(&expected));
    driver.configure(&config()).unwrap();
    assert!(driver.last_status().standstill());
    driver.release().done();
}

#[test]
fn a_chip_of_another_version_is_refused() {
    let mut expected = Vec::new();
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0, 0, 0, 0, 0]));
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0, 0x11, 0, 0, 0]));
    let mut driver = Tmc5160::new(SpiMock::new(&expected));
    assert!(matches!(
        driver.configure(&config()),
        Err(Error::UnexpectedResponse(_))
    ));
    driver.release().done();
}

#[test]
fn an_absent_chip_reads_as_all_ones_and_is_refused() {
    let mut expected = Vec::new();
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0xFF; 5]));
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0xFF; 5]));
    let mut driver = Tmc5160::new(SpiMock::new(&expected));
    assert!(matches!(
        driver.configure(&config()),
        Err(Error::UnexpectedResponse(_))
    ));
    driver.release().done();
}

#[test]
fn a_silent_chip_gives_no_status_made_of_noise() {
    // MISO stuck high: every register reads all ones, every flag "set".
    let mut expected = Vec::new();
    for address in [0x6F, 0x01, 0x04] {
        expected.extend(datagram([address, 0, 0, 0, 0], [0xFF; 5]));
        expected.extend(datagram([address, 0, 0, 0, 0], [0xFF; 5]));
    }
    let mut driver = Tmc5160::new(SpiMock::new(&expected));
    assert!(matches!(driver.status(), Err(Error::UnexpectedResponse(_))));
    driver.release().done();
}

#[test]
fn enabled_reads_drv_enn_from_ioin_and_a_silent_chip_counts_as_disabled() {
    let mut expected = Vec::new();
    // Version 0x30, DRV_ENN (bit 4) low: enabled.
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0x00, 0, 0, 0, 0]));
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0x00, 0x30, 0, 0, 0x0F]));
    // DRV_ENN high: the supervisor holds the power stage off.
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0x00, 0, 0, 0, 0]));
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0x00, 0x30, 0, 0, 0x10]));
    // MISO stuck low: version 0, bit 4 low, but no TMC5160 answered.
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0; 5]));
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0; 5]));
    let mut driver = Tmc5160::new(SpiMock::new(&expected));
    assert!(driver.enabled().unwrap());
    assert!(!driver.enabled().unwrap());
    assert!(
        !driver.enabled().unwrap(),
        "a chip that does not answer is never stepped blind"
    );
    driver.release().done();
}

#[test]
fn status_decodes_faults() {
    // DRV_STATUS: ot (25) and s2ga (27), CS_ACTUAL 20; GSTAT drv_err.
    let drv_status: u32 = (1 << 25) | (1 << 27) | (20 << 16);
    let [a, b, c, d] = drv_status.to_be_bytes();
    let mut expected = Vec::new();
    expected.extend(datagram([0x6F, 0, 0, 0, 0], [0x02, 0, 0, 0, 0]));
    expected.extend(datagram([0x6F, 0, 0, 0, 0], [0x02, a, b, c, d]));
    expected.extend(datagram([0x01, 0, 0, 0, 0], [0x02, 0, 0, 0, 0]));
    expected.extend(datagram([0x01, 0, 0, 0, 0], [0x02, 0, 0, 0, 0x02]));
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0x02, 0, 0, 0, 0]));
    expected.extend(datagram([0x04, 0, 0, 0, 0], [0x02, 0x30, 0, 0, 0x10]));
    let mut driver = Tmc5160::new(SpiMock::new(&expected));
    let status = driver.status().unwrap();
    assert!(status.overtemperature && status.short_to_ground_a && status.driver_error);
    assert!(!status.short_to_ground_b && !status.stall);
    assert_eq!(status.current_scale, 20);
    assert!(status.enable_off, "IOIN bit 4: DRV_ENN high");
    assert!(status.is_fault());
    assert!(driver.last_status().driver_error());
    driver.release().done();
}

#[test]
fn open_load_is_a_fault_only_while_moving() {
    let open_load_at_rest = DriverStatus::decode((1 << 31) | (1 << 29), 0);
    assert!(!open_load_at_rest.is_fault());
    let open_load_moving = DriverStatus::decode(1 << 29, 0);
    assert!(open_load_moving.is_fault());
    assert!(!DriverStatus::decode(1 << 31, 0).is_fault());
}

#[test]
fn invalid_settings_are_refused_without_touching_the_bus() {
    assert!(Microsteps::try_from(3).is_err());
    assert!(Microsteps::try_from(512).is_err());
    assert!(CurrentScale::try_from(32).is_err());
    let mut driver = Tmc5160::new(SpiMock::new(&[]));
    let bad = DriverConfig {
        global_scaler: 16,
        ..config()
    };
    assert!(matches!(
        driver.configure(&bad),
        Err(Error::InvalidInput(_))
    ));
    driver.release().done();
}

#[test]
fn each_step_toggles_step_and_dir_changes_only_on_reversal() {
    let step = PinMock::new(&[
        PinTransaction::set(State::High),
        PinTransaction::set(State::Low),
        PinTransaction::set(State::High),
    ]);
    let dir = PinMock::new(&[
        PinTransaction::set(State::High),
        PinTransaction::set(State::Low),
    ]);
    let mut pins = StepDir::new(step, dir);
    pins.step(Direction::Forward).unwrap();
    pins.step(Direction::Forward).unwrap();
    pins.step(Direction::Reverse).unwrap();
    let (mut step, mut dir) = pins.release();
    step.done();
    dir.done();
}

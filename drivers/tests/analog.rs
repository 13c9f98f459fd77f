//! Bus-level tests of the analog driver: scripted transactions, ended with `.done()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unused_imports
)]

use perfuse_drivers::analog::*;
use perfuse_drivers::mcp3008::AdcCounts;
use perfuse_drivers::Error;

fn counts(value: u16) -> AdcCounts {
    AdcCounts::new(value).unwrap()
}

#[test]
fn pressure_converts_linearly_and_in_both_units() {
    // 102 counts at 0 Pa, 921 counts at 100 kPa (a 0.5-4.5 V transducer).
    let sensor = PressureSensor(Calibration::new(102, 921, 100_000, 20, 1003).unwrap());
    assert_eq!(sensor.pressure(counts(102)).unwrap(), Pascals(0));
    assert_eq!(sensor.pressure(counts(921)).unwrap(), Pascals(100_000));
    let mid = sensor.pressure(counts(511)).unwrap();
    assert_eq!(mid, Pascals(49_938));
    assert_eq!(mid.kilopascals(), 49);
    assert_eq!(Pascals(13_332).tenths_of_mmhg(), 999);
    // Below zero (suction upstream) is a real reading, not a fault.
    assert!(sensor.pressure(counts(60)).unwrap().0 < 0);
}

#[test]
fn rail_readings_are_sensor_faults() {
    let sensor = PressureSensor(Calibration::new(102, 921, 100_000, 20, 1003).unwrap());
    let fault = sensor.pressure(counts(1023)).unwrap_err();
    assert_eq!(
        fault,
        SensorFault {
            counts: 1023,
            allowed_min: 20,
            allowed_max: 1003
        }
    );
    assert!(fault.to_string().contains("open circuit or short"));
    assert!(sensor.pressure(counts(0)).is_err());
}

#[test]
fn degenerate_calibrations_are_refused() {
    assert!(Calibration::new(100, 100, 1000, 10, 1000).is_err());
    assert!(Calibration::new(100, 900, 1000, 1000, 10).is_err());
    assert!(Calibration::new(100, 900, 1000, 10, 2000).is_err());
}

#[test]
fn plunger_position_in_micrometres() {
    let sensor = PositionSensor(Calibration::new(50, 950, 60_000, 10, 1013).unwrap());
    assert_eq!(sensor.position(counts(500)).unwrap(), Micrometres(30_000));
}

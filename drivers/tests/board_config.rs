//! The board configuration: the reference file is valid and matches the
//! simulated board's wiring; every kind of bad assignment is refused with a
//! message naming it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse_drivers::config::{BoardConfig, SpiAddress, REFERENCE_TOML, SIGNALS};
use perfuse_sim::SimWiring;

fn problems_of(text: &str) -> Vec<String> {
    BoardConfig::from_toml(text).unwrap_err().problems
}

fn edited(from: &str, to: &str) -> String {
    assert!(REFERENCE_TOML.contains(from), "{from}");
    REFERENCE_TOML.replacen(from, to, 1)
}

#[test]
fn the_reference_configuration_is_valid_and_is_what_the_simulator_wires() {
    let config = BoardConfig::from_toml(REFERENCE_TOML).unwrap();
    let pins = config.pins;
    let sim = SimWiring::REFERENCE;
    assert_eq!(
        (
            pins.step,
            pins.direction,
            pins.motor_enable,
            pins.air_sensor,
            pins.door,
            pins.container
        ),
        (
            sim.step,
            sim.direction,
            sim.motor_enable,
            sim.air_sensor,
            sim.door,
            sim.container
        )
    );
    assert_eq!(
        (pins.buzzer, pins.light_red, pins.light_yellow),
        (sim.buzzer, sim.light_red, sim.light_yellow)
    );
    assert_eq!(
        (pins.buzzer_attenuate_a, pins.buzzer_attenuate_b),
        (sim.buzzer_attenuate_a, sim.buzzer_attenuate_b)
    );
    assert_eq!((pins.demand, sim.demand), (16, 16));
    assert_eq!(SimWiring::from(pins), sim);
    assert_eq!(
        config.spi.stepper,
        SpiAddress {
            bus: 0,
            chip_select: 0
        }
    );
    assert_eq!(config.spi.encoder.to_string(), "/dev/spidev1.0");
    assert_eq!(config.debounce_samples, 3);
}

#[test]
fn a_missing_pin_is_named() {
    let problems = problems_of(&edited("door = 6 ", "# door = 6 "));
    assert_eq!(
        problems,
        vec!["pins.door is not assigned: every signal needs a BCM GPIO number".to_owned()]
    );
}

#[test]
fn the_demand_button_is_required_like_every_signal() {
    let problems = problems_of(&edited("demand = 16 ", "# demand = 16 "));
    assert_eq!(
        problems,
        vec!["pins.demand is not assigned: every signal needs a BCM GPIO number".to_owned()]
    );
    let problems = problems_of(&edited("demand = 16 ", "demand = 13 "));
    assert_eq!(
        problems,
        vec!["pins.container and pins.demand both use GPIO 13".to_owned()]
    );
    let problems = problems_of(&edited("demand = 16 ", "demand = 28 "));
    assert_eq!(
        problems,
        vec![
            "pins.demand = 28: use a header GPIO from 2 to 27 (0 and 1 carry the identity EEPROM)"
                .to_owned()
        ]
    );
    // GPIO 16 is SPI1's third chip select: free only while nothing uses it.
    let problems = problems_of(&edited("encoder = \"1.0\"", "encoder = \"1.2\""));
    assert_eq!(
        problems,
        vec![
            "spi.encoder (chip select /dev/spidev1.2) and pins.demand both use GPIO 16".to_owned()
        ]
    );
}

#[test]
fn the_signal_list_and_the_pin_listing_agree() {
    let config = BoardConfig::from_toml(REFERENCE_TOML).unwrap();
    let listed: Vec<&str> = config.pins.all().iter().map(|(name, _)| *name).collect();
    assert_eq!(listed, SIGNALS.to_vec());
    assert!(config.pins.all().contains(&("demand", 16)));
}

#[test]
fn two_signals_on_one_pin_are_named() {
    let problems = problems_of(&edited("door = 6 ", "door = 23 "));
    assert_eq!(
        problems,
        vec!["pins.step and pins.door both use GPIO 23".to_owned()]
    );
}

#[test]
fn a_signal_on_an_spi_line_or_chip_select_is_refused() {
    let problems = problems_of(&edited("light_yellow = 27 ", "light_yellow = 10 "));
    assert_eq!(
        problems,
        vec!["SPI0 MOSI and pins.light_yellow both use GPIO 10".to_owned()]
    );
    let problems = problems_of(&edited("light_red = 26 ", "light_red = 18 "));
    assert_eq!(
        problems,
        vec![
            "spi.encoder (chip select /dev/spidev1.0) and pins.light_red both use GPIO 18"
                .to_owned()
        ]
    );
    let problems = problems_of(&edited("adc = \"0.1\"", "adc = \"0.0\""));
    assert!(
        problems[0].contains("spi.stepper") && problems[0].contains("spi.adc"),
        "{problems:?}"
    );
}

#[test]
fn out_of_range_and_malformed_entries_say_what_is_allowed() {
    let problems = problems_of(&edited("step = 23 ", "step = 1 "));
    assert!(
        problems[0].contains("use a header GPIO from 2 to 27"),
        "{problems:?}"
    );
    let problems = problems_of(&edited("stepper = \"0.0\"", "stepper = \"spidev0\""));
    assert!(
        problems[0].contains("must be \"bus.chip_select\""),
        "{problems:?}"
    );
    let problems = problems_of(&edited("encoder = \"1.0\"", "encoder = \"3.0\""));
    assert!(problems[0].contains("bus 3 is not wired"), "{problems:?}");
    let problems = problems_of(&edited("step = 23 ", "stpe = 23 "));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("pins.stpe is not a signal")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("pins.step is not assigned")),
        "{problems:?}"
    );
    let problems = problems_of(&edited("debounce_samples = 3", "debounce_samples = 0"));
    assert!(problems[0].contains("1 to 64"), "{problems:?}");
    let problems = problems_of("not toml at all [");
    assert_eq!(problems.len(), 1);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = edited("door = 6 ", "door = 23 ").replacen("buzzer = 12 ", "# buzzer", 1);
    let error = BoardConfig::from_toml(&text).unwrap_err();
    assert_eq!(error.problems.len(), 2, "{error}");
    assert!(error
        .to_string()
        .starts_with("the board configuration cannot be used (see docs/wiring.md):"));
}

#[test]
fn the_buzzer_must_be_on_a_hardware_pwm_pin() {
    let problems = problems_of(&edited("buzzer = 12 ", "buzzer = 17 "));
    assert_eq!(
        problems,
        vec![
            "pins.buzzer = 17 cannot play a hardware PWM tone: use GPIO 12 or 18 (PWM0), or 13 or 19 (PWM1)".to_owned(),
            "pins.buzzer and pins.buzzer_hold both use GPIO 17".to_owned(),
        ]
    );
    for (pin, channel) in [(12, 0), (13, 1)] {
        let text = edited("buzzer = 12 ", &format!("buzzer = {pin} "));
        let text = if pin == 13 {
            text.replacen("container = 13 ", "container = 14 ", 1)
        } else {
            text
        };
        let config = perfuse_drivers::config::BoardConfig::from_toml(&text).unwrap();
        assert_eq!(config.pins.pwm_channel(), Some(channel), "GPIO {pin}");
    }
}

#[test]
fn the_real_time_clocks_i2c_lines_are_not_free() {
    let problems = problems_of(&edited("door = 6 ", "door = 2 "));
    assert_eq!(
        problems,
        vec!["the real-time clock's I2C1 SDA and pins.door both use GPIO 2".to_owned()]
    );
    let problems = problems_of(&edited("light_red = 26 ", "light_red = 3 "));
    assert_eq!(
        problems,
        vec!["the real-time clock's I2C1 SCL and pins.light_red both use GPIO 3".to_owned()]
    );
}

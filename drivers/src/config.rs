//! The board configuration: which Pi header pin (BCM GPIO number) and which
//! SPI bus and chip select each signal of the pump uses. The same file
//! drives the Pi and Linux back-ends and the simulated board, so the wiring
//! is written down once (docs/wiring.md is its reference).
//!
//! A missing or conflicting assignment is a start-up error naming every
//! problem; nothing runs on a half-understood board.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// GPIO 0 and 1 carry the HAT EEPROM (ID_SD, ID_SC); 2 to 27 are on the header.
const FIRST_FREE_GPIO: u8 = 2;
const LAST_HEADER_GPIO: u8 = 27;

/// The signals, by the names the file uses.
pub const SIGNALS: [&str; 13] = [
    "step",
    "direction",
    "motor_enable",
    "air_sensor",
    "door",
    "container",
    "demand",
    "buzzer",
    "buzzer_attenuate_a",
    "buzzer_attenuate_b",
    "buzzer_hold",
    "light_red",
    "light_yellow",
];

/// Pins of every signal, as BCM GPIO numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pins {
    pub step: u8,
    pub direction: u8,
    /// The stepper driver's DRV_ENN (low enables; a pull-up keeps it disabled).
    pub motor_enable: u8,
    /// High while air is in front of the sensor.
    pub air_sensor: u8,
    /// High while the door is closed (a broken wire reads "open").
    pub door: u8,
    /// High while a syringe or set is loaded.
    pub container: u8,
    /// The PCA patient demand button: high while pressed; a pull-down makes
    /// a broken wire or an unplugged handset read "not pressed".
    pub demand: u8,
    /// The buzzer's tone: a hardware PWM pin (12 or 18 for PWM0, 13 or 19
    /// for PWM1), so the pitch never depends on the CPU.
    pub buzzer: u8,
    /// The buzzer's attenuator lines: high switches in -6 dB (A) and
    /// -12 dB (B); pull-downs keep an undriven buzzer at its loudest.
    pub buzzer_attenuate_a: u8,
    pub buzzer_attenuate_b: u8,
    /// The fail-safe sounder's hold: the supervisor toggles it every period;
    /// when the toggling stops (supervisor dead, board in reset) the
    /// carrier's own sounder starts, at the loudest (docs/wiring.md).
    pub buzzer_hold: u8,
    pub light_red: u8,
    pub light_yellow: u8,
}

/// An SPI device: bus and chip select (`/dev/spidev<bus>.<cs>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpiAddress {
    pub bus: u8,
    pub chip_select: u8,
}

impl fmt::Display for SpiAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/dev/spidev{}.{}", self.bus, self.chip_select)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpiDevices {
    pub stepper: SpiAddress,
    pub adc: SpiAddress,
    pub encoder: SpiAddress,
}

/// A validated board configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardConfig {
    pub name: String,
    pub pins: Pins,
    pub spi: SpiDevices,
    /// Equal samples an input needs before its new level is believed.
    pub debounce_samples: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    board: BoardSection,
    pins: BTreeMap<String, u8>,
    spi: BTreeMap<String, String>,
    inputs: InputsSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardSection {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputsSection {
    debounce_samples: u8,
}

/// Everything wrong with a board configuration, each problem in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the board configuration cannot be used (see docs/wiring.md):"
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Pins an SPI bus uses on the Pi 4: MISO, MOSI, SCLK, and the chip selects.
fn spi_bus_pins(bus: u8) -> Option<([u8; 3], &'static [u8])> {
    match bus {
        0 => Some(([9, 10, 11], &[8, 7])),
        1 => Some(([19, 20, 21], &[18, 17, 16])),
        _ => None,
    }
}

fn parse_spi(name: &str, text: &str, problems: &mut Vec<String>) -> Option<SpiAddress> {
    let parsed = text.split_once('.').and_then(|(bus, cs)| {
        Some(SpiAddress {
            bus: bus.parse().ok()?,
            chip_select: cs.parse().ok()?,
        })
    });
    let Some(address) = parsed else {
        problems.push(format!(
            "spi.{name} = \"{text}\" must be \"bus.chip_select\", such as \"0.0\""
        ));
        return None;
    };
    match spi_bus_pins(address.bus) {
        Some((_, selects)) if usize::from(address.chip_select) < selects.len() => Some(address),
        Some((_, selects)) => {
            problems.push(format!(
                "spi.{name}: bus {} has chip selects 0 to {}",
                address.bus,
                selects.len() - 1
            ));
            None
        }
        None => {
            problems.push(format!(
                "spi.{name}: bus {} is not wired on the Perfuse carrier (buses 0 and 1)",
                address.bus
            ));
            None
        }
    }
}

impl BoardConfig {
    /// Parses and validates a board configuration file's text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let file: File = toml::from_str(text).map_err(|error| ConfigError {
            problems: vec![error.to_string()],
        })?;
        let mut problems = Vec::new();
        for name in file.pins.keys() {
            if !SIGNALS.contains(&name.as_str()) {
                problems.push(format!(
                    "pins.{name} is not a signal of this board; the signals are {}",
                    SIGNALS.join(", ")
                ));
            }
        }
        let pin = |name: &str, problems: &mut Vec<String>| -> u8 {
            match file.pins.get(name) {
                Some(&gpio) if (FIRST_FREE_GPIO..=LAST_HEADER_GPIO).contains(&gpio) => gpio,
                Some(&gpio) => {
                    problems.push(format!(
                        "pins.{name} = {gpio}: use a header GPIO from {FIRST_FREE_GPIO} to {LAST_HEADER_GPIO} (0 and 1 carry the identity EEPROM)"
                    ));
                    0
                }
                None => {
                    problems.push(format!(
                        "pins.{name} is not assigned: every signal needs a BCM GPIO number"
                    ));
                    0
                }
            }
        };
        let pins = Pins {
            step: pin("step", &mut problems),
            direction: pin("direction", &mut problems),
            motor_enable: pin("motor_enable", &mut problems),
            air_sensor: pin("air_sensor", &mut problems),
            door: pin("door", &mut problems),
            container: pin("container", &mut problems),
            demand: pin("demand", &mut problems),
            buzzer: pin("buzzer", &mut problems),
            buzzer_attenuate_a: pin("buzzer_attenuate_a", &mut problems),
            buzzer_attenuate_b: pin("buzzer_attenuate_b", &mut problems),
            buzzer_hold: pin("buzzer_hold", &mut problems),
            light_red: pin("light_red", &mut problems),
            light_yellow: pin("light_yellow", &mut problems),
        };
        if pins.buzzer != 0 && pins.pwm_channel().is_none() {
            problems.push(format!(
                "pins.buzzer = {} cannot play a hardware PWM tone: use GPIO 12 or 18 (PWM0), or 13 or 19 (PWM1)",
                pins.buzzer
            ));
        }
        for name in file.spi.keys() {
            if !["stepper", "adc", "encoder"].contains(&name.as_str()) {
                problems.push(format!("spi.{name} is not a chip of this board; the chips are stepper, adc and encoder"));
            }
        }
        let spi_of = |name: &str, problems: &mut Vec<String>| match file.spi.get(name) {
            Some(text) => parse_spi(name, text, problems),
            None => {
                problems.push(format!(
                    "spi.{name} is not assigned: give its bus and chip select, such as \"0.0\""
                ));
                None
            }
        };
        let stepper = spi_of("stepper", &mut problems);
        let adc = spi_of("adc", &mut problems);
        let encoder = spi_of("encoder", &mut problems);
        if !(1..=64).contains(&file.inputs.debounce_samples) {
            problems.push(format!(
                "inputs.debounce_samples = {} must be 1 to 64",
                file.inputs.debounce_samples
            ));
        }
        let (Some(stepper), Some(adc), Some(encoder)) = (stepper, adc, encoder) else {
            return Err(ConfigError { problems });
        };
        let spi = SpiDevices {
            stepper,
            adc,
            encoder,
        };
        check_conflicts(&pins, &spi, &mut problems);
        if problems.is_empty() {
            Ok(Self {
                name: file.board.name,
                pins,
                spi,
                debounce_samples: file.inputs.debounce_samples,
            })
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Reads and validates a board configuration file.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            problems: vec![format!("cannot read {}: {error}", path.display())],
        })?;
        Self::from_toml(&text)
    }
}

impl Pins {
    /// The PWM channel the buzzer's pin carries (BCM2711, ALT0/ALT5).
    pub const fn pwm_channel(&self) -> Option<u8> {
        match self.buzzer {
            12 | 18 => Some(0),
            13 | 19 => Some(1),
            _ => None,
        }
    }

    /// (signal, GPIO) for every signal.
    pub fn all(&self) -> [(&'static str, u8); 13] {
        [
            ("step", self.step),
            ("direction", self.direction),
            ("motor_enable", self.motor_enable),
            ("air_sensor", self.air_sensor),
            ("door", self.door),
            ("container", self.container),
            ("demand", self.demand),
            ("buzzer", self.buzzer),
            ("buzzer_attenuate_a", self.buzzer_attenuate_a),
            ("buzzer_attenuate_b", self.buzzer_attenuate_b),
            ("buzzer_hold", self.buzzer_hold),
            ("light_red", self.light_red),
            ("light_yellow", self.light_yellow),
        ]
    }
}

fn check_conflicts(pins: &Pins, spi: &SpiDevices, problems: &mut Vec<String>) {
    let mut owner: BTreeMap<u8, String> = BTreeMap::new();
    let mut claim = |gpio: u8, who: String, problems: &mut Vec<String>| {
        if gpio == 0 {
            return; // already reported as unassigned or out of range
        }
        if let Some(first) = owner.get(&gpio) {
            problems.push(format!("{first} and {who} both use GPIO {gpio}"));
        } else {
            owner.insert(gpio, who);
        }
    };
    let devices = [
        ("stepper", spi.stepper),
        ("adc", spi.adc),
        ("encoder", spi.encoder),
    ];
    let mut buses: Vec<u8> = devices.iter().map(|(_, address)| address.bus).collect();
    buses.sort_unstable();
    buses.dedup();
    for bus in buses {
        if let Some((lines, _)) = spi_bus_pins(bus) {
            for (line, role) in lines.iter().zip(["MISO", "MOSI", "SCLK"]) {
                claim(*line, format!("SPI{bus} {role}"), problems);
            }
        }
    }
    for (name, address) in devices {
        let select = spi_bus_pins(address.bus)
            .and_then(|(_, selects)| selects.get(usize::from(address.chip_select)).copied())
            .unwrap_or(0);
        claim(
            select,
            format!("spi.{name} (chip select {address})"),
            problems,
        );
    }
    // I2C1 carries the carrier's real-time clock (docs/real-time-clock.md).
    claim(2, "the real-time clock's I2C1 SDA".to_owned(), problems);
    claim(3, "the real-time clock's I2C1 SCL".to_owned(), problems);
    for (name, gpio) in pins.all() {
        claim(gpio, format!("pins.{name}"), problems);
    }
}

/// The reference board configuration (assets/config/board.toml).
pub const REFERENCE_TOML: &str = include_str!("../../assets/config/board.toml");

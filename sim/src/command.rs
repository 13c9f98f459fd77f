//! The simulator's command protocol: what tests and usability facilitators
//! send to `perfuse-sim` to inject faults, clear them and read the ground
//! truth. One command per line; one JSON object per reply line:
//! `{"ok":true,...}` or `{"ok":false,"error":"..."}`. See docs/simulator.md.

use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use super::memory::chip_fault;
use super::physics::{Mechanism, Occlusion};
use super::simulator::Simulator;

/// What holds the fluid: the word a command names must fit the mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Syringe,
    Set,
}

/// Where an occlusion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Upstream,
    Downstream,
}

/// How the `demand` command works the PCA patient demand button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandPress {
    /// Pressed for this long, then released by the simulator on its own.
    For {
        milliseconds: u32,
    },
    /// Pressed and kept pressed (a stuck button).
    Hold,
    Release,
}

/// A plain `demand`: about how long a patient keeps the button down, ms.
pub const DEMAND_PRESS_MS: u32 = 300;
/// The shortest press `demand <ms>` takes, ms: well above the control
/// thread's debounce (a few 1 ms samples), so every press it sends is one
/// the app can see.
pub const DEMAND_PRESS_MIN_MS: u32 = 50;
/// The longest press `demand <ms>` takes, ms: a minute; longer is
/// `demand hold`.
pub const DEMAND_PRESS_MAX_MS: u32 = 60_000;

/// A parsed command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    Help,
    /// Ground truth and board state.
    Truth,
    Occlude {
        side: Side,
        severity: Occlusion,
    },
    ClearOcclusion {
        side: Side,
    },
    /// Removes air waiting in front of the air sensor.
    ClearAir,
    /// Clears every injected fault (occlusions, air, door, stall, encoder,
    /// chips) and releases the demand button.
    ClearAll,
    Air {
        microlitres: f64,
    },
    Door {
        open: bool,
    },
    Stall {
        on: bool,
    },
    EncoderFrozen {
        on: bool,
    },
    ChipFault {
        fault: u32,
        on: bool,
    },
    /// Sets the fluid left in the syringe or bag, mL.
    Reservoir {
        millilitres: f64,
    },
    /// Takes the syringe (`syringe removed`) or the administration set
    /// (`set removed`) out of the pump, or puts it back (`loaded`).
    Container {
        kind: ContainerKind,
        present: bool,
    },
    /// Works the PCA patient demand button.
    Demand {
        press: DemandPress,
    },
    /// Resets the board as the watchdog would.
    Reset,
}

pub const HELP: &str = "commands: truth | occlude upstream|downstream partial|full | clear upstream|downstream|air|all | \
air <microlitres> | door open|closed | stall on|off | encoder frozen|working | \
chip <overtemperature|short|open-load|stepper-silent|adc-silent|encoder-silent|stepper-hang> on|off | \
reservoir <millilitres> | syringe loaded|removed (syringe) | set loaded|removed (volumetric) | \
demand (a 300 ms press) | demand <50..60000 ms> | demand hold|release | reset | help. \
upstream occlusions exist on the volumetric mechanism only; clear all also releases the demand button";

fn chip_fault_named(name: &str) -> Option<u32> {
    match name {
        "overtemperature" => Some(chip_fault::OVERTEMPERATURE),
        "short" => Some(chip_fault::SHORT_TO_GROUND),
        "open-load" => Some(chip_fault::OPEN_LOAD),
        "stepper-silent" => Some(chip_fault::STEPPER_SILENT),
        "adc-silent" => Some(chip_fault::ADC_SILENT),
        "encoder-silent" => Some(chip_fault::ENCODER_SILENT),
        "stepper-hang" => Some(chip_fault::STEPPER_BUS_HANG),
        _ => None,
    }
}

fn on_off(word: Option<&str>, what: &str) -> Result<bool, String> {
    match word {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        other => Err(format!(
            "{what} takes on or off, not {}",
            other.unwrap_or("nothing")
        )),
    }
}

fn side(word: Option<&str>) -> Result<Side, String> {
    match word {
        Some("upstream") => Ok(Side::Upstream),
        Some("downstream") => Ok(Side::Downstream),
        other => Err(format!(
            "expected upstream or downstream, not {}",
            other.unwrap_or("nothing")
        )),
    }
}

fn positive_number(word: Option<&str>, what: &str, max: f64) -> Result<f64, String> {
    let text = word.ok_or_else(|| format!("{what} needs a number"))?;
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{what}: \"{text}\" is not a number"))?;
    if !value.is_finite() || value < 0.0 || value > max {
        return Err(format!("{what} must be between 0 and {max}, not {text}"));
    }
    Ok(value)
}

fn demand_press(word: Option<&str>) -> Result<DemandPress, String> {
    let text = match word {
        None => {
            return Ok(DemandPress::For {
                milliseconds: DEMAND_PRESS_MS,
            })
        }
        Some("hold") => return Ok(DemandPress::Hold),
        Some("release") => return Ok(DemandPress::Release),
        Some(text) => text,
    };
    let allowed = format!(
        "a press length of {DEMAND_PRESS_MIN_MS} to {DEMAND_PRESS_MAX_MS} whole milliseconds"
    );
    let milliseconds: i64 = text.parse().map_err(|_| {
        format!("demand takes nothing (a {DEMAND_PRESS_MS} ms press), {allowed}, hold or release, not \"{text}\"")
    })?;
    match u32::try_from(milliseconds) {
        Ok(milliseconds) if (DEMAND_PRESS_MIN_MS..=DEMAND_PRESS_MAX_MS).contains(&milliseconds) => {
            Ok(DemandPress::For { milliseconds })
        }
        _ => Err(format!(
            "demand {text}: give {allowed} (longer is demand hold, then demand release)"
        )),
    }
}

impl Command {
    /// Parses one line; the error says what is allowed.
    pub fn parse(line: &str) -> Result<Command, String> {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or_default();
        let first = words.next();
        let second = words.next();
        let command = match verb {
            "help" => Command::Help,
            "truth" => Command::Truth,
            "occlude" => {
                let side = side(first)?;
                let severity = match second {
                    Some("partial") => Occlusion::Partial,
                    Some("full") => Occlusion::Full,
                    other => {
                        return Err(format!(
                            "occlude takes partial or full, not {}",
                            other.unwrap_or("nothing")
                        ))
                    }
                };
                Command::Occlude { side, severity }
            }
            "clear" => match first {
                Some("all") => Command::ClearAll,
                Some("air") => Command::ClearAir,
                Some("upstream") => Command::ClearOcclusion {
                    side: Side::Upstream,
                },
                Some("downstream") => Command::ClearOcclusion {
                    side: Side::Downstream,
                },
                other => {
                    return Err(format!(
                        "clear takes upstream, downstream, air or all, not {}",
                        other.unwrap_or("nothing")
                    ))
                }
            },
            "air" => Command::Air {
                microlitres: positive_number(first, "air (microlitres)", 10_000.0)?,
            },
            "door" => match first {
                Some("open") => Command::Door { open: true },
                Some("closed") => Command::Door { open: false },
                other => {
                    return Err(format!(
                        "door takes open or closed, not {}",
                        other.unwrap_or("nothing")
                    ))
                }
            },
            "stall" => Command::Stall {
                on: on_off(first, "stall")?,
            },
            "encoder" => match first {
                Some("frozen") => Command::EncoderFrozen { on: true },
                Some("working") => Command::EncoderFrozen { on: false },
                other => {
                    return Err(format!(
                        "encoder takes frozen or working, not {}",
                        other.unwrap_or("nothing")
                    ))
                }
            },
            "chip" => {
                let name = first.unwrap_or_default();
                let fault = chip_fault_named(name).ok_or_else(|| {
                    format!("unknown chip fault \"{name}\": overtemperature, short, open-load, stepper-silent, adc-silent, encoder-silent or stepper-hang")
                })?;
                Command::ChipFault {
                    fault,
                    on: on_off(second, "chip")?,
                }
            }
            "reservoir" => Command::Reservoir {
                millilitres: positive_number(first, "reservoir (mL)", 10_000.0)?,
            },
            "syringe" | "set" => Command::Container {
                kind: if verb == "syringe" {
                    ContainerKind::Syringe
                } else {
                    ContainerKind::Set
                },
                present: match first {
                    Some("loaded") => true,
                    Some("removed") => false,
                    other => {
                        return Err(format!(
                            "{verb} takes loaded or removed, not {}",
                            other.unwrap_or("nothing")
                        ))
                    }
                },
            },
            "demand" => Command::Demand {
                press: demand_press(first)?,
            },
            "reset" => Command::Reset,
            "" => return Err(format!("empty command; {HELP}")),
            other => return Err(format!("unknown command \"{other}\"; {HELP}")),
        };
        let extra = match command {
            Command::Help | Command::Truth | Command::Reset => first,
            Command::Occlude { .. } | Command::ChipFault { .. } => words.next(),
            _ => second,
        };
        if let Some(extra) = extra {
            return Err(format!("unexpected \"{extra}\" after the command; {HELP}"));
        }
        Ok(command)
    }

    /// Why this command does not apply to `mechanism`, if it does not: a
    /// fault the mechanism cannot have is refused, never accepted silently
    /// (a facilitator must not believe a fault is present that is not).
    pub fn refusal(&self, mechanism: &Mechanism) -> Option<String> {
        let syringe = match mechanism {
            Mechanism::Syringe { syringe, .. } => Some(*syringe),
            Mechanism::Peristaltic { .. } => None,
        };
        match (self, syringe) {
            (
                Command::Occlude {
                    side: Side::Upstream,
                    ..
                }
                | Command::ClearOcclusion {
                    side: Side::Upstream,
                },
                Some(syringe),
            ) => Some(format!(
                "the syringe mechanism ({} syringe) has no line above the pump, so it has no upstream occlusion; \
                 on this board occlude takes downstream partial|full",
                syringe.name
            )),
            (Command::Reservoir { millilitres }, Some(syringe))
                if *millilitres > syringe.capacity_ml =>
            {
                Some(format!(
                    "the loaded {} syringe holds at most {} mL, not {millilitres}",
                    syringe.name, syringe.capacity_ml
                ))
            }
            (
                Command::Container {
                    kind: ContainerKind::Set,
                    ..
                },
                Some(_),
            ) => Some(
                "the syringe mechanism holds a syringe, not an administration set: use syringe loaded|removed"
                    .to_owned(),
            ),
            (
                Command::Container {
                    kind: ContainerKind::Syringe,
                    ..
                },
                None,
            ) => Some(
                "the volumetric mechanism holds an administration set, not a syringe: use set loaded|removed"
                    .to_owned(),
            ),
            (
                Command::Help
                | Command::Truth
                | Command::Occlude { .. }
                | Command::ClearOcclusion { .. }
                | Command::ClearAir
                | Command::ClearAll
                | Command::Air { .. }
                | Command::Door { .. }
                | Command::Stall { .. }
                | Command::EncoderFrozen { .. }
                | Command::ChipFault { .. }
                | Command::Reservoir { .. }
                | Command::Container { .. }
                | Command::Demand { .. }
                | Command::Reset,
                _,
            ) => None,
        }
    }

    /// Carries the command out; returns the reply object. A command that
    /// does not apply to this board's mechanism changes nothing.
    pub fn execute(self, simulator: &mut Simulator) -> Value {
        if let Some(error) = self.refusal(simulator.physics().mechanism()) {
            return json!({ "ok": false, "error": error });
        }
        let mut faults = simulator.physics().faults();
        let board = simulator.board().clone();
        let memory = board.memory();
        match self {
            Command::Help => return json!({ "ok": true, "help": HELP }),
            Command::Truth => return truth(simulator),
            Command::Occlude {
                side: Side::Upstream,
                severity,
            } => faults.upstream = severity,
            Command::Occlude {
                side: Side::Downstream,
                severity,
            } => faults.downstream = severity,
            Command::ClearOcclusion {
                side: Side::Upstream,
            } => faults.upstream = Occlusion::None,
            Command::ClearOcclusion {
                side: Side::Downstream,
            } => faults.downstream = Occlusion::None,
            Command::ClearAir => simulator.physics_mut().clear_air(),
            Command::ClearAll => {
                faults = super::physics::Faults::NONE;
                simulator.physics_mut().clear_air();
                simulator.physics_mut().release_demand();
                memory.chip_faults.store(0, Ordering::Release);
            }
            Command::Air { microlitres } => {
                if !simulator.physics_mut().inject_air(microlitres) {
                    return json!({ "ok": false, "error": "too many bubbles are already waiting (at most 64)" });
                }
            }
            Command::Door { open } => faults.door_open = open,
            Command::Stall { on } => faults.motor_stall = on,
            Command::EncoderFrozen { on } => faults.encoder_frozen = on,
            Command::ChipFault { fault, on } => {
                if on {
                    memory.chip_faults.fetch_or(fault, Ordering::AcqRel);
                } else {
                    memory.chip_faults.fetch_and(!fault, Ordering::AcqRel);
                }
            }
            Command::Reservoir { millilitres } => {
                simulator.physics_mut().set_reservoir(millilitres)
            }
            Command::Container { present, .. } => faults.container_removed = !present,
            Command::Demand { press } => match press {
                DemandPress::For { milliseconds } => {
                    simulator.physics_mut().press_demand(milliseconds)
                }
                DemandPress::Hold => simulator.physics_mut().hold_demand(),
                DemandPress::Release => simulator.physics_mut().release_demand(),
            },
            Command::Reset => simulator.reset_board(),
        }
        simulator.physics_mut().set_faults(faults);
        simulator.step(0.0);
        json!({ "ok": true })
    }
}

fn occlusion_name(occlusion: Occlusion) -> &'static str {
    match occlusion {
        Occlusion::None => "none",
        Occlusion::Partial => "partial",
        Occlusion::Full => "full",
    }
}

/// The ground truth and board state as one JSON object.
#[allow(clippy::float_arithmetic)]
pub fn truth(simulator: &Simulator) -> Value {
    let truth = simulator.truth();
    let faults = simulator.physics().faults();
    let memory = simulator.board().memory();
    let load_u64 = |atomic: &std::sync::atomic::AtomicU64| atomic.load(Ordering::Acquire);
    json!({
        "ok": true,
        "time_s": truth.time_s,
        "delivered_ml": truth.delivered_ml,
        "air_delivered_ml": truth.air_delivered_ml,
        "downstream_mmhg": truth.downstream_pressure_mmhg,
        "upstream_mmhg": truth.upstream_pressure_mmhg,
        "reservoir_ml": truth.reservoir_ml,
        "plunger_mm": truth.plunger_mm,
        "air_at_sensor": truth.air_at_sensor,
        "door_open": truth.door_open,
        "container_present": truth.container_present,
        "demand_pressed": truth.demand_pressed,
        "motor_blocked": truth.motor_blocked,
        "motor_enabled": memory.motor_enabled(),
        "rotor_commanded": memory.rotor_commanded.load(Ordering::Acquire),
        "rotor_actual": memory.rotor_actual.load(Ordering::Acquire),
        "steps_while_disabled": load_u64(&memory.steps_while_disabled),
        "board_clock_us": super::memory::board_clock_us(),
        "motor_disabled_at_us": load_u64(&memory.motor_disabled_at_us),
        "rotor_forward_at_us": load_u64(&memory.rotor_forward_at_us),
        "steps_while_shut_down": load_u64(&memory.steps_while_shut_down),
        "buzzer": memory.buzzer_sounding(),
        "buzzer_volume": memory.buzzer_volume().level(),
        "buzzer_pwm": memory.buzzer_pwm().map(|tone| serde_json::json!({
            "period_ns": tone.period_ns,
            "duty_ns": tone.duty_ns,
        })),
        "failsafe_sounder": memory.buzzer_output().failsafe,
        "sound": crate::sound::SoundState::of(simulator.board()).describe(),
        "watchdog_timeout_ms": memory.watchdog_timeout_ms.load(Ordering::Acquire),
        "watchdog_expiries": memory.watchdog_expiries.load(Ordering::Acquire),
        "resets": memory.resets.load(Ordering::Acquire),
        "faults": {
            "downstream": occlusion_name(faults.downstream),
            "upstream": occlusion_name(faults.upstream),
            "door_open": faults.door_open,
            "motor_stall": faults.motor_stall,
            "encoder_frozen": faults.encoder_frozen,
            "container_removed": faults.container_removed,
            "chip_faults": memory.chip_faults.load(Ordering::Acquire),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_bad_ones_say_what_is_allowed() {
        assert_eq!(
            Command::parse("occlude downstream full"),
            Ok(Command::Occlude {
                side: Side::Downstream,
                severity: Occlusion::Full
            })
        );
        assert_eq!(
            Command::parse("  air 50 "),
            Ok(Command::Air { microlitres: 50.0 })
        );
        assert_eq!(Command::parse("clear all"), Ok(Command::ClearAll));
        assert_eq!(
            Command::parse("chip overtemperature on"),
            Ok(Command::ChipFault {
                fault: chip_fault::OVERTEMPERATURE,
                on: true
            })
        );
        for bad in [
            "",
            "explode",
            "occlude sideways full",
            "occlude downstream total",
            "air -5",
            "air lots",
            "air NaN",
            "door ajar",
            "stall maybe",
            "chip melted on",
            "truth now",
            "occlude upstream full please",
        ] {
            let error = Command::parse(bad).err().unwrap_or_default();
            assert!(!error.is_empty(), "{bad:?} was accepted");
        }
        assert!(Command::parse("explode")
            .err()
            .unwrap_or_default()
            .contains("commands: truth"));
    }

    fn demand(milliseconds: u32) -> Result<Command, String> {
        Ok(Command::Demand {
            press: DemandPress::For { milliseconds },
        })
    }

    #[test]
    fn demand_commands_parse_and_bad_ones_name_the_allowed_range() {
        assert_eq!(Command::parse("demand"), demand(300));
        assert_eq!(Command::parse(" demand  1200 "), demand(1200));
        assert_eq!(Command::parse("demand 50"), demand(50));
        assert_eq!(Command::parse("demand 60000"), demand(60_000));
        assert_eq!(
            Command::parse("demand hold"),
            Ok(Command::Demand {
                press: DemandPress::Hold
            })
        );
        assert_eq!(
            Command::parse("demand release"),
            Ok(Command::Demand {
                press: DemandPress::Release
            })
        );
        let range = "give a press length of 50 to 60000 whole milliseconds \
                     (longer is demand hold, then demand release)";
        for (bad, error) in [
            ("demand 49", format!("demand 49: {range}")),
            ("demand 60001", format!("demand 60001: {range}")),
            ("demand 0", format!("demand 0: {range}")),
            ("demand -300", format!("demand -300: {range}")),
            ("demand 4294967296", format!("demand 4294967296: {range}")),
            (
                "demand soon",
                "demand takes nothing (a 300 ms press), a press length of 50 to 60000 whole \
                 milliseconds, hold or release, not \"soon\""
                    .to_owned(),
            ),
            (
                "demand 300.5",
                "demand takes nothing (a 300 ms press), a press length of 50 to 60000 whole \
                 milliseconds, hold or release, not \"300.5\""
                    .to_owned(),
            ),
        ] {
            assert_eq!(Command::parse(bad), Err(error), "{bad:?}");
        }
        for bad in ["demand 300 now", "demand hold tight", "demand release all"] {
            let error = Command::parse(bad).err().unwrap_or_default();
            assert!(error.starts_with("unexpected \""), "{bad:?} gave {error:?}");
        }
        assert!(HELP.contains("demand <50..60000 ms>"), "{HELP}");
        assert!(HELP.contains("demand hold|release"), "{HELP}");
    }

    mod demand_line {
        use embedded_hal::digital::InputPin;

        use super::super::*;
        use crate::memory::Board;
        use crate::physics::{LineModel, Mechanism, Physics, Syringe};
        use crate::simulator::{SensorModel, SimWiring, Simulator};
        use crate::SimPin;

        fn simulator() -> (Simulator, SimPin) {
            let board = Board::in_memory();
            let physics = Physics::new(
                Mechanism::reference_syringe(Syringe::ML_50),
                LineModel::ADULT,
                50.0,
            );
            let line = SimPin::new(board.clone(), SimWiring::REFERENCE.demand);
            let simulator =
                Simulator::new(board, physics, SimWiring::REFERENCE, SensorModel::REFERENCE);
            (simulator, line)
        }

        fn run(simulator: &mut Simulator, milliseconds: u32) {
            for _ in 0..milliseconds {
                simulator.step(0.001);
            }
        }

        fn execute(simulator: &mut Simulator, line: &str) -> Value {
            Command::parse(line).unwrap().execute(simulator)
        }

        #[test]
        fn a_timed_press_reads_high_then_the_simulator_releases_it() {
            let (mut simulator, mut line) = simulator();
            assert!(line.is_low().unwrap(), "not pressed at power-on");
            assert_eq!(truth(&simulator)["demand_pressed"], false);
            assert_eq!(execute(&mut simulator, "demand 300"), json!({ "ok": true }));
            assert!(
                line.is_high().unwrap(),
                "pressed as soon as the command answers"
            );
            assert_eq!(truth(&simulator)["demand_pressed"], true);
            run(&mut simulator, 295);
            assert!(line.is_high().unwrap(), "still pressed after 295 ms");
            run(&mut simulator, 10);
            assert!(line.is_low().unwrap(), "released after 300 ms");
            assert_eq!(truth(&simulator)["demand_pressed"], false);
        }

        #[test]
        fn a_plain_demand_is_a_300_ms_press() {
            let (mut simulator, mut line) = simulator();
            execute(&mut simulator, "demand");
            run(&mut simulator, 295);
            assert!(line.is_high().unwrap());
            run(&mut simulator, 10);
            assert!(line.is_low().unwrap());
        }

        #[test]
        fn a_held_button_stays_pressed_until_released_or_cleared() {
            let (mut simulator, mut line) = simulator();
            execute(&mut simulator, "demand hold");
            run(&mut simulator, 61_000);
            assert!(line.is_high().unwrap(), "a stuck button stays pressed");
            assert_eq!(truth(&simulator)["demand_pressed"], true);
            execute(&mut simulator, "demand release");
            assert!(line.is_low().unwrap());
            execute(&mut simulator, "demand hold");
            execute(&mut simulator, "clear all");
            assert!(line.is_low().unwrap(), "clear all releases it");
            // A release ends a timed press early, too.
            execute(&mut simulator, "demand 5000");
            run(&mut simulator, 10);
            execute(&mut simulator, "demand release");
            assert!(line.is_low().unwrap());
        }

        #[test]
        fn a_press_moves_only_the_demand_line_on_gpio_16() {
            let (mut simulator, _line) = simulator();
            let memory = simulator.board().clone();
            let memory = memory.memory();
            assert_eq!(memory.wiring.demand.load(Ordering::Acquire), 16);
            let before = memory.gpio_levels.load(Ordering::Acquire);
            execute(&mut simulator, "demand hold");
            let pressed = memory.gpio_levels.load(Ordering::Acquire);
            assert_eq!(before ^ pressed, 1 << 16, "{before:#x} -> {pressed:#x}");
            assert_eq!(
                simulator.physics().demand_button(),
                crate::DemandButton::Held
            );
        }
    }
}

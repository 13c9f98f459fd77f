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
    /// Clears every injected fault (occlusions, air, door, stall, encoder, chips).
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
    /// Resets the board as the watchdog would.
    Reset,
}

pub const HELP: &str = "commands: truth | occlude upstream|downstream partial|full | clear upstream|downstream|air|all | \
air <microlitres> | door open|closed | stall on|off | encoder frozen|working | \
chip <overtemperature|short|open-load|stepper-silent|adc-silent|encoder-silent|stepper-hang> on|off | \
reservoir <millilitres> | syringe loaded|removed (syringe) | set loaded|removed (volumetric) | reset | help. \
upstream occlusions exist on the volumetric mechanism only";

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
        "motor_blocked": truth.motor_blocked,
        "motor_enabled": memory.motor_enabled(),
        "rotor_commanded": memory.rotor_commanded.load(Ordering::Acquire),
        "rotor_actual": memory.rotor_actual.load(Ordering::Acquire),
        "steps_while_disabled": load_u64(&memory.steps_while_disabled),
        "board_clock_us": super::memory::board_clock_us(),
        "motor_disabled_at_us": load_u64(&memory.motor_disabled_at_us),
        "rotor_forward_at_us": load_u64(&memory.rotor_forward_at_us),
        "steps_while_shut_down": load_u64(&memory.steps_while_shut_down),
        "buzzer": memory.level(memory.wiring.buzzer.load(Ordering::Acquire)),
        "buzzer_volume": memory.buzzer_volume().level(),
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
}

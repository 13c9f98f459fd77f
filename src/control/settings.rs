//! Controller settings from a verified platform's mechanism profile: the
//! same signed constants drive the control thread on every platform.

use perfuse_drivers::analog::{Calibration, PositionSensor, PressureSensor};
use perfuse_drivers::debounce::DebounceSamples;
use perfuse_drivers::tmc5160::{CurrentScale, DriverConfig, Microsteps};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::api::{ControllerSettings, SyringeMechanics};
use super::detectors::DetectorSettings;
use super::steps::Mechanics;
use super::units::{Nanolitres, NanolitresPerHour};
use crate::platform::{MechanismKind, MechanismProfile, SyringeSpec};
use crate::therapy::RateLimits;

/// Pascals in 1000 mmHg (1 mmHg = 133.322 Pa).
const PASCALS_PER_1000_MMHG: i64 = 133_322;

/// Why a profile cannot drive the controller (a validated profile should
/// never give one; this guards the conversion).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the mechanism profile cannot drive the controller: {0}")]
pub struct SettingsError(pub String);

fn nanolitres(millilitres: Decimal, what: &str) -> Result<u64, SettingsError> {
    let scaled = millilitres * Decimal::from(1_000_000);
    if scaled.fract() != Decimal::ZERO {
        return Err(SettingsError(format!(
            "{what} {millilitres} mL is finer than a nanolitre"
        )));
    }
    scaled
        .to_u64()
        .ok_or_else(|| SettingsError(format!("{what} {millilitres} mL is out of range")))
}

/// The mechanism constants with `syringe` loaded: its volume per turn of
/// the lead screw, and where the plunger stands when it is empty.
pub fn syringe_mechanics(
    profile: &MechanismProfile,
    syringe: &SyringeSpec,
) -> Result<SyringeMechanics, SettingsError> {
    let pitch = profile
        .lead_screw
        .map(|screw| screw.pitch_mm)
        .ok_or_else(|| SettingsError("no [lead_screw]".to_owned()))?;
    if syringe.ml_per_turn <= Decimal::ZERO {
        return Err(SettingsError(format!(
            "syringe \"{}\" has no volume per turn",
            syringe.name
        )));
    }
    // The plunger's full stroke less half a millimetre: the syringe is empty.
    let stroke_um = syringe.capacity_ml / syringe.ml_per_turn * pitch * Decimal::from(1000);
    let end = (stroke_um - Decimal::from(500))
        .to_i32()
        .ok_or_else(|| SettingsError("syringe stroke out of range".to_owned()))?;
    Ok(SyringeMechanics {
        mechanics: Mechanics {
            nl_per_turn: nanolitres(syringe.ml_per_turn, "ml_per_turn")?,
            microsteps_per_turn: profile.microsteps_per_turn(),
        },
        end_um: Some(end),
    })
}

/// A syringe the platform's signed profile lists, as the nurse chooses it
/// at loading: its name, the rates and volume it allows, and what the
/// controller needs to meter it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyringeOption {
    pub name: String,
    pub limits: RateLimits,
    pub mechanics: SyringeMechanics,
}

/// Every syringe of a syringe platform's profile (none on a volumetric one).
pub fn syringe_options(profile: &MechanismProfile) -> Result<Vec<SyringeOption>, SettingsError> {
    match profile.profile.mechanism {
        MechanismKind::Volumetric => Ok(Vec::new()),
        MechanismKind::Syringe => profile
            .syringes
            .iter()
            .map(|syringe| {
                Ok(SyringeOption {
                    name: syringe.name.clone(),
                    limits: profile.rate_limits(Some(syringe)),
                    mechanics: syringe_mechanics(profile, syringe)?,
                })
            })
            .collect(),
    }
}

/// Settings for `profile`, with the syringe named `syringe` loaded (syringe
/// platforms), at downstream occlusion level `level` (index into the
/// profile's levels), for a control period of `period_us`.
pub fn controller_settings(
    profile: &MechanismProfile,
    syringe: Option<&str>,
    level: usize,
    period_us: u64,
    debounce_samples: u8,
) -> Result<ControllerSettings, SettingsError> {
    let SyringeMechanics {
        mechanics,
        end_um: syringe_end_um,
    } = match profile.profile.mechanism {
        MechanismKind::Syringe => {
            let name = syringe.ok_or_else(|| {
                SettingsError("a syringe platform needs the loaded syringe".to_owned())
            })?;
            let found = profile
                .syringes
                .iter()
                .find(|candidate| candidate.name == name)
                .ok_or_else(|| SettingsError(format!("no syringe \"{name}\" in the profile")))?;
            syringe_mechanics(profile, found)?
        }
        MechanismKind::Volumetric => SyringeMechanics {
            mechanics: Mechanics {
                nl_per_turn: nanolitres(
                    profile
                        .volumetric
                        .as_ref()
                        .map(|set| set.ml_per_turn)
                        .ok_or_else(|| SettingsError("no [volumetric] section".to_owned()))?,
                    "ml_per_turn",
                )?,
                microsteps_per_turn: profile.microsteps_per_turn(),
            },
            end_um: None,
        },
    };
    let sensors = profile.sensors;
    let span_pa = i64::from(sensors.pressure_span_mmhg) * PASCALS_PER_1000_MMHG / 1000;
    let pressure = Calibration::new(
        sensors.pressure_zero_counts,
        sensors.pressure_span_counts,
        i32::try_from(span_pa)
            .map_err(|_| SettingsError("pressure span out of range".to_owned()))?,
        sensors.pressure_fault_below,
        sensors.pressure_fault_above,
    )
    .map_err(|error| SettingsError(error.to_owned()))?;
    let plunger = match (sensors.position_zero_counts, sensors.position_counts_per_mm) {
        (Some(zero), Some(per_mm)) => {
            let span = zero.saturating_add(per_mm.saturating_mul(100));
            Some(PositionSensor(
                Calibration::new(zero, span, 100_000, 0, 1023)
                    .map_err(|error| SettingsError(error.to_owned()))?,
            ))
        }
        _ => None,
    };
    let threshold_mmhg = profile
        .occlusion
        .downstream_mmhg
        .get(level)
        .copied()
        .ok_or_else(|| SettingsError(format!("no occlusion level {level}")))?;
    let mut detectors = DetectorSettings::reference(mechanics.microsteps_per_turn);
    detectors.downstream_threshold = i32::from(threshold_mmhg) * 10;
    detectors.upstream_threshold = profile
        .occlusion
        .upstream_mmhg
        .map(|mmhg| i32::from(mmhg) * 10);
    detectors.encoder_counts_per_turn = u64::from(sensors.encoder_counts_per_turn);
    detectors.syringe_end_um = syringe_end_um;
    let motor = profile.motor;
    let driver = DriverConfig {
        microsteps: Microsteps::try_from(motor.microsteps)
            .map_err(|error| SettingsError(error.to_owned()))?,
        run_current: CurrentScale::try_from(motor.run_current)
            .map_err(|error| SettingsError(error.to_owned()))?,
        hold_current: CurrentScale::try_from(motor.hold_current)
            .map_err(|error| SettingsError(error.to_owned()))?,
        global_scaler: 0,
    };
    let debounce = DebounceSamples::try_from(debounce_samples)
        .map_err(|error| SettingsError(error.to_owned()))?;
    let stroke_loss = profile
        .volumetric
        .as_ref()
        .and_then(|set| set.stroke_loss_per_mmhg)
        .unwrap_or(Decimal::ZERO);
    let stroke_loss_ppm_per_mmhg = (stroke_loss * Decimal::from(1_000_000))
        .round()
        .to_u32()
        .ok_or_else(|| SettingsError("stroke_loss_per_mmhg out of range".to_owned()))?;
    let fill_loss = profile
        .volumetric
        .as_ref()
        .and_then(|set| set.fill_loss_per_mmhg_suction)
        .unwrap_or(Decimal::ZERO);
    let fill_loss_ppm_per_mmhg = (fill_loss * Decimal::from(1_000_000))
        .round()
        .to_u32()
        .ok_or_else(|| SettingsError("fill_loss_per_mmhg_suction out of range".to_owned()))?;
    Ok(ControllerSettings {
        period_us,
        stroke_loss_ppm_per_mmhg,
        fill_loss_ppm_per_mmhg,
        mechanics,
        detectors,
        driver,
        downstream: PressureSensor(pressure),
        upstream: profile
            .occlusion
            .upstream_mmhg
            .map(|_| PressureSensor(pressure)),
        plunger,
        debounce,
        status_every: 10,
        // Up to 1.5 mL back at 400 mL/h relieves a 50 mL syringe at 500 mmHg in seconds.
        backoff_limit: Nanolitres(1_500_000),
        backoff_rate: NanolitresPerHour(400_000_000),
        backoff_margin: 100,
        alarm_timing: crate::alarms::AlarmTiming {
            escalate_after_ms: u64::from(profile.alarms.escalate_after_s) * 1000,
            reminder_every_ms: u64::from(profile.alarms.reminder_every_s) * 1000,
        },
    })
}

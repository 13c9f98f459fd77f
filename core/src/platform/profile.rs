//! Mechanism profiles: the constants of one pump platform (mechanism, motor,
//! rates, syringes or set, occlusion levels, sensor calibration), in a signed
//! TOML file installed on each unit. A profile is data, never code: the
//! same software runs every platform, and the profile says which one this is.

use std::collections::HashSet;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::exact::exact_decimal;
use crate::therapy::Millilitres;
use crate::therapy::{rules, MillilitresPerHour, RateLimits};

/// The profile format this software reads.
pub const PROFILE_FORMAT: u32 = 1;

/// The two mechanisms Perfuse drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MechanismKind {
    Syringe,
    Volumetric,
}

impl fmt::Display for MechanismKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MechanismKind::Syringe => "syringe",
            MechanismKind::Volumetric => "volumetric",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileHeader {
    /// The platform id, as in the software's supported-platform list.
    pub platform: String,
    pub name: String,
    pub version: String,
    pub format: u32,
    pub mechanism: MechanismKind,
    /// The HAT EEPROM product id of the carrier board this profile is for.
    pub product_id: u16,
    /// HAT EEPROM product versions (board revisions) it applies to.
    pub hardware_versions: Vec<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MotorSpec {
    /// Full motor steps per mechanism turn (motor steps x gear ratio).
    pub full_steps_per_turn: u32,
    /// Microsteps per full step the stepper driver is set to.
    pub microsteps: u16,
    /// Run and hold current, 32nds of full scale.
    pub run_current: u8,
    pub hold_current: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateSpec {
    #[serde(deserialize_with = "exact_decimal")]
    pub min_ml_h: Decimal,
    #[serde(deserialize_with = "exact_decimal")]
    pub max_ml_h: Decimal,
}

/// The lead screw of a syringe mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LeadScrewSpec {
    /// Plunger travel per screw turn, mm.
    #[serde(deserialize_with = "exact_decimal")]
    pub pitch_mm: Decimal,
}

/// A syringe the syringe mechanism is calibrated for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyringeSpec {
    pub name: String,
    #[serde(deserialize_with = "exact_decimal")]
    pub capacity_ml: Decimal,
    /// Volume displaced per lead-screw turn, as calibrated, mL.
    #[serde(deserialize_with = "exact_decimal")]
    pub ml_per_turn: Decimal,
    /// Largest rate for this size, mL/h (at most the platform's).
    #[serde(deserialize_with = "exact_decimal")]
    pub max_rate_ml_h: Decimal,
}

/// The administration set of the volumetric mechanism.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VolumetricSpec {
    pub set_name: String,
    /// Volume per camshaft turn, as calibrated, mL.
    #[serde(deserialize_with = "exact_decimal")]
    pub ml_per_turn: Decimal,
    /// Fraction of the stroke lost per mmHg of back-pressure (the set's
    /// tubing yields), as calibrated; the controller compensates for it.
    #[serde(default, deserialize_with = "crate::exact::optional_exact_decimal")]
    pub stroke_loss_per_mmhg: Option<Decimal>,
    /// Fraction of the stroke the set fails to refill per mmHg of suction
    /// above the pump (a narrowed or closed line upstream), as calibrated.
    /// The controller books only what the stroke really moved; it never
    /// pumps harder on a starved line.
    #[serde(default, deserialize_with = "crate::exact::optional_exact_decimal")]
    pub fill_loss_per_mmhg_suction: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OcclusionSpec {
    /// Selectable downstream alarm pressures, mmHg, low to high.
    pub downstream_mmhg: Vec<u16>,
    /// Upstream alarm pressure, mmHg below atmospheric (volumetric only).
    #[serde(default)]
    pub upstream_mmhg: Option<i16>,
}

/// Calibration of the unit's sensors (ADC counts) and encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SensorSpec {
    pub pressure_zero_counts: u16,
    pub pressure_span_counts: u16,
    pub pressure_span_mmhg: u16,
    pub pressure_fault_below: u16,
    pub pressure_fault_above: u16,
    #[serde(default)]
    pub position_zero_counts: Option<u16>,
    #[serde(default)]
    pub position_counts_per_mm: Option<u16>,
    pub encoder_counts_per_turn: u32,
}

/// How the pump's alarms behave over time, tuned per fleet within safe
/// bounds (docs/alarm-signals.md). Optional: the defaults are five minutes
/// and one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSpec {
    /// A medium alarm nobody answers (infusion complete, KVO, a paused
    /// pump's callback, a PCA limit) becomes high after this, seconds.
    #[serde(default = "AlarmSpec::default_escalate")]
    pub escalate_after_s: u32,
    /// The reminder's interval, seconds: during an audio pause with the
    /// alarm still present, and while a program waits to be started.
    #[serde(default = "AlarmSpec::default_reminder")]
    pub reminder_every_s: u32,
}

impl AlarmSpec {
    /// Escalation no sooner than 30 s (a nurse must have time to walk to
    /// the bed) and no later than 15 min.
    pub const ESCALATE_AFTER_S: core::ops::RangeInclusive<u32> = 30..=900;
    /// A reminder no more often than every 15 s (it must stay quieter than
    /// an alarm, in rate as in level) and at least every 3 min.
    pub const REMINDER_EVERY_S: core::ops::RangeInclusive<u32> = 15..=180;

    fn default_escalate() -> u32 {
        300
    }

    fn default_reminder() -> u32 {
        60
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, value, range) in [
            (
                "alarms.escalate_after_s",
                self.escalate_after_s,
                Self::ESCALATE_AFTER_S,
            ),
            (
                "alarms.reminder_every_s",
                self.reminder_every_s,
                Self::REMINDER_EVERY_S,
            ),
        ] {
            if !range.contains(&value) {
                problems.push(format!(
                    "{name} is {value} s; it must lie between {} and {} s",
                    range.start(),
                    range.end()
                ));
            }
        }
        problems
    }
}

impl Default for AlarmSpec {
    fn default() -> Self {
        Self {
            escalate_after_s: Self::default_escalate(),
            reminder_every_s: Self::default_reminder(),
        }
    }
}

/// A whole mechanism profile file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MechanismProfile {
    pub profile: ProfileHeader,
    pub motor: MotorSpec,
    pub rates: RateSpec,
    #[serde(default)]
    pub lead_screw: Option<LeadScrewSpec>,
    #[serde(default, rename = "syringe")]
    pub syringes: Vec<SyringeSpec>,
    #[serde(default)]
    pub volumetric: Option<VolumetricSpec>,
    pub occlusion: OcclusionSpec,
    pub sensors: SensorSpec,
    #[serde(default)]
    pub alarms: AlarmSpec,
}

/// Why a profile's content is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("the mechanism profile is not well-formed: {0}")]
    Malformed(String),
    #[error("the mechanism profile has {} problem(s): {}", .0.len(), .0.join("; "))]
    Invalid(Vec<String>),
}

impl MechanismProfile {
    /// Parses and validates profile bytes (the signature is checked by the caller first).
    pub fn parse(bytes: &[u8]) -> Result<Self, ProfileError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|error| ProfileError::Malformed(format!("not UTF-8 text: {error}")))?;
        let profile: MechanismProfile =
            toml::from_str(text).map_err(|error| ProfileError::Malformed(error.to_string()))?;
        let problems = profile.problems();
        if problems.is_empty() {
            Ok(profile)
        } else {
            Err(ProfileError::Invalid(problems))
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let header = &self.profile;
        if header.format != PROFILE_FORMAT {
            problems.push(format!(
                "format {} is not the format {PROFILE_FORMAT} this software reads",
                header.format
            ));
        }
        if header.hardware_versions.is_empty() {
            problems.push("hardware_versions must list at least one board revision".to_owned());
        }
        let motor = &self.motor;
        if motor.full_steps_per_turn == 0 {
            problems.push("motor.full_steps_per_turn must be above zero".to_owned());
        }
        if !motor.microsteps.is_power_of_two() || motor.microsteps > 256 {
            problems.push(format!(
                "motor.microsteps {} must be a power of two up to 256",
                motor.microsteps
            ));
        }
        if motor.run_current > 31 || motor.hold_current > 31 {
            problems.push("motor currents are 0 to 31 (32nds of full scale)".to_owned());
        }
        let rates = &self.rates;
        if rules::RATE.check(rates.min_ml_h).is_err()
            || rules::RATE.check(rates.max_ml_h).is_err()
            || rates.min_ml_h >= rates.max_ml_h
        {
            problems.push(format!(
                "rates must satisfy 0.1 <= min_ml_h < max_ml_h <= 999, not {} to {}",
                rates.min_ml_h, rates.max_ml_h
            ));
        }
        match (header.mechanism, self.syringes.is_empty(), &self.volumetric) {
            (MechanismKind::Syringe, false, None) => {
                let mut names = HashSet::new();
                for syringe in &self.syringes {
                    if !names.insert(syringe.name.as_str()) {
                        problems.push(format!("syringe \"{}\" is listed twice", syringe.name));
                    }
                    if syringe.ml_per_turn <= Decimal::ZERO || syringe.capacity_ml <= Decimal::ZERO
                    {
                        problems.push(format!(
                            "syringe \"{}\" needs capacity_ml and ml_per_turn above zero",
                            syringe.name
                        ));
                    }
                    if syringe.max_rate_ml_h > rates.max_ml_h
                        || syringe.max_rate_ml_h <= rates.min_ml_h
                    {
                        problems.push(format!(
                            "syringe \"{}\" max_rate_ml_h must lie within the platform's rates",
                            syringe.name
                        ));
                    }
                }
                if self
                    .lead_screw
                    .is_none_or(|screw| screw.pitch_mm <= Decimal::ZERO)
                {
                    problems.push(
                        "a syringe platform needs [lead_screw] pitch_mm above zero".to_owned(),
                    );
                }
                if self.sensors.position_zero_counts.is_none()
                    || self.sensors.position_counts_per_mm.is_none()
                {
                    problems.push(
                        "a syringe platform needs the plunger position calibration".to_owned(),
                    );
                }
            }
            (MechanismKind::Volumetric, true, Some(set)) => {
                if set.ml_per_turn <= Decimal::ZERO {
                    problems.push("volumetric.ml_per_turn must be above zero".to_owned());
                }
                if set
                    .stroke_loss_per_mmhg
                    .is_some_and(|loss| loss < Decimal::ZERO || loss > Decimal::new(1, 3))
                {
                    problems.push(
                        "volumetric.stroke_loss_per_mmhg must lie between 0 and 0.001".to_owned(),
                    );
                }
                if set
                    .fill_loss_per_mmhg_suction
                    .is_some_and(|loss| loss < Decimal::ZERO || loss > Decimal::new(1, 1))
                {
                    problems.push(
                        "volumetric.fill_loss_per_mmhg_suction must lie between 0 and 0.1"
                            .to_owned(),
                    );
                }
                if self.lead_screw.is_some() {
                    problems.push("a volumetric platform has no [lead_screw]".to_owned());
                }
                if self.occlusion.upstream_mmhg.is_none_or(|level| level >= 0) {
                    problems.push(
                        "a volumetric platform needs occlusion.upstream_mmhg below zero".to_owned(),
                    );
                }
            }
            (MechanismKind::Syringe, _, _) => problems.push(
                "a syringe profile lists [[syringe]] entries and no [volumetric] section"
                    .to_owned(),
            ),
            (MechanismKind::Volumetric, _, _) => problems.push(
                "a volumetric profile has a [volumetric] section and no [[syringe]] entries"
                    .to_owned(),
            ),
        }
        let levels = &self.occlusion.downstream_mmhg;
        if levels.is_empty()
            || levels
                .windows(2)
                .any(|pair| matches!(pair, [low, high] if low >= high))
        {
            problems.push("occlusion.downstream_mmhg must list rising levels".to_owned());
        }
        if levels.iter().any(|level| !(50..=1000).contains(level)) {
            problems.push("occlusion levels must lie between 50 and 1000 mmHg".to_owned());
        }
        let sensors = &self.sensors;
        if sensors.pressure_zero_counts == sensors.pressure_span_counts
            || sensors.pressure_span_mmhg == 0
            || sensors.pressure_fault_below >= sensors.pressure_fault_above
            || sensors.pressure_fault_above > 1023
        {
            problems.push("the pressure calibration is degenerate (zero = span, no span pressure, or no valid count range)".to_owned());
        }
        if sensors.encoder_counts_per_turn == 0 {
            problems.push("sensors.encoder_counts_per_turn must be above zero".to_owned());
        }
        problems.extend(self.alarms.problems());
        problems
    }

    /// Microsteps per mechanism turn at the configured microstep setting.
    pub fn microsteps_per_turn(&self) -> u64 {
        u64::from(self.motor.full_steps_per_turn) * u64::from(self.motor.microsteps)
    }

    /// The rates the mechanism delivers; for a syringe, with that syringe loaded.
    pub fn rate_limits(&self, syringe: Option<&SyringeSpec>) -> RateLimits {
        let max = syringe.map_or(self.rates.max_ml_h, |syringe| {
            syringe.max_rate_ml_h.min(self.rates.max_ml_h)
        });
        RateLimits {
            min: MillilitresPerHour::new(self.rates.min_ml_h),
            max: MillilitresPerHour::new(max),
            container: syringe.map(|syringe| Millilitres::new(syringe.capacity_ml)),
        }
    }
}

//! Infusion programs and the delivery plans derived from them.
//!
//! A `Program` is what the nurse entered; `plan` turns it into a
//! `DeliveryPlan`: a short, fixed-capacity list of segments (rate and volume)
//! and what happens at the end. The plan is what the control thread runs and
//! what the drug library checks; both see the same rounded rates.
//!
//! The volume to be infused (VTBI) of a loading-then-maintenance program is
//! the total, loading volume included.

use arrayvec::ArrayVec;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::dose::{flow_for_dose, volume_for_amount, Patient};
use super::error::Quantity;
use super::pca::{plan_pca, PcaDelivery, PcaPlan};
use super::quantity::{div, mul};
use super::quantity::{
    Concentration, DoseAmount, DoseRate, InfusionDuration, Millilitres, MillilitresPerHour,
};
use super::{rules, TherapyError};

/// What is in the bag or syringe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Medication {
    /// A fluid programmed in mL/h only, outside any drug library entry.
    Basic,
    /// A drug at a stated concentration, for a patient.
    Drug {
        concentration: Concentration,
        patient: Patient,
    },
}

/// How the nurse asked for the fluid to be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delivery {
    /// Continuous at a typed rate.
    Rate {
        rate: MillilitresPerHour,
        volume: Millilitres,
    },
    /// Continuous at a dose rate; the flow rate is derived.
    Dose { dose: DoseRate, volume: Millilitres },
    /// A volume over a time; the rate is derived.
    VolumeOverTime {
        volume: Millilitres,
        duration: InfusionDuration,
    },
    /// A dose amount over a time (an intermittent dose such as vancomycin).
    AmountOverTime {
        amount: DoseAmount,
        duration: InfusionDuration,
    },
    /// A loading dose over a time, then a maintenance dose rate until the
    /// total volume is infused.
    LoadingThenMaintenance {
        loading: DoseAmount,
        loading_duration: InfusionDuration,
        maintenance: DoseRate,
        volume: Millilitres,
    },
    /// Several rates in turn, each for its volume (a fluid ramped up,
    /// held and tapered, as for parenteral nutrition); each rate is checked
    /// against the limits as a typed rate is.
    Steps(RateSteps),
    /// Patient-controlled analgesia: a basal rate (or none), and demand
    /// doses the patient asks for, within a lockout and a limit over 1 or
    /// 4 hours. A primary only.
    Pca(PcaDelivery),
}

/// Most steps of a multi-step program.
pub const MAX_RATE_STEPS: usize = 6;

/// One step of a multi-step program: a rate for a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateStep {
    pub rate: MillilitresPerHour,
    pub volume: Millilitres,
}

/// The steps of a multi-step program in order: one to `MAX_RATE_STEPS`.
/// Fixed capacity, so a program stays `Copy` and moves without allocating;
/// written as a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<RateStep>", into = "Vec<RateStep>")]
pub struct RateSteps {
    steps: [RateStep; MAX_RATE_STEPS],
    count: u8,
}

impl RateSteps {
    /// The steps given, or why they cannot be a program.
    pub fn new(steps: &[RateStep]) -> Result<RateSteps, TherapyError> {
        let refused = || TherapyError::StepCount {
            count: steps.len(),
            max: MAX_RATE_STEPS,
        };
        let first = steps.first().copied().ok_or_else(refused)?;
        if steps.len() > MAX_RATE_STEPS {
            return Err(refused());
        }
        let mut all = [first; MAX_RATE_STEPS];
        for (slot, step) in all.iter_mut().zip(steps) {
            *slot = *step;
        }
        Ok(RateSteps {
            steps: all,
            count: u8::try_from(steps.len()).map_err(|_| refused())?,
        })
    }

    pub fn as_slice(&self) -> &[RateStep] {
        self.steps.get(..usize::from(self.count)).unwrap_or(&[])
    }
}

impl TryFrom<Vec<RateStep>> for RateSteps {
    type Error = TherapyError;

    fn try_from(steps: Vec<RateStep>) -> Result<RateSteps, TherapyError> {
        RateSteps::new(&steps)
    }
}

impl From<RateSteps> for Vec<RateStep> {
    fn from(steps: RateSteps) -> Vec<RateStep> {
        steps.as_slice().to_vec()
    }
}

/// What the pump does when the volume to be infused is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndOfInfusion {
    Stop,
    /// Keep the vein open at this rate, or at the programmed rate if that is lower.
    KeepVeinOpen {
        rate: MillilitresPerHour,
    },
}

/// A primary infusion as programmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub medication: Medication,
    pub delivery: Delivery,
    pub end: EndOfInfusion,
}

/// A secondary (piggyback) infusion; when done the pump returns to the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondaryProgram {
    pub medication: Medication,
    pub delivery: Delivery,
}

/// A clinician bolus given on top of a running primary, from the same container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BolusRequest {
    Dose {
        amount: DoseAmount,
        duration: InfusionDuration,
    },
    Volume {
        volume: Millilitres,
        duration: InfusionDuration,
    },
}

/// Why a segment exists, for display and the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegmentPurpose {
    Primary,
    Loading,
    Maintenance,
    Bolus,
    Secondary,
}

/// A stretch of delivery at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub purpose: SegmentPurpose,
    pub rate: MillilitresPerHour,
    pub volume: Millilitres,
}

impl Segment {
    /// How long the segment lasts at its rate, to the nearest second.
    pub fn duration(&self) -> Result<InfusionDuration, TherapyError> {
        let seconds = div(
            mul(self.volume.value(), Decimal::from(3600))?,
            self.rate.value(),
        )?;
        let whole = seconds.round().to_u32().ok_or(TherapyError::Overflow)?;
        Ok(InfusionDuration::from_seconds(whole))
    }
}

/// What follows the last segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanEnd {
    Stop,
    KeepVeinOpen { rate: MillilitresPerHour },
    ResumePrimary,
}

/// At most six segments: a multi-step program is the longest.
pub const MAX_SEGMENTS: usize = MAX_RATE_STEPS;

/// The derived plan; fixed capacity, so it moves to the control thread
/// without allocating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPlan {
    pub segments: ArrayVec<Segment, MAX_SEGMENTS>,
    pub end: PlanEnd,
    /// A PCA program's demand dose, lockout and limit (its one segment is
    /// the basal, at zero without one).
    pub pca: Option<PcaPlan>,
}

impl DeliveryPlan {
    /// Total volume over all segments.
    pub fn total_volume(&self) -> Result<Millilitres, TherapyError> {
        total_volume(&self.segments)
    }

    /// The highest rate any segment runs at.
    pub fn peak_rate(&self) -> Option<MillilitresPerHour> {
        self.segments.iter().map(|segment| segment.rate).max()
    }
}

/// The rates a platform's mechanism delivers, within `rules::RATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub min: MillilitresPerHour,
    pub max: MillilitresPerHour,
    /// What the loaded container holds (a syringe's capacity): no primary
    /// program may infuse more. None where the pump draws from a bag or
    /// bottle it does not measure.
    pub container: Option<Millilitres>,
}

impl RateLimits {
    /// The widest range any platform may support.
    pub const ANY_PLATFORM: RateLimits = RateLimits {
        min: MillilitresPerHour::new(rules::RATE.min),
        max: MillilitresPerHour::new(rules::RATE.max),
        container: None,
    };

    fn range(&self) -> rules::Range {
        rules::Range {
            min: self.min.value(),
            max: self.max.value(),
            ..rules::RATE
        }
    }

    pub(super) fn check_rate(&self, rate: Decimal) -> Result<MillilitresPerHour, TherapyError> {
        rules::RATE.check(rate)?;
        self.range().check(rate).map(MillilitresPerHour::new)
    }
}

pub(super) fn checked_volume(volume: Decimal) -> Result<Millilitres, TherapyError> {
    rules::VOLUME_TO_BE_INFUSED
        .check(volume)
        .map(Millilitres::new)
}

fn checked_duration(duration: InfusionDuration) -> Result<InfusionDuration, TherapyError> {
    rules::DURATION_SECONDS.check(Decimal::from(duration.seconds()))?;
    Ok(duration)
}

pub(super) fn drug_of(medication: &Medication) -> Result<(Concentration, Patient), TherapyError> {
    match medication {
        Medication::Basic => Err(TherapyError::NeedsDrug),
        Medication::Drug {
            concentration,
            patient,
        } => {
            patient.validate()?;
            rules::CONCENTRATION_VOLUME.check(concentration.volume.value())?;
            Ok((*concentration, *patient))
        }
    }
}

/// The rounded rate that runs `volume` over `duration`.
fn rate_over(
    volume: Decimal,
    duration: InfusionDuration,
    limits: &RateLimits,
) -> Result<MillilitresPerHour, TherapyError> {
    let duration = checked_duration(duration)?;
    limits.check_rate(rules::round_rate(div(volume, duration.hours())?))
}

pub(super) fn dose_volume(
    amount: DoseAmount,
    medication: &Medication,
) -> Result<Millilitres, TherapyError> {
    let (concentration, patient) = drug_of(medication)?;
    checked_volume(rules::round_volume(volume_for_amount(
        amount,
        concentration,
        &patient,
    )?))
}

fn one_segment(
    purpose: SegmentPurpose,
    rate: MillilitresPerHour,
    volume: Millilitres,
) -> ArrayVec<Segment, MAX_SEGMENTS> {
    let mut segments = ArrayVec::new();
    segments.push(Segment {
        purpose,
        rate,
        volume,
    });
    segments
}

/// Derives the segments of a delivery, all tagged as `purpose` except a
/// loading dose.
fn segments_of(
    medication: &Medication,
    delivery: &Delivery,
    purpose: SegmentPurpose,
    limits: &RateLimits,
) -> Result<ArrayVec<Segment, MAX_SEGMENTS>, TherapyError> {
    match *delivery {
        Delivery::Rate { rate, volume } => {
            let rate =
                limits.check_rate(rules::check_rate_on_grid(rate.value(), Quantity::Rate)?)?;
            Ok(one_segment(purpose, rate, checked_volume(volume.value())?))
        }
        Delivery::Dose { dose, volume } => {
            let (concentration, patient) = drug_of(medication)?;
            let rate = limits.check_rate(rules::round_rate(flow_for_dose(
                dose,
                concentration,
                &patient,
            )?))?;
            Ok(one_segment(purpose, rate, checked_volume(volume.value())?))
        }
        Delivery::VolumeOverTime { volume, duration } => {
            let volume = checked_volume(volume.value())?;
            Ok(one_segment(
                purpose,
                rate_over(volume.value(), duration, limits)?,
                volume,
            ))
        }
        Delivery::AmountOverTime { amount, duration } => {
            let volume = dose_volume(amount, medication)?;
            Ok(one_segment(
                purpose,
                rate_over(volume.value(), duration, limits)?,
                volume,
            ))
        }
        Delivery::LoadingThenMaintenance {
            loading,
            loading_duration,
            maintenance,
            volume,
        } => {
            let total = checked_volume(volume.value())?;
            let loading_volume = dose_volume(loading, medication)?;
            let loading_rate = rate_over(loading_volume.value(), loading_duration, limits)?;
            let (concentration, patient) = drug_of(medication)?;
            let maintenance_rate = limits.check_rate(rules::round_rate(flow_for_dose(
                maintenance,
                concentration,
                &patient,
            )?))?;
            let rest = total
                .value()
                .checked_sub(loading_volume.value())
                .ok_or(TherapyError::Overflow)?;
            if rest <= Decimal::ZERO {
                return Err(TherapyError::LoadingExceedsVolume {
                    vtbi: total.value(),
                    loading: loading_volume.value(),
                });
            }
            let mut segments = ArrayVec::new();
            segments.push(Segment {
                purpose: SegmentPurpose::Loading,
                rate: loading_rate,
                volume: loading_volume,
            });
            segments.push(Segment {
                purpose: SegmentPurpose::Maintenance,
                rate: maintenance_rate,
                volume: Millilitres::new(rest),
            });
            Ok(segments)
        }
        Delivery::Steps(steps) => {
            let mut segments = ArrayVec::new();
            for step in steps.as_slice() {
                let rate = limits.check_rate(rules::check_rate_on_grid(
                    step.rate.value(),
                    Quantity::Rate,
                )?)?;
                segments
                    .try_push(Segment {
                        purpose,
                        rate,
                        volume: checked_volume(step.volume.value())?,
                    })
                    .map_err(|_| TherapyError::StepCount {
                        count: steps.as_slice().len(),
                        max: MAX_RATE_STEPS,
                    })?;
            }
            // The whole is a volume to be infused like any other.
            checked_volume(total_volume(&segments)?.value())?;
            Ok(segments)
        }
        // Planned by `plan` (it needs the end); never a secondary.
        Delivery::Pca(_) => Err(TherapyError::PcaOnlyPrimary),
    }
}

/// Derives the delivery plan of a primary program, or says what is wrong.
pub fn plan(program: &Program, limits: &RateLimits) -> Result<DeliveryPlan, TherapyError> {
    let (segments, pca) = match &program.delivery {
        Delivery::Pca(pca) => {
            let kvo = match program.end {
                EndOfInfusion::KeepVeinOpen { rate } => Some(rate.value()),
                EndOfInfusion::Stop => None,
            };
            let (basal, volume, pca) = plan_pca(pca, &program.medication, limits, kvo)?;
            (
                one_segment(SegmentPurpose::Primary, basal, volume),
                Some(pca),
            )
        }
        delivery @ (Delivery::Rate { .. }
        | Delivery::Dose { .. }
        | Delivery::VolumeOverTime { .. }
        | Delivery::AmountOverTime { .. }
        | Delivery::LoadingThenMaintenance { .. }
        | Delivery::Steps(_)) => (
            segments_of(
                &program.medication,
                delivery,
                SegmentPurpose::Primary,
                limits,
            )?,
            None,
        ),
    };
    if let Some(capacity) = limits.container {
        let volume = total_volume(&segments)?;
        if volume > capacity {
            return Err(TherapyError::AboveContainer {
                volume: volume.value(),
                capacity: capacity.value(),
            });
        }
    }
    let end = match program.end {
        EndOfInfusion::Stop => PlanEnd::Stop,
        EndOfInfusion::KeepVeinOpen { rate } => {
            let typed = rules::KEEP_VEIN_OPEN.check(rules::check_rate_on_grid(
                rate.value(),
                Quantity::KeepVeinOpenRate,
            )?)?;
            let last = segments
                .last()
                .map_or(typed, |segment| segment.rate.value());
            // Within the platform's rates: a mechanism meters nothing below its minimum.
            let rate = limits
                .range()
                .named(Quantity::KeepVeinOpenRate)
                .check(typed.min(last))?;
            PlanEnd::KeepVeinOpen {
                rate: MillilitresPerHour::new(rate),
            }
        }
    };
    Ok(DeliveryPlan { segments, end, pca })
}

fn total_volume(segments: &[Segment]) -> Result<Millilitres, TherapyError> {
    let mut total = Decimal::ZERO;
    for segment in segments {
        total = total
            .checked_add(segment.volume.value())
            .ok_or(TherapyError::Overflow)?;
    }
    Ok(Millilitres::new(total))
}

/// Derives the plan of a secondary infusion, which hands back to the primary.
pub fn plan_secondary(
    program: &SecondaryProgram,
    limits: &RateLimits,
) -> Result<DeliveryPlan, TherapyError> {
    let mut segments = segments_of(
        &program.medication,
        &program.delivery,
        SegmentPurpose::Secondary,
        limits,
    )?;
    for segment in &mut segments {
        segment.purpose = SegmentPurpose::Secondary;
    }
    Ok(DeliveryPlan {
        segments,
        end: PlanEnd::ResumePrimary,
        pca: None,
    })
}

/// Derives the segment of a clinician bolus from the primary's container.
pub fn plan_bolus(
    medication: &Medication,
    bolus: &BolusRequest,
    limits: &RateLimits,
) -> Result<Segment, TherapyError> {
    let (volume, duration) = match *bolus {
        BolusRequest::Dose { amount, duration } => (dose_volume(amount, medication)?, duration),
        BolusRequest::Volume { volume, duration } => (
            rules::VOLUME_TO_BE_INFUSED
                .named(Quantity::BolusVolume)
                .check(volume.value())
                .map(Millilitres::new)?,
            duration,
        ),
    };
    Ok(Segment {
        purpose: SegmentPurpose::Bolus,
        rate: rate_over(volume.value(), duration, limits)?,
        volume,
    })
}

#[cfg(test)]
mod tests;

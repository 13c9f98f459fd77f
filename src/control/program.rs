//! From the therapy core's delivery plan (exact decimals) to the control
//! thread's program (integer nanolitres), without loss.

use arrayvec::ArrayVec;

use super::state::{End, Program, Segment};
use super::units::{Nanolitres, NanolitresPerHour, UnitError};
use crate::therapy::{DeliveryPlan, PlanEnd};

/// Converts a plan; fails only if a value is not a whole number of nanolitres.
pub fn program_from_plan(plan: &DeliveryPlan) -> Result<Program, UnitError> {
    let mut segments = ArrayVec::new();
    for segment in &plan.segments {
        segments.push(Segment {
            purpose: segment.purpose,
            rate: NanolitresPerHour::from_rate(segment.rate)?,
            volume: Nanolitres::from_millilitres(segment.volume)?,
        });
    }
    let end = match plan.end {
        PlanEnd::Stop | PlanEnd::ResumePrimary => End::Stop,
        PlanEnd::KeepVeinOpen { rate } => End::KeepVeinOpen(NanolitresPerHour::from_rate(rate)?),
    };
    Ok(Program { segments, end })
}

//! The therapy core: units, dose arithmetic, infusion programs and their
//! validation.
//!
//! Pure: no I/O, no clock, no UI, no threads. The UI asks this module for
//! every number it shows about a dose; it never computes one itself. Nothing
//! here uses binary floating point: values are exact decimals, and every
//! operation that could overflow is checked.

mod dose;
mod entry;
mod error;
mod pca;
mod program;
pub mod quantity;
pub mod rules;

pub use dose::{amount_for_volume, dose_for_flow, flow_for_dose, volume_for_amount, Patient};
pub use entry::{parse_decimal, MAX_DECIMALS, MAX_INTEGER_DIGITS};
pub use error::{PatientData, Quantity, TherapyError};
pub use pca::{PcaDelivery, PcaPlan, PcaWindow, LOCKOUT_MINUTES};
pub use program::{
    plan, plan_bolus, plan_secondary, BolusRequest, Delivery, DeliveryPlan, EndOfInfusion,
    Medication, PlanEnd, Program, RateLimits, RateStep, RateSteps, SecondaryProgram, Segment,
    SegmentPurpose, MAX_RATE_STEPS, MAX_SEGMENTS,
};
pub use quantity::{
    display_decimal, display_significant, Amount, AmountFamily, AmountUnit, Centimetres,
    Concentration, DoseAmount, DoseAmountUnit, DoseBasis, DoseRate, DoseRateUnit, InfusionDuration,
    Kilograms, Millilitres, MillilitresPerHour, SquareMetres, TimeBase,
};

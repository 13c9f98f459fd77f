//! Patient-controlled analgesia (PCA): what the clinician programs, and the
//! plan the control thread runs.
//!
//! Following the Open PCA Pump (GPCA) requirements: an optional basal rate,
//! a demand (bolus) dose the patient asks for with the handset, a lockout
//! interval after each demand given, and a limit on what may reach the
//! patient over the last 1 or 4 hours, basal and demands together. The
//! control thread keeps the history and refuses a demand that would pass
//! the limit; when the basal alone reaches it, delivery drops to KVO with
//! an alarm until a clinician resumes.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

use super::dose::flow_for_dose;
use super::error::Quantity;
use super::program::{checked_volume, dose_volume, drug_of, RateLimits};
use super::quantity::{div, mul};
use super::quantity::{DoseAmount, DoseRate, InfusionDuration, Millilitres, MillilitresPerHour};
use super::rules::{self, Range};
use super::TherapyError;

/// The time a PCA limit counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PcaWindow {
    OneHour,
    FourHours,
}

impl PcaWindow {
    pub const fn hours(self) -> u32 {
        match self {
            PcaWindow::OneHour => 1,
            PcaWindow::FourHours => 4,
        }
    }

    pub const fn minutes(self) -> u32 {
        self.hours() * 60
    }
}

/// A PCA program as the clinician enters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcaDelivery {
    /// The continuous (basal) rate, or none (demands only).
    pub basal: Option<DoseRate>,
    /// What one demand gives.
    pub demand: DoseAmount,
    /// The shortest time from one demand given to the next.
    pub lockout: InfusionDuration,
    /// The most over `window`, basal and demands together.
    pub limit: DoseAmount,
    pub window: PcaWindow,
    /// The volume to be infused: what the syringe holds for this patient.
    pub volume: Millilitres,
}

/// Lockout interval, minutes: 1 to 240 (the core's bound; a drug library
/// narrows it, typically 5 to 20).
pub const LOCKOUT_MINUTES: Range = Range {
    quantity: Quantity::Lockout,
    min: dec!(1),
    max: dec!(240),
    unit: "min",
};

/// The PCA part of a plan, in volumes and rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcaPlan {
    /// The volume of one demand dose.
    pub demand_volume: Millilitres,
    /// The rate a demand runs at: the platform's highest.
    pub demand_rate: MillilitresPerHour,
    pub lockout: InfusionDuration,
    /// The most volume over the window, basal and demands together.
    pub limit_volume: Millilitres,
    pub window: PcaWindow,
    /// The rate once the limit is reached: the KVO rate, never above the
    /// basal (zero without a basal).
    pub limited_rate: MillilitresPerHour,
}

/// The basal rate (zero without one) and the PCA plan, or what is wrong.
/// `kvo` is the rate the clinician chose to keep the vein open at, if any.
pub(super) fn plan_pca(
    pca: &PcaDelivery,
    medication: &super::Medication,
    limits: &RateLimits,
    kvo: Option<Decimal>,
) -> Result<(MillilitresPerHour, Millilitres, PcaPlan), TherapyError> {
    let volume = checked_volume(pca.volume.value())?;
    let basal = match pca.basal {
        Some(dose) => {
            let (concentration, patient) = drug_of(medication)?;
            limits.check_rate(rules::round_rate(flow_for_dose(
                dose,
                concentration,
                &patient,
            )?))?
        }
        None => MillilitresPerHour::new(Decimal::ZERO),
    };
    let demand_volume = dose_volume(pca.demand, medication)?;
    let limit_volume = dose_volume(pca.limit, medication)?;
    LOCKOUT_MINUTES.check(Decimal::from(pca.lockout.seconds()) / Decimal::from(60))?;
    if limit_volume < demand_volume {
        return Err(TherapyError::PcaLimitBelowDemand {
            limit: pca.limit,
            demand: pca.demand,
        });
    }
    // The basal alone must leave room for demands over the window.
    let basal_over_window = mul(basal.value(), Decimal::from(pca.window.hours()))?;
    if basal_over_window >= limit_volume.value() {
        return Err(TherapyError::PcaBasalReachesLimit {
            hours: pca.window.hours(),
            basal_ml: basal_over_window,
            limit_ml: limit_volume.value(),
        });
    }
    // Without a basal nothing flows between demands; with one, KVO at the
    // chosen rate (or the platform's lowest), never above the basal.
    let limited_rate = if basal.value().is_zero() {
        Decimal::ZERO
    } else {
        kvo.unwrap_or(limits.min.value()).min(basal.value())
    };
    let demand_rate = limits.max;
    // A demand dose must be over well within the lockout.
    let demand_seconds = div(mul(demand_volume.value(), dec!(3600))?, demand_rate.value())?;
    if demand_seconds >= Decimal::from(pca.lockout.seconds()) {
        return Err(TherapyError::PcaDemandLongerThanLockout {
            demand_ml: demand_volume.value(),
            lockout_minutes: pca.lockout.seconds() / 60,
        });
    }
    Ok((
        basal,
        volume,
        PcaPlan {
            demand_volume,
            demand_rate,
            lockout: pca.lockout,
            limit_volume,
            window: pca.window,
            limited_rate: MillilitresPerHour::new(limited_rate),
        },
    ))
}

//! Dose arithmetic: dose rate <-> flow rate, dose amount <-> volume, and body
//! surface area. Results are unrounded exact decimals (to 28 significant
//! digits); callers round with the rules in `rules.rs`.
//!
//! flow (mL/h) = dose × scale × (time bases per hour) ÷ (amount per mL)
//! where scale is 1, the weight in kg, or the body surface area in m².

use rust_decimal::Decimal;
use rust_decimal::MathematicalOps;
use rust_decimal::RoundingStrategy;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

use super::error::PatientData;
use super::quantity::{div, mul};
use super::quantity::{
    Centimetres, Concentration, DoseAmount, DoseAmountUnit, DoseBasis, DoseRate, DoseRateUnit,
    Kilograms, Millilitres, MillilitresPerHour, SquareMetres,
};
use super::{rules, TherapyError};

/// What the dose calculations need to know about the patient.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub weight: Option<Kilograms>,
    pub height: Option<Centimetres>,
}

impl Patient {
    /// A patient known by weight only.
    pub const fn with_weight(weight: Kilograms) -> Self {
        Self {
            weight: Some(weight),
            height: None,
        }
    }

    /// Checks whatever is known against the allowed ranges.
    pub fn validate(&self) -> Result<(), TherapyError> {
        if let Some(weight) = self.weight {
            rules::WEIGHT.check(weight.value())?;
        }
        if let Some(height) = self.height {
            rules::HEIGHT.check(height.value())?;
        }
        Ok(())
    }

    /// Body surface area by Mosteller: sqrt(height cm × weight kg / 3600).
    pub fn body_surface_area(&self) -> Result<SquareMetres, TherapyError> {
        let (Some(weight), Some(height)) = (self.weight, self.height) else {
            return Err(TherapyError::MissingPatientData {
                needs: PatientData::WeightAndHeight,
            });
        };
        self.validate()?;
        let product = div(mul(weight.value(), height.value())?, dec!(3600))?;
        let area = product.sqrt().ok_or(TherapyError::Overflow)?;
        Ok(SquareMetres::new(
            area.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
                .normalize(),
        ))
    }

    /// The factor a dose of this basis is multiplied by for this patient.
    pub fn scale(&self, basis: DoseBasis) -> Result<Decimal, TherapyError> {
        match basis {
            DoseBasis::Patient => Ok(Decimal::ONE),
            DoseBasis::PerKilogram => {
                let weight = self.weight.ok_or(TherapyError::MissingPatientData {
                    needs: PatientData::Weight,
                })?;
                rules::WEIGHT.check(weight.value())
            }
            DoseBasis::PerSquareMetre => Ok(self.body_surface_area()?.value()),
        }
    }
}

/// The unrounded flow rate that delivers `dose` from `concentration`.
pub fn flow_for_dose(
    dose: DoseRate,
    concentration: Concentration,
    patient: &Patient,
) -> Result<Decimal, TherapyError> {
    let per_millilitre = concentration.per_millilitre(dose.unit.amount)?;
    let per_hour = mul(
        mul(dose.value, patient.scale(dose.unit.basis)?)?,
        dose.unit.per.per_hour(),
    )?;
    div(per_hour, per_millilitre)
}

/// The dose rate, in `unit`, that `rate` delivers from `concentration`.
pub fn dose_for_flow(
    rate: MillilitresPerHour,
    concentration: Concentration,
    patient: &Patient,
    unit: DoseRateUnit,
) -> Result<DoseRate, TherapyError> {
    let per_millilitre = concentration.per_millilitre(unit.amount)?;
    let per_hour = mul(rate.value(), per_millilitre)?;
    let value = div(
        div(per_hour, unit.per.per_hour())?,
        patient.scale(unit.basis)?,
    )?;
    Ok(DoseRate { value, unit })
}

/// The unrounded volume that holds `amount` of drug at `concentration`.
pub fn volume_for_amount(
    amount: DoseAmount,
    concentration: Concentration,
    patient: &Patient,
) -> Result<Decimal, TherapyError> {
    let per_millilitre = concentration.per_millilitre(amount.unit.amount)?;
    let total = mul(amount.value, patient.scale(amount.unit.basis)?)?;
    div(total, per_millilitre)
}

/// The amount, in `unit`, held in `volume` at `concentration`.
pub fn amount_for_volume(
    volume: Millilitres,
    concentration: Concentration,
    patient: &Patient,
    unit: DoseAmountUnit,
) -> Result<DoseAmount, TherapyError> {
    let per_millilitre = concentration.per_millilitre(unit.amount)?;
    let value = div(
        mul(volume.value(), per_millilitre)?,
        patient.scale(unit.basis)?,
    )?;
    Ok(DoseAmount { value, unit })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::therapy::quantity::{Amount, AmountUnit, TimeBase};

    fn noradrenaline() -> Concentration {
        Concentration {
            amount: Amount::new(dec!(4), AmountUnit::Milligram),
            volume: Millilitres::new(dec!(250)),
        }
    }

    fn mcg_per_kg_per_min() -> DoseRateUnit {
        DoseRateUnit {
            amount: AmountUnit::Microgram,
            basis: DoseBasis::PerKilogram,
            per: TimeBase::PerMinute,
        }
    }

    #[test]
    fn weight_based_dose_gives_the_textbook_rate() {
        // 0.1 mcg/kg/min × 80 kg × 60 min/h ÷ 16 mcg/mL = 30 mL/h.
        let patient = Patient::with_weight(Kilograms::new(dec!(80)));
        let dose = DoseRate {
            value: dec!(0.1),
            unit: mcg_per_kg_per_min(),
        };
        assert_eq!(
            flow_for_dose(dose, noradrenaline(), &patient).unwrap(),
            dec!(30)
        );
        let back = dose_for_flow(
            MillilitresPerHour::new(dec!(30)),
            noradrenaline(),
            &patient,
            mcg_per_kg_per_min(),
        );
        assert_eq!(back.unwrap().value, dec!(0.1));
    }

    #[test]
    fn weight_based_dose_without_weight_says_so() {
        let dose = DoseRate {
            value: dec!(0.1),
            unit: mcg_per_kg_per_min(),
        };
        let error = flow_for_dose(dose, noradrenaline(), &Patient::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "this dose is per kg: enter the patient's weight"
        );
    }

    #[test]
    fn mosteller_body_surface_area() {
        // sqrt(180 × 80 / 3600) = sqrt(4) = 2 m².
        let patient = Patient {
            weight: Some(Kilograms::new(dec!(80))),
            height: Some(Centimetres::new(dec!(180))),
        };
        assert_eq!(
            patient.body_surface_area().unwrap(),
            SquareMetres::new(dec!(2))
        );
        // sqrt(170 × 70 / 3600) = 1.8181... -> 1.82 m².
        let patient = Patient {
            weight: Some(Kilograms::new(dec!(70))),
            height: Some(Centimetres::new(dec!(170))),
        };
        assert_eq!(
            patient.body_surface_area().unwrap(),
            SquareMetres::new(dec!(1.82))
        );
    }

    #[test]
    fn amount_and_volume_convert_both_ways() {
        let heparin = Concentration {
            amount: Amount::new(dec!(25000), AmountUnit::Unit),
            volume: Millilitres::new(dec!(250)),
        };
        let patient = Patient::with_weight(Kilograms::new(dec!(70)));
        let bolus_unit = DoseAmountUnit {
            amount: AmountUnit::Unit,
            basis: DoseBasis::PerKilogram,
        };
        let bolus = DoseAmount {
            value: dec!(80),
            unit: bolus_unit,
        };
        // 80 units/kg × 70 kg = 5600 units at 100 units/mL = 56 mL.
        assert_eq!(
            volume_for_amount(bolus, heparin, &patient).unwrap(),
            dec!(56)
        );
        let back =
            amount_for_volume(Millilitres::new(dec!(56)), heparin, &patient, bolus_unit).unwrap();
        assert_eq!(back.value, dec!(80));
    }
}

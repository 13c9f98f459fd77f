//! From answers to a program: the medication, the delivery, the drug
//! library's review and the confirmed program.

use super::*;

/// 0 for a dose for the whole patient, 1 per kg, 2 per m².
pub(super) fn basis(unit: DosingUnit) -> u8 {
    use crate::therapy::DoseBasis;
    let basis = match unit {
        DosingUnit::Flow => DoseBasis::Patient,
        DosingUnit::Rate(unit) => unit.basis,
        DosingUnit::Amount(unit) => unit.basis,
    };
    match basis {
        DoseBasis::Patient => 0,
        DoseBasis::PerKilogram => 1,
        DoseBasis::PerSquareMetre => 2,
    }
}

impl Workflow {
    pub(super) fn concentration(&self) -> Option<Concentration> {
        let entry = self.entry_picked()?;
        let spec = entry.concentrations.get(self.answers.concentration?)?;
        Some(Concentration {
            amount: Amount::new(spec.amount, spec.unit),
            volume: Millilitres::new(spec.volume_ml),
        })
    }

    /// The medication as answered (or of the running primary).
    pub fn medication(&self) -> Medication {
        if let (Kind::Bolus | Kind::Titration, Some(running)) = (self.kind, &self.running) {
            return running.medication;
        }
        match self.concentration() {
            Some(concentration) => Medication::Drug {
                concentration,
                patient: Patient {
                    weight: self.answers.weight.map(Kilograms::new),
                    height: self.answers.height.map(Centimetres::new),
                },
            },
            None => Medication::Basic,
        }
    }

    pub(super) fn delivery(&self) -> Result<Delivery, TherapyError> {
        let missing = || TherapyError::NotANumber {
            text: String::new(),
        };
        let dose = || {
            self.answers
                .dose
                .or(self.answer(Step::Dose))
                .ok_or_else(missing)
        };
        let unit = self.entry_picked().map(|entry| entry.dose.unit);
        let volume = match self.kind {
            Kind::Titration => self.running.as_ref().map(|running| running.remaining),
            _ => self.answers.volume.map(Millilitres::new),
        };
        let minutes = |value: Option<Decimal>| -> Result<InfusionDuration, TherapyError> {
            let value = value.ok_or_else(missing)?;
            let seconds = (value * Decimal::from(60)).round();
            let seconds = u32::try_from(seconds.mantissa()).map_err(|_| TherapyError::Overflow)?;
            Ok(InfusionDuration::from_seconds(seconds))
        };
        if self.by_steps() {
            let steps: Vec<crate::therapy::RateStep> = self
                .answers
                .rate_steps
                .iter()
                .map(|(rate, volume)| {
                    Ok(crate::therapy::RateStep {
                        rate: MillilitresPerHour::new(rate.ok_or_else(missing)?),
                        volume: Millilitres::new(volume.ok_or_else(missing)?),
                    })
                })
                .collect::<Result<_, TherapyError>>()?;
            return Ok(Delivery::Steps(crate::therapy::RateSteps::new(&steps)?));
        }
        if let (Some(pca), Some(DosingUnit::Rate(unit))) = (self.pca_spec(), unit) {
            let basal = dose()?;
            return Ok(Delivery::Pca(crate::therapy::PcaDelivery {
                basal: (!basal.is_zero()).then_some(DoseRate { value: basal, unit }),
                demand: DoseAmount {
                    value: self.answer(Step::Demand).ok_or_else(missing)?,
                    unit: pca.demand.unit.0,
                },
                lockout: minutes(self.answer(Step::Lockout))?,
                limit: DoseAmount {
                    value: self.answer(Step::PcaLimit).ok_or_else(missing)?,
                    unit: pca.limit.unit.0,
                },
                window: if pca.window_h == 1 {
                    crate::therapy::PcaWindow::OneHour
                } else {
                    crate::therapy::PcaWindow::FourHours
                },
                volume: volume.ok_or_else(missing)?,
            }));
        }
        if self.by_time() {
            return Ok(Delivery::VolumeOverTime {
                volume: volume.ok_or_else(missing)?,
                duration: minutes(self.answers.duration_min)?,
            });
        }
        Ok(match unit {
            None | Some(DosingUnit::Flow) => Delivery::Rate {
                rate: MillilitresPerHour::new(dose()?),
                volume: volume.ok_or_else(missing)?,
            },
            Some(DosingUnit::Rate(unit)) => {
                let dose = DoseRate {
                    value: dose()?,
                    unit,
                };
                match (
                    self.answers.loading,
                    self.entry_picked().and_then(|entry| entry.loading),
                ) {
                    (Some(true), Some(spec)) if self.kind == Kind::Primary => {
                        Delivery::LoadingThenMaintenance {
                            loading: DoseAmount {
                                value: self.answers.loading_dose.ok_or_else(missing)?,
                                unit: spec.unit.0,
                            },
                            loading_duration: minutes(self.answers.loading_duration_min)?,
                            maintenance: dose,
                            volume: volume.ok_or_else(missing)?,
                        }
                    }
                    _ => Delivery::Dose {
                        dose,
                        volume: volume.ok_or_else(missing)?,
                    },
                }
            }
            Some(DosingUnit::Amount(unit)) => Delivery::AmountOverTime {
                amount: DoseAmount {
                    value: dose()?,
                    unit,
                },
                duration: minutes(self.answers.duration_min)?,
            },
        })
    }

    /// The drug library's review of the program as answered (the review
    /// step shows it). None before the review step.
    pub fn review(&self) -> Option<Review> {
        if self.step != Step::Review {
            return None;
        }
        let care_area = self.answers.care_area.clone().unwrap_or_default();
        let choice = match &self.answers.drug {
            Some(Pick::Entry(id)) => DrugChoice::Entry(id),
            Some(Pick::Basic) | None => DrugChoice::Basic,
        };
        let blocked = |error: TherapyError| Review {
            library: self.library.identity.clone(),
            care_area: care_area.clone(),
            entry: None,
            plan: None,
            values: Vec::new(),
            blockers: vec![error.into()],
        };
        let medication = self.medication();
        Some(match self.kind {
            Kind::Primary | Kind::Titration => match self.delivery() {
                Ok(delivery) => review(
                    &self.library,
                    &care_area,
                    choice,
                    &Program {
                        medication,
                        delivery,
                        end: self.end_of_infusion(),
                    },
                    &self.platform,
                ),
                Err(error) => blocked(error),
            },
            Kind::Secondary => match self.delivery() {
                Ok(delivery) => review_secondary(
                    &self.library,
                    &care_area,
                    choice,
                    &SecondaryProgram {
                        medication,
                        delivery,
                    },
                    &self.platform,
                ),
                Err(error) => blocked(error),
            },
            Kind::Bolus => {
                let duration = self
                    .answers
                    .duration_min
                    .map(|minutes| (minutes * Decimal::from(60)).round())
                    .and_then(|seconds| u32::try_from(seconds.mantissa()).ok())
                    .map(InfusionDuration::from_seconds);
                let (Some(dose), Some(duration)) = (self.answers.dose, duration) else {
                    return Some(blocked(TherapyError::NotANumber {
                        text: String::new(),
                    }));
                };
                let (entry_id, request) = match (&self.answers.drug, self.entry_picked()) {
                    (Some(Pick::Entry(id)), Some(entry)) => (
                        id.clone(),
                        match entry.bolus {
                            Some(spec) => BolusRequest::Dose {
                                amount: DoseAmount {
                                    value: dose,
                                    unit: spec.unit.0,
                                },
                                duration,
                            },
                            None => BolusRequest::Volume {
                                volume: Millilitres::new(dose),
                                duration,
                            },
                        },
                    ),
                    _ => (
                        String::new(),
                        BolusRequest::Volume {
                            volume: Millilitres::new(dose),
                            duration,
                        },
                    ),
                };
                review_bolus(
                    &self.library,
                    &care_area,
                    &entry_id,
                    &medication,
                    &request,
                    &self.platform,
                )
            }
        })
    }

    /// Confirms the review with the overrides the nurse gave; the result is
    /// the only thing the pump starts.
    pub fn confirm(&self, overrides: &[Override]) -> Result<ConfirmedProgram, ConfirmError> {
        match self.review() {
            Some(review) => confirm(review, overrides),
            None => Err(ConfirmError::Blocked(Vec::new())),
        }
    }

    /// The program as answered (primary programs), to keep for a resume.
    pub fn program(&self) -> Option<Program> {
        if self.kind != Kind::Primary {
            return None;
        }
        Some(Program {
            medication: self.medication(),
            delivery: self.delivery().ok()?,
            end: self.end_of_infusion(),
        })
    }

    /// The care area answered.
    pub fn care_area_id(&self) -> Option<&str> {
        self.answers.care_area.as_deref()
    }

    /// The running context this program builds on, with the new answers,
    /// for the next bolus, secondary or titration.
    /// A fluid given over a time runs on at its derived rate (`first_rate`),
    /// which a titration starts from.
    pub fn running_after_start(
        &self,
        remaining: Millilitres,
        first_rate: Option<MillilitresPerHour>,
    ) -> Running {
        let dose = match (self.by_time() || self.by_steps(), first_rate) {
            (true, Some(rate)) => Some(rate.value()),
            (true, None) | (false, _) => self.answers.dose,
        };
        Running {
            care_area: self.answers.care_area.clone().unwrap_or_default(),
            drug: self.answers.drug.clone().unwrap_or(Pick::Basic),
            medication: self.medication(),
            dose: dose.unwrap_or_default(),
            remaining,
        }
    }
}

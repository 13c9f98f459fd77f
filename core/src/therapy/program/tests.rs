use super::*;
use crate::therapy::quantity::{
    Amount, AmountUnit, DoseAmountUnit, DoseBasis, DoseRateUnit, Kilograms, TimeBase,
};
use crate::therapy::{PcaDelivery, PcaWindow};
use rust_decimal_macros::dec;

fn magnesium() -> Medication {
    Medication::Drug {
        concentration: Concentration {
            amount: Amount::new(dec!(20), AmountUnit::Gram),
            volume: Millilitres::new(dec!(500)),
        },
        patient: Patient::with_weight(Kilograms::new(dec!(70))),
    }
}

#[test]
fn magnesium_loading_then_maintenance() {
    // 4 g over 20 min at 40 mg/mL = 100 mL at 300 mL/h; then 2 g/h = 50 mL/h.
    let program = Program {
        medication: magnesium(),
        delivery: Delivery::LoadingThenMaintenance {
            loading: DoseAmount {
                value: dec!(4),
                unit: DoseAmountUnit {
                    amount: AmountUnit::Gram,
                    basis: DoseBasis::Patient,
                },
            },
            loading_duration: InfusionDuration::from_minutes(20),
            maintenance: DoseRate {
                value: dec!(2),
                unit: DoseRateUnit {
                    amount: AmountUnit::Gram,
                    basis: DoseBasis::Patient,
                    per: TimeBase::PerHour,
                },
            },
            volume: Millilitres::new(dec!(500)),
        },
        end: EndOfInfusion::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(3)),
        },
    };
    let plan = plan(&program, &RateLimits::ANY_PLATFORM).unwrap();
    assert_eq!(
        plan.segments[0],
        Segment {
            purpose: SegmentPurpose::Loading,
            rate: MillilitresPerHour::new(dec!(300)),
            volume: Millilitres::new(dec!(100))
        }
    );
    assert_eq!(
        plan.segments[1],
        Segment {
            purpose: SegmentPurpose::Maintenance,
            rate: MillilitresPerHour::new(dec!(50)),
            volume: Millilitres::new(dec!(400))
        }
    );
    assert_eq!(plan.total_volume().unwrap(), Millilitres::new(dec!(500)));
    assert_eq!(
        plan.end,
        PlanEnd::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(3))
        }
    );
}

#[test]
fn keep_vein_open_never_exceeds_the_programmed_rate() {
    let program = Program {
        medication: Medication::Basic,
        delivery: Delivery::Rate {
            rate: MillilitresPerHour::new(dec!(2)),
            volume: Millilitres::new(dec!(50)),
        },
        end: EndOfInfusion::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(5)),
        },
    };
    let plan = plan(&program, &RateLimits::ANY_PLATFORM).unwrap();
    assert_eq!(
        plan.end,
        PlanEnd::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(2))
        }
    );
}

#[test]
fn keep_vein_open_above_twenty_is_refused() {
    let program = Program {
        medication: Medication::Basic,
        delivery: Delivery::Rate {
            rate: MillilitresPerHour::new(dec!(100)),
            volume: Millilitres::new(dec!(50)),
        },
        end: EndOfInfusion::KeepVeinOpen {
            rate: MillilitresPerHour::new(dec!(25)),
        },
    };
    let error = plan(&program, &RateLimits::ANY_PLATFORM).unwrap_err();
    assert_eq!(
        error.to_string(),
        "KVO rate 25 mL/h is out of range: allowed 0.1 to 20 mL/h"
    );
}

#[test]
fn basic_infusion_cannot_be_dosed_by_amount() {
    let program = Program {
        medication: Medication::Basic,
        delivery: Delivery::AmountOverTime {
            amount: DoseAmount {
                value: dec!(1),
                unit: DoseAmountUnit {
                    amount: AmountUnit::Gram,
                    basis: DoseBasis::Patient,
                },
            },
            duration: InfusionDuration::from_minutes(60),
        },
        end: EndOfInfusion::Stop,
    };
    assert_eq!(
        plan(&program, &RateLimits::ANY_PLATFORM),
        Err(TherapyError::NeedsDrug)
    );
}

#[test]
fn no_more_than_the_loaded_syringe_holds() {
    let syringe = RateLimits {
        min: MillilitresPerHour::new(dec!(0.1)),
        max: MillilitresPerHour::new(dec!(200)),
        container: Some(Millilitres::new(dec!(50))),
    };
    let program = |volume| Program {
        medication: Medication::Basic,
        delivery: Delivery::Rate {
            rate: MillilitresPerHour::new(dec!(10)),
            volume: Millilitres::new(volume),
        },
        end: EndOfInfusion::Stop,
    };
    assert!(plan(&program(dec!(50)), &syringe).is_ok());
    let error = plan(&program(dec!(50.1)), &syringe).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the volume to be infused, 50.1 mL, is more than the loaded syringe holds: at most 50 mL"
    );
    // A bag the pump does not measure has no such cap.
    assert!(plan(&program(dec!(250)), &RateLimits::ANY_PLATFORM).is_ok());
}

#[test]
fn platform_maximum_caps_the_rate() {
    let syringe = RateLimits {
        min: MillilitresPerHour::new(dec!(0.1)),
        max: MillilitresPerHour::new(dec!(200)),
        container: Some(Millilitres::new(dec!(50))),
    };
    let program = Program {
        medication: Medication::Basic,
        delivery: Delivery::VolumeOverTime {
            volume: Millilitres::new(dec!(50)),
            duration: InfusionDuration::from_minutes(10),
        },
        end: EndOfInfusion::Stop,
    };
    let error = plan(&program, &syringe).unwrap_err();
    assert_eq!(
        error.to_string(),
        "rate 300 mL/h is out of range: allowed 0.1 to 200 mL/h"
    );
}

#[test]
fn secondary_hands_back_to_the_primary_and_bolus_is_one_segment() {
    let vancomycin = Medication::Drug {
        concentration: Concentration {
            amount: Amount::new(dec!(1000), AmountUnit::Milligram),
            volume: Millilitres::new(dec!(200)),
        },
        patient: Patient::with_weight(Kilograms::new(dec!(70))),
    };
    let secondary = SecondaryProgram {
        medication: vancomycin,
        delivery: Delivery::AmountOverTime {
            amount: DoseAmount {
                value: dec!(1000),
                unit: DoseAmountUnit {
                    amount: AmountUnit::Milligram,
                    basis: DoseBasis::Patient,
                },
            },
            duration: InfusionDuration::from_minutes(90),
        },
    };
    let plan = plan_secondary(&secondary, &RateLimits::ANY_PLATFORM).unwrap();
    assert_eq!(plan.end, PlanEnd::ResumePrimary);
    assert_eq!(
        plan.segments[0].rate,
        MillilitresPerHour::new(dec!(133.3).round())
    );
    let bolus = plan_bolus(
        &magnesium(),
        &BolusRequest::Volume {
            volume: Millilitres::new(dec!(10)),
            duration: InfusionDuration::from_minutes(5),
        },
        &RateLimits::ANY_PLATFORM,
    )
    .unwrap();
    assert_eq!(bolus.rate, MillilitresPerHour::new(dec!(120)));
}

fn morphine() -> Medication {
    Medication::Drug {
        concentration: Concentration {
            amount: Amount::new(dec!(50), AmountUnit::Milligram),
            volume: Millilitres::new(dec!(50)),
        },
        patient: Patient::with_weight(Kilograms::new(dec!(70))),
    }
}

fn mg(value: Decimal) -> DoseAmount {
    DoseAmount {
        value,
        unit: DoseAmountUnit {
            amount: AmountUnit::Milligram,
            basis: DoseBasis::Patient,
        },
    }
}

fn pca(basal_mg_h: Option<Decimal>, demand: Decimal, lockout_min: u32, limit: Decimal) -> Program {
    Program {
        medication: morphine(),
        delivery: Delivery::Pca(PcaDelivery {
            basal: basal_mg_h.map(|value| DoseRate {
                value,
                unit: DoseRateUnit {
                    amount: AmountUnit::Milligram,
                    basis: DoseBasis::Patient,
                    per: TimeBase::PerHour,
                },
            }),
            demand: mg(demand),
            lockout: InfusionDuration::from_minutes(lockout_min),
            limit: mg(limit),
            window: PcaWindow::FourHours,
            volume: Millilitres::new(dec!(50)),
        }),
        end: EndOfInfusion::Stop,
    }
}

fn syringe_pump() -> RateLimits {
    RateLimits {
        min: MillilitresPerHour::new(dec!(0.1)),
        max: MillilitresPerHour::new(dec!(200)),
        container: Some(Millilitres::new(dec!(50))),
    }
}

#[test]
fn pca_plans_a_basal_and_a_demand_within_a_lockout_and_a_limit() {
    // Morphine 1 mg/mL: 0.5 mg/h basal, 1 mg demands, 10 min lockout, 10 mg in 4 h.
    let planned = plan(
        &pca(Some(dec!(0.5)), dec!(1), 10, dec!(10)),
        &syringe_pump(),
    )
    .unwrap();
    assert_eq!(planned.segments.len(), 1);
    assert_eq!(planned.segments[0].rate.value(), dec!(0.5));
    assert_eq!(planned.segments[0].volume.value(), dec!(50));
    let pca_plan = planned.pca.unwrap();
    assert_eq!(pca_plan.demand_volume.value(), dec!(1));
    assert_eq!(pca_plan.limit_volume.value(), dec!(10));
    assert_eq!(pca_plan.lockout, InfusionDuration::from_minutes(10));
    assert_eq!(pca_plan.window, PcaWindow::FourHours);
    // Demands at the platform's highest rate; KVO at its lowest once limited.
    assert_eq!(pca_plan.demand_rate.value(), dec!(200));
    assert_eq!(pca_plan.limited_rate.value(), dec!(0.1));
    // Without a basal the basal segment runs at zero and nothing flows once limited.
    let planned = plan(&pca(None, dec!(1), 10, dec!(10)), &syringe_pump()).unwrap();
    assert!(planned.segments[0].rate.value().is_zero());
    assert!(planned.pca.unwrap().limited_rate.value().is_zero());
}

#[test]
fn pca_refuses_limits_that_cannot_work() {
    let error = |program: Program| plan(&program, &syringe_pump()).unwrap_err().to_string();
    assert_eq!(
        error(pca(None, dec!(2), 10, dec!(1))),
        "the PCA limit, 1 mg, is less than one demand dose, 2 mg: no demand could ever be given; raise the limit or lower the dose"
    );
    assert_eq!(
        error(pca(Some(dec!(3)), dec!(1), 10, dec!(12))),
        "the basal rate alone gives 12 mL in 4 h, which reaches the 4-hour limit of 12 mL: lower the basal rate or raise the limit"
    );
    assert_eq!(
        error(pca(None, dec!(1), 0, dec!(10))),
        "lockout interval 0 min is out of range: allowed 1 to 240 min"
    );
    // 10 mL at 200 mL/h takes 3 min: longer than a 2 min lockout.
    assert_eq!(
        error(pca(None, dec!(10), 2, dec!(40))),
        "one demand dose, 10 mL, takes longer to give than the 2 min lockout: lengthen the lockout or lower the dose"
    );
    // A PCA is never a secondary.
    let Delivery::Pca(delivery) = pca(None, dec!(1), 10, dec!(10)).delivery else {
        unreachable!()
    };
    let secondary = SecondaryProgram {
        medication: morphine(),
        delivery: Delivery::Pca(delivery),
    };
    assert_eq!(
        plan_secondary(&secondary, &syringe_pump()).unwrap_err(),
        TherapyError::PcaOnlyPrimary
    );
}

//! Property tests of the therapy core: dose -> rate -> dose round-trips within
//! the stated resolution; the VTBI/rate/time triangle holds; no input, however
//! absurd, makes the core panic or overflow; out-of-range input gets a typed
//! error naming what is allowed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse::therapy::rules::{rate_resolution, round_rate};
use perfuse::therapy::{
    amount_for_volume, dose_for_flow, flow_for_dose, parse_decimal, plan, volume_for_amount,
    Amount, AmountUnit, Centimetres, Concentration, Delivery, DoseAmount, DoseAmountUnit,
    DoseBasis, DoseRate, DoseRateUnit, EndOfInfusion, InfusionDuration, Kilograms, Medication,
    Millilitres, MillilitresPerHour, Patient, Program, Quantity, RateLimits, TherapyError,
    TimeBase,
};
use proptest::prelude::*;

use perfuse_testkit::cases;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A decimal with `scale` decimal places between `low` and `high` (in those units).
fn decimal(low: i64, high: i64, scale: u32) -> impl Strategy<Value = Decimal> {
    let factor = 10_i64.pow(scale);
    (low * factor..=high * factor).prop_map(move |mantissa| Decimal::new(mantissa, scale))
}

/// Any decimal at all, including huge, tiny, negative and zero.
fn any_decimal() -> impl Strategy<Value = Decimal> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        0_u32..=28,
    )
        .prop_map(|(lo, mid, hi, negative, scale)| {
            Decimal::from_parts(lo, mid, hi, negative, scale)
        })
}

fn amount_unit() -> impl Strategy<Value = AmountUnit> {
    prop::sample::select(AmountUnit::ALL.to_vec())
}

fn basis() -> impl Strategy<Value = DoseBasis> {
    prop::sample::select(vec![
        DoseBasis::Patient,
        DoseBasis::PerKilogram,
        DoseBasis::PerSquareMetre,
    ])
}

fn time_base() -> impl Strategy<Value = TimeBase> {
    prop::sample::select(vec![TimeBase::PerMinute, TimeBase::PerHour])
}

fn patient() -> impl Strategy<Value = Patient> {
    (decimal(1, 300, 1), decimal(30, 220, 0)).prop_map(|(weight, height)| Patient {
        weight: Some(Kilograms::new(weight)),
        height: Some(Centimetres::new(height)),
    })
}

/// A concentration whose amount is in the same family as `unit`.
fn concentration_for(unit: AmountUnit) -> impl Strategy<Value = Concentration> {
    let family: Vec<AmountUnit> = AmountUnit::ALL
        .into_iter()
        .filter(|other| other.family() == unit.family())
        .collect();
    (
        decimal(1, 50_000, 2),
        prop::sample::select(family),
        decimal(1, 1000, 1),
    )
        .prop_map(|(amount, unit, volume)| Concentration {
            amount: Amount::new(amount, unit),
            volume: Millilitres::new(volume),
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases::cases(2000),
        failure_persistence: cases::kept(),
        ..ProptestConfig::default()
    })]

    #[test]
    fn dose_to_rate_to_dose_round_trips_within_the_rate_resolution(
        (unit, concentration) in amount_unit().prop_flat_map(|unit| (Just(unit), concentration_for(unit))),
        basis in basis(),
        per in time_base(),
        target in decimal(0, 999, 4),
        patient in patient(),
    ) {
        // Start from a dose a clinician could order: the one that a rate in
        // the pump's range delivers, to six significant digits.
        let unit = DoseRateUnit { amount: unit, basis, per };
        let ordered = dose_for_flow(MillilitresPerHour::new(target), concentration, &patient, unit).unwrap();
        let value = ordered.value.round_sf(6).unwrap();
        let dose = DoseRate { value, unit };
        let raw = flow_for_dose(dose, concentration, &patient).unwrap();
        prop_assume!(raw >= dec!(0.1) && raw <= dec!(999));
        let rate = MillilitresPerHour::new(round_rate(raw));
        let back = dose_for_flow(rate, concentration, &patient, unit).unwrap();
        // Half a rate step, expressed as dose: step/2 x (amount per mL) / (scale x time bases per hour).
        let per_millilitre = concentration.per_millilitre(unit.amount).unwrap();
        let scale = patient.scale(basis).unwrap();
        let per_hour = match per { TimeBase::PerMinute => dec!(60), TimeBase::PerHour => dec!(1) };
        let tolerance = rate_resolution(raw) / dec!(2) * per_millilitre / (scale * per_hour);
        let error = (back.value - value).abs();
        prop_assert!(error <= tolerance + dec!(0.000000000001),
            "dose {value} {unit} -> {raw} mL/h -> {rate} -> {} (error {error}, allowed {tolerance})", back.value);
    }

    #[test]
    fn amount_to_volume_to_amount_is_exact_to_28_digits(
        (unit, concentration) in amount_unit().prop_flat_map(|unit| (Just(unit), concentration_for(unit))),
        basis in basis(),
        value in decimal(0, 100_000, 3),
        patient in patient(),
    ) {
        let unit = DoseAmountUnit { amount: unit, basis };
        let volume = volume_for_amount(DoseAmount { value, unit }, concentration, &patient).unwrap();
        let back = amount_for_volume(Millilitres::new(volume), concentration, &patient, unit).unwrap();
        prop_assert!((back.value - value).abs() <= dec!(0.000000000001) * (value + dec!(1)));
    }

    #[test]
    fn volume_rate_and_time_stay_consistent(
        volume in decimal(0, 9999, 2),
        seconds in 60_u32..=356_400,
    ) {
        let program = Program {
            medication: Medication::Basic,
            delivery: Delivery::VolumeOverTime { volume: Millilitres::new(volume), duration: InfusionDuration::from_seconds(seconds) },
            end: EndOfInfusion::Stop,
        };
        let hours = Decimal::from(seconds) / dec!(3600);
        let raw = volume / hours;
        match plan(&program, &RateLimits::ANY_PLATFORM) {
            Ok(planned) => {
                let segment = planned.segments[0];
                prop_assert_eq!(segment.volume, Millilitres::new(volume));
                // The rounded rate runs the volume in the asked time, to within half a rate step.
                // In exact terms (mL x s/h, no division): a rate at exactly half a step
                // (38.25 mL/h, rounded to 38.3) sits on the bound, and dividing by the
                // hours first made that a flaky failure (found with 40 000 cases).
                let delivered_in_time = segment.rate.value() * Decimal::from(seconds);
                let asked = volume * dec!(3600);
                prop_assert!(
                    (delivered_in_time - asked).abs() <= rate_resolution(raw) / dec!(2) * Decimal::from(seconds),
                    "{} mL/h for {seconds} s against {volume} mL", segment.rate.value()
                );
                // And the time shown for it is the volume over that rate, to the second.
                let shown = Decimal::from(segment.duration().unwrap().seconds());
                let exact = volume * dec!(3600) / segment.rate.value();
                prop_assert!((shown - exact).abs() <= dec!(0.5));
            }
            Err(TherapyError::OutOfRange { quantity, min, max, .. }) => {
                prop_assert!(quantity == Quantity::Rate || quantity == Quantity::VolumeToBeInfused);
                prop_assert!(min < max);
                prop_assert!(raw < dec!(0.1) || raw >= dec!(998.5) || volume < dec!(0.1));
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    #[test]
    fn no_input_makes_the_core_panic(
        values in prop::collection::vec(any_decimal(), 8),
        seconds in any::<u32>(),
        units in (amount_unit(), amount_unit(), basis(), time_base()),
    ) {
        let (dose_unit, concentration_unit, basis, per) = units;
        let patient = Patient { weight: Some(Kilograms::new(values[0])), height: Some(Centimetres::new(values[1])) };
        let concentration = Concentration { amount: Amount::new(values[2], concentration_unit), volume: Millilitres::new(values[3]) };
        let medication = Medication::Drug { concentration, patient };
        let duration = InfusionDuration::from_seconds(seconds);
        let deliveries = [
            Delivery::Rate { rate: MillilitresPerHour::new(values[4]), volume: Millilitres::new(values[5]) },
            Delivery::Dose { dose: DoseRate { value: values[6], unit: DoseRateUnit { amount: dose_unit, basis, per } }, volume: Millilitres::new(values[5]) },
            Delivery::VolumeOverTime { volume: Millilitres::new(values[5]), duration },
            Delivery::AmountOverTime { amount: DoseAmount { value: values[7], unit: DoseAmountUnit { amount: dose_unit, basis } }, duration },
            Delivery::LoadingThenMaintenance {
                loading: DoseAmount { value: values[7], unit: DoseAmountUnit { amount: dose_unit, basis } },
                loading_duration: duration,
                maintenance: DoseRate { value: values[6], unit: DoseRateUnit { amount: dose_unit, basis, per } },
                volume: Millilitres::new(values[5]),
            },
        ];
        for delivery in deliveries {
            for end in [EndOfInfusion::Stop, EndOfInfusion::KeepVeinOpen { rate: MillilitresPerHour::new(values[4]) }] {
                let program = Program { medication, delivery, end };
                // Any answer is fine; a panic fails the test.
                let _ = plan(&program, &RateLimits::ANY_PLATFORM);
            }
        }
        let _ = patient.body_surface_area();
    }

    #[test]
    fn typed_text_never_panics_and_parses_back_exactly(text in "\\PC{0,12}") {
        if let Ok(value) = parse_decimal(&text) {
            prop_assert!(value >= Decimal::ZERO);
            prop_assert_eq!(parse_decimal(&perfuse::therapy::display_decimal(value)).unwrap(), value);
        }
    }

    #[test]
    fn rates_outside_the_range_get_an_error_naming_it(rate in prop_oneof![decimal(1000, 100_000, 0), decimal(0, 0, 2)]) {
        let program = Program {
            medication: Medication::Basic,
            delivery: Delivery::Rate { rate: MillilitresPerHour::new(rate), volume: Millilitres::new(dec!(100)) },
            end: EndOfInfusion::Stop,
        };
        let error = plan(&program, &RateLimits::ANY_PLATFORM).unwrap_err();
        prop_assert_eq!(error.clone(), TherapyError::OutOfRange {
            quantity: Quantity::Rate, value: rate, min: dec!(0.1), max: dec!(999), unit: "mL/h".to_owned(),
        });
        prop_assert!(error.to_string().contains("allowed 0.1 to 999 mL/h"));
    }
}

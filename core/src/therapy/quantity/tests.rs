use super::*;
use rust_decimal_macros::dec;

#[test]
fn mass_units_convert_exactly() {
    assert_eq!(
        AmountUnit::Gram
            .convert(dec!(4), AmountUnit::Milligram)
            .unwrap(),
        dec!(4000)
    );
    assert_eq!(
        AmountUnit::Microgram
            .convert(dec!(1), AmountUnit::Milligram)
            .unwrap(),
        dec!(0.001)
    );
    assert_eq!(
        AmountUnit::Unit
            .convert(dec!(0.5), AmountUnit::MilliUnit)
            .unwrap(),
        dec!(500)
    );
}

#[test]
fn units_of_different_families_do_not_convert() {
    let error = AmountUnit::Unit
        .convert(dec!(1), AmountUnit::Milligram)
        .unwrap_err();
    assert_eq!(
        error,
        TherapyError::IncompatibleUnits {
            from: "units",
            to: "mg"
        }
    );
    assert!(AmountUnit::Milliequivalent
        .convert(dec!(1), AmountUnit::Millimole)
        .is_err());
}

#[test]
fn concentration_per_millilitre_in_any_unit_of_its_family() {
    let noradrenaline = Concentration {
        amount: Amount::new(dec!(4), AmountUnit::Milligram),
        volume: Millilitres::new(dec!(250)),
    };
    assert_eq!(
        noradrenaline.per_millilitre(AmountUnit::Microgram).unwrap(),
        dec!(16)
    );
}

#[test]
fn zero_volume_concentration_is_refused() {
    let bad = Concentration {
        amount: Amount::new(dec!(4), AmountUnit::Milligram),
        volume: Millilitres::new(dec!(0)),
    };
    assert_eq!(
        bad.per_millilitre(AmountUnit::Milligram),
        Err(TherapyError::NonPositiveConcentration)
    );
}

#[test]
fn numbers_show_a_leading_zero_and_no_trailing_zeros() {
    assert_eq!(Millilitres::new(dec!(0.50)).to_string(), "0.5 mL");
    assert_eq!(MillilitresPerHour::new(dec!(5.0)).to_string(), "5 mL/h");
    let unit = DoseRateUnit {
        amount: AmountUnit::Microgram,
        basis: DoseBasis::PerKilogram,
        per: TimeBase::PerMinute,
    };
    assert_eq!(
        DoseRate {
            value: dec!(0.05),
            unit
        }
        .to_string(),
        "0.05 mcg/kg/min"
    );
}

#[test]
fn units_parse_from_their_written_form() {
    let unit: DoseRateUnit = "mcg/kg/min".parse().unwrap();
    assert_eq!(unit.to_string(), "mcg/kg/min");
    assert_eq!(
        "units/h".parse::<DoseRateUnit>().unwrap().basis,
        DoseBasis::Patient
    );
    assert_eq!(
        "mg/m2/h".parse::<DoseRateUnit>().unwrap().basis,
        DoseBasis::PerSquareMetre
    );
    assert_eq!(
        "units/kg".parse::<DoseAmountUnit>().unwrap().to_string(),
        "units/kg"
    );
    for bad in [
        "",
        "mcg/kg",
        "ug/kg/min",
        "mcg/lb/min",
        "mcg/kg/s",
        "mg/kg/min/h",
        "mcg//min",
    ] {
        assert!(bad.parse::<DoseRateUnit>().is_err(), "{bad}");
    }
    for bad in ["", "mg/h", "mg/kg/min", "MG"] {
        assert!(bad.parse::<DoseAmountUnit>().is_err(), "{bad}");
    }
}

#[test]
fn derived_values_show_four_significant_digits() {
    assert_eq!(display_significant(dec!(3.500952380952)), "3.501");
    assert_eq!(display_significant(dec!(0.000380952)), "0.000381");
    assert_eq!(display_significant(dec!(1312.5)), "1313");
    assert_eq!(display_significant(dec!(80)), "80");
}

#[test]
fn durations_show_hours_and_minutes() {
    assert_eq!(
        InfusionDuration::from_hours_minutes(1, 5).to_string(),
        "1 h 05 min"
    );
    assert_eq!(
        InfusionDuration::from_seconds(3661).to_string(),
        "1 h 01 min 01 s"
    );
}

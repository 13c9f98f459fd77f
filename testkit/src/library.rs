//! Helpers shared by the integration tests: the shipped sample library, the
//! trusted keys, a fixed "today", and programs built from library entries.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use perfuse::druglib::model::{DosingUnit, Entry};

use perfuse::druglib::{parse_library, Library};
use perfuse::signing::{sign, signing_key_from_pem, TrustedKeys};
use perfuse::therapy::{
    Amount, Centimetres, Concentration, Delivery, DoseAmount, DoseRate, EndOfInfusion,
    InfusionDuration, Kilograms, Medication, Millilitres, MillilitresPerHour, Patient, Program,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

pub const DEV_KEY_ID: &str = "perfuse-development-only-2026";

pub fn asset(relative: &str) -> PathBuf {
    crate::bins::root().join("assets").join(relative)
}

pub fn sample_bytes() -> Vec<u8> {
    std::fs::read(asset("druglib/sample-library.toml")).unwrap()
}

pub fn sample_signature() -> String {
    std::fs::read_to_string(asset("druglib/sample-library.toml.sig")).unwrap()
}

pub fn sample_library() -> Library {
    parse_library(&sample_bytes()).unwrap()
}

pub fn trusted_keys() -> TrustedKeys {
    TrustedKeys::from_toml(&std::fs::read_to_string(asset("config/trusted-keys.toml")).unwrap())
        .unwrap()
}

/// Signs bytes with the development key, as a pharmacist would with theirs.
pub fn dev_sign(bytes: &[u8]) -> String {
    let pem =
        std::fs::read_to_string(asset("keys/DEVELOPMENT-ONLY-druglib-signing-key.pem")).unwrap();
    sign(bytes, &signing_key_from_pem(&pem).unwrap(), DEV_KEY_ID)
}

/// A fixed "today" after the sample library's effective date.
pub fn today() -> time::Date {
    time::macros::date!(2026 - 11 - 21)
}

/// The patient the tests program for in a care area.
pub fn patient_for(care_area: &str) -> Patient {
    if care_area == "pediatrics" {
        Patient {
            weight: Some(Kilograms::new(dec!(20))),
            height: Some(Centimetres::new(dec!(110))),
        }
    } else {
        Patient {
            weight: Some(Kilograms::new(dec!(70))),
            height: Some(Centimetres::new(dec!(170))),
        }
    }
}

/// A drug at `amount` in `volume_ml` for the test patient of a care area.
pub fn drug(
    amount: Decimal,
    unit: perfuse::therapy::AmountUnit,
    volume_ml: Decimal,
    care_area: &str,
) -> Medication {
    Medication::Drug {
        concentration: Concentration {
            amount: Amount::new(amount, unit),
            volume: Millilitres::new(volume_ml),
        },
        patient: patient_for(care_area),
    }
}

pub fn first_concentration(entry: &Entry) -> Option<Concentration> {
    entry.concentrations.first().map(|spec| Concentration {
        amount: Amount::new(spec.amount, spec.unit),
        volume: Millilitres::new(spec.volume_ml),
    })
}

/// Time to give an intermittent dose over: its minimum, or an hour if longer.
pub fn intermittent_duration(entry: &Entry) -> InfusionDuration {
    InfusionDuration::from_minutes(entry.dose.min_duration_min.unwrap_or(60).max(60))
}

/// The program a nurse enters for `entry` with `value` typed in the dose
/// field, in the entry's own dose unit.
pub fn program_for(entry: &Entry, care_area: &str, value: Decimal) -> Program {
    let (medication, delivery) = match entry.dose.unit {
        DosingUnit::Flow => (
            Medication::Basic,
            Delivery::Rate {
                rate: MillilitresPerHour::new(value),
                volume: Millilitres::new(entry.max_vtbi_ml),
            },
        ),
        DosingUnit::Rate(unit) => {
            let concentration = first_concentration(entry).unwrap();
            let volume = entry.max_vtbi_ml.min(concentration.volume.value());
            (
                Medication::Drug {
                    concentration,
                    patient: patient_for(care_area),
                },
                Delivery::Dose {
                    dose: DoseRate { value, unit },
                    volume: Millilitres::new(volume),
                },
            )
        }
        DosingUnit::Amount(unit) => (
            Medication::Drug {
                concentration: first_concentration(entry).unwrap(),
                patient: patient_for(care_area),
            },
            Delivery::AmountOverTime {
                amount: DoseAmount { value, unit },
                duration: intermittent_duration(entry),
            },
        ),
    };
    Program {
        medication,
        delivery,
        end: EndOfInfusion::Stop,
    }
}

/// Every (care area id, entry) of the sample library.
pub fn all_entries(library: &Library) -> Vec<(String, Entry)> {
    library
        .file
        .care_areas
        .iter()
        .flat_map(|area| {
            area.entries
                .iter()
                .map(|entry| (area.id.clone(), entry.clone()))
        })
        .collect()
}

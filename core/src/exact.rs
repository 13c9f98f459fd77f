//! Exact decimals from configuration files (drug libraries, mechanism
//! profiles): numbers written in TOML are read without passing through a
//! binary float's rounding.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// Reads a number from TOML exactly: integers and strings as they are, and
/// decimals through their shortest round-trip text, so `0.1` is 0.1 and not
/// the binary float nearest to it.
pub fn exact_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Integer(i64),
        Float(f64),
        Text(String),
    }
    let text = match Written::deserialize(deserializer)? {
        Written::Integer(value) => return Ok(Decimal::from(value)),
        Written::Float(value) => value.to_string(),
        Written::Text(text) => text,
    };
    Decimal::from_str(&text)
        .map_err(|_| serde::de::Error::custom(format!("\"{text}\" is not a decimal number")))
}

pub fn optional_exact_decimal<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    exact_decimal(deserializer).map(Some)
}

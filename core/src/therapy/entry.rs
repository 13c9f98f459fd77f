//! Parsing of numbers as a nurse types them on the keypad.
//!
//! The keypad always sends a '.' as the decimal point (the UI shows the
//! locale's separator); this parser accepts nothing else. It refuses what
//! invites misreading rather than guessing: ".5" (a missed leading zero is the
//! classic 10x error), "5." (an unfinished entry), signs, exponents and
//! thousands separators.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::TherapyError;

/// Most digits before the decimal point: 999999 covers every volume, weight
/// and dose the pump handles with room to spare.
pub const MAX_INTEGER_DIGITS: u32 = 6;
/// Most digits after the decimal point: 0.0001 is finer than any dose or
/// rate resolution the pump uses.
pub const MAX_DECIMALS: u32 = 4;

/// Parses a typed number into an exact decimal.
pub fn parse_decimal(text: &str) -> Result<Decimal, TherapyError> {
    let trimmed = text.trim();
    let not_a_number = || TherapyError::NotANumber {
        text: trimmed.to_owned(),
    };
    let (integer, fraction) = match trimmed.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (trimmed, None),
    };
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if !all_digits(integer) || !fraction.is_none_or(all_digits) {
        return Err(not_a_number());
    }
    match (integer.is_empty(), fraction) {
        (true, None) => return Err(not_a_number()),
        (true, Some("")) => return Err(not_a_number()),
        (true, Some(_)) => {
            return Err(TherapyError::MissingLeadingZero {
                text: trimmed.to_owned(),
            })
        }
        (false, Some("")) => {
            return Err(TherapyError::IncompleteNumber {
                text: trimmed.to_owned(),
            })
        }
        (false, _) => {}
    }
    let significant_integer = integer.trim_start_matches('0');
    let decimals = fraction.map_or(0, str::len);
    if significant_integer.len() > MAX_INTEGER_DIGITS as usize || decimals > MAX_DECIMALS as usize {
        return Err(TherapyError::TooManyDigits {
            text: trimmed.to_owned(),
            max_integer_digits: MAX_INTEGER_DIGITS,
            max_decimals: MAX_DECIMALS,
        });
    }
    Decimal::from_str(trimmed).map_err(|_| not_a_number())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn accepts_plain_numbers() {
        assert_eq!(parse_decimal("0.5").unwrap(), dec!(0.5));
        assert_eq!(parse_decimal(" 12 ").unwrap(), dec!(12));
        assert_eq!(parse_decimal("999999.9999").unwrap(), dec!(999999.9999));
    }

    #[test]
    fn refuses_a_missing_leading_zero() {
        assert!(matches!(
            parse_decimal(".5"),
            Err(TherapyError::MissingLeadingZero { .. })
        ));
        assert_eq!(
            parse_decimal(".5").unwrap_err().to_string(),
            "\".5\" needs a leading zero: enter 0.5"
        );
    }

    #[test]
    fn refuses_unfinished_and_foreign_forms() {
        assert!(matches!(
            parse_decimal("5."),
            Err(TherapyError::IncompleteNumber { .. })
        ));
        for text in [
            "", ".", "-1", "+1", "1e3", "1,5", "1.2.3", "abc", "NaN", "inf", "0x10",
        ] {
            assert!(
                matches!(parse_decimal(text), Err(TherapyError::NotANumber { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_too_many_digits() {
        assert!(matches!(
            parse_decimal("1000000"),
            Err(TherapyError::TooManyDigits { .. })
        ));
        assert!(matches!(
            parse_decimal("0.00001"),
            Err(TherapyError::TooManyDigits { .. })
        ));
    }
}

//! The number keypad, designed against use errors: an explicit decimal-point
//! key, a leading zero put in for the nurse (pressing the point first gives
//! "0."), no more digits than the therapy core accepts, and nothing accepted
//! until the typed text parses whole. The value is parsed by the therapy
//! core; this module only keeps the keystrokes.

use arrayvec::ArrayString;
use rust_decimal::Decimal;

use crate::therapy::{parse_decimal, TherapyError, MAX_DECIMALS, MAX_INTEGER_DIGITS};

/// A key on the keypad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Digit(u8),
    Point,
    Backspace,
    Clear,
}

/// Why a key press was refused (the entry is unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A second decimal point.
    SecondPoint,
    /// More digits before the point than any value needs.
    TooManyIntegerDigits,
    /// More digits after the point than the pump resolves.
    TooManyDecimals,
    /// A leading zero before another digit ("05").
    LeadingZero,
}

/// Longest text the keypad holds: six digits, a point and four decimals.
const CAPACITY: usize = (MAX_INTEGER_DIGITS + 1 + MAX_DECIMALS) as usize;

/// What has been typed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NumberEntry {
    text: ArrayString<CAPACITY>,
    /// The text is a value shown, not typed (a suggestion or the setting
    /// before): the first digit or point replaces it, as on any pump;
    /// Next accepts it as it is.
    shown: bool,
}

impl NumberEntry {
    /// An entry showing `value` (the current setting, to be edited).
    pub fn showing(value: Decimal) -> NumberEntry {
        let mut entry = NumberEntry::default();
        let text = crate::therapy::display_decimal(value);
        if entry.text.try_push_str(&text).is_err() || parse_decimal(&text).is_err() {
            entry.text.clear();
        }
        entry.shown = !entry.text.is_empty();
        entry
    }

    /// Is the text a value shown rather than typed?
    pub fn is_shown(&self) -> bool {
        self.shown
    }

    /// The typed text with '.' as the point (as the therapy core reads it).
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Applies a key; a refused key leaves the entry as it was.
    pub fn press(&mut self, key: Key) -> Result<(), Refusal> {
        if std::mem::take(&mut self.shown) && matches!(key, Key::Digit(_) | Key::Point) {
            self.text.clear();
        }
        let (integer, fraction) = match self.text.split_once('.') {
            Some((integer, fraction)) => (integer.len(), Some(fraction.len())),
            None => (self.text.len(), None),
        };
        match key {
            Key::Clear => self.text.clear(),
            Key::Backspace => {
                self.text.pop();
                // "0." backspaced leaves "0", which is a whole entry.
            }
            Key::Point => match fraction {
                Some(_) => return Err(Refusal::SecondPoint),
                None => {
                    if self.text.is_empty() {
                        self.push('0')?;
                    }
                    self.push('.')?;
                }
            },
            Key::Digit(digit) => {
                let character = char::from(b'0' + digit.min(9));
                match fraction {
                    Some(decimals) if decimals >= MAX_DECIMALS as usize => {
                        return Err(Refusal::TooManyDecimals)
                    }
                    Some(_) => self.push(character)?,
                    None if self.text.as_str() == "0" => return Err(Refusal::LeadingZero),
                    None if integer >= MAX_INTEGER_DIGITS as usize => {
                        return Err(Refusal::TooManyIntegerDigits)
                    }
                    None => self.push(character)?,
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, character: char) -> Result<(), Refusal> {
        self.text
            .try_push(character)
            .map_err(|_| Refusal::TooManyDecimals)
    }

    /// The value, if the text is a whole number as the therapy core reads it
    /// ("5." is not yet a number).
    pub fn value(&self) -> Result<Decimal, TherapyError> {
        parse_decimal(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_shown_is_replaced_by_the_first_digit_and_edited_by_backspace() {
        let mut entry = NumberEntry::showing(Decimal::from(500));
        assert!(entry.is_shown());
        entry.press(Key::Digit(5)).unwrap();
        entry.press(Key::Digit(0)).unwrap();
        assert_eq!(entry.text(), "50");
        assert!(!entry.is_shown());
        let mut entry = NumberEntry::showing(Decimal::from(500));
        entry.press(Key::Point).unwrap();
        assert_eq!(entry.text(), "0.");
        let mut entry = NumberEntry::showing(Decimal::from(500));
        entry.press(Key::Backspace).unwrap();
        assert_eq!(entry.text(), "50");
        entry.press(Key::Digit(1)).unwrap();
        assert_eq!(entry.text(), "501");
        assert!(!NumberEntry::default().is_shown());
    }
    use rust_decimal_macros::dec;

    fn typed(keys: &str) -> (NumberEntry, Vec<Refusal>) {
        let mut entry = NumberEntry::default();
        let mut refusals = Vec::new();
        for key in keys.chars() {
            let key = match key {
                '.' => Key::Point,
                '<' => Key::Backspace,
                'c' => Key::Clear,
                digit => Key::Digit(digit.to_digit(10).unwrap() as u8),
            };
            if let Err(refusal) = entry.press(key) {
                refusals.push(refusal);
            }
        }
        (entry, refusals)
    }

    #[test]
    fn a_point_first_gets_its_leading_zero() {
        let (entry, refusals) = typed(".5");
        assert_eq!(entry.text(), "0.5");
        assert!(refusals.is_empty());
        assert_eq!(entry.value().unwrap(), dec!(0.5));
    }

    #[test]
    fn an_unfinished_number_is_not_a_value() {
        let (entry, _) = typed("5.");
        assert_eq!(entry.text(), "5.");
        assert!(matches!(
            entry.value(),
            Err(TherapyError::IncompleteNumber { .. })
        ));
        assert!(NumberEntry::default().value().is_err());
    }

    #[test]
    fn refused_keys_leave_the_entry_unchanged() {
        assert_eq!(
            typed("1.2.3"),
            (entry_of("1.23"), vec![Refusal::SecondPoint])
        );
        assert_eq!(typed("05"), (entry_of("0"), vec![Refusal::LeadingZero]));
        assert_eq!(
            typed("1234567"),
            (entry_of("123456"), vec![Refusal::TooManyIntegerDigits])
        );
        assert_eq!(
            typed("0.123456"),
            (
                entry_of("0.1234"),
                vec![Refusal::TooManyDecimals, Refusal::TooManyDecimals]
            )
        );
    }

    #[test]
    fn backspace_and_clear() {
        assert_eq!(typed("12.5<<").0.text(), "12");
        assert_eq!(typed("12.5c").0.text(), "");
        assert_eq!(typed("<").0.text(), "");
    }

    #[test]
    fn editing_starts_from_the_value_without_trailing_zeros() {
        assert_eq!(NumberEntry::showing(dec!(5.00)).text(), "5");
        assert_eq!(NumberEntry::showing(dec!(0.50)).text(), "0.5");
    }

    fn entry_of(text: &str) -> NumberEntry {
        let mut entry = NumberEntry::default();
        entry.text.push_str(text);
        entry
    }
}

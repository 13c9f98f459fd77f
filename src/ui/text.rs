//! Every word the touchscreen shows, from the Fluent files in
//! assets/locales/, and every number, formatted for the language in use.
//!
//! The files are built into the binary, so a pump can never start with a
//! language missing. A test asserts that every message exists in every
//! language. Numbers are formatted here, never in the markup: a leading zero
//! always (0.5, never .5), no trailing zero (5, never 5.0), and the
//! language's decimal separator (German 0,5).

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use rust_decimal::Decimal;
use unic_langid::LanguageIdentifier;

use crate::therapy::display_decimal;

/// A language the pump speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    English,
    German,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::German];

    /// The BCP 47 tag, as in the file name assets/locales/<tag>.ftl.
    pub const fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::German => "de",
        }
    }

    /// The language's own name, as the language menu shows it.
    pub const fn native_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::German => "Deutsch",
        }
    }

    /// The decimal separator the language writes.
    pub const fn decimal_separator(self) -> char {
        match self {
            Language::English => '.',
            Language::German => ',',
        }
    }

    /// What groups the thousands of a number of four digits or more
    /// (25,000 / 25.000), as ISMP recommends for doses of 1,000 and above.
    pub const fn group_separator(self) -> char {
        match self {
            Language::English => ',',
            Language::German => '.',
        }
    }

    const fn source(self) -> &'static str {
        match self {
            Language::English => include_str!("../../assets/locales/en.ftl"),
            Language::German => include_str!("../../assets/locales/de.ftl"),
        }
    }

    /// The language for a tag ("en", "de"), or what is allowed.
    pub fn from_tag(tag: &str) -> Result<Language, String> {
        Language::ALL
            .into_iter()
            .find(|language| language.tag() == tag)
            .ok_or_else(|| {
                let known: Vec<&str> = Language::ALL
                    .iter()
                    .map(|language| language.tag())
                    .collect();
                format!(
                    "unknown language \"{tag}\": the pump speaks {}",
                    known.join(", ")
                )
            })
    }
}

/// An argument of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    /// A number, formatted for the language before it enters the message.
    Number(Decimal),
    /// A count, which also selects the plural form.
    Count(u64),
}

/// The texts of one language, switchable at run time.
pub struct Texts {
    language: Language,
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texts")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

/// Why a locale file could not be used (a build-time fault: the files are
/// built in and tested).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("assets/locales/{tag}.ftl: {detail}")]
pub struct LocaleError {
    pub tag: &'static str,
    pub detail: String,
}

/// Every problem a locale file has, one after the other.
fn listed<T: std::fmt::Display>(problems: &[T]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn bundle(language: Language) -> Result<FluentBundle<FluentResource>, LocaleError> {
    let error = |detail: String| LocaleError {
        tag: language.tag(),
        detail,
    };
    let identifier: LanguageIdentifier = language
        .tag()
        .parse()
        .map_err(|problem: unic_langid::LanguageIdentifierError| error(problem.to_string()))?;
    let resource = FluentResource::try_new(language.source().to_owned())
        .map_err(|(_, problems)| error(listed(&problems)))?;
    let mut bundle = FluentBundle::new(vec![identifier]);
    // No Unicode isolation marks: they show as boxes in some fonts and the
    // pump has no right-to-left language.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .map_err(|problems| error(listed(&problems)))?;
    Ok(bundle)
}

/// The message ids of a language's file, in file order.
pub fn message_ids(language: Language) -> Result<Vec<String>, LocaleError> {
    let resource =
        FluentResource::try_new(language.source().to_owned()).map_err(|(_, problems)| {
            LocaleError {
                tag: language.tag(),
                detail: listed(&problems),
            }
        })?;
    Ok(resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
            _ => None,
        })
        .collect())
}

impl Texts {
    /// The texts of `language`.
    pub fn new(language: Language) -> Result<Texts, LocaleError> {
        Ok(Texts {
            language,
            bundle: bundle(language)?,
        })
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// Switches language; on failure the current one stays.
    pub fn switch(&mut self, language: Language) -> Result<(), LocaleError> {
        self.bundle = bundle(language)?;
        self.language = language;
        Ok(())
    }

    /// A message without arguments.
    pub fn get(&self, id: &str) -> String {
        self.format(id, &[])
    }

    /// A message with arguments. A missing message shows its id in brackets
    /// (never an empty label); the locale tests make that unreachable.
    pub fn format(&self, id: &str, args: &[(&str, Arg)]) -> String {
        let Some(pattern) = self
            .bundle
            .get_message(id)
            .and_then(|message| message.value())
        else {
            return format!("[{id}]");
        };
        let mut fluent_args = FluentArgs::new();
        for (name, arg) in args {
            let value = match arg {
                Arg::Text(text) => FluentValue::from(text.clone()),
                Arg::Number(number) => FluentValue::from(self.number(*number)),
                Arg::Count(count) => FluentValue::from(*count),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = self
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        if errors.is_empty() {
            text.into_owned()
        } else {
            format!("[{id}]")
        }
    }

    /// A number as this language writes it: 0.5 / 0,5; 5 not 5.0;
    /// 25,000 / 25.000.
    pub fn number(&self, value: Decimal) -> String {
        let plain = display_decimal(value);
        let (whole, fraction) = match plain.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (plain.as_str(), None),
        };
        let (sign, digits) = match whole.strip_prefix('-') {
            Some(digits) => ("-", digits),
            None => ("", whole),
        };
        let mut grouped = String::with_capacity(plain.len() + digits.len() / 3);
        grouped.push_str(sign);
        for (index, digit) in digits.chars().enumerate() {
            let left = digits.len() - index;
            if index > 0 && left % 3 == 0 && digits.len() >= 4 {
                grouped.push(self.language.group_separator());
            }
            grouped.push(digit);
        }
        if let Some(fraction) = fraction {
            grouped.push(self.language.decimal_separator());
            grouped.push_str(fraction);
        }
        grouped
    }

    /// A number with its unit, always together.
    pub fn quantity(&self, value: Decimal, unit: &str) -> String {
        format!("{} {unit}", self.number(value))
    }
}

/// Swaps the decimal point of a number written with '.' for the language's
/// separator (also used for the text on the keypad while it is typed).
pub fn localise_decimal(text: &str, language: Language) -> String {
    text.replace('.', &language.decimal_separator().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn numbers_follow_the_language() {
        let english = Texts::new(Language::English).unwrap();
        let german = Texts::new(Language::German).unwrap();
        assert_eq!(english.number(dec!(0.50)), "0.5");
        assert_eq!(german.number(dec!(0.50)), "0,5");
        assert_eq!(english.number(dec!(5.0)), "5");
        assert_eq!(german.number(dec!(1250.25)), "1.250,25");
        assert_eq!(english.number(dec!(1250.25)), "1,250.25");
        assert_eq!(english.number(dec!(25000)), "25,000");
        assert_eq!(german.number(dec!(25000)), "25.000");
        assert_eq!(english.number(dec!(1000000)), "1,000,000");
        assert_eq!(english.number(dec!(999.5)), "999.5");
        assert_eq!(english.number(dec!(-4500)), "-4,500");
        assert_eq!(german.number(dec!(0.016)), "0,016");
        assert_eq!(german.quantity(dec!(2.5), "mL/h"), "2,5 mL/h");
    }

    #[test]
    fn a_missing_message_shows_its_id() {
        let english = Texts::new(Language::English).unwrap();
        assert_eq!(english.get("no-such-message"), "[no-such-message]");
    }

    #[test]
    fn language_switches_at_run_time() {
        let mut texts = Texts::new(Language::English).unwrap();
        let english = texts.get("action-start");
        texts.switch(Language::German).unwrap();
        assert_ne!(texts.get("action-start"), english);
        assert_eq!(texts.language(), Language::German);
    }

    #[test]
    fn unknown_language_tags_name_the_known_ones() {
        assert_eq!(
            Language::from_tag("fr").unwrap_err(),
            "unknown language \"fr\": the pump speaks en, de"
        );
    }

    #[test]
    fn arguments_are_formatted_for_the_language() {
        let german = Texts::new(Language::German).unwrap();
        let text = german.format(
            "limit-soft-max",
            &[
                ("limit", Arg::Number(dec!(0.5))),
                ("unit", Arg::Text("mg".into())),
            ],
        );
        assert!(text.contains("0,5 mg"), "{text}");
    }
}

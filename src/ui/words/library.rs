//! Why a drug library could not be used, in the screen's language. Names,
//! versions, keys and dates are shown as they are; the technical text (the
//! parser's, the operating system's) goes to the boot log and the history.

use super::text;
use crate::druglib::startup::Unusable;
use crate::druglib::LibraryError;
use crate::ui::text::{Arg, Texts};

/// Why the library could not be used, as a sentence.
pub fn unusable_text(texts: &Texts, unusable: &Unusable) -> String {
    match unusable {
        Unusable::Keys { .. } => texts.get("library-keys-unreadable"),
        Unusable::Unreadable { path, .. } => {
            texts.format("library-unreadable", &[("path", text(path))])
        }
        Unusable::Refused(error) => refused_text(texts, error),
    }
}

fn refused_text(texts: &Texts, error: &LibraryError) -> String {
    match error {
        LibraryError::Malformed { .. } => texts.get("library-malformed"),
        LibraryError::UnsupportedFormat { found, supported } => texts.format(
            "library-unsupported-format",
            &[("found", text(found)), ("supported", text(supported))],
        ),
        LibraryError::Invalid { problems } => texts.format(
            "library-invalid",
            &[(
                "count",
                Arg::Count(u64::try_from(problems.len()).unwrap_or(u64::MAX)),
            )],
        ),
        LibraryError::Unsigned => texts.get("library-unsigned"),
        LibraryError::MalformedSignature { .. } => texts.get("library-signature-malformed"),
        LibraryError::UntrustedKey { key_id, .. } => {
            texts.format("library-untrusted", &[("key", text(key_id))])
        }
        LibraryError::SignatureMismatch { key_id } => {
            texts.format("library-mismatch", &[("key", text(key_id))])
        }
        LibraryError::NotYetEffective { effective, today } => texts.format(
            "library-not-yet-effective",
            &[("effective", text(effective)), ("today", text(today))],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::text::Language;

    #[test]
    fn every_reason_reads_in_each_language_without_the_technical_text() {
        let reasons = [
            Unusable::Keys {
                detail: "No such file or directory".to_owned(),
            },
            Unusable::Unreadable {
                path: "/etc/perfuse/druglib.toml".to_owned(),
                detail: "cannot read /etc/perfuse/druglib.toml: No such file or directory"
                    .to_owned(),
            },
            Unusable::Refused(LibraryError::Malformed {
                detail: "expected `=`".to_owned(),
            }),
            Unusable::Refused(LibraryError::UnsupportedFormat {
                found: 2,
                supported: 1,
            }),
            Unusable::Refused(LibraryError::Invalid { problems: vec![] }),
            Unusable::Refused(LibraryError::Unsigned),
            Unusable::Refused(LibraryError::MalformedSignature {
                detail: "bad base64".to_owned(),
            }),
            Unusable::Refused(LibraryError::UntrustedKey {
                key_id: "stranger".to_owned(),
                trusted: vec![],
            }),
            Unusable::Refused(LibraryError::SignatureMismatch {
                key_id: "pharmacy".to_owned(),
            }),
            Unusable::Refused(LibraryError::NotYetEffective {
                effective: time::macros::date!(2027 - 01 - 01),
                today: time::macros::date!(1970 - 01 - 01),
            }),
        ];
        for language in Language::ALL {
            let texts = Texts::new(language).unwrap();
            for reason in &reasons {
                let shown = unusable_text(&texts, reason);
                assert!(
                    !shown.is_empty() && !shown.starts_with("library-"),
                    "{shown}"
                );
                for english in ["No such file", "bad base64", "expected `=`"] {
                    assert!(!shown.contains(english), "{language:?}: {shown}");
                }
            }
        }
        let german = Texts::new(Language::German).unwrap();
        let shown = unusable_text(&german, &reasons[9]);
        assert!(
            shown.contains("2027-01-01") && shown.contains("1970-01-01"),
            "{shown}"
        );
    }
}

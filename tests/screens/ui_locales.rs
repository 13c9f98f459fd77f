//! Every message exists in every language, and the markup holds no text of
//! its own: all words come from assets/locales through Rust.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::Path;

use perfuse::ui::text::{message_ids, Arg, Language, Texts};

#[test]
fn every_message_exists_in_every_language() {
    let english: BTreeSet<String> = message_ids(Language::English)
        .unwrap()
        .into_iter()
        .collect();
    assert!(english.len() > 100, "{} messages", english.len());
    for language in Language::ALL {
        let ids: Vec<String> = message_ids(language).unwrap();
        let set: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(set.len(), ids.len(), "{language:?} defines a message twice");
        let missing: Vec<_> = english.difference(&set).collect();
        let extra: Vec<_> = set.difference(&english).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{language:?}: missing {missing:?}, not in English {extra:?}"
        );
        // Every variable any message uses, so each message formats whole.
        let source = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("assets/locales/{}.ftl", language.tag())),
        )
        .unwrap();
        let variables: BTreeSet<String> = source
            .split('$')
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect()
            })
            .collect();
        let args: Vec<(&str, Arg)> = variables
            .iter()
            .map(|name| (name.as_str(), Arg::Text("x".to_owned())))
            .collect();
        let texts = Texts::new(language).unwrap();
        for id in &ids {
            let text = texts.format(id, &args);
            assert!(
                !text.starts_with('[') && !text.is_empty(),
                "{language:?}: {id} does not format"
            );
        }
    }
}

fn slint_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "slint")
        {
            found.push(path);
        }
    }
}

/// String literals in markup, outside imports and comments.
fn literals(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default().trim();
        // Imports name files; the font family names a font, and a path's
        // commands draw a sign: none is a text.
        if code.starts_with("import ")
            || code.starts_with("} from ")
            || code.contains("@image-url(")
            || code.starts_with("default-font-family:")
            || code.starts_with("commands:")
        {
            continue;
        }
        let mut parts = code.split('"');
        parts.next();
        while let Some(literal) = parts.next() {
            if !literal.is_empty() {
                found.push(literal.to_owned());
            }
            parts.next();
        }
    }
    found
}

#[test]
fn no_text_is_written_into_the_markup() {
    let mut files = Vec::new();
    slint_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"),
        &mut files,
    );
    assert!(!files.is_empty());
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let found = literals(&source);
        assert!(
            found.is_empty(),
            "{}: text in the markup {found:?}; put it in assets/locales",
            file.display()
        );
    }
}

#[test]
fn the_literal_finder_finds_literals() {
    assert_eq!(literals("text: \"Start\";"), ["Start"]);
    assert!(literals("import { X } from \"x.slint\";").is_empty());
    assert!(literals("text: root.label; // \"comment\"").is_empty());
    assert!(literals("text: \"\";").is_empty());
    assert!(literals("default-font-family: \"DejaVu Sans\";").is_empty());
    assert_eq!(
        literals("font-family: \"Sans\"; text: \"x\";"),
        ["Sans", "x"]
    );
}

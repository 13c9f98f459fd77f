//! `perfuse-crates-inc`: writes the Yocto recipe's crate list from
//! Cargo.lock (what `bitbake -c update_crates perfuse` would write), or with
//! `--check` says whether the committed one still matches.
//!
//! Run from the project root: `cargo run -p perfuse-testkit --bin perfuse-crates-inc [-- --check]`.

use std::path::Path;
use std::process::ExitCode;

use perfuse_testkit::yocto::{crates_inc_for, CRATES_INC};

fn run(check: bool) -> Result<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let wanted = crates_inc_for(&root)?;
    let path = root.join(CRATES_INC);
    if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == wanted {
            Ok(format!("{CRATES_INC} matches Cargo.lock"))
        } else {
            Err(format!(
                "{CRATES_INC} does not match Cargo.lock: run \
                 `cargo run -p perfuse-testkit --bin perfuse-crates-inc` and commit it"
            ))
        }
    } else {
        std::fs::write(&path, wanted).map_err(|error| format!("{}: {error}", path.display()))?;
        Ok(format!("wrote {CRATES_INC}"))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            eprintln!("usage: perfuse-crates-inc [--check]");
            return ExitCode::from(2);
        }
    };
    match run(check) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("perfuse-crates-inc: {message}");
            ExitCode::FAILURE
        }
    }
}

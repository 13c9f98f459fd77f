//! Where the project and its built programs are, for tests and benchmarks
//! that run the real processes.
//!
//! Cargo builds a package's programs before its integration tests and
//! benchmarks, beside them: `target/<profile>/perfuse-sim` next to
//! `target/<profile>/deps/<test>`. `PERFUSE_BIN_DIR` points elsewhere
//! (an installed set, a cross-built one run under emulation).

use std::path::PathBuf;

/// The project's root folder (assets, docs, bench-results).
pub fn root() -> PathBuf {
    let testkit = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    testkit.parent().map_or(testkit.clone(), PathBuf::from)
}

/// The built program `name` (perfuse-sim, perfuse-supervisor,
/// perfuse-headless, ...) of the running test's build.
///
/// # Panics
/// If it is not there: the test cannot run without it, and the message
/// says where it was looked for.
#[allow(clippy::panic)]
pub fn binary(name: &str) -> PathBuf {
    let dir = match std::env::var_os("PERFUSE_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().unwrap_or_default();
            // target/<profile>/deps/<test> -> target/<profile>
            let deps = exe.parent().map(PathBuf::from).unwrap_or_default();
            match deps.file_name() {
                Some(folder) if folder == "deps" => {
                    deps.parent().map(PathBuf::from).unwrap_or(deps)
                }
                _ => deps,
            }
        }
    };
    let path = dir.join(name);
    if !path.is_file() {
        panic!(
            "{} is not built: run the tests with `cargo test` (which builds every program of the perfuse package first), or set PERFUSE_BIN_DIR to the folder that holds it",
            path.display()
        );
    }
    path
}

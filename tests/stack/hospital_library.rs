//! Drug-library distribution (DESIGN.md F3) on the real processes
//! (simulator, supervisor, app, perfuse-link) from the hl7apy gateway over
//! TLS (tests/gateway/hl7apy_gateway.py, docs/hospital-link.md).
//!
//! A library with a wrong signature, a wrong announced hash, or cut off
//! mid-download is refused with its reason in the MFK^M01; one offered
//! during an infusion is staged and cannot be activated until the program
//! ends; activated, it goes out in every status and survives a restart.
//! The status always names the library in use, and only ever the old one
//! or the new one, whole.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use perfuse_testkit::faults::Stack;
use perfuse_testkit::hospital::{certificates, link_settings, start_link, Gateway};
use perfuse_testkit::library::{dev_sign, sample_bytes, sample_signature};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const WAIT: Duration = Duration::from_secs(30);

fn say(app: &mut Child, line: &str) {
    writeln!(app.stdin.as_mut().unwrap(), "{line}").unwrap();
}

/// The first line from `from` on that `wanted` accepts.
fn wait_output(stack: &Stack, from: usize, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let output = stack.app_output();
        if let Some(line) = output.lines().skip(from).find(|line| wanted(line)) {
            return line.to_owned();
        }
        assert!(
            started.elapsed() < WAIT,
            "the app never printed {what}:\n{output}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn lines(stack: &Stack) -> usize {
    stack.app_output().lines().count()
}

/// The app's `library` line: what is in use and what is staged.
fn library(stack: &Stack, app: &mut Child) -> Value {
    let from = lines(stack);
    say(app, "library");
    let line = wait_output(stack, from, "its library", |line| {
        line.starts_with("library {")
    });
    serde_json::from_str(line.trim_start_matches("library ")).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The pump's MFK^M01 about `offer`.
fn outcome(gateway: &Gateway, offer: &str) -> Value {
    gateway.wait_for(WAIT, &format!("the MFK^M01 about {offer}"), |entry| {
        entry["kind"] == "MFK^M01^MFK_M01" && entry["offer_id"] == offer
    })
}

/// The library hash of every status the gateway received after `after`
/// (its clock, s).
fn reported_since(gateway: &Gateway, after: f64) -> Vec<String> {
    gateway
        .entries()
        .iter()
        .filter(|entry| {
            entry["kind"] == "ORU^R01^ORU_R01" && entry["at"].as_f64().unwrap_or(0.0) > after
        })
        .map(|entry| {
            entry["obx"]["LIBRARY_SHA256"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// The gateway's clock now.
fn gateway_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Waits for a status naming library `hash`.
fn wait_reported(gateway: &Gateway, hash: &str) {
    gateway.wait_for(WAIT, &format!("a status naming library {hash}"), |entry| {
        entry["kind"] == "ORU^R01^ORU_R01" && entry["obx"]["LIBRARY_SHA256"] == hash
    });
}

/// Writes `bytes` and `signature` as a library file in `dir`.
fn library_file(dir: &Path, name: &str, bytes: &[u8], signature: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    std::fs::write(dir.join(format!("{name}.sig")), signature).unwrap();
    path
}

fn offer(message: &str, offer_id: &str, file: &Path, signature: &Path) -> Value {
    json!({
        "kind": "library", "message": message, "offer_id": offer_id,
        "name": "Perfuse sample library", "version": "2026.12.1",
        "file": file, "signature_file": signature,
    })
}

fn start_app(stack: &Stack, socket: &Path, installed: &Path) -> Child {
    stack.app_with_args(
        &stack.dir.path().join("events.db"),
        &perfuse_testkit::bins::root().join("assets/platforms/perfuse-s50-syringe.toml"),
        &[
            std::ffi::OsStr::new("--link"),
            socket.as_os_str(),
            std::ffi::OsStr::new("--library"),
            installed.as_os_str(),
        ],
    )
}

#[test]
fn libraries_from_the_hospital_are_refused_or_staged_and_activated_only_between_infusions() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let dir = stack.dir.path();
    certificates(dir).unwrap();
    let gateway = Gateway::start(dir).unwrap();
    let settings = link_settings(dir, gateway.port, "pump");
    let socket = dir.join("link.sock");
    let mut link = start_link(&settings, &socket, &dir.join("link.log")).unwrap();
    let installed = library_file(dir, "installed.toml", &sample_bytes(), &sample_signature());
    let old = sha256(&sample_bytes());
    let mut app = start_app(&stack, &socket, &installed);
    wait_output(&stack, 0, "ready", |line| line == "ready");
    wait_reported(&gateway, &old);

    // The new version, signed by the pharmacy (the development key here).
    let text = String::from_utf8(sample_bytes()).unwrap();
    let new_bytes = text
        .replacen("version = \"2026.11.3\"", "version = \"2026.12.1\"", 1)
        .into_bytes();
    let new = sha256(&new_bytes);
    let new_file = library_file(dir, "new.toml", &new_bytes, &dev_sign(&new_bytes));
    let new_signature = dir.join("new.toml.sig");
    let first = gateway_now();

    // A wrong signature (the old library's, beside the new bytes): the
    // link passes it on, the app's check refuses it.
    std::fs::write(dir.join("wrong.toml.sig"), sample_signature()).unwrap();
    gateway.send_order(
        "lib1",
        &offer("L1", "OFFER-1", &new_file, &dir.join("wrong.toml.sig")),
    );
    let refused = outcome(&gateway, "OFFER-1");
    assert_eq!(refused["valid"], true, "{refused}");
    assert_eq!(
        (refused["msa"][0].as_str(), refused["result"].as_str()),
        (Some("AE"), Some("U"))
    );
    assert!(
        refused["err"]
            .as_str()
            .unwrap()
            .contains("changed after signing"),
        "{refused}"
    );
    wait_output(&stack, 0, "the refusal", |line| {
        line.starts_with("library-refused OFFER-1")
    });

    // A hash that does not match what arrives: fetched twice, refused by
    // the link; the app never sees it.
    let mut wrong_hash = offer("L2", "OFFER-2", &new_file, &new_signature);
    wrong_hash["announce_sha256"] = json!(sha256(b"another library"));
    gateway.send_order("lib2", &wrong_hash);
    let refused = outcome(&gateway, "OFFER-2");
    assert_eq!(refused["msa"][0], "AE");
    assert!(
        refused["err"].as_str().unwrap().contains("SHA-256"),
        "{refused}"
    );
    let queries = gateway
        .entries()
        .iter()
        .filter(|entry| entry["kind"] == "QBP^Q11^QBP_Q11" && entry["offer_id"] == "OFFER-2")
        .count();
    assert_eq!(queries, 4, "two whole downloads of two chunks");
    assert!(!stack.app_output().contains("OFFER-2"));

    // Cut off after the first chunk: the next connection says so.
    let mut cut = offer("L3", "OFFER-3", &new_file, &new_signature);
    cut["cut_after_chunks"] = json!(1);
    gateway.send_order("lib3", &cut);
    let refused = outcome(&gateway, "OFFER-3");
    assert_eq!(refused["msa"][0], "AE");
    assert!(
        refused["err"]
            .as_str()
            .unwrap()
            .contains("connection ended during the download, at byte 16384 of 17134"),
        "{refused}"
    );
    let nothing = library(&stack, &mut app);
    assert_eq!(nothing["staged"], Value::Null, "{nothing}");
    assert_eq!(nothing["active"]["sha256"], old.as_str());

    // Offered during an infusion: staged, and not activated while a
    // program is loaded.
    say(&mut app, "load 25 50");
    say(&mut app, "start");
    let from = lines(&stack);
    gateway.send_order("lib4", &offer("L4", "OFFER-4", &new_file, &new_signature));
    let staged = outcome(&gateway, "OFFER-4");
    assert_eq!(
        (staged["msa"][0].as_str(), staged["result"].as_str()),
        (Some("AA"), Some("S"))
    );
    wait_output(&stack, from, "the staging", |line| {
        line.starts_with("library-staged OFFER-4")
    });
    let held = library(&stack, &mut app);
    assert_eq!(held["staged"]["sha256"], new.as_str(), "{held}");
    assert_eq!(held["staged"]["version"], "2026.12.1");
    assert_eq!(held["active"]["sha256"], old.as_str());
    let from = lines(&stack);
    say(&mut app, "activate-library");
    let error = wait_output(&stack, from, "the refusal", |line| {
        line.starts_with("error ")
    });
    assert!(error.contains("no infusion loaded"), "{error}");
    assert!(error.contains("infusing"), "{error}");
    std::thread::sleep(Duration::from_secs(3));
    assert!(stack.board.memory().motor_enabled(), "the infusion stopped");

    // The program ended: activated, and the next statuses name it.
    say(&mut app, "stop");
    std::thread::sleep(Duration::from_millis(500));
    let from = lines(&stack);
    say(&mut app, "activate-library");
    let activated = wait_output(&stack, from, "the activation", |line| {
        line.starts_with("library-activated") || line.starts_with("error ")
    });
    assert!(activated.contains(&new), "{activated}");
    wait_reported(&gateway, &new);
    let now = library(&stack, &mut app);
    assert_eq!(now["active"]["sha256"], new.as_str(), "{now}");
    assert_eq!(now["staged"], Value::Null);

    // After a restart it is still the one in use.
    say(&mut app, "quit");
    let _ = app.wait();
    let restarted_at = gateway_now();
    let mut app = start_app(&stack, &socket, &installed);
    let from = 0;
    let start = wait_output(&stack, from, "the library at the start", |line| {
        line.starts_with("library-start")
    });
    assert!(start.contains("from the hospital"), "{start}");
    std::thread::sleep(Duration::from_secs(3));
    let after_restart = reported_since(&gateway, restarted_at);
    assert!(!after_restart.is_empty());

    // Never anything but the old library or the new one, whole.
    for hash in reported_since(&gateway, first) {
        assert!(
            hash == old || hash == new,
            "a status named library {hash:?}"
        );
    }
    assert!(
        after_restart.iter().all(|hash| *hash == new),
        "{after_restart:?}"
    );
    say(&mut app, "quit");
    let _ = app.wait();
    let _ = link.kill();
    let _ = link.wait();
}

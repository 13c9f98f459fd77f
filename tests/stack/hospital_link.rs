//! The hospital link on the real processes (simulator, supervisor, app,
//! perfuse-link) against a gateway nobody on this project wrote: hl7apy's
//! MLLP server with TLS (tests/gateway/hl7apy_gateway.py), which parses and
//! validates every message the pump sends.
//!
//! DESIGN.md F5: an order reaches the pump only as a proposal, starts
//! nothing, and is loaded only when the nurse confirms it; an order for
//! another pump, a replayed one, an expired one and one over a running
//! infusion are each refused with their reason. F2: killing the link
//! changes nothing about the infusion. No process of the stack listens on
//! the network.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::float_arithmetic
)]

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::Child;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use perfuse_testkit::faults::{app_status, Stack};
use perfuse_testkit::hospital::{certificates, link_settings, start_link, Gateway};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

fn say(app: &mut Child, line: &str) {
    writeln!(app.stdin.as_mut().unwrap(), "{line}").unwrap();
}

fn wait_output(stack: &Stack, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let output = stack.app_output();
        if let Some(line) = output.lines().find(|line| wanted(line)) {
            return line.to_owned();
        }
        assert!(
            started.elapsed() < WAIT,
            "the app never printed {what}:\n{output}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn hl7_now(offset_s: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    perfuse_link::hl7::timestamp(now + offset_s)
}

/// The gateway's order form: 25 mL/h of heparin, 50 mL, for this pump.
fn order(message: &str, order_id: &str) -> Value {
    json!({
        "message": message, "order_id": order_id, "pump": "PERFUSE-0001",
        "patient_id": "MRN12345", "family": "Doe", "given": "Jane",
        "drug": "Heparin", "vtbi": "50", "rate": "25", "sent": hl7_now(0),
    })
}

/// The pump's final answer to the order carried by message `message`.
fn answer(gateway: &Gateway, message: &str) -> Value {
    gateway.wait_for(WAIT, &format!("the RRG^O16 answering {message}"), |entry| {
        entry["kind"] == "RRG^O16^RRG_O16" && entry["msa"][1] == message
    })
}

fn mode(stack: &Stack, app: &mut Child) -> String {
    let status: Value =
        serde_json::from_str(app_status(stack, app).trim_start_matches("status ")).unwrap();
    status["mode"].as_str().unwrap_or_default().to_owned()
}

/// The sockets the processes `pids` hold that listen (TCP) or are bound
/// to a port (UDP), from /proc: (protocol, local address).
fn listening(pids: &[u32]) -> Vec<(String, String)> {
    let mut inodes = BTreeSet::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                let target = target.to_string_lossy().into_owned();
                if let Some(inode) = target
                    .strip_prefix("socket:[")
                    .and_then(|t| t.strip_suffix(']'))
                {
                    inodes.insert(inode.to_owned());
                }
            }
        }
    }
    let mut found = Vec::new();
    for protocol in ["tcp", "tcp6", "udp", "udp6"] {
        let table = std::fs::read_to_string(format!("/proc/net/{protocol}")).unwrap_or_default();
        for line in table.lines().skip(1) {
            let columns: Vec<&str> = line.split_whitespace().collect();
            if columns.len() < 10 || !inodes.contains(columns[9]) {
                continue;
            }
            let listens = if protocol.starts_with("tcp") {
                columns[3] == "0A"
            } else {
                true
            };
            if listens {
                found.push((protocol.to_owned(), columns[1].to_owned()));
            }
        }
    }
    found
}

#[test]
fn the_pump_reports_to_an_hl7apy_gateway_and_an_order_waits_for_the_nurse() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let dir = stack.dir.path();
    certificates(dir).unwrap();
    let gateway = Gateway::start(dir).unwrap();
    let settings = link_settings(dir, gateway.port, "pump");
    let socket = dir.join("link.sock");
    let mut link = start_link(&settings, &socket, &dir.join("link.log")).unwrap();
    let mut app = stack.app_with_link(&socket);
    wait_output(&stack, "ready", |line| line == "ready");

    // Status while idle, valid to hl7apy, with the library the pump reports.
    let idle = gateway.wait_for(WAIT, "a valid idle status", |entry| {
        entry["kind"] == "ORU^R01^ORU_R01"
            && entry["obx"]["184519"]
                .as_str()
                .is_some_and(|s| s.contains("pump-status-idle"))
    });
    assert_eq!(idle["valid"], true, "{idle}");

    // An order: shown, and nothing moves until the nurse confirms it.
    gateway.send_order("1", &order("M1", "O1"));
    let shown = wait_output(&stack, "the order", |line| line.starts_with("order {"));
    let shown: Value = serde_json::from_str(shown.trim_start_matches("order ")).unwrap();
    assert_eq!(
        (shown["order_id"].as_str(), shown["patient_name"].as_str()),
        (Some("O1"), Some("Jane Doe"))
    );
    assert_eq!(
        (shown["rate"].as_str(), shown["vtbi"].as_str()),
        (Some("25"), Some("50"))
    );
    std::thread::sleep(Duration::from_secs(1));
    let memory = stack.board.memory();
    assert!(!memory.motor_enabled(), "an order enabled the motor");
    assert_eq!(
        mode(&stack, &mut app),
        "Idle",
        "an order changed the pump before the nurse"
    );
    assert!(
        !gateway
            .entries()
            .iter()
            .any(|entry| entry["kind"] == "RRG^O16^RRG_O16"),
        "the pump answered the order before the nurse decided"
    );

    // Confirmed, it is loaded (not started): the answer is AA.
    say(&mut app, "confirm-order");
    wait_output(&stack, "the order loaded", |line| {
        line.starts_with("order-loaded O1")
    });
    let confirmed = answer(&gateway, "M1");
    assert_eq!(
        (confirmed["valid"].as_bool(), confirmed["msa"][0].as_str()),
        (Some(true), Some("AA"))
    );
    assert_eq!(mode(&stack, &mut app), "Ready");
    assert!(!memory.motor_enabled());

    // The nurse starts it; the gateway sees the pump infusing at 25 mL/h.
    say(&mut app, "start");
    let infusing = gateway.wait_for(WAIT, "a status of the infusion", |entry| {
        entry["kind"] == "ORU^R01^ORU_R01"
            && entry["obx"]["184519"]
                .as_str()
                .is_some_and(|s| s.contains("pump-status-infusing"))
    });
    assert_eq!(
        (
            infusing["valid"].as_bool(),
            infusing["obx"]["157784"].as_str()
        ),
        (Some(true), Some("25"))
    );

    // Orders refused, each with its reason: over a running infusion, for
    // another pump, replayed, expired.
    gateway.send_order("2", &order("M2", "O2"));
    let busy = answer(&gateway, "M2");
    assert_eq!(busy["msa"][0], "AR");
    assert!(
        busy["err"].as_str().unwrap().contains("holds a program"),
        "{busy}"
    );
    let mut other = order("M3", "O3");
    other["pump"] = json!("PERFUSE-0002");
    gateway.send_order("3", &other);
    assert!(answer(&gateway, "M3")["err"]
        .as_str()
        .unwrap()
        .contains("PERFUSE-0002"));
    gateway.send_order("4", &order("M4", "O1"));
    assert!(answer(&gateway, "M4")["err"]
        .as_str()
        .unwrap()
        .contains("already received"));
    let mut old = order("M5", "O5");
    old["expires"] = json!(hl7_now(-60));
    gateway.send_order("5", &old);
    assert!(answer(&gateway, "M5")["err"]
        .as_str()
        .unwrap()
        .contains("expired"));
    assert_eq!(mode(&stack, &mut app), "Delivering");

    // No process of the stack listens on the network.
    let pids = [stack.sim.id(), stack.supervisor.id(), app.id(), link.id()];
    assert_eq!(listening(&pids), Vec::<(String, String)>::new());

    // The link killed mid-infusion: the infusion goes on, untouched.
    let rotor = memory.rotor_actual.load(Ordering::Acquire);
    let trips_before = stack.log().matches("TRIP").count();
    link.kill().unwrap();
    link.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(mode(&stack, &mut app), "Delivering");
    assert!(memory.motor_enabled());
    assert!(
        memory.rotor_actual.load(Ordering::Acquire) > rotor,
        "the motor stopped with the link"
    );
    assert_eq!(
        stack.log().matches("TRIP").count(),
        trips_before,
        "{}",
        stack.log()
    );

    // A new link: the app finds it again, and an occlusion reaches the
    // gateway as a PCD-04 alarm.
    let _ = std::fs::remove_file(&socket);
    let mut link = start_link(&settings, &socket, &dir.join("link-2.log")).unwrap();
    stack.sim.send("occlude downstream full").unwrap();
    let alarm = gateway.wait_for(Duration::from_secs(60), "the occlusion alarm", |entry| {
        entry["kind"] == "ORU^R40^ORU_R40" && entry["obx"]["68481"] == "start"
    });
    assert_eq!(alarm["valid"], true, "{alarm}");
    assert_eq!(alarm["obx"]["196616"], "196940^MDC_EVT_FLUID_LINE_OCCL^MDC");
    assert_eq!(alarm["obx"]["68484"], "PH");
    say(&mut app, "quit");
    let _ = app.wait();
    let _ = link.kill();
    let _ = link.wait();
}

#[test]
fn a_pump_certificate_the_hospital_did_not_issue_is_refused_and_the_pump_runs_on() {
    let _machine = crate::machine::shared();
    let stack = Stack::start();
    let dir = stack.dir.path();
    certificates(dir).unwrap();
    let gateway = Gateway::start(dir).unwrap();
    let settings = link_settings(dir, gateway.port, "stranger");
    let socket = dir.join("link.sock");
    let mut link = start_link(&settings, &socket, &dir.join("link.log")).unwrap();
    let mut app = stack.app_with_link(&socket);
    wait_output(&stack, "ready", |line| line == "ready");
    stack.start_infusing(&mut app, 25);
    // The gateway refuses each handshake; the link retries with backoff.
    let started = Instant::now();
    while gateway
        .entries()
        .iter()
        .filter(|entry| entry["direction"] == "tls-refused")
        .count()
        < 3
    {
        assert!(
            started.elapsed() < WAIT,
            "{}",
            std::fs::read_to_string(&gateway.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !gateway
            .entries()
            .iter()
            .any(|entry| entry["direction"] == "in"),
        "a message got through without a trusted certificate"
    );
    assert_eq!(mode(&stack, &mut app), "Delivering");
    say(&mut app, "quit");
    let _ = app.wait();
    let _ = link.kill();
    let _ = link.wait();
}

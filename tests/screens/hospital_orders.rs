//! Auto-programming on the touchscreen (F5): an order from the hospital
//! is shown for the nurse to compare, opens as a program on the drug
//! library's review, and never starts, on either platform, until the
//! nurse presses Start there. Orders the library refuses, replays, expired
//! orders and orders while the pump is busy are refused with the reason.
//! Through the window, over the real controller on the simulated mechanism.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use perfuse::control::api::Mode;
use perfuse::store::Event;
use perfuse::therapy::{Amount, Concentration, DoseRate, Kilograms, Millilitres};
use perfuse::ui::text::Language;
use perfuse_link::local::{OrderOutcome, ProposedOrder, Refusal};
use perfuse_testkit::rig::Platform;
use perfuse_testkit::window::Ui;
use perfuse_ui::StatusAdapter;
use rust_decimal::Decimal;
use slint::ComponentHandle;

/// Dopamine 5 mcg/kg/min, 400 mg in 250 mL, 70 kg, 250 mL: in the sample
/// library's ICU and Pediatrics.
fn dopamine(ui: &Ui, id: &str) -> ProposedOrder {
    let now = ui.orders.borrow().now;
    ProposedOrder {
        order_id: id.into(),
        pump_id: "PERFUSE-0001".into(),
        patient_id: "MRN12345".into(),
        patient_name: "Jane Doe".into(),
        drug: "Dopamine".into(),
        concentration: Some(Concentration {
            amount: Amount::new(Decimal::from(400), "mg".parse().unwrap()),
            volume: Millilitres::new(Decimal::from(250)),
        }),
        rate: None,
        dose: Some(DoseRate {
            value: Decimal::from(5),
            unit: "mcg/kg/min".parse().unwrap(),
        }),
        vtbi: Millilitres::new(Decimal::from(250)),
        weight: Some(Kilograms::new(Decimal::from(70))),
        sent_at: now - 5,
        expires_at: now + 900,
    }
}

fn last_answer(ui: &Ui) -> (String, OrderOutcome) {
    ui.order_answers().last().cloned().unwrap()
}

fn refused(reason: Refusal) -> OrderOutcome {
    OrderOutcome::Refused { refusal: reason }
}

fn on_page(ui: &Ui) -> String {
    ui.session.borrow().screen.page().name().to_owned()
}

fn has_primary(ui: &Ui) -> bool {
    ui.window.global::<StatusAdapter>().get_has_primary()
}

#[test]
fn an_order_is_compared_then_reviewed_and_starts_only_on_the_nurses_start() {
    for platform in [Platform::Volumetric, Platform::Syringe50] {
        let ui = Ui::new(platform, Language::English);
        // What a 50 mL syringe holds, on either platform.
        ui.send_order(ProposedOrder {
            vtbi: Millilitres::new(Decimal::from(50)),
            ..dopamine(&ui, "ORD1")
        });
        assert_eq!(
            on_page(&ui),
            "order",
            "{platform:?}: {:?}",
            ui.order_answers()
        );
        assert_eq!(
            ui.order_answers(),
            vec![("ORD1".to_owned(), OrderOutcome::Shown)]
        );
        let facts = ui.status_facts();
        for (label, value) in [
            ("Patient", "Jane Doe (MRN12345)"),
            ("Drug", "DOPamine"),
            ("Dose", "5 mcg/kg/min"),
            ("Weight", "70 kg"),
            ("Volume to be infused", "50 mL"),
            ("Order", "ORD1, valid until "),
        ] {
            assert!(
                facts
                    .iter()
                    .any(|(l, v)| l == label && v.starts_with(value)),
                "{platform:?}: {label} {value} in {facts:?}"
            );
        }
        assert!(facts
            .iter()
            .any(|(l, v)| l == "Concentration" && v.contains("400 mg")));
        // Only the ICU's dopamine has this concentration: its care area is
        // the one, chosen already.
        assert!(facts.iter().any(|(l, v)| l == "Care area" && v == "ICU"));
        assert!(ui.status_choices().is_empty());
        assert!(has_primary(&ui));
        // A minute on the order page: nothing moves.
        for _ in 0..600 {
            ui.refresh();
        }
        let snapshot = ui.session.borrow().snapshot;
        assert_eq!(snapshot.mode, Mode::Idle, "{platform:?}");
        assert_eq!(snapshot.forward_steps, 0, "{platform:?}");
        assert_eq!(on_page(&ui), "order");

        ui.press("StatusPage::primary-button");
        assert_eq!(ui.step_title(), "Review");
        // The review is the library's, with no step back to edit a value.
        for _ in 0..100 {
            ui.refresh();
        }
        assert_eq!(ui.session.borrow().snapshot.mode, Mode::Idle);
        ui.press("ProgramPage::back-button");
        assert_eq!(on_page(&ui), "order", "back from the review: the order");
        assert_eq!(ui.order_answers().len(), 1, "nothing answered yet");
        ui.press("StatusPage::primary-button");
        ui.press("ProgramPage::start-button");
        ui.refresh_until("the ordered program runs", |snapshot| {
            snapshot.mode == Mode::Delivering
        });
        assert_eq!(
            last_answer(&ui),
            ("ORD1".to_owned(), OrderOutcome::Confirmed)
        );
        // 5 mcg/kg/min × 70 kg of 1.6 mg/mL: 13.125 mL/h, which the pump
        // runs at its 0.1 mL/h resolution (the review says so).
        let rate_nl_h = ui.session.borrow().snapshot.commanded_rate.0;
        assert_eq!(rate_nl_h, 13_100_000, "{platform:?}");
        assert_eq!(ui.session.borrow().care_area.as_deref(), Some("icu"));
        let records = ui.records();
        let outcomes: Vec<&str> = records
            .iter()
            .filter_map(|event| match event {
                Event::Order { outcome, .. } => Some(outcome.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(outcomes, ["shown", "confirmed"]);
    }
}

#[test]
fn a_declined_or_expired_order_programs_nothing_and_is_answered() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    ui.send_order(dopamine(&ui, "ORD2"));
    ui.press("StatusPage::secondary-button");
    assert_eq!(
        last_answer(&ui),
        ("ORD2".to_owned(), refused(Refusal::Declined))
    );
    assert_eq!(on_page(&ui), "home");
    // The same order again is a replay.
    ui.send_order(dopamine(&ui, "ORD2"));
    assert_eq!(
        last_answer(&ui),
        ("ORD2".to_owned(), refused(Refusal::Replayed))
    );
    // One that expired on its way.
    let mut late = dopamine(&ui, "ORD3");
    late.expires_at = ui.orders.borrow().now;
    ui.send_order(late);
    assert_eq!(
        last_answer(&ui),
        ("ORD3".to_owned(), refused(Refusal::Expired))
    );
    // One that expires on the review: the pages close, nothing starts.
    ui.send_order(dopamine(&ui, "ORD4"));
    ui.press("StatusPage::primary-button");
    assert_eq!(ui.step_title(), "Review");
    ui.orders.borrow_mut().now += 900;
    ui.refresh();
    assert_eq!(
        last_answer(&ui),
        ("ORD4".to_owned(), refused(Refusal::Expired))
    );
    assert_eq!(on_page(&ui), "home");
    let note = ui.window.global::<StatusAdapter>().get_note().to_string();
    assert!(note.contains("expired"), "{note}");
    assert_eq!(ui.session.borrow().snapshot.mode, Mode::Idle);
    assert_eq!(ui.session.borrow().snapshot.forward_steps, 0);
}

#[test]
fn an_order_for_more_than_the_syringe_holds_is_refused_with_the_reason() {
    let ui = Ui::new(Platform::Syringe50, Language::English);
    ui.send_order(dopamine(&ui, "BIG"));
    assert_eq!(on_page(&ui), "home");
    match last_answer(&ui) {
        (
            id,
            OrderOutcome::Refused {
                refusal: Refusal::LibraryCheck(reason),
            },
        ) => {
            assert_eq!(id, "BIG");
            assert!(
                reason.contains("250 mL, is more than the loaded syringe holds: at most 50 mL"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ui.session.borrow().snapshot.forward_steps, 0);
}

#[test]
fn orders_the_drug_library_refuses_are_refused_with_the_reason() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    let cases: Vec<(ProposedOrder, &str)> = vec![
        (
            ProposedOrder {
                dose: Some(DoseRate {
                    value: Decimal::from(50),
                    unit: "mcg/kg/min".parse().unwrap(),
                }),
                ..dopamine(&ui, "HARD")
            },
            "hard",
        ),
        (
            ProposedOrder {
                drug: "Aspirin".into(),
                ..dopamine(&ui, "NOTLISTED")
            },
            "not in care area",
        ),
        (
            ProposedOrder {
                concentration: Some(Concentration {
                    amount: Amount::new(Decimal::from(200), "mg".parse().unwrap()),
                    volume: Millilitres::new(Decimal::from(250)),
                }),
                ..dopamine(&ui, "CONC")
            },
            "not a concentration the library lists",
        ),
        (
            ProposedOrder {
                dose: None,
                rate: Some("10".parse().unwrap()),
                ..dopamine(&ui, "FLOW")
            },
            "ordered as a flow rate",
        ),
        (
            ProposedOrder {
                weight: None,
                ..dopamine(&ui, "NOWEIGHT")
            },
            "no weight",
        ),
        (
            ProposedOrder {
                dose: Some(DoseRate {
                    value: Decimal::from(5),
                    unit: "mcg/min".parse().unwrap(),
                }),
                ..dopamine(&ui, "UNIT")
            },
            "ordered in mcg/min",
        ),
    ];
    for (order, why) in cases {
        let id = order.order_id.clone();
        ui.send_order(order);
        let (answered, outcome) = last_answer(&ui);
        assert_eq!(answered, id);
        match outcome {
            OrderOutcome::Refused {
                refusal: Refusal::LibraryCheck(reason),
            } => assert!(reason.contains(why), "{id}: {reason}"),
            other => panic!("{id}: {other:?}"),
        }
        assert_eq!(on_page(&ui), "home", "{id}");
        let note = ui.window.global::<StatusAdapter>().get_note().to_string();
        assert!(
            note.starts_with("An order for") && note.contains("refused"),
            "{id}: {note}"
        );
    }
    assert_eq!(ui.session.borrow().snapshot.mode, Mode::Idle);
}

#[test]
fn an_order_never_lands_over_a_program_a_page_in_use_or_another_order() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    // The nurse is programming: the order waits for nobody, it is refused.
    ui.press("StatusPage::primary-button");
    ui.send_order(dopamine(&ui, "DURING-PROGRAMMING"));
    assert_eq!(
        last_answer(&ui),
        ("DURING-PROGRAMMING".to_owned(), refused(Refusal::Busy))
    );
    assert_eq!(on_page(&ui), "program");
    ui.press("ProgramPage::cancel-button");
    // One order at a time: the second is refused, the first stays.
    ui.send_order(dopamine(&ui, "FIRST"));
    ui.send_order(dopamine(&ui, "SECOND"));
    assert_eq!(
        last_answer(&ui),
        ("SECOND".to_owned(), refused(Refusal::Busy))
    );
    assert_eq!(on_page(&ui), "order");
    assert_eq!(
        ui.session
            .borrow()
            .order()
            .map(|order| order.order_id.clone()),
        Some("FIRST".to_owned())
    );
    ui.press("StatusPage::primary-button");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("running", |snapshot| snapshot.mode == Mode::Delivering);
    // Infusing: an order cannot replace what runs.
    ui.send_order(dopamine(&ui, "WHILE-INFUSING"));
    assert_eq!(
        last_answer(&ui),
        ("WHILE-INFUSING".to_owned(), refused(Refusal::Busy))
    );
    assert_eq!(on_page(&ui), "running");
    assert_eq!(
        ui.session.borrow().snapshot.commanded_rate.0,
        13_100_000,
        "the running program is untouched"
    );
}

#[test]
fn an_order_that_passes_in_several_care_areas_waits_for_the_nurses_choice() {
    let ui = Ui::new(Platform::Volumetric, Language::English);
    let heparin = ProposedOrder {
        drug: "heparin".into(),
        concentration: Some(Concentration {
            amount: Amount::new(Decimal::from(25_000), "units".parse().unwrap()),
            volume: Millilitres::new(Decimal::from(500)),
        }),
        dose: Some(DoseRate {
            value: Decimal::from(18),
            unit: "units/kg/h".parse().unwrap(),
        }),
        vtbi: Millilitres::new(Decimal::from(500)),
        ..dopamine(&ui, "HEP1")
    };
    ui.send_order(heparin);
    assert_eq!(on_page(&ui), "order");
    // No review before a care area is chosen: the order's one action is
    // to choose it, on its own list.
    assert!(ui.status_choices().is_empty());
    ui.press_label("Choose care area");
    assert_eq!(
        ui.status_choices(),
        vec![
            ("Care area: ICU".to_owned(), false),
            ("Care area: Medical-Surgical".to_owned(), false)
        ]
    );
    // Back: the order again, nothing chosen; Decline is not on the list.
    ui.press("StatusPage::secondary-button");
    assert_eq!(on_page(&ui), "order");
    assert!(ui.order_answers().len() == 1, "Back is not Decline");
    ui.press_label("Choose care area");
    ui.press_label("Care area: Medical-Surgical");
    assert!(ui
        .status_facts()
        .iter()
        .any(|(label, value)| label == "Care area" && value == "Medical-Surgical"));
    ui.press_label("Review order");
    assert_eq!(ui.step_title(), "Review");
    ui.press("ProgramPage::start-button");
    ui.refresh_until("running", |snapshot| snapshot.mode == Mode::Delivering);
    // 18 units/kg/h × 70 kg of 50 units/mL: 25.2 mL/h.
    assert_eq!(ui.session.borrow().snapshot.commanded_rate.0, 25_200_000);
    assert_eq!(ui.session.borrow().care_area.as_deref(), Some("med-surg"));
    assert_eq!(
        last_answer(&ui),
        ("HEP1".to_owned(), OrderOutcome::Confirmed)
    );
}

#[test]
fn on_a_syringe_pump_an_order_is_checked_again_against_the_syringe_the_nurse_confirms() {
    let ui = Ui::new(Platform::Syringe50, Language::English);
    let fifty_ml = |ui: &Ui, id: &str| ProposedOrder {
        vtbi: Millilitres::new(Decimal::from(50)),
        ..dopamine(ui, id)
    };
    // The syringe loaded is unconfirmed: Review asks for it first.
    ui.session.borrow_mut().syringe_confirmed = false;
    ui.send_order(fifty_ml(&ui, "S1"));
    assert_eq!(on_page(&ui), "order");
    ui.press("StatusPage::primary-button");
    assert_eq!(on_page(&ui), "syringe");
    // Cancel: back to the order, still waiting.
    ui.press("StatusPage::secondary-button");
    assert_eq!(on_page(&ui), "order");
    ui.press("StatusPage::primary-button");
    let fifty = ui
        .status_choices()
        .into_iter()
        .find(|(label, _)| label.starts_with("BD Plastipak 50 mL"))
        .unwrap()
        .0;
    ui.press_label(&fifty);
    assert_eq!(ui.step_title(), "Review", "on to the order's review");
    ui.press("ProgramPage::cancel-button");
    ui.press("StatusPage::secondary-button");
    assert_eq!(
        last_answer(&ui),
        ("S1".to_owned(), refused(Refusal::Declined))
    );
    // A 20 mL syringe cannot hold the 50 mL ordered: refused once it is
    // the syringe confirmed, with the reason, and nothing is programmed.
    ui.session.borrow_mut().syringe_confirmed = false;
    ui.send_order(fifty_ml(&ui, "S2"));
    ui.press("StatusPage::primary-button");
    let twenty = ui
        .status_choices()
        .into_iter()
        .find(|(label, _)| label.starts_with("BD Plastipak 20 mL"))
        .unwrap()
        .0;
    ui.press_label(&twenty);
    assert_eq!(on_page(&ui), "home");
    match last_answer(&ui) {
        (
            id,
            OrderOutcome::Refused {
                refusal: Refusal::LibraryCheck(reason),
            },
        ) => {
            assert_eq!(id, "S2");
            assert!(reason.contains("at most 20 mL"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(ui.session.borrow().order().is_none());
    assert_eq!(ui.session.borrow().snapshot.mode, Mode::Idle);
}

//! The reference tasks of the touchscreen, walked through the window as a
//! nurse would (each press one touch, nothing pressed twice), and counted
//! by the project's own usability metrics (`perfuse-log --metrics`). The
//! UI tests hold the targets; `benches/touches.rs` writes the counts to
//! bench-results/.

use perfuse::store::metrics::{metrics, Outcome};
use perfuse::ui::text::Language;

use crate::rig::Platform;
use crate::window::Ui;

/// One reference task: what, where, and its target (None: counted only).
pub struct Task {
    pub name: &'static str,
    pub platform: Platform,
    pub target: Option<u32>,
    /// The presses, after the pump is up on its home page.
    walk: fn(&Ui),
}

/// What a walk of a task counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub touches: u32,
    pub refusals: u32,
    pub outcome: Outcome,
    /// The element of every touch recorded, in order.
    pub presses: Vec<String>,
    /// The presses the walk made (each must be one touch recorded).
    pub pressed: u32,
}

/// Presses the keypad keys of `text`, then Next (no Clear: the step's
/// shown value is replaced by the first digit).
fn type_then_next(ui: &Ui, text: &str) {
    for character in text.chars() {
        match character {
            '.' | ',' => ui.press("Keypad::key-point"),
            digit => ui.press(&format!("Keypad::key-{digit}")),
        }
    }
    ui.press("ProgramPage::next-button");
}

fn heparin(ui: &Ui) {
    ui.press("StatusPage::primary-button");
    // The syringe loaded, confirmed once at loading (syringe platform).
    ui.press_label("BD Plastipak 50 mL (up to 999 mL/h)");
    ui.press_label("ICU");
    ui.press_label("H");
    ui.press_label("heparin");
    ui.press_label("25,000 units in 500 mL (50 units/mL)");
    type_then_next(ui, "18");
    type_then_next(ui, "80");
    // The volume opens on what the 50 mL syringe holds.
    ui.press("ProgramPage::next-button");
    ui.press("ProgramPage::start-button");
}

fn basic(ui: &Ui) {
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    ui.press_label("Basic infusion (mL/h, no drug)");
    type_then_next(ui, "25");
    ui.press_label("100 mL");
    ui.press("ProgramPage::start-button");
}

fn vancomycin(ui: &Ui) {
    ui.press("StatusPage::primary-button");
    ui.press_label("ICU");
    ui.press_label("V");
    ui.press_label("vancomycin");
    ui.press_label("1,000 mg in 200 mL (5 mg/mL)");
    type_then_next(ui, "1000");
    // The volume is the bag's: an amount over a time asks for no volume.
    type_then_next(ui, "60");
    ui.press("ProgramPage::start-button");
}

/// The reference tasks of issue 14.
pub fn reference_tasks() -> [Task; 3] {
    [
        Task {
            name: "dose-based heparin: ICU, 18 units/kg/h, 80 kg, 50 mL",
            platform: Platform::Syringe50,
            target: Some(14),
            walk: heparin,
        },
        Task {
            name: "basic infusion: 25 mL/h, 100 mL",
            platform: Platform::Volumetric,
            target: Some(8),
            walk: basic,
        },
        Task {
            name: "vancomycin: 1 g over 60 min",
            platform: Platform::Volumetric,
            target: None,
            walk: vancomycin,
        },
    ]
}

impl Task {
    /// Walks the task on a fresh pump (no care area chosen yet) and counts
    /// it. Panics if the walk does not end with the infusion started.
    #[allow(clippy::panic)]
    pub fn walk(&self, language: Language) -> Counted {
        let ui = Ui::new(self.platform, language);
        // As at the bedside: the syringe loaded is not yet confirmed.
        ui.session.borrow_mut().syringe_confirmed = false;
        ui.refresh();
        let before = ui.presses.get();
        (self.walk)(&ui);
        let pressed = ui.presses.get() - before;
        let records = ui.records();
        let found = metrics(&records);
        let Some(task) = found.tasks.first() else {
            panic!("{}: no task recorded", self.name);
        };
        let presses = records
            .iter()
            .filter_map(|event| match event {
                perfuse::store::Event::Interaction {
                    action: perfuse::store::Action::Touch,
                    element,
                    ..
                } => Some(element.clone()),
                _ => None,
            })
            .collect();
        Counted {
            touches: task.touches,
            refusals: task.refusals,
            outcome: task.outcome,
            presses,
            pressed,
        }
    }
}

//! An infusion order from the hospital (IHE PCD-03, through the link) as a
//! program: its values become the answers of a new primary program in a
//! care area, and the program opens on its review, checked by the drug
//! library exactly as a typed one is. The values are the prescriber's: the
//! nurse compares and confirms them, or declines the order; they are not
//! edited at the pump (a different program is typed, or ordered again).
//!
//! Only what maps onto the library without a guess is taken: the drug by
//! its name in the care area, a concentration the library lists, a dose in
//! the entry's own unit, a flow rate only for a fluid, the patient's weight
//! where the dose is per kilogram. Anything else is a mismatch, and the
//! order is refused with the reason.

use perfuse_link::local::ProposedOrder;

use super::*;
use crate::druglib::Blocker;

/// Why an order cannot be programmed in a care area. Each says what was
/// ordered and what the library allows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OrderMismatch {
    #[error("{drug} is not in care area {care_area} of drug library {library}")]
    NotInLibrary {
        drug: String,
        care_area: String,
        library: String,
    },
    #[error("{drug} was ordered as a flow rate; the library doses it in {unit}")]
    FlowForDose { drug: String, unit: String },
    #[error("{drug} was ordered as a dose rate; the library gives it as a fluid in mL/h")]
    DoseForFluid { drug: String },
    #[error("{drug} was ordered in {ordered}; the library doses it in {unit}")]
    DoseUnit {
        drug: String,
        ordered: String,
        unit: String,
    },
    #[error("no concentration was ordered for {drug}; the library lists {listed}")]
    NoConcentration { drug: String, listed: String },
    #[error("{drug} {ordered} is not a concentration the library lists ({listed})")]
    Concentration {
        drug: String,
        ordered: String,
        listed: String,
    },
    #[error("{drug} is dosed per kg and the order has no weight")]
    NoWeight { drug: String },
    #[error("{drug} is dosed per m² and orders carry no height: program it at the bedside")]
    NeedsHeight { drug: String },
    #[error("{drug} is given as an amount over a time or as PCA: program it at the bedside")]
    NotContinuous { drug: String },
    #[error("the drug library refused it: {}", blocker_list(.0))]
    Blocked(Vec<Blocker>),
}

fn blocker_list(blockers: &[Blocker]) -> String {
    let reasons: Vec<String> = blockers.iter().map(ToString::to_string).collect();
    reasons.join("; ")
}

/// Does the order's drug name `name` this entry (its generic or display
/// name, or its id, in any case)?
fn names(entry: &Entry, name: &str) -> bool {
    let name = name.trim();
    [&entry.generic_name, &entry.display_name, &entry.id]
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name))
}

fn listed(entry: &Entry) -> String {
    let all: Vec<String> = entry
        .concentrations
        .iter()
        .map(|spec| {
            Concentration {
                amount: Amount::new(spec.amount, spec.unit),
                volume: Millilitres::new(spec.volume_ml),
            }
            .to_string()
        })
        .collect();
    if all.is_empty() {
        "none".to_owned()
    } else {
        all.join(", ")
    }
}

impl Workflow {
    /// The order as a new primary program in `care_area`, open on its
    /// review (which may still ask for soft-limit overrides), or why it
    /// cannot be programmed there.
    pub fn ordered(
        library: Arc<Library>,
        platform: RateLimits,
        care_area: &str,
        order: &ProposedOrder,
    ) -> Result<Workflow, OrderMismatch> {
        let drug = order.drug.clone();
        let area = library.care_area(care_area);
        let entry = area
            .and_then(|area| area.entries.iter().find(|entry| names(entry, &drug)))
            .cloned()
            .ok_or_else(|| OrderMismatch::NotInLibrary {
                drug: drug.clone(),
                care_area: area.map_or_else(|| care_area.to_owned(), |area| area.name.clone()),
                library: format!("{} {}", library.identity.name, library.identity.version),
            })?;
        let mut answers = Answers {
            care_area: Some(care_area.to_owned()),
            drug: Some(Pick::Entry(entry.id.clone())),
            volume: Some(order.vtbi.value()),
            weight: order.weight.map(Kilograms::value),
            ..Answers::default()
        };
        if entry.pca.is_some() {
            return Err(OrderMismatch::NotContinuous { drug });
        }
        match (entry.dose.unit, order.rate, order.dose) {
            (DosingUnit::Flow, Some(rate), _) => answers.dose = Some(rate.value()),
            (DosingUnit::Flow, None, _) => return Err(OrderMismatch::DoseForFluid { drug }),
            (DosingUnit::Amount(_), _, _) => return Err(OrderMismatch::NotContinuous { drug }),
            (DosingUnit::Rate(unit), _, Some(dose)) => {
                if dose.unit != unit {
                    return Err(OrderMismatch::DoseUnit {
                        drug,
                        ordered: dose.unit.to_string(),
                        unit: unit.to_string(),
                    });
                }
                answers.dose = Some(dose.value);
                let ordered =
                    order
                        .concentration
                        .ok_or_else(|| OrderMismatch::NoConcentration {
                            drug: drug.clone(),
                            listed: listed(&entry),
                        })?;
                let index = entry
                    .concentrations
                    .iter()
                    .position(|spec| {
                        Amount::new(spec.amount, spec.unit) == ordered.amount
                            && spec.volume_ml == ordered.volume.value()
                    })
                    .ok_or_else(|| OrderMismatch::Concentration {
                        drug: drug.clone(),
                        ordered: ordered.to_string(),
                        listed: listed(&entry),
                    })?;
                answers.concentration = Some(index);
                match unit.basis {
                    crate::therapy::DoseBasis::Patient => {}
                    crate::therapy::DoseBasis::PerKilogram => {
                        if order.weight.is_none() {
                            return Err(OrderMismatch::NoWeight { drug });
                        }
                    }
                    crate::therapy::DoseBasis::PerSquareMetre => {
                        return Err(OrderMismatch::NeedsHeight { drug })
                    }
                }
            }
            (DosingUnit::Rate(unit), _, None) => {
                return Err(OrderMismatch::FlowForDose {
                    drug,
                    unit: unit.to_string(),
                })
            }
        }
        if entry.loading.is_some() {
            answers.loading = Some(false);
        }
        let mut workflow = Workflow::new(library, platform, Kind::Primary, None);
        workflow.answers = answers;
        workflow.step = Step::Review;
        workflow.ordered = true;
        workflow.load_entry();
        match workflow.review() {
            Some(review) if review.blockers.is_empty() => Ok(workflow),
            Some(review) => Err(OrderMismatch::Blocked(review.blockers)),
            None => Err(OrderMismatch::Blocked(Vec::new())),
        }
    }

    /// A program from an order: its values are as ordered (no step back).
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }
}

/// The care areas an order can be programmed in, each with its program at
/// the review: `preferred` alone if the patient's care area is known and
/// the order passes there, otherwise every care area where it passes.
/// When it passes nowhere: why, in the preferred area (or the first one
/// that has the drug, or the first one).
pub fn ordered_programs(
    library: &Arc<Library>,
    platform: RateLimits,
    preferred: Option<&str>,
    order: &ProposedOrder,
) -> Result<Vec<(String, Workflow)>, OrderMismatch> {
    let ordered = |id: &str| Workflow::ordered(library.clone(), platform, id, order);
    if let Some(id) = preferred.filter(|id| library.care_area(id).is_some()) {
        return ordered(id).map(|workflow| vec![(id.to_owned(), workflow)]);
    }
    let mut passed = Vec::new();
    let mut first_problem = None;
    for area in &library.file.care_areas {
        match ordered(&area.id) {
            Ok(workflow) => passed.push((area.id.clone(), workflow)),
            Err(problem) => {
                let has_drug = !matches!(problem, OrderMismatch::NotInLibrary { .. });
                match (&first_problem, has_drug) {
                    (None, _) => first_problem = Some((problem, has_drug)),
                    (Some((_, false)), true) => first_problem = Some((problem, has_drug)),
                    (Some(_), _) => {}
                }
            }
        }
    }
    match (passed.is_empty(), first_problem) {
        (false, _) => Ok(passed),
        (true, Some((problem, _))) => Err(problem),
        (true, None) => Err(OrderMismatch::NotInLibrary {
            drug: order.drug.clone(),
            care_area: String::new(),
            library: format!("{} {}", library.identity.name, library.identity.version),
        }),
    }
}

//! Reviews: a new program, a secondary or a bolus, planned and checked,
//! with the platform's and the care area's caps for a basic infusion.

use super::checker::*;
use super::*;

pub(super) fn empty_review(
    library: &Library,
    care_area: &str,
    entry: Option<&str>,
    blocker: Blocker,
) -> Review {
    Review {
        library: library.identity.clone(),
        care_area: care_area.to_owned(),
        entry: entry.map(str::to_owned),
        plan: None,
        values: Vec::new(),
        blockers: vec![blocker],
    }
}

/// Checks a primary program.
pub fn review(
    library: &Library,
    care_area: &str,
    choice: DrugChoice<'_>,
    program: &Program,
    platform: &RateLimits,
) -> Review {
    let mut review = review_delivery(
        library,
        care_area,
        choice,
        &program.medication,
        &program.delivery,
        platform,
        |limits| plan(program, limits),
    );
    if let Some(blocker) = check_end(library, care_area, choice, program.end) {
        review.blockers.push(blocker);
    }
    review
}

/// Keeping the vein open at the end is the care area's to allow (its KVO
/// rate, the most KVO runs at) and the entry's (`KvoRule::Never`). The plan
/// runs KVO at the lower of that and the program's last rate, within the
/// platform's rates (`plan`).
fn check_end(
    library: &Library,
    care_area_id: &str,
    choice: DrugChoice<'_>,
    end: EndOfInfusion,
) -> Option<Blocker> {
    let EndOfInfusion::KeepVeinOpen { rate } = end else {
        return None;
    };
    let care_area = library.care_area(care_area_id)?;
    let Some(max) = care_area.kvo_rate_ml_h else {
        return Some(Blocker::NotForThisEntry(Mismatch::NoKeepVeinOpenInArea {
            care_area: care_area.name.clone(),
        }));
    };
    if let DrugChoice::Entry(id) = choice {
        let entry = care_area.entries.iter().find(|entry| entry.id == id)?;
        if entry.kvo == KvoRule::Never {
            return Some(Blocker::NotForThisEntry(Mismatch::NoKeepVeinOpen {
                drug: entry.display_name.clone(),
            }));
        }
    }
    (rate.value() > max).then(|| {
        Blocker::NotForThisEntry(Mismatch::KeepVeinOpenAbove {
            care_area: care_area.name.clone(),
            rate: rate.value(),
            max,
        })
    })
}

/// Checks a secondary (piggyback) program.
pub fn review_secondary(
    library: &Library,
    care_area: &str,
    choice: DrugChoice<'_>,
    program: &SecondaryProgram,
    platform: &RateLimits,
) -> Review {
    review_delivery(
        library,
        care_area,
        choice,
        &program.medication,
        &program.delivery,
        platform,
        |limits| plan_secondary(program, limits),
    )
}

pub(super) fn review_delivery(
    library: &Library,
    care_area_id: &str,
    choice: DrugChoice<'_>,
    medication: &Medication,
    delivery: &Delivery,
    platform: &RateLimits,
    make_plan: impl Fn(&RateLimits) -> Result<DeliveryPlan, TherapyError>,
) -> Review {
    let Some(care_area) = library.care_area(care_area_id) else {
        return empty_review(
            library,
            care_area_id,
            None,
            Blocker::UnknownCareArea(care_area_id.to_owned()),
        );
    };
    let mut checker = Checker {
        values: Vec::new(),
        blockers: Vec::new(),
    };
    let entry_id = match choice {
        DrugChoice::Basic => {
            let limits = basic_limits(care_area, platform);
            if !matches!(medication, Medication::Basic) {
                checker.block(Blocker::NotForThisEntry(Mismatch::BasicHasNoDrug));
            }
            let plan = make_plan(&limits)
                .map_err(|error| checker.block(error.into()))
                .ok();
            return checker.finish(library, care_area, None, plan);
        }
        DrugChoice::Entry(id) => id,
    };
    let Some(entry) = care_area.entries.iter().find(|entry| entry.id == entry_id) else {
        return empty_review(
            library,
            care_area_id,
            Some(entry_id),
            Blocker::UnknownEntry(entry_id.to_owned()),
        );
    };
    let plan = make_plan(platform)
        .map_err(|error| checker.block(error.into()))
        .ok();
    check_entry(entry, medication, delivery, plan.as_ref(), &mut checker);
    if let Some(plan) = &plan {
        if let Ok(total) = plan.total_volume() {
            let limits = Limits {
                hard_min: None,
                soft_min: None,
                soft_max: None,
                hard_max: entry.max_vtbi_ml,
            };
            checker.value(
                Parameter::VolumeToBeInfused,
                total.value(),
                Millilitres::UNIT.to_owned(),
                &limits,
            );
        }
    }
    checker.finish(library, care_area, Some(entry), plan)
}

/// The rate range of a basic infusion: the platform's, capped by the care area.
pub(super) fn basic_limits(care_area: &CareArea, platform: &RateLimits) -> RateLimits {
    let max = care_area.basic_max_rate_ml_h.map_or(platform.max, |cap| {
        platform.max.min(MillilitresPerHour::new(cap))
    });
    RateLimits {
        min: platform.min,
        max,
        container: platform.container,
    }
}

/// Checks a clinician bolus from the primary's container against the entry.
pub fn review_bolus(
    library: &Library,
    care_area_id: &str,
    entry_id: &str,
    medication: &Medication,
    bolus: &BolusRequest,
    platform: &RateLimits,
) -> Review {
    let Some(care_area) = library.care_area(care_area_id) else {
        return empty_review(
            library,
            care_area_id,
            None,
            Blocker::UnknownCareArea(care_area_id.to_owned()),
        );
    };
    let Some(entry) = care_area.entries.iter().find(|entry| entry.id == entry_id) else {
        return empty_review(
            library,
            care_area_id,
            Some(entry_id),
            Blocker::UnknownEntry(entry_id.to_owned()),
        );
    };
    let mut checker = Checker {
        values: Vec::new(),
        blockers: Vec::new(),
    };
    let (
        Some(spec),
        Medication::Drug {
            concentration,
            patient,
        },
    ) = (&entry.bolus, medication)
    else {
        checker.block(Blocker::NotForThisEntry(Mismatch::NoBolus {
            drug: entry.display_name.clone(),
        }));
        return checker.finish(library, care_area, Some(entry), None);
    };
    if let BolusRequest::Dose { amount, .. } = bolus {
        if !checker.unit_must_match(spec.unit.0, amount.unit) {
            return checker.finish(library, care_area, Some(entry), None);
        }
    }
    let plan = match plan_bolus(medication, bolus, platform) {
        Ok(segment) => {
            checker.amount(
                Parameter::BolusDose,
                spec,
                &segment,
                *concentration,
                patient,
            );
            let mut segments = arrayvec::ArrayVec::new();
            segments.push(segment);
            Some(DeliveryPlan {
                segments,
                end: crate::therapy::PlanEnd::ResumePrimary,
                pca: None,
            })
        }
        Err(error) => {
            checker.block(error.into());
            None
        }
    };
    checker.finish(library, care_area, Some(entry), plan)
}

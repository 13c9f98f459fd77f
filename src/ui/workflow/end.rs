//! Two choices that shape a program without a step of their own, so that
//! they cost no touch when left as they are:
//!
//! - how a fluid's rate is given: typed in mL/h, or derived from a volume
//!   and a time (`RateBy`), switched on the first number step;
//! - what happens at the end of the volume: stop, or keep the vein open at
//!   the care area's KVO rate (`EndOptions`), switched on the review, within
//!   the care area's and the entry's rules (`KvoRule`) and the platform's
//!   rates (the plan).

use super::*;
use crate::druglib::model::KvoRule;

/// How a fluid's rate is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RateBy {
    /// Typed in mL/h, with the volume to be infused.
    #[default]
    Rate,
    /// A volume and the time to give it over; the pump derives the rate.
    VolumeOverTime,
    /// Several rates in turn, each with its volume (ramp and taper, as for
    /// parenteral nutrition): a new primary infusion only.
    Steps,
}

impl RateBy {
    pub const ALL: [RateBy; 3] = [RateBy::Rate, RateBy::VolumeOverTime, RateBy::Steps];

    /// The id the markup sends back.
    pub fn id(self) -> &'static str {
        match self {
            RateBy::Rate => "rate-by-rate",
            RateBy::VolumeOverTime => "rate-by-time",
            RateBy::Steps => "rate-by-steps",
        }
    }

    /// Its first page.
    fn first_step(self) -> Step {
        match self {
            RateBy::Rate => Step::Dose,
            RateBy::VolumeOverTime => Step::Volume,
            RateBy::Steps => Step::StepRate(0),
        }
    }

    pub fn from_id(id: &str) -> Option<RateBy> {
        RateBy::ALL.into_iter().find(|by| by.id() == id)
    }
}

/// The end of a primary program, as the review offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndOptions {
    /// The care area's KVO rate (the plan runs the lower of it and the
    /// program's last rate).
    pub kvo_rate: MillilitresPerHour,
    /// Chosen now: keep the vein open (true) or stop (false).
    pub keep_vein_open: bool,
}

impl Workflow {
    /// Is the program a fluid in mL/h (a basic infusion, or an entry dosed
    /// as a flow)?
    pub(super) fn is_fluid(&self) -> bool {
        match &self.answers.drug {
            Some(Pick::Basic) => true,
            Some(Pick::Entry(_)) => self
                .entry_picked()
                .is_some_and(|entry| entry.dose.unit == DosingUnit::Flow),
            None => false,
        }
    }

    /// How this program's rate is given (a typed rate unless it is a fluid
    /// given otherwise).
    pub(super) fn rate_mode(&self) -> RateBy {
        match self.answers.rate_by {
            RateBy::Rate => RateBy::Rate,
            RateBy::VolumeOverTime if self.is_fluid() => RateBy::VolumeOverTime,
            RateBy::Steps if self.is_fluid() && self.kind == Kind::Primary => RateBy::Steps,
            RateBy::VolumeOverTime | RateBy::Steps => RateBy::Rate,
        }
    }

    /// Is a fluid given as a volume over a time?
    pub(super) fn by_time(&self) -> bool {
        self.rate_mode() == RateBy::VolumeOverTime
    }

    /// Is a fluid given in several steps?
    pub(super) fn by_steps(&self) -> bool {
        self.rate_mode() == RateBy::Steps
    }

    /// The ways this program's rate can be given: several steps only for a
    /// new primary infusion.
    pub fn rate_by_options(&self) -> &'static [RateBy] {
        match self.kind {
            Kind::Primary => &RateBy::ALL,
            Kind::Secondary | Kind::Bolus | Kind::Titration => {
                &[RateBy::Rate, RateBy::VolumeOverTime]
            }
        }
    }

    /// How the rate is given, on the step where it can be switched: the
    /// first number step of a new fluid (primary or secondary). None
    /// elsewhere.
    pub fn rate_by(&self) -> Option<RateBy> {
        if !matches!(self.kind, Kind::Primary | Kind::Secondary)
            || !self.is_fluid()
            || self.rest_after_nl.is_some()
        {
            return None;
        }
        let mode = self.rate_mode();
        (self.step == mode.first_step()).then_some(mode)
    }

    /// Switches how the rate is given; the steps change to match and the
    /// answers typed so far are kept.
    pub fn set_rate_by(&mut self, by: RateBy) -> Result<(), Problem> {
        if self.rate_by().is_none() || !self.rate_by_options().contains(&by) {
            return Err(Problem::WrongStep);
        }
        self.answers.rate_by = by;
        if by == RateBy::Steps && self.answers.rate_steps.is_empty() {
            self.answers.rate_steps.push((None, None));
        }
        self.step = by.first_step();
        self.load_entry();
        Ok(())
    }

    /// The steps of the multi-step program in the sequence (at least one).
    pub(super) fn rate_step_count(&self) -> usize {
        self.answers.rate_steps.len().max(1)
    }

    /// After step `index`: another step (`add`) or on to the review.
    pub(super) fn more_steps(&mut self, index: u8, add: bool) {
        let index = usize::from(index);
        if add {
            while self.answers.rate_steps.len() < index + 2 {
                if self.answers.rate_steps.try_push((None, None)).is_err() {
                    break;
                }
            }
        } else {
            self.answers.rate_steps.truncate(index + 1);
        }
    }

    /// The entry's rule for the end (a basic infusion may keep the vein open).
    fn kvo_rule(&self) -> KvoRule {
        self.entry_picked()
            .map_or(KvoRule::Offered, |entry| entry.kvo)
    }

    /// What the review offers for the end: None where the program can only
    /// stop (not a primary, no KVO rate in the care area, or an entry that
    /// never keeps the vein open).
    pub fn end_options(&self) -> Option<EndOptions> {
        if self.kind != Kind::Primary || self.step != Step::Review {
            return None;
        }
        self.kvo_allowed().map(|kvo_rate| EndOptions {
            kvo_rate,
            keep_vein_open: self.keeps_vein_open(),
        })
    }

    /// The care area's KVO rate, where this program may keep the vein open.
    fn kvo_allowed(&self) -> Option<MillilitresPerHour> {
        let rate = self.care_area()?.kvo_rate_ml_h?;
        match self.kvo_rule() {
            KvoRule::Offered | KvoRule::Default => Some(MillilitresPerHour::new(rate)),
            KvoRule::Never => None,
        }
    }

    fn keeps_vein_open(&self) -> bool {
        self.answers
            .keep_vein_open
            .unwrap_or(match self.kvo_rule() {
                KvoRule::Default => true,
                KvoRule::Offered | KvoRule::Never => false,
            })
    }

    /// Chooses the end on the review: keep the vein open, or stop.
    pub fn set_keep_vein_open(&mut self, keep: bool) -> Result<(), Problem> {
        if self.end_options().is_none() {
            return Err(Problem::WrongStep);
        }
        self.answers.keep_vein_open = Some(keep);
        Ok(())
    }

    /// The end of the program as answered.
    pub(super) fn end_of_infusion(&self) -> EndOfInfusion {
        match self.kvo_allowed() {
            Some(rate) if self.kind == Kind::Primary && self.keeps_vein_open() => {
                EndOfInfusion::KeepVeinOpen { rate }
            }
            Some(_) | None => EndOfInfusion::Stop,
        }
    }
}

//! The control thread's programs and their progress, and the conversion
//! from the therapy core's delivery plan (exact decimals) to the control
//! thread's program (integer nanolitres), without loss.

use arrayvec::ArrayVec;

use super::units::{Nanolitres, NanolitresPerHour, UnitError};
use crate::therapy::{DeliveryPlan, PlanEnd, SegmentPurpose};

/// Longest program: a multi-step one (the therapy core's bound).
pub const MAX_SEGMENTS: usize = crate::therapy::MAX_SEGMENTS;

/// Announce the near end when this little time is left at the current rate.
pub const NEAR_END_MICROSECONDS: u64 = 5 * 60 * 1_000_000;

/// A stretch of delivery at one rate, in control units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub purpose: SegmentPurpose,
    pub rate: NanolitresPerHour,
    pub volume: Nanolitres,
}

/// What follows the last segment of a primary program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Stop,
    /// Keep the vein open at this rate (already no higher than the last segment's).
    KeepVeinOpen(NanolitresPerHour),
}

/// A PCA program's demand dose, lockout and limit, in control units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pca {
    pub demand: Nanolitres,
    pub demand_rate: NanolitresPerHour,
    pub lockout_ms: u64,
    /// The most volume over the last `window_minutes`, basal and demands.
    pub limit: Nanolitres,
    pub window_minutes: u32,
    /// The rate once the limit is reached (KVO; zero without a basal).
    pub limited_rate: NanolitresPerHour,
    /// What the patient had of this program before an interruption (an app
    /// restart forgets the history): counted as given at the load, since
    /// the pump cannot know when it was (at most the limit).
    pub carried: Nanolitres,
}

/// A confirmed program, converted to control units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub segments: ArrayVec<Segment, MAX_SEGMENTS>,
    pub end: End,
    /// A PCA program's demand, lockout and limit: its one segment is the
    /// basal (at zero rate without one).
    pub pca: Option<Pca>,
}

impl Program {
    pub fn total_volume(&self) -> Nanolitres {
        self.segments.iter().fold(Nanolitres(0), |total, segment| {
            total.saturating_add(segment.volume)
        })
    }

    /// What is left of this program once `delivered` of it was infused:
    /// the segments not yet finished, the current one shortened, each at
    /// its own rate (the rest of a loading dose, then the maintenance).
    /// None when nothing is left.
    pub fn after(&self, delivered: Nanolitres) -> Option<Program> {
        let mut skip = delivered;
        let mut segments = ArrayVec::new();
        for segment in &self.segments {
            let left = segment.volume.saturating_sub(skip);
            skip = skip.saturating_sub(segment.volume);
            if left.0 > 0 {
                segments.push(Segment {
                    volume: left,
                    ..*segment
                });
            }
        }
        (!segments.is_empty()).then_some(Program {
            segments,
            end: self.end,
            pca: self.pca,
        })
    }
}

/// How far a program has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub program: Program,
    /// Index of the segment being delivered.
    pub segment: usize,
    pub segment_delivered: Nanolitres,
    pub delivered: Nanolitres,
}

impl Progress {
    pub fn new(program: Program) -> Self {
        Self {
            program,
            segment: 0,
            segment_delivered: Nanolitres(0),
            delivered: Nanolitres(0),
        }
    }

    pub fn current(&self) -> Option<&Segment> {
        self.program.segments.get(self.segment)
    }

    /// Volume left in the current segment.
    pub fn segment_remaining(&self) -> Nanolitres {
        self.current().map_or(Nanolitres(0), |segment| {
            segment.volume.saturating_sub(self.segment_delivered)
        })
    }

    /// Volume left in the whole program.
    pub fn remaining(&self) -> Nanolitres {
        self.program.total_volume().saturating_sub(self.delivered)
    }

    /// Books `volume` (capped at the segment's remainder); true when the
    /// segment is done.
    pub(super) fn book(&mut self, volume: Nanolitres) -> bool {
        let taken = Nanolitres(volume.0.min(self.segment_remaining().0));
        self.segment_delivered = self.segment_delivered.saturating_add(taken);
        self.delivered = self.delivered.saturating_add(taken);
        self.segment_remaining() == Nanolitres(0)
    }

    /// Books `volume` across segments (a PCA's demand taken from its
    /// basal's volume); true when the whole program is done.
    pub(super) fn book_all(&mut self, volume: Nanolitres) -> bool {
        let mut left = volume;
        while left.0 > 0 {
            let taken = Nanolitres(left.0.min(self.segment_remaining().0));
            left = left.saturating_sub(taken);
            if self.book(taken) && !self.advance() {
                return true;
            }
            if taken.0 == 0 {
                break;
            }
        }
        self.remaining() == Nanolitres(0)
    }

    /// Moves to the next segment; false if there is none.
    pub(super) fn advance(&mut self) -> bool {
        if self.segment + 1 < self.program.segments.len() {
            self.segment += 1;
            self.segment_delivered = Nanolitres(0);
            true
        } else {
            false
        }
    }
}

/// Something delivered on top of the primary, which then resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayKind {
    Bolus,
    Secondary,
}

/// A running infusion: the primary, and a bolus or secondary over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Infusion {
    pub primary: Progress,
    pub overlay: Option<(OverlayKind, Progress)>,
    pub near_end_announced: bool,
    /// Volume given while keeping the vein open, after the VTBI.
    pub kvo_delivered: Nanolitres,
    /// A PCA program reached its limit: it runs at its limited rate, and
    /// gives no demand, until a clinician resumes it.
    pub pca_limited: bool,
}

impl Infusion {
    pub fn new(mut program: Program) -> Self {
        program.end = capped_end(&program);
        Self {
            primary: Progress::new(program),
            overlay: None,
            near_end_announced: false,
            kvo_delivered: Nanolitres(0),
            pca_limited: false,
        }
    }

    /// The PCA settings of the primary, if it is a PCA program.
    pub fn pca(&self) -> Option<&Pca> {
        self.primary.program.pca.as_ref()
    }

    /// The progress delivering now (the overlay if any).
    pub fn active(&self) -> &Progress {
        self.overlay
            .as_ref()
            .map_or(&self.primary, |(_, progress)| progress)
    }

    pub(super) fn active_mut(&mut self) -> &mut Progress {
        match &mut self.overlay {
            Some((_, progress)) => progress,
            None => &mut self.primary,
        }
    }

    /// The rate being delivered now (a PCA at its limit: its limited rate).
    pub fn rate(&self) -> NanolitresPerHour {
        if let (true, Some(pca)) = (self.pca_limited, self.pca()) {
            return pca.limited_rate;
        }
        self.active()
            .current()
            .map_or(NanolitresPerHour(0), |segment| segment.rate)
    }
}

/// The program's end with its KVO rate no higher than the last segment's.
pub(super) fn capped_end(program: &Program) -> End {
    match (program.end, program.segments.last()) {
        (End::KeepVeinOpen(kvo), Some(last)) if kvo.0 > last.rate.0 => End::KeepVeinOpen(last.rate),
        (end @ (End::Stop | End::KeepVeinOpen(_)), _) => end,
    }
}

/// Converts a plan; fails only if a value is not a whole number of nanolitres.
pub fn program_from_plan(plan: &DeliveryPlan) -> Result<Program, UnitError> {
    let mut segments = ArrayVec::new();
    for segment in &plan.segments {
        segments.push(Segment {
            purpose: segment.purpose,
            rate: NanolitresPerHour::from_rate(segment.rate)?,
            volume: Nanolitres::from_millilitres(segment.volume)?,
        });
    }
    let end = match plan.end {
        PlanEnd::Stop | PlanEnd::ResumePrimary => End::Stop,
        PlanEnd::KeepVeinOpen { rate } => End::KeepVeinOpen(NanolitresPerHour::from_rate(rate)?),
    };
    let pca = match &plan.pca {
        Some(pca) => Some(Pca {
            demand: Nanolitres::from_millilitres(pca.demand_volume)?,
            demand_rate: NanolitresPerHour::from_rate(pca.demand_rate)?,
            lockout_ms: u64::from(pca.lockout.seconds()).saturating_mul(1000),
            limit: Nanolitres::from_millilitres(pca.limit_volume)?,
            window_minutes: pca.window.minutes(),
            limited_rate: NanolitresPerHour::from_rate(pca.limited_rate)?,
            carried: Nanolitres(0),
        }),
        None => None,
    };
    Ok(Program { segments, end, pca })
}

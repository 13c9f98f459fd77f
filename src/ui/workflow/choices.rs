//! The steps answered by a choice: care area, drug (with its search),
//! concentration, loading dose or not.

use super::*;

impl Workflow {
    pub(super) fn care_area(&self) -> Option<&CareArea> {
        self.library.care_area(self.answers.care_area.as_deref()?)
    }

    /// The library entry picked, if a drug (not a basic infusion) was.
    pub fn entry_picked(&self) -> Option<&Entry> {
        let Some(Pick::Entry(id)) = &self.answers.drug else {
            return None;
        };
        self.library.entry(self.answers.care_area.as_deref()?, id)
    }

    /// The search text of the drug list.
    pub fn search(&self) -> &str {
        &self.search
    }

    /// Narrows the drug list to names containing `text` (any case).
    pub fn set_search(&mut self, text: &str) {
        self.search = text.chars().take(32).collect();
    }

    /// The first letters of the drugs of the care area, in order: the
    /// drug list's letter index.
    pub fn initials(&self) -> Vec<char> {
        let mut initials: Vec<char> = self
            .care_area()
            .map(|area| {
                area.entries
                    .iter()
                    .filter_map(|entry| entry.generic_name.chars().next())
                    .flat_map(char::to_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        initials.sort_unstable();
        initials.dedup();
        initials
    }

    /// The letter the drug list is narrowed to.
    pub fn initial(&self) -> Option<char> {
        self.initial
    }

    /// Narrows the drug list to names beginning with `initial` (None: all).
    pub fn set_initial(&mut self, initial: Option<char>) {
        self.initial = initial.and_then(|letter| letter.to_lowercase().next());
    }

    /// The options of the current choice step (empty on a number step).
    pub fn choices(&self) -> Vec<Choice> {
        match self.step {
            Step::CareArea => self
                .library
                .file
                .care_areas
                .iter()
                .map(|area| Choice::CareArea {
                    id: area.id.clone(),
                    name: area.name.clone(),
                })
                .collect(),
            Step::Drug => {
                let needle = self.search.to_lowercase();
                let initial = self.initial;
                let matches = |entry: &&Entry| {
                    let begins = initial.is_none_or(|letter| {
                        entry
                            .generic_name
                            .chars()
                            .next()
                            .is_some_and(|first| first.to_lowercase().eq(letter.to_lowercase()))
                    });
                    begins
                        && (needle.is_empty()
                            || entry.display_name.to_lowercase().contains(&needle)
                            || entry.generic_name.to_lowercase().contains(&needle))
                };
                let mut choices = vec![Choice::Basic];
                if let Some(area) = self.care_area() {
                    // Alphabetical by generic name, so a tall-man name
                    // (DOPamine) sorts as the word it is (dopamine).
                    let mut entries: Vec<&Entry> = area.entries.iter().filter(matches).collect();
                    entries.sort_by_cached_key(|entry| entry.generic_name.to_lowercase());
                    choices.extend(entries.into_iter().map(|entry| Choice::Drug {
                        id: entry.id.clone(),
                        display_name: entry.display_name.clone(),
                    }));
                }
                choices
            }
            Step::Concentration => self
                .entry_picked()
                .map(|entry| {
                    entry
                        .concentrations
                        .iter()
                        .enumerate()
                        .map(|(index, spec)| Choice::Concentration {
                            index,
                            amount: Amount::new(spec.amount, spec.unit),
                            volume: Millilitres::new(spec.volume_ml),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Step::Loading => vec![Choice::Loading(false), Choice::Loading(true)],
            Step::MoreSteps(_) => vec![Choice::MoreSteps(true), Choice::MoreSteps(false)],
            Step::StepRate(_)
            | Step::StepVolume(_)
            | Step::LoadingDose
            | Step::LoadingDuration
            | Step::Dose
            | Step::Weight
            | Step::Height
            | Step::Duration
            | Step::Volume
            | Step::Basal
            | Step::Demand
            | Step::Lockout
            | Step::PcaLimit
            | Step::Review => Vec::new(),
        }
    }

    /// The option chosen before on this step, if any (highlighted on return).
    pub fn chosen(&self) -> Option<String> {
        match self.step {
            Step::CareArea => self.answers.care_area.clone(),
            Step::Drug => self.answers.drug.as_ref().map(|pick| match pick {
                Pick::Basic => BASIC_ID.to_owned(),
                Pick::Entry(id) => id.clone(),
            }),
            Step::Concentration => self.answers.concentration.map(|index| index.to_string()),
            Step::Loading => self.answers.loading.map(|yes| Choice::Loading(yes).id()),
            // Answered "another" once a later step exists.
            Step::MoreSteps(index) => (self.answers.rate_steps.len() > usize::from(index) + 1)
                .then(|| Choice::MoreSteps(true).id()),
            Step::StepRate(_)
            | Step::StepVolume(_)
            | Step::LoadingDose
            | Step::LoadingDuration
            | Step::Dose
            | Step::Weight
            | Step::Height
            | Step::Duration
            | Step::Volume
            | Step::Basal
            | Step::Demand
            | Step::Lockout
            | Step::PcaLimit
            | Step::Review => None,
        }
    }

    /// Answers a choice step with the option of id `id` and moves on.
    /// Changing an earlier choice forgets the answers that depended on it.
    pub fn choose(&mut self, id: &str) -> Result<(), Problem> {
        if !self.step.is_choice() {
            return Err(Problem::WrongStep);
        }
        let choice = self
            .choices()
            .into_iter()
            .find(|choice| choice.id() == id)
            .ok_or_else(|| Problem::UnknownChoice(id.to_owned()))?;
        let before = self.answers.clone();
        match choice {
            Choice::CareArea { id, .. } => {
                if self.answers.care_area.as_ref() != Some(&id) {
                    self.answers = Answers {
                        care_area: Some(id),
                        weight: before.weight,
                        height: before.height,
                        ..Answers::default()
                    };
                }
            }
            Choice::Basic | Choice::Drug { .. } => {
                let pick = match choice {
                    Choice::Drug { id, .. } => Pick::Entry(id),
                    _ => Pick::Basic,
                };
                if self.answers.drug.as_ref() != Some(&pick) {
                    self.answers = Answers {
                        care_area: before.care_area,
                        drug: Some(pick),
                        weight: before.weight,
                        height: before.height,
                        ..Answers::default()
                    };
                }
            }
            Choice::Concentration { index, .. } => self.answers.concentration = Some(index),
            Choice::Loading(yes) => self.answers.loading = Some(yes),
            Choice::MoreSteps(add) => {
                if let Some(index) = self.step.rate_step() {
                    self.more_steps(index, add);
                }
            }
        }
        self.search.clear();
        self.initial = None;
        self.advance();
        Ok(())
    }
}

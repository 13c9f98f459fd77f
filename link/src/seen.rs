//! The order numbers already received, so that a replayed order is
//! refused: a fixed number of the most recent, oldest forgotten first.

use std::collections::{HashSet, VecDeque};

/// How many order numbers are remembered: far more than a pump receives
/// while any one order is still valid (`pcd::DEFAULT_VALIDITY_S`).
pub const REMEMBERED: usize = 1024;

pub struct Seen {
    order: VecDeque<String>,
    set: HashSet<String>,
    capacity: usize,
}

impl Seen {
    pub fn new(capacity: usize) -> Seen {
        let capacity = capacity.max(1);
        Seen {
            order: VecDeque::with_capacity(capacity),
            set: HashSet::with_capacity(capacity),
            capacity,
        }
    }

    /// True the first time `id` is offered (and remembers it).
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() >= self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(&oldest);
            }
        }
        self.order.push_back(id.to_owned());
        self.set.insert(id.to_owned());
        true
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_new_once_and_the_memory_stays_bounded() {
        let mut seen = Seen::new(3);
        assert!(seen.first_time("A"));
        assert!(!seen.first_time("A"));
        for id in ["B", "C", "D"] {
            assert!(seen.first_time(id));
        }
        assert_eq!(seen.len(), 3);
        // A is forgotten after three newer ones.
        assert!(seen.first_time("A"));
        assert!(!seen.first_time("D"));
    }
}

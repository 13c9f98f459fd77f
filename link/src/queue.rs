//! A fixed-size queue that, when full, drops its oldest entry and counts
//! it: the newest status is the one worth sending, and a producer never
//! waits for a slow consumer.

use std::collections::VecDeque;

pub struct DropOldest<T> {
    items: VecDeque<T>,
    capacity: usize,
    /// Entries dropped to make room, since the queue was made.
    pub dropped: u64,
}

impl<T> DropOldest<T> {
    /// A queue of `capacity` entries (at least one), allocated now.
    pub fn new(capacity: usize) -> DropOldest<T> {
        let capacity = capacity.max(1);
        DropOldest {
            items: VecDeque::with_capacity(capacity),
            capacity,
            dropped: 0,
        }
    }

    /// Adds `item`, dropping the oldest if the queue is full.
    pub fn push(&mut self, item: T) {
        if self.items.len() >= self.capacity {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
    }

    /// Takes the oldest entry.
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// Puts back an entry taken but not sent, ahead of the rest (dropped,
    /// and counted, if newer ones filled the queue meanwhile).
    pub fn unpop(&mut self, item: T) {
        if self.items.len() >= self.capacity {
            self.dropped += 1;
        } else {
            self.items.push_front(item);
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_keeps_the_newest_and_counts_what_it_dropped() {
        let mut queue = DropOldest::new(3);
        for n in 1..=10 {
            queue.push(n);
            assert!(queue.len() <= 3);
        }
        assert_eq!(queue.dropped, 7);
        assert_eq!(queue.pop(), Some(8));
        queue.unpop(8);
        queue.push(11);
        queue.unpop(0);
        assert_eq!(queue.dropped, 9);
        let rest: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(rest, [9, 10, 11]);
    }
}

//! Bounded history of samples: the oldest drop out once the capacity is reached.

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct History<T> {
    capacity: usize,
    items: VecDeque<T>,
}

impl<T: Clone> History<T> {
    /// A history keeping at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self { capacity, items: VecDeque::with_capacity(capacity) }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn latest(&self) -> Option<&T> {
        self.items.back()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    pub fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::History;

    #[test]
    fn drops_oldest_beyond_capacity() {
        let mut h = History::new(3);
        for i in 0..5 {
            h.push(i);
        }
        assert_eq!(h.to_vec(), vec![2, 3, 4]);
        assert_eq!(h.latest(), Some(&4));
    }
}

//! Russell quadrants of the valence–arousal plane (4Q, EMOPIA).

use std::fmt;

/// Q1 = valence +, arousal +; Q2 = −, +; Q3 = −, −; Q4 = +, −.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Quadrant {
    Q1,
    Q2,
    Q3,
    Q4,
}

impl Quadrant {
    pub const ALL: [Self; 4] = [Self::Q1, Self::Q2, Self::Q3, Self::Q4];

    /// Quadrant of a point on the NRC-VAD 0–1 scale: signs are taken around the midpoint 0.5,
    /// and a coordinate exactly at 0.5 counts as positive (the lexicon has no neutral sign).
    pub fn of_va(valence: f32, arousal: f32) -> Self {
        match (valence >= 0.5, arousal >= 0.5) {
            (true, true) => Self::Q1,
            (false, true) => Self::Q2,
            (false, false) => Self::Q3,
            (true, false) => Self::Q4,
        }
    }

    /// Parses `Q1`..`Q4` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Position in [`Self::ALL`] (Q1 → 0 … Q4 → 3): a quadrant's column in one-hot rows.
    pub fn index(self) -> usize {
        match self {
            Self::Q1 => 0,
            Self::Q2 => 1,
            Self::Q3 => 2,
            Self::Q4 => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Q1 => "Q1",
            Self::Q2 => "Q2",
            Self::Q3 => "Q3",
            Self::Q4 => "Q4",
        }
    }
}

impl fmt::Display for Quadrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrants_follow_signs_around_one_half() {
        assert_eq!(Quadrant::of_va(1.0, 0.735), Quadrant::Q1); // happy
        assert_eq!(Quadrant::of_va(0.122, 0.830), Quadrant::Q2); // angry
        assert_eq!(Quadrant::of_va(0.225, 0.333), Quadrant::Q3); // sad
        assert_eq!(Quadrant::of_va(0.630, 0.49), Quadrant::Q4);
        assert_eq!(Quadrant::of_va(0.5, 0.5), Quadrant::Q1);
        assert_eq!(Quadrant::parse("q3"), Some(Quadrant::Q3));
        assert_eq!(Quadrant::parse("Q5"), None);
    }

    #[test]
    fn index_is_the_position_in_all() {
        for (i, q) in Quadrant::ALL.into_iter().enumerate() {
            assert_eq!(q.index(), i);
        }
    }
}

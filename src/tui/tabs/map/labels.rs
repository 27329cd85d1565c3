//! Map labels that do not collide: each label is placed, in order, at the free spot of the
//! character grid nearest to its point (greedy), with a blank cell between labels on a row.

/// A label's cells: `width` cells from column `col` on `row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelBox {
    pub col: u16,
    pub row: u16,
    pub width: u16,
}

impl LabelBox {
    fn collides(&self, other: &LabelBox) -> bool {
        self.row == other.row
            && self.col < other.col + other.width + 1
            && other.col < self.col + self.width + 1
    }
}

/// How far (rows, columns) a label may move from its point.
const MAX_ROWS: i32 = 3;
const MAX_COLS: i32 = 16;

/// Places labels on a `width`×`height` grid. `fixed` boxes are already taken (axis captions);
/// `wanted` is each label's preferred cell and width. A label goes to the free spot with the
/// least move (a row counts as two columns: cells are about twice as tall as wide); when no spot
/// within reach is free it stays at its preferred cell.
pub fn place_labels(
    fixed: &[LabelBox],
    wanted: &[(u16, u16, u16)],
    width: u16,
    height: u16,
) -> Vec<LabelBox> {
    let mut moves: Vec<(i32, i32)> =
        (-MAX_ROWS..=MAX_ROWS).flat_map(|dr| (-MAX_COLS..=MAX_COLS).map(move |dc| (dr, dc))).collect();
    moves.sort_by_key(|&(dr, dc)| (2 * dr.abs() + dc.abs(), dr.abs(), dc < 0));
    let mut taken: Vec<LabelBox> = fixed.to_vec();
    let mut placed = Vec::with_capacity(wanted.len());
    for &(col, row, w) in wanted {
        let w = w.min(width);
        // Keep the whole label on the grid.
        let home = LabelBox {
            col: col.min(width.saturating_sub(w)),
            row: row.min(height.saturating_sub(1)),
            width: w,
        };
        let spot = moves
            .iter()
            .filter_map(|&(dr, dc)| {
                let (c, r) = (i32::from(home.col) + dc, i32::from(home.row) + dr);
                let fits = c >= 0 && r >= 0 && c + i32::from(w) <= i32::from(width) && r < i32::from(height);
                fits.then_some(LabelBox { col: c as u16, row: r as u16, width: w })
            })
            .find(|b| !taken.iter().any(|t| t.collides(b)))
            .unwrap_or(home);
        taken.push(spot);
        placed.push(spot);
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crowded_anchor_labels_are_nudged_apart_and_stay_near_their_points() {
        // Seven anchors within two cells of each other, as the map showed "◆sca◆tender".
        let names = ["◆angry", "◆exciting", "◆funny", "◆happy", "◆sad", "◆scary", "◆tender"];
        let wanted: Vec<(u16, u16, u16)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (30 + (i as u16 % 2), 10, n.chars().count() as u16))
            .collect();
        let fixed = [LabelBox { col: 0, row: 0, width: 12 }];
        let boxes = place_labels(&fixed, &wanted, 80, 20);
        for (i, a) in boxes.iter().enumerate() {
            assert!(!a.collides(&fixed[0]));
            for b in &boxes[i + 1..] {
                assert!(!a.collides(b), "{a:?} overlaps {b:?}");
            }
            let (dr, dc) = (i32::from(a.row) - 10, i32::from(a.col) - 30);
            assert!(dr.abs() <= MAX_ROWS && dc.abs() <= MAX_COLS + 1, "{a:?} moved far");
        }
        assert_eq!((boxes[0].col, boxes[0].row), (30, 10), "the first label keeps its spot");
    }

    #[test]
    fn labels_stay_on_the_grid_and_a_full_grid_leaves_them_home() {
        let boxes = place_labels(&[], &[(78, 25, 8)], 80, 20);
        assert_eq!(boxes[0], LabelBox { col: 72, row: 19, width: 8 });
        let full = [LabelBox { col: 0, row: 0, width: 10 }];
        assert_eq!(place_labels(&full, &[(2, 0, 4)], 10, 1), vec![LabelBox { col: 2, row: 0, width: 4 }]);
    }
}

//! A deterministic layered layout: columns by breadth-first distance from a root (the
//! first subject, else the best-connected node), rows ordered by a few barycentre sweeps
//! so that linked nodes sit level with each other, sizes from the labels' lengths.

use super::{Graph, NodeKind};

/// Average width of a character of the 12px sans-serif labels, generously rounded up.
pub const CHAR_WIDTH: f64 = 7.0;
const NODE_HEIGHT: f64 = 30.0;
const NODE_PAD: f64 = 20.0;
const ROW_GAP: f64 = 40.0;
const MIN_COL_GAP: f64 = 70.0;
const MAX_COL_GAP: f64 = 190.0;
const MARGIN: f64 = 16.0;
const SWEEPS: usize = 4;

/// Where each node goes: the centre, width and height of its box.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Vec<f64>,
    pub h: f64,
    pub width: f64,
    pub height: f64,
    /// Column of each node.
    pub layer: Vec<usize>,
}

/// Pixel width of a label.
pub fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_WIDTH
}

/// Column of every node: breadth-first distance from a root of its component; each
/// further component is placed after the previous one's last column.
fn layers(g: &Graph, adj: &[Vec<usize>]) -> Vec<usize> {
    let n = g.nodes.len();
    let mut layer = vec![usize::MAX; n];
    let mut order: Vec<usize> = (0..n).collect();
    // Roots first: subjects in input order, then the best-connected entity.
    order.sort_by_key(|&i| {
        (
            !g.nodes[i].highlight,
            g.nodes[i].kind == NodeKind::Fact,
            std::cmp::Reverse(adj[i].len()),
            i,
        )
    });
    let mut base = 0;
    for &root in &order {
        if layer[root] != usize::MAX {
            continue;
        }
        layer[root] = base;
        let mut queue = std::collections::VecDeque::from([root]);
        let mut deepest = base;
        while let Some(v) = queue.pop_front() {
            for &m in &adj[v] {
                if layer[m] == usize::MAX {
                    layer[m] = layer[v] + 1;
                    deepest = deepest.max(layer[m]);
                    queue.push_back(m);
                }
            }
        }
        base = deepest + 1;
    }
    layer
}

/// Rows within each column, by barycentre sweeps (left to right, then back).
fn rows(layer: &[usize], adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let ncols = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); ncols];
    for (i, &l) in layer.iter().enumerate() {
        cols[l].push(i);
    }
    let mut pos = vec![0.0f64; layer.len()];
    let set_pos = |cols: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for col in cols {
            for (r, &i) in col.iter().enumerate() {
                pos[i] = r as f64 - (col.len() as f64 - 1.0) / 2.0;
            }
        }
    };
    set_pos(&cols, &mut pos);
    for sweep in 0..SWEEPS {
        let forward = sweep % 2 == 0;
        let range: Vec<usize> = if forward {
            (1..ncols).collect()
        } else {
            (0..ncols.saturating_sub(1)).rev().collect()
        };
        for c in range {
            let side = if forward { c - 1 } else { c + 1 };
            let key = |i: usize| {
                let ns: Vec<f64> = adj[i]
                    .iter()
                    .filter(|&&m| layer[m] == side)
                    .map(|&m| pos[m])
                    .collect();
                if ns.is_empty() {
                    pos[i]
                } else {
                    ns.iter().sum::<f64>() / ns.len() as f64
                }
            };
            let mut keyed: Vec<(f64, usize)> = cols[c].iter().map(|&i| (key(i), i)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            cols[c] = keyed.into_iter().map(|(_, i)| i).collect();
            set_pos(&cols, &mut pos);
        }
    }
    cols
}

/// Lays out `g`. Edge labels sit between columns, so a column gap fits the longest
/// label of the edges that cross it (within limits).
pub fn layout(g: &Graph) -> Layout {
    let n = g.nodes.len();
    let adj = g.adjacency();
    let layer = layers(g, &adj);
    let cols = rows(&layer, &adj);
    let w: Vec<f64> = g
        .nodes
        .iter()
        .map(|nd| text_width(&nd.label) + NODE_PAD)
        .collect();
    let tallest = cols.iter().map(Vec::len).max().unwrap_or(0) as f64;
    let height = tallest * NODE_HEIGHT + (tallest - 1.0).max(0.0) * ROW_GAP + 2.0 * MARGIN;
    let mut x = vec![0.0; n];
    let mut y = vec![0.0; n];
    let mut left = MARGIN;
    for (c, col) in cols.iter().enumerate() {
        let col_w = col.iter().map(|&i| w[i]).fold(0.0, f64::max);
        let top = (height - (col.len() as f64 * (NODE_HEIGHT + ROW_GAP) - ROW_GAP)) / 2.0;
        for (r, &i) in col.iter().enumerate() {
            x[i] = left + col_w / 2.0;
            y[i] = top + r as f64 * (NODE_HEIGHT + ROW_GAP) + NODE_HEIGHT / 2.0;
        }
        let gap = g
            .edges
            .iter()
            .filter(|e| {
                let (a, b) = (layer[e.from], layer[e.to]);
                a.min(b) == c && a != b
            })
            .map(|e| text_width(&e.label) + 24.0)
            .fold(MIN_COL_GAP, f64::max)
            .min(MAX_COL_GAP);
        left += col_w + if c + 1 < cols.len() { gap } else { 0.0 };
    }
    Layout {
        x,
        y,
        w,
        h: NODE_HEIGHT,
        width: left + MARGIN,
        height,
        layer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node};

    fn node(id: &str, highlight: bool) -> Node {
        Node {
            id: id.into(),
            label: id.into(),
            kind: NodeKind::Entity,
            highlight,
        }
    }

    #[test]
    fn subjects_start_the_first_column_and_nothing_overlaps() {
        let g = Graph {
            nodes: vec![
                node("a", false),
                node("b", true),
                node("c", false),
                node("d", false),
            ],
            edges: vec![
                Edge {
                    from: 1,
                    to: 0,
                    label: "x".into(),
                },
                Edge {
                    from: 0,
                    to: 2,
                    label: "y".into(),
                },
                Edge {
                    from: 1,
                    to: 3,
                    label: "z".into(),
                },
            ],
        };
        let l = layout(&g);
        assert_eq!(l.layer, vec![1, 0, 2, 1]);
        for i in 0..4 {
            for j in i + 1..4 {
                let apart = (l.x[i] - l.x[j]).abs() >= (l.w[i] + l.w[j]) / 2.0
                    || (l.y[i] - l.y[j]).abs() >= l.h;
                assert!(apart, "nodes {i} and {j} overlap: {l:?}");
            }
        }
        assert_eq!(layout(&g), l, "deterministic");
    }
}

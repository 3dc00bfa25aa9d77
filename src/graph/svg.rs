//! SVG drawing of a laid-out graph: boxes for entities (subjects in amber), rounded
//! boxes for fact nodes, arrows for edges with their labels on a white halo. Styling is
//! in attributes, so the SVG looks the same standalone and inline in a report.

use std::fmt::Write;

use super::layout::{Layout, layout};
use super::{Graph, NodeKind};

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Where the segment from a box's centre towards `(tx, ty)` leaves the box.
fn border(cx: f64, cy: f64, w: f64, h: f64, tx: f64, ty: f64) -> (f64, f64) {
    let (dx, dy) = (tx - cx, ty - cy);
    if dx == 0.0 && dy == 0.0 {
        return (cx, cy);
    }
    let sx = if dx == 0.0 {
        f64::INFINITY
    } else {
        (w / 2.0) / dx.abs()
    };
    let sy = if dy == 0.0 {
        f64::INFINITY
    } else {
        (h / 2.0) / dy.abs()
    };
    let s = sx.min(sy);
    (cx + dx * s, cy + dy * s)
}

/// A standalone SVG document of `g`, with a title.
pub fn render(g: &Graph, title: &str, id_prefix: &str) -> String {
    let l = layout(g);
    draw(g, &l, title, id_prefix)
}

/// The SVG of `g` laid out as `l`. `id_prefix` keeps marker ids unique when several
/// pictures share one HTML page.
pub fn draw(g: &Graph, l: &Layout, title: &str, id_prefix: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n<title>{}</title>\n",
        esc(title),
        w = l.width,
        h = l.height,
    );
    let _ = writeln!(
        s,
        "<defs><marker id=\"{id_prefix}arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>"
    );
    let mut placed: Vec<Rect> = (0..g.nodes.len())
        .map(|i| Rect {
            x: l.x[i] - l.w[i] / 2.0,
            y: l.y[i] - l.h / 2.0,
            w: l.w[i],
            h: l.h,
        })
        .collect();
    for (i, e) in g.edges.iter().enumerate() {
        let (path, mx, my) = edge_path(l, (e.from, e.to), bend(g, i));
        let (lx, ly) = place_label(&mut placed, &e.label, mx, my);
        let _ = writeln!(
            s,
            "<g class=\"edge\"><path d=\"{path}\" fill=\"none\" stroke=\"#555\" stroke-width=\"1.2\" marker-end=\"url(#{id_prefix}arrow)\"/><text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\" dominant-baseline=\"central\" font-size=\"11\" fill=\"#333\" stroke=\"#fff\" stroke-width=\"4\" paint-order=\"stroke\">{}</text></g>",
            esc(&e.label),
        );
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let (fill, stroke, weight, rx) = match (n.kind, n.highlight) {
            (NodeKind::Fact, _) => ("#eef2ff", "#6366f1", "normal", 14.0),
            (_, true) => ("#fde68a", "#b45309", "bold", 4.0),
            (_, false) => ("#f8fafc", "#64748b", "normal", 4.0),
        };
        let _ = writeln!(
            s,
            "<g class=\"node{}\"><title>{}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"central\" font-weight=\"{weight}\" fill=\"#111\">{}</text></g>",
            if n.highlight { " subject" } else { "" },
            esc(&n.id),
            l.x[i] - l.w[i] / 2.0,
            l.y[i] - l.h / 2.0,
            l.w[i],
            l.h,
            if n.highlight { 2 } else { 1 },
            l.x[i],
            l.y[i],
            esc(&n.label),
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Space between parallel edges (two facts linking the same two entities).
const PARALLEL_GAP: f64 = 26.0;

/// How far edge `i` bows out, so that edges between the same two nodes fan apart.
fn bend(g: &Graph, i: usize) -> f64 {
    let e = &g.edges[i];
    let same =
        |f: &super::Edge| (f.from, f.to) == (e.from, e.to) || (f.from, f.to) == (e.to, e.from);
    let m = g.edges.iter().filter(|f| same(f)).count();
    let k = g.edges[..i].iter().filter(|f| same(f)).count();
    (k as f64 - (m as f64 - 1.0) / 2.0) * PARALLEL_GAP
}

/// A box on the picture that a label must not cover.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Label height, and how far a label may be moved to clear another one or a node.
const LABEL_H: f64 = 13.0;
const NUDGES: [f64; 9] = [0.0, -9.0, 9.0, -18.0, 18.0, -27.0, 27.0, -36.0, 36.0];

/// Where a label centred near `(x, y)` goes: the first nudge up or down that covers
/// nothing placed so far (else where it was). The label is then placed.
fn place_label(placed: &mut Vec<Rect>, label: &str, x: f64, y: f64) -> (f64, f64) {
    let w = super::layout::text_width(label) * 0.92;
    let rect = |dy: f64| Rect {
        x: x - w / 2.0,
        y: y + dy - LABEL_H / 2.0,
        w,
        h: LABEL_H,
    };
    let dy = NUDGES
        .iter()
        .copied()
        .find(|&dy| placed.iter().all(|p| !p.overlaps(&rect(dy))))
        .unwrap_or(0.0);
    placed.push(rect(dy));
    (x, y + dy)
}

/// One edge's path and label point: a line (bowed by `bend`) between columns, an arc
/// to the right within one.
fn edge_path(l: &Layout, (a, b): (usize, usize), bend: f64) -> (String, f64, f64) {
    let (ax, ay, bx, by) = (l.x[a], l.y[a], l.x[b], l.y[b]);
    if l.layer[a] == l.layer[b] {
        let right = l.w[a].max(l.w[b]) / 2.0;
        let (sx, sy) = (ax + l.w[a] / 2.0, ay);
        let (ex, ey) = (bx + l.w[b] / 2.0, by);
        let cx = ax.max(bx) + right + 40.0 + (ay - by).abs() * 0.15 + bend.abs() * 2.0;
        let cy = (ay + by) / 2.0;
        let path = format!("M{sx:.1},{sy:.1} Q{cx:.1},{cy:.1} {ex:.1},{ey:.1}");
        (path, (sx + 2.0 * cx + ex) / 4.0, cy)
    } else {
        // Bow perpendicular to the line between the centres; the label sits on the
        // curve's midpoint (half-way to the control point).
        let (dx, dy) = (bx - ax, by - ay);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (px, py) = (-dy / len * bend * 2.0, dx / len * bend * 2.0);
        let (cx, cy) = ((ax + bx) / 2.0 + px, (ay + by) / 2.0 + py);
        let (sx, sy) = border(ax, ay, l.w[a], l.h, cx, cy);
        let (ex, ey) = border(bx, by, l.w[b], l.h, cx, cy);
        let path = format!("M{sx:.1},{sy:.1} Q{cx:.1},{cy:.1} {ex:.1},{ey:.1}");
        (path, (sx + 2.0 * cx + ex) / 4.0, (sy + 2.0 * cy + ey) / 4.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node};

    #[test]
    fn an_svg_names_its_nodes_and_escapes_labels() {
        let g = Graph {
            nodes: vec![
                Node {
                    id: "a".into(),
                    label: "A & Co".into(),
                    kind: NodeKind::Entity,
                    highlight: true,
                },
                Node {
                    id: "b".into(),
                    label: "B".into(),
                    kind: NodeKind::Entity,
                    highlight: false,
                },
            ],
            edges: vec![Edge {
                from: 0,
                to: 1,
                label: "holding <shares>".into(),
            }],
        };
        let s = render(&g, "t", "p-");
        assert!(s.starts_with("<svg "));
        assert!(s.contains("A &amp; Co") && s.contains("holding &lt;shares&gt;"));
        assert!(s.contains("url(#p-arrow)") && s.contains("class=\"node subject\""));
    }
}

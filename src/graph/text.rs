//! Graphviz DOT and Mermaid text of a relationship graph, for tools that lay out
//! themselves.

use super::{Graph, NodeKind};

/// A DOT string literal.
fn dot_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `digraph` with one node per entity (subjects filled) and one labelled edge per link.
pub fn dot(g: &Graph, title: &str) -> String {
    let mut s = format!(
        "digraph probity {{\n  label={};\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        dot_str(title)
    );
    for n in &g.nodes {
        let style = match (n.kind, n.highlight) {
            (NodeKind::Fact, _) => ", shape=box, style=rounded",
            (_, true) => ", style=filled, fillcolor=\"#fde68a\"",
            _ => "",
        };
        s.push_str(&format!(
            "  {} [label={}{style}];\n",
            dot_str(&n.id),
            dot_str(&n.label)
        ));
    }
    for e in &g.edges {
        s.push_str(&format!(
            "  {} -> {} [label={}];\n",
            dot_str(&g.nodes[e.from].id),
            dot_str(&g.nodes[e.to].id),
            dot_str(&e.label)
        ));
    }
    s.push_str("}\n");
    s
}

/// Mermaid labels: quotes and brackets would end the label, so they are replaced by
/// Mermaid's character entities.
fn mermaid_label(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('|', "#124;")
        .replace('[', "#91;")
        .replace(']', "#93;")
}

/// `flowchart LR` with nodes `n0`, `n1`, … (ids are not valid Mermaid names).
pub fn mermaid(g: &Graph, title: &str) -> String {
    let mut s = format!(
        "---\ntitle: \"{}\"\n---\nflowchart LR\n",
        mermaid_label(title)
    );
    for (i, n) in g.nodes.iter().enumerate() {
        let label = mermaid_label(&n.label);
        match n.kind {
            NodeKind::Fact => s.push_str(&format!("  n{i}([\"{label}\"])\n")),
            NodeKind::Entity => s.push_str(&format!("  n{i}[\"{label}\"]\n")),
        }
    }
    for e in &g.edges {
        s.push_str(&format!(
            "  n{} -->|\"{}\"| n{}\n",
            e.from,
            mermaid_label(&e.label),
            e.to
        ));
    }
    let subjects: Vec<String> = g
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.highlight)
        .map(|(i, _)| format!("n{i}"))
        .collect();
    if !subjects.is_empty() {
        s.push_str("  classDef subject fill:#fde68a,stroke:#b45309,font-weight:bold\n");
        s.push_str(&format!("  class {} subject\n", subjects.join(",")));
    }
    s
}

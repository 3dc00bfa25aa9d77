//! The canonical layout of a `.coi` file (`probity fmt`), keeping every comment: a comment on
//! a line of its own stays before the item or line it preceded, a comment at the end of a
//! line stays at the end of that line.

use std::fmt::Write;

use super::ast::*;
use crate::diag::Span;

/// Formats a parsed file: 4-space indent, one condition per line, rule attributes in a
/// fixed order with their values aligned. A comment that ends a line of `source` ends the
/// printed line of what it followed (two spaces before the `#`); any other comment is
/// printed on its own line before the next item, attribute or condition, and a blank line
/// after a top-level comment is kept. Meant for files that parsed without errors.
pub fn format(file: &File, source: &str) -> String {
    let mut p = Printer {
        out: String::new(),
        comments: &file.comments,
        next: 0,
        indent: 0,
        source,
        trails: Vec::new(),
    };
    let mut prev: Option<&Item> = None;
    for item in &file.items {
        if let Some(prev) = prev
            && (!same_group(prev, item) || blank_between(source, item_span(prev), item_span(item)))
        {
            p.out.push('\n');
        }
        p.comments_before(item_span(item).start);
        p.item(item);
        p.trailing(item_span(item).end);
        prev = Some(item);
    }
    p.comments_before(u32::MAX);
    p.finish()
}

/// True if the source has an empty line between two items (kept within a group).
fn blank_between(source: &str, a: Span, b: Span) -> bool {
    let gap = source.get(a.end as usize..b.start as usize).unwrap_or("");
    gap.lines().skip(1).any(|l| l.trim().is_empty()) && gap.matches('\n').count() >= 2
}

/// Consecutive one-line items of one kind, and consecutive clauses of one `derive`, stay
/// together; others get a blank line.
fn same_group(a: &Item, b: &Item) -> bool {
    if let (Item::Derive(a), Item::Derive(b)) = (a, b) {
        return a.name.node == b.name.node;
    }
    matches!(
        (a, b),
        (Item::Use(_), Item::Use(_))
            | (Item::Param(_), Item::Param(_))
            | (
                Item::Entity(_) | Item::Relation(_),
                Item::Entity(_) | Item::Relation(_)
            )
    )
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Use(u) => u.span,
        Item::Entity(e) => e.span,
        Item::Relation(r) => r.span,
        Item::Param(p) => p.span,
        Item::Derive(d) => d.span,
        Item::Rule(r) => r.span,
        Item::Exempt(e) => e.span,
        Item::Test(t) => t.span,
    }
}

struct Printer<'a> {
    out: String,
    comments: &'a [Spanned<String>],
    next: usize,
    indent: usize,
    source: &'a str,
    /// End-of-line comments: (index of the printed line, comment text without `#`).
    trails: Vec<(usize, &'a str)>,
}

/// Width of the longest rule attribute keyword (`severity`), for aligning values.
const ATTR_WIDTH: usize = 8;

impl Printer<'_> {
    /// Starts a new line at the current indent and writes `text`.
    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Prints the comments that start before `pos`, each on its own line. At the top
    /// level, a blank line between a comment and what follows it is kept.
    fn comments_before(&mut self, pos: u32) {
        while let Some(c) = self.comments.get(self.next).filter(|c| c.span.start < pos) {
            self.next += 1;
            self.line(&format!("#{}", c.node.trim_end()));
            let follows = match self.comments.get(self.next) {
                Some(n) if n.span.start < pos => n.span.start,
                _ => pos,
            };
            if self.indent == 0 && pos != u32::MAX && self.blank_line(c.span.end, follows) {
                self.out.push('\n');
            }
        }
    }

    /// True if the source has an empty line between byte offsets `a` and `b`.
    fn blank_line(&self, a: u32, b: u32) -> bool {
        let gap = self.source.get(a as usize..b as usize).unwrap_or("");
        gap.matches('\n').count() >= 2 && gap.trim().is_empty()
    }

    /// If the next comment starts on the source line where `end` is, with only closing
    /// brackets between, appends it to the last printed line.
    fn trailing(&mut self, end: u32) {
        let Some(c) = self.comments.get(self.next) else {
            return;
        };
        let same_line = c.span.start >= end
            && self
                .source
                .get(end as usize..c.span.start as usize)
                .is_some_and(|gap| {
                    gap.chars()
                        .all(|c| matches!(c, ' ' | '\t' | '}' | ')' | ','))
                });
        if !same_line || !self.out.ends_with('\n') {
            return;
        }
        self.next += 1;
        let line = self.out.matches('\n').count() - 1;
        self.trails.push((line, c.node.trim_end()));
    }

    /// The text with end-of-line comments appended; the comments of consecutive lines
    /// start in one column, two spaces after the longest of those lines.
    fn finish(self) -> String {
        let mut lines: Vec<String> = self.out.lines().map(str::to_string).collect();
        let mut i = 0;
        while i < self.trails.len() {
            let mut j = i + 1;
            while j < self.trails.len() && self.trails[j].0 == self.trails[j - 1].0 + 1 {
                j += 1;
            }
            let run = &self.trails[i..j];
            let width = run
                .iter()
                .map(|(l, _)| lines.get(*l).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0);
            for (l, text) in run {
                if let Some(line) = lines.get_mut(*l) {
                    let pad = width - line.chars().count() + 2;
                    let _ = write!(line, "{:pad$}#{text}", "");
                }
            }
            i = j;
        }
        let mut out = lines.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// `title    "…"`: a rule attribute with its value aligned.
    fn attribute(&mut self, keyword: &str, value: &str, end: u32) {
        self.line(&format!("{keyword:<ATTR_WIDTH$} {value}"));
        self.trailing(end);
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Use(u) => self.line(&match &u.node {
                UseTarget::Std(None) => "use std".to_string(),
                UseTarget::Std(Some(m)) => format!("use std/{m}"),
                UseTarget::Path(p) => format!("use {}", quote(p)),
            }),
            Item::Entity(e) if e.fields.is_empty() => self.line(&format!("entity {}", e.name.node)),
            Item::Entity(e) => self.line(&format!("entity {}({})", e.name.node, fields(&e.fields))),
            Item::Relation(r) => self.line(&relation(r)),
            Item::Param(p) => {
                let doc = p
                    .doc
                    .as_ref()
                    .map(|d| format!(" {}", quote(&d.node)))
                    .unwrap_or_default();
                self.line(&format!("param {} = {}{doc}", p.name.node, expr(&p.value)));
            }
            Item::Derive(d) => {
                let head: Vec<String> = d.head.iter().map(expr).collect();
                self.block(
                    &format!("derive {}({})", d.name.node, head.join(", ")),
                    &d.body,
                    d.span.end,
                );
            }
            Item::Rule(r) => self.rule(r),
            Item::Exempt(e) => self.exempt(e),
            Item::Test(t) => self.test(t),
        }
    }

    /// `head {`, the literals one per line, `}`.
    fn block(&mut self, head: &str, body: &[Literal], end: u32) {
        self.line(&format!("{head} {{"));
        self.indent += 1;
        for lit in body {
            self.comments_before(literal_start(lit));
            self.literal(lit);
            self.trailing(literal_end(lit));
        }
        self.comments_before(end);
        self.indent -= 1;
        self.line("}");
    }

    fn literal(&mut self, lit: &Literal) {
        match lit {
            Literal::Aggregate {
                result,
                func,
                over,
                body,
                span,
            } => {
                let f = func.node.as_str();
                let over = over
                    .as_ref()
                    .map(|e| format!(" {}", expr(e)))
                    .unwrap_or_default();
                self.block(&format!("{} = {f}{over}", result.node), body, span.end);
            }
            other => self.line(&simple_literal(other)),
        }
    }

    fn rule(&mut self, r: &RuleDecl) {
        let subjects = r
            .subjects
            .as_ref()
            .map(|s| {
                format!(
                    "({})",
                    s.iter()
                        .map(|i| i.node.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .unwrap_or_default();
        self.line(&format!("rule {}{subjects} {{", r.name.node));
        self.indent += 1;
        if let Some(t) = &r.title {
            self.comments_before(t.span.start);
            self.attribute("title", &quote(&t.node), t.span.end);
        }
        if let Some(s) = &r.severity {
            self.comments_before(s.span.start);
            self.attribute("severity", s.node.as_str(), s.span.end);
        }
        if let Some(b) = &r.basis {
            self.comments_before(b.span.start);
            self.attribute("basis", &quote(&b.node), b.span.end);
        }
        if let (Some(first), Some(last)) = (r.tags.first(), r.tags.last()) {
            self.comments_before(first.span.start);
            let tags: Vec<String> = r.tags.iter().map(|t| quote(&t.node)).collect();
            self.attribute("tags", &tags.join(", "), last.span.end);
        }
        for w in &r.whens {
            self.comments_before(w.span.start);
            self.block("when", &w.node, w.span.end);
            self.trailing(w.span.end);
        }
        if let Some(f) = &r.flag {
            self.comments_before(f.span.start);
            self.line(&format!("flag {}", template(&f.node)));
            self.trailing(f.span.end);
        }
        self.comments_before(r.span.end);
        self.indent -= 1;
        self.line("}");
    }

    fn exempt(&mut self, e: &ExemptDecl) {
        self.line(&format!("exempt {} {{", e.rule.node));
        self.indent += 1;
        if let Some(b) = &e.because {
            self.comments_before(b.span.start);
            self.line(&format!("because {}", quote(&b.node)));
        }
        for w in &e.whens {
            self.comments_before(w.span.start);
            self.block("when", &w.node, w.span.end);
        }
        self.comments_before(e.span.end);
        self.indent -= 1;
        self.line("}");
    }

    fn test(&mut self, t: &TestDecl) {
        self.line(&format!("test {} {{", t.name.node));
        self.indent += 1;
        if !t.given.is_empty() {
            self.line("given {");
            self.indent += 1;
            for a in &t.given {
                self.comments_before(a.span.start);
                self.line(&atom(a));
                self.trailing(a.span.end);
            }
            self.indent -= 1;
            self.line("}");
        }
        for e in &t.expects {
            self.comments_before(e.span.start);
            let no = match (e.negated, e.exempted) {
                (true, true) => "no exempted ",
                (true, false) => "no ",
                (false, true) => "exempted ",
                (false, false) => "",
            };
            self.line(&format!("expect {no}{}", atom(&e.atom)));
            self.trailing(e.span.end);
        }
        self.comments_before(t.span.end);
        self.indent -= 1;
        self.line("}");
    }
}

fn literal_start(lit: &Literal) -> u32 {
    match lit {
        Literal::Atom(a) | Literal::Not(a) => a.span.start,
        Literal::Compare { lhs, .. } => lhs.span.start,
        Literal::Within { span, .. }
        | Literal::InRange { span, .. }
        | Literal::Overlaps { span, .. }
        | Literal::Aggregate { span, .. } => span.start,
    }
}

fn literal_end(lit: &Literal) -> u32 {
    match lit {
        Literal::Atom(a) | Literal::Not(a) => a.span.end,
        Literal::Compare { rhs, .. } => rhs.span.end,
        Literal::Within { span, .. }
        | Literal::InRange { span, .. }
        | Literal::Overlaps { span, .. }
        | Literal::Aggregate { span, .. } => span.end,
    }
}

fn simple_literal(lit: &Literal) -> String {
    match lit {
        Literal::Atom(a) => atom(a),
        Literal::Not(a) => format!("not {}", atom(a)),
        Literal::Compare { op, lhs, rhs } => {
            let op = op.node.as_str();
            format!("{} {op} {}", expr(lhs), expr(rhs))
        }
        Literal::Within {
            lhs,
            window,
            dir,
            rhs,
            ..
        } => {
            let dir = dir.as_str();
            format!("{} within {} {dir} {}", expr(lhs), expr(window), expr(rhs))
        }
        Literal::InRange {
            value, from, until, ..
        } => {
            format!("{} in {}..{}", expr(value), expr(from), expr(until))
        }
        Literal::Overlaps {
            a_from,
            a_until,
            b_from,
            b_until,
            ..
        } => {
            let (a, b, c, d) = (expr(a_from), expr(a_until), expr(b_from), expr(b_until));
            format!("{a}..{b} overlaps {c}..{d}")
        }
        Literal::Aggregate { .. } => String::new(),
    }
}

fn relation(r: &RelationDecl) -> String {
    let sym = if r.symmetric { "symmetric " } else { "" };
    let validity = match r.validity.as_ref().map(|v| &v.node) {
        Some(Validity::During { from, until }) => format!(" during {}..{}", from.node, until.node),
        Some(Validity::At(f)) => format!(" at {}", f.node),
        None => String::new(),
    };
    format!(
        "{sym}relation {}({}){validity}",
        r.name.node,
        fields(&r.fields)
    )
}

fn fields(fields: &[FieldDecl]) -> String {
    let shown: Vec<String> = fields
        .iter()
        .map(|f| {
            let names: Vec<&str> = f.ty.names.iter().map(|n| n.node.as_str()).collect();
            let ty = names.join(" | ");
            let ty = if f.list { format!("[{ty}]") } else { ty };
            let opt = if f.optional { "?" } else { "" };
            format!("{}: {ty}{opt}", f.name.node)
        })
        .collect();
    shown.join(", ")
}

fn atom(a: &Atom) -> String {
    let args: Vec<String> = match &a.args {
        Args::Named(xs) => xs
            .iter()
            .map(|(f, e)| format!("{}: {}", f.node, expr(e)))
            .collect(),
        Args::Positional(xs) => xs.iter().map(expr).collect(),
    };
    format!("{}({})", a.rel.node, args.join(", "))
}

/// Binding strength: sums 1, products 2, everything else 3.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, ..) => op.precedence(),
        _ => 3,
    }
}

/// An expression with the fewest parentheses that keep its tree.
pub fn expr(e: &Expr) -> String {
    let wrap = |x: &Expr, min: u8| {
        if prec(x) < min {
            format!("({})", expr(x))
        } else {
            expr(x)
        }
    };
    match &e.kind {
        ExprKind::Var(v) => v.clone(),
        ExprKind::Wildcard => "_".into(),
        ExprKind::Param(p) => format!("${p}"),
        ExprKind::Lit(l) => lit(l),
        ExprKind::Neg(x) if matches!(x.kind, ExprKind::Neg(_)) => format!("-({})", expr(x)),
        ExprKind::Neg(x) => format!("-{}", wrap(x, 3)),
        ExprKind::Binary(op, l, r) => {
            let (sym, p) = (op.as_str(), op.precedence());
            format!("{} {sym} {}", wrap(l, p), wrap(r, p + 1))
        }
        ExprKind::List(xs) => format!("[{}]", xs.iter().map(expr).collect::<Vec<_>>().join(", ")),
    }
}

fn lit(l: &Lit) -> String {
    match l {
        Lit::Text(s) => quote(s),
        Lit::Number { text, .. } => text.clone(),
        Lit::Date(d) => d.to_string(),
        Lit::Duration { text, .. } => text.clone(),
        Lit::Bool(b) => b.to_string(),
        Lit::None => "none".into(),
    }
}

fn escape_into(out: &mut String, s: &str, braces: bool) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '{' | '}' if braces => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    escape_into(&mut out, s, false);
    out.push('"');
    out
}

fn template(t: &Template) -> String {
    let mut out = String::from("\"");
    for part in &t.parts {
        match part {
            TemplatePart::Text(s) => escape_into(&mut out, s, true),
            TemplatePart::Hole(h) => {
                let _ = write!(out, "{{{}}}", h.node);
            }
        }
    }
    out.push('"');
    out
}

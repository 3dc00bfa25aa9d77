//! The canonical layout of a `.coi` file (`probity fmt`), keeping every comment before the item or line it preceded.

use std::fmt::Write;

use super::ast::*;
use crate::diag::Span;

/// Formats a parsed file: 4-space indent, one condition per line, rule attributes in a
/// fixed order. Each comment is printed on its own line before the next item, attribute
/// or condition that follows it in `source`. Meant for files that parsed without errors.
pub fn format(file: &File, source: &str) -> String {
    let mut p = Printer {
        out: String::new(),
        comments: &file.comments,
        next: 0,
        indent: 0,
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
        prev = Some(item);
    }
    p.comments_before(u32::MAX);
    p.out
}

/// True if the source has an empty line between two items (kept within a group).
fn blank_between(source: &str, a: Span, b: Span) -> bool {
    let gap = source.get(a.end as usize..b.start as usize).unwrap_or("");
    gap.lines().skip(1).any(|l| l.trim().is_empty()) && gap.matches('\n').count() >= 2
}

/// Consecutive one-line items of one kind stay together; others get a blank line.
fn same_group(a: &Item, b: &Item) -> bool {
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
}

impl Printer<'_> {
    /// Starts a new line at the current indent and writes `text`.
    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Prints the comments that start before `pos`.
    fn comments_before(&mut self, pos: u32) {
        while let Some(c) = self.comments.get(self.next).filter(|c| c.span.start < pos) {
            self.next += 1;
            self.line(&format!("#{}", c.node.trim_end()));
        }
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
                let f = match func.node {
                    AggFunc::Count => "count",
                    AggFunc::Sum => "sum",
                    AggFunc::Min => "min",
                    AggFunc::Max => "max",
                };
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
            self.line(&format!("title {}", quote(&t.node)));
        }
        if let Some(s) = &r.severity {
            self.comments_before(s.span.start);
            self.line(&format!("severity {}", s.node.as_str()));
        }
        if let Some(b) = &r.basis {
            self.comments_before(b.span.start);
            self.line(&format!("basis {}", quote(&b.node)));
        }
        if let Some(first) = r.tags.first() {
            self.comments_before(first.span.start);
            let tags: Vec<String> = r.tags.iter().map(|t| quote(&t.node)).collect();
            self.line(&format!("tags {}", tags.join(", ")));
        }
        for w in &r.whens {
            self.comments_before(w.span.start);
            self.block("when", &w.node, w.span.end);
        }
        if let Some(f) = &r.flag {
            self.comments_before(f.span.start);
            self.line(&format!("flag {}", template(&f.node)));
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

fn simple_literal(lit: &Literal) -> String {
    match lit {
        Literal::Atom(a) => atom(a),
        Literal::Not(a) => format!("not {}", atom(a)),
        Literal::Compare { op, lhs, rhs } => {
            let op = match op.node {
                CmpOp::Eq => "=",
                CmpOp::Ne => "!=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            format!("{} {op} {}", expr(lhs), expr(rhs))
        }
        Literal::Within {
            lhs,
            window,
            dir,
            rhs,
            ..
        } => {
            let dir = match dir {
                WithinDir::Of => "of",
                WithinDir::After => "after",
                WithinDir::Before => "before",
            };
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
        ExprKind::Binary(BinOp::Add | BinOp::Sub, ..) => 1,
        ExprKind::Binary(..) => 2,
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
            let (sym, p) = match op {
                BinOp::Add => ("+", 1),
                BinOp::Sub => ("-", 1),
                BinOp::Mul => ("*", 2),
                BinOp::Div => ("/", 2),
            };
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
        Lit::Duration(d) => d.to_string(),
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

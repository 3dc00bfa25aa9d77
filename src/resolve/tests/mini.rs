//! A small test-only parser for the resolver's unit tests, until `crate::syntax::parse` lands.
//!
//! It reads the draft syntax without recovery: the first problem becomes one diagnostic.

use crate::diag::{Diagnostic, FileId, Span};
use crate::syntax::ast::*;
use crate::value::{Date, Decimal, Duration};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Id(String),
    Str(String),
    Num(String),
    Date(String),
    Dur(String),
    Param(String),
    P(&'static str),
}

struct Lx {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    file: FileId,
}

const PUNCT: [&str; 21] = [
    "..", "!=", "<=", ">=", "(", ")", "{", "}", "[", "]", ",", ":", "|", "?", "=", "<", ">", "+",
    "-", "*", "/",
];

fn lex(file: FileId, text: &str) -> Result<Vec<(Tok, Span)>, String> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let tok = if c == b'"' {
            i += 1;
            let mut s = String::new();
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                s.push(b[i] as char);
                i += 1;
            }
            i += 1;
            Tok::Str(s)
        } else if c == b'$' || c.is_ascii_alphabetic() || c == b'_' {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if c == b'$' {
                Tok::Param(text[start + 1..i].to_string())
            } else {
                Tok::Id(text[start..i].to_string())
            }
        } else if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = i - start;
            let rest = &text[i..];
            if digits == 4
                && rest.len() >= 3
                && rest.as_bytes()[0] == b'-'
                && rest.as_bytes()[1..3].iter().all(u8::is_ascii_digit)
            {
                i += 3;
                let r = &text[i..];
                if r.len() >= 3
                    && r.as_bytes()[0] == b'-'
                    && r.as_bytes()[1..3].iter().all(u8::is_ascii_digit)
                {
                    i += 3;
                }
                Tok::Date(text[start..i].to_string())
            } else if let Some(u) = ["mo", "d", "w", "y"].iter().find(|u| rest.starts_with(**u)) {
                i += u.len();
                Tok::Dur(text[start..i].to_string())
            } else {
                if rest.starts_with('.') && rest.as_bytes().get(1).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                Tok::Num(text[start..i].to_string())
            }
        } else if let Some(p) = PUNCT.iter().find(|p| text[i..].starts_with(**p)) {
            i += p.len();
            Tok::P(p)
        } else {
            return Err(format!("unexpected character at {i}"));
        };
        out.push((tok, Span::new(file, start, i)));
    }
    Ok(out)
}

/// Parses a whole file; on the first problem returns no items and one diagnostic.
pub fn parse(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    let result = lex(file, text).and_then(|toks| {
        let mut lx = Lx { toks, pos: 0, file };
        let mut items = Vec::new();
        while lx.pos < lx.toks.len() {
            items.push(lx.item()?);
        }
        Ok(items)
    });
    match result {
        Ok(items) => (
            File {
                items,
                comments: Vec::new(),
            },
            Vec::new(),
        ),
        Err(e) => (
            File {
                items: Vec::new(),
                comments: Vec::new(),
            },
            vec![Diagnostic::error("probity::syntax::test", e).at(Span::new(file, 0, 0))],
        ),
    }
}

type R<T> = Result<T, String>;

impl Lx {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.0)
    }
    fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .map_or(Span::new(self.file, 0, 0), |t| t.1)
    }
    fn prev_end(&self) -> Span {
        self.toks[self.pos.saturating_sub(1)].1
    }
    fn next(&mut self) -> R<(Tok, Span)> {
        let t = self.toks.get(self.pos).cloned().ok_or("unexpected end")?;
        self.pos += 1;
        Ok(t)
    }
    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::P(q)) if *q == p)
            || matches!(self.peek(), Some(Tok::Id(q)) if q == p)
    }
    fn eat(&mut self, p: &str) -> bool {
        let yes = self.is(p);
        if yes {
            self.pos += 1;
        }
        yes
    }
    fn expect(&mut self, p: &str) -> R<Span> {
        let s = self.span();
        if self.eat(p) {
            Ok(s)
        } else {
            Err(format!("expected `{p}` at {:?}, got {:?}", s, self.peek()))
        }
    }
    fn ident(&mut self) -> R<Ident> {
        match self.next()? {
            (Tok::Id(s), span) => Ok(Spanned::new(s, span)),
            t => Err(format!("expected identifier, got {t:?}")),
        }
    }
    fn string(&mut self) -> R<Spanned<String>> {
        match self.next()? {
            (Tok::Str(s), span) => Ok(Spanned::new(s, span)),
            t => Err(format!("expected string, got {t:?}")),
        }
    }

    fn item(&mut self) -> R<Item> {
        let start = self.span();
        let kw = self.ident()?;
        match kw.node.as_str() {
            "use" => {
                let t = match self.next()? {
                    (Tok::Str(s), _) => UseTarget::Path(s),
                    (Tok::Id(s), _) if s == "std" => {
                        if self.eat("/") {
                            UseTarget::Std(Some(self.ident()?.node))
                        } else {
                            UseTarget::Std(None)
                        }
                    }
                    t => return Err(format!("bad use {t:?}")),
                };
                Ok(Item::Use(Spanned::new(t, start.to(self.prev_end()))))
            }
            "entity" => {
                let name = self.ident()?;
                let fields = if self.is("(") {
                    self.fields()?
                } else {
                    Vec::new()
                };
                Ok(Item::Entity(EntityDecl {
                    name,
                    fields,
                    span: start.to(self.prev_end()),
                }))
            }
            "symmetric" | "relation" => {
                let symmetric = kw.node == "symmetric";
                if symmetric {
                    self.expect("relation")?;
                }
                let name = self.ident()?;
                let fields = self.fields()?;
                let vs = self.span();
                let validity = if self.eat("during") {
                    let from = self.ident()?;
                    self.expect("..")?;
                    let until = self.ident()?;
                    Some(Spanned::new(
                        Validity::During { from, until },
                        vs.to(self.prev_end()),
                    ))
                } else if self.eat("at") {
                    Some(Spanned::new(
                        Validity::At(self.ident()?),
                        vs.to(self.prev_end()),
                    ))
                } else {
                    None
                };
                Ok(Item::Relation(RelationDecl {
                    name,
                    symmetric,
                    fields,
                    validity,
                    span: start.to(self.prev_end()),
                }))
            }
            "param" => {
                let name = self.ident()?;
                self.expect("=")?;
                let value = self.expr()?;
                let doc = if matches!(self.peek(), Some(Tok::Str(_))) {
                    Some(self.string()?)
                } else {
                    None
                };
                Ok(Item::Param(ParamDecl {
                    name,
                    value,
                    doc,
                    span: start.to(self.prev_end()),
                }))
            }
            "derive" => {
                let name = self.ident()?;
                self.expect("(")?;
                let head = self.list(")", Self::expr)?;
                let body = self.block()?;
                Ok(Item::Derive(DeriveDecl {
                    name,
                    head,
                    body: body.node,
                    span: start.to(self.prev_end()),
                }))
            }
            "rule" => self.rule(start),
            "test" => self.test(start),
            k => Err(format!("unknown item {k}")),
        }
    }

    fn list<T>(&mut self, close: &str, f: fn(&mut Self) -> R<T>) -> R<Vec<T>> {
        let mut out = Vec::new();
        while !self.eat(close) {
            out.push(f(self)?);
            self.eat(",");
        }
        Ok(out)
    }

    fn fields(&mut self) -> R<Vec<FieldDecl>> {
        self.expect("(")?;
        self.list(")", |p| {
            let name = p.ident()?;
            p.expect(":")?;
            let ts = p.span();
            let list = p.eat("[");
            let mut names = vec![p.ident()?];
            while p.eat("|") {
                names.push(p.ident()?);
            }
            let ty = TypeExpr {
                names,
                span: ts.to(p.prev_end()),
            };
            if list {
                p.expect("]")?;
            }
            let optional = p.eat("?");
            Ok(FieldDecl {
                span: name.span.to(p.prev_end()),
                name,
                ty,
                optional,
                list,
            })
        })
    }

    fn rule(&mut self, start: Span) -> R<Item> {
        let name = self.ident()?;
        let subjects = if self.eat("(") {
            Some(self.list(")", Self::ident)?)
        } else {
            None
        };
        self.expect("{")?;
        let mut r = RuleDecl {
            name,
            subjects,
            title: None,
            severity: None,
            basis: None,
            tags: Vec::new(),
            whens: Vec::new(),
            flag: None,
            span: start,
        };
        while !self.eat("}") {
            let kw = self.ident()?;
            match kw.node.as_str() {
                "title" => r.title = Some(self.string()?),
                "basis" => r.basis = Some(self.string()?),
                "severity" => {
                    let s = self.ident()?;
                    let v = Severity::parse(&s.node).ok_or("bad severity")?;
                    r.severity = Some(Spanned::new(v, s.span));
                }
                "tags" => {
                    r.tags.push(self.string()?);
                    while self.eat(",") {
                        r.tags.push(self.string()?);
                    }
                }
                "when" => {
                    let b = self.block()?;
                    r.whens.push(Spanned::new(b.node, kw.span.to(b.span)));
                }
                "flag" => {
                    let s = self.string()?;
                    r.flag = Some(Spanned::new(template(&s), s.span));
                }
                k => return Err(format!("unknown rule attribute {k}")),
            }
        }
        r.span = start.to(self.prev_end());
        Ok(Item::Rule(r))
    }

    fn test(&mut self, start: Span) -> R<Item> {
        let name = self.ident()?;
        self.expect("{")?;
        let mut given = Vec::new();
        let mut expects = Vec::new();
        while !self.eat("}") {
            let s = self.span();
            if self.eat("given") {
                self.expect("{")?;
                while !self.eat("}") {
                    given.push(self.atom()?);
                    self.eat(",");
                }
            } else {
                self.expect("expect")?;
                let negated = self.eat("no");
                let atom = self.atom()?;
                expects.push(Expect {
                    negated,
                    span: s.to(atom.span),
                    atom,
                });
            }
        }
        Ok(Item::Test(TestDecl {
            name,
            given,
            expects,
            span: start.to(self.prev_end()),
        }))
    }

    fn block(&mut self) -> R<Spanned<Vec<Literal>>> {
        let s = self.expect("{")?;
        let mut out = Vec::new();
        while !self.eat("}") {
            out.push(self.literal()?);
            self.eat(",");
        }
        Ok(Spanned::new(out, s.to(self.prev_end())))
    }

    fn atom(&mut self) -> R<Atom> {
        let rel = self.ident()?;
        self.expect("(")?;
        let named = matches!(self.peek_at(1), Some(Tok::P(":")));
        let args = if named {
            Args::Named(self.list(")", |p| {
                let f = p.ident()?;
                p.expect(":")?;
                Ok((f, p.expr()?))
            })?)
        } else {
            Args::Positional(self.list(")", Self::expr)?)
        };
        Ok(Atom {
            span: rel.span.to(self.prev_end()),
            rel,
            args,
        })
    }

    fn literal(&mut self) -> R<Literal> {
        if self.eat("not") {
            return Ok(Literal::Not(self.atom()?));
        }
        if matches!(self.peek(), Some(Tok::Id(_))) && matches!(self.peek_at(1), Some(Tok::P("("))) {
            return Ok(Literal::Atom(self.atom()?));
        }
        if let (Some(Tok::Id(_)), Some(Tok::P("=")), Some(Tok::Id(f))) =
            (self.peek(), self.peek_at(1), self.peek_at(2))
        {
            if ["count", "sum", "min", "max"].contains(&f.as_str()) {
                return self.aggregate();
            }
        }
        let start = self.span();
        let lhs = self.expr()?;
        if self.eat("..") {
            let a_until = self.expr()?;
            self.expect("overlaps")?;
            let b_from = self.expr()?;
            self.expect("..")?;
            let b_until = self.expr()?;
            return Ok(Literal::Overlaps {
                a_from: lhs,
                a_until,
                b_from,
                b_until,
                span: start.to(self.prev_end()),
            });
        }
        if self.eat("within") {
            let window = self.expr()?;
            let dir = if self.eat("of") {
                WithinDir::Of
            } else if self.eat("after") {
                WithinDir::After
            } else {
                self.expect("before")?;
                WithinDir::Before
            };
            let rhs = self.expr()?;
            return Ok(Literal::Within {
                lhs,
                window,
                dir,
                rhs,
                span: start.to(self.prev_end()),
            });
        }
        if self.eat("in") {
            let from = self.expr()?;
            self.expect("..")?;
            let until = self.expr()?;
            return Ok(Literal::InRange {
                value: lhs,
                from,
                until,
                span: start.to(self.prev_end()),
            });
        }
        let (tok, span) = self.next()?;
        let op = match tok {
            Tok::P("=") => CmpOp::Eq,
            Tok::P("!=") => CmpOp::Ne,
            Tok::P("<") => CmpOp::Lt,
            Tok::P("<=") => CmpOp::Le,
            Tok::P(">") => CmpOp::Gt,
            Tok::P(">=") => CmpOp::Ge,
            t => return Err(format!("expected comparison, got {t:?}")),
        };
        let rhs = self.expr()?;
        Ok(Literal::Compare {
            op: Spanned::new(op, span),
            lhs,
            rhs,
        })
    }

    fn aggregate(&mut self) -> R<Literal> {
        let result = self.ident()?;
        self.expect("=")?;
        let f = self.ident()?;
        let func = match f.node.as_str() {
            "count" => AggFunc::Count,
            "sum" => AggFunc::Sum,
            "min" => AggFunc::Min,
            _ => AggFunc::Max,
        };
        let over = if self.is("{") {
            None
        } else {
            Some(self.expr()?)
        };
        let body = self.block()?;
        Ok(Literal::Aggregate {
            span: result.span.to(body.span),
            result,
            func: Spanned::new(func, f.span),
            over,
            body: body.node,
        })
    }

    fn expr(&mut self) -> R<Expr> {
        self.binary(0)
    }

    fn binary(&mut self, min: u8) -> R<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let (op, prec) = match self.peek() {
                Some(Tok::P("+")) => (BinOp::Add, 1),
                Some(Tok::P("-")) => (BinOp::Sub, 1),
                Some(Tok::P("*")) => (BinOp::Mul, 2),
                Some(Tok::P("/")) => (BinOp::Div, 2),
                _ => return Ok(lhs),
            };
            if prec <= min {
                return Ok(lhs);
            }
            self.pos += 1;
            let rhs = self.binary(prec)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            };
        }
    }

    fn unary(&mut self) -> R<Expr> {
        let s = self.span();
        if self.eat("-") {
            let e = self.unary()?;
            return Ok(Expr {
                span: s.to(e.span),
                kind: ExprKind::Neg(Box::new(e)),
            });
        }
        if self.eat("(") {
            let e = self.expr()?;
            self.expect(")")?;
            return Ok(e);
        }
        if self.eat("[") {
            let xs = self.list("]", Self::expr)?;
            return Ok(Expr {
                kind: ExprKind::List(xs),
                span: s.to(self.prev_end()),
            });
        }
        let (tok, span) = self.next()?;
        let kind = match tok {
            Tok::Id(s) if s == "_" => ExprKind::Wildcard,
            Tok::Id(s) if s == "true" || s == "false" => ExprKind::Lit(Lit::Bool(s == "true")),
            Tok::Id(s) if s == "none" => ExprKind::Lit(Lit::None),
            Tok::Id(s) => ExprKind::Var(s),
            Tok::Param(s) => ExprKind::Param(s),
            Tok::Str(s) => ExprKind::Lit(Lit::Text(s)),
            Tok::Num(t) => ExprKind::Lit(Lit::Number {
                value: Decimal::parse(&t).ok_or("bad number")?,
                text: t,
            }),
            Tok::Date(t) => ExprKind::Lit(Lit::Date(Date::parse(&t).map_err(|e| e.to_string())?)),
            Tok::Dur(t) => ExprKind::Lit(Lit::Duration(Duration::parse(&t).ok_or("bad duration")?)),
            t => return Err(format!("expected expression, got {t:?}")),
        };
        Ok(Expr { kind, span })
    }
}

/// `"{p} left {firm}"`: holes' spans cover the name inside the braces (no escapes).
fn template(s: &Spanned<String>) -> Template {
    let mut parts = Vec::new();
    let mut rest = s.node.as_str();
    let mut off = s.span.start as usize + 1;
    while let Some(i) = rest.find('{') {
        if i > 0 {
            parts.push(TemplatePart::Text(rest[..i].to_string()));
        }
        let j = rest[i..].find('}').map_or(rest.len(), |j| i + j);
        let name = &rest[i + 1..j];
        let start = off + i + 1;
        parts.push(TemplatePart::Hole(Spanned::new(
            name.to_string(),
            Span::new(s.span.file, start, start + name.len()),
        )));
        off += (j + 1).min(rest.len());
        rest = rest.get(j + 1..).unwrap_or("");
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest.to_string()));
    }
    Template { parts }
}

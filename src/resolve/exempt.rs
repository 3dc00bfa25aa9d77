//! `exempt` blocks: each becomes a derived relation over the rule subjects it binds, so a
//! finding can be matched against it after evaluation.

use crate::diag::{Diagnostic, did_you_mean};
use crate::ir::{Exemption, Field, Program, RelKind, Relation, Type};
use crate::syntax::ast::{self, Expr, ExprKind};

use super::codes;
use super::lower::outer_vars;
use super::schema::{Decls, push_rel};

/// Declares the relation of one `exempt` block and queues its `when` blocks for lowering.
pub(crate) fn declare(
    e: &ast::ExemptDecl,
    d: &mut Decls,
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(&rule_id) = d.rules.get(&e.rule.node) else {
        let help = match did_you_mean(&e.rule.node, d.rules.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "an exemption names a rule declared with `rule`".to_string(),
        };
        diags.push(
            Diagnostic::error(
                codes::UNKNOWN_RULE,
                format!("unknown rule `{}`", e.rule.node),
            )
            .at(e.rule.span)
            .help(help),
        );
        return;
    };
    if e.whens.is_empty() {
        diags.push(
            Diagnostic::error(
                codes::MISSING_ATTRIBUTE,
                format!("exemption for `{}` has no `when` block", e.rule.node),
            )
            .at(e.rule.span)
            .help("add `when { … }` with the facts that exempt a finding"),
        );
        return;
    }
    let rule_rel = program.rule(rule_id).rel;
    let subject_names: Vec<String> = program
        .rel(rule_rel)
        .fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    // The subjects every `when` block of the exemption binds, in subject order.
    let bound: Vec<usize> = (0..subject_names.len())
        .filter(|&i| {
            e.whens.iter().all(|w| {
                outer_vars(&w.node)
                    .iter()
                    .any(|(n, _)| *n == subject_names[i])
            })
        })
        .collect();
    if bound.is_empty() {
        diags.push(
            Diagnostic::error(
                codes::EXEMPT_BINDS_NO_SUBJECT,
                format!(
                    "exemption for `{}` names none of the rule's subjects",
                    e.rule.node
                ),
            )
            .at(e.rule.span)
            .help(format!(
                "use the rule's subject names ({}) in every `when` block, so the exemption says which findings it covers",
                subject_names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
        return;
    }
    let k = program.rule(rule_id).exemptions.len() + 1;
    let name = format!("{}~exempt{k}", e.rule.node);
    let fields = bound
        .iter()
        .map(|&i| Field {
            name: subject_names[i].clone(),
            ty: Type::Any,
            optional: false,
            list: false,
        })
        .collect();
    let rel = push_rel(
        d,
        program,
        Relation {
            name: name.clone(),
            kind: RelKind::Derived,
            fields,
            symmetric: false,
            validity: None,
            span: e.rule.span,
        },
    );
    for w in &e.whens {
        let head = bound
            .iter()
            .map(|&i| Expr {
                kind: ExprKind::Var(subject_names[i].clone()),
                span: w.span,
            })
            .collect();
        let decl = ast::DeriveDecl {
            name: ast::Ident::new(name.clone(), e.rule.span),
            head,
            body: w.node.clone(),
            span: w.span,
        };
        d.exempt_derives.push((rel, decl));
    }
    program.rules[rule_id.0 as usize]
        .exemptions
        .push(Exemption {
            rel,
            subjects: bound,
            reason: e
                .because
                .as_ref()
                .map_or_else(|| "exempted".to_string(), |b| b.node.clone()),
            span: e.span,
        });
}

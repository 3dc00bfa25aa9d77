//! FtM schemata to the standard vocabulary: one entity line becomes the facts it states.
//!
//! | FtM schema | fact | fields from properties |
//! |---|---|---|
//! | Person | `person` | name (first; the rest and `alias`, `weakAlias` are aliases), nationality, birthDate → born |
//! | Organization, Company, PublicBody, LegalEntity | `org` | name, kind (from the schema), alias, jurisdiction (or country), sector |
//! | Ownership | `holding` | owner, asset, ownershipType (or sharesType) → kind, percentage → pct, sharesValue → value |
//! | Directorship, Employment, Membership | `role` | director/employee/member, organization/employer, role → title; kind from the schema |
//! | Representation | `client` | agent → firm, client |
//! | Associate | `associate` | person, associate, relationship |
//! | Family | `family` | person, relative, relationship |
//! | Payment | `payment` | payer, beneficiary, amount, currency, date (or startDate) → on, purpose |
//! | Occupancy + Position | `office` | holder; the Position's name → title, its organization → body |
//! | Event | `meeting` | involved and organizer → attendees, date (or startDate) → on, name → topic, location → place |
//! | UnknownLink | `link` | subject, object, role |
//!
//! Intervals take startDate → from and endDate → until. `sourceUrl` and `publisher` make
//! the fact's sources. Everything else — a property not in the table, a second value of
//! a one-value property, an unknown schema, a Position's other properties, a link whose
//! ends are not a person or org (a corporate director, a Vessel) or that lacks a
//! required value (a Payment without amount) — is kept as `ftm_fact(entity, schema,
//! property, value)`, one fact per value, and counted.

use std::collections::{BTreeMap, VecDeque};

use super::read::Entity;
use super::values::{date_text, percentage};
use crate::case::errors::CaseError;

/// What an id refers to, as far as the mapping needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Class {
    Person,
    Org,
    /// A Position: its name and the organization it belongs to.
    Position {
        name: Option<String>,
        org: Option<String>,
    },
    /// Any other schema (kept as `ftm_fact`).
    Other,
}

/// A field's value as text, to be read as the schema's type by the loader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    One(String),
    Many(Vec<String>),
}

/// One fact: a relation of the vocabulary and its fields by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub rel: &'static str,
    pub fields: Vec<(&'static str, Val)>,
    pub note: Option<String>,
}

/// The facts of one entity line, the sources they cite, and what was kept generically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub records: Vec<Record>,
    /// (sourceUrl, publisher) pairs: each names one case source.
    pub sources: Vec<(Option<String>, Option<String>)>,
    /// Why values went to `ftm_fact`, one entry per value (`property Person:email`).
    pub kept: Vec<String>,
}

/// The organisation schemata and the `kind` each gives an `org`.
pub(crate) const ORG_KINDS: [(&str, &str); 4] = [
    ("Organization", "organization"),
    ("Company", "company"),
    ("PublicBody", "public body"),
    ("LegalEntity", "legal entity"),
];

/// The class an entity's schema gives it.
pub(crate) fn class_of(e: &Entity) -> Class {
    match e.schema.as_str() {
        "Person" => Class::Person,
        s if ORG_KINDS.iter().any(|(k, _)| *k == s) => Class::Org,
        "Position" => Class::Position {
            name: e.props.get("name").and_then(|v| v.first()).cloned(),
            org: e.props.get("organization").and_then(|v| v.first()).cloned(),
        },
        _ => Class::Other,
    }
}

/// The sources an entity cites: each sourceUrl (with the first publisher), or the
/// publisher alone.
pub(crate) fn sources_of(e: &Entity) -> Vec<(Option<String>, Option<String>)> {
    let publisher = e.props.get("publisher").and_then(|v| v.first()).cloned();
    match e.props.get("sourceUrl") {
        Some(urls) => urls
            .iter()
            .map(|u| (Some(u.clone()), publisher.clone()))
            .collect(),
        None => publisher.map(|p| (None, Some(p))).into_iter().collect(),
    }
}

/// Which ends a link needs: person only, org only, or either.
#[derive(Debug, Clone, Copy)]
enum Want {
    Person,
    Org,
    Either,
}

/// A link schema: (FtM property, fact field, what it must refer to) for its two ends.
struct Link {
    rel: &'static str,
    kind: Option<&'static str>,
    ends: [(&'static str, &'static str, Want); 2],
    /// (FtM property, fact field) for other one-value fields.
    extra: &'static [(&'static str, &'static str)],
    dates: bool,
}

fn link_of(schema: &str) -> Option<Link> {
    use Want::*;
    let role = |kind, who, org| Link {
        rel: "role",
        kind: Some(kind),
        ends: [(who, "person", Person), (org, "org", Org)],
        extra: &[("role", "title")],
        dates: true,
    };
    let tie = |rel, a, fa, b, fb, want, extra| Link {
        rel,
        kind: None,
        ends: [(a, fa, want), (b, fb, want)],
        extra,
        dates: true,
    };
    Some(match schema {
        "Directorship" => role("directorship", "director", "organization"),
        "Employment" => role("employment", "employee", "employer"),
        "Membership" => role("membership", "member", "organization"),
        "Ownership" => Link {
            rel: "holding",
            kind: None,
            ends: [("owner", "holder", Either), ("asset", "asset", Org)],
            extra: &[("sharesValue", "value")],
            dates: true,
        },
        "Representation" => tie("client", "agent", "firm", "client", "client", Either, &[]),
        "Associate" => tie(
            "associate",
            "person",
            "a",
            "associate",
            "b",
            Either,
            &[("relationship", "relationship")],
        ),
        "Family" => tie(
            "family",
            "person",
            "person",
            "relative",
            "relative",
            Person,
            &[("relationship", "relationship")],
        ),
        "UnknownLink" => tie(
            "link",
            "subject",
            "subject",
            "object",
            "object",
            Either,
            &[("role", "role")],
        ),
        "Payment" => Link {
            rel: "payment",
            kind: None,
            ends: [("payer", "from", Either), ("beneficiary", "to", Either)],
            extra: &[
                ("amount", "amount"),
                ("currency", "currency"),
                ("purpose", "purpose"),
            ],
            dates: false,
        },
        _ => return None,
    })
}

/// An entity's properties, taken as they are used; what is left is kept generically.
struct Props(BTreeMap<String, VecDeque<String>>);

impl Props {
    fn take(&mut self, p: &str) -> Option<String> {
        self.0.get_mut(p).and_then(VecDeque::pop_front)
    }
    fn take_all(&mut self, p: &str) -> Vec<String> {
        self.0.remove(p).map(Vec::from).unwrap_or_default()
    }
    fn peek(&self, p: &str) -> Option<&str> {
        self.0.get(p).and_then(|v| v.front()).map(String::as_str)
    }
}

/// Maps one entity. `lookup` says what an id refers to (`None`: nothing defines it).
pub(crate) fn map(e: &Entity, lookup: &dyn Fn(&str) -> Option<Class>) -> Result<Mapped, CaseError> {
    let mut props = Props(
        e.props
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
            .collect(),
    );
    let mut out = Mapped {
        sources: sources_of(e),
        ..Mapped::default()
    };
    props.take_all("sourceUrl");
    props.take_all("publisher");
    let one = |s: Option<String>| s.map(Val::One);
    let schema = e.schema.as_str();
    let mut fields: Vec<(&'static str, Option<Val>)> = Vec::new();
    let mut note = None;
    let rel = match schema {
        "Person" | "Organization" | "Company" | "PublicBody" | "LegalEntity" => {
            let mut names = props.take_all("name");
            let name = if names.is_empty() {
                e.id.clone()
            } else {
                names.remove(0)
            };
            names.extend(props.take_all("alias"));
            names.extend(props.take_all("weakAlias"));
            names.retain(|n| *n != name);
            names.dedup();
            let aliases = (!names.is_empty()).then_some(Val::Many(names));
            fields.push(("id", one(Some(e.id.clone()))));
            fields.push(("name", one(Some(name))));
            fields.push(("aliases", aliases));
            if schema == "Person" {
                fields.push(("nationality", one(props.take("nationality"))));
                let born = props.take("birthDate").map(|d| date_text(&d).to_string());
                fields.push(("born", one(born)));
                "person"
            } else {
                let kind = ORG_KINDS
                    .iter()
                    .find(|(k, _)| *k == schema)
                    .map(|(_, v)| *v);
                fields.push(("kind", one(kind.map(String::from))));
                let place = props.take("jurisdiction").or_else(|| props.take("country"));
                fields.push(("jurisdiction", one(place)));
                fields.push(("sector", one(props.take("sector"))));
                "org"
            }
        }
        "Occupancy" => match occupancy(e, &mut props, lookup)? {
            Some(f) => {
                fields = f;
                "office"
            }
            None => return Ok(generic(e, props, out, "Occupancy that is not of a person")),
        },
        "Position" => {
            props.take("name");
            props.take("organization");
            if let Some(org) = e.props.get("organization").and_then(|v| v.first()) {
                refers(org, lookup)?;
            }
            return Ok(generic(e, props, out, ""));
        }
        "Event" => match event(e, &mut props, lookup)? {
            Some(f) => {
                fields = f;
                "meeting"
            }
            None => return Ok(generic(e, props, out, "Event without a date or attendees")),
        },
        s => {
            let Some(link) = link_of(s) else {
                return Ok(generic(e, props, out, ""));
            };
            for (p, _, want) in &link.ends {
                let fits = match props.peek(p) {
                    Some(id) => fits(&refers(id, lookup)?, *want),
                    None => false,
                };
                if !fits {
                    let why = format!("{s} whose `{p}` is missing or not {}", want_name(*want));
                    return Ok(generic(e, props, out, &why));
                }
            }
            if s == "Payment" && props.peek("amount").is_none() {
                return Ok(generic(e, props, out, "Payment without an amount"));
            }
            for (p, f, _) in &link.ends {
                fields.push((f, one(props.take(p))));
            }
            for (p, f) in link.extra {
                fields.push((f, one(props.take(p))));
            }
            if let Some(kind) = link.kind {
                fields.push(("kind", one(Some(kind.to_string()))));
            }
            if s == "Ownership" {
                let kind = props
                    .take("ownershipType")
                    .or_else(|| props.take("sharesType"));
                fields.push(("kind", one(kind)));
                if let Some(raw) = props.peek("percentage").map(String::from) {
                    if let Some(p) = percentage(&raw) {
                        props.take("percentage");
                        fields.push(("pct", one(Some(p.number))));
                        note = p.note;
                    } else {
                        note = Some(format!("percentage `{raw}` is not a number; kept as text"));
                    }
                }
            }
            if link.dates {
                push_dates(&mut props, &mut fields);
            } else {
                let on = props.take("date").or_else(|| props.take("startDate"));
                fields.push(("on", one(on.map(|d| date_text(&d).to_string()))));
            }
            link.rel
        }
    };
    out.records.push(Record {
        rel,
        fields: fields
            .into_iter()
            .filter_map(|(f, v)| v.map(|v| (f, v)))
            .collect(),
        note,
    });
    Ok(generic(e, props, out, ""))
}

fn push_dates(props: &mut Props, fields: &mut Vec<(&'static str, Option<Val>)>) {
    for (p, f) in [("startDate", "from"), ("endDate", "until")] {
        let d = props.take(p).map(|d| Val::One(date_text(&d).to_string()));
        fields.push((f, d));
    }
}

/// What `id` refers to, or `unknown_entity`.
fn refers(id: &str, lookup: &dyn Fn(&str) -> Option<Class>) -> Result<Class, CaseError> {
    lookup(id).ok_or_else(|| CaseError::UnknownEntity {
        id: id.to_string(),
        suggestion: None,
    })
}

fn fits(c: &Class, want: Want) -> bool {
    matches!(
        (c, want),
        (Class::Person, Want::Person | Want::Either) | (Class::Org, Want::Org | Want::Either)
    )
}

fn want_name(w: Want) -> &'static str {
    match w {
        Want::Person => "a person",
        Want::Org => "an org",
        Want::Either => "a person or org",
    }
}

type Fields = Vec<(&'static str, Option<Val>)>;

/// Occupancy: the holder (a person) in the office its post names.
fn occupancy(
    _e: &Entity,
    props: &mut Props,
    lookup: &dyn Fn(&str) -> Option<Class>,
) -> Result<Option<Fields>, CaseError> {
    let (Some(holder), Some(post)) = (props.peek("holder"), props.peek("post")) else {
        return Ok(None);
    };
    let (holder, post) = (holder.to_string(), post.to_string());
    let Class::Position {
        name: Some(title),
        org,
    } = refers(&post, lookup)?
    else {
        return Ok(None);
    };
    if refers(&holder, lookup)? != Class::Person {
        return Ok(None);
    }
    props.take("holder");
    props.take("post");
    let body = match org {
        Some(o) if fits(&refers(&o, lookup)?, Want::Org) => Some(Val::One(o)),
        _ => None,
    };
    let mut f: Fields = vec![
        ("person", Some(Val::One(holder))),
        ("title", Some(Val::One(title))),
        ("body", body),
    ];
    push_dates(props, &mut f);
    Ok(Some(f))
}

/// Event: a meeting of everyone involved (and the organizer) on its date.
fn event(
    e: &Entity,
    props: &mut Props,
    lookup: &dyn Fn(&str) -> Option<Class>,
) -> Result<Option<Fields>, CaseError> {
    let on = props.peek("date").or_else(|| props.peek("startDate"));
    let Some(on) = on.map(|d| date_text(d).to_string()) else {
        return Ok(None);
    };
    let mut attendees: Vec<String> = Vec::new();
    let mut others: Vec<(&str, VecDeque<String>)> = Vec::new();
    for p in ["involved", "organizer"] {
        let mut rest = VecDeque::new();
        for id in props.0.get(p).into_iter().flatten() {
            if fits(&refers(id, lookup)?, Want::Either) {
                if !attendees.contains(id) {
                    attendees.push(id.clone());
                }
            } else {
                rest.push_back(id.clone());
            }
        }
        others.push((p, rest));
    }
    if attendees.is_empty() {
        return Ok(None);
    }
    for (p, rest) in others {
        props.0.remove(p);
        if !rest.is_empty() {
            props.0.insert(p.to_string(), rest);
        }
    }
    if props.take("date").is_none() {
        props.take("startDate");
    }
    Ok(Some(vec![
        ("id", Some(Val::One(e.id.clone()))),
        ("on", Some(Val::One(on))),
        ("attendees", Some(Val::Many(attendees))),
        ("topic", props.take("name").map(Val::One)),
        ("place", props.take("location").map(Val::One)),
    ]))
}

/// Keeps every property left as `ftm_fact`, counting why: `why` for a whole entity that
/// could not be mapped (empty: an unmapped property of a mapped one, or an unknown
/// schema).
fn generic(e: &Entity, props: Props, mut out: Mapped, why: &str) -> Mapped {
    let unknown_schema = out.records.is_empty() && why.is_empty() && !is_known(&e.schema);
    let mut props = props;
    if unknown_schema && props.0.values().all(VecDeque::is_empty) {
        props.0.insert("id".into(), VecDeque::from([e.id.clone()]));
    }
    for (p, values) in props.0 {
        for v in values {
            out.kept.push(if !why.is_empty() {
                why.to_string()
            } else if unknown_schema {
                format!("schema `{}`", e.schema)
            } else {
                format!("property `{}:{p}`", e.schema)
            });
            out.records.push(Record {
                rel: "ftm_fact",
                fields: vec![
                    ("entity", Val::One(e.id.clone())),
                    ("schema", Val::One(e.schema.clone())),
                    ("property", Val::One(p.clone())),
                    ("value", Val::One(v)),
                ],
                note: None,
            });
        }
    }
    out
}

/// Schemata with a mapping (a Position is read through its Occupancy).
fn is_known(schema: &str) -> bool {
    matches!(
        schema,
        "Person" | "Organization" | "Company" | "PublicBody" | "LegalEntity" | "Occupancy"
    ) || matches!(schema, "Position" | "Event")
        || link_of(schema).is_some()
}

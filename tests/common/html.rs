//! A small well-formedness checker for the HTML reports: tags balance (void elements
//! excepted), attributes are quoted, ids are unique, every `#` link resolves, and every
//! finding's `<article>` holds one picture (`<svg>`).

/// HTML elements that never have a closing tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// One tag: its name, whether it closes, whether it closes itself, and its attributes.
struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    attrs: Vec<(String, String)>,
}

/// Parses the tag starting at `<` (`s[0]`); returns it and its length.
fn tag(s: &str) -> Result<(Tag, usize), String> {
    let bytes = s.as_bytes();
    let mut i = 1;
    let closing = bytes.get(1) == Some(&b'/');
    if closing {
        i += 1;
    }
    let start = i;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
        i += 1;
    }
    let name = s[start..i].to_ascii_lowercase();
    if name.is_empty() {
        return Err(format!(
            "a `<` that starts no tag: {:?}",
            &s[..s.len().min(30)]
        ));
    }
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i) {
            None => return Err(format!("unclosed tag `<{name}`")),
            Some(b'>') => {
                return Ok((
                    Tag {
                        name,
                        closing,
                        self_closing: false,
                        attrs,
                    },
                    i + 1,
                ));
            }
            Some(b'/') if bytes.get(i + 1) == Some(&b'>') => {
                return Ok((
                    Tag {
                        name,
                        closing,
                        self_closing: true,
                        attrs,
                    },
                    i + 2,
                ));
            }
            _ => {}
        }
        let a = i;
        while i < bytes.len() && !matches!(bytes[i], b'=' | b'>' | b' ' | b'\n' | b'/') {
            i += 1;
        }
        let key = s[a..i].to_string();
        if bytes.get(i) != Some(&b'=') {
            attrs.push((key, String::new()));
            continue;
        }
        i += 1;
        if bytes.get(i) != Some(&b'"') {
            return Err(format!("unquoted value of `{key}` in `<{name}`"));
        }
        let v = i + 1;
        let end = s[v..]
            .find('"')
            .ok_or(format!("unclosed value of `{key}`"))?
            + v;
        attrs.push((key, s[v..end].to_string()));
        i = end + 1;
    }
}

/// Checks a whole HTML report; `pictures` is how many findings it shows.
pub fn check_html(doc: &str, pictures: usize) -> Result<(), String> {
    if !doc.starts_with("<!DOCTYPE html>") {
        return Err("no `<!DOCTYPE html>` first".into());
    }
    let mut stack: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    let (mut articles, mut svg_in_article, mut svgs_ok) = (0, 0, 0);
    let mut rest = &doc["<!DOCTYPE html>".len()..];
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let (t, len) = tag(rest)?;
        rest = &rest[len..];
        if !t.closing && (t.name == "script" || t.name == "style") {
            let end = format!("</{}>", t.name);
            let close = rest.find(&end).ok_or(format!("no `{end}`"))?;
            rest = &rest[close + end.len()..];
            continue;
        }
        for (k, v) in &t.attrs {
            if k == "id" {
                if ids.contains(v) {
                    return Err(format!("id `{v}` is used twice"));
                }
                ids.push(v.clone());
            }
            if k == "href" && v.starts_with('#') {
                links.push(v[1..].to_string());
            }
        }
        if t.closing {
            match stack.pop() {
                Some(open) if open == t.name => {}
                other => return Err(format!("`</{}>` closes {other:?}", t.name)),
            }
            if t.name == "article" {
                if svg_in_article == 1 {
                    svgs_ok += 1;
                }
                svg_in_article = 0;
            }
        } else if !t.self_closing && !VOID.contains(&t.name.as_str()) {
            if t.name == "article" {
                articles += 1;
            }
            if t.name == "svg" && stack.iter().any(|s| s == "article") {
                svg_in_article += 1;
            }
            stack.push(t.name);
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements: {stack:?}"));
    }
    if let Some(l) = links.iter().find(|l| !ids.contains(l)) {
        return Err(format!("the link `#{l}` goes nowhere"));
    }
    if articles != pictures || svgs_ok != pictures {
        return Err(format!(
            "{pictures} findings, {articles} articles, {svgs_ok} with exactly one picture"
        ));
    }
    Ok(())
}

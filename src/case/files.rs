//! The files of a case folder: which are loaded, how they are named, read and decoded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diagnostic, Place};

use super::errors::CaseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Toml,
    Csv,
    /// FollowTheMoney JSON lines (`*.ftm.jsonl`), read by `case::ftm`.
    Ftm,
}

/// A data file to load.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub path: PathBuf,
    /// The path shown to the user: the case folder as given, then the file name.
    pub display: Arc<str>,
    /// File name without the extension (the relation, for a CSV).
    pub stem: String,
    pub kind: Kind,
}

/// What a case folder holds: `case.toml` (if any), then the data files sorted by name.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub case_toml: Option<Entry>,
    pub data: Vec<Entry>,
    /// `*.ftm.jsonl` files, sorted by name (not in `data`: they are streamed).
    pub ftm: Vec<Entry>,
    pub warnings: Vec<Diagnostic>,
}

/// `dir` joined with `name`, with `/` separators and no leading `./`.
pub(crate) fn display(dir: &Path, name: &str) -> Arc<str> {
    let joined = dir.join(name).to_string_lossy().replace('\\', "/");
    Arc::from(joined.strip_prefix("./").unwrap_or(&joined))
}

fn kind_of(name: &str) -> Option<(String, Kind)> {
    let (stem, ext) = name.rsplit_once('.')?;
    match ext.to_ascii_lowercase().as_str() {
        "toml" => Some((stem.to_string(), Kind::Toml)),
        "csv" => Some((stem.to_string(), Kind::Csv)),
        "jsonl" => {
            let (base, ftm) = stem.rsplit_once('.')?;
            ftm.eq_ignore_ascii_case("ftm")
                .then(|| (base.to_string(), Kind::Ftm))
        }
        _ => None,
    }
}

/// Lists the folder. Hidden files (`.name`) and files that are not `.toml`, `.csv` or
/// `.ftm.jsonl` are ignored; a subfolder holding such files gets a warning, since it is not loaded.
pub(crate) fn list(dir: &Path) -> Result<Listing, Box<Diagnostic>> {
    let shown = dir.to_string_lossy().to_string();
    let not_dir =
        || Box::new(CaseError::NotADirectory { dir: shown.clone() }.at(Place::File(shown.clone())));
    if !dir.is_dir() {
        return Err(not_dir());
    }
    let rd = std::fs::read_dir(dir).map_err(|_| not_dir())?;
    let mut listing = Listing::default();
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            if holds_data(&path) {
                let d = Diagnostic::warning(
                    "probity::case::ignored_folder",
                    format!("folder `{name}` is not loaded"),
                )
                .at_place(Place::File(display(dir, &name).to_string()))
                .help("move its `.toml` and `.csv` files into the case folder");
                listing.warnings.push(d);
            }
            continue;
        }
        let Some((stem, kind)) = kind_of(&name) else {
            continue;
        };
        let e = Entry {
            display: display(dir, &name),
            path,
            stem,
            kind,
        };
        if name == "case.toml" {
            listing.case_toml = Some(e);
        } else if kind == Kind::Ftm {
            listing.ftm.push(e);
        } else {
            listing.data.push(e);
        }
    }
    listing.data.sort_by(|a, b| a.display.cmp(&b.display));
    listing.ftm.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(listing)
}

fn holds_data(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten()
            .any(|e| kind_of(&e.file_name().to_string_lossy()).is_some())
    })
}

/// Reads a file as UTF-8 text without a byte-order mark.
pub(crate) fn read(e: &Entry) -> Result<String, Box<Diagnostic>> {
    let bytes = crate::limits::read_file(&e.path).map_err(|err| {
        let problem = match err {
            crate::limits::ReadError::TooLarge { limit } => CaseError::FileTooLarge { limit },
            other => CaseError::UnreadableFile {
                reason: other.to_string(),
            },
        };
        Box::new(problem.at(Place::File(e.display.to_string())))
    })?;
    let mut text = String::from_utf8(bytes).map_err(|err| {
        let bytes = err.as_bytes();
        Box::new(bad_utf8(&e.display, bytes, err.utf8_error().valid_up_to()))
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    Ok(text)
}

/// `invalid_utf8` pointing at the first bad byte.
pub(super) fn bad_utf8(path: &str, bytes: &[u8], valid: usize) -> Diagnostic {
    let before = &bytes[..valid];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = bytes[valid..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |i| valid + i);
    let col = String::from_utf8_lossy(&bytes[line_start..valid])
        .chars()
        .count() as u32
        + 1;
    let place = Place::Point {
        path: path.to_string(),
        line,
        col,
        len: 1,
        line_text: String::from_utf8_lossy(&bytes[line_start..line_end]).to_string(),
    };
    CaseError::InvalidUtf8.at(place)
}

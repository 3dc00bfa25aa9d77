//! Facts from `<relation>.csv`: a header row naming fields, then one fact per row.
//!
//! Cells are trimmed; an empty cell is an absent field. List fields and `source` hold
//! several values separated by `;`. Columns `source`, `status` and `note` are optional.

use std::sync::Arc;

use crate::diag::Place;
use crate::facts::FieldValue;
use rustc_hash::FxHashSet;

use crate::ir::{KindId, RelId, RelKind, Relation, Type};
use crate::value::{Status, Value};

use super::convert::{Ctx, Loc, absent, parse_status, point, unknown_field};
use super::csv::{CsvReader, FieldPos};
use super::errors::CaseError;
use super::{Converted, FlatRows, GLOBAL, MAX_ERRORS_PER_FILE, Meta, Row, Staged};
use crate::values::{StrKind, ValueTable, hash_str};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Field(usize),
    Source,
    Status,
    Note,
    /// A trailing column without a name; its cells must be empty.
    Unnamed,
}

/// Reads the header; `Err` holds the problems that make the rows unreadable.
fn header(
    path: &str,
    r: &mut CsvReader,
    rel: &Relation,
    out: &mut Converted,
) -> Option<Vec<Column>> {
    match r.next_record() {
        Ok(true) => {}
        Ok(false) => return Some(Vec::new()),
        Err(e) => {
            let bad = CaseError::BadCsv { reason: e.reason };
            out.diags.push(bad.at(point(path, r.text(), e.pos)));
            return None;
        }
    }
    let mut cols = Vec::with_capacity(r.width());
    let named = (0..r.width())
        .rposition(|i| !r.field(i).trim().is_empty())
        .map_or(0, |i| i + 1);
    let before = out.diags.len();
    for i in 0..r.width() {
        let name = r.field(i).trim();
        let col = match (rel.field(name), name) {
            (Some(f), _) => Column::Field(f),
            (None, "source") => Column::Source,
            (None, "status") => Column::Status,
            (None, "note") => Column::Note,
            (None, "") if i >= named => Column::Unnamed,
            (None, _) => {
                let e = unknown_field(rel, name);
                out.diags.push(e.at(point(path, r.text(), r.pos(i))));
                Column::Unnamed
            }
        };
        if col != Column::Unnamed && cols.contains(&col) {
            let e = CaseError::BadCsv {
                reason: format!("column `{name}` appears twice"),
            };
            out.diags.push(e.at(point(path, r.text(), r.pos(i))));
        }
        cols.push(col);
    }
    let whole = FieldPos {
        end: r.pos(r.width().saturating_sub(1)).end,
        ..r.pos(0)
    };
    for (i, f) in rel.fields.iter().enumerate() {
        if !f.optional && !cols.contains(&Column::Field(i)) {
            let e = CaseError::MissingField {
                rel: rel.name.clone(),
                field: f.name.clone(),
            };
            out.diags.push(e.at(point(path, r.text(), whole)));
        }
    }
    (out.diags.len() == before).then_some(cols)
}

/// `s.trim()`, without scanning for whitespace when `s` starts and ends with a printable
/// ASCII byte (every byte from `!` to `~` is no part of any whitespace character).
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(b'!'..=b'~'), Some(b'!'..=b'~')) => s,
        _ => s.trim(),
    }
}

/// The column of an entity CSV's ids and where its first record starts (byte, line),
/// if its header names the column.
pub(crate) fn id_column(text: &str, rel: &Relation) -> Option<(usize, usize, u32)> {
    let id_name = rel.fields.first()?.name.as_str();
    let mut r = CsvReader::new(text);
    if r.next_record() != Ok(true) {
        return None;
    }
    let col = (0..r.width()).find(|&i| r.field(i).trim() == id_name)?;
    let (start, line) = r.resume_at();
    Some((col, start, line))
}

/// The ids an entity CSV defines in one piece of it: `text[..end]` read from byte
/// `start` at line `line` (see [`super::csv::chunks`]).
pub(crate) struct IdPiece {
    /// Each id, of kind `kind`; the `k`th's cell is [`IdPiece::loc`]`(k)`. Empty when
    /// `numbers` has them.
    pub ids: Vec<Arc<str>>,
    pub kind: KindId,
    /// Where the `k`th id is, `k` aside (a [`Loc::Nth`]).
    pub at: Loc,
    /// Each id's [`hash_str`], the value table's (computed here, on a reading thread).
    pub hashes: Vec<u64>,
    /// Each row's (line, start), if asked for.
    pub records: Option<Vec<(u32, u32)>>,
    /// When every id is one prefix and a number ([`crate::values::numbered`]): the
    /// prefix and each id's number (then `ids` and `hashes` are left empty: a register
    /// of numbered ids makes no string per id).
    pub numbers: Option<(Box<[u8]>, Vec<u32>)>,
}

impl Default for IdPiece {
    fn default() -> IdPiece {
        IdPiece {
            ids: Vec::new(),
            kind: KindId(0),
            at: Loc::Earlier {
                origin: crate::facts::OriginId(0),
            },
            hashes: Vec::new(),
            records: None,
            numbers: None,
        }
    }
}

impl IdPiece {
    /// How many ids the piece defines.
    pub fn len(&self) -> usize {
        match &self.numbers {
            Some((_, ns)) => ns.len(),
            None => self.ids.len(),
        }
    }

    /// The `k`th id.
    pub fn id(&self, k: usize) -> Arc<str> {
        match &self.numbers {
            Some((prefix, ns)) => number_id(prefix, ns[k]),
            None => self.ids[k].clone(),
        }
    }

    /// Where the `k`th id was defined.
    pub fn loc(&self, k: usize) -> Loc {
        match self.at {
            Loc::Nth {
                file,
                start,
                line,
                col,
                ..
            } => Loc::Nth {
                file,
                start,
                line,
                col,
                k: k as u32,
            },
            other => other,
        }
    }
}

/// The cell of the `k`th id (counting non-empty cells from 0) of column `col` of `text`
/// read from byte `start`, the start of line `line` (see [`Loc::Nth`]).
pub(crate) fn nth_id_pos(
    text: &str,
    start: usize,
    line: u32,
    col: usize,
    k: u32,
) -> Option<FieldPos> {
    let mut r = CsvReader::resume(text, start, line);
    let mut n = 0;
    while let Ok(true) = r.next_record() {
        if !trim(r.field(col)).is_empty() {
            if n == k {
                return Some(r.pos(col));
            }
            n += 1;
        }
    }
    None
}

/// The entity id `prefix` and number `n` (as [`crate::values::numbered`] read it).
fn number_id(prefix: &[u8], n: u32) -> Arc<str> {
    Arc::from(format!("{}{n}", String::from_utf8_lossy(prefix)))
}

/// Reads the ids of column `col` of `text[start..]` ([`IdPiece`]), whose `lines` line
/// breaks bound its rows (for room made at once).
pub(crate) fn entity_ids(
    text: &str,
    (start, line): (usize, u32),
    col: usize,
    kind: KindId,
    file: u32,
    records: bool,
    lines: usize,
) -> IdPiece {
    let mut r = CsvReader::resume(text, start, line);
    // A last line without a break is a row too.
    let lines = lines + 1;
    let at = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    let mut piece = IdPiece {
        ids: Vec::with_capacity(lines),
        kind,
        at: Loc::Nth {
            file,
            start: at(start),
            line,
            col: at(col),
            k: 0,
        },
        hashes: Vec::new(),
        records: records.then(|| Vec::with_capacity(lines)),
        numbers: None,
    };
    // The numbers while every id so far has the first one's prefix.
    let mut prefix: Option<Box<[u8]>> = None;
    let mut numbers: Option<Vec<u32>> = Some(Vec::with_capacity(lines));
    let bytes = text.as_bytes();
    let mut at = (start, line);
    loop {
        // Rows of one line without quotes are cut at their commas; any other row is
        // read by the reader (which finds the same cells in a plain row).
        let (pos, line) = at;
        let plain = plain_cell(bytes, pos, col).filter(|_| !plain_rows_off());
        let (id, record) = match plain {
            Some((cell, next)) => {
                at = (next, line + 1);
                (&text[cell.0..cell.1], (line, pos as u32))
            }
            None => {
                r.reposition(at);
                if r.next_record() != Ok(true) {
                    break;
                }
                at = r.resume_at();
                (
                    trim(r.field(col)),
                    (r.record_line(), r.record_start() as u32),
                )
            }
        };
        if !id.is_empty() {
            if let Some(ns) = &mut numbers {
                match crate::values::numbered(id.as_bytes()) {
                    Some((p, n)) if prefix.as_deref().is_none_or(|q| same(q, p)) => {
                        prefix.get_or_insert_with(|| p.into());
                        ns.push(n);
                    }
                    _ => {
                        // Not numbered after all: the ids so far as strings.
                        let p = prefix.as_deref().unwrap_or_default();
                        piece.ids = ns.iter().map(|&n| number_id(p, n)).collect();
                        piece.hashes = (piece.ids.iter())
                            .map(|id| hash_str(StrKind::Entity, id))
                            .collect();
                        numbers = None;
                    }
                }
            }
            if numbers.is_none() {
                piece.hashes.push(hash_str(StrKind::Entity, id));
                piece.ids.push(Arc::from(id));
            }
            if let Some(recs) = &mut piece.records {
                recs.push(record);
            }
        }
    }
    piece.numbers = prefix.zip(numbers);
    piece
}

/// Cell `col` of the row at byte `pos` of `bytes`, if the row is plain: one line (ended
/// by a line feed or the text's end) with no quote or carriage return, and the cell
/// non-empty with nothing to trim. Its range, and where the next row starts.
fn plain_cell(bytes: &[u8], pos: usize, col: usize) -> Option<((usize, usize), usize)> {
    let end = super::csv::find3(bytes, pos, [b'\n', b'"', b'\r']);
    if end == pos || !matches!(bytes.get(end), None | Some(b'\n')) {
        return None;
    }
    let comma = |from: usize| super::csv::find3(bytes, from, [b','; 3]).min(end);
    let mut from = pos;
    for _ in 0..col {
        let c = comma(from);
        if c == end {
            return None;
        }
        from = c + 1;
    }
    let to = comma(from);
    match (
        bytes.get(from),
        to.checked_sub(1).and_then(|e| bytes.get(e)),
    ) {
        (Some(b'!'..=b'~'), Some(b'!'..=b'~')) if to > from => {
            Some(((from, to), (end + 1).min(bytes.len())))
        }
        _ => None,
    }
}

/// Whether an entity CSV can be loaded for its ids alone, its other fields read only
/// when an entity is shown: no list fields, a header naming only the relation's fields
/// (no `source`, `status` or `note` column, whose values would go into origins), the id
/// column present, and offsets that fit 32 bits. `Some(name column)` if so.
pub(crate) fn lazy_columns(text: &str, rel: &Relation) -> Option<Option<usize>> {
    if rel.fields.iter().any(|f| f.list) || text.len() >= u32::MAX as usize {
        return None;
    }
    let mut r = CsvReader::new(text);
    if r.next_record() != Ok(true) {
        return None;
    }
    let names: Vec<&str> = (0..r.width()).map(|i| r.field(i).trim()).collect();
    let id = rel.fields.first()?;
    let known = |n: &&str| n.is_empty() || rel.field(n).is_some();
    if !names.iter().all(known) || !names.contains(&id.name.as_str()) {
        return None;
    }
    Some(names.iter().position(|n| *n == "name"))
}

/// The trimmed cell `col` of the record starting at byte `start`, if there is one.
pub(crate) fn cell_at(text: &str, start: usize, col: usize) -> Option<String> {
    let mut r = CsvReader::new(text.get(start..)?);
    if r.next_record() != Ok(true) || col >= r.width() {
        return None;
    }
    Some(r.field(col).trim().to_string())
}

/// Converts every row of a CSV file of relation `rel_id`.
pub(crate) fn convert(path: &str, text: &str, rel_id: RelId, ctx: &Ctx) -> Converted {
    match head(path, text, rel_id, ctx) {
        Ok(h) => {
            let piece = convert_piece(path, text, rel_id, ctx, &h.cols, h.body, text.len());
            join_pieces(path, vec![piece])
        }
        Err(out) => out,
    }
}

/// A CSV file's header, read: each column, and where the records start (byte, line).
pub(crate) struct Head {
    pub cols: Vec<Column>,
    pub body: (usize, u32),
}

/// Reads the header of CSV file `text` of relation `rel_id`; a header in error gives
/// the file's whole outcome (its problems, no facts).
pub(crate) fn head(path: &str, text: &str, rel_id: RelId, ctx: &Ctx) -> Result<Head, Converted> {
    let rel = ctx.program.rel(rel_id);
    let mut out = Converted::default();
    let mut r = CsvReader::new(text);
    match header(path, &mut r, rel, &mut out) {
        Some(cols) => Ok(Head {
            cols,
            body: r.resume_at(),
        }),
        None => Err(out),
    }
}

/// Whether a file of relation `rel_id` may be converted in pieces (its facts are
/// stored flat, see [`super::FlatRows`]).
pub(crate) fn flat(rel_id: RelId, ctx: &Ctx) -> bool {
    let rel = ctx.program.rel(rel_id);
    !rel.fields.iter().any(|f| f.list) && ctx.program.rel_by_name("same_as") != Some(rel_id)
}

/// The pieces of one file converted apart, in order, as one outcome: every piece's
/// facts, and the file's first [`MAX_ERRORS_PER_FILE`] problems with a count of the
/// rest.
pub(crate) fn join_pieces(path: &str, pieces: Vec<(Converted, usize)>) -> Converted {
    let mut out = Converted::default();
    let mut errors = 0;
    for (c, n) in pieces {
        errors += n;
        out.facts.extend(c.facts);
        out.flat.extend(c.flat);
        out.diags.extend(c.diags);
    }
    out.diags.truncate(MAX_ERRORS_PER_FILE);
    if errors > MAX_ERRORS_PER_FILE {
        let more = errors - MAX_ERRORS_PER_FILE;
        out.diags
            .push(CaseError::TooManyErrors { more }.at(Place::File(path.into())));
    }
    out
}

/// Converts the rows of `text[start..end]` (records from line `line`) of a CSV file of
/// relation `rel_id` whose header gave `cols`: the facts and the first
/// [`MAX_ERRORS_PER_FILE`] problems, with how many problems there were.
pub(crate) fn convert_piece(
    path: &str,
    text: &str,
    rel_id: RelId,
    ctx: &Ctx,
    cols: &[Column],
    at: (usize, u32),
    end: usize,
) -> (Converted, usize) {
    let lines = super::csv::count_lines(&text.as_bytes()[at.0.min(end)..end]);
    let mut piece = Piece::new(rel_id, ctx, lines);
    piece.feed(path, &text[..end], ctx, cols, at, None);
    piece.finish()
}

/// Where the tuples of a block of a file go: their place in the file's sink (see
/// [`super::stream`]), `(offset, room)`, the room enough for every row the block can
/// hold.
pub(crate) type Dest<'d> = Option<(usize, &'d mut [u32])>;

/// Rows converted between moves of the tuples into their place (see [`Piece::feed`]):
/// so few that the tuples moved are still in the cache.
const MOVE_ROWS: u32 = 2048;

/// The rows of a piece of a CSV file converted so far, read from one text or from
/// several in turn (the blocks of a file read a block at a time, see
/// [`super::stream`]): the facts, the first [`MAX_ERRORS_PER_FILE`] problems, how many
/// problems, and what converting keeps from row to row.
pub(crate) struct Piece {
    rel_id: RelId,
    out: Converted,
    flat: Option<FlatRows>,
    row: Vec<Option<FieldValue>>,
    texts: Vec<TextCache>,
    ids: Vec<u32>,
    columns: Columns,
    errors: usize,
}

impl Piece {
    /// Nothing converted yet, room made for about `lines` rows.
    pub(crate) fn new(rel_id: RelId, ctx: &Ctx, lines: usize) -> Piece {
        let rel = ctx.program.rel(rel_id);
        let flat = flat(rel_id, ctx).then(|| FlatRows {
            rel: rel_id,
            width: rel.arity(),
            ids: Vec::with_capacity(lines * rel.arity() * if rel.symmetric { 2 } else { 1 }),
            twice: rel.symmetric.then(|| Vec::with_capacity(lines)),
            local: ValueTable::new(),
            runs: Vec::new(),
            rows: 0,
            metas: Vec::new(),
            meta_ids: Default::default(),
            sunk: Vec::new(),
            spilled: false,
        });
        let mut out = Converted::default();
        if flat.is_none() {
            out.facts.reserve(lines);
        }
        Piece {
            rel_id,
            out,
            flat,
            row: Vec::with_capacity(rel.arity()),
            texts: (0..rel.arity()).map(|_| TextCache::default()).collect(),
            ids: Vec::with_capacity(rel.arity()),
            columns: Columns::new(rel),
            errors: 0,
        }
    }

    /// Converts the rows of `text` from `(start, line)`: records to its end. With a
    /// `dest`, the tuples go there, a few thousand rows at a time, and the piece keeps
    /// only where they went (see [`FlatRows::sunk`]); if they ever do not fit (never
    /// when `dest` has room for a tuple per line), the rest stay in the piece.
    pub(crate) fn feed(
        &mut self,
        path: &str,
        text: &str,
        ctx: &Ctx,
        cols: &[Column],
        (start, line): (usize, u32),
        dest: Dest<'_>,
    ) {
        if let (None, Some(flat)) = (&dest, &mut self.flat) {
            // Nothing goes to a sink after rows that stay in the piece.
            flat.spilled = true;
        }
        let mut dest: Moving<'_> = dest.map(|(at, room)| (at, room, 0));
        let dest = &mut dest;
        let rel = ctx.program.rel(self.rel_id);
        let Piece {
            rel_id,
            out,
            flat,
            row,
            texts,
            ids,
            columns,
            errors,
        } = self;
        let mut r = CsvReader::resume(text, start, line);
        let plain = flat
            .as_ref()
            .and_then(|_| plain_columns(cols))
            .filter(|_| !plain_rows_off());
        let most = match dest {
            Some(_) => MOVE_ROWS,
            None => u32::MAX,
        };
        loop {
            if let (Some(fields), Some(flat)) = (&plain, &mut *flat) {
                let at = r.resume_at();
                let (to, more) = plain_rows(ctx, rel, fields, text, at, ids, flat, columns, most);
                if to != at {
                    r.reposition(to);
                }
                if more {
                    sink(flat, dest);
                    continue;
                }
            }
            let problem = match r.next_record() {
                Ok(false) => break,
                Ok(true) => match &mut *flat {
                    Some(flat) => match flat_fact(ctx, rel, cols, &r, ids, flat, columns) {
                        Ok(()) => continue,
                        Err(b) => *b,
                    },
                    None => match fact(ctx, rel, *rel_id, cols, &r, row, texts) {
                        Ok(staged) => {
                            out.facts.push(staged);
                            continue;
                        }
                        Err(b) => *b,
                    },
                },
                Err(e) => (CaseError::BadCsv { reason: e.reason }, e.pos),
            };
            *errors += 1;
            if *errors <= MAX_ERRORS_PER_FILE {
                out.diags.push(problem.0.at(point(path, text, problem.1)));
            }
        }
        if let Some(flat) = flat {
            sink(flat, dest);
            if let Some((at, _, put)) = dest
                && *put > 0
            {
                flat.sunk.push((*at, *put));
            }
        }
    }

    /// The facts and problems, and how many problems there were.
    pub(crate) fn finish(mut self) -> (Converted, usize) {
        self.out.flat = self.flat.into_iter().collect();
        (self.out, self.errors)
    }
}

/// A block's place for its tuples while it is converted: its offset in the file's sink,
/// its room, and how much of it is taken (see [`Piece::feed`]).
type Moving<'d> = Option<(usize, &'d mut [u32], usize)>;

/// Moves the tuples of `flat` converted so far into `dest`, unless they stay in the piece
/// from now on: when they do not fit, those moved already stay where they are (before
/// the piece's own), and the rest of the piece's stay with it.
fn sink(flat: &mut FlatRows, dest: &mut Moving<'_>) {
    let Some((at, room, put)) = dest else { return };
    if flat.ids.is_empty() {
        return;
    }
    match room.get_mut(*put..*put + flat.ids.len()) {
        Some(to) if !flat.spilled => {
            to.copy_from_slice(&flat.ids);
            *put += flat.ids.len();
            flat.ids.clear();
        }
        _ => {
            if *put > 0 {
                flat.sunk.push((*at, *put));
            }
            flat.spilled = true;
            *dest = None;
        }
    }
}

type Res<T> = Result<T, Box<(CaseError, FieldPos)>>;

/// A required field `i` left empty in the current row, at its column.
fn missing(rel: &Relation, i: usize, cols: &[Column], r: &CsvReader) -> Box<(CaseError, FieldPos)> {
    let e = CaseError::MissingField {
        rel: rel.name.clone(),
        field: rel.fields[i].name.clone(),
    };
    let col = cols
        .iter()
        .position(|c| *c == Column::Field(i))
        .unwrap_or(0);
    Box::new((e, r.pos(col)))
}

/// A non-empty cell of a column that is not a field: `source` (`;`-separated ids),
/// `status` or `note` into `meta`; a cell past the header's `width` named columns is an
/// error.
fn meta_cell(
    ctx: &Ctx,
    col: Option<&Column>,
    cell: &str,
    width: usize,
    meta: &mut Meta,
) -> Result<(), CaseError> {
    match col {
        Some(Column::Source) => {
            for id in members(cell) {
                meta.0.push(ctx.source(id)?);
            }
        }
        Some(Column::Status) => meta.1 = parse_status(cell)?,
        Some(Column::Note) => meta.2 = Some(Arc::from(cell)),
        // Fields are the callers' own.
        Some(Column::Field(_)) => {}
        Some(Column::Unnamed) | None => {
            let reason = format!("this row has more fields than the header's {width}");
            return Err(CaseError::BadCsv { reason });
        }
    }
    Ok(())
}

/// Not yet given a value in this row.
const UNSET: u32 = u32::MAX;

/// The file-local ids of the short cells seen lately in one column: a date, number or
/// code column repeats a few thousand values, so most cells are found here by their
/// bytes without being parsed, hashed as values or looked up in the file's table.
/// Direct-mapped: a slot holds the last cell that fell in it. Cells of up to 15 bytes
/// are kept, as one integer (the bytes and the length); only cells once converted
/// without error are put in.
struct CellCache {
    slots: Vec<(u128, u32)>,
}

impl Default for CellCache {
    fn default() -> CellCache {
        CellCache {
            slots: vec![(0, 0); CellCache::SLOTS],
        }
    }
}

impl CellCache {
    const SLOTS: usize = 2048;

    /// The cell as one integer, if it has at most 15 bytes (never 0: the length is in
    /// the top byte, and an empty cell is never looked up).
    fn key(cell: &str) -> Option<u128> {
        let b = cell.as_bytes();
        if b.is_empty() || b.len() > 15 {
            return None;
        }
        let mut buf = [0u8; 16];
        buf[..b.len()].copy_from_slice(b);
        buf[15] = b.len() as u8;
        Some(u128::from_le_bytes(buf))
    }

    fn slot(key: u128) -> usize {
        let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
        (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - 11)) as usize
    }

    fn get(&self, key: Option<u128>) -> Option<u32> {
        let key = key?;
        let (k, id) = self.slots[CellCache::slot(key)];
        (k == key).then_some(id)
    }

    fn put(&mut self, key: Option<u128>, id: u32) {
        if let Some(key) = key {
            self.slots[CellCache::slot(key)] = (key, id);
        }
    }
}

/// The file-local ids of a date column's `YYYY-MM-DD` cells of the years 1800 to 2199,
/// by day: a column of dates spread over decades holds more distinct days than a
/// [`CellCache`] keeps, and every one is found here after its first cell (parsed then,
/// and put in only if it is a date).
#[derive(Default)]
struct DayTable {
    ids: Vec<u32>,
}

impl DayTable {
    const FIRST_YEAR: u32 = 1800;
    const YEARS: u32 = 400;

    /// The slot of a cell of ten bytes `YYYY-MM-DD` in range, its month 1 to 12 and its
    /// day 1 to 31 (each such cell has a slot of its own).
    #[inline]
    fn slot(cell: &str) -> Option<usize> {
        let b = cell.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digit = |i: usize| b[i].is_ascii_digit().then(|| u32::from(b[i] - b'0'));
        let y = digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?;
        let m = digit(5)? * 10 + digit(6)?;
        let d = digit(8)? * 10 + digit(9)?;
        let y = y
            .checked_sub(DayTable::FIRST_YEAR)
            .filter(|&y| y < DayTable::YEARS)?;
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        Some(((y * 12 + m - 1) * 31 + d - 1) as usize)
    }

    fn get(&self, slot: Option<usize>) -> Option<u32> {
        self.ids.get(slot?).copied().filter(|&id| id != u32::MAX)
    }

    fn put(&mut self, slot: Option<usize>, id: u32) {
        let Some(slot) = slot else { return };
        if self.ids.is_empty() {
            self.ids = vec![u32::MAX; (DayTable::YEARS * 12 * 31) as usize];
        }
        self.ids[slot] = id;
    }
}

/// Per field of a relation: its [`CellCache`] or [`DayTable`], and the id of its absent
/// value once interned.
struct Columns {
    cells: Vec<CellCache>,
    days: Vec<DayTable>,
    absent: Vec<Option<u32>>,
    /// Per entity column, the prefix of its last numbered id and its array (see
    /// [`super::convert::EntityMap::get_in_column`]).
    prefixes: Vec<Option<(Box<[u8]>, usize)>>,
}

impl Columns {
    fn new(rel: &Relation) -> Columns {
        let date = |f: &crate::ir::Field| matches!(f.ty, Type::Date);
        Columns {
            cells: (rel.fields.iter())
                .map(|f| match date(f) {
                    true => CellCache { slots: Vec::new() },
                    false => CellCache::default(),
                })
                .collect(),
            days: rel.fields.iter().map(|_| DayTable::default()).collect(),
            absent: vec![None; rel.arity()],
            prefixes: vec![None; rel.arity()],
        }
    }
}

/// One row of a plain relation, straight to value ids in `flat`: entities by their id in
/// the fact set's table, other values interned in the file's own. The first problem in
/// the row is returned and nothing is added.
fn flat_fact(
    ctx: &Ctx,
    rel: &Relation,
    cols: &[Column],
    r: &CsvReader,
    ids: &mut Vec<u32>,
    flat: &mut FlatRows,
    columns: &mut Columns,
) -> Res<()> {
    ids.clear();
    ids.resize(rel.arity(), UNSET);
    let mut meta: Meta = (Vec::new(), Status::default(), None);
    for i in 0..r.width() {
        let cell = trim(r.field(i));
        if cell.is_empty() {
            continue;
        }
        let at = |e: CaseError| Box::new((e, r.pos(i)));
        match cols.get(i) {
            Some(Column::Field(f)) => {
                let field = &rel.fields[*f];
                ids[*f] = field_id(ctx, field, *f, cell, flat, columns)
                    .ok_or_else(|| at(field_problem(ctx, field, cell)))?;
            }
            other => meta_cell(ctx, other, cell, cols.len(), &mut meta).map_err(at)?,
        }
    }
    for (i, id) in ids.iter_mut().enumerate() {
        if *id != UNSET {
            continue;
        }
        if !rel.fields[i].optional {
            return Err(missing(rel, i, cols, r));
        }
        *id = absent_id(rel, i, flat, columns);
    }
    flat.push(ids, r.record_line(), meta);
    Ok(())
}

/// The id of non-empty, trimmed `cell` of field `f` of a plain relation: an entity's in
/// the fact set's table, another value's interned in the file's own (see [`flat_fact`]);
/// `None` if the cell is in error (see [`field_problem`]).
#[inline(always)]
fn field_id(
    ctx: &Ctx,
    field: &crate::ir::Field,
    f: usize,
    cell: &str,
    flat: &mut FlatRows,
    columns: &mut Columns,
) -> Option<u32> {
    Some(match &field.ty {
        Type::Entity(kinds) => match ctx.entities.get_in_column(&mut columns.prefixes[f], cell) {
            Some((value, kind)) if kinds.is_empty() || kinds.contains(&kind) => value | GLOBAL,
            _ => return None,
        },
        Type::Date => {
            let slot = DayTable::slot(cell);
            match columns.days[f].get(slot) {
                Some(id) => id,
                None => {
                    let v = ctx.parse_text(field, cell).ok()?;
                    let day = matches!(v, Value::Date(_));
                    let id = flat.local.intern_owned(v);
                    if day {
                        columns.days[f].put(slot, id);
                    }
                    id
                }
            }
        }
        _ => {
            let key = CellCache::key(cell);
            let cache = &mut columns.cells[f];
            match cache.get(key) {
                Some(id) => id,
                None => {
                    let id = match field.ty {
                        Type::Text | Type::Any => flat.local.intern_str(StrKind::Text, cell),
                        _ => flat.local.intern_owned(ctx.parse_text(field, cell).ok()?),
                    };
                    cache.put(key, id);
                    id
                }
            }
        }
    })
}

/// Whether `a` and `b` are the same bytes, compared here: prefixes are a byte or two,
/// shorter than a call to compare them costs.
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Why [`field_id`] found `cell` of `field` in error.
#[cold]
fn field_problem(ctx: &Ctx, field: &crate::ir::Field, cell: &str) -> CaseError {
    let problem = match &field.ty {
        Type::Entity(kinds) => ctx.entity(kinds, cell).err(),
        _ => ctx.parse_text(field, cell).err(),
    };
    problem.unwrap_or_else(|| ctx.wrong_type(field, &format!("`{cell}`")))
}

/// The id of field `i`'s absent value, interned in the file's table at its first use.
fn absent_id(rel: &Relation, i: usize, flat: &mut FlatRows, columns: &mut Columns) -> u32 {
    match columns.absent[i] {
        Some(id) => id,
        None => {
            let id = match absent(rel, i) {
                FieldValue::One(v) => flat.local.intern_owned(v),
                FieldValue::Many(_) => flat.local.intern_owned(Value::None),
            };
            columns.absent[i] = Some(id);
            id
        }
    }
}

/// Tests read every row with [`CsvReader`] while this is set, to compare.
#[cfg(test)]
pub(crate) static PLAIN_ROWS_OFF: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

fn plain_rows_off() -> bool {
    #[cfg(test)]
    return PLAIN_ROWS_OFF.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(test))]
    false
}

/// The fields a file's columns hold, in order, when every column is a field's: such a
/// file's plain rows are read by [`plain_rows`]. (A file with `source`, `status` or
/// `note` columns is read by the [`CsvReader`] alone.)
fn plain_columns(cols: &[Column]) -> Option<Vec<usize>> {
    cols.iter()
        .map(|c| match c {
            Column::Field(f) => Some(*f),
            _ => None,
        })
        .collect()
}

/// Converts the plain rows of `text` from byte `pos` (a record's start, on line `line`)
/// into `flat`, straight from the bytes: a row of unquoted cells, each non-empty one
/// trimmed already and each valid, as many as `fields` (the file's columns), on one line
/// of its own. Stops at the first other row (a blank line, a quote, a cell to trim or in
/// error, a row too short or too long), before taking anything of it, and returns where
/// that row starts and its line: [`CsvReader`] and [`flat_fact`] read it, as they read
/// every row, and find its problem if it has one. Every cell a plain row reads it reads
/// as they would, in the same order, so the file's table is the same either way. Also
/// stops after `most` rows, saying so (`true`): the caller then goes on with the next.
#[expect(
    clippy::too_many_arguments,
    reason = "the hot loop's state, passed unpacked"
)]
fn plain_rows(
    ctx: &Ctx,
    rel: &Relation,
    fields: &[usize],
    text: &str,
    (mut pos, mut line): (usize, u32),
    ids: &mut Vec<u32>,
    flat: &mut FlatRows,
    columns: &mut Columns,
    most: u32,
) -> ((usize, u32), bool) {
    let bytes = text.as_bytes();
    let last = fields.len().saturating_sub(1);
    let mut plain = None;
    let mut left = most;
    while pos < bytes.len() {
        if left == 0 {
            return ((pos, line), true);
        }
        left -= 1;
        let start = pos;
        ids.clear();
        ids.resize(rel.arity(), UNSET);
        for (j, &f) in fields.iter().enumerate() {
            let from = pos;
            let to = super::csv::field_end(bytes, from);
            pos = match (bytes.get(to), j == last) {
                (Some(b','), false) => to + 1,
                (Some(b'\n'), true) => to + 1,
                (Some(b'\r'), true) if bytes.get(to + 1) == Some(&b'\n') => to + 2,
                (None, true) => to,
                _ => return ((start, line), false),
            };
            let id = match (
                bytes.get(from),
                to.checked_sub(1).and_then(|e| bytes.get(e)),
            ) {
                (Some(b'!'..=b'~'), Some(b'!'..=b'~')) if to > from && bytes[from] != b'"' => {
                    match field_id(ctx, &rel.fields[f], f, &text[from..to], flat, columns) {
                        Some(id) => id,
                        None => return ((start, line), false),
                    }
                }
                _ if to == from && rel.fields[f].optional => UNSET,
                _ => return ((start, line), false),
            };
            ids[f] = id;
        }
        // Absent values last, in field order, as `flat_fact` interns them.
        for (i, id) in ids.iter_mut().enumerate() {
            if *id == UNSET {
                if !rel.fields[i].optional {
                    return ((start, line), false);
                }
                *id = absent_id(rel, i, flat, columns);
            }
        }
        let meta = *plain.get_or_insert_with(|| flat.plain_meta());
        flat.push_row(ids, line, meta);
        line += 1;
    }
    ((pos, line), false)
}

/// One row: the first problem in it, or the staged fact.
fn fact(
    ctx: &Ctx,
    rel: &Relation,
    rel_id: RelId,
    cols: &[Column],
    r: &CsvReader,
    row: &mut Vec<Option<FieldValue>>,
    texts: &mut [TextCache],
) -> Res<Staged> {
    row.clear();
    row.resize(rel.arity(), None);
    let mut meta: Meta = (Vec::new(), Status::default(), None);
    for i in 0..r.width() {
        let cell = trim(r.field(i));
        if cell.is_empty() {
            continue;
        }
        let at = |e: CaseError| Box::new((e, r.pos(i)));
        match cols.get(i) {
            Some(Column::Field(f)) => {
                row[*f] = cell_value(ctx, rel, *f, cell, texts).map_err(at)?
            }
            other => meta_cell(ctx, other, cell, cols.len(), &mut meta).map_err(at)?,
        }
    }
    let (sources, status, note) = meta;
    let mut st = Staged {
        rel: rel_id,
        fields: Row::Flat(Vec::new()),
        line: r.record_line(),
        sources,
        status,
        note,
    };
    // One value per field, as `Row::new` makes them, without the intermediate vector.
    let lists = rel.fields.iter().any(|f| f.list);
    let mut flat = Vec::with_capacity(if lists { 0 } else { rel.arity() });
    let mut fields = Vec::with_capacity(if lists { rel.arity() } else { 0 });
    for (i, slot) in row.iter_mut().enumerate() {
        let v = match slot.take() {
            Some(v) => v,
            None if rel.fields[i].optional => absent(rel, i),
            None => return Err(missing(rel, i, cols, r)),
        };
        if lists {
            fields.push(v);
        } else {
            flat.push(match v {
                FieldValue::One(v) => v,
                FieldValue::Many(mut vs) => vs.pop().unwrap_or(Value::None),
            });
        }
    }
    st.fields = if lists {
        Row::Lists(fields)
    } else {
        Row::Flat(flat)
    };
    Ok(st)
}

/// The `;`-separated members of a cell, trimmed, empty ones skipped.
fn members(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// One text column's distinct values, so a repeated text shares one allocation. A
/// column whose values are mostly distinct (names) stops being cached.
#[derive(Default)]
struct TextCache {
    seen: usize,
    off: bool,
    set: FxHashSet<Arc<str>>,
}

impl TextCache {
    /// Cells looked at before deciding whether caching pays.
    const TRIAL: usize = 4096;

    fn get(&mut self, s: &str) -> Arc<str> {
        if self.off {
            return Arc::from(s);
        }
        self.seen += 1;
        if let Some(t) = self.set.get(s) {
            return t.clone();
        }
        let t: Arc<str> = Arc::from(s);
        if self.seen >= Self::TRIAL && self.set.len() * 4 > self.seen {
            self.off = true;
            self.set = FxHashSet::default();
        } else {
            self.set.insert(t.clone());
        }
        t
    }
}

/// A non-empty cell's value; `None` for a list cell with no members (absent).
fn cell_value(
    ctx: &Ctx,
    rel: &Relation,
    i: usize,
    cell: &str,
    texts: &mut [TextCache],
) -> Result<Option<FieldValue>, CaseError> {
    let f = &rel.fields[i];
    if i == 0
        && let RelKind::Entity(_) = rel.kind
    {
        return Ok(Some(FieldValue::One(ctx.entity_value(cell))));
    }
    if f.list {
        let vals = members(cell)
            .map(|m| ctx.parse_text(f, m))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((!vals.is_empty()).then_some(FieldValue::Many(vals)));
    }
    if let (Type::Text | Type::Any, Some(cache)) = (&f.ty, texts.get_mut(i)) {
        return Ok(Some(FieldValue::One(Value::Text(cache.get(cell)))));
    }
    ctx.parse_text(f, cell).map(|v| Some(FieldValue::One(v)))
}

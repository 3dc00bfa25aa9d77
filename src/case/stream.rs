//! A CSV file of a plain relation read a block at a time while its rows are converted.
//!
//! Blocks are cut after a line break, so each holds whole records. The thread that opens
//! a file reads it block after block into one piece; a thread with nothing else to do
//! takes a block now and then as a piece of its own; the pieces are joined in order,
//! with the facts and problems of one read. Blocks' buffers are used again, so a large
//! file is never all in memory, and the memory it is read into is not new each time
//! (each new page costs the kernel a fault). Only a file with neither quote nor carriage
//! return is cut: from the first block holding one, the rest of the file is read as one
//! block (a quoted field may hold a line break, and a lone CR ends a line too).
//!
//! Given a sink (a vector for the file's tuples, sized from a sample of the file), each
//! block is given its place in it as it is read, room for a tuple per line, and its
//! tuples are written there as they are converted: the pieces are then one vector
//! already, not copied together after. A block that does not fit (the sample was not
//! like the rest), or may hold more rows than lines (a carriage return), has no place,
//! nor has any block after it: their tuples stay in their pieces.

use std::io::Read;
use std::sync::{Arc, Mutex};

use crate::diag::Place;
use crate::ir::RelId;

use super::Converted;
use super::convert::Ctx;
use super::csv::{count_lines, count_lines_and};
use super::csv_facts::{self, Column};
use super::errors::CaseError;
use super::files::Entry;

/// Blocks of about this many bytes: `PROBITY_CONVERT_PIECE` if set (tests cut small
/// files), else 8 MiB (the pieces of a file are then few, and a block's text is still
/// in the cache when its rows are read).
fn block_size() -> usize {
    match super::convert_piece() {
        (n, true) => n,
        _ => 8 << 20,
    }
}

/// Bytes of a file read to estimate its rows (see [`sink_for`]).
const SAMPLE: u64 = 256 << 10;

/// A sink for the tuples of the CSV file `entry` if it is larger than a block (a file of
/// one block is one piece, never copied): room for `per_row` ids a row, for about an
/// eighth more rows than its size and its first [`SAMPLE`] bytes promise. Only the
/// part written takes memory (the rest is never touched), and a block that does not
/// fit is simply not placed (see the module's note). `None` for a file that cannot be
/// read (the stream finds why) or whose sample holds no line break.
pub(super) fn sink_for(entry: &Entry, per_row: usize) -> Option<Vec<u32>> {
    let size = std::fs::metadata(&entry.path).ok()?.len();
    if size <= block_size() as u64 || size > crate::limits::max_file_size() {
        return None;
    }
    let mut sample = Vec::new();
    std::fs::File::open(&entry.path)
        .ok()?
        .take(SAMPLE)
        .read_to_end(&mut sample)
        .ok()?;
    let lines = count_lines(&sample) as u64;
    if lines == 0 {
        return None;
    }
    let rows = u128::from(size) * u128::from(lines) / sample.len() as u128;
    let rows = u64::try_from(rows).ok()?;
    let rows = rows + rows / 8 + 64;
    let ids = usize::try_from(rows).ok()?.checked_mul(per_row)?;
    Some(vec![0; ids])
}

/// A file being read, with the buffers of blocks converted.
pub(super) struct Stream<'a> {
    pub path: &'a str,
    pub rel: RelId,
    state: Mutex<State<'a>>,
    pool: Mutex<Vec<Vec<u8>>>,
    size: usize,
    /// The file's size when opened.
    bytes: u64,
    /// The most ids a row gives: the relation's arity, twice for a symmetric one.
    per_row: usize,
}

struct State<'a> {
    /// `None` once the file is read to its end (or failed).
    file: Option<std::fs::File>,
    /// The bytes read after the last cut: the start of the next block.
    carry: Vec<u8>,
    /// The line of the first byte of `carry`.
    line: u32,
    /// The number of the next block.
    next: usize,
    /// The header's columns, once block 0 is read.
    cols: Option<Arc<Vec<Column>>>,
    /// Bytes read so far, and the most the file may have.
    read: u64,
    limit: u64,
    /// The sink's room not given to a block yet, and its offset; `None` without a
    /// sink, or once a block had no place.
    free: Option<(usize, &'a mut [u32])>,
}

/// A piece's outcome (its facts and problems, with the count of problems), or the
/// file's whole outcome if it cannot be read.
pub(super) type Outcome = Result<(Converted, usize), Converted>;

/// A block of whole records: its number, text, where its records start (byte, line),
/// and the file's columns.
pub(super) struct Block<'a> {
    pub k: usize,
    pub text: String,
    pub start: (usize, u32),
    pub cols: Arc<Vec<Column>>,
    /// Its place in the sink, if it has one.
    pub dest: csv_facts::Dest<'a>,
    /// Its line breaks.
    pub lines: usize,
}

/// What reading on gave.
pub(super) enum Next<'a> {
    /// A block, and whether the file has more.
    Block(Block<'a>, bool),
    /// The file is read.
    Done,
    /// The file cannot be read (or its header is wrong): its whole outcome.
    Fail(Converted),
}

fn fail(path: &str, e: CaseError) -> Converted {
    Converted {
        diags: vec![e.at(Place::File(path.to_string()))],
        ..Converted::default()
    }
}

impl<'a> Stream<'a> {
    /// Opens `entry`, the CSV file of plain relation `rel` (whose rows give at most
    /// `per_row` ids each), its tuples going into `sink` if given.
    pub fn open(
        entry: &'a Entry,
        rel: RelId,
        per_row: usize,
        sink: Option<&'a mut [u32]>,
    ) -> Result<Stream<'a>, Converted> {
        let path: &str = &entry.display;
        let unreadable = |e: std::io::Error| {
            fail(
                path,
                CaseError::UnreadableFile {
                    reason: e.to_string(),
                },
            )
        };
        let meta = std::fs::metadata(&entry.path).map_err(unreadable)?;
        if !meta.is_file() {
            let reason = crate::limits::ReadError::NotAFile.to_string();
            return Err(fail(path, CaseError::UnreadableFile { reason }));
        }
        let limit = crate::limits::max_file_size();
        if meta.len() > limit {
            return Err(fail(path, CaseError::FileTooLarge { limit }));
        }
        let file = std::fs::File::open(&entry.path).map_err(unreadable)?;
        Ok(Stream {
            path,
            rel,
            state: Mutex::new(State {
                file: Some(file),
                carry: Vec::new(),
                line: 1,
                next: 0,
                cols: None,
                read: 0,
                limit,
                free: sink.map(|s| (0, s)),
            }),
            pool: Mutex::new(Vec::new()),
            size: block_size(),
            bytes: meta.len(),
            per_row,
        })
    }

    /// Reads the next block (one thread at a time; its rows are then converted apart).
    pub fn next(&self, ctx: &Ctx) -> Next<'a> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let buf = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let buf = buf.unwrap_or_else(|| Vec::with_capacity(self.size + (64 << 10)));
        match self.read_block(&mut st, buf) {
            Ok(Some((text, line, lines, cut))) => {
                let mut next = self.block(&mut st, text, (line, lines), ctx);
                if let Next::Block(b, _) = &mut next {
                    b.dest = self.place(&mut st, b, line, cut);
                }
                next
            }
            Ok(None) => Next::Done,
            Err(c) => {
                st.file = None;
                Next::Fail(c)
            }
        }
    }

    /// Reads at most `most` more bytes of the file into `buf`: how many.
    fn take(&self, st: &mut State, buf: &mut Vec<u8>, most: u64) -> Result<usize, Converted> {
        let unreadable = |e: std::io::Error| {
            let reason = e.to_string();
            fail(self.path, CaseError::UnreadableFile { reason })
        };
        let Some(f) = st.file.as_mut() else {
            return Ok(0);
        };
        let got = f.take(most).read_to_end(buf).map_err(unreadable)?;
        st.read += got as u64;
        if st.read > st.limit {
            let limit = st.limit;
            return Err(fail(self.path, CaseError::FileTooLarge { limit }));
        }
        Ok(got)
    }

    /// The place in the sink of block `b` (first line `line`, cut from a file with
    /// neither quote nor carriage return if `cut`): room for as many tuples as it has
    /// lines of records, and one more for a last line with no break.
    fn place(&self, st: &mut State<'a>, b: &Block, line: u32, cut: bool) -> csv_facts::Dest<'a> {
        let (at, free) = st.free.take()?;
        // The header's lines are no records.
        let rows = b.lines.checked_sub((b.start.1 - line) as usize)?
            + usize::from(b.text.len() > b.start.0 && !b.text.ends_with('\n'));
        let need = rows.checked_mul(self.per_row)?;
        if !cut || need > free.len() {
            return None;
        }
        let (mine, rest) = free.split_at_mut(need);
        st.free = Some((at + need, rest));
        Some((at, mine))
    }

    /// The text of the next block, checked as UTF-8, its first line, its number of line
    /// breaks, and whether it was cut from a file with neither quote nor carriage
    /// return (see the module's note); `None` at the end.
    fn read_block(
        &self,
        st: &mut State,
        mut buf: Vec<u8>,
    ) -> Result<Option<(String, u32, usize, bool)>, Converted> {
        if st.file.is_none() {
            return Ok(None);
        }
        buf.clear();
        buf.append(&mut st.carry);
        let mut plain = true;
        // The line breaks read: all before the cut (the carry has none).
        let mut lines = 0;
        let cut = loop {
            let before = buf.len();
            let got = self.take(st, &mut buf, self.size as u64)?;
            let (breaks, quoted) = count_lines_and(&buf[before..], b'"', b'\r');
            lines += breaks;
            if quoted > 0 {
                // Not cut from here: the rest is one block.
                plain = false;
                let rest = st.limit.saturating_sub(st.read).saturating_add(1);
                self.take(st, &mut buf, rest)?;
                st.file = None;
                lines = count_lines(&buf);
                break buf.len();
            }
            if got < self.size {
                st.file = None;
                break buf.len();
            }
            if let Some(nl) = buf[before..].iter().rposition(|&b| b == b'\n') {
                break before + nl + 1;
            }
        };
        st.carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        let first = st.line;
        st.line += lines as u32;
        match String::from_utf8(buf) {
            Ok(text) => Ok(Some((text, first, lines, plain))),
            Err(err) => {
                let bytes = err.as_bytes();
                let valid = err.utf8_error().valid_up_to();
                let mut d = super::files::bad_utf8(self.path, bytes, valid);
                if let Some(Place::Point { line, .. }) = &mut d.place {
                    *line += first - 1;
                }
                Err(Converted {
                    diags: vec![d],
                    ..Converted::default()
                })
            }
        }
    }

    /// Block `text` (from line `line`, with `lines` line breaks), numbered; the header
    /// read from block 0.
    fn block(
        &self,
        st: &mut State,
        mut text: String,
        (line, lines): (u32, usize),
        ctx: &Ctx,
    ) -> Next<'a> {
        let k = st.next;
        st.next += 1;
        let start = match &st.cols {
            Some(_) => (0, line),
            None => {
                if text.starts_with('\u{feff}') {
                    text.drain(..3);
                }
                match csv_facts::head(self.path, &text, self.rel, ctx) {
                    Ok(h) => {
                        st.cols = Some(Arc::new(h.cols));
                        h.body
                    }
                    Err(c) => {
                        st.file = None;
                        return Next::Fail(c);
                    }
                }
            }
        };
        let Some(cols) = st.cols.clone() else {
            return Next::Done;
        };
        let block = Block {
            k,
            text,
            start,
            cols,
            dest: None,
            lines,
        };
        Next::Block(block, st.file.is_some())
    }

    /// Converts the rest of the file's blocks on this thread: each run of blocks that
    /// no other thread took, into one piece (the blocks' buffers used again), numbered
    /// by its first block; or the file's whole outcome if it cannot be read.
    pub fn read_own(&self, ctx: &Ctx) -> Vec<(usize, Outcome)> {
        let mut out = Vec::new();
        // The piece being filled: its first block, last block, and rows.
        let mut piece: Option<(usize, usize, csv_facts::Piece)> = None;
        loop {
            match self.next(ctx) {
                Next::Block(b, more) => {
                    // A block after one another thread took starts a piece.
                    if let Some((first, last, p)) = piece.take() {
                        match last + 1 == b.k {
                            true => piece = Some((first, last, p)),
                            false => out.push((first, Ok(p.finish()))),
                        }
                    }
                    let (_, last, p) = piece.get_or_insert_with(|| {
                        // Room for about as many rows as this block promises for the rest.
                        let lines = b.lines as u64;
                        let blocks = self.bytes / (b.text.len() as u64).max(1);
                        let rows = (lines * blocks.max(1)) as usize + 16;
                        (b.k, b.k, csv_facts::Piece::new(self.rel, ctx, rows))
                    });
                    p.feed(self.path, &b.text, ctx, &b.cols, b.start, b.dest);
                    *last = b.k;
                    self.give_back(b.text);
                    if !more {
                        break;
                    }
                }
                Next::Done => break,
                Next::Fail(c) => {
                    out.push((usize::MAX, Err(c)));
                    return out;
                }
            }
        }
        out.extend(piece.map(|(first, _, p)| (first, Ok(p.finish()))));
        out
    }

    /// Converts one block, as a piece of its own: its number, its outcome (or the
    /// file's whole outcome), and whether the file has more; `None` if it is read.
    pub fn read_one(&self, ctx: &Ctx) -> Option<(usize, Outcome, bool)> {
        match self.next(ctx) {
            Next::Block(b, more) => {
                let (k, out) = self.convert(ctx, b);
                Some((k, Ok(out), more))
            }
            Next::Done => None,
            Next::Fail(c) => Some((usize::MAX, Err(c), false)),
        }
    }

    fn give_back(&self, text: String) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        pool.push(text.into_bytes());
    }

    /// Converts a block's rows; its buffer is kept for a later block.
    pub fn convert(&self, ctx: &Ctx, b: Block) -> (usize, (Converted, usize)) {
        let mut piece = csv_facts::Piece::new(self.rel, ctx, b.lines);
        piece.feed(self.path, &b.text, ctx, &b.cols, b.start, b.dest);
        self.give_back(b.text);
        (b.k, piece.finish())
    }
}

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

use std::io::Read;
use std::sync::{Arc, Mutex};

use crate::diag::Place;
use crate::ir::RelId;

use super::Converted;
use super::convert::Ctx;
use super::csv::{count_lines, count2};
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

/// A file being read, with the buffers of blocks converted.
pub(super) struct Stream<'a> {
    pub path: &'a str,
    pub rel: RelId,
    state: Mutex<State>,
    pool: Mutex<Vec<Vec<u8>>>,
    size: usize,
    /// The file's size when opened.
    bytes: u64,
}

struct State {
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
}

/// A piece's outcome (its facts and problems, with the count of problems), or the
/// file's whole outcome if it cannot be read.
pub(super) type Outcome = Result<(Converted, usize), Converted>;

/// A block of whole records: its number, text, where its records start (byte, line),
/// and the file's columns.
pub(super) struct Block {
    pub k: usize,
    pub text: String,
    pub start: (usize, u32),
    pub cols: Arc<Vec<Column>>,
}

/// What reading on gave.
pub(super) enum Next {
    /// A block, and whether the file has more.
    Block(Block, bool),
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
    /// Opens `entry`, the CSV file of plain relation `rel`.
    pub fn open(entry: &'a Entry, rel: RelId) -> Result<Stream<'a>, Converted> {
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
            }),
            pool: Mutex::new(Vec::new()),
            size: block_size(),
            bytes: meta.len(),
        })
    }

    /// Reads the next block (one thread at a time; its rows are then converted apart).
    pub fn next(&self, ctx: &Ctx) -> Next {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let buf = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let buf = buf.unwrap_or_else(|| Vec::with_capacity(self.size + (64 << 10)));
        match self.read_block(&mut st, buf) {
            Ok(Some((text, line))) => self.block(&mut st, text, line, ctx),
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

    /// The text of the next block, checked as UTF-8, and its first line; `None` at the
    /// end.
    fn read_block(
        &self,
        st: &mut State,
        mut buf: Vec<u8>,
    ) -> Result<Option<(String, u32)>, Converted> {
        if st.file.is_none() {
            return Ok(None);
        }
        buf.clear();
        buf.append(&mut st.carry);
        let cut = loop {
            let before = buf.len();
            let got = self.take(st, &mut buf, self.size as u64)?;
            if count2(&buf[before..], b'"', b'\r') > 0 {
                // Not cut from here: the rest is one block.
                let rest = st.limit.saturating_sub(st.read).saturating_add(1);
                self.take(st, &mut buf, rest)?;
                st.file = None;
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
        st.line += count_lines(&buf) as u32;
        match String::from_utf8(buf) {
            Ok(text) => Ok(Some((text, first))),
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

    /// Block `text` (from line `line`), numbered; the header read from block 0.
    fn block(&self, st: &mut State, mut text: String, line: u32, ctx: &Ctx) -> Next {
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
                        let lines = count_lines(b.text.as_bytes()) as u64;
                        let blocks = self.bytes / (b.text.len() as u64).max(1);
                        let rows = (lines * blocks.max(1)) as usize + 16;
                        (b.k, b.k, csv_facts::Piece::new(self.rel, ctx, rows))
                    });
                    p.feed(self.path, &b.text, ctx, &b.cols, b.start);
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
        let end = b.text.len();
        let out =
            csv_facts::convert_piece(self.path, &b.text, self.rel, ctx, &b.cols, b.start, end);
        self.give_back(b.text);
        (b.k, out)
    }
}

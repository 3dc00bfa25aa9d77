//! The parser input: the unread rest of the text, its byte offset, and the shared sink for diagnostics and comments.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::str::{CharIndices, Chars};

use nom::Needed;

use super::ast::Spanned;
use super::error::{PError, SyntaxError};
use crate::diag::{Diagnostic, FileId, Span};

/// The deepest nesting of parentheses, unary minus, lists and braces the parser accepts.
pub const MAX_DEPTH: u32 = 128;

/// Everything the parse of one file shares: the file id, the diagnostic sink (errors that
/// do not stop the parse, such as a bad date), the comments seen, and the nesting depth.
pub struct State {
    pub file: FileId,
    diags: RefCell<Vec<Diagnostic>>,
    comments: RefCell<BTreeMap<usize, Spanned<String>>>,
    depth: Cell<u32>,
}

impl State {
    pub fn new(file: FileId) -> State {
        State {
            file,
            diags: RefCell::new(Vec::new()),
            comments: RefCell::new(BTreeMap::new()),
            depth: Cell::new(0),
        }
    }

    /// Records a problem at a span; the parse goes on.
    pub fn report(&self, err: SyntaxError, span: Span) {
        self.diags.borrow_mut().push(err.to_diagnostic(span));
    }

    /// Records a comment; a comment seen twice (after backtracking) is kept once.
    pub fn comment(&self, start: usize, end: usize, text: &str) {
        let span = Span::new(self.file, start, end);
        self.comments
            .borrow_mut()
            .entry(start)
            .or_insert_with(|| Spanned::new(text.to_string(), span));
    }

    /// The diagnostics (deduplicated: backtracking may report one problem twice) and comments.
    pub fn finish(self) -> (Vec<Diagnostic>, Vec<Spanned<String>>) {
        let mut diags = self.diags.into_inner();
        let mut seen = Vec::with_capacity(diags.len());
        diags.retain(|d| {
            let key = (d.code, d.place.clone(), d.message.clone());
            if seen.contains(&key) {
                false
            } else {
                seen.push(key);
                true
            }
        });
        crate::diag::sort(&mut diags);
        let comments = self.comments.into_inner().into_values().collect();
        (diags, comments)
    }
}

/// The unread rest of the source, where it starts in the file, and the shared [`State`].
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub rest: &'a str,
    pub offset: usize,
    pub state: &'a State,
}

pub type PResult<'a, T> = nom::IResult<Input<'a>, T, PError>;

impl<'a> Input<'a> {
    pub fn new(text: &'a str, state: &'a State) -> Input<'a> {
        Input {
            rest: text,
            offset: 0,
            state,
        }
    }

    /// The input after `n` bytes (clamped to a character boundary at the end).
    pub fn advance(self, n: usize) -> Input<'a> {
        let n = n.min(self.rest.len());
        match self.rest.get(n..) {
            Some(rest) => Input {
                rest,
                offset: self.offset + n,
                state: self.state,
            },
            None => self,
        }
    }

    pub fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.state.file, start, end)
    }

    /// The span from `start` to the current position.
    pub fn span_from(&self, start: usize) -> Span {
        self.span(start, self.offset)
    }

    pub fn report(&self, err: SyntaxError, span: Span) {
        self.state.report(err, span);
    }

    /// Runs `f`, whose every call of [`Input::deeper`] nests one level, and then restores
    /// the depth: a chain of operators builds a tree as deep as it is long.
    pub fn chain<T>(self, f: impl FnOnce(Input<'a>) -> PResult<'a, T>) -> PResult<'a, T> {
        let depth = self.state.depth.get();
        let result = f(self);
        self.state.depth.set(depth);
        result
    }

    /// One level deeper, inside [`Input::chain`]; beyond [`MAX_DEPTH`] fails with `too_deep`.
    pub fn deeper(&self) -> Result<(), nom::Err<PError>> {
        let depth = self.state.depth.get();
        if depth >= MAX_DEPTH {
            return Err(nom::Err::Failure(PError::too_deep(self.offset)));
        }
        self.state.depth.set(depth + 1);
        Ok(())
    }

    /// Runs `f` one nesting level deeper; beyond [`MAX_DEPTH`] fails with `too_deep`.
    pub fn nested<T>(self, f: impl FnOnce(Input<'a>) -> PResult<'a, T>) -> PResult<'a, T> {
        let depth = self.state.depth.get();
        if depth >= MAX_DEPTH {
            return Err(nom::Err::Failure(PError::too_deep(self.offset)));
        }
        self.state.depth.set(depth + 1);
        let result = f(self);
        self.state.depth.set(depth);
        result
    }
}

impl<'a> nom::Input for Input<'a> {
    type Item = char;
    type Iter = Chars<'a>;
    type IterIndices = CharIndices<'a>;

    fn input_len(&self) -> usize {
        self.rest.len()
    }
    fn take(&self, index: usize) -> Self {
        Input {
            rest: self.rest.get(..index).unwrap_or(self.rest),
            ..*self
        }
    }
    fn take_from(&self, index: usize) -> Self {
        self.advance(index)
    }
    fn take_split(&self, index: usize) -> (Self, Self) {
        (self.take_from(index), self.take(index))
    }
    fn position<P>(&self, predicate: P) -> Option<usize>
    where
        P: Fn(Self::Item) -> bool,
    {
        self.rest.find(predicate)
    }
    fn iter_elements(&self) -> Self::Iter {
        self.rest.chars()
    }
    fn iter_indices(&self) -> Self::IterIndices {
        self.rest.char_indices()
    }
    fn slice_index(&self, count: usize) -> Result<usize, Needed> {
        self.rest.slice_index(count)
    }
}

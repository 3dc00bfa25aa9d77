//! A small RFC 4180 reader: one pass over the text, fields sliced out, buffers reused.
//!
//! Accepts quoted fields with doubled quotes and embedded line breaks, CRLF, LF or CR
//! line ends, and skips blank lines. The caller strips a UTF-8 byte-order mark and
//! checks UTF-8 first, so every field is a `&str` cut at ASCII delimiters.

/// Where a field starts, for diagnostics: its line, the byte offset where that line
/// starts, and its own byte range in the text (quotes included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldPos {
    pub line: u32,
    pub line_start: usize,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy)]
struct Field {
    pos: FieldPos,
    /// The value: a range of the text, or of the unescape buffer.
    from: usize,
    to: usize,
    in_buf: bool,
}

/// A malformed record: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub reason: String,
    pub pos: FieldPos,
}

/// Reads records one at a time; the current record's fields borrow the reader.
pub struct CsvReader<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    line_start: usize,
    buf: String,
    fields: Vec<Field>,
    record_line: u32,
    record_start: usize,
}

impl<'a> CsvReader<'a> {
    pub fn new(text: &'a str) -> CsvReader<'a> {
        CsvReader {
            text,
            pos: 0,
            line: 1,
            line_start: 0,
            buf: String::new(),
            fields: Vec::new(),
            record_line: 1,
            record_start: 0,
        }
    }

    /// The whole text being read.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Reads the next record; `Ok(false)` at the end of the text. After an error the
    /// reader has skipped to the end of the text (an unterminated quote swallows the
    /// rest) or to the next line.
    pub fn next_record(&mut self) -> Result<bool, CsvError> {
        self.fields.clear();
        self.buf.clear();
        let bytes = self.text.as_bytes();
        // Skip blank lines.
        while self.pos < bytes.len() && matches!(bytes[self.pos], b'\n' | b'\r') {
            self.newline();
        }
        if self.pos >= bytes.len() {
            return Ok(false);
        }
        self.record_line = self.line;
        self.record_start = self.pos;
        loop {
            let more = if bytes.get(self.pos) == Some(&b'"') {
                self.quoted()?
            } else {
                self.unquoted()
            };
            if !more {
                return Ok(true);
            }
        }
    }

    /// Consumes one line break at `pos` (CRLF, LF or CR).
    fn newline(&mut self) {
        let bytes = self.text.as_bytes();
        if bytes.get(self.pos) == Some(&b'\r') && bytes.get(self.pos + 1) == Some(&b'\n') {
            self.pos += 2;
        } else {
            self.pos += 1;
        }
        self.line += 1;
        self.line_start = self.pos;
    }

    fn here(&self) -> FieldPos {
        FieldPos {
            line: self.line,
            line_start: self.line_start,
            start: self.pos,
            end: self.pos,
        }
    }

    /// After a field: consumes a comma (true: another field follows) or a line end.
    fn delimiter(&mut self) -> bool {
        match self.text.as_bytes().get(self.pos) {
            Some(b',') => {
                self.pos += 1;
                true
            }
            Some(b'\n' | b'\r') => {
                self.newline();
                false
            }
            _ => false,
        }
    }

    fn unquoted(&mut self) -> bool {
        let bytes = self.text.as_bytes();
        let mut pos = self.here();
        let start = self.pos;
        let len = bytes[start..]
            .iter()
            .position(|&b| matches!(b, b',' | b'\n' | b'\r'))
            .unwrap_or(bytes.len() - start);
        self.pos = start + len;
        pos.end = self.pos;
        self.fields.push(Field {
            pos,
            from: start,
            to: self.pos,
            in_buf: false,
        });
        self.delimiter()
    }

    fn quoted(&mut self) -> Result<bool, CsvError> {
        let bytes = self.text.as_bytes();
        let mut pos = self.here();
        self.pos += 1;
        let mut seg = self.pos;
        let buf_from = self.buf.len();
        let mut in_buf = false;
        loop {
            let Some(off) = bytes[self.pos..]
                .iter()
                .position(|&b| matches!(b, b'"' | b'\n'))
            else {
                self.pos = bytes.len();
                return Err(CsvError {
                    reason: "a quoted field is never closed".into(),
                    pos: FieldPos {
                        end: pos.start + 1,
                        ..pos
                    },
                });
            };
            self.pos += off;
            if bytes[self.pos] == b'\n' {
                self.pos += 1;
                self.line += 1;
                self.line_start = self.pos;
                continue;
            }
            if bytes.get(self.pos + 1) == Some(&b'"') {
                self.buf.push_str(&self.text[seg..=self.pos]);
                in_buf = true;
                self.pos += 2;
                seg = self.pos;
                continue;
            }
            break;
        }
        let (from, to) = if in_buf {
            self.buf.push_str(&self.text[seg..self.pos]);
            (buf_from, self.buf.len())
        } else {
            (seg, self.pos)
        };
        self.pos += 1;
        pos.end = self.pos;
        self.fields.push(Field {
            pos,
            from,
            to,
            in_buf,
        });
        match bytes.get(self.pos) {
            None | Some(b',' | b'\n' | b'\r') => Ok(self.delimiter()),
            Some(_) => Err(self.after_quote(pos)),
        }
    }

    /// Text after a closing quote: an error; skips the rest of the line.
    fn after_quote(&mut self, pos: FieldPos) -> CsvError {
        let bytes = self.text.as_bytes();
        let at = self.pos;
        while self.pos < bytes.len() && !matches!(bytes[self.pos], b'\n' | b'\r') {
            self.pos += 1;
        }
        if self.pos < bytes.len() {
            self.newline();
        }
        CsvError {
            reason: "text after the closing quote of a field".into(),
            pos: FieldPos {
                start: at,
                end: at + 1,
                ..pos
            },
        }
    }

    /// The line the current record starts on.
    pub fn record_line(&self) -> u32 {
        self.record_line
    }

    /// The byte offset where the current record starts.
    pub fn record_start(&self) -> usize {
        self.record_start
    }

    /// How many fields the current record has.
    pub fn width(&self) -> usize {
        self.fields.len()
    }

    /// The unescaped value of field `i` (empty if there is no such field).
    pub fn field(&self, i: usize) -> &str {
        match self.fields.get(i) {
            Some(f) if f.in_buf => self.buf.get(f.from..f.to).unwrap_or(""),
            Some(f) => self.text.get(f.from..f.to).unwrap_or(""),
            None => "",
        }
    }

    /// Where field `i` is (the record's start if there is no such field).
    pub fn pos(&self, i: usize) -> FieldPos {
        match self.fields.get(i) {
            Some(f) => f.pos,
            None => self.fields.last().map(|f| f.pos).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
        let mut r = CsvReader::new(text);
        let mut out = Vec::new();
        while r.next_record()? {
            out.push((0..r.width()).map(|i| r.field(i).to_string()).collect());
        }
        Ok(out)
    }

    #[test]
    fn case_csv_reader_handles_rfc4180() {
        let got = records("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",\r\n\n").ok();
        let want = vec![
            vec!["a", "b"],
            vec!["x, y", "say \"hi\""],
            vec!["multi\nline", ""],
        ];
        let want: Vec<Vec<String>> = want
            .into_iter()
            .map(|r| r.into_iter().map(String::from).collect())
            .collect();
        assert_eq!(got, Some(want));
    }

    #[test]
    fn case_csv_reader_tracks_lines() {
        let mut r = CsvReader::new("h\n\"a\nb\",c\nd\n");
        assert_eq!(r.next_record(), Ok(true));
        assert_eq!(r.next_record(), Ok(true));
        assert_eq!((r.record_line(), r.pos(1).line), (2, 3));
        assert_eq!(r.next_record(), Ok(true));
        assert_eq!(r.record_line(), 4);
        assert_eq!(r.next_record(), Ok(false));
    }

    #[test]
    fn case_csv_reader_reports_unterminated_quote() {
        let err = records("a\n\"open\n").err();
        assert_eq!(
            err.map(|e| (e.pos.line, e.reason.contains("never closed"))),
            Some((2, true))
        );
        let err = records("a\n\"x\"y,z\n").err();
        assert_eq!(err.map(|e| e.pos.start), Some(5));
    }
}

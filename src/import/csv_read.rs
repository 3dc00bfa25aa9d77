//! A streaming CSV reader for imports: RFC 4180 records read line by line from any
//! reader, so a register of millions of rows is never held whole.
//!
//! Quoted fields may hold commas, doubled quotes and line breaks; CRLF or LF line ends;
//! blank lines are skipped; a UTF-8 byte-order mark is dropped.

use std::io::{BufRead, BufReader, Read};

/// One record: its fields, the line it starts on, and that line's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub fields: Vec<String>,
    /// Character column (1-based) where each field starts, on the record's first line
    /// (1 for a field that starts on a later line).
    pub cols: Vec<u32>,
    pub line: u32,
    pub text: String,
}

/// Reads records one at a time.
pub struct CsvStream<R> {
    reader: BufReader<R>,
    line: u32,
    buf: String,
}

impl<R: Read> CsvStream<R> {
    pub fn new(reader: R) -> CsvStream<R> {
        CsvStream {
            reader: BufReader::with_capacity(1 << 16, reader),
            line: 0,
            buf: String::new(),
        }
    }

    /// Reads one physical line (without its line end); `None` at the end.
    fn physical(&mut self) -> std::io::Result<Option<String>> {
        self.buf.clear();
        if self.reader.read_line(&mut self.buf)? == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut s = std::mem::take(&mut self.buf);
        if self.line == 1 && s.starts_with('\u{feff}') {
            s.drain(..3);
        }
        while s.ends_with(['\n', '\r']) {
            s.pop();
        }
        Ok(Some(s))
    }

    /// The next record; `Ok(None)` at the end; `Err` for unreadable input (not UTF-8)
    /// or, as `Ok(Some(Err(..)))`, a malformed record (the reader goes on after it).
    #[allow(clippy::type_complexity)]
    pub fn next_record(
        &mut self,
    ) -> std::io::Result<Option<Result<Record, (u32, String, String)>>> {
        let first = loop {
            match self.physical()? {
                None => return Ok(None),
                Some(l) if l.trim().is_empty() => continue,
                Some(l) => break l,
            }
        };
        let mut rec = Record {
            line: self.line,
            text: first.clone(),
            ..Record::default()
        };
        let mut cur = first;
        let mut on_first = true;
        let mut pos = 0; // byte offset in `cur`
        loop {
            let col = if on_first {
                cur[..pos].chars().count() as u32 + 1
            } else {
                1
            };
            rec.cols.push(col);
            let mut field = String::new();
            if cur[pos..].starts_with('"') {
                pos += 1;
                loop {
                    match cur[pos..].find('"') {
                        Some(i) => {
                            field.push_str(&cur[pos..pos + i]);
                            pos += i + 1;
                            if cur[pos..].starts_with('"') {
                                field.push('"');
                                pos += 1;
                            } else {
                                break;
                            }
                        }
                        None => {
                            field.push_str(&cur[pos..]);
                            field.push('\n');
                            match self.physical()? {
                                Some(next) => {
                                    cur = next;
                                    pos = 0;
                                    on_first = false;
                                }
                                None => {
                                    let why = "a quoted field is never closed".to_string();
                                    return Ok(Some(Err((rec.line, rec.text, why))));
                                }
                            }
                        }
                    }
                }
                match cur[pos..].chars().next() {
                    None | Some(',') => {}
                    Some(_) => {
                        let why = "text after the closing quote of a field".to_string();
                        return Ok(Some(Err((rec.line, rec.text, why))));
                    }
                }
            } else {
                let end = cur[pos..].find(',').map_or(cur.len(), |i| pos + i);
                field.push_str(&cur[pos..end]);
                pos = end;
            }
            rec.fields.push(field);
            if cur[pos..].starts_with(',') {
                pos += 1;
            } else {
                return Ok(Some(Ok(rec)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_csv_stream_reads_rfc4180() {
        let text = "\u{feff}a,b\r\n\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n\"open\n";
        let mut r = CsvStream::new(text.as_bytes());
        let mut got = Vec::new();
        while let Ok(Some(rec)) = r.next_record() {
            got.push(rec.map(|r| (r.line, r.fields, r.cols)).map_err(|e| e.0));
        }
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(got[0], Ok((1, s(&["a", "b"]), vec![1, 3])));
        assert_eq!(got[1], Ok((3, s(&["x, y", "say \"hi\""]), vec![1, 8])));
        assert_eq!(got[2], Ok((4, s(&["multi\nline", "z"]), vec![1, 1])));
        assert_eq!(got[3], Err(6));
    }
}

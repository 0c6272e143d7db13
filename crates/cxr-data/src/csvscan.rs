//! A CSV record scanner for label files: the `csv` crate's reading rules (its defaults: `,` delimiter, `"`
//! quotes with `""` escapes, `\r`, `\n` and `\r\n` ending records, empty lines skipped, text after a closing
//! quote kept, an unclosed quote running to the end), but jumping from delimiter to delimiter with `memchr`
//! instead of stepping a state machine through every byte. Label files are millions of short fields, most of
//! which the adapters never read; this is where reading them spends its time. The `csv` crate is the oracle of
//! the tests below.

use std::io::Read;

/// Where a field's bytes are: a range of the scanner's buffer, or (when quotes had to be unescaped) of its
/// side buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    Buffer(usize, usize),
    Unescaped(usize, usize),
}

/// Reads records from a byte stream, one at a time.
pub(crate) struct Scanner<R> {
    source: R,
    buf: Vec<u8>,
    /// Bytes of `buf` holding data, and the start of the next record.
    filled: usize,
    at: usize,
    eof: bool,
    fields: Vec<Span>,
    unescaped: Vec<u8>,
    /// Bytes of input consumed before `buf[0]`.
    before: usize,
}

impl<R> std::fmt::Debug for Scanner<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner").field("filled", &self.filled).field("at", &self.at).finish()
    }
}

/// The result of scanning one record from a position: its end, or the need for more input.
enum Scan {
    Record(usize),
    /// Only line ends were left: no record.
    Blank(usize),
    NeedMore,
}

impl<R: Read> Scanner<R> {
    pub fn new(source: R) -> Self {
        Scanner {
            source,
            buf: vec![0; 1 << 16],
            filled: 0,
            at: 0,
            eof: false,
            fields: Vec::new(),
            unescaped: Vec::new(),
            before: 0,
        }
    }

    /// Bytes of input read up to the end of the last record returned.
    pub fn consumed(&self) -> usize {
        self.before + self.at
    }

    /// The next record, or `None` at the end of the input.
    pub fn next_record(&mut self) -> std::io::Result<Option<Record<'_>>> {
        loop {
            match self.scan(self.at) {
                Scan::Record(end) => {
                    self.at = end;
                    return Ok(Some(Record { buf: &self.buf, unescaped: &self.unescaped, fields: &self.fields }));
                }
                Scan::Blank(end) => {
                    self.at = end;
                    if end == self.filled && self.eof {
                        return Ok(None);
                    }
                }
                Scan::NeedMore => {
                    if self.eof {
                        return Ok(None);
                    }
                    self.refill()?;
                }
            }
        }
    }

    /// Moves the unread bytes to the front, makes room (doubling for a record longer than the buffer) and
    /// reads more.
    fn refill(&mut self) -> std::io::Result<()> {
        self.buf.copy_within(self.at..self.filled, 0);
        self.filled -= self.at;
        self.before += self.at;
        self.at = 0;
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.source.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Scans the record starting at `start`. At the end of the buffer it asks for more input unless the
    /// input has ended, in which case the record ends there.
    fn scan(&mut self, start: usize) -> Scan {
        let data = &self.buf[..self.filled];
        let end_of_input = self.eof;
        // Line ends before a record are skipped (the csv crate drops empty records).
        let mut p = start;
        while p < data.len() && (data[p] == b'\n' || data[p] == b'\r') {
            p += 1;
        }
        if p == data.len() {
            return if end_of_input { Scan::Blank(p) } else { Scan::NeedMore };
        }
        self.fields.clear();
        self.unescaped.clear();
        loop {
            // One field starting at p.
            if data.get(p) == Some(&b'"') {
                // Quoted: up to a quote that is not doubled, unescaping doubled quotes; then, csv-style, any
                // text up to the next delimiter is kept as it is.
                let from = self.unescaped.len();
                let mut q = p + 1;
                loop {
                    match memchr::memchr(b'"', &data[q..]) {
                        None => {
                            if !end_of_input {
                                return Scan::NeedMore;
                            }
                            self.unescaped.extend_from_slice(&data[q..]);
                            q = data.len();
                            break;
                        }
                        Some(k) => {
                            self.unescaped.extend_from_slice(&data[q..q + k]);
                            q += k + 1;
                            if q == data.len() && !end_of_input {
                                return Scan::NeedMore;
                            }
                            if data.get(q) == Some(&b'"') {
                                self.unescaped.push(b'"');
                                q += 1;
                            } else {
                                break;
                            }
                        }
                    }
                }
                // After the closing quote: literal text up to a delimiter or line end.
                let stop = memchr::memchr3(b',', b'\n', b'\r', &data[q..]).map(|k| q + k);
                let Some(stop) = stop.or(end_of_input.then_some(data.len())) else {
                    return Scan::NeedMore;
                };
                self.unescaped.extend_from_slice(&data[q..stop]);
                self.fields.push(Span::Unescaped(from, self.unescaped.len()));
                p = stop;
            } else {
                let stop = memchr::memchr3(b',', b'\n', b'\r', &data[p..]).map(|k| p + k);
                let Some(stop) = stop.or(end_of_input.then_some(data.len())) else {
                    return Scan::NeedMore;
                };
                self.fields.push(Span::Buffer(p, stop));
                p = stop;
            }
            match data.get(p) {
                Some(b',') => p += 1,
                Some(b'\r') => {
                    // `\r\n` is one line end; wait for the next byte to know.
                    if p + 1 == data.len() && !end_of_input {
                        return Scan::NeedMore;
                    }
                    return Scan::Record(if data.get(p + 1) == Some(&b'\n') { p + 2 } else { p + 1 });
                }
                Some(_) => return Scan::Record(p + 1),
                None => return Scan::Record(p),
            }
        }
    }
}

/// One record's fields.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    buf: &'a [u8],
    unescaped: &'a [u8],
    fields: &'a [Span],
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// The bytes of field `i`, if the record has it.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.fields.get(i).map(|s| match *s {
            Span::Buffer(a, b) => &self.buf[a..b],
            Span::Unescaped(a, b) => &self.unescaped[a..b],
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All records by the scanner, reading `input` in pieces of `piece` bytes.
    fn scanned(input: &[u8], piece: usize) -> Vec<Vec<Vec<u8>>> {
        struct Pieces<'a>(&'a [u8], usize);
        impl Read for Pieces<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut s = Scanner::new(Pieces(input, piece));
        let mut out = Vec::new();
        while let Some(r) = s.next_record().unwrap() {
            out.push(r.iter().map(<[u8]>::to_vec).collect());
        }
        out
    }

    /// All records by the `csv` crate with the settings the tables used before this scanner.
    fn oracle(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(input);
        rdr.byte_records().map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect()).collect()
    }

    #[test]
    fn agrees_with_the_csv_crate_on_random_input() {
        let alphabet: &[&[u8]] =
            &[b"a", b"bc", b",", b",", b"\"", b"\"\"", b"\n", b"\r\n", b"\r", "é".as_bytes(), b" "];
        let mut state = 7u64;
        for case in 0..4000 {
            let mut input = Vec::new();
            let len = case % 40;
            for _ in 0..len {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                input.extend_from_slice(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            let want = oracle(&input);
            for piece in [1, 3, 1 << 20] {
                assert_eq!(
                    scanned(&input, piece),
                    want,
                    "input {:?}, read {piece} bytes at a time",
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }

    #[test]
    fn long_records_grow_the_buffer() {
        let long = "x".repeat(200_000);
        let input = format!("a,\"{long}\"\"q\"\r\nb,{long}\n");
        assert_eq!(scanned(input.as_bytes(), 4096), oracle(input.as_bytes()));
        assert_eq!(scanned(b"", 10), Vec::<Vec<Vec<u8>>>::new());
        assert_eq!(scanned(b"\n\r\n", 10), Vec::<Vec<Vec<u8>>>::new());
    }
}

//! Reading label tables: CSV (plain, `.gz`, or the single member of a `.zip`), projected to the columns an
//! adapter needs, with pandas' missing-value rules — because torchxrayvision's behaviour hangs on what
//! `pandas.read_csv` calls NaN.

use crate::DataError;
use std::io::Read;
use std::path::Path;

/// Cells pandas' `read_csv` reads as NaN by default (its `STR_NA_VALUES`), plus the empty cell.
const PANDAS_NA: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// Whether a cell is missing by pandas' default rules.
pub fn is_na(cell: &str) -> bool {
    PANDAS_NA.contains(&cell)
}

/// A table of the requested columns. Cells live in one text arena (a label file has millions of them:
/// one allocation each would dominate the run time); a cell is a span of it, or missing.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    /// The file's cells, shared between tables derived from one file.
    text: std::sync::Arc<String>,
    /// Cells set after reading (see [`Table::set`]).
    extra: String,
    /// `rows × columns` spans: `start << 32 | len`, the top bit of `start` marking `extra`; `u64::MAX` = missing.
    cells: Vec<u64>,
}

const MISSING: u64 = u64::MAX;
const IN_EXTRA: u64 = 1 << 63;

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[&str]) -> Table {
        Table { columns: columns.iter().map(|c| c.to_string()).collect(), ..Table::default() }
    }

    /// The index of a column (which the reader has already checked exists).
    pub fn col(&self, name: &str) -> usize {
        self.columns.iter().position(|c| c == name).unwrap_or(usize::MAX)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.cells.len().checked_div(self.columns.len()).unwrap_or(0)
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A cell, `None` when missing.
    pub fn get(&self, row: usize, col: usize) -> Option<&str> {
        let c = *self.cells.get(row * self.columns.len() + col)?;
        if c == MISSING {
            return None;
        }
        let (start, len) = (((c >> 32) & !(IN_EXTRA >> 32)) as usize, (c & 0xffff_ffff) as usize);
        if c & IN_EXTRA != 0 {
            self.extra.get(start..start + len)
        } else {
            self.text.get(start..start + len)
        }
    }

    fn span_extra(&mut self, v: Option<&str>) -> u64 {
        match v {
            None => MISSING,
            Some(v) => {
                let start = self.extra.len() as u64;
                self.extra.push_str(v);
                IN_EXTRA | (start << 32) | v.len() as u64
            }
        }
    }

    /// Sets a cell (the value is copied into the table).
    pub fn set(&mut self, row: usize, col: usize, v: Option<&str>) {
        let span = self.span_extra(v);
        let n = self.columns.len();
        self.cells[row * n + col] = span;
    }

    /// Appends a column computed from each row.
    pub fn add_column(&mut self, name: &str, f: impl Fn(&Table, usize) -> Option<String>) {
        let n = self.columns.len();
        let values: Vec<Option<String>> = (0..self.len()).map(|r| f(self, r)).collect();
        let mut cells = Vec::with_capacity(self.cells.len() + values.len());
        for (r, v) in values.iter().enumerate() {
            cells.extend_from_slice(&self.cells[r * n..(r + 1) * n]);
            cells.push(self.span_extra(v.as_deref()));
        }
        self.cells = cells;
        self.columns.push(name.to_string());
    }

    /// Appends a row of cells copied from `values` (one per column).
    pub fn push_row(&mut self, values: &[Option<&str>]) {
        for v in values {
            let s = self.span_extra(*v);
            self.cells.push(s);
        }
    }

    /// Keeps the rows for which `keep` is true, in order.
    pub fn retain(&mut self, keep: impl Fn(&Table, usize) -> bool) {
        let n = self.columns.len();
        let kept: Vec<usize> = (0..self.len()).filter(|&r| keep(self, r)).collect();
        self.cells = kept.iter().flat_map(|&r| self.cells[r * n..(r + 1) * n].iter().copied()).collect();
    }

    /// The rows in this order (indices may repeat or be left out).
    pub fn select(&self, rows: &[usize]) -> Table {
        let n = self.columns.len();
        let cells = rows.iter().flat_map(|&r| self.cells[r * n..(r + 1) * n].iter().copied()).collect();
        Table { columns: self.columns.clone(), text: self.text.clone(), extra: self.extra.clone(), cells }
    }

    /// Sorts rows by a column (missing first), stably.
    pub fn sort_by_column(&mut self, col: usize) {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&a, &b| self.get(a, col).cmp(&self.get(b, col)));
        *self = self.select(&order);
    }
}

/// The bytes of a label file: gunzipped when gzip, the single CSV member when a zip archive.
pub fn read_file_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Read { path: path.to_path_buf(), source })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 6);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::format(path, format!("the gzip stream is corrupt or truncated ({e})")))?;
        return Ok(out);
    }
    if raw.starts_with(b"PK\x03\x04") {
        return unzip_first(path, &raw);
    }
    Ok(raw)
}

/// The first member of a zip archive (stored or deflated), read from its local header — enough for the
/// one-file archives datasets ship (e.g. RSNA's `stage_2_train_labels.csv.zip`).
fn unzip_first(path: &Path, raw: &[u8]) -> Result<Vec<u8>, DataError> {
    let bad = |what: &str| DataError::format(path, format!("is not a readable zip archive ({what})"));
    let u16_at = |i: usize| raw.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |i: usize| raw.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let flags = u16_at(6).ok_or_else(|| bad("short header"))?;
    let method = u16_at(8).ok_or_else(|| bad("short header"))?;
    let mut compressed = u32_at(18).ok_or_else(|| bad("short header"))?;
    let name_len = u16_at(26).ok_or_else(|| bad("short header"))?;
    let extra_len = u16_at(28).ok_or_else(|| bad("short header"))?;
    let start = 30 + name_len + extra_len;
    if flags & 0x8 != 0 || compressed == 0 {
        // Sizes in a trailing data descriptor: find the size in the central directory instead.
        let cd = raw.windows(4).rposition(|w| w == b"PK\x01\x02").ok_or_else(|| bad("no central directory"))?;
        compressed = u32_at(cd + 20).ok_or_else(|| bad("short central directory"))?;
    }
    if compressed == 0xFFFF_FFFF {
        // ZIP64: the sizes are in the extra field (id 1: uncompressed, then compressed, 8 bytes each).
        let extra = raw.get(30 + name_len..start).ok_or_else(|| bad("short extra field"))?;
        let mut i = 0;
        while i + 4 <= extra.len() {
            let id = u16::from_le_bytes([extra[i], extra[i + 1]]);
            let len = u16::from_le_bytes([extra[i + 2], extra[i + 3]]) as usize;
            if id == 1 && len >= 16 && i + 20 <= extra.len() {
                let c = &extra[i + 12..i + 20];
                compressed = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as usize;
            }
            i += 4 + len;
        }
    }
    let data = raw.get(start..start.saturating_add(compressed)).ok_or_else(|| bad("truncated member"))?;
    match method {
        0 => Ok(data.to_vec()),
        8 => {
            let mut out = Vec::with_capacity(compressed * 4);
            flate2::read::DeflateDecoder::new(data)
                .read_to_end(&mut out)
                .map_err(|e| bad(&format!("corrupt deflate data: {e}")))?;
            Ok(out)
        }
        m => Err(bad(&format!("compression method {m} is not supported; unzip it first"))),
    }
}

/// Reads a CSV, keeping `wanted` columns (error naming any that are missing, and what file was expected).
/// Header names are trimmed of a UTF-8 BOM only, so `" EncodedPixels"` keeps its leading space as in the file.
pub fn read_csv(path: &Path, wanted: &[&str], expected: &str) -> Result<Table, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Read { path: path.to_path_buf(), source })?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        let bytes = if raw.starts_with(b"PK\x03\x04") { unzip_first(path, &raw)? } else { raw };
        return read_csv_bytes(path, &bytes, wanted, expected);
    }
    // gzip: inflate on a second thread while this one parses (the two costs are about equal).
    cxr_core::pipe::read_pipelined("gzip", flate2::read::MultiGzDecoder::new(&raw[..]), |reader| {
        parse_csv(path, reader, wanted, expected).map_err(|e| match e {
            DataError::Format { problem, .. } if problem.contains("gzip") || problem.contains("corrupt deflate") => {
                DataError::format(path, format!("the gzip stream is corrupt or truncated ({problem})"))
            }
            other => other,
        })
    })
}

/// [`read_csv`] on bytes already in memory.
pub fn read_csv_bytes(path: &Path, bytes: &[u8], wanted: &[&str], expected: &str) -> Result<Table, DataError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    parse_csv(path, bytes, wanted, expected)
}

fn parse_csv(path: &Path, input: impl Read, wanted: &[&str], expected: &str) -> Result<Table, DataError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).buffer_capacity(1 << 16).from_reader(input);
    let header: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| DataError::format(path, format!("has no readable CSV header ({e})")))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h).into_owned();
            if i == 0 {
                h.trim_start_matches('\u{feff}').to_string()
            } else {
                h
            }
        })
        .collect();
    // A wanted name may list alternatives, `A|B` (e.g. NIH's "Patient Gender|Patient Sex"); the column is
    // then called by its first name.
    let find = |w: &str| w.split('|').find_map(|alt| header.iter().position(|h| h == alt));
    let missing: Vec<&str> = wanted.iter().copied().filter(|w| find(w).is_none()).collect();
    if !missing.is_empty() {
        return Err(DataError::Columns {
            path: path.to_path_buf(),
            missing: missing.iter().map(|s| s.to_string()).collect(),
            expected: expected.to_string(),
        });
    }
    let index: Vec<usize> = wanted.iter().map(|w| find(w).unwrap_or(0)).collect();
    let mut text = String::with_capacity(1 << 20);
    let mut cells = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(DataError::format(path, format!("has a malformed CSV row ({e})"))),
        }
        for &i in &index {
            let raw = record.get(i).unwrap_or(b"");
            let cell = match std::str::from_utf8(raw) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(raw),
            };
            if is_na(&cell) {
                cells.push(MISSING);
            } else {
                let start = text.len() as u64;
                text.push_str(&cell);
                cells.push((start << 32) | cell.len() as u64);
            }
        }
        if text.len() >= 1 << 31 {
            return Err(DataError::format(path, "is too large (more than 2 GB in the columns read); split it"));
        }
    }
    Ok(Table {
        columns: wanted.iter().map(|s| s.split('|').next().unwrap_or(s).to_string()).collect(),
        text: std::sync::Arc::new(text),
        extra: String::new(),
        cells,
    })
}

/// pandas' `groupby(key).first()`: one row per key value, keys sorted (numerically when every key is a
/// number, else as strings), rows with a missing key dropped, and **each column its own first non-missing
/// value within the group** — so an output row may mix cells of different input rows. torchxrayvision's
/// `unique_patients=True` does this; [`first_row_per_key`] is the row-wise alternative.
pub fn group_first(t: &Table, key: usize) -> Table {
    let groups = grouped(t, key);
    let n = t.columns.len();
    let mut cells = Vec::with_capacity(groups.len() * n);
    for members in &groups {
        for c in 0..n {
            let first = members.iter().map(|&r| t.cells[r * n + c]).find(|&x| x != MISSING).unwrap_or(MISSING);
            cells.push(first);
        }
    }
    Table { columns: t.columns.clone(), text: t.text.clone(), extra: t.extra.clone(), cells }
}

/// The first row (whole) of each key, in the same key order as [`group_first`].
pub fn first_row_per_key(t: &Table, key: usize) -> Table {
    let firsts: Vec<usize> = grouped(t, key).into_iter().map(|m| m[0]).collect();
    t.select(&firsts)
}

/// Row indices grouped by key, groups in sorted key order, members in input order.
fn grouped(t: &Table, key: usize) -> Vec<Vec<usize>> {
    let mut map: cxr_core::hash::FxHashMap<&str, Vec<usize>> = Default::default();
    for r in 0..t.len() {
        if let Some(k) = t.get(r, key) {
            map.entry(k).or_default().push(r);
        }
    }
    let mut groups: Vec<(&str, Vec<usize>)> = map.into_iter().collect();
    let numeric: Option<Vec<f64>> = groups.iter().map(|(k, _)| k.parse::<f64>().ok()).collect();
    match numeric {
        Some(nums) => {
            let mut idx: Vec<usize> = (0..groups.len()).collect();
            idx.sort_by(|&a, &b| nums[a].total_cmp(&nums[b]));
            let mut taken: Vec<Option<Vec<usize>>> = groups.into_iter().map(|(_, m)| Some(m)).collect();
            idx.into_iter().map(|i| taken[i].take().unwrap_or_default()).collect()
        }
        None => {
            groups.sort_by(|a, b| a.0.cmp(b.0));
            groups.into_iter().map(|(_, m)| m).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[&str]]) -> Table {
        let mut t = Table::new(&["k", "a", "b"]);
        for r in rows {
            let cells: Vec<Option<&str>> = r.iter().map(|c| (!is_na(c)).then_some(*c)).collect();
            t.push_row(&cells);
        }
        t
    }

    fn row(t: &Table, r: usize) -> Vec<Option<&str>> {
        (0..t.columns.len()).map(|c| t.get(r, c)).collect()
    }

    #[test]
    fn group_first_mixes_columns_like_pandas() {
        let t = table(&[&["10", "", "x"], &["9", "1", "y"], &["10", "2", ""], &["", "3", "z"]]);
        let g = group_first(&t, 0);
        // Keys sorted numerically (9 before 10); the missing key dropped; key 10 takes a from its 2nd row.
        assert_eq!(g.len(), 2);
        assert_eq!(row(&g, 0), vec![Some("9"), Some("1"), Some("y")]);
        assert_eq!(row(&g, 1), vec![Some("10"), Some("2"), Some("x")]);
        let f = first_row_per_key(&t, 0);
        assert_eq!(row(&f, 1), vec![Some("10"), None, Some("x")]);
    }

    #[test]
    fn arena_edits() {
        let mut t = table(&[&["1", "a", ""], &["2", "b", "c"]]);
        t.set(0, 2, Some("new"));
        t.add_column("d", |t, r| t.get(r, 1).map(|v| v.to_uppercase()));
        t.retain(|t, r| t.get(r, 0) != Some("2"));
        assert_eq!(row(&t, 0), vec![Some("1"), Some("a"), Some("new"), Some("A")]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn pandas_missing_values_and_missing_columns() {
        assert!(is_na("") && is_na("NaN") && is_na("NA") && !is_na("0") && !is_na("No Finding"));
        let p = Path::new("x.csv");
        let t = read_csv_bytes(p, b"a,b\n1,NA\n", &["b"], "v1").unwrap();
        assert_eq!(t.get(0, 0), None);
        assert_eq!(t.len(), 1);
        let e =
            read_csv_bytes(p, b"a,b\n1,2\n", &["b", "c", "d"], "NIH Data_Entry_2017_v2020").unwrap_err().to_string();
        assert!(e.contains("c, d") && e.contains("NIH Data_Entry_2017_v2020"), "{e}");
    }
}

//! Reading label tables: CSV (plain, `.gz`, or the single member of a `.zip`), projected to the columns an
//! adapter needs, with pandas' missing-value rules — because torchxrayvision's behaviour hangs on what
//! `pandas.read_csv` calls NaN.

use crate::DataError;
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// Whether a cell is missing by pandas' default rules: the empty cell and pandas' `STR_NA_VALUES`.
pub fn is_na(cell: &str) -> bool {
    is_na_bytes(cell.as_bytes())
}

/// [`is_na`] on raw bytes (every missing-value spelling is ASCII).
fn is_na_bytes(cell: &[u8]) -> bool {
    // A match compiles to a switch on the length, then a few comparisons; most cells are decided at once.
    matches!(
        cell,
        b"" | b"#N/A"
            | b"#N/A N/A"
            | b"#NA"
            | b"-1.#IND"
            | b"-1.#QNAN"
            | b"-NaN"
            | b"-nan"
            | b"1.#IND"
            | b"1.#QNAN"
            | b"<NA>"
            | b"N/A"
            | b"NA"
            | b"NULL"
            | b"NaN"
            | b"None"
            | b"n/a"
            | b"nan"
            | b"null"
    )
}

/// A table of the requested columns. Cells live in one text arena (a label file has millions of them:
/// one allocation each would dominate the run time); a cell is a span of it, or missing. Columns are stored
/// separately, so adding a column or dropping rows touches only what changes.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    /// The file's cells, shared between tables derived from one file.
    text: std::sync::Arc<String>,
    /// Cells set after reading (see [`Table::set`]).
    extra: String,
    /// One vector of spans per column: `start << 32 | len`, the top bit of `start` marking `extra`;
    /// `u64::MAX` = missing.
    cells: Vec<Vec<u64>>,
    rows: usize,
}

const MISSING: u64 = u64::MAX;
const IN_EXTRA: u64 = 1 << 63;

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            cells: vec![Vec::new(); columns.len()],
            ..Table::default()
        }
    }

    /// The index of a column (which the reader has already checked exists).
    pub fn col(&self, name: &str) -> usize {
        self.columns.iter().position(|c| c == name).unwrap_or(usize::MAX)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// A cell, `None` when missing.
    #[inline]
    pub fn get(&self, row: usize, col: usize) -> Option<&str> {
        let c = *self.cells.get(col)?.get(row)?;
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
        if let Some(c) = self.cells.get_mut(col).and_then(|c| c.get_mut(row)) {
            *c = span;
        }
    }

    /// The span of `v` if it is a slice of one of the table's arenas (so it need not be copied).
    fn span_within(&self, v: &str) -> Option<u64> {
        let at = v.as_ptr() as usize;
        let inside = |arena: &str| {
            let base = arena.as_ptr() as usize;
            (at >= base && at + v.len() <= base + arena.len()).then(|| ((at - base) as u64) << 32 | v.len() as u64)
        };
        inside(&self.text).or_else(|| inside(&self.extra).map(|s| s | IN_EXTRA))
    }

    /// Appends a column computed from each row. A value borrowed from the table's own cells is referenced,
    /// not copied; only new text is stored.
    pub fn add_column(&mut self, name: &str, f: impl for<'a> Fn(&'a Table, usize) -> Option<Cow<'a, str>>) {
        let mut new_text: Vec<(usize, String)> = Vec::new();
        let mut column: Vec<u64> = (0..self.rows)
            .map(|r| match f(self, r) {
                None => MISSING,
                Some(Cow::Borrowed(v)) => self.span_within(v).unwrap_or_else(|| {
                    new_text.push((r, v.to_string()));
                    MISSING
                }),
                Some(Cow::Owned(v)) => {
                    new_text.push((r, v));
                    MISSING
                }
            })
            .collect();
        for (r, v) in new_text {
            column[r] = self.span_extra(Some(&v));
        }
        self.cells.push(column);
        self.columns.push(name.to_string());
    }

    /// Appends a row of cells copied from `values` (one per column).
    /// Missing cells fill a short row; extra values are ignored.
    pub fn push_row(&mut self, values: &[Option<&str>]) {
        for c in 0..self.cells.len() {
            let span = self.span_extra(values.get(c).copied().flatten());
            self.cells[c].push(span);
        }
        self.rows += 1;
    }

    /// Keeps the rows for which `keep` is true, in order.
    pub fn retain(&mut self, keep: impl Fn(&Table, usize) -> bool) {
        let kept: Vec<bool> = (0..self.rows).map(|r| keep(self, r)).collect();
        for column in &mut self.cells {
            let mut flags = kept.iter();
            column.retain(|_| *flags.next().unwrap_or(&false));
        }
        self.rows = kept.iter().filter(|&&k| k).count();
    }

    /// The rows in this order (indices may repeat or be left out).
    pub fn select(&self, rows: &[usize]) -> Table {
        let cells = self.cells.iter().map(|c| rows.iter().map(|&r| c[r]).collect()).collect();
        Table {
            columns: self.columns.clone(),
            text: self.text.clone(),
            extra: self.extra.clone(),
            cells,
            rows: rows.len(),
        }
    }

    /// Sorts rows by a column (missing first), stably.
    pub fn sort_by_column(&mut self, col: usize) {
        // Missing cells first, in row order; then the rest by value (stably).
        let (mut order, present): (Vec<usize>, Vec<usize>) = (0..self.len()).partition(|&r| self.get(r, col).is_none());
        let values: Vec<&str> = present.iter().map(|&r| self.get(r, col).unwrap_or_default()).collect();
        order.extend(sorted_order(&values).into_iter().map(|i| present[i]));
        *self = self.select(&order);
    }
}

/// The bytes of a label file: gunzipped when gzip, the single CSV member when a zip archive.
pub fn read_file_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Read { path: path.to_path_buf(), source })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(gzip_size_hint(&raw));
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

/// The uncompressed size of a gzip file, from its trailer (the last member's size modulo 2³²): a hint for
/// reserving buffers, capped at 16× the compressed size (label files compress 5–13×) so that a damaged trailer
/// cannot ask for gigabytes; a larger file just grows its buffer.
fn gzip_size_hint(raw: &[u8]) -> usize {
    raw.len().checked_sub(4).map_or(0, |at| {
        (u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]) as usize).min(raw.len() * 16)
    })
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
    let hint = gzip_size_hint(&raw);
    // gzip: inflate on a second thread while this one parses (the two costs are about equal).
    cxr_core::pipe::read_pipelined("gzip", flate2::read::MultiGzDecoder::new(&raw[..]), |reader| {
        parse_csv(path, reader, hint, wanted, expected).map_err(|e| match e {
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
    parse_csv(path, bytes, bytes.len(), wanted, expected)
}

/// Reads the CSV from `input` (about `size_hint` bytes, 0 if unknown).
fn parse_csv(
    path: &Path,
    input: impl Read,
    size_hint: usize,
    wanted: &[&str],
    expected: &str,
) -> Result<Table, DataError> {
    let malformed = |e: std::io::Error| DataError::format(path, format!("has a malformed CSV row ({e})"));
    let mut rdr = crate::csvscan::Scanner::new(input);
    let header: Vec<String> = match rdr.next_record().map_err(malformed)? {
        Some(h) => h
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
            .collect(),
        None => Vec::new(),
    };
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
    // Each column's bytes go to a buffer of their own while reading, then into one arena column after column
    // (checked as UTF-8 once at the end): the adapters make many passes over single columns (view, id,
    // patient…), and a column read from a dense run of memory costs a fraction of one whose cells are strewn
    // across the file's rows (a cache miss each).
    let mut texts: Vec<Vec<u8>> = vec![Vec::new(); index.len()];
    let mut cells: Vec<Vec<u64>> = vec![Vec::new(); index.len()];
    let mut rows = 0;
    let mut total = 0usize;
    while let Some(record) = rdr.next_record().map_err(malformed)? {
        for ((column, text), &i) in cells.iter_mut().zip(&mut texts).zip(&index) {
            let raw = record.get(i).unwrap_or(b"");
            if is_na_bytes(raw) {
                column.push(MISSING);
            } else {
                column.push(((text.len() as u64) << 32) | raw.len() as u64);
                text.extend_from_slice(raw);
                total += raw.len();
            }
        }
        rows += 1;
        if rows == 1024 && size_hint > 0 {
            // Rows read so far tell how many the input holds, roughly: reserve the vectors once.
            let per_row = (rdr.consumed() / rows).max(1);
            let expect = (size_hint / per_row) * 11 / 10;
            cells.iter_mut().for_each(|c| c.reserve(expect.saturating_sub(c.len())));
            texts.iter_mut().for_each(|t| t.reserve((t.len() / rows * expect).saturating_sub(t.len())));
        }
        if total >= 1 << 31 {
            return Err(DataError::format(path, "is too large (more than 2 GB in the columns read); split it"));
        }
    }
    // The largest column's buffer becomes the arena (growing it in place copies nothing); the others follow it.
    let largest = (0..texts.len()).max_by_key(|&c| texts[c].len()).unwrap_or(0);
    let mut text = texts.get_mut(largest).map(std::mem::take).unwrap_or_default();
    text.reserve_exact(total - text.len());
    for (c, (column, part)) in cells.iter_mut().zip(texts).enumerate() {
        if c == largest {
            continue;
        }
        let base = (text.len() as u64) << 32;
        column.iter_mut().filter(|s| **s != MISSING).for_each(|s| *s += base);
        text.extend_from_slice(&part);
    }
    let text = match String::from_utf8(text) {
        Ok(t) => t,
        // Invalid UTF-8 somewhere: each cell is converted on its own, invalid bytes replaced (as before the
        // arena was checked in one piece), and the spans rebuilt.
        Err(e) => repair_utf8(e.into_bytes(), &mut cells),
    };
    Ok(Table {
        columns: wanted.iter().map(|s| s.split('|').next().unwrap_or(s).to_string()).collect(),
        text: std::sync::Arc::new(text),
        extra: String::new(),
        cells,
        rows,
    })
}

/// Rebuilds an arena that is not valid UTF-8: each cell lossily converted, spans updated.
fn repair_utf8(bytes: Vec<u8>, cells: &mut [Vec<u64>]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for column in cells.iter_mut() {
        for span in column.iter_mut().filter(|s| **s != MISSING) {
            let (start, len) = ((*span >> 32) as usize, (*span & 0xffff_ffff) as usize);
            let cell = String::from_utf8_lossy(&bytes[start..start + len]);
            *span = ((text.len() as u64) << 32) | cell.len() as u64;
            text.push_str(&cell);
        }
    }
    text
}

/// The stable sorting permutation of `values` (byte order, as `str`'s `Ord`).
///
/// Label-file ids are long and share long prefixes (`CheXpert-v1.0-small/train/patient…`,
/// `216840111366964012819207…`), and they lie scattered through the text arena: comparing the strings
/// themselves costs cache misses and a `memcmp` call each time. So the values are sorted by inline 16-byte
/// windows instead, most significant first (a radix sort whose digits are 16 bytes): all values by the window
/// after their common prefix, then each run of equal windows by the next window, and so on.
fn sorted_order(values: &[&str]) -> Vec<usize> {
    let Some(first) = values.first() else { return Vec::new() };
    let common = values
        .iter()
        .fold(first.len(), |n, v| n.min(first.as_bytes().iter().zip(v.as_bytes()).take_while(|(a, b)| a == b).count()));
    let mut keyed: Vec<(u128, u32)> = (0..values.len() as u32).map(|i| (0, i)).collect();
    sort_by_windows(values, &mut keyed, common, 0);
    keyed.into_iter().map(|(_, i)| i as usize).collect()
}

/// Sorts `items` (value indices) by the values' bytes from `offset` on, ties by index; see [`sorted_order`].
/// After `depth` windows of equal bytes a run is sorted by plain comparison, so that values sharing a very long
/// prefix cannot recurse deeply.
fn sort_by_windows(values: &[&str], items: &mut [(u128, u32)], offset: usize, depth: usize) {
    for item in items.iter_mut() {
        let tail = values[item.1 as usize].as_bytes().get(offset..).unwrap_or_default();
        let mut window = [0u8; 16];
        let n = tail.len().min(16);
        window[..n].copy_from_slice(&tail[..n]);
        item.0 = u128::from_be_bytes(window);
    }
    items.sort_unstable();
    let mut i = 0;
    while i < items.len() {
        let j = i + items[i..].iter().take_while(|x| x.0 == items[i].0).count();
        let run = &mut items[i..j];
        if run.len() > 1 {
            if depth >= 8 || run.iter().all(|x| values[x.1 as usize].len() <= offset + 16) {
                // Every value ends within this window (zero padding may have tied "a" with "a\0"), or the values
                // share a long prefix: compare them whole.
                run.sort_unstable_by(|a, b| values[a.1 as usize].cmp(values[b.1 as usize]).then(a.1.cmp(&b.1)));
            } else {
                sort_by_windows(values, run, offset + 16, depth + 1);
            }
        }
        i = j;
    }
}

/// pandas' `groupby(key).first()`: one row per key value, keys sorted (numerically when every key is a
/// number, else as strings), rows with a missing key dropped, and **each column its own first non-missing
/// value within the group** — so an output row may mix cells of different input rows. torchxrayvision's
/// `unique_patients=True` does this; [`first_row_per_key`] is the row-wise alternative.
pub fn group_first(t: &Table, key: usize) -> Table {
    let groups = Groups::of(t, key);
    let cells = t
        .cells
        .iter()
        .map(|column| {
            (0..groups.len())
                .map(|g| {
                    groups.members(g).iter().map(|&r| column[r as usize]).find(|&x| x != MISSING).unwrap_or(MISSING)
                })
                .collect()
        })
        .collect();
    Table { columns: t.columns.clone(), text: t.text.clone(), extra: t.extra.clone(), cells, rows: groups.len() }
}

/// The first row (whole) of each key, in the same key order as [`group_first`].
pub fn first_row_per_key(t: &Table, key: usize) -> Table {
    let groups = Groups::of(t, key);
    let firsts: Vec<usize> = (0..groups.len()).map(|g| groups.members(g)[0] as usize).collect();
    t.select(&firsts)
}

/// Row indices grouped by key (rows with a missing key left out): groups in sorted key order (numeric when
/// every key is a number, as pandas sorts a numeric column), members in input order. Stored as one array of
/// rows with group boundaries, not a vector per group: a patient column has tens of thousands of keys.
struct Groups {
    rows: Vec<u32>,
    /// Group `g` is `rows[starts[g]..starts[g + 1]]`.
    starts: Vec<u32>,
}

impl Groups {
    fn of(t: &Table, key: usize) -> Groups {
        const NONE: u32 = u32::MAX;
        let mut ids: cxr_core::hash::FxHashMap<&str, u32> = Default::default();
        let mut keys: Vec<&str> = Vec::new();
        let group_of: Vec<u32> = (0..t.len())
            .map(|r| match t.get(r, key) {
                None => NONE,
                Some(k) => *ids.entry(k).or_insert_with(|| {
                    keys.push(k);
                    (keys.len() - 1) as u32
                }),
            })
            .collect();
        // Rank the groups by key, then place each row by counting (stable: members keep input order).
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        let numeric: Option<Vec<f64>> = keys.iter().map(|k| k.parse::<f64>().ok()).collect();
        match numeric {
            Some(nums) => order.sort_by(|&a, &b| nums[a as usize].total_cmp(&nums[b as usize])),
            None => order = sorted_order(&keys).into_iter().map(|i| i as u32).collect(),
        }
        let mut rank = vec![0u32; keys.len()];
        for (i, &g) in order.iter().enumerate() {
            rank[g as usize] = i as u32;
        }
        let mut starts = vec![0u32; keys.len() + 1];
        for &g in group_of.iter().filter(|&&g| g != NONE) {
            starts[rank[g as usize] as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut rows = vec![0u32; starts[keys.len()] as usize];
        for (r, &g) in group_of.iter().enumerate().filter(|(_, &g)| g != NONE) {
            let slot = &mut next[rank[g as usize] as usize];
            rows[*slot as usize] = r as u32;
            *slot += 1;
        }
        Groups { rows, starts }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn members(&self, g: usize) -> &[u32] {
        &self.rows[self.starts[g] as usize..self.starts[g + 1] as usize]
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
    fn sorted_order_is_a_stable_byte_order() {
        let values =
            ["pre-b", "pre-a", "pre-", "pre-a\u{0}", "pre-a", "pre-0123456789abcdefZ", "pre-0123456789abcdefA"];
        let mut expected: Vec<usize> = (0..values.len()).collect();
        expected.sort_by_key(|&i| (values[i], i));
        assert_eq!(sorted_order(&values), expected);
        assert_eq!(sorted_order(&["b", "a"]), vec![1, 0]);
        assert!(sorted_order(&[]).is_empty());
        // Values sharing a prefix far longer than the window depth (compared whole past it).
        let mut long: Vec<String> = ["b", "a", "c", "a"].iter().map(|t| format!("{}{t}", "x".repeat(1000))).collect();
        long.push("w".into());
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        assert_eq!(sorted_order(&long), vec![4, 1, 3, 0, 2]);
        // Random values over a tiny alphabet (many ties, prefixes of each other, lengths around 16).
        let mut state = 12345u64;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for _ in 0..50 {
            let owned: Vec<String> = (0..200)
                .map(|_| {
                    let len = 14 + next(6) as usize;
                    "id".chars().chain((0..len).map(|_| ['a', 'b', '\u{0}'][next(3) as usize])).collect()
                })
                .collect();
            let values: Vec<&str> = owned.iter().map(String::as_str).collect();
            let mut expected: Vec<usize> = (0..values.len()).collect();
            expected.sort_by_key(|&i| (values[i], i));
            assert_eq!(sorted_order(&values), expected);
        }
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
        t.add_column("d", |t, r| t.get(r, 1).map(|v| Cow::Owned(v.to_uppercase())));
        t.add_column("e", |t, r| t.get(r, 2).map(Cow::Borrowed));
        t.add_column("f", |_, _| Some(Cow::Borrowed("static")));
        t.retain(|t, r| t.get(r, 0) != Some("2"));
        assert_eq!(row(&t, 0), vec![Some("1"), Some("a"), Some("new"), Some("A"), Some("new"), Some("static")]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn cells_that_are_not_utf8_are_replaced_cell_by_cell() {
        let t = read_csv_bytes(Path::new("x.csv"), b"a,b\nok,caf\xe9\n\xff,NA\n", &["a", "b"], "v1").unwrap();
        assert_eq!(t.get(0, 0), Some("ok"));
        assert_eq!(t.get(0, 1), Some("caf\u{fffd}"));
        assert_eq!((t.get(1, 0), t.get(1, 1)), (Some("\u{fffd}"), None));
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

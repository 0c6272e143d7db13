//! Reading a stream on a second thread: [`read_pipelined`] lets one thread produce bytes (inflate a gzip file,
//! say) while the calling thread consumes them, for sources whose decoding costs about as much as parsing.
//! Pure `std`: the caller opens the file and chooses the decoder.

use std::io::Read;

/// Runs `source` on a second thread in 256 KiB chunks and hands `consume` a [`Read`] over them. A read error of
/// the source reaches `consume` as an error whose message starts with `what` (e.g. `"gzip: …"`).
pub fn read_pipelined<R: Read + Send, T>(what: &str, source: R, consume: impl FnOnce(&mut dyn Read) -> T) -> T {
    // With up to ten chunks in flight, 2.5 MiB at most is buffered between the two threads.
    const CHUNK: usize = 1 << 18;
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(8);
    // Read chunks go back to the producer: a fresh chunk each time would cost the kernel a page fault (and a
    // zeroed page) per 4 KiB of the stream.
    let (recycle, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut source = source;
            loop {
                let mut chunk = recycled.try_recv().unwrap_or_default();
                chunk.resize(CHUNK, 0);
                match read_full(&mut source, &mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        chunk.truncate(n);
                        if tx.send(Ok(chunk)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        let mut reader = ChunkReader { rx, recycle, chunk: Vec::new(), at: 0, what };
        consume(&mut reader)
    })
}

/// Fills `buf` as far as the reader allows (0 only at the end).
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A `Read` over chunks arriving on a channel (the sender closing ends the stream).
struct ChunkReader<'a> {
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    /// Where consumed chunks go back for reuse.
    recycle: std::sync::mpsc::Sender<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
    what: &'a str,
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(c)) => {
                    let used = std::mem::replace(&mut self.chunk, c);
                    // The producer may have finished; then the chunk is simply dropped.
                    let _ = self.recycle.send(used);
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(std::io::Error::other(format!("{}: {e}", self.what))),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that yields its bytes a few at a time, then fails.
    struct Flaky(Vec<u8>, usize);

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 >= self.0.len() {
                return Err(std::io::Error::other("broken"));
            }
            let n = buf.len().min(3).min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn passes_bytes_through_and_reports_errors() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let got = read_pipelined("test", &data[..], |r| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).map(|_| v)
        });
        assert_eq!(got.unwrap(), data);
        let err = read_pipelined("gzip", Flaky(vec![1, 2, 3, 4, 5], 0), |r| {
            let mut v = Vec::new();
            r.read_to_end(&mut v)
        });
        assert_eq!(err.unwrap_err().to_string(), "gzip: broken");
    }
}

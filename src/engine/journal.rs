//! The append-only journal behind `--data-dir`: every acknowledged change is one framed entry.
//!
//! A change is written to the file (one `write` call) before the client gets its answer, so a
//! process killed with SIGKILL right after an acknowledgement still finds the change on restart:
//! the bytes are in the kernel's page cache. An entry cut short by a crash mid-write was never
//! acknowledged; it is dropped and the file truncated back to the last whole entry on open.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Frame header: payload length (u32 LE) followed by a checksum of the payload (u32 LE).
const HEADER: usize = 8;

/// Where changes go: nowhere (in-memory engine) or an append-only file.
#[derive(Debug)]
pub struct Journal {
    file: Option<File>,
    path: Option<PathBuf>,
}

impl Journal {
    /// A journal that keeps nothing: state lives in memory only.
    pub fn memory() -> Self {
        Self {
            file: None,
            path: None,
        }
    }

    /// Opens (or creates) the journal at `path` and returns every whole entry in it, oldest first.
    pub fn open(path: &Path) -> io::Result<(Self, Vec<Vec<u8>>)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut entries = Vec::new();
        let mut pos = 0usize;
        while bytes.len() - pos >= HEADER {
            let len =
                u32::from_le_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]) as usize;
            let sum = u32::from_le_bytes([bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]]);
            let start = pos + HEADER;
            let Some(end) = start.checked_add(len).filter(|&e| e <= bytes.len()) else {
                break;
            };
            if checksum(&bytes[start..end]) != sum {
                break;
            }
            entries.push(bytes[start..end].to_vec());
            pos = end;
        }
        if pos != bytes.len() {
            // A torn tail from a crash mid-write: it was never acknowledged.
            file.set_len(pos as u64)?;
            file.seek(SeekFrom::End(0))?;
        }
        Ok((
            Self {
                file: Some(file),
                path: Some(path.to_path_buf()),
            },
            entries,
        ))
    }

    /// Whether changes are kept on disk.
    pub fn is_persistent(&self) -> bool {
        self.file.is_some()
    }

    /// Appends one entry with a single write; returns once the kernel has the bytes.
    pub fn append(&mut self, payload: &[u8]) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let len = u32::try_from(payload.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "journal entry over 4 GiB"))?;
        let mut frame = Vec::with_capacity(HEADER + payload.len());
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(&checksum(payload).to_le_bytes());
        frame.extend_from_slice(payload);
        file.write_all(&frame)
    }

    /// Replaces the whole journal with the given entries (compaction), atomically by rename.
    pub fn rewrite(&mut self, entries: &[Vec<u8>]) -> io::Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let tmp = path.with_extension("compact");
        {
            let mut out = io::BufWriter::new(File::create(&tmp)?);
            for e in entries {
                let len = u32::try_from(e.len())
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "journal entry over 4 GiB"))?;
                out.write_all(&len.to_le_bytes())?;
                out.write_all(&checksum(e).to_le_bytes())?;
                out.write_all(e)?;
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        self.file = Some(OpenOptions::new().append(true).open(&path)?);
        Ok(())
    }
}

/// FNV-1a, enough to tell a whole entry from a torn or garbled one.
fn checksum(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Little helpers to build and read binary journal entries.
pub mod bin {
    /// Appends a length-prefixed byte string.
    pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    }

    /// Appends a u64.
    pub fn put_u64(out: &mut Vec<u8>, v: u64) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    /// Reads entries written with [`put_bytes`] / [`put_u64`].
    pub struct Reader<'a> {
        buf: &'a [u8],
    }

    impl<'a> Reader<'a> {
        /// Starts reading `buf`.
        pub fn new(buf: &'a [u8]) -> Self {
            Self { buf }
        }

        /// Reads a u64, `None` when the entry is short.
        pub fn u64(&mut self) -> Option<u64> {
            let (head, rest) = self.buf.split_at_checked(8)?;
            self.buf = rest;
            Some(u64::from_le_bytes(head.try_into().ok()?))
        }

        /// Reads a length-prefixed byte string.
        pub fn bytes(&mut self) -> Option<&'a [u8]> {
            let (head, rest) = self.buf.split_at_checked(4)?;
            let len = u32::from_le_bytes(head.try_into().ok()?) as usize;
            let (b, rest) = rest.split_at_checked(len)?;
            self.buf = rest;
            Some(b)
        }

        /// Whether everything was read.
        pub fn is_empty(&self) -> bool {
            self.buf.is_empty()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_tail_is_dropped_and_appends_continue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("j");
        {
            let (mut j, e) = Journal::open(&path).expect("open");
            assert!(e.is_empty());
            j.append(b"one").expect("append");
            j.append(b"two").expect("append");
        }
        // Simulate a crash mid-write: half a frame at the end.
        {
            let mut f = OpenOptions::new().append(true).open(&path).expect("open raw");
            f.write_all(&[9, 0, 0, 0, 1, 2]).expect("write torn");
        }
        let (mut j, e) = Journal::open(&path).expect("reopen");
        assert_eq!(e, vec![b"one".to_vec(), b"two".to_vec()]);
        j.append(b"three").expect("append after torn tail");
        drop(j);
        let (_, e) = Journal::open(&path).expect("reopen 2");
        assert_eq!(e.len(), 3);
        assert_eq!(e[2], b"three");
    }
}

//! The append-only journal behind `--data-dir`: every acknowledged change is one checksummed
//! entry, written before the client gets its answer.
//!
//! File layout (format 2): an 8-byte header `KLJOURN2`, then entries, each
//! `[marker u32][payload length u32][CRC-32 of length and payload u32][payload]`. The marker
//! lets `--repair` find the next whole entry after a damaged one; the checksum tells a whole
//! entry from a torn or garbled one. Format 1 (no header, no marker, FNV-1a checksum) is still
//! read, and converted on open.
//!
//! What survives what:
//! - a write that fails part-way (disk full, file too large) is undone at once by truncating
//!   the file back to the last whole entry; if even that fails, the journal refuses every later
//!   write, so nothing is acknowledged after a torn entry;
//! - a process killed right after an acknowledgement: the bytes are in the kernel already;
//! - a power cut: depends on [`Fsync`];
//! - on open, a torn final entry (a write cut short) is dropped and reported; a damaged entry
//!   anywhere else stops the engine with its byte offset, unless `repair` is asked for, which
//!   keeps every entry that still verifies and moves the damaged file aside. Nothing is ever
//!   removed from disk without a message on stderr.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// First bytes of a format-2 journal.
const FILE_MAGIC: &[u8; 8] = b"KLJOURN2";
/// Marks the start of every format-2 entry (a byte pattern that is rare in text and numbers).
const ENTRY_MARK: u32 = 0x4c4b_e702;
/// Format-2 entry header: marker, length, checksum.
const HEADER: usize = 12;
/// Format-1 entry header: length, checksum.
const V1_HEADER: usize = 8;
/// How often `--fsync batch` flushes what was written since the last flush.
const BATCH_INTERVAL: Duration = Duration::from_secs(1);

/// When journal writes are forced to stable storage (`--fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fsync {
    /// Never: the kernel writes back on its own schedule (about 30 s on Linux). A killed
    /// process loses nothing; a power cut or kernel crash can lose the last half-minute.
    Never,
    /// At most one second after a write, from a background thread: a power cut loses at most
    /// about the last second of acknowledged changes. The default.
    #[default]
    Batch,
    /// Before every acknowledgement: nothing acknowledged is lost to a power cut, at the cost of
    /// one disk flush per write request.
    Always,
}

impl std::str::FromStr for Fsync {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "never" => Ok(Fsync::Never),
            "batch" => Ok(Fsync::Batch),
            "always" => Ok(Fsync::Always),
            other => Err(format!("'{other}' is not one of never, batch, always")),
        }
    }
}

/// How a journal is opened.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JournalOptions {
    /// When writes reach stable storage.
    pub fsync: Fsync,
    /// Salvage a damaged journal instead of refusing to start.
    pub repair: bool,
}

/// Why a journal cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading, writing or creating the file failed.
    #[error("cannot use journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// An entry before the end of the file does not verify.
    #[error(
        "journal {path} is damaged at byte offset {offset} ({detail}); the engine does not start \
         rather than drop what follows. `kinlocal serve --data-dir {dir} --repair` keeps every \
         entry that still verifies, reports what is lost and keeps the damaged file beside it"
    )]
    Damaged {
        /// The journal file.
        path: PathBuf,
        /// Its directory (for the suggested command).
        dir: String,
        /// Where the first bad entry starts.
        offset: u64,
        /// What is wrong there.
        detail: String,
    },
}

/// Where changes go: nowhere (in-memory engine) or an append-only file.
#[derive(Debug)]
pub(crate) struct Journal {
    file: Option<File>,
    path: Option<PathBuf>,
    /// Bytes of whole entries in the file: where a failed append is rolled back to.
    len: u64,
    fsync: Fsync,
    syncer: Option<Arc<Syncer>>,
    /// Set when a failed append could not be undone: no later write may be acknowledged.
    failed: Option<String>,
    compaction: Option<Compaction>,
}

/// The background flusher of `--fsync batch`.
#[derive(Debug)]
struct Syncer {
    file: Mutex<Option<File>>,
    dirty: AtomicBool,
    stop: AtomicBool,
    error: Mutex<Option<String>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Syncer {
    fn start(file: &File) -> io::Result<Arc<Self>> {
        let me = Arc::new(Self {
            file: Mutex::new(Some(file.try_clone()?)),
            dirty: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            error: Mutex::new(None),
            thread: Mutex::new(None),
        });
        let worker = me.clone();
        let handle = std::thread::Builder::new()
            .name("journal-fsync".into())
            .spawn(move || {
                while !worker.stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(BATCH_INTERVAL);
                    worker.flush();
                }
            })?;
        *lock(&me.thread) = Some(handle);
        Ok(me)
    }

    fn flush(&self) {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        if let Some(f) = lock(&self.file).as_ref() {
            if let Err(e) = f.sync_data() {
                *lock(&self.error) = Some(e.to_string());
            }
        }
    }

    fn replace_file(&self, file: &File) -> io::Result<()> {
        *lock(&self.file) = Some(file.try_clone()?);
        Ok(())
    }

    fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = lock(&self.thread).take() {
            t.thread().unpark();
            let _ = t.join();
        }
        // A clean stop flushes what the last interval had not.
        self.flush();
    }
}

/// A poisoned lock here only means a flush thread panicked; the data is a plain handle.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A compaction writing a snapshot in the background.
#[derive(Debug)]
struct Compaction {
    thread: JoinHandle<io::Result<()>>,
    tmp: PathBuf,
    /// Journal length when the snapshot was taken: later entries are copied over at the end.
    upto: u64,
}

/// What [`Journal::open_with`] found.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The journal, ready for appends.
    pub journal: Journal,
    /// Every whole entry, oldest first.
    pub entries: Vec<Vec<u8>>,
}

/// One bad region of a journal file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Loss {
    offset: u64,
    bytes: u64,
}

/// The result of reading a journal file.
#[derive(Debug)]
struct Scan {
    entries: Vec<Vec<u8>>,
    /// End of the last whole entry before the first problem (or of the file).
    good_end: u64,
    /// The first problem, if any.
    problem: Option<Problem>,
    /// In repair mode: every bad region skipped.
    losses: Vec<Loss>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    /// The last entry was cut short (a crash or failed write mid-append): never acknowledged.
    Torn,
    /// An entry with whole entries (or a full-length entry) after it does not verify.
    Damaged(String),
}

impl Journal {
    /// A journal that keeps nothing: state lives in memory only.
    pub(crate) fn memory() -> Self {
        Self {
            file: None,
            path: None,
            len: 0,
            fsync: Fsync::Never,
            syncer: None,
            failed: None,
            compaction: None,
        }
    }

    /// Opens (or creates) the journal at `path`: verifies every entry, drops (and reports) a
    /// torn final entry, refuses a damaged one unless `options.repair`, converts format 1.
    pub(crate) fn open_with(path: &Path, options: JournalOptions) -> Result<Opened, JournalError> {
        let io_err = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(io_err)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(io_err)?;
        // Journals written by earlier versions were readable by everyone.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io_err)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_err)?;

        let v1 = !bytes.is_empty() && !bytes.starts_with(FILE_MAGIC);
        let scan = if v1 {
            scan_v1(&bytes)
        } else {
            scan_v2(&bytes, options.repair)
        };
        let shown = path.display();
        match &scan.problem {
            None => {}
            Some(Problem::Torn) => {
                let dropped = bytes.len() as u64 - scan.good_end;
                eprintln!(
                    "kinlocal: journal {shown}: dropped {dropped} bytes at offset {}: an entry cut short by a \
                     crash or a failed write (it was never acknowledged)",
                    scan.good_end
                );
            }
            Some(Problem::Damaged(detail)) if !options.repair => {
                return Err(JournalError::Damaged {
                    path: path.to_path_buf(),
                    dir: path.parent().map(|d| d.display().to_string()).unwrap_or_default(),
                    offset: scan.good_end,
                    detail: detail.clone(),
                });
            }
            Some(Problem::Damaged(_)) => {}
        }

        let mut journal = Self {
            file: Some(file),
            path: Some(path.to_path_buf()),
            len: bytes.len() as u64,
            fsync: options.fsync,
            syncer: None,
            failed: None,
            compaction: None,
        };
        let damaged = matches!(scan.problem, Some(Problem::Damaged(_)));
        if damaged {
            // Repair: keep the damaged file as it is, beside the salvaged one.
            let aside = aside_name(path);
            std::fs::copy(path, &aside).map_err(io_err)?;
            let _ = std::fs::set_permissions(&aside, std::fs::Permissions::from_mode(0o600));
            let kept = scan.entries.len();
            let lost: u64 = scan.losses.iter().map(|l| l.bytes).sum();
            eprintln!(
                "kinlocal: journal {shown}: repaired: kept {kept} entries that verify; lost {lost} bytes in {} \
                 region(s):",
                scan.losses.len()
            );
            for l in &scan.losses {
                eprintln!("kinlocal:   offset {}: {} bytes", l.offset, l.bytes);
            }
            eprintln!(
                "kinlocal: the damaged original is kept at {}; changes that depended on lost entries may be \
                 missing or renumbered",
                aside.display()
            );
            journal.rewrite(&scan.entries).map_err(io_err)?;
        } else if v1 {
            journal.rewrite(&scan.entries).map_err(io_err)?;
            eprintln!(
                "kinlocal: journal {shown}: converted {} entries from format 1 to format 2",
                scan.entries.len()
            );
        } else if bytes.is_empty() {
            journal.write_file_header().map_err(io_err)?;
        } else if scan.good_end < FILE_MAGIC.len() as u64 {
            // Even the header was cut short when the file was created.
            journal.truncate_to(0).map_err(io_err)?;
            journal.write_file_header().map_err(io_err)?;
        } else if scan.good_end != bytes.len() as u64 {
            journal.truncate_to(scan.good_end).map_err(io_err)?;
        }
        if journal.fsync == Fsync::Batch {
            if let Some(f) = &journal.file {
                journal.syncer = Some(Syncer::start(f).map_err(io_err)?);
            }
        }
        Ok(Opened {
            journal,
            entries: scan.entries,
        })
    }

    /// Whether changes are kept on disk.
    pub(crate) fn is_persistent(&self) -> bool {
        self.file.is_some()
    }

    /// Bytes in the journal file now.
    pub(crate) fn len_bytes(&self) -> u64 {
        self.len
    }

    /// Appends one entry with a single write; returns once the entry is as durable as
    /// [`Fsync`] promises. A failed write is rolled back to the last whole entry; if that fails
    /// too, this and every later append fails.
    pub(crate) fn append(&mut self, payload: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        if let Some(why) = &self.failed {
            return Err(io::Error::other(format!(
                "the journal accepts no more writes since a failed write could not be undone ({why}); \
                 restart the engine"
            )));
        }
        if let Some(e) = self.syncer.as_ref().and_then(|s| lock(&s.error).take()) {
            self.failed = Some(format!("flushing to disk failed: {e}"));
            return Err(io::Error::other(format!(
                "the journal could not be flushed to disk ({e}); restart the engine"
            )));
        }
        let frame = frame(payload)?;
        let written = match self.file.as_mut() {
            Some(file) => file.write_all(&frame).and_then(|()| {
                if self.fsync == Fsync::Always {
                    file.sync_data()
                } else {
                    Ok(())
                }
            }),
            None => return Ok(()),
        };
        match written {
            Ok(()) => {
                self.len += frame.len() as u64;
                if let Some(s) = &self.syncer {
                    s.dirty.store(true, Ordering::Release);
                }
                Ok(())
            }
            Err(e) => {
                let len = self.len;
                if let Err(undo) = self.truncate_to(len) {
                    self.failed = Some(format!("{e}; undoing it: {undo}"));
                }
                Err(e)
            }
        }
    }

    /// Replaces the whole journal with the given entries (compaction), atomically by rename.
    pub(crate) fn rewrite(&mut self, entries: &[Vec<u8>]) -> io::Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let tmp = path.with_extension("compact");
        write_snapshot(&tmp, entries)?;
        std::fs::rename(&tmp, &path)?;
        sync_dir(&path);
        self.reopen(&path)
    }

    /// Whether a background compaction is under way.
    pub(crate) fn compaction_running(&self) -> bool {
        self.compaction.is_some()
    }

    /// Starts writing `entries` (a snapshot of the live state) to a new file in the background;
    /// [`Journal::poll_compaction`] swaps it in. Returns false when none was started.
    pub(crate) fn start_compaction(&mut self, entries: Vec<Vec<u8>>) -> bool {
        let Some(path) = self.path.clone() else {
            return false;
        };
        if self.compaction.is_some() || self.failed.is_some() {
            return false;
        }
        let tmp = path.with_extension("compact");
        let out = tmp.clone();
        let spawned = std::thread::Builder::new()
            .name("journal-compact".into())
            .spawn(move || write_snapshot(&out, &entries));
        match spawned {
            Ok(thread) => {
                self.compaction = Some(Compaction {
                    thread,
                    tmp,
                    upto: self.len,
                });
                true
            }
            Err(_) => false,
        }
    }

    /// When the background compaction has finished: copies the entries appended since the
    /// snapshot onto it and swaps it in. `None` while it runs (or when none runs); otherwise
    /// the bytes reclaimed, or why the old journal was kept.
    pub(crate) fn poll_compaction(&mut self) -> Option<io::Result<u64>> {
        if !self.compaction.as_ref()?.thread.is_finished() {
            return None;
        }
        let Compaction { thread, tmp, upto } = self.compaction.take()?;
        let before = self.len;
        let result = match thread.join() {
            Ok(written) => written.and_then(|()| self.finish_compaction(&tmp, upto)),
            Err(_) => Err(io::Error::other("the compaction thread panicked")),
        };
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        Some(result.map(|()| before.saturating_sub(self.len)))
    }

    /// Waits for a running compaction and swaps it in.
    #[cfg(test)]
    pub(crate) fn wait_compaction(&mut self) -> Option<io::Result<u64>> {
        while !self.compaction.as_ref()?.thread.is_finished() {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.poll_compaction()
    }

    fn finish_compaction(&mut self, tmp: &Path, upto: u64) -> io::Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if self.failed.is_some() {
            return Err(io::Error::other("the journal failed meanwhile"));
        }
        // The entries acknowledged while the snapshot was written.
        let mut tail = Vec::new();
        let mut old = File::open(&path)?;
        old.seek(SeekFrom::Start(upto))?;
        old.take(self.len.saturating_sub(upto)).read_to_end(&mut tail)?;
        let mut out = OpenOptions::new().append(true).open(tmp)?;
        out.write_all(&tail)?;
        out.sync_all()?;
        std::fs::rename(tmp, &path)?;
        sync_dir(&path);
        self.reopen(&path)
    }

    fn reopen(&mut self, path: &Path) -> io::Result<()> {
        let file = OpenOptions::new().read(true).append(true).open(path)?;
        self.len = file.metadata()?.len();
        if let Some(s) = &self.syncer {
            s.replace_file(&file)?;
        }
        self.file = Some(file);
        Ok(())
    }

    fn write_file_header(&mut self) -> io::Result<()> {
        if let Some(f) = self.file.as_mut() {
            f.write_all(FILE_MAGIC)?;
            f.sync_all()?;
            self.len = FILE_MAGIC.len() as u64;
        }
        Ok(())
    }

    fn truncate_to(&mut self, len: u64) -> io::Result<()> {
        if let Some(f) = self.file.as_mut() {
            f.set_len(len)?;
            f.seek(SeekFrom::End(0))?;
            self.len = len;
        }
        Ok(())
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if let Some(s) = self.syncer.take() {
            s.shutdown();
        }
        if let Some(c) = self.compaction.take() {
            let _ = c.thread.join();
            let _ = std::fs::remove_file(&c.tmp);
        }
    }
}

/// Creates `dir` (and parents) readable by its owner only; an existing directory is left as it is.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// `kinesis.journal` → `kinesis.journal.damaged-<unix seconds>`.
fn aside_name(path: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".damaged-{secs}"));
    PathBuf::from(name)
}

/// Makes a rename durable (best effort: some filesystems refuse to sync a directory).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Writes a whole format-2 journal holding `entries` to `path`, flushed to disk.
fn write_snapshot(path: &Path, entries: &[Vec<u8>]) -> io::Result<()> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    let mut out = io::BufWriter::new(file);
    out.write_all(FILE_MAGIC)?;
    for e in entries {
        out.write_all(&frame(e)?)?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// One format-2 entry around `payload`.
fn frame(payload: &[u8]) -> io::Result<Vec<u8>> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "journal entry over 4 GiB"))?;
    let mut frame = Vec::with_capacity(HEADER + payload.len());
    frame.extend_from_slice(&ENTRY_MARK.to_le_bytes());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&crc(len, payload).to_le_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

fn crc(len: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(payload);
    h.finalize()
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The format-2 entry starting at `at`, if a whole, verifying one does.
fn entry_at(bytes: &[u8], at: usize) -> Option<&[u8]> {
    if u32_at(bytes, at)? != ENTRY_MARK {
        return None;
    }
    let len = u32_at(bytes, at + 4)?;
    let sum = u32_at(bytes, at + 8)?;
    let start = at + HEADER;
    let payload = bytes.get(start..start.checked_add(len as usize)?)?;
    (crc(len, payload) == sum).then_some(payload)
}

/// The next offset after `from` where a whole, verifying entry starts.
fn resync(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len().saturating_sub(HEADER - 1)).find(|&at| entry_at(bytes, at).is_some())
}

fn scan_v2(bytes: &[u8], repair: bool) -> Scan {
    let mut scan = Scan {
        entries: Vec::new(),
        good_end: 0,
        problem: None,
        losses: Vec::new(),
    };
    if bytes.is_empty() {
        return scan;
    }
    if bytes.len() < FILE_MAGIC.len() {
        // A header cut short when the file was created.
        scan.problem = Some(Problem::Torn);
        return scan;
    }
    let mut pos = FILE_MAGIC.len();
    scan.good_end = pos as u64;
    while pos < bytes.len() {
        if let Some(payload) = entry_at(bytes, pos) {
            scan.entries.push(payload.to_vec());
            pos += HEADER + payload.len();
            if scan.problem.is_none() {
                scan.good_end = pos as u64;
            }
            continue;
        }
        let next = resync(bytes, pos + 1);
        let problem = match next {
            Some(n) => Problem::Damaged(format!(
                "an entry does not verify, and whole entries follow from offset {n}"
            )),
            None if full_length_entry_at(bytes, pos) => {
                Problem::Damaged("the last entry is complete but its checksum does not match".into())
            }
            None => Problem::Torn,
        };
        let end = next.unwrap_or(bytes.len());
        if scan.problem.is_none() {
            scan.problem = Some(problem);
        }
        if !repair {
            // Without repair the first problem decides.
            return scan;
        }
        scan.losses.push(Loss {
            offset: pos as u64,
            bytes: (end - pos) as u64,
        });
        pos = end;
    }
    scan
}

/// Whether the bytes at `at` hold a marker and a length that ends exactly at the end of the
/// file: a whole entry whose contents changed, not a write cut short.
fn full_length_entry_at(bytes: &[u8], at: usize) -> bool {
    u32_at(bytes, at) == Some(ENTRY_MARK)
        && u32_at(bytes, at + 4).is_some_and(|len| at + HEADER + len as usize == bytes.len())
}

/// Format 1: `[len u32][fnv1a u32][payload]` entries, no header. Without a marker a damaged
/// entry cannot be skipped: everything from it on is reported (and kept aside by `--repair`).
fn scan_v1(bytes: &[u8]) -> Scan {
    let mut scan = Scan {
        entries: Vec::new(),
        good_end: 0,
        problem: None,
        losses: Vec::new(),
    };
    let mut pos = 0usize;
    while pos < bytes.len() {
        let (Some(len), Some(sum)) = (u32_at(bytes, pos), u32_at(bytes, pos + 4)) else {
            scan.problem = Some(Problem::Torn);
            break;
        };
        let start = pos + V1_HEADER;
        let Some(payload) = start
            .checked_add(len as usize)
            .and_then(|end| bytes.get(start..end))
        else {
            scan.problem = Some(Problem::Torn);
            break;
        };
        if fnv1a(payload) != sum {
            scan.problem = Some(Problem::Damaged("an entry's checksum does not match".into()));
            scan.losses.push(Loss {
                offset: pos as u64,
                bytes: (bytes.len() - pos) as u64,
            });
            break;
        }
        scan.entries.push(payload.to_vec());
        pos = start + payload.len();
        scan.good_end = pos as u64;
    }
    scan
}

/// The checksum of format 1.
fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Little helpers to build and read binary journal entries.
pub(crate) mod bin {
    /// Appends a length-prefixed byte string.
    pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    }

    /// Appends a u64.
    pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    /// Reads entries written with [`put_bytes`] / [`put_u64`].
    pub(crate) struct Reader<'a> {
        buf: &'a [u8],
    }

    impl<'a> Reader<'a> {
        /// Starts reading `buf`.
        pub(crate) fn new(buf: &'a [u8]) -> Self {
            Self { buf }
        }

        /// Reads a u64, `None` when the entry is short.
        pub(crate) fn u64(&mut self) -> Option<u64> {
            let (head, rest) = self.buf.split_at_checked(8)?;
            self.buf = rest;
            Some(u64::from_le_bytes(head.try_into().ok()?))
        }

        /// Reads a length-prefixed byte string.
        pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
            let (head, rest) = self.buf.split_at_checked(4)?;
            let len = u32::from_le_bytes(head.try_into().ok()?) as usize;
            let (b, rest) = rest.split_at_checked(len)?;
            self.buf = rest;
            Some(b)
        }

        /// Whether everything was read.
        pub(crate) fn is_empty(&self) -> bool {
            self.buf.is_empty()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(repair: bool) -> JournalOptions {
        JournalOptions {
            fsync: Fsync::Never,
            repair,
        }
    }

    fn write_entries(path: &Path, entries: &[&[u8]]) {
        let mut j = Journal::open_with(path, opts(false)).expect("open").journal;
        for e in entries {
            j.append(e).expect("append");
        }
    }

    #[test]
    fn torn_tail_is_dropped_and_appends_continue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("j");
        write_entries(&path, &[b"one", b"two"]);
        // A crash mid-write: the start of a frame whose length runs past the end.
        let full = frame(b"three-torn").expect("frame");
        {
            let mut f = OpenOptions::new().append(true).open(&path).expect("open raw");
            f.write_all(&full[..full.len() - 3]).expect("write torn");
        }
        let mut o = Journal::open_with(&path, opts(false)).expect("reopen");
        assert_eq!(o.entries, vec![b"one".to_vec(), b"two".to_vec()]);
        o.journal.append(b"three").expect("append after torn tail");
        drop(o);
        let o = Journal::open_with(&path, opts(false)).expect("reopen 2");
        assert_eq!(o.entries.len(), 3);
        assert_eq!(o.entries[2], b"three");
    }

    #[test]
    fn a_flipped_byte_mid_file_refuses_to_open_and_repair_keeps_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("j");
        let entries: Vec<Vec<u8>> = (0..10)
            .map(|i| format!("entry number {i}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        write_entries(&path, &refs);
        let mut bytes = std::fs::read(&path).expect("read");
        let original_len = bytes.len();
        // Inside the payload of the 4th entry.
        let fourth = FILE_MAGIC.len() + 3 * (HEADER + entries[0].len());
        bytes[fourth + HEADER + 2] ^= 0x40;
        std::fs::write(&path, &bytes).expect("write");

        let err = Journal::open_with(&path, opts(false)).expect_err("refused");
        match &err {
            JournalError::Damaged { offset, .. } => assert_eq!(*offset, fourth as u64),
            other => panic!("unexpected {other}"),
        }
        assert!(err.to_string().contains("--repair"), "{err}");
        // Nothing was changed on disk.
        assert_eq!(std::fs::read(&path).expect("read").len(), original_len);

        let o = Journal::open_with(&path, opts(true)).expect("repaired");
        let mut expect = entries.clone();
        expect.remove(3);
        assert_eq!(o.entries, expect);
        drop(o);
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
            .collect();
        assert_eq!(aside.len(), 1, "the damaged original is kept");
        let o = Journal::open_with(&path, opts(false)).expect("opens cleanly after repair");
        assert_eq!(o.entries, expect);
    }

    #[test]
    fn a_damaged_length_is_not_mistaken_for_a_torn_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("j");
        write_entries(&path, &[b"aaaa", b"bbbb", b"cccc"]);
        let mut bytes = std::fs::read(&path).expect("read");
        // The length of the first entry now claims far more than the file holds.
        bytes[FILE_MAGIC.len() + 7] = 0x7f;
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(
            Journal::open_with(&path, opts(false)),
            Err(JournalError::Damaged { .. })
        ));
        let o = Journal::open_with(&path, opts(true)).expect("repaired");
        assert_eq!(o.entries, vec![b"bbbb".to_vec(), b"cccc".to_vec()]);
    }

    #[test]
    fn format_1_journals_are_read_and_converted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("j");
        let mut old = Vec::new();
        for p in [&b"first"[..], b"second"] {
            old.extend_from_slice(&(p.len() as u32).to_le_bytes());
            old.extend_from_slice(&fnv1a(p).to_le_bytes());
            old.extend_from_slice(p);
        }
        // Plus a torn tail, as a crash left it.
        old.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
        std::fs::write(&path, &old).expect("write");
        let mut o = Journal::open_with(&path, opts(false)).expect("open");
        assert_eq!(o.entries, vec![b"first".to_vec(), b"second".to_vec()]);
        o.journal.append(b"third").expect("append");
        drop(o);
        assert!(std::fs::read(&path).expect("read").starts_with(FILE_MAGIC));
        let o = Journal::open_with(&path, opts(false)).expect("open v2");
        assert_eq!(o.entries.len(), 3);
    }

    #[test]
    fn background_compaction_keeps_entries_appended_meanwhile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("j");
        let mut j = Journal::open_with(&path, opts(false)).expect("open").journal;
        for i in 0..100 {
            j.append(format!("old {i}").as_bytes()).expect("append");
        }
        assert!(j.start_compaction(vec![b"snapshot".to_vec()]));
        j.append(b"after").expect("append while compacting");
        let reclaimed = j.wait_compaction().expect("ran").expect("compacted");
        assert!(reclaimed > 0);
        j.append(b"later").expect("append after");
        drop(j);
        let o = Journal::open_with(&path, opts(false)).expect("open");
        assert_eq!(
            o.entries,
            vec![b"snapshot".to_vec(), b"after".to_vec(), b"later".to_vec()]
        );
    }

    #[test]
    fn files_are_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sub = dir.path().join("state");
        let path = sub.join("j");
        write_entries(&path, &[b"x"]);
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&sub), 0o700);
    }

    #[test]
    fn fsync_modes_parse() {
        assert_eq!("always".parse::<Fsync>(), Ok(Fsync::Always));
        assert_eq!("batch".parse::<Fsync>(), Ok(Fsync::Batch));
        assert!("sometimes".parse::<Fsync>().is_err());
        let dir = tempfile::tempdir().expect("tempdir");
        for mode in [Fsync::Always, Fsync::Batch] {
            let path = dir.path().join(format!("{mode:?}"));
            let mut j = Journal::open_with(
                &path,
                JournalOptions {
                    fsync: mode,
                    repair: false,
                },
            )
            .expect("open")
            .journal;
            j.append(b"x").expect("append");
            drop(j);
            let o = Journal::open_with(&path, opts(false)).expect("reopen");
            assert_eq!(o.entries, vec![b"x".to_vec()]);
        }
    }
}

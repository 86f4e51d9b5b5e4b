//! Files that hold credentials, endpoints or logs: created readable by their owner only, and
//! rewritten without widening the mode they already have.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and missing parents) as `0700`; an existing directory keeps its mode.
pub(crate) fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Opens `path` for writing from scratch, mode `0600` (also when it existed with another mode).
pub(crate) fn create_file(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(Permissions::from_mode(0o600))?;
    Ok(f)
}

/// Replaces `path` with `bytes` atomically (temporary file, then rename). The new file keeps
/// the mode of the one it replaces; a new file gets `0600`.
pub(crate) fn replace_file(path: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mode = match std::fs::metadata(path) {
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0o600,
        Err(e) => return Err(e),
    };
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(tmp)?;
    f.set_permissions(Permissions::from_mode(mode))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn new_files_are_private_and_existing_modes_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sub = dir.path().join("a/b");
        create_dir(&sub).expect("mkdir");
        assert_eq!(mode(&sub), 0o700);

        let new = sub.join("credentials");
        replace_file(&new, &sub.join("tmp1"), b"x").expect("write");
        assert_eq!(mode(&new), 0o600);

        let shared = sub.join("config");
        std::fs::write(&shared, "old").expect("write");
        std::fs::set_permissions(&shared, Permissions::from_mode(0o640)).expect("chmod");
        replace_file(&shared, &sub.join("tmp2"), b"new").expect("write");
        assert_eq!(mode(&shared), 0o640);
        assert_eq!(std::fs::read(&shared).expect("read"), b"new");

        let log = sub.join("engine.log");
        std::fs::write(&log, "old").expect("write");
        std::fs::set_permissions(&log, Permissions::from_mode(0o644)).expect("chmod");
        drop(create_file(&log).expect("create"));
        assert_eq!(mode(&log), 0o600);
    }
}

//! Hot reload (`consume --watch PATH`): file changes under the watched paths, debounced into a
//! code generation number. Each warm instance remembers the generation its process started
//! with and, when it is behind, replaces the process before its next invocation — never in
//! the middle of one.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, watch};

use super::instance::NoteSink;

/// How long the files must stay quiet before a burst of changes counts as one (an editor's
/// save, `git checkout`, a build writing many files).
const QUIET: Duration = Duration::from_millis(300);

/// Why the watcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// A path that is not there.
    #[error("--watch {0}: no such file or directory")]
    Missing(String),
    /// The operating system refused to watch it (e.g. the inotify watch limit).
    #[error("--watch {path}: cannot watch it: {detail}")]
    Os {
        /// The path.
        path: String,
        /// The reason.
        detail: String,
    },
}

/// Watches the function's files; dropping it stops watching.
pub(crate) struct CodeWatcher {
    /// Kept alive for the run: dropping it removes the OS watches.
    _watcher: notify::RecommendedWatcher,
    /// The current code generation (0 at start, +1 per quiet-separated burst of changes).
    generation: watch::Receiver<u64>,
}

impl std::fmt::Debug for CodeWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeWatcher")
            .field("generation", &*self.generation.borrow())
            .finish_non_exhaustive()
    }
}

impl CodeWatcher {
    /// Starts watching `paths` (a directory recursively, a file through its directory so an
    /// editor's save-by-rename is seen). Must be called inside a tokio runtime; a line goes to
    /// `notes` for every change that triggers a reload.
    pub fn start(paths: &[PathBuf], notes: Arc<dyn NoteSink>) -> Result<Self, WatchError> {
        let (events_tx, events_rx) = mpsc::unbounded_channel::<PathBuf>();
        let targets: Vec<(PathBuf, bool)> = paths
            .iter()
            .map(|p| {
                // Canonical, as the OS reports changed paths (macOS: /tmp is /private/tmp).
                let canonical =
                    std::fs::canonicalize(p).map_err(|_| WatchError::Missing(p.display().to_string()))?;
                let is_dir = canonical.is_dir();
                Ok((canonical, is_dir))
            })
            .collect::<Result<_, _>>()?;
        let filter = targets.clone();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else { return };
            if !counts(&event.kind) {
                return;
            }
            for path in event.paths {
                if relevant(&filter, &path) {
                    // The receiver outlives the watcher unless the run is ending.
                    let _ = events_tx.send(path);
                }
            }
        })
        .map_err(|e| WatchError::Os {
            path: paths.first().map(|p| p.display().to_string()).unwrap_or_default(),
            detail: e.to_string(),
        })?;
        for (path, is_dir) in &targets {
            let (watched, mode) = if *is_dir {
                (path.as_path(), RecursiveMode::Recursive)
            } else {
                (
                    path.parent().unwrap_or(Path::new("/")),
                    RecursiveMode::NonRecursive,
                )
            };
            watcher.watch(watched, mode).map_err(|e| WatchError::Os {
                path: path.display().to_string(),
                detail: e.to_string(),
            })?;
        }
        let (generation_tx, generation) = watch::channel(0);
        tokio::spawn(debounce(events_rx, generation_tx, notes));
        Ok(Self {
            _watcher: watcher,
            generation,
        })
    }

    /// The current code generation.
    pub fn generation(&self) -> u64 {
        *self.generation.borrow()
    }
}

/// Turns a stream of changed paths into generations: one per burst followed by [`QUIET`].
async fn debounce(
    mut events: mpsc::UnboundedReceiver<PathBuf>,
    generation: watch::Sender<u64>,
    notes: Arc<dyn NoteSink>,
) {
    while let Some(first) = events.recv().await {
        let mut changed = vec![first];
        loop {
            match tokio::time::timeout(QUIET, events.recv()).await {
                Ok(Some(path)) => {
                    if !changed.contains(&path) {
                        changed.push(path);
                    }
                }
                Ok(None) => return,
                Err(_) => break,
            }
        }
        generation.send_modify(|g| *g += 1);
        let more = match changed.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        notes.note(&format!(
            "{}{more} changed: the function reloads before its next batch",
            changed[0].display()
        ));
    }
}

/// Changes that can alter the code: not reads (a runtime opening its files must not trigger a
/// reload of itself).
fn counts(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
    )
}

/// Whether a changed path is one of the watched files, or under a watched directory, and is
/// not noise: byte-code caches a runtime writes itself (`__pycache__`, `.pyc`), hidden files
/// and directories (`.git`, editor swap files), backups ending in `~`, vim's `4913` probe.
fn relevant(targets: &[(PathBuf, bool)], path: &Path) -> bool {
    let Some(root) = targets.iter().find_map(|(t, is_dir)| {
        if *is_dir {
            path.starts_with(t).then_some(t)
        } else {
            (path == t).then_some(t)
        }
    }) else {
        return false;
    };
    let inside = path.strip_prefix(root).unwrap_or(path);
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let noisy_part = inside.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        s == "__pycache__" || s.starts_with('.')
    });
    let noisy_name = file_name.is_empty()
        || file_name.ends_with('~')
        || file_name.ends_with(".pyc")
        || file_name == "4913"
        || (file_name.starts_with('.') && path != root);
    !(noisy_part || noisy_name)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Notes(Mutex<Vec<String>>);

    impl NoteSink for Notes {
        fn note(&self, message: &str) {
            if let Ok(mut v) = self.0.lock() {
                v.push(message.to_string());
            }
        }
    }

    #[test]
    fn only_real_changes_under_the_watched_paths_count() {
        let targets = vec![
            (PathBuf::from("/fn"), true),
            (PathBuf::from("/other/handler.py"), false),
        ];
        let r = |p: &str| relevant(&targets, Path::new(p));
        assert!(r("/fn/app.py"));
        assert!(r("/fn/lib/util.py"));
        assert!(r("/other/handler.py"));
        assert!(
            !r("/other/neighbour.py"),
            "a file's directory is watched, not all of it"
        );
        assert!(!r("/elsewhere/app.py"));
        assert!(!r("/fn/__pycache__/app.cpython-312.pyc"));
        assert!(!r("/fn/app.pyc"));
        assert!(!r("/fn/.git/index"));
        assert!(!r("/fn/.app.py.swp"));
        assert!(!r("/fn/app.py~"));
        assert!(!r("/fn/4913"));
        assert!(counts(&EventKind::Modify(notify::event::ModifyKind::Any)));
        assert!(!counts(&EventKind::Access(notify::event::AccessKind::Any)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_changes_is_one_generation() {
        let (tx, rx) = mpsc::unbounded_channel();
        let (gen_tx, mut generation) = watch::channel(0);
        let notes = Arc::new(Notes::default());
        let task = tokio::spawn(debounce(rx, gen_tx, notes.clone()));
        for name in ["a.py", "b.py", "a.py"] {
            tx.send(PathBuf::from(name)).expect("send");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(*generation.borrow(), 0, "still inside the burst");
        generation.changed().await.expect("a generation");
        assert_eq!(*generation.borrow(), 1);
        tx.send(PathBuf::from("c.py")).expect("send");
        generation.changed().await.expect("another generation");
        assert_eq!(*generation.borrow(), 2);
        drop(tx);
        task.await.expect("debounce ends with its sender");
        let notes = notes.0.lock().expect("notes").clone();
        assert_eq!(
            notes,
            vec![
                "a.py and 1 more changed: the function reloads before its next batch",
                "c.py changed: the function reloads before its next batch",
            ]
        );
    }

    #[tokio::test]
    async fn a_rewritten_file_bumps_the_generation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("app.py");
        std::fs::write(&file, "v = 1\n").expect("write");
        let notes = Arc::new(Notes::default());
        let watcher = CodeWatcher::start(std::slice::from_ref(&file), notes).expect("watches");
        let mut generation = watcher.generation.clone();
        std::fs::write(&file, "v = 2\n").expect("rewrite");
        tokio::time::timeout(Duration::from_secs(10), generation.changed())
            .await
            .expect("a change within 10 s")
            .expect("watcher alive");
        assert_eq!(watcher.generation(), 1);
        let missing = CodeWatcher::start(&[dir.path().join("nope")], Arc::new(Notes::default()));
        assert!(matches!(missing, Err(WatchError::Missing(_))));
    }
}

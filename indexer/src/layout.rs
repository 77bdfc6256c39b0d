//! The on-disk layout of an index folder and the writer lock:
//!
//! ```text
//! DIR/index/leakwatch-index.json   {"schema_version": 2, "generation": "v2-…"}
//! DIR/index/v2-…/                  the live Tantivy index
//! DIR/index/.leakwatch-writer.lock held by the one writer (flock; dies with it)
//! ```
//! The marker names the live generation and is replaced by an atomic rename, so
//! a reader sees either the old generation or the new one, never a mix.
//! Schema version 1 kept Tantivy's files directly in the folder (no
//! `generation`). This module moves files and folders; it never reads documents.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tantivy::directory::{DirectoryLock, Lock, MmapDirectory};
use tantivy::Directory;

use crate::error::IndexError;

/// Marker file that tells a leakwatch index from any other folder.
pub(crate) const MARKER: &str = "leakwatch-index.json";
/// Lock file of the writer (and of creation and reindexing).
const WRITER_LOCK: &str = ".leakwatch-writer.lock";

/// Contents of the marker file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Marker {
    pub schema_version: u32,
    /// Folder of the live Tantivy index; `None` for the flat version-1 layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
}

impl Marker {
    /// The folder holding the Tantivy files of this generation.
    pub(crate) fn tantivy_dir(&self, root: &Path) -> PathBuf {
        match &self.generation {
            Some(g) => root.join(g),
            None => root.to_owned(),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.to_owned(),
        error: source,
    }
}

/// Whether `name` is a generation folder this module could have made.
fn is_generation_name(name: &str) -> bool {
    name.strip_prefix('v')
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(version, _)| {
            !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())
        })
}

/// A fresh, unique generation folder name for schema `version`.
pub(crate) fn new_generation_name(version: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("v{version}-{nanos:x}-{}", std::process::id())
}

/// What the folder holds.
pub(crate) enum FolderState {
    /// No folder at all.
    Missing,
    /// A folder with nothing of ours that matters (empty, or only the lock
    /// and generations left by an interrupted creation).
    Empty,
    /// A leakwatch index.
    Index(Marker),
}

/// Reads the marker, telling a missing, empty, foreign or valid folder apart.
pub(crate) fn read_state(root: &Path) -> Result<FolderState, IndexError> {
    let marker_path = root.join(MARKER);
    match std::fs::read(&marker_path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(FolderState::Index)
            .map_err(|_| IndexError::Foreign {
                path: root.to_owned(),
                marker: MARKER,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let entries = match std::fs::read_dir(root) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(FolderState::Missing)
                }
                Err(e) => return Err(io(root)(e)),
            };
            for entry in entries {
                let entry = entry.map_err(io(root))?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let ours = name == WRITER_LOCK
                    || name.starts_with(MARKER)
                    || (is_generation_name(&name) && entry.path().is_dir());
                if !ours {
                    return Err(IndexError::Foreign {
                        path: root.to_owned(),
                        marker: MARKER,
                    });
                }
            }
            Ok(FolderState::Empty)
        }
        Err(e) => Err(io(&marker_path)(e)),
    }
}

/// Replaces the marker atomically: write a temporary file, sync it, rename it
/// over the marker, sync the folder.
pub(crate) fn write_marker(root: &Path, marker: &Marker) -> Result<(), IndexError> {
    let bytes = serde_json::to_vec(marker).expect("a marker always serialises");
    let tmp = root.join(format!("{MARKER}.{}.tmp", std::process::id()));
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(&bytes).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
    }
    let target = root.join(MARKER);
    std::fs::rename(&tmp, &target).map_err(io(&target))?;
    sync_dir(root)
}

fn sync_dir(dir: &Path) -> Result<(), IndexError> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The writer lock of one index folder; released on drop or process death.
pub(crate) struct WriterLock {
    _lock: DirectoryLock,
}

/// Takes the writer lock of `root` without waiting.
pub(crate) fn lock_writer(root: &Path) -> Result<WriterLock, IndexError> {
    let dir = MmapDirectory::open(root).map_err(|e| IndexError::Io {
        path: root.to_owned(),
        error: std::io::Error::other(e.to_string()),
    })?;
    let lock = Lock {
        filepath: PathBuf::from(WRITER_LOCK),
        is_blocking: false,
    };
    match dir.acquire_lock(&lock) {
        Ok(lock) => Ok(WriterLock { _lock: lock }),
        Err(tantivy::directory::error::LockError::LockBusy) => Err(IndexError::Locked {
            path: root.to_owned(),
        }),
        Err(tantivy::directory::error::LockError::IoError(e)) => Err(IndexError::Io {
            path: root.join(WRITER_LOCK),
            error: std::io::Error::new(e.kind(), e.to_string()),
        }),
    }
}

/// Removes what no marker points at: generation folders other than the live
/// one and, once a version-1 index has been migrated, its flat files. Call
/// only under the writer lock (so nothing is being built). Best effort: a
/// leftover costs disk space, not correctness.
pub(crate) fn remove_stale(root: &Path, live: &Marker) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == MARKER || name == WRITER_LOCK || live.generation.as_deref() == Some(&*name) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            if is_generation_name(&name) {
                let _ = std::fs::remove_dir_all(&path);
            }
        } else if live.generation.is_some() {
            // Flat files of a migrated version-1 index, or a marker's temp file.
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_names() {
        let name = new_generation_name(2);
        assert!(is_generation_name(&name), "{name}");
        assert!(!is_generation_name("vx-1"));
        assert!(!is_generation_name("v-1"));
        assert!(!is_generation_name("notes"));
    }

    #[test]
    fn marker_round_trip_and_states() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("index");
        assert!(matches!(read_state(&root), Ok(FolderState::Missing)));
        std::fs::create_dir(&root).expect("mkdir");
        assert!(matches!(read_state(&root), Ok(FolderState::Empty)));
        let marker = Marker {
            schema_version: 2,
            generation: Some(new_generation_name(2)),
        };
        write_marker(&root, &marker).expect("write");
        match read_state(&root) {
            Ok(FolderState::Index(m)) => assert_eq!(m, marker),
            _ => panic!("marker not read back"),
        }
        std::fs::write(root.join(MARKER), "{").expect("write");
        assert!(matches!(read_state(&root), Err(IndexError::Foreign { .. })));
    }

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = lock_writer(dir.path()).expect("lock");
        assert!(matches!(
            lock_writer(dir.path()),
            Err(IndexError::Locked { .. })
        ));
        drop(first);
        lock_writer(dir.path()).expect("lock again");
    }
}

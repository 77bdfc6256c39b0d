//! Where leakwatch keeps its data: the data folder and the files in it.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The data folder: `--data-dir`/`LEAKWATCH_DATA_DIR`, else the platform's
/// data folder + `/leakwatch`.
pub(crate) fn data_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    match explicit {
        Some(p) => Ok(p.to_owned()),
        None => dirs::data_dir()
            .map(|d| d.join("leakwatch"))
            .context("no platform data folder (is $HOME set?); pass --data-dir DIR"),
    }
}

pub(crate) fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

pub(crate) fn state_db(data_dir: &Path) -> PathBuf {
    data_dir.join("state.db")
}

/// The state store of `data_dir`, which a command that only reads it needs
/// to exist; the error says which commands make one (`first`).
pub(crate) fn existing_state_db(data_dir: &Path, first: &str) -> anyhow::Result<PathBuf> {
    let db = state_db(data_dir);
    if !db.exists() {
        anyhow::bail!("{}: no state store yet; run {first} first", db.display());
    }
    Ok(db)
}

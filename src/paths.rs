//! Where leakwatch keeps its data: the data folder and the files in it.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The data folder: `--data-dir`/`LEAKWATCH_DATA_DIR`, else the platform's
/// data folder + `/leakwatch`.
pub fn data_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    match explicit {
        Some(p) => Ok(p.to_owned()),
        None => dirs::data_dir()
            .map(|d| d.join("leakwatch"))
            .context("no platform data folder (is $HOME set?); pass --data-dir DIR"),
    }
}

pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

pub fn state_db(data_dir: &Path) -> PathBuf {
    data_dir.join("state.db")
}

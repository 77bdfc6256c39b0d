//! The real pages in `../shared/fixtures` (beside the checkout): a test that
//! needs them fails with a clear message when they are absent, unless
//! `LEAKWATCH_SKIP_SHARED=1` says to skip it.

use std::path::Path;

/// Whether `path` (under `../shared`) is there. Absent: panics naming it and
/// the fix, or, with `LEAKWATCH_SKIP_SHARED=1`, says SKIPPED and gives false.
pub(crate) fn present(path: &Path) -> bool {
    if path.exists() {
        return true;
    }
    let message = format!(
        "{} is absent: this test needs the shared fixtures beside the checkout \
         (../shared); clone them there, or set LEAKWATCH_SKIP_SHARED=1 to skip it",
        path.display()
    );
    assert!(
        std::env::var_os("LEAKWATCH_SKIP_SHARED").is_some(),
        "{message}"
    );
    eprintln!("SKIPPED: {message}");
    false
}

//! Fuzz target: any bytes as a watchlist file load or report errors; never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        if let Err(e) = watchlists::WatchlistSet::from_toml_str(std::path::Path::new("f.toml"), src)
        {
            assert!(!e.errors().is_empty());
        }
    }
});

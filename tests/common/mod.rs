//! Helpers shared by the end-to-end test binaries: the built `leakwatch`,
//! the repository root, and the demo market served by `leakwatch demo --serve`.
// Each test binary uses its own subset, and the items are shared by several.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_leakwatch");

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A child process killed (and reaped) when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `leakwatch run --config CONFIG -v` in the config's folder, with
/// `env` set and `RUST_LOG` unset; its log (stderr) goes to `log`.
pub fn start_run(config: &Path, log: std::fs::File, env: &[(&str, &str)]) -> Killed {
    let mut command = Command::new(BIN);
    command
        .args(["run", "--config", config.to_str().expect("path"), "-v"])
        .current_dir(config.parent().expect("the config is in a folder"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log);
    for (k, v) in env {
        command.env(k, v);
    }
    Killed(command.spawn().expect("leakwatch run starts"))
}

/// Starts the demo market on loopback; returns it and its root URL
/// (`http://127.0.0.1:PORT/`).
pub fn demo_server() -> (Killed, String) {
    let mut child = Command::new(BIN)
        .args(["demo", "--serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo --serve starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("server prints its URL");
    let root = first
        .trim()
        .trim_start_matches("demo market at ")
        .to_owned();
    assert!(root.starts_with("http://127.0.0.1:"), "{first}");
    (Killed(child), root)
}

/// Writes the three demo site profiles into `dir`, pointed at the demo
/// market served at `root`, each passed through `edit` (a test's pace).
pub fn write_demo_profiles(dir: &Path, root: &str, edit: impl Fn(String) -> String) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for name in [
        "demo-market",
        "demo-jp",
        "demo-forum",
        "demo-telegram",
        "demo-paste",
    ] {
        let text = std::fs::read_to_string(repo().join(format!("examples/sites/{name}.toml")))
            .expect("profile");
        std::fs::write(
            dir.join(format!("{name}.toml")),
            edit(text.replace("http://demo.invalid/", root)),
        )
        .expect("write");
    }
}

/// Runs `leakwatch --data-dir DATA ARGS...` to the end.
pub fn leakwatch_in(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("LEAKWATCH_DATA_DIR")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("leakwatch {args:?}: {e}"))
}

/// Polls `done` every 200 ms until it holds; fails the test after
/// `timeout`, naming `what` it waited for.
pub fn wait_for(what: &str, timeout: std::time::Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The check for files under `../shared`, shared with the extraction tests.
#[path = "../../extract/tests/shared/mod.rs"]
mod shared;

/// Whether `path` (under `../shared`) is there; see [`shared::present`].
pub fn shared_present(path: &std::path::Path) -> bool {
    shared::present(path)
}

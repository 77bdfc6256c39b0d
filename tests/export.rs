//! `leakwatch export` on the demo's alerts, checked by the official tools:
//! the OASIS STIX validator (strict, 2.1) and the `stix2` library for the
//! bundle, PyMISP with its bundled object templates and pytaxonomies for the
//! MISP events (`tests/validators/misp_check.py`).
//!
//! The tools come from PyPI (`.ci/run` installs them). Without them the test
//! fails naming what is missing, unless `LEAKWATCH_SKIP_VALIDATORS=1` asks to
//! skip the validation (never under CI, where `CI` is set); the export
//! itself is tested either way.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{repo, BIN};

/// The PyPI packages the validation needs, as `pip install` names them, and
/// the module each provides.
const PACKAGES: [(&str, &str); 4] = [
    ("stix2-validator", "stix2validator"),
    ("stix2", "stix2"),
    ("pymisp", "pymisp"),
    ("pytaxonomies", "pytaxonomies"),
];

fn leakwatch(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("LEAKWATCH_DATA_DIR")
        .env("NO_COLOR", "1")
        .output()
        .expect("leakwatch runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn python(args: &[&str]) -> Output {
    Command::new("python3")
        .args(args)
        .output()
        .expect("python3 runs (install Python 3)")
}

/// Whether the validators can run. Missing: panics naming the packages and
/// the install command, or, with `LEAKWATCH_SKIP_VALIDATORS=1` (not under
/// CI), says SKIPPED and gives false.
fn validators_present() -> bool {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, module)| {
            !Command::new("python3")
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "the Python package(s) {} are missing: the export tests validate with the official \
         STIX and MISP tools; install them with `python3 -m pip install stix2-validator stix2 \
         pymisp pytaxonomies` (.ci/run does), or set LEAKWATCH_SKIP_VALIDATORS=1 to skip the validation",
        missing.join(", ")
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{message} (CI never skips)"
    );
    assert!(
        std::env::var_os("LEAKWATCH_SKIP_VALIDATORS").is_some_and(|v| v == "1"),
        "{message}"
    );
    eprintln!("SKIPPED (LEAKWATCH_SKIP_VALIDATORS=1): {message}");
    false
}

/// Runs the demo into a fresh data folder, acknowledges one alert (so the
/// export has an analyst status to carry) and returns the folder.
fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = leakwatch(dir.path(), &["demo"]);
    assert!(out.status.success(), "demo failed:\n{}", text(&out));
    let out = leakwatch(dir.path(), &["alerts", "ack", "3"]);
    assert!(out.status.success(), "ack failed:\n{}", text(&out));
    dir
}

fn export(data: &Path, file: &str, args: &[&str]) -> (PathBuf, Value) {
    let path = data.join(file);
    let mut all = vec!["export", "--out", path.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let out = leakwatch(data, &all);
    assert!(
        out.status.success(),
        "export {args:?} failed:\n{}",
        text(&out)
    );
    assert!(
        text(&out).contains("exported 50 alert(s)"),
        "every demo alert is exported:\n{}",
        text(&out)
    );
    let bytes = std::fs::read(&path).expect("the export file");
    (
        path,
        serde_json::from_slice(&bytes).expect("the export is JSON"),
    )
}

fn stix_validator(file: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "-m",
        "stix2validator.scripts.stix2_validator",
        "--version",
        "2.1",
        "--strict",
        "--enforce-refs",
    ];
    args.extend_from_slice(extra);
    args.push(file.to_str().expect("utf-8 path"));
    python(&args)
}

fn misp_check(file: &Path) -> Output {
    let script = repo().join("tests/validators/misp_check.py");
    python(&[
        script.to_str().expect("utf-8 path"),
        file.to_str().expect("utf-8 path"),
    ])
}

#[test]
fn stix_and_misp_exports_of_the_demo_pass_the_official_validators() {
    let dir = demo();
    let data = dir.path();

    // STIX: deterministic, every alert observed, no ad-hoc properties.
    let (stix, bundle) = export(data, "a.stix.json", &["--format", "stix"]);
    let (again, _) = export(data, "b.stix.json", &["--format", "stix"]);
    assert_eq!(
        std::fs::read(&stix).expect("read"),
        std::fs::read(&again).expect("read"),
        "two exports of the same store are the same bytes (same ids)"
    );
    let objects = bundle["objects"].as_array().expect("objects");
    let count = |kind: &str| objects.iter().filter(|o| o["type"] == kind).count();
    assert_eq!(count("observed-data"), 50);
    assert_eq!(count("extension-definition"), 1);
    assert_eq!(count("note"), 1, "the acknowledged alert");
    assert!(
        count("indicator") >= 2,
        "login.bk.mufg.jp and t-tanaka@soumu.go.jp"
    );
    assert!(!String::from_utf8_lossy(&std::fs::read(&stix).expect("read")).contains("\"x_"));

    // MISP, per alert and per customer per day.
    let (misp, events) = export(data, "alerts.misp.json", &["--format", "misp"]);
    assert_eq!(events["response"].as_array().map(Vec::len), Some(50));
    let (misp_day, _) = export(
        data,
        "days.misp.json",
        &["--format", "misp", "--misp-group", "day", "--tlp", "green"],
    );

    if !validators_present() {
        return;
    }

    // The OASIS validator, strict mode. Its one SHOULD we do not follow is
    // UUIDv4 for SDO/SRO ids: ours are UUIDv5 so that a re-export updates
    // objects, which STIX 2.1 §2.9 allows outside the SCO namespace.
    let out = stix_validator(&stix, &["--disable", "uuid-check"]);
    assert!(
        out.status.success() && text(&out).contains("STIX JSON: Valid"),
        "stix2-validator --strict rejects the bundle:\n{}",
        text(&out)
    );
    let out = stix_validator(&stix, &[]);
    let complaints: Vec<String> = text(&out)
        .lines()
        .filter(|l| (l.contains("[X]") || l.contains("[!]")) && !l.contains("STIX JSON:"))
        .map(str::to_owned)
        .collect();
    assert!(!complaints.is_empty(), "the UUIDv4 check runs");
    for line in &complaints {
        assert!(
            line.contains("{103}") && line.contains("is not a valid UUIDv4 ID"),
            "only the UUIDv4 preference is unmet: {line}"
        );
        let sco = ["url--", "user-account--", "domain-name--", "email-addr--"];
        assert!(
            !sco.iter().any(|s| line.contains(s)),
            "observables use the spec's UUIDv5: {line}"
        );
    }

    // The OASIS `stix2` library parses it without allowing custom content.
    let out = python(&[
        "-c",
        "import json, stix2, sys\n\
         b = stix2.parse(json.load(open(sys.argv[1], encoding='utf-8')), allow_custom=False)\n\
         print(len(b.objects))",
        stix.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "stix2.parse fails:\n{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        objects.len().to_string()
    );

    // PyMISP and the MISP object templates, strict.
    for file in [&misp, &misp_day] {
        let out = misp_check(file);
        assert!(
            out.status.success() && text(&out).contains(" 0 problem(s)"),
            "{} fails the MISP checks:\n{}",
            file.display(),
            text(&out)
        );
    }

    // The checks bite: an ad-hoc property and a template violation are caught.
    let mut broken = bundle.clone();
    broken["objects"][3]["x_leakwatch_customer"] = Value::from("jp-government");
    let broken_stix = data.join("broken.stix.json");
    std::fs::write(&broken_stix, broken.to_string()).expect("write");
    let out = stix_validator(&broken_stix, &["--disable", "uuid-check"]);
    assert!(
        !out.status.success() && text(&out).contains("x_leakwatch_customer"),
        "a custom property must fail strict validation:\n{}",
        text(&out)
    );
    let mut broken = events.clone();
    let leak = broken["response"][0]["Event"]["Object"]
        .as_array_mut()
        .expect("objects")
        .iter_mut()
        .find(|o| o["name"] == "ail-leak")
        .expect("an ail-leak object");
    leak["Attribute"]
        .as_array_mut()
        .expect("attributes")
        .retain(|a| a["object_relation"] != "sensor");
    let broken_misp = data.join("broken.misp.json");
    std::fs::write(&broken_misp, broken.to_string()).expect("write");
    let out = misp_check(&broken_misp);
    assert!(
        !out.status.success() && text(&out).contains("sensor"),
        "an ail-leak without its required sensor must fail:\n{}",
        text(&out)
    );
}

#[test]
fn export_without_a_state_store_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = leakwatch(dir.path(), &["export", "--format", "stix"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("run `leakwatch demo`"),
        "{}",
        text(&out)
    );
}

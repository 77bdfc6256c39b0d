//! Logging to stderr with `tracing`: the verbosity and format the user chose,
//! and the filters that keep secrets (cookie values) and third-party parser
//! chatter out of the log. Never logs anything itself.

use tracing_subscriber::EnvFilter;

use crate::{GlobalArgs, LogFormat};

/// Targets whose records never reach the log below `warn`, whatever the
/// verbosity or RUST_LOG: the cookie jar's crate logs whole cookies (secrets)
/// at debug level.
const SECRET_TARGETS: &[&str] = &["cookie_store"];

/// Third-party HTML and CSS parsers: they warn about every malformed page
/// (`foster parenting not implemented`), which real pages all are. Only
/// their errors are logged unless RUST_LOG names the target itself.
const PARSER_TARGETS: &[&str] = &["html5ever", "markup5ever", "selectors", "cssparser"];

/// Logs to stderr; `--log-format` wins over `default_format`.
pub fn init_logging(global: &GlobalArgs, default_format: LogFormat) {
    let default = match global.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let rust_log = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let mut filter = match rust_log.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => filter,
        _ => EnvFilter::new(default),
    };
    for directive in quiet_directives(rust_log.as_deref()) {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match global.log_format.unwrap_or(default_format) {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The directives added to the user's filter: secret-bearing targets at
/// `warn` always; parser targets at `error` unless `rust_log` has a directive
/// for that target (or one of its modules).
fn quiet_directives(rust_log: Option<&str>) -> Vec<String> {
    let named: Vec<&str> = rust_log
        .unwrap_or_default()
        .split(',')
        .filter_map(|d| {
            let target = d.split(['=', '[']).next()?.trim();
            (!target.is_empty()).then_some(target)
        })
        .collect();
    let asks_for = |target: &str| {
        named.iter().any(|n| {
            n.strip_prefix(target)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
    };
    SECRET_TARGETS
        .iter()
        .map(|t| format!("{t}=warn"))
        .chain(
            PARSER_TARGETS
                .iter()
                .filter(|t| !asks_for(t))
                .map(|t| format!("{t}=error")),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_are_quiet_unless_rust_log_names_them() {
        let all = [
            "cookie_store=warn",
            "html5ever=error",
            "markup5ever=error",
            "selectors=error",
            "cssparser=error",
        ];
        assert_eq!(quiet_directives(None), all);
        assert_eq!(quiet_directives(Some("debug")), all);
        // A level alone, or another crate, does not ask for the parsers.
        assert_eq!(quiet_directives(Some("trace,crawler=debug")), all);
        // A target that only starts with the same letters does not either.
        assert_eq!(quiet_directives(Some("html5everything=debug")), all);
        assert_eq!(
            quiet_directives(Some("info,html5ever::tree_builder=warn")),
            [
                "cookie_store=warn",
                "markup5ever=error",
                "selectors=error",
                "cssparser=error"
            ]
        );
        // Cookies stay out whatever RUST_LOG says.
        assert_eq!(
            quiet_directives(Some("cookie_store=trace,selectors"))[..2],
            ["cookie_store=warn", "html5ever=error"]
        );
    }
}

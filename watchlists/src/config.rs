//! Watchlist files: TOML (one customer per file, or a folder of them) parsed into a
//! validated [`WatchlistSet`]. Every problem is reported with file, line and fix; a set
//! that loads holds no empty, too-short or unfoldable term.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use textfold::{is_cjk, is_han, is_kana};
use toml::Spanned;

use crate::alert::Severity;
use crate::text::PhraseKey;

/// What kind of thing an asset is; sets the default severity of its alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetKind {
    /// A bank (its customer accounts, its network): high.
    Bank,
    /// A ministry: critical.
    Ministry,
    /// Another government body or agency: critical.
    Government,
    /// A company (its network access, employee mailboxes): high.
    Company,
    /// User accounts of a service (logins, IDs): medium.
    Account,
    /// A brand or product (its users' logins): medium.
    Brand,
    /// Any other watched word; the kind of an asset that names none: low.
    Keyword,
}

impl AssetKind {
    /// Every kind, in the order the watchlist docs list them.
    pub const ALL: [AssetKind; 7] = [
        AssetKind::Bank,
        AssetKind::Ministry,
        AssetKind::Government,
        AssetKind::Company,
        AssetKind::Account,
        AssetKind::Brand,
        AssetKind::Keyword,
    ];

    /// The name written as `kind` in a watchlist file (`"bank"`).
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Bank => "bank",
            AssetKind::Ministry => "ministry",
            AssetKind::Government => "government",
            AssetKind::Company => "company",
            AssetKind::Account => "account",
            AssetKind::Brand => "brand",
            AssetKind::Keyword => "keyword",
        }
    }

    /// The kind a watchlist file names (any case, surrounding spaces
    /// ignored); `None` for an unknown name.
    pub fn parse(s: &str) -> Option<AssetKind> {
        AssetKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Severity of a selling offer for this kind of asset, without an override.
    pub fn default_severity(self) -> Severity {
        match self {
            AssetKind::Ministry | AssetKind::Government => Severity::Critical,
            AssetKind::Bank | AssetKind::Company => Severity::High,
            AssetKind::Account | AssetKind::Brand => Severity::Medium,
            AssetKind::Keyword => Severity::Low,
        }
    }
}

/// A watch term or exclude phrase: as written, and in matchable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchTerm {
    written: String,
    pub(crate) key: PhraseKey,
}

impl WatchTerm {
    /// The term as written in the watchlist file.
    pub fn as_written(&self) -> &str {
        &self.written
    }
}

/// One watched asset of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: AssetKind,
    pub(crate) terms: Vec<WatchTerm>,
    /// Lower-case domain names (`mufg.jp`).
    pub(crate) domains: Vec<String>,
    pub(crate) exclude: Vec<WatchTerm>,
    pub(crate) require_sale_context: bool,
    pub(crate) severity: Option<Severity>,
}

impl Asset {
    /// The asset's id, unique within its customer's watchlist; alerts name
    /// the asset by it.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The name shown in alerts: the file's `name`, else the first term,
    /// else the id.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// What the asset is; `Keyword` when the file names no kind.
    pub fn kind(&self) -> AssetKind {
        self.kind
    }
    /// The phrases that find the asset, in file order. They match however
    /// a document spells them: any case, width, script variant, and with
    /// separators inside (`三 菱 U F J`).
    pub fn terms(&self) -> &[WatchTerm] {
        &self.terms
    }
    /// Watched domain names, lower case (`mufg.jp`); their subdomains,
    /// e-mail addresses and defanged forms (`mufg[.]jp`) match too.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }
    /// Phrases whose occurrences are not hits: a term inside one of them
    /// (the bank's own `三菱UFJ銀行からのお知らせ`) raises no alert.
    pub fn exclude(&self) -> &[WatchTerm] {
        &self.exclude
    }
    /// Whether a hit alerts only in a sale context: a sale cue near it or
    /// in the title that no warning cancels, or a listing with a price.
    /// True unless the file says otherwise.
    pub fn require_sale_context(&self) -> bool {
        self.require_sale_context
    }
    /// Severity of a selling offer: the override, or the kind's default.
    pub fn base_severity(&self) -> Severity {
        self.severity.unwrap_or(self.kind.default_severity())
    }
}

/// One customer's validated watchlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchlist {
    pub(crate) customer: String,
    pub(crate) source: PathBuf,
    pub(crate) assets: Vec<Asset>,
}

impl Watchlist {
    /// The customer id (the file's `customer`), unique in a set.
    pub fn customer(&self) -> &str {
        &self.customer
    }
    /// The file it was loaded from.
    pub fn source(&self) -> &Path {
        &self.source
    }
    /// The customer's assets, in file order; never empty.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }
}

/// Every customer's watchlist, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchlistSet {
    watchlists: Vec<Watchlist>,
}

/// One problem in a watchlist file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message} — {fix}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct LoadError {
    /// The watchlist file (or folder) with the problem.
    pub path: PathBuf,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong (`duplicate asset id "mufg" (first at line 4)`).
    pub message: String,
    /// What to change to fix it (`give each asset of a customer a unique
    /// id`).
    pub fix: String,
}

/// Every problem found while loading; `Display` prints one line per problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadErrors {
    errors: Vec<LoadError>,
}

impl LoadErrors {
    /// The problems, file by file in load order; never empty.
    pub fn errors(&self) -> &[LoadError] {
        &self.errors
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

impl WatchlistSet {
    /// Loads a `.toml` watchlist file, or every `.toml` file in a folder (sorted by name).
    pub fn load(path: &Path) -> Result<WatchlistSet, LoadErrors> {
        let mut errors = Vec::new();
        let files = if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(rd) => {
                    let mut files: Vec<PathBuf> = rd
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                        .collect();
                    files.sort();
                    if files.is_empty() {
                        errors.push(err(
                            path,
                            None,
                            "no .toml watchlist files in this folder",
                            "add one file per customer, e.g. acme.toml",
                        ));
                    }
                    files
                }
                Err(e) => {
                    errors.push(err(
                        path,
                        None,
                        &format!("cannot read folder: {e}"),
                        "check the path and its permissions",
                    ));
                    Vec::new()
                }
            }
        } else {
            vec![path.to_path_buf()]
        };
        let mut set = WatchlistSet::default();
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(src) => match parse_watchlist(&file, &src) {
                    Ok(w) => set.push(w, &src, &mut errors),
                    Err(mut e) => errors.append(&mut e),
                },
                Err(e) => errors.push(err(
                    &file,
                    None,
                    &format!("cannot read file: {e}"),
                    "check the path and its permissions",
                )),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(LoadErrors { errors })
        }
    }

    /// Parses one watchlist from TOML text; `path` is only used in error messages.
    pub fn from_toml_str(path: &Path, src: &str) -> Result<WatchlistSet, LoadErrors> {
        let mut set = WatchlistSet::default();
        let mut errors = Vec::new();
        match parse_watchlist(path, src) {
            Ok(w) => set.push(w, src, &mut errors),
            Err(e) => errors = e,
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(LoadErrors { errors })
        }
    }

    fn push(&mut self, w: Watchlist, src: &str, errors: &mut Vec<LoadError>) {
        if let Some(first) = self.watchlists.iter().find(|x| x.customer == w.customer) {
            let line = src.find("customer").map(|at| line_of(src, at));
            errors.push(err(
                &w.source,
                line,
                &format!("customer \"{}\" is already defined in {}", w.customer, first.source.display()),
                "keep one file per customer: merge the assets into that file or rename the customer",
            ));
            return;
        }
        self.watchlists.push(w);
    }

    /// Customer ids, in load order.
    pub fn customers(&self) -> impl Iterator<Item = &str> {
        self.watchlists.iter().map(|w| w.customer.as_str())
    }

    /// Number of assets over all customers.
    pub fn asset_count(&self) -> usize {
        self.watchlists.iter().map(|w| w.assets.len()).sum()
    }

    /// The validated watchlists, in load order.
    pub fn watchlists(&self) -> &[Watchlist] {
        &self.watchlists
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatchlist {
    customer: Option<Spanned<String>>,
    #[serde(default)]
    assets: Vec<Spanned<RawAsset>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    id: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    terms: Vec<Spanned<String>>,
    #[serde(default)]
    domains: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    require_sale_context: Option<bool>,
    severity: Option<Spanned<String>>,
}

fn err(path: &Path, line: Option<usize>, message: &str, fix: &str) -> LoadError {
    LoadError {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
        fix: fix.to_string(),
    }
}

fn line_of(src: &str, byte: usize) -> usize {
    let byte = byte.min(src.len());
    src.as_bytes()[..byte]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn parse_watchlist(path: &Path, src: &str) -> Result<Watchlist, Vec<LoadError>> {
    let raw: RawWatchlist = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            let line = e.span().map(|s| line_of(src, s.start));
            let message = e.message().trim().replace('\n', " ");
            let fix = if message.contains("unknown field") {
                "remove or rename the key; allowed: customer, [[assets]] with id, name, kind, terms, domains, exclude, require_sale_context, severity"
            } else if message.contains("missing field") {
                "add the missing key"
            } else {
                "fix the TOML syntax (strings in double quotes, lists in [ ])"
            };
            return Err(vec![err(path, line, &message, fix)]);
        }
    };
    let mut errors = Vec::new();
    let at = |s: &std::ops::Range<usize>| Some(line_of(src, s.start));

    let customer = match raw.customer {
        Some(c) if !c.get_ref().trim().is_empty() => c.get_ref().trim().to_string(),
        Some(c) => {
            errors.push(err(
                path,
                at(&c.span()),
                "customer is empty",
                "set customer = \"tenant-id\"",
            ));
            String::new()
        }
        None => {
            errors.push(err(
                path,
                Some(1),
                "missing customer",
                "add customer = \"tenant-id\" at the top of the file",
            ));
            String::new()
        }
    };
    if raw.assets.is_empty() {
        errors.push(err(
            path,
            Some(line_of(src, src.len())),
            "no assets",
            "add at least one [[assets]] table with an id and terms",
        ));
    }

    let mut assets: Vec<Asset> = Vec::new();
    let mut seen_ids: Vec<(String, usize)> = Vec::new();
    for raw_asset in raw.assets {
        let asset_line = at(&raw_asset.span());
        let a = raw_asset.into_inner();
        let id = match &a.id {
            Some(id) if !id.get_ref().trim().is_empty() => {
                let id_line = line_of(src, id.span().start);
                let id_text = id.get_ref().trim().to_string();
                if let Some((_, first)) = seen_ids.iter().find(|(x, _)| *x == id_text) {
                    errors.push(err(
                        path,
                        Some(id_line),
                        &format!("duplicate asset id \"{id_text}\" (first at line {first})"),
                        "give each asset of a customer a unique id",
                    ));
                } else {
                    seen_ids.push((id_text.clone(), id_line));
                }
                id_text
            }
            Some(id) => {
                errors.push(err(
                    path,
                    at(&id.span()),
                    "asset id is empty",
                    "set id = \"short-unique-name\"",
                ));
                String::new()
            }
            None => {
                errors.push(err(
                    path,
                    asset_line,
                    "asset without an id",
                    "add id = \"short-unique-name\" to this [[assets]] table",
                ));
                String::new()
            }
        };
        let kind = match &a.kind {
            None => AssetKind::Keyword,
            Some(k) => AssetKind::parse(k.get_ref()).unwrap_or_else(|| {
                errors.push(err(
                    path,
                    at(&k.span()),
                    &format!("unknown kind \"{}\"", k.get_ref()),
                    "use one of bank, ministry, government, company, account, brand, keyword",
                ));
                AssetKind::Keyword
            }),
        };
        let severity = a.severity.as_ref().and_then(|s| {
            let parsed = Severity::parse(s.get_ref());
            if parsed.is_none() {
                errors.push(err(
                    path,
                    at(&s.span()),
                    &format!("unknown severity \"{}\"", s.get_ref()),
                    "use one of low, medium, high, critical (or leave it out to derive it from kind)",
                ));
            }
            parsed
        });
        let mut terms = Vec::new();
        for t in &a.terms {
            match validate_term(t.get_ref(), true) {
                Ok(term) => terms.push(term),
                Err((message, fix)) => errors.push(err(path, at(&t.span()), &message, fix)),
            }
        }
        let mut exclude = Vec::new();
        for t in &a.exclude {
            match validate_term(t.get_ref(), false) {
                Ok(term) => exclude.push(term),
                Err((message, fix)) => errors.push(err(path, at(&t.span()), &message, fix)),
            }
        }
        let mut domains = Vec::new();
        for d in &a.domains {
            match validate_domain(d.get_ref()) {
                Ok(d) => domains.push(d),
                Err((message, fix)) => errors.push(err(path, at(&d.span()), &message, fix)),
            }
        }
        if a.terms.is_empty() && a.domains.is_empty() {
            errors.push(err(
                path,
                asset_line,
                &format!("asset \"{id}\" has no terms and no domains"),
                "add terms = [\"name as written\", …] or domains = [\"example.jp\"]",
            ));
        }
        let name = a
            .name
            .as_ref()
            .map(|n| n.get_ref().trim().to_string())
            .filter(|n| !n.is_empty())
            .or_else(|| a.terms.first().map(|t| t.get_ref().trim().to_string()))
            .unwrap_or_else(|| id.clone());
        assets.push(Asset {
            id,
            name,
            kind,
            terms,
            domains,
            exclude,
            require_sale_context: a.require_sale_context.unwrap_or(true),
            severity,
        });
    }
    if errors.is_empty() {
        Ok(Watchlist {
            customer,
            source: path.to_path_buf(),
            assets,
        })
    } else {
        Err(errors)
    }
}

/// Checks a term (or, with `is_term = false`, an exclude phrase) and folds it.
fn validate_term(written: &str, is_term: bool) -> Result<WatchTerm, (String, &'static str)> {
    let what = if is_term { "term" } else { "exclude phrase" };
    if written.trim().is_empty() {
        return Err((
            format!("empty {what}"),
            "remove it or write the name it should match",
        ));
    }
    let Some(key) = PhraseKey::new(written) else {
        return Err((
            format!(
                "{what} \"{written}\" is only separators or invisible characters once normalised"
            ),
            "write the name with letters, digits or CJK characters",
        ));
    };
    if is_term {
        if let Some(problem) = too_short(&key.key) {
            return Err((
                format!("term \"{written}\" {problem} and would match almost everywhere"),
                "use a longer, more specific name (or put it in a longer phrase)",
            ));
        }
    }
    Ok(WatchTerm {
        written: written.to_string(),
        key,
    })
}

/// Why a folded key is too short to watch, if it is.
fn too_short(key: &str) -> Option<&'static str> {
    let n = key.chars().count();
    if key.chars().any(is_han) {
        (n < 2).then_some("is a single ideograph")
    } else if key.chars().any(|c| is_kana(c) || is_cjk(c)) {
        (n < 3).then_some("is shorter than 3 kana/hangul")
    } else if key.chars().all(|c| c.is_ascii_digit()) {
        (n < 3).then_some("is shorter than 3 digits")
    } else {
        (n < 2).then_some("is a single letter")
    }
}

/// Normalises a watched domain (`https://MUFG.jp/` → `mufg.jp`) and checks its shape.
fn validate_domain(written: &str) -> Result<String, (String, &'static str)> {
    let mut d = textfold::fold_str(written.trim());
    for prefix in ["https://", "http://", "*.", "."] {
        if let Some(rest) = d.strip_prefix(prefix) {
            d = rest.to_string();
        }
    }
    let d = d.trim_end_matches(['/', '.']).to_string();
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if d.is_empty() {
        return Err((
            "empty domain".to_string(),
            "remove it or write a domain such as example.jp",
        ));
    }
    if !d.contains('.') || !d.split('.').all(ok_label) {
        return Err((
            format!("\"{written}\" is not a domain name"),
            "write a bare domain such as example.co.jp (no path, no @)",
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Result<WatchlistSet, LoadErrors> {
        WatchlistSet::from_toml_str(Path::new("w.toml"), src)
    }

    #[test]
    fn loads_the_design_example() {
        let set = load(
            r#"customer = "mufg-group"
[[assets]]
id = "mufg"
name = "三菱UFJ銀行"
kind = "bank"
terms = ["三菱UFJ銀行", "MUFG", "三菱日联银行"]
domains = ["mufg.jp"]
exclude = ["三菱UFJ銀行からのお知らせ"]
require_sale_context = true
severity = "critical"
"#,
        )
        .expect("valid");
        assert_eq!(set.customers().collect::<Vec<_>>(), ["mufg-group"]);
        assert_eq!(set.asset_count(), 1);
        let a = &set.watchlists()[0].assets()[0];
        assert_eq!(a.base_severity(), Severity::Critical);
        assert_eq!(a.domains(), ["mufg.jp"]);
    }

    /// (watchlist source, expected line, a fragment of the message)
    const INVALID: &[(&str, usize, &str)] = &[
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"\"]\n", 4, "empty term"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"ab\"]\n[[assets]]\nid = \"a\"\nterms = [\"cd\"]\n", 6, "duplicate asset id"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"ab\"]\ncolour = \"red\"\n", 5, "unknown field"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"\u{200B}・\"]\n", 4, "only separators"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"X\"]\n", 4, "single letter"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"銀\"]\n", 4, "single ideograph"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"ゆう\"]\n", 4, "kana"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"12\"]\n", 4, "digits"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nkind = \"bnak\"\nterms = [\"ab\"]\n", 4, "unknown kind"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nseverity = \"urgent\"\nterms = [\"ab\"]\n", 4, "unknown severity"),
        ("[[assets]]\nid = \"a\"\nterms = [\"ab\"]\n", 1, "missing customer"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\ndomains = [\"x@y\"]\n", 4, "not a domain"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\n", 2, "no terms and no domains"),
        ("customer = \"c\"\n[[assets]]\nid = \"a\"\nterms = [\"ab\"\n", 4, ""),
    ];

    #[test]
    fn invalid_watchlists_name_line_and_fix() {
        for &(src, line, fragment) in INVALID {
            let e = load(src).expect_err(src);
            let first = &e.errors()[0];
            assert_eq!(first.line, Some(line), "line for {src:?}: {e}");
            assert!(first.message.contains(fragment), "{fragment:?} in {e}");
            assert!(!first.fix.is_empty());
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("w.toml:{line}: ")), "{shown}");
            assert!(shown.contains(" — "), "{shown}");
        }
    }

    #[test]
    fn loads_a_folder_sorted_and_rejects_duplicate_customers() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("b.toml"),
            "customer = \"b\"\n[[assets]]\nid = \"x\"\nterms = [\"bee corp\"]\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("a.toml"),
            "customer = \"a\"\n[[assets]]\nid = \"x\"\nterms = [\"ay corp\"]\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not a watchlist").expect("write");
        let set = WatchlistSet::load(dir.path()).expect("valid folder");
        assert_eq!(set.customers().collect::<Vec<_>>(), ["a", "b"]);
        std::fs::write(
            dir.path().join("c.toml"),
            "customer = \"a\"\n[[assets]]\nid = \"y\"\nterms = [\"cee\"]\n",
        )
        .expect("write");
        let e = WatchlistSet::load(dir.path()).expect_err("duplicate customer");
        assert!(e.to_string().contains("already defined"), "{e}");
        assert!(WatchlistSet::load(&dir.path().join("missing.toml")).is_err());
    }
}

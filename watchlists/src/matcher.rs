//! The matcher: a term gate first (does any watched term or domain occur at all? most
//! documents stop there), then one phrase scanner (Aho-Corasick) over every customer's terms,
//! exclude phrases and the cue lexicon, run once over a document's folded, separator-free
//! text; then boundary checks, exclusions, sale-context gating and one alert per (customer,
//! asset). Pure: no I/O, no state between documents.

use std::collections::HashMap;
use std::ops::Range;

use textfold::{is_cjk, is_kana};

use crate::alert::{Alert, Severity};
use crate::config::WatchlistSet;
use crate::cues::{CueKind, CueLexicon};
use crate::domains::DomainIndex;
use crate::gate::{Gate, GateKey, Verdict};
use crate::scanner::PhraseScanner;
use crate::text::{is_separator, is_transparent, is_word_char, MatchText, PhraseKey};

/// How far (in characters of the original text) a cue may be from a hit and still count.
pub const CUE_WINDOW_CHARS: usize = 200;
/// Characters of original text kept on each side of a hit in an alert's snippet.
const SNIPPET_CHARS: usize = 60;
/// Latin terms at least this long (bytes, separators removed) may be split by spaces
/// anywhere (`Mitsu bishi UFJ`); shorter ones only when letter-spaced (`M U F G`).
const LONG_TERM_BYTES: usize = 8;
/// Longest separator run (in characters) ignored inside a term.
const MAX_INNER_SEPARATOR_RUN: usize = 3;

/// One document to match (the fields of the JSONL document the matcher uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct MatchDocument<'a> {
    /// The document's id, copied into its alerts.
    pub id: &'a str,
    /// The site profile it came from, copied into its alerts.
    pub site: Option<&'a str>,
    /// The page it came from, copied into its alerts.
    pub url: Option<&'a str>,
    /// `"listing"`, `"post"` or `"thread"`. Only a listing (or a document
    /// of no kind) counts its `price` as a sale context.
    pub kind: Option<&'a str>,
    /// The title: searched for terms, and a sale cue or warning in it
    /// counts for every hit in the document.
    pub title: Option<&'a str>,
    /// The body text, searched for terms and sale cues.
    pub body: Option<&'a str>,
    /// The price as written; a non-empty one on a listing puts every hit
    /// in a sale context.
    pub price: Option<&'a str>,
}

/// Matches documents against every customer's watchlist at once.
#[derive(Debug)]
pub struct Matcher {
    scanner: PhraseScanner,
    /// The watch terms and the first labels of watched domains: a document where none
    /// occurs raises no alert, so most documents get only this look (`None`: nothing is
    /// watched).
    gate: Option<Gate>,
    /// Some watched domain has no usable first label: every document gets the full scan.
    gate_open: bool,
    patterns: Vec<Pattern>,
    assets: Vec<AssetEntry>,
    domains: DomainIndex,
    /// Folded "not before" continuations of line-start cues, indexed by `Role::LineStart`.
    not_before: Vec<Vec<String>>,
    /// Folded words that join a warning word to the goods it names, after / before it.
    goods_links: GoodsLinks,
}

/// Folded, separator-free forms of the lexicon's `[goods_link]` words.
#[derive(Debug, Default)]
struct GoodsLinks {
    after_warning: Vec<String>,
    before_warning: Vec<String>,
}

#[derive(Debug)]
struct AssetEntry {
    customer: String,
    id: String,
    name: String,
    base: Severity,
    require_sale_context: bool,
}

#[derive(Debug, Default)]
struct Pattern {
    roles: Vec<Role>,
    /// Offsets in the key where a written form had a separator.
    breaks: Vec<u32>,
    /// The key starts / ends with a letter or digit of a space-separated script: the match
    /// must start / end on a word boundary.
    left_word: bool,
    right_word: bool,
    /// The key's last character, when it is kana (a longer kana word may continue it).
    kana_tail: Option<char>,
    /// Some role is a watch term.
    has_term: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Term(u32),
    Exclude(u32),
    Cue(CueKind),
    LineStart(CueKind, u32),
    NotOffer,
    Warning,
    TitleWarning,
    NotWarning,
    Goods,
}

/// A hit of an asset (term or domain) in folded coordinates.
#[derive(Debug, Clone)]
struct AssetHit {
    asset: u32,
    folded: Range<usize>,
}

impl Matcher {
    /// Builds the automaton for every asset of `set` with the shipped cue lexicon.
    pub fn new(set: &WatchlistSet) -> Matcher {
        Matcher::with_lexicon(set, &CueLexicon::shipped())
    }

    /// Builds the automaton with a custom (e.g. shipped + extended) cue lexicon.
    pub fn with_lexicon(set: &WatchlistSet, lexicon: &CueLexicon) -> Matcher {
        let mut builder = PatternBuilder::default();
        let mut assets = Vec::new();
        let mut domains = DomainIndex::default();
        for w in set.watchlists() {
            for a in w.assets() {
                let idx = assets.len() as u32;
                assets.push(AssetEntry {
                    customer: w.customer().to_string(),
                    id: a.id().to_string(),
                    name: a.name().to_string(),
                    base: a.base_severity(),
                    require_sale_context: a.require_sale_context(),
                });
                for t in a.terms() {
                    builder.add(t.key.clone(), Role::Term(idx));
                }
                for x in a.exclude() {
                    builder.add(x.key.clone(), Role::Exclude(idx));
                }
                for d in a.domains() {
                    domains.insert(d, idx);
                }
            }
        }
        for (phrase, kind) in &lexicon.cues {
            builder.add_phrase(phrase, Role::Cue(*kind));
        }
        let mut not_before = Vec::new();
        for (c, kind, nb) in &lexicon.line_start {
            let folded: Vec<String> = nb
                .iter()
                .filter_map(|s| PhraseKey::new(s))
                .map(|k| k.key)
                .collect();
            builder.add_phrase(
                &c.to_string(),
                Role::LineStart(*kind, not_before.len() as u32),
            );
            not_before.push(folded);
        }
        for p in &lexicon.not_offer {
            builder.add_phrase(p, Role::NotOffer);
        }
        for p in &lexicon.warning {
            builder.add_phrase(p, Role::Warning);
        }
        for p in &lexicon.title_warning {
            builder.add_phrase(p, Role::TitleWarning);
        }
        for p in &lexicon.not_warning {
            builder.add_phrase(p, Role::NotWarning);
        }
        for p in &lexicon.goods {
            builder.add_phrase(p, Role::Goods);
        }
        let folded_keys = |words: &[String]| -> Vec<String> {
            words
                .iter()
                .filter_map(|w| PhraseKey::new(w))
                .map(|k| k.key)
                .collect()
        };
        let goods_links = GoodsLinks {
            after_warning: folded_keys(&lexicon.goods_link_after),
            before_warning: folded_keys(&lexicon.goods_link_before),
        };
        let mut gate_keys: Vec<GateKey> = builder
            .keys
            .iter()
            .zip(&builder.patterns)
            .filter(|(_, p)| p.has_term)
            .map(|(k, p)| GateKey {
                key: k.clone(),
                right_word: p.right_word,
                kana_tail: p.kana_tail,
            })
            .collect();
        // A domain's first label starts every spelling of it (`mufg.jp`, `mufg[.]jp`, a
        // subdomain's `login.mufg.jp`) in the separator-free view; no boundary checks.
        let mut gate_open = false;
        for d in domains.names() {
            match PhraseKey::new(d.split('.').next().unwrap_or(d)) {
                Some(k) => gate_keys.push(GateKey {
                    key: k.key,
                    right_word: false,
                    kana_tail: None,
                }),
                None => gate_open = true,
            }
        }
        // The two automata are independent: build them on two threads.
        let (scanner, gate) = std::thread::scope(|scope| {
            let gate = scope.spawn(|| Gate::new(gate_keys));
            let scanner = PhraseScanner::new(&builder.keys);
            let gate = gate
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (scanner, gate)
        });
        Matcher {
            scanner,
            gate,
            gate_open,
            patterns: builder.patterns,
            assets,
            domains,
            not_before,
            goods_links,
        }
    }

    /// Heap bytes used by the automaton.
    pub fn automaton_memory(&self) -> usize {
        self.scanner.memory_usage() + self.gate.as_ref().map_or(0, Gate::memory_usage)
    }

    /// Number of distinct phrases in the automaton (terms, exclusions and cues).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Runs only the phrase scanner over a prepared document; returns the number of raw
    /// matches. For benchmarks.
    #[cfg(feature = "bench")]
    pub fn scan_count(&self, text: &crate::bench_support::PreparedText) -> usize {
        let mut n = 0;
        self.scanner
            .for_each_match(&text.0.stripped, &text.0.run_starts, |_, _, _| n += 1);
        n
    }

    /// Whether the term gate lets a document through to the full scan (a watch term or a
    /// watched domain's first label may occur). For benchmarks.
    #[cfg(feature = "bench")]
    pub fn gate_passes(&self, title: Option<&str>, body: Option<&str>) -> bool {
        self.gate
            .as_ref()
            .is_some_and(|g| g.check(title, body) != Verdict::Clear)
    }

    /// The gate's term scan alone over a document already folded into its view (no folding,
    /// no JSON): whether some watch key occurs. For benchmarks.
    #[cfg(feature = "bench")]
    pub fn gate_scan(&self, view: &crate::bench_support::GateView) -> bool {
        let mut cands = Vec::new();
        self.gate
            .as_ref()
            .is_some_and(|g| g.scan_view(&view.0, &mut cands))
    }

    /// (records, candidate starts the gate's probe passes to confirmation) of a document
    /// folded into the gate's view. For benchmarks.
    #[cfg(feature = "bench")]
    pub fn gate_stats(&self, view: &crate::bench_support::GateView) -> [usize; 2] {
        let mut cands = Vec::new();
        if let Some(g) = &self.gate {
            g.scan_view(&view.0, &mut cands);
        }
        [view.0.len(), cands.len()]
    }

    /// (character positions, first-character candidates, prefix-filter candidates, bytes
    /// walked, match states reached) of a prepared view. For benchmarks.
    #[cfg(feature = "bench")]
    pub fn filter_stats(&self, text: &crate::bench_support::PreparedText) -> [usize; 5] {
        self.scanner.filter_stats(&text.0.stripped)
    }

    /// Matches one document; returns one alert per (customer, asset) found in a sale context.
    pub fn match_document(&self, doc: &MatchDocument<'_>) -> Vec<Alert> {
        if !self.gate_open {
            match &self.gate {
                None => return Vec::new(),
                Some(g) if g.check(doc.title, doc.body) == Verdict::Clear => return Vec::new(),
                Some(_) => {}
            }
        }
        self.match_full(doc)
    }

    /// [`match_document`](Self::match_document) without the term gate (every document gets
    /// the full scan): the reference the gate is tested and fuzzed against.
    #[cfg(feature = "bench")]
    pub fn match_document_ungated(&self, doc: &MatchDocument<'_>) -> Vec<Alert> {
        self.match_full(doc)
    }

    /// [`match_document`](Self::match_document) without the gate: every document gets the
    /// full scan. The reference the gate is tested against.
    pub(crate) fn match_full(&self, doc: &MatchDocument<'_>) -> Vec<Alert> {
        let text = MatchText::new(doc.title, doc.body);
        let scan = self.scan(&text);
        if scan.hits.is_empty() {
            return Vec::new();
        }
        self.decide(doc, &text, scan)
    }

    /// Runs the automaton and the domain scan, keeping only hits that pass boundary checks.
    fn scan(&self, text: &MatchText) -> Scan {
        let mut s = Scan::default();
        self.scanner
            .for_each_match(&text.stripped, &text.run_starts, |pattern, start, end| {
                self.process_match(text, pattern, start, end, &mut s)
            });
        self.domains.scan(text.folded_str(), |asset, folded| {
            s.hits.push(AssetHit { asset, folded })
        });
        s
    }

    /// Boundary checks and role bookkeeping for one automaton match.
    fn process_match(
        &self,
        text: &MatchText,
        pattern: usize,
        start: usize,
        end: usize,
        s: &mut Scan,
    ) {
        let p = &self.patterns[pattern];
        let stripped = start..end;
        let folded = text.folded_range(stripped.clone());
        if !self.accepts(p, text, &stripped, &folded) {
            return;
        }
        for &role in &p.roles {
            match role {
                Role::Term(asset) => s.hits.push(AssetHit {
                    asset,
                    folded: folded.clone(),
                }),
                Role::Exclude(asset) => s.excludes.push((asset, folded.clone())),
                Role::Cue(kind) => s.cues.push((kind, folded.clone())),
                Role::LineStart(kind, nb) => {
                    let rest = &text.stripped[stripped.end..];
                    if at_line_start(text.folded_str(), folded.start)
                        && !self.not_before[nb as usize]
                            .iter()
                            .any(|n| rest.starts_with(n.as_str()))
                    {
                        s.cues.push((kind, folded.clone()));
                    }
                }
                Role::NotOffer => s.not_offer.push(folded.clone()),
                Role::Warning => s.warnings.push(folded.clone()),
                Role::TitleWarning => s.title_warnings.push(folded.clone()),
                Role::NotWarning => s.not_warning.push(folded.clone()),
                Role::Goods => s.goods.push(folded.clone()),
            }
        }
    }

    /// Boundary, separator and kana-continuation checks for one automaton match.
    fn accepts(
        &self,
        p: &Pattern,
        text: &MatchText,
        stripped: &Range<usize>,
        folded: &Range<usize>,
    ) -> bool {
        let f = text.folded_str();
        if p.left_word
            && f[..folded.start]
                .chars()
                .rev()
                .take(16)
                .find(|&c| !is_transparent(c))
                .is_some_and(is_word_char)
        {
            return false;
        }
        let next = f[folded.end..]
            .chars()
            .take(16)
            .find(|&c| !is_transparent(c));
        if p.right_word && next.is_some_and(is_word_char) {
            return false;
        }
        if let (Some(last), Some(n)) = (p.kana_tail, next) {
            if kana_continues(last, n) {
                return false;
            }
        }
        if folded.len() != stripped.len()
            && !inner_separators_ok(&f[folded.clone()], &p.breaks, stripped.len())
        {
            return false;
        }
        true
    }

    fn decide(&self, doc: &MatchDocument<'_>, text: &MatchText, mut scan: Scan) -> Vec<Alert> {
        // Every step below is O(n log n) in the number of hits and cues, so a hostile
        // document repeating a term and a cue many times stays linear-ish.
        let not_offer = Nested::new(std::mem::take(&mut scan.not_offer));
        scan.cues.retain(|(_, r)| !not_offer.covers(r));
        let not_warning = Nested::new(std::mem::take(&mut scan.not_warning));
        scan.warnings.retain(|r| !not_warning.covers(r));
        scan.title_warnings.retain(|r| !not_warning.covers(r));
        let goods = std::mem::take(&mut scan.goods);
        drop_goods_names(
            text.folded_str(),
            &mut scan.warnings,
            &goods,
            &self.goods_links,
        );
        let mut excludes: HashMap<u32, Vec<Range<usize>>> = HashMap::new();
        for (a, r) in std::mem::take(&mut scan.excludes) {
            excludes.entry(a).or_default().push(r);
        }
        let excludes: HashMap<u32, Nested> = excludes
            .into_iter()
            .map(|(a, v)| (a, Nested::new(v)))
            .collect();
        scan.hits
            .retain(|h| !excludes.get(&h.asset).is_some_and(|x| x.covers(&h.folded)));
        scan.hits
            .sort_by_key(|h| (h.asset, h.folded.start, h.folded.end));

        let orig = |r: &Range<usize>| text.original_range(r.clone());
        let mut cues: Vec<(CueKind, Range<usize>)> =
            scan.cues.iter().map(|(k, r)| (*k, orig(r))).collect();
        drop_contained(&mut cues, |(_, r)| r.clone());
        let warnings: Vec<Range<usize>> = scan.warnings.iter().map(orig).collect();
        let in_title = |r: &Range<usize>| r.start < text.title_end;
        // A market listing with a price: kind "listing", or no kind at all (only market
        // extractors fill `price`); a post or thread quoting a price is not a listing.
        let listing_price = doc
            .kind
            .is_none_or(|k| k.trim().eq_ignore_ascii_case("listing"))
            .then(|| doc.price.map(str::trim).filter(|p| !p.is_empty()))
            .flatten();
        // An offer in the title outweighs a warning or news phrase in the body ("骗子别来").
        let title_offers = cues.iter().any(|(k, r)| *k == CueKind::Sell && in_title(r));
        let warning_in_title = warnings.iter().any(in_title)
            || scan.title_warnings.iter().map(orig).any(|r| in_title(&r));

        let mut alerts = Vec::new();
        let mut i = 0;
        while i < scan.hits.len() {
            let asset_idx = scan.hits[i].asset;
            let mut j = i;
            while j < scan.hits.len() && scan.hits[j].asset == asset_idx {
                j += 1;
            }
            let mut hits: Vec<Range<usize>> =
                scan.hits[i..j].iter().map(|h| orig(&h.folded)).collect();
            drop_contained(&mut hits, Range::clone);
            i = j;
            let asset = &self.assets[asset_idx as usize];

            let near_hit = |r: &Range<usize>| near_any(&text.original, &hits, r);
            let support: Vec<(CueKind, Range<usize>)> = cues
                .iter()
                .filter(|(_, r)| in_title(r) || near_hit(r))
                .cloned()
                .collect();
            let warned = warning_in_title || (!title_offers && warnings.iter().any(near_hit));
            let in_context = listing_price.is_some() || (!support.is_empty() && !warned);
            if asset.require_sale_context && !in_context {
                continue;
            }
            let strongest = support.iter().map(|(k, _)| *k).max();
            let severity = if listing_price.is_some()
                || matches!(strongest, Some(CueKind::Sell | CueKind::Trade))
            {
                asset.base
            } else {
                asset.base.lower()
            };
            let mut context: Vec<String> = Vec::new();
            if in_context {
                for (_, r) in &support {
                    push_unique(&mut context, &text.original[r.clone()]);
                }
                if let Some(p) = listing_price {
                    push_unique(&mut context, &format!("price: {p}"));
                }
            }
            let mut terms = Vec::new();
            for h in &hits {
                push_unique(&mut terms, &text.original[h.clone()]);
            }
            let support_ranges: Vec<Range<usize>> =
                support.iter().map(|(_, r)| r.clone()).collect();
            let focus = hits
                .iter()
                .find(|h| near_any(&text.original, &support_ranges, h))
                .unwrap_or(&hits[0]);
            alerts.push(Alert {
                doc_id: doc.id.to_string(),
                customer: asset.customer.clone(),
                asset: asset.id.clone(),
                asset_name: asset.name.clone(),
                severity,
                terms,
                context,
                snippet: snippet(&text.original, focus),
                url: doc.url.map(str::to_string),
                site: doc.site.map(str::to_string),
                entities: Vec::new(),
            });
        }
        alerts
    }
}

#[derive(Default)]
struct Scan {
    hits: Vec<AssetHit>,
    excludes: Vec<(u32, Range<usize>)>,
    cues: Vec<(CueKind, Range<usize>)>,
    not_offer: Vec<Range<usize>>,
    warnings: Vec<Range<usize>>,
    title_warnings: Vec<Range<usize>>,
    not_warning: Vec<Range<usize>>,
    goods: Vec<Range<usize>>,
}

#[derive(Default)]
struct PatternBuilder {
    keys: Vec<String>,
    patterns: Vec<Pattern>,
    by_key: HashMap<String, usize>,
}

impl PatternBuilder {
    fn add_phrase(&mut self, phrase: &str, role: Role) {
        if let Some(k) = PhraseKey::new(phrase) {
            self.add(k, role);
        }
    }

    fn add(&mut self, key: PhraseKey, role: Role) {
        let idx = *self.by_key.entry(key.key.clone()).or_insert_with(|| {
            let first = key.key.chars().next();
            let last = key.key.chars().next_back();
            self.keys.push(key.key.clone());
            self.patterns.push(Pattern {
                left_word: first.is_some_and(is_word_char),
                right_word: last.is_some_and(is_word_char),
                kana_tail: last.filter(|&c| is_kana(c)),
                ..Pattern::default()
            });
            self.patterns.len() - 1
        });
        let p = &mut self.patterns[idx];
        if !p.roles.contains(&role) {
            p.roles.push(role);
        }
        p.has_term |= matches!(role, Role::Term(_));
        for b in key.breaks {
            if let Err(at) = p.breaks.binary_search(&b) {
                p.breaks.insert(at, b);
            }
        }
    }
}

/// True when `pos` in folded text is at the start of the text or of a line, ignoring
/// separators (brackets, spaces) before it.
fn at_line_start(folded: &str, pos: usize) -> bool {
    for c in folded[..pos].chars().rev() {
        if c == '\n' {
            return true;
        }
        if !is_separator(c) {
            return false;
        }
    }
    true
}

/// Longest run of separators (in characters) between a warning word, a link word and the
/// goods it names (`phishing - kit`).
const MAX_GOODS_GAP: usize = 3;

/// Drops the warning words that name goods on offer rather than warn: a warning word
/// followed by goods (`phishing kit`, `钓鱼页面`), by a link word and goods (`钓鱼用的页面`),
/// or by another warning word that names goods (`フィッシング詐欺サイト`); or preceded by
/// goods and a link word (`kit for phishing`). Decided on the folded text: only separators
/// (no line break) may stand between the pieces. Other warning words stay.
fn drop_goods_names(
    folded: &str,
    warnings: &mut Vec<Range<usize>>,
    goods: &[Range<usize>],
    links: &GoodsLinks,
) {
    if goods.is_empty() || warnings.is_empty() {
        return;
    }
    let mut goods_starts: Vec<usize> = goods.iter().map(|r| r.start).collect();
    goods_starts.sort_unstable();
    let mut goods_ends: Vec<usize> = goods.iter().map(|r| r.end).collect();
    goods_ends.sort_unstable();
    // Latest first, so a chain (`フィッシング詐欺サイト`) is decided from its end.
    warnings.sort_by_key(|r| std::cmp::Reverse((r.start, r.end)));
    let mut naming_starts: Vec<usize> = Vec::new();
    warnings.retain(|w| {
        let named =
            |at: usize| goods_starts.binary_search(&at).is_ok() || naming_starts.contains(&at);
        let next = skip_gap_forward(folded, w.end);
        let after = named(next)
            || links.after_warning.iter().any(|link| {
                folded[next..].starts_with(link.as_str())
                    && named(skip_gap_forward(folded, next + link.len()))
            });
        let before = || {
            let prev = skip_gap_backward(folded, w.start);
            links.before_warning.iter().any(|link| {
                folded[..prev].ends_with(link.as_str())
                    && goods_ends
                        .binary_search(&skip_gap_backward(folded, prev - link.len()))
                        .is_ok()
            })
        };
        let names_goods = after || before();
        if names_goods {
            naming_starts.push(w.start);
        }
        !names_goods
    });
    warnings.sort_by_key(|r| (r.start, r.end));
}

/// The folded offset after at most `MAX_GOODS_GAP` separators (no line break) from `at`.
fn skip_gap_forward(folded: &str, at: usize) -> usize {
    let mut pos = at;
    let mut gap = 0;
    for c in folded[at..].chars() {
        if is_transparent(c) {
            pos += c.len_utf8();
            continue;
        }
        if c == '\n' || !is_separator(c) || gap == MAX_GOODS_GAP {
            break;
        }
        gap += 1;
        pos += c.len_utf8();
    }
    pos
}

/// The folded offset before at most `MAX_GOODS_GAP` separators (no line break) ending at `at`.
fn skip_gap_backward(folded: &str, at: usize) -> usize {
    let mut pos = at;
    let mut gap = 0;
    for c in folded[..at].chars().rev() {
        if is_transparent(c) {
            pos -= c.len_utf8();
            continue;
        }
        if c == '\n' || !is_separator(c) || gap == MAX_GOODS_GAP {
            break;
        }
        gap += 1;
        pos -= c.len_utf8();
    }
    pos
}

/// A kana word continues past a term that ends in kana: `ゆうちょ` is not in `ゆうちょう`
/// (悠長), nor before a small kana, a prolonged sound mark or a voicing mark.
pub(crate) fn kana_continues(last: char, next: char) -> bool {
    const SMALL: &str = "ぁぃぅぇぉっゃゅょゎゕゖー゛゜\u{3099}\u{309A}ゝゞ";
    if SMALL.contains(next) {
        return true;
    }
    // Long vowel: an o- or u-column kana followed by う.
    const O_U_COLUMN: &str = "おこごそぞとどのほぼぽもよょろをうくぐすずつづぬふぶぷむゆゅる";
    next == 'う' && O_U_COLUMN.contains(last)
}

/// Whether the separators inside a match (`seg`, folded) are evasion padding rather than
/// real word breaks: runs of at most three characters without a newline, at a break the
/// term itself has, next to a CJK character, or between Latin letters only as punctuation
/// (`M.U.F.G`) or letter-spacing (`M U F G`, pieces of at most two letters; any split of
/// a term of `LONG_TERM_BYTES` or more, which words do not spell by accident).
fn inner_separators_ok(seg: &str, breaks: &[u32], term_len: usize) -> bool {
    struct Piece {
        len_chars: usize,
        first: char,
        last: char,
    }
    struct Gap {
        at: u32,
        chars: usize,
        newline: bool,
        space: bool,
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let mut gaps: Vec<Gap> = Vec::new();
    let mut key_len = 0u32;
    let mut in_gap = false;
    for c in seg.chars() {
        if is_transparent(c) {
            continue;
        }
        if is_separator(c) {
            if !in_gap {
                gaps.push(Gap {
                    at: key_len,
                    chars: 0,
                    newline: false,
                    space: false,
                });
                in_gap = true;
            }
            if let Some(g) = gaps.last_mut() {
                g.chars += 1;
                g.newline |= c == '\n';
                g.space |= c.is_whitespace();
            }
        } else {
            if in_gap || pieces.is_empty() {
                pieces.push(Piece {
                    len_chars: 0,
                    first: c,
                    last: c,
                });
                in_gap = false;
            }
            if let Some(p) = pieces.last_mut() {
                p.len_chars += 1;
                p.last = c;
            }
            key_len += c.len_utf8() as u32;
        }
    }
    gaps.iter().enumerate().all(|(g_idx, g)| {
        if g.chars > MAX_INNER_SEPARATOR_RUN || g.newline {
            return false;
        }
        if breaks.binary_search(&g.at).is_ok() {
            return true;
        }
        let (Some(before), Some(after)) = (pieces.get(g_idx), pieces.get(g_idx + 1)) else {
            return true;
        };
        if is_cjk(before.last) || is_cjk(after.first) {
            return true;
        }
        !g.space || term_len >= LONG_TERM_BYTES || (before.len_chars <= 2 && after.len_chars <= 2)
    })
}

/// Characters between two original ranges (0 when they overlap).
fn char_gap(original: &str, a: &Range<usize>, b: &Range<usize>) -> usize {
    let (lo, hi) = if a.end <= b.start {
        (a.end, b.start)
    } else if b.end <= a.start {
        (b.end, a.start)
    } else {
        return 0;
    };
    let gap = &original[lo..hi];
    if gap.len() <= CUE_WINDOW_CHARS {
        return gap.len().min(gap.chars().count());
    }
    if gap.len() > CUE_WINDOW_CHARS * 4 {
        return CUE_WINDOW_CHARS + 1;
    }
    gap.chars().count()
}

/// Sorts by position and drops every item whose range lies inside another's
/// (`三菱UFJ` inside `三菱UFJ銀行`, `出` inside `出售`).
fn drop_contained<T>(items: &mut Vec<T>, range: impl Fn(&T) -> Range<usize>) {
    items.sort_by_key(|x| {
        let r = range(x);
        (r.start, std::cmp::Reverse(r.end))
    });
    let mut max_end = 0;
    let mut first = true;
    items.retain(|x| {
        let r = range(x);
        let keep = first || r.end > max_end;
        first = false;
        max_end = max_end.max(r.end);
        keep
    });
}

/// Most distinct strings an alert lists in `terms` or `context`.
const MAX_LISTED: usize = 20;

fn push_unique(list: &mut Vec<String>, s: &str) {
    if list.len() < MAX_LISTED && !list.iter().any(|x| x == s) {
        list.push(s.to_string());
    }
}

/// Ranges (possibly nested) answering "is this range inside one of them?" in O(log n).
struct Nested {
    /// Sorted by start.
    ranges: Vec<Range<usize>>,
    /// `max_end[k]`: the largest end among `ranges[..=k]`.
    max_end: Vec<usize>,
}

impl Nested {
    fn new(mut ranges: Vec<Range<usize>>) -> Nested {
        ranges.sort_by_key(|r| r.start);
        let mut m = 0;
        let max_end = ranges
            .iter()
            .map(|r| {
                m = m.max(r.end);
                m
            })
            .collect();
        Nested { ranges, max_end }
    }

    fn covers(&self, r: &Range<usize>) -> bool {
        let n = self.ranges.partition_point(|x| x.start <= r.start);
        n > 0 && self.max_end[n - 1] >= r.end
    }
}

/// Whether `r` is within `CUE_WINDOW_CHARS` characters of one of `sorted`, which is
/// sorted by start with no range inside another (so ends are sorted too): only the
/// neighbours on each side need checking.
fn near_any(original: &str, sorted: &[Range<usize>], r: &Range<usize>) -> bool {
    let k = sorted.partition_point(|x| x.start < r.start);
    let left = k.checked_sub(1).and_then(|k| sorted.get(k));
    // Ranges starting at or after r.start: the first is the closest; an earlier-ending
    // overlap can only be found among the left ones, which `left` covers (ends sorted).
    let right = sorted.get(k);
    left.into_iter()
        .chain(right)
        .any(|x| char_gap(original, x, r) <= CUE_WINDOW_CHARS)
}

/// One line of original text around `hit`: up to `SNIPPET_CHARS` characters each side,
/// whitespace collapsed.
fn snippet(original: &str, hit: &Range<usize>) -> String {
    let start = original[..hit.start]
        .char_indices()
        .rev()
        .nth(SNIPPET_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let end = original[hit.end..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(original.len(), |(i, _)| hit.end + i);
    original[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

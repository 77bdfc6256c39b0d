//! Extraction: one decoded page plus its site profile → documents and the
//! in-site links to follow. Rules come from the profile, then its engine
//! preset (fixed, or recognised on the page), then generic extraction.
//! Pure: no I/O, so it is tested on saved pages.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::canonical::{encoding_for_label, resolve_href, CanonicalUrl};
use crate::dates::{parse_date, DateContext, SiteZone};
use crate::document::{Document, DocumentKind};
use crate::engines::{detect, Engine, EngineChoice};
use crate::generic::{
    find_rows_at, main_text, read_each, read_rows, topic_meta, wall, without_label, ColumnField,
    GenericRow, RecordSet, TopicMeta, Wall,
};
use crate::hidden::Hidden;
use crate::rules::SiteRules;
use crate::scope::admit;
use crate::selectors::{FieldRule, FieldSpec, ListSelectors, Pick, TopicSelectors};
use crate::text::{element_text, element_text_without, tidy};

/// What one page yielded.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// The documents read from the page, in page order: one for a topic
    /// page, one per row (not left to its topic page) for a list page, one
    /// per message for a Telegram preview; none on a wall (CAPTCHA, login).
    pub documents: Vec<Document>,
    /// In-scope links (see [`crate::admit`]) in canonical form,
    /// deduplicated, in page order.
    pub links: Vec<Url>,
    /// On a list page, the reply count each row shows, by the row's link
    /// (also for rows left to their topic page): how the crawl tells a topic
    /// with new replies from one whose views merely went up.
    pub row_replies: Vec<(Url, String)>,
}

/// Choices of a caller other than the crawl loop.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Emit a document for every list row, also for rows whose topic page
    /// the crawl visits anyway (the crawl leaves those to the topic page, so
    /// a recrawled list never overwrites the fuller topic document).
    pub all_rows: bool,
    /// The URL is a guess (a saved page without `--url`): decide topic or
    /// list page from the content rather than from the topic pattern.
    pub url_is_guess: bool,
    /// Force an engine for this call (`--engine`), overriding the profile's.
    pub engine: Option<EngineChoice>,
}

/// Why each field has its value: for people writing profiles.
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    /// The rules used: `custom`, `preset phpbb`, `preset mybb (detected: …)`,
    /// `generic`.
    pub rules: String,
    /// Topic page, list page, or content page, and why.
    pub page: String,
    /// How each field of each document was found, in reading order.
    pub fields: Vec<FieldTrace>,
    /// When generic detection found the list: its rows' selector and how
    /// each field was read (what `site doctor` writes into a profile).
    pub generic_list: Option<GenericList>,
    /// The clock dates were read in.
    pub zone: Option<SiteZone>,
    /// When the page stands for a source that cannot be read — a Telegram
    /// channel without a public preview (its landing page), private,
    /// blocked or unknown — why, for the crawl to report per source. Also
    /// in `page`.
    pub unavailable: Option<String>,
    /// When the page is a wall in front of the content (a CAPTCHA, an
    /// anti-bot queue, a login form, a script-only shell): which. Also in
    /// `page`.
    pub wall: Option<Wall>,
}

/// What the reader of an engine with one of its own (Telegram, paste) made
/// of a page.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    pub(crate) documents: Vec<Document>,
    pub(crate) traces: Vec<FieldTrace>,
    /// What the page is, for [`Explanation::page`].
    pub(crate) page: String,
    /// See [`Explanation::unavailable`].
    pub(crate) unavailable: Option<String>,
}

/// A list found by generic detection.
#[derive(Debug, Clone, Default)]
pub struct GenericList {
    /// A CSS selector of the rows (header and spacer rows included).
    pub selector: String,
    /// Where in the rows each field was found (a column and its header, or
    /// the cell content).
    pub columns: Vec<ColumnField>,
}

/// How one field of one document was found.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldTrace {
    /// Index of the document in [`Extracted::documents`].
    pub document: usize,
    /// The field's name: `title`, `price`, `posted_at`, or an extra field's
    /// own (`price_usd`).
    pub field: String,
    /// `profile`, `preset phpbb`, `generic`.
    pub origin: String,
    /// The selector (or heuristic) that produced it.
    pub rule: String,
    /// The text on the page, before parsing.
    pub raw: String,
    /// The value kept in the document.
    pub value: String,
}

/// Extracts documents and links from a page of `profile`'s site.
pub fn extract_page(
    profile: &SiteRules,
    url: &Url,
    html: &str,
    fetched_at: DateTime<Utc>,
    encoding: Option<&str>,
) -> Extracted {
    extract_page_explained(
        profile,
        url,
        html,
        fetched_at,
        encoding,
        &ExtractOptions::default(),
    )
    .0
}

/// [`extract_page`] with options, also saying where each field came from.
pub fn extract_page_explained(
    profile: &SiteRules,
    url: &Url,
    html: &str,
    fetched_at: DateTime<Utc>,
    encoding: Option<&str>,
    options: &ExtractOptions,
) -> (Extracted, Explanation) {
    extract_parsed(
        profile,
        url,
        &Html::parse_document(html),
        html,
        fetched_at,
        encoding,
        options,
    )
}

/// [`extract_page_explained`] on a page already parsed from `html` (the
/// crawl parses each page once, for its own checks and for this).
pub fn extract_parsed(
    profile: &SiteRules,
    url: &Url,
    page: &Html,
    html: &str,
    fetched_at: DateTime<Utc>,
    encoding: Option<&str>,
    options: &ExtractOptions,
) -> (Extracted, Explanation) {
    // A script app's shell whose content is in `<noscript>`: read as a
    // client without script (the crawler is one) is shown it.
    let shown_without_script = crate::noscript::without_script(page, html);
    let page = shown_without_script.as_ref().unwrap_or(page);
    let mut explain = Explanation::default();
    let choice = options.engine.unwrap_or(profile.engine);
    let engine = choose_engine(choice, page, html, &mut explain.rules);
    let rules = Rules::new(profile, engine);
    let ctx = Context {
        profile,
        url,
        page,
        fetched_at,
        encoding,
        dates: DateContext {
            zone: site_zone(profile, engine),
            fetched_at,
        },
        hidden: Hidden::of(page),
    };
    explain.zone = Some(ctx.dates.zone);
    // An engine with a reader of its own follows its preset's links also
    // when `auto` recognised it (an `auto` profile follows every link).
    let follow = match engine {
        Some(e) if e.has_own_reader() && choice != EngineChoice::Fixed(e) => &e.preset().follow,
        _ => &profile.links.follow,
    };
    let links = follow_links(profile, url, page, encoding_for_label(encoding), follow);
    if let Some(e) = engine.filter(|e| e.has_own_reader()) {
        if let Some(extracted) = read_with_own_reader(&ctx, e, options, &mut explain) {
            return (Extracted { links, ..extracted }, explain);
        }
        // A paste site in other markup: generic extraction below.
    }
    let use_generic = matches!(choice, EngineChoice::Generic)
        || (choice == EngineChoice::Auto && engine.is_none());
    // Under `auto`, the recognised engine's own topic pattern decides (the
    // union of every engine's would take one engine's list URL for
    // another's topic).
    let topic_pattern = match (choice, engine) {
        (EngineChoice::Auto, Some(e)) if !profile.topic_url_given => &e.preset().topic.url,
        _ => &profile.topic.url,
    };
    let url_says_topic = topic_pattern.is_match(url.as_str());

    // A CAPTCHA, anti-bot, login or script-only page is no content.
    if choice != EngineChoice::Custom {
        if let Some(reason) = wall(page) {
            explain.page = format!("{reason}: no documents");
            explain.wall = Some(reason);
            return (Extracted::default(), explain);
        }
    }
    // Which kind of page is this?
    let row_selector = rules.list_row();
    let preset_rows: Vec<ElementRef<'_>> = match row_selector {
        Some((s, _)) if !use_generic || profile.list.row.is_some() => {
            visible_rows(page.select(s).collect(), &ctx.hidden)
        }
        _ => Vec::new(),
    };
    // Generic list detection walks the whole page: at most once.
    let generic_list = std::cell::OnceCell::new();
    let detect_list = || generic_list.get_or_init(|| find_rows_at(page, Some(url)));
    let topic_page = if options.url_is_guess {
        preset_rows.is_empty()
            && (use_generic || rules.has_topic_fields())
            && detect_list().is_none()
    } else {
        url_says_topic
    };
    let reader = PageReader {
        ctx: &ctx,
        rules: &rules,
        choice,
        use_generic,
        options,
    };
    let mut found = Found::default();
    explain.page = if topic_page {
        let mut page = if options.url_is_guess {
            "topic page (no --url; the page has no list rows)".into()
        } else {
            format!(
                "topic page (URL matches topic.url /{}/)",
                short_pattern(topic_pattern.as_str())
            )
        };
        reader.topic_page(&mut page, &mut found);
        page
    } else if !preset_rows.is_empty() {
        let css = row_selector.map_or("", |(_, css)| css.as_str());
        reader.preset_list(&preset_rows, css, &mut found)
    } else if choice != EngineChoice::Custom {
        reader.detected(detect_list().clone(), &mut explain.generic_list, &mut found)
    } else {
        format!(
            "list page (URL does not match topic.url /{}/; no list.row rows)",
            short_pattern(profile.topic.url.as_str())
        )
    };
    let Found {
        mut documents,
        traces,
        row_replies,
    } = found;
    explain.fields = traces;
    for doc in &mut documents {
        doc.parse_price(profile.currency);
    }
    (
        Extracted {
            documents,
            links,
            row_replies,
        },
        explain,
    )
}

/// The engine whose rules read the page (`None`: the profile's own
/// selectors, or the generic reader), said in `explained`.
fn choose_engine(
    choice: EngineChoice,
    page: &Html,
    html: &str,
    explained: &mut String,
) -> Option<Engine> {
    match choice {
        EngineChoice::Custom => {
            *explained = "custom (the profile's own selectors)".into();
            None
        }
        EngineChoice::Fixed(e) => {
            *explained = format!("preset {}", e.name());
            Some(e)
        }
        EngineChoice::Generic => {
            *explained = "generic".into();
            None
        }
        EngineChoice::Auto => match detect(page, html) {
            Some(d) => {
                *explained = format!("preset {} (detected: {})", d.engine.name(), d.evidence);
                Some(d.engine)
            }
            None => {
                *explained = "generic (no engine recognised)".into();
                None
            }
        },
    }
}

/// The page read by an engine with a reader of its own (Telegram, paste
/// sites), without its links; `None` for a paste site in other markup,
/// left to the generic reader.
fn read_with_own_reader(
    ctx: &Context<'_>,
    engine: Engine,
    options: &ExtractOptions,
    explain: &mut Explanation,
) -> Option<Extracted> {
    let reading = match engine {
        Engine::Telegram => crate::engines::telegram::read(ctx),
        _ => crate::engines::paste::read(ctx, options.all_rows),
    };
    match reading {
        Some(reading) => {
            explain.page = reading.page;
            explain.fields = reading.traces;
            explain.unavailable = reading.unavailable;
            Some(Extracted {
                documents: reading.documents,
                links: Vec::new(),
                row_replies: Vec::new(),
            })
        }
        None if engine == Engine::Telegram => {
            explain.wall = wall(ctx.page);
            explain.page = match explain.wall {
                Some(reason) => format!("{reason}: no documents"),
                None => {
                    "neither a channel preview nor a t.me page of a channel: no documents".into()
                }
            };
            Some(Extracted::default())
        }
        None => None,
    }
}

/// What reading a page's content gathers.
#[derive(Default)]
struct Found {
    documents: Vec<Document>,
    traces: Vec<FieldTrace>,
    row_replies: Vec<(Url, String)>,
}

/// Reads a page's content by the rules chosen for it.
struct PageReader<'r, 'p> {
    ctx: &'r Context<'p>,
    rules: &'r Rules<'p>,
    choice: EngineChoice,
    /// Only the generic reader reads the page.
    use_generic: bool,
    options: &'r ExtractOptions,
}

impl PageReader<'_, '_> {
    /// A topic page: the preset's topic markup, else (but for a custom
    /// profile) the generic main text, said in `explained`.
    fn topic_page(&self, explained: &mut String, found: &mut Found) {
        let doc = if self.use_generic {
            None
        } else {
            topic_document(self.ctx, self.rules, &mut found.traces)
        };
        match doc {
            Some(doc) => found.documents.push(doc),
            None if self.choice != EngineChoice::Custom => {
                if let Some(doc) = generic_content(self.ctx, &mut found.traces, true) {
                    if !self.use_generic {
                        explained.push_str("; the preset found nothing, generic main text used");
                    }
                    found.documents.push(doc);
                }
            }
            None => {
                tracing::debug!(site = %self.ctx.profile.name, url = %self.ctx.url, "topic page without title or body");
            }
        }
    }

    /// A list page with rows of the profile's or preset's `list.row`
    /// (`css`); returns what the page is, for the explanation.
    fn preset_list(&self, rows: &[ElementRef<'_>], css: &str, found: &mut Found) -> String {
        let ctx = self.ctx;
        if self.use_generic || !self.rules.has_list_title() {
            // Rows chosen by the profile, read by the generic row reader (a
            // profile written by `site doctor`).
            return match read_rows(rows, Some(ctx.url)) {
                Some(set) => {
                    self.generic_rows(&set, &format!("list.row {css:?}"), found);
                    format!(
                        "list page ({} rows of list.row {css:?}, read by the generic row reader)",
                        set.rows.len()
                    )
                }
                None => format!("list page (list.row {css:?}: fewer than 3 records)"),
            };
        }
        let kind = self.rules.list_kind();
        // What the preset does not read (a theme's start date, a seller
        // outside the default markup), the generic row reader may.
        let (generic, columns, _) = read_each(rows, Some(ctx.url));
        for (row, seen) in rows.iter().zip(generic) {
            if let Some(mut doc) = row_document(
                ctx,
                self.rules,
                *row,
                kind,
                self.options.all_rows,
                found.documents.len(),
                &mut found.traces,
                &mut found.row_replies,
            ) {
                if let Some(seen) = seen {
                    let index = found.documents.len();
                    fill_from_generic(ctx, &mut doc, seen, &columns, index, &mut found.traces);
                }
                found.documents.push(doc);
            }
        }
        format!("list page ({} rows of list.row {css:?})", rows.len())
    }

    /// A page with no rows of `list.row`, by what generic detection found
    /// on it (`set`); returns what the page is, for the explanation.
    fn detected(
        &self,
        set: Option<RecordSet>,
        generic_list: &mut Option<GenericList>,
        found: &mut Found,
    ) -> String {
        let ctx = self.ctx;
        match set {
            // Long records are the posts of a topic, and a few rows beside
            // a long text are its sidebar: a content page either way.
            Some(set)
                if set.chars_per_record > LONG_RECORD
                    || thin_beside_main_text(ctx.page, &set)
                    || one_posting_beside(ctx.page, &set) =>
            {
                // The engine's own topic markup first (a URL form the preset
                // does not know), else the generic reading.
                let doc = if self.use_generic {
                    None
                } else {
                    topic_document(ctx, self.rules, &mut found.traces)
                };
                if let Some(doc) = doc.or_else(|| generic_content(ctx, &mut found.traces, true)) {
                    found.documents.push(doc);
                }
                format!(
                    "topic page (generic: the repeated blocks at {} are {})",
                    set.path,
                    if set.chars_per_record > LONG_RECORD {
                        "posts, not list rows"
                    } else if thin_beside_main_text(ctx.page, &set) {
                        "a small part beside the main text"
                    } else {
                        "a box beside the forum posting the page declares"
                    }
                )
            }
            Some(set) => {
                *generic_list = Some(GenericList {
                    selector: set.selector.clone(),
                    columns: set.columns.clone(),
                });
                self.generic_rows(&set, &format!("repeated rows at {}", set.path), found);
                format!(
                    "list page (generic: {} records at {}, {} other rows skipped{})",
                    set.rows.len(),
                    set.path,
                    set.skipped,
                    if self.use_generic {
                        ""
                    } else {
                        "; the preset's list.row matched nothing"
                    }
                )
            }
            None if self.use_generic => {
                if let Some(doc) = generic_content(ctx, &mut found.traces, true) {
                    found.documents.push(doc);
                }
                "content page (generic: no repeated rows)".into()
            }
            None => match topic_document(ctx, self.rules, &mut found.traces) {
                // A topic under a URL form the preset does not know: its
                // markup says what it is.
                Some(doc) => {
                    found.documents.push(doc);
                    format!(
                        "topic page (the URL matches no topic.url, but the page has the preset's topic markup; topic.url /{}/)",
                        short_pattern(ctx.profile.topic.url.as_str())
                    )
                }
                None => format!(
                    "list page (URL does not match topic.url /{}/; no list rows, none found by generic detection)",
                    short_pattern(ctx.profile.topic.url.as_str())
                ),
            },
        }
    }

    fn generic_rows(&self, set: &RecordSet, rule: &str, found: &mut Found) {
        generic_rows(
            self.ctx,
            set,
            rule,
            self.options,
            &mut found.documents,
            &mut found.traces,
            &mut found.row_replies,
        );
    }
}

/// The trace of a field of document `document` that the generic reader
/// found, by `rule`.
fn generic_trace(document: usize, field: &str, rule: String, raw: &str, value: &str) -> FieldTrace {
    FieldTrace {
        document,
        field: field.into(),
        origin: "generic".into(),
        rule,
        raw: raw.into(),
        value: value.into(),
    }
}

/// Characters per record above which repeated blocks are posts.
const LONG_RECORD: usize = 600;

/// Whether the rows hold little of a page whose main text is long (a
/// listing's page with a "related items" box).
fn thin_beside_main_text(page: &Html, set: &RecordSet) -> bool {
    set.coverage < 0.2 && main_text(page).is_some_and(|m| m.body.chars().count() >= 500)
}

/// Whether the page declares itself one forum posting (schema.org
/// `DiscussionForumPosting` microdata, as NodeBB, Discourse, XenForo and
/// Invision mark a topic) on an element apart from the repeated rows: they
/// are a box beside that topic ("related topics", "similar threads"), not
/// the page's list, however much text they hold. A list that marks each row
/// a posting has the marks inside its rows.
fn one_posting_beside(page: &Html, set: &RecordSet) -> bool {
    static POSTING: LazyLock<Selector> = LazyLock::new(|| {
        Selector::parse("[itemtype*=DiscussionForumPosting]").expect("a valid selector")
    });
    let Ok(row_selector) = Selector::parse(&set.selector) else {
        return false;
    };
    let rows: Vec<ElementRef<'_>> = page.select(&row_selector).collect();
    let within = |inner: ElementRef<'_>, outer: ElementRef<'_>| {
        inner.ancestors().any(|a| a.id() == outer.id())
    };
    !rows.is_empty()
        && page.select(&POSTING).any(|posting| {
            !rows.iter().any(|&row| {
                row.id() == posting.id() || within(posting, row) || within(row, posting)
            })
        })
}

/// Fields a preset left empty, from the generic reading of the same row.
fn fill_from_generic(
    ctx: &Context<'_>,
    doc: &mut Document,
    seen: GenericRow,
    columns: &[ColumnField],
    index: usize,
    traces: &mut Vec<FieldTrace>,
) {
    let mut trace = |field: &str, raw: &str, value: &str| {
        let how = columns
            .iter()
            .find(|c| c.field.name() == field)
            .map_or(String::from("row reader"), |c| c.how.clone());
        traces.push(generic_trace(
            index,
            field,
            format!("the preset has no value; {how}"),
            raw,
            value,
        ));
    };
    if doc.seller.is_none() {
        if let Some(s) = seen.seller {
            trace("seller", &s, &s);
            doc.seller = Some(s);
        }
    }
    if doc.posted_at.is_none() {
        if let Some(raw) = seen.posted_at {
            if let Some(value) = parse_date(&raw, &ctx.dates).map(rfc3339) {
                trace("posted_at", &raw, &value);
                doc.posted_at = Some(value);
            }
        }
    }
    if doc.price.is_none() {
        if let Some(raw) = seen.price {
            let value = tidy_price(&raw);
            trace("price", &raw, &value);
            doc.price = Some(value);
        }
    }
    if !doc.extra.contains_key("replies") {
        if let Some(r) = seen.replies {
            trace("replies", &r, &r);
            doc.extra.insert("replies".to_owned(), r);
        }
    }
}

/// Documents of the records the generic detector (or reader) found.
fn generic_rows(
    ctx: &Context<'_>,
    set: &RecordSet,
    rule: &str,
    options: &ExtractOptions,
    documents: &mut Vec<Document>,
    traces: &mut Vec<FieldTrace>,
    row_replies: &mut Vec<(Url, String)>,
) {
    let profile = ctx.profile;
    let base = page_base(ctx.url, ctx.page);
    for row in &set.rows {
        let Some(link) = resolve_href(&base, &row.href, encoding_for_label(ctx.encoding)) else {
            continue;
        };
        let link = admit(profile, link.clone())
            .map(CanonicalUrl::into_url)
            .unwrap_or(link);
        if let Some(r) = &row.replies {
            row_replies.push((link.clone(), r.clone()));
        }
        if !options.all_rows && profile.topic.url.is_match(link.as_str()) {
            continue;
        }
        let index = documents.len();
        let mut trace = |field: &str, raw: &str, value: &str| {
            let how = set
                .columns
                .iter()
                .find(|c| c.field.name() == field)
                .map_or(String::new(), |c| format!(", {}", c.how));
            traces.push(generic_trace(
                index,
                field,
                format!("{rule}{how}"),
                raw,
                value,
            ));
        };
        trace("title", &row.title, &row.title);
        trace("url", &row.href, link.as_str());
        let posted_at = row.posted_at.as_deref().and_then(|raw| {
            let value = parse_date(raw, &ctx.dates).map(rfc3339);
            trace("posted_at", raw, value.as_deref().unwrap_or("(unparsed)"));
            value
        });
        let price = row.price.as_deref().map(tidy_price);
        if let (Some(raw), Some(p)) = (&row.price, &price) {
            trace("price", raw, p);
        }
        if let Some(s) = &row.seller {
            trace("seller", s, s);
        }
        let mut extra: BTreeMap<String, String> = BTreeMap::new();
        if let Some(r) = &row.replies {
            trace("replies", r, r);
            extra.insert("replies".to_owned(), r.to_owned());
        }
        documents.push(Document {
            id: document_id(profile, &link, None),
            site: profile.name.clone(),
            url: link.to_string(),
            kind: DocumentKind::Thread,
            lang: profile.lang.clone(),
            title: Some(row.title.clone()),
            price,
            price_amount: None,
            price_currency: None,
            seller: row.seller.clone(),
            category: row.category.clone(),
            posted_at,
            fetched_at: Some(rfc3339(ctx.fetched_at)),
            encoding: ctx.encoding.map(str::to_owned),
            extra,
            ..Document::default()
        });
    }
}

/// One page being read, and what it is read against.
pub(crate) struct Context<'a> {
    pub(crate) profile: &'a SiteRules,
    pub(crate) url: &'a Url,
    pub(crate) page: &'a Html,
    pub(crate) fetched_at: DateTime<Utc>,
    pub(crate) encoding: Option<&'a str>,
    pub(crate) dates: DateContext,
    /// What the page hides from its readers (decoys, menus).
    pub(crate) hidden: Hidden,
}

/// The profile's rules over its preset's, over that preset's base.
struct Rules<'a> {
    topics: Vec<&'a TopicSelectors>,
    lists: Vec<&'a ListSelectors>,
}

impl<'a> Rules<'a> {
    fn new(profile: &'a SiteRules, engine: Option<Engine>) -> Rules<'a> {
        let mut topics = vec![&profile.topic];
        let mut lists = vec![&profile.list];
        let mut next = engine;
        while let Some(e) = next {
            let preset = e.preset();
            topics.push(&preset.topic);
            lists.push(&preset.list);
            next = preset.base;
        }
        Rules { topics, lists }
    }

    fn topic(
        &self,
        get: impl Fn(&'a TopicSelectors) -> Option<&'a FieldRule>,
    ) -> Option<&'a FieldRule> {
        self.topics.iter().find_map(|t| get(t))
    }

    fn list(
        &self,
        get: impl Fn(&'a ListSelectors) -> Option<&'a FieldRule>,
    ) -> Option<&'a FieldRule> {
        self.lists.iter().find_map(|l| get(l))
    }

    fn list_row(&self) -> Option<&'a (Selector, String)> {
        self.lists.iter().find_map(|l| l.row.as_ref())
    }

    fn topic_kind(&self) -> DocumentKind {
        self.topics.iter().find_map(|t| t.kind).unwrap_or_default()
    }

    fn list_kind(&self) -> DocumentKind {
        self.lists
            .iter()
            .find_map(|l| l.kind)
            .unwrap_or(DocumentKind::Thread)
    }

    fn has_list_title(&self) -> bool {
        self.list(|l| l.title.as_ref()).is_some()
    }

    fn has_topic_fields(&self) -> bool {
        self.topic(|t| t.title.as_ref()).is_some() || self.topic(|t| t.body.as_ref()).is_some()
    }

    /// Extra fields by name, the profile's first.
    fn topic_extra(&self) -> Vec<(&'a str, &'a FieldRule)> {
        first_of_each_name(self.topics.iter().map(|t| &t.extra))
    }

    fn list_extra(&self) -> Vec<(&'a str, &'a FieldRule)> {
        first_of_each_name(self.lists.iter().map(|l| &l.extra))
    }
}

/// Extra fields by name, the first layer's (the profile's) first.
fn first_of_each_name<'a>(
    layers: impl Iterator<Item = &'a Vec<(String, FieldRule)>>,
) -> Vec<(&'a str, &'a FieldRule)> {
    let mut out: Vec<(&str, &FieldRule)> = Vec::new();
    for (name, rule) in layers.flatten() {
        if !out.iter().any(|(n, _)| n == name) {
            out.push((name, rule));
        }
    }
    out
}

/// Reads one field within `scope` (the page root, or a list row), tidies a
/// price, and records how.
fn read(
    ctx: &Context<'_>,
    name: &str,
    rule: &FieldRule,
    scope: ElementRef<'_>,
    tr: &mut Tracer<'_>,
) -> Option<String> {
    let (spec, raw) = apply(rule, scope, ctx.page.root_element(), ctx.url, &ctx.hidden)?;
    let value = if name == "price" || name.starts_with("price_") {
        tidy_price(&raw)
    } else {
        raw.clone()
    };
    tr.push(name, rule, spec, &raw, &value);
    Some(value)
}

/// Records what a rule found, and returns the value.
struct Tracer<'t> {
    traces: &'t mut Vec<FieldTrace>,
    document: usize,
}

impl Tracer<'_> {
    fn push(&mut self, field: &str, rule: &FieldRule, spec: &FieldSpec, raw: &str, value: &str) {
        self.traces.push(FieldTrace {
            document: self.document,
            field: field.to_owned(),
            origin: rule.origin.to_string(),
            rule: spec.describe(),
            raw: raw.to_owned(),
            value: value.to_owned(),
        });
    }
}

fn topic_document(
    ctx: &Context<'_>,
    rules: &Rules<'_>,
    traces: &mut Vec<FieldTrace>,
) -> Option<Document> {
    let root = ctx.page.root_element();
    let mark = traces.len();
    let mut tr = Tracer {
        traces,
        document: 0,
    };
    let text = |name: &str, rule: Option<&FieldRule>, tr: &mut Tracer<'_>| {
        read(ctx, name, rule?, root, tr)
    };
    let title = text("title", rules.topic(|t| t.title.as_ref()), &mut tr);
    let body = text("body", rules.topic(|t| t.body.as_ref()), &mut tr);
    if title.is_none() && body.is_none() {
        tr.traces.truncate(mark);
        return None;
    }
    // A theme the preset does not know: the page's own title and the first
    // post's author, read generically.
    let meta = topic_meta(ctx.page);
    let generic_trace = |tr: &mut Tracer<'_>, field: &str, rule: &str, value: &str| {
        tr.traces.push(generic_trace(
            0,
            field,
            format!("the preset has no value; {rule}"),
            value,
            value,
        ));
    };
    let title = title.or_else(|| {
        let t = meta.title.clone()?;
        generic_trace(
            &mut tr,
            "title",
            "the page heading or <title> without the site name",
            &t,
        );
        Some(t)
    });
    let listing_number = text(
        "listing_number",
        rules.topic(|t| t.listing_number.as_ref()),
        &mut tr,
    );
    let price = text("price", rules.topic(|t| t.price.as_ref()), &mut tr);
    let seller = text("seller", rules.topic(|t| t.seller.as_ref()), &mut tr)
        .map(|s| without_label(&s).to_owned())
        .or_else(|| {
            let a = meta.author.clone()?;
            generic_trace(&mut tr, "seller", "the first post's profile link", &a);
            Some(a)
        });
    let category = text("category", rules.topic(|t| t.category.as_ref()), &mut tr);
    let posted_at = posted(
        ctx,
        rules.topic(|t| t.posted_at.as_ref()),
        root,
        root,
        &mut tr,
    );
    let mut extra = BTreeMap::new();
    if let Some(replies) = text("replies", rules.topic(|t| t.replies.as_ref()), &mut tr) {
        extra.insert("replies".to_owned(), replies);
    }
    for (name, rule) in rules.topic_extra() {
        if let Some(v) = text(name, Some(rule), &mut tr) {
            extra.insert(name.to_owned(), v);
        }
    }
    Some(Document {
        id: document_id(ctx.profile, ctx.url, listing_number.as_deref()),
        site: ctx.profile.name.clone(),
        url: ctx.url.to_string(),
        kind: rules.topic_kind(),
        lang: ctx.profile.lang.clone(),
        title,
        body,
        price,
        price_amount: None,
        price_currency: None,
        seller,
        category,
        listing_number,
        posted_at,
        fetched_at: Some(rfc3339(ctx.fetched_at)),
        encoding: ctx.encoding.map(str::to_owned),
        extra,
    })
}

/// The first alternative of `rule` that yields a date the parser reads.
fn posted(
    ctx: &Context<'_>,
    rule: Option<&FieldRule>,
    scope: ElementRef<'_>,
    page_root: ElementRef<'_>,
    tr: &mut Tracer<'_>,
) -> Option<String> {
    let rule = rule?;
    let mut first_unparsed: Option<(&FieldSpec, String)> = None;
    for spec in &rule.alternatives {
        let Some(raw) = apply_spec(spec, scope, page_root, ctx.url, &ctx.hidden) else {
            continue;
        };
        match parse_date(&raw, &ctx.dates) {
            Some(date) => {
                let value = rfc3339(date);
                tr.push("posted_at", rule, spec, &raw, &value);
                return Some(value);
            }
            None => {
                first_unparsed.get_or_insert((spec, raw));
            }
        }
    }
    if let Some((spec, raw)) = first_unparsed {
        tr.push("posted_at", rule, spec, &raw, "(no date form recognised)");
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn row_document(
    ctx: &Context<'_>,
    rules: &Rules<'_>,
    row: ElementRef<'_>,
    kind: DocumentKind,
    all_rows: bool,
    index: usize,
    traces: &mut Vec<FieldTrace>,
    row_replies: &mut Vec<(Url, String)>,
) -> Option<Document> {
    let root = ctx.page.root_element();
    let mark = traces.len();
    let mut tr = Tracer {
        traces,
        document: index,
    };
    let text =
        |name: &str, rule: Option<&FieldRule>, tr: &mut Tracer<'_>| read(ctx, name, rule?, row, tr);
    let title = text("title", rules.list(|l| l.title.as_ref()), &mut tr)?;
    let href = text("link", rules.list(|l| l.link.as_ref()), &mut tr);
    let link = href.as_deref().and_then(|h| {
        resolve_href(
            &page_base(ctx.url, ctx.page),
            h,
            encoding_for_label(ctx.encoding),
        )
    });
    let link = match link {
        Some(l) => admit(ctx.profile, l.clone())
            .map(CanonicalUrl::into_url)
            .unwrap_or(l),
        None => ctx.url.clone(),
    };
    let replies = text("replies", rules.list(|l| l.replies.as_ref()), &mut tr);
    if let Some(r) = &replies {
        row_replies.push((link.clone(), r.clone()));
    }
    if !all_rows && ctx.profile.topic.url.is_match(link.as_str()) {
        tr.traces.truncate(mark);
        return None;
    }
    let price = text("price", rules.list(|l| l.price.as_ref()), &mut tr);
    let seller = text("seller", rules.list(|l| l.seller.as_ref()), &mut tr)
        .map(|s| without_label(&s).to_owned());
    let category = text("category", rules.list(|l| l.category.as_ref()), &mut tr);
    let posted_at = posted(
        ctx,
        rules.list(|l| l.posted_at.as_ref()),
        row,
        root,
        &mut tr,
    );
    let mut extra = BTreeMap::new();
    if let Some(replies) = replies {
        extra.insert("replies".to_owned(), replies);
    }
    for (name, rule) in rules.list_extra() {
        if let Some(v) = text(name, Some(rule), &mut tr) {
            extra.insert(name.to_owned(), v);
        }
    }
    Some(Document {
        id: document_id(ctx.profile, &link, None),
        site: ctx.profile.name.clone(),
        url: link.to_string(),
        kind,
        lang: ctx.profile.lang.clone(),
        title: Some(title),
        price,
        price_amount: None,
        price_currency: None,
        seller,
        category,
        posted_at,
        fetched_at: Some(rfc3339(ctx.fetched_at)),
        encoding: ctx.encoding.map(str::to_owned),
        extra,
        ..Document::default()
    })
}

/// A content page read by the generic main-text extractor.
/// On a topic page (`topic`), the title is the page's own and the seller
/// the first post's author.
fn generic_content(
    ctx: &Context<'_>,
    traces: &mut Vec<FieldTrace>,
    topic: bool,
) -> Option<Document> {
    let mut main = main_text(ctx.page)?;
    let meta = if topic {
        topic_meta(ctx.page)
    } else {
        TopicMeta::default()
    };
    if let Some(t) = meta.title {
        main.title = Some(t);
    }
    let rule = format!("main text of {}", main.container);
    let body_start: String = main.body.chars().take(80).collect();
    traces.push(generic_trace(0, "body", rule, "", &body_start));
    if let Some(t) = &main.title {
        let rule = if topic {
            "the page heading or <title> without the site name"
        } else {
            "og:title, else the first h1, else <title>"
        };
        traces.push(generic_trace(0, "title", rule.into(), t, t));
    }
    if let Some(a) = &meta.author {
        traces.push(generic_trace(
            0,
            "seller",
            "the first post's profile link".into(),
            a,
            a,
        ));
    }
    Some(Document {
        id: document_id(ctx.profile, ctx.url, None),
        site: ctx.profile.name.clone(),
        url: ctx.url.to_string(),
        kind: DocumentKind::Post,
        lang: ctx.profile.lang.clone(),
        title: main.title,
        body: Some(main.body),
        seller: meta.author,
        fetched_at: Some(rfc3339(ctx.fetched_at)),
        encoding: ctx.encoding.map(str::to_owned),
        ..Document::default()
    })
}

/// A pattern for a message: the union of every preset's is long.
fn short_pattern(pattern: &str) -> String {
    if pattern.chars().count() <= 80 {
        return pattern.to_owned();
    }
    let head: String = pattern.chars().take(60).collect();
    format!("{head}… (the topic patterns of every preset)")
}

/// The profile's clock, or, when it names none, the recognised engine's
/// usual one (the Chinese market prints Beijing time).
fn site_zone(profile: &SiteRules, engine: Option<Engine>) -> SiteZone {
    if profile.time_zone_given {
        return profile.zone;
    }
    let mut next = engine;
    while let Some(e) = next {
        let preset = e.preset();
        if let Some(zone) = preset.time_zone.as_deref().and_then(SiteZone::parse) {
            return zone;
        }
        next = preset.base;
    }
    profile.zone
}

pub(crate) fn rfc3339(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

static BRACKETED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[\s*([^\[\]\s]{1,8})\s*\]").expect("valid"));

/// A price as shown, tidied for reading: `1  [BTC]` → `1 BTC`. Amount and
/// currency are parsed from it ([`Document::parse_price`]).
pub(crate) fn tidy_price(raw: &str) -> String {
    tidy(&BRACKETED.replace_all(raw, "$1")).replace('\n', " ")
}

/// A stable id: the site and its listing number, or else the site and the
/// page's path and query relative to the site root (so a new mirror host or
/// port keeps ids).
pub(crate) fn document_id(profile: &SiteRules, url: &Url, listing_number: Option<&str>) -> String {
    if let Some(n) = listing_number.filter(|n| !n.is_empty()) {
        return format!("{}:{}", profile.name, n);
    }
    let path = url.path();
    let rel = path.strip_prefix(profile.base_url.path()).unwrap_or(path);
    match url.query() {
        Some(q) => format!("{}:{}?{}", profile.name, rel, q),
        None => format!("{}:{}", profile.name, rel),
    }
}

/// The rows without decoys (rows of a class the page's stylesheet hides);
/// all of them when every one is of such a class. Rows an inline style
/// hides stay: a collapsed category is still the board's.
fn visible_rows<'a>(rows: Vec<ElementRef<'a>>, hidden: &Hidden) -> Vec<ElementRef<'a>> {
    let visible: Vec<ElementRef<'a>> = rows
        .iter()
        .copied()
        .filter(|r| !hidden.is_decoy(*r))
        .collect();
    if visible.is_empty() {
        rows
    } else {
        visible
    }
}

/// The first alternative of `rule` that yields a value, and the value.
fn apply<'r>(
    rule: &'r FieldRule,
    scope: ElementRef<'_>,
    page_root: ElementRef<'_>,
    url: &Url,
    hidden: &Hidden,
) -> Option<(&'r FieldSpec, String)> {
    rule.alternatives
        .iter()
        .find_map(|spec| apply_spec(spec, scope, page_root, url, hidden).map(|v| (spec, v)))
}

/// One alternative: see [`FieldSpec`]. Elements the page hides (decoy
/// posts, drop-down menus, a responsive duplicate of a cell) are read only
/// when no visible element yields a value.
fn apply_spec(
    spec: &FieldSpec,
    scope: ElementRef<'_>,
    page_root: ElementRef<'_>,
    url: &Url,
    hidden: &Hidden,
) -> Option<String> {
    if let Some(re) = &spec.url {
        let c = re.captures(url.as_str())?;
        let m = c.get(1).or_else(|| c.get(0))?;
        return Some(m.as_str().to_owned()).filter(|v| !v.is_empty());
    }
    let base = if spec.page { page_root } else { scope };
    let mut candidates: Vec<ElementRef<'_>> = match &spec.css {
        Some(css) => base.select(css).collect(),
        None => vec![base],
    };
    if spec.pick == Pick::Last {
        candidates.reverse();
    }
    let (visible, concealed): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|e| !hidden.is_within_hidden(*e));
    visible
        .into_iter()
        .find_map(|element| value_of(spec, element, hidden))
        .or_else(|| {
            concealed
                .into_iter()
                .find_map(|element| value_of(spec, element, hidden))
        })
}

/// The text of `element` without its hidden parts (a `display:none` label
/// before a name), or all of it when that leaves nothing.
fn visible_text(element: ElementRef<'_>, drop: Option<&Selector>, hidden: &Hidden) -> String {
    let seen = element_text_without(element, &|e: ElementRef<'_>| {
        drop.is_some_and(|d| d.matches(&e)) || hidden.is_hidden(e)
    });
    if seen.is_empty() {
        element_text(element, drop)
    } else {
        seen
    }
}

fn value_of(spec: &FieldSpec, element: ElementRef<'_>, hidden: &Hidden) -> Option<String> {
    let raw = match &spec.attr {
        Some(attr) if spec.label.is_none() => tidy(element.value().attr(attr)?),
        _ => visible_text(element, spec.drop.as_ref(), hidden),
    };
    let value: String = match &spec.label {
        Some(label) => {
            let rest = raw.strip_prefix(label.as_str())?;
            let rest = rest.trim_start_matches([':', '：', ' ', '\u{3000}']).trim();
            if rest.is_empty() {
                // The label has a cell of its own: the value is the next one.
                let next = element.next_siblings().find_map(ElementRef::wrap)?;
                match &spec.attr {
                    Some(attr) => tidy(next.value().attr(attr)?),
                    None => visible_text(next, spec.drop.as_ref(), hidden),
                }
            } else {
                rest.to_owned()
            }
        }
        None => raw,
    };
    let value = match &spec.regex {
        Some(re) => {
            let c = re.captures(&value)?;
            c.get(1).or_else(|| c.get(0))?.as_str().trim().to_owned()
        }
        None => value,
    };
    (!value.is_empty()).then_some(value)
}

/// The in-scope links of the elements `follow` selects (`a` elements, or
/// containers of them), canonical, each once, in page order.
fn follow_links(
    profile: &SiteRules,
    page_url: &Url,
    page: &Html,
    encoding: Option<&'static encoding_rs::Encoding>,
    follow: &[Selector],
) -> Vec<Url> {
    let base = page_base(page_url, page);
    let anchors = Selector::parse("a[href]").expect("a[href] is a valid selector");
    let mut seen = std::collections::HashSet::new();
    let mut links = Vec::new();
    for selector in follow {
        for element in page.select(selector) {
            let hrefs: Vec<&str> = if element.value().name() == "a" {
                element.value().attr("href").into_iter().collect()
            } else {
                element
                    .select(&anchors)
                    .filter_map(|a| a.value().attr("href"))
                    .collect()
            };
            for href in hrefs {
                let Some(link) = resolve_href(&base, href, encoding) else {
                    continue;
                };
                let Ok(link) = admit(profile, link).map(CanonicalUrl::into_url) else {
                    continue;
                };
                if seen.insert(link.clone()) {
                    links.push(link);
                }
            }
        }
    }
    links
}

/// Every link of the page that is not among `followed`, with why: out of
/// the site's scope (and which rule), not an http(s) link, or not selected
/// by the rules' `links.follow`. For people adding a site.
pub fn unfollowed_links(
    rules: &SiteRules,
    page_url: &Url,
    html: &str,
    followed: &[Url],
) -> Vec<(String, String)> {
    static ANCHORS: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("a[href]").expect("a valid selector"));
    let page = Html::parse_document(html);
    let base = page_base(page_url, &page);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for a in page.select(&ANCHORS) {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        let Some(link) = resolve_href(&base, href, rules.encoding) else {
            if seen.insert(href.to_owned()) {
                out.push((href.to_owned(), "not an http(s) link".to_owned()));
            }
            continue;
        };
        match admit(rules, link.clone()) {
            Ok(c) if followed.iter().any(|l| l == c.as_url()) => {}
            Ok(c) => {
                if seen.insert(c.to_string()) {
                    out.push((c.to_string(), "not selected by links.follow".to_owned()));
                }
            }
            Err(e) => {
                if seen.insert(link.to_string()) {
                    out.push((link.to_string(), e.to_string()));
                }
            }
        }
    }
    out
}

/// The page's absolute http(s) `<link rel="canonical">`, if any: where a
/// saved page says it came from.
pub fn canonical_link(html: &str) -> Option<Url> {
    static CANONICAL: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("link[rel=canonical][href]").expect("a valid selector"));
    let page = Html::parse_document(html);
    let href = page.select(&CANONICAL).next()?.value().attr("href")?;
    Url::parse(href.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// The page's `<base href>` if it has a valid one, else its own URL.
fn page_base(page_url: &Url, page: &Html) -> Url {
    static BASE: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("base[href]").expect("base[href] is a valid selector"));
    page.select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page_url.join(href).ok())
        .unwrap_or_else(|| page_url.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const PROFILE: &str = r#"
name = "mkt"
base_url = "http://abc.example/market/"
time_zone = "+08:00"
[links]
follow = ["a.topictitle", ".pagination"]
allow = ['viewforum\.php', 'viewtopic\.php']
deny = ['mode=login']
[topic]
url = 'viewtopic\.php\?t=\d+'
kind = "listing"
title = "h2.topic-title"
body = "div.postbody div.content"
price = { css = "dl.info dd", label = "商品单价", regex = '([\d.]+\s*BTC)' }
listing_number = { css = "dl.info dd", label = "交易编号" }
posted_at = { css = "dl.info dd", label = "交易发布时间" }
"#;

    const PAGE: &str = r#"<html><body>
<div class="navbar"><a href="./ucp.php?mode=login">登录</a></div>
<h2 class="topic-title">【出售】日本三菱日联银行网银账户</h2>
<dl class="info"><dd>交易编号：10001</dd><dd>商品单价：0.0123 BTC</dd><dd>交易发布时间：2026年-11月-20日 19:16</dd></dl>
<div class="postbody"><div class="content">带登录密码+密保<br>可转账<script>x()</script></div></div>
<div class="postbody"><div class="content">second post</div></div>
<div class="pagination"><a href="./viewforum.php?f=2&amp;start=5#top">2</a><a href="http://elsewhere.onion/viewtopic.php?t=1">x</a></div>
<a class="topictitle" href="./viewtopic.php?t=10002">next</a>
<a class="topictitle" href="./ucp.php?mode=login">login</a>
</body></html>"#;

    #[test]
    fn topic_page_yields_one_document_and_in_site_links() {
        let profile = SiteRules::parse(PROFILE, Path::new("p.toml")).expect("valid");
        let url = Url::parse("http://abc.example/market/viewtopic.php?t=10001").expect("url");
        let out = extract_page(&profile, &url, PAGE, Utc::now(), Some("GBK"));
        assert_eq!(out.documents.len(), 1);
        let d = &out.documents[0];
        assert_eq!(d.id, "mkt:10001");
        assert_eq!(d.title.as_deref(), Some("【出售】日本三菱日联银行网银账户"));
        assert_eq!(d.body.as_deref(), Some("带登录密码+密保\n可转账"));
        assert_eq!(d.price.as_deref(), Some("0.0123 BTC"));
        assert_eq!(d.price_amount, Some(0.0123));
        assert_eq!(d.price_currency.as_deref(), Some("BTC"));
        assert_eq!(d.posted_at.as_deref(), Some("2026-11-20T11:16:00Z"));
        let links: Vec<&str> = out.links.iter().map(Url::as_str).collect();
        assert_eq!(
            links,
            [
                "http://abc.example/market/viewtopic.php?t=10002",
                "http://abc.example/market/viewforum.php?f=2&start=5"
            ]
        );
    }

    #[test]
    fn list_page_is_not_a_document() {
        let profile = SiteRules::parse(PROFILE, Path::new("p.toml")).expect("valid");
        let url = Url::parse("http://abc.example/market/viewforum.php?f=2").expect("url");
        let out = extract_page(&profile, &url, PAGE, Utc::now(), None);
        assert!(out.documents.is_empty());
        assert_eq!(out.links.len(), 2);
    }

    #[test]
    fn explanation_names_selector_and_raw_text() {
        let profile = SiteRules::parse(PROFILE, Path::new("p.toml")).expect("valid");
        let url = Url::parse("http://abc.example/market/viewtopic.php?t=10001").expect("url");
        let (_, explain) = extract_page_explained(
            &profile,
            &url,
            PAGE,
            Utc::now(),
            None,
            &ExtractOptions::default(),
        );
        assert!(explain.rules.starts_with("custom"), "{}", explain.rules);
        let price = explain
            .fields
            .iter()
            .find(|f| f.field == "price")
            .expect("price traced");
        assert_eq!(price.origin, "profile");
        assert_eq!(
            price.rule,
            r#"dl.info dd [label "商品单价"] =~ /([\d.]+\s*BTC)/"#
        );
        assert_eq!(price.raw, "0.0123 BTC");
        let posted = explain
            .fields
            .iter()
            .find(|f| f.field == "posted_at")
            .expect("date traced");
        assert_eq!(posted.raw, "2026年-11月-20日 19:16");
        assert_eq!(posted.value, "2026-11-20T11:16:00Z");
    }

    #[test]
    fn label_in_its_own_cell_takes_the_next_cell() {
        let text = PROFILE.replace("dl.info dd", "table td");
        let profile = SiteRules::parse(&text, Path::new("p.toml")).expect("valid");
        let page = r#"<h2 class="topic-title">t</h2><table><tr><td>交易编号:</td><td>8647</td><td>商品单价:</td><td><span>1</span>&nbsp;&nbsp;[BTC]</td></tr></table>"#;
        let url = Url::parse("http://abc.example/market/viewtopic.php?t=8647").expect("url");
        let out = extract_page(&profile, &url, page, Utc::now(), None);
        assert_eq!(out.documents[0].listing_number.as_deref(), Some("8647"));
        // The profile's regex wants "BTC" right after the number; the page has "[BTC]".
        assert_eq!(out.documents[0].price, None);
    }

    #[test]
    fn prices_are_tidied_not_parsed() {
        assert_eq!(tidy_price("1\u{a0}\u{a0}[BTC]"), "1 BTC");
        assert_eq!(tidy_price("6264.43  [美元]"), "6264.43 美元");
        assert_eq!(tidy_price("USDT 150/个"), "USDT 150/个");
    }
}

//! Generic list detection: the main listing of a page, as a set of records
//! that repeat under one parent (table rows, `tbody` per thread, `li` or
//! `div` blocks). A group of siblings is scored by how many of its rows
//! carry a distinct in-site link with text, how much of the page's text
//! those rows hold, and how consistent their layout is; spacer, header,
//! separator, pagination and announcement rows are tolerated and left out.
//! Lists split over several parents of one kind (announcements and topics
//! in two tables) are read together.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use super::describe;
use super::fields::{
    clean_name, first_count, header_field, looks_like_date, ColumnField, Field, LAST_POST_CLASS,
    PRICE, PROFILE_LINK, REPLIES, SELLERISH_CLASS,
};
use crate::hidden::Hidden;
use crate::text::{is_invisible, tidy};

/// How many nodes of one row are read to describe it.
const ROW_NODE_BUDGET: usize = 600;
/// A row with more links than this is a box of links, not a record.
const MAX_ROW_LINKS: usize = 40;
/// Fewer records than this are not a list.
const MIN_RECORDS: usize = 3;

/// One row of a detected list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenericRow {
    /// The title link's text.
    pub title: String,
    /// The title link's `href`, as written.
    pub href: String,
    /// The price as shown.
    pub price: Option<String>,
    /// The seller or author as shown.
    pub seller: Option<String>,
    /// The posted time as shown (read by `parse_date` in the site's zone).
    pub posted_at: Option<String>,
    /// The reply count as shown.
    pub replies: Option<String>,
    /// The category as shown.
    pub category: Option<String>,
}

/// The rows of a list page and where they were found.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSet {
    /// A CSS-like path of the rows (`table#list > tbody > tr`), for `--explain`.
    pub path: String,
    /// A CSS selector that matches the rows (and the rows it skips: header,
    /// spacer and separator rows), for a site profile's `list.row`.
    pub selector: String,
    /// The records, in page order.
    pub rows: Vec<GenericRow>,
    /// How each field was found.
    pub columns: Vec<ColumnField>,
    /// Rows under the same parents that are not records (headers, spacers,
    /// separators, pagination).
    pub skipped: usize,
    /// The share of the page's visible text the rows hold.
    pub coverage: f64,
    /// Characters of text per record: a list's rows are short, the posts of
    /// a topic long.
    pub chars_per_record: usize,
}

/// Finds the page's main listing. `None` when there is no set of at least
/// three records.
pub fn find_rows(page: &Html) -> Option<RecordSet> {
    find_rows_at(page, None)
}

/// [`find_rows`] on a page fetched from `base`: a record's link must stay on
/// its host.
pub fn find_rows_at(page: &Html, base: Option<&Url>) -> Option<RecordSet> {
    let page_text = visible_text_chars(page);
    let mut best: Option<(f64, GroupKey, NodeId)> = None;
    for (parent, in_boilerplate) in candidate_parents(page) {
        let mut by_tag: HashMap<&str, Vec<ElementRef<'_>>> = HashMap::new();
        for child in parent.children().filter_map(ElementRef::wrap) {
            by_tag.entry(child.value().name()).or_default().push(child);
        }
        for (tag, members) in by_tag {
            if members.len() < MIN_RECORDS {
                continue;
            }
            let key = GroupKey {
                parent: signature(parent),
                tag: tag.to_owned(),
            };
            let Some(mut score) = score_group(&members, base, page_text) else {
                continue;
            };
            if in_boilerplate {
                score *= 0.2;
            }
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, key, parent.id()));
            }
        }
    }
    let (_, key, best_parent) = best?;
    // Every parent of the same kind (a class names it): a list split in
    // two tables. A plain parent (no class) counts only beside the best
    // one (two tables in one form: stickies, then the rest).
    let grandparent = |id: NodeId| page.tree.get(id).and_then(|n| n.parent()).map(|p| p.id());
    let best_grandparent = grandparent(best_parent);
    let parents: Vec<ElementRef<'_>> = page
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| {
            e.id() == best_parent
                || (signature(*e) == key.parent
                    && (key.parent.contains('.')
                        || (best_grandparent.is_some() && grandparent(e.id()) == best_grandparent)))
        })
        .collect();
    let first = *parents.first()?;
    let rows: Vec<ElementRef<'_>> = parents
        .iter()
        .flat_map(|p| p.children().filter_map(ElementRef::wrap))
        .filter(|c| c.value().name() == key.tag)
        .collect();
    // Rows the page hides (decoys in a class its stylesheet hides) are no
    // records a reader sees; all of them stay when every one is hidden.
    let hidden = Hidden::of(page);
    let shown: Vec<ElementRef<'_>> = rows
        .iter()
        .copied()
        .filter(|r| !hidden.is_decoy(*r))
        .collect();
    let rows = if shown.is_empty() { rows } else { shown };
    let mut set = read_rows(&rows, base)?;
    let rows_text: usize = rows.iter().map(|r| text_chars(*r)).sum();
    set.coverage = rows_text as f64 / page_text.max(1) as f64;
    set.chars_per_record = rows_text / set.rows.len().max(1);
    set.path = format!("{} > {}", describe(first), key.tag);
    set.selector = exact_selector(page, &parents, &key.tag);
    Some(set)
}

/// Reads `rows` (the children of one or more parents, header and spacer
/// rows included) as a list: header mapping, then each record's fields.
/// `None` when fewer than three rows are records.
pub fn read_rows(rows: &[ElementRef<'_>], base: Option<&Url>) -> Option<RecordSet> {
    let (each, columns, skipped) = read_each(rows, base);
    let out: Vec<GenericRow> = each.into_iter().flatten().collect();
    if out.len() < MIN_RECORDS {
        return None;
    }
    Some(RecordSet {
        path: String::new(),
        selector: String::new(),
        rows: out,
        columns,
        skipped,
        coverage: 0.0,
        chars_per_record: 0,
    })
}

/// [`read_rows`] row by row: `None` for a row that is not a record (a
/// header, spacer or separator), with how each field was found and how
/// many rows were not records.
pub fn read_each(
    rows: &[ElementRef<'_>],
    base: Option<&Url>,
) -> (Vec<Option<GenericRow>>, Vec<ColumnField>, usize) {
    let infos: Vec<RowInfo<'_>> = rows.iter().map(|r| analyze(*r, base)).collect();
    let header = find_header(rows, &infos);
    let mut columns = Vec::new();
    if let Some(h) = &header {
        for (col, field) in h.iter().enumerate() {
            if let Some((field, text)) = field {
                if !matches!(field, Field::Title | Field::Views | Field::LastPost) {
                    columns.push(ColumnField {
                        field: *field,
                        how: format!("column {} (header {text:?})", col + 1),
                    });
                }
            }
        }
    }
    let mut out = Vec::with_capacity(infos.len());
    let mut skipped = 0;
    let mut seen_by_content: HashSet<Field> = HashSet::new();
    for info in &infos {
        let Some(title) = info.title.as_ref().filter(|_| !info.header) else {
            skipped += 1;
            out.push(None);
            continue;
        };
        let mut row = GenericRow {
            title: title.text.clone(),
            href: title.href.clone(),
            ..GenericRow::default()
        };
        let mut last_post_cols = Vec::new();
        if let Some(h) = &header {
            for (col, field) in h.iter().enumerate() {
                let Some((field, _)) = field else { continue };
                if *field == Field::LastPost {
                    last_post_cols.push(col);
                    continue;
                }
                let Some(cell) = info.cell_at(col) else {
                    continue;
                };
                if cell.id() == title.cell_id {
                    continue;
                }
                let value = match field {
                    Field::Seller => cell_name(cell),
                    Field::PostedAt => cell_date(cell),
                    Field::Price => Some(tidy(&cell_text(cell)).replace('\n', " ")),
                    Field::Replies => first_count(&cell_text(cell)),
                    Field::Category => Some(tidy(&cell_text(cell)).replace('\n', " ")),
                    _ => None,
                };
                let value = value.filter(|v| !v.is_empty());
                match field {
                    Field::Seller => row.seller = value,
                    Field::PostedAt => row.posted_at = value,
                    Field::Price => row.price = value,
                    Field::Replies => row.replies = value,
                    Field::Category => row.category = value,
                    _ => {}
                }
            }
        }
        let found = by_content(info, &last_post_cols, &mut row);
        seen_by_content.extend(found);
        out.push(Some(row));
    }
    for field in [Field::Seller, Field::PostedAt, Field::Price, Field::Replies] {
        if seen_by_content.contains(&field) && !columns.iter().any(|c| c.field == field) {
            columns.push(ColumnField {
                field,
                how: format!("cell content ({})", content_rule(field)),
            });
        }
    }
    (out, columns, skipped)
}

fn content_rule(field: Field) -> &'static str {
    match field {
        Field::Seller => "a profile link, or an author/username element",
        Field::PostedAt => "a <time>, or the first date outside the last-post part",
        Field::Price => "a number with a currency",
        Field::Replies => "a count next to a replies word",
        _ => "",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupKey {
    parent: String,
    tag: String,
}

/// What one row holds.
struct RowInfo<'a> {
    /// Characters of visible text.
    text: usize,
    /// The row's cells (children), with the first column each starts at.
    cells: Vec<(usize, usize, ElementRef<'a>)>,
    title: Option<TitleLink>,
    /// A header row (its cells name fields).
    header: bool,
    /// Text characters outside the title link.
    other_text: usize,
    links: usize,
    /// Links that could be a title (text, in-site, not a profile, page
    /// number or action): one or two in a record, many in a box of links.
    titled: usize,
    row: ElementRef<'a>,
}

impl<'a> RowInfo<'a> {
    fn cell_at(&self, col: usize) -> Option<ElementRef<'a>> {
        self.cells
            .iter()
            .find(|(start, span, _)| col >= *start && col < start + span)
            .map(|(_, _, c)| *c)
    }
}

struct TitleLink {
    text: String,
    href: String,
    /// The cell (child of the row) holding the link.
    cell_id: NodeId,
    /// Its position among the row's children.
    cell_index: usize,
}

/// Link texts that are actions, not titles.
static ACTION_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(last\s*post|new|new posts?|goto|go to|more|read more|view|reply|quote|next|prev(ious)?|first|last|top|打开|查看|详情|更多|下一页|上一页|回复|最后发表|閲覧|詳細|もっと見る|далее|подробнее|ответить|[«»›‹…]+|\.\.\.)$")
        .expect("valid")
});
/// Links that lead to a post inside a topic, a page of it, or an action.
static ACTION_HREF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)([?&;]action=(lastpost|newpost|nextnewest|nextoldest|whoposted)|[?&;]goto=|[?&;]view=(getnewpost|getlastpost|unread)|#new$|#unread$|#lastpost$|/unread/?$|/latest/?$|javascript:|^mailto:|^#)")
        .expect("valid")
});

static CLOCK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d{1,2}:\d{2}").expect("valid"));
static TIME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:at|à|um|в|,)?\s*\d{1,2}:\d{2}(?::\d{2})?\s*([ap]\.?m\.?)?$")
        .expect("valid")
});
static BARE_COUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d[\d,.]*[kK]?$").expect("valid"));
static REPLY_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(replies|reply|réponses?|antworten|respuestas|risposte|ответ|回复|回帖|回覆|返信|comments?)")
        .expect("valid")
});

/// Display width of a title: a CJK character says as much as two Latin ones.
fn weight(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

/// Whether a link text is only digits and punctuation (a page number, a count).
fn numeric(text: &str) -> bool {
    text.chars()
        .all(|c| !c.is_alphabetic() || c.is_whitespace())
}

fn analyze<'a>(row: ElementRef<'a>, base: Option<&Url>) -> RowInfo<'a> {
    let mut cells = Vec::new();
    let mut col = 0;
    for child in row.children().filter_map(ElementRef::wrap) {
        let span = child
            .value()
            .attr("colspan")
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, 50);
        cells.push((col, span, child));
        col += span;
    }
    let mut text = 0usize;
    let mut links = 0usize;
    let mut titled = 0usize;
    let mut best: Option<(usize, TitleLink)> = None;
    let mut skipping: Option<NodeId> = None;
    let mut in_last_post: Option<NodeId> = None;
    for (i, edge) in row.traverse().enumerate() {
        if i > ROW_NODE_BUDGET * 2 {
            break;
        }
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => text += t.trim().chars().count(),
                    Node::Element(el) => {
                        if is_invisible(el.name()) {
                            skipping = Some(node.id());
                            continue;
                        }
                        if in_last_post.is_none()
                            && node.id() != row.id()
                            && (el
                                .attr("class")
                                .is_some_and(|c| LAST_POST_CLASS.is_match(c))
                                || el.attr("id").is_some_and(|c| LAST_POST_CLASS.is_match(c)))
                        {
                            in_last_post = Some(node.id());
                        }
                        if el.name() != "a" {
                            continue;
                        }
                        let Some(href) = el.attr("href") else {
                            continue;
                        };
                        links += 1;
                        if in_last_post.is_some() || links > MAX_ROW_LINKS {
                            continue;
                        }
                        let Some(a) = ElementRef::wrap(node) else {
                            continue;
                        };
                        let href = href.trim();
                        if href.is_empty()
                            || ACTION_HREF.is_match(href)
                            || PROFILE_LINK.is_match(href)
                            || !in_site(href, base)
                        {
                            continue;
                        }
                        let label = tidy(&a.text().collect::<String>()).replace('\n', " ");
                        if label.chars().count() < 2
                            || numeric(&label)
                            || ACTION_TEXT.is_match(&label)
                        {
                            continue;
                        }
                        titled += 1;
                        let w = weight(&label);
                        if best.as_ref().is_none_or(|(bw, _)| w > *bw) {
                            let cell = cells
                                .iter()
                                .enumerate()
                                .find(|(_, (_, _, c))| {
                                    a.ancestors().any(|x| x.id() == c.id()) || a.id() == c.id()
                                })
                                .map(|(k, (_, _, c))| (k, c.id()));
                            let (cell_index, cell_id) = cell.unwrap_or((0, row.id()));
                            best = Some((
                                w,
                                TitleLink {
                                    text: label,
                                    href: href.to_owned(),
                                    cell_id,
                                    cell_index,
                                },
                            ));
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
                if in_last_post == Some(node.id()) {
                    in_last_post = None;
                }
            }
        }
    }
    let title = best.map(|(_, t)| t);
    let title_chars = title.as_ref().map_or(0, |t| t.text.chars().count());
    let mapped = cells
        .iter()
        .filter(|(_, _, c)| {
            let t = cell_text(*c);
            header_field(&t).is_some()
        })
        .count();
    let th = cells
        .iter()
        .filter(|(_, _, c)| c.value().name() == "th")
        .count();
    let header = mapped >= 2 || (th >= 2 && th == cells.len() && mapped >= 1);
    RowInfo {
        text,
        cells,
        title,
        header,
        other_text: text.saturating_sub(title_chars),
        links,
        titled,
        row,
    }
}

/// Whether a link stays on the page's host (relative links always do).
fn in_site(href: &str, base: Option<&Url>) -> bool {
    let Some(base) = base else {
        return true;
    };
    match Url::parse(href) {
        Ok(u) => u.host_str() == base.host_str() || !matches!(u.scheme(), "http" | "https"),
        Err(_) => true,
    }
}

/// A group's score, or `None` when it is not a list of records.
fn score_group(members: &[ElementRef<'_>], base: Option<&Url>, page_text: usize) -> Option<f64> {
    let infos: Vec<RowInfo<'_>> = members.iter().map(|m| analyze(*m, base)).collect();
    let records: Vec<&RowInfo<'_>> = infos
        .iter()
        .filter(|i| !i.header && i.title.is_some())
        .collect();
    let distinct: HashSet<&str> = records
        .iter()
        .filter_map(|r| r.title.as_ref().map(|t| t.href.as_str()))
        .collect();
    if distinct.len() < MIN_RECORDS {
        return None;
    }
    let non_empty = infos.iter().filter(|i| i.text > 0).count();
    if records.len() * 2 < non_empty {
        return None;
    }
    let titles: HashSet<&str> = records
        .iter()
        .filter_map(|r| r.title.as_ref().map(|t| t.text.as_str()))
        .collect();
    if titles.len() * 2 < records.len() {
        return None;
    }
    // Records share a layout: the same cells, the title in the same one.
    let mut shapes: HashMap<String, usize> = HashMap::new();
    let mut title_cells: HashMap<usize, usize> = HashMap::new();
    for r in &records {
        *shapes.entry(shape(r.row)).or_default() += 1;
        if let Some(t) = &r.title {
            *title_cells.entry(t.cell_index).or_default() += 1;
        }
    }
    let n = records.len() as f64;
    let layout = shapes.values().copied().max().unwrap_or(0) as f64 / n;
    if layout < 0.5 {
        return None;
    }
    let title_place = title_cells.values().copied().max().unwrap_or(0) as f64 / n;
    let text: usize = records
        .iter()
        .map(|r| {
            let t = r.title.as_ref().map_or(0, |t| weight(&t.text).min(80));
            t + r.other_text.min(160)
        })
        .sum();
    // Boxes of many links (a portal's columns) are weaker records, and
    // records of one list carry about as many links each; the blocks of a
    // page's layout do not.
    let links_per_row = records.iter().map(|r| r.links).sum::<usize>() as f64 / n;
    let spread = (records
        .iter()
        .map(|r| (r.links as f64 - links_per_row).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
        / links_per_row.max(1.0);
    let titled_per_row = records.iter().map(|r| r.titled).sum::<usize>() as f64 / n;
    // Records are numbered if they have ids (`normalthread_123`); blocks
    // of a page's layout are named (`topicsbox`, `election`).
    let named = records
        .iter()
        .filter(|r| {
            r.row
                .value()
                .id()
                .is_some_and(|id| !id.is_empty() && !id.chars().any(|c| c.is_ascii_digit()))
        })
        .count() as f64
        / n;
    let layout_blocks = if named > 0.5 { 0.2 } else { 1.0 };
    let linkiness = if links_per_row > 15.0 || titled_per_row > 5.0 {
        0.25
    } else {
        1.0
    };
    let coverage = records.iter().map(|r| r.text).sum::<usize>() as f64 / page_text.max(1) as f64;
    // Records say more than their title (an author, a date, a price);
    // entries of a menu do not.
    let with_more = records.iter().filter(|r| r.other_text >= 2).count() as f64 / n;
    let score = text as f64
        * (0.5 + 0.5 * layout)
        * (0.5 + 0.5 * title_place)
        * linkiness
        * (0.75 + coverage.min(1.0))
        * (0.4 + 0.6 * with_more)
        * layout_blocks
        / (1.0 + spread)
        * (distinct.len() as f64).sqrt();
    Some(score)
}

/// The header row of a table's rows: the last header-like row before the
/// first record (in the rows, or the table's `thead`), as field by column.
fn find_header(
    rows: &[ElementRef<'_>],
    infos: &[RowInfo<'_>],
) -> Option<Vec<Option<(Field, String)>>> {
    let first_record = infos
        .iter()
        .position(|i| !i.header && i.title.is_some())
        .unwrap_or(infos.len());
    let mut candidates: Vec<ElementRef<'_>> = Vec::new();
    // A `thead` (or a header `tr` elsewhere in the table) before the rows.
    if let Some(table) = rows.first().and_then(|r| {
        r.ancestors()
            .filter_map(ElementRef::wrap)
            .find(|a| a.value().name() == "table")
    }) {
        static HEAD_ROWS: LazyLock<Selector> =
            LazyLock::new(|| Selector::parse("thead > tr").expect("valid"));
        candidates.extend(table.select(&HEAD_ROWS));
    }
    // Rows before the first given row under its parent (a header that a
    // preset's row selector does not match).
    if let Some(first) = rows.first() {
        let before: Vec<ElementRef<'_>> = first
            .prev_siblings()
            .filter_map(ElementRef::wrap)
            .take(10)
            .collect();
        candidates.extend(before.into_iter().rev());
    }
    candidates.extend(rows[..first_record].iter().copied());
    candidates.iter().rev().find_map(|row| {
        let mut out: Vec<Option<(Field, String)>> = Vec::new();
        let mut mapped = 0;
        for child in row.children().filter_map(ElementRef::wrap) {
            let span = child
                .value()
                .attr("colspan")
                .and_then(|s| s.trim().parse::<usize>().ok())
                .unwrap_or(1)
                .clamp(1, 50);
            let text = tidy(&cell_text(child)).replace('\n', " ");
            let field = header_field(&text);
            if field.is_some() {
                mapped += 1;
            }
            for _ in 0..span {
                out.push(field.map(|f| (f, text.clone())));
            }
        }
        (mapped >= 2).then_some(out)
    })
}

/// Fields the header did not give, from what the cells hold; returns the
/// fields found this way.
fn by_content(info: &RowInfo<'_>, last_post_cols: &[usize], row: &mut GenericRow) -> Vec<Field> {
    let mut found = Vec::new();
    let excluded: Vec<NodeId> = last_post_cols
        .iter()
        .filter_map(|c| info.cell_at(*c))
        .map(|c| c.id())
        .collect();
    let mut skipping: Option<NodeId> = None;
    let mut in_title = false;
    let mut texts: Vec<String> = Vec::new();
    let mut seller = None;
    let mut seller_class = None;
    let mut time = None;
    let mut titled_date = None;
    for (i, edge) in info.row.traverse().enumerate() {
        if i > ROW_NODE_BUDGET * 2 {
            break;
        }
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        let last_post = node.id() != info.row.id()
                            && (el
                                .attr("class")
                                .is_some_and(|c| LAST_POST_CLASS.is_match(c))
                                || el.attr("id").is_some_and(|c| LAST_POST_CLASS.is_match(c)));
                        if is_invisible(el.name()) || last_post || excluded.contains(&node.id()) {
                            skipping = Some(node.id());
                            continue;
                        }
                        let Some(e) = ElementRef::wrap(node) else {
                            continue;
                        };
                        if el.name() == "a" {
                            let href = el.attr("href").unwrap_or_default();
                            let label = tidy(&e.text().collect::<String>());
                            if info.title.as_ref().is_some_and(|t| {
                                t.href == href.trim() && t.text == label.replace('\n', " ")
                            }) {
                                in_title = true;
                                skipping = Some(node.id());
                                continue;
                            }
                            if seller.is_none() && PROFILE_LINK.is_match(href) {
                                seller = clean_name(&label);
                            }
                        } else if seller_class.is_none()
                            && el
                                .attr("class")
                                .is_some_and(|c| SELLERISH_CLASS.is_match(c))
                        {
                            seller_class = clean_name(&tidy(&e.text().collect::<String>()));
                        }
                        if el.name() == "time" && time.is_none() {
                            time = el
                                .attr("datetime")
                                .map(str::to_owned)
                                .or_else(|| Some(tidy(&e.text().collect::<String>())))
                                .filter(|t| !t.is_empty());
                        }
                        if titled_date.is_none() {
                            if let Some(t) = el.attr("title").filter(|t| looks_like_date(t)) {
                                titled_date = Some(t.trim().to_owned());
                            }
                        }
                    }
                    Node::Text(t) => {
                        let t = t.trim();
                        if !t.is_empty() && texts.len() < 200 {
                            // `<span title="April 08, 2021 at 07:21 AM">1 hour
                            // ago</span>`: the title is the exact time.
                            let exact = node
                                .parent()
                                .and_then(|p| p.value().as_element())
                                .and_then(|p| p.attr("title"))
                                .map(str::trim)
                                .filter(|title| looks_like_date(title) && looks_like_date(t));
                            texts.push(exact.unwrap_or(t).to_owned());
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
            }
        }
    }
    let _ = in_title;
    if row.seller.is_none() {
        if let Some(s) = seller.or(seller_class).filter(|s| *s != row.title) {
            row.seller = Some(s);
            found.push(Field::Seller);
        }
    }
    if row.posted_at.is_none() {
        let text_date = texts.iter().position(|t| looks_like_date(t)).map(|i| {
            let date = texts[i]
                .trim_start_matches(['»', '|', '-', '·', ' '])
                .trim()
                .to_owned();
            // `Yesterday` / `April 07, 2021`, then ` at 03:18 AM` in the
            // next text: one time.
            match texts.get(i + 1) {
                Some(next) if !CLOCK.is_match(&date) && TIME_AFTER.is_match(next) => {
                    format!("{date} {next}")
                }
                _ => date,
            }
        });
        if let Some(d) = time.or(text_date).or(titled_date) {
            row.posted_at = Some(d);
            found.push(Field::PostedAt);
        }
    }
    if row.price.is_none() {
        if let Some(m) = texts.iter().find_map(|t| PRICE.find(t)) {
            row.price = Some(tidy(m.as_str()));
            found.push(Field::Price);
        }
    }
    if row.replies.is_none() {
        // `12 replies` in one text, or a bare count right before the word
        // (`<span>16</span> Réponses`).
        let count = texts.iter().enumerate().find_map(|(i, t)| {
            if let Some(c) = REPLIES.captures(t) {
                return c.get(1).or_else(|| c.get(2)).map(|m| m.as_str().to_owned());
            }
            let next = texts.get(i + 1)?;
            (BARE_COUNT.is_match(t) && REPLY_WORD.is_match(next)).then(|| t.clone())
        });
        if let Some(c) = count {
            row.replies = Some(c);
            found.push(Field::Replies);
        }
    }
    found
}

/// The visible text of a cell.
fn cell_text(cell: ElementRef<'_>) -> String {
    crate::text::element_text(cell, None)
}

/// A seller cell: its first link's text, else its text.
fn cell_name(cell: ElementRef<'_>) -> Option<String> {
    static A: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a").expect("valid"));
    cell.select(&A)
        .map(|a| tidy(&a.text().collect::<String>()))
        .find(|t| !t.is_empty())
        .or_else(|| Some(cell_text(cell)))
        .and_then(|t| clean_name(&t))
}

/// A date cell: a `<time>`'s datetime, a date in a title attribute, else
/// the cell's first line that looks like a date, else its text.
fn cell_date(cell: ElementRef<'_>) -> Option<String> {
    static TIME: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("time[datetime]").expect("valid"));
    if let Some(t) = cell
        .select(&TIME)
        .next()
        .and_then(|t| t.value().attr("datetime"))
    {
        return Some(t.trim().to_owned());
    }
    let text = cell_text(cell);
    text.lines()
        .find(|l| looks_like_date(l))
        .map(str::to_owned)
        .or_else(|| (!text.is_empty() && text.chars().count() <= 48).then_some(text))
}

/// The tag names of an element's children, repeats collapsed
/// (`td,td,td` → `td`): records of one list share it.
fn shape(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    let mut last = "";
    for child in element.children().filter_map(ElementRef::wrap).take(40) {
        let name = child.value().name();
        if name != last {
            out.push_str(name);
            out.push(',');
            last = name;
        }
    }
    out
}

/// Tag name and the classes that do not vary between elements of one kind
/// (`bg1`/`bg2`, `odd`/`even`, state classes and BEM modifiers dropped).
fn signature(element: ElementRef<'_>) -> String {
    let mut sig = element.value().name().to_owned();
    for c in stable_classes(element) {
        sig.push('.');
        sig.push_str(c);
    }
    sig
}

fn stable_classes<'a>(element: ElementRef<'a>) -> Vec<&'a str> {
    let mut classes: Vec<&str> = element
        .value()
        .classes()
        .filter(|c| !c.chars().any(|ch| ch.is_ascii_digit()) && !c.contains("--"))
        .filter(|c| {
            !matches!(
                c.to_ascii_lowercase().as_str(),
                "odd"
                    | "even"
                    | "alt"
                    | "first"
                    | "last"
                    | "active"
                    | "selected"
                    | "sticky"
                    | "new"
                    | "read"
                    | "unread"
                    | "hot"
                    | "locked"
                    | "highlight"
                    | "clear"
                    | "clearfix"
            )
        })
        .collect();
    classes.sort_unstable();
    classes
}

/// A selector of the rows under `parents` and no others: the readable one
/// (classes and ids) when it is exact, else a path with positions from the
/// nearest ancestor that has an id.
fn exact_selector(page: &Html, parents: &[ElementRef<'_>], tag: &str) -> String {
    let wanted: HashSet<NodeId> = parents.iter().map(|p| p.id()).collect();
    let matches_exactly = |css: &str| {
        Selector::parse(css).is_ok_and(|sel| {
            let found: HashSet<NodeId> = page.select(&sel).map(|e| e.id()).collect();
            found == wanted
        })
    };
    let mut readable: Vec<String> = Vec::new();
    for p in parents {
        let s = selector_of(*p);
        if !readable.contains(&s) {
            readable.push(s);
        }
    }
    let readable = readable.join(", ");
    if matches_exactly(&readable) {
        return rows_of(&readable, tag);
    }
    let mut paths: Vec<String> = parents.iter().map(|p| positional_path(*p)).collect();
    paths.dedup();
    let positional = paths.join(", ");
    if matches_exactly(&positional) {
        rows_of(&positional, tag)
    } else {
        rows_of(&readable, tag)
    }
}

/// `a > tag, b > tag` for parents `a, b`.
fn rows_of(parents: &str, tag: &str) -> String {
    parents
        .split(", ")
        .map(|p| format!("{p} > {tag}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `div#main > div:nth-of-type(2) > table:nth-of-type(3) > tbody`: from the
/// nearest ancestor with an id (or `body`), each step with its position.
fn positional_path(element: ElementRef<'_>) -> String {
    let mut steps = Vec::new();
    let mut current = Some(element);
    while let Some(e) = current {
        let name = e.value().name();
        if let Some(id) = e.value().id().filter(|id| css_ident(id)) {
            steps.push(format!("{name}#{id}"));
            break;
        }
        if name == "body" || name == "html" {
            steps.push(name.to_owned());
            break;
        }
        let position = e
            .prev_siblings()
            .filter_map(ElementRef::wrap)
            .filter(|s| s.value().name() == name)
            .count()
            + 1;
        steps.push(format!("{name}:nth-of-type({position})"));
        current = e.parent().and_then(ElementRef::wrap);
    }
    steps.reverse();
    steps.join(" > ")
}

/// Whether an id can be written as `#id` in a selector as it is.
fn css_ident(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !id.starts_with(|c: char| c.is_ascii_digit())
}

/// A CSS selector for `parent` as specific as the page allows: its id, its
/// stable classes, or else those of the nearest ancestor that has some.
fn selector_of(parent: ElementRef<'_>) -> String {
    let one = |e: ElementRef<'_>| -> Option<String> {
        if let Some(id) = e.value().id().filter(|id| css_ident(id)) {
            return Some(format!("{}#{id}", e.value().name()));
        }
        let classes = stable_classes(e);
        (!classes.is_empty()).then(|| format!("{}.{}", e.value().name(), classes.join(".")))
    };
    if let Some(s) = one(parent) {
        return s;
    }
    let mut chain = vec![parent.value().name().to_owned()];
    for ancestor in parent.ancestors().filter_map(ElementRef::wrap).take(6) {
        if let Some(s) = one(ancestor) {
            chain.push(s);
            chain.reverse();
            return chain.join(" > ");
        }
        chain.push(ancestor.value().name().to_owned());
        if ancestor.value().name() == "body" {
            break;
        }
    }
    chain.truncate(1);
    chain.pop().unwrap_or_default()
}

/// Characters of visible text in the page body.
fn visible_text_chars(page: &Html) -> usize {
    text_chars(page.root_element())
}

/// Characters of visible text in an element.
fn text_chars(element: ElementRef<'_>) -> usize {
    let mut n = 0;
    let mut skipping: Option<NodeId> = None;
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) if is_invisible(el.name()) => skipping = Some(node.id()),
                    Node::Text(t) => n += t.trim().chars().count(),
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
            }
        }
    }
    n
}

/// Class or id words of containers that hold no listing: menus, footers,
/// sidebars. (Forms are not among them: boards wrap their lists in one.)
static NOT_A_LIST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(^|[-_\s])(nav|navbar|navigation|menu|menubar|footer|header|masthead|sidebar|breadcrumbs?|share|social|cookie|advert|sponsor|dropdown|popup|modal|toolbar|copyright|widget)([-_\s]|$)")
        .expect("valid")
});

/// Elements with at least 3 element children, in document order, each
/// with whether it sits in a menu, footer, sidebar or the like (a weaker
/// candidate: real lists sometimes sit in a `div.navbar`). `nav` elements
/// and navigation landmarks are left out. One pass over the page.
fn candidate_parents(page: &Html) -> Vec<(ElementRef<'_>, bool)> {
    let mut out = Vec::new();
    let mut skipping: Option<NodeId> = None;
    // Open elements that look like boilerplate, innermost last.
    let mut boilerplate: Vec<NodeId> = Vec::new();
    for edge in page.root_element().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                let Some(element) = ElementRef::wrap(node) else {
                    continue;
                };
                let v = element.value();
                if is_invisible(v.name())
                    || matches!(v.name(), "nav" | "menu" | "dialog")
                    || matches!(v.attr("role"), Some("navigation"))
                {
                    skipping = Some(node.id());
                    continue;
                }
                if matches!(v.name(), "header" | "footer" | "aside")
                    || v.attr("class").is_some_and(|c| NOT_A_LIST.is_match(c))
                    || v.attr("id").is_some_and(|c| NOT_A_LIST.is_match(c))
                {
                    boilerplate.push(node.id());
                }
                if node
                    .children()
                    .filter(|c| c.value().is_element())
                    .nth(MIN_RECORDS - 1)
                    .is_some()
                {
                    out.push((element, !boilerplate.is_empty()));
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                }
                if boilerplate.last() == Some(&node.id()) {
                    boilerplate.pop();
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacer_header_and_pagination_rows_are_tolerated() {
        let mut html = String::from(
            "<table class=t_topad><tr><td><a href='/viewtopic.php?tid=9'>♛ featured one</a></td><td><a href='/viewtopic.php?tid=8'>♛ featured two</a></td><td><a href='/viewtopic.php?tid=7'>♛ featured three</a></td></tr></table>\
             <table class=u_ea_a><tr><td colspan=7>列表<a href='ea.php?ea=1&pagea=2'>2</a><a href='ea.php?ea=1&pagea=3'>3</a></td></tr>\
             <tr><td>ID</td><td>发布时间</td><td>发布人</td><td>内容</td><td>标价</td><td>操作</td><td></td></tr><tr><td colspan=7></td></tr>",
        );
        for i in 1..=6 {
            html.push_str(&format!(
                "<tr><td>{i}</td><td>2020-09-0{i} 13:59</td><td>58782{i}</td><td><div><a href='viewtopic.php?tid=4014{i}'>出售数据第{i}批 一手资料</a></div></td><td>0.01390{i}</td><td><a href='viewtopic.php?tid=4014{i}'>打开</a></td><td></td></tr><tr><td colspan=7></td></tr>"
            ));
        }
        html.push_str("</table>");
        let page = Html::parse_document(&html);
        let set = find_rows(&page).expect("rows");
        assert_eq!(set.selector, "table.u_ea_a > tbody > tr");
        assert_eq!(set.rows.len(), 6);
        let r = &set.rows[2];
        assert_eq!(r.title, "出售数据第3批 一手资料");
        assert_eq!(r.href, "viewtopic.php?tid=40143");
        assert_eq!(r.posted_at.as_deref(), Some("2020-09-03 13:59"));
        assert_eq!(r.seller.as_deref(), Some("587823"));
        assert_eq!(r.price.as_deref(), Some("0.013903"));
        let fields: Vec<Field> = set.columns.iter().map(|c| c.field).collect();
        assert_eq!(fields, [Field::PostedAt, Field::Seller, Field::Price]);
    }

    #[test]
    fn last_post_parts_never_give_the_date_or_seller() {
        let mut html = String::from("<table id=topics><tr><th>Subject</th><th>Started by</th><th>Replies</th><th>Last post</th></tr>");
        for i in 1..=4 {
            html.push_str(&format!(
                "<tr><td><a href='/t/{i}'>Selling accounts batch {i}</a></td><td><a href='/index.php?action=profile;u={i}'>seller{i}</a></td><td>{i}0</td><td class=lastpostcol>May 0{i}, 2022, 10:00:00 AM by <a href='/index.php?action=profile;u=99'>someone</a></td></tr>"
            ));
        }
        html.push_str("</table>");
        let set = find_rows(&Html::parse_document(&html)).expect("rows");
        assert_eq!(set.rows.len(), 4);
        assert_eq!(set.rows[0].seller.as_deref(), Some("seller1"));
        assert_eq!(set.rows[0].replies.as_deref(), Some("10"));
        assert_eq!(set.rows[0].posted_at, None);
    }

    #[test]
    fn div_rows_without_header_by_content() {
        let mut html = String::from("<div class=list>");
        for i in 1..=4 {
            html.push_str(&format!(
                "<div class='item item--v{i}'><a class=title href='/item/{i}'>Fresh bank logs pack {i}</a><span class=vendor>by <a href='/vendor/v{i}'>vend{i}</a></span><span>Price: {i}50 USD</span><time datetime='2024-03-0{i}T10:00:00Z'>March {i}</time><span>{i} replies</span></div>"
            ));
        }
        html.push_str("</div>");
        let set = find_rows(&Html::parse_document(&html)).expect("rows");
        assert_eq!(set.rows.len(), 4);
        let r = &set.rows[3];
        assert_eq!(r.seller.as_deref(), Some("vend4"));
        assert_eq!(r.price.as_deref(), Some("450 USD"));
        assert_eq!(r.posted_at.as_deref(), Some("2024-03-04T10:00:00Z"));
        assert_eq!(r.replies.as_deref(), Some("4"));
    }

    #[test]
    fn finds_table_rows_with_price_seller_and_date() {
        let html = r#"<html><body>
<ul class="menu"><li><a href="/">Home</a></li><li><a href="/faq">FAQ page</a></li><li><a href="/rules">Rules page</a></li></ul>
<table id="offers"><tbody>
<tr class="r1"><td><a href="/item/1">Fresh EU bank logins</a></td><td><a href="/vendor/alpha">alpha</a></td><td>$150</td><td>2024-03-01 10:00</td></tr>
<tr class="r2"><td><a href="/item/2">Corporate VPN access (JP)</a></td><td><a href="/vendor/beta">beta</a></td><td>0.01 BTC</td><td>2024-03-02 11:00</td></tr>
<tr class="r1"><td><a href="/item/3">Database dump 2M rows</a></td><td><a href="/vendor/gamma">gamma</a></td><td>200元</td><td>3 days ago</td></tr>
</tbody></table></body></html>"#;
        let page = Html::parse_document(html);
        let set = find_rows(&page).expect("rows");
        assert_eq!(set.path, "table#offers > tbody > tr");
        assert_eq!(set.rows.len(), 3);
        assert_eq!(
            set.rows[1],
            GenericRow {
                title: "Corporate VPN access (JP)".into(),
                href: "/item/2".into(),
                price: Some("0.01 BTC".into()),
                seller: Some("beta".into()),
                posted_at: Some("2024-03-02 11:00".into()),
                ..GenericRow::default()
            }
        );
        assert_eq!(set.rows[2].price.as_deref(), Some("200元"));
        assert_eq!(set.rows[2].posted_at.as_deref(), Some("3 days ago"));
    }

    #[test]
    fn huge_tables_and_deep_nesting_are_bounded() {
        let mut html = String::from("<table>");
        for i in 0..50_000 {
            html.push_str(&format!(
                "<tr><td><a href=\"/t/{i}\">topic number {i}</a></td><td>{i} BTC</td></tr>"
            ));
        }
        html.push_str("</table>");
        let started = std::time::Instant::now();
        let page = Html::parse_document(&html);
        let set = find_rows(&page).expect("rows");
        assert_eq!(set.rows.len(), 50_000);
        assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
        let deep = format!(
            "{}<p>deep text here, long enough to count as a paragraph.</p>{}",
            "<div>".repeat(10_000),
            "</div>".repeat(10_000)
        );
        let page = Html::parse_document(&deep);
        assert_eq!(find_rows(&page), None);
        let _ = super::super::main_text(&page);
    }
}

//! The index schema and its version. Any change to fields or analysis bumps
//! [`SCHEMA_VERSION`], which makes the next writer reindex from stored documents.

use tantivy::schema::{
    DateOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
    STORED, STRING,
};

use crate::analyzer::{ANALYZER_NAME, KEYWORD_ANALYZER_NAME};

/// Version of the schema and analysis written by this build.
///
/// History: 1 — first release (flat folder layout); 2 — price amount and
/// currency, case-insensitive keyword fields, generation folders; 3 — one
/// `text` field for all searchable text, unigrams only at the end of CJK
/// runs; 4 — two empty positions after each CJK run (sparse phrases);
/// 5 — entities: `entity` and `wallet` exact fields, `entities` stored;
/// 6 — `site`, `lang` and `kind` are fast fields too (facet counts read
/// their columns).
pub const SCHEMA_VERSION: u32 = 6;

/// The fields, resolved once.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    pub id: Field,
    pub site: Field,
    pub url: Field,
    pub kind: Field,
    pub lang: Field,
    /// Indexed on its own too, so a title hit can rank higher.
    pub title: Field,
    /// Stored only: searched through `text`.
    pub body: Field,
    /// Everything a word query searches, one field: title, body, seller,
    /// category and price. One field keeps a query of several words an
    /// intersection of single phrase queries (cheap to check), not of
    /// unions over five fields. Indexed, not stored.
    pub text: Field,
    /// The price as the page wrote it (searchable text).
    pub price: Field,
    /// The price's amount, parsed (`amount:[0 TO 0.5]`).
    pub amount: Field,
    /// The price's currency code, parsed (`currency:btc`).
    pub currency: Field,
    pub seller: Field,
    pub category: Field,
    pub posted_at: Field,
    pub fetched_at: Field,
    /// posted_at, or fetched_at when the page shows no date: what `--since`
    /// filters and `--sort date` orders on.
    pub date: Field,
    pub encoding: Field,
    pub customer: Field,
    pub alert: Field,
    /// The canonical value of every entity (`entity:@shop`), exact and
    /// without case. Indexed, not stored.
    pub entity: Field,
    /// The canonical value of every cryptocurrency address (`wallet:…`).
    /// Indexed, not stored.
    pub wallet: Field,
    /// Each entity with its kind and offsets, one JSON object a value.
    /// Stored only.
    pub entities: Field,
}

/// Name of the fast field that date sorting reads.
pub(crate) const DATE_FIELD: &str = "date";

/// Names of the keyword fields whose columns facet counts read.
pub(crate) const SITE_FIELD: &str = "site";
pub(crate) const LANG_FIELD: &str = "lang";
pub(crate) const KIND_FIELD: &str = "kind";

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER_NAME)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    // Exact values, compared without case: `site:DeepMix` finds `deepmix`.
    let keyword = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(KEYWORD_ANALYZER_NAME)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        )
        .set_stored();
    // A keyword a search counts matches by (facets): a column of its
    // lowercased values as well.
    let facet = keyword.clone().set_fast(KEYWORD_ANALYZER_NAME);
    // The same, not stored (entities are stored once, in `entities`).
    let exact = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(KEYWORD_ANALYZER_NAME)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let date = DateOptions::default().set_indexed().set_stored();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        site: b.add_text_field(SITE_FIELD, facet.clone()),
        url: b.add_text_field("url", STORED),
        kind: b.add_text_field(KIND_FIELD, facet.clone()),
        lang: b.add_text_field(LANG_FIELD, facet),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", STORED),
        text: b.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(ANALYZER_NAME)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
        price: b.add_text_field("price", text.clone()),
        amount: b.add_f64_field(
            "amount",
            NumericOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored(),
        ),
        currency: b.add_text_field("currency", keyword.clone()),
        seller: b.add_text_field("seller", text.clone()),
        category: b.add_text_field("category", text),
        posted_at: b.add_date_field("posted_at", date.clone()),
        fetched_at: b.add_date_field("fetched_at", date.clone()),
        date: b.add_date_field(DATE_FIELD, date.set_fast()),
        encoding: b.add_text_field("encoding", STORED),
        customer: b.add_text_field("customer", keyword.clone()),
        alert: b.add_text_field("alert", keyword),
        entity: b.add_text_field("entity", exact.clone()),
        wallet: b.add_text_field("wallet", exact),
        entities: b.add_text_field("entities", STORED),
    };
    (b.build(), fields)
}

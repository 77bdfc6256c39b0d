//! The index schema and its version. A change to fields or analysis bumps
//! [`SCHEMA_VERSION`].

use tantivy::schema::{
    DateOptions, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
    STRING,
};

use crate::analyzer::ANALYZER_NAME;

/// Version of the schema and analysis written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// The fields, resolved once.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    pub id: Field,
    pub site: Field,
    pub url: Field,
    pub kind: Field,
    pub lang: Field,
    pub title: Field,
    pub body: Field,
    pub price: Field,
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
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER_NAME)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let date = DateOptions::default().set_indexed().set_stored();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        site: b.add_text_field("site", STRING | STORED | FAST),
        url: b.add_text_field("url", STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        lang: b.add_text_field("lang", STRING | STORED),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text.clone()),
        price: b.add_text_field("price", text.clone()),
        seller: b.add_text_field("seller", text.clone()),
        category: b.add_text_field("category", text),
        posted_at: b.add_date_field("posted_at", date.clone()),
        fetched_at: b.add_date_field("fetched_at", date.clone()),
        date: b.add_date_field("date", date.set_fast()),
        encoding: b.add_text_field("encoding", STORED),
        customer: b.add_text_field("customer", STRING | STORED),
        alert: b.add_text_field("alert", STRING | STORED),
    };
    (b.build(), fields)
}

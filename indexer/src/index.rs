//! Opening, writing and reading the on-disk index.
//!
//! One writer at a time (Tantivy's lock enforces it across processes);
//! readers in other processes see the last commit and never a partial one.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::schema::{Schema, TantivyDocument, Value};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use crate::analyzer::{FoldingTokenizer, TokenizerMode, ANALYZER_NAME};
use crate::error::IndexError;
use crate::schema::{self, Fields, SCHEMA_VERSION};

/// Marker file that tells a leakwatch index from any other folder.
const MARKER: &str = "leakwatch-index.json";
const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Marker {
    schema_version: u32,
}

/// A document as the index stores it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IndexDocument {
    pub id: String,
    pub site: String,
    pub url: String,
    pub kind: String,
    pub lang: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub price: Option<String>,
    pub seller: Option<String>,
    pub category: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub encoding: Option<String>,
    /// Customers with an alert on this document (for `--customer`).
    pub customers: Vec<String>,
    /// `customer/asset` of each alert on this document.
    pub alerts: Vec<String>,
}

/// The leakwatch index under one folder.
pub struct DocumentIndex {
    path: PathBuf,
    pub(crate) index: Index,
    pub(crate) fields: Fields,
    pub(crate) reader: IndexReader,
    writer: Option<IndexWriter>,
}

impl DocumentIndex {
    /// Opens the index in `path`, creating it if the folder is absent or empty.
    pub fn open_or_create(path: &Path) -> Result<DocumentIndex, IndexError> {
        let io = |source| IndexError::Io {
            path: path.to_owned(),
            source,
        };
        std::fs::create_dir_all(path).map_err(io)?;
        let empty = std::fs::read_dir(path).map_err(io)?.next().is_none();
        if empty {
            let (schema, _) = schema::build();
            Index::create_in_dir(path, schema)?;
            let marker = serde_json::to_vec(&Marker {
                schema_version: SCHEMA_VERSION,
            })
            .expect("marker serialises");
            std::fs::write(path.join(MARKER), marker).map_err(io)?;
        }
        DocumentIndex::open(path)
    }

    /// Opens an existing index for reading (and later writing).
    pub fn open(path: &Path) -> Result<DocumentIndex, IndexError> {
        let marker_path = path.join(MARKER);
        let marker = match std::fs::read(&marker_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(
                    if path.join("meta.json").exists()
                        || path.exists()
                            && std::fs::read_dir(path)
                                .map(|mut d| d.next().is_some())
                                .unwrap_or(false)
                    {
                        IndexError::Foreign {
                            path: path.to_owned(),
                            marker: MARKER,
                        }
                    } else {
                        IndexError::Missing {
                            path: path.to_owned(),
                        }
                    },
                );
            }
            Err(source) => {
                return Err(IndexError::Io {
                    path: marker_path,
                    source,
                })
            }
        };
        let marker: Marker = serde_json::from_slice(&marker).map_err(|_| IndexError::Foreign {
            path: path.to_owned(),
            marker: MARKER,
        })?;
        if marker.schema_version > SCHEMA_VERSION {
            return Err(IndexError::TooNew {
                path: path.to_owned(),
                found: marker.schema_version,
                known: SCHEMA_VERSION,
            });
        }
        if marker.schema_version < SCHEMA_VERSION {
            return Err(IndexError::TooOld {
                path: path.to_owned(),
                found: marker.schema_version,
                known: SCHEMA_VERSION,
            });
        }
        let index = Index::open_in_dir(path)?;
        index.tokenizers().register(
            ANALYZER_NAME,
            TextAnalyzer::from(FoldingTokenizer::new(TokenizerMode::Index)),
        );
        let (_, fields) = schema::build();
        check_schema(path, &index.schema())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(DocumentIndex {
            path: path.to_owned(),
            index,
            fields,
            reader,
            writer: None,
        })
    }

    /// The folder of this index.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&mut self) -> Result<&mut IndexWriter, IndexError> {
        if self.writer.is_none() {
            let writer = self.index.writer(WRITER_HEAP_BYTES).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => IndexError::Locked {
                    path: self.path.clone(),
                },
                other => IndexError::Tantivy(other),
            })?;
            self.writer = Some(writer);
        }
        Ok(self.writer.as_mut().expect("writer was just set"))
    }

    /// Adds `doc`, replacing any document with the same id (visible after
    /// the next [`commit`](Self::commit)).
    pub fn upsert(&mut self, doc: &IndexDocument) -> Result<(), IndexError> {
        let tantivy_doc = self.to_tantivy(doc);
        let id_field = self.fields.id;
        let writer = self.writer()?;
        writer.delete_term(Term::from_field_text(id_field, &doc.id));
        writer.add_document(tantivy_doc)?;
        Ok(())
    }

    /// Makes every upsert so far durable and visible to readers.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        if let Some(writer) = self.writer.as_mut() {
            writer.commit()?;
            self.reader.reload()?;
        }
        Ok(())
    }

    /// Number of documents visible to readers.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Re-reads the last commit (another process may have written).
    pub fn reload(&self) -> Result<(), IndexError> {
        Ok(self.reader.reload()?)
    }

    fn to_tantivy(&self, d: &IndexDocument) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.id);
        doc.add_text(f.site, &d.site);
        doc.add_text(f.url, &d.url);
        doc.add_text(f.kind, &d.kind);
        let texts = [
            (f.lang, &d.lang),
            (f.title, &d.title),
            (f.body, &d.body),
            (f.price, &d.price),
            (f.seller, &d.seller),
            (f.category, &d.category),
            (f.encoding, &d.encoding),
        ];
        for (field, value) in texts {
            if let Some(v) = value {
                doc.add_text(field, v);
            }
        }
        let date = |d: DateTime<Utc>| tantivy::DateTime::from_timestamp_secs(d.timestamp());
        if let Some(p) = d.posted_at {
            doc.add_date(f.posted_at, date(p));
        }
        if let Some(p) = d.fetched_at {
            doc.add_date(f.fetched_at, date(p));
        }
        if let Some(p) = d.posted_at.or(d.fetched_at) {
            doc.add_date(f.date, date(p));
        }
        for c in &d.customers {
            doc.add_text(f.customer, c);
        }
        for a in &d.alerts {
            doc.add_text(f.alert, a);
        }
        doc
    }

    pub(crate) fn from_tantivy(&self, doc: &TantivyDocument) -> IndexDocument {
        let f = &self.fields;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let texts = |field| {
            doc.get_all(field)
                .filter_map(|v| v.as_str())
                .map(str::to_owned)
                .collect()
        };
        let date = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_datetime())
                .and_then(|d| DateTime::from_timestamp(d.into_timestamp_secs(), 0))
        };
        IndexDocument {
            id: text(f.id).unwrap_or_default(),
            site: text(f.site).unwrap_or_default(),
            url: text(f.url).unwrap_or_default(),
            kind: text(f.kind).unwrap_or_default(),
            lang: text(f.lang),
            title: text(f.title),
            body: text(f.body),
            price: text(f.price),
            seller: text(f.seller),
            category: text(f.category),
            posted_at: date(f.posted_at),
            fetched_at: date(f.fetched_at),
            encoding: text(f.encoding),
            customers: texts(f.customer),
            alerts: texts(f.alert),
        }
    }
}

fn check_schema(path: &Path, found: &Schema) -> Result<(), IndexError> {
    let (expected, _) = schema::build();
    let names = |s: &Schema| {
        s.fields()
            .map(|(_, e)| e.name().to_owned())
            .collect::<Vec<_>>()
    };
    if names(found) != names(&expected) {
        return Err(IndexError::Foreign {
            path: path.to_owned(),
            marker: MARKER,
        });
    }
    Ok(())
}

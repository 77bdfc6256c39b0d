//! Where an alert's matched terms and sale cues sit in its document's
//! original title and body: byte ranges for the API and the highlighted
//! alert page. Pure: text in, ranges out.

/// A highlighted range of the title or body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Mark {
    /// `title` or `body`.
    pub field: &'static str,
    /// `term` (a watchlist term as written) or `cue` (a sale cue).
    pub kind: &'static str,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// Every occurrence of each term and cue in the title and body, sorted,
/// overlaps removed (a term wins over a cue, then the longer one).
pub(crate) fn find_marks(
    title: Option<&str>,
    body: Option<&str>,
    terms: &[String],
    cues: &[String],
) -> Vec<Mark> {
    let mut out = Vec::new();
    for (field, text) in [("title", title), ("body", body)] {
        let Some(text) = text else { continue };
        let mut found: Vec<(usize, usize, &'static str)> = Vec::new();
        for (kind, needles) in [("term", terms), ("cue", cues)] {
            for needle in needles.iter().filter(|n| !n.trim().is_empty()) {
                for (start, m) in text.match_indices(needle.as_str()) {
                    found.push((start, start + m.len(), kind));
                }
            }
        }
        found.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| (a.2 != "term").cmp(&(b.2 != "term")))
                .then_with(|| b.1.cmp(&a.1))
        });
        let mut end = 0;
        for (s, e, kind) in found {
            if s < end {
                continue;
            }
            out.push(Mark {
                field,
                kind,
                start: s,
                end: e,
                text: text[s..e].to_owned(),
            });
            end = e;
        }
    }
    out
}

/// `text` cut into pieces, each with the kind of mark it carries (if any),
/// for rendering the marks of one field.
pub(crate) fn pieces<'t>(
    text: &'t str,
    marks: &[Mark],
    field: &str,
) -> Vec<(&'t str, Option<&'static str>)> {
    let mut out = Vec::new();
    let mut at = 0;
    for m in marks.iter().filter(|m| m.field == field) {
        if m.start < at
            || m.end > text.len()
            || !text.is_char_boundary(m.start)
            || !text.is_char_boundary(m.end)
        {
            continue;
        }
        if m.start > at {
            out.push((&text[at..m.start], None));
        }
        out.push((&text[m.start..m.end], Some(m.kind)));
        at = m.end;
    }
    if at < text.len() {
        out.push((&text[at..], None));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_in_both_fields_without_overlaps() {
        let terms = vec!["三菱ＵＦＪ".to_owned(), "UFJ".to_owned()];
        let cues = vec!["出售".to_owned()];
        let marks = find_marks(
            Some("出售 三菱ＵＦＪ 账户"),
            Some("三菱ＵＦＪ 网银, 出售; 出售"),
            &terms,
            &cues,
        );
        let got: Vec<(&str, &str, &str)> = marks
            .iter()
            .map(|m| (m.field, m.kind, m.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("title", "cue", "出售"),
                ("title", "term", "三菱ＵＦＪ"),
                ("body", "term", "三菱ＵＦＪ"),
                ("body", "cue", "出售"),
                ("body", "cue", "出售"),
            ]
        );
        let title = "出售 三菱ＵＦＪ 账户";
        assert_eq!(&title[marks[1].start..marks[1].end], "三菱ＵＦＪ");
        let p = pieces(title, &marks, "title");
        assert_eq!(
            p,
            [
                ("出售", Some("cue")),
                (" ", None),
                ("三菱ＵＦＪ", Some("term")),
                (" 账户", None)
            ]
        );
        assert!(find_marks(None, None, &terms, &cues).is_empty());
    }
}

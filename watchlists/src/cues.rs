//! The sale-cue lexicon: phrases (zh, ja, en, ru) that put a watched asset's mention in a
//! sale context, grouped by what they say. Data lives in `cues.toml`; this module only
//! parses and merges it.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What a cue says about the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CueKind {
    /// A request to buy: ranks below selling.
    Buy,
    /// Trade talk (price, escrow, contact): ranks as selling.
    Trade,
    /// An offer to sell.
    Sell,
}

/// The shipped lexicon text (documented in the file itself).
pub const SHIPPED_LEXICON: &str = include_str!("cues.toml");

/// Sale cues and the phrases that cancel or counter them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CueLexicon {
    pub(crate) cues: Vec<(String, CueKind)>,
    /// Single characters that are cues only at the start of the title or a line, with the
    /// characters after which they are not.
    pub(crate) line_start: Vec<(char, CueKind, Vec<String>)>,
    pub(crate) not_offer: Vec<String>,
    pub(crate) warning: Vec<String>,
    pub(crate) title_warning: Vec<String>,
    pub(crate) not_warning: Vec<String>,
    /// Nouns naming goods on offer (kit, page, 源码, キット): a warning word that names
    /// them (`phishing kit`, `钓鱼页面`) describes the goods instead of warning.
    pub(crate) goods: Vec<String>,
    /// Words that may stand between a warning word and the goods it names
    /// (`钓鱼用的页面`, `フィッシング用キット`).
    pub(crate) goods_link_after: Vec<String>,
    /// Words that may stand between the goods and a warning word after them
    /// (`kit for phishing`, `панель для фишинга`).
    pub(crate) goods_link_before: Vec<String>,
}

/// A lexicon file that does not parse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LexiconError {
    /// The text is not TOML, or has a section or key `cues.toml` does not.
    #[error("cue lexicon: {0}")]
    Toml(#[from] toml::de::Error),
    /// A `line_start` cue (held as written) is not a single character.
    #[error("cue lexicon: line_start entry {0:?} must be exactly one character")]
    NotOneChar(String),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    #[serde(default)]
    sell: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    buy: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    trade: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    line_start: RawLineStart,
    #[serde(default)]
    not_offer: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    warning: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    title_warning: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    not_warning: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    goods: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    goods_link: RawGoodsLink,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGoodsLink {
    #[serde(default)]
    after_warning: Vec<String>,
    #[serde(default)]
    before_warning: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLineStart {
    #[serde(default)]
    sell: Vec<String>,
    #[serde(default)]
    buy: Vec<String>,
    #[serde(default)]
    not_before: BTreeMap<String, Vec<String>>,
}

impl CueLexicon {
    /// The lexicon shipped in `cues.toml`.
    pub fn shipped() -> CueLexicon {
        CueLexicon::from_toml_str(SHIPPED_LEXICON)
            .unwrap_or_else(|e| panic!("the shipped cues.toml parses (tested): {e}"))
    }

    /// Parses a lexicon file of the same shape as `cues.toml` (every section optional).
    pub fn from_toml_str(src: &str) -> Result<CueLexicon, LexiconError> {
        let raw: RawLexicon = toml::from_str(src)?;
        let flat = |m: BTreeMap<String, Vec<String>>| m.into_values().flatten().collect::<Vec<_>>();
        let mut lex = CueLexicon::default();
        for (section, kind) in [
            (raw.sell, CueKind::Sell),
            (raw.buy, CueKind::Buy),
            (raw.trade, CueKind::Trade),
        ] {
            lex.cues
                .extend(flat(section).into_iter().map(|p| (p, kind)));
        }
        let mut not_before = raw.line_start.not_before;
        for (list, kind) in [
            (raw.line_start.sell, CueKind::Sell),
            (raw.line_start.buy, CueKind::Buy),
        ] {
            for s in list {
                let mut it = s.chars();
                let (Some(c), None) = (it.next(), it.next()) else {
                    return Err(LexiconError::NotOneChar(s));
                };
                lex.line_start
                    .push((c, kind, not_before.remove(&s).unwrap_or_default()));
            }
        }
        lex.not_offer = flat(raw.not_offer);
        lex.warning = flat(raw.warning);
        lex.title_warning = flat(raw.title_warning);
        lex.not_warning = flat(raw.not_warning);
        lex.goods = flat(raw.goods);
        lex.goods_link_after = raw.goods_link.after_warning;
        lex.goods_link_before = raw.goods_link.before_warning;
        Ok(lex)
    }

    /// Adds another lexicon's entries to this one (a deployment's additions to the shipped set).
    pub fn extend(&mut self, other: CueLexicon) {
        self.cues.extend(other.cues);
        self.line_start.extend(other.line_start);
        self.not_offer.extend(other.not_offer);
        self.warning.extend(other.warning);
        self.title_warning.extend(other.title_warning);
        self.not_warning.extend(other.not_warning);
        self.goods.extend(other.goods);
        self.goods_link_after.extend(other.goods_link_after);
        self.goods_link_before.extend(other.goods_link_before);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lexicon_parses_and_covers_four_languages() {
        let lex = CueLexicon::shipped();
        for phrase in [
            "出售",
            "販売",
            "売ります",
            "for sale",
            "wts",
            "продам",
            "收购",
            "買います",
            "wtb",
            "куплю",
            "价格",
            "escrow",
            "цена",
        ] {
            assert!(
                lex.cues.iter().any(|(p, _)| p == phrase),
                "{phrase} is a cue"
            );
        }
        assert!(lex
            .line_start
            .iter()
            .any(|(c, k, nb)| *c == '收' && *k == CueKind::Buy && nb.iter().any(|x| x == "到")));
        assert!(lex.not_offer.iter().any(|p| p == "買いました"));
        for goods in ["kit", "页面", "源码", "キット", "страницы"] {
            assert!(lex.goods.iter().any(|p| p == goods), "{goods} names goods");
        }
        assert!(lex.goods_link_after.iter().any(|p| p == "用"));
        assert!(lex.goods_link_before.iter().any(|p| p == "for"));
        assert!(CueKind::Sell > CueKind::Buy);
    }

    #[test]
    fn extension_files_merge() {
        let mut lex = CueLexicon::shipped();
        let n = lex.cues.len();
        lex.extend(CueLexicon::from_toml_str("[sell]\nko = [\"판매\"]\n").expect("valid"));
        assert_eq!(lex.cues.len(), n + 1);
        assert!(CueLexicon::from_toml_str("[line_start]\nsell = [\"出售\"]\n").is_err());
        assert!(CueLexicon::from_toml_str("[selling]\n").is_err());
    }
}

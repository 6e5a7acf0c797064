//! BM25 search over knowledge-base articles with tantivy, held in memory: title, questions,
//! tags and body, with boosts. The index is built once per content version and never written
//! again, so readers always see a whole index.
//!
//! A message's query is built from its words directly (each stemmed word, in each field, with
//! the field's boost), not through tantivy's query parser: parsing text cost about as much as
//! the search itself on every message, and no resident's words can be read as query syntax.

use std::collections::HashSet;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, TantivyDocument, Term, doc};

use crate::content::Article;

/// How much each field counts: a match in a title or a listed question says more than one in
/// the body.
const BOOSTS: [(&str, f32); 4] = [("title", 3.0), ("questions", 2.5), ("tags", 2.0), ("body", 1.0)];

/// The tokenizer the text fields are indexed with, so query words are stemmed the same way.
const TOKENIZER: &str = "en_stem";

pub struct Knowledge {
    reader: IndexReader,
    /// The searched fields with their boosts.
    fields: Vec<(Field, f32)>,
    /// Every term indexed in each field (in `fields` order): a query is made only of words the
    /// articles hold, since a missing term scores nothing but costs a dictionary look-up and a
    /// scorer, and most of a message's words are in no article.
    vocabulary: Vec<HashSet<String>>,
    analyzer: TextAnalyzer,
    /// Each document's article id, by segment and document number: the index is never written
    /// again, so addresses stay valid, and a hit needs no read of the document store.
    ids: Vec<Vec<String>>,
}

impl std::fmt::Debug for Knowledge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Knowledge").field("articles", &self.reader.searcher().num_docs()).finish()
    }
}

impl Knowledge {
    pub fn build(articles: &[Article]) -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let id = schema.add_text_field("id", STRING | STORED);
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields: Vec<Field> =
            BOOSTS.iter().map(|(name, _)| schema.add_text_field(name, text.clone())).collect();
        let index = Index::create_in_ram(schema.build());
        // One thread and one commit: the whole index appears at once.
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        for article in articles {
            writer.add_document(doc!(
                id => article.id.clone(),
                fields[0] => article.title.clone(),
                fields[1] => article.questions.join("\n"),
                fields[2] => article.tags.join("\n"),
                fields[3] => article.body.clone(),
            ))?;
        }
        writer.commit()?;
        let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let analyzer = index.tokenizers().get(TOKENIZER).ok_or_else(|| {
            tantivy::TantivyError::InvalidArgument(format!("no tokenizer named {TOKENIZER}"))
        })?;
        // One pass over the segments for what a search reads instead of the index's own files.
        let searcher = reader.searcher();
        let (mut ids, mut vocabulary) = (Vec::new(), vec![HashSet::new(); fields.len()]);
        for (segment, segment_reader) in searcher.segment_readers().iter().enumerate() {
            let mut segment_ids = vec![String::new(); segment_reader.max_doc() as usize];
            for doc in segment_reader.doc_ids_alive() {
                let document: TantivyDocument = searcher.doc(DocAddress::new(segment as u32, doc))?;
                if let Some(found) = document.get_first(id).and_then(|v| v.as_str()) {
                    segment_ids[doc as usize] = found.to_string();
                }
            }
            ids.push(segment_ids);
            for (field, terms) in fields.iter().zip(&mut vocabulary) {
                let index = segment_reader.inverted_index(*field)?;
                let mut stream = index.terms().stream()?;
                while stream.advance() {
                    terms.insert(String::from_utf8_lossy(stream.key()).into_owned());
                }
            }
        }
        let fields = fields.into_iter().zip(BOOSTS).map(|(field, (_, boost))| (field, boost)).collect();
        Ok(Self { reader, fields, vocabulary, analyzer, ids })
    }

    /// The best articles for these words, as (article id, BM25 score), best first: the sum
    /// over words and fields of each stemmed word's boosted BM25 score in that field.
    pub fn search(&self, words: &[String], limit: usize) -> Vec<(String, f32)> {
        let mut analyzer = self.analyzer.clone();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // A word said twice counts once, as tantivy's query grammar counted it.
        let mut seen = HashSet::new();
        for word in words.iter().filter(|w| {
            w.chars().all(char::is_alphanumeric)
                && !STOP_WORDS.contains(&String::as_str(w))
                && seen.insert(w.as_str())
        }) {
            let mut stream = analyzer.token_stream(word);
            while let Some(token) = stream.next() {
                for (&(field, boost), terms) in self.fields.iter().zip(&self.vocabulary) {
                    if !terms.contains(token.text.as_str()) {
                        continue;
                    }
                    let term = TermQuery::new(
                        Term::from_field_text(field, &token.text),
                        IndexRecordOption::WithFreqs,
                    );
                    let query: Box<dyn Query> = if boost == 1.0 {
                        Box::new(term)
                    } else {
                        Box::new(BoostQuery::new(Box::new(term), boost))
                    };
                    clauses.push((Occur::Should, query));
                }
            }
        }
        if clauses.is_empty() {
            return Vec::new();
        }
        let searcher = self.reader.searcher();
        let query = BooleanQuery::new(clauses);
        let Ok(hits) = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score()) else {
            return Vec::new();
        };
        hits.into_iter()
            .filter_map(|(score, address)| {
                let id = self.ids.get(address.segment_ord as usize)?.get(address.doc_id as usize)?;
                (!id.is_empty()).then(|| (id.clone(), score))
            })
            .collect()
    }
}

/// Words too common to say anything about which article is meant.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "get",
    "have", "how", "i", "if", "in", "is", "it", "me", "my", "not", "of", "on", "or", "so", "the", "there",
    "this", "to", "was", "what", "when", "where", "which", "who", "will", "with", "would", "you", "your",
    "we", "our", "am", "hi", "please", "thanks", "want", "need", "know",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Location;

    fn article(id: &str, title: &str, body: &str) -> Article {
        Article {
            id: id.into(),
            title: title.into(),
            questions: vec![],
            tags: vec![],
            url: "https://example.gov.uk".into(),
            owner: "x".into(),
            last_reviewed: "2026-01-01".into(),
            body: body.into(),
            facets: Default::default(),
            source: Location::default(),
        }
    }

    #[test]
    fn ranks_by_field_and_stems() {
        let knowledge = Knowledge::build(&[
            article("libraries", "Libraries", "Borrow books and e-books."),
            article("archives", "Archives", "Old records, maps and books about families."),
        ])
        .unwrap();
        let words: Vec<String> = ["library", "book"].iter().map(|w| w.to_string()).collect();
        let hits = knowledge.search(&words, 5);
        assert_eq!(hits[0].0, "libraries");
        assert_eq!(hits.len(), 2);
        assert!(knowledge.search(&["the".to_string(), "\"(".to_string()], 5).is_empty());
    }

    /// The query built word by word scores every article exactly as tantivy's own parser reads
    /// the same words across the boosted fields (the way it was searched before).
    #[test]
    fn scores_as_the_query_parser_does() {
        let mut parking =
            article("parking", "Parking permits", "Residents' parking permits for your street.");
        parking.questions = vec!["How do I get a parking permit?".into()];
        parking.tags = vec!["cars".into(), "permits".into()];
        let mut roads =
            article("roads", "Roads and pavements", "Report a broken pavement or a blocked drain.");
        roads.questions = vec!["Who mends the roads?".into()];
        let knowledge = Knowledge::build(&[
            parking,
            roads,
            article("libraries", "Libraries", "Borrow books, park outside and read the papers."),
        ])
        .unwrap();
        let searcher = knowledge.reader.searcher();
        let mut parser = tantivy::query::QueryParser::for_index(
            searcher.index(),
            knowledge.fields.iter().map(|(field, _)| *field).collect(),
        );
        for (field, boost) in &knowledge.fields {
            parser.set_field_boost(*field, *boost);
        }
        for query in [
            "parking permit",
            "permits permitting parked cars",
            "road road pavement",
            "road roads",
            "the book",
            "nothing here matches",
            "drain parking book roads",
        ] {
            let words: Vec<String> = query.split(' ').map(str::to_string).collect();
            let kept: Vec<&str> =
                words.iter().map(String::as_str).filter(|w| !STOP_WORDS.contains(w)).collect();
            let expected: Vec<(String, f32)> = if kept.is_empty() {
                Vec::new()
            } else {
                let (parsed, _) = parser.parse_query_lenient(&kept.join(" "));
                let hits = searcher.search(&parsed, &TopDocs::with_limit(5).order_by_score()).unwrap();
                hits.into_iter()
                    .map(|(score, address)| {
                        (knowledge.ids[address.segment_ord as usize][address.doc_id as usize].clone(), score)
                    })
                    .collect()
            };
            let found = knowledge.search(&words, 5);
            assert_eq!(
                found.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                expected.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                "{query}"
            );
            for ((_, got), (_, want)) in found.iter().zip(&expected) {
                assert!((got - want).abs() < 1e-4, "{query}: {got} against {want}");
            }
        }
        assert!(!knowledge.search(&["parking".to_string()], 5).is_empty(), "a known word is found");
    }
}

//! BM25 search over knowledge-base articles with tantivy, held in memory: title, questions,
//! tags and body, with boosts. The index is built once per content version and never written
//! again, so readers always see a whole index.

use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, doc};

use crate::content::Article;

/// How much each field counts: a match in a title or a listed question says more than one in
/// the body.
const BOOSTS: [(&str, f32); 4] = [("title", 3.0), ("questions", 2.5), ("tags", 2.0), ("body", 1.0)];

pub struct Knowledge {
    reader: IndexReader,
    parser: QueryParser,
    id: Field,
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
                .set_tokenizer("en_stem")
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
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let mut parser = QueryParser::for_index(&index, fields.clone());
        for (field, (_, boost)) in fields.iter().zip(BOOSTS) {
            parser.set_field_boost(*field, boost);
        }
        Ok(Self { reader, parser, id })
    }

    /// The best articles for these words, as (article id, BM25 score), best first.
    pub fn search(&self, words: &[String], limit: usize) -> Vec<(String, f32)> {
        // Only plain words reach the parser, so no resident's text is read as query syntax.
        let query_text = words
            .iter()
            .filter(|w: &&String| {
                w.chars().all(char::is_alphanumeric) && !STOP_WORDS.contains(&String::as_str(w))
            })
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        if query_text.is_empty() {
            return Vec::new();
        }
        let (query, _) = self.parser.parse_query_lenient(&query_text);
        let searcher = self.reader.searcher();
        let Ok(hits) = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score()) else {
            return Vec::new();
        };
        hits.into_iter()
            .filter_map(|(score, address)| {
                let document: TantivyDocument = searcher.doc(address).ok()?;
                let id = document.get_first(self.id)?.as_str()?.to_string();
                Some((id, score))
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
}

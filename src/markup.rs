//! The small, safe Markdown subset answers are written in: paragraphs, `**bold**`, `- ` lists
//! and `[text](target)` links. This module is its one definition: the patterns below are the
//! ones the front ends draw with (widget/kit/markup.js; a test checks it uses them, and
//! tests/fixtures/markup.json holds cases run both here and in Chromium), and
//! [`outside_subset`] parses an answer as CommonMark (pulldown-cmark) so that `check` refuses
//! anything else, which the chat window would show as literal text.

use std::sync::LazyLock;

use pulldown_cmark::{Event, LinkType, Parser, Tag};
use regex::Regex;

/// `[text](target)`: the target has no spaces and no brackets.
pub const LINK_PATTERN: &str = r"\[([^\]\n]+)\]\(([^()\s]+)\)";
/// `**bold**`.
pub const BOLD_PATTERN: &str = r"\*\*(.+?)\*\*";

static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(LINK_PATTERN).expect("valid regex"));

/// The targets of every `[text](target)` link in `text`, as the widget reads them.
pub fn link_targets(text: &str) -> impl Iterator<Item = &str> {
    LINK.captures_iter(text).filter_map(|c| c.get(2).map(|m| m.as_str()))
}

/// Links the widget will render: web pages over https, phone numbers and email addresses.
pub fn is_safe_link(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("tel:") || lower.starts_with("mailto:")
}

/// What in `text` is Markdown outside the subset, each named once in the order found, with
/// what to write instead.
pub fn outside_subset(text: &str) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = Vec::new();
    let mut parser = Parser::new(text);
    for event in parser.by_ref() {
        let what = match event {
            Event::Start(Tag::Heading { .. }) => "a heading (#): write a **bold** line instead",
            Event::Start(Tag::List(Some(_))) => "a numbered list: use \"- \" items",
            Event::Start(Tag::Emphasis) => "*emphasis*: only **bold** is drawn",
            Event::Start(Tag::Strikethrough) => "~~strikethrough~~, which is not drawn",
            Event::Start(Tag::BlockQuote(_)) => "a quote (>), which is not drawn",
            Event::Start(Tag::CodeBlock(_)) | Event::Code(_) => "code (` or indented), which is not drawn",
            Event::Start(Tag::Image { .. }) => "an image, which is not drawn",
            Event::Start(Tag::Table(_)) => "a table, which is not drawn",
            Event::Html(_) | Event::InlineHtml(_) => "HTML, which is shown as text",
            Event::Rule => "a horizontal rule, which is not drawn",
            Event::Start(Tag::Link { link_type: LinkType::Autolink | LinkType::Email, .. }) => {
                "an autolink (<https://...>), which is shown as text: write [text](target)"
            }
            Event::Start(Tag::Link { dest_url, .. })
                if dest_url.is_empty() || dest_url.contains(['(', ')', ' ']) =>
            {
                "a link target with brackets or spaces, which the widget cannot draw"
            }
            _ => continue,
        };
        if !found.contains(&what) {
            found.push(what);
        }
    }
    // "[1]: https://..." draws nothing in CommonMark and makes "[text][1]" a link; the chat
    // window shows both as written (and the definition's target is never checked).
    if parser.reference_definitions().iter().next().is_some() {
        found.push("a link reference definition ([name]: target): write [text](target) links");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links_and_judges_them() {
        let text = "See [the page](https://x.gov.uk) or [call](tel:0300) or [bad](javascript:alert(1))";
        let targets: Vec<&str> = link_targets(text).collect();
        assert_eq!(targets, ["https://x.gov.uk", "tel:0300"]);
        assert!(is_safe_link(targets[0]) && is_safe_link(targets[1]));
        assert!(!is_safe_link("javascript:alert(1)"));
    }

    #[test]
    fn the_subset_passes_and_everything_else_is_named() {
        let subset =
            "Hello.\n\n- **Cost:** £10\n- [Apply](https://x.gov.uk) or [call](tel:0300)\n\nMore text.";
        assert!(outside_subset(subset).is_empty(), "{:?}", outside_subset(subset));
        let cases = [
            ("## Who can apply\n\nAnyone.", "a heading"),
            ("1. first\n2. second", "a numbered list"),
            ("this is *important*", "*emphasis*"),
            ("> quoted", "a quote"),
            ("use `code`", "code"),
            ("![map](https://x.gov.uk/map.png)", "an image"),
            ("<b>bold</b>", "HTML"),
            ("a\n\n---\n\nb", "a horizontal rule"),
            ("see <https://x.gov.uk> for more", "an autolink"),
            ("write to <info@x.gov.uk>", "an autolink"),
            ("[page](https://x.gov.uk/a_(b))", "a link target with brackets"),
            ("See [the page][1].\n\n[1]: javascript:alert(1)", "a link reference definition"),
            ("[1]: <img src=x onerror=alert(1)>", "a link reference definition"),
        ];
        for (text, named) in cases {
            let found = outside_subset(text);
            assert!(found.iter().any(|f| f.starts_with(named)), "{text:?}: {found:?}");
        }
    }

    /// The widget and the consoles draw answers with kit/markup.js, with these patterns.
    #[test]
    fn the_toolkit_draws_links_and_bold_with_the_same_patterns() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let source = std::fs::read_to_string(root.join("widget/kit/markup.js")).expect("kit/markup.js");
        for pattern in [LINK_PATTERN, BOLD_PATTERN] {
            assert!(source.contains(pattern), "kit/markup.js does not draw with {pattern}");
        }
    }

    /// tests/fixtures/markup.json: what the browser draws for each text (checked in Chromium by
    /// tests/browser/markup.test.js) and whether `check` lets it into content, checked here.
    #[test]
    fn the_shared_cases_are_refused_or_allowed_as_they_say() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let cases: Vec<serde_json::Value> = serde_json::from_str(
            &std::fs::read_to_string(root.join("tests/fixtures/markup.json")).expect("markup.json"),
        )
        .expect("markup.json is JSON");
        assert!(cases.len() >= 15);
        for case in cases {
            let text = case["text"].as_str().expect("text");
            let found = outside_subset(text);
            let unsafe_link = link_targets(text).any(|t| !is_safe_link(t));
            match case["refused"].as_str() {
                None => assert!(found.is_empty() && !unsafe_link, "{text:?} is refused: {found:?}"),
                Some("an unsafe link target") => assert!(unsafe_link, "{text:?}"),
                Some(named) => assert!(found.iter().any(|f| f.starts_with(named)), "{text:?}: {found:?}"),
            }
        }
    }
}

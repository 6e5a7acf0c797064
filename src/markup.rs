//! The small, safe Markdown subset answers are written in: paragraphs, `**bold**`, `- ` lists
//! and `[text](target)` links. The server only needs to find and check link targets; the
//! widget renders the subset as DOM nodes.

use std::sync::LazyLock;

use regex::Regex;

static LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\]\n]+)\]\(([^)\s]+)\)").expect("valid regex"));

/// The targets of every `[text](target)` link in `text`.
pub fn link_targets(text: &str) -> impl Iterator<Item = &str> {
    LINK.captures_iter(text).filter_map(|c| c.get(2).map(|m| m.as_str()))
}

/// Links the widget will render: web pages over https, phone numbers and email addresses.
pub fn is_safe_link(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("tel:") || lower.starts_with("mailto:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links_and_judges_them() {
        let text = "See [the page](https://x.gov.uk) or [call](tel:0300) or [bad](javascript:alert(1))";
        let targets: Vec<&str> = link_targets(text).collect();
        assert_eq!(targets, ["https://x.gov.uk", "tel:0300", "javascript:alert(1"]);
        assert!(is_safe_link(targets[0]) && is_safe_link(targets[1]) && !is_safe_link(targets[2]));
    }
}

//! Markdown in, safe HTML out. Articles are rendered and sanitised once, when they are saved, and
//! the results are stored: the body, a teaser for readers without access, the plain text that
//! search indexes, the table of contents and the reading time all come from one pass.

use std::collections::{HashMap, HashSet};
use std::fmt;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

use super::slug::slugify;

/// HTML that went through the sanitiser, or that was stored after going through it. It is the only
/// value templates print without escaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeHtml(String);

impl SafeHtml {
    /// Wraps HTML read back from the database, where only [`render`] ever writes it.
    pub fn from_stored(html: String) -> Self {
        Self(html)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One heading of an article, for the table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TocEntry {
    /// 2 or 3: the heading's level on the page.
    pub level: u8,
    /// The heading's `id`, the target of `#anchor` links.
    pub anchor: String,
    pub text: String,
}

/// Everything stored from one Markdown source.
#[derive(Debug, Clone)]
pub struct RenderedMarkdown {
    pub html: SafeHtml,
    pub teaser: SafeHtml,
    pub text: String,
    pub toc: Vec<TocEntry>,
    pub reading_minutes: i32,
}

/// Words a reader gets through in a minute, for the reading-time estimate.
const WORDS_PER_MINUTE: usize = 220;
/// The teaser ends at the first heading, or after this many paragraphs.
const TEASER_PARAGRAPHS: usize = 2;

/// Renders an article body. Raw HTML in the source is shown as text rather than passed through,
/// headings get stable anchors (a level-1 heading is demoted, as the page's title is its only `h1`),
/// and the output is sanitised, so no script, style, `javascript:` or `data:` URL survives.
pub fn render(markdown: &str) -> RenderedMarkdown {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut events: Vec<Event<'_>> = Parser::new_ext(markdown, options)
        .map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            other => other,
        })
        .collect();

    let toc = anchor_headings(&mut events);
    let text = plain_text(&events);
    let teaser_end = teaser_length(&events);

    let mut body = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut body, events.iter().cloned());
    let mut teaser = String::new();
    pulldown_cmark::html::push_html(&mut teaser, events[..teaser_end].iter().cloned());

    let words = text.split_whitespace().count();
    let reading_minutes =
        i32::try_from(words.div_ceil(WORDS_PER_MINUTE).max(1)).unwrap_or(i32::MAX);
    RenderedMarkdown {
        html: sanitise(&body),
        teaser: sanitise(&teaser),
        text,
        toc,
        reading_minutes,
    }
}

/// Gives every heading an `id` made from its text (unique within the article) and returns the
/// level-2 and level-3 headings as the table of contents.
fn anchor_headings(events: &mut [Event<'_>]) -> Vec<TocEntry> {
    let mut toc = Vec::new();
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut index = 0;
    while index < events.len() {
        if let Event::Start(Tag::Heading { level, .. }) = &events[index] {
            let level = if *level == HeadingLevel::H1 {
                HeadingLevel::H2
            } else {
                *level
            };
            let mut heading_text = String::new();
            let mut end = index + 1;
            while end < events.len() {
                match &events[end] {
                    Event::End(TagEnd::Heading(_)) => break,
                    Event::Text(t) | Event::Code(t) => heading_text.push_str(t),
                    _ => {}
                }
                end += 1;
            }
            let base = match slugify(&heading_text) {
                s if s.is_empty() => "section".to_owned(),
                s => s,
            };
            let seen = used.entry(base.clone()).or_insert(0);
            *seen += 1;
            let anchor = if *seen == 1 {
                base
            } else {
                format!("{base}-{seen}")
            };
            events[index] = Event::Start(Tag::Heading {
                level,
                id: Some(CowStr::from(anchor.clone())),
                classes: Vec::new(),
                attrs: Vec::new(),
            });
            if let Some(Event::End(TagEnd::Heading(_))) = events.get(end) {
                events[end] = Event::End(TagEnd::Heading(level));
            }
            if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) {
                toc.push(TocEntry {
                    level: if level == HeadingLevel::H2 { 2 } else { 3 },
                    anchor,
                    text: heading_text.trim().to_owned(),
                });
            }
            index = end;
        }
        index += 1;
    }
    toc
}

/// The words of the article without markup, one block per line, for search and reading time.
fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableCell
                | TagEnd::BlockQuote(_),
            ) => text.push('\n'),
            _ => {}
        }
    }
    text.retain(|c| !c.is_control() || c == '\n');
    text.trim().to_owned()
}

/// How many events make the teaser: up to the first heading that follows some text, or the end
/// of the first [`TEASER_PARAGRAPHS`] paragraphs.
fn teaser_length(events: &[Event<'_>]) -> usize {
    let mut paragraphs = 0;
    let mut depth = 0usize;
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Start(Tag::Heading { .. }) if depth == 0 && paragraphs > 0 => return index,
            Event::Start(_) => depth += 1,
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if depth == 0 && *end == TagEnd::Paragraph {
                    paragraphs += 1;
                    if paragraphs == TEASER_PARAGRAPHS {
                        return index + 1;
                    }
                }
            }
            _ => {}
        }
    }
    events.len()
}

fn sanitise(html: &str) -> SafeHtml {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer"))
        .add_tag_attributes("h2", &["id"])
        .add_tag_attributes("h3", &["id"])
        .add_tag_attributes("h4", &["id"])
        .add_tag_attributes("h5", &["id"])
        .add_tag_attributes("h6", &["id"]);
    SafeHtml(builder.clean(html).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_anchors_and_make_the_table_of_contents() {
        let out = render("Intro.\n\n## First steps\n\ntext\n\n### In detail\n\n## First steps\n");
        assert!(
            out.html
                .as_str()
                .contains(r#"<h2 id="first-steps">First steps</h2>"#)
        );
        assert!(out.html.as_str().contains(r#"<h2 id="first-steps-2">"#));
        let anchors: Vec<_> = out
            .toc
            .iter()
            .map(|e| (e.level, e.anchor.as_str()))
            .collect();
        assert_eq!(
            anchors,
            [(2, "first-steps"), (3, "in-detail"), (2, "first-steps-2")]
        );
    }

    #[test]
    fn a_level_one_heading_is_demoted_so_the_page_keeps_one_h1() {
        let out = render("# Big\n\nbody");
        assert!(
            out.html.as_str().contains(r#"<h2 id="big">Big</h2>"#),
            "{}",
            out.html
        );
    }

    #[test]
    fn raw_html_and_script_urls_do_not_survive() {
        let out = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n\
             [a](javascript:alert(1)) [b](data:text/html;base64,PHNjcmlwdD4=) [c](https://example.com)",
        );
        let html = out.html.as_str();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("data:text"), "{html}");
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
    }

    #[test]
    fn the_teaser_stops_at_the_first_heading() {
        let out = render("One.\n\n## Locked\n\nSecret part.");
        assert!(out.teaser.as_str().contains("One."));
        assert!(!out.teaser.as_str().contains("Secret"));
    }

    #[test]
    fn reading_time_rounds_up_and_is_at_least_a_minute() {
        assert_eq!(render("word").reading_minutes, 1);
        let long = "word ".repeat(WORDS_PER_MINUTE + 1);
        assert_eq!(render(&long).reading_minutes, 2);
    }

    #[test]
    fn tables_and_code_blocks_render() {
        let out = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n```sql\nSELECT 1;\n```\n");
        assert!(out.html.as_str().contains("<table>"));
        assert!(out.html.as_str().contains("<pre><code>SELECT 1;"));
        assert!(out.text.contains("SELECT 1;"));
    }
}

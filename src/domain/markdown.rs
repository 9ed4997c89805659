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
    /// The opening a reader without access sees of a members-only article (see [`teaser`]).
    pub teaser: SafeHtml,
    /// The words of the teaser, which is all a search by such a reader may match.
    pub teaser_text: String,
    pub text: String,
    pub toc: Vec<TocEntry>,
    pub reading_minutes: i32,
}

/// Words a reader gets through in a minute, for the reading-time estimate.
const WORDS_PER_MINUTE: usize = 220;
/// The teaser holds at most this many words...
pub const TEASER_MAX_WORDS: usize = 80;
/// ...and never more than this share of the article's words (in tenths).
pub const TEASER_MAX_TENTHS: usize = 3;
/// A paragraph cut short to fit the teaser keeps at least this many words, or is left out.
const TEASER_MIN_CUT_WORDS: usize = 8;

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
    let words = text.split_whitespace().count();
    let teaser_events = teaser(&events, words);

    let mut body = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut body, events.iter().cloned());
    let mut teaser_html = String::new();
    pulldown_cmark::html::push_html(&mut teaser_html, teaser_events.iter().cloned());

    let reading_minutes =
        i32::try_from(words.div_ceil(WORDS_PER_MINUTE).max(1)).unwrap_or(i32::MAX);
    RenderedMarkdown {
        html: sanitise(&body),
        teaser: sanitise(&teaser_html),
        teaser_text: plain_text(&teaser_events),
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

/// The teaser of an article of `total_words` words: a bounded opening made only of plain
/// paragraphs and headings, in order. Code blocks, tables, lists, quotes and anything else are
/// left out whole, so members-only code and data never show; the teaser holds at most
/// [`TEASER_MAX_WORDS`] words and never more than [`TEASER_MAX_TENTHS`] tenths of the article. A
/// paragraph that does not fit is cut short (as plain text, with an ellipsis) when enough of it
/// fits, and ends the teaser.
pub fn teaser<'a>(events: &[Event<'a>], total_words: usize) -> Vec<Event<'a>> {
    let budget = TEASER_MAX_WORDS.min(total_words * TEASER_MAX_TENTHS / 10);
    let mut out = Vec::new();
    let mut used = 0;
    for block in top_level_blocks(events) {
        let kept = matches!(
            block.first(),
            Some(Event::Start(Tag::Paragraph | Tag::Heading { .. }))
        );
        if !kept {
            continue;
        }
        let text = plain_text(block);
        let words = text.split_whitespace().count();
        if used + words <= budget {
            out.extend(block.iter().cloned());
            used += words;
            continue;
        }
        let room = budget - used;
        if matches!(block.first(), Some(Event::Start(Tag::Paragraph)))
            && room >= TEASER_MIN_CUT_WORDS
        {
            let cut: Vec<&str> = text.split_whitespace().take(room).collect();
            out.push(Event::Start(Tag::Paragraph));
            out.push(Event::Text(CowStr::from(format!("{}…", cut.join(" ")))));
            out.push(Event::End(TagEnd::Paragraph));
        }
        break;
    }
    // A heading with nothing after it announces what the reader cannot see: leave it out.
    while let Some(start) = out
        .iter()
        .rposition(|e| matches!(e, Event::Start(Tag::Heading { .. })))
        .filter(|start| {
            out[*start..]
                .iter()
                .all(|e| !matches!(e, Event::Start(Tag::Paragraph)))
        })
    {
        out.truncate(start);
    }
    out
}

/// The article's top-level blocks (a paragraph, a heading, a list, a code block, ...), each as the
/// run of events from its start to its end; a lone event (a rule) is a block of its own.
fn top_level_blocks<'e, 'a>(events: &'e [Event<'a>]) -> Vec<&'e [Event<'a>]> {
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Start(_) => {
                if depth == 0 {
                    start = index;
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    blocks.push(&events[start..=index]);
                }
            }
            _ if depth == 0 => blocks.push(&events[index..=index]),
            _ => {}
        }
    }
    blocks
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
    fn the_teaser_keeps_plain_paragraphs_and_headings_and_leaves_out_everything_else() {
        let intro = "An opening paragraph that anyone may read, long enough to matter here.";
        let body = "Filler words for a long enough article. ".repeat(60);
        let out = render(&format!(
            "{intro}\n\n```\nsecret_code()\n```\n\n- secret item\n\n> secret quote\n\n\
             | a |\n|---|\n| secret cell |\n\n## Next part\n\nAfter the heading.\n\n{body}"
        ));
        let teaser = out.teaser.as_str();
        assert!(teaser.contains(intro), "{teaser}");
        assert!(teaser.contains("Next part") && teaser.contains("After the heading."));
        assert!(!teaser.contains("secret"), "{teaser}");
        assert!(out.teaser_text.split_whitespace().count() <= TEASER_MAX_WORDS);
    }

    #[test]
    fn the_teaser_never_passes_its_share_of_a_short_article() {
        let out = render(
            "One two three four five six seven eight nine ten eleven twelve thirteen fourteen \
             fifteen sixteen seventeen eighteen nineteen twenty.\n\nSecond paragraph here.",
        );
        let words = out.teaser_text.split_whitespace().count();
        assert!(words <= 23 * TEASER_MAX_TENTHS / 10, "{}", out.teaser_text);
        assert!(!out.teaser_text.contains("Second"));
    }

    #[test]
    fn a_long_first_paragraph_is_cut_short_with_an_ellipsis() {
        let long = (0..200)
            .map(|n| format!("w{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let out = render(&format!("{long}\n\n{long}\n\n{long}"));
        assert!(out.teaser_text.ends_with('…'), "{}", out.teaser_text);
        assert_eq!(out.teaser_text.split_whitespace().count(), TEASER_MAX_WORDS);
        let html = out.teaser.as_str();
        assert!(
            html.starts_with("<p>w0 w1") && !html.contains("w80 "),
            "{html}"
        );
    }

    #[test]
    fn a_teaser_does_not_end_on_a_heading() {
        let filler = "word ".repeat(400);
        let out = render(&format!(
            "Opening words of the piece for everyone to read now.\n\n## Locked section\n\n```\n{filler}\n```\n"
        ));
        assert!(!out.teaser.as_str().contains("Locked"), "{}", out.teaser);
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

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        /// The scheme a browser reads in a URL, as the URL standard parses it: leading and trailing
        /// spaces and controls dropped, tabs and line breaks removed, then letters (and `+-.`)
        /// before the first `:`. `None` for a relative URL.
        fn scheme_of(url: &str) -> Option<String> {
            let cleaned: String = url
                .trim_matches(|c: char| c <= ' ')
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect();
            let (scheme, _) = cleaned.split_once(':')?;
            let mut chars = scheme.chars();
            let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            valid.then(|| scheme.to_ascii_lowercase())
        }

        /// Markdown and HTML pieces an attacker might put in an article.
        fn hostile_piece() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("<script>alert(1)</script>".to_owned()),
                Just("<img src=x onerror=alert(1)>".to_owned()),
                Just("<a href=\"javascript:alert(1)\">x</a>".to_owned()),
                Just("[link](javascript:alert(1))".to_owned()),
                Just("[link](JaVaScRiPt:alert(1))".to_owned()),
                Just("[link](data:text/html;base64,PHNjcmlwdD4=)".to_owned()),
                Just("[link](vbscript:msgbox(1))".to_owned()),
                Just("![img](javascript:alert(1))".to_owned()),
                Just("[ok](https://example.com)".to_owned()),
                Just("<svg onload=alert(1)>".to_owned()),
                Just("<iframe src=https://evil.example></iframe>".to_owned()),
                Just("<div style=\"background:url(javascript:alert(1))\">".to_owned()),
                Just("[x](\\u{0}javascript:alert(1))".to_owned()),
                Just("<a href=\"&#106;avascript:alert(1)\">x</a>".to_owned()),
                Just("[x]: javascript:alert(1)\n\n[x][]".to_owned()),
                Just("\n\n## Heading\n\n".to_owned()),
                Just("\n```\ncode\n```\n".to_owned()),
                Just("- item\n".to_owned()),
                Just("> quote\n".to_owned()),
                "\\PC{0,20}".prop_map(|s| s),
            ]
        }

        proptest! {
            #[test]
            fn no_markdown_makes_a_script_a_handler_or_a_foreign_scheme(
                pieces in proptest::collection::vec(hostile_piece(), 0..12)
            ) {
                let out = render(&pieces.concat());
                for html in [out.html.as_str(), out.teaser.as_str()] {
                    let fragment = scraper::Html::parse_fragment(html);
                    for element in fragment.root_element().descendants().filter_map(scraper::ElementRef::wrap) {
                        let name = element.value().name();
                        prop_assert!(!matches!(name, "script" | "iframe" | "svg" | "style" | "object" | "embed"), "{name} in {html}");
                        for (attribute, value) in element.value().attrs() {
                            prop_assert!(!attribute.starts_with("on"), "{attribute} in {html}");
                            prop_assert!(attribute != "style", "style in {html}");
                            if matches!(attribute, "href" | "src") {
                                let scheme = scheme_of(value);
                                prop_assert!(
                                    matches!(scheme.as_deref(), None | Some("http" | "https" | "mailto")),
                                    "{attribute}={value} in {html}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

//! Members-only text stays with members: a property test over generated members-only articles
//! made of every kind of Markdown block. Whatever the article, no sentence outside its teaser
//! appears to a reader without access: not on the article's page (its meta tags and structured
//! data included), not in the feed, not in search excerpts, not in the sitemap; and a search for a
//! word found only past the teaser finds nothing.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::browser::Browser;
use crate::helpers::{TestApp, import_articles, spawn_app_with};

/// Articles generated per run: all fit in the feed (20 entries) beside nothing newer.
const CASES: usize = 16;

/// A kind of top-level Markdown block, holding sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Paragraph,
    Heading,
    Code,
    List,
    Ordered,
    Quote,
    Table,
    Html,
}

impl Kind {
    /// Blocks whose text a teaser may show.
    fn is_plain(self) -> bool {
        matches!(self, Self::Paragraph | Self::Heading)
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Paragraph),
        1 => Just(Kind::Heading),
        1 => Just(Kind::Code),
        1 => Just(Kind::List),
        1 => Just(Kind::Ordered),
        1 => Just(Kind::Quote),
        1 => Just(Kind::Table),
        1 => Just(Kind::Html),
    ]
}

/// Blocks of an article: each a kind and how many sentences (and how long) it holds.
fn blocks() -> impl Strategy<Value = Vec<(Kind, Vec<usize>)>> {
    proptest::collection::vec(
        (kind(), proptest::collection::vec(3_usize..25, 1..4)),
        1..14,
    )
}

const WORDS: &[&str] = &[
    "index", "query", "server", "cache", "deploy", "schema", "latency", "thread", "socket",
    "backup", "replica", "router", "token", "header", "payload", "cursor", "column", "logger",
];

/// One generated sentence: a unique marker word (which search can look for) and filler words.
struct Sentence {
    marker: String,
    text: String,
    plain: bool,
}

/// The Markdown of an article from its blocks, and every sentence in it.
/// Also the number of words the article shows besides its sentences: a table's header, the tags
/// of raw HTML (shown as text).
fn article_source(case: usize, blocks: &[(Kind, Vec<usize>)]) -> (String, Vec<Sentence>, usize) {
    let extra_words = blocks
        .iter()
        .map(|(kind, _)| match kind {
            Kind::Table => 1,
            Kind::Html => 2,
            _ => 0,
        })
        .sum();
    let mut sentences = Vec::new();
    let mut markdown = String::new();
    for (b, (kind, lengths)) in blocks.iter().enumerate() {
        let texts: Vec<String> = lengths
            .iter()
            .enumerate()
            .map(|(n, length)| {
                let marker = format!("zq{case}b{b}s{n}");
                let filler: Vec<&str> = (0..*length)
                    .map(|i| WORDS[(case * 7 + b * 5 + n * 3 + i) % WORDS.len()])
                    .collect();
                let text = format!("{marker} {}", filler.join(" "));
                sentences.push(Sentence {
                    marker,
                    text: text.clone(),
                    plain: kind.is_plain(),
                });
                text
            })
            .collect();
        let block = match kind {
            Kind::Paragraph => texts.join(". ") + ".",
            Kind::Heading => format!("## {}", texts.join(" ")),
            Kind::Code => format!("```\n{}\n```", texts.join("\n")),
            Kind::List => texts
                .iter()
                .map(|t| format!("- {t}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Kind::Ordered => texts
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{}. {t}", i + 1))
                .collect::<Vec<_>>()
                .join("\n"),
            Kind::Quote => texts
                .iter()
                .map(|t| format!("> {t}"))
                .collect::<Vec<_>>()
                .join("\n>\n"),
            Kind::Table => format!(
                "| Column |\n|---|\n{}",
                texts
                    .iter()
                    .map(|t| format!("| {t} |"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            Kind::Html => format!("<div>\n{}\n</div>", texts.join("\n")),
        };
        markdown.push_str(&block);
        markdown.push_str("\n\n");
    }
    (markdown, sentences, extra_words)
}

async fn text_of(app: &TestApp, path: &str) -> String {
    let page = app.get(path).await;
    assert_eq!(page.status, actix_web::http::StatusCode::OK, "{path}");
    page.body
}

#[actix_web::test]
async fn no_sentence_outside_the_teaser_reaches_a_reader_without_access() {
    // Searches come from many addresses (through a trusted proxy), as readers do.
    let app = spawn_app_with(|s| {
        s.trusted_proxies = guidepost::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let mut runner = TestRunner::default();
    let generated: Vec<Vec<(Kind, Vec<usize>)>> = (0..CASES)
        .map(|_| blocks().new_tree(&mut runner).unwrap().current())
        .collect();
    let cases: Vec<(String, String, Vec<Sentence>, usize)> = generated
        .iter()
        .enumerate()
        .map(|(case, blocks)| {
            let (markdown, sentences, extra) = article_source(case, blocks);
            (format!("prop-{case}"), markdown, sentences, extra)
        })
        .collect();
    let files: Vec<(String, String)> = cases
        .iter()
        .enumerate()
        .map(|(case, (slug, markdown, _, _))| {
            (
                format!("{slug}.md"),
                format!(
                    "---\ntitle: Generated article {case}\nsummary: A generated members-only \
                     article.\nauthor: Test Author <author@example.com>\npublished: 2026-11-{:02}\n\
                     visibility: members\nslug: {slug}\n---\n{markdown}",
                    case + 10
                ),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    import_articles(&app, &borrowed);

    let feed = text_of(&app, "/feed.xml").await;
    let sitemap = text_of(&app, "/sitemap.xml").await;
    let mut searched = 0;
    for (case, (slug, markdown, sentences, extra)) in cases.iter().enumerate() {
        let page = app.get(&format!("/articles/{slug}")).await;
        let teaser = page.text(".teaser");
        let words = |text: &str| text.split_whitespace().count();
        let total: usize = sentences.iter().map(|s| words(&s.text)).sum::<usize>() + extra;
        let shown = words(&teaser);
        assert!(
            shown <= 80 && shown * 10 <= total * 3,
            "case {case}: a teaser of {shown} words of {total}:\n{markdown}"
        );
        for sentence in sentences {
            let in_teaser = teaser.contains(&sentence.text);
            assert!(
                !in_teaser || sentence.plain,
                "case {case}: {:?} is in the teaser but not from a plain block:\n{markdown}",
                sentence.text
            );
            if in_teaser {
                continue;
            }
            for (place, text) in [("page", &page.body), ("feed", &feed), ("sitemap", &sitemap)] {
                assert!(
                    !text.contains(&sentence.text),
                    "case {case}: {:?} is in the {place}:\n{markdown}",
                    sentence.text
                );
            }
            // A search by its marker word, from a reader of its own, finds nothing (unless the
            // word shows in the teaser, where a sentence was cut short).
            if teaser.contains(&sentence.marker) {
                continue;
            }
            searched += 1;
            let reader = Browser::at(
                &app,
                &format!("198.18.{}.{}", searched / 250, searched % 250),
            );
            let results = reader.get(&format!("/search?q={}", sentence.marker)).await;
            assert_eq!(results.status, actix_web::http::StatusCode::OK);
            assert!(
                !results.body.contains(&format!("/articles/{slug}\"")),
                "case {case}: searching {:?} finds the article:\n{markdown}",
                sentence.marker
            );
            assert!(!results.body.contains(&sentence.text));
        }
    }
    assert!(searched > 0, "some sentences lay past a teaser");
}

#[actix_web::test]
async fn members_with_access_find_words_past_the_teaser_and_readers_without_do_not() {
    let app = crate::helpers::spawn_app().await;
    let code = "```\nfn quillbeard() {}\n```";
    import_articles(
        &app,
        &[(
            "locked.md",
            &crate::helpers::article(
                "Locked guide",
                "visibility: members\n",
                &format!(
                    "An opening anyone may read.\n\n{code}\n\n{}",
                    "More text. ".repeat(50)
                ),
            ),
        )],
    );
    let reader = app.get("/search?q=quillbeard").await;
    assert!(!reader.body.contains("/articles/locked-guide\""));
    let member = Browser::new(&app);
    member
        .sign_up("Ana", "ana@example.com", "correct horse battery")
        .await;
    let found = member.get("/search?q=quillbeard").await;
    assert!(
        found.body.contains("/articles/locked-guide\""),
        "{}",
        found.body
    );
}

#[actix_web::test]
async fn teasers_and_search_entries_made_by_older_code_are_made_again_at_start_up() {
    use diesel::connection::SimpleConnection;
    let app = crate::helpers::spawn_app().await;
    let mut conn = crate::browser::database(&app);
    conn.batch_execute(
        "UPDATE derived_data SET version = 0; UPDATE article_bodies SET teaser_html = 'old'; \
         DELETE FROM articles_fts;",
    )
    .unwrap();
    guidepost::db::open(&app.database, 1).unwrap();
    let stale = crate::browser::count(
        &app,
        "SELECT count(*) AS n FROM article_bodies WHERE teaser_html = 'old'",
    );
    assert_eq!(stale, 0);
    let indexed = crate::browser::count(&app, "SELECT count(*) AS n FROM articles_fts");
    let articles = crate::browser::count(&app, "SELECT count(*) AS n FROM articles");
    assert_eq!(indexed, articles);
}

//! Parsing an article file (front matter and body) and the `Name: description` lists.

use time::macros::format_description;
use time::{Date, PrimitiveDateTime, Time};

use crate::db::articles::{DRAFT, MEMBERS_ONLY, PUBLIC, PUBLISHED};
use crate::domain::Slug;

/// An article file, checked: every field an article needs, in the form the database takes.
#[derive(Debug, Clone)]
pub struct ArticleSource {
    pub slug: Slug,
    pub title: String,
    pub summary: String,
    /// Slug and display name.
    pub category: Option<(Slug, String)>,
    pub tags: Vec<(Slug, String)>,
    pub author_name: String,
    pub author_email: String,
    pub published: PrimitiveDateTime,
    pub updated: Option<PrimitiveDateTime>,
    pub status: &'static str,
    pub visibility: &'static str,
    pub featured: bool,
    pub body: String,
}

/// A name and its description, from `categories.txt` or `tags.txt`.
#[derive(Debug, Clone)]
pub struct Described {
    pub name: String,
    pub description: String,
}

const TITLE_MAX: usize = 200;
const SUMMARY_MAX: usize = 400;

impl ArticleSource {
    /// Parses an article file; the slug comes from the `slug` key or else the title. The error
    /// names the line and what is wrong with it.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, first)) if first.trim_end() == "---" => {}
            _ => anyhow::bail!("the file must start with a `---` line opening the front matter"),
        }
        let mut fields: Vec<(usize, String, String)> = Vec::new();
        let mut body_start = None;
        for (index, line) in lines.by_ref() {
            if line.trim_end() == "---" {
                body_start = Some(index + 1);
                break;
            }
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once(':')
                .ok_or_else(|| anyhow::anyhow!("line {}: expected `key: value`", index + 1))?;
            fields.push((
                index + 1,
                key.trim().to_lowercase(),
                value.trim().to_owned(),
            ));
        }
        let body_start = body_start
            .ok_or_else(|| anyhow::anyhow!("the front matter has no closing `---` line"))?;
        let body = text.lines().skip(body_start).collect::<Vec<_>>().join("\n");

        let get = |key: &str| {
            fields
                .iter()
                .find(|(_, k, _)| k == key)
                .map(|(line, _, v)| (*line, v.as_str()))
        };
        for (line, key, _) in &fields {
            if !KEYS.contains(&key.as_str()) {
                anyhow::bail!(
                    "line {line}: unknown key `{key}` (known keys: {})",
                    KEYS.join(", ")
                );
            }
        }
        let required = |key: &str| -> anyhow::Result<(usize, &str)> {
            get(key)
                .filter(|(_, v)| !v.is_empty())
                .ok_or_else(|| anyhow::anyhow!("`{key}` is missing from the front matter"))
        };

        let title = clean_line(required("title")?.1);
        if title.chars().count() > TITLE_MAX {
            anyhow::bail!("the title is longer than {TITLE_MAX} characters");
        }
        let summary = clean_line(required("summary")?.1);
        if summary.chars().count() > SUMMARY_MAX {
            anyhow::bail!("the summary is longer than {SUMMARY_MAX} characters");
        }
        let slug = match get("slug") {
            Some((line, value)) => {
                Slug::parse(value).map_err(|e| anyhow::anyhow!("line {line}: {e}"))?
            }
            None => Slug::from_title(&title).map_err(|e| {
                anyhow::anyhow!("no slug can be made from the title ({e}); add a `slug` key")
            })?,
        };
        let (author_name, author_email) = parse_author(required("author")?)?;
        let published = parse_date(required("published")?)?;
        let updated = get("updated").map(parse_date).transpose()?;
        if updated.is_some_and(|u| u < published) {
            anyhow::bail!("`updated` is earlier than `published`");
        }
        let category = match get("category").filter(|(_, v)| !v.is_empty()) {
            Some(found) => Some(named_slug(found)?),
            None => None,
        };
        let mut tags: Vec<(Slug, String)> = Vec::new();
        if let Some((line, value)) = get("tags") {
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let tag = named_slug((line, name))?;
                if !tags.iter().any(|(s, _)| *s == tag.0) {
                    tags.push(tag);
                }
            }
        }
        let status = match get("status").map(|(l, v)| (l, v.to_lowercase())) {
            None => PUBLISHED,
            Some((_, v)) if v == PUBLISHED => PUBLISHED,
            Some((_, v)) if v == DRAFT => DRAFT,
            Some((line, v)) => {
                anyhow::bail!("line {line}: status `{v}` must be `published` or `draft`")
            }
        };
        let visibility = match get("visibility").map(|(l, v)| (l, v.to_lowercase())) {
            None => PUBLIC,
            Some((_, v)) if v == PUBLIC => PUBLIC,
            Some((_, v)) if v == MEMBERS_ONLY => MEMBERS_ONLY,
            Some((line, v)) => {
                anyhow::bail!("line {line}: visibility `{v}` must be `public` or `members`")
            }
        };
        let featured = match get("featured").map(|(l, v)| (l, v.to_lowercase())) {
            None => false,
            Some((_, v)) if v == "true" || v == "yes" => true,
            Some((_, v)) if v == "false" || v == "no" => false,
            Some((line, v)) => {
                anyhow::bail!("line {line}: featured `{v}` must be `true` or `false`")
            }
        };
        if body.trim().is_empty() {
            anyhow::bail!("the article has no body after the front matter");
        }
        Ok(Self {
            slug,
            title,
            summary,
            category,
            tags,
            author_name,
            author_email,
            published,
            updated,
            status,
            visibility,
            featured,
            body,
        })
    }
}

const KEYS: &[&str] = &[
    "title",
    "summary",
    "slug",
    "category",
    "tags",
    "author",
    "published",
    "updated",
    "visibility",
    "status",
    "featured",
];

/// One line of text without control characters.
fn clean_line(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

fn named_slug((line, name): (usize, &str)) -> anyhow::Result<(Slug, String)> {
    let name = clean_line(name);
    let slug =
        Slug::from_title(&name).map_err(|e| anyhow::anyhow!("line {line}: `{name}`: {e}"))?;
    Ok((slug, name))
}

/// `Ada Example <ada@example.com>`.
fn parse_author((line, value): (usize, &str)) -> anyhow::Result<(String, String)> {
    let bad = || anyhow::anyhow!("line {line}: the author must read `Name <email@example.com>`");
    let (name, rest) = value.split_once('<').ok_or_else(bad)?;
    let email = rest.strip_suffix('>').ok_or_else(bad)?.trim();
    let name = clean_line(name);
    let valid_email = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
    });
    if name.is_empty() || !valid_email {
        return Err(bad());
    }
    Ok((name, email.to_lowercase()))
}

/// `2026-03-02` (midnight UTC) or `2026-03-02 14:30`.
fn parse_date((line, value): (usize, &str)) -> anyhow::Result<PrimitiveDateTime> {
    let bad = || {
        anyhow::anyhow!(
            "line {line}: `{value}` is not a date such as 2026-03-02 or 2026-03-02 14:30"
        )
    };
    let (date, time) = match value.split_once(' ') {
        Some((date, time)) => (date, Some(time.trim())),
        None => (value, None),
    };
    let date = Date::parse(date, format_description!("[year]-[month]-[day]")).map_err(|_| bad())?;
    let time = match time {
        Some(t) => Time::parse(t, format_description!("[hour]:[minute]")).map_err(|_| bad())?,
        None => Time::MIDNIGHT,
    };
    Ok(PrimitiveDateTime::new(date, time))
}

/// Parses `Name: description` lines; blank lines and `#` comments are skipped.
pub fn parse_descriptions(text: &str) -> anyhow::Result<Vec<Described>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(index, line)| {
            let (name, description) = line.split_once(':').ok_or_else(|| {
                anyhow::anyhow!("line {}: expected `Name: description`", index + 1)
            })?;
            Ok(Described {
                name: clean_line(name),
                description: clean_line(description),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "---\ntitle: Indexes, explained\nsummary: Why lookups get fast.\n\
        category: Databases\ntags: SQL, Performance, sql\nauthor: Ada Example <Ada@Example.com>\n\
        published: 2026-03-02\nvisibility: members\n---\n## Body\n\ntext\n";

    #[test]
    fn a_complete_file_parses() {
        let source = ArticleSource::parse(GOOD).unwrap();
        assert_eq!(source.slug.as_str(), "indexes-explained");
        assert_eq!(source.author_email, "ada@example.com");
        assert_eq!(source.visibility, MEMBERS_ONLY);
        assert_eq!(source.status, PUBLISHED);
        let tags: Vec<_> = source.tags.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(tags, ["sql", "performance"]);
        assert!(source.body.starts_with("## Body"));
    }

    #[test]
    fn mistakes_are_reported_with_their_line() {
        let bad_date = GOOD.replace("2026-03-02", "March 2nd");
        let error = ArticleSource::parse(&bad_date).unwrap_err().to_string();
        assert!(error.contains("line 7"), "{error}");
        let unknown = GOOD.replace("visibility", "colour");
        assert!(
            ArticleSource::parse(&unknown)
                .unwrap_err()
                .to_string()
                .contains("unknown key")
        );
        let no_title = GOOD.replace("title: Indexes, explained\n", "");
        assert!(
            ArticleSource::parse(&no_title)
                .unwrap_err()
                .to_string()
                .contains("`title` is missing")
        );
        assert!(ArticleSource::parse("no front matter").is_err());
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn any_file_parses_or_is_refused_with_a_reason(
                head in proptest::collection::vec(
                    "(title|summary|author|published|updated|visibility|status|featured|slug|category|tags|x): ?\\PC{0,40}",
                    0..10,
                ),
                body in "\\PC{0,200}",
                fence in prop_oneof![Just("---\n"), Just(""), Just("--- \n"), Just("---\r\n")],
            ) {
                let text = format!("{fence}{}\n---\n{body}", head.join("\n"));
                match ArticleSource::parse(&text) {
                    Ok(article) => {
                        prop_assert!(!article.title.trim().is_empty());
                        prop_assert!(article.slug.as_str().len() <= crate::domain::Slug::MAX_LEN);
                    }
                    Err(error) => prop_assert!(!error.to_string().is_empty()),
                }
            }
        }
    }
}

//! What members type to take part: their handle (the address of their page) and comments.

use super::slug::slugify;

/// A member's handle: their page is `/authors/{handle}`. 2 to 30 characters, ASCII letters,
/// digits, `-` and `_`, starting with a letter or digit. Unique on the site whatever the case (the
/// writing transaction checks that); shown as the member typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle(String);

impl Handle {
    pub const MIN_CHARS: usize = 2;
    pub const MAX_CHARS: usize = 30;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let handle = raw.trim();
        if handle.is_empty() {
            return Err("Choose a handle: the name in the address of your page.");
        }
        if handle.len() < Self::MIN_CHARS || handle.len() > Self::MAX_CHARS {
            return Err("A handle is 2 to 30 characters long.");
        }
        if !handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("A handle may hold letters a to z, digits, - and _ only.");
        }
        if !handle.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("A handle starts with a letter or a digit.");
        }
        Ok(Self(handle.to_owned()))
    }

    /// A handle made from a person's name ("Ada Lovelace" → `ada-lovelace`), or `member` when the
    /// name has no letters or digits a to z. The caller makes it unique.
    pub fn from_name(name: &str) -> Self {
        let mut base = slugify(name);
        base.truncate(Self::MAX_CHARS - 4);
        let base = base.trim_matches('-').to_owned();
        match Self::parse(&base) {
            Ok(handle) => handle,
            Err(_) => Self("member".to_owned()),
        }
    }

    /// The same handle with a number after it, for a taken one: `ada-2`.
    pub fn numbered(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let mut base = self.0.clone();
        base.truncate(Self::MAX_CHARS - suffix.len());
        Self(format!("{}{suffix}", base.trim_end_matches('-')))
    }

    pub fn from_stored(handle: String) -> Self {
        Self(handle)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What makes two handles the same: the handle lowercased (handles are ASCII).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A short text about a member, shown on their page: at most 500 characters, plain text.
pub fn parse_bio(raw: &str) -> Result<String, &'static str> {
    let bio = raw.trim().replace("\r\n", "\n");
    if bio.chars().count() > 500 {
        return Err("A bio can be at most 500 characters long.");
    }
    if bio.chars().any(|c| c.is_control() && c != '\n') {
        return Err("A bio cannot contain control characters such as tabs.");
    }
    Ok(bio)
}

/// A comment's text: plain text with paragraphs, 1 to 4,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentText(String);

impl CommentText {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let text = raw.trim().replace("\r\n", "\n");
        if text.is_empty() {
            return Err("Write something before posting.");
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err("A comment can be at most 4,000 characters long.");
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err("A comment cannot contain control characters.");
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A comment's text as HTML: paragraphs at blank lines, line breaks kept, every character escaped,
/// and web addresses (http and https only) made links that search engines do not follow.
pub fn comment_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 64);
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        html.push_str("<p>");
        for (i, line) in paragraph.lines().enumerate() {
            if i > 0 {
                html.push_str("<br>");
            }
            link_line(line, &mut html);
        }
        html.push_str("</p>");
    }
    html
}

fn link_line(line: &str, html: &mut String) {
    let mut rest = line;
    while let Some(at) = find_link(rest) {
        escape_into(&rest[..at], html);
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        // Punctuation that ends a sentence is not part of the address.
        let url = tail[..end].trim_end_matches(['.', ',', ')', '!', '?', ';', ':', '\'']);
        html.push_str("<a href=\"");
        escape_into(url, html);
        html.push_str("\" rel=\"nofollow ugc\">");
        escape_into(url, html);
        html.push_str("</a>");
        rest = &tail[url.len()..];
    }
    escape_into(rest, html);
}

fn find_link(text: &str) -> Option<usize> {
    let http = text.find("http://");
    let https = text.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
    .filter(|at| {
        // An address long enough to point somewhere.
        let tail = &text[*at..];
        let scheme = if tail.starts_with("https://") { 8 } else { 7 };
        tail[scheme..].starts_with(|c: char| c.is_alphanumeric())
    })
}

fn escape_into(text: &str, html: &mut String) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            _ => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_keep_their_case_and_refuse_what_cannot_be_an_address() {
        assert_eq!(Handle::parse(" Ada_99 ").unwrap().as_str(), "Ada_99");
        for bad in [
            "",
            "a",
            "-ada",
            "ada lovelace",
            "ada/..",
            "ädä",
            &"a".repeat(31),
        ] {
            assert!(Handle::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn handles_made_from_names_are_valid_and_numbered_ones_stay_short() {
        assert_eq!(Handle::from_name("Ada Lovelace").as_str(), "ada-lovelace");
        assert_eq!(Handle::from_name("李").as_str(), "member");
        let long = Handle::from_name(&"word ".repeat(20));
        assert!(Handle::parse(long.as_str()).is_ok());
        let numbered = long.numbered(1234);
        assert!(Handle::parse(numbered.as_str()).is_ok(), "{numbered}");
    }

    #[test]
    fn comments_become_escaped_paragraphs_with_links_nobody_follows() {
        let html = comment_html(
            "<script>alert(1)</script> see https://example.com/a?b=1&c=2.\n\nSecond \"para\"\nline",
        );
        assert_eq!(
            html,
            "<p>&lt;script&gt;alert(1)&lt;/script&gt; see <a href=\"https://example.com/a?b=1&amp;c=2\" \
             rel=\"nofollow ugc\">https://example.com/a?b=1&amp;c=2</a>.</p><p>Second &quot;para&quot;<br>line</p>"
        );
        assert_eq!(
            comment_html("javascript:alert(1) http://"),
            "<p>javascript:alert(1) http://</p>"
        );
    }

    #[test]
    fn comment_text_is_trimmed_limited_and_never_empty() {
        assert!(CommentText::parse("  \n ").is_err());
        assert!(CommentText::parse(&"x".repeat(4001)).is_err());
        assert_eq!(
            CommentText::parse(" hi\r\nthere ").unwrap().as_str(),
            "hi\nthere"
        );
    }
}

//! Outgoing mail. Messages are queued in the `outbox` table in the same transaction as the change
//! that causes them, and a background sender (see [`crate::jobs`]) delivers them: by SMTP through
//! lettre when `GUIDEPOST_SMTP_URL` is set, otherwise by saving it as a file in the `mail` folder
//! beside the database, readable only by the site's user, so a person running the site locally can
//! open it and follow its link (the log says where, and never carries a link: they are secrets). A
//! message that fails is tried again later, with a growing wait, and marked failed with the reason
//! after several attempts.

pub mod messages;

use std::path::{Path, PathBuf};

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{BaseUrl, Secret};
use crate::db::outbox::Message;

/// Where messages go.
pub enum Mailer {
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    /// No SMTP server configured: each message is saved as an `.eml` file in `dir`.
    Folder { dir: PathBuf, from: Mailbox },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
            Self::Folder { dir, .. } => write!(f, "Mailer::Folder({})", dir.display()),
        }
    }
}

impl Mailer {
    /// The mailer the settings ask for: SMTP when `smtp_url` is given, otherwise files in the
    /// `folder`. Call it inside the async runtime (the SMTP transport
    /// starts there).
    pub fn new(
        smtp_url: Option<&Secret>,
        from: Option<&str>,
        base_url: &BaseUrl,
        site_name: &str,
        folder: &Path,
    ) -> anyhow::Result<Self> {
        let from = match from {
            Some(from) => from
                .parse::<Mailbox>()
                .map_err(|_| anyhow::anyhow!("--mail-from {from:?} is not an address such as \"Guidepost <hello@example.com>\""))?,
            None => {
                let host = base_url
                    .as_str()
                    .split("://")
                    .nth(1)
                    .and_then(|h| h.split(':').next())
                    .unwrap_or("localhost");
                format!("{site_name} <no-reply@{host}>")
                    .parse::<Mailbox>()
                    .context("cannot make a sender address from the base URL; set --mail-from")?
            }
        };
        let Some(url) = smtp_url else {
            return Ok(Self::Folder {
                dir: folder.to_owned(),
                from,
            });
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|_| anyhow::anyhow!("GUIDEPOST_SMTP_URL is not an SMTP URL such as smtps://user:password@smtp.example.com"))?
            .build();
        Ok(Self::Smtp {
            transport: Box::new(transport),
            from,
        })
    }

    /// Removes the saved copy of a message whose member is gone (SMTP keeps nothing here).
    pub async fn forget(&self, id: i32) {
        if let Self::Folder { dir, .. } = self {
            let dir = dir.clone();
            if actix_web::web::block(move || forget_saved(&dir, &[id]))
                .await
                .is_err()
            {
                tracing::warn!(mail = id, "cannot remove the saved copy of a message");
            }
        }
    }

    /// Delivers one message; the error says why not, without any secret.
    pub async fn send(&self, message: &Message) -> Result<(), String> {
        match self {
            Self::Folder { dir, from } => {
                let email = build(from, message)?.formatted();
                let path = dir.join(format!("{:06}-{}.eml", message.id, message.kind));
                let written = path.clone();
                let dir = dir.clone();
                actix_web::web::block(move || save(&dir, &written, &email))
                    .await
                    .map_err(|_| "the mail folder could not be written".to_owned())?
                    .map_err(|error| {
                        format!(
                            "the mail folder {} could not be written: {error}",
                            dir_of(&path)
                        )
                    })?;
                tracing::info!(
                    file = %path.display(),
                    "mail saved to a file, not sent: no SMTP server is configured"
                );
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let email = build(from, message)?;
                transport.send(email).await.map(drop).map_err(|error| {
                    // A server's refusal may quote the address: it is kept and logged without it.
                    redact_addresses(&format!(
                        "the SMTP server refused or could not be reached: {error}"
                    ))
                })
            }
        }
    }
}

/// Removes the saved copies of these messages from `folder`, if there are any: they were mail to
/// a member who deleted their account, and nothing personal about them may remain.
pub fn forget_saved(folder: &Path, ids: &[i32]) {
    if ids.is_empty() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let id = name
            .to_str()
            .filter(|name| name.ends_with(".eml"))
            .and_then(|name| name.split_once('-'))
            .and_then(|(id, _)| id.parse::<i32>().ok());
        if id.is_some_and(|id| ids.contains(&id))
            && let Err(error) = std::fs::remove_file(entry.path())
        {
            tracing::warn!(file = %entry.path().display(), "cannot remove saved mail: {error}");
        }
    }
}

/// Where messages are saved when no SMTP server is configured: `mail/` beside the database.
pub fn mail_folder(settings: &crate::config::Settings) -> PathBuf {
    settings
        .mail_folder
        .clone()
        .unwrap_or_else(|| settings.database.folder().join("mail"))
}

fn dir_of(path: &Path) -> String {
    path.parent().unwrap_or(path).display().to_string()
}

fn build(from: &Mailbox, message: &Message) -> Result<lettre::Message, String> {
    let to: Mailbox = message
        .to_address
        .parse()
        .map_err(|_| "the recipient's address cannot be used".to_owned())?;
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&message.subject)
        .multipart(MultiPart::alternative_plain_html(
            message.body_text.clone(),
            message.body_html.clone(),
        ))
        .map_err(|error| format!("the message cannot be built: {error}"))
}

/// Writes one message, the folder and the file readable by the site's user only: its link is as
/// good as a password until used.
fn save(dir: &Path, path: &Path, email: &[u8]) -> std::io::Result<()> {
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        folder.mode(0o700);
    }
    folder.create(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, email)?;
    file.sync_all()
}

/// Paths of one-time links in mail: the token follows them. Neither the log nor a kept message
/// ever shows that token.
pub const LINK_PATHS: &[&str] = &[
    "/verify-email/",
    "/password/reset/",
    "/account/email/confirm/",
    "/signup/confirm/",
];

/// `text` with the token of every one-time link replaced, for keeping a message after it was sent
/// and for showing it in a member's export: the link did its work in the mail itself.
pub fn redact_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, path)) = LINK_PATHS
        .iter()
        .filter_map(|path| rest.find(path).map(|at| (at, *path)))
        .min_by_key(|(at, _)| *at)
    {
        let token_start = at + path.len();
        out.push_str(&rest[..token_start]);
        let token_len = rest[token_start..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len() - token_start);
        if token_len > 0 {
            out.push_str("[removed]");
        }
        rest = &rest[token_start + token_len..];
    }
    out.push_str(rest);
    out
}

/// `text` with every email address replaced by `[address]`, for what goes to the log.
pub fn redact_addresses(text: &str) -> String {
    let local = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_alphanumeric() || ".-".contains(c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let start = out
                .char_indices()
                .rev()
                .take_while(|(_, c)| local(*c))
                .last()
                .map(|(at, _)| at);
            let end = chars[i + 1..].iter().take_while(|c| domain(**c)).count();
            let host: String = chars[i + 1..i + 1 + end].iter().collect();
            if let Some(start) = start
                && host.contains('.')
            {
                out.truncate(start);
                out.push_str("[address]");
                i += 1 + end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{redact_addresses, redact_links};

    #[test]
    fn addresses_are_taken_out_of_what_is_logged() {
        assert_eq!(
            redact_addresses("550 5.1.1 <ana.silva+x@example.com>: no such user"),
            "550 5.1.1 <[address]>: no such user"
        );
        assert_eq!(redact_addresses("no address @ all"), "no address @ all");
        assert_eq!(
            redact_addresses("a@b.c and d@e.f"),
            "[address] and [address]"
        );
    }

    #[test]
    fn tokens_in_links_are_removed_and_the_rest_kept() {
        let text = "Open https://x.example/verify-email/ab12cd34 now.\n<a href=\"https://x.example/password/reset/ffee\">";
        let redacted = redact_links(text);
        assert_eq!(
            redacted,
            "Open https://x.example/verify-email/[removed] now.\n<a href=\"https://x.example/password/reset/[removed]\">"
        );
        assert_eq!(redact_links("no links here"), "no links here");
    }
}

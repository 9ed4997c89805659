//! Mail as a test reads it: quoted-printable and base64 parts decoded, good enough to find links.
//! Shared by the integration tests and the browser journeys.

/// A message with its quoted-printable and base64 parts decoded, good enough to read links.
pub fn decode_mime(raw: &str) -> String {
    let mut out = String::new();
    let mut base64_part = false;
    let mut body = String::new();
    for line in raw.lines() {
        let lower = line.to_lowercase();
        if lower.starts_with("content-transfer-encoding:") {
            out.push_str(&decode_base64(&body));
            body.clear();
            base64_part = lower.contains("base64");
            continue;
        }
        if base64_part && !line.starts_with("--") && !line.contains(':') {
            body.push_str(line.trim());
            continue;
        }
        if base64_part && line.starts_with("--") {
            out.push_str(&decode_base64(&body));
            body.clear();
            base64_part = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&decode_base64(&body));
    decode_quoted_printable(&out)
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes() {
        let Some(value) = ALPHABET.iter().position(|b| *b == byte) else {
            continue;
        };
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The newest message in a mail folder (files named by number, as the site saves them) that is
/// to `to` and contains `needle`, decoded.
pub fn newest_saved(folder: &std::path::Path, to: &str, needle: &str) -> Option<String> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let raw = std::fs::read_to_string(e.path()).unwrap_or_default();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        decode_mime(&raw),
                    )
                })
                .filter(|(_, text)| text.contains(&format!("To: {to}")) && text.contains(needle))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().map(|(_, text)| text)
}

/// The first link in `text` whose path starts with `prefix`, as a path on the site.
pub fn path_from(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)?;
    Some(
        text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
            .collect(),
    )
}

//! Writes a realistic site of N articles (default 10,000) as Markdown files, for measuring Guidepost
//! at size: `cargo run --release --example bench-seed -- DIR [--articles N]`, then
//! `guidepost import DIR`. The output is deterministic: the same N always gives the same files.
//!
//! Each article has front matter like an editor's (category, two to four tags, one of twelve
//! authors, a date spread over ten years, one in five members-only, a few drafts and featured
//! articles) and a body of about 1,200–2,200 words in sections, with lists, code blocks, tables and
//! links, put together from sentences about back-end work.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut articles: usize = 10_000;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--articles" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => articles = n,
                None => return usage("--articles needs a whole number"),
            },
            "-h" | "--help" => return usage(""),
            other if dir.is_none() && !other.starts_with('-') => dir = Some(PathBuf::from(other)),
            other => return usage(&format!("unexpected argument {other:?}")),
        }
    }
    let Some(dir) = dir else {
        return usage("the output folder is missing");
    };
    match write_site(&dir, articles) {
        Ok(()) => {
            eprintln!("wrote {articles} articles to {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench-seed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    if !problem.is_empty() {
        eprintln!("bench-seed: {problem}");
    }
    eprintln!("usage: bench-seed DIR [--articles N]   (N defaults to 10000)");
    if problem.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn write_site(dir: &std::path::Path, count: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut categories = String::new();
    for (name, description) in CATEGORIES {
        let _ = writeln!(categories, "{name}: {description}");
    }
    std::fs::write(dir.join("categories.txt"), categories)?;
    let mut tags = String::new();
    for tag in TAGS {
        let _ = writeln!(tags, "{tag}: Articles about {}.", tag.to_lowercase());
    }
    std::fs::write(dir.join("tags.txt"), tags)?;

    let mut rng = Rng(0x6775_6964_6570_6f73);
    for n in 0..count {
        let text = article(&mut rng, n, count);
        std::fs::write(dir.join(format!("article-{n:06}.md")), text)?;
        if (n + 1) % 2_000 == 0 {
            eprintln!("  {} of {count} written", n + 1);
        }
    }
    Ok(())
}

/// splitmix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

fn article(rng: &mut Rng, n: usize, count: usize) -> String {
    let subject = rng.pick(SUBJECTS);
    let title = match rng.below(6) {
        0 => format!("{} {subject}", rng.pick(OPENERS)),
        1 => format!("{}: {}", capitalise(subject), rng.pick(ANGLES)),
        2 => format!("How to {} {subject}", rng.pick(VERBS)),
        3 => format!("What every junior should know about {subject}"),
        4 => format!("{} mistakes with {subject}", rng.pick(NUMBERS)),
        _ => format!("{} {subject} in practice", capitalise(rng.pick(VERBS))),
    };
    let (category, _) = rng.pick(CATEGORIES);
    let mut tags: Vec<&str> = Vec::new();
    for _ in 0..2 + rng.below(3) {
        let tag = rng.pick(TAGS);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let (author, email) = rng.pick(AUTHORS);
    // Oldest first, spread evenly over ten years up to the first of November 2026.
    let day = 3_650 - (n * 3_650 / count.max(1)) as i64;
    let published = date_before(2026, 11, 1, day);
    let updated = if rng.chance(4) {
        format!("updated: {}\n", date_before(2026, 11, 1, day / 2))
    } else {
        String::new()
    };
    let visibility = if rng.chance(5) {
        "visibility: members\n"
    } else {
        ""
    };
    let status = if rng.chance(50) {
        "status: draft\n"
    } else {
        ""
    };
    let featured = if n.is_multiple_of(997) {
        "featured: true\n"
    } else {
        ""
    };
    let second = rng.pick(SUBJECTS);
    let summary = format!("{} {}", sentence(rng, subject), sentence(rng, second));
    let mut text = format!(
        "---\ntitle: {title}\nslug: {}-{n}\nsummary: {summary}\ncategory: {category}\ntags: {}\n\
         author: {author} <{email}>\npublished: {published}\n{updated}{visibility}{status}{featured}---\n",
        slugify(&title),
        tags.join(", "),
    );
    text.push_str(&body(rng, subject));
    text
}

fn body(rng: &mut Rng, subject: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", paragraph(rng, subject, 4));
    let sections = 5 + rng.below(4);
    for _ in 0..sections {
        let heading = format!("{} {}", capitalise(rng.pick(VERBS)), rng.pick(SUBJECTS));
        let _ = writeln!(out, "## {heading}\n");
        for _ in 0..2 + rng.below(2) {
            let sentences = 5 + rng.below(3);
            let _ = writeln!(out, "{}\n", paragraph(rng, subject, sentences));
        }
        match rng.below(5) {
            0 => {
                for _ in 0..3 + rng.below(3) {
                    let about = rng.pick(SUBJECTS);
                    let _ = writeln!(out, "- {}", sentence(rng, about));
                }
                out.push('\n');
            }
            1 => {
                let _ = writeln!(out, "```sql\n{}\n```\n", rng.pick(SNIPPETS));
            }
            2 => {
                out.push_str("| Approach | When it helps | What it costs |\n|---|---|---|\n");
                for _ in 0..3 {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} |",
                        capitalise(rng.pick(SUBJECTS)),
                        rng.pick(WHEN),
                        rng.pick(COSTS)
                    );
                }
                out.push('\n');
            }
            3 => {
                let _ = writeln!(out, "### {}\n", capitalise(rng.pick(ANGLES)));
                let _ = writeln!(
                    out,
                    "{} See [the {subject} notes](https://docs.example.org/{}) for more.\n",
                    paragraph(rng, subject, 3),
                    slugify(subject)
                );
            }
            _ => {}
        }
    }
    out
}

fn paragraph(rng: &mut Rng, subject: &str, sentences: usize) -> String {
    let mut out = Vec::with_capacity(sentences);
    for i in 0..sentences {
        let about = if i == 0 { subject } else { rng.pick(SUBJECTS) };
        out.push(sentence(rng, about));
    }
    out.join(" ")
}

fn sentence(rng: &mut Rng, subject: &str) -> String {
    let template = rng.pick(SENTENCES);
    let filled = template
        .replace("{s}", subject)
        .replace("{o}", rng.pick(SUBJECTS))
        .replace("{w}", rng.pick(WHEN))
        .replace("{c}", rng.pick(COSTS))
        .replace("{p}", rng.pick(PEOPLE));
    capitalise(&filled)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-')
        .chars()
        .take(60)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// The date `days` before year-month-day, as `YYYY-MM-DD` (civil calendar arithmetic).
fn date_before(year: i64, month: i64, day: i64, days: i64) -> String {
    let (y, m, d) = civil_from_days(days_from_civil(year, month, day) - days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const CATEGORIES: &[(&str, &str)] = &[
    (
        "Careers",
        "Roles, interviews and growing as a back-end developer.",
    ),
    ("Databases", "Storing, querying and keeping data correct."),
    ("APIs", "Interfaces that other programs depend on."),
    ("Security", "Protecting accounts, data and services."),
    ("Testing", "Tests that catch real bugs."),
    ("Performance", "Making services fast and proving it."),
    ("Operations", "Deploying, monitoring and running services."),
    ("Architecture", "How the parts of a system fit together."),
];

const TAGS: &[&str] = &[
    "Beginners",
    "Career Growth",
    "Interviews",
    "Portfolio",
    "SQL",
    "Indexes",
    "Transactions",
    "Migrations",
    "PostgreSQL",
    "SQLite",
    "HTTP",
    "REST",
    "GraphQL",
    "gRPC",
    "API Design",
    "Versioning",
    "Authentication",
    "Passwords",
    "Sessions",
    "Web Security",
    "Encryption",
    "Automated Testing",
    "Integration Tests",
    "Debugging",
    "Observability",
    "Logging",
    "Metrics",
    "Caching",
    "Queues",
    "Concurrency",
    "Profiling",
    "Load Testing",
    "Containers",
    "Deployment",
    "Incidents",
    "Code Review",
    "Documentation",
    "Rust",
    "Go",
    "Python",
];

const AUTHORS: &[(&str, &str)] = &[
    ("Maya Okafor", "maya.okafor@guidepost.example"),
    ("Tomás Lindqvist", "tomas.lindqvist@guidepost.example"),
    ("Priya Raman", "priya.raman@guidepost.example"),
    ("Jonas Weber", "jonas.weber@guidepost.example"),
    ("Amara Nwosu", "amara.nwosu@guidepost.example"),
    ("Kenji Mori", "kenji.mori@guidepost.example"),
    ("Lucía Fernández", "lucia.fernandez@guidepost.example"),
    ("Sam Whitfield", "sam.whitfield@guidepost.example"),
    ("Ines Duarte", "ines.duarte@guidepost.example"),
    ("Oskar Nieminen", "oskar.nieminen@guidepost.example"),
    ("Hana Kovač", "hana.kovac@guidepost.example"),
    ("Dev Patel", "dev.patel@guidepost.example"),
];

const SUBJECTS: &[&str] = &[
    "database indexes",
    "connection pools",
    "HTTP caching",
    "API versioning",
    "password hashing",
    "session cookies",
    "integration tests",
    "query plans",
    "database migrations",
    "rate limiting",
    "background jobs",
    "message queues",
    "structured logging",
    "error handling",
    "feature flags",
    "code review",
    "on-call rotations",
    "load balancers",
    "retries and timeouts",
    "pagination",
    "full-text search",
    "schema design",
    "transactions",
    "read replicas",
    "service boundaries",
    "health checks",
    "configuration",
    "secrets management",
    "dependency updates",
    "profiling",
];

const OPENERS: &[&str] = &[
    "A practical guide to",
    "Getting started with",
    "Rethinking",
    "A second look at",
    "Lessons learned from",
    "The quiet cost of",
];

const ANGLES: &[&str] = &[
    "what the documentation leaves out",
    "a checklist for your next project",
    "the trade-offs in plain words",
    "from first principles",
    "common questions answered",
    "a worked example",
];

const VERBS: &[&str] = &[
    "measure", "design", "test", "debug", "review", "document", "monitor", "simplify", "scale",
    "secure",
];

const NUMBERS: &[&str] = &["Three", "Five", "Seven", "Ten"];

const WHEN: &[&str] = &[
    "when traffic grows faster than the team",
    "on the first day of a new service",
    "after an incident",
    "before a release",
    "when a query slows down",
    "during code review",
    "while the product is still small",
];

const COSTS: &[&str] = &[
    "a little memory",
    "one more moving part",
    "a slower write path",
    "an afternoon of reading",
    "discipline from the whole team",
    "almost nothing",
];

const PEOPLE: &[&str] = &[
    "a junior developer",
    "the on-call engineer",
    "a reviewer",
    "the product team",
    "an operator",
    "a new teammate",
];

const SENTENCES: &[&str] = &[
    "it is easy to underestimate {s} until you meet them {w}.",
    "most teams meet {s} {w}, and wish they had met them sooner.",
    "the usual advice about {s} is sound, but it hides what they cost: {c}.",
    "{p} who understands {s} can explain a slow page in minutes instead of days.",
    "it helps to write down how {s} and {o} interact before changing either.",
    "a small experiment with {s} teaches more than a week of reading about {o}.",
    "measure {s} before and after the change, and keep the numbers with the code.",
    "the failure modes of {s} are rarely in the happy path; they show up {w}.",
    "{p} should be able to find the rules for {s} without asking anyone.",
    "if {s} feel like magic, read the source of the library that provides them.",
    "getting {s} right costs {c}, and getting them wrong costs far more.",
    "treat {s} as part of the design, not as a detail to settle {w}.",
    "the database is usually the first place to look when {s} misbehave.",
    "good defaults for {s} let {p} do the right thing without thinking about it.",
];

const SNIPPETS: &[&str] = &[
    "SELECT id, title FROM articles\nWHERE status = 'published'\nORDER BY published_at DESC\nLIMIT 10;",
    "CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC);",
    "EXPLAIN QUERY PLAN\nSELECT count(*) FROM sessions WHERE expires_at < ?;",
    "BEGIN IMMEDIATE;\nUPDATE accounts SET balance = balance - 10 WHERE id = 1;\nCOMMIT;",
];

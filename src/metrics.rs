//! Metrics for the operator: `/metrics` in the Prometheus text format, served on an address of its
//! own (`--metrics-bind`, off by default) and never on the public one. Written with
//! `prometheus-client`, the official client.
//!
//! What is counted: requests by route and status, their latency, page and member cache hits and
//! misses, waits for a database connection, the outbox's backlog and failures, sign-ups, failed
//! log-ins, refusals by each limit, and writes that failed. Labels are routes (a fixed list, see
//! [`route_of`]), statuses and names of limits and problems: never a path, an address or anything
//! a visitor typed.
//!
//! Counting is off unless metrics are served; when on, a request costs a few atomic additions.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabel {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProblemLabel {
    problem: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

fn latency_buckets() -> Histogram {
    Histogram::new([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        5.0, 10.0,
    ])
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    caches: Family<CacheLabels, Counter>,
    database_wait: Histogram,
    outbox: Family<StatusLabel, Gauge>,
    outbox_failures: Counter,
    signups: Counter,
    login_failures: Counter,
    refusals: Family<LimitLabel, Counter>,
    write_failures: Family<ProblemLabel, Counter>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("guidepost");
    let requests = Family::<RequestLabels, Counter>::default();
    registry.register(
        "http_requests",
        "Requests answered, by route and status",
        requests.clone(),
    );
    let latency: Family<RouteLabel, Histogram, fn() -> Histogram> =
        Family::new_with_constructor(latency_buckets);
    registry.register_with_unit(
        "http_request_duration",
        "Time from a request's arrival to its answer, by route",
        Unit::Seconds,
        latency.clone(),
    );
    let caches = Family::<CacheLabels, Counter>::default();
    registry.register(
        "cache_lookups",
        "Lookups in the page cache (anonymous readers) and the member cache, hit or missed",
        caches.clone(),
    );
    let database_wait = latency_buckets();
    registry.register_with_unit(
        "database_wait",
        "Time a query waited for a thread and a database connection before it ran",
        Unit::Seconds,
        database_wait.clone(),
    );
    let outbox = Family::<StatusLabel, Gauge>::default();
    registry.register(
        "outbox_messages",
        "Mail in the outbox waiting to go out (pending) or given up (failed), when scraped",
        outbox.clone(),
    );
    let outbox_failures = Counter::default();
    registry.register(
        "outbox_send_failures",
        "Attempts to send mail that failed (each is tried again later)",
        outbox_failures.clone(),
    );
    let signups = Counter::default();
    registry.register(
        "signups",
        "Accounts made (sign-ups whose mailed link was followed)",
        signups.clone(),
    );
    let login_failures = Counter::default();
    registry.register(
        "login_failures",
        "Log-ins refused for a wrong address or password",
        login_failures.clone(),
    );
    let refusals = Family::<LimitLabel, Counter>::default();
    registry.register(
        "limit_refusals",
        "Requests refused by a limit, by limit",
        refusals.clone(),
    );
    let write_failures = Family::<ProblemLabel, Counter>::default();
    registry.register(
        "write_failures",
        "Writes that could not happen (disk full, read-only, locked, I/O error)",
        write_failures.clone(),
    );
    Metrics {
        registry,
        requests,
        latency,
        caches,
        database_wait,
        outbox,
        outbox_failures,
        signups,
        login_failures,
        refusals,
        write_failures,
    }
});

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Starts counting (metrics are served).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A request answered with `status` after `seconds`.
pub fn request(path: &str, status: u16, seconds: f64) {
    if !enabled() {
        return;
    }
    let route = route_of(path);
    METRICS
        .requests
        .get_or_create(&RequestLabels { route, status })
        .inc();
    METRICS
        .latency
        .get_or_create(&RouteLabel { route })
        .observe(seconds);
}

/// A lookup in `cache` ("page" or "member").
pub fn cache(cache: &'static str, hit: bool) {
    if enabled() {
        let outcome = if hit { "hit" } else { "miss" };
        METRICS
            .caches
            .get_or_create(&CacheLabels { cache, outcome })
            .inc();
    }
}

/// A query waited this long for its thread and connection.
pub fn database_wait(seconds: f64) {
    if enabled() {
        METRICS.database_wait.observe(seconds);
    }
}

/// The outbox as it stands.
pub fn outbox(pending: i64, failed: i64) {
    METRICS
        .outbox
        .get_or_create(&StatusLabel { status: "pending" })
        .set(pending);
    METRICS
        .outbox
        .get_or_create(&StatusLabel { status: "failed" })
        .set(failed);
}

pub fn outbox_failure() {
    if enabled() {
        METRICS.outbox_failures.inc();
    }
}

pub fn signup() {
    if enabled() {
        METRICS.signups.inc();
    }
}

pub fn login_failure() {
    if enabled() {
        METRICS.login_failures.inc();
    }
}

/// A request refused by `limit` (a throttle bucket or a flood limit's name).
pub fn refusal(limit: &'static str) {
    if enabled() {
        METRICS.refusals.get_or_create(&LimitLabel { limit }).inc();
    }
}

/// A write that could not happen.
pub fn write_failure(problem: crate::db::health::WriteProblem) {
    if enabled() {
        METRICS
            .write_failures
            .get_or_create(&ProblemLabel {
                problem: problem.name(),
            })
            .inc();
    }
}

/// Everything counted, in the Prometheus text format.
pub fn render() -> Result<String, std::fmt::Error> {
    let mut text = String::with_capacity(8 * 1024);
    prometheus_client::encoding::prometheus_text::encode(&mut text, &METRICS.registry)?;
    Ok(text)
}

/// The route a path belongs to, from a fixed list: a label that never holds what a visitor typed.
pub fn route_of(path: &str) -> &'static str {
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let (first, second) = (parts.next().unwrap_or(""), parts.next());
    match (first, second) {
        ("", _) => "home",
        ("articles", None) => "articles",
        ("articles", Some(_)) => "article",
        ("categories", None) => "categories",
        ("categories", Some(_)) => "category",
        ("tags", _) => "tag",
        ("search", _) => "search",
        ("feed.xml", _) => "feed",
        (sitemap, _) if sitemap.starts_with("sitemap") => "sitemap",
        ("robots.txt", _) => "robots",
        ("static", _) => "static",
        ("images", _) => "image",
        ("healthz", _) => "health",
        ("privacy", _) => "privacy",
        ("signup", None) => "signup",
        ("signup", Some(_)) => "signup_confirm",
        ("welcome", _) => "welcome",
        ("login", _) => "login",
        ("logout", _) => "logout",
        ("account", _) => "account",
        ("verify-email", _) => "verify_email",
        ("password", _) => "password_reset",
        ("admin", _) => "admin",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_fixed_list_whatever_the_path() {
        assert_eq!(route_of("/"), "home");
        assert_eq!(route_of("/articles/some-slug"), "article");
        assert_eq!(route_of("/articles"), "articles");
        assert_eq!(route_of("/sitemap-3.xml"), "sitemap");
        assert_eq!(route_of("/signup/confirm/abc"), "signup_confirm");
        assert_eq!(route_of("/wp-login.php"), "other");
        assert_eq!(route_of("/password/reset/secret-token"), "password_reset");
    }

    #[test]
    fn the_text_format_names_every_metric() {
        enable();
        request("/articles/x", 200, 0.001);
        cache("page", true);
        refusal("login_client");
        let text = render().unwrap();
        for name in [
            "guidepost_http_requests_total{route=\"article\",status=\"200\"}",
            "guidepost_http_request_duration_seconds_bucket",
            "guidepost_cache_lookups_total{cache=\"page\",outcome=\"hit\"}",
            "guidepost_limit_refusals_total{limit=\"login_client\"}",
            "# TYPE guidepost_database_wait_seconds histogram",
        ] {
            assert!(text.contains(name), "{name} in\n{text}");
        }
    }
}

//! Operations tests against the release build, run by `.ci/run` after it is built: crashes with
//! SIGKILL under load, and the site behind Debian's nginx. They need the release binary (and, for
//! the proxy, nginx and root): `cargo build --release && cargo test --features ops-tests --test ops`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot go on should stop loudly"
)]
#![allow(
    dead_code,
    reason = "the web tests' helpers are shared whole; not all are used here"
)]

#[path = "../web/browser.rs"]
mod browser;
mod crash;
#[path = "../web/helpers.rs"]
mod helpers;
mod instances;
mod logs;
#[path = "../web/mime.rs"]
mod mime;
mod proxy;
mod reader;
mod server;

//! Journeys in a real browser: Debian's Chromium, driven through chromedriver, against the release
//! build of Guidepost on a random port with a fresh database. Each journey runs at a phone size and
//! a desktop size, and saves a screenshot of every step under
//! `target/screenshots/<journey>/<width>/NN-step.png` for a person to look through.
//!
//! Run with `cargo build --release && cargo test --features browser-tests --test e2e`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot go on should stop loudly"
)]

mod admin;
mod browser;
mod community;
mod member;
#[path = "../web/mime.rs"]
mod mime;
mod payments;
mod reader;
#[path = "../stripe/mod.rs"]
#[allow(
    dead_code,
    reason = "the journeys drive the stand-in through its pages, using few of its helpers"
)]
mod stripe;

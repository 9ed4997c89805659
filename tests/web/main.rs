//! Integration tests: the real application on a random port with a SQLite file in a temporary
//! folder, driven over HTTP the way a browser drives it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot go on should stop loudly"
)]

mod account;
mod admin;
mod api;
mod backends;
mod backup;
mod browser;
mod cli;
mod community;
mod content;
mod floods;
mod helpers;
mod http;
mod instances;
mod mail;
mod members;
mod mime;
mod outages;
mod payments;
mod reading;
mod requests;
mod scale;
mod search;
mod sessions;
#[path = "../stripe/mod.rs"]
mod stripe;
mod teaser;

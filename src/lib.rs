//! Guidepost: a self-hosted publishing site with free-trial memberships, in one binary. Readers
//! browse and search articles rendered on the server from SQLite; members sign up for a free trial
//! to read members-only guides and manage their own data; the command line serves the site,
//! applies migrations, imports Markdown articles and manages accounts.

pub mod assets;
pub mod auth;
pub mod billing;
pub mod cli;
pub mod client;
pub mod compression;
pub mod config;
pub mod connections;
pub mod content;
pub mod db;
pub mod domain;
pub mod error;
pub mod etag;
pub mod jobs;
pub mod limits;
pub mod mail;
pub mod member_cache;
pub mod metrics;
pub mod page_cache;
pub mod readership;
pub mod requests;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod views;

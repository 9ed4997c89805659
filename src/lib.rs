//! Guidepost: a self-hosted publishing site with free-trial memberships, in one binary. Readers
//! browse and search articles rendered on the server from SQLite; the command line serves the site,
//! applies migrations and imports Markdown articles.

pub mod assets;
pub mod cli;
pub mod compression;
pub mod config;
pub mod content;
pub mod db;
pub mod domain;
pub mod error;
pub mod page_cache;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod views;

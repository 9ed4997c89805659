//! Stripe, offline: its published contract (an extract of its OpenAPI spec and its fixtures) and
//! a stand-in server that keeps to it. Shared by the web tests and the browser journeys.

pub mod contract;
pub mod standin;

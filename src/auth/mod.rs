//! Who is asking, and whether they may: members' passwords, sessions kept on the server, CSRF
//! protection for every form, and the [`Visitor`] each page handler receives.
//!
//! A request with no session cookie costs nothing here: no database read, no row written. A
//! logged-in request costs one database read (the session with its member, see
//! [`session_store`]).

pub mod csrf;
pub mod device;
pub mod keys;
pub mod known_device;
pub mod password;
pub mod session_store;
pub mod visitor;

pub use keys::Secrets;
pub use password::PasswordHasher;
pub use visitor::Visitor;

/// What the account pages need besides the database, one per server.
#[derive(Debug, Clone)]
pub struct Auth {
    pub secrets: Secrets,
    pub hasher: PasswordHasher,
    /// The site's origin (`https://example.com`): what a form's `Origin` header must say.
    pub origin: String,
    /// True when the site is served over HTTPS: cookies are then `Secure` and `__Host-`.
    pub secure: bool,
    /// Accounts one client address may create in an hour; 0 for no limit.
    pub signup_limit: u32,
    /// Where requests come from (the client behind a trusted proxy).
    pub clients: std::sync::Arc<crate::client::Clients>,
    /// Limits on requests that cost real work, per client, in memory.
    pub floods: std::sync::Arc<crate::limits::Floods>,
}

/// Random bytes from the operating system's generator, as lowercase hex: session keys, CSRF
/// secrets and one-time email tokens.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::fill(buffer.as_mut_slice());
    hex(&buffer)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// SHA-256 of a token, as stored in place of the token itself.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(token.as_bytes()))
}

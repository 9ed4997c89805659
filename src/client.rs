//! Who a request comes from, as limits count them. Behind a reverse proxy every connection comes
//! from the proxy, so the client's address is read from `X-Forwarded-For` (or `Forwarded`) — but
//! only when the connection comes from a proxy the operator named (`--trusted-proxy`); from
//! anyone else those headers are ignored, so a client cannot escape a limit by rotating them.
//!
//! The address is read from the right: the last proxy appends the address it saw, so the first
//! address from the right that is not itself a trusted proxy is the one nobody could forge. IPv6
//! clients are counted by their /64 network, which one household or server usually holds whole.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap};

/// Headers listing the proxies a request passed through.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// At most this many addresses are read from forwarding headers; a longer chain is someone
/// padding it, and the rightmost entries are the ones that count.
const MAX_HOPS: usize = 32;

/// One address or a CIDR range (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or a range such as 10.0.0.0/8"))?;
        let address = canonical(address);
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has a prefix length that is not 0 to {max}"))?,
        };
        Ok(Self { address, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128_u32.saturating_sub(u32::from(self.prefix)))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Addresses and ranges separated by commas or spaces; empty trusts no one.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split([',', ' '])
            .filter(|part| !part.trim().is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    pub fn networks(&self) -> &[Network] {
        &self.0
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the first address
/// from the right of its forwarding headers that is not a trusted proxy. A chain made only of
/// trusted proxies names its leftmost one; an entry that is not an address ends the reading
/// there, at the proxy that forwarded it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    let mut client = peer;
    for hop in chain.iter().rev().take(MAX_HOPS) {
        let Some(ip) = hop else {
            return client;
        };
        client = canonical(*ip);
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

/// The addresses of `X-Forwarded-For`, or when there is none of `Forwarded`'s `for=`, left to
/// right; `None` for an entry that is not an address (`unknown`, an obfuscated name, garbage).
///
/// Header values are read as bytes, whatever they hold: a client that puts bytes which are not
/// text in its own part of the header must not make the whole header unreadable, for the part the
/// proxy appended on the right is what counts. And when `X-Forwarded-For` is there at all,
/// `Forwarded` is never read: a proxy that sets one passes the other on from the client untouched.
pub fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| -> Vec<String> {
        headers
            .get_all(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    let xff = values(header::HeaderName::from_static(X_FORWARDED_FOR));
    if !xff.is_empty() {
        return xff
            .iter()
            .flat_map(|value| value.split(','))
            .map(parse_node)
            .collect();
    }
    values(header::FORWARDED)
        .iter()
        .flat_map(|value| value.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(value.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// An address as forwarding headers write it: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return ip.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let (ip, port) = text.rsplit_once(':')?;
    if !is_port(port) {
        return None;
    }
    ip.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit())
}

/// An IPv4 address written in IPv6 form (`::ffff:192.0.2.1`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// What limits count a client as: its IPv4 address, or its IPv6 /64 network.
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(network))
        }
    }
}

/// Everything the server knows about where requests come from, one per server.
#[derive(Debug, Default)]
pub struct Clients {
    pub trusted: TrustedProxies,
    /// True when the public address is `https://`: plain requests from the open network mean the
    /// site is served without the TLS proxy it expects.
    pub https: bool,
    warned_plain: AtomicBool,
    warned_untrusted_forward: AtomicBool,
}

impl Clients {
    pub fn new(trusted: TrustedProxies, https: bool) -> Self {
        Self {
            trusted,
            https,
            warned_plain: AtomicBool::new(false),
            warned_untrusted_forward: AtomicBool::new(false),
        }
    }

    /// The client of `req` (see [`client_ip`]); the peer address when it is unknown (a test
    /// request), `0.0.0.0`.
    pub fn ip(&self, req: &HttpRequest) -> IpAddr {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        self.notice(peer, req.headers());
        client_ip(peer, req.headers(), &self.trusted)
    }

    /// The key limits count `req`'s client under.
    pub fn key(&self, req: &HttpRequest) -> String {
        limit_key(self.ip(req))
    }

    /// Warns once, in the log, about a setup that counts every client as one or serves an
    /// `https://` site over plain HTTP.
    fn notice(&self, peer: IpAddr, headers: &HeaderMap) {
        let trusted = self.trusted.contains(peer);
        if !trusted
            && (headers.contains_key(X_FORWARDED_FOR) || headers.contains_key(header::FORWARDED))
            && !self.warned_untrusted_forward.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                "a request from {peer} names a client in X-Forwarded-For or Forwarded, but {peer} \
                 is not a trusted proxy, so the header is ignored; if a proxy of yours runs there, \
                 start with --trusted-proxy {peer}"
            );
        }
        if self.https && !trusted && !self.warned_plain.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the site's address is https:// but a request arrived over plain HTTP from {peer}, \
                 which is not a trusted proxy: serve the site through a TLS proxy and name it with \
                 --trusted-proxy"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};
    use proptest::prelude::*;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_from_a_stranger_are_ignored() {
        let trusted = TrustedProxies::parse("10.0.0.1").unwrap();
        let sent = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &sent, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_first_untrusted_address_from_the_right_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        let sent = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.2.3")]);
        assert_eq!(
            client_ip(ip("192.168.1.1"), &sent, &trusted),
            ip("203.0.113.9")
        );
        // Two header lines read as one list.
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9:5123"),
        ]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &split, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn forwarded_is_read_when_x_forwarded_for_is_absent() {
        let trusted = TrustedProxies::parse("10.0.0.1").unwrap();
        let sent = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.1",
        )]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &sent, &trusted),
            ip("2001:db8:cafe::17")
        );
    }

    #[test]
    fn bytes_that_are_not_text_in_a_forged_part_cannot_hide_the_appended_address() {
        let trusted = TrustedProxies::parse("10.0.0.1").unwrap();
        let mut sent = HeaderMap::new();
        sent.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.9").unwrap(),
        );
        sent.insert(header::FORWARDED, HeaderValue::from_static("for=6.6.6.6"));
        assert_eq!(
            client_ip(ip("10.0.0.1"), &sent, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_garbled_entry_stops_the_reading_at_the_proxy_that_passed_it_on() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let sent = headers(&[("x-forwarded-for", "1.2.3.4, unknown, 10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &sent, &trusted), ip("10.0.0.7"));
        let none = headers(&[]);
        assert_eq!(client_ip(ip("10.0.0.1"), &none, &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_network_and_mapped_ipv4_as_ipv4() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            limit_key(ip("2001:db8:1:2:bbbb::9")),
            limit_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(limit_key(ip("::ffff:192.0.2.7")), "192.0.2.7");
        assert!(
            Network::parse("127.0.0.1")
                .unwrap()
                .contains(ip("::ffff:127.0.0.1"))
        );
    }

    #[test]
    fn ranges_parse_and_match_by_their_prefix() {
        let net = Network::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.255.0.1")) && !net.contains(ip("11.0.0.1")));
        let all = Network::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::1")));
        let v6 = Network::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "nonsense",
            "10.0.0.0/x",
            "1.2.3",
        ] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
            any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
        ]
    }

    proptest! {
        #[test]
        fn a_client_that_is_not_a_proxy_is_itself_whatever_it_sends(
            peer in any_ip(),
            forged in "[ -~]{0,200}",
            proxy in any_ip(),
        ) {
            let trusted = TrustedProxies::parse(&proxy.to_string()).unwrap();
            prop_assume!(!trusted.contains(peer));
            let sent = headers(&[("x-forwarded-for", &forged), ("forwarded", &forged)]);
            prop_assert_eq!(client_ip(peer, &sent, &trusted), canonical(peer));
        }

        #[test]
        fn through_a_trusted_proxy_the_address_it_appended_wins_over_anything_forged(
            client in any_ip(),
            forged in proptest::collection::vec(any_ip(), 0..6),
        ) {
            let trusted = TrustedProxies::parse("10.9.9.9").unwrap();
            prop_assume!(!trusted.contains(client));
            let mut chain: Vec<String> = forged.iter().map(ToString::to_string).collect();
            chain.push(client.to_string());
            let sent = headers(&[("x-forwarded-for", &chain.join(", "))]);
            prop_assert_eq!(client_ip(ip("10.9.9.9"), &sent, &trusted), canonical(client));
        }

        #[test]
        fn any_forwarding_header_text_is_read_without_panicking(text in "\\PC{0,300}") {
            if let Ok(value) = HeaderValue::from_str(&text) {
                let mut map = HeaderMap::new();
                map.insert(HeaderName::from_static("x-forwarded-for"), value.clone());
                let _ = forwarded_chain(&map);
                let mut map = HeaderMap::new();
                map.insert(header::FORWARDED, value);
                let _ = forwarded_chain(&map);
            }
        }

        #[test]
        fn any_text_parses_as_a_network_or_is_refused_in_a_sentence(text in "\\PC{0,60}") {
            match Network::parse(&text) {
                Ok(net) => prop_assert!(net.prefix <= 128),
                Err(message) => prop_assert!(message.contains("is not") || message.contains("prefix")),
            }
        }
    }
}

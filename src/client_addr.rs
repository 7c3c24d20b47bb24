//! Who is asking: the client's IP address for the sign-in throttle, the setup check and the
//! logs. It is the TCP peer, unless the peer is a reverse proxy named in
//! `server.trusted_proxies`: then it is the address that proxy forwarded (`Forwarded` for=, else
//! `X-Forwarded-For`). Forwarding headers from anyone else are ignored, since any client can
//! send them (a throttle keyed on them would be a throttle the client chooses).

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use serde::{Deserialize, Deserializer};
use std::net::IpAddr;

/// An IP address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not an IP address or a CIDR block such as 10.0.0.0/8");
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for IpNet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        IpNet::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(ip))
}

/// The client's address (None only for a connection without one, such as a test request).
pub fn client_ip(req: &HttpRequest, proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    Some(resolve(peer, req.headers(), proxies))
}

/// The scheme and host clients reach this server at (`https://music.example.org`), for absolute
/// URLs in answers (share links, signed cover URLs, the Last.fm callback). A trusted proxy's
/// `Forwarded` / `X-Forwarded-Host` / `X-Forwarded-Proto` name them; from anyone else those
/// headers are ignored (a client could otherwise have share links point at a host it chose)
/// and the request's own `Host` and connection count.
pub fn public_base(req: &HttpRequest, proxies: &[IpNet]) -> String {
    let from_proxy = req
        .peer_addr()
        .is_some_and(|peer| trusted(peer.ip().to_canonical(), proxies));
    if from_proxy {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_else(|| req.app_config().host())
        .to_string();
    let scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// Whether the request carries forwarding headers (a proxy we do not trust may have sent it).
pub fn has_forwarding_headers(headers: &HeaderMap) -> bool {
    headers.contains_key("forwarded") || headers.contains_key("x-forwarded-for")
}

/// The client behind `peer`: walking the forwarded chain from the nearest hop, the first
/// address that is not a trusted proxy. A hop that is not an address (`unknown`, an
/// obfuscated name) ends the walk at the trusted proxy that reported it.
fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let chain = forwarded_for(headers);
    let mut client = peer;
    for hop in chain.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !trusted(*ip, proxies) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// The forwarded-for chain, first client first: `Forwarded` when present (RFC 7239), else
/// `X-Forwarded-For`. `None` for a hop that is not an address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .flat_map(|v| v.split(','))
        .map(parse_node)
        .collect()
}

/// `192.0.2.1`, `"192.0.2.1:8080"`, `"[2001:db8::1]:4711"` or `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse::<IpAddr>().ok();
    }
    let (host, _port) = text.rsplit_once(':')?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| IpNet::parse(s).unwrap()).collect()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(
            IpNet::parse("127.0.0.1")
                .unwrap()
                .contains(ip("::ffff:127.0.0.1"))
        );
        assert!(IpNet::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(!IpNet::parse("fd00::/8").unwrap().contains(ip("10.0.0.1")));
        for bad in ["", "10.0.0.0/33", "host.lan", "10.0.0.0/x", "::/129"] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
    }

    fn resolved(peer: &str, headers: &[(&str, &str)], proxies: &[&str]) -> IpAddr {
        let mut req = TestRequest::default();
        for (k, v) in headers {
            req = req.append_header((*k, *v));
        }
        resolve(ip(peer), req.to_http_request().headers(), &nets(proxies))
    }

    #[test]
    fn forwarded_hosts_count_only_from_trusted_proxies() {
        let request = |peer: &str| {
            TestRequest::default()
                .peer_addr(format!("{peer}:40000").parse().unwrap())
                .insert_header(("Host", "music.lan:4533"))
                .insert_header(("X-Forwarded-Host", "evil.example"))
                .insert_header(("X-Forwarded-Proto", "https"))
                .to_http_request()
        };
        let proxies = nets(&["10.0.0.0/8"]);
        assert_eq!(
            public_base(&request("198.51.100.1"), &proxies),
            "http://music.lan:4533"
        );
        assert_eq!(
            public_base(&request("10.0.0.2"), &proxies),
            "https://evil.example"
        );
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let xff = [("X-Forwarded-For", "203.0.113.9")];
        assert_eq!(resolved("198.51.100.1", &xff, &[]), ip("198.51.100.1"));
        assert_eq!(
            resolved("198.51.100.1", &xff, &["10.0.0.0/8"]),
            ip("198.51.100.1")
        );
        assert_eq!(
            resolved("10.0.0.2", &xff, &["10.0.0.0/8"]),
            ip("203.0.113.9")
        );
        // A client cannot choose its address by prepending to the chain.
        let spoofed = [("X-Forwarded-For", "1.2.3.4, 203.0.113.9, 10.0.0.5")];
        assert_eq!(
            resolved("10.0.0.2", &spoofed, &["10.0.0.0/8"]),
            ip("203.0.113.9")
        );
        // Forwarded wins over X-Forwarded-For; quoted, bracketed and with ports.
        let both = [
            ("X-Forwarded-For", "1.2.3.4"),
            ("Forwarded", "for=\"[2001:db8::7]:4711\";proto=https"),
        ];
        assert_eq!(
            resolved("10.0.0.2", &both, &["10.0.0.0/8"]),
            ip("2001:db8::7")
        );
        let ported = [("Forwarded", "for=192.0.2.60:8080, for=10.0.0.9")];
        assert_eq!(
            resolved("10.0.0.2", &ported, &["10.0.0.0/8"]),
            ip("192.0.2.60")
        );
        // An unknown hop stops at the proxy that reported it; no header: the proxy itself.
        let unknown = [("Forwarded", "for=unknown")];
        assert_eq!(
            resolved("10.0.0.2", &unknown, &["10.0.0.0/8"]),
            ip("10.0.0.2")
        );
        assert_eq!(resolved("10.0.0.2", &[], &["10.0.0.0/8"]), ip("10.0.0.2"));
    }
}

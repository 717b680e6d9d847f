//! Which address a request comes from when the server sits behind reverse proxies
//! (`--trusted-proxies`): the limits per client address (`--creates-per-minute`) would
//! otherwise count everyone behind a proxy as one client.
//!
//! Only a proxy listed as trusted is believed. From a trusted peer, `X-Forwarded-For` is
//! read from its right end (each proxy appends the address it saw), skipping addresses
//! that are themselves trusted proxies; the first one that is not is the client. Entries
//! further left were written by whoever sent the request and could be anything, so they
//! are never used. A request straight from an untrusted peer is that peer, whatever its
//! headers say.

use std::net::IpAddr;

use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` is believed; empty believes nobody.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` carrying these `X-Forwarded-For`
    /// header values (in the order they came).
    pub fn client<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                // A hop that is not an address: nothing left of it can be trusted.
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        canonical(client)
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Parses one `--trusted-proxies` entry: an address or a network (`10.0.0.0/8`).
pub fn parse(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not an address or a network like 10.0.0.0/8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| parse(s).unwrap()).collect())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), ["10.1.1.1"].into_iter()),
            ip("203.0.113.9")
        );
        let some = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            some.client(ip("203.0.113.9"), ["10.1.1.1"].into_iter()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.7"]);
        // client → 192.0.2.7 (edge proxy) → 10.0.0.5 (inner proxy) → server
        let hops = ["198.51.100.4, 192.0.2.7"];
        assert_eq!(
            trusted.client(ip("10.0.0.5"), hops.into_iter()),
            ip("198.51.100.4")
        );
        // Whatever the client put in front of its own address is ignored.
        let spoofed = ["1.2.3.4", "198.51.100.4"];
        assert_eq!(
            trusted.client(ip("10.0.0.5"), spoofed.into_iter()),
            ip("198.51.100.4")
        );
        // No header: the proxy itself.
        assert_eq!(
            trusted.client(ip("10.0.0.5"), std::iter::empty()),
            ip("10.0.0.5")
        );
        // A hop that is not an address stops the walk at the last good one.
        let garbled = ["198.51.100.4, junk, 192.0.2.7"];
        assert_eq!(
            trusted.client(ip("10.0.0.5"), garbled.into_iter()),
            ip("192.0.2.7")
        );
        // IPv4 seen through IPv6.
        assert_eq!(
            trusted.client(ip("::ffff:10.0.0.5"), ["198.51.100.4"].into_iter()),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn entries_are_addresses_or_networks() {
        assert!(parse("10.0.0.0/8").is_ok());
        assert!(parse("192.0.2.7").is_ok());
        assert!(parse("fd00::/8").is_ok());
        assert!(parse("nginx").unwrap_err().contains("not an address"));
    }
}

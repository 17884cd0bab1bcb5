//! Which addresses a webhook may reach. A webhook URL is chosen by a
//! licensee, and the service sends to it from inside the operator's
//! network, so a URL naming a loopback, private (RFC 1918, ULA), shared,
//! link-local (cloud metadata: 169.254.169.254) or unspecified address, or
//! `localhost`, or a name resolving to any of those, would let a licensee
//! reach what only the service should. Such URLs are refused unless the
//! operator names the host in `--webhook-allow-hosts`.
//!
//! The check runs when an endpoint is saved and again on every send: the
//! sender's HTTP client resolves names through [`GuardedResolver`], which
//! refuses a name with any forbidden address, so the address checked is the
//! address connected to (no window for DNS to change in between).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use url::{Host, Url};

/// Longest a name may take to resolve when an endpoint is saved.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a URL may not be sent to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an absolute http(s) URL with a host.
    #[error("must be an absolute http or https URL with a host name or address")]
    NotHttp,
    /// Carries credentials.
    #[error("must not carry a user name or password")]
    Credentials,
    /// A host that is or resolves to a forbidden address.
    #[error("{0}")]
    Forbidden(String),
    /// A name that does not resolve.
    #[error("the host {0} does not resolve")]
    Unresolved(String),
}

/// The operator's allowed hosts, and the rule for all others.
#[derive(Debug, Clone, Default)]
pub struct AddressGuard {
    allow: Arc<Vec<(String, Option<u16>)>>,
}

impl AddressGuard {
    /// A guard allowing the `host` or `host:port` entries given (case does
    /// not matter; an IPv6 address in brackets).
    pub fn new(allow_hosts: &[String]) -> Self {
        let allow = allow_hosts
            .iter()
            .filter_map(|entry| {
                let entry = entry.trim().to_ascii_lowercase();
                if entry.is_empty() {
                    return None;
                }
                // `host:port`, `[v6]:port`, `[v6]`, a bare v6 or a host.
                if let Some(rest) = entry.strip_prefix('[') {
                    let (host, after) = rest.split_once(']')?;
                    let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
                    return Some((host.to_owned(), port));
                }
                match entry.rsplit_once(':') {
                    Some((host, port)) if !host.contains(':') => {
                        Some((host.to_owned(), port.parse().ok()))
                    }
                    _ => Some((entry, None)),
                }
            })
            .collect();
        Self {
            allow: Arc::new(allow),
        }
    }

    /// Whether the operator allowed this host (on this port).
    pub fn allows(&self, host: &str, port: Option<u16>) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.allow
            .iter()
            .any(|(h, p)| *h == host && (p.is_none() || *p == port))
    }

    /// Whether the operator allowed this name on any port (the resolver
    /// sees names without ports).
    fn allows_name(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.allow.iter().any(|(h, _)| *h == host)
    }

    /// Checks a URL as written, without resolving names: its form, and an
    /// address or `localhost` written in it.
    pub fn check_form(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::NotHttp);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        let host = url.host().ok_or(Refusal::NotHttp)?;
        let port = url.port_or_known_default();
        let written = url.host_str().unwrap_or_default();
        if self.allows(written, port) {
            return Ok(());
        }
        match host {
            Host::Ipv4(ip) => forbidden(IpAddr::V4(ip)).map_or(Ok(()), |why| {
                Err(Refusal::Forbidden(format!("{ip} is {why}")))
            }),
            Host::Ipv6(ip) => forbidden(IpAddr::V6(ip)).map_or(Ok(()), |why| {
                Err(Refusal::Forbidden(format!("{ip} is {why}")))
            }),
            Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    Err(Refusal::Forbidden(format!("{name} is a loopback name")))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks a URL fully: its form, then every address its host name
    /// resolves to (none may be forbidden; a name must resolve).
    pub async fn check(&self, url: &Url) -> Result<(), Refusal> {
        self.check_form(url)?;
        let Some(Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        let port = url.port_or_known_default();
        if self.allows(name, port) {
            return Ok(());
        }
        let name = name.to_owned();
        let lookup = tokio::net::lookup_host((name.clone(), port.unwrap_or(443)));
        let addresses: Vec<SocketAddr> = match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
            Ok(Ok(addresses)) => addresses.collect(),
            _ => return Err(Refusal::Unresolved(name)),
        };
        check_addresses(&name, &addresses)
    }

    /// A resolver for the sender's HTTP client that applies this guard.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            guard: self.clone(),
        })
    }
}

/// Refuses a name if any address it resolves to is forbidden; a name with
/// no address at all does not resolve.
fn check_addresses(name: &str, addresses: &[SocketAddr]) -> Result<(), Refusal> {
    if addresses.is_empty() {
        return Err(Refusal::Unresolved(name.to_owned()));
    }
    for address in addresses {
        if let Some(why) = forbidden(address.ip()) {
            return Err(Refusal::Forbidden(format!(
                "{name} resolves to {}, which is {why}",
                address.ip()
            )));
        }
    }
    Ok(())
}

/// What makes an address forbidden, if anything.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("the cloud metadata address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_private() {
        Some("a private address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("not a unicast address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a unique local (private) address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("not a unicast address")
    } else if first == 0x64 && ip.segments()[1] == 0xff9b {
        // NAT64 embeds an IPv4 address in the last 32 bits.
        let [.., c, d] = ip.segments();
        let v4 = Ipv4Addr::from((u32::from(c) << 16) | u32::from(d));
        forbidden_v4(v4)
    } else {
        None
    }
}

/// Resolves names for the sender, refusing any with a forbidden address
/// unless the operator allowed the name.
#[derive(Debug)]
pub struct GuardedResolver {
    guard: AddressGuard,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.guard.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !guard.allows_name(&name) {
                check_addresses(&name, &addresses).map_err(|refusal| {
                    Box::new(refusal) as Box<dyn std::error::Error + Send + Sync>
                })?;
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses_are_named() {
        for (ip, expected) in [
            ("127.0.0.1", true),
            ("127.8.9.10", true),
            ("10.0.0.1", true),
            ("10.255.255.255", true),
            ("172.16.0.1", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("169.254.169.254", true),
            ("169.254.1.1", true),
            ("100.64.0.1", true),
            ("0.0.0.0", true),
            ("224.0.0.1", true),
            ("93.184.215.14", false),
            ("::1", true),
            ("::", true),
            ("fd00::1", true),
            ("fe80::1", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:10.1.2.3", true),
            ("64:ff9b::a00:1", true),
            ("2606:4700::1111", false),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden(ip).is_some(), expected, "{ip}");
        }
    }

    #[test]
    fn written_addresses_and_localhost_are_refused_unless_allowed() {
        let guard = AddressGuard::new(&["127.0.0.1:9000".to_owned(), "Hooks.Internal".to_owned()]);
        let check = |url: &str| guard.check_form(&Url::parse(url).unwrap());
        assert!(check("http://127.0.0.1:9000/hook").is_ok());
        assert!(check("http://127.0.0.1:9001/hook").is_err());
        assert!(check("http://10.0.0.7/hook").is_err());
        assert!(check("http://169.254.169.254/latest/meta-data").is_err());
        assert!(check("http://[::1]/hook").is_err());
        assert!(check("http://localhost/hook").is_err());
        assert!(check("http://api.localhost./hook").is_err());
        assert!(check("http://hooks.internal/x").is_ok());
        assert!(check("https://user:pw@example.org/").is_err());
        assert!(check("ftp://example.org/").is_err());
        assert!(check("https://example.org/hook").is_ok());
    }
}

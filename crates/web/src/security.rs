//! What protects every request whatever its route: the cross-site check of state-changing
//! requests (`Sec-Fetch-Site`, then `Origin`), the security headers of every response, the
//! client address (the socket, or `X-Forwarded-For` from a trusted proxy only), the cookie names
//! and attributes the base URL allows, and the open-redirect-safe `next` parameter.
//! Synchronizer tokens are checked by the handlers (see `session.rs`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::AppError;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The endpoints that applications call with their own credentials (a code and its verifier, a
/// token, a client secret), never with a browser's cookie: a cross-site POST there is the
/// protocol, not a forgery. Nothing on them reads the session cookie.
const BACK_CHANNEL_PATHS: [&str; 3] = ["/oidc/token", "/oidc/revoke", "/oidc/userinfo"];

/// What the base URL decides: the origin state-changing requests must come from, and whether
/// cookies can be `Secure` (TLS, or a loopback host browsers treat as secure).
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub(crate) origin: String,
    pub(crate) https: bool,
    pub(crate) secure_cookies: bool,
}

impl Site {
    pub(crate) fn from_base_url(base_url: &str) -> Site {
        let trimmed = base_url.trim();
        let (scheme, rest) = trimmed.split_once("://").unwrap_or(("http", trimmed));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let scheme = scheme.to_ascii_lowercase();
        let authority = authority.to_ascii_lowercase();
        let host = if authority.starts_with('[') {
            authority.split_once(']').map_or(authority.as_str(), |(h, _)| h).to_owned() + "]"
        } else {
            authority.split(':').next().unwrap_or("").to_owned()
        };
        let https = scheme == "https";
        let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
        Site { origin: format!("{scheme}://{authority}"), https, secure_cookies: https || loopback }
    }

    /// The name of a cookie: `__Host-` prefixed when it can be `Secure`.
    pub(crate) fn cookie_name(&self, base: &str) -> String {
        if self.secure_cookies { format!("__Host-{base}") } else { base.to_owned() }
    }

    /// A `Set-Cookie` value; `max_age` `Some(0)` deletes the cookie.
    pub(crate) fn set_cookie(&self, base: &str, value: &str, max_age: Option<u64>) -> String {
        let mut cookie =
            format!("{}={value}; Path=/; HttpOnly; SameSite=Lax", self.cookie_name(base));
        if self.secure_cookies {
            cookie.push_str("; Secure");
        }
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        cookie
    }
}

/// The value of a cookie sent by the browser.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Refuses cross-site state-changing requests and adds the security headers to every response.
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    let back_channel = BACK_CHANNEL_PATHS.contains(&request.uri().path());
    let mut response =
        if !safe && !back_channel && is_cross_site(request.headers(), &state.site.origin) {
            tracing::warn!("cross-site request refused");
            AppError::Forbidden.into_response()
        } else {
            next.run(request).await
        };

    let headers = response.headers_mut();
    // A handler may set a stricter policy of its own (the printable letters allow exactly
    // their inline style by hash); every other response gets the site's.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.append(header::VARY, HeaderValue::from_static("Sec-Fetch-Site, Origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.site.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Whether a state-changing request comes from another site. A browser's own
/// `Sec-Fetch-Site` decides when present (`same-origin` passes even when the page was opened
/// under another name of this server, such as `localhost` for `127.0.0.1`); without it, the
/// `Origin`, when sent, must be the base URL's.
fn is_cross_site(headers: &HeaderMap, origin: &str) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    match fetch_site {
        Some(site) if site.eq_ignore_ascii_case("same-origin") => return false,
        Some(site) if !site.eq_ignore_ascii_case("none") => return true,
        _ => {}
    }
    let Some(sent) = headers.get(header::ORIGIN) else { return false };
    let Ok(sent) = sent.to_str() else { return true };
    if sent.eq_ignore_ascii_case(origin) {
        return false;
    }
    // The page may have been opened under another loopback name of this same server
    // (`localhost` for `127.0.0.1`): an Origin naming the loopback host the request was sent to
    // is this site too. Any other name must be the base URL's: a Host header is the client's
    // to choose.
    let scheme = origin.split_once("://").map_or("http", |(scheme, _)| scheme);
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok());
    !host.is_some_and(|host| {
        is_loopback_authority(host) && sent.eq_ignore_ascii_case(&format!("{scheme}://{host}"))
    })
}

/// Whether `host[:port]` names this machine's loopback interface.
fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// The client's address: the socket's peer, or the last address of `X-Forwarded-For` that is
/// not itself a trusted proxy when the peer is one.
pub(crate) fn client_ip(
    request_headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trusted: &[IpAddr],
) -> IpAddr {
    let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip());
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = request_headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer)
}

/// The peer address axum recorded, when served with connect info.
pub(crate) fn peer_of(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0)
}

/// A `next` target only when it is a local path (`^/[^/\\]`), else the home page.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && path.len() <= 512
                && path.chars().nth(1).is_some_and(|c| c != '/' && c != '\\')
                && !path.chars().any(|c| c.is_control()) =>
        {
            path.to_owned()
        }
        _ => "/accueil".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn an_origin_naming_the_host_sent_passes_only_for_loopback_names() {
        let base = "http://127.0.0.1:8080";
        let local = headers(&[("origin", "http://localhost:8080"), ("host", "localhost:8080")]);
        assert!(!is_cross_site(&local, base));
        let six = headers(&[("origin", "http://[::1]:8080"), ("host", "[::1]:8080")]);
        assert!(!is_cross_site(&six, base));
        let evil = headers(&[("origin", "http://evil.tld"), ("host", "evil.tld")]);
        assert!(is_cross_site(&evil, base));
        let sneaky =
            headers(&[("origin", "http://localhost.evil.tld"), ("host", "localhost.evil.tld")]);
        assert!(is_cross_site(&sneaky, base));
        assert!(!is_cross_site(&headers(&[("origin", "http://127.0.0.1:8080")]), base));
    }

    #[test]
    fn loopback_and_https_base_urls_allow_secure_cookies() {
        assert!(Site::from_base_url("http://127.0.0.1:8080").secure_cookies);
        assert!(Site::from_base_url("http://[::1]:8080/").secure_cookies);
        assert!(Site::from_base_url("https://ent.example").https);
        let plain = Site::from_base_url("http://ent.example");
        assert!(!plain.secure_cookies);
        assert_eq!(plain.cookie_name("preau_session"), "preau_session");
        assert_eq!(Site::from_base_url("http://localhost:80/x").origin, "http://localhost:80");
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/annuaire?q=a")), "/annuaire?q=a");
        for hostile in ["//evil.tld", "/\\evil.tld", "https:evil.tld", "https://evil.tld", "/"] {
            assert_eq!(safe_next(Some(hostile)), "/accueil", "{hostile}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 10.0.0.1"));
        let proxy: SocketAddr = "10.0.0.1:443".parse().unwrap();
        let other: SocketAddr = "198.51.100.7:443".parse().unwrap();
        let trusted = [proxy.ip()];
        assert_eq!(client_ip(&headers, Some(proxy), &trusted).to_string(), "203.0.113.9");
        assert_eq!(client_ip(&headers, Some(other), &trusted).to_string(), "198.51.100.7");
    }
}

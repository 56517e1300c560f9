//! Delivering a proxy-granting ticket to an application's proxy callback (CAS 3.0 §2.5.4): one
//! HTTPS GET with `pgtIou` and `pgtId` added to the registered callback URL, over rustls with
//! the certificate checked against the system's trusted roots (PKIX: chain, name, validity),
//! no proxy from the environment, no redirect followed, short timeouts. Only a `200` accepts
//! the ticket. Neither the URL (it carries the ticket) nor the ticket is ever logged.

use std::sync::OnceLock;
use std::time::Duration;

/// How long the callback may take to accept a connection, and to answer in all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The one client of every delivery (its connection pool and trusted roots are shared);
/// `None` when it could not be built (logged once; deliveries then fail).
fn client() -> Option<&'static reqwest::Client> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let built = reqwest::Client::builder()
                .https_only(true)
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(TOTAL_TIMEOUT)
                .user_agent("Preau-CAS")
                .build();
            match built {
                Ok(client) => Some(client),
                Err(error) => {
                    tracing::error!(error = %error.without_url(), "cas proxy callback client");
                    None
                }
            }
        })
        .as_ref()
}

/// The callback URL with the ticket and its IOU added, the URL's own parameters kept.
fn callback_url(callback: &str, pgt: &str, iou: &str) -> String {
    let separator = if callback.ends_with('?') || callback.ends_with('&') {
        ""
    } else if callback.contains('?') {
        "&"
    } else {
        "?"
    };
    format!("{callback}{separator}pgtIou={iou}&pgtId={pgt}")
}

/// The causes of a failed delivery, for the log: the error and its sources, without the URL.
fn causes(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends the ticket to the callback; `true` only when it answered `200 OK`.
pub(super) async fn deliver(service_id: &str, callback: &str, pgt: &str, iou: &str) -> bool {
    let Some(client) = client() else { return false };
    match client.get(callback_url(callback, pgt, iou)).send().await {
        Ok(response) if response.status() == reqwest::StatusCode::OK => true,
        Ok(response) => {
            let status = response.status().as_u16();
            tracing::warn!(
                service.id = service_id,
                status,
                "cas proxy callback refused the ticket"
            );
            false
        }
        Err(error) => {
            let causes = causes(error);
            tracing::warn!(service.id = service_id, %causes, "cas proxy callback unreachable");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_keeps_its_own_parameters() {
        assert_eq!(
            callback_url("https://a.fr/cb?x=1", "PGT-a", "PGTIOU-b"),
            "https://a.fr/cb?x=1&pgtIou=PGTIOU-b&pgtId=PGT-a"
        );
        assert_eq!(
            callback_url("https://a.fr/cb", "PGT-a", "PGTIOU-b"),
            "https://a.fr/cb?pgtIou=PGTIOU-b&pgtId=PGT-a"
        );
    }
}

//! The CAS server's answers to applications: the CAS 1 text (`yes`/`no`), and the
//! `serviceResponse` documents of CAS 2 and 3 in XML (written with quick-xml's writer, which
//! escapes every text and attribute) or JSON. Text that XML 1.0 cannot carry even escaped
//! (control characters) is dropped before writing. Every answer is `no-store`.

use std::borrow::Cow;
use std::io;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesText, Event};

const CAS_NAMESPACE: &str = "http://www.yale.edu/tp/cas";
const XML_TYPE: &str = "application/xml; charset=utf-8";
const JSON_TYPE: &str = "application/json; charset=utf-8";
const TEXT_TYPE: &str = "text/plain; charset=utf-8";

/// The format an application asked for (`format=XML`, the default, or `format=JSON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Xml,
    Json,
}

/// Why a validation or a proxy request failed: a code of the protocol and a French
/// description that never repeats what the client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Failure {
    pub(super) code: &'static str,
    pub(super) message: &'static str,
}

/// A successful validation.
#[derive(Debug, Clone)]
pub(super) struct Success {
    pub(super) user: String,
    /// Each attribute with its values, in the order written.
    pub(super) attributes: Vec<(&'static str, Vec<String>)>,
    /// The proxy-granting ticket's IOU, when one was delivered to the callback.
    pub(super) pgt_iou: Option<String>,
    /// A proxy ticket's chain of proxy callbacks, most recent first.
    pub(super) proxies: Vec<String>,
}

/// Text that XML 1.0 can carry: characters XML forbids (C0 controls other than tab and line
/// ends, C1 controls, U+FFFE and U+FFFF) are dropped.
fn xml_text(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (!c.is_control() && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|c| allowed(*c)).collect())
    }
}

fn respond(content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The CAS 1 answer of `/cas/validate`: `yes\n<user>\n`, or `no\n`.
pub(super) fn cas1(user: Option<&str>) -> Response {
    let body = match user {
        Some(user) => format!("yes\n{}\n", xml_text(user).replace(['\n', '\r'], "")),
        None => "no\n".to_owned(),
    };
    respond(TEXT_TYPE, body.into_bytes())
}

/// Writes one `<cas:name>text</cas:name>`.
fn text_element(writer: &mut Writer<Vec<u8>>, name: &str, text: &str) -> io::Result<()> {
    writer
        .create_element(format!("cas:{name}"))
        .write_text_content(BytesText::new(&xml_text(text)))?;
    Ok(())
}

/// A whole `<cas:serviceResponse>` document around `inner`.
fn xml_document(inner: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>) -> io::Result<Vec<u8>> {
    let mut writer = Writer::new(Vec::new());
    writer
        .create_element("cas:serviceResponse")
        .with_attribute(("xmlns:cas", CAS_NAMESPACE))
        .write_inner_content(inner)?;
    writer.write_event(Event::Text(BytesText::new("\n")))?;
    Ok(writer.into_inner())
}

fn xml_failure(element: &str, failure: Failure) -> io::Result<Vec<u8>> {
    xml_document(|writer| {
        writer
            .create_element(format!("cas:{element}"))
            .with_attribute(("code", failure.code))
            .write_text_content(BytesText::new(failure.message))?;
        Ok(())
    })
}

fn xml_success(success: &Success) -> io::Result<Vec<u8>> {
    xml_document(|writer| {
        writer.create_element("cas:authenticationSuccess").write_inner_content(|writer| {
            text_element(writer, "user", &success.user)?;
            writer.create_element("cas:attributes").write_inner_content(|writer| {
                for (name, values) in &success.attributes {
                    for value in values {
                        text_element(writer, name, value)?;
                    }
                }
                Ok(())
            })?;
            if let Some(iou) = &success.pgt_iou {
                text_element(writer, "proxyGrantingTicket", iou)?;
            }
            if !success.proxies.is_empty() {
                writer.create_element("cas:proxies").write_inner_content(|writer| {
                    for proxy in &success.proxies {
                        text_element(writer, "proxy", proxy)?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(())
    })
}

/// A body that could not be written (never happens with a `Vec`): an internal error, said
/// without any variable text.
fn internal_error_xml() -> Vec<u8> {
    format!(
        "<cas:serviceResponse xmlns:cas=\"{CAS_NAMESPACE}\"><cas:authenticationFailure \
         code=\"INTERNAL_ERROR\">Erreur interne du serveur CAS.</cas:authenticationFailure>\
         </cas:serviceResponse>\n"
    )
    .into_bytes()
}

/// A failure as JSON, under `element` (`authenticationFailure` or `proxyFailure`, as in XML).
fn json_failure(element: &str, failure: Failure) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert(
        element.to_owned(),
        serde_json::json!({ "code": failure.code, "description": failure.message }),
    );
    serde_json::json!({ "serviceResponse": body })
}

fn json_success(success: &Success) -> serde_json::Value {
    let mut attributes = serde_json::Map::new();
    for (name, values) in &success.attributes {
        let value = match values.as_slice() {
            [one] => serde_json::Value::from(one.as_str()),
            many => serde_json::Value::from(many.to_vec()),
        };
        attributes.insert((*name).to_owned(), value);
    }
    let mut body = serde_json::Map::new();
    body.insert("user".to_owned(), success.user.clone().into());
    body.insert("attributes".to_owned(), attributes.into());
    if let Some(iou) = &success.pgt_iou {
        body.insert("proxyGrantingTicket".to_owned(), iou.clone().into());
    }
    if !success.proxies.is_empty() {
        body.insert("proxies".to_owned(), success.proxies.clone().into());
    }
    serde_json::json!({ "serviceResponse": { "authenticationSuccess": body } })
}

fn json_response(value: &serde_json::Value) -> Response {
    respond(JSON_TYPE, value.to_string().into_bytes())
}

/// The answer of `/cas/serviceValidate`, `/cas/proxyValidate` and their `/p3/` forms.
pub(super) fn authentication(format: Format, result: &Result<Success, Failure>) -> Response {
    match (format, result) {
        (Format::Json, Ok(success)) => json_response(&json_success(success)),
        (Format::Json, Err(failure)) => {
            json_response(&json_failure("authenticationFailure", *failure))
        }
        (Format::Xml, result) => {
            let body = match result {
                Ok(success) => xml_success(success),
                Err(failure) => xml_failure("authenticationFailure", *failure),
            };
            respond(XML_TYPE, body.unwrap_or_else(|_| internal_error_xml()))
        }
    }
}

/// The answer of `/cas/proxy`: a proxy ticket, or why not.
pub(super) fn proxy(format: Format, result: &Result<String, Failure>) -> Response {
    match (format, result) {
        (Format::Json, Ok(ticket)) => json_response(&serde_json::json!({
            "serviceResponse": { "proxySuccess": { "proxyTicket": ticket } }
        })),
        (Format::Json, Err(failure)) => json_response(&json_failure("proxyFailure", *failure)),
        (Format::Xml, result) => {
            let body = match result {
                Ok(ticket) => xml_document(|writer| {
                    writer.create_element("cas:proxySuccess").write_inner_content(|writer| {
                        text_element(writer, "proxyTicket", ticket)
                    })?;
                    Ok(())
                }),
                Err(failure) => xml_failure("proxyFailure", *failure),
            };
            respond(XML_TYPE, body.unwrap_or_else(|_| internal_error_xml()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_stripped_of_what_xml_cannot_carry() {
        let success = Success {
            user: "a</cas:user><cas:user>admin".to_owned(),
            attributes: vec![("nom", vec!["O'Brien & <Fils>\u{1}".to_owned()])],
            pgt_iou: None,
            proxies: Vec::new(),
        };
        let body = String::from_utf8(xml_success(&success).unwrap()).unwrap();
        assert!(body.contains("<cas:user>a&lt;/cas:user&gt;&lt;cas:user&gt;admin</cas:user>"));
        assert!(body.contains("<cas:nom>O&apos;Brien &amp; &lt;Fils&gt;</cas:nom>"), "{body}");
        assert_eq!(cas1(Some("x\ny")).status(), StatusCode::OK);
    }
}

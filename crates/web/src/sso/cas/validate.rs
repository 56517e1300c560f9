//! Ticket validation and proxy tickets: `/cas/validate` (CAS 1), `/cas/serviceValidate` and
//! `/cas/proxyValidate` (CAS 2, with the attributes too: Pronote reads them there), their
//! `/cas/p3/` forms (CAS 3), and `/cas/proxy`. A ticket's shape is checked before any lookup;
//! a well-formed ticket is then consumed by this one attempt whatever its outcome, and is valid
//! only for the exact service URL it was issued for (a mismatch burns it: `INVALID_SERVICE`).
//! A proxy-granting ticket is given only to an application allowed to proxy, through an https
//! callback registered for it that accepts it (`callback.rs`).

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use domain::sso::{Attribute, TicketKind, ticket_kind};
use store::sso::Service;
use store::sso::cas::{ConsumedTicket, NewProxyGranting, NewTicket, ticket_log_id};

use crate::AppState;
use crate::sso::cas::CasParams;
use crate::sso::cas::callback;
use crate::sso::cas::response::{self, Failure, Format, Success};

const MISSING: Failure = Failure {
    code: "INVALID_REQUEST",
    message: "Les paramètres « service » et « ticket » sont obligatoires.",
};
const MALFORMED: Failure = Failure {
    code: "INVALID_REQUEST",
    message: "La requête est mal encodée ou contient deux fois le même paramètre.",
};
const BAD_FORMAT: Failure = Failure {
    code: "INVALID_REQUEST",
    message: "Format de réponse non pris en charge : « XML » ou « JSON ».",
};
const BAD_SPEC: Failure = Failure {
    code: "INVALID_TICKET_SPEC",
    message: "Le ticket n'a pas la forme d'un ticket de service CAS (ST- ou PT- suivi de \
              lettres, chiffres et tirets, 256 caractères au plus).",
};
const PROXY_TICKET: Failure = Failure {
    code: "INVALID_TICKET_SPEC",
    message: "Un ticket de proxy (PT-) n'est pas accepté ici : validez-le par /proxyValidate. \
              Le ticket est désormais invalide.",
};
const UNKNOWN: Failure = Failure {
    code: "INVALID_TICKET",
    message: "Ticket inconnu, déjà présenté, expiré, ou dont la session Préau a pris fin.",
};
const NOT_RENEWED: Failure = Failure {
    code: "INVALID_TICKET",
    message: "Le ticket ne vient pas d'une saisie du mot de passe alors que « renew » est \
              demandé. Le ticket est désormais invalide.",
};
const NO_SECOND_FACTOR: Failure = Failure {
    code: "INVALID_TICKET",
    message: "Le service exige un second facteur que la session n'a pas présenté.",
};
const WRONG_SERVICE: Failure = Failure {
    code: "INVALID_SERVICE",
    message: "Le ticket a été délivré pour une autre adresse de service ; il est désormais \
              invalide.",
};
const SERVICE_GONE: Failure = Failure {
    code: "INVALID_SERVICE",
    message: "L'application de ce ticket n'est plus enregistrée ou a été désactivée ; le ticket \
              est désormais invalide.",
};
const NOT_ALLOWED: Failure = Failure {
    code: "INVALID_TICKET",
    message: "La personne n'a plus accès à cette application ; le ticket est désormais invalide.",
};
const NO_PROXY: Failure = Failure {
    code: "UNAUTHORIZED_SERVICE_PROXY",
    message: "Ce service n'est pas autorisé à obtenir des tickets de proxy.",
};
const BAD_CALLBACK: Failure = Failure {
    code: "INVALID_PROXY_CALLBACK",
    message: "L'adresse de rappel du proxy doit être une adresse https enregistrée pour ce \
              service.",
};
const INTERNAL: Failure =
    Failure { code: "INTERNAL_ERROR", message: "Erreur interne du serveur CAS." };
const PROXY_MISSING: Failure = Failure {
    code: "INVALID_REQUEST",
    message: "Les paramètres « pgt » et « targetService » sont obligatoires.",
};
const PROXY_BAD_PGT: Failure = Failure {
    code: "INVALID_REQUEST",
    message: "Le paramètre « pgt » n'a pas la forme d'un ticket PGT-.",
};
const PROXY_UNKNOWN: Failure = Failure {
    code: "INVALID_TICKET",
    message: "Ticket PGT inconnu, ou la session Préau dont il vient a pris fin.",
};
const PROXY_TARGET: Failure = Failure {
    code: "UNAUTHORIZED_SERVICE",
    message: "Le service cible n'est pas enregistré, n'accepte pas cette personne, ou exige un \
              second facteur que la session n'a pas présenté ; ou le service demandeur n'est \
              plus autorisé à obtenir des tickets de proxy.",
};

/// Which endpoint is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// `/cas/validate`: service tickets only, no proxying, text answer.
    Cas1,
    /// `/serviceValidate`: service tickets only.
    Service,
    /// `/proxyValidate`: service and proxy tickets.
    Proxy,
}

/// A store failure, logged once, answered `INTERNAL_ERROR`.
/// A validation request that cannot be read (a repeated parameter, a bad encoding) is still
/// one validation attempt of every well-formed ticket it names: they are burned, as a ticket
/// is valid for one attempt, successful or not.
async fn burn_named_tickets(state: &AppState, uri: &Uri) {
    let pairs: Vec<(String, String)> =
        uri.query().and_then(|query| serde_urlencoded::from_str(query).ok()).unwrap_or_default();
    let now = store::now_unix();
    for (_, ticket) in pairs.iter().filter(|(name, _)| name == "ticket") {
        if matches!(ticket_kind(ticket), Some(TicketKind::Service | TicketKind::Proxy)) {
            match state.store.cas_consume_ticket(ticket, now, i64::MAX).await {
                Ok(burned) => tracing::info!(
                    ticket = %ticket_log_id(ticket),
                    burned = burned.is_some(),
                    "cas validation with unreadable parameters: ticket burned"
                ),
                Err(error) => {
                    internal(error);
                }
            }
        }
    }
}

fn internal(error: store::StoreError) -> Failure {
    tracing::error!(cause = ?error, "cas validation: store failure");
    INTERNAL
}

/// The answer format a request asks for.
fn format_of(params: &CasParams) -> Result<Format, Failure> {
    match params.get("format") {
        None => Ok(Format::Xml),
        Some(format) if format.eq_ignore_ascii_case("XML") => Ok(Format::Xml),
        Some(format) if format.eq_ignore_ascii_case("JSON") => Ok(Format::Json),
        Some(_) => Err(BAD_FORMAT),
    }
}

/// The checks every validation endpoint shares, up to the service's registration: the
/// request's shape, the ticket's, its consumption (whatever follows), the service it was
/// issued for, the person's access to it (decided again), `renew` and the second factor.
async fn check(
    state: &AppState,
    params: &CasParams,
    endpoint: Endpoint,
) -> Result<(ConsumedTicket, Service), Failure> {
    let (Some(service_url), Some(ticket)) = (params.get("service"), params.get("ticket")) else {
        return Err(MISSING);
    };
    let kind = ticket_kind(ticket).filter(|kind| *kind != TicketKind::ProxyGranting);
    let Some(kind) = kind else { return Err(BAD_SPEC) };

    let now = store::now_unix();
    let idle = i64::try_from(state.config.session_idle.as_secs()).unwrap_or(i64::MAX);
    let consumed = state.store.cas_consume_ticket(ticket, now, idle).await.map_err(internal)?;
    let log_id = ticket_log_id(ticket);
    let Some(consumed) = consumed else {
        tracing::info!(ticket = %log_id, "cas validation: unknown or expired ticket");
        return Err(UNKNOWN);
    };
    if kind == TicketKind::Proxy && endpoint != Endpoint::Proxy {
        tracing::info!(ticket = %log_id, "cas validation: proxy ticket refused");
        return Err(PROXY_TICKET);
    }
    let service = state
        .store
        .cas_service_for_url_kept(service_url, consumed.generations)
        .await
        .map_err(internal)?;
    let service = match service {
        Some(service)
            if consumed.service_url == service_url && service.id == consumed.service_id =>
        {
            service
        }
        _ if consumed.service_url == service_url => {
            tracing::warn!(
                service.id = %consumed.service_id,
                ticket = %log_id,
                "cas validation: the ticket's application is gone or disabled, burned"
            );
            return Err(SERVICE_GONE);
        }
        _ => {
            tracing::warn!(
                service.id = %consumed.service_id,
                ticket = %log_id,
                "cas validation: ticket presented for another service, burned"
            );
            return Err(WRONG_SERVICE);
        }
    };
    // Access is decided again: a ticket issued just before the person lost the right to use
    // the application (a profile or a collège taken off its list) gives nothing.
    let allowed = state
        .store
        .service_allows_kept(&service.id, &consumed.person_id, consumed.generations)
        .await
        .map_err(internal)?;
    if !allowed {
        tracing::info!(
            service.id = %service.id,
            ticket = %log_id,
            "cas validation: the person may no longer use the application"
        );
        return Err(NOT_ALLOWED);
    }
    if params.flag("renew") && !consumed.from_new_login {
        return Err(NOT_RENEWED);
    }
    if service.require_second_factor && !consumed.second_factor {
        return Err(NO_SECOND_FACTOR);
    }
    Ok((consumed, service))
}

/// `/cas/validate` (CAS 1.0).
pub(super) async fn cas1(State(state): State<AppState>, uri: Uri) -> Response {
    let Some(params) = CasParams::parse(&uri) else {
        burn_named_tickets(&state, &uri).await;
        return response::cas1(None);
    };
    let Ok((consumed, service)) = check(&state, &params, Endpoint::Cas1).await else {
        return response::cas1(None);
    };
    match state.store.release_kept(&service, &consumed.person_id, consumed.generations).await {
        Ok(released) => {
            tracing::info!(service.id = %service.id, "cas ticket validated (cas 1)");
            response::cas1(Some(&released.principal))
        }
        Err(error) => {
            internal(error);
            response::cas1(None)
        }
    }
}

/// `/cas/serviceValidate` and `/cas/p3/serviceValidate`.
pub(super) async fn service_validate(State(state): State<AppState>, uri: Uri) -> Response {
    validate(&state, &uri, Endpoint::Service).await
}

/// `/cas/proxyValidate` and `/cas/p3/proxyValidate`.
pub(super) async fn proxy_validate(State(state): State<AppState>, uri: Uri) -> Response {
    validate(&state, &uri, Endpoint::Proxy).await
}

async fn validate(state: &AppState, uri: &Uri, endpoint: Endpoint) -> Response {
    let Some(params) = CasParams::parse(uri) else {
        burn_named_tickets(state, uri).await;
        return response::authentication(Format::Xml, &Err(MALFORMED));
    };
    let format = match format_of(&params) {
        Ok(format) => format,
        Err(failure) => return response::authentication(Format::Xml, &Err(failure)),
    };
    let result = match check(state, &params, endpoint).await {
        Ok((consumed, service)) => succeed(state, &params, consumed, &service).await,
        Err(failure) => Err(failure),
    };
    response::authentication(format, &result)
}

/// What follows a valid ticket: the proxy-granting ticket when asked for, then the principal
/// and the attributes the application may receive.
async fn succeed(
    state: &AppState,
    params: &CasParams,
    consumed: ConsumedTicket,
    service: &Service,
) -> Result<Success, Failure> {
    let pgt_iou = match params.get("pgtUrl") {
        Some(callback) => grant_proxy(state, &consumed, service, callback).await?,
        None => None,
    };
    let released = state
        .store
        .release_kept(service, &consumed.person_id, consumed.generations)
        .await
        .map_err(internal)?;
    let authentication_date = jiff::Timestamp::from_second(consumed.authenticated_at)
        .map(|at| at.to_string())
        .unwrap_or_default();
    let mut attributes: Vec<(&'static str, Vec<String>)> = vec![
        ("authenticationDate", vec![authentication_date]),
        ("longTermAuthenticationRequestTokenUsed", vec!["false".to_owned()]),
        ("isFromNewLogin", vec![consumed.from_new_login.to_string()]),
    ];
    attributes.extend(
        released
            .attributes
            .into_iter()
            .map(|(attribute, values)| (Attribute::as_str(attribute), values)),
    );
    tracing::info!(
        service.id = %service.id,
        proxied = !consumed.proxies.is_empty(),
        pgt = pgt_iou.is_some(),
        "cas ticket validated"
    );
    Ok(Success { user: released.principal, attributes, pgt_iou, proxies: consumed.proxies })
}

/// Issues a proxy-granting ticket to `callback` and returns its IOU: only for an application
/// allowed to proxy, to an https callback registered for it (else the validation fails), which
/// answers `200` over a verified certificate (else the validation succeeds without a
/// proxy-granting ticket, CAS 3.0 §2.5.4: the person is still who the ticket says).
async fn grant_proxy(
    state: &AppState,
    consumed: &ConsumedTicket,
    service: &Service,
    callback: &str,
) -> Result<Option<String>, Failure> {
    if !service.allow_proxy {
        tracing::warn!(service.id = %service.id, "cas proxy callback refused: may not proxy");
        return Err(NO_PROXY);
    }
    if !callback.starts_with("https://") || !service.matches(callback) {
        tracing::warn!(service.id = %service.id, "cas proxy callback not registered or not https");
        return Err(BAD_CALLBACK);
    }
    let mut proxies = vec![callback.to_owned()];
    proxies.extend(consumed.proxies.iter().cloned());
    let now = store::now_unix();
    let new = NewProxyGranting {
        service_id: &service.id,
        person_id: &consumed.person_id,
        session_hash: &consumed.session_hash,
        second_factor: consumed.second_factor,
        authenticated_at: consumed.authenticated_at,
        proxies: &proxies,
    };
    let issued = state.store.cas_issue_proxy_granting(&new, now).await.map_err(internal)?;
    let Some(issued) = issued else { return Err(UNKNOWN) };
    if callback::deliver(&service.id, callback, &issued.ticket, &issued.iou).await {
        tracing::info!(
            service.id = %service.id,
            pgt = %ticket_log_id(&issued.ticket),
            "cas proxy-granting ticket delivered"
        );
        Ok(Some(issued.iou))
    } else {
        state.store.cas_revoke_proxy_granting(&issued.ticket).await.map_err(internal)?;
        tracing::warn!(service.id = %service.id, "cas proxy callback failed: no pgt issued");
        Ok(None)
    }
}

/// `/cas/proxy`: a proxy ticket for `targetService` from a live proxy-granting ticket.
pub(super) async fn proxy(State(state): State<AppState>, uri: Uri) -> Response {
    let Some(params) = CasParams::parse(&uri) else {
        return response::proxy(Format::Xml, &Err(MALFORMED));
    };
    let format = match format_of(&params) {
        Ok(format) => format,
        Err(failure) => return response::proxy(Format::Xml, &Err(failure)),
    };
    response::proxy(format, &issue_proxy_ticket(&state, &params).await)
}

async fn issue_proxy_ticket(state: &AppState, params: &CasParams) -> Result<String, Failure> {
    let (Some(pgt), Some(target_url)) = (params.get("pgt"), params.get("targetService")) else {
        return Err(PROXY_MISSING);
    };
    if ticket_kind(pgt) != Some(TicketKind::ProxyGranting) {
        return Err(PROXY_BAD_PGT);
    }
    let now = store::now_unix();
    let idle = i64::try_from(state.config.session_idle.as_secs()).unwrap_or(i64::MAX);
    let granting = state.store.cas_proxy_granting(pgt, now, idle).await.map_err(internal)?;
    let Some(granting) = granting else { return Err(PROXY_UNKNOWN) };

    let proxying = state.store.sso_service(&granting.service_id).await.map_err(internal)?;
    if !proxying.is_some_and(|service| service.enabled && service.allow_proxy) {
        return Err(PROXY_TARGET);
    }
    let target = state.store.cas_service_for_url(target_url).await.map_err(internal)?;
    let Some(target) = target else { return Err(PROXY_TARGET) };
    let allowed =
        state.store.service_allows(&target.id, &granting.person_id).await.map_err(internal)?;
    if !allowed || (target.require_second_factor && !granting.second_factor) {
        tracing::info!(service.id = %target.id, "cas proxy ticket refused for the target");
        return Err(PROXY_TARGET);
    }

    let ticket = state
        .store
        .cas_issue_ticket(
            &NewTicket {
                kind: TicketKind::Proxy,
                service_id: &target.id,
                service_url: target_url,
                person_id: &granting.person_id,
                session_hash: &granting.session_hash,
                from_new_login: false,
                second_factor: granting.second_factor,
                authenticated_at: granting.authenticated_at,
                proxies: &granting.proxies,
            },
            now,
        )
        .await
        .map_err(internal)?;
    tracing::info!(
        service.id = %target.id,
        proxy.service.id = %granting.service_id,
        ticket = %ticket_log_id(&ticket),
        "cas proxy ticket issued"
    );
    Ok(ticket)
}

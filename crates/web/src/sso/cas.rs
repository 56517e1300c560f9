//! The CAS 3.0 server: `/cas/login` (with `service`, `renew`, `gateway`, `warn`), `/cas/logout`,
//! and the validation endpoints of `cas/validate.rs` (`/cas/validate`, `/cas/serviceValidate`,
//! `/cas/proxyValidate`, `/cas/p3/…`, `/cas/proxy`). Only applications of the registry get a
//! ticket or a redirect: any other `service` gets a French page that explains, and no ticket.
//! A ticket is issued from a live session, for a person the application allows, never from a
//! session without its second factor for an application that requires one; with `renew`, only
//! after the person typed their password for this very request (a one-time login request whose
//! token the browser keeps in a cookie, compared with the session that comes back).
//! Request parameters are read strictly (a repeated or badly encoded parameter is refused), and
//! tickets and session ids never reach the logs (a short hash of a ticket does).

mod callback;
mod response;
mod validate;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use domain::sso::TicketKind;
use store::sso::Service;
use store::sso::cas::{LOGIN_REQUEST_TTL_SECS, NewTicket};

use crate::AppState;
use crate::error::{AppError, percent_encode};
use crate::form::Fields;
use crate::security::cookie;
use crate::session::{SESSION_COOKIE, Viewer, find_viewer, session_hash_of};
use crate::templates::render;

/// The cookie holding a pending login request's token.
const LOGIN_REQUEST_COOKIE: &str = "preau_cas_login";
/// The longest parameter value read; anything longer refuses the whole request
/// (`INVALID_REQUEST`). Far longer than any ticket or URL accepted, so that a ticket too long
/// to be one, up to this length, is refused for its shape (`INVALID_TICKET_SPEC`), as the
/// protocol says.
const MAX_PARAM_LEN: usize = 16 * 1024;

/// Every route of the CAS server.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cas/login", get(login))
        .route("/cas/logout", get(logout_page).post(logout))
        .route("/cas/validate", get(validate::cas1))
        .route("/cas/serviceValidate", get(validate::service_validate))
        .route("/cas/proxyValidate", get(validate::proxy_validate))
        .route("/cas/p3/serviceValidate", get(validate::service_validate))
        .route("/cas/p3/proxyValidate", get(validate::proxy_validate))
        .route("/cas/proxy", get(validate::proxy))
}

/// The query parameters of a CAS request, read strictly: a badly encoded query, a value over
/// [`MAX_PARAM_LEN`], a NUL byte or the same name twice refuses the whole request (a second
/// `service` or `ticket` is how parameter injection through a client's URL building shows).
#[derive(Debug, Default)]
struct CasParams(Vec<(String, String)>);

impl CasParams {
    fn parse(uri: &Uri) -> Option<CasParams> {
        let Some(query) = uri.query() else { return Some(CasParams::default()) };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
        for (index, (name, value)) in pairs.iter().enumerate() {
            if value.len() > MAX_PARAM_LEN
                || name.len() > 64
                || value.contains(['\0', '\u{FFFD}'])
                || pairs[..index].iter().any(|(other, _)| other == name)
            {
                return None;
            }
        }
        Some(CasParams(pairs))
    }

    /// A parameter's value, `None` when absent or empty.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// Whether a flag (`renew`, `gateway`) is set: present with any value but `false`.
    fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|value| !value.eq_ignore_ascii_case("false"))
    }
}

#[derive(Template)]
#[template(path = "cas_page.html")]
struct CasPage {
    title: &'static str,
    css: &'static str,
    paragraphs: Vec<String>,
    /// A registered service to go on to at once (after logout).
    refresh: Option<String>,
    link: Option<PageLink>,
    form: Option<LogoutForm>,
}

struct PageLink {
    href: String,
    label: String,
}

/// The logout button of a page, for a logged-in viewer.
struct LogoutForm {
    csrf: String,
    /// A registered service to return to afterwards.
    service: Option<String>,
    button: &'static str,
}

impl CasPage {
    fn new(title: &'static str, paragraphs: Vec<String>) -> CasPage {
        CasPage {
            title,
            css: crate::assets::css_href(),
            paragraphs,
            refresh: None,
            link: None,
            form: None,
        }
    }

    fn respond(&self, status: StatusCode) -> Result<Response, AppError> {
        Ok((status, Html(render(self)?)).into_response())
    }
}

/// The page of a `service` that is not an application of the registry (or not written as one).
fn unregistered_page(viewer: Option<&Viewer>) -> CasPage {
    let mut page = CasPage::new(
        "Application non autorisée",
        vec![
            "L'application qui vous a envoyé ici n'est pas enregistrée dans Préau, ou son adresse \
             n'est pas exactement celle qui a été enregistrée : Préau ne vous y connecte pas et \
             ne vous y renvoie pas."
                .to_owned(),
            "Si vous avez suivi un lien reçu par message ou trouvé sur un site, il peut s'agir \
             d'une tentative d'hameçonnage : ne saisissez votre mot de passe que sur Préau. Si \
             vous pensez que cette application devrait être accessible, signalez-le à votre \
             établissement."
                .to_owned(),
        ],
    );
    page.form = viewer.map(|viewer| LogoutForm {
        csrf: viewer.csrf_token.clone(),
        service: None,
        button: "Me déconnecter de Préau",
    });
    page
}

/// The page of a person whose account the application does not accept.
fn not_allowed_page(service: &Service) -> CasPage {
    CasPage::new(
        "Accès non autorisé",
        vec![
            format!(
                "Votre compte ne donne pas accès à « {} » : cette application est réservée à \
                 certains établissements ou à certains profils (élèves, parents, enseignants, \
                 personnels).",
                service.name
            ),
            "Si vous pensez que c'est une erreur, adressez-vous à votre établissement.".to_owned(),
        ],
    )
}

/// What `warn` asks for: single sign-on is not silent, the person confirms first (the link
/// is the same request without `warn`).
fn warn_page(service: &Service, service_url: &str) -> CasPage {
    let mut page = CasPage::new(
        "Connexion à une application",
        vec![format!(
            "Vous êtes connecté à Préau. Voulez-vous ouvrir « {} » avec votre compte ?",
            service.name
        )],
    );
    page.link = Some(PageLink {
        href: login_path(service_url, false),
        label: format!("Continuer vers « {} »", service.name),
    });
    page
}

/// The page of a request whose parameters cannot be read.
fn bad_request_page(reason: &str) -> Result<Response, AppError> {
    CasPage::new(
        "Demande de connexion non valide",
        vec![
            reason.to_owned(),
            "Revenez à l'application et recommencez ; si cela se reproduit, signalez-le à votre \
             établissement."
                .to_owned(),
        ],
    )
    .respond(StatusCode::BAD_REQUEST)
}

const BAD_PARAMS: &str = "L'adresse de connexion est mal formée ou contient deux fois le même \
    paramètre : Préau ne peut pas savoir vers quelle application vous renvoyer.";

/// A `302 Found` to a registered service URL.
fn found(location: &str) -> Result<Response, AppError> {
    let value = HeaderValue::from_str(location)
        .map_err(|_| AppError::Internal("service url not a header value".to_owned()))?;
    Ok((StatusCode::FOUND, [(header::LOCATION, value)]).into_response())
}

/// A service URL with `ticket=` appended as its last query parameter.
fn with_ticket(service_url: &str, ticket: &str) -> String {
    let separator = if service_url.ends_with('?') || service_url.ends_with('&') {
        ""
    } else if service_url.contains('?') {
        "&"
    } else {
        "?"
    };
    format!("{service_url}{separator}ticket={ticket}")
}

/// This `/cas/login` as the login form and the second-factor page come back to it.
fn login_path(service_url: &str, renew: bool) -> String {
    let renew = if renew { "&renew=true" } else { "" };
    format!("/cas/login?service={}{renew}", percent_encode(service_url))
}

/// A `Set-Cookie` header value on a response.
fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The login request token the browser holds, when plausible.
fn login_request_token(headers: &HeaderMap, state: &AppState) -> Option<String> {
    cookie(headers, &state.site.cookie_name(LOGIN_REQUEST_COOKIE))
        .filter(|token| token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Sends the browser to the login form, then back to `here`, after recording the request (the
/// ticket it then gets counts as issued from credentials presented for it).
// FIXME(#6): every anonymous request for a registered service writes one row (kept 15 minutes),
// and so does an anonymous `/oidc/authorize`; a flood of them queues behind SQLite's single
// writer. A cap per client address, or keeping the request in the login form itself, is needed.
async fn send_to_login(
    state: &AppState,
    service_url: &str,
    previous_session: Option<&str>,
    here: &str,
) -> Result<Response, AppError> {
    let now = store::now_unix();
    let token = state.store.cas_start_login_request(service_url, previous_session, now).await?;
    let ttl = u64::try_from(LOGIN_REQUEST_TTL_SECS).unwrap_or(0);
    let mut response =
        Redirect::to(&format!("/connexion?next={}", percent_encode(here))).into_response();
    set_cookie(&mut response, &state.site.set_cookie(LOGIN_REQUEST_COOKIE, &token, Some(ttl)));
    Ok(response)
}

/// What a `/cas/login` for a registered service asks for.
struct ServiceLogin<'a> {
    service: Service,
    service_url: &'a str,
    renew: bool,
    gateway: bool,
    warn: bool,
    /// This request, as the login form and the second-factor page come back to it.
    here: String,
}

/// `/cas/login` as a credential requestor: a ticket for a registered service from a live
/// session, or the way to one (login form, second factor), or a page that explains.
async fn login(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(params) = CasParams::parse(&uri) else { return bad_request_page(BAD_PARAMS) };
    if params.get("method").is_some_and(|method| !method.eq_ignore_ascii_case("GET")) {
        return bad_request_page(
            "L'application demande une réponse par une méthode que Préau ne propose pas : \
             Préau ne renvoie vers les applications que par une redirection ordinaire.",
        );
    }
    let viewer = find_viewer(&state, &headers).await?;
    let Some(service_url) = params.get("service") else {
        let target = if viewer.is_some() { "/accueil" } else { "/connexion" };
        return Ok(Redirect::to(target).into_response());
    };
    if domain::sso::carries_ticket(service_url) {
        tracing::warn!("cas login for a service url that already carries a ticket refused");
        return bad_request_page(
            "L'adresse de l'application contient déjà un ticket de connexion : ce lien ne vient \
             pas de l'application elle-même. Ouvrez l'application depuis son adresse habituelle.",
        );
    }
    let service = match &viewer {
        Some(viewer) => {
            state.store.cas_service_for_url_kept(service_url, viewer.generations).await?
        }
        None => state.store.cas_service_for_url(service_url).await?,
    };
    let Some(service) = service else {
        tracing::warn!("cas login for an unregistered service refused");
        return unregistered_page(viewer.as_ref()).respond(StatusCode::FORBIDDEN);
    };

    // `renew` disables single sign-on and overrides `gateway` (CAS 3.0 §2.1.1).
    let renew = params.flag("renew");
    let request = ServiceLogin {
        service,
        service_url,
        renew,
        gateway: !renew && params.flag("gateway"),
        warn: params.flag("warn"),
        here: login_path(service_url, renew),
    };
    match viewer {
        Some(viewer) => signed_in(&state, &headers, &request, &viewer).await,
        None if request.gateway => found(service_url),
        None => send_to_login(&state, service_url, None, &request.here).await,
    }
}

/// `/cas/login` with a live session: the application must accept the person; `renew` needs a
/// login request answered by a newer session; a second factor is asked for when the
/// application requires one (a gateway goes back without a ticket rather than ask anything).
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    request: &ServiceLogin<'_>,
    viewer: &Viewer,
) -> Result<Response, AppError> {
    let service = &request.service;
    if !state.store.service_allows_kept(&service.id, viewer.id(), viewer.generations).await? {
        tracing::info!(service.id = %service.id, person.id = %viewer.id(), "cas login not allowed");
        if request.gateway {
            return found(request.service_url);
        }
        return not_allowed_page(service).respond(StatusCode::FORBIDDEN);
    }

    let now = store::now_unix();
    let token = login_request_token(headers, state);
    let answered = |pending: &store::sso::cas::LoginRequest| {
        pending.service_url == request.service_url
            && pending.answered_by(&viewer.session_hash, viewer.authenticated_at)
    };
    let pending = match &token {
        Some(token) => state.store.cas_login_request(token, now).await?,
        None => None,
    };
    let fresh = pending.as_ref().is_some_and(answered);
    if request.renew && !fresh {
        let previous = Some(viewer.session_hash.as_str());
        return send_to_login(state, request.service_url, previous, &request.here).await;
    }
    if service.require_second_factor && !viewer.second_factor {
        if request.gateway {
            return found(request.service_url);
        }
        let target = format!("/connexion/second-facteur?next={}", percent_encode(&request.here));
        return Ok(Redirect::to(&target).into_response());
    }
    if request.warn && !request.gateway && !fresh {
        return warn_page(service, request.service_url).respond(StatusCode::OK);
    }
    let from_new_login = match (&token, fresh) {
        (Some(token), true) => {
            state.store.cas_finish_login_request(token, now).await?.as_ref().is_some_and(answered)
        }
        _ => false,
    };
    if request.renew && !from_new_login {
        // Another tab used the same login request meanwhile.
        let previous = Some(viewer.session_hash.as_str());
        return send_to_login(state, request.service_url, previous, &request.here).await;
    }

    let mut response = issue(state, request, viewer, from_new_login, now).await?;
    if token.is_some() {
        set_cookie(&mut response, &state.site.set_cookie(LOGIN_REQUEST_COOKIE, "", Some(0)));
    }
    Ok(response)
}

/// Issues the service ticket and sends the browser to the service with it.
async fn issue(
    state: &AppState,
    request: &ServiceLogin<'_>,
    viewer: &Viewer,
    from_new_login: bool,
    now: i64,
) -> Result<Response, AppError> {
    let new = NewTicket {
        kind: TicketKind::Service,
        service_id: &request.service.id,
        service_url: request.service_url,
        person_id: viewer.id(),
        session_hash: &viewer.session_hash,
        from_new_login,
        second_factor: viewer.second_factor,
        authenticated_at: viewer.authenticated_at,
        proxies: &[],
    };
    let ticket = state.store.cas_issue_ticket(&new, now).await?;
    tracing::info!(
        service.id = %request.service.id,
        person.id = %viewer.id(),
        ticket = %store::sso::cas::ticket_log_id(&ticket),
        from_new_login,
        "cas service ticket issued"
    );
    found(&with_ticket(request.service_url, &ticket))
}

/// `GET /cas/logout`: never changes anything (GET is safe here). With a session, a page that
/// asks to confirm (the form carries a registered `service` to return to); without one, the
/// page that says the person is logged out. The CAS 2 `url` parameter is ignored.
async fn logout_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(params) = CasParams::parse(&uri) else { return bad_request_page(BAD_PARAMS) };
    let viewer = find_viewer(&state, &headers).await?;
    let service = match params.get("service") {
        None => None,
        Some(url) => match state.store.cas_service_for_url(url).await? {
            Some(service) => Some((service, url.to_owned())),
            None => {
                tracing::warn!("cas logout towards an unregistered service refused");
                return unregistered_page(viewer.as_ref()).respond(StatusCode::FORBIDDEN);
            }
        },
    };

    let page = match viewer {
        Some(viewer) => {
            let mut paragraphs = vec!["Voulez-vous vous déconnecter de Préau ?".to_owned()];
            if let Some((service, _)) = &service {
                paragraphs.push(format!(
                    "Vous serez ensuite renvoyé vers « {} ». Pensez à vous déconnecter aussi de \
                     cette application si vous utilisez un ordinateur partagé.",
                    service.name
                ));
            }
            let mut page = CasPage::new("Déconnexion", paragraphs);
            page.form = Some(LogoutForm {
                csrf: viewer.csrf_token.clone(),
                service: service.map(|(_, url)| url),
                button: "Me déconnecter",
            });
            page
        }
        None => logged_out_page(service.as_ref().map(|(service, url)| (service, url.as_str()))),
    };
    page.respond(StatusCode::OK)
}

/// The page that says the person is logged out, with a link back to a registered service.
fn logged_out_page(service: Option<(&Service, &str)>) -> CasPage {
    let mut page = CasPage::new(
        "Vous êtes déconnecté",
        vec![
            "Vous êtes déconnecté de Préau. Pour protéger votre compte sur un ordinateur partagé, \
             fermez aussi le navigateur."
                .to_owned(),
        ],
    );
    page.link = service.map(|(service, url)| PageLink {
        href: url.to_owned(),
        label: format!("Revenir à « {} »", service.name),
    });
    page
}

/// `POST /cas/logout`: ends the session (its tickets and proxy-granting tickets go with it)
/// and, when the form names a registered service, goes on to it. The way on is a page that
/// refreshes at once to the service (with a link): a redirect after a form submission to
/// another origin would be blocked by the site's `form-action 'self'`.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    if let Some(viewer) = find_viewer(&state, &headers).await? {
        viewer.check_csrf(fields.get("csrf_token"))?;
        tracing::info!(person.id = %viewer.id(), "cas logout");
    }
    if let Some(hash) = session_hash_of(&headers, &state.site) {
        state.store.oidc_end_session(&hash).await?;
        state.store.delete_session(&hash).await?;
    }

    let service_url = fields.get("service");
    let service = match service_url {
        "" => None,
        url => state.store.cas_service_for_url(url).await?,
    };
    let mut page = logged_out_page(service.as_ref().map(|service| (service, service_url)));
    if service.is_some() {
        page.refresh = Some(service_url.to_owned());
    } else if !service_url.is_empty() {
        page.paragraphs.push(
            "L'adresse de retour demandée n'est pas celle d'une application autorisée : vous \
             restez sur Préau."
                .to_owned(),
        );
    }
    let mut response = page.respond(StatusCode::OK)?;
    set_cookie(&mut response, &state.site.set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ticket_is_appended_as_a_query_parameter() {
        assert_eq!(with_ticket("https://a.fr/p", "ST-x"), "https://a.fr/p?ticket=ST-x");
        assert_eq!(with_ticket("https://a.fr/p?x=1", "ST-x"), "https://a.fr/p?x=1&ticket=ST-x");
        assert_eq!(with_ticket("https://a.fr/p?", "ST-x"), "https://a.fr/p?ticket=ST-x");
    }

    #[test]
    fn repeated_or_malformed_parameters_refuse_the_request() {
        let parse = |uri: &'static str| CasParams::parse(&Uri::from_static(uri));
        assert!(parse("/cas/login?service=a&service=b").is_none());
        assert!(parse("/cas/login?service=a&ticket=b&ticket=c").is_none());
        assert!(parse("/cas/login?service=%00").is_none());
        let params = parse("/cas/login?service=https%3A%2F%2Fa.fr%2F&renew=true&gateway=false");
        let params = params.unwrap();
        assert_eq!(params.get("service"), Some("https://a.fr/"));
        assert!(params.flag("renew"));
        assert!(!params.flag("gateway"));
        assert!(!params.flag("warn"));
    }
}

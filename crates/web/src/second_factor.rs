//! The second factor: TOTP codes (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step of
//! drift either way) and one-time recovery codes. This module owns the step of a login that
//! waits for a code (`/connexion/second-facteur`, also the step-up an application asks for), the
//! person's page where a factor is enrolled, replaced or removed (`/parametres/second-facteur`),
//! and the way a login moves on to where it was going (`continue_to`). Who must pass a factor is
//! `session::second_factor_required`; the `Viewer` extractor refuses a session that has not.
//!
//! A secret is 20 bytes from the thread CSPRNG, shown once as a QR code (an inline SVG image)
//! and as grouped base32 text, and becomes the person's factor only when a code of it confirms
//! it; then ten recovery codes are shown, once, and stored hashed. A code of a time step is
//! accepted once: the last step used is stored and a conditional update spends it. Each check
//! is throttled per person like a password. Replacing or removing a factor asks for the password
//! and a code, is audited, and ends the person's other sessions; administrators cannot remove
//! theirs, only replace it. Pupils are not offered a factor.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use domain::profile::Profile;
use store::second_factor::{Confirmation, Confirmed, SecondFactor, recovery_code_hash};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::AppState;
use crate::accounts::{chrome, verify_password, viewer_chrome};
use crate::error::{AppError, percent_encode};
use crate::form::Fields;
use crate::security::safe_next;
use crate::session::{SignedIn, Viewer, complete_pending_session, find_signed_in};
use crate::templates::{Chrome, render};

/// The pages' title. The soft hyphen lets its long word break on a phone's narrow screen
/// (whole, it is wider than the page there) and is invisible otherwise.
const TITLE: &str = "Double authenti\u{ad}fication";
/// The issuer an authenticator application shows next to the login.
const ISSUER: &str = "Préau";
/// The length of a TOTP time step, in seconds (RFC 6238's default; ASVS 6.5: at most 30 s).
const STEP_SECS: i64 = 30;
/// How many recovery codes an enrolment gives.
const RECOVERY_CODES: usize = 10;
/// The letters of recovery codes: no `0`/`o`, `1`/`l`/`i` to mistake for one another.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// The length of a recovery code (about 50 bits), shown as two groups of five.
const RECOVERY_LEN: usize = 10;
/// Failed codes allowed before the progressive delay starts.
const FREE_FAILURES: i64 = 3;
/// The longest delay between two tries once they fail, in milliseconds: five minutes, so that
/// the million six-digit codes cannot be walked through.
const MAX_DELAY_MS: i64 = 300_000;

/// The one message of every refused code, whatever the cause (wrong, used, expired).
const CODE_REFUSED: &str = "Ce code n'est pas valable. Saisissez le code à six chiffres affiché \
    maintenant par votre application (un code ne sert qu'une fois), ou un code de secours.";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/connexion/second-facteur", get(challenge_form).post(check_code))
        .route("/parametres/second-facteur", get(settings))
        .route("/parametres/second-facteur/activer", post(confirm))
        .route("/parametres/second-facteur/remplacer", post(replace))
        .route("/parametres/second-facteur/supprimer", post(remove))
}

/// Whether a profile (by its French label, as the page header has it) may enrol a factor: every
/// adult, not pupils. The settings page calls it.
pub(crate) fn offered_to(profile_label: &str) -> bool {
    profile_label != Profile::Pupil.label_fr()
}

/// The second-factor step of a login (or a step-up) that then goes on to `next`.
pub(crate) fn challenge_href(next: &str) -> String {
    format!("/connexion/second-facteur?next={}", percent_encode(next))
}

/// The page where a factor is enrolled, then back to `next`.
fn enrol_href(next: &str) -> String {
    format!("/parametres/second-facteur?next={}", percent_encode(next))
}

/// Where a login goes once it is complete. A sign-on request (`/cas/…`, `/oidc/…`) is reached
/// by a small page that moves on by itself (`<meta http-equiv="refresh">`, with a link): the
/// site's `form-action 'self'` would otherwise stop the form's redirect chain at the
/// application's origin. Anything else is a 303.
pub(crate) fn continue_to(next: &str) -> Result<Response, AppError> {
    if next.starts_with("/cas/") || next.starts_with("/oidc/") {
        let html = render(&ContinuePage { css: crate::assets::css_href(), next })?;
        return Ok((StatusCode::OK, Html(html)).into_response());
    }
    Ok(Redirect::to(next).into_response())
}

#[derive(Template)]
#[template(path = "second_factor_continue.html")]
struct ContinuePage<'a> {
    css: &'static str,
    next: &'a str,
}

#[derive(Template)]
#[template(path = "second_factor_challenge.html")]
struct ChallengePage {
    chrome: Chrome,
    csrf: String,
    next: String,
    error: Option<String>,
    /// The session waits for this code (a login), rather than a step-up of a whole session.
    login: bool,
}

#[derive(Template)]
#[template(path = "second_factor_required.html")]
struct RequiredPage {
    chrome: Chrome,
    /// The enrolment that leads back to the application (none for pupils).
    enrol: Option<String>,
}

/// The enrolment under way, as the page shows it.
struct EnrolmentView {
    /// The base32 secret in groups of four, for typing by hand.
    grouped_secret: String,
    /// The QR code of the `otpauth://` URI, as a `data:` SVG image.
    qr_image: String,
    login: String,
}

#[derive(Template)]
#[template(path = "second_factor_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    /// The session may do nothing else before a factor is enrolled.
    awaiting: bool,
    /// The person may not go without a factor (an administrator).
    required: bool,
    /// When the factor was confirmed (`jj/mm/aaaa`) and the recovery codes left, if any.
    factor: Option<(String, i64)>,
    enrolment: Option<EnrolmentView>,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "second_factor_recovery.html")]
struct RecoveryPage {
    chrome: Chrome,
    codes: Vec<String>,
    next: String,
    replaced: bool,
}

// --- Codes -----------------------------------------------------------------------------------

/// A typed code, read without spaces or dashes.
enum TypedCode {
    Totp(String),
    Recovery(String),
    Unreadable,
}

fn read_code(typed: &str) -> TypedCode {
    if typed.len() > 64 {
        return TypedCode::Unreadable;
    }
    let compact: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>();
    if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
        TypedCode::Totp(compact)
    } else if compact.len() == RECOVERY_LEN && compact.bytes().all(|b| b.is_ascii_alphanumeric()) {
        TypedCode::Recovery(compact.to_ascii_lowercase())
    } else {
        TypedCode::Unreadable
    }
}

/// The TOTP of a stored base32 secret, checking one step at a time (the window is walked here,
/// so that the step that matched is known and spent).
fn totp_of(secret: &str, login: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(0)
        .with_step_duration(STEP_SECS.unsigned_abs())
        .with_secret(bytes)
        .with_account_name(login)
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The time step, in the window of one step either side of `now`, whose code `code` is, and
/// that is later than `after` (the last step used): a code is accepted once, and never after a
/// later one was.
fn matching_step(totp: &Totp, code: &str, now: i64, after: i64) -> Option<i64> {
    let current = now.div_euclid(STEP_SECS);
    (current - 1..=current + 1).filter(|step| *step > after).find(|step| {
        u64::try_from(step.saturating_mul(STEP_SECS)).is_ok_and(|at| totp.check(code, at).is_some())
    })
}

/// A new secret: 20 bytes (160 bits) from the thread CSPRNG, as base32.
fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes);
    Secret::from(bytes).to_base32()
}

/// New recovery codes, as the person types them (without the dash).
fn new_recovery_codes() -> Vec<String> {
    let limit = 256 - 256 % RECOVERY_ALPHABET.len();
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let code: String = bytes
            .iter()
            .map(|&b| usize::from(b))
            .filter(|&b| b < limit)
            .take(RECOVERY_LEN)
            .map(|b| char::from(RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.len()]))
            .collect();
        if code.len() == RECOVERY_LEN {
            codes.push(code);
        }
    }
    codes
}

/// How a code was accepted.
#[derive(Debug, Clone, Copy)]
enum Accepted {
    Totp,
    Recovery,
}

/// Spends a typed code of the person's factor: a TOTP code of a step not used yet, or an unused
/// recovery code. `None` when it is refused.
async fn spend_code(
    state: &AppState,
    person_id: &str,
    login: &str,
    factor: &SecondFactor,
    typed: &str,
) -> Result<Option<Accepted>, AppError> {
    let now = store::now_unix();
    match read_code(typed) {
        TypedCode::Totp(code) => {
            let step = totp_of(&factor.secret, login)
                .and_then(|totp| matching_step(&totp, &code, now, factor.last_step));
            match step {
                Some(step) if state.store.claim_totp_step(person_id, step).await? => {
                    Ok(Some(Accepted::Totp))
                }
                _ => Ok(None),
            }
        }
        TypedCode::Recovery(code) => {
            let hash = recovery_code_hash(person_id, &code);
            let used = state.store.use_recovery_code(person_id, &hash, now).await?;
            Ok(used.then_some(Accepted::Recovery))
        }
        TypedCode::Unreadable => Ok(None),
    }
}

/// Reserves a try of the person's codes: `Err` with the seconds to wait when they must.
async fn reserve_try(state: &AppState, person_id: &str) -> Result<Result<(), i64>, AppError> {
    let key = throttle_key(person_id);
    let now_ms = jiff::Timestamp::now().as_millisecond();
    match state.store.throttle_reserve(&key, now_ms, FREE_FAILURES, MAX_DELAY_MS).await? {
        None => Ok(Ok(())),
        Some(remaining_ms) => Ok(Err((remaining_ms + 999) / 1000)),
    }
}

fn throttle_key(person_id: &str) -> String {
    format!("second-factor:{person_id}")
}

fn wait_message(seconds: i64) -> String {
    format!("Trop de tentatives : réessayez dans {seconds} secondes.")
}

fn with_retry_after(mut response: Response, seconds: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

// --- The step of a login --------------------------------------------------------------------

/// The chrome of a second-factor page: the header's menu only for a whole session.
fn page_chrome(title: &str, signed_in: &SignedIn) -> Chrome {
    if signed_in.awaiting_second_factor {
        chrome(title)
    } else {
        viewer_chrome(title, &signed_in.viewer)
    }
}

fn challenge_page(
    signed_in: &SignedIn,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> Result<Response, AppError> {
    let html = render(&ChallengePage {
        chrome: page_chrome(TITLE, signed_in),
        csrf: signed_in.viewer.csrf_token.clone(),
        next: next.to_owned(),
        error,
        login: signed_in.awaiting_second_factor,
    })?;
    Ok((status, Html(html)).into_response())
}

/// `GET /connexion/second-facteur?next=…`: the code form of a login waiting for it, or of a
/// whole session an application asks a second factor of (step-up); the enrolment when the
/// person must have a factor and has none; a page that explains when an application asks for
/// one and the person has none.
async fn challenge_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let next = safe_next(Some(Fields::query(&uri).get("next")));
    let Some(signed_in) = find_signed_in(&state, &headers).await? else {
        return Err(AppError::LoginRequired(next));
    };

    if signed_in.viewer.second_factor && !signed_in.awaiting_second_factor {
        return Ok(Redirect::to(&next).into_response());
    }
    if signed_in.has_second_factor {
        return challenge_page(&signed_in, StatusCode::OK, &next, None);
    }
    if signed_in.awaiting_second_factor {
        return Ok(Redirect::to(&enrol_href(&next)).into_response());
    }
    let pupil = signed_in.viewer.facts.person.profile == Profile::Pupil;
    let html = render(&RequiredPage {
        chrome: viewer_chrome(&format!("{TITLE} demandée"), &signed_in.viewer),
        enrol: (!pupil).then(|| enrol_href(&next)),
    })?;
    Ok((StatusCode::FORBIDDEN, Html(html)).into_response())
}

/// `POST /connexion/second-facteur`: checks a code; a login's waiting session then becomes a
/// whole one under a new id, a step-up marks the session; both go on to `next`.
async fn check_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    let next = safe_next(Some(fields.get("next")));
    let Some(signed_in) = find_signed_in(&state, &headers).await? else {
        return Err(AppError::LoginRequired(challenge_href(&next)));
    };
    signed_in.viewer.check_csrf(fields.get("csrf_token"))?;
    let person_id = signed_in.viewer.id().to_owned();
    let Some(factor) = state.store.second_factor(&person_id).await? else {
        return Ok(Redirect::to(&challenge_href(&next)).into_response());
    };
    let typed = fields.get("code");
    if typed.trim().is_empty() {
        let error = Some("Saisissez le code affiché par votre application.".to_owned());
        return challenge_page(&signed_in, StatusCode::UNPROCESSABLE_ENTITY, &next, error);
    }

    if let Err(seconds) = reserve_try(&state, &person_id).await? {
        let page = challenge_page(
            &signed_in,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            Some(wait_message(seconds)),
        )?;
        return Ok(with_retry_after(page, seconds));
    }
    let login = signed_in.viewer.facts.login.clone();
    let Some(accepted) = spend_code(&state, &person_id, &login, &factor, typed).await? else {
        tracing::info!(person.id = %person_id, "second factor refused");
        let error = Some(CODE_REFUSED.to_owned());
        return challenge_page(&signed_in, StatusCode::UNAUTHORIZED, &next, error);
    };
    state.store.throttle_reset(&throttle_key(&person_id)).await?;
    tracing::info!(person.id = %person_id, method = ?accepted, "second factor accepted");

    if signed_in.pending {
        let Some((cookie, _csrf)) =
            complete_pending_session(&state, &signed_in.viewer.session_hash).await?
        else {
            return Err(AppError::LoginRequired(next));
        };
        return Ok(with_cookie(continue_to(&next)?, &cookie));
    }
    let now = store::now_unix();
    if !state.store.mark_second_factor(&signed_in.viewer.session_hash, now).await? {
        return Err(AppError::LoginRequired(next));
    }
    continue_to(&next)
}

// --- The person's factor ---------------------------------------------------------------------

/// `next` when the form or query names one, else the factor's own page.
fn next_or_settings(typed: &str) -> String {
    if typed.is_empty() { "/parametres/second-facteur".to_owned() } else { safe_next(Some(typed)) }
}

/// A `jj/mm/aaaa` date in Paris.
fn french_date(unix: i64) -> String {
    let iso = store::accounts::paris_date(unix).unwrap_or_default();
    match (iso.get(..4), iso.get(5..7), iso.get(8..10)) {
        (Some(year), Some(month), Some(day)) => format!("{day}/{month}/{year}"),
        _ => iso,
    }
}

/// The enrolment's secret as the page shows it: grouped text and a QR code.
fn enrolment_view(secret: &str, login: &str) -> Result<EnrolmentView, AppError> {
    let totp = totp_of(secret, login)
        .ok_or_else(|| AppError::Internal("enrolment secret unusable".to_owned()))?;
    let uri = totp.to_url().map_err(|error| AppError::Internal(format!("otpauth: {error}")))?;
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|error| AppError::Internal(format!("qr code: {error}")))?;
    let svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(232, 232).build();
    let encoded = base64::engine::general_purpose::STANDARD.encode(svg);
    let grouped = secret
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(EnrolmentView {
        grouped_secret: grouped,
        qr_image: format!("data:image/svg+xml;base64,{encoded}"),
        login: login.to_owned(),
    })
}

/// What the factor page says, besides the person's state.
struct Said {
    status: StatusCode,
    error: Option<String>,
    notice: Option<&'static str>,
}

impl Said {
    fn nothing() -> Said {
        Said { status: StatusCode::OK, error: None, notice: None }
    }

    fn error(status: StatusCode, error: String) -> Said {
        Said { status, error: Some(error), notice: None }
    }
}

/// The factor page: the factor and its forms, or the enrolment under way (a new one is drawn
/// for a person who has no factor and no fresh enrolment).
async fn settings_page(
    state: &AppState,
    signed_in: &SignedIn,
    next: &str,
    said: Said,
) -> Result<Response, AppError> {
    let person_id = signed_in.viewer.id();
    let now = store::now_unix();
    let factor = state.store.second_factor(person_id).await?;
    let mut enrolment = state.store.enrolment(person_id, now).await?.map(|e| e.secret);
    if factor.is_none() && enrolment.is_none() {
        let secret = new_secret();
        state.store.start_enrolment(person_id, &secret, now).await?;
        enrolment = Some(secret);
    }
    let login = &signed_in.viewer.facts.login;
    let enrolment = enrolment.map(|secret| enrolment_view(&secret, login)).transpose()?;

    let html = render(&SettingsPage {
        chrome: page_chrome(TITLE, signed_in),
        csrf: signed_in.viewer.csrf_token.clone(),
        next: next.to_owned(),
        awaiting: signed_in.awaiting_second_factor,
        required: required_of_admin(state, &signed_in.viewer),
        factor: factor.map(|f| (french_date(f.confirmed_at), f.recovery_codes_left)),
        enrolment,
        error: said.error,
        notice: said.notice,
    })?;
    let mut response = (said.status, Html(html)).into_response();
    if said.status == StatusCode::TOO_MANY_REQUESTS {
        response = with_retry_after(response, 60);
    }
    Ok(response)
}

/// Whether the person may not go without a factor: an administrator, when the deployment
/// requires it.
fn required_of_admin(state: &AppState, viewer: &Viewer) -> bool {
    state.config.second_factor_for_admins && viewer.is_admin()
}

/// The signed-in person, when they may manage a factor (any adult), else why not.
async fn adult_signed_in(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
) -> Result<SignedIn, AppError> {
    let Some(signed_in) = find_signed_in(state, headers).await? else {
        return Err(AppError::LoginRequired(here.to_owned()));
    };
    if signed_in.viewer.facts.person.profile == Profile::Pupil {
        return Err(AppError::NotFound);
    }
    Ok(signed_in)
}

/// `GET /parametres/second-facteur?next=…`.
async fn settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let here = uri.path_and_query().map_or("/parametres/second-facteur", |pq| pq.as_str());
    let signed_in = adult_signed_in(&state, &headers, here).await?;
    let next = next_or_settings(query.get("next"));
    if signed_in.awaiting_second_factor && signed_in.has_second_factor {
        // The person has a factor: nothing here before they pass it.
        return Ok(Redirect::to(&challenge_href(here)).into_response());
    }

    let notice = match query.get("fait") {
        "supprime" => {
            Some("La double authentification est supprimée. Vos autres sessions ont été fermées.")
        }
        "remplacement" => {
            Some("Scannez le nouveau code, puis confirmez-le : l'ancien reste valable jusque-là.")
        }
        _ => None,
    };
    settings_page(&state, &signed_in, &next, Said { notice, ..Said::nothing() }).await
}

/// `POST /parametres/second-facteur/activer`: a code of the enrolment's secret confirms it; the
/// recovery codes are shown once.
async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    let signed_in = adult_signed_in(&state, &headers, "/parametres/second-facteur").await?;
    signed_in.viewer.check_csrf(fields.get("csrf_token"))?;
    let next = next_or_settings(fields.get("next"));
    if signed_in.awaiting_second_factor && signed_in.has_second_factor {
        return Ok(Redirect::to(&challenge_href("/parametres/second-facteur")).into_response());
    }
    let person_id = signed_in.viewer.id().to_owned();

    if let Err(seconds) = reserve_try(&state, &person_id).await? {
        let said = Said::error(StatusCode::TOO_MANY_REQUESTS, wait_message(seconds));
        return settings_page(&state, &signed_in, &next, said).await;
    }
    let now = store::now_unix();
    let Some(enrolment) = state.store.enrolment(&person_id, now).await? else {
        let error = "Le code à scanner a expiré : en voici un nouveau.".to_owned();
        let said = Said::error(StatusCode::UNPROCESSABLE_ENTITY, error);
        return settings_page(&state, &signed_in, &next, said).await;
    };
    // A first factor enrolled from a session that did not just present the password asks for
    // it (ASVS 7.5.1): whoever holds a forgotten open session must not lock its owner out.
    if !signed_in.awaiting_second_factor && !signed_in.has_second_factor {
        let stored = state
            .store
            .login_account(&signed_in.viewer.facts.login)
            .await?
            .and_then(|account| account.password_hash)
            .unwrap_or_else(|| state.dummy_hash.to_string());
        let password = fields.get("current_password");
        let right =
            password.len() <= 1024 && verify_password(&state, password.to_owned(), stored).await?;
        if !right {
            tracing::info!(person.id = %person_id, "second factor enrolment: wrong password");
            let error = "Le mot de passe est incorrect.".to_owned();
            let said = Said::error(StatusCode::UNPROCESSABLE_ENTITY, error);
            return settings_page(&state, &signed_in, &next, said).await;
        }
    }
    let login = signed_in.viewer.facts.login.clone();
    let step = match read_code(fields.get("code")) {
        TypedCode::Totp(code) => totp_of(&enrolment.secret, &login)
            .and_then(|totp| matching_step(&totp, &code, now, i64::MIN)),
        _ => None,
    };
    let Some(step) = step else {
        let error = "Ce code ne correspond pas. Saisissez le code à six chiffres affiché \
                     maintenant par votre application."
            .to_owned();
        let said = Said::error(StatusCode::UNPROCESSABLE_ENTITY, error);
        return settings_page(&state, &signed_in, &next, said).await;
    };

    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_code_hash(&person_id, c)).collect();
    let confirmation = Confirmation {
        person_id: &person_id,
        secret: &enrolment.secret,
        step,
        recovery_hashes: &hashes,
        keep_session: &signed_in.viewer.session_hash,
        now,
    };
    let Some(confirmed) = state.store.confirm_enrolment(&confirmation).await? else {
        let error =
            "Le code à scanner a changé entre-temps : recommencez avec celui-ci.".to_owned();
        let said = Said::error(StatusCode::CONFLICT, error);
        return settings_page(&state, &signed_in, &next, said).await;
    };
    state.store.throttle_reset(&throttle_key(&person_id)).await?;
    tracing::info!(person.id = %person_id, ?confirmed, "second factor confirmed");

    // The session passed a factor just now; a login's waiting session goes on under a new id.
    let mut viewer = signed_in.viewer.clone();
    let mut cookie = None;
    if signed_in.pending {
        let Some((set_cookie, csrf)) =
            complete_pending_session(&state, &viewer.session_hash).await?
        else {
            return Err(AppError::LoginRequired(next));
        };
        viewer.csrf_token = csrf;
        cookie = Some(set_cookie);
    } else {
        state.store.mark_second_factor(&viewer.session_hash, now).await?;
    }
    let html = render(&RecoveryPage {
        chrome: viewer_chrome("Codes de secours", &viewer),
        codes: codes.iter().map(|c| format!("{}-{}", &c[..5], &c[5..])).collect(),
        next,
        replaced: confirmed == Confirmed::Replaced,
    })?;
    let response = Html(html).into_response();
    Ok(match cookie {
        Some(cookie) => with_cookie(response, &cookie),
        None => response,
    })
}

/// Checks the password and a code of the person's factor (re-authentication before a change),
/// under the code's throttle. `Err` holds the page to answer.
async fn reauthenticate(
    state: &AppState,
    signed_in: &SignedIn,
    factor: &SecondFactor,
    fields: &Fields,
) -> Result<Result<(), Said>, AppError> {
    let viewer = &signed_in.viewer;
    if let Err(seconds) = reserve_try(state, viewer.id()).await? {
        return Ok(Err(Said::error(StatusCode::TOO_MANY_REQUESTS, wait_message(seconds))));
    }
    let password = fields.get("current_password");
    let stored =
        state.store.login_account(&viewer.facts.login).await?.and_then(|a| a.password_hash);
    let stored = stored.unwrap_or_else(|| state.dummy_hash.to_string());
    let password_right =
        password.len() <= 1024 && verify_password(state, password.to_owned(), stored).await?;
    let code_right = password_right
        && spend_code(state, viewer.id(), &viewer.facts.login, factor, fields.get("code"))
            .await?
            .is_some();
    if !code_right {
        tracing::info!(person.id = %viewer.id(), "second factor change refused");
        let error = "Le mot de passe ou le code est incorrect.".to_owned();
        return Ok(Err(Said::error(StatusCode::UNPROCESSABLE_ENTITY, error)));
    }
    state.store.throttle_reset(&throttle_key(viewer.id())).await?;
    Ok(Ok(()))
}

/// `POST /parametres/second-facteur/remplacer`: after the password and a code, a new secret is
/// drawn; the factor changes when a code of it confirms it.
async fn replace(
    State(state): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    let signed_in = adult_signed_in(&state, &headers, "/parametres/second-facteur").await?;
    if signed_in.awaiting_second_factor {
        return Ok(Redirect::to(&challenge_href("/parametres/second-facteur")).into_response());
    }
    signed_in.viewer.check_csrf(fields.get("csrf_token"))?;
    let next = next_or_settings(fields.get("next"));
    let Some(factor) = state.store.second_factor(signed_in.viewer.id()).await? else {
        return Ok(Redirect::to("/parametres/second-facteur").into_response());
    };

    if let Err(said) = reauthenticate(&state, &signed_in, &factor, &fields).await? {
        return settings_page(&state, &signed_in, &next, said).await;
    }
    let secret = new_secret();
    state.store.start_enrolment(signed_in.viewer.id(), &secret, store::now_unix()).await?;
    Ok(Redirect::to("/parametres/second-facteur?fait=remplacement").into_response())
}

/// `POST /parametres/second-facteur/supprimer`: after the password and a code, the factor goes
/// (not an administrator's) and the person's other sessions end.
async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    let signed_in = adult_signed_in(&state, &headers, "/parametres/second-facteur").await?;
    if signed_in.awaiting_second_factor {
        return Ok(Redirect::to(&challenge_href("/parametres/second-facteur")).into_response());
    }
    signed_in.viewer.check_csrf(fields.get("csrf_token"))?;
    let next = next_or_settings(fields.get("next"));
    if required_of_admin(&state, &signed_in.viewer) {
        let error = "La double authentification est obligatoire pour les administrateurs : vous \
                     pouvez la remplacer, pas la supprimer."
            .to_owned();
        let said = Said::error(StatusCode::FORBIDDEN, error);
        return settings_page(&state, &signed_in, &next, said).await;
    }
    let Some(factor) = state.store.second_factor(signed_in.viewer.id()).await? else {
        return Ok(Redirect::to("/parametres/second-facteur").into_response());
    };

    if let Err(said) = reauthenticate(&state, &signed_in, &factor, &fields).await? {
        return settings_page(&state, &signed_in, &next, said).await;
    }
    let person_id = signed_in.viewer.id();
    state.store.remove_second_factor(person_id, person_id, &signed_in.viewer.session_hash).await?;
    tracing::info!(person.id = %person_id, "second factor removed");
    Ok(Redirect::to("/parametres/second-facteur?fait=supprime").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret `12345678901234567890`, 8-digit codes cut to the
    /// 6 digits this server uses.
    #[test]
    fn codes_follow_rfc_6238() {
        let secret = Secret::from(*b"12345678901234567890").to_base32();
        let totp = totp_of(&secret, "x").unwrap();
        for (time, code) in [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924")] {
            assert_eq!(totp.generate(time).to_string(), code, "{time}");
        }
    }

    #[test]
    fn a_code_matches_one_step_either_way_and_only_after_the_last_used() {
        let totp = totp_of(&new_secret(), "x").unwrap();
        let now = 1_700_000_015;
        let step = now / STEP_SECS;
        let code_of = |s: i64| totp.generate((s * STEP_SECS) as u64).to_string();
        assert_eq!(matching_step(&totp, &code_of(step), now, 0), Some(step));
        assert_eq!(matching_step(&totp, &code_of(step - 1), now, 0), Some(step - 1));
        assert_eq!(matching_step(&totp, &code_of(step + 1), now, 0), Some(step + 1));
        assert_eq!(matching_step(&totp, &code_of(step - 2), now, 0), None);
        assert_eq!(matching_step(&totp, &code_of(step), now, step), None);
        assert_eq!(matching_step(&totp, &code_of(step - 1), now, step), None);
    }

    #[test]
    fn typed_codes_are_read_without_spaces_or_dashes() {
        assert!(matches!(read_code(" 123 456 "), TypedCode::Totp(c) if c == "123456"));
        assert!(matches!(read_code("ABCDE-fghjk"), TypedCode::Recovery(c) if c == "abcdefghjk"));
        assert!(matches!(read_code("12345"), TypedCode::Unreadable));
        assert!(matches!(read_code(&"1".repeat(100)), TypedCode::Unreadable));
    }

    #[test]
    fn secrets_are_160_bits_and_recovery_codes_differ() {
        assert_eq!(Secret::try_from_base32(new_secret()).unwrap().as_bytes().len(), 20);
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == RECOVERY_LEN));
    }
}

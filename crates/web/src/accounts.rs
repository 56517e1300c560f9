//! Accounts over HTTP: login (with the per-login progressive delay and the per-address
//! slow-down), activation with the school's code, logout, the "password forgotten" guidance,
//! a person changing their own password, a parent choosing a new password for their child, and
//! school staff issuing a new activation code. Passwords are hashed with Argon2id (m=19456 KiB,
//! t=2, p=1) on the blocking pool, at most `max_concurrent_hashes` at once. A person who must
//! pass a second factor (administrators, and whoever enrolled one) gets a session that waits
//! for it and goes on to the second-factor step (`second_factor.rs`).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::password::check_new_password;
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::security::{client_ip, peer_of, safe_next};
use crate::session::{
    SESSION_COOKIE, Viewer, check_prelogin_csrf, find_signed_in, open_pending_session,
    open_session, prelogin_token, second_factor_required, session_hash_of,
};
use crate::templates::{
    ActivationPage, ChildPasswordPage, Chrome, ForgottenPage, LoginPage, NavLink, NewCodePage,
    SettingsPage, UserBar, render,
};

/// The one message of every failed login, whatever the cause.
const LOGIN_FAILED: &str = "Identifiant ou mot de passe incorrect.";
/// The one message of every refused activation, whatever the cause.
const ACTIVATION_FAILED: &str = "Ces informations ne permettent pas d'activer un compte. Vérifiez \
    l'identifiant, le code et la date de naissance, ou demandez un nouveau code à l'établissement.";
/// Failures allowed before the progressive delay starts.
const FREE_FAILURES: i64 = 3;
/// The longest progressive delay, in milliseconds.
const MAX_DELAY_MS: i64 = 60_000;

/// The Argon2id parameters every new hash uses (OWASP: m=19 MiB, t=2, p=1).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// Whether a stored hash was made with other parameters than today's and must be redone.
fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return true };
    let Ok(params) = argon2::Params::try_from(&parsed) else { return true };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() != argon2::Params::DEFAULT_M_COST
        || params.t_cost() != argon2::Params::DEFAULT_T_COST
        || params.p_cost() != argon2::Params::DEFAULT_P_COST
}

/// A hash of a random password, verified against for unknown logins so that they take as long
/// as known ones.
pub(crate) fn dummy_hash() -> String {
    let password = crate::session::random_token(24);
    argon2().hash_password(password.as_bytes()).map(|hash| hash.to_string()).unwrap_or_default()
}

/// Hashes a new password on the blocking pool, under the semaphore.
pub(crate) async fn hash_password(state: &AppState, password: String) -> Result<String, AppError> {
    let _permit = state
        .hashes
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AppError::Internal("hash semaphore closed".to_owned()))?;
    tokio::task::spawn_blocking(move || {
        argon2().hash_password(password.as_bytes()).map(|hash| hash.to_string())
    })
    .await
    .map_err(|error| AppError::Internal(format!("hash task: {error}")))?
    .map_err(|error| AppError::Internal(format!("hash: {error}")))
}

/// Verifies a password on the blocking pool, under the semaphore.
pub(crate) async fn verify_password(
    state: &AppState,
    password: String,
    hash: String,
) -> Result<bool, AppError> {
    let _permit = state
        .hashes
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AppError::Internal("hash semaphore closed".to_owned()))?;
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|error| AppError::Internal(format!("verify task: {error}")))
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The page chrome of someone not logged in (or whose session waits for its second factor).
pub(crate) fn chrome(title: &str) -> Chrome {
    Chrome {
        title: title.to_owned(),
        css: crate::assets::css_href(),
        reading_mode: false,
        user: None,
    }
}

/// The page chrome of a logged-in viewer.
pub(crate) fn viewer_chrome(title: &str, viewer: &Viewer) -> Chrome {
    Chrome {
        title: title.to_owned(),
        css: crate::assets::css_href(),
        reading_mode: viewer.facts.reading_mode,
        user: Some(UserBar {
            first_name: viewer.facts.person.first_name.clone(),
            last_name: viewer.facts.person.last_name.clone(),
            profile: viewer.facts.person.profile.label_fr(),
            csrf: viewer.csrf_token.clone(),
            consoles: console_links(viewer),
            host: viewer.facts.person.profile == domain::profile::Profile::Host,
            internships: viewer.facts.person.profile != domain::profile::Profile::Host,
        }),
    }
}

/// The consoles a viewer may open, for the header.
fn console_links(viewer: &Viewer) -> Vec<NavLink> {
    let mut links = Vec::new();
    if viewer.facts.departement_admin {
        links.push(NavLink { href: "/departement".to_owned(), label: "Département".to_owned() });
    }
    let single = viewer.facts.administered.len() == 1;
    for school in &viewer.facts.administered {
        links.push(NavLink {
            href: format!("/etablissement/{}", crate::error::percent_encode(&school.uai)),
            label: if single {
                "Mon établissement".to_owned()
            } else {
                format!("Établissement {}", school.name)
            },
        });
    }
    links
}

/// A rendered page with a status and an optional cookie to set.
fn page(status: StatusCode, html: String, set_cookie: Option<String>) -> Response {
    let mut response = (status, Html(html)).into_response();
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn login_page(
    headers: &HeaderMap,
    state: &AppState,
    status: StatusCode,
    next: &str,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let (csrf, set_cookie) = prelogin_token(headers, &state.site);
    let html = render(&LoginPage {
        chrome: chrome("Connexion"),
        csrf,
        next: next.to_owned(),
        error,
        notice,
    })?;
    Ok(page(status, html, set_cookie))
}

pub(crate) async fn login_form(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let next = safe_next(Some(query.get("next")));
    let signed_in = find_signed_in(&state, &headers).await?;
    if signed_in.is_some_and(|s| s.awaiting_second_factor) {
        // The password was given already: the login goes on at its second factor.
        return Ok(Redirect::to(&crate::second_factor::challenge_href(&next)).into_response());
    }
    let notice = (query.get("active") == "1")
        .then_some("Votre compte est activé. Connectez-vous avec votre nouveau mot de passe.");
    login_page(&headers, &state, StatusCode::OK, &next, None, notice)
}

/// Reserves an attempt for the typed login key: `None` when it may go on (it is counted as a
/// failure until a success resets it), else how long it must still wait, in milliseconds.
async fn reserve_attempt(state: &AppState, key: &str) -> Result<Option<i64>, AppError> {
    Ok(state.store.throttle_reserve(key, now_ms(), FREE_FAILURES, MAX_DELAY_MS).await?)
}

fn too_many_attempts(
    headers: &HeaderMap,
    state: &AppState,
    next: &str,
    remaining_ms: i64,
) -> Result<Response, AppError> {
    let seconds = (remaining_ms + 999) / 1000;
    let message = format!("Trop de tentatives : réessayez dans {seconds} secondes.");
    let mut response =
        login_page(headers, state, StatusCode::TOO_MANY_REQUESTS, next, Some(message), None)?;
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(response)
}

pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    fields: Fields,
) -> Result<Response, AppError> {
    let headers = &headers;
    check_prelogin_csrf(headers, &state.site, fields.get("csrf_token"))?;
    let next = safe_next(Some(fields.get("next")));
    let typed = fields.get("login");
    let password = fields.get("password");
    if typed.chars().count() > 200 || password.len() > 1024 {
        return Err(AppError::BadRequest("L'identifiant ou le mot de passe est trop long."));
    }
    let key = domain::login::normalize_typed_login(typed);
    if key.is_empty() || password.is_empty() {
        let error = Some("Saisissez votre identifiant et votre mot de passe.".to_owned());
        return login_page(headers, &state, StatusCode::BAD_REQUEST, &next, error, None);
    }

    if let Some(remaining) = reserve_attempt(&state, &key).await? {
        return too_many_attempts(headers, &state, &next, remaining);
    }
    let ip = client_ip(headers, peer_of(&extensions), &state.config.trusted_proxies);
    if state.ip_failures.is_noisy(ip, now_ms()) {
        tokio::time::sleep(crate::ip_throttle::SLOWDOWN).await;
    }

    let account = state.store.login_account(&key).await?;
    let hash = account
        .as_ref()
        .and_then(|a| a.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let verified = verify_password(&state, password.to_owned(), hash.clone()).await?;
    let account = match account {
        Some(account) if verified && account.usable => account,
        _ => {
            state.ip_failures.record(ip, now_ms());
            // The typed login is not logged (it may be a pupil's name, or a password typed in
            // the wrong field); the account, when there is one, is.
            let person = account.as_ref().map(|a| a.person_id.as_str()).unwrap_or("");
            tracing::info!(person.id = person, "login failed");
            let error = Some(LOGIN_FAILED.to_owned());
            return login_page(headers, &state, StatusCode::UNAUTHORIZED, &next, error, None);
        }
    };

    state.store.throttle_reset(&key).await?;
    if let Some(previous) = session_hash_of(headers, &state.site) {
        // Whatever session cookie came with the form is never adopted; if it was a live
        // session, it ends here.
        state.store.delete_session(&previous).await?;
    }
    if needs_rehash(&hash) {
        let rehashed = hash_password(&state, password.to_owned()).await?;
        state.store.set_password_hash(&account.person_id, &rehashed).await?;
    }
    let facts = state.store.viewer_facts(&account.person_id).await?;
    let has_second_factor = state.store.second_factor(&account.person_id).await?.is_some();
    let required = has_second_factor
        || facts.as_ref().is_some_and(|f| second_factor_required(&state, f, has_second_factor));
    let (cookie, mut response) = if required {
        // The password alone opens nothing: the session waits for the second factor.
        let cookie = open_pending_session(&state, &account.person_id).await?;
        tracing::info!(person.id = %account.person_id, "password accepted, second factor due");
        let target = crate::second_factor::challenge_href(&next);
        (cookie, Redirect::to(&target).into_response())
    } else {
        let cookie = open_session(&state, &account.person_id).await?;
        tracing::info!(person.id = %account.person_id, "login");
        (cookie, crate::second_factor::continue_to(&next)?)
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn activation_page(
    headers: &HeaderMap,
    state: &AppState,
    status: StatusCode,
    login: &str,
    error: Option<String>,
    password_error: Option<String>,
) -> Result<Response, AppError> {
    let (csrf, set_cookie) = prelogin_token(headers, &state.site);
    let html = render(&ActivationPage {
        chrome: chrome("Activer mon compte"),
        csrf,
        login: login.to_owned(),
        error,
        password_error,
    })?;
    Ok(page(status, html, set_cookie))
}

pub(crate) async fn activation_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    activation_page(&headers, &state, StatusCode::OK, "", None, None)
}

/// A typed `jj/mm/aaaa` (or `aaaa-mm-jj`) date in the stored `YYYY-MM-DD` form.
fn typed_birth_date(typed: &str) -> Option<String> {
    let typed = typed.trim();
    let parts: Vec<&str> = typed.split(['/', '.', '-']).collect();
    let (year, month, day) = match parts.as_slice() {
        [d, m, y] if y.len() == 4 => (*y, *m, *d),
        [y, m, d] if y.len() == 4 => (*y, *m, *d),
        _ => return None,
    };
    let date =
        jiff::civil::Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?).ok()?;
    Some(date.to_string())
}

/// The words a person's password must not contain: names, login, birth year.
/// The words a person's new password must not be built on: their names, login and birth year,
/// and the names and towns of their schools (`school_words`), each whole and word by word.
fn personal_words(
    last_name: &str,
    first_name: &str,
    login: &str,
    birth: Option<&str>,
    school_words: &[String],
) -> Vec<String> {
    let texts =
        [last_name, first_name, login].into_iter().chain(school_words.iter().map(|w| w.as_str()));
    let mut words: Vec<String> = Vec::new();
    for text in texts {
        words.push(text.to_owned());
        words.extend(
            text.split([' ', '-', '\'', '.', '’'])
                .filter(|word| !word.is_empty() && !word.eq_ignore_ascii_case("collège"))
                .map(str::to_owned),
        );
        if let Some(rest) = text.strip_prefix("Collège ") {
            words.push(rest.to_owned());
        }
    }
    if let Some(year) = birth.and_then(|b| b.get(..4)) {
        words.push(year.to_owned());
    }
    words
}

pub(crate) async fn activate(
    State(state): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    check_prelogin_csrf(&headers, &state.site, fields.get("csrf_token"))?;
    let typed_login = fields.get("login");
    if typed_login.chars().count() > 200 {
        return Err(AppError::BadRequest("L'identifiant est trop long."));
    }
    let key = domain::login::normalize_typed_login(typed_login);
    let throttle_key = format!("activation:{key}");
    if let Some(remaining) = reserve_attempt(&state, &throttle_key).await? {
        let seconds = (remaining + 999) / 1000;
        let error = format!("Trop de tentatives : réessayez dans {seconds} secondes.");
        let status = StatusCode::TOO_MANY_REQUESTS;
        return activation_page(&headers, &state, status, typed_login, Some(error), None);
    }

    let code = domain::activation::normalize_typed_code(fields.get("code"));
    let target = state.store.activation_target(&key).await?;
    let accepted = target.as_ref().is_some_and(|target| {
        let code_matches = target
            .code
            .as_deref()
            .is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(code.as_bytes())));
        // A pupil whose birth date the school did not export cannot activate: the school
        // corrects the export, or a parent sets the password from their own account.
        let birth_matches = target.profile != domain::profile::Profile::Pupil
            || (target.birth_date.is_some()
                && typed_birth_date(fields.get("birth_date")) == target.birth_date);
        target.code_alive && code_matches && birth_matches
    });
    let Some(target) = target.filter(|_| accepted) else {
        let error = Some(ACTIVATION_FAILED.to_owned());
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return activation_page(&headers, &state, status, typed_login, error, None);
    };
    // The code and birth date were right: a refused new password must not throttle the person.
    state.store.throttle_reset(&throttle_key).await?;

    let password = fields.get("password");
    let schools = state.store.school_words(&target.person_id).await?;
    let words = personal_words(
        &target.last_name,
        &target.first_name,
        &target.login,
        target.birth_date.as_deref(),
        &schools,
    );
    if let Err(message) = new_password_problem(password, fields.get("password_confirm"), &words) {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return activation_page(&headers, &state, status, typed_login, None, Some(message));
    }

    let hash = hash_password(&state, password.to_owned()).await?;
    if !state.store.activate_account(&target.person_id, &code, &hash).await? {
        let error = Some(ACTIVATION_FAILED.to_owned());
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return activation_page(&headers, &state, status, typed_login, error, None);
    }
    state
        .store
        .audit(Some(&target.person_id), "account_activated", Some(&target.person_id), "")
        .await?;
    tracing::info!(person.id = %target.person_id, "account activated");
    Ok(Redirect::to("/connexion?active=1").into_response())
}

/// The French reason a new password is refused, if it is.
fn new_password_problem(password: &str, confirm: &str, words: &[String]) -> Result<(), String> {
    if password != confirm {
        return Err("Les deux mots de passe saisis sont différents.".to_owned());
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    check_new_password(password, &words).map_err(|error| {
        let text = error.to_string();
        let mut chars = text.chars();
        chars.next().map_or(text.clone(), |first| first.to_uppercase().chain(chars).collect()) + "."
    })
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    if let Some(viewer) = crate::session::find_viewer(&state, &headers).await? {
        viewer.check_csrf(fields.get("csrf_token"))?;
    }
    if let Some(hash) = session_hash_of(&headers, &state.site) {
        // What applications obtained through this session ends with it.
        state.store.oidc_end_session(&hash).await?;
        state.store.delete_session(&hash).await?;
    }
    let mut response = Redirect::to("/connexion").into_response();
    if let Ok(value) = HeaderValue::from_str(&state.site.set_cookie(SESSION_COOKIE, "", Some(0))) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub(crate) async fn forgotten() -> Result<Response, AppError> {
    let html = render(&ForgottenPage { chrome: chrome("Mot de passe oublié") })?;
    Ok(Html(html).into_response())
}

/// The settings page with a message about the password form.
pub(crate) async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    saved: bool,
    password_error: Option<String>,
    password_done: bool,
) -> Result<Response, AppError> {
    let notify_email = state.store.notify_email(viewer.id()).await?.unwrap_or_default();
    let html = render(&SettingsPage {
        chrome: viewer_chrome("Paramètres", viewer),
        csrf: viewer.csrf_token.clone(),
        reading_mode: viewer.facts.reading_mode,
        saved,
        password_error,
        password_done,
        notify_email,
        email_error: None,
    })?;
    Ok((status, Html(html)).into_response())
}

pub(crate) async fn change_own_password(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    // Checking the current password is a login attempt too: the same throttle, under its own
    // key, so that an open session cannot be used to guess it.
    let throttle_key = format!("password-change:{}", viewer.id());
    if let Some(remaining) = reserve_attempt(&state, &throttle_key).await? {
        let seconds = (remaining + 999) / 1000;
        let error = Some(format!("Trop de tentatives : réessayez dans {seconds} secondes."));
        return settings_page(&state, &viewer, StatusCode::TOO_MANY_REQUESTS, false, error, false)
            .await;
    }
    let current = fields.get("current_password");
    let stored =
        state.store.login_account(&viewer.facts.login).await?.and_then(|a| a.password_hash);
    let stored = stored.unwrap_or_else(|| state.dummy_hash.to_string());
    if current.len() > 1024 || !verify_password(&state, current.to_owned(), stored).await? {
        let error = Some("Le mot de passe actuel est incorrect.".to_owned());
        return settings_page(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
            error,
            false,
        )
        .await;
    }
    state.store.throttle_reset(&throttle_key).await?;

    let person = &viewer.facts.person;
    let schools = state.store.school_words(viewer.id()).await?;
    let login = &viewer.facts.login;
    let words = personal_words(&person.last_name, &person.first_name, login, None, &schools);
    let password = fields.get("password");
    if let Err(message) = new_password_problem(password, fields.get("password_confirm"), &words) {
        return settings_page(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
            Some(message),
            false,
        )
        .await;
    }

    let hash = hash_password(&state, password.to_owned()).await?;
    state.store.change_password(viewer.id(), &hash, Some(&viewer.session_hash)).await?;
    state.store.audit(Some(viewer.id()), "password_changed", Some(viewer.id()), "").await?;
    Ok(Redirect::to("/parametres?mot-de-passe=1").into_response())
}

fn child_password_page(
    viewer: &Viewer,
    child: store::directory::PersonRef,
    status: StatusCode,
    error: Option<String>,
    done: bool,
) -> Result<Response, AppError> {
    let html = render(&ChildPasswordPage {
        chrome: viewer_chrome("Mot de passe de mon enfant", viewer),
        csrf: viewer.csrf_token.clone(),
        child,
        error,
        done,
    })?;
    Ok((status, Html(html)).into_response())
}

pub(crate) async fn child_password_form(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(child_id): PathId,
    uri: axum::http::Uri,
) -> Result<Response, AppError> {
    let child = state.store.child_of(viewer.id(), &child_id).await?.ok_or(AppError::NotFound)?;
    let done = Fields::query(&uri).get("fait") == "1";
    child_password_page(&viewer, child, StatusCode::OK, None, done)
}

pub(crate) async fn reset_child_password(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(child_id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let child = state.store.child_of(viewer.id(), &child_id).await?.ok_or(AppError::NotFound)?;

    let login = state.store.login_of(&child.id).await?.unwrap_or_default();
    let schools = state.store.school_words(&child.id).await?;
    let words = personal_words(&child.last_name, &child.first_name, &login, None, &schools);
    let password = fields.get("password");
    if let Err(message) = new_password_problem(password, fields.get("password_confirm"), &words) {
        return child_password_page(
            &viewer,
            child,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            false,
        );
    }

    let hash = hash_password(&state, password.to_owned()).await?;
    state.store.change_password(&child.id, &hash, None).await?;
    state.store.audit(Some(viewer.id()), "child_password_reset", Some(&child.id), "").await?;
    tracing::info!(person.id = %viewer.id(), child.id = %child.id, "child password reset");
    Ok(Redirect::to(&format!("/enfants/{}/mot-de-passe?fait=1", child.id)).into_response())
}

pub(crate) async fn new_code_form(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(person_id): PathId,
) -> Result<Response, AppError> {
    let person = state
        .store
        .administrable_person(viewer.id(), &person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let html = render(&NewCodePage {
        chrome: viewer_chrome("Nouveau code d'activation", &viewer),
        csrf: viewer.csrf_token.clone(),
        person,
        code: None,
    })?;
    Ok(Html(html).into_response())
}

pub(crate) async fn issue_new_code(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(person_id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let person = state
        .store
        .administrable_person(viewer.id(), &person_id)
        .await?
        .ok_or(AppError::NotFound)?;

    let code =
        state.store.issue_activation_code(&person.id, state.config.activation_validity).await?;
    state.store.audit(Some(viewer.id()), "activation_code_issued", Some(&person.id), "").await?;
    tracing::info!(person.id = %viewer.id(), target.id = %person.id, "activation code issued");
    // The code is shown once, in the answer to the POST, so that it never sits in a URL.
    let html = render(&NewCodePage {
        chrome: viewer_chrome("Nouveau code d'activation", &viewer),
        csrf: viewer.csrf_token.clone(),
        person,
        code: Some(domain::activation::format_code(&code)),
    })?;
    Ok(Html(html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_are_read_as_typed_in_france() {
        assert_eq!(typed_birth_date("07/03/2013").as_deref(), Some("2013-03-07"));
        assert_eq!(typed_birth_date("7/3/2013").as_deref(), Some("2013-03-07"));
        assert_eq!(typed_birth_date("2013-03-07").as_deref(), Some("2013-03-07"));
        assert_eq!(typed_birth_date("31/02/2013"), None);
        assert_eq!(typed_birth_date("hier"), None);
    }

    #[test]
    fn only_other_parameters_need_a_rehash() {
        let current = argon2().hash_password(b"x").unwrap().to_string();
        assert!(!needs_rehash(&current));
        let weaker = Argon2::from(argon2::Params::new(8192, 1, 1, None).unwrap())
            .hash_password(b"x")
            .unwrap()
            .to_string();
        assert!(needs_rehash(&weaker));
    }
}

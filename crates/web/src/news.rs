//! The news pages: the viewer's list (`/actualites`), one item with its "J'ai lu et pris
//! connaissance" button (`/actualites/{id}`, POST `/actualites/{id}/lu`) and its illustration
//! (`/actualites/{id}/image`), the publication form (`/actualites/publier`: title, body typed as
//! plain text or simple HTML, an optional image checked by content, dates typed in the schools'
//! time zone, targets, acknowledgement), the publisher's list with its counts and the withdrawal
//! (`/actualites/gestion`, POST `/actualites/{id}/retirer`), and the news block of the home page.
//! Who sees, publishes or manages what is decided by the SQL of `store::news`; this module
//! reads forms, converts dates and renders. Its view structs live here, not in `templates.rs`.

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::profile::Profile;
use jiff::civil;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};
use store::admin::FormSubmission;
use store::news::{
    ManagedNews, NewsImage, NewsInput, NewsSummary, NewsTargets, PublishOptions, TargetKind,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{
    Fields, MultipartForm as Submission, MultipartLimits, PathId, Upload, read_multipart,
};
use crate::session::Viewer;
use crate::templates::{Chrome, render};

/// The largest illustration accepted, in bytes.
pub(crate) const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// The largest publication form, image included.
const MAX_PUBLISH_BODY: usize = MAX_IMAGE_BYTES + 512 * 1024;
/// The largest text field of the publication form (the body).
const MAX_TEXT_FIELD: usize = domain::communication::MAX_BODY_BYTES;
/// The most parts a publication form may have (every checkbox is one).
const MAX_PARTS: usize = 2_000;
/// How many items the home page shows.
const HOME_ITEMS: usize = 5;
/// The longest text alternative of an image, in characters.
const MAX_ALT_CHARS: usize = 300;

/// The news routes, merged into the application's router by `lib.rs`. The publication form
/// gets its own body limit (it carries an image); every other route keeps the site's.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/actualites", get(list))
        .route(
            "/actualites/publier",
            get(publish_form).post(publish).layer(DefaultBodyLimit::max(MAX_PUBLISH_BODY)),
        )
        .route("/actualites/gestion", get(manage))
        .route("/actualites/{id}", get(read))
        .route("/actualites/{id}/lu", post(acknowledge))
        .route("/actualites/{id}/retirer", post(withdraw))
        .route("/actualites/{id}/image", get(image))
}

/// A zone by name; Europe/Paris for a name the database of zones does not know.
fn zone(name: &str) -> TimeZone {
    TimeZone::get(name)
        .or_else(|_| TimeZone::get(domain::time_zone::DEFAULT_ZONE))
        .unwrap_or(TimeZone::UTC)
}

/// An instant as French text in a zone ("1er mars 2026 à 8 h 05") and as the `datetime`
/// attribute of a `<time>` element.
pub(crate) fn french_datetime(unix: i64, zone_name: &str) -> (String, String) {
    let Ok(timestamp) = jiff::Timestamp::from_second(unix) else {
        return (String::new(), String::new());
    };
    let zoned = timestamp.to_zoned_datetime(zone(zone_name));
    let day = match zoned.day() {
        1 => "1er".to_owned(),
        day => day.to_string(),
    };
    let month = usize::try_from(zoned.month() - 1)
        .ok()
        .and_then(|m| crate::messages::MONTHS.get(m))
        .copied();
    let text = format!(
        "{day} {} {} à {} h {:02}",
        month.unwrap_or_default(),
        zoned.year(),
        zoned.hour(),
        zoned.minute()
    );
    (text, zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// An instant as the value of a `datetime-local` field in a zone.
fn local_input(unix: i64, zone_name: &str) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_zoned_datetime(zone(zone_name)).strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// A date and time typed in a zone, as Unix seconds: `2026-03-02T08:00` (what browsers send),
/// `2026-03-02 08:00`, `02/03/2026 08:00`, or a date alone (midnight). A time that the change
/// to summer time skips is moved forward, an ambiguous one takes the earlier instant. `None`
/// for an empty field.
fn parse_local(text: &str, zone_name: &str) -> Result<Option<i64>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let civil = text
        .parse::<civil::DateTime>()
        .or_else(|_| civil::DateTime::strptime("%d/%m/%Y %H:%M", text))
        .or_else(|_| civil::DateTime::strptime("%d/%m/%Y %Hh%M", text))
        .or_else(|_| {
            civil::Date::strptime("%d/%m/%Y", text).map(|d| d.to_datetime(civil::Time::midnight()))
        })
        .map_err(|_| ())?;
    if !(2000..=2100).contains(&civil.year()) {
        return Err(());
    }
    let zoned = civil.to_zoned_datetime(zone(zone_name)).map_err(|_| ())?;
    Ok(Some(zoned.timestamp().as_second()))
}

/// The zone the dates of an item are typed in: the chosen schools' when they share one, else
/// Europe/Paris (the whole département, schools of several zones).
fn entry_zone<'a>(options: &'a PublishOptions, whole: bool, school_ids: &[String]) -> &'a str {
    let zones: Vec<&str> = options
        .schools
        .iter()
        .filter(|s| !whole && school_ids.contains(&s.school.id))
        .map(|s| s.time_zone.as_str())
        .collect();
    match zones.split_first() {
        Some((first, rest)) if rest.iter().all(|z| z == first) => first,
        _ => domain::time_zone::DEFAULT_ZONE,
    }
}

/// The zone the form suggests before any school is chosen: the offered schools' when they
/// share one.
fn offered_zone(options: &PublishOptions) -> &str {
    let ids: Vec<String> = options.schools.iter().map(|s| s.school.id.clone()).collect();
    entry_zone(options, false, &ids)
}

/// An item in a list.
pub(crate) struct NewsCard {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) excerpt: String,
    pub(crate) origin: String,
    pub(crate) date: String,
    pub(crate) iso: String,
    /// Asks for an acknowledgement the viewer has not given yet.
    pub(crate) to_sign: bool,
    /// Asked for and given.
    pub(crate) signed: bool,
}

impl NewsCard {
    fn of(item: NewsSummary) -> NewsCard {
        let (date, iso) = french_datetime(item.publish_at, &item.time_zone);
        NewsCard {
            origin: origin_label(item.origin),
            to_sign: item.requires_ack && !item.acknowledged,
            signed: item.requires_ack && item.acknowledged,
            id: item.id,
            title: item.title,
            excerpt: item.excerpt,
            date,
            iso,
        }
    }
}

fn origin_label(origin: Option<String>) -> String {
    origin.unwrap_or_else(|| "Le département".to_owned())
}

/// The news block of the home page.
pub(crate) struct HomeNews {
    pub(crate) items: Vec<NewsCard>,
    /// Whether the viewer has more items than the block shows.
    pub(crate) more: bool,
    /// How many shown or not ask for an acknowledgement not given yet.
    pub(crate) to_sign: usize,
}

#[derive(Template)]
#[template(path = "news_list.html")]
pub(crate) struct NewsListPage {
    pub(crate) chrome: Chrome,
    pub(crate) items: Vec<NewsCard>,
    pub(crate) can_publish: bool,
}

#[derive(Template)]
#[template(path = "news_item.html")]
pub(crate) struct NewsItemPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) id: String,
    pub(crate) body_html: String,
    pub(crate) author: String,
    pub(crate) origin: String,
    pub(crate) date: String,
    pub(crate) iso: String,
    pub(crate) expires: Option<(String, String)>,
    pub(crate) image_alt: Option<String>,
    pub(crate) show_ack: bool,
    pub(crate) acknowledged: bool,
    pub(crate) can_manage: bool,
    pub(crate) withdrawn: bool,
    pub(crate) scheduled: bool,
    pub(crate) notice: Option<&'static str>,
}

/// One checkbox of the form.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) checked: bool,
}

/// One offered school with its classes.
pub(crate) struct SchoolChoice {
    pub(crate) school: Choice,
    pub(crate) classes: Vec<Choice>,
}

/// What the publication form holds and what is wrong with it.
#[derive(Default)]
pub(crate) struct PublishForm {
    pub(crate) token: String,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) html: bool,
    pub(crate) image_alt: String,
    pub(crate) publication: String,
    pub(crate) expiry: String,
    pub(crate) requires_ack: bool,
    pub(crate) whole: bool,
    pub(crate) schools: Vec<String>,
    pub(crate) profiles: Vec<String>,
    pub(crate) levels: Vec<String>,
    pub(crate) classes: Vec<String>,
    pub(crate) title_error: Option<String>,
    pub(crate) body_error: Option<String>,
    pub(crate) image_error: Option<String>,
    pub(crate) date_error: Option<String>,
    pub(crate) target_error: Option<String>,
}

impl PublishForm {
    fn has_errors(&self) -> bool {
        self.title_error.is_some()
            || self.body_error.is_some()
            || self.image_error.is_some()
            || self.date_error.is_some()
            || self.target_error.is_some()
    }
}

#[derive(Template)]
#[template(path = "news_publish.html")]
pub(crate) struct NewsPublishPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) form: PublishForm,
    pub(crate) departement: Option<Choice>,
    pub(crate) schools: Vec<SchoolChoice>,
    pub(crate) profiles: Vec<Choice>,
    pub(crate) levels: Vec<Choice>,
    pub(crate) zone: String,
    pub(crate) max_image_mb: usize,
}

/// One line of the publisher's list.
pub(crate) struct ManagedLine {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) state: &'static str,
    pub(crate) date: String,
    pub(crate) iso: String,
    pub(crate) author: String,
    pub(crate) audience: String,
    pub(crate) counts: String,
    pub(crate) can_withdraw: bool,
}

#[derive(Template)]
#[template(path = "news_manage.html")]
pub(crate) struct NewsManagePage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) lines: Vec<ManagedLine>,
    pub(crate) can_publish: bool,
    pub(crate) notice: Option<&'static str>,
}

/// Whether the viewer may hold the publication form: a school's administrator, a département
/// administrator, or one of the département's people (the store checks their scope).
fn may_publish(viewer: &Viewer) -> bool {
    !viewer.facts.administered.is_empty()
        || viewer.facts.departement_admin
        || viewer.facts.person.profile.is_departement()
}

/// The viewer's current items for the home page: the newest [`HOME_ITEMS`].
pub(crate) async fn home_news(state: &AppState, viewer: &Viewer) -> Result<HomeNews, AppError> {
    let items = state.store.news_for(viewer.id(), store::now_unix()).await?;
    let to_sign = items.iter().filter(|i| i.requires_ack && !i.acknowledged).count();
    let more = items.len() > HOME_ITEMS;
    let items = items.into_iter().take(HOME_ITEMS).map(NewsCard::of).collect();
    Ok(HomeNews { items, more, to_sign })
}

async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let items = state.store.news_for(viewer.id(), store::now_unix()).await?;

    let html = render(&NewsListPage {
        chrome: viewer_chrome("Actualités", &viewer),
        items: items.into_iter().map(NewsCard::of).collect(),
        can_publish: may_publish(&viewer),
    })?;
    Ok(Html(html).into_response())
}

async fn read(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let item = state.store.news_item(viewer.id(), &id).await?;

    let notice = match Fields::query(&uri).get("lu") {
        "1" => Some("Merci : votre prise de connaissance est enregistrée."),
        _ => None,
    };
    let (date, iso) = french_datetime(item.publish_at, &item.time_zone);
    let html = render(&NewsItemPage {
        chrome: viewer_chrome(&item.title, &viewer),
        csrf: viewer.csrf_token.clone(),
        expires: item.expires_at.map(|e| french_datetime(e, &item.time_zone)),
        image_alt: item.has_image.then(|| item.image_alt.clone()),
        show_ack: item.requires_ack && item.targeted && !item.acknowledged,
        acknowledged: item.requires_ack && item.acknowledged,
        can_manage: item.can_manage,
        withdrawn: item.withdrawn_at.is_some(),
        scheduled: item.publish_at > store::now_unix(),
        author: format!("{} {}", item.author.first_name, item.author.last_name),
        origin: origin_label(item.origin),
        body_html: item.body_html,
        id: item.id,
        date,
        iso,
        notice,
    })?;
    Ok(Html(html).into_response())
}

async fn acknowledge(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;

    let recorded = state.store.acknowledge(viewer.id(), &id).await?;
    if recorded {
        tracing::info!(person.id = %viewer.id(), news.id = %id, "news acknowledged");
    }
    Ok(Redirect::to(&format!("/actualites/{id}?lu=1")).into_response())
}

async fn image(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let stored = state.store.news_image(viewer.id(), &id).await?;

    let bytes = state
        .files()?
        .get(&stored.storage_key)
        .await
        .map_err(|e| AppError::Internal(format!("news image {id}: {e}")))?;
    let content_type = HeaderValue::from_str(&stored.content_type)
        .map_err(|_| AppError::Internal(format!("news image {id}: content type")))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        bytes,
    )
        .into_response())
}

fn state_label(item: &ManagedNews, now: i64) -> &'static str {
    if item.withdrawn_at.is_some() {
        "Retirée"
    } else if item.publish_at > now {
        "Programmée"
    } else if item.expires_at.is_some_and(|e| e <= now) {
        "Expirée"
    } else {
        "Publiée"
    }
}

/// The targets of an item in French: "Collège X · Parents, Élèves · 3EME · 6A".
fn audience_label(item: &ManagedNews) -> String {
    let mut parts: Vec<String> = Vec::new();
    for kind in [TargetKind::School, TargetKind::Profile, TargetKind::Level, TargetKind::Class] {
        let labels: Vec<String> = item
            .targets
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| match kind {
                TargetKind::School if t.value.is_empty() => "Tout le département".to_owned(),
                TargetKind::Profile => Profile::parse(&t.value)
                    .map_or_else(|| t.label.clone(), |p| plural_label(p).to_owned()),
                TargetKind::Class => format!("classe {}", t.label),
                _ => t.label.clone(),
            })
            .collect();
        if !labels.is_empty() {
            parts.push(labels.join(", "));
        }
    }
    parts.join(" · ")
}

/// A profile as a group of people.
fn plural_label(profile: Profile) -> &'static str {
    match profile {
        Profile::Pupil => "Élèves",
        Profile::Relative => "Parents",
        Profile::Teacher => "Enseignants",
        Profile::Staff => "Personnels",
        Profile::Agent => "Agents du département",
        Profile::Official => "Élus",
        Profile::Host => "Organismes d'accueil",
    }
}

fn people(n: i64) -> String {
    if n > 1 { format!("{n} personnes visées") } else { format!("{n} personne visée") }
}

async fn manage(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let items = state.store.authored_news(viewer.id()).await?;
    if items.is_empty() && !may_publish(&viewer) {
        return Err(AppError::NotFound);
    }

    let now = store::now_unix();
    let lines = items
        .iter()
        .map(|item| {
            let (date, iso) = french_datetime(item.publish_at, &item.time_zone);
            ManagedLine {
                id: item.id.clone(),
                title: item.title.clone(),
                state: state_label(item, now),
                date,
                iso,
                author: format!("{} {}", item.author.first_name, item.author.last_name),
                audience: audience_label(item),
                counts: if item.requires_ack {
                    format!("{} / {} ont pris connaissance", item.acknowledged, item.targeted)
                } else {
                    people(item.targeted)
                },
                can_withdraw: item.withdrawn_at.is_none(),
            }
        })
        .collect();
    let notice = match Fields::query(&uri).get("etat") {
        "publiee" => Some("L'actualité est enregistrée : elle sera visible à la date choisie."),
        "retiree" => Some("L'actualité est retirée : ses destinataires ne la voient plus."),
        _ => None,
    };
    let html = render(&NewsManagePage {
        chrome: viewer_chrome("Gérer les actualités", &viewer),
        csrf: viewer.csrf_token.clone(),
        lines,
        can_publish: may_publish(&viewer),
        notice,
    })?;
    Ok(Html(html).into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;

    state.store.withdraw_news(viewer.id(), &id).await?;
    tracing::info!(person.id = %viewer.id(), news.id = %id, "news withdrawn");
    Ok(Redirect::to("/actualites/gestion?etat=retiree").into_response())
}

/// The page for a news form over its route's limit.
fn too_large() -> AppError {
    AppError::TooLarge
}

/// What the publication form may hold.
const LIMITS: MultipartLimits = MultipartLimits {
    file_field: "image",
    file_cap: MAX_IMAGE_BYTES,
    text_cap: MAX_TEXT_FIELD,
    max_parts: MAX_PARTS,
    too_large,
};

/// The publication form; an empty image part (no file chosen) is no image.
async fn read_submission(multipart: Multipart) -> Result<Submission, AppError> {
    let mut submission = read_multipart(multipart, &LIMITS).await?;
    if submission.file.as_ref().is_some_and(|file| file.bytes.is_empty() && !file.too_large) {
        submission.file = None;
    }
    Ok(submission)
}

/// The form as sent, checked against what the viewer may target; the errors are French and
/// tied to their field.
fn read_publish_form(sub: &Submission, options: &PublishOptions) -> PublishForm {
    let mut form = PublishForm {
        token: sub.get("jeton").trim().to_owned(),
        title: sub.get("titre").trim().to_owned(),
        body: sub.get("texte").to_owned(),
        html: sub.get("format") == "html",
        image_alt: sub.get("image_alt").trim().to_owned(),
        publication: sub.get("publication").trim().to_owned(),
        expiry: sub.get("fin").trim().to_owned(),
        requires_ack: sub.get("accuse") == "1",
        whole: sub.get("departement") == "1",
        schools: sub.all("ecoles"),
        profiles: sub.all("profils"),
        levels: sub.all("niveaux"),
        classes: sub.all("classes"),
        ..PublishForm::default()
    };

    if form.title.is_empty() {
        form.title_error = Some("Donnez un titre à l'actualité.".to_owned());
    } else if form.title.chars().count() > store::news::MAX_TITLE_CHARS
        || form.title.chars().any(char::is_control)
    {
        form.title_error = Some(format!(
            "Le titre doit tenir en {} caractères, sans retour à la ligne.",
            store::news::MAX_TITLE_CHARS
        ));
    }
    if form.body.trim().is_empty() && sub.file.is_none() {
        form.body_error = Some("Écrivez le texte de l'actualité.".to_owned());
    }
    if form.image_alt.chars().count() > MAX_ALT_CHARS {
        form.image_error =
            Some(format!("La description de l'image doit tenir en {MAX_ALT_CHARS} caractères."));
    }

    let offered = |id: &str| options.schools.iter().any(|s| s.school.id == id);
    if form.whole && !options.departement {
        form.target_error = Some("Vous ne pouvez pas publier pour tout le département.".into());
    } else if !form.whole && form.schools.is_empty() {
        form.target_error = Some("Cochez au moins un établissement.".to_owned());
    } else if form.schools.iter().any(|id| !offered(id)) {
        form.target_error = Some("Un des établissements choisis ne vous est pas ouvert.".into());
    } else if form.profiles.iter().any(|p| Profile::parse(p).is_none_or(Profile::is_departement)) {
        form.target_error = Some("Un des profils choisis n'existe pas.".to_owned());
    } else if form.levels.iter().any(|l| !options.levels.contains(l)) {
        form.target_error = Some("Un des niveaux choisis n'existe pas.".to_owned());
    } else if !form.classes.iter().all(|class| {
        options.schools.iter().any(|s| {
            (form.whole || form.schools.contains(&s.school.id))
                && s.classes.iter().any(|(id, _)| id == class)
        })
    }) {
        form.target_error =
            Some("Chaque classe choisie doit appartenir à un établissement coché.".to_owned());
    }
    form
}

/// The dates of the form as instants, or the form's date error.
fn form_dates(
    form: &mut PublishForm,
    options: &PublishOptions,
    now: i64,
) -> Option<(i64, Option<i64>)> {
    let zone = entry_zone(options, form.whole, &form.schools);
    let publish = parse_local(&form.publication, zone);
    let expiry = parse_local(&form.expiry, zone);
    match (publish, expiry) {
        (Ok(publish), Ok(expiry)) => {
            let publish = publish.unwrap_or(now);
            if expiry.is_some_and(|e| e <= publish) {
                form.date_error =
                    Some("La date de fin doit venir après la date de publication.".to_owned());
                return None;
            }
            if expiry.is_some_and(|e| e <= now) {
                form.date_error = Some("La date de fin est déjà passée.".to_owned());
                return None;
            }
            Some((publish, expiry))
        }
        _ => {
            form.date_error =
                Some("Date non comprise : écrivez-la par exemple 05/03/2026 08:30.".to_owned());
            None
        }
    }
}

/// The checked image as the store wants it, or the form's image error.
fn check_image(upload: &Upload, alt_text: &str) -> Result<(NewsImage, Vec<u8>), String> {
    if upload.too_large {
        return Err(format!("L'image dépasse {} Mo.", MAX_IMAGE_BYTES / (1024 * 1024)));
    }
    let kind = formats::attachment::sniff(&upload.bytes, &upload.name)
        .map_err(|reason| format!("Image refusée : {reason}"))?;
    if !kind.is_image() {
        return Err("Le fichier choisi n'est pas une image PNG, JPEG, GIF ou WebP.".to_owned());
    }
    if !formats::attachment::image_dimensions_ok(&upload.bytes) {
        return Err("L'image est trop grande (dimensions en pixels).".to_owned());
    }
    let image = NewsImage {
        storage_key: store::files::FileStore::new_key(),
        display_name: domain::files::display_name(&upload.name, kind.extension()),
        content_type: kind.content_type().to_owned(),
        size_bytes: i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX),
        sha256: hex::encode(Sha256::digest(&upload.bytes)),
        alt_text: alt_text.to_owned(),
    };
    Ok((image, upload.bytes.clone()))
}

fn choice(value: &str, label: &str, chosen: &[String]) -> Choice {
    Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        checked: chosen.iter().any(|c| c == value),
    }
}

async fn publish_page(
    viewer: &Viewer,
    options: &PublishOptions,
    status: StatusCode,
    form: PublishForm,
) -> Result<Response, AppError> {
    let departement = options.departement.then(|| Choice {
        value: "1".to_owned(),
        label: "Tout le département".to_owned(),
        checked: form.whole,
    });
    let schools = options
        .schools
        .iter()
        .map(|s| SchoolChoice {
            school: choice(&s.school.id, &s.school.name, &form.schools),
            classes: s.classes.iter().map(|(id, code)| choice(id, code, &form.classes)).collect(),
        })
        .collect();
    let mut profiles: Vec<Profile> =
        vec![Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff];
    if options.departement {
        profiles.extend([Profile::Agent, Profile::Official]);
    }
    let profiles =
        profiles.into_iter().map(|p| choice(p.as_str(), plural_label(p), &form.profiles)).collect();
    let levels = options.levels.iter().map(|l| choice(l, l, &form.levels)).collect();

    let html = render(&NewsPublishPage {
        chrome: viewer_chrome("Publier une actualité", viewer),
        csrf: viewer.csrf_token.clone(),
        zone: offered_zone(options).to_owned(),
        max_image_mb: MAX_IMAGE_BYTES / (1024 * 1024),
        form,
        departement,
        schools,
        profiles,
        levels,
    })?;
    Ok((status, Html(html)).into_response())
}

async fn publish_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let options = state.store.publish_options(viewer.id()).await?;
    if !options.may_publish() {
        return Err(AppError::NotFound);
    }

    let single = if options.schools.len() == 1 && !options.departement {
        options.schools.iter().map(|s| s.school.id.clone()).collect()
    } else {
        Vec::new()
    };
    let form = PublishForm {
        token: store::new_id(),
        publication: local_input(store::now_unix(), offered_zone(&options)),
        schools: single,
        ..PublishForm::default()
    };
    publish_page(&viewer, &options, StatusCode::OK, form).await
}

async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let multipart = multipart
        .map_err(|_| AppError::BadRequest("Le formulaire envoyé n'est pas au bon format."))?;
    let submission = read_submission(multipart).await?;
    viewer.check_csrf(submission.get("csrf_token"))?;
    let options = state.store.publish_options(viewer.id()).await?;
    if !options.may_publish() {
        return Err(AppError::NotFound);
    }

    let now = store::now_unix();
    let mut form = read_publish_form(&submission, &options);
    let dates = form_dates(&mut form, &options, now);
    let image = match &submission.file {
        Some(upload) if form.image_error.is_none() => match check_image(upload, &form.image_alt) {
            Ok(checked) => Some(checked),
            Err(reason) => {
                form.image_error = Some(reason);
                None
            }
        },
        _ => None,
    };
    let Some((publish_at, expires_at)) = dates.filter(|_| !form.has_errors()) else {
        if submission.file.is_some() && form.image_error.is_none() {
            form.image_error = Some("Choisissez de nouveau l'image.".to_owned());
        }
        return publish_page(&viewer, &options, StatusCode::UNPROCESSABLE_ENTITY, form).await;
    };

    let token = form.token.clone();
    let token_ok = (1..=64).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !token_ok {
        return Err(AppError::BadRequest("Formulaire périmé : rechargez la page et recommencez."));
    }
    match state.store.claim_form_submission(viewer.id(), &token).await? {
        FormSubmission::New => {}
        FormSubmission::Done(id) => {
            // A reload publishes nothing twice; an edited resubmission of a form already used
            // (Back, change, send) must not be told that its new content was published.
            let body_html = if form.html {
                formats::rich_text::sanitize(&form.body)
            } else {
                formats::rich_text::sanitize(&formats::rich_text::from_plain_text(&form.body))
            };
            let same = match state.store.news_item(viewer.id(), &id).await {
                Ok(first) => {
                    first.title.trim() == form.title.trim()
                        && first.body_text.trim()
                            == formats::rich_text::to_plain_text(&body_html).trim()
                }
                Err(store::StoreError::NotFound) => false,
                Err(other) => return Err(other.into()),
            };
            if same {
                return Ok(Redirect::to("/actualites/gestion?etat=publiee").into_response());
            }
            form.title_error = Some(
                "Ce formulaire a déjà servi à publier une autre actualité : rien n'a été publié. \
                 Ouvrez de nouveau la page de publication pour publier celle-ci."
                    .to_owned(),
            );
            return publish_page(&viewer, &options, StatusCode::UNPROCESSABLE_ENTITY, form).await;
        }
        FormSubmission::InProgress => {
            return Err(AppError::BadRequest(
                "Ce formulaire est déjà en cours d'envoi : patientez puis rechargez la page.",
            ));
        }
    }

    let body_html = if form.html {
        formats::rich_text::sanitize(&form.body)
    } else {
        formats::rich_text::sanitize(&formats::rich_text::from_plain_text(&form.body))
    };
    let input = NewsInput {
        title: form.title.clone(),
        body_text: formats::rich_text::to_plain_text(&body_html),
        body_html,
        image: image.as_ref().map(|(meta, _)| meta.clone()),
        publish_at,
        expires_at,
        requires_ack: form.requires_ack,
        targets: NewsTargets {
            whole_departement: form.whole,
            school_ids: form.schools.clone(),
            profiles: form.profiles.iter().filter_map(|p| Profile::parse(p)).collect(),
            levels: form.levels.clone(),
            class_ids: form.classes.clone(),
        },
    };
    let published = store_news(&state, &viewer, &input, image).await;
    let id = match published {
        Ok(id) => id,
        Err(refusal) => {
            state.store.release_form_submission(viewer.id(), &token).await?;
            return match refusal {
                Refused::Form(reason) => {
                    form.body_error = Some(reason);
                    let status = StatusCode::UNPROCESSABLE_ENTITY;
                    publish_page(&viewer, &options, status, form).await
                }
                Refused::Error(error) => Err(error),
            };
        }
    };
    state.store.complete_form_submission(viewer.id(), &token, &id).await?;
    tracing::info!(person.id = %viewer.id(), news.id = %id, "news published");
    Ok(Redirect::to("/actualites/gestion?etat=publiee").into_response())
}

/// Why an item was not stored.
enum Refused {
    /// A reason the publisher can correct, in French.
    Form(String),
    Error(AppError),
}

impl From<AppError> for Refused {
    fn from(error: AppError) -> Refused {
        Refused::Error(error)
    }
}

/// Stores the image (if any), then the item; the image is deleted again when the item is
/// refused.
async fn store_news(
    state: &AppState,
    viewer: &Viewer,
    input: &NewsInput,
    image: Option<(NewsImage, Vec<u8>)>,
) -> Result<String, Refused> {
    if let Some((meta, bytes)) = image {
        state
            .files()?
            .put(&meta.storage_key, bytes)
            .await
            .map_err(|e| AppError::Internal(format!("news image not stored: {e}")))?;
    }

    let published = state.store.publish_news(viewer.id(), input).await;
    if let (Err(_), Some(meta)) = (&published, &input.image)
        && let Err(error) = state.files()?.delete(&meta.storage_key).await
    {
        tracing::warn!(%error, "a refused news image is left in the file store");
    }
    match published {
        Ok(id) => Ok(id),
        Err(store::StoreError::Conflict(reason)) => Err(Refused::Form(reason)),
        Err(other) => Err(Refused::Error(other.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_dates_follow_the_zone_and_daylight_saving() {
        let paris = "Europe/Paris";
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(parse_local("2026-01-15T08:00", paris), Ok(Some(1_768_460_400)));
        assert_eq!(parse_local("2026-07-01T08:00", paris), Ok(Some(1_782_885_600)));
        assert_eq!(parse_local("01/07/2026 08:00", paris), Ok(Some(1_782_885_600)));
        // 02:30 does not exist on 29 March 2026 in Paris: it becomes 03:30 summer time.
        assert_eq!(parse_local("2026-03-29T02:30", paris), parse_local("2026-03-29T03:30", paris));
        // La Réunion is UTC+4 all year.
        assert_eq!(parse_local("2026-07-01T08:00", "Indian/Reunion"), Ok(Some(1_782_878_400)));
        assert_eq!(parse_local(" ", paris), Ok(None));
        assert!(parse_local("demain", paris).is_err());
        assert!(parse_local("1900-01-01T00:00", paris).is_err());
    }

    #[test]
    fn instants_are_written_in_french_in_the_zone() {
        let (text, iso) = french_datetime(1_782_885_600, "Europe/Paris");
        assert_eq!(text, "1er juillet 2026 à 8 h 00");
        assert_eq!(iso, "2026-07-01T08:00:00+02:00");
        assert_eq!(french_datetime(1_768_460_400, "Europe/Paris").0, "15 janvier 2026 à 8 h 00");
        assert_eq!(local_input(1_768_460_400, "Europe/Paris"), "2026-01-15T08:00");
    }
}

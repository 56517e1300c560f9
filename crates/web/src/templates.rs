//! The view structs the askama templates of `templates/` render. Templates receive these, never
//! database rows; every value is escaped by askama, and names go inside `<bdi>`.

use askama::Template;
use store::directory::{PersonRef, PupilCard, SchoolFigures, TeachingPlace};

/// Renders a template, mapping a failure to a server fault.
pub(crate) fn render(template: &impl Template) -> Result<String, crate::error::AppError> {
    template
        .render()
        .map_err(|error| crate::error::AppError::Internal(format!("template: {error}")))
}

/// What every page around the content shows.
pub(crate) struct Chrome {
    pub(crate) title: String,
    pub(crate) css: &'static str,
    pub(crate) reading_mode: bool,
    pub(crate) user: Option<UserBar>,
}

/// The logged-in person in the page header.
pub(crate) struct UserBar {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) profile: &'static str,
    pub(crate) csrf: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub(crate) title: &'a str,
    pub(crate) message: &'a str,
    pub(crate) css: &'static str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) next: String,
    pub(crate) error: Option<String>,
    pub(crate) notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "activation.html")]
pub(crate) struct ActivationPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) login: String,
    pub(crate) error: Option<String>,
    pub(crate) password_error: Option<String>,
}

#[derive(Template)]
#[template(path = "forgotten.html")]
pub(crate) struct ForgottenPage {
    pub(crate) chrome: Chrome,
}

/// One tab of a parent's child switcher.
pub(crate) struct ChildTab {
    pub(crate) id: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) school: String,
    pub(crate) current: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub(crate) chrome: Chrome,
    pub(crate) card: Option<PupilCard>,
    pub(crate) is_parent: bool,
    pub(crate) children: Vec<ChildTab>,
    pub(crate) places: Vec<TeachingPlace>,
    pub(crate) figures: Vec<SchoolFigures>,
    pub(crate) show_figures: bool,
    pub(crate) is_teacher: bool,
}

#[derive(Template)]
#[template(path = "directory.html")]
pub(crate) struct DirectoryPage {
    pub(crate) chrome: Chrome,
    pub(crate) q: String,
    pub(crate) searched: bool,
    pub(crate) results: Vec<PersonRef>,
    pub(crate) admin: bool,
    pub(crate) too_short: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub(crate) struct SettingsPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) reading_mode: bool,
    pub(crate) saved: bool,
    pub(crate) password_error: Option<String>,
    pub(crate) password_done: bool,
}

#[derive(Template)]
#[template(path = "child_password.html")]
pub(crate) struct ChildPasswordPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) child: PersonRef,
    pub(crate) error: Option<String>,
    pub(crate) done: bool,
}

#[derive(Template)]
#[template(path = "new_code.html")]
pub(crate) struct NewCodePage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) person: PersonRef,
    pub(crate) code: Option<String>,
}

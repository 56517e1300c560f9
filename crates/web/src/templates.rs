//! The view structs the askama templates of `templates/` render. Templates receive these, never
//! database rows; every value is escaped by askama, and names go inside `<bdi>`.

use askama::Template;
use store::admin::{ImportRunView, LocalPersonRow, SchoolRoster};
use store::directory::{PersonRef, PupilCard, SchoolFigures, SchoolRef, TeachingPlace};

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
    /// The consoles the person may open (school, département).
    pub(crate) consoles: Vec<NavLink>,
    /// A host organisation's person: the navigation is the host's.
    pub(crate) host: bool,
    /// Whether the "Stages" link shows (pupils, parents, school adults, the département).
    pub(crate) internships: bool,
}

/// A link of the navigation.
pub(crate) struct NavLink {
    pub(crate) href: String,
    pub(crate) label: String,
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
    /// Per entry of `figures`: whether the viewer may open that school's console.
    pub(crate) consoles: Vec<bool>,
    /// The viewer's current news (`news.rs`).
    pub(crate) news: crate::news::HomeNews,
    /// Today's lessons and the changes to come (`timetable/home.rs`).
    pub(crate) timetable: Option<crate::timetable::HomeCard>,
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
    /// The address new messages are announced at (empty: none), and why it was refused.
    pub(crate) notify_email: String,
    pub(crate) email_error: Option<String>,
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

#[derive(Template)]
#[template(path = "school_console.html")]
pub(crate) struct SchoolConsolePage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) school: SchoolRef,
    pub(crate) figures: SchoolFigures,
    pub(crate) activated: i64,
    pub(crate) roster: SchoolRoster,
    pub(crate) notice: Option<&'static str>,
    /// Where the freeze forms come back to.
    pub(crate) back: String,
    pub(crate) viewer_id: String,
    /// People who also belong to a school the viewer does not administer: no actions here.
    pub(crate) beyond: std::collections::BTreeSet<String>,
}

impl SchoolConsolePage {
    /// Whether the viewer may act on this person from this console.
    pub(crate) fn locked(&self, holder: &store::admin::AccountHolder) -> bool {
        self.beyond.contains(&holder.person.id)
    }

    /// The path-safe form of a class code, for anchors and query strings.
    pub(crate) fn class_query(&self, code: &str) -> String {
        crate::error::percent_encode(code)
    }
}

/// One collège of the département console.
pub(crate) struct SchoolLine {
    pub(crate) figures: SchoolFigures,
    pub(crate) activated: i64,
}

/// What the creation form holds and what is wrong with it.
#[derive(Default)]
pub(crate) struct PersonForm {
    /// The one-time token of this form: a reload or a double click creates nobody twice.
    pub(crate) token: String,
    pub(crate) last_name: String,
    pub(crate) first_name: String,
    pub(crate) email: String,
    pub(crate) official: bool,
    pub(crate) whole: bool,
    pub(crate) scope: Vec<String>,
    pub(crate) admin: bool,
    pub(crate) last_name_error: Option<String>,
    pub(crate) first_name_error: Option<String>,
    pub(crate) email_error: Option<String>,
    pub(crate) profile_error: Option<String>,
    pub(crate) scope_error: Option<String>,
}

impl PersonForm {
    pub(crate) fn has_errors(&self) -> bool {
        self.last_name_error.is_some()
            || self.first_name_error.is_some()
            || self.email_error.is_some()
            || self.profile_error.is_some()
            || self.scope_error.is_some()
    }

    pub(crate) fn in_scope(&self, uai: &str) -> bool {
        self.scope.iter().any(|s| s == uai)
    }
}

#[derive(Template)]
#[template(path = "departement_console.html")]
pub(crate) struct DepartementConsolePage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) schools: Vec<SchoolLine>,
    pub(crate) people: Vec<LocalPersonRow>,
    pub(crate) form: PersonForm,
    pub(crate) notice: Option<&'static str>,
    pub(crate) viewer_id: String,
}

#[derive(Template)]
#[template(path = "person_created.html")]
pub(crate) struct PersonCreatedPage {
    pub(crate) chrome: Chrome,
    pub(crate) person: PersonRef,
    pub(crate) login: String,
    /// `None` when the account was activated (or frozen) since its creation.
    pub(crate) code: Option<String>,
    pub(crate) expires: String,
    pub(crate) activation_url: String,
}

#[derive(Template)]
#[template(path = "import_runs.html")]
pub(crate) struct ImportRunsPage {
    pub(crate) chrome: Chrome,
    pub(crate) runs: Vec<RunView>,
    pub(crate) page: u32,
    pub(crate) has_more: bool,
}

/// An import run with its dates written out.
pub(crate) struct RunView {
    pub(crate) run: ImportRunView,
    pub(crate) started: String,
    pub(crate) finished: Option<String>,
}

impl DepartementConsolePage {
    /// A département person's profile, scope and role, in French.
    pub(crate) fn describe(&self, row: &LocalPersonRow) -> String {
        let scope = if row.scope.is_empty() {
            "tout le département".to_owned()
        } else {
            row.scope.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
        };
        let admin = if row.departement_admin { ", administrateur du département" } else { "" };
        format!("{} ({}) : {scope}{admin}", row.holder.person.profile.label_fr(), row.login)
    }
}

impl ImportRunsPage {
    /// The French name of an AAF category.
    pub(crate) fn category_label<'a>(&self, category: &'a str) -> &'a str {
        match category {
            "school" => "Établissements",
            "subject" => "Matières",
            "mef" => "Formations (MEF)",
            "staff" => "Personnels",
            "relative" => "Responsables",
            "pupil" => "Élèves",
            other => other,
        }
    }
}

/// One communication rule of the rules editor.
pub(crate) struct RuleLine {
    pub(crate) code: &'static str,
    pub(crate) label: &'static str,
    pub(crate) allowed: bool,
    /// Whether the school follows the default for this rule.
    pub(crate) is_default: bool,
    pub(crate) default_allowed: bool,
}

#[derive(Template)]
#[template(path = "rules.html")]
pub(crate) struct RulesPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    /// `/etablissement/{uai}/regles`.
    pub(crate) action: String,
    /// The school console, to go back to.
    pub(crate) console: String,
    pub(crate) rules: Vec<RuleLine>,
    pub(crate) notice: Option<&'static str>,
}

/// A reported message as the school's administrators see it.
pub(crate) struct ReportLine {
    pub(crate) id: String,
    pub(crate) subject: String,
    pub(crate) body_text: String,
    pub(crate) reason: String,
    pub(crate) sender: String,
    pub(crate) sender_profile: &'static str,
    pub(crate) reporter: String,
    pub(crate) reporter_profile: &'static str,
    pub(crate) reported_at: String,
    pub(crate) sent_at: String,
    pub(crate) recalled: Option<String>,
}

#[derive(Template)]
#[template(path = "reports.html")]
pub(crate) struct ReportsPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    /// `/etablissement/{uai}/signalements`.
    pub(crate) base: String,
    pub(crate) console: String,
    pub(crate) open: Vec<ReportLine>,
    pub(crate) handled: Vec<ReportLine>,
    pub(crate) notice: Option<&'static str>,
}

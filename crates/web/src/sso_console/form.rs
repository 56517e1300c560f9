//! The registration form of an application: what it holds as typed (so that a refused form
//! comes back with everything the administrator wrote), how it is read and checked (each
//! refused URL with its line and the precise reason of `domain::sso::UrlError`, next to its
//! field), and the `NewService` it becomes. The "Profil Pronote" box adds Pronote's attributes
//! and makes the login the principal when the form is saved, so it works without JavaScript.

use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use store::sso::admin::{ManagedService, NewService};

use crate::form::Fields;
use crate::sso_console::desk::Desk;

/// The most URLs one field may list.
const MAX_URLS: usize = 20;

/// The form as typed, with what is wrong with each field.
#[derive(Debug, Default)]
pub(crate) struct ServiceForm {
    /// The one-time token of a creation form.
    pub(crate) token: String,
    pub(crate) name: String,
    pub(crate) oidc: bool,
    /// CAS: service URLs compared whole, and URLs compared as prefixes, one per line.
    pub(crate) exact_urls: String,
    pub(crate) prefix_urls: String,
    /// OpenID Connect: redirect URIs (exact) and post-logout redirect URIs, one per line.
    pub(crate) redirect_urls: String,
    pub(crate) logout_urls: String,
    /// School ids (département desk only; none: the whole département).
    pub(crate) schools: Vec<String>,
    /// Profile codes.
    pub(crate) profiles: Vec<String>,
    pub(crate) principal_login: bool,
    /// Attribute codes.
    pub(crate) attributes: Vec<String>,
    pub(crate) pronote: bool,
    pub(crate) second_factor: bool,
    pub(crate) proxy: bool,
    pub(crate) confidential: bool,
    pub(crate) name_error: Option<String>,
    pub(crate) protocol_error: Option<String>,
    pub(crate) exact_errors: Vec<String>,
    pub(crate) prefix_errors: Vec<String>,
    pub(crate) redirect_errors: Vec<String>,
    pub(crate) logout_errors: Vec<String>,
    pub(crate) schools_error: Option<String>,
    pub(crate) profiles_error: Option<String>,
    pub(crate) attributes_error: Option<String>,
    /// A refusal of the store (a URL that another registration holds).
    pub(crate) store_error: Option<String>,
}

impl ServiceForm {
    /// An empty creation form: CAS, opaque principal, no attribute (the minimal release).
    pub(crate) fn blank(token: String) -> ServiceForm {
        ServiceForm { token, ..ServiceForm::default() }
    }

    /// The form of an existing application.
    pub(crate) fn of(managed: &ManagedService) -> ServiceForm {
        let service = &managed.service;
        let lines = |kind: UrlMatch| {
            service
                .urls
                .iter()
                .filter(|u| u.match_kind == kind)
                .map(|u| u.url.clone())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let oidc = service.protocol == Protocol::Oidc;
        ServiceForm {
            name: service.name.clone(),
            oidc,
            exact_urls: if oidc { String::new() } else { lines(UrlMatch::Exact) },
            prefix_urls: lines(UrlMatch::Prefix),
            redirect_urls: if oidc { lines(UrlMatch::Exact) } else { String::new() },
            logout_urls: service.logout_urls.join("\n"),
            schools: managed.schools.iter().map(|s| s.id.clone()).collect(),
            profiles: managed.profiles.iter().map(|p| p.as_str().to_owned()).collect(),
            principal_login: service.principal == Principal::Login,
            attributes: service.attributes.iter().map(|a| a.as_str().to_owned()).collect(),
            second_factor: service.require_second_factor,
            proxy: service.allow_proxy,
            confidential: service.client_secret_hash.is_some(),
            ..ServiceForm::default()
        }
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.name_error.is_some()
            || self.protocol_error.is_some()
            || !self.exact_errors.is_empty()
            || !self.prefix_errors.is_empty()
            || !self.redirect_errors.is_empty()
            || !self.logout_errors.is_empty()
            || self.schools_error.is_some()
            || self.profiles_error.is_some()
            || self.attributes_error.is_some()
            || self.store_error.is_some()
    }

    /// Reads a submitted form. `fixed` is the protocol of an application being changed (it
    /// cannot change); `known_schools` the ids the desk may choose from (département desk).
    pub(crate) fn read(
        fields: &Fields,
        desk: &Desk,
        fixed: Option<Protocol>,
        known_schools: &[String],
    ) -> ServiceForm {
        let mut form = ServiceForm {
            token: fields.get("jeton").trim().to_owned(),
            name: fields.get("nom").trim().to_owned(),
            oidc: match fixed {
                Some(protocol) => protocol == Protocol::Oidc,
                None => fields.get("protocole") == "oidc",
            },
            exact_urls: fields.get("exactes").to_owned(),
            prefix_urls: fields.get("prefixes").to_owned(),
            redirect_urls: fields.get("redirections").to_owned(),
            logout_urls: fields.get("deconnexions").to_owned(),
            schools: if desk.is_departement() {
                fields.all("ecoles").into_iter().map(str::to_owned).collect()
            } else {
                Vec::new()
            },
            profiles: fields.all("profils").into_iter().map(str::to_owned).collect(),
            principal_login: fields.get("principal") == "login",
            attributes: fields.all("attributs").into_iter().map(str::to_owned).collect(),
            pronote: fields.get("pronote") == "1",
            second_factor: fields.get("double_facteur") == "1",
            proxy: fields.get("proxy") == "1",
            confidential: fields.get("client") == "confidentiel",
            ..ServiceForm::default()
        };
        if form.pronote {
            for attribute in Attribute::PRONOTE {
                if !form.attributes.iter().any(|a| a == attribute.as_str()) {
                    form.attributes.push(attribute.as_str().to_owned());
                }
            }
            form.principal_login = true;
        }
        form.check(fields, fixed, known_schools);
        form
    }

    fn check(&mut self, fields: &Fields, fixed: Option<Protocol>, known_schools: &[String]) {
        if self.name.is_empty() {
            self.name_error = Some("Donnez un nom à l'application.".to_owned());
        } else if self.name.chars().count() > 120 || self.name.chars().any(char::is_control) {
            self.name_error =
                Some("Le nom doit tenir en 120 caractères, sur une ligne.".to_owned());
        }
        if fixed.is_none() && !matches!(fields.get("protocole"), "cas" | "oidc") {
            self.protocol_error = Some("Choisissez CAS ou OpenID Connect.".to_owned());
        }

        if self.oidc {
            if !self.exact_urls.trim().is_empty() || !self.prefix_urls.trim().is_empty() {
                self.protocol_error = Some(
                    "Le protocole choisi est OpenID Connect : videz les adresses CAS, ou \
                     choisissez CAS."
                        .to_owned(),
                );
            }
            let (redirects, errors) = url_lines(&self.redirect_urls, UrlMatch::Exact);
            self.redirect_errors = errors;
            if redirects.is_empty() && self.redirect_errors.is_empty() {
                self.redirect_errors
                    .push("Indiquez au moins une adresse de retour de l'application.".to_owned());
            }
            self.logout_errors = url_lines(&self.logout_urls, UrlMatch::Exact).1;
        } else {
            if !self.redirect_urls.trim().is_empty() || !self.logout_urls.trim().is_empty() {
                self.protocol_error = Some(
                    "Le protocole choisi est CAS : videz les adresses OpenID Connect, ou \
                     choisissez OpenID Connect."
                        .to_owned(),
                );
            }
            let (exact, exact_errors) = url_lines(&self.exact_urls, UrlMatch::Exact);
            let (prefix, prefix_errors) = url_lines(&self.prefix_urls, UrlMatch::Prefix);
            self.exact_errors = exact_errors;
            self.prefix_errors = prefix_errors;
            if exact.is_empty()
                && prefix.is_empty()
                && self.exact_errors.is_empty()
                && self.prefix_errors.is_empty()
            {
                self.prefix_errors.push(
                    "Indiquez au moins une adresse de service, exacte ou par préfixe.".to_owned(),
                );
            }
        }

        if self.schools.iter().any(|id| !known_schools.contains(id)) {
            self.schools_error = Some("Un des collèges choisis n'existe pas.".to_owned());
        }
        if self.profiles.is_empty() {
            self.profiles_error =
                Some("Cochez au moins un profil qui pourra utiliser l'application.".to_owned());
        } else if self.profiles.iter().any(|p| Profile::parse(p).is_none()) {
            self.profiles_error = Some("Un des profils choisis n'existe pas.".to_owned());
        }
        if self.attributes.iter().any(|a| Attribute::parse(a).is_none()) {
            self.attributes_error = Some("Un des attributs choisis n'existe pas.".to_owned());
        }
    }

    /// The registration this form asks for (the store scopes it again to the desk).
    pub(crate) fn to_new_service(&self, desk: &Desk) -> NewService {
        let lines = |text: &str, kind: UrlMatch| -> Vec<(UrlMatch, String)> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| (kind, l.to_owned()))
                .collect()
        };
        let (urls, logout_urls) = if self.oidc {
            let logout = self
                .logout_urls
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            (lines(&self.redirect_urls, UrlMatch::Exact), logout)
        } else {
            let mut urls = lines(&self.exact_urls, UrlMatch::Exact);
            urls.extend(lines(&self.prefix_urls, UrlMatch::Prefix));
            (urls, Vec::new())
        };
        let mut attributes: Vec<Attribute> =
            self.attributes.iter().filter_map(|a| Attribute::parse(a)).collect();
        attributes.sort();
        attributes.dedup();
        NewService {
            name: self.name.clone(),
            protocol: if self.oidc { Protocol::Oidc } else { Protocol::Cas },
            school_id: desk.school.as_ref().map(|s| s.id.clone()),
            principal: if self.principal_login { Principal::Login } else { Principal::Opaque },
            attributes,
            require_second_factor: self.second_factor,
            allow_proxy: self.proxy && !self.oidc,
            client_id: None,
            client_secret_hash: None,
            urls,
            logout_urls,
            schools: self.schools.clone(),
            profiles: Profile::ALL
                .into_iter()
                .filter(|p| self.profiles.iter().any(|c| c == p.as_str()))
                .collect(),
        }
    }
}

/// The URLs of a text field, one per line, and the refusal of each bad line (its number, as
/// typed, and the precise reason).
fn url_lines(text: &str, kind: UrlMatch) -> (Vec<String>, Vec<String>) {
    let mut urls = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match domain::sso::register_url(line, kind) {
            Ok(registered) => urls.push(registered.url),
            Err(error) => errors.push(format!("Ligne {} (« {line} ») : {error}.", index + 1)),
        }
    }
    if urls.len() + errors.len() > MAX_URLS {
        errors.push(format!("{MAX_URLS} adresses au plus par champ."));
    }
    (urls, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_line_is_refused_with_its_number_and_reason() {
        let text = "https://ok.example.fr/pronote/\n\nhttp://evil.tld/\nhttps://a@b.fr/x/";
        let (urls, errors) = url_lines(text, UrlMatch::Prefix);
        assert_eq!(urls, ["https://ok.example.fr/pronote/"]);
        assert_eq!(errors.len(), 2);
        assert!(errors[0].starts_with("Ligne 3 (« http://evil.tld/ ») : l'adresse doit commencer"));
        assert!(errors[1].contains("ni identifiant ni mot de passe"));
    }
}

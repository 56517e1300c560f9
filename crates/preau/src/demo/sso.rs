//! The demo's single sign-on and catalogue: one Pronote CAS application per collège (the
//! collège's own registration: its service URL prefix on Index Éducation's hosting, Pronote's
//! attributes, the login as principal, for its pupils, parents, teachers and staff), and a
//! catalogue of about a dozen resources (each collège's Pronote tile, the département library's
//! digital offer, a dictionary, digital textbooks per level, audiobooks for DYS pupils, services
//! to families). Everything goes through the same store calls as the consoles, as the
//! département's administrator, and what already exists is left alone, so that running the demo
//! again on the same data registers nothing twice. The addresses are plausible but nothing
//! calls them.

use anyhow::Context;
use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use store::resources::NewResource;
use store::sso::admin::{AdminScope, NewService};

/// What the step registered (not counting what was already there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Registered {
    pub applications: usize,
    pub resources: usize,
}

/// The people of a collège.
const SCHOOL_PEOPLE: [Profile; 4] =
    [Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff];

/// The title of every collège's Pronote tile (the tile names its collège).
pub const PRONOTE: &str = "Pronote";

/// The name of a collège's Pronote application in the registry.
pub fn pronote_name(school_name: &str) -> String {
    format!("{PRONOTE} ({school_name})")
}

/// The address of a collège's Pronote, as Index Éducation hosts it.
pub fn pronote_url(uai: &str) -> String {
    format!("https://{}.index-education.net/pronote/", uai.to_ascii_lowercase())
}

fn pronote_service(school: &store::directory::SchoolRef) -> NewService {
    let (school_id, uai) = (school.id.as_str(), school.uai.as_str());
    NewService {
        name: pronote_name(&school.name),
        protocol: Protocol::Cas,
        school_id: Some(school_id.to_owned()),
        principal: Principal::Login,
        attributes: Attribute::PRONOTE.to_vec(),
        require_second_factor: false,
        allow_proxy: false,
        client_id: None,
        client_secret_hash: None,
        urls: vec![(UrlMatch::Prefix, pronote_url(uai))],
        logout_urls: Vec::new(),
        schools: vec![school_id.to_owned()],
        profiles: SCHOOL_PEOPLE.to_vec(),
    }
}

fn codes(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| (*c).to_owned()).collect()
}

/// A département resource for the people of every collège.
fn resource(title: &str, description: &str, kind: &str, url: &str) -> NewResource {
    NewResource {
        title: title.to_owned(),
        description: description.to_owned(),
        kind: kind.to_owned(),
        url: url.to_owned(),
        profiles: SCHOOL_PEOPLE.to_vec(),
        ..NewResource::default()
    }
}

/// The département's own catalogue.
fn departement_catalogue(departement_name: &str) -> Vec<NewResource> {
    let library = format!("Médiathèque départementale {}", of_name(departement_name));
    let host = "mediatheque-numerique.departement-demo.fr";
    let mut books = resource(
        &format!("{library} : livres numériques"),
        "Romans, bandes dessinées et documentaires à emprunter sur tablette ou liseuse, avec \
         votre compte Préau.",
        "livres",
        &format!("https://{host}/livres"),
    );
    books.dys = codes(&["police-adaptee", "texte-aere"]);
    let mut films = resource(
        &format!("{library} : films"),
        "Films et documentaires en streaming, sous-titrés pour la plupart.",
        "films",
        &format!("https://{host}/films"),
    );
    films.dys = codes(&["sous-titres"]);
    let music = resource(
        &format!("{library} : musique"),
        "Albums et concerts en écoute, du classique aux musiques actuelles.",
        "musique",
        &format!("https://{host}/musique"),
    );
    let mut press = resource(
        &format!("{library} : presse"),
        "Quotidiens, magazines et presse jeunesse en ligne.",
        "presse",
        &format!("https://{host}/presse"),
    );
    press.subjects = codes(&["education-medias"]);

    let mut dictionary = resource(
        "Dictionnaire et encyclopédie junior",
        "Définitions, conjugaisons et articles illustrés, avec lecture à voix haute.",
        "dictionnaire",
        "https://dictionnaire-junior.edu-demo.fr/",
    );
    dictionary.subjects = codes(&["francais", "langues-anciennes"]);
    dictionary.dys = codes(&["synthese-vocale"]);
    dictionary.profiles = vec![Profile::Pupil, Profile::Teacher];

    let mut audiobooks = resource(
        "Bibliothèque sonore : livres audio adaptés",
        "Les œuvres étudiées au collège en livre audio et en texte agrandi, pour les élèves \
         qui ont un trouble DYS.",
        "livres",
        "https://bibliotheque-sonore.edu-demo.fr/college",
    );
    audiobooks.subjects = codes(&["francais"]);
    audiobooks.dys = codes(&["livre-audio", "police-adaptee", "contraste-renforce"]);

    let mut families = resource(
        "Transports scolaires et restauration",
        "Le service du département pour inscrire votre enfant au car scolaire et payer la \
         cantine.",
        "famille",
        "https://services-familles.departement-demo.fr/",
    );
    families.profiles = vec![Profile::Relative];

    let mut orientation = resource(
        "Orientation après la 3e",
        "Métiers, formations et calendrier de l'orientation, pour les élèves et leurs parents.",
        "orientation",
        "https://orientation.edu-demo.fr/apres-la-troisieme",
    );
    orientation.levels = codes(&["4e", "3e"]);

    let mut catalogue =
        vec![books, films, music, press, dictionary, audiobooks, families, orientation];
    for (level, subjects) in [
        ("6e", ["francais", "mathematiques", "histoire-geographie", "anglais"]),
        ("5e", ["francais", "mathematiques", "svt", "physique-chimie"]),
        ("4e", ["francais", "mathematiques", "svt", "physique-chimie"]),
        ("3e", ["francais", "mathematiques", "histoire-geographie", "technologie"]),
    ] {
        let mut manuals = resource(
            &format!("Manuels numériques de {level}"),
            &format!("Les manuels de {level} en version numérique, avec exercices interactifs."),
            "manuel",
            &format!("https://manuels.edu-demo.fr/college/{level}"),
        );
        manuals.levels = codes(&[level]);
        manuals.subjects = codes(&subjects);
        manuals.profiles = vec![Profile::Pupil, Profile::Teacher];
        if level == "6e" {
            manuals.dys = codes(&["police-adaptee", "synthese-vocale"]);
        }
        catalogue.push(manuals);
    }
    catalogue
}

/// "de la Vienne", "du Gard", "de l'Hérault", "des Landes" would need a gazetteer; the demo
/// says "de <name>" unless the name already starts with an article.
fn of_name(name: &str) -> String {
    let lower = name.to_lowercase();
    if lower.starts_with("la ") || lower.starts_with("l'") {
        format!("de {name}")
    } else if let Some(rest) = name.strip_prefix("Le ").or_else(|| name.strip_prefix("le ")) {
        format!("du {rest}")
    } else if let Some(rest) = name.strip_prefix("Les ").or_else(|| name.strip_prefix("les ")) {
        format!("des {rest}")
    } else {
        format!("de {name}")
    }
}

/// Registers each collège's Pronote and the catalogue, as the département administrator
/// `agent_login`, for the collèges of `uais`. What exists already is kept.
///
/// # Errors
/// A collège that cannot be found, a registration the store refuses, or the database's failure.
pub async fn register(
    store: &store::Store,
    agent_login: &str,
    departement_name: &str,
    uais: &[String],
) -> anyhow::Result<Registered> {
    let agent = store
        .login_account(agent_login)
        .await
        .map_err(|error| anyhow::anyhow!("lecture de l'agent du département : {error}"))?
        .context("agent du département introuvable")?
        .person_id;
    let departement = AdminScope::Departement;
    let services = store
        .managed_services(&agent, &departement)
        .await
        .map_err(|error| anyhow::anyhow!("lecture des applications : {error}"))?;
    let resources = store
        .managed_resources(&agent, &departement)
        .await
        .map_err(|error| anyhow::anyhow!("lecture des ressources : {error}"))?;
    let mut registered = Registered::default();

    for uai in uais {
        let school = store
            .administered_school(&agent, uai)
            .await
            .map_err(|error| anyhow::anyhow!("lecture du collège {uai} : {error}"))?
            .with_context(|| format!("collège {uai} introuvable"))?;
        let owned_by = |owner: &Option<store::directory::SchoolRef>| {
            owner.as_ref().is_some_and(|o| o.id == school.id)
        };
        let scope = AdminScope::School(school.id.clone());
        let name = pronote_name(&school.name);
        let existing = services.iter().find(|s| s.name == name && owned_by(&s.owner));
        let service_id = match existing {
            Some(service) => service.id.clone(),
            None => {
                registered.applications += 1;
                store
                    .create_service(&agent, &scope, &pronote_service(&school))
                    .await
                    .map_err(|error| anyhow::anyhow!("Pronote du collège {uai} : {error}"))?
            }
        };
        if resources.iter().any(|r| r.title == PRONOTE && owned_by(&r.owner)) {
            continue;
        }
        let tile = NewResource {
            title: PRONOTE.to_owned(),
            description: "Cahier de textes, notes, absences et emploi du temps du collège."
                .to_owned(),
            kind: "vie-scolaire".to_owned(),
            url: pronote_url(uai),
            service_id: Some(service_id),
            profiles: SCHOOL_PEOPLE.to_vec(),
            ..NewResource::default()
        };
        store
            .create_resource(&agent, &scope, &tile)
            .await
            .map_err(|error| anyhow::anyhow!("ressource Pronote du collège {uai} : {error}"))?;
        registered.resources += 1;
    }

    for new in departement_catalogue(departement_name) {
        if resources.iter().any(|r| r.title == new.title && r.owner.is_none()) {
            continue;
        }
        store
            .create_resource(&agent, &departement, &new)
            .await
            .map_err(|error| anyhow::anyhow!("ressource « {} » : {error}", new.title))?;
        registered.resources += 1;
    }
    Ok(registered)
}

#[cfg(test)]
mod tests {
    use store::fixtures::ids;
    use store::resources::{OpenTarget, ResourceFilter};

    use super::*;

    #[test]
    fn the_library_is_named_after_the_departement() {
        assert_eq!(of_name("Vienne"), "de Vienne");
        assert_eq!(of_name("La Réunion"), "de La Réunion");
        assert_eq!(of_name("Les Landes"), "des Landes");
    }

    #[tokio::test]
    async fn each_collège_gets_its_pronote_once_and_the_catalogue_is_complete() {
        let store = store::testing::store().await;
        store.load_fixture().await.unwrap();
        let uais = [ids::UAI_1.to_owned(), ids::UAI_2.to_owned()];

        let first = register(&store, "agnes.vidal", "Vienne", &uais).await.unwrap();
        let again = register(&store, "agnes.vidal", "Vienne", &uais).await.unwrap();

        assert_eq!(first, Registered { applications: 2, resources: 14 });
        assert_eq!(again, Registered::default(), "a second run registers nothing");
        let thomas = store.resources_for(ids::THOMAS, &ResourceFilter::default()).await.unwrap();
        let pronotes: Vec<&store::resources::Tile> =
            thomas.iter().filter(|t| t.title == PRONOTE).collect();
        assert_eq!(pronotes.len(), 2, "one Pronote per collège for a teacher of both");
        for tile in pronotes {
            let uai = tile.owner.as_ref().map(|o| o.uai.clone()).unwrap_or_default();
            let target = store.open_resource(ids::THOMAS, &tile.id, 0, false).await.unwrap();
            assert_eq!(target, Some(OpenTarget::Cas(pronote_url(&uai))));
        }
        let parent = store.resources_for(ids::PAUL, &ResourceFilter::default()).await.unwrap();
        assert!(parent.iter().any(|t| t.kind == "famille"));
        assert!(
            !parent.iter().any(|t| t.kind == "manuel"),
            "textbooks are for pupils and teachers"
        );
        let url = "https://0860001a.index-education.net/pronote/eleve.html";
        let service = store.cas_service_for_url(url).await.unwrap().unwrap();
        assert_eq!(service.principal, Principal::Login);
        assert_eq!(service.attributes, Attribute::PRONOTE.to_vec());
    }
}

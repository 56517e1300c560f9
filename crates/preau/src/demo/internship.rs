//! The demo's internship platform, written through the store's production functions once the
//! directory, the timetables and the collèges' places are in: the national sectors (the list of
//! `../shared/data/internships/monstage_sectors.yml` when it is there, else a short list of the
//! same names), the built-in gazetteer, two 3e internship weeks per collège in the coming weeks
//! (from today in the collège's zone), the rural and priority-education profiles of some
//! collèges, about forty verified host organisations in the demo's towns with some 150 offers
//! (French titles and descriptions, a tutor, lawful hours for a minor, a few reserved), one host
//! waiting for verification, and the showcase host whose manager's login and activation code are
//! printed with the other showcase accounts. The offers are published as of three weeks ago, so
//! that the head start of rural and priority-education pupils is over for them.

use std::path::Path;

use anyhow::Context;
use domain::internship::geo::Point;
use domain::internship::{DayHours, IsoWeek, OfferState, Reservation, WeekHours};
use store::internship::desk::{PriorityEducation, SchoolInternshipProfile};
use store::internship::hosts::{HostFilter, HostForm, PersonForm};
use store::internship::offers::OfferInput;

use crate::config::Config;
use crate::demo::DemoAccount;
use crate::demo::model::{DemoRng, Departement};
use crate::demo::names::{FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, SURNAMES};
use crate::demo::towns::{TOWNS, Town};

/// Where the national list of sectors is looked for, from the working directory.
pub const SECTORS_FILE: &str = "../shared/data/internships/monstage_sectors.yml";

/// The showcase host: its name, its manager (last name, first name) and the SIRET it is found
/// again by when the demo runs a second time on the same data.
pub const SHOWCASE_HOST: &str = "Boulangerie Pelletier";
pub const SHOWCASE_HOST_MANAGER: (&str, &str) = ("Pelletier", "Margaux");

/// How many host organisations the demo creates (the showcase and the pending one included).
pub const HOSTS: usize = 40;

/// How many offers in all.
pub const OFFERS: usize = 150;

/// The sectors written when the national list is not at hand: names of the national list, with
/// identifiers made for the demo.
const FALLBACK_SECTORS: [(&str, &str); 16] = [
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e01", "Agriculture"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e02", "Automobile"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e03", "Bâtiment et travaux publics (BTP)"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e04", "Commerce et distribution"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e05", "Comptabilité, gestion, ressources humaines"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e06", "Culture et patrimoine"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e07", "Édition, librairie, bibliothèque"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e08", "Environnement"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e09", "Filiere bois"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e10", "Hôtellerie, restauration"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e11", "Industrie alimentaire"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e12", "Informatique et réseaux"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e13", "Médical"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e14", "Paramédical"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e15", "Social"),
    ("6f1c2a3e-9d4b-4c8a-b1e2-0a7d5c3b9e16", "Sport"),
];

/// The towns the département counts as rural for the demo.
const RURAL_TOWNS: [&str; 17] = [
    "Loudun",
    "Montmorillon",
    "Civray",
    "Lusignan",
    "Lussac-les-Châteaux",
    "Couhé",
    "Availles-Limouzine",
    "Charroux",
    "Usson-du-Poitou",
    "Saint-Savin",
    "Pleumartin",
    "Mirebeau",
    "Lencloître",
    "La Roche-Posay",
    "Rouillé",
    "Dangé-Saint-Romain",
    "Saint-Gervais-les-Trois-Clochers",
];

/// A kind of host and the offers it makes: the name pattern (`{nom}` is a surname, `{ville}` the
/// town), its legal kind, the sector (a national name), the tutor's role, and offers as
/// (title, description).
struct HostKindDemo {
    name: &'static str,
    kind: &'static str,
    sector: &'static str,
    representative_role: &'static str,
    tutor_role: &'static str,
    offers: [(&'static str, &'static str); 3],
}

const fn kind(
    name: &'static str,
    kind: &'static str,
    sector: &'static str,
    roles: (&'static str, &'static str),
    offers: [(&'static str, &'static str); 3],
) -> HostKindDemo {
    HostKindDemo { name, kind, sector, representative_role: roles.0, tutor_role: roles.1, offers }
}

const KINDS: [HostKindDemo; 16] = [
    kind(
        "Boulangerie {nom}",
        "company",
        "Commerce et distribution",
        ("Gérant", "Boulanger"),
        [
            (
                "Découverte du métier de boulanger",
                "Du pétrin au four : préparer les pâtes, façonner les baguettes et les \
                 viennoiseries, suivre la cuisson. Le stagiaire observe le fournil et aide à la \
                 mise en place, sans manipuler le four.",
            ),
            (
                "Vente et accueil en boulangerie-pâtisserie",
                "Accueillir les clients, présenter les produits, tenir la vitrine propre et \
                 découvrir la gestion des commandes et des stocks d'un commerce de proximité.",
            ),
            (
                "Pâtisserie : les coulisses du laboratoire",
                "Observer la fabrication des entremets, tartes et petits fours, les règles \
                 d'hygiène et l'organisation d'une journée de production.",
            ),
        ],
    ),
    kind(
        "Garage {nom} Automobiles",
        "company",
        "Automobile",
        ("Gérant", "Chef d'atelier"),
        [
            (
                "Mécanique automobile : l'atelier au quotidien",
                "Découvrir l'entretien d'un véhicule (vidange, pneus, freins), le diagnostic \
                 électronique et l'accueil des clients à la réception de l'atelier.",
            ),
            (
                "Carrosserie et peinture",
                "Observer le redressage d'une aile, la préparation des surfaces et la mise en \
                 peinture en cabine, avec les équipements de protection.",
            ),
            (
                "Conseiller après-vente automobile",
                "Suivre le conseiller qui reçoit les clients, établit les devis et planifie les \
                 interventions de l'atelier.",
            ),
        ],
    ),
    kind(
        "Mairie de {ville}",
        "public",
        "Comptabilité, gestion, ressources humaines",
        ("Maire", "Secrétaire générale"),
        [
            (
                "Les métiers d'une mairie",
                "État civil, urbanisme, services techniques, école : une semaine pour voir comment \
                 une commune sert ses habitants, et assister à la préparation d'un conseil \
                 municipal.",
            ),
            (
                "Services techniques municipaux",
                "Espaces verts, voirie, bâtiments communaux : accompagner les agents sur leurs \
                 chantiers et découvrir la planification des travaux.",
            ),
            (
                "Médiathèque municipale",
                "Accueil du public, prêt et rangement des documents, préparation d'une animation \
                 pour les enfants.",
            ),
        ],
    ),
    kind(
        "Pharmacie {nom}",
        "company",
        "Paramédical",
        ("Pharmacienne titulaire", "Préparatrice en pharmacie"),
        [
            (
                "Découverte de l'officine",
                "Observer le conseil au comptoir, la réception des commandes et le rangement des \
                 médicaments, et découvrir les études de pharmacie et de préparateur.",
            ),
            (
                "Préparateur en pharmacie",
                "Suivre la préparatrice : gestion des stocks, préparations simples, tiers payant \
                 et relation avec les patients.",
            ),
            (
                "Parapharmacie et conseil",
                "Découvrir le rayon de parapharmacie, la mise en valeur des produits et le \
                 conseil aux clients.",
            ),
        ],
    ),
    kind(
        "EHPAD Les Tilleuls de {ville}",
        "public",
        "Social",
        ("Directrice", "Infirmière coordinatrice"),
        [
            (
                "Accompagner les personnes âgées",
                "Découvrir la vie d'un établissement pour personnes âgées : animations, repas, \
                 soins, et le travail des aides-soignants, des infirmiers et des animateurs.",
            ),
            (
                "Animation en maison de retraite",
                "Préparer et animer des ateliers (jeux, chant, jardin) avec l'animatrice de \
                 l'établissement.",
            ),
            (
                "Cuisine collective",
                "Observer la préparation des repas adaptés aux résidents, les règles d'hygiène \
                 et l'organisation du service.",
            ),
        ],
    ),
    kind(
        "GAEC {nom}",
        "company",
        "Agriculture",
        ("Associé", "Éleveur"),
        [
            (
                "Élevage laitier : une semaine à la ferme",
                "Traite, alimentation des vaches, soins aux veaux et entretien des bâtiments, \
                 avec un éleveur du GAEC.",
            ),
            (
                "Grandes cultures et machinisme agricole",
                "Découvrir le travail des champs selon la saison, l'entretien du matériel et la \
                 vente des récoltes à la coopérative.",
            ),
            (
                "Élevage de chèvres et fromagerie",
                "Soins aux chèvres, fabrication du fromage à la ferme et vente au marché.",
            ),
        ],
    ),
    kind(
        "Menuiserie {nom}",
        "company",
        "Filiere bois",
        ("Gérant", "Menuisier"),
        [
            (
                "Menuisier : du plan à la pose",
                "Lire un plan, choisir le bois, observer les machines de l'atelier et la pose de \
                 fenêtres chez un client.",
            ),
            (
                "Ébénisterie et restauration de meubles",
                "Observer la restauration d'un meuble ancien : décapage, assemblage, vernis.",
            ),
            (
                "Charpente et ossature bois",
                "Découvrir la préparation d'une charpente en atelier et la sécurité sur un \
                 chantier.",
            ),
        ],
    ),
    kind(
        "{nom} Bâtiment",
        "company",
        "Bâtiment et travaux publics (BTP)",
        ("Directeur", "Chef de chantier"),
        [
            (
                "Maçonnerie et gros œuvre",
                "Suivre une équipe sur un chantier de maison individuelle, découvrir les \
                 métiers du gros œuvre et les règles de sécurité.",
            ),
            (
                "Bureau d'études du bâtiment",
                "Observer la réalisation des plans, des devis et du planning d'un chantier.",
            ),
            (
                "Électricité du bâtiment",
                "Accompagner un électricien sur des installations neuves et des rénovations.",
            ),
        ],
    ),
    kind(
        "Librairie {nom}",
        "company",
        "Édition, librairie, bibliothèque",
        ("Libraire gérante", "Libraire"),
        [
            (
                "Libraire d'un jour",
                "Réception des nouveautés, conseil aux lecteurs, vitrine et préparation d'une \
                 rencontre avec un auteur.",
            ),
            (
                "Le rayon jeunesse",
                "Découvrir la sélection des livres pour enfants et adolescents et l'accueil des \
                 classes.",
            ),
            (
                "Commerce du livre et gestion des stocks",
                "Commandes aux éditeurs, retours, inventaire : les coulisses d'une librairie \
                 indépendante.",
            ),
        ],
    ),
    kind(
        "Hôtel-restaurant Le Relais de {ville}",
        "company",
        "Hôtellerie, restauration",
        ("Gérant", "Chef de cuisine"),
        [
            (
                "Cuisine de restaurant",
                "Mise en place, préparation des entrées et des desserts, dressage des assiettes \
                 aux côtés du chef.",
            ),
            (
                "Service en salle et accueil",
                "Dresser les tables, accueillir les clients, découvrir le service et la \
                 réception de l'hôtel.",
            ),
            (
                "Réception d'hôtel",
                "Réservations, arrivées et départs des clients, renseignements touristiques.",
            ),
        ],
    ),
    kind(
        "Cabinet vétérinaire {nom}",
        "company",
        "Médical",
        ("Vétérinaire associée", "Auxiliaire spécialisée vétérinaire"),
        [
            (
                "Découverte d'une clinique vétérinaire",
                "Observer les consultations, l'accueil des propriétaires et les soins aux \
                 animaux de compagnie, aux côtés des vétérinaires et des auxiliaires.",
            ),
            (
                "Auxiliaire vétérinaire",
                "Préparer les salles de consultation, soigner les animaux hospitalisés, tenir \
                 l'accueil.",
            ),
            ("Vétérinaire rural", "Accompagner la vétérinaire dans les élevages des environs."),
        ],
    ),
    kind(
        "{nom} Informatique",
        "company",
        "Informatique et réseaux",
        ("Directeur", "Technicien réseaux"),
        [
            (
                "Technicien informatique et réseaux",
                "Installer des postes, dépanner les clients, découvrir les réseaux et la \
                 sécurité informatique d'une petite entreprise.",
            ),
            (
                "Développement de sites web",
                "Observer la conception d'un site, du cahier des charges aux tests, avec une \
                 développeuse.",
            ),
            (
                "Assistance aux utilisateurs",
                "Répondre aux appels des clients et suivre la résolution des incidents.",
            ),
        ],
    ),
    kind(
        "Centre social de {ville}",
        "association",
        "Social",
        ("Président", "Animatrice"),
        [
            (
                "Animation socioculturelle",
                "Participer aux activités du centre : accueil de loisirs, aide aux devoirs, \
                 ateliers pour les familles.",
            ),
            (
                "Accueil et accompagnement des habitants",
                "Découvrir l'accueil du public, l'écoute et l'orientation vers les services.",
            ),
            (
                "Épicerie solidaire",
                "Réception des dons, mise en rayon et accueil des bénéficiaires avec les \
                 bénévoles.",
            ),
        ],
    ),
    kind(
        "Club sportif de {ville}",
        "association",
        "Sport",
        ("Présidente", "Éducateur sportif"),
        [
            (
                "Éducateur sportif",
                "Préparer et encadrer les entraînements des plus jeunes, découvrir le métier et \
                 les diplômes d'éducateur.",
            ),
            (
                "Gestion d'un club sportif",
                "Inscriptions, organisation d'un tournoi, communication du club.",
            ),
            (
                "Entretien des équipements sportifs",
                "Suivre les agents qui entretiennent les terrains et le gymnase.",
            ),
        ],
    ),
    kind(
        "Musée et patrimoine de {ville}",
        "public",
        "Culture et patrimoine",
        ("Directrice", "Médiatrice culturelle"),
        [
            (
                "Médiation culturelle au musée",
                "Préparer une visite pour des enfants, accueillir le public et découvrir la \
                 conservation des collections.",
            ),
            (
                "Les réserves d'un musée",
                "Inventaire, conditionnement et prêt des œuvres, avec le régisseur.",
            ),
            (
                "Guide du patrimoine",
                "Découvrir la visite guidée des monuments de la ville et sa préparation.",
            ),
        ],
    ),
    kind(
        "Syndicat des eaux et rivières de {ville}",
        "public",
        "Environnement",
        ("Président", "Technicienne rivière"),
        [
            (
                "Technicien de rivière",
                "Mesures de la qualité de l'eau, suivi des berges et de la faune, avec la \
                 technicienne du syndicat.",
            ),
            (
                "Station d'épuration",
                "Découvrir le traitement des eaux usées et les analyses du laboratoire.",
            ),
            (
                "Sensibilisation à l'environnement",
                "Préparer une animation sur l'eau pour les écoles de la commune.",
            ),
        ],
    ),
];

/// What the internship step created.
#[derive(Debug, Clone)]
pub struct InternshipDemo {
    pub sectors: usize,
    pub hosts: usize,
    pub offers: usize,
    /// The showcase host's manager, to print with the other accounts.
    pub host_account: DemoAccount,
}

fn store_error(what: &str) -> impl FnOnce(store::StoreError) -> anyhow::Error + '_ {
    move |error| anyhow::anyhow!("{what} : {error}")
}

/// Writes the internship platform of the demo. `agent_login` is the département's
/// administrator, who creates the hosts and sets the collèges' weeks and profiles.
///
/// # Errors
/// A refusal of the store (the demo's data are then wrong) or a database failure.
pub async fn populate(
    config: &Config,
    store: &store::Store,
    departement: &Departement,
    agent_login: &str,
) -> anyhow::Result<InternshipDemo> {
    let agent = store
        .login_account(agent_login)
        .await
        .map_err(store_error("lecture de l'agent du département"))?
        .context("agent du département introuvable")?
        .person_id;
    let sectors = import_sectors(store, Path::new(SECTORS_FILE)).await?;
    store.ensure_gazetteer().await.map_err(store_error("répertoire des communes"))?;
    let weeks = school_weeks(store, departement, &agent).await?;

    let showcase_siret = siret_for(0);
    let filter = HostFilter { status: None, query: showcase_siret.clone() };
    let existing =
        store.departement_hosts(&agent, &filter, 1).await.map_err(store_error("organismes"))?;
    if let Some(host) = existing.first() {
        let account = existing_host_account(store, &agent, &host.id, &host.city).await?;
        return Ok(InternshipDemo { sectors, hosts: 0, offers: 0, host_account: account });
    }

    let sector_ids = store.sectors().await.map_err(store_error("secteurs"))?;
    let mut rng = DemoRng::new(departement.people() as u64 ^ 0x0053_5441_4745);
    let plan = Plan { departement, weeks: &weeks, sectors: &sector_ids };
    let (hosts, offers, host_account) =
        create_hosts(config, store, &agent, &plan, &mut rng).await?;
    Ok(InternshipDemo { sectors, hosts, offers, host_account })
}

/// Imports the national sectors when their file is there, else the short list.
async fn import_sectors(store: &store::Store, file: &Path) -> anyhow::Result<usize> {
    let sectors = match std::fs::read(file) {
        Ok(bytes) => {
            formats::internship_reference::parse_sectors(&bytes)
                .map_err(|problem| anyhow::anyhow!("{} : {problem}", file.display()))?
                .records
        }
        Err(_) => FALLBACK_SECTORS
            .iter()
            .map(|(id, name)| formats::internship_reference::Sector {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
            })
            .collect(),
    };
    store.import_sectors(&sectors).await.map_err(store_error("import des secteurs"))?;
    Ok(sectors.len())
}

/// Gives each collège two 3e weeks, five to seven weeks from today in its zone (so that they
/// differ between collèges), and a profile; returns every week given.
async fn school_weeks(
    store: &store::Store,
    departement: &Departement,
    agent: &str,
) -> anyhow::Result<Vec<IsoWeek>> {
    let mut all = Vec::new();
    let september = departement.school_year_start;
    let delegation = format!("{:04}-09-{:02}", september.year, 15);
    for (index, school) in departement.schools.iter().enumerate() {
        let found = store
            .administered_school(agent, &school.uai)
            .await
            .map_err(store_error("lecture d'un collège"))?
            .with_context(|| format!("collège {} introuvable", school.uai))?;
        let zone =
            store.school_zone(&found.id).await.map_err(store_error("fuseau d'un collège"))?;
        let zone = jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let today = jiff::Timestamp::now().to_zoned_datetime(zone).date();
        let offset = 35 + 7 * i64::try_from(index % 3).unwrap_or(0);
        let first = IsoWeek::of(today.saturating_add(jiff::Span::new().days(offset)));
        let weeks = [first, first.next()];
        let set = store
            .set_school_internship_weeks(agent, &found.id, domain::internship::LEVEL_3E, &weeks)
            .await;
        match set {
            Ok(()) => all.extend(weeks),
            // A demo run again later: confirmed internships keep the collège's earlier weeks.
            Err(store::StoreError::Conflict(reason)) => {
                eprintln!("Semaines de stage du collège {} gardées : {reason}", school.uai);
            }
            Err(error) => return Err(store_error("semaines de stage")(error)),
        }

        let profile = SchoolInternshipProfile {
            rural: RURAL_TOWNS.contains(&school.town.name),
            priority_education: match index % 7 {
                2 => Some(PriorityEducation::Rep),
                5 => Some(PriorityEducation::RepPlus),
                _ => None,
            },
            delegation_date: Some(delegation.clone()),
        };
        store
            .set_school_internship_profile(agent, &found.id, &profile)
            .await
            .map_err(store_error("profil d'un collège"))?;
    }
    all.sort();
    all.dedup();
    Ok(all)
}

/// What the hosts and offers are drawn from.
struct Plan<'a> {
    departement: &'a Departement,
    /// Every collège's 3e week, sorted.
    weeks: &'a [IsoWeek],
    /// `(id, name)` of the sectors.
    sectors: &'a [(String, String)],
}

impl Plan<'_> {
    fn sector(&self, name: &str) -> Option<String> {
        let wanted = domain::names::fold_for_search(name);
        self.sectors
            .iter()
            .find(|(_, n)| domain::names::fold_for_search(n) == wanted)
            .map(|(id, _)| id.clone())
    }

    /// The town of host `index`: one host in two in a collège's town, the others across the
    /// demo's towns.
    fn town(&self, index: usize) -> Town {
        let schools = &self.departement.schools;
        if index.is_multiple_of(2) || schools.is_empty() {
            schools.get((index / 2) % schools.len().max(1)).map_or(TOWNS[0], |s| s.town)
        } else {
            TOWNS[(index * 7) % TOWNS.len()]
        }
    }
}

/// A valid SIRET made for the demo's host `index` (the last digit is the Luhn key).
pub fn siret_for(index: usize) -> String {
    let stem = format!("9{:08}{:04}", 86_000_000 + index * 7919, index % 10_000);
    (0..10)
        .map(|key| format!("{stem}{key}"))
        .find(|candidate| domain::internship::siret::Siret::parse(candidate).is_ok())
        .unwrap_or_else(|| format!("{stem}0"))
}

/// A login-friendly e-mail address at example.org.
fn email(first: &str, last: &str) -> String {
    let clean = |text: &str| {
        domain::names::fold_for_search(text)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    };
    format!("{}.{}@example.org", clean(first), clean(last))
}

/// A person's name drawn from the demo's lists.
fn person(rng: &mut DemoRng) -> (String, String) {
    let first =
        if rng.chance(0.5) { *rng.pick(&FEMALE_FIRST_NAMES) } else { *rng.pick(&MALE_FIRST_NAMES) };
    ((*rng.pick(&SURNAMES)).to_owned(), first.to_owned())
}

/// Hours for a minor: five days of 6 h 30 at most with a lunch break, Saturday off.
fn hours(variant: usize) -> WeekHours {
    let (start, end, break_minutes) = match variant % 3 {
        0 => (9 * 60, 17 * 60, 90),
        1 => (8 * 60 + 30, 16 * 60 + 30, 90),
        _ => (9 * 60, 16 * 60 + 30, 60),
    };
    let day = Some(DayHours { start, end, break_minutes });
    WeekHours { days: [day, day, day, day, day, None] }
}

/// The host form of host `index`.
fn host_form(
    index: usize,
    kind: &HostKindDemo,
    town: Town,
    manager: &(String, String),
) -> HostForm {
    let surname = if index == 0 { SHOWCASE_HOST_MANAGER.0.to_owned() } else { manager.0.clone() };
    let name = if index == 0 {
        SHOWCASE_HOST.to_owned()
    } else {
        kind.name.replace("{nom}", &surname).replace("{ville}", town.name)
    };
    HostForm {
        name,
        siret: siret_for(index),
        kind: kind.kind.to_owned(),
        street: format!(
            "{} rue {}",
            1 + index % 60,
            ["du Marché", "de la Gare", "Carnot", "des Écoles"][index % 4]
        ),
        postal_code: town.postcode.to_owned(),
        city: town.name.to_owned(),
        contact_name: format!("{} {}", manager.1, manager.0),
        contact_email: email(&manager.1, &manager.0),
        contact_phone: format!(
            "05 49 {:02} {:02} {:02}",
            10 + index % 80,
            index % 100,
            (index * 37) % 100
        ),
        representative_name: format!("{} {}", manager.1, manager.0),
        representative_role: kind.representative_role.to_owned(),
    }
}

fn refused<F: std::fmt::Debug>(what: &str, errors: &[(F, String)]) -> anyhow::Error {
    anyhow::anyhow!("{what} de démonstration refusé : {errors:?}")
}

/// Creates the hosts (the showcase first, the pending one last) and their offers; returns how
/// many of each and the showcase manager's account.
async fn create_hosts(
    config: &Config,
    store: &store::Store,
    agent: &str,
    plan: &Plan<'_>,
    rng: &mut DemoRng,
) -> anyhow::Result<(usize, usize, DemoAccount)> {
    let now = store::now_unix();
    let published = now - 21 * 86_400;
    let mut offers = 0;
    let mut showcase = None;
    for index in 0..HOSTS {
        let kind = &KINDS[index % KINDS.len()];
        let town = plan.town(index);
        let manager = if index == 0 {
            (SHOWCASE_HOST_MANAGER.0.to_owned(), SHOWCASE_HOST_MANAGER.1.to_owned())
        } else {
            person(rng)
        };
        let details = host_form(index, kind, town, &manager)
            .check()
            .map_err(|errors| refused("organisme", &errors))?;
        let new_person = PersonForm {
            last_name: manager.0.clone(),
            first_name: manager.1.clone(),
            email: email(&manager.1, &manager.0),
        }
        .check()
        .map_err(|errors| refused("responsable d'organisme", &errors))?;

        let pending = index == HOSTS - 1;
        let person_id = if pending {
            // A host that registered by itself and waits for the département; its person's
            // password is not known to the demo (no hash can match it).
            let registration = store
                .register_host(&details, &new_person, "!demo", now)
                .await
                .map_err(store_error("inscription d'un organisme"))?;
            registration.person_id
        } else {
            let (_, account) = store
                .departement_create_host(
                    agent,
                    &details,
                    Some(&new_person),
                    config.activation_validity,
                    now,
                )
                .await
                .map_err(store_error("création d'un organisme"))?;
            let account = account.context("compte du responsable non créé")?;
            if index == 0 {
                showcase = Some(host_account(&account.login, Some(&account.activation_code), town));
            }
            account.person_id
        };

        let count = if index < OFFERS - 3 * HOSTS { 4 } else { 3 };
        for slot in 0..count {
            let input = offer_input(plan, kind, town, index, slot, rng)?;
            let id = store
                .create_offer(&person_id, &input, published)
                .await
                .map_err(store_error("création d'une offre"))?;
            // The pending host's offers stay drafts: it cannot publish before it is verified
            // in any useful way, and pupils would not see them anyway.
            if !pending {
                store
                    .set_offer_state(&person_id, &id, OfferState::Published, published)
                    .await
                    .map_err(store_error("publication d'une offre"))?;
            }
            offers += 1;
        }
    }
    let showcase = showcase.context("organisme vitrine non créé")?;
    Ok((HOSTS, offers, showcase))
}

/// The offer `slot` of host `index`.
fn offer_input(
    plan: &Plan<'_>,
    kind: &HostKindDemo,
    town: Town,
    index: usize,
    slot: usize,
    rng: &mut DemoRng,
) -> anyhow::Result<OfferInput> {
    let (title, description) = kind.offers[slot % kind.offers.len()];
    let title = if slot >= kind.offers.len() {
        format!("{title} (seconde période)")
    } else {
        title.to_owned()
    };
    let tutor = person(rng);
    let jitter = |rng: &mut DemoRng| (rng.below(200) as f64 - 100.0) / 10_000.0;
    let point = Point::new(town.latitude + jitter(rng), town.longitude + jitter(rng));
    let weeks: Vec<IsoWeek> = if slot >= kind.offers.len() && plan.weeks.len() > 2 {
        plan.weeks[plan.weeks.len() / 2..].to_vec()
    } else {
        plan.weeks.to_vec()
    };
    let per_week = 1 + i64::try_from(rng.below(2)).unwrap_or(0);
    let n = index * 4 + slot;
    let reservation = match n % 23 {
        7 => Reservation::Rural,
        15 => Reservation::PriorityEducation,
        _ => Reservation::None,
    };
    let mut input = OfferInput {
        title,
        description: description.to_owned(),
        sector_id: plan.sector(kind.sector),
        street: format!("{} avenue de la République", 2 + n % 90),
        postal_code: town.postcode.to_owned(),
        city: town.name.to_owned(),
        point,
        places_per_week: per_week,
        places_total: (per_week * i64::try_from(weeks.len()).unwrap_or(1)).min(200),
        weeks,
        tutor_name: format!("{} {}", tutor.1, tutor.0),
        tutor_role: kind.tutor_role.to_owned(),
        tutor_email: email(&tutor.1, &tutor.0),
        tutor_phone: format!(
            "06 {:02} {:02} {:02} {:02}",
            n % 100,
            (n * 3) % 100,
            (n * 7) % 100,
            (n * 11) % 100
        ),
        hours: hours(n),
        accessible: n.is_multiple_of(3),
        reservation,
        reserved_schools: Vec::new(),
    };
    let errors = input.check();
    if !errors.is_empty() {
        return Err(refused("offre", &errors));
    }
    Ok(input)
}

fn host_account(login: &str, code: Option<&str>, town: Town) -> DemoAccount {
    DemoAccount {
        role: "host".to_owned(),
        description: format!(
            "Gérante de la {SHOWCASE_HOST} ({}), organisme d'accueil de stages de 3e vérifié",
            town.name
        ),
        name: format!("{} {}", SHOWCASE_HOST_MANAGER.1, SHOWCASE_HOST_MANAGER.0),
        login: login.to_owned(),
        activation_code: code.map(domain::activation::format_code),
        birth_date: None,
        birth_date_fr: None,
    }
}

/// The showcase host's manager when the demo already ran on these data, with their code
/// while it is live.
async fn existing_host_account(
    store: &store::Store,
    agent: &str,
    host_id: &str,
    city: &str,
) -> anyhow::Result<DemoAccount> {
    let (login, code) = store
        .host_manager_account(agent, host_id)
        .await
        .map_err(store_error("organisme vitrine"))?
        .context("responsable de l'organisme vitrine introuvable")?;
    let town = TOWNS.iter().copied().find(|t| t.name == city).unwrap_or(TOWNS[0]);
    Ok(host_account(&login, code.as_deref(), town))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_sirets_are_valid_and_distinct() {
        let sirets: std::collections::BTreeSet<String> = (0..HOSTS).map(siret_for).collect();
        assert_eq!(sirets.len(), HOSTS);
        for siret in &sirets {
            assert!(domain::internship::siret::Siret::parse(siret).is_ok(), "{siret}");
        }
    }

    #[test]
    fn the_demo_hours_are_lawful_for_a_minor() {
        for variant in 0..3 {
            assert!(hours(variant).minor_limit_breaches().is_empty(), "{variant}");
        }
    }

    #[test]
    fn every_sector_of_the_demo_is_in_the_fallback_list_and_the_national_one() {
        let national = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/internships/monstage_sectors.yml"
        ));
        for kind in &KINDS {
            assert!(
                FALLBACK_SECTORS.iter().any(|(_, name)| *name == kind.sector),
                "{}",
                kind.sector
            );
            if let Ok(bytes) = &national {
                let parsed = formats::internship_reference::parse_sectors(bytes).unwrap();
                assert!(parsed.records.iter().any(|s| s.name == kind.sector), "{}", kind.sector);
            }
        }
    }
}

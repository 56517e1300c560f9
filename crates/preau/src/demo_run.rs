//! The steps of `preau demo`: generate the département's AAF files afresh, write the
//! département's identity, run the real import on the files, create a département agent, plan
//! every collège's timetable and import it the way a school would (half of the collèges as EDT
//! files, half as UDT archives, written next to the AAF files, read back by `formats` and applied
//! by `Store::import_timetable`), place the collèges on the map, find the logins and codes of
//! the showcase people, print them (and write them to `<data_dir>/demo-accounts.json`), then
//! serve.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use domain::activation::format_code;
use domain::profile::Profile;
use store::import::ImportProgress;
use store::provisioning::NewLocalPerson;

use crate::config::Config;
use crate::demo::model::{DemoSize, Departement, generate};
use crate::demo::names::SHOWCASE_AGENT;
use crate::demo::{self, DemoAccount, DemoAccounts, timetable};
use crate::import::BarProgress;

/// What `preau demo` was asked.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub schools: usize,
    pub people: usize,
    pub seed: u64,
    pub dir: Option<PathBuf>,
    pub serve: bool,
    pub generate_only: bool,
}

/// The file the showcase accounts are written to, in the data directory.
pub const ACCOUNTS_FILE: &str = "demo-accounts.json";

/// Runs the demo.
///
/// # Errors
/// Any step's failure, in French.
pub async fn run(config: &Config, options: &DemoOptions) -> anyhow::Result<()> {
    if options.schools == 0 || options.schools > 500 {
        anyhow::bail!("--schools : attendu entre 1 et 500 collèges");
    }
    if options.people < 100 * options.schools.min(10) || options.people > 2_000_000 {
        anyhow::bail!(
            "--people : trop peu ou trop de personnes pour {} collège(s)",
            options.schools
        );
    }
    config.ensure_data_dir()?;
    let dir = options.dir.clone().unwrap_or_else(|| config.data_dir.join("demo-aaf"));

    let started = Instant::now();
    let size = DemoSize {
        schools: options.schools,
        people: options.people,
        seed: options.seed,
        export_date: demo::today(),
        departement_code: config.departement_code.clone(),
    };
    let departement = generate(&size);
    let written = demo::write_files(&departement, &size, &dir)?;
    eprintln!(
        "Département de démonstration : {} collèges, {} personnes ({} élèves, {} parents, {} \
         personnels), {} fichiers AAF écrits dans {} en {:.1} s.",
        departement.schools.len(),
        departement.people(),
        departement.pupils.len(),
        departement.relatives.len(),
        departement.staff.len(),
        written.files.len(),
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    if options.generate_only {
        return Ok(());
    }

    // Bound before the import, so that a busy port fails at once rather than after it.
    let listener = match options.serve {
        true => Some(crate::serve::bind(config).await?),
        false => None,
    };
    let store = crate::open_store(config).await?;
    let accounts = match import_demo(config, &store, &departement, &dir).await {
        Ok(accounts) => accounts,
        Err(error) => {
            store.close().await;
            return Err(error);
        }
    };
    println!("{}", accounts_text(&accounts, options.serve));
    match listener {
        Some(listener) => crate::serve::serve_on(listener, config, store).await,
        None => {
            store.close().await;
            Ok(())
        }
    }
}

/// Writes the département's identity, imports the files of `dir`, creates the département
/// agent, and returns the showcase accounts (also written to `<data_dir>/demo-accounts.json`).
///
/// # Errors
/// A database failure, or an import that reports any problem.
pub async fn import_demo(
    config: &Config,
    store: &store::Store,
    departement: &Departement,
    dir: &Path,
) -> anyhow::Result<DemoAccounts> {
    store
        .set_departement(&config.departement_code, &config.departement_name)
        .await
        .map_err(|error| anyhow::anyhow!("écriture du département impossible : {error}"))?;

    let started = Instant::now();
    let bars = BarProgress::drawing(std::io::stderr().is_terminal());
    let progress: &dyn ImportProgress = &bars;
    let report =
        store
            .import_aaf(&[dir.to_path_buf()], &config.import_options(), progress)
            .await
            .map_err(|error| anyhow::anyhow!("l'import de la démonstration a échoué : {error}"))?;
    eprintln!("Import terminé en {:.1} s.", started.elapsed().as_secs_f64());
    if report.has_problems() {
        eprint!("{}", report.to_french_text());
        anyhow::bail!("l'import des fichiers de démonstration a signalé des problèmes");
    }

    let agent = showcase_agent(config, store).await?;
    let started = Instant::now();
    let imported = import_timetables(config, store, departement, dir, &agent.0).await?;
    eprintln!(
        "Emplois du temps : {} cours dans {} collèges ({} en EDT, {} en UDT) importés en {:.1} s.",
        imported.courses,
        imported.schools,
        imported.edt,
        imported.schools - imported.edt,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let uais: Vec<String> = departement.schools.iter().map(|s| s.uai.clone()).collect();
    let sso = demo::sso::register(store, &agent.0, &config.departement_name, &uais).await?;
    eprintln!(
        "Connexion unique : {} applications Pronote et {} ressources enregistrées en {:.1} s.",
        sso.applications,
        sso.resources,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let internship = demo::internship::populate(config, store, departement, &agent.0).await?;
    eprintln!(
        "Stages de 3e : {} secteurs, {} organismes d'accueil et {} offres enregistrés en {:.1} s.",
        internship.sectors,
        internship.hosts,
        internship.offers,
        started.elapsed().as_secs_f64()
    );

    let mut accounts = showcase_accounts(config, store, departement).await?;
    accounts.push(DemoAccount {
        role: "agent".to_owned(),
        description: format!(
            "Agent du département ({}), administratrice, tous les collèges",
            config.departement_name
        ),
        name: format!("{} {}", SHOWCASE_AGENT.1, SHOWCASE_AGENT.0),
        login: agent.0,
        activation_code: agent.1.as_deref().map(format_code),
        birth_date: None,
        birth_date_fr: None,
    });
    accounts.push(internship.host_account);

    let accounts = DemoAccounts { base_url: config.base_url.clone(), accounts };
    let path = config.data_dir.join(ACCOUNTS_FILE);
    let json = serde_json::to_string_pretty(&accounts).context("comptes de démonstration")?;
    std::fs::write(&path, json + "\n")
        .with_context(|| format!("impossible d'écrire {}", path.display()))?;
    Ok(accounts)
}

/// The folder, inside the demo's, where the timetable files are written (the AAF import does
/// not read sub-folders).
pub const TIMETABLE_DIR: &str = "emplois-du-temps";

/// What the timetable step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedTimetables {
    pub schools: usize,
    /// Of which written as EDT files (the others as UDT archives).
    pub edt: usize,
    pub courses: u64,
}

/// Plans every collège's timetable, writes it (EDT for the even collèges, UDT for the odd ones)
/// into `<dir>/emplois-du-temps`, reads each file back and imports it, then gives each collège
/// the coordinates of its town. `agent_login` is the département's administrator, who may see
/// every collège and place them.
///
/// # Errors
/// A file that cannot be written or read back, an import that rejects anything, or the
/// database's failure.
pub async fn import_timetables(
    config: &Config,
    store: &store::Store,
    departement: &Departement,
    dir: &Path,
    agent_login: &str,
) -> anyhow::Result<ImportedTimetables> {
    use formats::timetable::{edt, udt};
    use store::timetable::ImportScope;

    let agent = store
        .login_account(agent_login)
        .await
        .map_err(|error| anyhow::anyhow!("lecture de l'agent du département : {error}"))?
        .context("agent du département introuvable")?
        .person_id;
    let today = demo::today();
    let today = jiff::civil::Date::new(
        i16::try_from(today.year).unwrap_or(2026),
        i8::try_from(today.month).unwrap_or(9),
        i8::try_from(today.day).unwrap_or(1),
    )
    .context("date du jour")?;
    let calendar = timetable::DemoCalendar::around(today);
    let soon = today.checked_add(jiff::Span::new().days(3)).unwrap_or(today);
    let cancelled_week = calendar.year.week_of(soon);
    let plan = timetable::plan(departement, &config.travel, departement_seed(departement));

    let folder = dir.join(TIMETABLE_DIR);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("impossible de créer le dossier {}", folder.display()))?;
    remove_previous_timetables(&folder)?;

    let mut imported = ImportedTimetables { schools: 0, edt: 0, courses: 0 };
    for (index, school) in departement.schools.iter().enumerate() {
        let model = timetable::synthetic(departement, &plan, &calendar, index, cancelled_week);
        let as_edt = index % 2 == 0;
        let (name, bytes) = if as_edt {
            (format!("EDT_{}.xml", school.uai), model.to_edt_xml().into_bytes())
        } else {
            (format!("UDT_{}.zip", school.uai), model.to_udt_zip())
        };
        let path = folder.join(&name);
        std::fs::write(&path, &bytes)
            .with_context(|| format!("impossible d'écrire {}", path.display()))?;
        let bytes = std::fs::read(&path)
            .with_context(|| format!("impossible de relire {}", path.display()))?;
        let parsed = if as_edt { edt::parse(&bytes, &name) } else { udt::parse_zip(&bytes, &name) }
            .map_err(|error| {
                anyhow::anyhow!("emploi du temps de démonstration refusé : {error}")
            })?;

        let found = store
            .administered_school(&agent, &school.uai)
            .await
            .map_err(|error| anyhow::anyhow!("lecture du collège {} : {error}", school.uai))?
            .with_context(|| format!("collège {} introuvable après l'import", school.uai))?;
        let report = store
            .import_timetable(None, &found.id, &name, &parsed, &ImportScope::School)
            .await
            .map_err(|error| anyhow::anyhow!("import de {name} impossible : {error}"))?;
        if !report.rejections.is_empty() || !report.problems.is_empty() {
            eprint!("{}", crate::timetable::report_text(&name, &report));
            anyhow::bail!(
                "l'import de l'emploi du temps de démonstration {name} a signalé des problèmes"
            );
        }
        let town = school.town;
        store
            .set_school_place(&agent, &found.id, Some((town.latitude, town.longitude)))
            .await
            .map_err(|error| anyhow::anyhow!("coordonnées du collège {} : {error}", school.uai))?;

        imported.schools += 1;
        imported.edt += usize::from(as_edt);
        imported.courses += report.created + report.updated + report.unchanged;
    }
    Ok(imported)
}

/// The seed the timetables are drawn from: the département's own (its first pupil's id and
/// size), so that the same `--seed` gives the same timetables.
fn departement_seed(departement: &Departement) -> u64 {
    let mut seed = departement.people() as u64;
    for school in &departement.schools {
        for byte in school.uai.bytes() {
            seed = seed.wrapping_mul(31).wrapping_add(u64::from(byte));
        }
    }
    seed
}

/// Removes the timetable files an earlier demo wrote (only those: `EDT_*.xml`, `UDT_*.zip`).
fn remove_previous_timetables(folder: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(folder)
        .with_context(|| format!("impossible de lire le dossier {}", folder.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = (name.starts_with("EDT_") && name.ends_with(".xml"))
            || (name.starts_with("UDT_") && name.ends_with(".zip"));
        if ours {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("impossible de supprimer {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The département's showcase agent: created the first time, found again afterwards, so that
/// running the demo again on the same data creates nobody twice. Returns the login and the live
/// code (`None` once the account is activated).
async fn showcase_agent(
    config: &Config,
    store: &store::Store,
) -> anyhow::Result<(String, Option<String>)> {
    let (last_name, first_name) = SHOWCASE_AGENT;
    let existing = store
        .local_account_by_name(Profile::Agent, last_name, first_name)
        .await
        .map_err(|error| anyhow::anyhow!("lecture des agents impossible : {error}"))?;
    if let Some(found) = existing {
        return Ok(found);
    }

    let created = store
        .create_local_person(
            &NewLocalPerson {
                profile: Profile::Agent,
                last_name: last_name.to_owned(),
                first_name: first_name.to_owned(),
                email: Some("segolene.marsac@example.org".to_owned()),
                scope_uais: Vec::new(),
                departement_admin: true,
            },
            config.activation_validity,
        )
        .await
        .map_err(|error| anyhow::anyhow!("création de l'agent impossible : {error}"))?;
    Ok((created.login, Some(created.activation_code)))
}

/// The showcase people's logins and codes, found among the first collèges' activation codes.
async fn showcase_accounts(
    config: &Config,
    store: &store::Store,
    departement: &Departement,
) -> anyhow::Result<Vec<DemoAccount>> {
    let showcase = &departement.showcase;
    let first = &departement.schools[0];
    let rows = store
        .activation_codes(&first.uai, None, config.activation_validity)
        .await
        .map_err(|error| anyhow::anyhow!("lecture des codes du collège {} : {error}", first.uai))?;
    let find = |profile: Profile, last: &str, first_name: &str| {
        rows.iter()
            .find(|row| {
                row.profile == profile && row.last_name == last && row.first_name == first_name
            })
            .with_context(|| format!("compte introuvable après l'import : {first_name} {last}"))
    };
    let school_name = |index: usize| {
        let school = &departement.schools[index];
        format!("{} ({})", school.name, school.town.name)
    };

    let mut accounts = Vec::new();
    let pupil = &departement.pupils[showcase.pupil];
    let row = find(Profile::Pupil, &pupil.surname, &pupil.first_name)?;
    accounts.push(account(
        "pupil",
        format!("Élève de {} au {}", pupil.class, school_name(0)),
        row,
        Some(pupil.birth),
    ));

    let parent = &departement.relatives[showcase.parent];
    let sibling = &departement.pupils[showcase.sibling];
    let row = find(Profile::Relative, &parent.surname, &parent.first_name)?;
    accounts.push(account(
        "parent",
        format!(
            "Parent de {}, en {} au {}, et de {}, en {} au {}",
            pupil.first_name,
            pupil.class,
            school_name(0),
            sibling.first_name,
            sibling.class,
            school_name(sibling.school)
        ),
        row,
        None,
    ));

    let teacher = &departement.staff[showcase.teacher];
    let row = find(Profile::Teacher, &teacher.surname, &teacher.first_name)?;
    let schools: Vec<String> = teacher.schools.iter().map(|&s| school_name(s)).collect();
    accounts.push(account(
        "teacher",
        format!("Enseignant au {}", schools.join(" et au ")),
        row,
        None,
    ));

    let head = &departement.staff[showcase.head];
    let row = find(Profile::Staff, &head.surname, &head.first_name)?;
    accounts.push(account("head", format!("Principale du {}", school_name(0)), row, None));
    Ok(accounts)
}

fn account(
    role: &str,
    description: String,
    row: &store::accounts::ActivationCodeRow,
    birth: Option<demo::model::SimpleDate>,
) -> DemoAccount {
    DemoAccount {
        role: role.to_owned(),
        description,
        name: format!("{} {}", row.first_name, row.last_name),
        login: row.login.clone(),
        activation_code: row.code.as_deref().map(format_code),
        birth_date: birth.map(|b| b.iso()),
        birth_date_fr: birth.map(|b| b.aaf()),
    }
}

/// The French text printed at the end of the demo.
pub fn accounts_text(accounts: &DemoAccounts, serving: bool) -> String {
    let start = if serving { "Préau est prêt" } else { "Lancez « preau serve »" };
    let mut text = format!(
        "\n{start}. Pour entrer, ouvrez {base}/activation, saisissez l'identifiant et le code \
         d'un compte ci-dessous, choisissez un mot de passe, puis connectez-vous sur \
         {base}/connexion.\n",
        base = accounts.base_url
    );
    for account in &accounts.accounts {
        text.push_str(&format!("\n  {} — {}\n", account.name, account.description));
        text.push_str(&format!("    identifiant : {}\n", account.login));
        match &account.activation_code {
            Some(code) => text.push_str(&format!("    code d'activation : {code}\n")),
            None => text.push_str("    compte déjà activé\n"),
        }
        if let Some(birth) = &account.birth_date_fr {
            text.push_str(&format!("    date de naissance : {birth}\n"));
        }
        if matches!(account.role.as_str(), "head" | "agent") {
            // Administrators must pass a second factor (web::WebConfig::second_factor_for_admins).
            text.push_str(
                "    double authentification : à activer à la première connexion, avec une \
                 application TOTP (FreeOTP, Aegis…)\n",
            );
        }
    }
    text
}

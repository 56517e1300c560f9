//! The `preau` program: the command line (in French), the configuration, and the wiring of the
//! store, the import and the web application. Nothing here holds a rule of the directory or a
//! page: each subcommand reads its arguments, opens what it needs and calls the library crates.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use preau::config::Config;
use preau::timetable::{TimetableRequest, TimetableTarget};
use preau::{
    accounts, demo_run, import, internship, logging, open_store, serve, timetable, verify,
};

/// The allocator: mimalloc rather than the system's, whose locking and consolidation took a
/// fifth of the server's time under load (the CAS benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The exit code of a command line that is not understood (sysexits' `EX_USAGE`), apart from
/// 2, which says that an import refused a file or a record.
const USAGE_ERROR: u8 = 64;

const HELP_TEMPLATE: &str = "\
{before-help}{name} {version} — {about-with-newline}
Utilisation : {usage}

{all-args}{after-help}";

const SUB_TEMPLATE: &str = "\
{before-help}{about-with-newline}
Utilisation : {usage}

{all-args}{after-help}";

/// Préau, l'espace numérique de travail des collèges d'un département.
#[derive(Debug, Parser)]
#[command(
    name = "preau",
    version,
    about = "l'espace numérique de travail des collèges d'un département",
    help_template = HELP_TEMPLATE,
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    next_help_heading = "Options générales",
    subcommand_help_heading = "Commandes",
    subcommand_value_name = "COMMANDE"
)]
struct Cli {
    /// Fichier de configuration (par défaut : preau.toml s'il existe dans le dossier courant).
    #[arg(long, global = true, value_name = "FICHIER")]
    config: Option<PathBuf>,

    /// Affiche l'aide.
    #[arg(short = 'h', long = "help", global = true, action = ArgAction::Help)]
    help: Option<bool>,

    /// Affiche la version.
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    version: Option<bool>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lance le serveur web sur l'adresse configurée (listen).
    #[command(help_template = SUB_TEMPLATE)]
    Serve,
    /// Importe des fichiers de l'annuaire (AAF) ou l'emploi du temps d'un collège.
    #[command(
        subcommand,
        help_template = SUB_TEMPLATE,
        subcommand_help_heading = "Commandes",
        subcommand_value_name = "COMMANDE"
    )]
    Import(ImportCommand),
    /// Génère un département de démonstration, l'importe, puis le sert.
    #[command(help_template = SUB_TEMPLATE)]
    Demo(DemoArgs),
    /// Outils de gestion des comptes.
    #[command(
        subcommand,
        help_template = SUB_TEMPLATE,
        subcommand_help_heading = "Commandes",
        subcommand_value_name = "COMMANDE"
    )]
    Accounts(AccountsCommand),
    /// Outils de la messagerie.
    #[command(
        subcommand,
        help_template = SUB_TEMPLATE,
        subcommand_help_heading = "Commandes",
        subcommand_value_name = "COMMANDE"
    )]
    Messages(MessagesCommand),
    /// Outils du fournisseur OpenID Connect.
    #[command(
        subcommand,
        help_template = SUB_TEMPLATE,
        subcommand_help_heading = "Commandes",
        subcommand_value_name = "COMMANDE"
    )]
    Oidc(OidcCommand),
    /// Vérifie qu'une convention de stage (PDF) est authentique, scellée par le département,
    /// et signée par toutes les parties.
    #[command(name = "verify-agreement", help_template = SUB_TEMPLATE)]
    VerifyAgreement {
        /// Le fichier PDF de la convention.
        #[arg(value_name = "FICHIER")]
        file: PathBuf,
    },
    /// Affiche la configuration effective (secrets masqués).
    #[command(help_template = SUB_TEMPLATE)]
    Config,
}

#[derive(Debug, Subcommand)]
enum MessagesCommand {
    /// Recompte les messages et les non-lus de chaque dossier de chaque boîte à partir des
    /// messages qu'elle contient : après une modification de la base faite hors de Préau
    /// (restauration d'une table, par exemple).
    #[command(help_template = SUB_TEMPLATE)]
    Recount,
}

#[derive(Debug, Subcommand)]
enum OidcCommand {
    /// Remplace tout de suite la clé de signature (l'ancienne reste publiée tant que des jetons
    /// signés par elle sont valables) : après une fuite supposée, ou pour l'exercice.
    #[command(help_template = SUB_TEMPLATE)]
    RotateKey,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Importe les fichiers ficAlimMENESR des dossiers donnés (complets ou delta, en morceaux).
    #[command(help_template = SUB_TEMPLATE)]
    Aaf {
        /// Dossiers contenant les fichiers AAF (non récursif).
        #[arg(required = true, value_name = "DOSSIER")]
        dirs: Vec<PathBuf>,
    },
    /// Importe l'emploi du temps d'un collège : export EDT déchiffré, export UDT (dossier ou
    /// ZIP) ou fichier iCalendar d'une classe ou d'un enseignant.
    #[command(help_template = SUB_TEMPLATE)]
    Timetable(TimetableArgs),
    /// Importe la liste nationale des secteurs professionnels des stages (fichier YAML de la
    /// plateforme nationale).
    #[command(help_template = SUB_TEMPLATE)]
    Sectors {
        #[arg(value_name = "FICHIER")]
        file: PathBuf,
    },
    /// Importe les communes du répertoire géographique (CSV : nom, code, population,
    /// latitude, longitude).
    #[command(help_template = SUB_TEMPLATE)]
    Communes {
        #[arg(value_name = "FICHIER")]
        file: PathBuf,
    },
}

/// The formats of `import timetable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TimetableFormat {
    /// Contenu déchiffré de l'export ENT d'EDT (un fichier XML).
    Edt,
    /// Export UDT : un dossier ou un ZIP de fichiers UDCal_NN.xml.
    Udt,
    /// Fichier iCalendar (.ics) d'une classe ou d'un enseignant.
    Ical,
}

#[derive(Debug, Args)]
struct TimetableArgs {
    /// UAI du collège, par exemple 0860876K.
    #[arg(long, value_name = "UAI")]
    school: String,
    /// Format du fichier : edt, udt ou ical.
    #[arg(long, value_enum, value_name = "FORMAT", hide_possible_values = true)]
    format: TimetableFormat,
    /// iCalendar seulement : code de la classe dont c'est l'emploi du temps, par exemple 4B.
    #[arg(long, value_name = "CODE", conflicts_with = "teacher")]
    class: Option<String>,
    /// iCalendar seulement : identifiant de l'enseignant dont c'est l'emploi du temps.
    #[arg(long, value_name = "IDENTIFIANT")]
    teacher: Option<String>,
    /// Importe même un fichier qui viderait l'emploi du temps ou dont la plupart des
    /// enseignants sont inconnus de l'annuaire (refusé sans cette option).
    #[arg(long)]
    confirmer: bool,
    /// Le fichier à importer, ou le dossier d'un export UDT.
    #[arg(value_name = "FICHIER_OU_DOSSIER")]
    path: PathBuf,
}

impl TimetableArgs {
    /// The request, or why the options do not fit the format (a command-line mistake).
    fn request(self) -> Result<TimetableRequest, &'static str> {
        let source = match self.format {
            TimetableFormat::Edt => formats::timetable::TimetableSource::Edt,
            TimetableFormat::Udt => formats::timetable::TimetableSource::Udt,
            TimetableFormat::Ical => formats::timetable::TimetableSource::Ical,
        };
        let target = match (self.class, self.teacher) {
            (Some(code), _) => Some(TimetableTarget::Class(code)),
            (None, Some(login)) => Some(TimetableTarget::Teacher(login)),
            (None, None) => None,
        };
        match (self.format, &target) {
            (TimetableFormat::Ical, None) => {
                Err("un fichier iCalendar est l'emploi du temps d'une classe ou d'un enseignant : \
                 précisez --class <CODE> ou --teacher <IDENTIFIANT>")
            }
            (TimetableFormat::Edt | TimetableFormat::Udt, Some(_)) => {
                Err("--class et --teacher ne servent qu'aux fichiers iCalendar (--format ical)")
            }
            _ => Ok(TimetableRequest {
                uai: self.school,
                source,
                target,
                path: self.path,
                confirmed: self.confirmer,
            }),
        }
    }
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Nombre de collèges (par défaut : 34).
    #[arg(long, default_value_t = 34, hide_default_value = true, value_name = "N")]
    schools: usize,
    /// Nombre approximatif de personnes : élèves, parents, personnels (par défaut : 46000).
    #[arg(long, default_value_t = 46_000, hide_default_value = true, value_name = "N")]
    people: usize,
    /// Graine du générateur : la même graine donne le même département (par défaut : 2026).
    #[arg(long, default_value_t = 2026, hide_default_value = true, value_name = "N")]
    seed: u64,
    /// Dossier où écrire les fichiers AAF (par défaut : <data_dir>/demo-aaf).
    #[arg(long, value_name = "DOSSIER")]
    dir: Option<PathBuf>,
    /// Importe sans lancer le serveur ensuite.
    #[arg(long)]
    no_serve: bool,
    /// Écrit seulement les fichiers AAF, sans rien importer.
    #[arg(long, conflicts_with = "no_serve")]
    generate_only: bool,
}

#[derive(Debug, Subcommand)]
enum AccountsCommand {
    /// Exporte les codes d'activation d'un collège ou d'une classe.
    #[command(help_template = SUB_TEMPLATE)]
    Codes(CodesArgs),
    /// Crée un agent ou un élu du département et affiche son identifiant et son code.
    #[command(help_template = SUB_TEMPLATE)]
    CreateAgent(CreateAgentArgs),
}

/// The formats of `accounts codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CodesFormat {
    /// Tableur (séparateur « ; »).
    Csv,
    /// Lettres à imprimer, une par personne et par page.
    Html,
}

#[derive(Debug, Args)]
struct CodesArgs {
    /// UAI du collège, par exemple 0860876K.
    #[arg(long, value_name = "UAI")]
    uai: String,
    /// Code de la classe, par exemple 4B.
    #[arg(long, value_name = "CODE")]
    class: Option<String>,
    /// Format de sortie : csv (tableur, par défaut) ou html (lettres à imprimer).
    #[arg(
        long,
        value_enum,
        default_value_t = CodesFormat::Csv,
        hide_default_value = true,
        hide_possible_values = true
    )]
    format: CodesFormat,
    /// Fichier de sortie (par défaut : la sortie standard).
    #[arg(long, value_name = "FICHIER")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CreateAgentArgs {
    /// Nom de famille.
    #[arg(long, value_name = "NOM")]
    last_name: String,
    /// Prénom.
    #[arg(long, value_name = "PRÉNOM")]
    first_name: String,
    /// Adresse électronique.
    #[arg(long, value_name = "ADRESSE")]
    email: Option<String>,
    /// Crée un élu plutôt qu'un agent.
    #[arg(long)]
    official: bool,
    /// Limite le périmètre à ce collège (UAI) ; répétable. Sans cette option : tout le
    /// département.
    #[arg(long = "scope", value_name = "UAI")]
    scope: Vec<String>,
    /// Donne les droits d'administration du département.
    #[arg(long)]
    admin: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return command_line_error(&error),
    };
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("erreur : {error:#}");
            return ExitCode::from(1);
        }
    };

    let filter = match cli.command {
        Command::Serve => logging::VERBOSE,
        Command::Demo(_) if std::io::stderr().is_terminal() => logging::VERBOSE_WITH_BARS,
        Command::Demo(_) => logging::VERBOSE,
        _ => logging::QUIET,
    };
    logging::init(config.log_format, filter);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("erreur : impossible de démarrer le moteur asynchrone : {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("erreur : {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Prints clap's refusal in French (help and version are printed as they are).
fn command_line_error(error: &clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ErrorKind};

    let kind = error.kind();
    if matches!(kind, ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    if kind == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = error.print();
        return ExitCode::from(USAGE_ERROR);
    }

    let context =
        |wanted: ContextKind| error.get(wanted).map(ToString::to_string).unwrap_or_default();
    let argument = context(ContextKind::InvalidArg);
    let message = match kind {
        ErrorKind::MissingRequiredArgument => format!("argument obligatoire manquant : {argument}"),
        ErrorKind::UnknownArgument => format!("argument inconnu : {argument}"),
        ErrorKind::InvalidSubcommand => {
            format!("commande inconnue : {}", context(ContextKind::InvalidSubcommand))
        }
        ErrorKind::MissingSubcommand => "commande manquante".to_owned(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            format!("valeur refusée pour {argument} : « {} »", context(ContextKind::InvalidValue))
        }
        ErrorKind::ArgumentConflict => {
            format!("{argument} ne peut pas être utilisé avec {}", context(ContextKind::PriorArg))
        }
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues => {
            format!("nombre de valeurs incorrect pour {argument}")
        }
        _ => "ligne de commande incorrecte".to_owned(),
    };
    eprintln!("erreur : {message}\nVoir « preau --help » pour l'aide.");
    ExitCode::from(USAGE_ERROR)
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => {
            let store = open_store(&config).await?;
            serve::serve(&config, store).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Aaf { dirs }) => {
            let store = open_store(&config).await?;
            let problems = import::import_aaf(&config, &store, &dirs).await;
            store.close().await;
            Ok(if problems? { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Import(ImportCommand::Timetable(args)) => {
            let request = match args.request() {
                Ok(request) => request,
                Err(message) => {
                    eprintln!(
                        "erreur : {message}\nVoir « preau import timetable --help » pour l'aide."
                    );
                    return Ok(ExitCode::from(USAGE_ERROR));
                }
            };
            let store = open_store(&config).await?;
            let problems = timetable::import_timetable(&store, &request).await;
            store.close().await;
            Ok(if problems? { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Import(ImportCommand::Sectors { file }) => {
            let store = open_store(&config).await?;
            let result = internship::import_sectors(&store, &file).await;
            store.close().await;
            result
        }
        Command::Import(ImportCommand::Communes { file }) => {
            let store = open_store(&config).await?;
            let result = internship::import_communes(&store, &file).await;
            store.close().await;
            result
        }
        Command::VerifyAgreement { file } => {
            let store = open_store(&config).await?;
            let result = verify::verify_agreement(&store, &file).await;
            store.close().await;
            result
        }
        Command::Demo(args) => {
            let options = demo_run::DemoOptions {
                schools: args.schools,
                people: args.people,
                seed: args.seed,
                dir: args.dir,
                serve: !args.no_serve,
                generate_only: args.generate_only,
            };
            demo_run::run(&config, &options).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Accounts(AccountsCommand::Codes(args)) => {
            let store = open_store(&config).await?;
            let format = match args.format {
                CodesFormat::Csv => accounts::Format::Csv,
                CodesFormat::Html => accounts::Format::Html,
            };
            let request = accounts::CodesRequest {
                uai: args.uai,
                class: args.class,
                format,
                output: args.output,
            };
            let result = accounts::export_codes(&config, &store, &request).await;
            store.close().await;
            result?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Messages(MessagesCommand::Recount) => {
            let store = open_store(&config).await?;
            let result = store.recount_mailboxes().await;
            store.close().await;
            let wrong =
                anyhow::Context::context(result, "les boîtes n'ont pas pu être recomptées")?;
            println!("Boîtes aux lettres recomptées : {wrong} compteur(s) de dossier corrigé(s).");
            Ok(ExitCode::SUCCESS)
        }
        Command::Oidc(OidcCommand::RotateKey) => {
            let store = open_store(&config).await?;
            let result = store.oidc_rotate_key(&config.oidc).await;
            store.close().await;
            let kid =
                anyhow::Context::context(result, "la clé de signature n'a pas pu être remplacée")?;
            println!("Nouvelle clé de signature OpenID Connect : {kid}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Accounts(AccountsCommand::CreateAgent(args)) => {
            let store = open_store(&config).await?;
            let request = accounts::AgentRequest {
                last_name: args.last_name,
                first_name: args.first_name,
                email: args.email,
                official: args.official,
                scope: args.scope,
                admin: args.admin,
            };
            let result = accounts::create_agent(&config, &store, &request).await;
            store.close().await;
            println!("{}", result?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config => {
            print!("{}", config.to_redacted_toml());
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn demo_options_parse_with_their_defaults() {
        let cli = Cli::try_parse_from(["preau", "demo", "--people", "3000", "--no-serve"]).unwrap();
        let Command::Demo(args) = cli.command else { panic!("not demo") };
        assert_eq!((args.schools, args.people, args.no_serve), (34, 3000, true));
    }

    #[test]
    fn create_agent_takes_repeated_scopes() {
        let cli = Cli::try_parse_from([
            "preau",
            "accounts",
            "create-agent",
            "--last-name",
            "Marsac",
            "--first-name",
            "Ségolène",
            "--scope",
            "0860876K",
            "--scope",
            "0860723U",
            "--admin",
        ])
        .unwrap();
        let Command::Accounts(AccountsCommand::CreateAgent(args)) = cli.command else {
            panic!("not create-agent")
        };
        assert_eq!(args.scope, ["0860876K", "0860723U"]);
        assert!(args.admin && !args.official);
    }

    #[test]
    fn an_icalendar_import_names_exactly_one_class_or_teacher() {
        let parse = |args: &[&str]| {
            let mut line = vec!["preau", "import", "timetable", "--school", "0860001A"];
            line.extend_from_slice(args);
            Cli::try_parse_from(line).map(|cli| match cli.command {
                Command::Import(ImportCommand::Timetable(args)) => args.request(),
                _ => panic!("not import timetable"),
            })
        };
        let class = parse(&["--format", "ical", "--class", "6A", "6a.ics"]).unwrap().unwrap();
        assert_eq!(class.target, Some(TimetableTarget::Class("6A".to_owned())));
        assert!(parse(&["--format", "ical", "6a.ics"]).unwrap().is_err());
        assert!(parse(&["--format", "edt", "--teacher", "t.b", "edt.xml"]).unwrap().is_err());
        assert!(parse(&["--format", "ical", "--class", "6A", "--teacher", "t", "x"]).is_err());
        assert!(parse(&["--format", "pdf", "x"]).is_err());
    }

    #[test]
    fn import_needs_at_least_one_folder() {
        assert!(Cli::try_parse_from(["preau", "import", "aaf"]).is_err());
    }
}

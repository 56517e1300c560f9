//! The configuration of the program, in layers: built-in defaults, then a `preau.toml` (in the
//! working directory or named by `--config`), then `PREAU_*` environment variables. Everything
//! is validated once, at start-up, into a [`Config`] whose secrets (the database URL, which may
//! carry a password, the SMTP password and the object store's secret key) are wrapped so that
//! neither `Debug` nor `preau config` can print them. It does not open anything: the store, the
//! web server and the background workers are given what they need from here.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

/// The file read when `--config` is not given and it exists in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "preau.toml";

/// The keys a `PREAU_<KEY>` environment variable may set; any other `PREAU_*` variable (such as
/// `PREAU_TEST_DATABASE`, which the tests use) is left alone.
pub const ENV_KEYS: [&str; 32] = [
    "database_url",
    "database_max_connections",
    "listen",
    "base_url",
    "data_dir",
    "log_format",
    "session_idle",
    "session_absolute",
    "activation_validity",
    "import_grace_period",
    "max_concurrent_hashes",
    "trusted_proxies",
    "departement_code",
    "departement_name",
    "smtp_host",
    "smtp_port",
    "smtp_tls",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "worker_poll_interval",
    "files_dir",
    "s3_endpoint",
    "s3_bucket",
    "s3_region",
    "s3_access_key_id",
    "s3_secret_access_key",
    "transfer_speed_kmh",
    "transfer_margin_minutes",
    "second_factor_for_admins",
    "oidc_key_max_age",
    "oidc_refresh_lifetime",
];

/// The accepted average speed of a trip between two collèges, in km/h.
pub const TRANSFER_SPEED_RANGE: std::ops::RangeInclusive<f64> = 5.0..=150.0;
/// The accepted minimum margin of a transfer between two collèges, in minutes.
pub const TRANSFER_MARGIN_RANGE: std::ops::RangeInclusive<u64> = 0..=120;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured on a terminal.
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: only for a relay on this machine or a trusted network (port 25 by default).
    None,
    /// STARTTLS, required (port 587 by default).
    StartTls,
    /// TLS from the first byte, "SMTPS" (port 465 by default).
    Tls,
}

impl SmtpTls {
    fn code(self) -> &'static str {
        match self {
            SmtpTls::None => "none",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// Where the e-mail notifications go: the relay that accepts Préau's mail.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// The user name and password, when the relay asks for them.
    pub credentials: Option<(String, SecretString)>,
    /// The `From` of every notification, checked as an address (`Préau <ne-pas-repondre@…>`).
    pub from: String,
}

/// An S3-compatible object store for attachments (several servers share it).
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// The store's address (`https://…`, or `http://…` for one on a private network).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

/// The validated configuration.
#[derive(Debug)]
pub struct Config {
    /// Where the database lives; may hold a password, hence never printed as is.
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub listen: SocketAddr,
    /// The public address, e.g. `http://127.0.0.1:8080`, without a trailing slash.
    pub base_url: String,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub activation_validity: Duration,
    pub import_grace_period: Duration,
    pub max_concurrent_hashes: usize,
    pub trusted_proxies: Vec<IpAddr>,
    pub departement_code: String,
    pub departement_name: String,
    /// The relay for e-mail notifications; without one, no e-mail is sent.
    pub smtp: Option<SmtpConfig>,
    /// How often the background workers look for due notifications when nothing woke them.
    pub worker_poll_interval: Duration,
    /// Where attachments are stored on the local disk (unless `s3` is set).
    pub files_dir: PathBuf,
    /// The object store for attachments, instead of `files_dir`.
    pub s3: Option<S3Settings>,
    /// How long a teacher needs between lessons in two collèges (`transfer_speed_kmh`,
    /// `transfer_margin_minutes`): the merged timetable flags shorter transfers.
    pub travel: domain::timetable::TravelPolicy,
    /// Whether administrators must pass a second factor at every login (on by default; a
    /// deployment may stage it while its administrators enrol).
    pub second_factor_for_admins: bool,
    /// The OpenID Connect provider's lifetimes: its signing key is replaced after
    /// `oidc_key_max_age`, and a grant's refresh tokens stop after `oidc_refresh_lifetime`.
    pub oidc: store::sso::oidc::OidcPolicy,
    /// The file that was read, if any.
    pub source_file: Option<PathBuf>,
}

/// The configuration as read, before validation. Unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database_url: Option<String>,
    #[serde(deserialize_with = "number")]
    database_max_connections: u64,
    listen: String,
    #[serde(default)]
    base_url: Option<String>,
    data_dir: String,
    log_format: String,
    #[serde(deserialize_with = "duration")]
    session_idle: Duration,
    #[serde(deserialize_with = "duration")]
    session_absolute: Duration,
    #[serde(deserialize_with = "duration")]
    activation_validity: Duration,
    #[serde(deserialize_with = "duration")]
    import_grace_period: Duration,
    #[serde(default, deserialize_with = "optional_number")]
    max_concurrent_hashes: Option<u64>,
    #[serde(deserialize_with = "string_list")]
    trusted_proxies: Vec<String>,
    departement_code: String,
    departement_name: String,
    #[serde(default)]
    smtp_host: Option<String>,
    #[serde(default, deserialize_with = "optional_number")]
    smtp_port: Option<u64>,
    #[serde(default)]
    smtp_tls: Option<String>,
    #[serde(default)]
    smtp_username: Option<String>,
    #[serde(default)]
    smtp_password: Option<String>,
    #[serde(default)]
    smtp_from: Option<String>,
    #[serde(deserialize_with = "duration")]
    worker_poll_interval: Duration,
    #[serde(default)]
    files_dir: Option<String>,
    #[serde(default)]
    s3_endpoint: Option<String>,
    #[serde(default)]
    s3_bucket: Option<String>,
    #[serde(default)]
    s3_region: Option<String>,
    #[serde(default)]
    s3_access_key_id: Option<String>,
    #[serde(default)]
    s3_secret_access_key: Option<String>,
    #[serde(deserialize_with = "decimal")]
    transfer_speed_kmh: f64,
    #[serde(deserialize_with = "number")]
    transfer_margin_minutes: u64,
    #[serde(deserialize_with = "flag")]
    second_factor_for_admins: bool,
    #[serde(deserialize_with = "duration")]
    oidc_key_max_age: Duration,
    #[serde(deserialize_with = "duration")]
    oidc_refresh_lifetime: Duration,
}

/// The built-in defaults, the first layer.
fn defaults() -> Vec<(&'static str, &'static str)> {
    vec![
        ("database_max_connections", "8"),
        ("listen", "127.0.0.1:8080"),
        ("data_dir", "./data"),
        ("log_format", "pretty"),
        ("session_idle", "30m"),
        ("session_absolute", "12h"),
        ("activation_validity", "120d"),
        ("import_grace_period", "30d"),
        ("trusted_proxies", ""),
        ("departement_code", "86"),
        ("departement_name", "Vienne"),
        ("worker_poll_interval", "5s"),
        ("transfer_speed_kmh", "40"),
        ("transfer_margin_minutes", "10"),
        ("second_factor_for_admins", "true"),
        ("oidc_key_max_age", "90d"),
        ("oidc_refresh_lifetime", "30d"),
    ]
}

impl Config {
    /// Reads the layers and validates them. `file` is `--config`; without it, `preau.toml` is
    /// read when it exists in the working directory. `env` gives the environment (a parameter so
    /// that tests need not touch the process's own).
    ///
    /// # Errors
    /// A French message naming the key and what is wrong with it.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut figment = Figment::new().merge(Serialized::defaults(
            defaults().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
        ));

        let source_file = match file {
            Some(path) if !path.is_file() => {
                bail!("fichier de configuration introuvable : {}", path.display())
            }
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|path| path.is_file()),
        };
        if let Some(path) = &source_file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Serialized::defaults(env_layer(env)));

        let raw: RawConfig = figment.extract().map_err(|error| {
            anyhow::anyhow!("configuration invalide : {}", french_figment_error(&error))
        })?;
        validate(raw, source_file)
    }

    /// The database settings for [`store::Store::open`].
    pub fn store_config(&self) -> store::StoreConfig {
        store::StoreConfig {
            url: self.database_url.expose_secret().to_owned(),
            max_connections: self.database_max_connections,
        }
    }

    /// The web settings for [`web::router_with`].
    pub fn web_config(&self) -> web::WebConfig {
        web::WebConfig {
            base_url: self.base_url.clone(),
            session_idle: self.session_idle,
            session_absolute: self.session_absolute,
            activation_validity: self.activation_validity,
            max_concurrent_hashes: self.max_concurrent_hashes,
            trusted_proxies: self.trusted_proxies.clone(),
            files_dir: self.files_dir.clone(),
            travel: self.travel,
            second_factor_for_admins: self.second_factor_for_admins,
            oidc: self.oidc,
            ..web::WebConfig::default()
        }
    }

    /// The import settings for [`store::Store::import_aaf`].
    pub fn import_options(&self) -> store::import::ImportOptions {
        store::import::ImportOptions {
            grace_period: self.import_grace_period,
            activation_validity: self.activation_validity,
        }
    }

    /// Creates the data directory if needed.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn ensure_data_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!("impossible de créer le dossier de données {}", self.data_dir.display())
        })
    }

    /// The effective configuration as TOML, secrets redacted: what `preau config` prints.
    pub fn to_redacted_toml(&self) -> String {
        let proxies: Vec<String> =
            self.trusted_proxies.iter().map(|ip| toml_string(&ip.to_string())).collect();
        let mut lines = vec![
            format!(
                "# Configuration effective{}",
                match &self.source_file {
                    Some(path) => format!(" (fichier lu : {})", path.display()),
                    None => " (aucun fichier lu)".to_owned(),
                }
            ),
            format!(
                "database_url = {}",
                toml_string(&store::redact(self.database_url.expose_secret()))
            ),
            format!("database_max_connections = {}", self.database_max_connections),
            format!("listen = {}", toml_string(&self.listen.to_string())),
            format!("base_url = {}", toml_string(&self.base_url)),
            format!("data_dir = {}", toml_string(&self.data_dir.display().to_string())),
            format!(
                "log_format = {}",
                toml_string(match self.log_format {
                    LogFormat::Pretty => "pretty",
                    LogFormat::Json => "json",
                })
            ),
            format!("session_idle = {}", toml_string(&format_duration(self.session_idle))),
            format!("session_absolute = {}", toml_string(&format_duration(self.session_absolute))),
            format!(
                "activation_validity = {}",
                toml_string(&format_duration(self.activation_validity))
            ),
            format!(
                "import_grace_period = {}",
                toml_string(&format_duration(self.import_grace_period))
            ),
            format!("max_concurrent_hashes = {}", self.max_concurrent_hashes),
            format!("trusted_proxies = [{}]", proxies.join(", ")),
            format!("departement_code = {}", toml_string(&self.departement_code)),
            format!("departement_name = {}", toml_string(&self.departement_name)),
        ];
        match &self.smtp {
            None => lines.push("# smtp_host : non configuré (aucun courriel envoyé)".to_owned()),
            Some(smtp) => {
                lines.push(format!("smtp_host = {}", toml_string(&smtp.host)));
                lines.push(format!("smtp_port = {}", smtp.port));
                lines.push(format!("smtp_tls = {}", toml_string(smtp.tls.code())));
                if let Some((user, _password)) = &smtp.credentials {
                    lines.push(format!("smtp_username = {}", toml_string(user)));
                    lines.push(format!("smtp_password = {}", toml_string("***")));
                }
                lines.push(format!("smtp_from = {}", toml_string(&smtp.from)));
            }
        }
        lines.push(format!(
            "worker_poll_interval = {}",
            toml_string(&format_duration(self.worker_poll_interval))
        ));
        lines.push(format!("files_dir = {}", toml_string(&self.files_dir.display().to_string())));
        if let Some(s3) = &self.s3 {
            lines.push(format!("s3_endpoint = {}", toml_string(&store::redact(&s3.endpoint))));
            lines.push(format!("s3_bucket = {}", toml_string(&s3.bucket)));
            lines.push(format!("s3_region = {}", toml_string(&s3.region)));
            lines.push(format!("s3_access_key_id = {}", toml_string(&s3.access_key_id)));
            lines.push(format!("s3_secret_access_key = {}", toml_string("***")));
        }
        lines.push(format!("transfer_speed_kmh = {}", format_decimal(self.travel.speed_kmh)));
        lines.push(format!("transfer_margin_minutes = {}", self.travel.margin_minutes));
        lines.push(format!("second_factor_for_admins = {}", self.second_factor_for_admins));
        lines.push(format!(
            "oidc_key_max_age = {}",
            toml_string(&format_duration(self.oidc.key_max_age))
        ));
        lines.push(format!(
            "oidc_refresh_lifetime = {}",
            toml_string(&format_duration(self.oidc.refresh_absolute))
        ));
        lines.join("\n") + "\n"
    }
}

/// The `PREAU_<KEY>` variables among [`ENV_KEYS`], as string values keyed by the lower-case key.
fn env_layer(
    env: impl IntoIterator<Item = (String, String)>,
) -> std::collections::BTreeMap<String, String> {
    env.into_iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("PREAU_")?.to_ascii_lowercase();
            ENV_KEYS.contains(&key.as_str()).then_some((key, value))
        })
        .collect()
}

fn validate(raw: RawConfig, source_file: Option<PathBuf>) -> anyhow::Result<Config> {
    let smtp = validate_smtp(&raw)?;
    let travel = validate_travel(&raw)?;
    let second_factor_for_admins = raw.second_factor_for_admins;
    let defaults = store::sso::oidc::OidcPolicy::default();
    if raw.oidc_key_max_age < Duration::from_secs(24 * 3600) {
        bail!(
            "oidc_key_max_age : au moins un jour (chaque clé doit rester publiée assez longtemps)"
        );
    }
    let oidc = store::sso::oidc::OidcPolicy {
        key_max_age: raw.oidc_key_max_age,
        refresh_absolute: raw.oidc_refresh_lifetime,
        refresh_idle: defaults.refresh_idle.min(raw.oidc_refresh_lifetime),
        ..defaults
    };
    let s3 = validate_s3(&raw)?;

    let listen: SocketAddr = raw.listen.trim().parse().map_err(|_| {
        anyhow::anyhow!(
            "listen : « {} » n'est pas une adresse d'écoute (attendu : IP:port, par exemple \
             127.0.0.1:8080)",
            raw.listen
        )
    })?;

    // Without a base URL, the server is reached where it listens (a wildcard address through
    // the loopback one), so that changing the port alone keeps every form working.
    let raw_base_url = raw.base_url.unwrap_or_else(|| match listen.ip() {
        ip if ip.is_unspecified() => format!("http://127.0.0.1:{}", listen.port()),
        _ => format!("http://{listen}"),
    });
    let base_url = raw_base_url.trim().trim_end_matches('/').to_owned();
    let host = base_url.strip_prefix("http://").or_else(|| base_url.strip_prefix("https://"));
    match host {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {}
        _ => bail!(
            "base_url : « {raw_base_url} » doit être une adresse http:// ou https:// avec un \
             nom d'hôte"
        ),
    }

    let log_format = match raw.log_format.trim() {
        "pretty" => LogFormat::Pretty,
        "json" => LogFormat::Json,
        other => bail!("log_format : « {other} » inconnu (attendu : pretty ou json)"),
    };

    for (key, value) in [
        ("session_idle", raw.session_idle),
        ("session_absolute", raw.session_absolute),
        ("activation_validity", raw.activation_validity),
        ("import_grace_period", raw.import_grace_period),
        ("oidc_key_max_age", raw.oidc_key_max_age),
        ("oidc_refresh_lifetime", raw.oidc_refresh_lifetime),
    ] {
        if value.is_zero() {
            bail!("{key} : la durée ne peut pas être nulle");
        }
    }
    if raw.session_idle > raw.session_absolute {
        bail!("session_idle : ne peut pas dépasser session_absolute");
    }

    let database_max_connections = u32::try_from(raw.database_max_connections)
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .context("database_max_connections : attendu un nombre entre 1 et 1000")?;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let max_concurrent_hashes = match raw.max_concurrent_hashes {
        None => cores,
        Some(n @ 1..=64) => usize::try_from(n).unwrap_or(1),
        Some(_) => bail!(
            "max_concurrent_hashes : doit valoir entre 1 et 64 (chaque calcul de mot de passe \
             occupe 19 Mio de mémoire)"
        ),
    };

    let mut trusted_proxies = Vec::new();
    for proxy in raw.trusted_proxies.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let ip: IpAddr = proxy.parse().map_err(|_| {
            anyhow::anyhow!("trusted_proxies : « {proxy} » n'est pas une adresse IP")
        })?;
        trusted_proxies.push(ip);
    }

    let departement_code = raw.departement_code.trim().to_owned();
    if departement_code.is_empty()
        || departement_code.len() > 3
        || !departement_code.chars().all(|c| c.is_ascii_alphanumeric())
    {
        bail!("departement_code : « {} » n'est pas un code de département", raw.departement_code);
    }
    let departement_name = raw.departement_name.trim().to_owned();
    if departement_name.is_empty() {
        bail!("departement_name : le nom du département ne peut pas être vide");
    }

    let data_dir = PathBuf::from(raw.data_dir.trim());
    if data_dir.as_os_str().is_empty() {
        bail!("data_dir : le dossier de données ne peut pas être vide");
    }
    let database_url = match raw.database_url.map(|url| url.trim().to_owned()) {
        Some(url) if !url.is_empty() => url,
        _ => format!("sqlite://{}", data_dir.join("preau.db").display()),
    };
    if store::backend_of(&database_url).is_err() {
        bail!(
            "database_url : « {} » n'est pas compris (attendu : sqlite://… ou postgres://…)",
            store::redact(&database_url)
        );
    }

    if raw.worker_poll_interval < Duration::from_secs(1)
        || raw.worker_poll_interval > Duration::from_secs(3_600)
    {
        bail!("worker_poll_interval : attendu une durée entre 1s et 1h");
    }
    let files_dir = match raw.files_dir.as_deref().map(str::trim) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        Some(_) => bail!("files_dir : le dossier des pièces jointes ne peut pas être vide"),
        None => data_dir.join("files"),
    };

    Ok(Config {
        database_url: SecretString::from(database_url),
        database_max_connections,
        listen,
        base_url,
        data_dir,
        log_format,
        session_idle: raw.session_idle,
        session_absolute: raw.session_absolute,
        activation_validity: raw.activation_validity,
        import_grace_period: raw.import_grace_period,
        max_concurrent_hashes,
        trusted_proxies,
        departement_code,
        departement_name,
        smtp,
        worker_poll_interval: raw.worker_poll_interval,
        files_dir,
        s3,
        travel,
        second_factor_for_admins,
        oidc,
        source_file,
    })
}

/// The transfer policy of the merged timetables: a plausible average speed door to door, and a
/// margin of at most two hours.
fn validate_travel(raw: &RawConfig) -> anyhow::Result<domain::timetable::TravelPolicy> {
    if !TRANSFER_SPEED_RANGE.contains(&raw.transfer_speed_kmh) {
        bail!(
            "transfer_speed_kmh : attendu une vitesse moyenne entre 5 et 150 km/h (reçu {})",
            format_decimal(raw.transfer_speed_kmh)
        );
    }
    let margin_minutes = u16::try_from(raw.transfer_margin_minutes)
        .ok()
        .filter(|margin| TRANSFER_MARGIN_RANGE.contains(&u64::from(*margin)))
        .with_context(|| {
            format!(
                "transfer_margin_minutes : attendu un nombre de minutes entre 0 et 120 (reçu {})",
                raw.transfer_margin_minutes
            )
        })?;
    Ok(domain::timetable::TravelPolicy { speed_kmh: raw.transfer_speed_kmh, margin_minutes })
}

/// A decimal number as TOML writes it, without a fractional part when it has none.
fn format_decimal(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// A setting given as an empty or blank text counts as not given.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|value| !value.is_empty())
}

/// The SMTP relay, when `smtp_host` is set. Credentials are refused over a plain connection to
/// another machine: the password would cross the network in clear.
fn validate_smtp(raw: &RawConfig) -> anyhow::Result<Option<SmtpConfig>> {
    let Some(host) = given(&raw.smtp_host) else {
        let others = [
            ("smtp_port", raw.smtp_port.is_some()),
            ("smtp_tls", given(&raw.smtp_tls).is_some()),
            ("smtp_username", given(&raw.smtp_username).is_some()),
            ("smtp_password", given(&raw.smtp_password).is_some()),
            ("smtp_from", given(&raw.smtp_from).is_some()),
        ];
        if let Some((key, _)) = others.iter().find(|(_, set)| *set) {
            bail!("{key} : donné sans smtp_host (le serveur de courriel à utiliser)");
        }
        return Ok(None);
    };
    let host_ok = host.len() <= 253
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    if !host_ok {
        bail!("smtp_host : « {host} » n'est pas un nom d'hôte ni une adresse IP");
    }

    let tls = match given(&raw.smtp_tls).unwrap_or("starttls") {
        "none" => SmtpTls::None,
        "starttls" => SmtpTls::StartTls,
        "tls" => SmtpTls::Tls,
        other => bail!("smtp_tls : « {other} » inconnu (attendu : starttls, tls ou none)"),
    };
    let port = match raw.smtp_port {
        None => tls.default_port(),
        Some(port) => u16::try_from(port)
            .ok()
            .filter(|port| *port > 0)
            .context("smtp_port : attendu un numéro de port entre 1 et 65535")?,
    };

    let credentials = match (given(&raw.smtp_username), raw.smtp_password.as_deref()) {
        (None, None) => None,
        (Some(user), Some(password)) if !password.is_empty() => {
            Some((user.to_owned(), SecretString::from(password.to_owned())))
        }
        (None, Some(_)) => bail!("smtp_password : donné sans smtp_username"),
        (Some(_), _) => bail!("smtp_username : donné sans smtp_password"),
    };
    let loopback = host == "localhost"
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if credentials.is_some() && tls == SmtpTls::None && !loopback {
        bail!(
            "smtp_password : refusé avec smtp_tls = none vers un autre serveur que celui-ci (le \
             mot de passe circulerait en clair) ; utilisez starttls ou tls"
        );
    }

    let Some(from) = given(&raw.smtp_from) else {
        bail!("smtp_from : l'adresse d'expédition des courriels est obligatoire avec smtp_host");
    };
    if from.parse::<lettre::message::Mailbox>().is_err() {
        bail!(
            "smtp_from : « {from} » n'est pas une adresse de courriel (exemple : Préau \
             <ne-pas-repondre@ent.example.fr>)"
        );
    }

    Ok(Some(SmtpConfig { host: host.to_owned(), port, tls, credentials, from: from.to_owned() }))
}

/// The object store, when any `s3_*` setting is given: then the endpoint, the bucket and the
/// keys are all needed (no endpoint is assumed, so nothing is ever sent to a default host).
fn validate_s3(raw: &RawConfig) -> anyhow::Result<Option<S3Settings>> {
    let settings = [
        ("s3_endpoint", given(&raw.s3_endpoint)),
        ("s3_bucket", given(&raw.s3_bucket)),
        ("s3_access_key_id", given(&raw.s3_access_key_id)),
        ("s3_secret_access_key", given(&raw.s3_secret_access_key)),
    ];
    if settings.iter().all(|(_, value)| value.is_none()) {
        if given(&raw.s3_region).is_some() {
            bail!("s3_region : donné sans s3_endpoint ni s3_bucket");
        }
        return Ok(None);
    }
    if let Some((key, _)) = settings.iter().find(|(_, value)| value.is_none()) {
        bail!("{key} : obligatoire dès qu'un réglage s3_* est donné");
    }
    let [endpoint, bucket, access_key_id, secret] = settings.map(|(_, value)| value.unwrap_or(""));

    let endpoint = endpoint.trim_end_matches('/');
    let host = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://"));
    match host {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {}
        _ => bail!("s3_endpoint : « {endpoint} » doit être une adresse http:// ou https://"),
    }
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !bucket_ok {
        bail!(
            "s3_bucket : « {bucket} » n'est pas un nom de compartiment (3 à 63 caractères a-z, \
             0-9, - et .)"
        );
    }

    Ok(Some(S3Settings {
        endpoint: endpoint.to_owned(),
        bucket: bucket.to_owned(),
        region: given(&raw.s3_region).unwrap_or("us-east-1").to_owned(),
        access_key_id: access_key_id.to_owned(),
        secret_access_key: SecretString::from(secret.to_owned()),
    }))
}

/// Figment's messages are English; the parts a person must act on are put in French.
fn french_figment_error(error: &figment::Error) -> String {
    use figment::error::Kind;

    let mut messages = Vec::new();
    for error in error.clone() {
        let key = error.path.join(".");
        let message = match &error.kind {
            Kind::UnknownField(field, _) => format!("clé inconnue « {field} »"),
            Kind::MissingField(field) => format!("clé manquante « {field} »"),
            Kind::Message(message) => format!("{key} : {message}"),
            other => format!("{key} : {other}"),
        };
        let origin = match &error.metadata {
            Some(metadata) => match &metadata.source {
                Some(figment::Source::File(path)) => format!(" (dans {})", path.display()),
                _ => String::new(),
            },
            None => String::new(),
        };
        messages.push(format!("{message}{origin}"));
    }
    messages.join(" ; ")
}

/// Parses a duration: a number of seconds, or a number followed by `s`, `m` (or `min`), `h`,
/// `d` (or `j`), such as `30m`, `12h`, `120d`; several parts may follow each other (`1h30m`).
///
/// # Errors
/// A French message when the text is not such a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("« {text} » n'est pas une durée (exemples : 45s, 30m, 12h, 120d)");
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }

    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == ' ').unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "s" => 1,
            "m" | "min" => 60,
            "h" => 3_600,
            "d" | "j" => 86_400,
            _ => return Err(bad()),
        };
        total = number
            .checked_mul(seconds_per_unit)
            .and_then(|seconds| total.checked_add(seconds))
            .ok_or_else(bad)?;
        rest = rest[unit_len..].trim_start();
    }
    Ok(Duration::from_secs(total))
}

/// The shortest exact form of a duration in the units [`parse_duration`] reads.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds > 0 && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

fn toml_string(value: &str) -> String {
    let escaped: String = value
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => format!("\\u{:04X}", u32::from(c)).chars().collect(),
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// A value given either as a string (from the environment) or as a TOML value.
#[derive(Deserialize)]
#[serde(untagged)]
enum Loose {
    Number(u64),
    Text(String),
    List(Vec<String>),
}

fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    match Loose::deserialize(deserializer)? {
        Loose::Number(n) => Ok(n),
        Loose::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("« {text} » n'est pas un nombre"))),
        Loose::List(_) => Err(serde::de::Error::custom("attendu un nombre, pas une liste")),
    }
}

/// A yes or no, given as a TOML boolean or as text in the environment (`true`/`false`, also
/// `oui`/`non` and `1`/`0`).
fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum LooseFlag {
        Flag(bool),
        Text(String),
    }

    match LooseFlag::deserialize(deserializer)? {
        LooseFlag::Flag(flag) => Ok(flag),
        LooseFlag::Text(text) => match text.trim().to_lowercase().as_str() {
            "true" | "oui" | "1" => Ok(true),
            "false" | "non" | "0" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "« {text} » n'est pas un booléen (attendu : true ou false)"
            ))),
        },
    }
}

/// A decimal number, given as an integer or a decimal in TOML, or as text (`"37.5"`, or
/// `"37,5"` as French writes it) in the environment.
fn decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum LooseDecimal {
        Integer(u64),
        Decimal(f64),
        Text(String),
    }

    let value = match LooseDecimal::deserialize(deserializer)? {
        LooseDecimal::Integer(n) => n as f64,
        LooseDecimal::Decimal(x) => x,
        LooseDecimal::Text(text) => text
            .trim()
            .replace(',', ".")
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("« {text} » n'est pas un nombre")))?,
    };
    if value.is_finite() {
        Ok(value)
    } else {
        Err(serde::de::Error::custom("attendu un nombre fini"))
    }
}

fn optional_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    number(deserializer).map(Some)
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    match Loose::deserialize(deserializer)? {
        Loose::Number(seconds) => Ok(Duration::from_secs(seconds)),
        Loose::Text(text) => parse_duration(&text).map_err(serde::de::Error::custom),
        Loose::List(_) => Err(serde::de::Error::custom("attendu une durée, pas une liste")),
    }
}

fn string_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    match Loose::deserialize(deserializer)? {
        Loose::List(list) => Ok(list),
        Loose::Text(text) => Ok(text.split(',').map(str::to_owned).collect()),
        Loose::Number(_) => Err(serde::de::Error::custom("attendu une liste d'adresses IP")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn load_with_file(toml: &str, pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preau.toml");
        std::fs::write(&path, toml).unwrap();
        Config::load(Some(&path), env(pairs))
    }

    #[test]
    fn defaults_give_a_local_sqlite_database_under_the_data_dir() {
        let config = Config::load(None, env(&[("PREAU_DATA_DIR", "/tmp/x")])).unwrap();
        assert_eq!(config.database_url.expose_secret(), "sqlite:///tmp/x/preau.db");
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.base_url, "http://127.0.0.1:8080");
        assert_eq!(config.session_idle, Duration::from_secs(1800));
        assert_eq!(config.activation_validity, Duration::from_secs(120 * 86_400));
        assert_eq!(config.log_format, LogFormat::Pretty);
    }

    #[test]
    fn environment_variables_override_the_file() {
        let config = load_with_file(
            "listen = \"127.0.0.1:9000\"\ndepartement_code = \"79\"\nsession_idle = 600\n",
            &[("PREAU_LISTEN", "127.0.0.1:9100"), ("PREAU_DEPARTEMENT_NAME", "Deux-Sèvres")],
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.departement_code, "79");
        assert_eq!(config.departement_name, "Deux-Sèvres");
        assert_eq!(config.session_idle, Duration::from_secs(600));
    }

    #[test]
    fn without_a_base_url_the_server_is_reached_where_it_listens() {
        let moved = Config::load(None, env(&[("PREAU_LISTEN", "127.0.0.1:8094")])).unwrap();
        assert_eq!(moved.base_url, "http://127.0.0.1:8094");
        let everywhere = Config::load(None, env(&[("PREAU_LISTEN", "0.0.0.0:9000")])).unwrap();
        assert_eq!(everywhere.base_url, "http://127.0.0.1:9000");
        let explicit = Config::load(
            None,
            env(&[("PREAU_LISTEN", "0.0.0.0:9000"), ("PREAU_BASE_URL", "https://ent.example/")]),
        )
        .unwrap();
        assert_eq!(explicit.base_url, "https://ent.example");
    }

    #[test]
    fn a_numeric_looking_departement_code_keeps_its_leading_zero() {
        let config = Config::load(None, env(&[("PREAU_DEPARTEMENT_CODE", "01")])).unwrap();
        assert_eq!(config.departement_code, "01");
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused_but_other_preau_variables_are_ignored() {
        let error = load_with_file("lisen = \"127.0.0.1:1\"\n", &[]).unwrap_err();
        assert!(error.to_string().contains("clé inconnue « lisen »"), "{error}");
        assert!(Config::load(None, env(&[("PREAU_TEST_DATABASE", "sqlite")])).is_ok());
    }

    #[test]
    fn bad_values_are_refused_with_french_messages() {
        let cases = [
            ("PREAU_LISTEN", "localhost", "listen"),
            ("PREAU_BASE_URL", "ftp://x", "base_url"),
            ("PREAU_BASE_URL", "https://", "base_url"),
            ("PREAU_SESSION_IDLE", "0", "session_idle"),
            ("PREAU_ACTIVATION_VALIDITY", "deux jours", "durée"),
            ("PREAU_LOG_FORMAT", "xml", "log_format"),
            ("PREAU_DATABASE_URL", "mysql://h/db", "database_url"),
            ("PREAU_TRUSTED_PROXIES", "10.0.0.1,proxy", "trusted_proxies"),
            ("PREAU_MAX_CONCURRENT_HASHES", "0", "max_concurrent_hashes"),
            ("PREAU_MAX_CONCURRENT_HASHES", "100000", "max_concurrent_hashes"),
            ("PREAU_TRANSFER_SPEED_KMH", "4", "transfer_speed_kmh"),
            ("PREAU_TRANSFER_SPEED_KMH", "151", "transfer_speed_kmh"),
            ("PREAU_TRANSFER_SPEED_KMH", "vite", "transfer_speed_kmh"),
            ("PREAU_TRANSFER_MARGIN_MINUTES", "121", "transfer_margin_minutes"),
            ("PREAU_TRANSFER_MARGIN_MINUTES", "-1", "transfer_margin_minutes"),
        ];
        for (key, value, expected) in cases {
            let error = Config::load(None, env(&[(key, value)])).unwrap_err();
            assert!(error.to_string().contains(expected), "{key}={value}: {error}");
        }
    }

    #[test]
    fn the_database_password_never_shows() {
        let config = Config::load(
            None,
            env(&[("PREAU_DATABASE_URL", "postgres://preau:s3cret@127.0.0.1/preau")]),
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("s3cret"));
        let printed = config.to_redacted_toml();
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("postgres://preau:***@127.0.0.1/preau"), "{printed}");
    }

    #[test]
    fn durations_are_read_in_several_units() {
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("120j"), Ok(Duration::from_secs(120 * 86_400)));
        assert!(parse_duration("12 parsecs").is_err());
        assert_eq!(format_duration(Duration::from_secs(5400)), "90m");
        assert_eq!(format_duration(Duration::from_secs(43_200)), "12h");
    }

    #[test]
    fn the_example_file_loads_and_states_the_defaults() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../preau.toml.example");
        let from_file = Config::load(Some(Path::new(example)), env(&[])).unwrap();
        let defaults = Config::load(None, env(&[])).unwrap();
        let without_cores = |config: &Config| {
            config
                .to_redacted_toml()
                .lines()
                .skip(1)
                .filter(|l| !l.starts_with("max_concurrent"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(without_cores(&from_file), without_cores(&defaults));
    }

    #[test]
    fn without_smtp_settings_no_email_is_sent_and_files_stay_under_the_data_dir() {
        let config = Config::load(None, env(&[("PREAU_DATA_DIR", "/tmp/x")])).unwrap();
        assert!(config.smtp.is_none() && config.s3.is_none());
        assert_eq!(config.files_dir, PathBuf::from("/tmp/x/files"));
        assert_eq!(config.worker_poll_interval, Duration::from_secs(5));
        assert!(config.to_redacted_toml().contains("# smtp_host : non configuré"));
    }

    #[test]
    fn smtp_settings_are_read_with_defaults_that_follow_the_tls_mode() {
        let from = ("PREAU_SMTP_FROM", "Préau <ne-pas-repondre@ent.example.fr>");
        let config =
            Config::load(None, env(&[("PREAU_SMTP_HOST", "smtp.example.fr"), from])).unwrap();
        let smtp = config.smtp.unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
        let config = Config::load(
            None,
            env(&[
                ("PREAU_SMTP_HOST", "127.0.0.1"),
                ("PREAU_SMTP_TLS", "none"),
                ("PREAU_SMTP_PORT", "2525"),
                ("PREAU_WORKER_POLL_INTERVAL", "1s"),
                from,
            ]),
        )
        .unwrap();
        let smtp = config.smtp.as_ref().unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port, smtp.tls), ("127.0.0.1", 2525, SmtpTls::None));
        assert_eq!(config.worker_poll_interval, Duration::from_secs(1));
        let printed = config.to_redacted_toml();
        assert!(printed.contains("smtp_port = 2525\nsmtp_tls = \"none\""), "{printed}");
    }

    #[test]
    fn the_smtp_and_object_store_secrets_never_show() {
        let config = load_with_file(
            "smtp_host = \"smtp.example.fr\"\nsmtp_username = \"preau\"\n\
             smtp_password = \"mdp-smtp\"\nsmtp_from = \"preau@example.fr\"\n\
             s3_endpoint = \"http://127.0.0.1:9000\"\ns3_bucket = \"pieces-jointes\"\n\
             s3_access_key_id = \"cle\"\ns3_secret_access_key = \"secret-s3\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.s3.as_ref().unwrap().region, "us-east-1");
        let debug = format!("{config:?}");
        let printed = config.to_redacted_toml();
        for text in [&debug, &printed] {
            assert!(!text.contains("mdp-smtp") && !text.contains("secret-s3"), "{text}");
        }
        assert!(printed.contains("smtp_password = \"***\""), "{printed}");
        assert!(printed.contains("s3_secret_access_key = \"***\""), "{printed}");
        assert!(printed.contains("s3_bucket = \"pieces-jointes\""), "{printed}");
    }

    #[test]
    fn incomplete_or_unsafe_mail_and_storage_settings_are_refused_in_french() {
        let from = ("PREAU_SMTP_FROM", "preau@example.fr");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("PREAU_SMTP_PORT", "25")], "smtp_port : donné sans smtp_host"),
            (&[("PREAU_SMTP_HOST", "smtp.example.fr")], "smtp_from : l'adresse"),
            (
                &[("PREAU_SMTP_HOST", "smtp.example.fr"), ("PREAU_SMTP_FROM", "pas-une-adresse")],
                "smtp_from",
            ),
            (&[("PREAU_SMTP_HOST", "smtp.example.fr/x"), from], "smtp_host"),
            (
                &[("PREAU_SMTP_HOST", "smtp.example.fr"), ("PREAU_SMTP_TLS", "ssl"), from],
                "smtp_tls",
            ),
            (
                &[("PREAU_SMTP_HOST", "smtp.example.fr"), ("PREAU_SMTP_PORT", "70000"), from],
                "smtp_port",
            ),
            (
                &[("PREAU_SMTP_HOST", "smtp.example.fr"), ("PREAU_SMTP_USERNAME", "u"), from],
                "smtp_username : donné sans smtp_password",
            ),
            (
                &[
                    ("PREAU_SMTP_HOST", "smtp.example.fr"),
                    ("PREAU_SMTP_TLS", "none"),
                    ("PREAU_SMTP_USERNAME", "u"),
                    ("PREAU_SMTP_PASSWORD", "p"),
                    from,
                ],
                "en clair",
            ),
            (&[("PREAU_WORKER_POLL_INTERVAL", "0")], "worker_poll_interval"),
            (&[("PREAU_S3_BUCKET", "pieces")], "s3_endpoint : obligatoire"),
            (&[("PREAU_S3_REGION", "eu-west-3")], "s3_region"),
            (
                &[
                    ("PREAU_S3_ENDPOINT", "ftp://127.0.0.1"),
                    ("PREAU_S3_BUCKET", "pieces"),
                    ("PREAU_S3_ACCESS_KEY_ID", "k"),
                    ("PREAU_S3_SECRET_ACCESS_KEY", "s"),
                ],
                "s3_endpoint",
            ),
            (
                &[
                    ("PREAU_S3_ENDPOINT", "http://127.0.0.1:9000"),
                    ("PREAU_S3_BUCKET", "Pièces Jointes"),
                    ("PREAU_S3_ACCESS_KEY_ID", "k"),
                    ("PREAU_S3_SECRET_ACCESS_KEY", "s"),
                ],
                "s3_bucket",
            ),
        ];
        for (pairs, expected) in cases {
            let error = Config::load(None, env(pairs)).unwrap_err();
            assert!(error.to_string().contains(expected), "{pairs:?}: {error}");
        }
        let local = Config::load(
            None,
            env(&[
                ("PREAU_SMTP_HOST", "127.0.0.1"),
                ("PREAU_SMTP_TLS", "none"),
                ("PREAU_SMTP_USERNAME", "u"),
                ("PREAU_SMTP_PASSWORD", "p"),
                from,
            ]),
        );
        assert!(local.is_ok(), "a relay on this machine may take a password in clear");
    }

    #[test]
    fn the_transfer_policy_has_defaults_and_takes_its_bounds() {
        let defaults = Config::load(None, env(&[])).unwrap();
        assert_eq!(defaults.travel, domain::timetable::TravelPolicy::default());
        assert_eq!((defaults.travel.speed_kmh, defaults.travel.margin_minutes), (40.0, 10));
        let printed = defaults.to_redacted_toml();
        assert!(printed.contains("transfer_speed_kmh = 40\n"), "{printed}");
        assert!(printed.contains("transfer_margin_minutes = 10\n"), "{printed}");
        assert!(defaults.second_factor_for_admins);
        assert!(printed.contains("second_factor_for_admins = true\n"), "{printed}");
        let staged = load_with_file("second_factor_for_admins = false\n", &[]).unwrap();
        assert!(!staged.second_factor_for_admins);
        let from_env = load_with_file("", &[("PREAU_SECOND_FACTOR_FOR_ADMINS", "non")]).unwrap();
        assert_eq!(defaults.oidc, store::sso::oidc::OidcPolicy::default());
        let oidc =
            load_with_file("oidc_key_max_age = \"30d\"\noidc_refresh_lifetime = \"7d\"\n", &[])
                .unwrap();
        assert_eq!(oidc.oidc.key_max_age, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(oidc.oidc.refresh_absolute, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(oidc.oidc.refresh_idle, Duration::from_secs(7 * 24 * 3600));
        assert!(load_with_file("oidc_key_max_age = \"1h\"\n", &[]).is_err());
        assert!(!from_env.second_factor_for_admins);
        assert!(load_with_file("", &[("PREAU_SECOND_FACTOR_FOR_ADMINS", "peut-être")]).is_err());

        let bounds = Config::load(
            None,
            env(&[("PREAU_TRANSFER_SPEED_KMH", "5"), ("PREAU_TRANSFER_MARGIN_MINUTES", "120")]),
        )
        .unwrap();
        assert_eq!((bounds.travel.speed_kmh, bounds.travel.margin_minutes), (5.0, 120));
        let french = Config::load(None, env(&[("PREAU_TRANSFER_SPEED_KMH", "37,5")])).unwrap();
        assert_eq!(french.travel.speed_kmh, 37.5);
        let file =
            load_with_file("transfer_speed_kmh = 150\ntransfer_margin_minutes = 0\n", &[]).unwrap();
        assert_eq!((file.travel.speed_kmh, file.travel.margin_minutes), (150.0, 0));
        let decimal = load_with_file("transfer_speed_kmh = 62.5\n", &[]).unwrap();
        assert_eq!(decimal.travel.speed_kmh, 62.5);
        assert!(decimal.to_redacted_toml().contains("transfer_speed_kmh = 62.5\n"));
        let error = load_with_file("transfer_speed_kmh = 0.5\n", &[]).unwrap_err();
        assert!(error.to_string().contains("transfer_speed_kmh"), "{error}");
    }

    #[test]
    fn trusted_proxies_are_read_from_a_list_or_a_comma_separated_variable() {
        let config = load_with_file("trusted_proxies = [\"10.0.0.1\", \"::1\"]\n", &[]).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        let config =
            Config::load(None, env(&[("PREAU_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2")])).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
    }
}

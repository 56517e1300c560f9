//! The account tools of the command line: exporting a school's or a class's activation codes
//! (a spreadsheet, or letters to print) and creating the département's own agents and officials.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use domain::activation::format_code;
use domain::profile::Profile;
use store::provisioning::NewLocalPerson;

use web::letters::{french_date, render_letters, write_codes_csv};

use crate::config::Config;

/// The output formats of `accounts codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Html,
}

/// What `accounts codes` was asked.
#[derive(Debug, Clone)]
pub struct CodesRequest {
    pub uai: String,
    pub class: Option<String>,
    pub format: Format,
    pub output: Option<PathBuf>,
}

/// What `accounts create-agent` was asked.
#[derive(Debug, Clone)]
pub struct AgentRequest {
    pub last_name: String,
    pub first_name: String,
    pub email: Option<String>,
    pub official: bool,
    pub scope: Vec<String>,
    pub admin: bool,
}

/// Writes the codes of a school or class where asked.
///
/// # Errors
/// An unknown school or class, a database error, or an unwritable output.
pub async fn export_codes(
    config: &Config,
    store: &store::Store,
    request: &CodesRequest,
) -> anyhow::Result<()> {
    let uai = request.uai.trim().to_uppercase();
    let rows = store
        .activation_codes(&uai, request.class.as_deref(), config.activation_validity)
        .await
        .map_err(|error| match error {
            store::StoreError::NotFound => match &request.class {
                Some(class) => anyhow::anyhow!("aucune classe « {class} » dans le collège {uai}"),
                None => anyhow::anyhow!("aucun collège actif n'a l'UAI {uai}"),
            },
            other => anyhow::anyhow!("lecture des codes impossible : {other}"),
        })?;

    let mut bytes = Vec::new();
    match request.format {
        Format::Csv => write_codes_csv(&mut bytes, &rows)?,
        Format::Html => bytes = render_letters(&rows, &config.base_url).into_bytes(),
    }
    match &request.output {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("impossible d'écrire {}", path.display()))?,
        None => std::io::stdout().write_all(&bytes).context("écriture sur la sortie standard")?,
    }

    let activated = rows.iter().filter(|row| row.code.is_none()).count();
    eprintln!("{} personne(s) exportée(s), dont {activated} compte(s) déjà activé(s).", rows.len());
    Ok(())
}

/// Creates an agent or official; returns the French text to print (login, code, expiry).
///
/// # Errors
/// A refused name or unknown UAI, or a database error.
pub async fn create_agent(
    config: &Config,
    store: &store::Store,
    request: &AgentRequest,
) -> anyhow::Result<String> {
    let new = NewLocalPerson {
        profile: if request.official { Profile::Official } else { Profile::Agent },
        last_name: request.last_name.clone(),
        first_name: request.first_name.clone(),
        email: request.email.clone().filter(|e| !e.trim().is_empty()),
        scope_uais: request.scope.iter().map(|uai| uai.trim().to_uppercase()).collect(),
        departement_admin: request.admin,
    };
    let created = store
        .create_local_person(&new, config.activation_validity)
        .await
        .map_err(|error| anyhow::anyhow!("création impossible : {error}"))?;

    Ok(format!(
        "{} créé.\nIdentifiant : {}\nCode d'activation : {}\nValable jusqu'au : {}\nActivation : {}/activation",
        new.profile.label_fr(),
        created.login,
        format_code(&created.activation_code),
        expiry_text(config.activation_validity),
        config.base_url
    ))
}

/// The French date a code created now expires on.
pub fn expiry_text(validity: Duration) -> String {
    let seconds = i64::try_from(validity.as_secs()).unwrap_or(i64::MAX / 2);
    let expires = store::now_unix().saturating_add(seconds);
    store::accounts::paris_date(expires).map(|d| french_date(&d)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use domain::profile::Profile;
    use store::accounts::ActivationCodeRow;

    use super::*;

    fn row(last_name: &str, code: Option<&str>) -> ActivationCodeRow {
        ActivationCodeRow {
            uai: "0860876K".to_owned(),
            school_name: "Collège Jean Moulin".to_owned(),
            class_code: Some("4B".to_owned()),
            profile: Profile::Pupil,
            last_name: last_name.to_owned(),
            first_name: "Zoé".to_owned(),
            login: "zoe.x".to_owned(),
            code: code.map(str::to_owned),
            expires_on: code.map(|_| "2027-04-03".to_owned()),
            for_pupils: vec![],
        }
    }

    #[test]
    fn the_csv_neutralises_formulas_and_prints_codes_in_groups() {
        let mut out = Vec::new();
        let rows = [row("=HYPERLINK(\"x\")", Some("K7MQ2XWDPN4R")), row("Dupont", None)];
        write_codes_csv(&mut out, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
        assert!(text.contains("K7MQ-2XWD-PN4R;03/04/2027;à activer"), "{text}");
        assert!(text.contains("Dupont;Zoé;;zoe.x;;;déjà activé"), "{text}");
    }
}

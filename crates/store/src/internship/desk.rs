//! The département's desk of the internship platform: its settings (the delays of
//! applications, the head start of rural and priority-education pupils, the default radius of
//! a search; one row of `internship_settings`) and what it says of each collège
//! (`school_internship_profiles`: rural or not, priority education, the date of the board's vote
//! that delegates signing to the head). Reading the settings is for everyone (the search and
//! the applications read them); reading the profiles and every change are for département
//! administrators only, checked in the SQL, and each change writes an audit entry in its
//! transaction; so is a host manager's pending activation code. The statistics are in `stats`.

use sqlx::Row;

use crate::directory::SchoolRef;
use crate::{Store, StoreError, StoreResult, now_unix};

/// "`$1` is an active département administrator", for a `WHERE`.
const DEPARTEMENT_ADMIN: &str = "EXISTS (SELECT 1 FROM people adp JOIN roles adr \
     ON adr.person_id = adp.id WHERE adp.id = $1 AND adp.active = 1 \
     AND adr.role = 'departement_admin')";

/// The département's settings of the internship platform, in days (and kilometres).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InternshipSettings {
    /// How long a submitted application waits for the host's answer.
    pub application_days: i64,
    /// How much longer once the host has read it.
    pub read_extension_days: i64,
    /// How long an accepted application waits for the pupil's confirmation.
    pub confirmation_days: i64,
    /// How many days before a deadline the reminder is sent (0: none).
    pub reminder_days: i64,
    /// How many days earlier rural and priority-education pupils see new offers (0: none).
    pub head_start_days: i64,
    /// The radius of a search when the pupil chooses none.
    pub default_radius_km: i64,
}

/// A field of [`InternshipSettings`], to put a refusal next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsField {
    ApplicationDays,
    ReadExtensionDays,
    ConfirmationDays,
    ReminderDays,
    HeadStartDays,
    DefaultRadiusKm,
}

/// The bounds of each setting (inclusive), with the French words a refusal names it by.
pub const SETTINGS_BOUNDS: [(SettingsField, i64, i64, &str); 6] = [
    (SettingsField::ApplicationDays, 1, 60, "Le délai de réponse de l'organisme"),
    (SettingsField::ReadExtensionDays, 0, 60, "La prolongation après lecture"),
    (SettingsField::ConfirmationDays, 1, 30, "Le délai de confirmation par l'élève"),
    (SettingsField::ReminderDays, 0, 14, "Le rappel avant échéance"),
    (
        SettingsField::HeadStartDays,
        0,
        30,
        "L'avance des élèves ruraux et de l'éducation prioritaire",
    ),
    (SettingsField::DefaultRadiusKm, 1, 200, "Le rayon de recherche par défaut"),
];

impl InternshipSettings {
    fn value(&self, field: SettingsField) -> i64 {
        match field {
            SettingsField::ApplicationDays => self.application_days,
            SettingsField::ReadExtensionDays => self.read_extension_days,
            SettingsField::ConfirmationDays => self.confirmation_days,
            SettingsField::ReminderDays => self.reminder_days,
            SettingsField::HeadStartDays => self.head_start_days,
            SettingsField::DefaultRadiusKm => self.default_radius_km,
        }
    }

    /// What is wrong with these settings, each refusal in French on its field: a value out of
    /// its bounds, or a reminder that would come before the deadline it announces starts.
    pub fn check(&self) -> Vec<(SettingsField, String)> {
        let mut refusals = Vec::new();
        for (field, min, max, label) in SETTINGS_BOUNDS {
            let value = self.value(field);
            if !(min..=max).contains(&value) {
                refusals.push((field, format!("{label} doit être compris entre {min} et {max}.")));
            }
        }
        let shortest = self.application_days.min(self.confirmation_days);
        if refusals.is_empty() && self.reminder_days > 0 && self.reminder_days >= shortest {
            refusals.push((
                SettingsField::ReminderDays,
                format!(
                    "Le rappel doit partir avant l'échéance : moins de {shortest} jour(s), le \
                     plus court des délais de réponse et de confirmation."
                ),
            ));
        }
        refusals
    }
}

/// Priority education, as the ministry labels schools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorityEducation {
    Rep,
    RepPlus,
}

impl PriorityEducation {
    pub const ALL: [PriorityEducation; 2] = [PriorityEducation::Rep, PriorityEducation::RepPlus];

    pub fn as_str(self) -> &'static str {
        match self {
            PriorityEducation::Rep => "rep",
            PriorityEducation::RepPlus => "rep_plus",
        }
    }

    pub fn parse(code: &str) -> Option<PriorityEducation> {
        PriorityEducation::ALL.into_iter().find(|p| p.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            PriorityEducation::Rep => "REP",
            PriorityEducation::RepPlus => "REP+",
        }
    }
}

/// What the département says of a collège for internships.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchoolInternshipProfile {
    pub rural: bool,
    pub priority_education: Option<PriorityEducation>,
    /// The date of the board's vote delegating signature to the head (`YYYY-MM-DD`).
    pub delegation_date: Option<String>,
}

impl SchoolInternshipProfile {
    /// The refusal of a profile, in French: a delegation date that is not a plausible date.
    pub fn check(&self) -> Option<String> {
        let date = self.delegation_date.as_deref()?;
        let plausible = date
            .parse::<jiff::civil::Date>()
            .ok()
            .filter(|d| (2000..=2100).contains(&d.year()) && d.to_string() == date);
        match plausible {
            Some(_) => None,
            None => Some(
                "Date de délibération non comprise : une date entre 2000 et 2100, par exemple \
                 15/09/2026."
                    .to_owned(),
            ),
        }
    }
}

/// A collège with its internship profile (the default one when none is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolProfileLine {
    pub school: SchoolRef,
    pub profile: SchoolInternshipProfile,
    /// Whether the département wrote a profile for it.
    pub written: bool,
}

impl Store {
    /// The département's settings of the internship platform (the migration writes the row).
    pub async fn internship_settings(&self) -> StoreResult<InternshipSettings> {
        let row = sqlx::query(
            "SELECT application_days, read_extension_days, confirmation_days, reminder_days, \
             head_start_days, default_radius_km FROM internship_settings WHERE id = 1",
        )
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::Corrupt("internship_settings row missing".to_owned()))?;
        Ok(InternshipSettings {
            application_days: row.try_get(0)?,
            read_extension_days: row.try_get(1)?,
            confirmation_days: row.try_get(2)?,
            reminder_days: row.try_get(3)?,
            head_start_days: row.try_get(4)?,
            default_radius_km: row.try_get(5)?,
        })
    }

    /// Writes the settings for a département administrator, with an audit entry.
    ///
    /// # Errors
    /// `NotFound` for anyone else; `Conflict` (in French) for settings that
    /// [`InternshipSettings::check`] refuses.
    pub async fn set_internship_settings(
        &self,
        actor_id: &str,
        settings: &InternshipSettings,
    ) -> StoreResult<()> {
        if let Some((_, reason)) = settings.check().into_iter().next() {
            return Err(StoreError::Conflict(reason));
        }

        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE internship_settings SET application_days = $2, read_extension_days = $3, \
             confirmation_days = $4, reminder_days = $5, head_start_days = $6, \
             default_radius_km = $7, updated_at = $8 WHERE id = 1 AND {DEPARTEMENT_ADMIN}"
        )))
        .bind(actor_id)
        .bind(settings.application_days)
        .bind(settings.read_extension_days)
        .bind(settings.confirmation_days)
        .bind(settings.reminder_days)
        .bind(settings.head_start_days)
        .bind(settings.default_radius_km)
        .bind(now_unix())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = format!(
            "réponse {} j, prolongation {} j, confirmation {} j, rappel {} j, avance {} j, \
             rayon {} km",
            settings.application_days,
            settings.read_extension_days,
            settings.confirmation_days,
            settings.reminder_days,
            settings.head_start_days,
            settings.default_radius_km
        );
        crate::accounts::audit_in(&mut tx, actor_id, "internship_settings_set", "1", &detail)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every active collège with its internship profile, for a département administrator
    /// (`None` for anyone else), by name.
    pub async fn school_internship_profiles(
        &self,
        actor_id: &str,
    ) -> StoreResult<Option<Vec<SchoolProfileLine>>> {
        if !self.is_departement_admin(actor_id).await? {
            return Ok(None);
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.id AS school_id, s.uai, s.name AS school_name, sp.rural, \
             sp.priority_education, sp.delegation_date, \
             CAST(CASE WHEN sp.school_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS written \
             FROM schools s LEFT JOIN school_internship_profiles sp ON sp.school_id = s.id \
             WHERE s.active = 1 AND {DEPARTEMENT_ADMIN} ORDER BY s.name, s.id"
        )))
        .bind(actor_id)
        .fetch_all(self.pool())
        .await?;
        let lines = rows
            .iter()
            .map(|row| {
                let written: i64 = row.try_get("written")?;
                let rural: Option<i64> = row.try_get("rural")?;
                let priority: Option<String> = row.try_get("priority_education")?;
                Ok(SchoolProfileLine {
                    school: crate::directory::school_ref(row)?,
                    profile: SchoolInternshipProfile {
                        rural: rural.unwrap_or(0) != 0,
                        priority_education: priority.as_deref().and_then(PriorityEducation::parse),
                        delegation_date: row.try_get("delegation_date")?,
                    },
                    written: written != 0,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(lines))
    }

    /// Writes a collège's internship profile for a département administrator, with an audit
    /// entry.
    ///
    /// # Errors
    /// `NotFound` for anyone else or an unknown or inactive school; `Conflict` (in French) for a
    /// profile that [`SchoolInternshipProfile::check`] refuses.
    pub async fn set_school_internship_profile(
        &self,
        actor_id: &str,
        school_id: &str,
        profile: &SchoolInternshipProfile,
    ) -> StoreResult<()> {
        if let Some(reason) = profile.check() {
            return Err(StoreError::Conflict(reason));
        }

        let mut tx = self.begin_write().await?;
        let allowed: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(1 AS BIGINT) FROM schools s WHERE s.id = $2 AND s.active = 1 \
             AND {DEPARTEMENT_ADMIN}"
        )))
        .bind(actor_id)
        .bind(school_id)
        .fetch_optional(&mut *tx)
        .await?;
        if allowed.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO school_internship_profiles (school_id, rural, priority_education, \
             delegation_date, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (school_id) DO UPDATE SET rural = $2, priority_education = $3, \
             delegation_date = $4, updated_at = $5",
        )
        .bind(school_id)
        .bind(i64::from(profile.rural))
        .bind(profile.priority_education.map(PriorityEducation::as_str))
        .bind(profile.delegation_date.as_deref())
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "rural : {}, éducation prioritaire : {}, délibération : {}",
            if profile.rural { "oui" } else { "non" },
            profile.priority_education.map_or("aucune", PriorityEducation::label_fr),
            profile.delegation_date.as_deref().unwrap_or("aucune")
        );
        crate::accounts::audit_in(
            &mut tx,
            actor_id,
            "school_internship_profile_set",
            school_id,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The login of a host's first manager and their live activation code (`None` once the
    /// account is activated or frozen), for a département administrator (`None` for anyone
    /// else or a host without a manager): the demo prints it again on a second run.
    pub async fn host_manager_account(
        &self,
        actor_id: &str,
        host_id: &str,
    ) -> StoreResult<Option<(String, Option<String>)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.login, a.activation_code, a.activated_at, a.frozen FROM host_members m \
             JOIN accounts a ON a.person_id = m.person_id \
             WHERE m.host_id = $2 AND m.role = 'manager' AND {DEPARTEMENT_ADMIN} \
             ORDER BY m.created_at, a.login LIMIT 1"
        )))
        .bind(actor_id)
        .bind(host_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let activated: Option<i64> = row.try_get("activated_at")?;
        let frozen: i64 = row.try_get("frozen")?;
        let code: Option<String> = row.try_get("activation_code")?;
        let live = activated.is_none() && frozen == 0;
        Ok(Some((row.try_get("login")?, code.filter(|_| live))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> InternshipSettings {
        InternshipSettings {
            application_days: 15,
            read_extension_days: 15,
            confirmation_days: 7,
            reminder_days: 2,
            head_start_days: 7,
            default_radius_km: 30,
        }
    }

    #[test]
    fn settings_out_of_bounds_are_refused_on_their_field() {
        assert!(defaults().check().is_empty());
        let zero = InternshipSettings { application_days: 0, ..defaults() };
        assert_eq!(zero.check()[0].0, SettingsField::ApplicationDays);
        let far = InternshipSettings { default_radius_km: 201, head_start_days: -1, ..defaults() };
        let fields: Vec<_> = far.check().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [SettingsField::HeadStartDays, SettingsField::DefaultRadiusKm]);
        let late = InternshipSettings { reminder_days: 7, ..defaults() };
        assert_eq!(late.check()[0].0, SettingsField::ReminderDays);
        let none = InternshipSettings { reminder_days: 0, head_start_days: 0, ..defaults() };
        assert!(none.check().is_empty());
    }

    #[test]
    fn a_delegation_date_must_be_a_real_date() {
        let mut profile = SchoolInternshipProfile::default();
        assert_eq!(profile.check(), None);
        profile.delegation_date = Some("2026-09-15".to_owned());
        assert_eq!(profile.check(), None);
        for bad in ["2026-02-30", "15/09/2026", "1899-01-01", "<script>"] {
            profile.delegation_date = Some(bad.to_owned());
            assert!(profile.check().is_some(), "{bad}");
        }
    }
}

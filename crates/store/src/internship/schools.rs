//! The collège's side of the internships, for its administrators (a school role or a
//! direction function) and the département's: the internship weeks it declares per level
//! (`school_internship_weeks`), and where each of its 3e pupils stands: no application in
//! progress, applied, accepted by a host, confirmed, agreement signed — read from the
//! applications and agreements rows, never from a stored status. Every function takes the
//! viewer and checks their right in its SQL; a collège they do not administer is not found.

use domain::internship::IsoWeek;
use sqlx::Row;

use crate::directory::{administered_by, current_membership, membership_clock_at};
use crate::{Store, StoreError, StoreResult, now_unix};

/// The levels a collège declares internship weeks for.
pub const LEVELS: [&str; 2] = ["3e", "4e"];
/// The most weeks a collège may declare for one level.
pub const MAX_WEEKS_PER_LEVEL: usize = 6;

/// A collège as its internship page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolInternship {
    pub school_id: String,
    pub uai: String,
    pub name: String,
    pub time_zone: String,
    pub rural: bool,
    pub priority: bool,
    pub weeks_3e: Vec<IsoWeek>,
    pub weeks_4e: Vec<IsoWeek>,
}

/// Where a 3e pupil stands, from the furthest of their applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PupilStatus {
    /// No application in progress (none, or all rejected, cancelled or expired).
    NoApplication,
    /// Submitted or read by the host.
    Applied,
    Accepted,
    Confirmed,
    /// The agreement of a confirmed internship is signed by every party.
    AgreementSigned,
}

impl PupilStatus {
    pub const ALL: [PupilStatus; 5] = [
        PupilStatus::NoApplication,
        PupilStatus::Applied,
        PupilStatus::Accepted,
        PupilStatus::Confirmed,
        PupilStatus::AgreementSigned,
    ];

    /// The code used in addresses and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            PupilStatus::NoApplication => "aucune",
            PupilStatus::Applied => "candidature",
            PupilStatus::Accepted => "acceptee",
            PupilStatus::Confirmed => "confirmee",
            PupilStatus::AgreementSigned => "convention-signee",
        }
    }

    pub fn parse(code: &str) -> Option<PupilStatus> {
        PupilStatus::ALL.into_iter().find(|status| status.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            PupilStatus::NoApplication => "Sans candidature en cours",
            PupilStatus::Applied => "Candidature envoyée",
            PupilStatus::Accepted => "Acceptée par l'organisme",
            PupilStatus::Confirmed => "Stage confirmé",
            PupilStatus::AgreementSigned => "Convention signée",
        }
    }
}

/// One 3e pupil of the collège and their status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PupilStatusRow {
    pub pupil_id: String,
    pub last_name: String,
    pub first_name: String,
    pub class_id: String,
    pub class_code: String,
    pub status: PupilStatus,
    /// Applications in progress (submitted, read or accepted).
    pub pending: i64,
    /// The first confirmed internship: its week and host.
    pub confirmed_week: Option<IsoWeek>,
    pub confirmed_host: Option<String>,
}

/// What the status table shows.
#[derive(Debug, Clone, Default)]
pub struct StatusFilter {
    pub class_id: Option<String>,
    pub status: Option<PupilStatus>,
}

/// The status table of a collège's 3e pupils.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolStatuses {
    /// The pupils the filter keeps, by class then name.
    pub rows: Vec<PupilStatusRow>,
    /// Pupils per status, over the class filtered (or the whole collège), every status listed.
    pub counts: Vec<(PupilStatus, usize)>,
    /// The collège's 3e classes `(id, code)`.
    pub classes: Vec<(String, String)>,
}

/// "The viewer (`param`) administers the school `s` or the département."
fn administers(param: &str) -> String {
    format!(
        "(s.id IN ({}) OR EXISTS (SELECT 1 FROM roles dr WHERE dr.person_id = {param} \
         AND dr.role = 'departement_admin'))",
        administered_by(param)
    )
}

impl Store {
    /// The collège of UAI `uai` and its internship weeks, if `viewer_id` administers it or the
    /// département; `NotFound` otherwise.
    pub async fn school_internship(
        &self,
        viewer_id: &str,
        uai: &str,
    ) -> StoreResult<SchoolInternship> {
        let mut conn = self.pool().acquire().await?;
        let sql = format!(
            "SELECT s.id, s.uai, s.name, s.time_zone, COALESCE(sp.rural, 0), \
             sp.priority_education FROM schools s \
             LEFT JOIN school_internship_profiles sp ON sp.school_id = s.id \
             WHERE s.uai = $2 AND {} ORDER BY s.active DESC, s.id LIMIT 1",
            administers("$1")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(uai)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let school_id: String = row.try_get(0)?;
        let rural: i64 = row.try_get(4)?;
        let priority: Option<String> = row.try_get(5)?;
        let weeks_3e = super::search::school_weeks_in(&mut conn, &school_id, "3e").await?;
        let weeks_4e = super::search::school_weeks_in(&mut conn, &school_id, "4e").await?;
        Ok(SchoolInternship {
            school_id,
            uai: row.try_get(1)?,
            name: row.try_get(2)?,
            time_zone: row.try_get(3)?,
            rural: rural != 0,
            priority: priority.is_some_and(|p| !p.is_empty()),
            weeks_3e,
            weeks_4e,
        })
    }

    /// Replaces the internship weeks of a level (`3e` or `4e`) of the collège `school_id`,
    /// which `viewer_id` must administer (or the département). Weeks already holding a
    /// confirmed internship of the level's pupils cannot be taken away.
    pub async fn set_school_internship_weeks(
        &self,
        viewer_id: &str,
        school_id: &str,
        level: &str,
        weeks: &[IsoWeek],
    ) -> StoreResult<()> {
        if !LEVELS.contains(&level) {
            return Err(StoreError::Conflict(format!("Niveau inconnu : « {level} ».")));
        }
        let mut weeks = weeks.to_vec();
        weeks.sort();
        weeks.dedup();
        if weeks.len() > MAX_WEEKS_PER_LEVEL {
            return Err(StoreError::Conflict(format!(
                "Pas plus de {MAX_WEEKS_PER_LEVEL} semaines de stage par niveau."
            )));
        }

        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT s.id FROM schools s WHERE s.id = $2 AND {}", administers("$1"));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(school_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if level == "3e" {
            let taken = sqlx::query(
                "SELECT DISTINCT a.iso_week FROM internship_applications a \
                 WHERE a.school_id = $1 AND a.state = 'confirmed' ORDER BY a.iso_week",
            )
            .bind(school_id)
            .fetch_all(&mut *tx)
            .await?;
            for row in taken {
                let week: String = row.try_get(0)?;
                if !weeks.iter().any(|w| w.to_string() == week) {
                    let label = IsoWeek::parse(&week).map(IsoWeek::label_fr).unwrap_or(week);
                    return Err(StoreError::Conflict(format!(
                        "Des stages sont déjà confirmés la {label} : cette semaine reste déclarée."
                    )));
                }
            }
        }
        sqlx::query("DELETE FROM school_internship_weeks WHERE school_id = $1 AND level = $2")
            .bind(school_id)
            .bind(level)
            .execute(&mut *tx)
            .await?;
        for week in &weeks {
            sqlx::query(
                "INSERT INTO school_internship_weeks (school_id, level, iso_week, monday) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(school_id)
            .bind(level)
            .bind(week.to_string())
            .bind(week.monday().to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The 3e pupils of the collège `school_id` and their status, if `viewer_id` administers
    /// it or the département; `NotFound` otherwise.
    pub async fn school_pupil_statuses(
        &self,
        viewer_id: &str,
        school_id: &str,
        filter: &StatusFilter,
    ) -> StoreResult<SchoolStatuses> {
        let sql = format!(
            "SELECT p.id, p.last_name, p.first_name, c.id, c.code, \
             (SELECT COUNT(*) FROM internship_agreements ag \
                JOIN internship_applications sa ON sa.id = ag.application_id \
                WHERE sa.pupil_id = p.id AND ag.state = 'signed'), \
             (SELECT COUNT(*) FROM internship_applications a WHERE a.pupil_id = p.id \
                AND a.state = 'confirmed'), \
             (SELECT COUNT(*) FROM internship_applications a WHERE a.pupil_id = p.id \
                AND a.state = 'accepted'), \
             (SELECT COUNT(*) FROM internship_applications a WHERE a.pupil_id = p.id \
                AND a.state IN ('submitted', 'read')), \
             (SELECT MIN(a.iso_week) FROM internship_applications a WHERE a.pupil_id = p.id \
                AND a.state = 'confirmed') \
             FROM schools s \
             JOIN classes c ON c.school_id = s.id \
             JOIN pupil_classes pc ON pc.class_id = c.id \
             JOIN people p ON p.id = pc.pupil_id \
             LEFT JOIN mefs m ON m.code = p.mef_code \
             WHERE s.id = $2 AND {} AND {} AND p.profile = 'pupil' AND p.active = 1 \
             AND (p.mef_code LIKE '103%' OR m.level LIKE '3EME%') \
             ORDER BY c.code, p.last_name, p.first_name, p.id",
            administers("$1"),
            current_membership("pc", "$3")
        );
        let mut conn = self.pool().acquire().await?;
        let allowed =
            format!("SELECT s.id FROM schools s WHERE s.id = $2 AND {}", administers("$1"));
        sqlx::query(sqlx::AssertSqlSafe(allowed))
            .bind(viewer_id)
            .bind(school_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(school_id)
            .bind(membership_clock_at(now_unix()))
            .fetch_all(&mut *conn)
            .await?;

        let mut all = Vec::with_capacity(rows.len());
        for row in rows {
            let count = |i: usize| row.try_get::<i64, _>(i);
            let status = if count(5)? > 0 {
                PupilStatus::AgreementSigned
            } else if count(6)? > 0 {
                PupilStatus::Confirmed
            } else if count(7)? > 0 {
                PupilStatus::Accepted
            } else if count(8)? > 0 {
                PupilStatus::Applied
            } else {
                PupilStatus::NoApplication
            };
            let week: Option<String> = row.try_get(9)?;
            all.push(PupilStatusRow {
                pupil_id: row.try_get(0)?,
                last_name: row.try_get(1)?,
                first_name: row.try_get(2)?,
                class_id: row.try_get(3)?,
                class_code: row.try_get(4)?,
                status,
                pending: count(7)? + count(8)?,
                confirmed_week: week.and_then(|w| IsoWeek::parse(&w).ok()),
                confirmed_host: None,
            });
        }
        confirmed_hosts(&mut conn, school_id, &mut all).await?;

        let mut classes: Vec<(String, String)> =
            all.iter().map(|row| (row.class_id.clone(), row.class_code.clone())).collect();
        classes.dedup();
        let class = filter.class_id.as_deref().filter(|c| !c.is_empty());
        all.retain(|row| class.is_none_or(|class| row.class_id == class));
        let counts = PupilStatus::ALL
            .into_iter()
            .map(|status| (status, all.iter().filter(|row| row.status == status).count()))
            .collect();
        if let Some(status) = filter.status {
            all.retain(|row| row.status == status);
        }
        Ok(SchoolStatuses { rows: all, counts, classes })
    }
}

/// Fills the host of each row's first confirmed internship.
async fn confirmed_hosts(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    rows: &mut [PupilStatusRow],
) -> StoreResult<()> {
    let found = sqlx::query(
        "SELECT a.pupil_id, a.iso_week, COALESCE(h.name, o.employer_name) \
         FROM internship_applications a JOIN internship_offers o ON o.id = a.offer_id \
         LEFT JOIN hosts h ON h.id = o.host_id \
         WHERE a.school_id = $1 AND a.state = 'confirmed'",
    )
    .bind(school_id)
    .fetch_all(&mut *conn)
    .await?;
    for hit in found {
        let pupil: String = hit.try_get(0)?;
        let week: String = hit.try_get(1)?;
        for row in rows.iter_mut().filter(|row| row.pupil_id == pupil) {
            if row.confirmed_week.is_some_and(|w| w.to_string() == week) {
                row.confirmed_host = Some(hit.try_get(2)?);
            }
        }
    }
    Ok(())
}

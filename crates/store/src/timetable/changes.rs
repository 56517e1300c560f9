//! Changes to one occurrence (cancelled, moved, room changed, replaced, exam), made by the
//! school's administrators, and the announcement of those in the next days to the pupils,
//! parents and teachers concerned (home pages and the outbox).
//!
//! **E-mails.** A change within [`super::CHANGE_NOTICE_DAYS`] days enqueues an outbox entry
//! of kind [`super::CHANGE_OUTBOX_KIND`] whose `subject_id` is the change's id. Each edit bumps
//! the change's `sequence`, and a delivery is recorded per version: the worker records each
//! e-mail sent with `Store::mark_delivered(change_delivery_subject(change id, sequence),
//! person, "email")` (`"<change id>:<sequence>"`, given by [`ChangeNotification`]), so that a
//! second pass sends nothing twice and a later edit is announced again.

use domain::timetable::LessonTime;
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::Row;

use super::views::{Borrowed, Selection, pupil_courses, teacher_courses};
use super::{
    CHANGE_NOTICE_DAYS, CHANGE_OUTBOX_KIND, Occurrence, add_days, administers, audit, code_key,
    lesson_time, local_today, one_line, parse_date, teachers_of_school, zone,
};
use crate::directory::membership_clock;
use crate::outbox::EmailTarget;
use crate::{Store, StoreError, StoreResult, new_id};

/// The longest note kept, in characters.
const MAX_NOTE_CHARS: usize = 500;

/// The longest room name kept, in characters.
const MAX_ROOM_CHARS: usize = 100;

/// Which occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTarget {
    pub course_id: String,
    /// The occurrence's date in the course's pattern.
    pub original_date: Date,
}

/// What to record; everything `None`/`false` reverts the occurrence to its course.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeRequest {
    pub cancelled: bool,
    pub exam: bool,
    /// A move: new local date and `(start, end)` minutes.
    pub moved_to: Option<(Date, domain::timetable::LessonTime)>,
    /// A room of the school, by name (created if new).
    pub new_room: Option<String>,
    /// A teacher of the school.
    pub substitute_id: Option<String>,
    pub note: String,
}

impl ChangeRequest {
    /// Whether the request asks for nothing (a revert).
    fn is_empty(&self) -> bool {
        !self.cancelled
            && !self.exam
            && self.moved_to.is_none()
            && self.new_room.as_deref().is_none_or(|room| room.trim().is_empty())
            && self.substitute_id.as_deref().is_none_or(|id| id.trim().is_empty())
            && self.note.trim().is_empty()
    }
}

/// Who to e-mail about one version of a change, and the key their deliveries are recorded
/// under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNotification {
    /// [`change_delivery_subject`] of the change's current version.
    pub delivery_subject: String,
    pub targets: Vec<EmailTarget>,
}

/// A lesson that keeps a teacher busy, as the change form names it: where and when (in that
/// collège's own time), nothing else of that collège's timetable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyLesson {
    pub school_name: String,
    /// The collège's IANA zone, in which `date` and `time` are.
    pub time_zone: String,
    pub date: Date,
    pub time: LessonTime,
}

/// The `notification_deliveries.subject_id` of version `sequence` of change `change_id`.
pub fn change_delivery_subject(change_id: &str, sequence: i64) -> String {
    format!("{change_id}:{sequence}")
}

const WEEKDAYS_FR: [&str; 7] =
    ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "lundi 7 décembre à 08:00".
fn when_fr(date: Date, minute: u16) -> String {
    let weekday = WEEKDAYS_FR[usize::from(domain::timetable::weekday_number(date) - 1) % 7];
    let month = MONTHS_FR[usize::try_from(date.month() - 1).unwrap_or(0) % 12];
    format!("{weekday} {} {month} à {}", date.day(), domain::timetable::LessonTime::clock(minute))
}

impl Store {
    /// Records (or reverts) the change of one occurrence, audited; if the occurrence falls in
    /// the next [`super::CHANGE_NOTICE_DAYS`] days (school time), enqueues a
    /// [`super::CHANGE_OUTBOX_KIND`] outbox entry in the same transaction. Only administrators
    /// of the course's school or the département; `NotFound` otherwise (and for a date that is
    /// not an occurrence of the course). A revert deletes the manual change (a cancellation
    /// of the file stays) and notifies nobody.
    pub async fn change_occurrence(
        &self,
        actor_id: &str,
        target: &ChangeTarget,
        request: &ChangeRequest,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let course = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.school_id, c.weekday, c.weeks, s.time_zone, y.first_monday, y.last_day \
             FROM courses c JOIN schools s ON s.id = c.school_id \
             JOIN school_years y ON y.school_id = c.school_id \
             WHERE c.id = $2 AND s.active = 1 AND {}",
            administers("$1", "c.school_id")
        )))
        .bind(actor_id)
        .bind(&target.course_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let school_id: String = course.try_get("school_id")?;
        let weekday: i64 = course.try_get("weekday")?;
        let weeks = domain::timetable::WeekSet::from_db(course.try_get("weeks")?);
        let time_zone: String = course.try_get("time_zone")?;
        let first: String = course.try_get("first_monday")?;
        let last: String = course.try_get("last_day")?;
        let year = domain::timetable::SchoolYear::new(parse_date(&first)?, parse_date(&last)?)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let original = target.original_date;
        let is_occurrence = i64::from(domain::timetable::weekday_number(original)) == weekday
            && year.week_of(original).is_some_and(|week| weeks.contains(week));
        if !is_occurrence {
            return Err(StoreError::NotFound);
        }

        let date_text = original.to_string();
        let existing = sqlx::query(
            "SELECT id, origin FROM course_changes WHERE course_id = $1 AND occurrence_date = $2",
        )
        .bind(&target.course_id)
        .bind(&date_text)
        .fetch_optional(&mut *tx)
        .await?;
        let existing: Option<(String, String)> = match existing {
            Some(row) => Some((row.try_get("id")?, row.try_get("origin")?)),
            None => None,
        };
        if request.is_empty() {
            if let Some((id, origin)) = existing
                && origin == "manual"
            {
                sqlx::query("DELETE FROM course_changes WHERE id = $1")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                let detail = format!("cours {} du {date_text}", target.course_id);
                audit(&mut tx, Some(actor_id), "timetable_change_reverted", &id, &detail).await?;
            }
            tx.commit().await?;
            return Ok(());
        }

        let substitute =
            request.substitute_id.as_deref().map(str::trim).filter(|id| !id.is_empty());
        if let Some(substitute) = substitute
            && !teaches_in(&mut tx, substitute, &school_id).await?
        {
            return Err(StoreError::Conflict(
                "Le remplaçant choisi n'enseigne pas dans ce collège.".to_owned(),
            ));
        }
        if let Some((date, time)) = request.moved_to {
            domain::timetable::LessonTime::new(time.start_minute, time.end_minute).map_err(
                |error| StoreError::Conflict(format!("Horaire du déplacement refusé : {error}")),
            )?;
            if year.week_of(date).is_none() {
                return Err(StoreError::Conflict(format!(
                    "La nouvelle date ({date}) est en dehors de l'année scolaire (du {} au {}).",
                    year.first_monday, year.last_day
                )));
            }
        }
        let room_id = match request.new_room.as_deref().map(one_line) {
            Some(name) if !name.is_empty() => Some(room_by_name(&mut tx, &school_id, &name).await?),
            _ => None,
        };
        let note: String = one_line(&request.note).chars().take(MAX_NOTE_CHARS).collect();

        let at = now.as_second();
        let moved_date = request.moved_to.map(|(date, _)| date.to_string());
        let moved_start = request.moved_to.map(|(_, time)| i64::from(time.start_minute));
        let moved_end = request.moved_to.map(|(_, time)| i64::from(time.end_minute));
        let change_id = match existing {
            Some((id, _)) => {
                sqlx::query(
                    "UPDATE course_changes SET origin = 'manual', cancelled = $2, exam = $3, \
                     new_date = $4, new_start_minute = $5, new_end_minute = $6, \
                     new_room_id = $7, substitute_id = $8, note = $9, sequence = sequence + 1, \
                     created_by = $10, updated_at = $11 WHERE id = $1",
                )
                .bind(&id)
                .bind(i64::from(request.cancelled))
                .bind(i64::from(request.exam))
                .bind(moved_date)
                .bind(moved_start)
                .bind(moved_end)
                .bind(room_id)
                .bind(substitute.map(str::to_owned))
                .bind(&note)
                .bind(actor_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO course_changes (id, course_id, occurrence_date, origin, \
                     cancelled, exam, new_date, new_start_minute, new_end_minute, new_room_id, \
                     substitute_id, note, sequence, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'manual', $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, \
                     $13, $13)",
                )
                .bind(&id)
                .bind(&target.course_id)
                .bind(&date_text)
                .bind(i64::from(request.cancelled))
                .bind(i64::from(request.exam))
                .bind(moved_date)
                .bind(moved_start)
                .bind(moved_end)
                .bind(room_id)
                .bind(substitute.map(str::to_owned))
                .bind(&note)
                .bind(actor_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let detail = format!("cours {} du {date_text}", target.course_id);
        audit(&mut tx, Some(actor_id), "timetable_changed", &change_id, &detail).await?;

        let today = local_today(now, &zone(&time_zone));
        let horizon = add_days(today, CHANGE_NOTICE_DAYS);
        let soon = |date: Date| today <= date && date <= horizon;
        if soon(original) || request.moved_to.is_some_and(|(date, _)| soon(date)) {
            crate::outbox::enqueue(&mut tx, CHANGE_OUTBOX_KIND, &change_id, at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether `teacher_id` already teaches, in any collège, at the time an occurrence of
    /// `target` would take (`date` and `time`, in the course's school's time): the lessons
    /// that overlap it, cancelled ones and the occurrence itself left out, with only their
    /// collège and times. For the administrators of the course's school (or the département),
    /// about a teacher of that school; `NotFound` otherwise. The actor need not be allowed to
    /// see the teacher's timetable: this answers only "busy, and where".
    pub async fn teacher_busy(
        &self,
        actor_id: &str,
        target: &ChangeTarget,
        teacher_id: &str,
        date: Date,
        time: LessonTime,
    ) -> StoreResult<Vec<BusyLesson>> {
        let course = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.school_id, s.time_zone FROM courses c JOIN schools s ON s.id = c.school_id \
             WHERE c.id = $2 AND s.active = 1 AND {}",
            administers("$1", "c.school_id")
        )))
        .bind(actor_id)
        .bind(&target.course_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let school_id: String = course.try_get("school_id")?;
        let time_zone: String = course.try_get("time_zone")?;
        let mut conn = self.pool().acquire().await?;
        if !teaches_in(&mut conn, teacher_id, &school_id).await? {
            return Err(StoreError::NotFound);
        }
        drop(conn);

        // A day on either side: the teacher's other collèges may be in other zones.
        let selection = Selection {
            set: format!(
                "SELECT u.course_id, MAX(u.own) AS own, CAST('' AS TEXT) AS for_id, \
                 CAST('' AS TEXT) AS for_name FROM ({}) u GROUP BY u.course_id",
                teacher_courses("$1")
            ),
            params: vec![teacher_id.to_owned()],
            from: add_days(date, -1),
            to: add_days(date, 1),
            changed_only: false,
            borrowed: Borrowed::Substitute(teacher_id.to_owned()),
        };
        let (start, end) = time.instants(date, &zone(&time_zone));
        let busy = self
            .occurrences(&selection)
            .await?
            .into_iter()
            .filter(|o| !o.change.as_ref().is_some_and(|c| c.cancelled))
            .filter(|o| {
                !(o.course_id == target.course_id && o.original_date == target.original_date)
            })
            .filter(|o| o.start < end && start < o.end)
            .map(|o| BusyLesson {
                school_name: o.school_name,
                time_zone: o.time_zone,
                date: o.date,
                time: o.time,
            })
            .collect();
        Ok(busy)
    }

    /// The changed occurrences of the next [`super::CHANGE_NOTICE_DAYS`] days that concern the
    /// viewer (their own lessons, their children's, the lessons they teach or replace in).
    /// A child's occurrences carry the child in `Occurrence::for_person`. "Today" is each
    /// school's; a lesson already over is left out.
    pub async fn upcoming_changes(
        &self,
        viewer_id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<Occurrence>> {
        let rows = sqlx::query(
            "SELECT p.profile, kid.id AS kid_id, kid.first_name || ' ' || kid.last_name AS kid \
             FROM people p LEFT JOIN guardianships g ON g.relative_id = p.id \
               AND g.legal IN (1, 2) \
             LEFT JOIN people kid ON kid.id = g.pupil_id AND kid.active = 1 \
               AND kid.profile = 'pupil' \
             WHERE p.id = $1 AND p.active = 1 ORDER BY kid.first_name, kid.id",
        )
        .bind(viewer_id)
        .fetch_all(self.pool())
        .await?;
        let Some(first) = rows.first() else { return Ok(Vec::new()) };
        let profile: String = first.try_get("profile")?;

        // The SQL window is wide enough for every zone; each school's own "today" is applied
        // to the occurrences below. `$2` is the membership clock at `now` (pupils' classes).
        let paris_today = local_today(now, &zone("Europe/Paris"));
        let mut params = vec![
            viewer_id.to_owned(),
            crate::directory::membership_clock_at(now.as_second()),
            add_days(paris_today, -1).to_string(),
            add_days(paris_today, CHANGE_NOTICE_DAYS + 1).to_string(),
        ];
        let mut parts = Vec::new();
        let own = "CAST('' AS TEXT) AS for_id, CAST('' AS TEXT) AS for_name";
        match profile.as_str() {
            "pupil" => parts.push(format!(
                "SELECT x.course_id, x.own, {own} FROM ({}) x",
                pupil_courses("$1", "$2")
            )),
            "teacher" | "staff" => parts.push(format!(
                "SELECT x.course_id, x.own, {own} FROM ({}) x",
                teacher_courses("$1")
            )),
            _ => {}
        }
        for row in &rows {
            let kid_id: Option<String> = row.try_get("kid_id")?;
            let kid: Option<String> = row.try_get("kid")?;
            let (Some(kid_id), Some(kid)) = (kid_id, kid) else { continue };
            let (id_param, name_param) = (params.len() + 1, params.len() + 2);
            params.push(kid_id);
            params.push(kid);
            parts.push(format!(
                "SELECT x.course_id, x.own, CAST(${id_param} AS TEXT) AS for_id, \
                 CAST(${name_param} AS TEXT) AS for_name FROM ({}) x",
                pupil_courses(&format!("${id_param}"), "$2")
            ));
        }
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        let set = format!(
            "SELECT u.course_id, MAX(u.own) AS own, u.for_id, u.for_name FROM ({}) u \
             WHERE $1 = $1 AND $2 = $2 AND EXISTS (SELECT 1 FROM course_changes x \
               WHERE x.course_id = u.course_id \
               AND ((x.occurrence_date >= $3 AND x.occurrence_date <= $4) \
                 OR (x.new_date >= $3 AND x.new_date <= $4))) \
             GROUP BY u.course_id, u.for_id, u.for_name",
            parts.join(" UNION ALL ")
        );
        let selection = Selection {
            set,
            from: add_days(paris_today, -1),
            to: add_days(paris_today, CHANGE_NOTICE_DAYS + 1),
            params,
            changed_only: true,
            borrowed: Borrowed::Substitute(viewer_id.to_owned()),
        };
        let mut occurrences = self.occurrences(&selection).await?;
        occurrences.retain(|occurrence| {
            let today = local_today(now, &zone(&occurrence.time_zone));
            let horizon = add_days(today, CHANGE_NOTICE_DAYS);
            let soon = |date: Date| today <= date && date <= horizon;
            (soon(occurrence.date) || soon(occurrence.original_date))
                && (occurrence.end > now || occurrence.original_date > today)
        });
        Ok(occurrences)
    }

    /// Who gets an e-mail for change `change_id` (those concerned who asked for e-mails and
    /// were not notified of this version yet), for the outbox worker. The `subject` of each
    /// target is a French one-line summary without minors' names.
    pub async fn change_email_targets(&self, change_id: &str) -> StoreResult<Vec<EmailTarget>> {
        Ok(self.change_notification(change_id).await?.map(|n| n.targets).unwrap_or_default())
    }

    /// The targets of [`Store::change_email_targets`] with the key under which to record
    /// their deliveries (see the module paragraph); `None` when the change no longer exists
    /// (reverted, or its course removed).
    pub async fn change_notification(
        &self,
        change_id: &str,
    ) -> StoreResult<Option<ChangeNotification>> {
        let row = sqlx::query(
            "SELECT ch.course_id, ch.sequence, ch.occurrence_date, ch.cancelled, ch.exam, \
             ch.new_date, ch.new_start_minute, ch.new_end_minute, r.name AS room_name, \
             ch.substitute_id, c.subject_label, c.start_minute, c.end_minute, \
             s.name AS school_name FROM course_changes ch \
             JOIN courses c ON c.id = ch.course_id JOIN schools s ON s.id = c.school_id \
             LEFT JOIN rooms r ON r.id = ch.new_room_id WHERE ch.id = $1",
        )
        .bind(change_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let course_id: String = row.try_get("course_id")?;
        let sequence: i64 = row.try_get("sequence")?;
        let subject = change_subject(&row)?;
        let school_name: String = row.try_get("school_name")?;
        let delivery_subject = change_delivery_subject(change_id, sequence);

        let pupils = format!(
            "SELECT pc.pupil_id AS person_id FROM course_classes cc \
               JOIN pupil_classes pc ON pc.class_id = cc.class_id \
               JOIN people pp ON pp.id = pc.pupil_id \
               WHERE cc.course_id = $2 AND pp.active = 1 \
               AND {} \
               AND NOT EXISTS (SELECT 1 FROM course_groups xg WHERE xg.course_id = $2) \
             UNION SELECT pg.pupil_id FROM course_groups cg \
               JOIN pupil_groups pg ON pg.group_id = cg.group_id \
               JOIN people gp ON gp.id = pg.pupil_id WHERE cg.course_id = $2 AND gp.active = 1",
            crate::directory::current_membership("pc", "$3")
        );
        let sql = format!(
            "SELECT x.person_id, pr.notify_email FROM ({pupils} \
               UNION SELECT g.relative_id FROM guardianships g \
                 WHERE g.legal IN (1, 2) AND g.pupil_id IN ({pupils}) \
               UNION SELECT person_id FROM course_teachers WHERE course_id = $2 \
               UNION SELECT substitute_id FROM course_changes \
                 WHERE id = $1 AND substitute_id IS NOT NULL) x \
             JOIN people p ON p.id = x.person_id JOIN accounts a ON a.person_id = x.person_id \
             JOIN preferences pr ON pr.person_id = x.person_id \
             WHERE p.active = 1 AND a.frozen = 0 AND a.activated_at IS NOT NULL \
             AND pr.notify_email IS NOT NULL AND pr.notify_email <> '' \
             AND NOT EXISTS (SELECT 1 FROM notification_deliveries d \
               WHERE d.subject_id = $4 AND d.recipient_id = x.person_id \
               AND d.channel = 'email') \
             ORDER BY x.person_id"
        );
        let targets = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(change_id)
            .bind(&course_id)
            .bind(membership_clock())
            .bind(&delivery_subject)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(EmailTarget {
                    person_id: row.try_get("person_id")?,
                    email: row.try_get("notify_email")?,
                    sender_name: school_name.clone(),
                    subject: subject.clone(),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(ChangeNotification { delivery_subject, targets }))
    }
}

/// The French one-line summary of a change: what happened, the subject, and when.
fn change_subject(row: &sqlx::any::AnyRow) -> StoreResult<String> {
    let date: String = row.try_get("occurrence_date")?;
    let date = parse_date(&date)?;
    let time = lesson_time(row.try_get("start_minute")?, row.try_get("end_minute")?)?;
    let label = one_line(&row.try_get::<String, _>("subject_label")?);
    let when = when_fr(date, time.start_minute);
    let cancelled: i64 = row.try_get("cancelled")?;
    let exam: i64 = row.try_get("exam")?;
    let new_date: Option<String> = row.try_get("new_date")?;
    let new_start: Option<i64> = row.try_get("new_start_minute")?;
    let room: Option<String> = row.try_get("room_name")?;
    let substitute: Option<String> = row.try_get("substitute_id")?;
    if cancelled == 1 {
        return Ok(format!("Cours annulé : {label}, {when}"));
    }
    if let (Some(new_date), Some(new_start)) = (new_date, new_start) {
        let new_when = when_fr(parse_date(&new_date)?, u16::try_from(new_start).unwrap_or(0));
        return Ok(format!("Cours déplacé : {label}, {when}, reporté au {new_when}"));
    }
    if let Some(room) = room {
        return Ok(format!("Changement de salle : {label}, {when}, salle {}", one_line(&room)));
    }
    if substitute.is_some() {
        return Ok(format!("Remplacement : {label}, {when}"));
    }
    if exam == 1 {
        return Ok(format!("Évaluation : {label}, {when}"));
    }
    Ok(format!("Cours modifié : {label}, {when}"))
}

/// Whether the active person `person_id` is a teacher of the school `school_id` (see
/// `teachers_of_school`), checked from the school's links.
async fn teaches_in(
    conn: &mut sqlx::AnyConnection,
    person_id: &str,
    school_id: &str,
) -> StoreResult<bool> {
    let found: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM ({}) t JOIN people p ON p.id = t.person_id \
         WHERE t.person_id = $1 AND p.active = 1",
        teachers_of_school("$2")
    )))
    .bind(person_id)
    .bind(school_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(found > 0)
}

/// The id of the school's room named `name` (folded), created if new.
async fn room_by_name(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    name: &str,
) -> StoreResult<String> {
    let name: String = name.chars().take(MAX_ROOM_CHARS).collect();
    let key = code_key(&name);
    if key.is_empty() {
        return Err(StoreError::Conflict(
            "Le nom de la salle doit contenir des lettres ou des chiffres.".to_owned(),
        ));
    }
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM rooms WHERE school_id = $1 AND code = $2")
            .bind(school_id)
            .bind(&key)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = new_id();
    sqlx::query("INSERT INTO rooms (id, school_id, code, name) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(school_id)
        .bind(&key)
        .bind(&name)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

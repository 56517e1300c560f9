//! The communication rules as SQL: who the person bound to a placeholder may write to
//! ([`reachable_ids`], used by the directory search, the recipient picker and every send), the
//! recipient groups a sender may choose and what they resolve to inside the send transaction,
//! and each school's choice of rules with its editors (the school's administrators and the
//! département's), audited. A link through a class, a teaching group or a school applies the
//! rule of that school; family links and replies always hold.
//!
//! The engine is a union of branches: the viewer's own links (their current classes, their
//! children's, the schools they work in or oversee), each gated by the choice of the school it
//! goes through, widened into the people those links reach, kept when active. Each branch is
//! guarded by the viewer's profile in SQL, so a query that knows the viewer leaves out the
//! other profiles' branches at no cost in meaning. It comes in two forms that the tests hold to
//! the same people: listed (the whole reach at once, for the directory search and the recipient
//! picker) and checked (a condition on given people, looked up from their side through the
//! indexes, for sends and [`Store::may_write_to`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use domain::communication::{GroupKind, Recipient, Rule};
use domain::profile::Profile;
use sqlx::Row;

use crate::directory::{administered_by, current_membership, membership_clock};
use crate::{Store, StoreError, StoreResult, now_unix};

/// The profiles of a school's adults.
const ADULT_PROFILES: &str = "('teacher', 'staff')";
/// The profiles of the département's own people.
const DEPARTEMENT_PROFILES: &str = "('agent', 'official')";
/// The most person ids bound in one statement.
const ID_CHUNK: usize = 512;

/// A recipient group the viewer may address, for the recipient picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOption {
    /// The form token (`class_parents:<class id>`, see [`Recipient::token`]).
    pub token: String,
    /// The group's French name ("Parents de 6A").
    pub label: String,
    /// The school the group belongs to.
    pub school_name: String,
    /// How many people the group reaches for this viewer now.
    pub members: i64,
}

/// One rule as a school applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSetting {
    pub rule: Rule,
    pub allowed: bool,
    /// Whether the school follows the default (it stored no choice of its own).
    pub is_default: bool,
}

/// The recipients of a send, resolved into people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Each chosen recipient's token and its label as the message shows it ("Paul Martin",
    /// "Parents de 6A"), in the order chosen, without repeats.
    pub labels: Vec<(String, String)>,
    /// The people reached, distinct, in the order met; never the sender.
    pub person_ids: Vec<String>,
}

/// Why a send's recipients were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleRefusal {
    /// The person or group exists but the rules do not let the sender write to it.
    NotAllowed { token: String },
    /// No such active person, class, group or school.
    Unknown { token: String },
    /// No recipient at all.
    Empty,
}

impl RuleRefusal {
    /// The refusal as the compose form states it, in French.
    pub fn message_fr(&self) -> &'static str {
        match self {
            RuleRefusal::NotAllowed { .. } => {
                "Les règles de communication ne vous permettent pas d'écrire à l'un des \
                 destinataires."
            }
            RuleRefusal::Unknown { .. } => "L'un des destinataires n'existe pas ou plus.",
            RuleRefusal::Empty => "Choisissez au moins un destinataire.",
        }
    }
}

/// "`rule` holds in the school `school`" (a column or expression): the school's own choice, or
/// the rule's default.
fn allows(rule: Rule, school: &str) -> String {
    format!(
        "COALESCE((SELECT rule_row.allowed FROM communication_rules rule_row \
         WHERE rule_row.school_id = {school} AND rule_row.rule = '{}'), {}) = 1",
        rule.code(),
        i64::from(rule.default_allowed())
    )
}

/// `AND <rule holds in school>` when a rule gates the link, nothing otherwise.
fn gate(rule: Option<Rule>, school: &str) -> String {
    rule.map_or(String::new(), |rule| format!(" AND {}", allows(rule, school)))
}

/// The viewer's own links, as subqueries of one column of ids, each optionally gated by a
/// rule in the school the link goes through.
struct Links<'a> {
    /// The placeholder bound to the viewer's person id.
    viewer: &'a str,
    /// The placeholder bound to the membership clock (`directory::membership_clock`).
    clock: &'a str,
}

impl Links<'_> {
    /// "The viewer's profile is `profile`", for a `WHERE`.
    fn is(&self, profile: &str) -> String {
        format!(
            "EXISTS (SELECT 1 FROM people vp WHERE vp.id = {} AND vp.profile = '{profile}')",
            self.viewer
        )
    }

    /// The viewer's current classes, when the viewer is a pupil.
    fn own_classes(&self, rule: Option<Rule>) -> String {
        format!(
            "SELECT oc.class_id FROM pupil_classes oc JOIN classes occ ON occ.id = oc.class_id \
             WHERE oc.pupil_id = {} AND {} AND {}{}",
            self.viewer,
            self.is("pupil"),
            current_membership("oc", self.clock),
            gate(rule, "occ.school_id")
        )
    }

    /// The viewer's teaching groups, when the viewer is a pupil.
    fn own_groups(&self, rule: Option<Rule>) -> String {
        format!(
            "SELECT og.group_id FROM pupil_groups og JOIN teaching_groups ogg \
             ON ogg.id = og.group_id WHERE og.pupil_id = {} AND {}{}",
            self.viewer,
            self.is("pupil"),
            gate(rule, "ogg.school_id")
        )
    }

    /// The current classes of the viewer's children (legal responsibility 1 or 2, active),
    /// when the viewer is a relative.
    fn children_classes(&self, rule: Option<Rule>) -> String {
        format!(
            "SELECT kc.class_id FROM guardianships kg JOIN people kp ON kp.id = kg.pupil_id \
             JOIN pupil_classes kc ON kc.pupil_id = kg.pupil_id \
             JOIN classes kcc ON kcc.id = kc.class_id \
             WHERE kg.relative_id = {} AND {} AND kg.legal IN (1, 2) AND kp.active = 1 AND {}{}",
            self.viewer,
            self.is("relative"),
            current_membership("kc", self.clock),
            gate(rule, "kcc.school_id")
        )
    }

    /// The teaching groups of the viewer's children, when the viewer is a relative.
    fn children_groups(&self, rule: Option<Rule>) -> String {
        format!(
            "SELECT kpg.group_id FROM guardianships kgg JOIN people kgp ON kgp.id = kgg.pupil_id \
             JOIN pupil_groups kpg ON kpg.pupil_id = kgg.pupil_id \
             JOIN teaching_groups kgt ON kgt.id = kpg.group_id \
             WHERE kgg.relative_id = {} AND {} AND kgg.legal IN (1, 2) AND kgp.active = 1{}",
            self.viewer,
            self.is("relative"),
            gate(rule, "kgt.school_id")
        )
    }

    /// The schools of a set of classes.
    fn schools_of_classes(classes: &str) -> String {
        format!("SELECT sc.school_id FROM classes sc WHERE sc.id IN ({classes})")
    }

    /// The schools where the viewer, a teacher or staff member, works: attached, holding a
    /// function, or teaching (or attached to) one of its classes or groups.
    fn adult_schools(&self, rule: Option<Rule>) -> String {
        let v = self.viewer;
        format!(
            "SELECT asch.id FROM schools asch \
             WHERE EXISTS (SELECT 1 FROM people av WHERE av.id = {v} \
               AND av.profile IN {ADULT_PROFILES}) \
             AND asch.id IN ( \
               SELECT aps.school_id FROM person_schools aps WHERE aps.person_id = {v} \
               UNION SELECT apf.school_id FROM person_functions apf WHERE apf.person_id = {v} \
               UNION SELECT acc.school_id FROM class_teachers act \
                 JOIN classes acc ON acc.id = act.class_id WHERE act.teacher_id = {v} \
               UNION SELECT apc.school_id FROM principal_teachers apt \
                 JOIN classes apc ON apc.id = apt.class_id WHERE apt.teacher_id = {v} \
               UNION SELECT agg.school_id FROM group_teachers agt \
                 JOIN teaching_groups agg ON agg.id = agt.group_id WHERE agt.teacher_id = {v}){}",
            gate(rule, "asch.id")
        )
    }

    /// The schools of the viewer's scope, for a département agent or official (`''`: every
    /// school).
    fn scope_schools(&self, rule: Option<Rule>) -> String {
        format!(
            "SELECT ssch.id FROM schools ssch WHERE EXISTS (SELECT 1 FROM departement_scopes sd \
               JOIN people sv ON sv.id = sd.person_id WHERE sd.person_id = {} \
               AND sv.profile IN {DEPARTEMENT_PROFILES} \
               AND (sd.school_id = '' OR sd.school_id = ssch.id)){}",
            self.viewer,
            gate(rule, "ssch.id")
        )
    }

    /// The classes the viewer, a teacher or staff member, teaches or is attached to.
    fn taught_classes(&self) -> String {
        let v = self.viewer;
        format!(
            "SELECT tct.class_id FROM class_teachers tct WHERE tct.teacher_id = {v} \
               AND EXISTS (SELECT 1 FROM people tv WHERE tv.id = {v} \
                 AND tv.profile IN {ADULT_PROFILES}) \
             UNION SELECT tpt.class_id FROM principal_teachers tpt WHERE tpt.teacher_id = {v} \
               AND EXISTS (SELECT 1 FROM people tw WHERE tw.id = {v} \
                 AND tw.profile IN {ADULT_PROFILES})"
        )
    }

    /// The teaching groups the viewer, a teacher or staff member, teaches.
    fn taught_groups(&self) -> String {
        let v = self.viewer;
        format!(
            "SELECT tgt.group_id FROM group_teachers tgt WHERE tgt.teacher_id = {v} \
               AND EXISTS (SELECT 1 FROM people tgv WHERE tgv.id = {v} \
                 AND tgv.profile IN {ADULT_PROFILES})"
        )
    }

    /// The schools whose school-wide groups the viewer may address: a staff member's schools
    /// and the schools the viewer administers.
    fn whole_schools(&self) -> String {
        let v = self.viewer;
        format!(
            "SELECT wsch.id FROM schools wsch WHERE wsch.id IN ({}) \
               AND EXISTS (SELECT 1 FROM people wv WHERE wv.id = {v} AND wv.profile = 'staff') \
             UNION SELECT wadm.school_id FROM ({}) wadm",
            self.adult_schools(None),
            administered_by(v)
        )
    }

    /// The targets (classes, groups or schools) of the groups of `kind` the viewer may
    /// address, before any rule: whether a group is offered then depends on whether any of
    /// its members is reachable.
    fn addressable(&self, kind: GroupKind) -> String {
        match kind {
            GroupKind::ClassPupils => {
                format!("{} UNION {}", self.taught_classes(), self.own_classes(None))
            }
            GroupKind::ClassParents => {
                format!("{} UNION {}", self.taught_classes(), self.children_classes(None))
            }
            GroupKind::ClassAdults => format!(
                "{} UNION {} UNION {}",
                self.taught_classes(),
                self.own_classes(None),
                self.children_classes(None)
            ),
            GroupKind::GroupPupils | GroupKind::GroupParents => self.taught_groups(),
            GroupKind::SchoolAdults => {
                format!("{} UNION {}", self.whole_schools(), self.scope_schools(None))
            }
            GroupKind::SchoolPupils | GroupKind::SchoolParents => self.whole_schools(),
        }
    }
}

/// A set of people reached through a set of targets (classes, groups or schools).
#[derive(Debug, Clone, Copy)]
enum Members {
    /// The members of one kind of recipient group.
    Group(GroupKind),
    /// The teachers of teaching groups.
    GroupAdults,
    /// The direction (function `DIR`) of schools.
    Direction,
    /// The département agents and officials whose scope covers schools.
    Departement,
    /// The teachers and staff of many schools (a département agent's scope): the same people
    /// as `Group(SchoolAdults)`, found from the adults rather than from each school's
    /// attachments, which hold every pupil too; without the target.
    ManySchoolsAdults,
}

/// The `(target, person_id)` pairs of `set` for the targets of the subquery `targets`. People
/// are not filtered on being active here (the callers do), but pupils through whom a parent is
/// reached are.
fn members(set: Members, targets: &str, clock: &str) -> String {
    match set {
        Members::Group(GroupKind::ClassPupils) => format!(
            "SELECT mpc.class_id AS target, mpc.pupil_id AS person_id FROM pupil_classes mpc \
             WHERE mpc.class_id IN ({targets}) AND {}",
            current_membership("mpc", clock)
        ),
        Members::Group(GroupKind::ClassParents) => format!(
            "SELECT mpc.class_id AS target, mg.relative_id AS person_id FROM pupil_classes mpc \
             JOIN people mp ON mp.id = mpc.pupil_id \
             JOIN guardianships mg ON mg.pupil_id = mpc.pupil_id \
             WHERE mpc.class_id IN ({targets}) AND {} AND mp.active = 1 AND mg.legal IN (1, 2)",
            current_membership("mpc", clock)
        ),
        Members::Group(GroupKind::ClassAdults) => format!(
            "SELECT mct.class_id AS target, mct.teacher_id AS person_id FROM class_teachers mct \
             WHERE mct.class_id IN ({targets}) \
             UNION ALL SELECT mpt.class_id, mpt.teacher_id FROM principal_teachers mpt \
             WHERE mpt.class_id IN ({targets})"
        ),
        Members::Group(GroupKind::GroupPupils) => format!(
            "SELECT mpg.group_id AS target, mpg.pupil_id AS person_id FROM pupil_groups mpg \
             WHERE mpg.group_id IN ({targets})"
        ),
        Members::Group(GroupKind::GroupParents) => format!(
            "SELECT mpg.group_id AS target, mg.relative_id AS person_id FROM pupil_groups mpg \
             JOIN people mp ON mp.id = mpg.pupil_id \
             JOIN guardianships mg ON mg.pupil_id = mpg.pupil_id \
             WHERE mpg.group_id IN ({targets}) AND mp.active = 1 AND mg.legal IN (1, 2)"
        ),
        // Five flat branches, each with its adult check, so that a condition on the person
        // reaches each of them (attachments hold pupils too).
        Members::Group(GroupKind::SchoolAdults) => {
            let adult = |column: &str| {
                format!(
                    "EXISTS (SELECT 1 FROM people map WHERE map.id = {column} \
                     AND map.profile IN {ADULT_PROFILES})"
                )
            };
            format!(
                "SELECT mps.school_id AS target, mps.person_id FROM person_schools mps \
                   WHERE mps.school_id IN ({targets}) AND {} \
                 UNION ALL SELECT mpf.school_id, mpf.person_id FROM person_functions mpf \
                   WHERE mpf.school_id IN ({targets}) AND {} \
                 UNION ALL SELECT mcc.school_id, mct.teacher_id FROM classes mcc \
                   JOIN class_teachers mct ON mct.class_id = mcc.id \
                   WHERE mcc.school_id IN ({targets}) AND {} \
                 UNION ALL SELECT mpc.school_id, mpt.teacher_id FROM classes mpc \
                   JOIN principal_teachers mpt ON mpt.class_id = mpc.id \
                   WHERE mpc.school_id IN ({targets}) AND {} \
                 UNION ALL SELECT mtg.school_id, mgt.teacher_id FROM teaching_groups mtg \
                   JOIN group_teachers mgt ON mgt.group_id = mtg.id \
                   WHERE mtg.school_id IN ({targets}) AND {}",
                adult("mps.person_id"),
                adult("mpf.person_id"),
                adult("mct.teacher_id"),
                adult("mpt.teacher_id"),
                adult("mgt.teacher_id")
            )
        }
        // From each adult of the département: cheaper than going through every school's
        // attachments when the schools are many. The target is not kept.
        Members::ManySchoolsAdults => format!(
            "SELECT '' AS target, mwa.id AS person_id FROM people mwa \
             WHERE mwa.profile IN {ADULT_PROFILES} AND ( \
               EXISTS (SELECT 1 FROM person_schools mw1 WHERE mw1.person_id = mwa.id \
                 AND mw1.school_id IN ({targets})) \
               OR EXISTS (SELECT 1 FROM person_functions mw2 WHERE mw2.person_id = mwa.id \
                 AND mw2.school_id IN ({targets})) \
               OR EXISTS (SELECT 1 FROM class_teachers mw3 JOIN classes mw3c \
                 ON mw3c.id = mw3.class_id WHERE mw3.teacher_id = mwa.id \
                 AND mw3c.school_id IN ({targets})) \
               OR EXISTS (SELECT 1 FROM principal_teachers mw4 JOIN classes mw4c \
                 ON mw4c.id = mw4.class_id WHERE mw4.teacher_id = mwa.id \
                 AND mw4c.school_id IN ({targets})) \
               OR EXISTS (SELECT 1 FROM group_teachers mw5 JOIN teaching_groups mw5g \
                 ON mw5g.id = mw5.group_id WHERE mw5.teacher_id = mwa.id \
                 AND mw5g.school_id IN ({targets})))"
        ),
        Members::Group(GroupKind::SchoolPupils) => format!(
            "SELECT msc.school_id AS target, mpc.pupil_id AS person_id FROM classes msc \
             JOIN pupil_classes mpc ON mpc.class_id = msc.id \
             WHERE msc.school_id IN ({targets}) AND {}",
            current_membership("mpc", clock)
        ),
        Members::Group(GroupKind::SchoolParents) => format!(
            "SELECT msc.school_id AS target, mg.relative_id AS person_id FROM classes msc \
             JOIN pupil_classes mpc ON mpc.class_id = msc.id \
             JOIN people mp ON mp.id = mpc.pupil_id \
             JOIN guardianships mg ON mg.pupil_id = mpc.pupil_id \
             WHERE msc.school_id IN ({targets}) AND {} AND mp.active = 1 AND mg.legal IN (1, 2)",
            current_membership("mpc", clock)
        ),
        Members::GroupAdults => format!(
            "SELECT mgt.group_id AS target, mgt.teacher_id AS person_id FROM group_teachers mgt \
             WHERE mgt.group_id IN ({targets})"
        ),
        Members::Direction => format!(
            "SELECT mdf.school_id AS target, mdf.person_id FROM person_functions mdf \
             WHERE mdf.code = 'DIR' AND mdf.school_id IN ({targets})"
        ),
        Members::Departement => format!(
            "SELECT mds.id AS target, mdd.person_id FROM schools mds \
             JOIN departement_scopes mdd ON (mdd.school_id = mds.id OR mdd.school_id = '') \
             JOIN people mdp ON mdp.id = mdd.person_id \
             WHERE mds.id IN ({targets}) AND mdp.profile IN {DEPARTEMENT_PROFILES}"
        ),
    }
}

/// The sides of a viewer that open links of their own: each profile's branches of the engine
/// are guarded by the viewer's profile in SQL, so that leaving out the branches of the other
/// profiles (once the viewer's profile is known) changes nothing but the cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Pupil,
    Relative,
    SchoolAdult,
    Departement,
}

impl Side {
    const ALL: [Side; 4] = [Side::Pupil, Side::Relative, Side::SchoolAdult, Side::Departement];

    /// The side of a profile; `None` for the people of host organisations, who reach nobody
    /// through the messaging (they answer applications on the internship pages).
    fn of(profile: Profile) -> Option<Side> {
        match profile {
            Profile::Pupil => Some(Side::Pupil),
            Profile::Relative => Some(Side::Relative),
            Profile::Teacher | Profile::Staff => Some(Side::SchoolAdult),
            Profile::Agent | Profile::Official => Some(Side::Departement),
            Profile::Host => None,
        }
    }
}

/// SQL subquery (one column `id`) of the active people the person bound to `viewer` (a
/// placeholder like "$1") may write to: the editable rules per school (a row in
/// communication_rules overrides Rule::default_allowed for the school the link goes through),
/// family links (own legal children / own legal guardians, always), and the reply rule (people
/// who sent the viewer a message that is not recalled, always). `clock` is a placeholder bound to
/// [`crate::directory::membership_clock`] for current class memberships. The viewer never appears in it.
///
/// Queries that know the viewer use [`Store::reachable_ids_for`], the same subquery with only
/// the branches of the viewer's profile; the tests check that both give the same people.
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn reachable_ids(viewer: &str, clock: &str) -> String {
    reachable_sql(viewer, clock, &Side::ALL)
}

/// The people who sent the viewer a message that was not recalled (one column `person_id`).
fn senders_to(viewer: &str) -> String {
    format!(
        "SELECT rmsg.sender_id AS person_id FROM mailbox_entries rbox \
         JOIN messages rmsg ON rmsg.id = rbox.message_id \
         WHERE rbox.owner_id = {viewer} AND rbox.origin = 'inbox' AND rmsg.recalled_at IS NULL"
    )
}

/// The engine's branches other than replies, for the given sides of the viewer: a UNION ALL of
/// subqueries of one column `person_id`, people not yet filtered on being active.
fn linked_sql(viewer: &str, clock: &str, sides: &[Side]) -> String {
    let links = Links { viewer, clock };
    let reach = |set: Members, targets: String| {
        format!("SELECT rm.person_id FROM ({}) rm", members(set, &targets, clock))
    };
    let mut branches = vec![
        // Family: one's own children and one's own legal guardians.
        format!(
            "SELECT fc.pupil_id AS person_id FROM guardianships fc \
             WHERE fc.relative_id = {viewer} AND fc.legal IN (1, 2)"
        ),
        format!(
            "SELECT fg.relative_id AS person_id FROM guardianships fg \
             WHERE fg.pupil_id = {viewer} AND fg.legal IN (1, 2)"
        ),
    ];
    for side in sides {
        match side {
            Side::Pupil => branches.extend([
                reach(
                    Members::Group(GroupKind::ClassPupils),
                    links.own_classes(Some(Rule::PupilToClassmates)),
                ),
                reach(
                    Members::Group(GroupKind::ClassAdults),
                    links.own_classes(Some(Rule::PupilToClassAdults)),
                ),
                reach(Members::GroupAdults, links.own_groups(Some(Rule::PupilToClassAdults))),
                reach(
                    Members::Direction,
                    Links::schools_of_classes(&links.own_classes(Some(Rule::PupilToDirection))),
                ),
            ]),
            Side::Relative => branches.extend([
                reach(
                    Members::Group(GroupKind::ClassAdults),
                    links.children_classes(Some(Rule::ParentToClassAdults)),
                ),
                reach(Members::GroupAdults, links.children_groups(Some(Rule::ParentToClassAdults))),
                reach(
                    Members::Group(GroupKind::ClassParents),
                    links.children_classes(Some(Rule::ParentToClassParents)),
                ),
                reach(
                    Members::Direction,
                    Links::schools_of_classes(
                        &links.children_classes(Some(Rule::ParentToDirection)),
                    ),
                ),
            ]),
            Side::SchoolAdult => {
                let staff_schools = links.adult_schools(Some(Rule::StaffToSchool));
                branches.extend([
                    reach(Members::Group(GroupKind::SchoolPupils), staff_schools.clone()),
                    reach(Members::Group(GroupKind::SchoolParents), staff_schools.clone()),
                    reach(Members::Group(GroupKind::SchoolAdults), staff_schools),
                    reach(
                        Members::Departement,
                        links.adult_schools(Some(Rule::DepartementToSchoolAdults)),
                    ),
                ]);
            }
            Side::Departement => branches.push(reach(
                Members::ManySchoolsAdults,
                links.scope_schools(Some(Rule::DepartementToSchoolAdults)),
            )),
        }
    }
    branches.join(" UNION ALL ")
}

/// [`reachable_ids`] with only the branches of the given sides of the viewer: the whole set,
/// for a query that goes through many people (the directory search).
fn reachable_sql(viewer: &str, clock: &str, sides: &[Side]) -> String {
    format!(
        "SELECT rp.id FROM people rp WHERE rp.id IN ({} UNION ALL {}) AND rp.active = 1 \
         AND rp.id <> {viewer} \
         AND EXISTS (SELECT 1 FROM people rv WHERE rv.id = {viewer} AND rv.active = 1)",
        senders_to(viewer),
        linked_sql(viewer, clock, sides)
    )
}

/// The same rules as a condition on one person, the column or expression `person`: "the
/// viewer may write to `person`", for a query that checks a few people (a send, a group's
/// members). Each branch is then looked up from the person's side through the indexes rather
/// than listed whole; the replies too (the person's sent messages, each probed in the viewer's
/// mailbox), so that a mailbox of thousands of messages is never read for one check.
///
/// The links come first, so that the replies are probed only for people the links do not
/// reach (an `OR` stops at its first true branch). The replies' `CROSS JOIN` keeps SQLite on
/// that order, from the person's messages to the viewer's mailbox: without statistics it would
/// otherwise read the viewer's whole mailbox for each person checked (PostgreSQL plans a
/// `CROSS JOIN` with a `WHERE` like any join).
fn reachable_check(person: &str, viewer: &str, clock: &str, sides: &[Side]) -> String {
    checked(person, viewer, clock, sides, true)
}

/// [`reachable_check`], with the replies or without them: without, it says whether the
/// viewer's links reach `person`, which holds whatever the mailboxes hold (replies only add
/// people: whom the links reach, the rules reach).
fn checked(person: &str, viewer: &str, clock: &str, sides: &[Side], replies: bool) -> String {
    let replied = if replies {
        format!(
            " OR EXISTS (SELECT 1 FROM messages rmsg CROSS JOIN mailbox_entries rbox \
             WHERE rmsg.sender_id = {person} AND rbox.owner_id = {viewer} \
             AND rbox.message_id = rmsg.id AND rbox.origin = 'inbox' \
             AND rmsg.recalled_at IS NULL)"
        )
    } else {
        String::new()
    };
    format!(
        "({person} <> {viewer} \
         AND EXISTS (SELECT 1 FROM people cv WHERE cv.id = {viewer} AND cv.active = 1) \
         AND EXISTS (SELECT 1 FROM people ct WHERE ct.id = {person} AND ct.active = 1) \
         AND (EXISTS (SELECT 1 FROM ({}) rb WHERE rb.person_id = {person}){replied}))",
        linked_sql(viewer, clock, sides)
    )
}

/// The side of the active person `viewer_id`; `None` for an unknown or inactive person or a
/// host's, who reaches nobody.
async fn side_of(conn: &mut sqlx::AnyConnection, viewer_id: &str) -> StoreResult<Option<Side>> {
    Ok(active_profile(conn, viewer_id).await?.and_then(Side::of))
}

/// The profile of the active person `person_id`; `None` for an unknown or inactive person.
async fn active_profile(
    conn: &mut sqlx::AnyConnection,
    person_id: &str,
) -> StoreResult<Option<Profile>> {
    let profile: Option<String> =
        sqlx::query_scalar("SELECT profile FROM people WHERE id = $1 AND active = 1")
            .bind(person_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(profile.as_deref().and_then(Profile::parse))
}

/// The table of the targets of a kind of group.
fn target_table(kind: GroupKind) -> &'static str {
    if kind.targets_school() {
        "schools"
    } else if kind.targets_group() {
        "teaching_groups"
    } else {
        "classes"
    }
}

/// The SQL of the people of the viewer's group of `kind` on the target bound to `$3`, among
/// those the viewer (`$1`) may reach on the date `$2` (by the links alone when `replies` is
/// false); nobody when the viewer may not address that group.
fn group_members_sql(kind: GroupKind, sides: &[Side], replies: bool) -> String {
    let links = Links { viewer: "$1", clock: "$2" };
    let target = format!(
        "SELECT gt.id FROM {} gt WHERE gt.id = $3 AND gt.id IN ({})",
        target_table(kind),
        links.addressable(kind)
    );
    format!(
        "SELECT DISTINCT gm.person_id FROM ({}) gm WHERE {}",
        members(Members::Group(kind), &target, "$2"),
        checked("gm.person_id", "$1", "$2", sides, replies)
    )
}

/// The SQL counting the active people of the viewer's group of `kind` on the target bound to
/// `$3` other than the viewer (`$1`), whether the rules let the viewer reach them or not; `$2`
/// is the date. A group is addressed only whole: when this equals the reachable members.
fn group_size_sql(kind: GroupKind) -> String {
    let links = Links { viewer: "$1", clock: "$2" };
    let target = format!(
        "SELECT gt.id FROM {} gt WHERE gt.id = $3 AND gt.id IN ({})",
        target_table(kind),
        links.addressable(kind)
    );
    format!(
        "SELECT COUNT(DISTINCT gm.person_id) FROM ({}) gm \
         JOIN people gp ON gp.id = gm.person_id WHERE gp.active = 1 AND gm.person_id <> $1",
        members(Members::Group(kind), &target, "$2"),
    )
}

/// The name a group of `kind` is labelled with: its class's or group's code, or its school's
/// name, for the target bound to `$1`.
fn target_name_sql(kind: GroupKind) -> &'static str {
    match target_table(kind) {
        "schools" => "SELECT name FROM schools WHERE id = $1",
        "teaching_groups" => "SELECT code FROM teaching_groups WHERE id = $1",
        _ => "SELECT code FROM classes WHERE id = $1",
    }
}

/// A recipient group as the sender's links alone resolve it, without the replies: what holds
/// whatever the mailboxes hold, and so may be kept between sends under the directory's
/// generation (which the rules' own table moves too) until the next change of class membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupReach {
    /// No such class, group or school.
    Unknown,
    /// The group's name, and its active members but the sender, whom the rules reach all.
    Whole { name: String, members: Vec<String> },
    /// The rules do not reach every member (by the links alone, when so computed): the
    /// group is refused, or decided again with the replies.
    Partial,
}

/// The group of `kind` on `target` as the links alone of the person `sender_id` reach it on
/// `clock` (a read outside any send, see [`GroupReach`]).
pub(crate) async fn group_reach(
    conn: &mut sqlx::AnyConnection,
    sender_id: &str,
    kind: GroupKind,
    target: &str,
    clock: &str,
) -> StoreResult<GroupReach> {
    let sides: Vec<Side> = side_of(conn, sender_id).await?.into_iter().collect();
    group_reach_of(conn, sender_id, &sides, kind, target, clock, false).await
}

/// The group of `kind` on `target` for the sender of the given sides, with the replies or
/// by the links alone. A group goes whole or not at all: a message never bears the name of a
/// class that the rules let it reach only in part (a reply right, a family link).
async fn group_reach_of(
    conn: &mut sqlx::AnyConnection,
    sender_id: &str,
    sides: &[Side],
    kind: GroupKind,
    target: &str,
    clock: &str,
    replies: bool,
) -> StoreResult<GroupReach> {
    let name: Option<String> =
        sqlx::query_scalar(target_name_sql(kind)).bind(target).fetch_optional(&mut *conn).await?;
    let Some(name) = name else { return Ok(GroupReach::Unknown) };

    let members: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(group_members_sql(kind, sides, replies)))
            .bind(sender_id)
            .bind(clock)
            .bind(target)
            .fetch_all(&mut *conn)
            .await?;

    let size: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(group_size_sql(kind)))
        .bind(sender_id)
        .bind(clock)
        .bind(target)
        .fetch_one(&mut *conn)
        .await?;
    if members.is_empty() || i64::try_from(members.len()).ok() != Some(size) {
        return Ok(GroupReach::Partial);
    }
    Ok(GroupReach::Whole { name, members })
}

/// Inside the send transaction: resolves the chosen recipients into people, keeping only those the
/// sender may write to; a group the sender may not address or a person out of reach is refused.
/// `sender_profile` is the sender's profile as the transaction read it (`None` for an inactive
/// sender, who reaches nobody). `known` holds groups (by token) that [`group_reach`] resolved
/// under the directory the transaction reads; those found whole or unknown are taken as they
/// are, the others resolved with the replies.
pub(crate) async fn resolve_recipients(
    conn: &mut sqlx::AnyConnection,
    sender_id: &str,
    sender_profile: Option<Profile>,
    recipients: &[Recipient],
    clock: &str,
    known: &HashMap<String, std::sync::Arc<GroupReach>>,
) -> StoreResult<Result<Resolved, RuleRefusal>> {
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut person_ids: Vec<String> = Vec::new();
    let mut seen_people: HashSet<String> = HashSet::new();
    let sides: Vec<Side> = sender_profile.and_then(Side::of).into_iter().collect();

    // The people chosen one by one, checked together.
    let chosen: Vec<&String> = recipients
        .iter()
        .filter_map(|recipient| match recipient {
            Recipient::Person(id) => Some(id),
            Recipient::Group(..) => None,
        })
        .collect();
    let people = checked_people(conn, sender_id, &sides, clock, &chosen).await?;

    for recipient in recipients {
        let token = recipient.token();
        if labels.iter().any(|(known, _)| *known == token) {
            continue;
        }
        match recipient {
            Recipient::Person(id) => {
                let Some(person) = people.get(id) else {
                    return Ok(Err(RuleRefusal::Unknown { token }));
                };
                if !person.reachable {
                    return Ok(Err(RuleRefusal::NotAllowed { token }));
                }
                labels.push((token, person.name.clone()));
                if seen_people.insert(id.clone()) {
                    person_ids.push(id.clone());
                }
            }
            Recipient::Group(kind, target) => {
                let resolved_now;
                let reach = match known.get(&token) {
                    Some(kept) if **kept != GroupReach::Partial => kept.as_ref(),
                    _ => {
                        resolved_now =
                            group_reach_of(conn, sender_id, &sides, *kind, target, clock, true)
                                .await?;
                        &resolved_now
                    }
                };
                let (name, members) = match reach {
                    GroupReach::Unknown => return Ok(Err(RuleRefusal::Unknown { token })),
                    GroupReach::Partial => return Ok(Err(RuleRefusal::NotAllowed { token })),
                    GroupReach::Whole { name, members } => (name, members),
                };
                labels.push((token, kind.label_fr(name)));
                for id in members {
                    if seen_people.insert(id.clone()) {
                        person_ids.push(id.clone());
                    }
                }
            }
        }
    }

    if person_ids.is_empty() {
        return Ok(Err(RuleRefusal::Empty));
    }
    Ok(Ok(Resolved { labels, person_ids }))
}

/// An active person as [`checked_people`] finds them.
struct CheckedPerson {
    /// "First Last".
    name: String,
    /// Whether the viewer may write to them.
    reachable: bool,
}

/// The active people among `ids`, each with whether the viewer (of the given sides) may write
/// to them, checked in a few statements (lists of ids rounded up to a power of two, at most
/// [`ID_CHUNK`] each).
async fn checked_people(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    sides: &[Side],
    clock: &str,
    ids: &[&String],
) -> StoreResult<HashMap<String, CheckedPerson>> {
    let mut found = HashMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    let check = reachable_check("cp.id", "$1", "$2", sides);
    for chunk in ids.chunks(ID_CHUNK) {
        let slots = bucket(chunk.len());
        let placeholders: Vec<String> = (0..slots).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT cp.id, cp.first_name, cp.last_name, \
               CAST(CASE WHEN {check} THEN 1 ELSE 0 END AS BIGINT) AS reachable \
             FROM people cp WHERE cp.id IN ({}) AND cp.active = 1",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(viewer_id).bind(clock);
        for i in 0..slots {
            let id = chunk.get(i).or(chunk.last()).map_or("", |id| id.as_str());
            query = query.bind(id.to_owned());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let first: String = row.try_get("first_name")?;
            let last: String = row.try_get("last_name")?;
            let reachable: i64 = row.try_get("reachable")?;
            found.insert(
                row.try_get("id")?,
                CheckedPerson { name: format!("{first} {last}"), reachable: reachable == 1 },
            );
        }
    }
    Ok(found)
}

/// The groups the viewer (`$1`) may address on the date `$2`, only those whose every active
/// member (the viewer aside) the rules let the viewer reach, with their members counted:
/// columns `kind`, `target`, `members`, `name` (the
/// class's or group's code, or the school's name) and `school_name`. The viewer's reach is
/// listed once and joined with the members of every group they may address.
fn groups_sql(sides: &[Side]) -> String {
    let links = Links { viewer: "$1", clock: "$2" };
    let branches: Vec<String> = GroupKind::ALL
        .iter()
        .map(|kind| {
            format!(
                "SELECT '{}' AS kind, gk.target, gk.person_id FROM ({}) gk",
                kind.code(),
                members(Members::Group(*kind), &links.addressable(*kind), "$2")
            )
        })
        .collect();
    format!(
        "SELECT g.kind, g.target, g.members, \
           COALESCE(gc.code, gg.code, gs.name) AS name, gs.name AS school_name \
         FROM (SELECT m.kind, m.target, COUNT(DISTINCT r.id) AS members \
           FROM ({}) m JOIN people ma ON ma.id = m.person_id \
           LEFT JOIN ({}) r ON r.id = m.person_id \
           WHERE ma.active = 1 AND ma.id <> $1 GROUP BY m.kind, m.target \
           HAVING COUNT(DISTINCT r.id) = COUNT(DISTINCT m.person_id)) g \
         LEFT JOIN classes gc ON gc.id = g.target \
           AND g.kind IN ('class_pupils', 'class_parents', 'class_adults') \
         LEFT JOIN teaching_groups gg ON gg.id = g.target \
           AND g.kind IN ('group_pupils', 'group_parents') \
         JOIN schools gs ON gs.id = COALESCE(gc.school_id, gg.school_id, g.target)",
        branches.join(" UNION ALL "),
        reachable_sql("$1", "$2", sides)
    )
}

/// A number of placeholders rounded up to a power of two, so that the statements of lists of
/// ids of any length fall into a few shapes that each connection prepares once.
fn bucket(len: usize) -> usize {
    len.max(1).next_power_of_two()
}

impl Store {
    /// "The viewer may write to the person in column `person`", for the person `viewer_id`,
    /// with only the branches of their profile (the same people, for less work); the
    /// placeholders `viewer` and `clock` are bound by the caller as for [`reachable_ids`]. The
    /// viewer's reach is listed once, for a query that goes through many people.
    pub(crate) async fn reachable_condition_for(
        &self,
        viewer_id: &str,
        person: &str,
        viewer: &str,
        clock: &str,
    ) -> StoreResult<String> {
        let mut conn = self.pool().acquire().await?;
        let sides: Vec<Side> = side_of(&mut conn, viewer_id).await?.into_iter().collect();
        Ok(format!("{person} IN ({})", reachable_sql(viewer, clock, &sides)))
    }

    /// The groups the viewer may address (at least one member reachable), for the recipient
    /// picker, ordered by school, then class or group, then kind.
    pub async fn recipient_groups(&self, viewer_id: &str) -> StoreResult<Vec<GroupOption>> {
        let mut conn = self.pool().acquire().await?;
        let sides: Vec<Side> = side_of(&mut conn, viewer_id).await?.into_iter().collect();
        if sides.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(groups_sql(&sides)))
            .bind(viewer_id)
            .bind(membership_clock())
            .fetch_all(&mut *conn)
            .await?;

        let mut options = Vec::new();
        for row in &rows {
            let code: String = row.try_get("kind")?;
            let kind = GroupKind::parse(&code)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown group kind {code}")))?;
            let target: String = row.try_get("target")?;
            let token = Recipient::Group(kind, target).token();
            if Recipient::parse(&token).is_none() {
                // An identifier a form could not carry back; never produced by the import.
                tracing::warn!(%token, "recipient group with an unusable identifier skipped");
                continue;
            }
            let name: String = row.try_get("name")?;
            let school_name: String = row.try_get("school_name")?;
            let order = GroupKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
            let sort_name = if kind.targets_school() { String::new() } else { name.clone() };
            options.push((
                (school_name.clone(), sort_name, order),
                GroupOption {
                    token,
                    label: kind.label_fr(&name),
                    school_name,
                    members: row.try_get("members")?,
                },
            ));
        }
        options.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.token.cmp(&b.1.token)));
        Ok(options.into_iter().map(|(_, option)| option).collect())
    }

    /// The subset of `person_ids` the viewer may write to, in the order given, without repeats.
    pub async fn may_write_to(
        &self,
        viewer_id: &str,
        person_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let mut wanted: Vec<&String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for id in person_ids {
            if seen.insert(id.as_str()) {
                wanted.push(id);
            }
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }

        let mut conn = self.pool().acquire().await?;
        let Some(side) = side_of(&mut conn, viewer_id).await? else {
            return Ok(Vec::new());
        };
        let people =
            checked_people(&mut conn, viewer_id, &[side], &membership_clock(), &wanted).await?;
        Ok(wanted
            .into_iter()
            .filter(|id| people.get(id.as_str()).is_some_and(|person| person.reachable))
            .cloned()
            .collect())
    }

    /// The school's rules as it applies them. NotFound unless the actor administers the school
    /// (role `school_admin` or function `DIR`) or the département.
    pub async fn school_rules(
        &self,
        actor_id: &str,
        school_id: &str,
    ) -> StoreResult<Vec<RuleSetting>> {
        let mut conn = self.pool().acquire().await?;
        editable_school(&mut conn, actor_id, school_id).await?;
        let stored = stored_rules(&mut conn, school_id).await?;
        Ok(settings(&stored))
    }

    /// Sets the listed rules of the school (the others keep their setting). A choice equal to
    /// the default is stored as no choice, so that the school keeps following the default.
    /// Same authorization as [`Store::school_rules`]; audited (`rules_changed`) in the same
    /// transaction.
    pub async fn set_school_rules(
        &self,
        actor_id: &str,
        school_id: &str,
        allowed: &[(Rule, bool)],
    ) -> StoreResult<()> {
        let mut wanted: BTreeMap<&'static str, (Rule, bool)> = BTreeMap::new();
        for (rule, on) in allowed {
            wanted.insert(rule.code(), (*rule, *on));
        }

        let mut tx = self.begin_write().await?;
        editable_school(&mut tx, actor_id, school_id).await?;
        let now = now_unix();
        for (code, (rule, on)) in &wanted {
            if *on == rule.default_allowed() {
                sqlx::query("DELETE FROM communication_rules WHERE school_id = $1 AND rule = $2")
                    .bind(school_id)
                    .bind(*code)
                    .execute(&mut *tx)
                    .await?;
            } else {
                sqlx::query(
                    "INSERT INTO communication_rules (school_id, rule, allowed, updated_by, \
                     updated_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (school_id, rule) DO UPDATE SET allowed = excluded.allowed, \
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(school_id)
                .bind(*code)
                .bind(i64::from(*on))
                .bind(actor_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        let detail: Vec<String> =
            wanted.iter().map(|(code, (_, on))| format!("{code}={}", i64::from(*on))).collect();
        crate::accounts::audit_in(&mut tx, actor_id, "rules_changed", school_id, &detail.join(" "))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings every rule of the school back to its default (deletes the school's choices).
    /// Same authorization as [`Store::school_rules`]; audited (`rules_reset`).
    pub async fn reset_school_rules(&self, actor_id: &str, school_id: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        editable_school(&mut tx, actor_id, school_id).await?;
        let removed = sqlx::query("DELETE FROM communication_rules WHERE school_id = $1")
            .bind(school_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        crate::accounts::audit_in(
            &mut tx,
            actor_id,
            "rules_reset",
            school_id,
            &format!("removed={removed}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Checks that the actor may edit the school's rules: they administer it (role or `DIR`
/// function) or the département. NotFound otherwise, as for a school that does not exist.
async fn editable_school(
    conn: &mut sqlx::AnyConnection,
    actor_id: &str,
    school_id: &str,
) -> StoreResult<()> {
    let sql = format!(
        "SELECT s.id FROM schools s WHERE s.id = $2 AND (s.id IN ({}) \
         OR EXISTS (SELECT 1 FROM roles r WHERE r.person_id = $1 \
           AND r.role = 'departement_admin'))",
        administered_by("$1")
    );
    let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(actor_id)
        .bind(school_id)
        .fetch_optional(&mut *conn)
        .await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

/// The school's own choices, by rule code.
async fn stored_rules(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
) -> StoreResult<BTreeMap<String, bool>> {
    let rows = sqlx::query("SELECT rule, allowed FROM communication_rules WHERE school_id = $1")
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut stored = BTreeMap::new();
    for row in &rows {
        let code: String = row.try_get("rule")?;
        let allowed: i64 = row.try_get("allowed")?;
        stored.insert(code, allowed == 1);
    }
    Ok(stored)
}

/// Every rule with the school's choice or its default.
fn settings(stored: &BTreeMap<String, bool>) -> Vec<RuleSetting> {
    Rule::ALL
        .iter()
        .map(|rule| match stored.get(rule.code()) {
            Some(allowed) => RuleSetting { rule: *rule, allowed: *allowed, is_default: false },
            None => RuleSetting { rule: *rule, allowed: rule.default_allowed(), is_default: true },
        })
        .collect()
}

#[cfg(feature = "testing")]
impl Store {
    /// Test support: the rows of a query whose columns are all text (or NULL), so that the
    /// rules' tests can read the link tables into a model of their own.
    pub async fn rules_test_rows(&self, sql: &str) -> StoreResult<Vec<Vec<Option<String>>>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(row.len());
            for index in 0..row.len() {
                values.push(row.try_get::<Option<String>, _>(index)?);
            }
            out.push(values);
        }
        Ok(out)
    }

    /// Test support: everyone the viewer may write to, listed by the form of the engine that
    /// the directory search uses (the whole reach at once).
    pub async fn rules_test_reachable(&self, viewer_id: &str) -> StoreResult<Vec<String>> {
        let mut conn = self.pool().acquire().await?;
        let sides: Vec<Side> = side_of(&mut conn, viewer_id).await?.into_iter().collect();
        let sql = reachable_sql("$1", "$2", &sides);
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(viewer_id)
            .bind(membership_clock())
            .fetch_all(&mut *conn)
            .await?)
    }

    /// Test support: [`Store::may_write_to`] through the general [`reachable_ids`], with the
    /// branches of every profile, for one target at a time.
    pub async fn rules_test_may_write_to_general(
        &self,
        viewer_id: &str,
        person_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let sql = format!(
            "SELECT wp.id FROM people wp WHERE wp.id = $3 AND wp.id IN ({})",
            reachable_ids("$1", "$2")
        );
        let clock = membership_clock();
        let mut allowed = Vec::new();
        for id in person_ids {
            let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(viewer_id)
                .bind(&clock)
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
            allowed.extend(found);
        }
        Ok(allowed)
    }

    /// Test support: resolves recipients as a send would, in a transaction of its own that is
    /// rolled back.
    pub async fn rules_test_resolve(
        &self,
        sender_id: &str,
        recipients: &[Recipient],
    ) -> StoreResult<Result<(Vec<(String, String)>, Vec<String>), RuleRefusal>> {
        let mut tx = self.pool().begin().await?;
        let profile = active_profile(&mut tx, sender_id).await?;
        let resolved = resolve_recipients(
            &mut tx,
            sender_id,
            profile,
            recipients,
            &membership_clock(),
            &HashMap::new(),
        )
        .await?;
        tx.rollback().await?;
        Ok(resolved.map(|r| (r.labels, r.person_ids)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two() {
        assert_eq!(bucket(0), 1);
        assert_eq!(bucket(1), 1);
        assert_eq!(bucket(3), 4);
        assert_eq!(bucket(512), 512);
    }

    #[test]
    fn every_rule_is_gated_with_its_default() {
        let sql = reachable_ids("$1", "$2");
        for rule in Rule::ALL {
            let gate = format!(
                "rule_row.rule = '{}'), {})",
                rule.code(),
                i64::from(rule.default_allowed())
            );
            assert!(sql.contains(&gate), "{}", rule.code());
        }
    }
}

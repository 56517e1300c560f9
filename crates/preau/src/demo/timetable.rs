//! The demo's timetables: one week pattern per collège, planned from the demo model (its
//! classes, groups and teachers as the AAF files name them) on a French slot grid (08:00 to
//! 17:25 in places of 55 minutes, a lunch break, Wednesday afternoon free), with A/B weeks for
//! the half hours of the national timetable and for the half-classes of 6e, rooms, and the LV2
//! and Latin groups of a level meeting at the same time. A teacher's lessons are planned over a
//! busy map shared by every collège, which leaves the trip between two collèges (at the
//! configured speed and margin) free: the merged week of a teacher of several collèges never
//! overlaps nor asks for an impossible transfer. The plan is drawn from the demo's seed.
//!
//! Writing the plan as EDT and UDT files and importing them is `demo_run`'s business; this module
//! also deals the groups of a subject among its teachers (`group_teachings`), which the AAF
//! writer uses, so that the directory and the timetables agree.

use std::collections::{BTreeMap, HashMap};

use domain::timetable::{LessonTime, SchoolYear, TravelPolicy, WeekSet};
use formats::timetable::synthetic::{SyntheticCourse, SyntheticTimetable};
use jiff::civil::Date;

use crate::demo::model::{CLASS_SUBJECTS, DemoRng, Departement, LATIN, SubjectInfo};

/// The places of a day: (start, end) in minutes after midnight. Places 1–4 are the morning, 5–8
/// the afternoon; a break of 15 minutes follows places 2 and 6, lunch follows place 4.
pub const PLACES: [(u16, u16); 8] = [
    (480, 535),
    (535, 590),
    (605, 660),
    (660, 715),
    (810, 865),
    (865, 920),
    (935, 990),
    (990, 1045),
];

/// The last place of Wednesday: its afternoon is free.
const WEDNESDAY_LAST_PLACE: u16 = 4;

/// Week A, week B, and both: which of two consecutive school weeks a lesson runs.
pub const WEEK_A: u8 = 1;
pub const WEEK_B: u8 = 2;
pub const EVERY_WEEK: u8 = WEEK_A | WEEK_B;

/// One lesson of the week pattern.
#[derive(Debug, Clone)]
pub struct PlannedLesson {
    /// The collège, by index in [`Departement::schools`].
    pub school: usize,
    pub subject: SubjectInfo,
    /// The teacher, by index in [`Departement::staff`].
    pub teacher: Option<usize>,
    /// Class codes (`"5B"`) and group codes (`"5ESP2"`, `"6AGR1"`) as the AAF files write them.
    pub classes: Vec<String>,
    pub groups: Vec<String>,
    pub room: String,
    /// 1 = Monday … 5 = Friday.
    pub weekday: u8,
    /// The first place (1-based) and how many places it lasts.
    pub first_place: u16,
    pub places: u16,
    /// [`WEEK_A`], [`WEEK_B`] or [`EVERY_WEEK`].
    pub alternation: u8,
}

impl PlannedLesson {
    /// Its local time of day.
    pub fn time(&self) -> LessonTime {
        let first = PLACES[usize::from(self.first_place - 1)];
        let last = PLACES[usize::from(self.first_place + self.places - 2)];
        LessonTime { start_minute: first.0, end_minute: last.1 }
    }
}

/// The school year of the demo's timetables, and its weeks.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCalendar {
    pub year: SchoolYear,
    /// The weeks with lessons (the holidays left out).
    pub weeks: WeekSet,
    /// Weeks A and B: every other week with lessons, from the first.
    pub week_a: WeekSet,
    pub week_b: WeekSet,
}

impl DemoCalendar {
    /// The year around `today` (the Monday of the week of 1 September to early July) without
    /// the four holidays of zone A, approximated by their usual weeks.
    pub fn around(today: Date) -> DemoCalendar {
        let year = SchoolYear::around(today);
        let start = year.first_monday.year();
        let holiday_weeks: Vec<u8> =
            [(start, 10, 24, 2), (start, 12, 25, 2), (start + 1, 2, 12, 2), (start + 1, 4, 8, 2)]
                .into_iter()
                .filter_map(|(y, m, d, n)| Some((Date::new(y, m, d).ok()?, n)))
                .flat_map(|(date, n)| {
                    let first = year.week_of(date);
                    (0..n).filter_map(move |k| first.map(|week| week + k))
                })
                .collect();
        let holidays = WeekSet::from_weeks(holiday_weeks);
        let weeks = WeekSet::all(year.week_count()).minus(holidays);
        let (mut week_a, mut week_b) = (WeekSet::EMPTY, WeekSet::EMPTY);
        for (rank, week) in weeks.iter().enumerate() {
            if rank % 2 == 0 { week_a.insert(week) } else { week_b.insert(week) }
        }
        DemoCalendar { year, weeks, week_a, week_b }
    }

    /// The weeks a lesson of this alternation runs.
    pub fn weeks_of(&self, alternation: u8) -> WeekSet {
        match alternation {
            WEEK_A => self.week_a,
            WEEK_B => self.week_b,
            _ => self.weeks,
        }
    }
}

/// The week patterns of every collège.
#[derive(Debug, Clone)]
pub struct DemoTimetables {
    pub lessons: Vec<PlannedLesson>,
    /// Lessons of the national timetable that found no place (none in a usual demo).
    pub unplaced: usize,
}

impl DemoTimetables {
    /// The lessons of one collège.
    pub fn of_school(&self, school: usize) -> impl Iterator<Item = &PlannedLesson> {
        self.lessons.iter().filter(move |lesson| lesson.school == school)
    }
}

/// Who teaches each group that is not a half-class: `(school, group code, subject code)` per
/// teacher, as the AAF files list them. The model gives a teacher its groups in a row (all the
/// Spanish groups of 5e, then those of 4e); here the groups of a subject in a collège are dealt
/// to its teachers level by level, each keeping as many groups as the model gave them, so that
/// the groups of one level can meet at the same time with different teachers.
pub fn group_teachings(departement: &Departement) -> Vec<Vec<(usize, String, &'static str)>> {
    let mut teachings: Vec<Vec<(usize, String, &'static str)>> =
        departement.staff.iter().map(|person| person.group_teachings.clone()).collect();
    let half_class = |school: usize, code: &str| {
        departement.schools[school].groups.iter().any(|g| g.code == code && g.class.is_some())
    };

    // (school, subject) -> teachers in index order, each with how many groups they hold.
    let mut holders: BTreeMap<(usize, &'static str), Vec<(usize, usize)>> = BTreeMap::new();
    for (teacher, list) in teachings.iter().enumerate() {
        for (school, code, subject) in list {
            if half_class(*school, code) {
                continue;
            }
            let entry = holders.entry((*school, subject)).or_default();
            match entry.iter_mut().find(|(t, _)| *t == teacher) {
                Some((_, count)) => *count += 1,
                None => entry.push((teacher, 1)),
            }
        }
    }

    for ((school, subject), teachers) in holders {
        if teachers.len() < 2 {
            continue;
        }
        let mut groups: Vec<(usize, String)> = departement.schools[school]
            .groups
            .iter()
            .filter(|g| g.class.is_none() && g.subject.code == subject)
            .map(|g| (g.level, g.code.clone()))
            .collect();
        groups.sort();
        for (teacher, _) in &teachers {
            teachings[*teacher].retain(|(s, code, subj)| {
                !(*s == school && *subj == subject && !half_class(*s, code))
            });
        }
        let mut left: Vec<usize> = teachers.iter().map(|(_, count)| *count).collect();
        let mut next = 0;
        for (_, code) in groups {
            for _ in 0..teachers.len() {
                let turn = next % teachers.len();
                next += 1;
                if left[turn] > 0 {
                    left[turn] -= 1;
                    teachings[teachers[turn].0].push((school, code, subject));
                    break;
                }
            }
        }
    }
    teachings
}

/// A part of a unit: one subject for some classes or groups, with its teacher and room.
#[derive(Debug, Clone)]
struct Member {
    subject: SubjectInfo,
    teacher: Option<usize>,
    classes: Vec<String>,
    groups: Vec<String>,
    room: RoomWish,
    /// For the half-classes of a unit held every week: the week this one runs.
    week: Option<u8>,
}

#[derive(Debug, Clone)]
enum RoomWish {
    /// The class's own room.
    Home(String),
    /// A room of this kind (the first free one of its kind).
    Special(&'static str),
}

/// What is placed at once: members at the same time, making some classes busy.
#[derive(Debug, Clone)]
struct Unit {
    school: usize,
    places: u16,
    /// Held one week in two (A or B, chosen when placed).
    alternating: bool,
    busy_classes: Vec<String>,
    members: Vec<Member>,
    /// Placed first: level blocks and half-classes, then teachers of several collèges.
    priority: u8,
}

/// A lesson's claim on a teacher.
#[derive(Debug, Clone, Copy)]
struct Busy {
    weekday: u8,
    start: u16,
    end: u16,
    weeks: u8,
    school: usize,
}

/// Plans every collège's week.
pub fn plan(departement: &Departement, travel: &TravelPolicy, seed: u64) -> DemoTimetables {
    let mut rng = DemoRng::new(seed ^ 0x454D_504C_4F49_5344);
    let teachings = group_teachings(departement);
    let mut units = Vec::new();
    for school in 0..departement.schools.len() {
        units.extend(school_units(departement, &teachings, school));
    }
    let multi_school = |unit: &Unit| {
        unit.members
            .iter()
            .any(|m| m.teacher.is_some_and(|t| departement.staff[t].schools.len() > 1))
    };
    let mut keyed: Vec<(u8, u8, u64, Unit)> = units
        .into_iter()
        .map(|unit| {
            let order = if unit.priority == 0 && multi_school(&unit) { 1 } else { unit.priority };
            (order, 0u8, rng.next_u64(), unit)
        })
        .collect();
    keyed.sort_by_key(|(order, alternating, draw, _)| (*order, *alternating, *draw));

    let places: Vec<(f64, f64)> =
        departement.schools.iter().map(|s| (s.town.latitude, s.town.longitude)).collect();
    let units: Vec<Unit> = keyed.into_iter().map(|(_, _, _, unit)| unit).collect();
    let travel_minutes = places
        .iter()
        .map(|from| {
            places
                .iter()
                .map(|to| {
                    let minutes = travel.transfer_minutes(Some(*from), Some(*to));
                    u16::try_from(minutes).unwrap_or(u16::MAX)
                })
                .collect()
        })
        .collect();
    let mut planner = Planner {
        travel: travel_minutes,
        placements: vec![None; units.len()],
        units,
        teachers: vec![Vec::new(); departement.staff.len()],
        classes: HashMap::new(),
        rooms: HashMap::new(),
        subject_days: HashMap::new(),
    };
    let mut left = Vec::new();
    for index in 0..planner.units.len() {
        if !planner.place(index, &mut rng) && !planner.place_by_moving_others(index, &mut rng) {
            left.push(index);
        }
    }
    // The others moved since: a second chance.
    let mut unplaced = 0;
    for index in left {
        if !planner.place(index, &mut rng) && !planner.place_by_moving_others(index, &mut rng) {
            unplaced += planner.units[index].members.len();
        }
    }

    let mut lessons = planner.lessons();
    lessons.sort_by(|a, b| {
        (a.school, a.weekday, a.first_place, &a.classes, &a.groups, a.alternation).cmp(&(
            b.school,
            b.weekday,
            b.first_place,
            &b.classes,
            &b.groups,
            b.alternation,
        ))
    });
    DemoTimetables { lessons, unplaced }
}

/// One collège's plan as the model its timetable software would export: its grid, teachers
/// (with their AAF ids and names), classes, groups (the half-classes of 6e as parts of their
/// class), rooms, subjects and weekly courses. In week `cancelled_week`, one course in forty
/// is cancelled (a teacher away), so that the demo shows changes.
pub fn synthetic(
    departement: &Departement,
    plan: &DemoTimetables,
    calendar: &DemoCalendar,
    school: usize,
    cancelled_week: Option<u8>,
) -> SyntheticTimetable {
    let places = PLACES
        .iter()
        .zip(1u16..)
        .map(|((start, end), number)| {
            (number, LessonTime { start_minute: *start, end_minute: *end })
        })
        .collect();
    let mut model =
        SyntheticTimetable::new(calendar.year.first_monday, calendar.year.last_day, places);
    let info = &departement.schools[school];

    let mut classes = HashMap::new();
    for class in info.classes.iter().flatten() {
        classes.insert(class.clone(), model.add_class(class));
    }
    let mut groups = HashMap::new();
    for group in &info.groups {
        let owner = match &group.class {
            Some(class) => class.clone(),
            None => info.classes[group.level].first().cloned().unwrap_or_default(),
        };
        let Some(&class) = classes.get(&owner) else { continue };
        let index = model.add_group(&group.code, class, group.class.is_some());
        groups.insert(group.code.clone(), index);
    }

    let mut teachers = HashMap::new();
    let mut rooms = HashMap::new();
    let mut subjects = HashMap::new();
    for (rank, lesson) in plan.of_school(school).enumerate() {
        let teacher = lesson.teacher.map(|t| {
            *teachers.entry(t).or_insert_with(|| {
                let person = &departement.staff[t];
                let id = format!("P{}", person.id);
                model.add_teacher(&id, Some(&person.id), &person.surname, &person.first_name)
            })
        });
        let room =
            *rooms.entry(lesson.room.clone()).or_insert_with(|| model.add_room(&lesson.room));
        let subject = *subjects
            .entry(lesson.subject.code)
            .or_insert_with(|| model.add_subject(lesson.subject.code, lesson.subject.label));
        let weeks = calendar.weeks_of(lesson.alternation);
        let cancelled_weeks = match cancelled_week {
            Some(week) if rank % 40 == 7 && weeks.contains(week) => WeekSet::from_weeks([week]),
            _ => WeekSet::EMPTY,
        };
        model.add_course(SyntheticCourse {
            weekday: lesson.weekday,
            first_place: lesson.first_place,
            place_count: lesson.places,
            weeks,
            cancelled_weeks,
            subject,
            teachers: teacher.into_iter().collect(),
            classes: lesson.classes.iter().filter_map(|c| classes.get(c).copied()).collect(),
            groups: lesson.groups.iter().filter_map(|g| groups.get(g).copied()).collect(),
            rooms: vec![room],
        });
    }
    model
}

/// The teacher of each (class or group, subject) of a collège.
fn teachers_of(
    departement: &Departement,
    teachings: &[Vec<(usize, String, &'static str)>],
    school: usize,
) -> HashMap<(String, &'static str), usize> {
    let mut found = HashMap::new();
    for (index, person) in departement.staff.iter().enumerate() {
        for (s, code, subject) in person.class_teachings.iter().chain(teachings[index].iter()) {
            if *s == school {
                found.entry((code.clone(), *subject)).or_insert(index);
            }
        }
    }
    found
}

/// The room kind of a subject taught to a whole class.
fn special_room(subject: &SubjectInfo) -> Option<&'static str> {
    match subject.code {
        "062900" => Some("Laboratoire SVT"),
        "062300" => Some("Laboratoire physique-chimie"),
        "070800" => Some("Salle de technologie"),
        "100100" => Some("Gymnase"),
        "081300" => Some("Salle de musique"),
        "090100" => Some("Salle d'arts plastiques"),
        _ => None,
    }
}

/// The units of one collège: level blocks of LV2 and Latin groups, the half-classes of 6e in
/// technology, and every class's subjects (two places in a row for sport).
fn school_units(
    departement: &Departement,
    teachings: &[Vec<(usize, String, &'static str)>],
    school: usize,
) -> Vec<Unit> {
    let info = &departement.schools[school];
    let teacher_of = teachers_of(departement, teachings, school);
    let mut units = Vec::new();

    for (level, classes) in info.classes.iter().enumerate() {
        let home = |rank: usize| match classes.get(rank) {
            Some(class) => RoomWish::Home(class.clone()),
            None => RoomWish::Special("Salle de langues"),
        };
        let lv2: Vec<_> = info
            .groups
            .iter()
            .filter(|g| g.level == level && g.class.is_none() && g.subject.code != LATIN.code)
            .collect();
        let latin: Vec<_> = info
            .groups
            .iter()
            .filter(|g| g.level == level && g.class.is_none() && g.subject.code == LATIN.code)
            .collect();
        for family in [lv2, latin] {
            let Some(first) = family.first() else { continue };
            let hours = first.subject.hours[level];
            // Rounds: the groups of one round have different teachers and meet together.
            let mut rounds: Vec<Vec<Member>> = Vec::new();
            for (rank, group) in family.iter().enumerate() {
                let teacher = teacher_of.get(&(group.code.clone(), group.subject.code)).copied();
                let member = Member {
                    subject: group.subject,
                    teacher,
                    classes: Vec::new(),
                    groups: vec![group.code.clone()],
                    room: home(rank),
                    week: None,
                };
                let round = rounds
                    .iter_mut()
                    .find(|round| teacher.is_none() || round.iter().all(|m| m.teacher != teacher));
                match round {
                    Some(round) => round.push(member),
                    None => rounds.push(vec![member]),
                }
            }
            for members in rounds {
                for alternating in split_hours(hours) {
                    units.push(Unit {
                        school,
                        places: 1,
                        alternating,
                        busy_classes: classes.clone(),
                        members: members.clone(),
                        priority: 0,
                    });
                }
            }
        }

        for class in classes {
            for subject in CLASS_SUBJECTS.iter().filter(|s| s.hours[level] > 0.0) {
                let teacher = teacher_of.get(&(class.clone(), subject.code)).copied();
                let room = match special_room(subject) {
                    Some(kind) => RoomWish::Special(kind),
                    None => RoomWish::Home(class.clone()),
                };
                let member = Member {
                    subject: *subject,
                    teacher,
                    classes: vec![class.clone()],
                    groups: Vec::new(),
                    room,
                    week: None,
                };
                let mut parts = split_hours(subject.hours[level]);
                // Sport in blocks of two places.
                if subject.code == "100100" {
                    let whole = parts.iter().filter(|half| !**half).count();
                    for _ in 0..whole / 2 {
                        units.push(Unit {
                            school,
                            places: 2,
                            alternating: false,
                            busy_classes: vec![class.clone()],
                            members: vec![member.clone()],
                            priority: 2,
                        });
                    }
                    parts = std::iter::repeat_n(false, whole % 2)
                        .chain(parts.into_iter().filter(|half| *half))
                        .collect();
                }
                for alternating in parts {
                    units.push(Unit {
                        school,
                        places: 1,
                        alternating,
                        busy_classes: vec![class.clone()],
                        members: vec![member.clone()],
                        priority: 2,
                    });
                }
            }

            let halves: Vec<_> =
                info.groups.iter().filter(|g| g.class.as_deref() == Some(class.as_str())).collect();
            if halves.len() == 2 {
                let members = halves
                    .iter()
                    .zip([WEEK_A, WEEK_B])
                    .map(|(group, week)| Member {
                        subject: group.subject,
                        teacher: teacher_of.get(&(group.code.clone(), group.subject.code)).copied(),
                        classes: Vec::new(),
                        groups: vec![group.code.clone()],
                        room: RoomWish::Special("Salle de technologie"),
                        week: Some(week),
                    })
                    .collect();
                units.push(Unit {
                    school,
                    places: 1,
                    alternating: false,
                    busy_classes: vec![class.clone()],
                    members,
                    priority: 0,
                });
            }
        }
    }
    units
}

/// Weekly hours as places: a whole place every week per hour, and one place every other week
/// for a half hour (`true`).
fn split_hours(hours: f32) -> Vec<bool> {
    let halves = (hours * 2.0).round() as usize;
    std::iter::repeat_n(false, halves / 2).chain(std::iter::repeat_n(true, halves % 2)).collect()
}

/// Where a unit was placed.
#[derive(Debug, Clone)]
struct Placement {
    weekday: u8,
    first: u16,
    weeks: u8,
    rooms: Vec<String>,
}

/// Which unit holds each week of each place of a week: `[weekday][place][week A, week B]`.
type Grid = [[[Option<u32>; 2]; 9]; 6];

const EMPTY_GRID: Grid = [[[None; 2]; 9]; 6];

/// The week halves of `weeks`: 0 for A, 1 for B.
fn halves(weeks: u8) -> impl Iterator<Item = usize> {
    [WEEK_A, WEEK_B].into_iter().enumerate().filter(move |(_, w)| weeks & w != 0).map(|(i, _)| i)
}

struct Planner {
    /// Minutes needed from one collège to another (by index).
    travel: Vec<Vec<u16>>,
    units: Vec<Unit>,
    placements: Vec<Option<Placement>>,
    /// Each teacher's lessons, with the unit that holds them.
    teachers: Vec<Vec<(u32, Busy)>>,
    classes: HashMap<(usize, String), Grid>,
    rooms: HashMap<(usize, String), Grid>,
    /// (school, class, subject, weekday) -> how many units of that subject that day.
    subject_days: HashMap<(usize, String, &'static str, u8), u16>,
}

impl Planner {
    /// Places a unit at its best free time; `false` when there is none.
    fn place(&mut self, index: usize, rng: &mut DemoRng) -> bool {
        let unit = &self.units[index];
        let week_choices: &[u8] = if unit.alternating { &[WEEK_A, WEEK_B] } else { &[EVERY_WEEK] };
        let mut best: Option<(i64, Placement)> = None;
        for (weekday, first) in Self::starts(unit) {
            for &weeks in week_choices {
                let Some(rooms) = self.fits(unit, weekday, first, weeks) else { continue };
                let score = self.score(unit, weekday, first, weeks) * 16
                    + i64::try_from(rng.below(12)).unwrap_or(0);
                if best.as_ref().is_none_or(|(s, _)| score < *s) {
                    best = Some((score, Placement { weekday, first, weeks, rooms }));
                }
            }
        }
        match best {
            Some((_, placement)) => {
                self.commit(index, placement);
                true
            }
            None => false,
        }
    }

    /// The (weekday, first place) a unit may start at.
    fn starts(unit: &Unit) -> Vec<(u8, u16)> {
        let mut starts = Vec::new();
        for weekday in 1..=5u8 {
            let last = if weekday == 3 { WEDNESDAY_LAST_PLACE } else { 8 };
            for first in 1..=last {
                let fits_day = first + unit.places - 1 <= last;
                if fits_day && (unit.places == 1 || first % 2 == 1) {
                    starts.push((weekday, first));
                }
            }
        }
        starts
    }

    /// When nothing is free: takes the time of one or two ordinary class lessons that are all
    /// that stands in the way, and places them again elsewhere; puts everything back if they
    /// find no other time.
    fn place_by_moving_others(&mut self, index: usize, rng: &mut DemoRng) -> bool {
        let unit = self.units[index].clone();
        let week_choices: &[u8] = if unit.alternating { &[WEEK_A, WEEK_B] } else { &[EVERY_WEEK] };
        let mut tries: Vec<(u8, u16, u8, Vec<usize>)> = Vec::new();
        for (weekday, first) in Self::starts(&unit) {
            for &weeks in week_choices {
                let mut blockers: Vec<usize> = Vec::new();
                for class in &unit.busy_classes {
                    let Some(grid) = self.classes.get(&(unit.school, class.clone())) else {
                        continue;
                    };
                    for place in Self::places_of(&unit, first) {
                        for half in halves(weeks) {
                            if let Some(owner) = grid[usize::from(weekday)][place][half] {
                                let owner = owner as usize;
                                if !blockers.contains(&owner) {
                                    blockers.push(owner);
                                }
                            }
                        }
                    }
                }
                let start = PLACES[usize::from(first - 1)].0;
                let end = PLACES[usize::from(first + unit.places - 2)].1;
                for member in &unit.members {
                    let Some(teacher) = member.teacher else { continue };
                    let member_weeks = member.week.unwrap_or(weeks);
                    for (holder, busy) in &self.teachers[teacher] {
                        let single =
                            Busy { weekday, start, end, weeks: member_weeks, school: unit.school };
                        if self.clash(busy, &single) && !blockers.contains(&(*holder as usize)) {
                            blockers.push(*holder as usize);
                        }
                    }
                }
                let movable = blockers.iter().all(|b| {
                    let other = &self.units[*b];
                    other.priority == 2 && other.busy_classes.len() == 1
                });
                if !blockers.is_empty() && blockers.len() <= 3 && movable {
                    tries.push((weekday, first, weeks, blockers));
                }
            }
        }

        for (weekday, first, weeks, blockers) in tries {
            let saved: Vec<(usize, Placement)> = blockers
                .iter()
                .filter_map(|b| self.placements[*b].clone().map(|p| (*b, p)))
                .collect();
            for (blocker, _) in &saved {
                self.uncommit(*blocker);
            }
            let Some(rooms) = self.fits(&unit, weekday, first, weeks) else {
                for (blocker, placement) in saved {
                    self.commit(blocker, placement);
                }
                continue;
            };
            self.commit(index, Placement { weekday, first, weeks, rooms });
            let mut moved = Vec::new();
            let all_moved = saved.iter().all(|(blocker, _)| {
                let ok = self.place(*blocker, rng);
                if ok {
                    moved.push(*blocker);
                }
                ok
            });
            if all_moved {
                return true;
            }
            for blocker in moved {
                self.uncommit(blocker);
            }
            self.uncommit(index);
            for (blocker, placement) in saved {
                self.commit(blocker, placement);
            }
        }
        false
    }

    fn places_of(unit: &Unit, first: u16) -> std::ops::RangeInclusive<usize> {
        usize::from(first)..=usize::from(first + unit.places - 1)
    }

    /// The rooms the unit's members would take, if everything is free then.
    fn fits(&self, unit: &Unit, weekday: u8, first: u16, weeks: u8) -> Option<Vec<String>> {
        let day = usize::from(weekday);
        let span = Self::places_of(unit, first);
        for class in &unit.busy_classes {
            if let Some(grid) = self.classes.get(&(unit.school, class.clone()))
                && span.clone().any(|place| halves(weeks).any(|h| grid[day][place][h].is_some()))
            {
                return None;
            }
        }

        let start = PLACES[usize::from(first - 1)].0;
        let end = PLACES[usize::from(first + unit.places - 2)].1;
        let mut rooms: Vec<String> = Vec::new();
        for (index, member) in unit.members.iter().enumerate() {
            let member_weeks = member.week.unwrap_or(weeks);
            if let Some(teacher) = member.teacher {
                let free =
                    self.teacher_free(teacher, weekday, start, end, member_weeks, unit.school);
                let twice = unit.members[..index].iter().any(|m| {
                    m.teacher == Some(teacher) && m.week.unwrap_or(weeks) & member_weeks != 0
                });
                if !free || twice {
                    return None;
                }
            }
            let room =
                self.free_room(unit.school, &member.room, day, span.clone(), member_weeks, &rooms)?;
            rooms.push(room);
        }
        Some(rooms)
    }

    /// Whether a teacher can be in `school` then, their other lessons and trips considered.
    fn teacher_free(
        &self,
        teacher: usize,
        weekday: u8,
        start: u16,
        end: u16,
        weeks: u8,
        school: usize,
    ) -> bool {
        let wanted = Busy { weekday, start, end, weeks, school };
        self.teachers[teacher].iter().all(|(_, busy)| !self.clash(busy, &wanted))
    }

    /// Whether one teacher cannot hold both: they overlap, or leave too little time for the trip
    /// between their collèges.
    fn clash(&self, busy: &Busy, wanted: &Busy) -> bool {
        if busy.weekday != wanted.weekday || busy.weeks & wanted.weeks == 0 {
            return false;
        }
        let (before, after) = if busy.school == wanted.school {
            (0, 0)
        } else {
            (self.travel[busy.school][wanted.school], self.travel[wanted.school][busy.school])
        };
        let apart = u32::from(wanted.start) >= u32::from(busy.end) + u32::from(before)
            || u32::from(wanted.end) + u32::from(after) <= u32::from(busy.start);
        !apart
    }

    /// A free room of the wished kind (numbered when the first ones are taken).
    fn free_room(
        &self,
        school: usize,
        wish: &RoomWish,
        day: usize,
        span: std::ops::RangeInclusive<usize>,
        weeks: u8,
        taken: &[String],
    ) -> Option<String> {
        let free = |name: &String| {
            !taken.contains(name)
                && self.rooms.get(&(school, name.clone())).is_none_or(|grid| {
                    span.clone().all(|place| halves(weeks).all(|h| grid[day][place][h].is_none()))
                })
        };
        let candidates: Vec<String> = match wish {
            RoomWish::Home(class) => vec![home_room(class)],
            RoomWish::Special(kind) => (1..=6)
                .map(|n| if n == 1 { (*kind).to_owned() } else { format!("{kind} {n}") })
                .collect(),
        };
        candidates.into_iter().find(free)
    }

    /// Lower is better: a subject once a day, compact days, few late places, days the teachers
    /// already spend in that collège.
    fn score(&self, unit: &Unit, weekday: u8, first: u16, weeks: u8) -> i64 {
        let day = usize::from(weekday);
        let mut score = match first {
            1 => 1,
            7 => 3,
            8 => 6,
            _ => 0,
        };
        for class in &unit.busy_classes {
            let grid = self.classes.get(&(unit.school, class.clone()));
            let used =
                |place: usize| grid.is_some_and(|g| g[day][place].iter().any(Option::is_some));
            let day_load = (1..=8).filter(|p| used(*p)).count() as i64;
            score += day_load;
            let before = usize::from(first) - 1;
            let after = usize::from(first + unit.places);
            let touching = (before >= 1 && used(before)) || (after <= 8 && used(after));
            if !touching && day_load > 0 {
                score += 3;
            }
            // The other week of a place already used one week in two: fills a gap.
            if weeks != EVERY_WEEK && used(usize::from(first)) {
                score -= 6;
            }
            for member in &unit.members {
                let key = (unit.school, class.clone(), member.subject.code, weekday);
                if self.subject_days.get(&key).is_some_and(|count| *count > 0) {
                    score += 20;
                }
            }
        }
        for member in &unit.members {
            if let Some(teacher) = member.teacher {
                let busy = &self.teachers[teacher];
                let that_day = busy.iter().filter(|(_, b)| b.weekday == weekday).count();
                if that_day == 0 && !busy.is_empty() {
                    score += 2;
                }
            }
        }
        score
    }

    fn commit(&mut self, index: usize, placement: Placement) {
        self.mark(index, &placement, true);
        self.placements[index] = Some(placement);
    }

    fn uncommit(&mut self, index: usize) {
        if let Some(placement) = self.placements[index].take() {
            self.mark(index, &placement, false);
        }
    }

    /// Writes (or erases) a placement into the grids, the teachers' days and the counts.
    fn mark(&mut self, index: usize, placement: &Placement, set: bool) {
        let unit = self.units[index].clone();
        let owner = u32::try_from(index).ok().filter(|_| set);
        let day = usize::from(placement.weekday);
        let span = Self::places_of(&unit, placement.first);
        for class in &unit.busy_classes {
            let grid = self.classes.entry((unit.school, class.clone())).or_insert(EMPTY_GRID);
            for place in span.clone() {
                for half in halves(placement.weeks) {
                    grid[day][place][half] = owner;
                }
            }
        }
        let start = PLACES[usize::from(placement.first - 1)].0;
        let end = PLACES[usize::from(placement.first + unit.places - 2)].1;
        for (member, room) in unit.members.iter().zip(&placement.rooms) {
            let member_weeks = member.week.unwrap_or(placement.weeks);
            let grid = self.rooms.entry((unit.school, room.clone())).or_insert(EMPTY_GRID);
            for place in span.clone() {
                for half in halves(member_weeks) {
                    grid[day][place][half] = owner;
                }
            }
            if let Some(teacher) = member.teacher {
                let id = u32::try_from(index).unwrap_or(u32::MAX);
                let busy = &mut self.teachers[teacher];
                if set {
                    let weekday = placement.weekday;
                    let school = unit.school;
                    busy.push((id, Busy { weekday, start, end, weeks: member_weeks, school }));
                } else {
                    busy.retain(|(holder, _)| *holder != id);
                }
            }
            for class in &unit.busy_classes {
                let key = (unit.school, class.clone(), member.subject.code, placement.weekday);
                let count = self.subject_days.entry(key).or_default();
                *count = if set { *count + 1 } else { count.saturating_sub(1) };
            }
        }
    }

    /// The placed units as lessons.
    fn lessons(&self) -> Vec<PlannedLesson> {
        let mut lessons = Vec::new();
        for (unit, placement) in self.units.iter().zip(&self.placements) {
            let Some(placement) = placement else { continue };
            for (member, room) in unit.members.iter().zip(&placement.rooms) {
                lessons.push(PlannedLesson {
                    school: unit.school,
                    subject: member.subject,
                    teacher: member.teacher,
                    classes: member.classes.clone(),
                    groups: member.groups.clone(),
                    room: room.clone(),
                    weekday: placement.weekday,
                    first_place: placement.first,
                    places: unit.places,
                    alternation: member.week.unwrap_or(placement.weeks),
                });
            }
        }
        lessons
    }
}

/// The room of a class: `Salle 104` for 6D (the level's floor, then the letter).
fn home_room(class: &str) -> String {
    let mut chars = class.chars();
    let floor = match chars.next() {
        Some('6') => 1,
        Some('5') => 2,
        Some('4') => 3,
        _ => 4,
    };
    let letter = chars.next().map_or(0, |c| u32::from(c).saturating_sub(u32::from('A')));
    format!("Salle {}", floor * 100 + 1 + letter)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use super::*;
    use crate::demo::model::{DemoSize, SimpleDate, generate};

    fn departement(schools: usize, people: usize, seed: u64) -> Departement {
        generate(&DemoSize {
            schools,
            people,
            seed,
            export_date: SimpleDate { year: 2026, month: 12, day: 4 },
            departement_code: "86".to_owned(),
        })
    }

    /// Every (weekday, place, week) a lesson takes.
    fn cells(lesson: &PlannedLesson) -> Vec<(u8, u16, u8)> {
        let mut found = Vec::new();
        for place in lesson.first_place..lesson.first_place + lesson.places {
            for week in [WEEK_A, WEEK_B] {
                if lesson.alternation & week != 0 {
                    found.push((lesson.weekday, place, week));
                }
            }
        }
        found
    }

    #[test]
    fn the_default_demo_places_nearly_every_lesson_and_gives_classes_about_26_hours() {
        for (schools, people) in [(34, 46_000), (4, 3_000)] {
            let departement = departement(schools, people, 2026);
            let plan = plan(&departement, &TravelPolicy::default(), 2026);
            // A few lessons of the largest collèges may find no time: at most one in 500.
            let unplaced = plan.unplaced * 500;
            assert!(unplaced <= plan.lessons.len(), "{schools} collèges: {}", plan.unplaced);
            for (index, school) in departement.schools.iter().enumerate() {
                for class in school.classes.iter().flatten() {
                    let halves: usize = plan
                        .of_school(index)
                        .filter(|l| l.classes.contains(class))
                        .map(|l| usize::from(l.places) * if l.alternation == 3 { 2 } else { 1 })
                        .sum();
                    let hours = halves as f32 / 2.0;
                    assert!((21.0..=26.0).contains(&hours), "{class}: {hours} h of class lessons");
                }
            }
        }
    }

    #[test]
    fn nobody_and_no_room_is_in_two_places_at_once_and_trips_fit() {
        let departement = departement(34, 46_000, 2026);
        let travel = TravelPolicy::default();
        let plan = plan(&departement, &travel, 2026);

        let mut rooms = HashSet::new();
        for lesson in &plan.lessons {
            for cell in cells(lesson) {
                assert!(rooms.insert((lesson.school, lesson.room.clone(), cell)), "{lesson:?}");
            }
            assert!(lesson.weekday != 3 || lesson.first_place + lesson.places - 1 <= 4);
            let time = lesson.time();
            assert!(time.start_minute >= 480 && time.end_minute <= 1050, "{lesson:?}");
        }

        for pupil in departement.pupils.iter().step_by(7) {
            let mut taken = HashSet::new();
            for lesson in plan.of_school(pupil.school) {
                let mine = lesson.classes.contains(&pupil.class)
                    || lesson.groups.iter().any(|g| pupil.groups.contains(g));
                if mine {
                    for cell in cells(lesson) {
                        assert!(taken.insert(cell), "pupil {} twice at {cell:?}", pupil.id);
                    }
                }
            }
        }

        let mut by_teacher: HashMap<usize, Vec<&PlannedLesson>> = HashMap::new();
        for lesson in &plan.lessons {
            if let Some(teacher) = lesson.teacher {
                by_teacher.entry(teacher).or_default().push(lesson);
            }
        }
        let place = |school: usize| {
            let town = departement.schools[school].town;
            Some((town.latitude, town.longitude))
        };
        let mut shared = 0;
        for (teacher, lessons) in &by_teacher {
            let schools: BTreeSet<usize> = lessons.iter().map(|l| l.school).collect();
            shared += usize::from(schools.len() > 1);
            for (i, a) in lessons.iter().enumerate() {
                for b in &lessons[i + 1..] {
                    if a.weekday != b.weekday || a.alternation & b.alternation == 0 {
                        continue;
                    }
                    let (ta, tb) = (a.time(), b.time());
                    let gap = if a.school == b.school {
                        0
                    } else {
                        travel.transfer_minutes(place(a.school), place(b.school))
                    };
                    let apart = u32::from(tb.start_minute) >= u32::from(ta.end_minute) + gap
                        || u32::from(ta.start_minute) >= u32::from(tb.end_minute) + gap;
                    assert!(apart, "teacher {teacher}: {a:?} and {b:?} ({gap} min of trip)");
                }
            }
        }
        assert!(shared >= 20, "{shared} teachers with lessons in several collèges");
    }

    #[test]
    fn the_showcase_teachers_merged_week_has_no_conflict_on_real_dates() {
        let departement = departement(4, 3_000, 7);
        let travel = TravelPolicy::default();
        let plan = plan(&departement, &travel, 7);
        let teacher = departement.showcase.teacher;
        let calendar = DemoCalendar::around(Date::new(2026, 12, 4).unwrap());
        let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        let mine: Vec<&PlannedLesson> =
            plan.lessons.iter().filter(|l| l.teacher == Some(teacher)).collect();
        let schools: BTreeSet<usize> = mine.iter().map(|l| l.school).collect();
        assert!(schools.len() >= 2, "the showcase teacher teaches in {schools:?}");

        for week in [calendar.week_a, calendar.week_b] {
            let number = week.iter().nth(10).unwrap();
            let mut spans = Vec::new();
            for lesson in &mine {
                if !calendar.weeks_of(lesson.alternation).contains(number) {
                    continue;
                }
                let date = calendar.year.date_of(number, lesson.weekday).unwrap();
                let (start, end) = lesson.time().instants(date, &zone);
                let town = departement.schools[lesson.school].town;
                spans.push(domain::timetable::Span {
                    key: format!("{lesson:?}"),
                    school_id: lesson.school.to_string(),
                    start,
                    end,
                    place: Some((town.latitude, town.longitude)),
                });
            }
            assert!(spans.len() >= 10, "{} lessons in week {number}", spans.len());
            assert_eq!(domain::timetable::conflicts(&spans, &travel), vec![]);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_timetables() {
        let departement = departement(4, 3_000, 7);
        let describe = |seed: u64| -> Vec<String> {
            plan(&departement, &TravelPolicy::default(), seed)
                .lessons
                .iter()
                .map(|l| format!("{l:?}"))
                .collect()
        };
        assert_eq!(describe(7), describe(7));
        assert_ne!(describe(7), describe(8));
    }

    #[test]
    fn groups_are_dealt_without_changing_anyones_share() {
        let departement = departement(34, 46_000, 2026);
        let dealt = group_teachings(&departement);
        for (person, groups) in departement.staff.iter().zip(&dealt) {
            assert_eq!(person.group_teachings.len(), groups.len(), "{}", person.id);
        }
        let before: BTreeSet<_> =
            departement.staff.iter().flat_map(|p| p.group_teachings.clone()).collect();
        let after: BTreeSet<_> = dealt.into_iter().flatten().collect();
        assert_eq!(before, after, "every group keeps one teacher");
    }

    #[test]
    fn the_year_leaves_the_holidays_out_and_alternates_weeks() {
        let calendar = DemoCalendar::around(Date::new(2026, 12, 4).unwrap());
        assert_eq!(calendar.year.first_monday, Date::new(2026, 8, 31).unwrap());
        let christmas = calendar.year.week_of(Date::new(2026, 12, 25).unwrap()).unwrap();
        assert!(!calendar.weeks.contains(christmas) && !calendar.weeks.contains(christmas + 1));
        assert!(calendar.weeks.contains(1) && calendar.week_a.contains(1));
        assert_eq!(calendar.week_a.union(calendar.week_b), calendar.weeks);
        assert_eq!(calendar.week_a.0 & calendar.week_b.0, 0);
        let count = calendar.weeks.iter().count();
        assert!((34..=38).contains(&count), "{count} weeks of lessons");
    }
}

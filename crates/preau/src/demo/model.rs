//! The demo département in memory: collèges in real towns, their classes and groups, families
//! of pupils and legal guardians (siblings sometimes in different collèges), teachers whose
//! service is completed in a second or third collège, and each collège's staff. Everything is
//! drawn from a small deterministic generator seeded by `--seed`, so the same seed always gives
//! the same département. Writing it out as AAF is `aaf_writer`'s business.

use crate::demo::names::{
    FEMALE_FIRST_NAMES, LONG_SURNAME, MALE_FIRST_NAMES, OTHER_SCRIPT_NAMES, SHOWCASE_HEAD,
    SHOWCASE_PARENT, SHOWCASE_PUPIL, SHOWCASE_SIBLING, SHOWCASE_TEACHER, SURNAMES,
};
use crate::demo::towns::{SCHOOL_NAMES, SCHOOL_TOWNS, TOWNS, Town};

/// A small, fast and stable pseudo-random generator (SplitMix64): the demo must give the same
/// département for the same seed whatever the version of any crate.
#[derive(Debug, Clone)]
pub struct DemoRng(u64);

impl DemoRng {
    pub fn new(seed: u64) -> DemoRng {
        DemoRng(seed ^ 0x5052_4541_5544_454D)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n.max(1) as u64;
        usize::try_from(self.next_u64() % n).unwrap_or(0)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A calendar date as AAF writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SimpleDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl SimpleDate {
    /// `dd/MM/yyyy`.
    pub fn aaf(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `YYYYMMDD`, as in file names.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoSize {
    pub schools: usize,
    pub people: usize,
    pub seed: u64,
    /// The export date; the school year starts on the 1st of September before it.
    pub export_date: SimpleDate,
    pub departement_code: String,
}

/// A national subject taught in collège: code, AAF label, discipline code and label of the
/// teachers who teach it, weekly hours per class from 6e to 3e.
#[derive(Debug, Clone, Copy)]
pub struct SubjectInfo {
    pub code: &'static str,
    pub label: &'static str,
    pub discipline: &'static str,
    pub discipline_label: &'static str,
    pub hours: [f32; 4],
}

const fn subject(
    code: &'static str,
    label: &'static str,
    discipline: &'static str,
    discipline_label: &'static str,
    hours: [f32; 4],
) -> SubjectInfo {
    SubjectInfo { code, label, discipline, discipline_label, hours }
}

/// The subjects taught to whole classes.
pub const CLASS_SUBJECTS: [SubjectInfo; 10] = [
    subject("020700", "FRANCAIS", "L0202", "LETTRES MODERNES", [4.5, 4.5, 4.5, 4.0]),
    subject("061300", "MATHEMATIQUES", "L1300", "MATHEMATIQUES", [4.5, 3.5, 3.5, 3.5]),
    subject("030201", "ANGLAIS LV1", "L0422", "ANGLAIS", [4.0, 3.0, 3.0, 3.0]),
    subject(
        "042100",
        "HISTOIRE-GEOGRAPHIE-EDUCATION CIVIQUE",
        "L1000",
        "HIST. GEOGRAPHIE",
        [3.0, 3.0, 3.0, 3.5],
    ),
    subject(
        "062900",
        "SCIENCES DE LA VIE ET DE LA TERRE",
        "L1600",
        "SC. VIE & TERRE",
        [1.5, 1.5, 1.5, 1.5],
    ),
    subject("062300", "PHYSIQUE-CHIMIE", "L1500", "PHYSIQUE CHIMIE", [0.0, 1.5, 1.5, 1.5]),
    subject("070800", "TECHNOLOGIE", "L1400", "TECHNOLOGIE", [1.5, 1.5, 1.5, 1.5]),
    subject("100100", "EDUCATION PHYSIQUE ET SPORTIVE", "L1900", "E. P. S", [4.0, 3.0, 3.0, 3.0]),
    subject("081300", "EDUCATION MUSICALE", "L1700", "EDUCATION MUSICALE", [1.0, 1.0, 1.0, 1.0]),
    subject("090100", "ARTS PLASTIQUES", "L1800", "ARTS PLASTIQUES", [1.0, 1.0, 1.0, 1.0]),
];

/// The second modern languages, taught to groups from 5e.
pub const LV2_SUBJECTS: [SubjectInfo; 2] = [
    subject("030602", "ESPAGNOL LV2", "L0426", "ESPAGNOL", [0.0, 2.5, 2.5, 2.5]),
    subject("030102", "ALLEMAND LV2", "L0421", "ALLEMAND", [0.0, 2.5, 2.5, 2.5]),
];

/// Latin, an option taught to groups from 5e by a French teacher.
pub const LATIN: SubjectInfo =
    subject("020100", "LATIN", "L0201", "LETTRES CLASSIQUES", [0.0, 1.0, 2.0, 2.0]);

/// Other national subjects the subject file lists.
pub const OTHER_SUBJECTS: [(&str, &str); 4] = [
    ("009800", "ACCCOMPAGN.EDUCATIF- AIDE DEVOIRS LECONS"),
    ("030101", "ALLEMAND LV1"),
    ("275700", "HISTOIRE DES ARTS"),
    ("001400", "VIE DE CLASSE"),
];

/// The collège MEF levels: code, label, level, from 6e to 3e.
pub const MEFS: [(&str, &str, &str); 4] = [
    ("10010012110", "6EME", "6EME"),
    ("10110001110", "5EME", "5EME"),
    ("10210001110", "4EME", "4EME"),
    ("10310019110", "3EME", "3EME"),
];

/// The level digits of class codes, from 6e to 3e.
pub const LEVEL_DIGITS: [char; 4] = ['6', '5', '4', '3'];

/// Weekly hours above which a teacher's service is full.
const FULL_SERVICE: f32 = 18.0;

#[derive(Debug, Clone)]
pub struct School {
    pub jointure: String,
    pub uai: String,
    pub name: String,
    pub town: Town,
    pub street: String,
    pub siret: String,
    /// Classes by level (6e first).
    pub classes: Vec<Vec<String>>,
    /// Group code, subject, level, and the classes its pupils come from.
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub code: String,
    pub subject: SubjectInfo,
    pub level: usize,
    /// For a half-class group, its class.
    pub class: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
}

#[derive(Debug, Clone)]
pub struct Pupil {
    pub id: String,
    pub school: usize,
    pub level: usize,
    pub class: String,
    pub groups: Vec<String>,
    pub surname: String,
    pub first_name: String,
    pub female: bool,
    pub birth: SimpleDate,
    pub ine: String,
    /// Relative index, kinship code, financial, legal (0/1/2), contact, payment.
    pub relatives: Vec<RelativeLink>,
    pub address: Address,
}

#[derive(Debug, Clone)]
pub struct RelativeLink {
    pub relative: usize,
    pub kinship: &'static str,
    pub financial: bool,
    pub legal: u8,
    pub contact: bool,
}

#[derive(Debug, Clone)]
pub struct Relative {
    pub id: String,
    pub surname: String,
    pub first_name: String,
    pub female: bool,
    pub pupils: Vec<usize>,
    pub address: Address,
    pub mobile: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub school: usize,
    pub code: &'static str,
    pub label: &'static str,
    pub discipline: &'static str,
    pub discipline_label: &'static str,
}

#[derive(Debug, Clone)]
pub struct Staff {
    pub id: String,
    pub surname: String,
    pub first_name: String,
    pub female: bool,
    pub birth: SimpleDate,
    pub schools: Vec<usize>,
    pub functions: Vec<Function>,
    /// School, class code, subject code.
    pub class_teachings: Vec<(usize, String, &'static str)>,
    pub group_teachings: Vec<(usize, String, &'static str)>,
    pub principal_of: Vec<(usize, String)>,
    /// Weekly hours, for the allocation only.
    hours: f32,
}

impl Staff {
    pub fn is_teacher(&self) -> bool {
        self.functions.iter().any(|f| f.code == "ENS")
    }
}

/// Who the demo prints, by index.
#[derive(Debug, Clone, Default)]
pub struct Showcase {
    pub pupil: usize,
    pub sibling: usize,
    pub parent: usize,
    pub teacher: usize,
    pub head: usize,
}

/// The whole département.
#[derive(Debug, Clone)]
pub struct Departement {
    pub schools: Vec<School>,
    pub pupils: Vec<Pupil>,
    pub relatives: Vec<Relative>,
    pub staff: Vec<Staff>,
    pub showcase: Showcase,
    pub school_year_start: SimpleDate,
}

impl Departement {
    /// The number of people of every kind.
    pub fn people(&self) -> usize {
        self.pupils.len() + self.relatives.len() + self.staff.len()
    }
}

/// Builds a département of about `size.people` people in `size.schools` collèges.
pub fn generate(size: &DemoSize) -> Departement {
    let mut rng = DemoRng::new(size.seed);
    let n_schools = size.schools.max(1);
    let year =
        if size.export_date.month >= 9 { size.export_date.year } else { size.export_date.year - 1 };
    let school_year_start = SimpleDate { year, month: 9, day: 1 };

    let mut schools: Vec<School> =
        (0..n_schools).map(|index| make_school(index, size, &mut rng)).collect();

    // About 2.15 people per pupil: the pupil, 1.07 distinct relatives, teachers and staff.
    let staff_estimate = 5 * n_schools;
    let pupils_total = (size.people.saturating_sub(staff_estimate) as f64 / 2.15).round() as usize;
    let weights: Vec<f64> = (0..n_schools).map(|_| 0.7 + rng.below(60) as f64 / 100.0).collect();
    let weight_sum: f64 = weights.iter().sum();
    let targets: Vec<usize> =
        weights.iter().map(|w| ((pupils_total as f64) * w / weight_sum).round() as usize).collect();

    let mut builder = FamilyBuilder {
        rng: &mut rng,
        pupils: Vec::new(),
        relatives: Vec::new(),
        school_year_start,
        n_schools,
        next_mobile: 0,
    };
    let showcase_family = builder.showcase_family(&schools);
    for (school, &target) in targets.iter().enumerate() {
        let mut count = builder.pupils.iter().filter(|p| p.school == school).count();
        while count < target {
            count += builder.family(school, &schools);
        }
    }
    let FamilyBuilder { pupils: mut all_pupils, relatives, .. } = builder;
    if let Some(last) = all_pupils.iter_mut().rev().find(|p| p.relatives.len() == 1) {
        last.surname = LONG_SURNAME.to_owned();
    }

    form_classes(&mut schools, &mut all_pupils, &mut rng);
    let mut staff = allocate_teachers(&schools, &mut rng);
    let teacher = showcase_teacher(&mut staff, n_schools, &all_pupils[showcase_family.0]);
    let head = add_school_staff(&mut staff, &schools, &all_pupils, &mut rng);
    for (index, person) in staff.iter_mut().enumerate() {
        person.id = format!("{}", 3_000_000 + index);
    }

    Departement {
        schools,
        pupils: all_pupils,
        relatives,
        staff,
        showcase: Showcase {
            pupil: showcase_family.0,
            sibling: showcase_family.1,
            parent: showcase_family.2,
            teacher,
            head,
        },
        school_year_start,
    }
}

/// A plausible UAI: the département's three digits, four digits, and the check letter.
pub fn uai(departement_code: &str, number: u32) -> String {
    const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    let departement: u32 = departement_code.parse().unwrap_or(86) % 1000;
    let digits = departement * 10_000 + number % 10_000;
    let letter = char::from(LETTERS[(digits % 23) as usize]);
    format!("{digits:07}{letter}")
}

fn make_school(index: usize, size: &DemoSize, rng: &mut DemoRng) -> School {
    let town = TOWNS[SCHOOL_TOWNS[index % SCHOOL_TOWNS.len()]];
    let round = index / SCHOOL_TOWNS.len();
    let base_name = SCHOOL_NAMES[(index + size.seed as usize) % SCHOOL_NAMES.len()];
    let name = if round == 0 {
        format!("Collège {base_name}")
    } else {
        format!("Collège {base_name} {}", round + 1)
    };
    let offset = (size.seed % 10_000) as u32;
    let number = (offset + index as u32 * 211) % 10_000;
    School {
        jointure: format!("{}", 86_001 + index),
        uai: uai(&size.departement_code, number),
        name,
        town,
        street: format!("{} {}", 1 + rng.below(120), rng.pick(&STREETS)),
        siret: format!("{:014}", 19_860_000_000_000u64 + index as u64 * 1_013),
        classes: Vec::new(),
        groups: Vec::new(),
    }
}

const STREETS: [&str; 16] = [
    "rue des Écoles",
    "avenue de la République",
    "rue Jean Jaurès",
    "rue du Moulin",
    "allée des Tilleuls",
    "rue de l'Église",
    "chemin des Vignes",
    "rue Victor Hugo",
    "place du Marché",
    "rue de la Gare",
    "impasse des Lilas",
    "rue du Clain",
    "boulevard Pasteur",
    "rue Saint-Martin",
    "route de Limoges",
    "rue d'Aquitaine",
];

struct FamilyBuilder<'a> {
    rng: &'a mut DemoRng,
    pupils: Vec<Pupil>,
    relatives: Vec<Relative>,
    school_year_start: SimpleDate,
    n_schools: usize,
    next_mobile: u32,
}

impl FamilyBuilder<'_> {
    /// One family whose children go to `school` (a sibling sometimes to a neighbouring
    /// collège); returns how many of its children go to `school`.
    fn family(&mut self, school: usize, schools: &[School]) -> usize {
        let n_children = match self.rng.below(100) {
            0..=61 => 1,
            62..=91 => 2,
            _ => 3,
        };
        let other_script = self.rng.chance(0.003);
        let (surname, mother_surname, father_first, mother_first) = if other_script {
            let (surname, first) = *self.rng.pick(&OTHER_SCRIPT_NAMES);
            (surname.to_owned(), surname.to_owned(), first.to_owned(), first.to_owned())
        } else {
            let surname = self.rng.pick(&SURNAMES).to_string();
            let mother_surname = if self.rng.chance(0.35) {
                self.rng.pick(&SURNAMES).to_string()
            } else {
                surname.clone()
            };
            let father = self.rng.pick(&MALE_FIRST_NAMES[20..]).to_string();
            let mother = self.rng.pick(&FEMALE_FIRST_NAMES[20..]).to_string();
            (surname, mother_surname, father, mother)
        };
        let child_surname = if !other_script && mother_surname != surname && self.rng.chance(0.2) {
            format!("{surname}-{mother_surname}")
        } else {
            surname.clone()
        };

        let address = self.address(&schools[school].town);
        let guardians = self.guardians(&surname, &mother_surname, &father_first, &mother_first);
        let guardian_ids: Vec<(usize, &'static str, u8)> = guardians
            .into_iter()
            .map(|(relative, kinship, legal)| {
                let index = self.relatives.len();
                self.relatives.push(Relative { address: address.clone(), ..relative });
                (index, kinship, legal)
            })
            .collect();

        let mut levels: Vec<usize> = (0..4).collect();
        let mut in_school = 0;
        for child in 0..n_children {
            let level = levels.remove(self.rng.below(levels.len()));
            let child_school = if child > 0 && self.n_schools > 1 && self.rng.chance(0.15) {
                (school + 1) % self.n_schools
            } else {
                in_school += 1;
                school
            };
            let female = self.rng.chance(0.5);
            let first_name = if other_script {
                OTHER_SCRIPT_NAMES[self.rng.below(OTHER_SCRIPT_NAMES.len())].1.to_owned()
            } else if female {
                self.rng.pick(&FEMALE_FIRST_NAMES[..48]).to_string()
            } else {
                self.rng.pick(&MALE_FIRST_NAMES[..48]).to_string()
            };
            self.push_pupil(
                child_school,
                level,
                child_surname.clone(),
                first_name,
                female,
                &guardian_ids,
                &address,
            );
        }
        in_school
    }

    /// The family printed by the demo: a pupil in the first collège, a sibling in the second,
    /// and their mother, legal guardian of both. Returns (pupil, sibling, parent).
    fn showcase_family(&mut self, schools: &[School]) -> (usize, usize, usize) {
        let address = self.address(&schools[0].town);
        let parent = self.relatives.len();
        let mobile = self.mobile();
        self.relatives.push(Relative {
            id: String::new(),
            surname: SHOWCASE_PARENT.0.to_owned(),
            first_name: SHOWCASE_PARENT.1.to_owned(),
            female: true,
            pupils: Vec::new(),
            address: address.clone(),
            mobile: Some(mobile),
            email: Some("helene.lesage-ollivier@example.org".to_owned()),
        });
        self.relatives[parent].id = format!("{}", 4_000_000 + parent);
        let guardians = [(parent, "20", 1u8)];
        let pupil = self.pupils.len();
        self.push_pupil(
            0,
            2,
            SHOWCASE_PUPIL.0.to_owned(),
            SHOWCASE_PUPIL.1.to_owned(),
            true,
            &guardians,
            &address,
        );
        let sibling = self.pupils.len();
        let sibling_school = usize::from(schools.len() > 1);
        self.push_pupil(
            sibling_school,
            0,
            SHOWCASE_SIBLING.0.to_owned(),
            SHOWCASE_SIBLING.1.to_owned(),
            false,
            &guardians,
            &address,
        );
        (pupil, sibling, parent)
    }

    /// The legal guardians of a family: mother and father, or one of them, or a tutor.
    fn guardians(
        &mut self,
        surname: &str,
        mother_surname: &str,
        father_first: &str,
        mother_first: &str,
    ) -> Vec<(Relative, &'static str, u8)> {
        let relative = |surname: &str, first: &str, female: bool, rng: &mut DemoRng| {
            let email = rng
                .chance(0.6)
                .then(|| format!("{}@example.org", domain::login::login_base(first, surname)));
            Relative {
                id: String::new(),
                surname: surname.to_owned(),
                first_name: first.to_owned(),
                female,
                pupils: Vec::new(),
                address: Address {
                    street: String::new(),
                    postcode: String::new(),
                    city: String::new(),
                    country: String::new(),
                },
                mobile: None,
                email,
            }
        };
        let mut guardians = Vec::new();
        let roll = self.rng.below(100);
        if roll < 55 {
            guardians.push((relative(mother_surname, mother_first, true, self.rng), "20", 1));
            guardians.push((relative(surname, father_first, false, self.rng), "10", 1));
        } else if roll < 87 {
            guardians.push((relative(mother_surname, mother_first, true, self.rng), "20", 1));
        } else if roll < 97 {
            guardians.push((relative(surname, father_first, false, self.rng), "10", 1));
        } else {
            let tutor_surname = self.rng.pick(&SURNAMES).to_string();
            let tutor_first = self.rng.pick(&FEMALE_FIRST_NAMES[40..]).to_string();
            guardians.push((relative(&tutor_surname, &tutor_first, true, self.rng), "50", 1));
        }
        if self.rng.chance(0.02) {
            let first = self.rng.pick(&FEMALE_FIRST_NAMES[48..]).to_string();
            guardians.push((relative(mother_surname, &first, true, self.rng), "39", 2));
        }
        for (relative, _, _) in &mut guardians {
            relative.mobile = self.rng.chance(0.8).then(|| {
                self.next_mobile += 1;
                format!("063998{:04}", self.next_mobile % 10_000)
            });
        }
        guardians
    }

    fn mobile(&mut self) -> String {
        self.next_mobile += 1;
        format!("063998{:04}", self.next_mobile % 10_000)
    }

    /// A family address near the collège, with a few overseas and foreign ones.
    fn address(&mut self, town: &Town) -> Address {
        let street = format!("{} {}", 1 + self.rng.below(150), self.rng.pick(&STREETS));
        let roll = self.rng.below(1000);
        let (postcode, city, country) = match roll {
            0..=2 => ("97600", "MAMOUDZOU", "FRANCE"),
            3..=5 => ("97400", "SAINT-DENIS", "FRANCE"),
            6..=7 => ("28001", "MADRID", "ESPAGNE"),
            _ => (town.postcode, town.name, "FRANCE"),
        };
        Address {
            street,
            postcode: postcode.to_owned(),
            city: city.to_uppercase(),
            country: country.to_owned(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_pupil(
        &mut self,
        school: usize,
        level: usize,
        surname: String,
        first_name: String,
        female: bool,
        guardians: &[(usize, &'static str, u8)],
        address: &Address,
    ) {
        let index = self.pupils.len();
        let held_back = usize::from(self.rng.chance(0.04));
        let birth = SimpleDate {
            year: self.school_year_start.year - 11 - level as i32 - held_back as i32,
            month: 1 + self.rng.below(12) as u32,
            day: 1 + self.rng.below(28) as u32,
        };
        let relatives = guardians
            .iter()
            .enumerate()
            .map(|(rank, &(relative, kinship, legal))| {
                self.relatives[relative].pupils.push(index);
                RelativeLink {
                    relative,
                    kinship,
                    financial: rank == 0,
                    legal,
                    contact: rank == 0 || legal == 2,
                }
            })
            .collect();
        const INE_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
        self.pupils.push(Pupil {
            id: format!("{}", 5_000_000 + index),
            school,
            level,
            class: String::new(),
            groups: Vec::new(),
            surname,
            first_name,
            female,
            birth,
            ine: format!(
                "{:010}{}",
                2_600_000_000u64 + index as u64 * 7,
                char::from(INE_LETTERS[index % 23])
            ),
            relatives,
            address: address.clone(),
        });
        for relative in guardians {
            let id = format!("{}", 4_000_000 + relative.0);
            self.relatives[relative.0].id = id;
        }
    }
}

/// Splits each collège's pupils of each level into classes of about 26 (`6A`, `6B`, …), and
/// gives them their groups: LV2 (Spanish or German) and Latin from 5e, half-classes in 6e.
fn form_classes(schools: &mut [School], pupils: &mut [Pupil], rng: &mut DemoRng) {
    for (school_index, school) in schools.iter_mut().enumerate() {
        school.classes = vec![Vec::new(); 4];
        for (level, digit) in LEVEL_DIGITS.iter().copied().enumerate() {
            let members: Vec<usize> = pupils
                .iter()
                .enumerate()
                .filter(|(_, p)| p.school == school_index && p.level == level)
                .map(|(i, _)| i)
                .collect();
            let n_classes = members.len().div_ceil(26).max(1);
            let codes: Vec<String> =
                (0..n_classes).map(|c| format!("{}{}", digit, class_letter(c))).collect();
            for (rank, &pupil) in members.iter().enumerate() {
                pupils[pupil].class = codes[rank % n_classes].clone();
            }
            school.classes[level] = codes;

            if level == 0 {
                for class in &school.classes[0] {
                    for half in 1..=2 {
                        school.groups.push(Group {
                            code: format!("{class}GR{half}"),
                            subject: CLASS_SUBJECTS[6],
                            level,
                            class: Some(class.clone()),
                        });
                    }
                }
                for (rank, &pupil) in members.iter().enumerate() {
                    let class = pupils[pupil].class.clone();
                    let half = 1 + (rank / n_classes) % 2;
                    pupils[pupil].groups.push(format!("{class}GR{half}"));
                }
                continue;
            }

            let mut spanish = Vec::new();
            let mut german = Vec::new();
            let mut latin = Vec::new();
            for &pupil in &members {
                if rng.chance(0.25) {
                    german.push(pupil)
                } else {
                    spanish.push(pupil)
                }
                if rng.chance(0.15) {
                    latin.push(pupil);
                }
            }
            for (subject, learners, tag) in [
                (LV2_SUBJECTS[0], spanish, "ESP"),
                (LV2_SUBJECTS[1], german, "ALL"),
                (LATIN, latin, "LAT"),
            ] {
                let n_groups = learners.len().div_ceil(28);
                for g in 0..n_groups {
                    school.groups.push(Group {
                        code: format!("{}{tag}{}", digit, g + 1),
                        subject,
                        level,
                        class: None,
                    });
                }
                for (rank, &pupil) in learners.iter().enumerate() {
                    let code = format!("{}{tag}{}", digit, rank % n_groups + 1);
                    pupils[pupil].groups.push(code);
                }
            }
        }
    }
}

fn class_letter(index: usize) -> char {
    char::from(b'A' + (index % 26) as u8)
}

/// Gives every class and group its teachers, subject by subject, filling services of about 18
/// hours; the last, incomplete service of a subject is completed in the next collèges (up to
/// three collèges in all), as real services are.
fn allocate_teachers(schools: &[School], rng: &mut DemoRng) -> Vec<Staff> {
    let mut teachers: Vec<Staff> = Vec::new();
    let mut subjects: Vec<SubjectInfo> = CLASS_SUBJECTS.to_vec();
    subjects.extend(LV2_SUBJECTS);
    subjects.push(LATIN);

    for subject in subjects {
        let mut carry: Option<usize> = None;
        for (school_index, school) in schools.iter().enumerate() {
            let mut work: Vec<(bool, String, f32)> = Vec::new();
            for (level, classes) in school.classes.iter().enumerate() {
                if subject.hours[level] > 0.0
                    && CLASS_SUBJECTS.iter().any(|s| s.code == subject.code)
                {
                    for class in classes {
                        work.push((false, class.clone(), subject.hours[level]));
                    }
                }
            }
            for group in school.groups.iter().filter(|g| g.subject.code == subject.code) {
                let hours = if group.class.is_some() { 0.5 } else { subject.hours[group.level] };
                work.push((true, group.code.clone(), hours));
            }
            if work.is_empty() {
                continue;
            }

            let mut current = match carry {
                Some(teacher)
                    if teachers[teacher].schools.len() < 3
                        && teachers[teacher].hours + 4.0 < FULL_SERVICE
                        && rng.chance(0.6) =>
                {
                    teachers[teacher].schools.push(school_index);
                    teachers[teacher].functions.push(teaching_function(school_index, &subject));
                    teacher
                }
                _ => new_teacher(&mut teachers, school_index, &subject, rng),
            };
            for (is_group, code, hours) in work {
                if teachers[current].hours + hours > FULL_SERVICE + 1.0 {
                    current = new_teacher(&mut teachers, school_index, &subject, rng);
                }
                let teacher = &mut teachers[current];
                teacher.hours += hours;
                if is_group {
                    teacher.group_teachings.push((school_index, code, subject.code));
                } else {
                    teacher.class_teachings.push((school_index, code, subject.code));
                }
            }
            carry = Some(current);
        }
    }

    for (school_index, school) in schools.iter().enumerate() {
        let mut principal_count = vec![0usize; teachers.len()];
        for class in school.classes.iter().flatten() {
            let candidate = teachers
                .iter()
                .enumerate()
                .filter(|(_, t)| {
                    t.class_teachings.iter().any(|(s, c, _)| *s == school_index && c == class)
                })
                .min_by_key(|(i, _)| principal_count[*i]);
            if let Some((index, _)) = candidate {
                principal_count[index] += 1;
                teachers[index].principal_of.push((school_index, class.clone()));
            }
        }
    }
    teachers
}

fn teaching_function(school: usize, subject: &SubjectInfo) -> Function {
    Function {
        school,
        code: "ENS",
        label: "ENSEIGNEMENT",
        discipline: subject.discipline,
        discipline_label: subject.discipline_label,
    }
}

fn new_teacher(
    teachers: &mut Vec<Staff>,
    school: usize,
    subject: &SubjectInfo,
    rng: &mut DemoRng,
) -> usize {
    let female = rng.chance(0.6);
    let first_name = if female {
        rng.pick(&FEMALE_FIRST_NAMES[10..]).to_string()
    } else {
        rng.pick(&MALE_FIRST_NAMES[10..]).to_string()
    };
    teachers.push(Staff {
        id: String::new(),
        surname: rng.pick(&SURNAMES).to_string(),
        first_name,
        female,
        birth: SimpleDate {
            year: 1962 + rng.below(38) as i32,
            month: 1 + rng.below(12) as u32,
            day: 1 + rng.below(28) as u32,
        },
        schools: vec![school],
        functions: vec![teaching_function(school, subject)],
        class_teachings: Vec::new(),
        group_teachings: Vec::new(),
        principal_of: Vec::new(),
        hours: 0.0,
    });
    teachers.len() - 1
}

/// The teacher the demo prints: one who teaches in two collèges and, when one does, the
/// showcase pupil's class (so that the printed teacher can write to that class's families),
/// renamed so that the printed name is unique.
fn showcase_teacher(staff: &mut [Staff], n_schools: usize, pupil: &Pupil) -> usize {
    let wanted = n_schools.min(2);
    let in_two = |t: &Staff| t.schools.len() >= wanted && t.schools.contains(&pupil.school);
    let teaches_pupil = |t: &Staff| {
        t.class_teachings.iter().any(|(s, c, _)| *s == pupil.school && *c == pupil.class)
    };
    if let Some(index) = staff.iter().position(|t| in_two(t) && teaches_pupil(t)) {
        return rename_showcase_teacher(staff, index);
    }

    let index = staff
        .iter()
        .position(in_two)
        .or_else(|| staff.iter().position(|t| t.schools.contains(&pupil.school)))
        .unwrap_or(0);
    // No teacher of two collèges teaches that class: one of them takes over a subject of it
    // from its teacher, so that the class still has one teacher per subject.
    let taken = staff.iter().enumerate().find_map(|(other, t)| {
        let position = t
            .class_teachings
            .iter()
            .position(|(s, c, _)| *s == pupil.school && *c == pupil.class)?;
        (other != index).then_some((other, position))
    });
    if let Some((other, position)) = taken {
        let teaching = staff[other].class_teachings.remove(position);
        staff[index].class_teachings.push(teaching);
    }
    rename_showcase_teacher(staff, index)
}

/// Gives the printed teacher a name no one else has, and returns their index.
fn rename_showcase_teacher(staff: &mut [Staff], index: usize) -> usize {
    if let Some(teacher) = staff.get_mut(index) {
        teacher.surname = SHOWCASE_TEACHER.0.to_owned();
        teacher.first_name = SHOWCASE_TEACHER.1.to_owned();
        teacher.female = false;
    }
    index
}

/// Each collège's staff: a head, a deputy in the larger ones, a CPE, a documentalist and a
/// secretary. Returns the index of the first collège's head.
fn add_school_staff(
    staff: &mut Vec<Staff>,
    schools: &[School],
    pupils: &[Pupil],
    rng: &mut DemoRng,
) -> usize {
    let mut showcase_head = 0;
    for school_index in 0..schools.len() {
        let n_pupils = pupils.iter().filter(|p| p.school == school_index).count();
        let mut roles: Vec<(&str, &str, &str, &str)> =
            vec![("DIR", "DIRECTION", "D0010", "CHEF D'ETABLISSEMENT")];
        if n_pupils > 400 {
            roles.push(("DIR", "DIRECTION", "D0011", "CHEF D'ETABLISSEMENT ADJOINT"));
        }
        roles.push(("EDU", "EDUCATION", "E0030", "CONSEILLER PRINCIPAL D'EDUCATION"));
        roles.push(("DOC", "DOCUMENTATION", "L0080", "DOCUMENTATION"));
        roles.push(("ADF", "PERSONNELS ADMINISTRATIFS", "ADM00", "SECRETARIAT"));
        for (rank, (code, label, discipline, discipline_label)) in roles.into_iter().enumerate() {
            let female = rng.chance(0.55);
            let (surname, first_name) = if school_index == 0 && rank == 0 {
                showcase_head = staff.len();
                (SHOWCASE_HEAD.0.to_owned(), SHOWCASE_HEAD.1.to_owned())
            } else if female {
                (rng.pick(&SURNAMES).to_string(), rng.pick(&FEMALE_FIRST_NAMES[20..]).to_string())
            } else {
                (rng.pick(&SURNAMES).to_string(), rng.pick(&MALE_FIRST_NAMES[20..]).to_string())
            };
            staff.push(Staff {
                id: String::new(),
                surname,
                first_name,
                female: female || (school_index == 0 && rank == 0),
                birth: SimpleDate {
                    year: 1960 + rng.below(35) as i32,
                    month: 1 + rng.below(12) as u32,
                    day: 1 + rng.below(28) as u32,
                },
                schools: vec![school_index],
                functions: vec![Function {
                    school: school_index,
                    code,
                    label,
                    discipline,
                    discipline_label,
                }],
                class_teachings: Vec::new(),
                group_teachings: Vec::new(),
                principal_of: Vec::new(),
                hours: 0.0,
            });
        }
    }
    showcase_head
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(schools: usize, people: usize, seed: u64) -> DemoSize {
        DemoSize {
            schools,
            people,
            seed,
            export_date: SimpleDate { year: 2026, month: 12, day: 4 },
            departement_code: "86".to_owned(),
        }
    }

    #[test]
    fn the_default_size_gives_about_46000_people_in_34_colleges() {
        let departement = generate(&size(34, 46_000, 1));
        assert_eq!(departement.schools.len(), 34);
        let people = departement.people();
        assert!((41_000..51_000).contains(&people), "{people} people");
        let links: usize = departement.pupils.iter().map(|p| p.relatives.len()).sum();
        let per_pupil = links as f64 / departement.pupils.len() as f64;
        assert!((1.4..1.7).contains(&per_pupil), "{per_pupil} guardians per pupil");
    }

    #[test]
    fn the_same_seed_gives_the_same_departement_and_another_seed_another() {
        let a = generate(&size(4, 3_000, 7));
        let b = generate(&size(4, 3_000, 7));
        let c = generate(&size(4, 3_000, 8));
        let names = |d: &Departement| -> Vec<String> {
            d.pupils.iter().map(|p| format!("{} {}", p.first_name, p.surname)).collect()
        };
        assert_eq!(names(&a), names(&b));
        assert_ne!(names(&a), names(&c));
    }

    #[test]
    fn some_teachers_teach_in_two_or_three_colleges_and_siblings_are_split() {
        let departement = generate(&size(34, 46_000, 1));
        let multi = departement.staff.iter().filter(|t| t.schools.len() >= 2).count();
        assert!(multi >= 20, "{multi} teachers in several collèges");
        assert!(departement.staff.iter().all(|t| t.schools.len() <= 3));
        let split_families = departement
            .relatives
            .iter()
            .filter(|r| {
                let schools: std::collections::BTreeSet<usize> =
                    r.pupils.iter().map(|&p| departement.pupils[p].school).collect();
                schools.len() > 1
            })
            .count();
        assert!(split_families >= 50, "{split_families}");
    }

    #[test]
    fn the_printed_teacher_teaches_the_printed_pupil_in_the_demos_people_run() {
        // The browser test's demo and the Quick start's, with the default seed.
        for (schools, people) in [(4, 3_000), (34, 46_000)] {
            let departement = generate(&size(schools, people, 2026));
            let teacher = &departement.staff[departement.showcase.teacher];
            let pupil = &departement.pupils[departement.showcase.pupil];
            assert!(teacher.schools.len() >= 2, "{schools} collèges");
            assert!(
                teacher
                    .class_teachings
                    .iter()
                    .any(|(s, c, _)| *s == pupil.school && *c == pupil.class),
                "{schools} collèges"
            );
        }
    }

    #[test]
    fn the_showcase_people_are_what_the_demo_promises() {
        let departement = generate(&size(4, 3_000, 3));
        let showcase = &departement.showcase;
        let parent = &departement.relatives[showcase.parent];
        let schools: Vec<usize> =
            parent.pupils.iter().map(|&p| departement.pupils[p].school).collect();
        assert_eq!(schools, vec![0, 1]);
        let teacher = &departement.staff[showcase.teacher];
        assert!(teacher.schools.len() >= 2);
        let pupil = &departement.pupils[showcase.pupil];
        assert!(
            teacher.class_teachings.iter().any(|(s, c, _)| *s == pupil.school && *c == pupil.class),
            "the printed teacher teaches the printed pupil's class"
        );
        assert_eq!(departement.staff[showcase.head].functions[0].code, "DIR");
        assert_eq!(departement.pupils[showcase.pupil].school, 0);
    }

    #[test]
    fn every_class_has_a_principal_teacher_and_birth_years_follow_the_level() {
        let departement = generate(&size(3, 2_000, 5));
        for (index, school) in departement.schools.iter().enumerate() {
            for class in school.classes.iter().flatten() {
                let principals = departement
                    .staff
                    .iter()
                    .filter(|t| t.principal_of.iter().any(|(s, c)| *s == index && c == class))
                    .count();
                assert_eq!(principals, 1, "{class}");
            }
        }
        for pupil in &departement.pupils {
            let expected = 2026 - 11 - pupil.level as i32;
            assert!(pupil.birth.year == expected || pupil.birth.year == expected - 1);
        }
    }

    #[test]
    fn uais_carry_the_right_check_letter() {
        assert_eq!(uai("86", 876), "0860876K");
        assert_eq!(uai("86", 723), "0860723U");
    }
}

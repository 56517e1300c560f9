//! A small département written with plain SQL, for the tests of accounts, sessions, the
//! directory and the web interface while the AAF import is built elsewhere: two collèges, three
//! classes, a group, pupils with legal guardians (siblings in two collèges sharing a parent), a
//! teacher in both collèges, heads with the `DIR` function, département agents with scopes, and
//! an account with a known activation code for everyone. Only built with the `testing` feature.
#![cfg(feature = "testing")]

use crate::{Store, StoreResult, now_unix};

/// The ids and logins of the fixture's people and places.
pub mod ids {
    pub const SCHOOL_1: &str = "school-1";
    pub const SCHOOL_2: &str = "school-2";
    pub const UAI_1: &str = "0860001A";
    pub const UAI_2: &str = "0860002B";
    pub const CLASS_6A: &str = "class-6a";
    pub const CLASS_6B: &str = "class-6b";
    pub const CLASS_5A: &str = "class-5a";
    pub const GROUP_LATIN: &str = "group-latin";

    /// Alice Martin, 6A in collège 1, group LATIN, born 2013-03-07.
    pub const ALICE: &str = "p-alice";
    /// Bruno Durand, Alice's classmate.
    pub const BRUNO: &str = "p-bruno";
    /// Chloé Petit, 6B in collège 1.
    pub const CHLOE: &str = "p-chloe";
    /// David Martin, Alice's brother, 5A in collège 2.
    pub const DAVID: &str = "p-david";
    /// A pupil of 6B whose surname is an XSS attempt.
    pub const XAVIER: &str = "p-xavier";
    /// Paul Martin, legal guardian (1) of Alice and David.
    pub const PAUL: &str = "r-paul";
    /// Quitterie Martin, legal guardian (2) of Alice only.
    pub const QUITTERIE: &str = "r-quitterie";
    /// Rachel Durand, legal guardian of Bruno.
    pub const RACHEL: &str = "r-rachel";
    /// Sami Petit, legal guardian of Chloé (another class).
    pub const SAMI: &str = "r-sami";
    /// Nina Petit, a contact of Chloé without legal responsibility.
    pub const NINA: &str = "r-nina";
    /// Thomas Bernard, maths in 6A (collège 1, principal teacher) and 5A (collège 2).
    pub const THOMAS: &str = "t-thomas";
    /// Sophie Lambert, French in 6B and the LATIN group, collège 1 only.
    pub const SOPHIE: &str = "t-sophie";
    /// Hugo Moreau, history in 5A, collège 2 only.
    pub const HUGO: &str = "t-hugo";
    /// Hélène Roux, head of collège 1 (DIR, school_admin).
    pub const HELENE: &str = "s-helene";
    /// Marc Blanc, head of collège 2 (DIR).
    pub const MARC: &str = "s-marc";
    /// Agnès Vidal, département agent, whole département, département admin.
    pub const AGNES: &str = "d-agnes";
    /// Olivier Faure, elected official scoped to collège 2.
    pub const OLIVIER: &str = "d-olivier";
}

/// One fixture person: id, profile, last name, first name, birth date, login.
pub type FixturePerson =
    (&'static str, &'static str, &'static str, &'static str, Option<&'static str>, &'static str);

/// Every person of the fixture.
pub const PEOPLE: &[FixturePerson] = &[
    (ids::ALICE, "pupil", "Martin", "Alice", Some("2013-03-07"), "alice.martin"),
    (ids::BRUNO, "pupil", "Durand", "Bruno", Some("2013-05-20"), "bruno.durand"),
    (ids::CHLOE, "pupil", "Petit", "Chloé", Some("2013-01-11"), "chloe.petit"),
    (ids::DAVID, "pupil", "Martin", "David", Some("2012-09-30"), "david.martin"),
    (
        ids::XAVIER,
        "pupil",
        "\"><script>alert(1)</script>",
        "Xavier",
        Some("2013-02-02"),
        "xavier.x",
    ),
    (ids::PAUL, "relative", "Martin", "Paul", None, "paul.martin"),
    (ids::QUITTERIE, "relative", "Martin", "Quitterie", None, "quitterie.martin"),
    (ids::RACHEL, "relative", "Durand", "Rachel", None, "rachel.durand"),
    (ids::SAMI, "relative", "Petit", "Sami", None, "sami.petit"),
    (ids::NINA, "relative", "Petit", "Nina", None, "nina.petit"),
    (ids::THOMAS, "teacher", "Bernard", "Thomas", None, "thomas.bernard"),
    (ids::SOPHIE, "teacher", "Lambert", "Sophie", None, "sophie.lambert"),
    (ids::HUGO, "teacher", "Moreau", "Hugo", None, "hugo.moreau"),
    (ids::HELENE, "staff", "Roux", "Hélène", None, "helene.roux"),
    (ids::MARC, "staff", "Blanc", "Marc", None, "marc.blanc"),
    (ids::AGNES, "agent", "Vidal", "Agnès", None, "agnes.vidal"),
    (ids::OLIVIER, "official", "Faure", "Olivier", None, "olivier.faure"),
];

/// The activation code of a fixture login: twelve characters of the code alphabet, distinct
/// per person.
pub fn code_for(login: &str) -> String {
    let alphabet = domain::activation::ALPHABET;
    let mut state: u32 = 2_166_136_261;
    for byte in login.bytes() {
        state = (state ^ u32::from(byte)).wrapping_mul(16_777_619);
    }
    (0..domain::activation::CODE_LEN)
        .map(|i| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345 + i as u32);
            char::from(alphabet[(state >> 16) as usize % alphabet.len()])
        })
        .collect()
}

impl Store {
    /// Writes the fixture département into an empty database.
    pub async fn load_fixture(&self) -> StoreResult<()> {
        let now = now_unix();
        let pool = self.pool();
        sqlx::query("INSERT INTO departement (id, code, name) VALUES (1, '086', 'Vienne')")
            .execute(pool)
            .await?;
        for (id, uai, name) in [
            (ids::SCHOOL_1, ids::UAI_1, "Collège Jean Moulin"),
            (ids::SCHOOL_2, ids::UAI_2, "Collège Camille Claudel"),
        ] {
            sqlx::query(
                "INSERT INTO schools (id, jointure, uai, name, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(id)
            .bind(format!("j-{id}"))
            .bind(uai)
            .bind(name)
            .bind(now)
            .execute(pool)
            .await?;
        }
        for (code, label) in [
            ("061300", "Mathématiques"),
            ("030100", "Français"),
            ("040000", "Histoire-géographie"),
            ("020500", "Latin"),
        ] {
            sqlx::query("INSERT INTO subjects (code, label, updated_at) VALUES ($1, $2, $3)")
                .bind(code)
                .bind(label)
                .bind(now)
                .execute(pool)
                .await?;
        }
        for (id, school, code) in [
            (ids::CLASS_6A, ids::SCHOOL_1, "6A"),
            (ids::CLASS_6B, ids::SCHOOL_1, "6B"),
            (ids::CLASS_5A, ids::SCHOOL_2, "5A"),
        ] {
            sqlx::query("INSERT INTO classes (id, school_id, code) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(school)
                .bind(code)
                .execute(pool)
                .await?;
        }
        sqlx::query("INSERT INTO teaching_groups (id, school_id, code) VALUES ($1, $2, 'LATIN')")
            .bind(ids::GROUP_LATIN)
            .bind(ids::SCHOOL_1)
            .execute(pool)
            .await?;

        let expires = now + 30 * 24 * 3600;
        for (id, profile, last, first, birth, login) in PEOPLE {
            sqlx::query(
                "INSERT INTO people (id, source, external_id, profile, last_name, first_name, \
                 birth_date, created_at, updated_at, search_key) \
                 VALUES ($1, 'aaf', $1, $2, $3, $4, $5, $6, $6, $7)",
            )
            .bind(*id)
            .bind(*profile)
            .bind(*last)
            .bind(*first)
            .bind(birth.map(str::to_owned))
            .bind(now)
            .bind(domain::names::search_key(last, first))
            .execute(pool)
            .await?;
            sqlx::query("INSERT INTO logins (login, person_id, created_at) VALUES ($1, $2, $3)")
                .bind(*login)
                .bind(*id)
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO accounts (person_id, login, activation_code, activation_expires_at, \
                 created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(*id)
            .bind(*login)
            .bind(code_for(login))
            .bind(expires)
            .bind(now)
            .execute(pool)
            .await?;
        }

        let links: &[(&str, &[(&str, &str)])] = &[
            (
                "INSERT INTO person_schools (person_id, school_id) VALUES ($1, $2)",
                &[
                    (ids::ALICE, ids::SCHOOL_1),
                    (ids::BRUNO, ids::SCHOOL_1),
                    (ids::CHLOE, ids::SCHOOL_1),
                    (ids::XAVIER, ids::SCHOOL_1),
                    (ids::DAVID, ids::SCHOOL_2),
                    (ids::THOMAS, ids::SCHOOL_1),
                    (ids::THOMAS, ids::SCHOOL_2),
                    (ids::SOPHIE, ids::SCHOOL_1),
                    (ids::HUGO, ids::SCHOOL_2),
                    (ids::HELENE, ids::SCHOOL_1),
                    (ids::MARC, ids::SCHOOL_2),
                ],
            ),
            (
                "INSERT INTO pupil_classes (pupil_id, class_id, entry_date) \
                 VALUES ($1, $2, '2025-09-01')",
                &[
                    (ids::ALICE, ids::CLASS_6A),
                    (ids::BRUNO, ids::CLASS_6A),
                    (ids::CHLOE, ids::CLASS_6B),
                    (ids::XAVIER, ids::CLASS_6B),
                    (ids::DAVID, ids::CLASS_5A),
                ],
            ),
            (
                "INSERT INTO pupil_groups (pupil_id, group_id) VALUES ($1, $2)",
                &[(ids::ALICE, ids::GROUP_LATIN)],
            ),
            (
                "INSERT INTO principal_teachers (teacher_id, class_id) VALUES ($1, $2)",
                &[(ids::THOMAS, ids::CLASS_6A)],
            ),
            (
                "INSERT INTO departement_scopes (person_id, school_id) VALUES ($1, $2)",
                &[(ids::AGNES, ""), (ids::OLIVIER, ids::SCHOOL_2)],
            ),
        ];
        for (sql, pairs) in links {
            for (a, b) in *pairs {
                sqlx::query(*sql).bind(*a).bind(*b).execute(pool).await?;
            }
        }

        for (teacher, class, subject) in [
            (ids::THOMAS, ids::CLASS_6A, "061300"),
            (ids::THOMAS, ids::CLASS_5A, "061300"),
            (ids::SOPHIE, ids::CLASS_6B, "030100"),
            (ids::HUGO, ids::CLASS_5A, "040000"),
        ] {
            sqlx::query(
                "INSERT INTO class_teachers (teacher_id, class_id, subject_code) VALUES ($1, $2, $3)",
            )
            .bind(teacher)
            .bind(class)
            .bind(subject)
            .execute(pool)
            .await?;
        }
        sqlx::query(
            "INSERT INTO group_teachers (teacher_id, group_id, subject_code) VALUES ($1, $2, '020500')",
        )
        .bind(ids::SOPHIE)
        .bind(ids::GROUP_LATIN)
        .execute(pool)
        .await?;

        for (pupil, relative, legal) in [
            (ids::ALICE, ids::PAUL, 1i64),
            (ids::DAVID, ids::PAUL, 1),
            (ids::ALICE, ids::QUITTERIE, 2),
            (ids::BRUNO, ids::RACHEL, 1),
            (ids::CHLOE, ids::SAMI, 1),
            (ids::CHLOE, ids::NINA, 0),
        ] {
            sqlx::query(
                "INSERT INTO guardianships (pupil_id, relative_id, kinship, legal, financial, \
                 contact, payment) VALUES ($1, $2, 'PERE', $3, 1, 1, 0)",
            )
            .bind(pupil)
            .bind(relative)
            .bind(legal)
            .execute(pool)
            .await?;
        }

        for (person, school, code, label) in [
            (ids::THOMAS, ids::SCHOOL_1, "ENS", "ENSEIGNEMENT"),
            (ids::THOMAS, ids::SCHOOL_2, "ENS", "ENSEIGNEMENT"),
            (ids::SOPHIE, ids::SCHOOL_1, "ENS", "ENSEIGNEMENT"),
            (ids::HUGO, ids::SCHOOL_2, "ENS", "ENSEIGNEMENT"),
            (ids::HELENE, ids::SCHOOL_1, "DIR", "DIRECTION"),
            (ids::MARC, ids::SCHOOL_2, "DIR", "DIRECTION"),
        ] {
            sqlx::query(
                "INSERT INTO person_functions (person_id, school_id, code, label) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(person)
            .bind(school)
            .bind(code)
            .bind(label)
            .execute(pool)
            .await?;
        }
        for (person, role, school) in
            [(ids::HELENE, "school_admin", ids::SCHOOL_1), (ids::AGNES, "departement_admin", "")]
        {
            sqlx::query("INSERT INTO roles (person_id, role, school_id) VALUES ($1, $2, $3)")
                .bind(person)
                .bind(role)
                .bind(school)
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Runs one test-only statement with text parameters (to age a session, expire a code,
    /// freeze an account…).
    pub async fn fixture_execute(&self, sql: &'static str, params: &[&str]) -> StoreResult<u64> {
        let mut query = sqlx::query(sql);
        for param in params {
            query = query.bind(*param);
        }
        Ok(query.execute(self.pool()).await?.rows_affected())
    }

    /// Reads one test-only number.
    pub async fn fixture_count(&self, sql: &'static str, params: &[&str]) -> StoreResult<i64> {
        let mut query = sqlx::query_scalar(sql);
        for param in params {
            query = query.bind(*param);
        }
        Ok(query.fetch_one(self.pool()).await?)
    }
}

pub mod internship;

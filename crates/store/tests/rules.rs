//! The communication rules on the fixture département: each default rule, each rule switched
//! off in one school (and only there), the reset, who may edit a school's rules, the links no
//! school can switch off (family, replies), class memberships that ended, the cases issue #3
//! names, the recipient groups and their resolution at send time, and the whole fixture matrix
//! against the independent model of `rules_support`.

mod rules_support;

use domain::communication::{GroupKind, Recipient, Rule};
use store::StoreError;
use store::fixtures::{PEOPLE, ids};
use store::rules::RuleRefusal;

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store
}

/// Whether `from` may write to `to`.
async fn can(store: &store::Store, from: &str, to: &str) -> bool {
    let allowed = store.may_write_to(from, &[to.to_owned()]).await.unwrap();
    allowed == [to.to_owned()]
}

/// Switches one rule in one school, as the département's administrator.
async fn set(store: &store::Store, school: &str, rule: Rule, allowed: bool) {
    store.set_school_rules(ids::AGNES, school, &[(rule, allowed)]).await.unwrap();
}

/// A message from `sender` in `recipient`'s inbox, written directly as a send would.
async fn deliver(store: &store::Store, id: &str, sender: &str, recipient: &str) {
    store
        .fixture_execute(
            "INSERT INTO messages (id, sender_id, thread_id, subject, body_html, body_text, \
             recipients_label, search_text, created_at) \
             VALUES ($1, $2, $1, 'Bonjour', '<p>Bonjour</p>', 'Bonjour', '[]', 'bonjour', 1)",
            &[id, sender],
        )
        .await
        .unwrap();
    store
        .fixture_execute(
            "INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, \
             created_at) VALUES ($1, $2, 'inbox', 'inbox', 1, 1)",
            &[recipient, id],
        )
        .await
        .unwrap();
    store
        .fixture_execute(
            "INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, \
             created_at) VALUES ($1, $2, 'sent', 'sent', 0, 1)",
            &[sender, id],
        )
        .await
        .unwrap();
}

/// Alice leaves 6A (her membership ended in 2020) and joins 6B.
async fn move_alice_to_6b(store: &store::Store) {
    store
        .fixture_execute(
            "UPDATE pupil_classes SET exit_date = '2020-06-30' WHERE pupil_id = $1 AND class_id = $2",
            &[ids::ALICE, ids::CLASS_6A],
        )
        .await
        .unwrap();
    store
        .fixture_execute(
            "INSERT INTO pupil_classes (pupil_id, class_id, entry_date) VALUES ($1, $2, '2020-09-01')",
            &[ids::ALICE, ids::CLASS_6B],
        )
        .await
        .unwrap();
}

/// One link of the fixture that a rule decides: who, to whom, through which school.
struct Case {
    rule: Rule,
    school: &'static str,
    from: &'static str,
    to: &'static str,
}

const fn case(rule: Rule, school: &'static str, from: &'static str, to: &'static str) -> Case {
    Case { rule, school, from, to }
}

/// For each rule, links that exist only through that rule in that school.
const CASES: &[Case] = &[
    // Staff and teachers: everyone of their school.
    case(Rule::StaffToSchool, ids::SCHOOL_1, ids::SOPHIE, ids::CHLOE),
    case(Rule::StaffToSchool, ids::SCHOOL_1, ids::SOPHIE, ids::SAMI),
    case(Rule::StaffToSchool, ids::SCHOOL_1, ids::SOPHIE, ids::HELENE),
    case(Rule::StaffToSchool, ids::SCHOOL_1, ids::HELENE, ids::RACHEL),
    case(Rule::StaffToSchool, ids::SCHOOL_2, ids::HUGO, ids::DAVID),
    case(Rule::StaffToSchool, ids::SCHOOL_2, ids::MARC, ids::HUGO),
    case(Rule::StaffToSchool, ids::SCHOOL_2, ids::MARC, ids::THOMAS),
    // Pupils: classmates.
    case(Rule::PupilToClassmates, ids::SCHOOL_1, ids::ALICE, ids::BRUNO),
    case(Rule::PupilToClassmates, ids::SCHOOL_1, ids::CHLOE, ids::XAVIER),
    // Pupils: the adults of their classes and groups.
    case(Rule::PupilToClassAdults, ids::SCHOOL_1, ids::ALICE, ids::THOMAS),
    case(Rule::PupilToClassAdults, ids::SCHOOL_1, ids::ALICE, ids::SOPHIE),
    case(Rule::PupilToClassAdults, ids::SCHOOL_1, ids::CHLOE, ids::SOPHIE),
    case(Rule::PupilToClassAdults, ids::SCHOOL_2, ids::DAVID, ids::THOMAS),
    case(Rule::PupilToClassAdults, ids::SCHOOL_2, ids::DAVID, ids::HUGO),
    // Parents: the adults of their children's classes and groups.
    case(Rule::ParentToClassAdults, ids::SCHOOL_1, ids::RACHEL, ids::THOMAS),
    case(Rule::ParentToClassAdults, ids::SCHOOL_1, ids::QUITTERIE, ids::SOPHIE),
    case(Rule::ParentToClassAdults, ids::SCHOOL_1, ids::SAMI, ids::SOPHIE),
    case(Rule::ParentToClassAdults, ids::SCHOOL_2, ids::PAUL, ids::HUGO),
    // Parents: the other parents of their children's classes.
    case(Rule::ParentToClassParents, ids::SCHOOL_1, ids::RACHEL, ids::PAUL),
    case(Rule::ParentToClassParents, ids::SCHOOL_1, ids::RACHEL, ids::QUITTERIE),
    case(Rule::ParentToClassParents, ids::SCHOOL_1, ids::PAUL, ids::RACHEL),
    // Parents: the direction of their children's schools.
    case(Rule::ParentToDirection, ids::SCHOOL_1, ids::RACHEL, ids::HELENE),
    case(Rule::ParentToDirection, ids::SCHOOL_1, ids::PAUL, ids::HELENE),
    case(Rule::ParentToDirection, ids::SCHOOL_2, ids::PAUL, ids::MARC),
    // The département's people and the adults of the schools of their scope, both ways.
    case(Rule::DepartementToSchoolAdults, ids::SCHOOL_2, ids::OLIVIER, ids::MARC),
    case(Rule::DepartementToSchoolAdults, ids::SCHOOL_2, ids::OLIVIER, ids::HUGO),
    case(Rule::DepartementToSchoolAdults, ids::SCHOOL_2, ids::HUGO, ids::OLIVIER),
    case(Rule::DepartementToSchoolAdults, ids::SCHOOL_2, ids::HUGO, ids::AGNES),
    case(Rule::DepartementToSchoolAdults, ids::SCHOOL_1, ids::AGNES, ids::SOPHIE),
    case(Rule::DepartementToSchoolAdults, ids::SCHOOL_1, ids::HELENE, ids::AGNES),
];

#[tokio::test]
async fn each_default_rule_opens_its_links_and_switching_it_off_closes_them_in_that_school_only() {
    let store = fixture().await;

    for case in CASES {
        assert!(
            can(&store, case.from, case.to).await,
            "{} by default: {} -> {}",
            case.rule.code(),
            case.from,
            case.to
        );
    }

    for rule in Rule::ALL.into_iter().filter(|rule| rule.default_allowed()) {
        for school in [ids::SCHOOL_1, ids::SCHOOL_2] {
            set(&store, school, rule, false).await;
            for case in CASES.iter().filter(|case| case.rule == rule) {
                let expected = case.school != school;
                assert_eq!(
                    can(&store, case.from, case.to).await,
                    expected,
                    "{} off in {school}: {} -> {}",
                    rule.code(),
                    case.from,
                    case.to
                );
            }
            set(&store, school, rule, true).await;
        }
    }
}

#[tokio::test]
async fn the_direction_is_closed_to_pupils_by_default_and_opens_per_school() {
    let store = fixture().await;
    assert!(!can(&store, ids::ALICE, ids::HELENE).await);
    assert!(!can(&store, ids::DAVID, ids::MARC).await);

    set(&store, ids::SCHOOL_2, Rule::PupilToDirection, true).await;

    assert!(can(&store, ids::DAVID, ids::MARC).await);
    assert!(!can(&store, ids::ALICE, ids::HELENE).await, "school 2's choice is not school 1's");
    assert!(!can(&store, ids::ALICE, ids::MARC).await);
    let found: Vec<String> = store
        .search_directory(ids::DAVID, "blanc")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(found, [ids::MARC]);
}

#[tokio::test]
async fn a_link_through_two_schools_follows_each_schools_rule() {
    let store = fixture().await;
    // Thomas teaches Alice's class (collège 1) and David's (collège 2): Paul reaches him
    // through either child until both schools close the rule.
    set(&store, ids::SCHOOL_2, Rule::ParentToClassAdults, false).await;
    assert!(can(&store, ids::PAUL, ids::THOMAS).await);
    assert!(!can(&store, ids::PAUL, ids::HUGO).await);
    set(&store, ids::SCHOOL_1, Rule::ParentToClassAdults, false).await;
    assert!(!can(&store, ids::PAUL, ids::THOMAS).await);
    assert!(!can(&store, ids::PAUL, ids::SOPHIE).await, "the LATIN group is collège 1's");

    // Thomas works in both collèges: closing one leaves him the other's people.
    set(&store, ids::SCHOOL_2, Rule::StaffToSchool, false).await;
    assert!(!can(&store, ids::THOMAS, ids::DAVID).await);
    assert!(can(&store, ids::THOMAS, ids::CHLOE).await);
}

#[tokio::test]
async fn a_reset_brings_every_rule_back_to_its_default() {
    let store = fixture().await;
    store
        .set_school_rules(
            ids::HELENE,
            ids::SCHOOL_1,
            &[(Rule::PupilToClassmates, false), (Rule::PupilToDirection, true)],
        )
        .await
        .unwrap();
    assert!(!can(&store, ids::ALICE, ids::BRUNO).await);
    assert!(can(&store, ids::ALICE, ids::HELENE).await);
    let settings = store.school_rules(ids::HELENE, ids::SCHOOL_1).await.unwrap();
    let classmates = settings.iter().find(|s| s.rule == Rule::PupilToClassmates).unwrap();
    assert!(!classmates.allowed && !classmates.is_default);
    let staff = settings.iter().find(|s| s.rule == Rule::StaffToSchool).unwrap();
    assert!(staff.allowed && staff.is_default);

    store.reset_school_rules(ids::HELENE, ids::SCHOOL_1).await.unwrap();

    assert!(can(&store, ids::ALICE, ids::BRUNO).await);
    assert!(!can(&store, ids::ALICE, ids::HELENE).await);
    let settings = store.school_rules(ids::HELENE, ids::SCHOOL_1).await.unwrap();
    assert_eq!(settings.len(), Rule::ALL.len());
    for setting in settings {
        assert!(setting.is_default, "{}", setting.rule.code());
        assert_eq!(setting.allowed, setting.rule.default_allowed());
    }
    let audited = store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND target_id = $2 \
             AND action IN ('rules_changed', 'rules_reset')",
            &[ids::HELENE, ids::SCHOOL_1],
        )
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn a_choice_equal_to_the_default_is_no_choice() {
    let store = fixture().await;
    set(&store, ids::SCHOOL_1, Rule::StaffToSchool, false).await;
    set(&store, ids::SCHOOL_1, Rule::StaffToSchool, true).await;
    let rows = store
        .fixture_count(
            "SELECT COUNT(*) FROM communication_rules WHERE school_id = $1",
            &[ids::SCHOOL_1],
        )
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn only_the_schools_administrators_and_the_departements_edit_its_rules() {
    let store = fixture().await;

    // Hélène: school_admin and DIR of collège 1; Marc: DIR of collège 2 only; Agnès: the
    // département's administrator.
    assert!(store.school_rules(ids::HELENE, ids::SCHOOL_1).await.is_ok());
    assert!(store.school_rules(ids::MARC, ids::SCHOOL_2).await.is_ok());
    assert!(store.school_rules(ids::AGNES, ids::SCHOOL_2).await.is_ok());
    for (actor, school) in [
        (ids::HELENE, ids::SCHOOL_2),
        (ids::MARC, ids::SCHOOL_1),
        (ids::THOMAS, ids::SCHOOL_1),
        (ids::OLIVIER, ids::SCHOOL_2),
        (ids::PAUL, ids::SCHOOL_1),
        (ids::AGNES, "no-such-school"),
    ] {
        assert!(
            matches!(store.school_rules(actor, school).await, Err(StoreError::NotFound)),
            "{actor} reads {school}"
        );
        assert!(
            matches!(
                store.set_school_rules(actor, school, &[(Rule::StaffToSchool, false)]).await,
                Err(StoreError::NotFound)
            ),
            "{actor} sets {school}"
        );
        assert!(
            matches!(store.reset_school_rules(actor, school).await, Err(StoreError::NotFound)),
            "{actor} resets {school}"
        );
    }
    let rows = store.fixture_count("SELECT COUNT(*) FROM communication_rules", &[]).await.unwrap();
    let audited = store
        .fixture_count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'rules_%'", &[])
        .await
        .unwrap();
    assert_eq!((rows, audited), (0, 0), "a refused edit changes nothing");

    store
        .set_school_rules(ids::MARC, ids::SCHOOL_2, &[(Rule::PupilToDirection, true)])
        .await
        .unwrap();
    let detail = store
        .fixture_count(
            "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND action = 'rules_changed' \
             AND target_id = $2 AND detail = 'pupil_to_direction=1'",
            &[ids::MARC, ids::SCHOOL_2],
        )
        .await
        .unwrap();
    assert_eq!(detail, 1);
}

#[tokio::test]
async fn a_reply_to_any_sender_is_allowed_unless_the_message_was_recalled() {
    let store = fixture().await;
    // Hugo (collège 2) could not write to Chloé (collège 1), nor she to him.
    assert!(!can(&store, ids::CHLOE, ids::HUGO).await);
    assert!(!can(&store, ids::HUGO, ids::CHLOE).await);

    deliver(&store, "m-hugo-chloe", ids::HUGO, ids::CHLOE).await;

    assert!(can(&store, ids::CHLOE, ids::HUGO).await, "she may reply");
    assert!(!can(&store, ids::HUGO, ids::CHLOE).await, "sending gives the sender nothing");
    let found: Vec<String> = store
        .search_directory(ids::CHLOE, "moreau")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(found, [ids::HUGO]);

    // Even with every rule closed in both schools.
    for school in [ids::SCHOOL_1, ids::SCHOOL_2] {
        let all: Vec<(Rule, bool)> = Rule::ALL.iter().map(|rule| (*rule, false)).collect();
        store.set_school_rules(ids::AGNES, school, &all).await.unwrap();
    }
    assert!(can(&store, ids::CHLOE, ids::HUGO).await);

    store
        .fixture_execute("UPDATE messages SET recalled_at = 2 WHERE id = $1", &["m-hugo-chloe"])
        .await
        .unwrap();
    assert!(!can(&store, ids::CHLOE, ids::HUGO).await, "a recalled message is no invitation");
}

#[tokio::test]
async fn family_links_hold_whatever_the_schools_decide() {
    let store = fixture().await;
    for school in [ids::SCHOOL_1, ids::SCHOOL_2] {
        let all: Vec<(Rule, bool)> = Rule::ALL.iter().map(|rule| (*rule, false)).collect();
        store.set_school_rules(ids::AGNES, school, &all).await.unwrap();
    }

    for (from, to) in [
        (ids::PAUL, ids::ALICE),
        (ids::PAUL, ids::DAVID),
        (ids::QUITTERIE, ids::ALICE),
        (ids::ALICE, ids::PAUL),
        (ids::ALICE, ids::QUITTERIE),
        (ids::DAVID, ids::PAUL),
        (ids::SAMI, ids::CHLOE),
    ] {
        assert!(can(&store, from, to).await, "{from} -> {to}");
    }
    for (from, to) in [
        (ids::QUITTERIE, ids::DAVID),
        (ids::DAVID, ids::QUITTERIE),
        (ids::ALICE, ids::DAVID),
        (ids::PAUL, ids::QUITTERIE),
        (ids::RACHEL, ids::ALICE),
        (ids::THOMAS, ids::ALICE),
    ] {
        assert!(!can(&store, from, to).await, "{from} -> {to}");
    }

    store
        .fixture_execute("UPDATE people SET active = 0 WHERE id = $1", &[ids::DAVID])
        .await
        .unwrap();
    assert!(!can(&store, ids::PAUL, ids::DAVID).await, "active people only");
    assert!(!can(&store, ids::DAVID, ids::PAUL).await, "an inactive person reaches nobody");
}

#[tokio::test]
async fn a_contact_without_legal_responsibility_reaches_nothing_through_the_child() {
    let store = fixture().await;
    let everyone: Vec<String> = PEOPLE.iter().map(|p| p.0.to_owned()).collect();

    assert!(store.may_write_to(ids::NINA, &everyone).await.unwrap().is_empty());
    assert!(!can(&store, ids::CHLOE, ids::NINA).await);
    assert!(!can(&store, ids::SAMI, ids::NINA).await, "Nina is no parent of the class");
    assert!(can(&store, ids::SOPHIE, ids::SAMI).await);
    assert!(!can(&store, ids::SOPHIE, ids::NINA).await, "nor of the school");
    assert!(store.recipient_groups(ids::NINA).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_pupil_who_moved_no_longer_links_through_the_former_class() {
    let store = fixture().await;
    move_alice_to_6b(&store).await;

    assert!(!can(&store, ids::ALICE, ids::BRUNO).await);
    assert!(!can(&store, ids::BRUNO, ids::ALICE).await);
    assert!(can(&store, ids::ALICE, ids::CHLOE).await);
    assert!(!can(&store, ids::ALICE, ids::THOMAS).await, "6A's teacher and principal");
    assert!(can(&store, ids::ALICE, ids::SOPHIE).await);
    // Quitterie's only child moved: 6A's teacher and parents are out of reach.
    assert!(!can(&store, ids::QUITTERIE, ids::THOMAS).await);
    assert!(!can(&store, ids::QUITTERIE, ids::RACHEL).await);
    assert!(!can(&store, ids::RACHEL, ids::QUITTERIE).await);
    assert!(can(&store, ids::QUITTERIE, ids::SAMI).await);
    // Paul still reaches Thomas through David's class in collège 2.
    assert!(can(&store, ids::PAUL, ids::THOMAS).await);
}

#[tokio::test]
async fn the_cases_the_issue_names() {
    let store = fixture().await;
    deliver(&store, "m-marc-alice", ids::MARC, ids::ALICE).await;

    // A pupil to another class's teacher: no.
    assert!(!can(&store, ids::CHLOE, ids::THOMAS).await);
    assert!(!can(&store, ids::ALICE, ids::HUGO).await);
    // A parent to the other parents of their child's class: yes.
    assert!(can(&store, ids::RACHEL, ids::PAUL).await);
    assert!(!can(&store, ids::RACHEL, ids::SAMI).await);
    // A staff member of school A to a pupil of school B: no.
    assert!(!can(&store, ids::HUGO, ids::ALICE).await);
    assert!(!can(&store, ids::SOPHIE, ids::DAVID).await);
    assert!(!can(&store, ids::HELENE, ids::DAVID).await);
    // A reply to any sender: yes (Marc, head of collège 2, wrote to Alice of collège 1).
    assert!(can(&store, ids::ALICE, ids::MARC).await);
    // A parent to a teacher of a child's former class after the child moved: no.
    assert!(can(&store, ids::QUITTERIE, ids::THOMAS).await);
    move_alice_to_6b(&store).await;
    assert!(!can(&store, ids::QUITTERIE, ids::THOMAS).await);
}

#[tokio::test]
async fn the_search_follows_each_schools_rules() {
    let store = fixture().await;
    let shared: &store::Store = &store;
    let bruno = move || async move {
        let found = shared.search_directory(ids::ALICE, "bruno").await.unwrap();
        found.into_iter().map(|p| p.id).collect::<Vec<_>>()
    };
    assert_eq!(bruno().await, [ids::BRUNO]);
    set(&store, ids::SCHOOL_1, Rule::PupilToClassmates, false).await;
    assert!(bruno().await.is_empty());
}

fn tokens(groups: &[store::rules::GroupOption]) -> Vec<(String, String, i64)> {
    groups.iter().map(|g| (g.token.clone(), g.label.clone(), g.members)).collect()
}

fn group(kind: GroupKind, target: &str) -> String {
    Recipient::Group(kind, target.to_owned()).token()
}

#[tokio::test]
async fn each_profile_is_offered_the_groups_it_may_address() {
    let store = fixture().await;

    let thomas = tokens(&store.recipient_groups(ids::THOMAS).await.unwrap());
    assert_eq!(
        thomas,
        [
            // Collège Camille Claudel: 5A; its other adult is Hugo.
            (group(GroupKind::ClassPupils, ids::CLASS_5A), "Élèves de 5A".to_owned(), 1),
            (group(GroupKind::ClassParents, ids::CLASS_5A), "Parents de 5A".to_owned(), 1),
            (
                group(GroupKind::ClassAdults, ids::CLASS_5A),
                "Équipe pédagogique de 5A".to_owned(),
                1
            ),
            // Collège Jean Moulin: 6A, where Thomas is the only adult.
            (group(GroupKind::ClassPupils, ids::CLASS_6A), "Élèves de 6A".to_owned(), 2),
            (group(GroupKind::ClassParents, ids::CLASS_6A), "Parents de 6A".to_owned(), 3),
        ]
    );

    let helene = store.recipient_groups(ids::HELENE).await.unwrap();
    assert_eq!(
        tokens(&helene),
        [
            (
                group(GroupKind::SchoolAdults, ids::SCHOOL_1),
                "Personnels et enseignants, Collège Jean Moulin".to_owned(),
                2
            ),
            (
                group(GroupKind::SchoolPupils, ids::SCHOOL_1),
                "Tous les élèves, Collège Jean Moulin".to_owned(),
                4
            ),
            (
                group(GroupKind::SchoolParents, ids::SCHOOL_1),
                "Tous les parents, Collège Jean Moulin".to_owned(),
                4
            ),
        ]
    );
    assert!(helene.iter().all(|g| g.school_name == "Collège Jean Moulin"));

    let sophie = tokens(&store.recipient_groups(ids::SOPHIE).await.unwrap());
    let sophie: Vec<&str> = sophie.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(
        sophie,
        [
            group(GroupKind::ClassPupils, ids::CLASS_6B),
            group(GroupKind::ClassParents, ids::CLASS_6B),
            group(GroupKind::GroupPupils, ids::GROUP_LATIN),
            group(GroupKind::GroupParents, ids::GROUP_LATIN),
        ]
    );

    let alice = tokens(&store.recipient_groups(ids::ALICE).await.unwrap());
    assert_eq!(
        alice,
        [
            (group(GroupKind::ClassPupils, ids::CLASS_6A), "Élèves de 6A".to_owned(), 1),
            (
                group(GroupKind::ClassAdults, ids::CLASS_6A),
                "Équipe pédagogique de 6A".to_owned(),
                1
            ),
        ]
    );

    let paul = tokens(&store.recipient_groups(ids::PAUL).await.unwrap());
    let paul: Vec<(&str, i64)> = paul.iter().map(|g| (g.0.as_str(), g.2)).collect();
    assert_eq!(
        paul,
        [
            (group(GroupKind::ClassAdults, ids::CLASS_5A).as_str(), 2),
            (group(GroupKind::ClassParents, ids::CLASS_6A).as_str(), 2),
            (group(GroupKind::ClassAdults, ids::CLASS_6A).as_str(), 1),
        ]
    );

    let agnes = tokens(&store.recipient_groups(ids::AGNES).await.unwrap());
    let agnes: Vec<&str> = agnes.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(
        agnes,
        [
            group(GroupKind::SchoolAdults, ids::SCHOOL_2),
            group(GroupKind::SchoolAdults, ids::SCHOOL_1)
        ]
    );

    // A rule switched off takes its groups away.
    set(&store, ids::SCHOOL_1, Rule::PupilToClassmates, false).await;
    let alice = tokens(&store.recipient_groups(ids::ALICE).await.unwrap());
    assert_eq!(alice.len(), 1);
    assert_eq!(alice[0].0, group(GroupKind::ClassAdults, ids::CLASS_6A));
}

#[tokio::test]
async fn recipients_resolve_into_reachable_people_without_the_sender() {
    let store = fixture().await;
    // Hélène attached to 6A without a subject, as AAF's ENTAuxEnsClasses says.
    store
        .fixture_execute(
            "INSERT INTO class_teachers (teacher_id, class_id, subject_code) VALUES ($1, $2, '')",
            &[ids::HELENE, ids::CLASS_6A],
        )
        .await
        .unwrap();

    let parents = Recipient::Group(GroupKind::ClassParents, ids::CLASS_6A.to_owned());
    let adults = Recipient::Group(GroupKind::ClassAdults, ids::CLASS_6A.to_owned());
    let paul = Recipient::Person(ids::PAUL.to_owned());
    let (labels, mut people) = store
        .rules_test_resolve(
            ids::THOMAS,
            &[parents.clone(), paul.clone(), adults.clone(), parents.clone()],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        labels,
        [
            (parents.token(), "Parents de 6A".to_owned()),
            (paul.token(), "Paul Martin".to_owned()),
            (adults.token(), "Équipe pédagogique de 6A".to_owned()),
        ]
    );
    people.sort();
    assert_eq!(
        people,
        [ids::PAUL, ids::QUITTERIE, ids::RACHEL, ids::HELENE],
        "Thomas is not his own recipient"
    );

    let shared: &store::Store = &store;
    let refused = move |recipients: Vec<Recipient>, from: &'static str| async move {
        shared.rules_test_resolve(from, &recipients).await.unwrap().unwrap_err()
    };
    let other_class = Recipient::Group(GroupKind::ClassPupils, ids::CLASS_6B.to_owned());
    assert_eq!(
        refused(vec![Recipient::Person(ids::BRUNO.to_owned()), other_class.clone()], ids::ALICE)
            .await,
        RuleRefusal::NotAllowed { token: other_class.token() }
    );
    let hugo = Recipient::Person(ids::HUGO.to_owned());
    assert_eq!(
        refused(vec![hugo.clone()], ids::ALICE).await,
        RuleRefusal::NotAllowed { token: hugo.token() }
    );
    let me = Recipient::Person(ids::ALICE.to_owned());
    assert_eq!(
        refused(vec![me.clone()], ids::ALICE).await,
        RuleRefusal::NotAllowed { token: me.token() }
    );
    let ghost = Recipient::Person("nobody".to_owned());
    assert_eq!(
        refused(vec![ghost.clone()], ids::ALICE).await,
        RuleRefusal::Unknown { token: ghost.token() }
    );
    let no_class = Recipient::Group(GroupKind::ClassParents, "no-class".to_owned());
    assert_eq!(
        refused(vec![no_class.clone()], ids::THOMAS).await,
        RuleRefusal::Unknown { token: no_class.token() }
    );
    assert_eq!(refused(vec![], ids::THOMAS).await, RuleRefusal::Empty);
    // A school-wide group is a staff member's or a head's, not a teacher's.
    let school = Recipient::Group(GroupKind::SchoolPupils, ids::SCHOOL_1.to_owned());
    assert_eq!(
        refused(vec![school.clone()], ids::THOMAS).await,
        RuleRefusal::NotAllowed { token: school.token() }
    );
    // A group of the right class under the wrong kind for a pupil: parents are not hers.
    let alice_parents = Recipient::Group(GroupKind::ClassParents, ids::CLASS_6A.to_owned());
    assert_eq!(
        refused(vec![alice_parents.clone()], ids::ALICE).await,
        RuleRefusal::NotAllowed { token: alice_parents.token() }
    );

    let (_, pupils) = store.rules_test_resolve(ids::HELENE, &[school]).await.unwrap().unwrap();
    assert_eq!(pupils.len(), 4);
    set(&store, ids::SCHOOL_1, Rule::StaffToSchool, false).await;
    let school = Recipient::Group(GroupKind::SchoolPupils, ids::SCHOOL_1.to_owned());
    assert_eq!(
        refused(vec![school.clone()], ids::HELENE).await,
        RuleRefusal::NotAllowed { token: school.token() }
    );
}

#[tokio::test]
async fn a_group_the_rules_reach_only_in_part_is_neither_offered_nor_sent_to() {
    let store = fixture().await;
    // Chloé joins 6A too, so that Alice's class holds two other pupils.
    store
        .fixture_execute(
            "INSERT INTO pupil_classes (pupil_id, class_id, entry_date) VALUES ($1, $2, '2025-09-01')",
            &[ids::CHLOE, ids::CLASS_6A],
        )
        .await
        .unwrap();
    let class = Recipient::Group(GroupKind::ClassPupils, ids::CLASS_6A.to_owned());
    let offered = |groups: Vec<store::rules::GroupOption>| {
        groups.iter().any(|group| group.token == class.token())
    };
    assert!(offered(store.recipient_groups(ids::ALICE).await.unwrap()));

    // Classmates closed in collège 1; Bruno wrote to Alice, so she may still answer him.
    set(&store, ids::SCHOOL_1, Rule::PupilToClassmates, false).await;
    deliver(&store, "m-bruno", ids::BRUNO, ids::ALICE).await;
    assert!(can(&store, ids::ALICE, ids::BRUNO).await);
    assert!(!offered(store.recipient_groups(ids::ALICE).await.unwrap()));
    assert_eq!(
        store.rules_test_resolve(ids::ALICE, std::slice::from_ref(&class)).await.unwrap(),
        Err(RuleRefusal::NotAllowed { token: class.token() }),
        "a message would bear the name of a class it reaches only in part"
    );
    let bruno = Recipient::Person(ids::BRUNO.to_owned());
    assert!(store.rules_test_resolve(ids::ALICE, &[bruno]).await.unwrap().is_ok());
}

#[tokio::test]
async fn the_fixture_matrix_matches_the_model_under_several_rule_sets() {
    let store = fixture().await;
    deliver(&store, "m-hugo-chloe", ids::HUGO, ids::CHLOE).await;
    deliver(&store, "m-olivier-nina", ids::OLIVIER, ids::NINA).await;
    store
        .fixture_execute(
            "INSERT INTO class_teachers (teacher_id, class_id, subject_code) VALUES ($1, $2, '')",
            &[ids::HELENE, ids::CLASS_6A],
        )
        .await
        .unwrap();

    let today = rules_support::today();
    let mut allowed_counts = Vec::new();
    let rule_sets: &[&[(&str, Rule, bool)]] = &[
        &[],
        &[
            (ids::SCHOOL_1, Rule::StaffToSchool, false),
            (ids::SCHOOL_2, Rule::PupilToDirection, true),
        ],
        &[
            (ids::SCHOOL_2, Rule::ParentToClassAdults, false),
            (ids::SCHOOL_1, Rule::ParentToClassParents, false),
            (ids::SCHOOL_1, Rule::DepartementToSchoolAdults, false),
        ],
    ];
    for (round, rule_set) in rule_sets.iter().enumerate() {
        for (school, rule, allowed) in *rule_set {
            set(&store, school, *rule, *allowed).await;
        }
        if round == 2 {
            move_alice_to_6b(&store).await;
        }
        let model = rules_support::Model::load(&store, &today).await;
        let viewers = rules_support::everyone(&model);
        let (pairs, allowed) = rules_support::compare(&store, &model, &viewers, 1).await;
        assert_eq!(pairs, 2 * PEOPLE.len() * PEOPLE.len());
        if round == 0 {
            rules_support::compare_general(&store, &model, &viewers, &viewers).await;
        }
        allowed_counts.push(allowed);
        store.reset_school_rules(ids::AGNES, ids::SCHOOL_1).await.unwrap();
        store.reset_school_rules(ids::AGNES, ids::SCHOOL_2).await.unwrap();
    }
    assert!(allowed_counts[0] > allowed_counts[1], "{allowed_counts:?}");
}

#[tokio::test]
async fn an_inactive_or_unknown_person_reaches_nobody() {
    let store = fixture().await;
    store
        .fixture_execute("UPDATE people SET active = 0 WHERE id = $1", &[ids::THOMAS])
        .await
        .unwrap();
    let everyone: Vec<String> = PEOPLE.iter().map(|p| p.0.to_owned()).collect();

    for viewer in [ids::THOMAS, "nobody"] {
        assert!(store.may_write_to(viewer, &everyone).await.unwrap().is_empty(), "{viewer}");
        assert!(store.search_directory(viewer, "").await.unwrap().is_empty(), "{viewer}");
        assert!(store.recipient_groups(viewer).await.unwrap().is_empty(), "{viewer}");
        let paul = Recipient::Person(ids::PAUL.to_owned());
        assert_eq!(
            store.rules_test_resolve(viewer, std::slice::from_ref(&paul)).await.unwrap(),
            Err(RuleRefusal::NotAllowed { token: paul.token() }),
            "{viewer}"
        );
    }
    assert!(!can(&store, ids::ALICE, ids::THOMAS).await, "nor is reached");
}

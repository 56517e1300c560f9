//! The fixed texts of the agreement, in Préau's own French words, following the content of the
//! national model of July 2024 for collège pupils (circular of 12 July 2024, NOR MENE2407449C):
//! the references ("Vu"), the articles of Title I and the standard paragraphs of annexes A and
//! B. The agreement's own facts are added by `agreement_pdf`.

/// The references the agreement is made under, one paragraph each; the board's deliberation is
/// added with its date.
pub(super) const REFERENCES: [&str; 8] = [
    "Vu le code du travail, et notamment ses articles L. 4153-1 à L. 4153-3, L. 4153-5 et \
     D. 4153-15 à D. 4153-37 ;",
    "Vu le code de l'éducation, et notamment ses articles L. 124-1, L. 134-9, L. 313-1, \
     L. 331-4, L. 331-5, L. 332-3, L. 335-2, L. 411-3, L. 421-7, L. 911-4, D. 331-1 à D. 331-9 \
     et D. 333-3-1 ;",
    "Vu le code civil, et notamment ses articles 1240 à 1242 ;",
    "Vu la circulaire n° 96-248 du 25 octobre 1996 relative à la surveillance des élèves ;",
    "Vu la circulaire du 10 février 2021 relative au projet d'accueil individualisé (PAI) ;",
    "Vu la circulaire du 13 juin 2023 relative aux sorties et voyages scolaires ;",
    "Vu la circulaire du 12 juillet 2024 « Séquences d'observation, visites d'information et \
     stages pour les élèves de collège » (NOR MENE2407449C) ;",
    "Vu le règlement intérieur du collège ;",
];

/// The articles of Title I: (heading, paragraphs).
pub(super) const TITLE_ONE: [(&str, &[&str]); 9] = [
    (
        "Article 1 — Objet de la convention",
        &["La présente convention organise, au profit de l'élève désigné en annexe, une \
             séquence d'observation en milieu professionnel au sein de l'organisme d'accueil. \
             Cette séquence s'adresse aux élèves des classes de quatrième et de troisième du \
             collège ; elle leur fait découvrir le monde économique et professionnel et les aide \
             à construire leur projet d'orientation."],
    ),
    (
        "Article 2 — Annexes",
        &["La convention comprend une annexe pédagogique (annexe A) et une annexe financière \
             (annexe B). Ces annexes font partie de la convention : elles précisent l'élève, les \
             dates, le lieu, les horaires, les activités prévues et les conditions matérielles \
             de l'accueil."],
    ),
    (
        "Article 3 — Organisation de la séquence",
        &["L'organisation de la séquence d'observation est arrêtée d'un commun accord entre \
             le chef de l'organisme d'accueil, ou son représentant, et le chef d'établissement. \
             Le tuteur désigné par l'organisme d'accueil et le professeur référent désigné par le \
             collège suivent ensemble son déroulement."],
    ),
    (
        "Article 4 — Statut de l'élève",
        &[
            "Pendant toute la durée de la séquence, l'élève demeure sous statut scolaire. Il \
             reste placé sous l'autorité et la responsabilité du chef d'établissement.",
            "L'élève ne perçoit de l'organisme d'accueil aucune rémunération ni aucune \
             gratification, sous quelque forme que ce soit.",
        ],
    ),
    (
        "Article 5 — Activités de l'élève et sécurité",
        &[
            "L'élève observe ; il ne participe à aucune activité de production de l'organisme \
             d'accueil. Il peut, sous le contrôle d'un membre du personnel, mener des enquêtes, \
             poser des questions et assister à des démonstrations ou y prendre part, dans la \
             mesure où elles ne présentent aucun risque.",
            "Conformément au code du travail (articles D. 4153-15 à D. 4153-37), l'élève ne peut \
             ni utiliser ni manipuler les machines, appareils ou produits dont l'usage est \
             interdit aux mineurs, et n'accède à aucun travail réglementé pour eux.",
            "Lorsque l'élève bénéficie d'un projet d'accueil individualisé (PAI), l'organisme \
             d'accueil en est informé et la trousse d'urgence accompagne l'élève dans les \
             conditions prévues à l'annexe A.",
        ],
    ),
    (
        "Article 6 — Assurances",
        &[
            "L'organisme d'accueil garantit sa responsabilité civile pour les dommages causés \
             ou subis par l'élève à l'occasion de la séquence, soit par un contrat spécifique, \
             soit par un avenant à son contrat de responsabilité civile d'entreprise ou \
             professionnelle.",
            "Le chef d'établissement contracte une assurance couvrant la responsabilité civile \
             de l'élève pour les dommages qu'il pourrait causer pendant la séquence, y compris \
             au cours du trajet. L'élève ou sa famille fournit une attestation d'assurance de \
             responsabilité civile.",
        ],
    ),
    (
        "Article 7 — Accident",
        &["En cas d'accident survenant à l'élève pendant la séquence ou sur le trajet, \
             l'organisme d'accueil prévient sans délai le chef d'établissement et lui adresse la \
             déclaration d'accident le jour même."],
    ),
    (
        "Article 8 — Protection contre les violences sexistes et sexuelles",
        &["L'organisme d'accueil protège l'élève contre toute forme de harcèlement et de \
             violence sexiste ou sexuelle (code du travail, articles L. 1142-2-1 et L. 1153-1 ; \
             loi n° 2018-703 du 3 août 2018). Il informe l'élève, dès son arrivée, de ces règles \
             et des personnes à qui s'adresser au sein de l'organisme ; l'élève peut aussi \
             alerter à tout moment le professeur référent ou le chef d'établissement."],
    ),
    (
        "Article 9 — Durée de la séquence",
        &["La séquence d'observation dure cinq jours, consécutifs ou non. Elle est facultative \
             en classe de quatrième et obligatoire en classe de troisième. Ses dates figurent à \
             l'annexe A."],
    ),
];

/// The legal limits recalled under the hours of annexe A.
pub(super) const HOURS_REMINDER: [&str; 5] = [
    "Durée de présence : au plus 35 heures par semaine et 7 heures par jour.",
    "Repos quotidien : au moins 14 heures consécutives entre deux journées.",
    "Repos hebdomadaire : au moins deux jours consécutifs.",
    "Pause : 30 minutes consécutives au moins dès que la présence quotidienne atteint 4 h 30.",
    "Aucune présence la nuit, entre 20 heures et 6 heures, pour un élève de moins de 16 ans.",
];

pub(super) const OBJECTIVES: &str = "La séquence d'observation permet à l'élève de découvrir un \
     milieu professionnel, ses métiers et ses contraintes, d'échanger avec des professionnels sur \
     leurs parcours, et de nourrir sa réflexion sur son orientation.";

/// The skills the sequence aims at.
pub(super) const SKILLS: [&str; 4] = [
    "Observer : repérer l'organisation, les métiers et les façons de travailler.",
    "Communiquer : se présenter, questionner, rendre compte de ce qui a été vu.",
    "Comprendre : relier les activités observées aux métiers et aux formations.",
    "S'impliquer : faire preuve de curiosité, de ponctualité et de respect des règles.",
];

pub(super) const EVALUATION: &str = "Un temps de préparation a lieu au collège avant la \
     séquence ; après elle, l'élève rend compte de ce qu'il a observé lors d'un temps de \
     restitution organisé par l'équipe pédagogique. Le tuteur peut transmettre au professeur \
     référent une appréciation sur le déroulement de la séquence.";

/// Annexe B: (heading, paragraph).
pub(super) const FINANCIAL: [(&str, &str); 4] = [
    (
        "Hébergement",
        "L'hébergement de l'élève n'est pas pris en charge dans le cadre de la séquence.",
    ),
    (
        "Restauration",
        "L'élève peut déjeuner au restaurant de l'organisme d'accueil, s'il en existe un, dans \
         les conditions applicables au personnel ; les frais restent à la charge de la famille, \
         sauf si l'organisme d'accueil décide d'en prendre une partie à sa charge.",
    ),
    (
        "Transport",
        "Le trajet entre le domicile et l'organisme d'accueil est assimilé au trajet habituel \
         entre le domicile et le collège (circulaire n° 96-248 du 25 octobre 1996). L'élève peut \
         s'y rendre seul ; les frais de transport restent à la charge de la famille.",
    ),
    ("Assurance", "Chaque partie est assurée comme le prévoit l'article 6 de la convention."),
];

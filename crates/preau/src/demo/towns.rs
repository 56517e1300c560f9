//! The towns of the Vienne area where the demo places its collèges, as facts written here (name,
//! postcode, WGS-84 coordinates of the town centre), and the order in which collèges are given
//! to them so that the default 34 collèges follow the real weight of each town.

/// A town of the demo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Town {
    pub name: &'static str,
    pub postcode: &'static str,
    pub latitude: f64,
    pub longitude: f64,
}

const fn town(name: &'static str, postcode: &'static str, latitude: f64, longitude: f64) -> Town {
    Town { name, postcode, latitude, longitude }
}

/// The towns, largest first.
pub const TOWNS: [Town; 44] = [
    town("Poitiers", "86000", 46.58261, 0.34348),
    town("Châtellerault", "86100", 46.81705, 0.54518),
    town("Buxerolles", "86180", 46.61667, 0.48333),
    town("Loudun", "86200", 47.00788, 0.08296),
    town("Montmorillon", "86500", 46.42645, 0.86963),
    town("Saint-Benoît", "86280", 46.55025, 0.34177),
    town("Chauvigny", "86300", 46.56979, 0.64346),
    town("Migné-Auxances", "86440", 46.62756, 0.31483),
    town("Jaunay-Marigny", "86130", 46.68503, 0.37179),
    town("Naintré", "86530", 46.76285, 0.48303),
    town("Vouneuil-sous-Biard", "86580", 46.57285, 0.27022),
    town("Neuville-de-Poitou", "86170", 46.68505, 0.24474),
    town("Chasseneuil-du-Poitou", "86360", 46.65131, 0.37233),
    town("Mignaloux-Beauvoir", "86550", 46.54311, 0.4145),
    town("Dangé-Saint-Romain", "86220", 46.93333, 0.6),
    town("Saint-Georges-lès-Baillargeaux", "86130", 46.67095, 0.39842),
    town("Fontaine-le-Comte", "86240", 46.53136, 0.26226),
    town("Civray", "86400", 46.14801, 0.29513),
    town("Vivonne", "86370", 46.4299, 0.26406),
    town("Vouillé", "86190", 46.64101, 0.16818),
    town("Lusignan", "86600", 46.43531, 0.12204),
    town("Lussac-les-Châteaux", "86320", 46.40329, 0.72326),
    town("Mirebeau", "86110", 46.78541, 0.18184),
    town("Lencloître", "86140", 46.81434, 0.32796),
    town("Couhé", "86700", 46.29982, 0.18199),
    town("La Roche-Posay", "86270", 46.78649, 0.8122),
    town("Pleumartin", "86450", 46.73754, 0.76592),
    town("Saint-Savin", "86310", 46.56605, 0.86381),
    town("Availles-Limouzine", "86460", 46.12112, 0.65529),
    town("Charroux", "86250", 46.1444, 0.40333),
    town("Usson-du-Poitou", "86350", 46.27803, 0.52773),
    town("Dissay", "86130", 46.70065, 0.43166),
    town("Scorbé-Clairvaux", "86140", 46.81303, 0.41344),
    town("Thuré", "86540", 46.8317, 0.45938),
    town("Iteuil", "86240", 46.48849, 0.31124),
    town("Smarves", "86240", 46.5113, 0.35007),
    town("Ligugé", "86240", 46.51984, 0.32665),
    town("Nouaillé-Maupertuis", "86340", 46.50784, 0.41395),
    town("Montamisé", "86360", 46.62153, 0.42483),
    town("Rouillé", "86480", 46.42042, 0.04032),
    town("Vendeuvre-du-Poitou", "86380", 46.73576, 0.30942),
    town("Saint-Gervais-les-Trois-Clochers", "86230", 46.90065, 0.4076),
    town("Bonneuil-Matours", "86210", 46.6819, 0.56968),
    town("Sèvres-Anxaumont", "86800", 46.56929, 0.46548),
];

/// The town of each collège, by index in [`TOWNS`], in the order collèges are created: the
/// first 34 give Poitiers six collèges and Châtellerault four, and a small demo still spreads
/// over several towns.
pub const SCHOOL_TOWNS: [usize; 52] = [
    0, 1, 0, 3, 4, 2, 0, 1, 6, 5, 0, 17, 9, 8, 1, 7, 11, 0, 20, 18, 12, 22, 23, 0, 21, 19, 14, 1,
    13, 15, 16, 10, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
];

/// Names given to collèges, as French collèges are named.
pub const SCHOOL_NAMES: [&str; 40] = [
    "Jean Moulin",
    "Victor Hugo",
    "Camille Claudel",
    "Marie Curie",
    "Louise Michel",
    "Jules Verne",
    "Aliénor d'Aquitaine",
    "Simone Veil",
    "Jean Rostand",
    "Georges Brassens",
    "Pierre de Ronsard",
    "Théodore Monod",
    "François Rabelais",
    "René Descartes",
    "Joséphine Baker",
    "Lucie Aubrac",
    "Arthur Rimbaud",
    "Jacques Prévert",
    "Gérard Philipe",
    "Paul Éluard",
    "Albert Camus",
    "Françoise Dolto",
    "Jean Zay",
    "Olympe de Gouges",
    "Germaine Tillion",
    "Maurice Genevoix",
    "Romain Rolland",
    "Henri Wallon",
    "Rosa Parks",
    "Antoine de Saint-Exupéry",
    "Geneviève de Gaulle-Anthonioz",
    "Jean de La Fontaine",
    "Colette",
    "Nelson Mandela",
    "Les Explorateurs",
    "Le Bois d'Amour",
    "Les Ormeaux",
    "France Bloch-Sérazin",
    "Gisèle Halimi",
    "Ambroise Paré",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_school_slot_names_a_town_and_the_default_gives_poitiers_six_colleges() {
        assert!(SCHOOL_TOWNS.iter().all(|&i| i < TOWNS.len()));
        let first: Vec<usize> = SCHOOL_TOWNS[..34].to_vec();
        assert_eq!(first.iter().filter(|&&i| i == 0).count(), 6);
        assert_eq!(first.iter().filter(|&&i| i == 1).count(), 4);
    }

    #[test]
    fn towns_lie_around_the_vienne_with_vienne_postcodes() {
        for town in TOWNS {
            assert!((46.0..47.2).contains(&town.latitude), "{}", town.name);
            assert!((-0.2..1.2).contains(&town.longitude), "{}", town.name);
            assert!(town.postcode.starts_with("86"), "{}", town.name);
        }
    }
}

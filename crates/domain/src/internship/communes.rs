//! The gazetteer that ships with Préau: the Vienne's main communes (every town of more than a
//! thousand inhabitants or so, and the market towns of the rural cantons) with their postcode,
//! INSEE code when known, and the coordinates of their centre (the town hall's square, to
//! about a hundred metres). An offer typed without a precise point is placed at its commune's
//! centre; the store seeds these when its `communes` table is empty, and `preau import
//! communes` can add or correct any of them. Populations are orders of magnitude (legal
//! populations of the 2020s, rounded), used only to prefer the larger of two homonyms.

/// One commune of the built-in gazetteer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuiltinCommune {
    pub name: &'static str,
    pub postal_code: &'static str,
    /// The INSEE code, when it is known here for sure.
    pub insee: Option<&'static str>,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u32,
}

impl BuiltinCommune {
    /// The stored id: the INSEE code, else `86-` and the folded name.
    pub fn id(&self) -> String {
        match self.insee {
            Some(code) => code.to_owned(),
            None => format!("86-{}", crate::names::fold_for_search(self.name).replace(' ', "-")),
        }
    }
}

const fn commune(
    name: &'static str,
    postal_code: &'static str,
    insee: Option<&'static str>,
    latitude: f64,
    longitude: f64,
    population: u32,
) -> BuiltinCommune {
    BuiltinCommune { name, postal_code, insee, latitude, longitude, population }
}

/// The Vienne's communes, largest first.
pub const VIENNE: &[BuiltinCommune] = &[
    commune("Poitiers", "86000", Some("86194"), 46.5802, 0.3404, 89_000),
    commune("Châtellerault", "86100", Some("86066"), 46.8178, 0.5461, 31_500),
    commune("Buxerolles", "86180", Some("86041"), 46.6167, 0.4833, 10_000),
    commune("Jaunay-Marigny", "86130", Some("86115"), 46.6847, 0.3700, 7_700),
    commune("Saint-Benoît", "86280", Some("86214"), 46.5497, 0.3414, 7_500),
    commune("Chauvigny", "86300", Some("86070"), 46.5686, 0.6461, 7_000),
    commune("Loudun", "86200", Some("86137"), 47.0097, 0.0831, 6_500),
    commune("Migné-Auxances", "86440", Some("86158"), 46.6281, 0.3144, 6_200),
    commune("Montmorillon", "86500", Some("86165"), 46.4264, 0.8708, 6_000),
    commune("Naintré", "86530", Some("86174"), 46.7633, 0.4858, 5_800),
    commune("Neuville-de-Poitou", "86170", Some("86177"), 46.6833, 0.2469, 5_400),
    commune("Vouneuil-sous-Biard", "86580", Some("86297"), 46.5731, 0.2703, 5_500),
    commune("Chasseneuil-du-Poitou", "86360", Some("86062"), 46.6511, 0.3728, 4_800),
    commune("Mignaloux-Beauvoir", "86550", Some("86157"), 46.5433, 0.4144, 4_500),
    commune("Vivonne", "86370", Some("86293"), 46.4300, 0.2642, 4_400),
    commune("Saint-Georges-lès-Baillargeaux", "86130", None, 46.6711, 0.3983, 4_200),
    commune("Fontaine-le-Comte", "86240", Some("86100"), 46.5314, 0.2622, 4_000),
    commune("Vouillé", "86190", Some("86294"), 46.6411, 0.1678, 3_900),
    commune("Montamisé", "86360", None, 46.6214, 0.4250, 3_600),
    commune("Iteuil", "86240", None, 46.4886, 0.3114, 3_300),
    commune("Dissay", "86130", None, 46.7006, 0.4317, 3_300),
    commune("Ligugé", "86240", Some("86133"), 46.5197, 0.3267, 3_200),
    commune("Dangé-Saint-Romain", "86220", None, 46.9333, 0.6022, 3_100),
    commune("Beaumont Saint-Cyr", "86130", None, 46.7369, 0.4297, 3_000),
    commune("Thuré", "86540", None, 46.8317, 0.4594, 3_000),
    commune("Cissé", "86170", None, 46.6461, 0.2283, 2_800),
    commune("Nouaillé-Maupertuis", "86340", None, 46.5078, 0.4139, 2_800),
    commune("Lusignan", "86600", Some("86139"), 46.4353, 0.1222, 2_700),
    commune("Smarves", "86240", None, 46.5114, 0.3500, 2_700),
    commune("Civray", "86400", Some("86078"), 46.1481, 0.2950, 2_600),
    commune("Rouillé", "86480", None, 46.4203, 0.0403, 2_600),
    commune("Saint-Julien-l'Ars", "86800", None, 46.5531, 0.5000, 2_600),
    commune("Lencloître", "86140", None, 46.8144, 0.3281, 2_500),
    commune("Scorbé-Clairvaux", "86140", None, 46.8131, 0.4133, 2_400),
    commune("Mirebeau", "86110", None, 46.7853, 0.1817, 2_400),
    commune("Lussac-les-Châteaux", "86320", None, 46.4033, 0.7236, 2_300),
    commune("Sèvres-Anxaumont", "86800", None, 46.5694, 0.4656, 2_200),
    commune("Vouneuil-sur-Vienne", "86210", None, 46.7178, 0.5403, 2_200),
    commune("Quinçay", "86190", None, 46.6083, 0.2222, 2_200),
    commune("Bonneuil-Matours", "86210", None, 46.6819, 0.5697, 2_100),
    commune("Roches-Prémarie-Andillé", "86340", None, 46.4844, 0.3697, 2_000),
    commune("Cenon-sur-Vienne", "86530", None, 46.7742, 0.5367, 1_900),
    commune("Avanton", "86170", None, 46.6631, 0.3031, 1_900),
    commune("Biard", "86580", None, 46.5775, 0.3056, 1_800),
    commune("Gençay", "86160", None, 46.3739, 0.4053, 1_800),
    commune("Bonnes", "86300", None, 46.6044, 0.5953, 1_700),
    commune("Les Ormes", "86220", None, 46.9722, 0.6061, 1_600),
    commune("La Roche-Posay", "86270", None, 46.7867, 0.8122, 1_600),
    commune("Latillé", "86190", None, 46.6194, 0.0750, 1_450),
    commune("Savigné", "86400", None, 46.1592, 0.3211, 1_400),
    commune("La Villedieu-du-Clain", "86340", None, 46.4553, 0.3697, 1_400),
    commune("Saint-Sauvant", "86600", None, 46.3611, 0.0564, 1_350),
    commune("Lathus-Saint-Rémy", "86390", None, 46.3344, 0.9581, 1_350),
    commune("Availles-Limouzine", "86460", None, 46.1211, 0.6553, 1_300),
    commune("Usson-du-Poitou", "86350", None, 46.2781, 0.5278, 1_300),
    commune("Saint-Gervais-les-Trois-Clochers", "86230", None, 46.9006, 0.4075, 1_300),
    commune("Chaunay", "86510", None, 46.2072, 0.1642, 1_250),
    commune("L'Isle-Jourdain", "86150", None, 46.2339, 0.6864, 1_200),
    commune("Pleumartin", "86450", None, 46.7375, 0.7661, 1_200),
    commune("Colombiers", "86490", None, 46.7722, 0.4253, 1_350),
    commune("Béruges", "86190", None, 46.5672, 0.2072, 1_150),
    commune("Charroux", "86250", None, 46.1444, 0.4033, 1_100),
    commune("Archigny", "86210", None, 46.6733, 0.6522, 1_050),
    commune("Tercé", "86800", None, 46.5169, 0.5636, 1_050),
    commune("Lavoux", "86800", None, 46.5964, 0.5297, 1_050),
    commune("Saint-Savin", "86310", None, 46.5656, 0.8636, 900),
    commune("Moncontour", "86330", None, 46.8817, -0.0175, 1_000),
];

/// The built-in communes whose folded name is `folded` (a few homonyms at most).
pub fn by_folded_name(folded: &str) -> impl Iterator<Item = &'static BuiltinCommune> + '_ {
    VIENNE.iter().filter(move |c| crate::names::fold_for_search(c.name) == folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internship::geo::{Point, distance_km};

    /// The GeoNames list of the towns around the Vienne, read in place.
    const GEONAMES: &str =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geo/towns-around-vienne.csv");

    #[test]
    fn every_commune_is_well_formed_and_listed_once() {
        assert!(VIENNE.len() >= 45);
        for commune in VIENNE {
            assert!(commune.postal_code.starts_with("86") && commune.postal_code.len() == 5);
            assert!(commune.insee.is_none_or(|code| code.starts_with("86") && code.len() == 5));
            assert!(Point::new(commune.latitude, commune.longitude).is_some());
            // The Vienne lies between 45.9° and 47.2° N, 0.2° W and 1.3° E.
            assert!((45.9..47.2).contains(&commune.latitude), "{}", commune.name);
            assert!((-0.2..1.3).contains(&commune.longitude), "{}", commune.name);
            let same = VIENNE.iter().filter(|other| other.id() == commune.id()).count();
            assert_eq!(same, 1, "{}", commune.name);
        }
    }

    #[test]
    fn every_commune_of_the_geonames_file_is_within_three_km_of_its_place_there() {
        let text = std::fs::read_to_string(GEONAMES).expect("the shared GeoNames file");
        let mut compared = 0;
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let [_, name, admin, _, lat, lon] = fields.as_slice() else { continue };
            // 75 is Nouvelle-Aquitaine: the Vienne's neighbours of other regions are left out.
            let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) else { continue };
            if *admin != "75" {
                continue;
            }
            let folded = crate::names::fold_for_search(name.trim_matches('"'));
            for commune in by_folded_name(&folded) {
                let there = Point::new(lat, lon).unwrap();
                let here = Point::new(commune.latitude, commune.longitude).unwrap();
                let distance = distance_km(here, there);
                assert!(distance < 3.0, "{} is {distance:.1} km away", commune.name);
                compared += 1;
            }
        }
        assert!(compared >= 40, "only {compared} communes compared");
    }
}

//! Which time zone a school lives in. AAF carries no time zone, but a UAI starts with the code of
//! its département or territory, and the overseas ones each have their zone: a collège of La
//! Réunion (`974…`) keeps its lessons and its "today" in `Indian/Reunion`, not in Paris.

/// The zone of metropolitan France, and the default for any UAI not listed below.
pub const DEFAULT_ZONE: &str = "Europe/Paris";

/// The IANA zone of the territory a UAI belongs to, from its first three characters.
pub fn zone_for_uai(uai: &str) -> &'static str {
    match uai.get(..3) {
        Some("971") => "America/Guadeloupe",
        Some("972") => "America/Martinique",
        Some("973") => "America/Cayenne",
        Some("974") => "Indian/Reunion",
        Some("975") => "America/Miquelon",
        Some("976") => "Indian/Mayotte",
        Some("977") => "America/St_Barthelemy",
        Some("978") => "America/Marigot",
        Some("986") => "Pacific/Wallis",
        Some("987") => "Pacific/Tahiti",
        Some("988") => "Pacific/Noumea",
        _ => DEFAULT_ZONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overseas_uais_get_their_own_zone() {
        assert_eq!(zone_for_uai("9740001A"), "Indian/Reunion");
        assert_eq!(zone_for_uai("9880012K"), "Pacific/Noumea");
        assert_eq!(zone_for_uai("9710003B"), "America/Guadeloupe");
    }

    #[test]
    fn metropolitan_corsican_and_odd_uais_stay_in_paris() {
        assert_eq!(zone_for_uai("0860001A"), DEFAULT_ZONE);
        assert_eq!(zone_for_uai("6200001A"), DEFAULT_ZONE);
        assert_eq!(zone_for_uai("9"), DEFAULT_ZONE);
        assert_eq!(zone_for_uai("éé"), DEFAULT_ZONE);
    }
}

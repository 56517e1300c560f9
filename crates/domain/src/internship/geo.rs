//! Distances on the Earth for the offer search: the great-circle distance between two WGS-84
//! points, and the latitude and longitude box that holds every point within a radius, which the
//! SQL uses to keep only nearby offers before the exact distance is computed.

/// The mean radius of the Earth, in kilometres.
const EARTH_RADIUS_KM: f64 = 6_371.0;

/// A WGS-84 point, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

impl Point {
    /// A point, if both coordinates are finite and within their ranges.
    pub fn new(latitude: f64, longitude: f64) -> Option<Point> {
        let valid = latitude.is_finite()
            && longitude.is_finite()
            && (-90.0..=90.0).contains(&latitude)
            && (-180.0..=180.0).contains(&longitude);
        valid.then_some(Point { latitude, longitude })
    }
}

/// The great-circle distance in kilometres (haversine formula).
pub fn distance_km(a: Point, b: Point) -> f64 {
    let (lat_a, lat_b) = (a.latitude.to_radians(), b.latitude.to_radians());
    let d_lat = lat_b - lat_a;
    let d_lon = (b.longitude - a.longitude).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat_a.cos() * lat_b.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The box of latitudes and longitudes that holds every point within `radius_km` of `centre`:
/// `(min_latitude, max_latitude, min_longitude, max_longitude)`. It is a little larger than the
/// circle; the exact distance decides.
pub fn bounding_box(centre: Point, radius_km: f64) -> (f64, f64, f64, f64) {
    let d_lat = (radius_km / EARTH_RADIUS_KM).to_degrees();
    let cos_lat = centre.latitude.to_radians().cos().max(0.01);
    let d_lon = (radius_km / (EARTH_RADIUS_KM * cos_lat)).to_degrees().min(180.0);
    (
        (centre.latitude - d_lat).max(-90.0),
        (centre.latitude + d_lat).min(90.0),
        centre.longitude - d_lon,
        centre.longitude + d_lon,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poitiers_to_chatellerault_is_about_thirty_two_km() {
        let poitiers = Point::new(46.58261, 0.34348).unwrap();
        let chatellerault = Point::new(46.81705, 0.54518).unwrap();
        let distance = distance_km(poitiers, chatellerault);
        assert!((29.0..32.0).contains(&distance), "{distance}");

        let (min_lat, max_lat, min_lon, max_lon) = bounding_box(poitiers, distance + 0.1);
        assert!((min_lat..=max_lat).contains(&chatellerault.latitude));
        assert!((min_lon..=max_lon).contains(&chatellerault.longitude));
    }

    #[test]
    fn refuses_points_off_the_globe() {
        assert!(Point::new(91.0, 0.0).is_none());
        assert!(Point::new(f64::NAN, 0.0).is_none());
        assert!(Point::new(0.0, 181.0).is_none());
    }
}

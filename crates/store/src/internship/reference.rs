//! The internship platform's reference lists: the national sectors (`internship_sectors`,
//! keyed by the national UUID) and the gazetteer of communes (`communes`). Imports upsert in
//! one transaction; a commune of an imported file that is already known under another code
//! (the built-in gazetteer keys by INSEE code, GeoNames by its own id) is recognised by its
//! name and place and updated rather than listed twice. `ensure_gazetteer` seeds the built-in
//! Vienne communes into an empty table, and `locate_commune` places an address typed as a
//! postcode and a town.

use domain::internship::geo::{Point, distance_km};
use formats::internship_reference::{Commune, Sector};
use sqlx::Row;

use crate::{Store, StoreResult};

/// Two communes of the same name closer than this are the same commune.
const SAME_COMMUNE_KM: f64 = 10.0;

/// A commune of the gazetteer.
#[derive(Debug, Clone, PartialEq)]
pub struct CommuneRecord {
    pub id: String,
    pub name: String,
    pub postal_code: Option<String>,
    pub point: Point,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    pub added: usize,
    pub updated: usize,
}

/// The key a commune is looked up by: its name folded for search, hyphens and apostrophes as
/// spaces, so that « Saint Benoit » finds « Saint-Benoît ».
pub fn commune_key(name: &str) -> String {
    domain::names::fold_for_search(&name.replace(['-', '\'', '’'], " "))
}

fn commune_of(row: &sqlx::any::AnyRow) -> StoreResult<CommuneRecord> {
    let latitude: f64 = row.try_get("latitude")?;
    let longitude: f64 = row.try_get("longitude")?;
    let point = Point::new(latitude, longitude)
        .ok_or_else(|| crate::StoreError::Corrupt(format!("commune at {latitude},{longitude}")))?;
    Ok(CommuneRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        postal_code: row.try_get("postal_code")?,
        point,
    })
}

const COMMUNE_COLUMNS: &str = "id, name, postal_code, latitude, longitude";

/// The commune a postcode and a town name designate, in the caller's transaction: by name
/// (the one with this postcode first, then the most populated), else by postcode alone.
pub(crate) async fn locate_commune_in(
    conn: &mut sqlx::AnyConnection,
    postal_code: &str,
    city: &str,
) -> StoreResult<Option<CommuneRecord>> {
    let key = commune_key(city);
    let postal_code = postal_code.trim();
    if !key.is_empty() {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMMUNE_COLUMNS} FROM communes WHERE folded_name = $1 \
             ORDER BY CASE WHEN postal_code = $2 THEN 0 WHEN postal_code IS NULL THEN 1 \
             ELSE 2 END, COALESCE(population, 0) DESC, id LIMIT 1"
        )))
        .bind(&key)
        .bind(postal_code)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return commune_of(&row).map(Some);
        }
    }
    if postal_code.len() == 5 && postal_code.bytes().all(|b| b.is_ascii_digit()) {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMMUNE_COLUMNS} FROM communes WHERE postal_code = $1 \
             ORDER BY COALESCE(population, 0) DESC, id LIMIT 1"
        )))
        .bind(postal_code)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return commune_of(&row).map(Some);
        }
    }
    Ok(None)
}

/// Writes one commune: updates the row of the same id, else the row of the same name within
/// a few kilometres, else inserts it. Returns whether it was added.
async fn upsert_commune(conn: &mut sqlx::AnyConnection, commune: &Commune) -> StoreResult<bool> {
    let key = commune_key(&commune.name);
    let mut target: Option<String> = sqlx::query_scalar("SELECT id FROM communes WHERE id = $1")
        .bind(&commune.id)
        .fetch_optional(&mut *conn)
        .await?;
    if target.is_none() {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMMUNE_COLUMNS} FROM communes WHERE folded_name = $1"
        )))
        .bind(&key)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let known = commune_of(&row)?;
            if distance_km(known.point, commune.point) < SAME_COMMUNE_KM {
                target = Some(known.id);
                break;
            }
        }
    }

    match target {
        Some(id) => {
            sqlx::query(
                "UPDATE communes SET name = $2, folded_name = $3, \
                 postal_code = COALESCE($4, postal_code), population = COALESCE($5, population), \
                 latitude = $6, longitude = $7 WHERE id = $1",
            )
            .bind(id)
            .bind(&commune.name)
            .bind(&key)
            .bind(commune.postal_code.as_deref())
            .bind(commune.population)
            .bind(commune.point.latitude)
            .bind(commune.point.longitude)
            .execute(&mut *conn)
            .await?;
            Ok(false)
        }
        None => {
            sqlx::query(
                "INSERT INTO communes (id, name, folded_name, postal_code, population, \
                 latitude, longitude) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&commune.id)
            .bind(&commune.name)
            .bind(&key)
            .bind(commune.postal_code.as_deref())
            .bind(commune.population)
            .bind(commune.point.latitude)
            .bind(commune.point.longitude)
            .execute(&mut *conn)
            .await?;
            Ok(true)
        }
    }
}

impl Store {
    /// Writes the national sectors (insert or rename by UUID), in one transaction. Sectors
    /// absent from the list are kept: offers may name them.
    ///
    /// # Errors
    /// Database errors; nothing is written then.
    pub async fn import_sectors(&self, sectors: &[Sector]) -> StoreResult<ImportCounts> {
        let mut counts = ImportCounts::default();
        let mut tx = self.begin_write().await?;
        for sector in sectors {
            let known: Option<String> =
                sqlx::query_scalar("SELECT id FROM internship_sectors WHERE id = $1")
                    .bind(&sector.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let sql = if known.is_some() {
                counts.updated += 1;
                "UPDATE internship_sectors SET name = $2, folded_name = $3 WHERE id = $1"
            } else {
                counts.added += 1;
                "INSERT INTO internship_sectors (id, name, folded_name) VALUES ($1, $2, $3)"
            };
            sqlx::query(sql)
                .bind(&sector.id)
                .bind(&sector.name)
                .bind(domain::names::fold_for_search(&sector.name))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::info!(added = counts.added, updated = counts.updated, "sectors imported");
        Ok(counts)
    }

    /// Writes communes into the gazetteer, in one transaction (see the module's paragraph).
    ///
    /// # Errors
    /// Database errors; nothing is written then.
    pub async fn import_communes(&self, communes: &[Commune]) -> StoreResult<ImportCounts> {
        let mut counts = ImportCounts::default();
        let mut tx = self.begin_write().await?;
        for commune in communes {
            if upsert_commune(&mut tx, commune).await? {
                counts.added += 1;
            } else {
                counts.updated += 1;
            }
        }
        tx.commit().await?;
        tracing::info!(added = counts.added, updated = counts.updated, "communes imported");
        Ok(counts)
    }

    /// Seeds the built-in gazetteer (`domain::internship::communes::VIENNE`) when the table
    /// of communes is empty; returns how many communes were written.
    ///
    /// # Errors
    /// Database errors.
    pub async fn ensure_gazetteer(&self) -> StoreResult<usize> {
        let mut tx = self.begin_write().await?;
        let known: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM communes").fetch_one(&mut *tx).await?;
        if known > 0 {
            return Ok(0);
        }
        let builtin = domain::internship::communes::VIENNE;
        for commune in builtin {
            sqlx::query(
                "INSERT INTO communes (id, name, folded_name, postal_code, population, \
                 latitude, longitude) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(commune.id())
            .bind(commune.name)
            .bind(commune_key(commune.name))
            .bind(commune.postal_code)
            .bind(i64::from(commune.population))
            .bind(commune.latitude)
            .bind(commune.longitude)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(builtin.len())
    }

    /// [`Store::sectors`], kept in memory under the internship generation (`cache`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn sectors_kept(
        &self,
        generations: crate::cache::Generations,
    ) -> StoreResult<Vec<(String, String)>> {
        let stamp = crate::cache::Generations {
            internship: generations.internship,
            ..crate::cache::Generations::default()
        };
        let now = crate::now_unix();
        if let Some(kept) = self.caches.sectors.get(&"sectors", stamp, now) {
            return Ok(kept.as_ref().clone());
        }
        let sectors = self.sectors().await?;
        self.caches.sectors.put(
            "sectors",
            stamp,
            now + crate::cache::LONGEST_KEPT,
            std::sync::Arc::new(sectors.clone()),
        );
        Ok(sectors)
    }

    /// The national sectors, `(uuid, name)`, sorted by name.
    ///
    /// # Errors
    /// Database errors.
    pub async fn sectors(&self) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT id, name FROM internship_sectors ORDER BY folded_name, id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// A commune by its name (folded) or its postcode (five digits).
    ///
    /// # Errors
    /// Database errors.
    pub async fn find_commune(&self, name_or_postcode: &str) -> StoreResult<Option<CommuneRecord>> {
        let typed = name_or_postcode.trim();
        let mut conn = self.pool().acquire().await?;
        if typed.len() == 5 && typed.bytes().all(|b| b.is_ascii_digit()) {
            locate_commune_in(&mut conn, typed, "").await
        } else {
            locate_commune_in(&mut conn, "", typed).await
        }
    }

    /// The commune of an address typed as a postcode and a town (see `locate_commune_in`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn locate_commune(
        &self,
        postal_code: &str,
        city: &str,
    ) -> StoreResult<Option<CommuneRecord>> {
        let mut conn = self.pool().acquire().await?;
        locate_commune_in(&mut conn, postal_code, city).await
    }

    /// How many communes the gazetteer holds.
    ///
    /// # Errors
    /// Database errors.
    pub async fn commune_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM communes").fetch_one(self.pool()).await?)
    }
}

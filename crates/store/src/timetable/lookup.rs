//! Lookups for the command line, which acts for the département without a signed-in person:
//! a school by its UAI (with its zone, to read iCalendar files in it) and a class by its code.

use sqlx::Row;

use super::code_key;
use crate::{Store, StoreResult};

/// A school as an import from the command line needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSchool {
    pub id: String,
    pub uai: String,
    pub name: String,
    pub time_zone: String,
}

impl Store {
    /// The active school of UAI `uai`, if there is one.
    pub async fn school_for_import(&self, uai: &str) -> StoreResult<Option<ImportSchool>> {
        let row = sqlx::query(
            "SELECT id, uai, name, time_zone FROM schools \
             WHERE uai = $1 AND active = 1 ORDER BY id LIMIT 1",
        )
        .bind(uai.trim().to_uppercase())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(ImportSchool {
                id: row.try_get("id")?,
                uai: row.try_get("uai")?,
                name: row.try_get("name")?,
                time_zone: row.try_get("time_zone")?,
            })
        })
        .transpose()
    }

    /// The ids of the school's classes whose code folds like `code` ("3E B" is "3eb"): one id
    /// when the code names one class, none or several otherwise (the caller reports which).
    pub async fn classes_by_code(&self, school_id: &str, code: &str) -> StoreResult<Vec<String>> {
        let wanted = code_key(code);
        let rows = sqlx::query("SELECT id, code FROM classes WHERE school_id = $1 ORDER BY id")
            .bind(school_id)
            .fetch_all(self.pool())
            .await?;
        let mut found = Vec::new();
        for row in rows {
            let stored: String = row.try_get("code")?;
            if !wanted.is_empty() && code_key(&stored) == wanted {
                found.push(row.try_get("id")?);
            }
        }
        Ok(found)
    }
}

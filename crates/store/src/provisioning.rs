//! Accounts for new people: a unique `prenom.nom` login (numbered on collision, recorded in
//! `logins` which is never deleted from, so a login is never handed out twice) and an
//! activation code with its expiry. Also the département's own people (agents, officials)
//! and the département's identity.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use domain::names::PersonName;
use domain::profile::Profile;
use sqlx::{AnyConnection, Row};

use crate::import::sql::{Rows, Value, fetch_in};
use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// A person of the département created by hand (not from AAF).
#[derive(Debug, Clone)]
pub struct NewLocalPerson {
    /// [`Profile::Agent`] or [`Profile::Official`].
    pub profile: Profile,
    pub last_name: String,
    pub first_name: String,
    pub email: Option<String>,
    /// The UAIs of the schools in scope; empty means the whole département.
    pub scope_uais: Vec<String>,
    /// Whether the person administers the département.
    pub departement_admin: bool,
}

/// What a new account needs handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedAccount {
    pub person_id: String,
    pub login: String,
    pub activation_code: String,
}

/// A person who needs an account: their id and the names the login is built from.
#[derive(Debug, Clone)]
pub(crate) struct AccountFor {
    pub(crate) person_id: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
}

impl Store {
    /// Creates a département agent or official with their scope, role and account.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a profile that is not local, an invalid name or an unknown
    /// UAI; database errors.
    pub async fn create_local_person(
        &self,
        new: &NewLocalPerson,
        activation_validity: Duration,
    ) -> StoreResult<CreatedAccount> {
        if !new.profile.is_departement() {
            return Err(StoreError::Conflict(
                "seuls les agents et les élus du département se créent ici".to_owned(),
            ));
        }
        let last_name = PersonName::parse(&new.last_name)
            .map_err(|error| StoreError::Conflict(format!("nom : {error}")))?;
        let first_name = PersonName::parse(&new.first_name)
            .map_err(|error| StoreError::Conflict(format!("prénom : {error}")))?;

        let email = new.email.as_deref().map(str::trim).filter(|email| !email.is_empty());
        if let Some(email) = email {
            let plausible = email.len() <= 254
                && !email.chars().any(|c| c.is_control() || c.is_whitespace())
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.contains('@')
                });
            if !plausible {
                return Err(StoreError::Conflict(format!(
                    "adresse électronique non valide : {email:?}"
                )));
            }
        }

        let mut tx = self.begin_write().await?;
        let mut school_ids = Vec::new();
        for uai in &new.scope_uais {
            let id: Option<String> =
                sqlx::query_scalar("SELECT id FROM schools WHERE uai = $1 ORDER BY active DESC")
                    .bind(uai.trim().to_owned())
                    .fetch_optional(&mut *tx)
                    .await?;
            match id {
                Some(id) => school_ids.push(id),
                None => {
                    return Err(StoreError::Conflict(format!("établissement inconnu : {uai}")));
                }
            }
        }

        let now = now_unix();
        let person_id = new_id();
        sqlx::query(
            "INSERT INTO people (id, source, external_id, profile, last_name, first_name, email, \
             created_at, updated_at, search_key) \
             VALUES ($1, 'local', $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(person_id.clone())
        .bind(person_id.clone())
        .bind(new.profile.as_str())
        .bind(last_name.to_string())
        .bind(first_name.to_string())
        .bind(email.map(str::to_owned))
        .bind(now)
        .bind(now)
        .bind(domain::names::search_key(last_name.as_ref(), first_name.as_ref()))
        .execute(&mut *tx)
        .await?;

        if school_ids.is_empty() {
            school_ids.push(String::new());
        }
        school_ids.sort();
        school_ids.dedup();
        let mut scopes = Rows::new(
            "INSERT INTO departement_scopes (person_id, school_id)",
            2,
            "ON CONFLICT DO NOTHING",
        );
        for school_id in school_ids {
            scopes.push([Value::from(&person_id), Value::from(school_id)]);
        }
        scopes.execute(&mut tx).await?;

        if new.departement_admin {
            sqlx::query(
                "INSERT INTO roles (person_id, role, school_id) \
                 VALUES ($1, 'departement_admin', '')",
            )
            .bind(person_id.clone())
            .execute(&mut *tx)
            .await?;
        }

        let wanted = AccountFor {
            person_id,
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
        };
        let mut created = provision_accounts(&mut tx, &[wanted], activation_validity, now).await?;
        tx.commit().await?;
        created.pop().ok_or_else(|| StoreError::Corrupt("compte non créé".to_owned()))
    }

    /// The login and live activation code (`None` once activated or frozen) of an active
    /// département person with exactly these names and profile, if there is one. The demo uses
    /// it so that running it again does not create its agent twice.
    ///
    /// # Errors
    /// Database errors.
    pub async fn local_account_by_name(
        &self,
        profile: Profile,
        last_name: &str,
        first_name: &str,
    ) -> StoreResult<Option<(String, Option<String>)>> {
        let row = sqlx::query(
            "SELECT a.login, a.activation_code, a.activated_at, a.frozen FROM people p \
             JOIN accounts a ON a.person_id = p.id WHERE p.source = 'local' AND p.active = 1 \
             AND p.profile = $1 AND p.last_name = $2 AND p.first_name = $3 \
             ORDER BY p.created_at LIMIT 1",
        )
        .bind(profile.as_str())
        .bind(last_name)
        .bind(first_name)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };

        let activated: Option<i64> = row.try_get("activated_at")?;
        let frozen: i64 = row.try_get("frozen")?;
        let code: Option<String> = row.try_get("activation_code")?;
        let live = activated.is_none() && frozen == 0;
        Ok(Some((row.try_get("login")?, code.filter(|_| live))))
    }

    /// Writes the département's code and name (the single row of `departement`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_departement(&self, code: &str, name: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO departement (id, code, name) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name",
        )
        .bind(code.trim().to_owned())
        .bind(name.trim().to_owned())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// Gives each person a new login and an account with an activation code, in the caller's
/// transaction. Logins are unique among every login ever handed out.
pub(crate) async fn provision_accounts(
    conn: &mut AnyConnection,
    people: &[AccountFor],
    activation_validity: Duration,
    now: i64,
) -> StoreResult<Vec<CreatedAccount>> {
    if people.is_empty() {
        return Ok(Vec::new());
    }

    let bases: Vec<String> = people
        .iter()
        .map(|person| domain::login::login_base(&person.first_name, &person.last_name))
        .collect();
    let mut distinct: Vec<String> = bases.clone();
    distinct.sort();
    distinct.dedup();
    let mut next: HashMap<String, u32> = HashMap::new();
    let rows = fetch_in(
        conn,
        "SELECT base, next_number FROM login_counters WHERE base",
        "",
        &[],
        &distinct,
    )
    .await?;
    for row in rows {
        let base: String = row.try_get(0)?;
        let number: i64 = row.try_get(1)?;
        next.insert(base, u32::try_from(number).unwrap_or(u32::MAX).max(1));
    }

    let logins = assign_logins(conn, &bases, &mut next).await?;

    let validity = i64::try_from(activation_validity.as_secs()).unwrap_or(i64::MAX / 2);
    let expires_at = now.saturating_add(validity);
    let mut login_rows = Rows::new("INSERT INTO logins (login, person_id, created_at)", 3, "");
    let mut account_rows = Rows::new(
        "INSERT INTO accounts (person_id, login, activation_code, activation_expires_at, \
         created_at)",
        5,
        "",
    );
    let mut created = Vec::with_capacity(people.len());
    for (person, login) in people.iter().zip(logins) {
        let code = crate::accounts::new_activation_code();
        login_rows.push([Value::from(&login), Value::from(&person.person_id), Value::Int(now)]);
        account_rows.push([
            Value::from(&person.person_id),
            Value::from(&login),
            Value::from(&code),
            Value::Int(expires_at),
            Value::Int(now),
        ]);
        created.push(CreatedAccount {
            person_id: person.person_id.clone(),
            login,
            activation_code: code,
        });
    }
    login_rows.execute(conn).await?;
    account_rows.execute(conn).await?;

    let mut counters = Rows::new(
        "INSERT INTO login_counters (base, next_number)",
        2,
        "ON CONFLICT (base) DO UPDATE SET next_number = excluded.next_number",
    );
    for base in distinct {
        let number = next.get(&base).copied().unwrap_or(1);
        counters.push([Value::from(base), Value::Int(i64::from(number))]);
    }
    counters.execute(conn).await?;
    Ok(created)
}

/// Picks, for each base, the first free candidate from its counter on: free of every login in
/// `logins` and of the others picked in this batch.
async fn assign_logins(
    conn: &mut AnyConnection,
    bases: &[String],
    next: &mut HashMap<String, u32>,
) -> StoreResult<Vec<String>> {
    let mut assigned: Vec<Option<String>> = vec![None; bases.len()];
    let mut taken_here: HashSet<String> = HashSet::new();
    loop {
        let mut proposals: Vec<(usize, String)> = Vec::new();
        for (index, base) in bases.iter().enumerate() {
            if assigned[index].is_some() {
                continue;
            }
            let counter = next.entry(base.clone()).or_insert(1);
            let mut candidate = domain::login::login_candidate(base, *counter);
            *counter = counter.saturating_add(1);
            while taken_here.contains(&candidate) {
                candidate = domain::login::login_candidate(base, *counter);
                *counter = counter.saturating_add(1);
            }
            taken_here.insert(candidate.clone());
            proposals.push((index, candidate));
        }
        if proposals.is_empty() {
            break;
        }

        let candidates: Vec<String> = proposals.iter().map(|(_, login)| login.clone()).collect();
        let rows =
            fetch_in(conn, "SELECT login FROM logins WHERE login", "", &[], &candidates).await?;
        let mut in_use = HashSet::new();
        for row in rows {
            in_use.insert(row.try_get::<String, _>(0)?);
        }
        for (index, login) in proposals {
            if !in_use.contains(&login) {
                assigned[index] = Some(login);
            }
        }
    }
    Ok(assigned.into_iter().flatten().collect())
}

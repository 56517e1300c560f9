//! Bulk SQL for the import: values of mixed types bound in order (which a send's writes use
//! too), multi-row `INSERT`s split below the backends' parameter limits, and `IN (…)` lists
//! built from placeholders. Every statement built here is made of fixed SQL text and `$n`
//! placeholders only.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AssertSqlSafe};

/// The most parameters one statement carries (SQLite accepts 32,766, PostgreSQL 65,535).
const MAX_PARAMS: usize = 16_000;

/// How many keys one `IN (…)` lookup carries.
pub(crate) const LOOKUP_CHUNK: usize = 500;

/// One bound value, typed as the `Any` driver wants it.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
    NullText,
    NullInt,
}

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::Text(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::Text(value.to_owned())
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Value {
        Value::Text(value.clone())
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Int(value)
    }
}

impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Value {
        value.map_or(Value::NullText, Value::Text)
    }
}

impl From<Option<&str>> for Value {
    fn from(value: Option<&str>) -> Value {
        value.map_or(Value::NullText, |text| Value::Text(text.to_owned()))
    }
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Value {
        value.map_or(Value::NullInt, Value::Int)
    }
}

/// Binds the values in order.
pub(crate) fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments>,
    values: impl IntoIterator<Item = Value>,
) -> Query<'q, Any, AnyArguments> {
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text),
            Value::Int(number) => query.bind(number),
            Value::NullText => query.bind(None::<String>),
            Value::NullInt => query.bind(None::<i64>),
        };
    }
    query
}

/// `$from, $from+1, …` for `count` parameters, or `?, ?, …` when `anonymous`.
pub(crate) fn placeholders(from: usize, count: usize, anonymous: bool) -> String {
    let mut text = String::with_capacity(count * 6);
    for n in from..from + count {
        if n > from {
            text.push_str(", ");
        }
        if anonymous {
            text.push('?');
        } else {
            text.push('$');
            text.push_str(&n.to_string());
        }
    }
    text
}

/// Whether statements on this connection should use anonymous `?` parameters. With SQLite,
/// sqlx finds each numbered parameter by name, a linear search per parameter: a statement of
/// thousands of `$n` then costs a time quadratic in its size. Anonymous parameters bind in
/// order, so the statements built here use them on SQLite (and never reuse a parameter).
fn anonymous(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// `text` with its `$n` placeholders made anonymous when `anonymous`; each `$n` must appear
/// once and in order.
fn with_placeholders(text: &str, anonymous: bool) -> String {
    if !anonymous {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Rows to insert into one table, `columns` values per row, flattened.
#[derive(Debug)]
pub(crate) struct Rows {
    head: &'static str,
    columns: usize,
    tail: &'static str,
    values: Vec<Value>,
}

impl Rows {
    /// `head` is `INSERT INTO t (a, b)`, `tail` what follows `VALUES …` (`ON CONFLICT …`).
    pub(crate) fn new(head: &'static str, columns: usize, tail: &'static str) -> Rows {
        Rows { head, columns, tail, values: Vec::new() }
    }

    /// Adds one row; its length must be `columns`.
    pub(crate) fn push(&mut self, row: impl IntoIterator<Item = Value>) {
        let before = self.values.len();
        self.values.extend(row);
        debug_assert_eq!(self.values.len() - before, self.columns, "{}", self.head);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Runs the inserts, as few statements as the parameter limit allows.
    pub(crate) async fn execute(self, conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
        let anonymous = anonymous(conn);
        let rows_per_statement = (MAX_PARAMS / self.columns).max(1);
        let mut values = self.values.into_iter();
        let total_rows = values.len() / self.columns;
        let mut affected = 0;
        let mut done = 0;
        while done < total_rows {
            let rows = rows_per_statement.min(total_rows - done);
            let mut sql = String::with_capacity(self.head.len() + rows * self.columns * 6 + 64);
            sql.push_str(self.head);
            sql.push_str(" VALUES ");
            for row in 0..rows {
                if row > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                sql.push_str(&placeholders(row * self.columns + 1, self.columns, anonymous));
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(&with_placeholders(self.tail, anonymous));
            let chunk: Vec<Value> = values.by_ref().take(rows * self.columns).collect();
            let query = bind_all(sqlx::query(AssertSqlSafe(sql)), chunk);
            affected += query.execute(&mut *conn).await?.rows_affected();
            done += rows;
        }
        Ok(affected)
    }
}

/// Runs `before IN (…) after` once per chunk of keys, with `leading` values bound first
/// (`$1…`) and the keys after them; returns the total of affected rows.
pub(crate) async fn execute_in(
    conn: &mut AnyConnection,
    before: &str,
    after: &str,
    leading: &[Value],
    keys: &[String],
) -> Result<u64, sqlx::Error> {
    let mut affected = 0;
    let anonymous = anonymous(conn);
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "{} IN ({}){after}",
            with_placeholders(before, anonymous),
            placeholders(leading.len() + 1, chunk.len(), anonymous)
        );
        let values = leading.iter().cloned().chain(chunk.iter().map(Value::from));
        let query = bind_all(sqlx::query(AssertSqlSafe(sql)), values);
        affected += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(affected)
}

/// Fetches `before IN (…) after` once per chunk of keys, `leading` values bound first.
pub(crate) async fn fetch_in(
    conn: &mut AnyConnection,
    before: &str,
    after: &str,
    leading: &[Value],
    keys: &[String],
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    let mut rows = Vec::new();
    let anonymous = anonymous(conn);
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "{} IN ({}){after}",
            with_placeholders(before, anonymous),
            placeholders(leading.len() + 1, chunk.len(), anonymous)
        );
        let values = leading.iter().cloned().chain(chunk.iter().map(Value::from));
        let query = bind_all(sqlx::query(AssertSqlSafe(sql)), values);
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_from_the_start_given() {
        assert_eq!(placeholders(3, 3, false), "$3, $4, $5");
        assert_eq!(placeholders(1, 0, false), "");
        assert_eq!(placeholders(1, 2, true), "?, ?");
    }

    #[test]
    fn numbered_placeholders_become_anonymous_for_sqlite() {
        let sql = "a = $1 AND b = $12 AND c = '$'";
        assert_eq!(with_placeholders(sql, true), "a = ? AND b = ? AND c = '$'");
        assert_eq!(with_placeholders("a = $1", false), "a = $1");
    }
}

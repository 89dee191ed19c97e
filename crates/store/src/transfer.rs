//! State in and out: the whole store (or one account's part) as one JSON document, and
//! that document loaded into an empty store of any backend.
//!
//! The document is the tables themselves, row for row (see [`crate::sql::TABLES`]):
//!
//! ```json
//! {"format": "reservoir-state", "schema": 7, "account": null,
//!  "meta": {"next-token-key": "…", "clock-offset-ms": "0"},
//!  "tables": {"resources": {"columns": ["seq", "account", …], "rows": [[1, "000000000000", …]]}, …}}
//! ```
//!
//! Export reads one snapshot; import writes in one transaction, so a failed import leaves
//! the store as it was. Ids, insertion order (listing cursors), the NextToken key and the
//! clock offset travel with the state, so a round trip is exact: exporting what was
//! imported gives the same document. What the schema derives (capacity counts) is
//! exported for reading but made again on import from the rows it counts.

use serde_json::{Map, Value, json};

use crate::sql::TABLES;
use crate::{Store, StoreError, StoreResult, read, write};

/// The `format` of an export document.
pub const FORMAT: &str = "reservoir-state";
/// The schema version export documents are written in and import reads.
pub const SCHEMA: i64 = 7;

/// Server-wide settings an export of every account carries: the NextToken key, the clock
/// offset and the Cognito OpenID signing key (so tokens made before still verify).
const META_KEYS: &[&str] = &["next-token-key", "clock-offset-ms", "cognito-identity.openid-signing-key"];

/// The state of every account, or of `account` only (its rows of every table; no
/// server-wide settings).
pub fn export(store: &dyn Store, account: Option<&str>) -> StoreResult<Value> {
    read(store, |tx| {
        let mut tables = Map::new();
        for t in TABLES {
            let mut rows = Vec::new();
            tx.export_rows(t.name, account, &mut |row| {
                rows.push(Value::Array(row));
                Ok(())
            })?;
            let columns: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
            tables.insert(t.name.to_string(), json!({ "columns": columns, "rows": rows }));
        }
        let mut meta = Map::new();
        if account.is_none() {
            for key in META_KEYS {
                if let Some(v) = tx.get_meta(key)? {
                    meta.insert((*key).to_string(), Value::String(v));
                }
            }
        }
        Ok(json!({
            "format": FORMAT,
            "schema": SCHEMA,
            "account": account,
            "meta": meta,
            "tables": tables,
        }))
    })
}

/// What an import loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub rows: u64,
}

/// Why an import was refused (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not a Reservoir state document: {0}")]
    Format(String),
    #[error("the store already holds state; import loads into an empty store only")]
    NotEmpty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Loads a document of [`export`] into `store`, which must hold no account's state yet,
/// in one transaction.
pub fn import(store: &dyn Store, doc: &Value) -> Result<Imported, ImportError> {
    let bad = |m: &str| ImportError::Format(m.to_string());
    if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad(&format!("\"format\" must be \"{FORMAT}\"")));
    }
    match doc.get("schema").and_then(Value::as_i64) {
        Some(SCHEMA) => {}
        Some(v) => return Err(bad(&format!("schema version {v}; this Reservoir reads version {SCHEMA}"))),
        None => return Err(bad("\"schema\" is missing")),
    }
    let tables = doc.get("tables").and_then(Value::as_object).ok_or_else(|| bad("\"tables\" is missing"))?;
    if let Some(unknown) = tables.keys().find(|k| !TABLES.iter().any(|t| t.name == k.as_str())) {
        return Err(bad(&format!("unknown table {unknown:?}")));
    }
    // Check each table's columns before writing anything.
    let mut plan = Vec::new();
    for t in TABLES {
        let Some(table) = tables.get(t.name) else { continue };
        let columns: Vec<&str> = table
            .get("columns")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(&format!("{}: \"columns\" is missing", t.name)))?
            .iter()
            .map(|c| c.as_str().unwrap_or(""))
            .collect();
        let expected: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
        if columns != expected {
            return Err(bad(&format!("{}: columns {columns:?}, expected {expected:?}", t.name)));
        }
        let rows = table
            .get("rows")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(&format!("{}: \"rows\" is missing", t.name)))?;
        for row in rows {
            match row.as_array() {
                Some(cells) if cells.len() == expected.len() => {}
                _ => return Err(bad(&format!("{}: every row is an array of {} values", t.name, expected.len()))),
            }
        }
        plan.push((t.name, rows));
    }
    let mut meta = Vec::new();
    if let Some(m) = doc.get("meta") {
        let m = m.as_object().ok_or_else(|| bad("\"meta\" must be an object"))?;
        for (k, v) in m {
            if !META_KEYS.contains(&k.as_str()) {
                return Err(bad(&format!("unknown meta key {k:?}")));
            }
            meta.push((k.as_str(), v.as_str().ok_or_else(|| bad(&format!("meta {k:?} must be a string")))?));
        }
    }
    write(store, |tx| -> Result<Imported, ImportError> {
        if tx.has_state()? {
            return Err(ImportError::NotEmpty);
        }
        let mut n = 0;
        for (table, rows) in &plan {
            for row in rows.iter() {
                tx.import_row(table, row.as_array().expect("checked above"))?;
                n += 1;
            }
        }
        for (k, v) in &meta {
            tx.put_meta(k, v)?;
        }
        tx.finish_import()?;
        Ok(Imported { rows: n })
    })
}

/// The document as text for people and version control: one table row per line, so a
/// fixture kept in git changes by lines when its state does.
pub fn to_text(doc: &Value) -> String {
    let compact = |v: &Value| serde_json::to_string(v).expect("JSON values serialize");
    let mut out = String::from("{\n");
    for key in ["format", "schema", "account", "meta"] {
        out.push_str(&format!("  {}: {},\n", compact(&Value::from(key)), compact(&doc[key])));
    }
    out.push_str("  \"tables\": {");
    let empty = Map::new();
    let tables = doc["tables"].as_object().unwrap_or(&empty);
    for (i, (name, table)) in tables.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&format!(
            "    {}: {{\n      \"columns\": {},\n      \"rows\": [",
            compact(&Value::from(name.as_str())),
            compact(&table["columns"])
        ));
        let rows = table["rows"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        for (j, row) in rows.iter().enumerate() {
            out.push_str(if j == 0 { "\n        " } else { ",\n        " });
            out.push_str(&compact(row));
        }
        out.push_str(if rows.is_empty() { "]\n    }" } else { "\n      ]\n    }" });
    }
    out.push_str(if tables.is_empty() { "}\n}\n" } else { "\n  }\n}\n" });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_the_same_document_one_row_per_line() {
        let doc = json!({
            "format": FORMAT, "schema": SCHEMA, "account": null, "meta": {"k": "v"},
            "tables": {"tags": {"columns": ["a", "b"], "rows": [["x", 1], ["y", null]]}, "refs": {"columns": ["a"], "rows": []}}
        });
        let text = to_text(&doc);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
        assert!(text.contains("\n        [\"x\",1],\n        [\"y\",null]\n"), "{text}");
        let none = json!({"format": FORMAT, "schema": SCHEMA, "account": "000000000000", "meta": {}, "tables": {}});
        assert_eq!(serde_json::from_str::<Value>(&to_text(&none)).unwrap(), none);
    }
}

//! `cargo xtask trim-models`: botocore's full service models → `models/<service>.json`.
//!
//! The trimmed file keeps botocore's own JSON layout (`metadata`, `operations`, `shapes`)
//! so that anyone who knows botocore can read it, but only for the operations Reservoir
//! serves, the shapes they reach and every error shape of the service, and without
//! documentation strings. A sibling file
//! `models/<service>.operations.json` lists every operation of the full model with its
//! HTTP binding, so the router can answer "not implemented yet" for real operations and
//! "no such operation" for everything else.

use std::collections::{BTreeSet, VecDeque};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::Result;

#[derive(Deserialize)]
struct TrimConfig {
    services: std::collections::BTreeMap<String, ServiceConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ServiceConfig {
    botocore_name: String,
    api_version: String,
    operations: Vec<String>,
}

pub fn run(root: &Path, botocore: Option<PathBuf>) -> Result<()> {
    let (botocore_dir, botocore_version) = match botocore {
        Some(dir) => {
            let version = read_botocore_version(&dir).unwrap_or_else(|| "unknown".into());
            (dir, version)
        }
        None => locate_botocore()?,
    };
    let config: TrimConfig = toml::from_str(&fs::read_to_string(root.join("models/trim.toml"))?)?;
    for (name, svc) in &config.services {
        let path = botocore_dir.join("data").join(&svc.botocore_name).join(&svc.api_version).join("service-2.json.gz");
        let mut text = String::new();
        flate2::read::GzDecoder::new(fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?)
            .read_to_string(&mut text)?;
        let full: Value = serde_json::from_str(&text)?;
        let trimmed = trim_model(&full, &svc.operations, &botocore_version)?;
        let out = root.join("models").join(format!("{name}.json"));
        fs::write(&out, to_pretty(&trimmed))?;
        let ops = operation_index(&full, &svc.operations);
        fs::write(root.join("models").join(format!("{name}.operations.json")), ops)?;
        println!("wrote {} ({} operations served)", out.display(), svc.operations.len());
    }
    Ok(())
}

fn locate_botocore() -> Result<(PathBuf, String)> {
    let out = Command::new("python3")
        .args(["-c", "import botocore, os; print(os.path.dirname(botocore.__file__)); print(botocore.__version__)"])
        .output()
        .map_err(|e| format!("running python3 to find botocore: {e} (pass --botocore DIR)"))?;
    if !out.status.success() {
        return Err("botocore is not installed for python3 (pip install botocore, or pass --botocore DIR)".into());
    }
    let text = String::from_utf8(out.stdout)?;
    let mut lines = text.lines();
    let dir = lines.next().ok_or("no botocore path printed")?;
    let version = lines.next().unwrap_or("unknown");
    Ok((PathBuf::from(dir), version.to_string()))
}

fn read_botocore_version(dir: &Path) -> Option<String> {
    let init = fs::read_to_string(dir.join("__init__.py")).ok()?;
    let line = init.lines().find(|l| l.starts_with("__version__"))?;
    Some(line.split('\'').nth(1)?.to_string())
}

/// Keeps `operations` and the shapes they reach; drops documentation everywhere.
fn trim_model(full: &Value, operations: &[String], botocore_version: &str) -> Result<Value> {
    let all_ops = full["operations"].as_object().ok_or("model has no operations")?;
    let shapes = full["shapes"].as_object().ok_or("model has no shapes")?;

    let mut kept_ops = Map::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut ops_sorted: Vec<&String> = operations.iter().collect();
    ops_sorted.sort();
    for name in ops_sorted {
        let op = all_ops.get(name).ok_or_else(|| format!("operation {name} is not in the model"))?;
        let op = strip_docs(op);
        for key in ["input", "output"] {
            if let Some(s) = op[key]["shape"].as_str() {
                queue.push_back(s.to_string());
            }
        }
        if let Some(errors) = op["errors"].as_array() {
            for e in errors {
                if let Some(s) = e["shape"].as_str() {
                    queue.push_back(s.to_string());
                }
            }
        }
        kept_ops.insert(name.clone(), op);
    }

    // Every error the service models, served operations' or not: the generated code
    // tables list them all, so a handler can answer any of the service's own errors.
    for (name, shape) in shapes {
        if shape["exception"].as_bool() == Some(true) {
            queue.push_back(name.clone());
        }
    }

    let mut reached: BTreeSet<String> = BTreeSet::new();
    while let Some(name) = queue.pop_front() {
        if !reached.insert(name.clone()) {
            continue;
        }
        let shape = shapes.get(&name).ok_or_else(|| format!("shape {name} is referenced but missing"))?;
        let mut refs = Vec::new();
        if let Some(members) = shape["members"].as_object() {
            refs.extend(members.values().filter_map(|m| m["shape"].as_str()));
        }
        for key in ["member", "key", "value"] {
            if let Some(s) = shape[key]["shape"].as_str() {
                refs.push(s);
            }
        }
        queue.extend(refs.into_iter().map(String::from));
    }

    let mut kept_shapes = Map::new();
    for name in &reached {
        kept_shapes.insert(name.clone(), strip_docs(&shapes[name.as_str()]));
    }
    let mut metadata = strip_docs(&full["metadata"]);
    if let Some(m) = metadata.as_object_mut() {
        m.insert("reservoirTrimmedFrom".into(), json!(format!("botocore {botocore_version}")));
    }
    Ok(json!({
        "version": full["version"],
        "metadata": metadata,
        "operations": kept_ops,
        "shapes": kept_shapes,
    }))
}

fn strip_docs(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "documentation" | "documentationUrl" | "deprecatedMessage"))
                .map(|(k, v)| (k.clone(), strip_docs(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_docs).collect()),
        other => other.clone(),
    }
}

/// One line per operation of the full model: name, HTTP method and URI, served or not.
fn operation_index(full: &Value, served: &[String]) -> String {
    let mut out = String::from("[\n");
    let ops = full["operations"].as_object().expect("operations");
    let mut names: Vec<&String> = ops.keys().collect();
    names.sort();
    for (i, name) in names.iter().enumerate() {
        let http = &ops[name.as_str()]["http"];
        let line = json!({
            "name": name,
            "method": http["method"],
            "uri": http["requestUri"],
            "served": served.iter().any(|s| s == *name),
        });
        out.push_str("  ");
        out.push_str(&line.to_string());
        out.push_str(if i + 1 < names.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

fn to_pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("json");
    s.push('\n');
    s
}

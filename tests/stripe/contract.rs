//! Stripe's published contract, as the stand-in checks requests against it: form bodies decoded
//! into the nested values Stripe reads from `a[b][0]=…` keys, and checked against the request
//! schema of their operation in `openapi-extract.json` (unknown parameters, missing required
//! ones, wrong types, values outside an enum, strings too long).

use serde_json::{Map, Value};

/// The extract of Stripe's OpenAPI spec.
pub fn extract() -> Value {
    serde_json::from_str(include_str!("openapi-extract.json")).expect("the extract is JSON")
}

/// Stripe's fixture objects, by name.
pub fn fixtures() -> Value {
    let all: Value =
        serde_json::from_str(include_str!("fixtures.json")).expect("the fixtures are JSON");
    all["objects"].clone()
}

/// The operation (`"POST /v1/customers"`) whose path template matches.
pub fn operation(extract: &Value, method: &str, path: &str) -> Option<String> {
    let wanted: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    extract["operations"].as_object()?.keys().find_map(|key| {
        let (m, template) = key.split_once(' ')?;
        let parts: Vec<&str> = template.split('/').collect();
        let matches = m == method
            && parts.len() == wanted.len()
            && parts
                .iter()
                .zip(&wanted)
                .all(|(t, w)| t.starts_with('{') || t == w);
        matches.then(|| key.clone())
    })
}

/// A form body as the nested value Stripe reads.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|e| format!("not a form body: {e}"))?;
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let (head, rest) = key.split_once('[').unwrap_or((&key, ""));
        let mut path = vec![head.to_owned()];
        if !rest.is_empty() {
            let rest = format!("[{rest}");
            for segment in rest.split('[').skip(1) {
                let Some(name) = segment.strip_suffix(']') else {
                    return Err(format!("malformed key {key:?}"));
                };
                path.push(name.to_owned());
            }
        }
        insert(&mut root, &path, value, &key)?;
    }
    Ok(arrays(root))
}

fn insert(node: &mut Value, path: &[String], value: String, key: &str) -> Result<(), String> {
    let object = node
        .as_object_mut()
        .ok_or_else(|| format!("{key:?} mixes a value and a nested one"))?;
    match path {
        [last] => {
            object.insert(last.clone(), Value::String(value));
            Ok(())
        }
        [first, rest @ ..] => {
            let child = object
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            insert(child, rest, value, key)
        }
        [] => Ok(()),
    }
}

/// Objects whose keys are 0, 1, 2… become arrays.
fn arrays(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let numbered =
                !map.is_empty() && (0..map.len()).all(|i| map.contains_key(&i.to_string()));
            if numbered {
                let mut map = map;
                Value::Array(
                    (0..map.len())
                        .map(|i| arrays(map.remove(&i.to_string()).unwrap_or(Value::Null)))
                        .collect(),
                )
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        other => other,
    }
}

/// Problems of `value` against `schema`, each naming where.
pub fn check(schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let fits = branches.iter().any(|branch| {
                let mut found = Vec::new();
                check(branch, value, at, &mut found);
                found.is_empty()
            });
            if !fits {
                problems.push(format!("{at}: fits none of the allowed forms"));
            }
            return;
        }
    }
    let Some(kind) = schema.get("type").and_then(Value::as_str) else {
        return; // anything
    };
    match (kind, value) {
        ("object", Value::Object(map)) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (name, inner) in map {
                let here = format!("{at}[{name}]");
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => check(property, inner, &here, problems),
                    None => match additional {
                        Some(Value::Object(extra)) => {
                            check(&Value::Object(extra.clone()), inner, &here, problems);
                        }
                        Some(Value::Bool(true)) => {}
                        _ => problems.push(format!("{here}: not a parameter of this operation")),
                    },
                }
            }
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !map.contains_key(required) {
                    problems.push(format!("{at}[{required}]: required, missing"));
                }
            }
        }
        ("array", Value::Array(items)) => {
            if let Some(item) = schema.get("items") {
                for (i, inner) in items.iter().enumerate() {
                    check(item, inner, &format!("{at}[{i}]"), problems);
                }
            }
        }
        ("string", Value::String(text)) => {
            if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
                && !allowed.iter().any(|a| a.as_str() == Some(text))
            {
                problems.push(format!("{at}: {text:?} is not one of the allowed values"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && text.chars().count() as u64 > max
            {
                problems.push(format!("{at}: longer than {max}"));
            }
        }
        ("integer", Value::String(text)) if text.parse::<i64>().is_ok() => {}
        ("number", Value::String(text)) if text.parse::<f64>().is_ok() => {}
        ("boolean", Value::String(text)) if text == "true" || text == "false" => {}
        (kind, _) => problems.push(format!("{at}: not a valid {kind}")),
    }
}

/// Problems of a whole request against its operation.
pub fn check_request(extract: &Value, method: &str, path: &str, body: &[u8]) -> Vec<String> {
    let Some(operation) = operation(extract, method, path) else {
        return vec![format!(
            "{method} {path}: no such operation in Stripe's API"
        )];
    };
    let spec = &extract["operations"][&operation];
    let mut problems = Vec::new();
    if method == "POST" {
        match decode(body) {
            Ok(value) => check(&spec["body"], &value, "", &mut problems),
            Err(problem) => problems.push(problem),
        }
    } else if !body.is_empty() {
        problems.push("a body on a request that takes none".to_owned());
    }
    problems
        .into_iter()
        .map(|p| format!("{operation}: {p}"))
        .collect()
}

//! The provisioned data source, dashboards and alert rules against the real plugin.
//!
//! The static tests read `provisioning/` the way Grafana does and check what Grafana would
//! otherwise only report at run time: data source uids, unique dashboard uids and panel ids,
//! variables that exist, query types that fit their visualisation, annotations that give
//! events, alert rules with every required part. The protocol test builds a demo database with
//! `pulso demo --no-score`, starts the real binary and sends every template variable query,
//! every panel target, every dashboard annotation query and every alert rule's Pulso query
//! through QueryData, substituting variables as the frontend does (every variable on "All", then
//! the first value each variable's own query returns), and checks that each answer is OK, has
//! frames, has the fields the query contract promises for the trend types (trending terms,
//! aspects, anomalies, insights) and the shape its visualisation, annotation or alert rule
//! needs; it does so on the unscored database and again once most rows carry (made-up) scores
//! and aspect results. A change to the query contract (a renamed metric, query type, dimension
//! or field) therefore breaks these tests, and provisioning broken on purpose (`breakages`)
//! checks that the checks themselves still notice.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::common::*;
use grafana_plugin_sdk::pluginv2;
use pulso_core::analysis::aspects::aspects_of;
use pulso_core::analysis::Label;
use pulso_store::{NewAspectScore, NewScore};
use serde_json::{json, Map, Value};

/// Where docker-compose mounts this repository's `provisioning/` folder in Grafana.
const GRAFANA_PROVISIONING: &str = "/etc/grafana/provisioning/";
const FOLDER: &str = "Pulso";
const REQUIRED_DASHBOARDS: [&str; 3] = [
    "Peru food consumer trends",
    "Region & category drill-down",
    "Mentions explorer",
];
/// Variables every dashboard offers, and the dimension each one filters.
const FILTER_VARIABLES: [(&str, &str); 4] = [
    ("region", "region"),
    ("category", "category"),
    ("brand", "brand"),
    ("source", "sourceType"),
];
/// Values the `label` column can take; pivoted panels name their fields after them.
const SENTIMENT_LABELS: [&str; 4] = ["negative", "neutral", "positive", "unscored"];
const DEMO_ROWS: usize = 20_000;
/// The made-up model whose scores `score_most_rows` stores.
const TEST_MODEL: &str = "provisioning-test-model";
/// What a user types into a search box in the concrete-value runs.
const SEARCH_SAMPLE: &str = "pollo";
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * HOUR;

// ------------------------------------------------------------------------------ reading files

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

fn plugin_id() -> String {
    read_json(&repo().join("plugin.json"))["id"]
        .as_str()
        .expect("plugin.json id")
        .to_string()
}

/// The one provisioned Pulso data source: `{type, uid}` as panels must reference it.
fn provisioned_datasource() -> Value {
    let path = repo().join("provisioning/datasources/pulso.yaml");
    let file = read_yaml(&path);
    assert_eq!(
        file["apiVersion"],
        json!(1),
        "{}: apiVersion",
        path.display()
    );
    let plugin_id = plugin_id();
    let ours: Vec<&Value> = file["datasources"]
        .as_array()
        .expect("datasources list")
        .iter()
        .filter(|d| d["type"] == json!(plugin_id))
        .collect();
    assert_eq!(ours.len(), 1, "exactly one data source of type {plugin_id}");
    let uid = ours[0]["uid"].as_str().expect("the data source has a uid");
    assert!(!uid.is_empty());
    json!({"type": plugin_id, "uid": uid})
}

#[derive(Clone)]
struct Dashboard {
    file: PathBuf,
    json: Value,
}

impl Dashboard {
    fn title(&self) -> &str {
        self.json["title"].as_str().unwrap_or("<untitled>")
    }

    fn variables(&self) -> &[Value] {
        self.json["templating"]["list"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every panel, rows' collapsed panels included.
    fn panels(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        for panel in self.json["panels"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            out.push(panel);
            if let Some(nested) = panel["panels"].as_array() {
                out.extend(nested);
            }
        }
        out
    }

    /// Panels that query data (everything but rows).
    fn query_panels(&self) -> Vec<&Value> {
        self.panels()
            .into_iter()
            .filter(|p| p["type"] != "row")
            .collect()
    }
}

/// Where the dashboard provider points, translated to this repository.
fn dashboard_folders() -> Vec<PathBuf> {
    let path = repo().join("provisioning/dashboards/dashboards.yaml");
    let file = read_yaml(&path);
    assert_eq!(
        file["apiVersion"],
        json!(1),
        "{}: apiVersion",
        path.display()
    );
    let providers = file["providers"].as_array().expect("providers list");
    assert!(!providers.is_empty(), "no dashboard provider");
    providers
        .iter()
        .map(|provider| {
            assert_eq!(provider["type"], "file", "provider type");
            assert_eq!(provider["folder"], FOLDER, "provider folder");
            let grafana_path = provider["options"]["path"]
                .as_str()
                .expect("provider options.path");
            let relative = grafana_path
                .strip_prefix(GRAFANA_PROVISIONING)
                .unwrap_or_else(|| {
                    panic!("provider path {grafana_path} is not under {GRAFANA_PROVISIONING}")
                });
            let local = repo().join("provisioning").join(relative);
            assert!(
                local.is_dir(),
                "provider path {grafana_path} maps to {}, which is not a folder",
                local.display()
            );
            local
        })
        .collect()
}

fn json_files(folder: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()))
        .map(|entry| entry.expect("folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn dashboards() -> Vec<Dashboard> {
    let mut files = Vec::new();
    for folder in dashboard_folders() {
        json_files(&folder, &mut files);
    }
    assert!(!files.is_empty(), "the dashboard provider finds no JSON");
    files
        .into_iter()
        .map(|file| Dashboard {
            json: read_json(&file),
            file,
        })
        .collect()
}

fn alert_file() -> Value {
    let path = repo().join("provisioning/alerting/pulso-alerts.yaml");
    let file = read_yaml(&path);
    assert_eq!(
        file["apiVersion"],
        json!(1),
        "{}: apiVersion",
        path.display()
    );
    file
}

/// Every rule of every group, with the group it belongs to.
fn alert_rules(file: &Value) -> Vec<(&Value, &Value)> {
    let groups = file["groups"].as_array().expect("groups list");
    assert!(!groups.is_empty(), "no alert rule group");
    groups
        .iter()
        .flat_map(|group| {
            group["rules"]
                .as_array()
                .expect("rules list")
                .iter()
                .map(move |rule| (group, rule))
        })
        .collect()
}

fn is_expression(data: &Value) -> bool {
    data["datasourceUid"] == "__expr__"
}

// --------------------------------------------------------------------------- small parsers

/// Grafana durations as alert rules and panels write them: `30s`, `5m`, `1h`, `1d`, `1w`.
fn duration_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let amount: i64 = text[..split].parse().ok()?;
    let unit = match &text[split..] {
        "ms" => 1,
        "s" => 1_000,
        "m" => MINUTE_MS,
        "h" => HOUR,
        "d" => DAY_MS,
        "w" => 7 * DAY_MS,
        "M" => 30 * DAY_MS,
        "y" => 365 * DAY_MS,
        _ => return None,
    };
    Some(amount * unit)
}

/// A dashboard's `time.from`/`time.to`: `now` or `now-<duration>`.
fn relative_time_ms(text: &str, now_ms: i64) -> Option<i64> {
    match text.strip_prefix("now") {
        Some("") => Some(now_ms),
        Some(rest) => Some(now_ms - duration_ms(rest.strip_prefix('-')?)?),
        None => None,
    }
}

fn dashboard_range(dashboard: &Dashboard, now_ms: i64) -> (i64, i64) {
    let time = &dashboard.json["time"];
    let parse = |key: &str| {
        time[key]
            .as_str()
            .and_then(|t| relative_time_ms(t, now_ms))
            .unwrap_or_else(|| panic!("{}: time.{key} {}", dashboard.title(), time[key]))
    };
    (parse("from"), parse("to"))
}

/// The interval Grafana gives a panel: the range over its data points, rounded to a tidy
/// width, and never below the panel's minimum interval.
fn panel_interval_ms(panel: &Value, range: (i64, i64)) -> (i64, i64) {
    const TIDY: [i64; 16] = [
        1_000,
        5_000,
        10_000,
        15_000,
        30_000,
        MINUTE_MS,
        5 * MINUTE_MS,
        10 * MINUTE_MS,
        15 * MINUTE_MS,
        30 * MINUTE_MS,
        HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY_MS,
        7 * DAY_MS,
    ];
    // Without maxDataPoints Grafana uses the panel's width in pixels, about 80 a grid column.
    let max_data_points = panel["maxDataPoints"]
        .as_i64()
        .unwrap_or_else(|| panel["gridPos"]["w"].as_i64().unwrap_or(24) * 80)
        .max(1);
    let raw = (range.1 - range.0) / max_data_points;
    let tidy = TIDY
        .into_iter()
        .find(|t| *t >= raw)
        .unwrap_or(TIDY[TIDY.len() - 1]);
    let minimum = panel["interval"]
        .as_str()
        .and_then(duration_ms)
        .unwrap_or(0);
    (tidy.max(minimum), max_data_points)
}

/// "now" for the dashboards' relative ranges: the end of the demo database, so the panels see
/// the same rows on any day.
fn now_ms() -> i64 {
    crate::common::demo_end_ms()
}

// ------------------------------------------------------------------------------- variables

/// The name in a reference `$name` or `${name}`, when `text` is nothing but that.
fn whole_reference(text: &str) -> Option<&str> {
    let name = text.strip_prefix('$')?;
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// Splits `text` into literal pieces and variable references.
fn scan_references(text: &str) -> Vec<Result<&str, &str>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        if at > 0 {
            parts.push(Ok(&rest[..at]));
        }
        let after = &rest[at + 1..];
        let (name, used) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        if name.is_empty() {
            parts.push(Ok("$"));
        } else {
            parts.push(Err(name));
        }
        rest = &after[used..];
    }
    if !rest.is_empty() {
        parts.push(Ok(rest));
    }
    parts
}

/// Every variable a JSON value refers to.
fn references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            for part in scan_references(s) {
                if let Err(name) = part {
                    out.insert(name.to_string());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        Value::Object(map) => map.values().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// What a variable stands for in one run.
#[derive(Debug, Clone)]
enum Selection {
    /// "All" of a multi-value variable.
    All,
    Values(Vec<String>),
    Text(String),
}

type Selections = BTreeMap<String, Selection>;

/// Fields the frontend's applyTemplateVariables interpolates as text (frontend/src/datasource.ts);
/// anything else reaches the backend as written.
const INTERPOLATED_FIELDS: [&str; 5] = ["search", "interval", "groupBy", "dimension", "metric"];

/// What the frontend's applyTemplateVariables does: a filter value that is only `$var` becomes
/// the selected values, and the whole filter is dropped when "All" is selected; empty values
/// and lists are dropped; the `aspects` list is expanded the same way (dropped on "All"); the
/// text fields get `$var` and `${var}` replaced by the value.
fn interpolate(query: &Value, selections: &Selections) -> Result<Value, String> {
    let Value::Object(map) = query else {
        return Err(format!("the query is not an object: {query}"));
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = if key == "filters" {
            match interpolate_filters(value, selections)? {
                Some(filters) => filters,
                None => continue,
            }
        } else if let ("aspects", Value::Array(items)) = (key.as_str(), value) {
            match interpolate_list(key, items, selections)? {
                Some(values) => Value::Array(values),
                None => continue,
            }
        } else if INTERPOLATED_FIELDS.contains(&key.as_str()) {
            interpolate_value(value, selections)?
        } else {
            value.clone()
        };
        out.insert(key.clone(), value);
    }
    Ok(Value::Object(out))
}

fn interpolate_filters(filters: &Value, selections: &Selections) -> Result<Option<Value>, String> {
    let Value::Object(map) = filters else {
        // Not ours to judge: the backend answers wrong types with a 400.
        return Ok(Some(filters.clone()));
    };
    let mut out = Map::new();
    for (dimension, list) in map {
        let Value::Array(items) = list else {
            out.insert(dimension.clone(), list.clone());
            continue;
        };
        let what = format!("filters.{dimension}");
        if let Some(values) = interpolate_list(&what, items, selections)? {
            out.insert(dimension.clone(), Value::Array(values));
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// One list of values (a filter's, or `aspects`): `None` when a variable in it is on "All" or
/// nothing is left, which the frontend sends as no list at all.
fn interpolate_list(
    what: &str,
    items: &[Value],
    selections: &Selections,
) -> Result<Option<Vec<Value>>, String> {
    let mut values: Vec<Value> = Vec::new();
    let mut all = false;
    for item in items {
        match item.as_str().and_then(whole_reference) {
            Some(name) => match selections.get(name) {
                Some(Selection::All) => all = true,
                Some(Selection::Values(v)) => {
                    values.extend(v.iter().cloned().map(Value::String));
                }
                Some(Selection::Text(t)) => values.push(Value::String(t.clone())),
                None => {
                    return Err(format!(
                        "{what} uses ${name}, which is not a variable defined before it"
                    ))
                }
            },
            None => values.push(interpolate_value(item, selections)?),
        }
    }
    values.retain(|v| v != "");
    Ok((!all && !values.is_empty()).then_some(values))
}

fn interpolate_value(value: &Value, selections: &Selections) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => {
            let mut out = String::new();
            for part in scan_references(text) {
                match part {
                    Ok(literal) => out.push_str(literal),
                    Err(name) => match selections.get(name) {
                        Some(Selection::Text(t)) => out.push_str(t),
                        Some(Selection::Values(v)) if v.len() == 1 => out.push_str(&v[0]),
                        Some(_) => {
                            return Err(format!(
                                "{text:?}: the multi-value variable ${name} only makes sense alone in a filter list"
                            ))
                        }
                        None => {
                            return Err(format!(
                                "{text:?} uses ${name}, which is not a variable defined before it"
                            ))
                        }
                    },
                }
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| interpolate_value(v, selections))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), interpolate_value(v, selections)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn custom_options(variable: &Value) -> Vec<String> {
    variable["query"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------------- frames

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Time,
    Number,
    Text,
    Other,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    /// The Arrow type as decoded: `Utf8`, `Int64`, `Float64`, `Timestamp(..)`.
    data_type: String,
    labels: Map<String, Value>,
    values: Vec<Value>,
}

#[derive(Debug, Clone)]
struct Frame {
    name: String,
    ref_id: String,
    /// `meta.channel`: the Grafana Live channel of a live query.
    channel: Option<String>,
    fields: Vec<Field>,
}

impl Frame {
    fn from_decoded(decoded: &Value) -> Self {
        let fields = decoded["fields"]
            .as_array()
            .expect("decoded fields")
            .iter()
            .map(|f| {
                let data_type = f["type"].as_str().unwrap_or_default();
                let kind = if data_type.starts_with("Timestamp") {
                    Kind::Time
                } else if ["Int", "UInt", "Float"]
                    .iter()
                    .any(|p| data_type.starts_with(p))
                {
                    Kind::Number
                } else if data_type.contains("Utf8") {
                    Kind::Text
                } else {
                    Kind::Other
                };
                Field {
                    name: f["name"].as_str().unwrap_or_default().to_string(),
                    kind,
                    data_type: data_type.to_string(),
                    labels: f["labels"].as_object().cloned().unwrap_or_default(),
                    values: f["values"].as_array().cloned().unwrap_or_default(),
                }
            })
            .collect();
        Self {
            name: decoded["name"].as_str().unwrap_or_default().to_string(),
            ref_id: decoded["refId"].as_str().unwrap_or_default().to_string(),
            channel: decoded["meta"]["channel"].as_str().map(str::to_string),
            fields,
        }
    }

    fn rows(&self) -> usize {
        self.fields.first().map_or(0, |f| f.values.len())
    }

    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn count(&self, kind: Kind) -> usize {
        self.fields.iter().filter(|f| f.kind == kind).count()
    }

    fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }
}

fn cell_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Applies a panel's transformations the way Grafana would, as far as field names and types
/// go; field references that do not exist are errors.
fn transform(panel: &Value, frame: &Frame) -> Result<Frame, String> {
    let mut frame = frame.clone();
    for step in panel["transformations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let options = &step["options"];
        let need = |frame: &Frame, key: &str| -> Result<String, String> {
            let name = options[key]
                .as_str()
                .ok_or_else(|| format!("transformation {}: options.{key} missing", step["id"]))?;
            frame.field(name).map(|_| name.to_string()).ok_or_else(|| {
                format!(
                    "transformation {} needs field {name:?}, the frame has {:?}",
                    step["id"],
                    frame.names()
                )
            })
        };
        frame = match step["id"].as_str().unwrap_or_default() {
            "groupingToMatrix" => {
                let column = need(&frame, "columnField")?;
                let row = need(&frame, "rowField")?;
                let value = need(&frame, "valueField")?;
                if frame.field(&value).unwrap().kind != Kind::Number {
                    return Err(format!(
                        "groupingToMatrix valueField {value:?} is not numeric"
                    ));
                }
                let row_values: BTreeSet<String> = frame
                    .field(&row)
                    .unwrap()
                    .values
                    .iter()
                    .map(cell_text)
                    .collect();
                let column_values: BTreeSet<String> = frame
                    .field(&column)
                    .unwrap()
                    .values
                    .iter()
                    .map(cell_text)
                    .collect();
                let mut fields = vec![Field {
                    name: format!("{row}\\{column}"),
                    kind: Kind::Text,
                    data_type: "Utf8".to_string(),
                    labels: Map::new(),
                    values: row_values.into_iter().map(Value::String).collect(),
                }];
                let rows = fields[0].values.len();
                fields.extend(column_values.into_iter().map(|name| Field {
                    name,
                    kind: Kind::Number,
                    data_type: "Float64".to_string(),
                    labels: Map::new(),
                    values: vec![Value::Null; rows],
                }));
                Frame {
                    name: frame.name.clone(),
                    ref_id: frame.ref_id.clone(),
                    channel: frame.channel.clone(),
                    fields,
                }
            }
            "rowsToFields" => {
                let name_field = match options["nameField"].as_str() {
                    Some(_) => need(&frame, "nameField")?,
                    None => frame
                        .fields
                        .iter()
                        .find(|f| f.kind == Kind::Text)
                        .map(|f| f.name.clone())
                        .ok_or("rowsToFields needs a string field for the names")?,
                };
                let value_field = match options["valueField"].as_str() {
                    Some(_) => need(&frame, "valueField")?,
                    None => frame
                        .fields
                        .iter()
                        .find(|f| f.kind == Kind::Number)
                        .map(|f| f.name.clone())
                        .ok_or("rowsToFields needs a numeric field for the values")?,
                };
                let names = &frame.field(&name_field).unwrap().values;
                let values = &frame.field(&value_field).unwrap().values;
                Frame {
                    name: frame.name.clone(),
                    ref_id: frame.ref_id.clone(),
                    channel: frame.channel.clone(),
                    fields: names
                        .iter()
                        .zip(values)
                        .map(|(name, value)| Field {
                            name: cell_text(name),
                            kind: Kind::Number,
                            data_type: "Float64".to_string(),
                            labels: Map::new(),
                            values: vec![value.clone()],
                        })
                        .collect(),
                }
            }
            "organize" => {
                for key in ["excludeByName", "indexByName", "renameByName"] {
                    for name in options[key].as_object().into_iter().flat_map(|m| m.keys()) {
                        if frame.field(name).is_none() {
                            return Err(format!(
                                "organize {key} names {name:?}, the frame has {:?}",
                                frame.names()
                            ));
                        }
                    }
                }
                let excluded = |name: &str| options["excludeByName"][name] == true;
                let fields = frame
                    .fields
                    .iter()
                    .filter(|f| !excluded(&f.name))
                    .map(|f| Field {
                        name: options["renameByName"][&f.name]
                            .as_str()
                            .filter(|n| !n.is_empty())
                            .unwrap_or(&f.name)
                            .to_string(),
                        ..f.clone()
                    })
                    .collect();
                Frame {
                    name: frame.name.clone(),
                    ref_id: frame.ref_id.clone(),
                    channel: frame.channel.clone(),
                    fields,
                }
            }
            other => return Err(format!("transformation {other:?} is not modelled here")),
        };
    }
    Ok(frame)
}

/// True when a transformation turns the values of `label` into field names.
fn pivots_labels(panel: &Value) -> bool {
    panel["transformations"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| {
            (t["id"] == "groupingToMatrix" && t["options"]["columnField"] == "label")
                || t["id"] == "rowsToFields"
        })
}

/// Aspect keys the backend knows (the contract's `aspects` list and frame values).
const ASPECT_KEYS: [&str; 8] = [
    "taste",
    "price",
    "service",
    "delivery",
    "hygiene",
    "portion",
    "freshness",
    "packaging",
];
/// The threshold an anomalies query flags spikes at when it names none.
const DEFAULT_ANOMALY_THRESHOLD: f64 = 3.5;

/// What a target asks for, as far as the frame shape goes: its query type, with `:<view>` for
/// the views that are not the type's default (`aspects:timeseries`, `anomalies:spikes`).
fn query_kind(target: &Value) -> String {
    let query_type = target["queryType"].as_str().unwrap_or_default();
    let view = target["view"].as_str().unwrap_or_default();
    let default_view = match query_type {
        "aspects" => "distribution",
        "anomalies" => "timeseries",
        _ => "",
    };
    if view.is_empty() || view == default_view {
        query_type.to_string()
    } else {
        format!("{query_type}:{view}")
    }
}

/// The metric a target's frames carry, with each type's default.
fn target_metric(target: &Value) -> &str {
    match target["metric"].as_str().filter(|m| !m.is_empty()) {
        Some(metric) => metric,
        None => match target["queryType"].as_str().unwrap_or_default() {
            "aspects" | "anomalies" => "share_negative",
            _ => "volume",
        },
    }
}

fn target_group_by(target: &Value) -> Option<&str> {
    target["groupBy"].as_str().filter(|g| !g.is_empty())
}

/// Query kinds (see [`query_kind`]) each visualisation can draw.
fn fitting_query_types(panel_type: &str) -> Option<&'static [&'static str]> {
    Some(match panel_type {
        "timeseries" => &["timeseries", "aspects:timeseries", "anomalies"],
        "stat" | "gauge" => &["timeseries", "distribution"],
        "barchart" | "bargauge" => &["distribution", "aspects", "trending_terms"],
        "piechart" => &["distribution"],
        "table" => &[
            "mentions",
            "distribution",
            "timeseries",
            "trending_terms",
            "aspects",
            "insights",
            "anomalies:spikes",
        ],
        _ => return None,
    })
}

/// Query kinds Grafana can turn into annotations: a table with `time`, `timeEnd`, `title`,
/// `text` and `tags`.
const ANNOTATION_QUERY_TYPES: [&str; 1] = ["anomalies:spikes"];

/// Query kinds an alert rule can reduce: time series, or a numeric table with unique labels.
const ALERTABLE_QUERY_TYPES: [&str; 4] = [
    "timeseries",
    "distribution",
    "anomalies",
    "aspects:timeseries",
];

/// Checks `frame` against the frame name, field names and types the query contract (README,
/// "Queries") promises for the trend types: trending_terms, aspects, anomalies and insights;
/// older types are covered by the visualisation checks.
fn contract_shape(target: &Value, frame: &Frame) -> Result<(), String> {
    const TEXT: &str = "Utf8";
    const INT: &str = "Int64";
    const FLOAT: &str = "Float64";
    const TIME: &str = "Timestamp";
    let fields_are = |name: &str, expected: &[(&str, &str)]| -> Result<(), String> {
        if frame.name != name {
            return Err(format!("frame name {:?}, not {name:?}", frame.name));
        }
        let actual: Vec<(&str, &str)> = frame
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.data_type.as_str()))
            .collect();
        let fits = actual.len() == expected.len()
            && actual
                .iter()
                .zip(expected)
                .all(|((n, t), (en, et))| n == en && t.starts_with(et));
        if fits {
            Ok(())
        } else {
            Err(format!("fields {actual:?}, the contract says {expected:?}"))
        }
    };
    let texts = |name: &str| -> Vec<String> {
        frame
            .field(name)
            .map(|f| f.values.iter().map(cell_text).collect())
            .unwrap_or_default()
    };
    let numbers = |name: &str| -> Vec<Option<f64>> {
        frame
            .field(name)
            .map(|f| f.values.iter().map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let wanted_aspects: Vec<String> = target["aspects"]
        .as_array()
        .map(|a| a.iter().map(cell_text).collect())
        .unwrap_or_else(|| ASPECT_KEYS.map(str::to_string).to_vec());
    let known_aspect = |aspect: &str| -> Result<(), String> {
        if wanted_aspects.iter().any(|a| a == aspect) {
            Ok(())
        } else {
            Err(format!(
                "aspect {aspect:?} is not one of {wanted_aspects:?}"
            ))
        }
    };
    // Time series: a leading time field, then value fields of one name with labels of one key.
    let wide = |name: &str, value_name: &str, label: Option<&str>| -> Result<(), String> {
        if frame.name != name {
            return Err(format!("frame name {:?}, not {name:?}", frame.name));
        }
        // Dataplane's "no data" for a wide series: a frame without fields.
        if frame.fields.is_empty() {
            return Ok(());
        }
        match frame.fields.first() {
            Some(f) if f.name == "time" && f.data_type.starts_with(TIME) => {}
            _ => return Err(format!("no leading time field: {:?}", frame.names())),
        }
        for f in &frame.fields[1..] {
            let keys: Vec<&str> = f.labels.keys().map(String::as_str).collect();
            if f.name != value_name
                || f.kind != Kind::Number
                || keys != label.into_iter().collect::<Vec<_>>()
            {
                return Err(format!(
                    "value field {:?} ({}) with labels {:?}; the contract says {value_name:?}, numeric, labelled {label:?}",
                    f.name, f.data_type, f.labels
                ));
            }
        }
        Ok(())
    };
    match query_kind(target).as_str() {
        "trending_terms" => {
            let group_by = target_group_by(target);
            let mut expected: Vec<(&str, &str)> = group_by.map(|g| (g, TEXT)).into_iter().collect();
            expected.extend([
                ("term", TEXT),
                ("count", INT),
                ("countBefore", INT),
                ("growth", FLOAT),
                ("share", FLOAT),
                ("avgScore", FLOAT),
                ("exampleId", INT),
            ]);
            fields_are("trending_terms", &expected)?;
            let min_support = target["minSupport"].as_f64().unwrap_or(5.0);
            if let Some(low) = numbers("count")
                .into_iter()
                .flatten()
                .find(|c| *c < min_support)
            {
                return Err(format!(
                    "a term with {low} mentions, below minSupport {min_support}"
                ));
            }
            let limit = target["limit"].as_u64().unwrap_or(20) as usize;
            let mut per_group: BTreeMap<String, usize> = BTreeMap::new();
            for group in group_by
                .map(texts)
                .unwrap_or_else(|| vec![String::new(); frame.rows()])
            {
                *per_group.entry(group).or_default() += 1;
            }
            if let Some((group, n)) = per_group.iter().find(|(_, n)| **n > limit) {
                return Err(format!("{n} terms for {group:?}, above limit {limit}"));
            }
            Ok(())
        }
        "aspects" => {
            fields_are(
                "aspects",
                &[
                    ("aspect", TEXT),
                    ("mentions", INT),
                    ("positive", INT),
                    ("neutral", INT),
                    ("negative", INT),
                    ("shareNegative", FLOAT),
                    ("netSentiment", FLOAT),
                    ("avgScore", FLOAT),
                ],
            )?;
            texts("aspect").iter().try_for_each(|a| known_aspect(a))
        }
        "aspects:timeseries" => {
            let metric = target_metric(target);
            wide(metric, metric, Some("aspect"))?;
            frame
                .fields
                .iter()
                .skip(1)
                .try_for_each(|f| known_aspect(&cell_text(&f.labels["aspect"])))
        }
        "anomalies" => wide("anomalies", "zscore", target_group_by(target)),
        "anomalies:spikes" => {
            fields_are(
                "spikes",
                &[
                    ("time", TIME),
                    ("timeEnd", TIME),
                    ("title", TEXT),
                    ("text", TEXT),
                    ("tags", TEXT),
                    ("group", TEXT),
                    ("zscore", FLOAT),
                    ("value", FLOAT),
                    ("baseline", FLOAT),
                    ("mentionIds", TEXT),
                ],
            )?;
            let threshold = target["threshold"]
                .as_f64()
                .unwrap_or(DEFAULT_ANOMALY_THRESHOLD);
            if let Some(low) = numbers("zscore")
                .into_iter()
                .find(|z| z.is_none_or(|z| z < threshold))
            {
                return Err(format!("a spike with z-score {low:?}, below {threshold}"));
            }
            let starts = numbers("time");
            let ends = numbers("timeEnd");
            if starts.iter().zip(&ends).any(|(s, e)| s.is_none() || e < s) {
                return Err("a spike without a start, or ending before it starts".to_string());
            }
            Ok(())
        }
        "insights" => {
            fields_are(
                "insights",
                &[
                    ("kind", TEXT),
                    ("finding", TEXT),
                    ("evidenceIds", TEXT),
                    ("suggestedAction", TEXT),
                    ("generatedBy", TEXT),
                ],
            )?;
            if let Some(kind) = texts("kind")
                .into_iter()
                .find(|k| !["summary", "driver", "suggestion"].contains(&k.as_str()))
            {
                return Err(format!("insight kind {kind:?}"));
            }
            if let Some(by) = texts("generatedBy")
                .into_iter()
                .find(|g| g != "offline" && !g.starts_with("llm:"))
            {
                return Err(format!("generatedBy {by:?}"));
            }
            if texts("finding").iter().any(|f| f.trim().is_empty()) {
                return Err("an insight without a finding".to_string());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether a frame becomes annotations the way Grafana's standard annotation support reads it:
/// a `time` field, optionally `timeEnd`, and a `title` or `text` string, with string `tags`.
fn annotation_shape(frame: &Frame) -> Result<(), String> {
    let is = |name: &str, kind: Kind| frame.field(name).is_some_and(|f| f.kind == kind);
    if !is("time", Kind::Time) {
        return Err(format!("no time field: {:?}", frame.names()));
    }
    if frame.field("timeEnd").is_some() && !is("timeEnd", Kind::Time) {
        return Err("timeEnd is not a time".to_string());
    }
    if !is("title", Kind::Text) && !is("text", Kind::Text) {
        return Err(format!("no title or text field: {:?}", frame.names()));
    }
    if frame.field("tags").is_some() && !is("tags", Kind::Text) {
        return Err("tags is not a string".to_string());
    }
    Ok(())
}

/// Whether `frames` (already transformed) have what a `panel_type` panel draws. `scored`: the
/// database has sentiment, so aspect series exist.
fn panel_shape(
    panel_type: &str,
    frame: &Frame,
    target: &Value,
    all: bool,
    scored: bool,
) -> Result<(), String> {
    let kind = query_kind(target);
    match panel_type {
        "timeseries" => {
            // Without aspect results (nothing scored) an aspect series has no value field.
            let values_expected = all && (scored || kind != "aspects:timeseries");
            // Dataplane's "no data" for a wide series: a frame without fields.
            if frame.fields.is_empty() {
                return if values_expected {
                    Err("no fields".to_string())
                } else {
                    Ok(())
                };
            }
            match frame.fields.first() {
                Some(f) if f.kind == Kind::Time => {}
                _ => return Err(format!("no leading time field: {:?}", frame.names())),
            }
            if frame.fields[1..].iter().any(|f| f.kind != Kind::Number) {
                return Err(format!("a value field is not numeric: {:?}", frame.names()));
            }
            if values_expected && frame.count(Kind::Number) == 0 {
                return Err("no value field".to_string());
            }
            // The label the legend shows each series by.
            let legend = match kind.as_str() {
                "aspects:timeseries" => Some("aspect"),
                _ => target_group_by(target),
            };
            if let Some(label) = legend {
                for f in &frame.fields[1..] {
                    if !f.labels.contains_key(label) {
                        return Err(format!(
                            "value field without the {label} label the legend shows: {:?}",
                            f.labels
                        ));
                    }
                }
            }
            unique_label_sets(frame)
        }
        "stat" | "gauge" | "piechart" | "bargauge" => {
            if frame.rows() > 0 && frame.count(Kind::Number) == 0 {
                return Err(format!("no numeric field: {:?}", frame.names()));
            }
            Ok(())
        }
        "barchart" => {
            if frame.rows() > 0
                && (frame.count(Kind::Number) == 0
                    || frame.count(Kind::Text) + frame.count(Kind::Time) == 0)
            {
                return Err(format!(
                    "a bar chart needs a string or time field and a numeric field: {:?}",
                    frame.names()
                ));
            }
            Ok(())
        }
        "table" => {
            if frame.fields.is_empty() {
                return Err("no field".to_string());
            }
            Ok(())
        }
        other => Err(format!("panel type {other:?} is not modelled here")),
    }
}

fn unique_label_sets(frame: &Frame) -> Result<(), String> {
    let mut seen = HashSet::new();
    for f in frame.fields.iter().filter(|f| f.kind == Kind::Number) {
        let key = serde_json::to_string(&f.labels).unwrap();
        if !seen.insert(key.clone()) {
            return Err(format!("two value fields share the labels {key}"));
        }
    }
    Ok(())
}

/// What Grafana alerting accepts: a time series (then reduced), or a numeric table whose
/// string columns give each row a unique label set.
fn alertable(frame: &Frame) -> Result<(), String> {
    match frame.count(Kind::Time) {
        0 => {
            if frame.count(Kind::Number) != 1 {
                return Err(format!(
                    "a numeric table needs exactly one numeric field: {:?}",
                    frame.names()
                ));
            }
            if frame.count(Kind::Text) + 1 != frame.fields.len() {
                return Err(format!(
                    "a numeric table's other fields must be strings: {:?}",
                    frame.names()
                ));
            }
            let mut seen = HashSet::new();
            for row in 0..frame.rows() {
                let key: Vec<String> = frame
                    .fields
                    .iter()
                    .filter(|f| f.kind == Kind::Text)
                    .map(|f| cell_text(&f.values[row]))
                    .collect();
                if !seen.insert(key.clone()) {
                    return Err(format!("two rows share the label set {key:?}"));
                }
            }
            Ok(())
        }
        1 if frame.fields[0].kind == Kind::Time => {
            let times: Vec<Option<i64>> =
                frame.fields[0].values.iter().map(Value::as_i64).collect();
            if times.iter().any(Option::is_none) {
                return Err("null time".to_string());
            }
            if !times.windows(2).all(|w| w[0] < w[1]) {
                return Err("time is not ascending".to_string());
            }
            if frame.fields[1..].iter().any(|f| f.kind != Kind::Number) {
                return Err(format!("a value field is not numeric: {:?}", frame.names()));
            }
            unique_label_sets(frame)
        }
        _ => Err(format!(
            "a time series needs one time field, first: {:?}",
            frame.names()
        )),
    }
}

// --------------------------------------------------------------------------- static checks

#[test]
fn the_data_source_is_the_plugin() {
    let datasource = provisioned_datasource();
    assert_eq!(datasource["type"], "pulso-sentiment-datasource");
    assert_eq!(datasource["uid"], "pulso");
    let file = read_yaml(&repo().join("provisioning/datasources/pulso.yaml"));
    let entry = &file["datasources"][0];
    assert_eq!(entry["access"], "proxy");
    assert!(
        entry["jsonData"]["sqlitePath"]
            .as_str()
            .is_none_or(|p| p.ends_with(".db")),
        "sqlitePath names a database file"
    );
}

/// docker-compose's `postgres` profile: its Grafana instances get the same data source uid on the
/// shared PostgreSQL database, with settings the plugin accepts and the password kept secure.
#[test]
fn the_postgres_profile_provisions_the_same_uid_on_postgresql() {
    let file = read_yaml(&repo().join("provisioning/postgres/pulso.yaml"));
    let entry = &file["datasources"][0];
    assert_eq!(file["datasources"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        json!({"type": entry["type"], "uid": entry["uid"]}),
        provisioned_datasource()
    );
    let json_data = serde_json::to_vec(&entry["jsonData"]).unwrap();
    let password = entry["secureJsonData"]["postgresPassword"]
        .as_str()
        .expect("the password is provisioned as a secure field");
    assert!(
        password.starts_with('$'),
        "from the environment, not inline"
    );
    let secure = std::collections::HashMap::from([(
        "postgresPassword".to_string(),
        "from-the-environment".to_string(),
    )]);
    let settings = pulso_core::settings::DataSourceSettings::parse(&json_data, &secure)
        .expect("the plugin accepts the provisioned settings");
    match settings.storage {
        pulso_core::settings::StorageChoice::Postgres(postgres) => {
            assert_eq!(postgres.password.as_deref(), Some("from-the-environment"));
            assert!(postgres.url.contains("@postgres:5432/"), "{}", postgres.url);
        }
        other => panic!("expected PostgreSQL storage, got {other:?}"),
    }
    let compose = read_yaml(&repo().join("docker-compose.yaml"));
    let services = compose["services"].as_object().unwrap();
    assert_eq!(services["postgres"]["profiles"], json!(["postgres"]));
    let over_default =
        "./provisioning/postgres/pulso.yaml:/etc/grafana/provisioning/datasources/pulso.yaml:ro";
    let instances: Vec<&String> = services
        .iter()
        .filter(|(_, service)| {
            service["volumes"]
                .as_array()
                .is_some_and(|v| v.contains(&json!(over_default)))
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        instances.len(),
        2,
        "two Grafana instances share the database"
    );
    for name in instances {
        assert_eq!(services[name]["profiles"], json!(["postgres"]), "{name}");
    }
}

#[test]
fn the_provider_loads_the_three_dashboards() {
    let dashboards = dashboards();
    let titles: Vec<&str> = dashboards.iter().map(Dashboard::title).collect();
    for required in REQUIRED_DASHBOARDS {
        assert!(
            titles.contains(&required),
            "no dashboard titled {required:?}, found {titles:?}"
        );
    }
}

#[test]
fn dashboards_are_well_formed() {
    let problems = dashboard_problems(&dashboards());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Everything Grafana would only show at run time as a broken dashboard.
fn dashboard_problems(dashboards: &[Dashboard]) -> Vec<String> {
    let provisioned = provisioned_datasource();
    // Panels, targets, variables and annotations name the dashboard's data source variable, so
    // a dashboard imported next to another Pulso instance can be pointed at it.
    let datasource = json!({"type": provisioned["type"], "uid": "${datasource}"});
    let mut problems = Vec::new();
    let mut uids = HashSet::new();
    for dashboard in dashboards {
        let name = format!("{} ({})", dashboard.title(), dashboard.file.display());
        let mut problem = |text: String| problems.push(format!("{name}: {text}"));
        match dashboard.json["uid"].as_str() {
            Some(uid) if !uid.is_empty() && uid.len() <= 40 => {
                if !uids.insert(uid.to_string()) {
                    problem(format!("dashboard uid {uid:?} is used twice"));
                }
            }
            other => problem(format!("bad dashboard uid {other:?}")),
        }
        if !dashboard.json["schemaVersion"]
            .as_i64()
            .is_some_and(|v| (36..=41).contains(&v))
        {
            problem(format!("schemaVersion {}", dashboard.json["schemaVersion"]));
        }
        if dashboard.json.get("id").is_some_and(|id| !id.is_null()) {
            problem("a provisioned dashboard must not carry a numeric id".to_string());
        }

        // Variables: defined once, filters for the four dimensions, Pulso queries.
        let mut defined: Vec<String> = Vec::new();
        for variable in dashboard.variables() {
            let var_name = variable["name"].as_str().unwrap_or_default().to_string();
            if var_name.is_empty() || defined.contains(&var_name) {
                problem(format!("variable name {var_name:?} empty or repeated"));
            }
            let mut used = BTreeSet::new();
            references(&variable["query"], &mut used);
            for r in used {
                if !defined.contains(&r) {
                    problem(format!(
                        "variable {var_name} uses ${r}, which is not a variable defined before it"
                    ));
                }
            }
            match variable["type"].as_str() {
                Some("query") => {
                    if variable["datasource"] != datasource {
                        problem(format!(
                            "variable {var_name}: datasource {} is not {datasource}",
                            variable["datasource"]
                        ));
                    }
                    if variable["query"]["queryType"] != "dimension_values"
                        || !variable["query"]["dimension"].is_string()
                    {
                        problem(format!(
                            "variable {var_name}: query {} is not a Pulso dimension_values query",
                            variable["query"]
                        ));
                    }
                    if variable["multi"] != true || variable["includeAll"] != true {
                        problem(format!("variable {var_name}: not multi-value with All"));
                    }
                }
                Some("textbox") => {}
                Some("datasource") => {
                    if var_name != "datasource"
                        || variable["query"] != provisioned["type"]
                        || variable["current"]["value"] != provisioned["uid"]
                    {
                        problem(format!(
                            "variable {var_name}: a data source variable must be `datasource`, \
                             list {} and start on {}",
                            provisioned["type"], provisioned["uid"]
                        ));
                    }
                }
                Some("custom") => {
                    if custom_options(variable).is_empty() {
                        problem(format!("custom variable {var_name} has no options"));
                    }
                }
                other => problem(format!("variable {var_name}: type {other:?} not modelled")),
            }
            defined.push(var_name);
        }
        if defined.first().map(String::as_str) != Some("datasource") {
            problem("the first variable must be the data source variable `datasource`".to_string());
        }
        for (var_name, dimension) in FILTER_VARIABLES {
            match dashboard.variables().iter().find(|v| v["name"] == var_name) {
                Some(v) if v["query"]["dimension"] == dimension => {}
                _ => problem(format!(
                    "no variable {var_name} listing the dimension {dimension}"
                )),
            }
        }

        // Panels: unique ids, a tidy grid, the Pulso data source on every panel and target,
        // and query types that fit the visualisation.
        let mut ids = HashSet::new();
        let mut cells = HashSet::new();
        for panel in dashboard.panels() {
            let title = panel["title"].as_str().unwrap_or("<untitled>");
            match panel["id"].as_i64() {
                Some(id) if id > 0 => {
                    if !ids.insert(id) {
                        problem(format!("panel id {id} is used twice"));
                    }
                }
                other => problem(format!("panel {title:?}: bad id {other:?}")),
            }
            let grid = &panel["gridPos"];
            let (x, y, w, h) = (
                grid["x"].as_i64().unwrap_or(-1),
                grid["y"].as_i64().unwrap_or(-1),
                grid["w"].as_i64().unwrap_or(0),
                grid["h"].as_i64().unwrap_or(0),
            );
            if x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24 {
                problem(format!("panel {title:?}: gridPos {grid}"));
            }
            for cx in x..x + w {
                for cy in y..y + h {
                    if !cells.insert((cx, cy)) {
                        problem(format!("panel {title:?} overlaps another at ({cx}, {cy})"));
                    }
                }
            }
            if panel["type"] == "row" {
                continue;
            }
            let panel_type = panel["type"].as_str().unwrap_or_default();
            if panel["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
            {
                problem(format!("panel {title:?} has no description"));
            }
            if panel["datasource"] != datasource {
                problem(format!(
                    "panel {title:?}: datasource {} is not {datasource}",
                    panel["datasource"]
                ));
            }
            let targets = panel["targets"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if targets.is_empty() {
                problem(format!("panel {title:?} has no target"));
            }
            let mut ref_ids = HashSet::new();
            for target in targets {
                if target["datasource"] != datasource {
                    problem(format!(
                        "panel {title:?}: target datasource {} is not {datasource}",
                        target["datasource"]
                    ));
                }
                if !target["refId"].as_str().is_some_and(|r| ref_ids.insert(r)) {
                    problem(format!("panel {title:?}: missing or repeated refId"));
                }
                let query_type = query_kind(target);
                match fitting_query_types(panel_type) {
                    Some(fits) if fits.contains(&query_type.as_str()) => {}
                    Some(fits) => problem(format!(
                        "panel {title:?}: a {panel_type} panel draws {fits:?}, not {query_type:?}"
                    )),
                    None => problem(format!("panel {title:?}: type {panel_type:?} not modelled")),
                }
                if panel_type == "timeseries" && query_type == "anomalies" {
                    if let Err(e) = threshold_line(panel, target) {
                        problem(format!("panel {title:?}: {e}"));
                    }
                }
                let mut used = BTreeSet::new();
                references(target, &mut used);
                for r in used {
                    if !defined.contains(&r) {
                        problem(format!(
                            "panel {title:?} uses ${r}, which is not a variable"
                        ));
                    }
                }
            }
        }

        // Annotations: Grafana's built-in one, or Pulso queries whose frames become events.
        for annotation in annotations(dashboard) {
            let name = annotation["name"].as_str().unwrap_or("<unnamed>");
            if annotation["builtIn"] == 1 {
                continue;
            }
            if annotation["datasource"] != datasource {
                problem(format!(
                    "annotation {name:?}: datasource {} is not {datasource}",
                    annotation["datasource"]
                ));
                continue;
            }
            let target = &annotation["target"];
            if target["refId"].as_str().is_none_or(str::is_empty) {
                problem(format!("annotation {name:?}: target without a refId"));
            }
            let kind = query_kind(target);
            if !ANNOTATION_QUERY_TYPES.contains(&kind.as_str()) {
                problem(format!(
                    "annotation {name:?}: {kind:?} gives no events; use one of {ANNOTATION_QUERY_TYPES:?}"
                ));
            }
            if annotation["enable"] != true {
                problem(format!("annotation {name:?} is not enabled"));
            }
            let mut used = BTreeSet::new();
            references(target, &mut used);
            for r in used {
                if !defined.contains(&r) {
                    problem(format!(
                        "annotation {name:?} uses ${r}, which is not a variable"
                    ));
                }
            }
        }
    }
    problems
}

fn annotations(dashboard: &Dashboard) -> &[Value] {
    dashboard.json["annotations"]["list"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// An anomalies panel draws its spike threshold as a line: a threshold step at the query's
/// threshold, shown.
fn threshold_line(panel: &Value, target: &Value) -> Result<(), String> {
    let threshold = target["threshold"]
        .as_f64()
        .unwrap_or(DEFAULT_ANOMALY_THRESHOLD);
    let defaults = &panel["fieldConfig"]["defaults"];
    let steps = defaults["thresholds"]["steps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if !steps.iter().any(|s| s["value"].as_f64() == Some(threshold)) {
        return Err(format!(
            "no threshold step at the anomaly threshold {threshold}: {}",
            defaults["thresholds"]
        ));
    }
    let style = defaults["custom"]["thresholdsStyle"]["mode"]
        .as_str()
        .unwrap_or("off");
    if style == "off" {
        return Err("the threshold is not drawn (thresholdsStyle off)".to_string());
    }
    Ok(())
}

#[test]
fn alert_rules_are_complete() {
    let problems = alert_problems(&alert_file(), &dashboards());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Everything that would make Grafana reject an alert rule file, or a rule fail to evaluate.
fn alert_problems(file: &Value, dashboards: &[Dashboard]) -> Vec<String> {
    let datasource = provisioned_datasource();
    let mut problems = Vec::new();
    let mut uids = HashSet::new();
    for group in file["groups"].as_array().unwrap() {
        let group_name = group["name"].as_str().unwrap_or("<unnamed group>");
        if group["folder"] != FOLDER {
            problems.push(format!("group {group_name}: folder {}", group["folder"]));
        }
        if group["orgId"].as_i64().is_none() {
            problems.push(format!("group {group_name}: no orgId"));
        }
        if group["interval"].as_str().and_then(duration_ms) != Some(MINUTE_MS) {
            problems.push(format!(
                "group {group_name}: interval {}",
                group["interval"]
            ));
        }
    }
    for (_, rule) in alert_rules(file) {
        let uid = rule["uid"].as_str().unwrap_or_default();
        let title = rule["title"].as_str().unwrap_or_default();
        let mut problem = |text: String| problems.push(format!("rule {uid:?} ({title}): {text}"));
        if uid.is_empty() || uid.len() > 40 || !uids.insert(uid.to_string()) {
            problem("uid empty, too long or repeated".to_string());
        }
        if title.is_empty() {
            problem("no title".to_string());
        }
        let for_ms = rule["for"].as_str().and_then(duration_ms);
        if for_ms.is_none_or(|ms| ms < MINUTE_MS) {
            problem(format!("for {}", rule["for"]));
        }
        if !["NoData", "Alerting", "OK", "KeepLast"]
            .contains(&rule["noDataState"].as_str().unwrap_or_default())
        {
            problem(format!("noDataState {}", rule["noDataState"]));
        }
        if !["Error", "Alerting", "OK", "KeepLast"]
            .contains(&rule["execErrState"].as_str().unwrap_or_default())
        {
            problem(format!("execErrState {}", rule["execErrState"]));
        }
        if rule["labels"].as_object().is_none_or(|l| l.is_empty()) {
            problem("no labels".to_string());
        }
        for key in ["summary", "description"] {
            let text = rule["annotations"][key].as_str();
            if text.is_none_or(|s| s.trim().is_empty()) {
                problem(format!("no annotations.{key}"));
            }
        }
        if let Some(dashboard_uid) = rule["annotations"]["__dashboardUid__"].as_str() {
            match dashboards.iter().find(|d| d.json["uid"] == dashboard_uid) {
                None => problem(format!("__dashboardUid__ {dashboard_uid} is no dashboard")),
                Some(d) => {
                    let panel_id = rule["annotations"]["__panelId__"]
                        .as_str()
                        .and_then(|p| p.parse::<i64>().ok());
                    if !d
                        .query_panels()
                        .iter()
                        .any(|p| p["id"].as_i64() == panel_id)
                    {
                        problem(format!(
                            "__panelId__ {} is no panel of {dashboard_uid}",
                            rule["annotations"]["__panelId__"]
                        ));
                    }
                }
            }
        }

        let data = rule["data"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let ref_ids: Vec<&str> = data.iter().filter_map(|d| d["refId"].as_str()).collect();
        if ref_ids.len() != data.len() || ref_ids.iter().collect::<HashSet<_>>().len() != data.len()
        {
            problem("data refIds missing or repeated".to_string());
        }
        if !rule["condition"]
            .as_str()
            .is_some_and(|c| ref_ids.contains(&c))
        {
            problem(format!("condition {} is no data refId", rule["condition"]));
        }
        if !data.iter().any(|d| !is_expression(d)) {
            problem("no Pulso query".to_string());
        }
        for item in data {
            let ref_id = item["refId"].as_str().unwrap_or_default();
            let model = &item["model"];
            if model["refId"] != item["refId"] {
                problem(format!("{ref_id}: model.refId {}", model["refId"]));
            }
            if is_expression(item) {
                let expression = model["expression"].as_str().unwrap_or_default();
                if !ref_ids.contains(&expression) || expression == ref_id {
                    problem(format!(
                        "{ref_id}: expression {expression:?} is no other refId"
                    ));
                }
                match model["type"].as_str().unwrap_or_default() {
                    "reduce" => {
                        let reducers = ["last", "mean", "sum", "min", "max", "count"];
                        if !reducers.contains(&model["reducer"].as_str().unwrap_or_default()) {
                            problem(format!("{ref_id}: reducer {}", model["reducer"]));
                        }
                    }
                    "threshold" => {
                        let evaluator = &model["conditions"][0]["evaluator"];
                        let kinds = ["gt", "lt", "within_range", "outside_range"];
                        if !kinds.contains(&evaluator["type"].as_str().unwrap_or_default())
                            || !evaluator["params"]
                                .as_array()
                                .is_some_and(|p| !p.is_empty() && p.iter().all(Value::is_number))
                        {
                            problem(format!("{ref_id}: evaluator {evaluator}"));
                        }
                    }
                    "math" => {}
                    other => problem(format!("{ref_id}: expression type {other:?}")),
                }
            } else {
                if item["datasourceUid"] != datasource["uid"] {
                    problem(format!(
                        "{ref_id}: datasourceUid {} is not {}",
                        item["datasourceUid"], datasource["uid"]
                    ));
                }
                if !model["datasource"].is_null() && model["datasource"] != datasource {
                    problem(format!(
                        "{ref_id}: model.datasource {} is not {datasource}",
                        model["datasource"]
                    ));
                }
                let range = &item["relativeTimeRange"];
                let (from, to) = (range["from"].as_i64(), range["to"].as_i64());
                if !matches!((from, to), (Some(f), Some(t)) if f > t && t >= 0) {
                    problem(format!("{ref_id}: relativeTimeRange {range}"));
                }
                let kind = query_kind(model);
                if !ALERTABLE_QUERY_TYPES.contains(&kind.as_str()) {
                    problem(format!(
                        "{ref_id}: {kind:?} cannot be alerted on; use one of {ALERTABLE_QUERY_TYPES:?}"
                    ));
                }
                let mut used = BTreeSet::new();
                references(model, &mut used);
                if !used.is_empty() {
                    problem(format!(
                        "{ref_id}: alert queries cannot use variables {used:?}"
                    ));
                }
            }
        }
    }

    // The rules the product promises.
    let rules: Vec<&Value> = alert_rules(file).into_iter().map(|(_, r)| r).collect();
    let has_rule = |kind: &str, metric: &str, group_by: Option<&str>, evaluator: &str| {
        rules.iter().any(|rule| {
            let data = rule["data"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            let query = data.iter().find(|d| !is_expression(d));
            let condition = data.iter().find(|d| d["refId"] == rule["condition"]);
            query.is_some_and(|q| {
                query_kind(&q["model"]) == kind
                    && target_metric(&q["model"]) == metric
                    && group_by.is_none_or(|g| q["model"]["groupBy"] == g)
            }) && condition
                .is_some_and(|c| c["model"]["conditions"][0]["evaluator"]["type"] == evaluator)
        })
    };
    if !has_rule("timeseries", "share_negative", Some("category"), "gt") {
        problems.push("no rule on share_negative by category above a threshold".to_string());
    }
    if !has_rule("timeseries", "volume", None, "lt") {
        problems.push("no rule on volume below a threshold".to_string());
    }
    if !has_rule("anomalies", "share_negative", Some("brand"), "gt") {
        problems.push("no rule on unusual negative share (anomalies) by brand".to_string());
    }
    problems
}

// ------------------------------------------------------------------- broken on purpose

/// Which checks must notice a breakage: the static ones, or running it through the plugin.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caught {
    Statically,
    ThroughThePlugin,
}

/// A deliberate breakage of the provisioning, and a piece of the problem the checks must
/// report for it, so that a check that silently stops checking fails a test.
struct Breakage {
    what: &'static str,
    /// The uid of the dashboard it breaks; `None` for the alert rules file.
    dashboard: Option<&'static str>,
    apply: fn(&mut Value),
    caught: Caught,
    expect: &'static str,
}

fn panel_mut<'a>(dashboard: &'a mut Value, title: &str) -> &'a mut Value {
    let panels = dashboard["panels"].as_array().expect("panels");
    let at = panels
        .iter()
        .enumerate()
        .find_map(|(i, p)| {
            if p["title"] == title {
                return Some((i, None));
            }
            let nested = p["panels"].as_array()?;
            nested
                .iter()
                .position(|n| n["title"] == title)
                .map(|j| (i, Some(j)))
        })
        .unwrap_or_else(|| panic!("no panel titled {title:?}"));
    match at {
        (i, None) => &mut dashboard["panels"][i],
        (i, Some(j)) => &mut dashboard["panels"][i]["panels"][j],
    }
}

fn annotation_mut<'a>(dashboard: &'a mut Value, name: &str) -> &'a mut Value {
    dashboard["annotations"]["list"]
        .as_array_mut()
        .expect("annotations")
        .iter_mut()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no annotation named {name:?}"))
}

/// The Pulso query model of the alert rule with `uid`.
fn alert_query_mut<'a>(file: &'a mut Value, uid: &str) -> &'a mut Value {
    let rule = file["groups"]
        .as_array_mut()
        .expect("groups")
        .iter_mut()
        .flat_map(|g| g["rules"].as_array_mut().expect("rules").iter_mut())
        .find(|r| r["uid"] == uid)
        .unwrap_or_else(|| panic!("no alert rule {uid}"));
    let item = rule["data"]
        .as_array_mut()
        .expect("rule data")
        .iter_mut()
        .find(|d| !is_expression(d))
        .expect("a Pulso query");
    &mut item["model"]
}

const TRENDS: Option<&str> = Some("pulso-consumer-trends");
const DRILL_DOWN: Option<&str> = Some("pulso-region-category");
const ANOMALY_RULE: &str = "pulso-brand-negative-anomaly";

fn breakages() -> Vec<Breakage> {
    use Caught::*;
    vec![
        // Static: what Grafana would load, but draw wrongly or not at all.
        Breakage {
            what: "the anomalies series drawn as a table",
            dashboard: TRENDS,
            apply: |d| panel_mut(d, "Anomalies by brand")["type"] = json!("table"),
            caught: Statically,
            expect: "a table panel draws",
        },
        Breakage {
            what: "the threshold line away from the anomaly threshold",
            dashboard: TRENDS,
            apply: |d| {
                panel_mut(d, "Anomalies by brand")["fieldConfig"]["defaults"]["thresholds"]
                    ["steps"][1]["value"] = json!(35)
            },
            caught: Statically,
            expect: "no threshold step at the anomaly threshold 3.5",
        },
        Breakage {
            what: "the threshold line hidden",
            dashboard: TRENDS,
            apply: |d| {
                panel_mut(d, "Anomalies by brand")["fieldConfig"]["defaults"]["custom"]
                    ["thresholdsStyle"]["mode"] = json!("off")
            },
            caught: Statically,
            expect: "the threshold is not drawn",
        },
        Breakage {
            what: "aspect series in a bar chart",
            dashboard: DRILL_DOWN,
            apply: |d| panel_mut(d, "Aspect net sentiment over time")["type"] = json!("barchart"),
            caught: Statically,
            expect: "not \"aspects:timeseries\"",
        },
        Breakage {
            what: "an annotation on the anomaly series instead of the spikes table",
            dashboard: TRENDS,
            apply: |d| {
                annotation_mut(d, "Negative spikes by brand")["target"]["view"] =
                    json!("timeseries")
            },
            caught: Statically,
            expect: "gives no events",
        },
        Breakage {
            what: "an annotation filtered by a variable that does not exist",
            dashboard: TRENDS,
            apply: |d| {
                annotation_mut(d, "Negative spikes by brand")["target"]["filters"]["platform"] =
                    json!(["$platform"])
            },
            caught: Statically,
            expect: "uses $platform, which is not a variable",
        },
        Breakage {
            what: "a panel without a description",
            dashboard: TRENDS,
            apply: |d| {
                panel_mut(d, "Trending terms")
                    .as_object_mut()
                    .unwrap()
                    .remove("description");
            },
            caught: Statically,
            expect: "\"Trending terms\" has no description",
        },
        Breakage {
            what: "the insights table over the row above it",
            dashboard: TRENDS,
            apply: |d| panel_mut(d, "Insights")["gridPos"]["y"] = json!(49),
            caught: Statically,
            expect: "\"Insights\" overlaps another",
        },
        Breakage {
            what: "an alert on the spikes table",
            dashboard: None,
            apply: |f| alert_query_mut(f, ANOMALY_RULE)["view"] = json!("spikes"),
            caught: Statically,
            expect: "\"anomalies:spikes\" cannot be alerted on",
        },
        Breakage {
            what: "an alert on trending terms",
            dashboard: None,
            apply: |f| alert_query_mut(f, ANOMALY_RULE)["queryType"] = json!("trending_terms"),
            caught: Statically,
            expect: "\"trending_terms\" cannot be alerted on",
        },
        // Through the plugin: what only the backend's answers reveal.
        Breakage {
            what: "a misspelt aspect key",
            dashboard: TRENDS,
            apply: |d| {
                panel_mut(d, "Aspect sentiment")["targets"][0]["aspects"] =
                    json!(["taste", "delivey"])
            },
            caught: ThroughThePlugin,
            expect: "unknown aspect \\\"delivey\\\"",
        },
        Breakage {
            what: "a wrong view name on the spikes annotation",
            dashboard: TRENDS,
            apply: |d| {
                annotation_mut(d, "Negative spikes by brand")["target"]["view"] = json!("spike")
            },
            caught: ThroughThePlugin,
            expect: "unknown view \\\"spike\\\"",
        },
        Breakage {
            what: "a metric the aspect series do not have",
            dashboard: DRILL_DOWN,
            apply: |d| {
                panel_mut(d, "Aspect net sentiment over time")["targets"][0]["metric"] =
                    json!("net_sentimen")
            },
            caught: ThroughThePlugin,
            expect: "unknown metric \\\"net_sentimen\\\"",
        },
        Breakage {
            what: "the anomalies panel fed the spikes view",
            dashboard: TRENDS,
            apply: |d| panel_mut(d, "Anomalies by brand")["targets"][0]["view"] = json!("spikes"),
            caught: ThroughThePlugin,
            expect: "a value field is not numeric",
        },
        Breakage {
            what: "trending terms regrouped without updating the column override",
            dashboard: DRILL_DOWN,
            apply: |d| {
                panel_mut(d, "Trending terms by region")["targets"][0]["groupBy"] =
                    json!("category")
            },
            caught: ThroughThePlugin,
            expect: "override for \"region\"",
        },
        Breakage {
            what: "a misspelt column override on trending terms",
            dashboard: TRENDS,
            apply: |d| {
                panel_mut(d, "Trending terms")["fieldConfig"]["overrides"][1]["matcher"]
                    ["options"] = json!("countBefor")
            },
            caught: ThroughThePlugin,
            expect: "override for \"countBefor\"",
        },
        Breakage {
            what: "the aspect bar chart hiding a column the frame does not have",
            dashboard: TRENDS,
            apply: |d| {
                panel_mut(d, "Aspect sentiment")["transformations"][0]["options"]["excludeByName"]
                    ["share_negative"] = json!(true)
            },
            caught: ThroughThePlugin,
            expect: "organize excludeByName names \"share_negative\"",
        },
        Breakage {
            what: "the spikes table as an alert query, through the plugin too",
            dashboard: None,
            apply: |f| alert_query_mut(f, ANOMALY_RULE)["view"] = json!("spikes"),
            caught: ThroughThePlugin,
            expect: "not alertable",
        },
        Breakage {
            what: "an anomaly alert with too short a baseline",
            dashboard: None,
            apply: |f| alert_query_mut(f, ANOMALY_RULE)["baselineBuckets"] = json!(1),
            caught: ThroughThePlugin,
            expect: "baselineBuckets 1",
        },
    ]
}

/// The dashboards and alert rules with one breakage applied.
fn broken(
    dashboards: &[Dashboard],
    alerts: &Value,
    breakage: &Breakage,
) -> (Vec<Dashboard>, Value) {
    let mut dashboards = dashboards.to_vec();
    let mut alerts = alerts.clone();
    match breakage.dashboard {
        Some(uid) => {
            let dashboard = dashboards
                .iter_mut()
                .find(|d| d.json["uid"] == uid)
                .unwrap_or_else(|| panic!("no dashboard {uid}"));
            (breakage.apply)(&mut dashboard.json);
        }
        None => (breakage.apply)(&mut alerts),
    }
    (dashboards, alerts)
}

fn missed(breakage: &Breakage, problems: &[String]) -> Option<String> {
    (!problems.iter().any(|p| p.contains(breakage.expect))).then(|| {
        format!(
            "{}: no problem mentions {:?}; found {problems:#?}",
            breakage.what, breakage.expect
        )
    })
}

#[test]
fn broken_provisioning_is_caught_statically() {
    let dashboards = dashboards();
    let alerts = alert_file();
    let mut misses = Vec::new();
    for breakage in breakages()
        .iter()
        .filter(|b| b.caught == Caught::Statically)
    {
        let (dashboards, alerts) = broken(&dashboards, &alerts, breakage);
        let problems = match breakage.dashboard {
            Some(_) => dashboard_problems(&dashboards),
            None => alert_problems(&alerts, &dashboards),
        };
        misses.extend(missed(breakage, &problems));
    }
    assert!(misses.is_empty(), "\n{}", misses.join("\n"));
}

/// Runs every breakage the plugin's answers must reveal (dashboards on "All" only), and returns
/// the ones nothing reported; the harness's own problems are left as they were.
async fn plugin_breakages_missed(harness: &mut Harness, dashboards: &[Dashboard]) -> Vec<String> {
    let alerts = alert_file();
    let now = now_ms();
    let kept = std::mem::take(&mut harness.problems);
    let mut misses = Vec::new();
    for breakage in breakages()
        .iter()
        .filter(|b| b.caught == Caught::ThroughThePlugin)
    {
        let (dashboards, alerts) = broken(dashboards, &alerts, breakage);
        match breakage.dashboard {
            Some(uid) => {
                let dashboard = dashboards.iter().find(|d| d.json["uid"] == uid).unwrap();
                run_dashboard(harness, dashboard, now, true).await;
            }
            None => check_alert_queries(harness, &alerts, now).await,
        }
        let problems = std::mem::take(&mut harness.problems);
        misses.extend(missed(breakage, &problems));
    }
    harness.problems = kept;
    misses
}

/// A frame as the decoder would give it: `(name, Arrow type, labels, values)` per field.
fn synthetic_frame(name: &str, fields: &[(&str, &str, Value, Value)]) -> Frame {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(n, t, labels, values)| json!({"name": n, "type": t, "labels": labels, "values": values}))
        .collect();
    Frame::from_decoded(&json!({"name": name, "refId": "A", "fields": fields}))
}

/// The contract checks notice a frame that drifted from the documented shape: a renamed or
/// retyped field, an unknown aspect, a wrong label, a value the query excluded.
#[test]
fn contract_drift_is_caught() {
    const TIME: &str = "Timestamp(Nanosecond, None)";
    let none = Value::Null;
    let trending = |count_name: &str, count_type: &str, counts: Value| {
        let n = counts.as_array().unwrap().len();
        let texts = json!(vec!["pollo"; n]);
        let floats = json!(vec![1.5; n]);
        let ints = json!(vec![3; n]);
        synthetic_frame(
            "trending_terms",
            &[
                ("term", "Utf8", none.clone(), texts),
                (count_name, count_type, none.clone(), counts),
                ("countBefore", "Int64", none.clone(), ints.clone()),
                ("growth", "Float64", none.clone(), floats.clone()),
                ("share", "Float64", none.clone(), floats.clone()),
                ("avgScore", "Float64", none.clone(), floats),
                ("exampleId", "Int64", none.clone(), ints),
            ],
        )
    };
    let terms = json!({"queryType": "trending_terms", "minSupport": 5, "limit": 2});
    assert_eq!(
        contract_shape(&terms, &trending("count", "Int64", json!([7, 5]))),
        Ok(())
    );
    for (frame, why) in [
        (trending("mentions", "Int64", json!([7])), "renamed"),
        (trending("count", "Float64", json!([7.0])), "retyped"),
        (
            trending("count", "Int64", json!([7, 4])),
            "below minSupport",
        ),
        (trending("count", "Int64", json!([7, 6, 5])), "above limit"),
    ] {
        assert!(contract_shape(&terms, &frame).is_err(), "{why}");
    }
    let grouped = json!({"queryType": "trending_terms", "groupBy": "region"});
    assert!(
        contract_shape(&grouped, &trending("count", "Int64", json!([7]))).is_err(),
        "no region column"
    );

    let aspects = |aspect: &str| {
        let mut fields = vec![("aspect", "Utf8", none.clone(), json!([aspect]))];
        for n in ["mentions", "positive", "neutral", "negative"] {
            fields.push((n, "Int64", none.clone(), json!([1])));
        }
        for n in ["shareNegative", "netSentiment", "avgScore"] {
            fields.push((n, "Float64", none.clone(), json!([null])));
        }
        synthetic_frame("aspects", &fields)
    };
    let distribution = json!({"queryType": "aspects"});
    assert_eq!(contract_shape(&distribution, &aspects("taste")), Ok(()));
    assert!(contract_shape(&distribution, &aspects("sabor")).is_err());
    let only_price = json!({"queryType": "aspects", "aspects": ["price"]});
    assert!(contract_shape(&only_price, &aspects("taste")).is_err());

    let wide = |name: &str, value: &str, labels: Value| {
        synthetic_frame(
            name,
            &[
                ("time", TIME, none.clone(), json!([1, 2])),
                (value, "Float64", labels, json!([0.5, null])),
            ],
        )
    };
    let series = json!({"queryType": "aspects", "view": "timeseries"});
    let taste = json!({"aspect": "taste"});
    assert_eq!(
        contract_shape(
            &series,
            &wide("share_negative", "share_negative", taste.clone())
        ),
        Ok(())
    );
    assert!(contract_shape(
        &series,
        &wide("net_sentiment", "net_sentiment", taste.clone())
    )
    .is_err());
    assert!(contract_shape(
        &series,
        &wide("share_negative", "share_negative", json!({}))
    )
    .is_err());
    let anomalies = json!({"queryType": "anomalies", "groupBy": "brand"});
    let brand = json!({"brand": "Killa"});
    assert_eq!(
        contract_shape(&anomalies, &wide("anomalies", "zscore", brand.clone())),
        Ok(())
    );
    assert!(contract_shape(&anomalies, &wide("anomalies", "z", brand)).is_err());
    assert!(contract_shape(
        &anomalies,
        &wide("anomalies", "zscore", json!({"region": "Lima"}))
    )
    .is_err());

    let spikes = |zscore: f64| {
        let mut fields = vec![
            ("time", TIME, none.clone(), json!([1])),
            ("timeEnd", TIME, none.clone(), json!([2])),
        ];
        for n in ["title", "text", "tags", "group"] {
            fields.push((n, "Utf8", none.clone(), json!(["x"])));
        }
        fields.push(("zscore", "Float64", none.clone(), json!([zscore])));
        fields.push(("value", "Float64", none.clone(), json!([40.0])));
        fields.push(("baseline", "Float64", none.clone(), json!([20.0])));
        fields.push(("mentionIds", "Utf8", none.clone(), json!(["1, 2"])));
        synthetic_frame("spikes", &fields)
    };
    let spike_query = json!({"queryType": "anomalies", "view": "spikes"});
    assert_eq!(contract_shape(&spike_query, &spikes(4.0)), Ok(()));
    assert!(
        contract_shape(&spike_query, &spikes(2.0)).is_err(),
        "below 3.5"
    );
    assert_eq!(annotation_shape(&spikes(4.0)), Ok(()));

    let insights = |kind: &str, by: &str| {
        let fields: Vec<(&str, &str, Value, Value)> = [
            ("kind", kind),
            ("finding", "Más quejas"),
            ("evidenceIds", "1"),
            ("suggestedAction", ""),
            ("generatedBy", by),
        ]
        .into_iter()
        .map(|(n, v)| (n, "Utf8", none.clone(), json!([v])))
        .collect();
        synthetic_frame("insights", &fields)
    };
    let insight_query = json!({"queryType": "insights"});
    assert_eq!(
        contract_shape(&insight_query, &insights("driver", "offline")),
        Ok(())
    );
    assert_eq!(
        contract_shape(&insight_query, &insights("summary", "llm:qwen")),
        Ok(())
    );
    assert!(contract_shape(&insight_query, &insights("note", "offline")).is_err());
    assert!(contract_shape(&insight_query, &insights("driver", "gpt")).is_err());
}

// ---------------------------------------------------------------------- through the plugin

struct Harness {
    plugin: PluginProcess,
    context: pluginv2::PluginContext,
    /// Whether the database has sentiment scores.
    scored: bool,
    problems: Vec<String>,
    queries_run: usize,
}

impl Harness {
    /// Sends `models` in one QueryData request the way Grafana does, and returns each refId's
    /// frames, or records why there are none.
    async fn run(
        &mut self,
        what: &str,
        models: &[Value],
        range: (i64, i64),
        interval_ms: i64,
        max_data_points: i64,
    ) -> Vec<Option<Vec<Frame>>> {
        let queries = models
            .iter()
            .map(|model| {
                let ref_id = model["refId"].as_str().unwrap_or("A");
                let mut q = query(ref_id, model.clone(), range.0, range.1);
                q.interval_ms = interval_ms;
                q.max_data_points = max_data_points;
                // Grafana copies the model's queryType beside the JSON.
                q.query_type = model["queryType"].as_str().unwrap_or_default().to_string();
                q
            })
            .collect();
        self.queries_run += models.len();
        let responses = query_data(&self.plugin, self.context.clone(), queries).await;
        models
            .iter()
            .map(|model| {
                let ref_id = model["refId"].as_str().unwrap_or("A");
                let problem = match responses.get(ref_id) {
                    None => format!("no response for refId {ref_id}"),
                    Some(r) if r.status != 200 || !r.error.is_empty() => {
                        format!("status {} error {:?}", r.status, r.error)
                    }
                    Some(r) if r.frames.is_empty() => "no frames".to_string(),
                    Some(r) => {
                        let frames: Vec<Frame> = r
                            .frames
                            .iter()
                            .map(|bytes| Frame::from_decoded(&decode_frame(bytes)))
                            .collect();
                        if frames.iter().any(|f| f.ref_id != ref_id) {
                            format!("a frame for another refId than {ref_id}")
                        } else {
                            return Some(frames);
                        }
                    }
                };
                self.problems
                    .push(format!("{what} [{ref_id}] {model}: {problem}"));
                None
            })
            .collect()
    }
}

/// A way of filling in a dashboard's variables.
struct Scenario {
    name: String,
    /// "All" for multi-value variables and the default text, or else the first value each
    /// variable's own query returns and a search text.
    all: bool,
    /// Which option custom variables take in concrete runs.
    custom_choice: usize,
}

fn scenarios(dashboard: &Dashboard, scored: bool) -> Vec<Scenario> {
    let data = if scored { "scored" } else { "unscored" };
    let choices = dashboard
        .variables()
        .iter()
        .filter(|v| v["type"] == "custom")
        .map(|v| custom_options(v).len())
        .max()
        .unwrap_or(1);
    let mut out = vec![Scenario {
        name: format!("All selected, {data} rows"),
        all: true,
        custom_choice: 0,
    }];
    out.extend((0..choices).map(|i| Scenario {
        name: format!("first values, option {i}, {data} rows"),
        all: false,
        custom_choice: i,
    }));
    out
}

async fn resolve_variables(
    harness: &mut Harness,
    dashboard: &Dashboard,
    scenario: &Scenario,
    range: (i64, i64),
) -> Option<Selections> {
    let mut selections = Selections::new();
    for variable in dashboard.variables() {
        let name = variable["name"].as_str().unwrap_or_default().to_string();
        let what = format!(
            "{} / variable {name} ({})",
            dashboard.title(),
            scenario.name
        );
        let selection = match variable["type"].as_str().unwrap_or_default() {
            "query" => {
                let mut model = match interpolate(&variable["query"], &selections) {
                    Ok(model) => model,
                    Err(e) => {
                        harness.problems.push(format!("{what}: {e}"));
                        return None;
                    }
                };
                model["refId"] = json!(model["refId"].as_str().unwrap_or("variable"));
                let frames = harness.run(&what, &[model], range, HOUR, 1_000).await;
                let frames = frames.into_iter().next().flatten()?;
                let frame = &frames[0];
                let (Some(text), Some(value)) = (frame.field("text"), frame.field("value")) else {
                    harness.problems.push(format!(
                        "{what}: no text and value fields: {:?}",
                        frame.names()
                    ));
                    return None;
                };
                let values: Vec<String> = value.values.iter().map(cell_text).collect();
                if text.kind != Kind::Text || value.kind != Kind::Text || values.is_empty() {
                    harness.problems.push(format!(
                        "{what}: no values on the demo data ({:?})",
                        frame.names()
                    ));
                    return None;
                }
                if scenario.all {
                    Selection::All
                } else {
                    Selection::Values(vec![values[0].clone()])
                }
            }
            "textbox" => Selection::Text(if scenario.all {
                variable["query"].as_str().unwrap_or_default().to_string()
            } else {
                SEARCH_SAMPLE.to_string()
            }),
            "datasource" => Selection::Values(vec![variable["current"]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string()]),
            "custom" => {
                let options = custom_options(variable);
                let choice = if scenario.all {
                    variable["current"]["value"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| options[0].clone())
                } else {
                    options[scenario.custom_choice % options.len()].clone()
                };
                Selection::Values(vec![choice])
            }
            other => {
                harness
                    .problems
                    .push(format!("{what}: variable type {other:?} not modelled"));
                return None;
            }
        };
        selections.insert(name, selection);
    }
    Some(selections)
}

/// Whether a query's figures come from sentiment scores (or, for aspects, from the scorer's
/// aspect results), so an unscored database rightly leaves them empty.
fn needs_scores(target: &Value) -> bool {
    let kind = query_kind(target);
    !target["filters"]["label"].is_null()
        || !target["filters"]["emotion"].is_null()
        || target["groupBy"] == "emotion"
        || !target["minConfidence"].is_null()
        || kind.starts_with("aspects")
        || target_metric(target) != "volume"
}

/// With every variable on All, every query must find demo rows (and ratios must have values,
/// once rows are scored): otherwise the dashboard's time range or filters miss the data.
fn expect_rows(target: &Value, frames: &[Frame], scored: bool) -> Result<(), String> {
    if needs_scores(target) && !scored {
        return Ok(());
    }
    let values = || {
        frames
            .iter()
            .flat_map(|f| f.fields.iter().filter(|f| f.kind == Kind::Number))
            .flat_map(|f| f.values.iter())
    };
    let found = match query_kind(target).as_str() {
        "timeseries" if target_metric(target) == "volume" => {
            values().filter_map(Value::as_i64).sum::<i64>() > 0
        }
        "timeseries" | "aspects:timeseries" | "anomalies" => values().any(|v| !v.is_null()),
        "mentions" if !target["search"].as_str().unwrap_or_default().is_empty() => true,
        // Spikes are rare by design: none in a range is a fine answer.
        "anomalies:spikes" => true,
        _ => frames.iter().any(|f| f.rows() > 0),
    };
    if found {
        Ok(())
    } else {
        Err("no demo data in the dashboard's time range".to_string())
    }
}

/// Scores three rows in four with a made-up model (negative, neutral, positive in turn, each
/// with 0.8 confidence, and an emotion in turn), so sentiment panels have figures and the unscored notice still shows;
/// each scored row also gets made-up sentiment for the aspects its text names (the lexicon's
/// own aspects, labels turning with the aspect), so aspect panels have figures too.
async fn score_most_rows(demo: &TestStore) {
    let rows = demo.id_text_rows().await;
    let store = demo.open().await;
    assert_eq!(rows.len(), DEMO_ROWS, "demo rows");
    let scored: Vec<&(i64, String)> = rows.iter().filter(|(id, _)| id % 4 != 0).collect();
    let label = |n: i64| match n.rem_euclid(3) {
        0 => (Label::Negative, [0.8, 0.15, 0.05]),
        1 => (Label::Neutral, [0.1, 0.8, 0.1]),
        _ => (Label::Positive, [0.05, 0.15, 0.8]),
    };
    // One of the six emotions at 0.7 in turn, and every seventh row none above 0.5.
    let emotions = |id: i64| {
        let mut p = [0.1; 6];
        if let Some(slot) = p.get_mut(id.rem_euclid(7) as usize) {
            *slot = 0.7;
        }
        p
    };
    let scores: Vec<NewScore> = scored
        .iter()
        .map(|(id, _)| {
            let (label, p) = label(*id);
            NewScore {
                feedback_id: *id,
                label,
                score: p[2] - p[0],
                p_negative: p[0],
                p_neutral: p[1],
                p_positive: p[2],
                emotions: Some(emotions(*id)),
            }
        })
        .collect();
    let aspects: Vec<NewAspectScore> = scored
        .iter()
        .flat_map(|(id, text)| {
            aspects_of(text)
                .into_iter()
                .enumerate()
                .map(move |(i, aspect)| {
                    let (label, p) = label(id + i as i64);
                    NewAspectScore {
                        feedback_id: *id,
                        aspect,
                        label,
                        score: p[2] - p[0],
                    }
                })
        })
        .collect();
    assert!(
        aspects.len() > scores.len() / 4,
        "the demo texts name few aspects: {} for {} rows",
        aspects.len(),
        scores.len()
    );
    store
        .insert_analysis(TEST_MODEL, &scores, &aspects)
        .await
        .expect("insert scores and aspects");
    store
        .set_active_model(TEST_MODEL)
        .await
        .expect("activate the model");
}

async fn check_panel(
    harness: &mut Harness,
    dashboard: &Dashboard,
    panel: &Value,
    scenario: &Scenario,
    selections: &Selections,
    range: (i64, i64),
) {
    let title = panel["title"].as_str().unwrap_or("<untitled>");
    let what = format!(
        "{} / panel {title:?} ({})",
        dashboard.title(),
        scenario.name
    );
    let panel_type = panel["type"].as_str().unwrap_or_default();
    let mut models = Vec::new();
    for target in panel["targets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        match interpolate(target, selections) {
            Ok(model) => models.push(model),
            Err(e) => harness.problems.push(format!("{what}: {e}")),
        }
    }
    let (interval_ms, max_data_points) = panel_interval_ms(panel, range);
    let answers = harness
        .run(&what, &models, range, interval_ms, max_data_points)
        .await;
    for (model, frames) in models.iter().zip(answers) {
        let Some(frames) = frames else { continue };
        if scenario.all {
            if let Err(e) = expect_rows(model, &frames, harness.scored) {
                harness.problems.push(format!("{what} {model}: {e}"));
            }
        }
        for frame in &frames {
            // A live panel subscribes to the channel its frame names; without one it never moves.
            let live = model["live"] == json!(true);
            match (&frame.channel, live) {
                (Some(channel), true) if channel.starts_with("ds/pulso-test/v1/") => {}
                (None, false) => {}
                (channel, _) => harness.problems.push(format!(
                    "{what} {model}: live is {live}, but the frame's channel is {channel:?}"
                )),
            }
            let shaped = contract_shape(model, frame).and_then(|()| {
                let out = transform(panel, frame)?;
                panel_shape(panel_type, &out, model, scenario.all, harness.scored)?;
                check_overrides(panel, &out)
            });
            if let Err(e) = shaped {
                harness.problems.push(format!("{what} {model}: {e}"));
            }
        }
    }
}

/// Runs a dashboard annotation's Pulso query the way Grafana does for the dashboard's range, and
/// checks that its frames become events.
async fn check_annotation(
    harness: &mut Harness,
    dashboard: &Dashboard,
    annotation: &Value,
    scenario: &Scenario,
    selections: &Selections,
    range: (i64, i64),
) {
    let name = annotation["name"].as_str().unwrap_or("<unnamed>");
    let what = format!(
        "{} / annotation {name:?} ({})",
        dashboard.title(),
        scenario.name
    );
    let model = match interpolate(&annotation["target"], selections) {
        Ok(model) => model,
        Err(e) => {
            harness.problems.push(format!("{what}: {e}"));
            return;
        }
    };
    // Annotation queries get the dashboard's range over a full-width panel's data points.
    let (interval_ms, max_data_points) = panel_interval_ms(&json!({}), range);
    let answers = harness
        .run(
            &what,
            std::slice::from_ref(&model),
            range,
            interval_ms,
            max_data_points,
        )
        .await;
    for frames in answers.into_iter().flatten() {
        if scenario.all {
            if let Err(e) = expect_rows(&model, &frames, harness.scored) {
                harness.problems.push(format!("{what} {model}: {e}"));
            }
        }
        for frame in &frames {
            if let Err(e) = contract_shape(&model, frame).and_then(|()| annotation_shape(frame)) {
                harness.problems.push(format!("{what} {model}: {e}"));
            }
        }
    }
}

/// Field overrides by name, and table sorting, must name fields the panel will have.
fn check_overrides(panel: &Value, frame: &Frame) -> Result<(), String> {
    let mut known: BTreeSet<String> = frame.names().into_iter().map(str::to_string).collect();
    if pivots_labels(panel) {
        known.extend(SENTIMENT_LABELS.map(str::to_string));
    }
    let overrides = panel["fieldConfig"]["overrides"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for o in overrides.iter().filter(|o| o["matcher"]["id"] == "byName") {
        let name = o["matcher"]["options"].as_str().unwrap_or_default();
        if !known.contains(name) {
            return Err(format!(
                "override for {name:?}, but the fields are {known:?}"
            ));
        }
    }
    // Sorting goes by display name: a field name or a displayName override.
    let mut display: BTreeSet<String> = known.clone();
    for o in overrides {
        for p in o["properties"].as_array().into_iter().flatten() {
            if p["id"] == "displayName" {
                display.insert(p["value"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    for sort in panel["options"]["sortBy"].as_array().into_iter().flatten() {
        let name = sort["displayName"].as_str().unwrap_or_default();
        if !display.contains(name) {
            return Err(format!("sortBy {name:?}, but the columns are {display:?}"));
        }
    }
    Ok(())
}

async fn check_alert_queries(harness: &mut Harness, file: &Value, now: i64) {
    for (_, rule) in alert_rules(file) {
        let title = rule["title"].as_str().unwrap_or_default();
        for item in rule["data"].as_array().into_iter().flatten() {
            if is_expression(item) {
                continue;
            }
            let data = if harness.scored { "scored" } else { "unscored" };
            let what = format!("alert rule {title:?} ({data} rows)");
            let range = &item["relativeTimeRange"];
            let from = now - range["from"].as_i64().unwrap_or(600) * 1_000;
            let to = now - range["to"].as_i64().unwrap_or(0) * 1_000;
            let model = &item["model"];
            // Alerting sends the model as it is, with its own intervalMs and maxDataPoints.
            let interval_ms = model["intervalMs"].as_i64().unwrap_or(1_000);
            let max_data_points = model["maxDataPoints"].as_i64().unwrap_or(43_200);
            let answers = harness
                .run(
                    &what,
                    std::slice::from_ref(model),
                    (from, to),
                    interval_ms,
                    max_data_points,
                )
                .await;
            for frame in answers.into_iter().flatten().flatten() {
                if let Err(e) = contract_shape(model, &frame).and_then(|()| alertable(&frame)) {
                    harness
                        .problems
                        .push(format!("{what} {model}: not alertable: {e}"));
                }
            }
        }
    }
}

/// Runs every variable query, panel target and alert query once, in every scenario.
async fn run_everything(harness: &mut Harness, dashboards: &[Dashboard]) {
    let now = now_ms();
    for dashboard in dashboards {
        run_dashboard(harness, dashboard, now, false).await;
    }
    check_alert_queries(harness, &alert_file(), now).await;
    assert!(harness.plugin.is_alive(), "the plugin died");
}

/// Runs a dashboard's variable queries, panel targets and annotations in every scenario, or
/// with every variable on "All" only.
async fn run_dashboard(harness: &mut Harness, dashboard: &Dashboard, now: i64, all_only: bool) {
    let range = dashboard_range(dashboard, now);
    for scenario in scenarios(dashboard, harness.scored) {
        if all_only && !scenario.all {
            continue;
        }
        let Some(selections) = resolve_variables(harness, dashboard, &scenario, range).await else {
            continue;
        };
        for panel in dashboard.query_panels() {
            check_panel(harness, dashboard, panel, &scenario, &selections, range).await;
        }
        for annotation in annotations(dashboard).iter().filter(|a| a["builtIn"] != 1) {
            check_annotation(
                harness,
                dashboard,
                annotation,
                &scenario,
                &selections,
                range,
            )
            .await;
        }
    }
}

/// Every provisioned query, first on a demo database no model has scored (what a fresh install
/// without a model has), then with three rows in four scored, through a fresh plugin process.
async fn every_provisioned_query_runs_through_the_plugin(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let demo = TestStore::demo(kind, dir.path(), "provisioned_queries", DEMO_ROWS).await;
    let dashboards = dashboards();
    let mut harness = Harness {
        plugin: PluginProcess::start(),
        context: demo.context("Viewer"),
        scored: false,
        problems: Vec::new(),
        queries_run: 0,
    };
    run_everything(&mut harness, &dashboards).await;

    score_most_rows(&demo).await;
    harness.plugin = PluginProcess::start();
    harness.scored = true;
    run_everything(&mut harness, &dashboards).await;
    // The same checks must notice provisioning broken on purpose.
    let misses = plugin_breakages_missed(&mut harness, &dashboards).await;
    assert!(harness.plugin.is_alive(), "the plugin died");

    eprintln!(
        "{} dashboard, variable and alert queries ran through QueryData",
        harness.queries_run
    );
    assert!(
        harness.problems.is_empty(),
        "{} of {} queries went wrong:\n{}",
        harness.problems.len(),
        harness.queries_run,
        harness.problems.join("\n")
    );
    assert!(
        misses.is_empty(),
        "breakages nothing reported:\n{}",
        misses.join("\n")
    );
    // Every dashboard and alert query really ran: well over one per panel and database.
    let panels: usize = dashboards.iter().map(|d| d.query_panels().len()).sum();
    assert!(
        harness.queries_run > 4 * panels,
        "only {} queries ran",
        harness.queries_run
    );
}

on_both_stores!(every_provisioned_query_runs_through_the_plugin);

//! plugin.json against the rules of Grafana's plugin.json schema (draft-07, no extra keys) and
//! against what the binary really supports.

use serde_json::Value;

fn plugin_json() -> Value {
    read(concat!(env!("CARGO_MANIFEST_DIR"), "/plugin.json"))
}

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn is_semver(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p == &"0" || !p.starts_with('0'))
        })
}

#[test]
fn follows_grafana_schema_rules() {
    assert_follows_schema_rules(&plugin_json());
}

/// The packaged copy, with this build's version and date filled in. `go run mage.go test`
/// packages first and sets PULSO_REQUIRE_DIST=1, so there it must exist.
#[test]
fn packaged_plugin_json_follows_the_rules_and_carries_the_build() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/dist/plugin.json");
    if std::env::var("PULSO_REQUIRE_DIST").as_deref() != Ok("1")
        && !std::path::Path::new(path).exists()
    {
        eprintln!("dist/plugin.json not built; run `go run mage.go package` to check it");
        return;
    }
    let json = read(path);
    assert_follows_schema_rules(&json);
    assert_eq!(json["info"]["version"], env!("CARGO_PKG_VERSION"));
    let dist = std::path::Path::new(path).parent().unwrap();
    // The validator's license-not-provided is an error; the catalog shows the changelog.
    for shipped in ["LICENSE", "CHANGELOG.md", "README.md"] {
        assert!(dist.join(shipped).is_file(), "dist/{shipped} is missing");
    }
    for include in json["includes"].as_array().unwrap() {
        let file = include["path"].as_str().unwrap();
        assert!(dist.join(file).is_file(), "dist/{file} is missing");
    }
    let mut without_build = json.clone();
    let mut source = plugin_json();
    for doc in [&mut without_build, &mut source] {
        doc["info"]["version"] = Value::Null;
        doc["info"]["updated"] = Value::Null;
    }
    assert_eq!(
        without_build, source,
        "dist/plugin.json differs beyond version and date"
    );
}

fn assert_follows_schema_rules(json: &Value) {
    const ALLOWED: [&str; 30] = [
        "$schema",
        "id",
        "type",
        "info",
        "name",
        "dependencies",
        "alerting",
        "annotations",
        "autoEnabled",
        "backend",
        "builtIn",
        "category",
        "enterpriseFeatures",
        "executable",
        "hideFromList",
        "includes",
        "logs",
        "metrics",
        "pascalName",
        "preload",
        "queryOptions",
        "routes",
        "skipDataQuery",
        "state",
        "streaming",
        "tracing",
        "iam",
        "roles",
        "extensions",
        "languages",
    ];
    for key in keys(json) {
        assert!(
            ALLOWED.contains(&key),
            "plugin.json key {key:?} is not in Grafana's schema"
        );
    }
    for required in ["type", "name", "id", "info", "dependencies"] {
        assert!(json.get(required).is_some(), "plugin.json lacks {required}");
    }
    let id = json["id"].as_str().unwrap();
    let parts: Vec<&str> = id.split('-').collect();
    assert!(
        (2..=3).contains(&parts.len())
            && parts.iter().all(|p| !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
            && parts.last() == Some(&"datasource"),
        "id {id:?} breaks the id pattern"
    );
    assert_eq!(id, "pulso-sentiment-datasource");
    assert_eq!(json["type"], "datasource");

    let info = &json["info"];
    for key in keys(info) {
        assert!(
            [
                "author",
                "build",
                "description",
                "keywords",
                "links",
                "logos",
                "screenshots",
                "updated",
                "version"
            ]
            .contains(&key),
            "info.{key} is not in Grafana's schema"
        );
    }
    assert!(is_semver(info["version"].as_str().unwrap()));
    let updated = info["updated"].as_str().unwrap();
    assert!(
        updated.len() == 10 && chrono_like_date(updated),
        "info.updated {updated:?}"
    );
    assert!(!info["keywords"].as_array().unwrap().is_empty());
    for logo in ["small", "large"] {
        let path = info["logos"][logo].as_str().unwrap();
        assert!(path.ends_with(".svg"));
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(path)
                .is_file(),
            "{path} missing"
        );
    }
    let dependency = json["dependencies"]["grafanaDependency"].as_str().unwrap();
    assert!(
        dependency.starts_with(">=") && is_semver(&dependency[2..]),
        "{dependency}"
    );
}

fn chrono_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, c)| {
        if i == 4 || i == 7 {
            *c == b'-'
        } else {
            c.is_ascii_digit()
        }
    })
}

#[test]
fn flags_match_what_the_backend_serves() {
    let json = plugin_json();
    assert_eq!(json["backend"], true);
    assert_eq!(json["executable"], "gpx_pulso");
    // Alerting requires a backend; the backend answers QueryData for alert rules.
    assert_eq!(json["alerting"], true);
    assert_eq!(json["metrics"], true);
    // The query editor edits annotation queries, and the anomalies spikes table (time,
    // timeEnd, title, text, tags) becomes events: without the flag Grafana hides Pulso in the
    // annotation editor and the provisioned annotation fails.
    assert_eq!(json["annotations"], true);
    // Not served yet, so not claimed.
    for unsupported in ["logs", "tracing", "streaming"] {
        assert!(
            json.get(unsupported).is_none_or(|v| v == false),
            "{unsupported} is claimed but not served"
        );
    }
}

/// Every provisioned dashboard is offered on the data source's Dashboards tab, under its title.
#[test]
fn includes_name_every_provisioned_dashboard() {
    let json = plugin_json();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut included: Vec<(String, String)> = json["includes"]
        .as_array()
        .expect("includes")
        .iter()
        .map(|include| {
            assert_eq!(include["type"], "dashboard", "{include}");
            let path = include["path"].as_str().expect("include path");
            let file = path
                .strip_prefix("dashboards/")
                .unwrap_or_else(|| panic!("{path} is not under dashboards/"));
            (
                file.to_string(),
                include["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    included.sort();
    let mut provisioned: Vec<(String, String)> =
        std::fs::read_dir(root.join("provisioning/dashboards/pulso"))
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                let dashboard = read(path.to_str().unwrap());
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    dashboard["title"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    provisioned.sort();
    assert!(!provisioned.is_empty());
    assert_eq!(included, provisioned);
}

//! `pulso ingest` end to end: the real binary imports the samples and the bad-input corpus into
//! a real SQLite file or PostgreSQL database (each test runs on both), which is then read back,
//! and grepped for personal data.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::common::{on_both_stores, StoreKind, TestStore};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> PathBuf {
    root().join("data/samples").join(name)
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/ingest").join(name)
}

fn ingest(store: &TestStore, args: &[&str]) -> Output {
    store
        .command("ingest")
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run pulso ingest")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn count(store: &TestStore, filter: &str) -> i64 {
    store
        .count(&format!("SELECT COUNT(*) FROM feedback WHERE {filter}"))
        .await
}

fn import_samples(store: &TestStore) -> [String; 3] {
    let runs = [
        ingest(
            store,
            &[
                sample("encuesta_satisfaccion.csv").to_str().unwrap(),
                "--source-type",
                "survey",
                "--platform",
                "encuesta_post_compra",
            ],
        ),
        ingest(
            store,
            &[
                sample("resenas.ndjson").to_str().unwrap(),
                "--source-type",
                "review",
            ],
        ),
        ingest(
            store,
            &[
                sample("social.ndjson").to_str().unwrap(),
                "--source-type",
                "social",
                "--redact-handles",
            ],
        ),
    ];
    runs.map(|run| {
        assert!(run.status.success(), "{}", text(&run));
        String::from_utf8_lossy(&run.stdout).trim().to_string()
    })
}

async fn samples_import_redacted_and_reimport_stores_nothing_new(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "samples_import_redacted_and_reimport_stores_nothing_new",
    )
    .await;
    let first = import_samples(&store);
    assert!(
        first[0]
            .ends_with("read 60, stored 60, duplicates 0, rejected 0, redactions 17, warnings 0"),
        "{}",
        first[0]
    );
    assert!(
        first[1]
            .ends_with("read 40, stored 40, duplicates 0, rejected 0, redactions 8, warnings 0"),
        "{}",
        first[1]
    );
    // One post repeats inside the file; the rest of social's redactions are @handles.
    assert!(
        first[2].contains("read 40, stored 39, duplicates 1, rejected 0"),
        "{}",
        first[2]
    );
    assert_eq!(count(&store, "TRUE").await, 139);

    let again = import_samples(&store);
    assert!(
        again[0]
            .ends_with("read 60, stored 0, duplicates 60, rejected 0, redactions 17, warnings 0"),
        "{}",
        again[0]
    );
    assert!(again[1].contains("stored 0, duplicates 40"), "{}", again[1]);
    assert!(again[2].contains("stored 0, duplicates 40"), "{}", again[2]);
    assert_eq!(count(&store, "TRUE").await, 139);

    // Normalised on the way in.
    assert_eq!(
        count(
            &store,
            "region IN ('Cuzco', 'Ancash', 'LIMA METROPOLITANA')"
        )
        .await,
        0
    );
    assert!(count(&store, "region = 'Cusco'").await > 0);
    assert_eq!(
        count(&store, "rating IS NOT NULL AND (rating < 1 OR rating > 5)").await,
        0
    );
    assert_eq!(count(&store, "rating_raw = '4/5' AND rating = 4").await, 1);
    assert!(count(&store, "language = 'en'").await >= 6);
    assert!(count(&store, "text LIKE '%[telefono]%'").await > 0);
    assert!(count(&store, "text LIKE '%[usuario]%' AND source_type = 'social'").await > 0);
    let redactions = store
        .count("SELECT SUM(redactions) FROM feedback WHERE source_type != 'social'")
        .await;
    assert_eq!(redactions, 25);

    assert_no_pii(&store, dir.path(), &sample("pii_planted.txt")).await;
}

/// The spellings issue 12 found stored unredacted, in the text and in other columns: every
/// one is replaced or its row refused, and none reaches a file SQLite wrote.
async fn personal_data_in_any_spelling_or_column_never_reaches_the_database(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "personal_data_in_any_spelling_or_column_never_reaches_the_database",
    )
    .await;
    let out = text(&ingest(
        &store,
        &[
            fixture("pii_spellings.ndjson").to_str().unwrap(),
            "--source-type",
            "review",
            "--platform",
            "google_maps",
        ],
    ));
    assert!(
        out.contains("read 20, stored 19, duplicates 0, rejected 1"),
        "{out}"
    );
    // The e-mail in the platform column refuses its row, and the report shows it redacted.
    assert!(
        out.contains("rejected: platform \"[email]\": it holds personal data"),
        "{out}"
    );
    for placeholder in [
        "[email]",
        "[telefono]",
        "[tarjeta]",
        "[dni]",
        "[ruc]",
        "[documento]",
        "[direccion]",
    ] {
        assert!(
            count(&store, &format!("text LIKE '%{placeholder}%'")).await > 0,
            "{placeholder}"
        );
    }
    assert_eq!(count(&store, "product LIKE '%[telefono]%'").await, 1);
    assert_eq!(count(&store, "brand LIKE '%[email]%'").await, 1);
    assert_no_pii(&store, dir.path(), &fixture("pii_spellings_planted.txt")).await;
}

/// Greps every file SQLite wrote (database, WAL, shared memory), or every row PostgreSQL
/// stored, for each planted literal, in the forms it could be stored in: as written, digits
/// only, and lower case.
async fn assert_no_pii(store: &TestStore, dir: &Path, planted: &Path) {
    let planted = std::fs::read_to_string(planted).unwrap();
    let literals: Vec<&str> = planted
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(literals.len() >= 20, "the files plant personal data");
    let mut haystacks = Vec::new();
    match store.kind {
        StoreKind::Sqlite => {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                haystacks.push((path, String::from_utf8_lossy(&bytes).to_lowercase()));
            }
        }
        StoreKind::Postgres => {
            let rows = store.postgres_rows_as_text().await;
            assert!(!rows.is_empty(), "rows were stored");
            haystacks.push((
                PathBuf::from("PostgreSQL's feedback rows"),
                rows.to_lowercase(),
            ));
        }
    }
    assert!(!haystacks.is_empty());
    for (path, haystack) in haystacks {
        for literal in &literals {
            let digits: String = literal.chars().filter(char::is_ascii_digit).collect();
            assert!(
                !haystack.contains(&literal.to_lowercase()),
                "{literal:?} found in {}",
                path.display()
            );
            if digits.len() >= 8 {
                assert!(
                    !haystack.contains(&digits),
                    "{literal:?} (as {digits}) found in {}",
                    path.display()
                );
            }
        }
        for handle in ["@mafer_rv", "@jorgito.pe"] {
            assert!(
                !haystack.contains(handle),
                "{handle} found in {}",
                path.display()
            );
        }
    }
}

async fn bad_inputs_are_rejected_per_file_or_per_row(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "bad_inputs_are_rejected_per_file_or_per_row",
    )
    .await;
    let common = ["--source-type", "survey", "--platform", "web"];
    let run = |file: &str, extra: &[&str]| {
        let path = fixture(file);
        let mut args = vec![path.to_str().unwrap().to_string()];
        args.extend(common.iter().map(|s| s.to_string()));
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ingest(&store, &args)
    };

    // Whole-file problems: exit 1, a message that says what to do.
    for (file, extra, expected) in [
        (
            "wrong_delimiter.csv",
            &["--delimiter", ","][..],
            "it looks ';'-separated: pass --delimiter ';'",
        ),
        (
            "missing_text_column.csv",
            &[][..],
            "no text column among the columns (fecha, departamento, puntuacion)",
        ),
        ("empty.csv", &[][..], "the input is empty"),
        (
            "header_only.csv",
            &[][..],
            "has a header (or an empty JSON array) but no rows",
        ),
    ] {
        let output = run(file, extra);
        assert_eq!(output.status.code(), Some(1), "{file}: {}", text(&output));
        assert!(
            text(&output).contains(expected),
            "{file}: {}",
            text(&output)
        );
    }
    // The same semicolon file is read when the delimiter is sniffed.
    let output = run("wrong_delimiter.csv", &[]);
    assert!(
        text(&output).contains("read 2, stored 2"),
        "{}",
        text(&output)
    );

    // Row problems: the other rows are stored, each bad one is named.
    let output = run("bad_dates.csv", &[]);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(
        out.contains("read 5, stored 2, duplicates 0, rejected 3"),
        "{out}"
    );
    assert!(
        out.contains(
            "row 2 (line 3) rejected: time \"31/02/2025\": day 31 does not exist in 02/2025"
        ),
        "{out}"
    );
    assert!(out.contains("time \"2025-13-01\""), "{out}");
    assert!(out.contains("time \"ayer\""), "{out}");

    let out = text(&run("invalid_utf8.csv", &[]));
    assert!(
        out.contains("read 3, stored 2, duplicates 0, rejected 1"),
        "{out}"
    );
    assert!(out.contains("row 2 (line 3) rejected: text"), "{out}");
    assert!(out.contains("not valid UTF-8"), "{out}");

    let out = text(&run("unknown_region.csv", &[]));
    assert!(
        out.contains("stored 2") && out.contains("warnings 1"),
        "{out}"
    );
    assert!(out.contains("row 1 (line 2) warning: region \"Narnia\": it is not a Peru department or a known city: stored as unknown"), "{out}");
    assert_eq!(
        count(&store, "external_id = 'r-1' AND region = 'unknown'").await,
        1
    );
    assert_eq!(
        count(&store, "external_id = 'r-2' AND region = 'Cusco'").await,
        1
    );

    let out = text(&run("duplicate_ids.ndjson", &[]));
    assert!(
        out.contains("read 4, stored 2, duplicates 1, rejected 1"),
        "{out}"
    );
    assert!(out.contains("row 4 (line 4) rejected: external_id \"x-2\": row 2 has the same id with different text or time"), "{out}");

    let out = text(&run("mixed_errors.csv", &[]));
    assert!(
        out.contains("read 5, stored 2, duplicates 0, rejected 3, redactions 2"),
        "{out}"
    );
    assert!(
        out.contains("row 2 (line 3) rejected: text \"\": it is missing or empty"),
        "{out}"
    );
    assert!(
        out.contains("rating \"7\": it is outside the rating scale 1-5"),
        "{out}"
    );
    assert!(
        out.contains("it has 6 fields and the header has 5"),
        "{out}"
    );
    assert!(
        !out.contains("987 654 321") && !out.contains("rosa@example.com"),
        "{out}"
    );

    // Damage the import used to store without a word.
    let out = text(&run("unclosed_quote.csv", &[]));
    assert!(
        out.contains("read 2, stored 1, duplicates 0, rejected 1"),
        "{out}"
    );
    assert!(
        out.contains("row 1 (line 2) warning: comentario \"El pollo llegó frío\\nq-2,"),
        "{out}"
    );
    assert!(
        out.contains(
            "it runs from line 2 to line 4, and 2 of its lines look like rows of this file"
        ),
        "{out}"
    );
    let out = text(&run("truncated.csv", &[]));
    assert!(
        out.contains("read 2, stored 1, duplicates 0, rejected 1"),
        "{out}"
    );
    assert!(out.contains("row 2 (line 3) rejected: row"), "{out}");
    assert!(
        out.contains(
            "the input ends inside a quoted field of this row (line 3): the file looks cut off"
        ),
        "{out}"
    );
    assert_eq!(
        count(&store, "text LIKE 'El ceviche estaba fresco%'").await,
        0
    );
    let out = text(&run("duplicate_text_column.csv", &[]));
    assert!(
        out.contains("read 1, stored 1") && out.contains("warnings 1"),
        "{out}"
    );
    assert!(out.contains("header (line 1) warning: text \"texto\": the column \"texto\" also looks like the text, but only \"comentario\" is imported"), "{out}");
}

async fn strict_stores_nothing_when_any_row_is_rejected(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "strict_stores_nothing_when_any_row_is_rejected",
    )
    .await;
    let file = fixture("bad_dates.csv");
    let output = ingest(
        &store,
        &[
            file.to_str().unwrap(),
            "--source-type",
            "survey",
            "--platform",
            "web",
            "--strict",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("nothing stored (--strict, rows were rejected)"),
        "{}",
        text(&output)
    );
    assert_eq!(count(&store, "TRUE").await, 0);
}

/// CSV rows `i` with plain Spanish text; `extra` is appended to row `big_row`'s text.
fn generated_csv(path: &Path, rows: usize, big_row: Option<(usize, &str)>) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "id,fecha,comentario,region").unwrap();
    for i in 1..=rows {
        let extra = match big_row {
            Some((row, extra)) if row == i => extra,
            _ => "",
        };
        writeln!(
            out,
            "g-{i},{},El pedido {i} llegó bien{extra},Lima",
            1_750_000_000 + i
        )
        .unwrap();
    }
}

async fn a_ten_megabyte_field_rejects_only_its_row_and_never_reaches_the_output(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "a_ten_megabyte_field_rejects_only_its_row_and_never_reaches_the_output",
    )
    .await;
    let file = dir.path().join("big.csv");
    let huge = "a".repeat(10 * 1024 * 1024);
    generated_csv(&file, 3, Some((2, &huge)));
    let output = ingest(
        &store,
        &[
            file.to_str().unwrap(),
            "--source-type",
            "survey",
            "--platform",
            "web",
        ],
    );
    let out = text(&output);
    assert!(output.status.success(), "{}", &out[..out.len().min(2000)]);
    assert!(
        out.len() < 10_000,
        "the output echoes the field: {} bytes",
        out.len()
    );
    assert!(
        out.contains("read 3, stored 2, duplicates 0, rejected 1"),
        "{out}"
    );
    assert!(out.contains("characters; the limit is 10000"), "{out}");
}

async fn a_json_syntax_error_at_row_5000_stores_nothing_from_the_file(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "a_json_syntax_error_at_row_5000_stores_nothing_from_the_file",
    )
    .await;
    let file = dir.path().join("broken.json");
    let mut json = String::from("[\n");
    for i in 1..5_000 {
        json.push_str(&format!(
            "{{\"id\": \"j-{i}\", \"created_at\": {}, \"text\": \"Todo bien {i}\"}},\n",
            1_750_000_000 + i
        ));
    }
    json.push_str(
        "{\"id\": \"j-5000\", \"created_at\": 1750005000 \"text\": \"falta una coma\"}\n]\n",
    );
    std::fs::write(&file, json).unwrap();
    let output = ingest(
        &store,
        &[
            file.to_str().unwrap(),
            "--source-type",
            "review",
            "--platform",
            "web",
        ],
    );
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("JSON syntax error in row 5000 (line 5001, column"),
        "{out}"
    );
    assert!(out.contains("Nothing from this input was stored"), "{out}");
    assert_eq!(count(&store, "TRUE").await, 0);
}

async fn a_failure_mid_batch_leaves_no_rows(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(kind, dir.path(), "a_failure_mid_batch_leaves_no_rows").await;
    // Create the schema, then make the store itself fail on row 3,000 of the next import.
    let empty = dir.path().join("one.csv");
    generated_csv(&empty, 1, None);
    assert!(ingest(
        &store,
        &[
            empty.to_str().unwrap(),
            "--source-type",
            "survey",
            "--platform",
            "seed"
        ]
    )
    .status
    .success());
    store.fail_inserts_of("g-3000").await;
    let file = dir.path().join("five_thousand.csv");
    generated_csv(&file, 5_000, None);
    let output = ingest(
        &store,
        &[
            file.to_str().unwrap(),
            "--source-type",
            "survey",
            "--platform",
            "web",
        ],
    );
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("nothing from this input was stored") && out.contains("forced failure"),
        "{out}"
    );
    assert_eq!(count(&store, "platform = 'web'").await, 0);
    assert_eq!(count(&store, "TRUE").await, 1);
}

async fn a_crash_mid_import_leaves_no_rows(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(kind, dir.path(), "a_crash_mid_import_leaves_no_rows").await;
    let file = dir.path().join("large.csv");
    generated_csv(&file, 400_000, None);
    let mut child = store
        .command("ingest")
        .args(["--source-type", "survey", "--platform", "web"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first chunk opens the transaction within a second; five seconds in, tens of
    // thousands of rows sit in it (in SQLite's page cache and perhaps the WAL, or in PostgreSQL's
    // open transaction). Kill it outright.
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before it could be killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(count(&store, "TRUE").await, 0);
}

async fn personal_data_never_reaches_logs_or_reports(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(kind, dir.path(), "no_pii_in_logs").await;
    let report = dir.path().join("report.json");
    let mut logged = String::new();
    for (file, source) in [
        (sample("encuesta_satisfaccion.csv"), "survey"),
        (sample("social.ndjson"), "social"),
        (fixture("mixed_errors.csv"), "survey"),
    ] {
        let output = store
            .command("ingest")
            .args(["--platform", "web", "--source-type", source, "--report"])
            .arg(&report)
            .arg(&file)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        logged.push_str(&text(&output));
        logged.push_str(&std::fs::read_to_string(&report).unwrap());
    }
    assert!(
        logged.contains("rejected"),
        "the run produced issues to report: {logged}"
    );
    let planted = std::fs::read_to_string(sample("pii_planted.txt")).unwrap();
    for literal in planted
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .chain(["987 654 321", "rosa@example.com"])
    {
        assert!(
            !logged.contains(literal),
            "{literal:?} appeared in the output or report"
        );
    }
}

on_both_stores!(
    samples_import_redacted_and_reimport_stores_nothing_new,
    personal_data_in_any_spelling_or_column_never_reaches_the_database,
    bad_inputs_are_rejected_per_file_or_per_row,
    strict_stores_nothing_when_any_row_is_rejected,
    a_ten_megabyte_field_rejects_only_its_row_and_never_reaches_the_output,
    a_json_syntax_error_at_row_5000_stores_nothing_from_the_file,
    a_failure_mid_batch_leaves_no_rows,
    a_crash_mid_import_leaves_no_rows,
    personal_data_never_reaches_logs_or_reports,
);

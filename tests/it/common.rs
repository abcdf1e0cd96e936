//! Drives the real `pulso` binary the way Grafana does: launch it with go-plugin's environment,
//! read the handshake line, talk pluginv2 over gRPC, and decode the Arrow frames.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};

use grafana_plugin_sdk::arrow2::array::{Array, PrimitiveArray, Utf8Array};
use grafana_plugin_sdk::arrow2::datatypes::DataType;
use grafana_plugin_sdk::arrow2::io::ipc::read::{read_file_metadata, FileReader};
use grafana_plugin_sdk::pluginv2;
use pulso_core::analysis::Label;
use pulso_sqlite::SqliteStore;
use pulso_store::{FeedbackWriter, NewAspectScore, NewFeedback, NewScore, RecordStore, SourceType};
use serde_json::{json, Value};
use tonic::transport::Channel;

pub const HOUR: i64 = 3_600_000;
/// 2026-01-05T00:00:00Z: fixture rows sit in the 48 hours after it.
pub const FIXTURE_START_MS: i64 = 1_767_571_200_000;

/// How many plugin processes the tests run at once, unless `PULSO_TEST_PLUGINS` says: every
/// plugin warms a mirror and may load the model, so more than this only makes the tests that
/// run side by side slower on two cores.
const DEFAULT_PLUGINS_AT_ONCE: usize = 4;

/// Plugins running now, and the condition a start waits on when there are too many.
static RUNNING_PLUGINS: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

fn plugins_at_once() -> usize {
    std::env::var("PULSO_TEST_PLUGINS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_PLUGINS_AT_ONCE)
}

/// A place among the running plugins, given back when the plugin is dropped.
struct PluginSlot;

impl PluginSlot {
    fn take() -> Self {
        let (count, freed) = &RUNNING_PLUGINS;
        let limit = plugins_at_once();
        let mut running = count.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= limit {
            running = freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        PluginSlot
    }
}

impl Drop for PluginSlot {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING_PLUGINS;
        *count.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        freed.notify_one();
    }
}

pub struct PluginProcess {
    child: Child,
    pub address: String,
    pub handshake: String,
    _slot: PluginSlot,
}

impl PluginProcess {
    pub fn start() -> Self {
        Self::launch("warn", Stdio::inherit(), &[])
    }

    /// Like [`PluginProcess::start`], with extra environment variables (e.g. `GF_PATHS_DATA`,
    /// which Grafana sets).
    pub fn start_with_env(env: &[(&str, &Path)]) -> Self {
        Self::launch("warn", Stdio::inherit(), env)
    }

    /// Like [`PluginProcess::start`], but with `RUST_LOG=rust_log` and the plugin's stderr (the
    /// hclog JSON Grafana would read) written to `log`, so a test can grep what was logged.
    pub fn start_logging_to(rust_log: &str, log: &Path) -> Self {
        let log_file = std::fs::File::create(log).expect("create the plugin log file");
        Self::launch(rust_log, Stdio::from(log_file), &[])
    }

    fn launch(rust_log: &str, stderr: Stdio, env: &[(&str, &Path)]) -> Self {
        let slot = PluginSlot::take();
        let mut command = Command::new(env!("CARGO_BIN_EXE_pulso"));
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .env("grafana_plugin_type", "datasource")
            .env("PLUGIN_PROTOCOL_VERSIONS", "2")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the pulso binary");
        let stdout = child.stdout.take().expect("plugin stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the handshake line");
        let handshake = line.trim().to_string();
        let parts: Vec<&str> = handshake.split('|').collect();
        assert_eq!(parts.len(), 5, "handshake line {handshake:?}");
        let address = parts[3].to_string();
        Self {
            child,
            address,
            handshake,
            _slot: slot,
        }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.address))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect to the plugin")
    }

    pub async fn data(&self) -> pluginv2::data_client::DataClient<Channel> {
        pluginv2::data_client::DataClient::new(self.channel().await)
    }

    pub async fn diagnostics(&self) -> pluginv2::diagnostics_client::DiagnosticsClient<Channel> {
        pluginv2::diagnostics_client::DiagnosticsClient::new(self.channel().await)
    }

    pub async fn resource(&self) -> pluginv2::resource_client::ResourceClient<Channel> {
        pluginv2::resource_client::ResourceClient::new(self.channel().await)
    }

    /// `POST /feedback?source_type=social&platform=twitter` with `lines` as NDJSON, as
    /// `context`'s user; fails the test unless it answers 200.
    pub async fn push_lines(&self, context: &pluginv2::PluginContext, lines: &[Value]) {
        let (code, body) = self.try_push_lines(context, lines).await;
        assert_eq!(code, 200, "{body}");
    }

    /// The same push, answered with its status code and JSON body, whatever they are.
    pub async fn try_push_lines(
        &self,
        context: &pluginv2::PluginContext,
        lines: &[Value],
    ) -> (i32, Value) {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let request = pluginv2::CallResourceRequest {
            plugin_context: Some(context.clone()),
            path: "feedback".into(),
            method: "POST".into(),
            url: "feedback?source_type=social&platform=twitter".into(),
            body: body.into_bytes().into(),
            ..Default::default()
        };
        let mut stream = self
            .resource()
            .await
            .call_resource(request)
            .await
            .unwrap()
            .into_inner();
        let response = stream.message().await.unwrap().unwrap();
        (
            response.code,
            serde_json::from_slice(&response.body).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&response.body).to_string())
            }),
        )
    }

    pub async fn stream(&self) -> pluginv2::stream_client::StreamClient<Channel> {
        pluginv2::stream_client::StreamClient::new(self.channel().await)
    }

    /// One gauge or counter without labels from CollectMetrics.
    pub async fn metric(&self, name: &str) -> f64 {
        let response = self
            .diagnostics()
            .await
            .collect_metrics(pluginv2::CollectMetricsRequest::default())
            .await
            .expect("CollectMetrics")
            .into_inner();
        let text = String::from_utf8(response.metrics.expect("metrics").prometheus).unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in the metrics:\n{text}"))
    }

    /// Still running, i.e. nothing so far has crashed it.
    pub fn is_alive(&mut self) -> bool {
        self.child.try_wait().expect("wait on plugin").is_none()
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The built model (`python3 models/build.py`): `$PULSO_MODEL_DIR`, else the build that
/// `models/dist/latest.json` names. Found from the repository, not the working directory,
/// which every test in the process shares.
pub fn model_dir() -> PathBuf {
    let dir = std::env::var_os("PULSO_MODEL_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            pulso_nlp::files::latest_build(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/dist"),
            )
        })
        .expect("a built model: run `python3 models/build.py` first");
    assert!(
        dir.join("model.onnx").is_file(),
        "no built model at {}: run `python3 models/build.py` first",
        dir.display()
    );
    std::fs::canonicalize(dir).expect("the model folder")
}

/// A model folder that does not exist: protocol tests run without background scoring, so
/// their frames stay exactly as the fixture made them.
pub const NO_MODEL: &str = "/nonexistent/pulso-model";

pub fn context(sqlite_path: &Path, role: &str) -> pluginv2::PluginContext {
    context_with_model(sqlite_path, role, Path::new(NO_MODEL))
}

pub fn context_with_model(
    sqlite_path: &Path,
    role: &str,
    model_dir: &Path,
) -> pluginv2::PluginContext {
    pluginv2::PluginContext {
        org_id: 1,
        plugin_id: "pulso-sentiment-datasource".to_string(),
        user: Some(pluginv2::User {
            login: "admin".to_string(),
            name: "Admin".to_string(),
            email: "admin@example.com".to_string(),
            role: role.to_string(),
        }),
        data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
            id: 1,
            uid: "pulso-test".to_string(),
            name: "Pulso".to_string(),
            json_data: serde_json::to_vec(
                &json!({ "sqlitePath": sqlite_path, "modelPath": model_dir }),
            )
            .unwrap(),
            last_updated_ms: 1_700_000_000_000,
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn query(ref_id: &str, json: Value, from_ms: i64, to_ms: i64) -> pluginv2::DataQuery {
    raw_query(ref_id, json.to_string().into_bytes(), from_ms, to_ms)
}

pub fn raw_query(ref_id: &str, json: Vec<u8>, from_ms: i64, to_ms: i64) -> pluginv2::DataQuery {
    pluginv2::DataQuery {
        ref_id: ref_id.to_string(),
        max_data_points: 1_000,
        interval_ms: HOUR,
        time_range: Some(pluginv2::TimeRange {
            from_epoch_ms: from_ms,
            to_epoch_ms: to_ms,
        }),
        json,
        query_type: String::new(),
    }
}

/// The record store a test runs on: the tests that take one run the same body on each
/// (`on_both_stores!`), so a plugin on PostgreSQL answers as one on SQLite does (issue 13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

/// An empty or fixture-filled store of one test, and the data source settings that name it.
pub struct TestStore {
    pub kind: StoreKind,
    /// The SQLite file; on PostgreSQL, a path that is never opened.
    pub sqlite_path: PathBuf,
    /// The PostgreSQL database's superuser URL, password included.
    pub postgres_url: Option<String>,
}

impl TestStore {
    /// An empty store: a file name in `dir`, or a fresh database on the test cluster
    /// (`PULSO_TEST_POSTGRES_URL`) named after `test`.
    pub async fn empty(kind: StoreKind, dir: &Path, test: &str) -> Self {
        let postgres_url = match kind {
            StoreKind::Sqlite => None,
            StoreKind::Postgres => Some(pulso_testkit::postgres::fresh_database(test).await),
        };
        Self {
            kind,
            sqlite_path: dir.join(format!("{test}.db")),
            postgres_url,
        }
    }

    /// [`fill_fixture`]'s 24 rows in a store of `kind`.
    pub async fn fixture(kind: StoreKind, dir: &Path, test: &str) -> Self {
        let store = Self::empty(kind, dir, test).await;
        let writer = store.open().await;
        fill_fixture(writer.as_ref()).await;
        store
    }

    /// [`demo_db`]'s rows (`pulso demo --no-score`, ending at [`demo_end_ms`]) in a store of
    /// `kind`: on PostgreSQL through `--postgres-url`, its password in `PGPASSWORD`.
    pub async fn demo(kind: StoreKind, dir: &Path, test: &str, rows: usize) -> Self {
        let store = Self::empty(kind, dir, test).await;
        let rows = rows.to_string();
        run_demo_command(
            store.command("demo"),
            &["--rows", rows.as_str(), "--no-score"],
        );
        store
    }

    /// `pulso <subcommand>` writing to this store: `--db <file>`, or `--postgres-url` with the
    /// URL's password in `PGPASSWORD`, as an administrator would run it.
    pub fn command(&self, subcommand: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pulso"));
        command.arg(subcommand);
        match &self.postgres_url {
            None => {
                command.arg("--db").arg(&self.sqlite_path);
            }
            Some(url) => {
                let (without_password, password) = pulso_testkit::postgres::split_password(url);
                command
                    .args(["--postgres-url", &without_password])
                    .args(["--postgres-ssl-mode", "disable"])
                    .env("PGPASSWORD", password);
            }
        }
        command
    }

    /// Makes the store itself refuse the insert of the row with `external_id`, in its own
    /// dialect: a batch that meets it must leave nothing behind.
    pub async fn fail_inserts_of(&self, external_id: &str) {
        let sql = match self.kind {
            StoreKind::Sqlite => format!(
                "CREATE TRIGGER forced_failure BEFORE INSERT ON feedback \
                 WHEN NEW.external_id = '{external_id}' \
                 BEGIN SELECT RAISE(ABORT, 'forced failure for the atomicity test'); END"
            ),
            StoreKind::Postgres => format!(
                "CREATE FUNCTION forced_failure() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.external_id = '{external_id}' THEN \
                 RAISE EXCEPTION 'forced failure for the atomicity test'; END IF; \
                 RETURN NEW; END $$; \
                 CREATE TRIGGER forced_failure BEFORE INSERT ON feedback \
                 FOR EACH ROW EXECUTE FUNCTION forced_failure()"
            ),
        };
        self.execute(&sql).await;
    }

    /// A connection of the store's own driver, outside the plugin and the store.
    async fn raw(&self) -> RawConnection {
        use sqlx::Connection;
        match &self.postgres_url {
            None => RawConnection::Sqlite(
                sqlx::SqliteConnection::connect(&format!(
                    "sqlite://{}",
                    self.sqlite_path.display()
                ))
                .await
                .expect("open the test's SQLite file"),
            ),
            Some(url) => RawConnection::Postgres(
                sqlx::PgConnection::connect(url)
                    .await
                    .expect("connect to the test's PostgreSQL database"),
            ),
        }
    }

    /// Runs SQL in the store's own dialect (one or more statements).
    pub async fn execute(&self, sql: &str) {
        let mut raw = self.raw().await;
        match &mut raw {
            RawConnection::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            RawConnection::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        }
        .expect(sql);
        raw.close().await;
    }

    /// The one number a `SELECT COUNT(*) …` in the store's own dialect returns.
    pub async fn count(&self, sql: &str) -> i64 {
        let mut raw = self.raw().await;
        let count = match &mut raw {
            RawConnection::Sqlite(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            RawConnection::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await,
        }
        .expect(sql);
        raw.close().await;
        count
    }

    /// Every stored row, each as one line of text (PostgreSQL's row-to-text), for greps.
    pub async fn postgres_rows_as_text(&self) -> String {
        let sql = "SELECT COALESCE(string_agg(f::text, E'\\n'), '') FROM feedback f";
        let mut raw = self.raw().await;
        let text = match &mut raw {
            RawConnection::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            RawConnection::Sqlite(_) => panic!("postgres_rows_as_text on SQLite"),
        }
        .expect(sql);
        raw.close().await;
        text
    }

    /// Every row's id and text, by id.
    pub async fn id_text_rows(&self) -> Vec<(i64, String)> {
        let sql = "SELECT id, text FROM feedback ORDER BY id";
        let mut raw = self.raw().await;
        let rows = match &mut raw {
            RawConnection::Sqlite(c) => sqlx::query_as(sql).fetch_all(c).await,
            RawConnection::Postgres(c) => sqlx::query_as(sql).fetch_all(c).await,
        }
        .expect(sql);
        raw.close().await;
        rows
    }

    /// Opens the store itself, as another process writing to it would.
    pub async fn open(&self) -> Box<dyn RecordStore> {
        match &self.postgres_url {
            None => Box::new(
                SqliteStore::open(&self.sqlite_path)
                    .await
                    .expect("open the test's SQLite file"),
            ),
            Some(url) => Box::new(
                pulso_postgres::PostgresStore::connect(&pulso_postgres::PostgresConfig {
                    url: url.clone(),
                    password: None,
                    ssl_mode: Some("disable".to_string()),
                    pool_size: 2,
                })
                .await
                .expect("connect to the test's PostgreSQL database"),
            ),
        }
    }

    pub fn context(&self, role: &str) -> pluginv2::PluginContext {
        self.context_with_model(role, Path::new(NO_MODEL))
    }

    /// The data source settings as Grafana sends them: on PostgreSQL the URL in jsonData
    /// without its password, which travels in the decrypted secure settings.
    pub fn context_with_model(&self, role: &str, model_dir: &Path) -> pluginv2::PluginContext {
        let mut context = context_with_model(&self.sqlite_path, role, model_dir);
        if let Some(url) = &self.postgres_url {
            let (without_password, password) = pulso_testkit::postgres::split_password(url);
            let settings = context.data_source_instance_settings.as_mut().unwrap();
            settings.json_data = serde_json::to_vec(&json!({
                "storage": "postgres",
                "postgresUrl": without_password,
                "postgresSslMode": "disable",
                "modelPath": model_dir,
            }))
            .unwrap();
            settings.decrypted_secure_json_data =
                [("postgresPassword".to_string(), password)].into();
        }
        context
    }

    /// [`assert_golden`], except that on PostgreSQL the statement in `executedQueryString` is
    /// in its own dialect: it must be there, and everything else must match.
    pub fn assert_golden(&self, name: &str, actual: &Value) {
        if self.kind == StoreKind::Sqlite {
            return assert_golden(name, actual);
        }
        let path = golden_path(name);
        let mut expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("missing golden file {}", path.display())),
        )
        .unwrap();
        let mut actual = actual.clone();
        let statement = |frame: &mut Value| frame["meta"]["executedQueryString"].take();
        let (theirs, ours) = (statement(&mut expected), statement(&mut actual));
        assert_eq!(
            theirs.is_string(),
            ours.is_string(),
            "{name}: executedQueryString"
        );
        assert_eq!(
            actual,
            expected,
            "{name} on PostgreSQL differs from golden file {}",
            path.display()
        );
    }
}

enum RawConnection {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl RawConnection {
    /// Closes it now: SQLite removes its WAL and shared-memory files when the last connection
    /// closes, which must not happen while a test reads the folder.
    async fn close(self) {
        use sqlx::Connection;
        let _ = match self {
            RawConnection::Sqlite(c) => c.close().await,
            RawConnection::Postgres(c) => c.close().await,
        };
    }
}

/// `on_both_stores!(test_a, test_b)`: for each `async fn test_a(store: StoreKind)`, the tests
/// `test_a::sqlite` and `test_a::postgres`.
macro_rules! on_both_stores {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn sqlite() {
                    super::$test(crate::common::StoreKind::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    super::$test(crate::common::StoreKind::Postgres).await
                }
            }
        )+
    };
}
pub(crate) use on_both_stores;

/// A small, fixed data set: 24 rows over two days, two brands, three regions, half scored,
/// each scored row's aspects, and their model made the active one.
pub async fn fill_fixture(store: &dyn FeedbackWriter) {
    let brands = ["Brasa Norte", "Mar Azul"];
    let regions = ["Lima", "Arequipa", "Cusco"];
    let texts = [
        "El pollo llegó frío y tarde, pésimo servicio",
        "Riquísimo el ceviche, volveré",
        "Estaba bien, nada especial",
        "La atención en Miraflores fue bacán",
        "Pedí por app y nunca llegó; '; DROP TABLE feedback; --",
        "Great lomo saltado, friendly staff",
    ];
    let rows: Vec<NewFeedback> = (0..24)
        .map(|i| NewFeedback {
            source_type: SourceType::ALL[i % 4],
            platform: ["twitter", "rappi", "google_maps", "encuesta_nps"][i % 4].to_string(),
            region: regions[i % 3].to_string(),
            city: "Ciudad".to_string(),
            category: ["restaurants", "delivery"][i % 2].to_string(),
            brand: brands[i % 2].to_string(),
            product: ["pollo a la brasa", "ceviche clásico", "lomo saltado"][i % 3].to_string(),
            language: if i % 6 == 5 { "en" } else { "es" }.to_string(),
            text: texts[i % 6].to_string(),
            rating: (i % 4 != 0).then_some((i % 5 + 1) as f64),
            rating_raw: None,
            redactions: 0,
            event_time_ms: FIXTURE_START_MS + (i as i64) * 2 * HOUR,
            external_id: format!("fx-{i}"),
            terms: pulso_core::analysis::terms::term_hashes(
                texts[i % 6],
                if i % 6 == 5 { "en" } else { "es" },
            ),
        })
        .collect();
    store
        .insert_feedback(&rows)
        .await
        .expect("insert fixture rows");
    // Score the first 12 rows (ids 1..=12) with a fixed pattern.
    let scores: Vec<NewScore> = (1..=12)
        .map(|id| {
            let (label, p) = match id % 3 {
                0 => (Label::Negative, [0.8, 0.15, 0.05]),
                1 => (Label::Positive, [0.05, 0.15, 0.8]),
                _ => (Label::Neutral, [0.2, 0.6, 0.2]),
            };
            NewScore {
                feedback_id: id,
                label,
                score: p[2] - p[0],
                p_negative: p[0],
                p_neutral: p[1],
                p_positive: p[2],
                emotions: None,
            }
        })
        .collect();
    // Each aspect a scored row names gets the row's own sentiment.
    let aspects: Vec<NewAspectScore> = scores
        .iter()
        .flat_map(|s| {
            let text = texts[(s.feedback_id as usize - 1) % 6];
            pulso_core::analysis::aspects::aspects_of(text)
                .into_iter()
                .map(move |aspect| NewAspectScore {
                    feedback_id: s.feedback_id,
                    aspect,
                    label: s.label,
                    score: s.score,
                })
        })
        .collect();
    store
        .insert_analysis("fixture-model", &scores, &aspects)
        .await
        .expect("insert scores");
    store
        .set_active_model("fixture-model")
        .await
        .expect("activate model");
}

/// Decodes one Arrow IPC frame into JSON: schema metadata, fields with types, labels, values.
pub fn decode_frame(bytes: &[u8]) -> Value {
    let mut cursor = std::io::Cursor::new(bytes);
    let metadata = read_file_metadata(&mut cursor).expect("Arrow file metadata");
    let schema = metadata.schema.clone();
    let reader = FileReader::new(cursor, metadata, None, None);
    let mut columns: Vec<Vec<Value>> = vec![Vec::new(); schema.fields.len()];
    for chunk in reader {
        let chunk = chunk.expect("Arrow record batch");
        for (i, array) in chunk.arrays().iter().enumerate() {
            columns[i].extend(array_values(array.as_ref()));
        }
    }
    let fields: Vec<Value> = schema
        .fields
        .iter()
        .zip(columns)
        .map(|(field, values)| {
            let labels = field
                .metadata
                .get("labels")
                .map(|l| serde_json::from_str::<Value>(l).expect("labels JSON"));
            json!({
                "name": field.name,
                "type": format!("{:?}", field.data_type),
                "nullable": field.is_nullable,
                "labels": labels,
                "values": values,
            })
        })
        .collect();
    let meta = schema
        .metadata
        .get("meta")
        .map(|m| serde_json::from_str::<Value>(m).expect("meta JSON"));
    json!({
        "name": schema.metadata.get("name"),
        "refId": schema.metadata.get("refId"),
        "meta": meta,
        "fields": fields,
    })
}

fn array_values(array: &dyn Array) -> Vec<Value> {
    match array.data_type() {
        DataType::Int64 | DataType::Timestamp(_, _) => {
            let a = array
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .unwrap();
            a.iter().map(|v| json!(v.copied())).collect()
        }
        DataType::Float64 => {
            let a = array
                .as_any()
                .downcast_ref::<PrimitiveArray<f64>>()
                .unwrap();
            // Rounded so golden files do not hinge on the last bit of a float.
            a.iter()
                .map(|v| json!(v.map(|x| (x * 1e9).round() / 1e9)))
                .collect()
        }
        DataType::Utf8 => {
            let a = array.as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
            a.iter().map(|v| json!(v)).collect()
        }
        other => panic!("unexpected Arrow type {other:?}"),
    }
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"))
}

/// Compares with `tests/golden/<name>.json`; `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn assert_golden(name: &str, actual: &Value) {
    let path = golden_path(name);
    let rendered = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, rendered).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}: run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(
        rendered, expected,
        "frame differs from golden file {}; if the change is intended, run with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

/// 2026-03-08T00:00:00Z: where every demo database the tests build ends, so that the same seed
/// writes the same rows, and the tests see the same data, on any day. The trend tests' planted
/// stories hold there, a week later and a month later, but not at every end: at 10,000 rows
/// the calendar's own peaks can outweigh them (docs/adr/0002-build-and-test.md).
pub const DEMO_END_MS: i64 = 1_772_928_000_000;

/// The end of the tests' demo databases: [`DEMO_END_MS`], or `PULSO_TEST_DEMO_END` (RFC 3339)
/// to check that the tests hold for another end (docs/adr/0002-build-and-test.md).
pub fn demo_end_ms() -> i64 {
    match std::env::var("PULSO_TEST_DEMO_END") {
        Ok(text) => chrono::DateTime::parse_from_rfc3339(&text)
            .unwrap_or_else(|e| panic!("PULSO_TEST_DEMO_END={text:?} is not RFC 3339: {e}"))
            .timestamp_millis(),
        Err(_) => DEMO_END_MS,
    }
}

/// [`demo_end_ms`] as `pulso demo --end` takes it.
pub fn demo_end_arg() -> String {
    chrono::DateTime::from_timestamp_millis(demo_end_ms())
        .expect("a representable time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A demo database made by `pulso demo --no-score`: realistic rows over the 180 days before
/// [`demo_end_ms`], none of them scored.
pub fn demo_db(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join("demo.db");
    run_demo(&path, &["--rows", &rows.to_string(), "--no-score"]);
    path
}

/// `pulso demo --db <path> --end <the pinned end> <args>`, which must succeed.
pub fn run_demo(path: &Path, args: &[&str]) {
    let store = TestStore {
        kind: StoreKind::Sqlite,
        sqlite_path: path.to_path_buf(),
        postgres_url: None,
    };
    run_demo_command(store.command("demo"), args);
}

/// `command` (`pulso demo` and where to write) with `--end <the pinned end> <args>`.
fn run_demo_command(mut command: Command, args: &[&str]) {
    let output = command
        .args(["--end", &demo_end_arg()])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run pulso demo");
    assert!(
        output.status.success(),
        "pulso demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One QueryData call; the RPC itself must succeed, whatever the single queries answer.
pub async fn query_data(
    plugin: &PluginProcess,
    context: pluginv2::PluginContext,
    queries: Vec<pluginv2::DataQuery>,
) -> std::collections::HashMap<String, pluginv2::DataResponse> {
    plugin
        .data()
        .await
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(context),
            headers: std::collections::HashMap::new(),
            queries,
        })
        .await
        .expect("QueryData must not fail as a whole")
        .into_inner()
        .responses
}

/// A Spanish social post about a chicken brand in Lima, `minutes_ago` before the demo's end.
pub fn feedback_row(external_id: &str, text: &str, minutes_ago: i64) -> NewFeedback {
    NewFeedback {
        source_type: SourceType::Social,
        platform: "twitter".to_string(),
        region: "Lima".to_string(),
        city: "Lima".to_string(),
        category: "delivery".to_string(),
        brand: "Qori Brasa".to_string(),
        product: "pollo a la brasa".to_string(),
        language: "es".to_string(),
        text: text.to_string(),
        rating: None,
        rating_raw: None,
        redactions: 0,
        event_time_ms: demo_end_ms() - minutes_ago * 60_000,
        external_id: external_id.to_string(),
        terms: pulso_core::analysis::terms::term_hashes(text, "es"),
    }
}

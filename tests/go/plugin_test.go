package gotest

// End-to-end test of the Pulso backend plugin, driven exactly the way Grafana
// drives a backend plugin: the binary is started through hashicorp/go-plugin
// with Grafana's handshake and plugin set (see Grafana's
// pkg/plugins/backendplugin/grpcplugin), and every call goes over gRPC using
// the pluginv2 protobuf messages from grafana-plugin-sdk-go.
//
// The binary comes from $PULSO_BIN (default $CARGO_TARGET_DIR/release/pulso, or
// ../../target/release/pulso).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	noModel    = "/nonexistent/pulso-model"
	pluginID   = "pulso-sentiment-datasource"
	demoRows   = 3000
	demoDays   = 60
	day        = 24 * time.Hour
	rpcTimeout = 30 * time.Second
)

// handshake mirrors Grafana's pkg/plugins/backendplugin/grpcplugin handshake.
// (The SDK keeps its own HandshakeConfig unexported; Grafana builds it from
// the exported constants, and so do we.)
var handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  grpcplugin.ProtocolVersion,
	MagicCookieKey:   grpcplugin.MagicCookieKey,
	MagicCookieValue: grpcplugin.MagicCookieValue,
}

// pluginSet mirrors the plugin set Grafana dispenses from for protocol v2.
var pluginSet = map[int]goplugin.PluginSet{
	grpcplugin.ProtocolVersion: {
		"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
		"resource":    &grpcplugin.ResourceGRPCPlugin{},
		"data":        &grpcplugin.DataGRPCPlugin{},
		"stream":      &grpcplugin.StreamGRPCPlugin{},
	},
}

// syncBuffer collects the plugin's log output so it can be shown on failure.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	data   grpcplugin.DataClient
	diag   grpcplugin.DiagnosticsClient
	res    grpcplugin.ResourceClient
	stream grpcplugin.StreamClient
	dbPath string
	// modelPath is the data source's modelPath: none unless a test needs scoring.
	modelPath string
	from   time.Time
	to     time.Time
	// lastUpdated is fixed for the whole run, like Grafana's datasource
	// "updated" timestamp, so the plugin can cache its instance.
	lastUpdated int64
}

func pulsoBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PULSO_BIN")
	if bin == "" {
		target := os.Getenv("CARGO_TARGET_DIR")
		if target == "" {
			target = filepath.Join("..", "..", "target")
		}
		bin = filepath.Join(target, "release", "pulso")
	}
	abs, err := filepath.Abs(bin)
	require.NoError(t, err)
	st, err := os.Stat(abs)
	require.NoErrorf(t, err, "plugin binary not found (set PULSO_BIN or run `cargo build`)")
	require.Falsef(t, st.IsDir(), "%s is a directory", abs)
	return abs
}

// demoEnd is where the fixture database ends: pinned, so that the same seed writes the same
// rows on any day, or PULSO_TEST_DEMO_END (RFC 3339) to check the tests against another end,
// as the Rust tests do.
func demoEnd(t *testing.T) time.Time {
	t.Helper()
	text := os.Getenv("PULSO_TEST_DEMO_END")
	if text == "" {
		text = "2026-03-08T00:00:00Z"
	}
	end, err := time.Parse(time.RFC3339, text)
	require.NoErrorf(t, err, "PULSO_TEST_DEMO_END=%q is not RFC 3339", text)
	return end.UTC()
}

func startPlugin(t *testing.T) *harness {
	t.Helper()
	bin := pulsoBin(t)
	dbPath := filepath.Join(t.TempDir(), "pulso.db")

	// Build the fixture database with the plugin's own demo generator.
	end := demoEnd(t)
	demo := exec.Command(bin, "demo", "--db", dbPath,
		"--rows", fmt.Sprint(demoRows), "--days", fmt.Sprint(demoDays), "--seed", "7",
		"--end", end.Format(time.RFC3339))
	out, err := demo.CombinedOutput()
	require.NoErrorf(t, err, "`%s` failed:\n%s", strings.Join(demo.Args, " "), out)
	_, err = os.Stat(dbPath)
	require.NoErrorf(t, err, "demo did not create the database; output:\n%s", out)

	h := launchPlugin(t, bin, dbPath)
	h.to = end
	h.from = h.to.Add(-demoDays * day)
	return h
}

// launchPlugin starts the binary through go-plugin, as Grafana does, and dispenses its
// clients; dbPath is the data source's sqlitePath.
func launchPlugin(t *testing.T, bin, dbPath string) *harness {
	t.Helper()
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin log output:\n%s", logs.String())
		}
	})
	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "pulso",
		Level:  hclog.Debug,
		Output: logs,
	})

	// Same client configuration as Grafana's newClientConfig: the binary is
	// launched with no arguments; go-plugin sets the magic cookie env var.
	client := goplugin.NewClient(&goplugin.ClientConfig{
		Cmd:              exec.Command(bin),
		HandshakeConfig:  handshake,
		VersionedPlugins: pluginSet,
		Logger:           logger,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)

	rpc, err := client.Client()
	require.NoError(t, err, "go-plugin handshake with the plugin failed")
	require.Equal(t, grpcplugin.ProtocolVersion, client.NegotiatedVersion())
	require.Equal(t, goplugin.ProtocolGRPC, client.Protocol())

	h := &harness{dbPath: dbPath, lastUpdated: time.Now().UnixMilli()}

	raw, err := rpc.Dispense("data")
	require.NoError(t, err)
	var ok bool
	h.data, ok = raw.(grpcplugin.DataClient)
	require.Truef(t, ok, "dispensed data plugin is %T", raw)

	raw, err = rpc.Dispense("diagnostics")
	require.NoError(t, err)
	h.diag, ok = raw.(grpcplugin.DiagnosticsClient)
	require.Truef(t, ok, "dispensed diagnostics plugin is %T", raw)

	raw, err = rpc.Dispense("resource")
	require.NoError(t, err)
	h.res, ok = raw.(grpcplugin.ResourceClient)
	require.Truef(t, ok, "dispensed resource plugin is %T", raw)

	raw, err = rpc.Dispense("stream")
	require.NoError(t, err)
	h.stream, ok = raw.(grpcplugin.StreamClient)
	require.Truef(t, ok, "dispensed stream plugin is %T", raw)
	return h
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	t.Cleanup(cancel)
	return c
}

// pluginContext builds the PluginContext Grafana sends for datasource 1.
func (h *harness) pluginContext(role string) *pluginv2.PluginContext {
	return h.pluginContextFor(1, "pulso-test", h.dbPath, role)
}

func (h *harness) pluginContextFor(id int64, uid, sqlitePath, role string) *pluginv2.PluginContext {
	// No model unless a test sets one: most tests pin frames from unscored demo data, so no
	// background scoring may run.
	modelPath := h.modelPath
	if modelPath == "" {
		modelPath = noModel
	}
	jsonData, err := json.Marshal(map[string]any{"sqlitePath": sqlitePath, "modelPath": modelPath})
	if err != nil {
		panic(err)
	}
	return &pluginv2.PluginContext{
		OrgId:    1,
		PluginId: pluginID,
		User:     &pluginv2.User{Login: "admin", Role: role},
		DataSourceInstanceSettings: &pluginv2.DataSourceInstanceSettings{
			Id:                      id,
			Uid:                     uid,
			Name:                    "Pulso",
			JsonData:                jsonData,
			DecryptedSecureJsonData: map[string]string{},
			LastUpdatedMS:           h.lastUpdated,
		},
	}
}

// dq builds a DataQuery the way Grafana does: the query model as JSON, with
// queryType mirrored into DataQuery.QueryType. Defaults: the last 60 days,
// a 1h interval and 1000 max data points.
func (h *harness) dq(refID string, model map[string]any) *pluginv2.DataQuery {
	model["refId"] = refID
	raw, err := json.Marshal(model)
	if err != nil {
		panic(err)
	}
	qt, _ := model["queryType"].(string)
	return &pluginv2.DataQuery{
		RefId:         refID,
		QueryType:     qt,
		MaxDataPoints: 1000,
		IntervalMS:    time.Hour.Milliseconds(),
		TimeRange: &pluginv2.TimeRange{
			FromEpochMS: h.from.UnixMilli(),
			ToEpochMS:   h.to.UnixMilli(),
		},
		Json: raw,
	}
}

func (h *harness) queryAs(t *testing.T, role string, queries ...*pluginv2.DataQuery) map[string]*pluginv2.DataResponse {
	t.Helper()
	resp, err := h.data.QueryData(ctx(t), &pluginv2.QueryDataRequest{
		PluginContext: h.pluginContext(role),
		Headers:       map[string]string{},
		Queries:       queries,
	})
	require.NoError(t, err, "QueryData RPC failed")
	require.NotNil(t, resp)
	for _, q := range queries {
		require.Containsf(t, resp.Responses, q.RefId, "no response for refId %s", q.RefId)
	}
	require.Lenf(t, resp.Responses, len(queries), "unexpected refIds in response: %v", keys(resp.Responses))
	return resp.Responses
}

func (h *harness) query(t *testing.T, queries ...*pluginv2.DataQuery) map[string]*pluginv2.DataResponse {
	t.Helper()
	return h.queryAs(t, "Admin", queries...)
}

// frames asserts a DataResponse succeeded and decodes its Arrow frames.
func frames(t *testing.T, refID string, r *pluginv2.DataResponse) data.Frames {
	t.Helper()
	require.NotNilf(t, r, "refId %s: nil response", refID)
	require.Emptyf(t, r.Error, "refId %s: unexpected error (status %d)", refID, r.Status)
	if r.Status != 0 {
		require.Equalf(t, int32(200), r.Status, "refId %s: unexpected status", refID)
	}
	fs, err := data.UnmarshalArrowFrames(r.Frames)
	require.NoErrorf(t, err, "refId %s: frames are not valid Arrow data frames", refID)
	return fs
}

func oneFrame(t *testing.T, refID string, r *pluginv2.DataResponse) *data.Frame {
	t.Helper()
	fs := frames(t, refID, r)
	require.Lenf(t, fs, 1, "refId %s: expected exactly one frame", refID)
	return fs[0]
}

func (h *harness) runOne(t *testing.T, model map[string]any) *data.Frame {
	t.Helper()
	res := h.query(t, h.dq("A", model))
	return oneFrame(t, "A", res["A"])
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func fieldNames(f *data.Frame) []string {
	out := make([]string, len(f.Fields))
	for i, fl := range f.Fields {
		out[i] = fl.Name
	}
	return out
}

func fieldByName(t *testing.T, f *data.Frame, name string) *data.Field {
	t.Helper()
	fl, idx := f.FieldByName(name)
	require.NotEqualf(t, -1, idx, "frame has no field %q (fields: %v)", name, fieldNames(f))
	return fl
}

func stringAt(t *testing.T, fl *data.Field, i int) (string, bool) {
	t.Helper()
	switch v := fl.At(i).(type) {
	case string:
		return v, true
	case *string:
		if v == nil {
			return "", false
		}
		return *v, true
	default:
		t.Fatalf("field %q is %s, not a string field", fl.Name, fl.Type())
		return "", false
	}
}

func timeAt(t *testing.T, fl *data.Field, i int) time.Time {
	t.Helper()
	switch v := fl.At(i).(type) {
	case time.Time:
		return v
	case *time.Time:
		require.NotNilf(t, v, "field %q row %d: null time", fl.Name, i)
		return *v
	default:
		t.Fatalf("field %q is %s, not a time field", fl.Name, fl.Type())
		return time.Time{}
	}
}

// sumField sums a numeric field, skipping nulls.
func sumField(t *testing.T, fl *data.Field) float64 {
	t.Helper()
	require.Truef(t, fl.Type().Numeric(), "field %q is %s, not numeric", fl.Name, fl.Type())
	var sum float64
	for i := 0; i < fl.Len(); i++ {
		v, err := fl.NullableFloatAt(i)
		require.NoError(t, err)
		if v != nil {
			sum += *v
		}
	}
	return sum
}

type tsExpect struct {
	groupBy   string         // "" for no grouping
	valueType data.FieldType // expected type of every value field
	step      time.Duration  // expected bucket width
}

// checkWideTimeSeries validates the timeseries contract on f.
func (h *harness) checkWideTimeSeries(t *testing.T, f *data.Frame, exp tsExpect) {
	t.Helper()
	require.GreaterOrEqualf(t, len(f.Fields), 2, "timeseries frame needs time + value fields, got %v", fieldNames(f))

	schema := f.TimeSeriesSchema()
	require.Equalf(t, data.TimeSeriesTypeWide, schema.Type, "frame is not a wide time series (fields %v)", fieldNames(f))

	tf := f.Fields[0]
	assert.Equal(t, "time", tf.Name, "field 0 must be named time")
	require.Equalf(t, data.FieldTypeTime, tf.Type(), "time field must be non-nullable time, got %s", tf.Type())
	assert.Equal(t, 0, schema.TimeIndex)
	assert.False(t, schema.TimeIsNullable)

	n := tf.Len()
	require.Greater(t, n, 0, "timeseries frame has no rows")
	prev := time.Time{}
	for i := 0; i < n; i++ {
		ts := timeAt(t, tf, i)
		if i > 0 {
			require.Truef(t, ts.After(prev), "time not strictly ascending at row %d: %s after %s", i, ts, prev)
			if exp.step > 0 {
				require.Equalf(t, exp.step, ts.Sub(prev), "bucket spacing at row %d", i)
			}
		}
		prev = ts
	}
	first, last := timeAt(t, tf, 0), timeAt(t, tf, n-1)
	if exp.step > 0 {
		assert.Falsef(t, first.Before(h.from.Add(-exp.step)), "first bucket %s is more than one bucket before from %s", first, h.from)
		assert.Falsef(t, last.After(h.to), "last bucket %s is after to %s", last, h.to)
		// Zero/null-filled buckets across the whole range.
		want := int(h.to.Sub(h.from) / exp.step)
		assert.GreaterOrEqualf(t, n, want, "expected gap-filled buckets over the whole range (step %s)", exp.step)
		assert.LessOrEqualf(t, n, want+1, "more buckets than the range allows (step %s)", exp.step)
	}

	seen := map[string]bool{}
	for _, vf := range f.Fields[1:] {
		require.Equalf(t, exp.valueType, vf.Type(), "value field %q type", vf.Name)
		require.Equal(t, n, vf.Len())
		if exp.groupBy == "" {
			assert.Emptyf(t, vf.Labels, "value field %q must have no labels without groupBy", vf.Name)
			continue
		}
		require.Lenf(t, vf.Labels, 1, "value field %q must be labelled {%s: ...}, got %v", vf.Name, exp.groupBy, vf.Labels)
		g, ok := vf.Labels[exp.groupBy]
		require.Truef(t, ok, "value field %q labels %v lack key %q", vf.Name, vf.Labels, exp.groupBy)
		require.Falsef(t, seen[g], "group %q appears in two value fields", g)
		seen[g] = true
	}
	if exp.groupBy == "" {
		assert.Len(t, f.Fields, 2, "ungrouped timeseries must have exactly one value field")
	}

	require.NotNil(t, f.Meta, "frame meta missing")
	assert.NotEmpty(t, f.Meta.ExecutedQueryString, "meta.executedQueryString must be set")
}

func valueFieldByLabel(t *testing.T, f *data.Frame, key, value string) *data.Field {
	t.Helper()
	for _, vf := range f.Fields[1:] {
		if vf.Labels[key] == value {
			return vf
		}
	}
	t.Fatalf("no value field labelled {%s=%q}", key, value)
	return nil
}

func TestPlugin(t *testing.T) {
	h := startPlugin(t)

	// Total volume over the range, reused by consistency checks below.
	var totalVolume float64

	t.Run("CheckHealth/DatabaseOKModelMissing", func(t *testing.T) {
		resp, err := h.diag.CheckHealth(ctx(t), &pluginv2.CheckHealthRequest{
			PluginContext: h.pluginContext("Admin"),
			Headers:       map[string]string{},
		})
		require.NoError(t, err, "CheckHealth RPC failed")
		// A missing model is a health error that names the file; the database counts still show.
		assert.Equalf(t, pluginv2.CheckHealthResponse_ERROR, resp.Status, "message: %s", resp.Message)
		assert.Regexpf(t, regexp.MustCompile(`\b3[,. ]?000\b`), resp.Message,
			"health message should mention the row count (%d)", demoRows)
		assert.Contains(t, resp.Message, noModel+"/config.json is missing")
		t.Logf("health: %s %q details=%s", resp.Status, resp.Message, resp.JsonDetails)
	})

	t.Run("CheckHealth/MissingFolder", func(t *testing.T) {
		missingDir := filepath.Join(t.TempDir(), "no-such-folder")
		badPath := filepath.Join(missingDir, "pulso.db")
		resp, err := h.diag.CheckHealth(ctx(t), &pluginv2.CheckHealthRequest{
			PluginContext: h.pluginContextFor(2, "pulso-missing", badPath, "Admin"),
			Headers:       map[string]string{},
		})
		require.NoError(t, err, "CheckHealth RPC must not fail for a bad sqlitePath")
		assert.Equal(t, pluginv2.CheckHealthResponse_ERROR, resp.Status)
		assert.Containsf(t, resp.Message, missingDir, "message must name the path")
		assert.Contains(t, resp.Message, "sqlitePath", "message must tell the user to change sqlitePath")
		assert.Contains(t, strings.ToLower(resp.Message), "create", "message must tell the user to create the folder")
		_, statErr := os.Stat(missingDir)
		assert.Truef(t, errors.Is(statErr, os.ErrNotExist), "health check must not create %s", missingDir)
		t.Logf("health: %s %q", resp.Status, resp.Message)
	})

	t.Run("Timeseries/VolumeDaily", func(t *testing.T) {
		f := h.runOne(t, map[string]any{"queryType": "timeseries", "metric": "volume", "interval": "1d"})
		h.checkWideTimeSeries(t, f, tsExpect{valueType: data.FieldTypeInt64, step: day})
		totalVolume = sumField(t, f.Fields[1])
		assert.Greater(t, totalVolume, 0.0, "volume must be > 0 over the demo range")
		assert.LessOrEqual(t, totalVolume, float64(demoRows))
		t.Logf("buckets=%d total=%v executed=%q", f.Rows(), totalVolume, f.Meta.ExecutedQueryString)
	})

	t.Run("Timeseries/IntervalMSWithoutOverride", func(t *testing.T) {
		q := h.dq("A", map[string]any{"queryType": "timeseries", "metric": "volume"})
		q.IntervalMS = (12 * time.Hour).Milliseconds()
		f := oneFrame(t, "A", h.query(t, q)["A"])
		h.checkWideTimeSeries(t, f, tsExpect{valueType: data.FieldTypeInt64, step: 12 * time.Hour})
		if totalVolume > 0 {
			assert.Equal(t, totalVolume, sumField(t, f.Fields[1]), "bucket width must not change the total")
		}
	})

	var limaVolume float64
	t.Run("Timeseries/VolumeGroupByRegion", func(t *testing.T) {
		f := h.runOne(t, map[string]any{"queryType": "timeseries", "metric": "volume", "groupBy": "region", "interval": "1d"})
		h.checkWideTimeSeries(t, f, tsExpect{groupBy: "region", valueType: data.FieldTypeInt64, step: day})
		var sum float64
		for _, vf := range f.Fields[1:] {
			sum += sumField(t, vf)
		}
		if totalVolume > 0 {
			assert.Equal(t, totalVolume, sum, "grouped volumes must add up to the ungrouped volume")
		}
		limaVolume = sumField(t, valueFieldByLabel(t, f, "region", "Lima"))
		assert.Greater(t, limaVolume, 0.0)
		t.Logf("groups=%d lima=%v", len(f.Fields)-1, limaVolume)
	})

	t.Run("Timeseries/FilterRegion", func(t *testing.T) {
		f := h.runOne(t, map[string]any{
			"queryType": "timeseries", "metric": "volume", "interval": "1d",
			"filters": map[string]any{"region": []string{"Lima"}},
		})
		h.checkWideTimeSeries(t, f, tsExpect{valueType: data.FieldTypeInt64, step: day})
		if limaVolume > 0 {
			assert.Equal(t, limaVolume, sumField(t, f.Fields[1]), "filter region=Lima must match the Lima group")
		}
	})

	t.Run("Timeseries/AllFilterKeys", func(t *testing.T) {
		f := h.runOne(t, map[string]any{
			"queryType": "timeseries", "metric": "volume", "interval": "1d",
			"filters": map[string]any{
				"sourceType": []string{}, "platform": []string{}, "region": []string{"Lima"},
				"category": []string{}, "brand": []string{}, "product": []string{},
				"label": []string{}, "language": []string{},
			},
			// minConfidence sits next to filters in the query model, not inside it.
			"minConfidence": 0,
		})
		h.checkWideTimeSeries(t, f, tsExpect{valueType: data.FieldTypeInt64, step: day})
	})

	for _, metric := range []string{"net_sentiment", "avg_score", "share_positive", "share_negative"} {
		t.Run("Timeseries/"+metric, func(t *testing.T) {
			f := h.runOne(t, map[string]any{"queryType": "timeseries", "metric": metric, "interval": "1d"})
			h.checkWideTimeSeries(t, f, tsExpect{valueType: data.FieldTypeNullableFloat64, step: day})
			vf := f.Fields[1]
			for i := 0; i < vf.Len(); i++ {
				v, err := vf.NullableFloatAt(i)
				require.NoError(t, err)
				if v == nil {
					continue
				}
				assert.Falsef(t, math.IsNaN(*v) || math.IsInf(*v, 0), "row %d: %v", i, *v)
				if strings.HasPrefix(metric, "share_") {
					assert.Truef(t, *v >= 0 && *v <= 1, "row %d: share %v outside [0,1]", i, *v)
				}
			}
			// No sentiment model yet: rows are unscored and the frame must say so.
			require.NotNil(t, f.Meta)
			require.NotEmptyf(t, f.Meta.Notices, "%s: expected a notice about unscored rows", metric)
			var texts []string
			for _, n := range f.Meta.Notices {
				texts = append(texts, n.Text)
			}
			joined := strings.Join(texts, " | ")
			assert.Regexpf(t, regexp.MustCompile(`\d`), joined, "notice should say how many rows are not scored")
			t.Logf("%s notices: %s", metric, joined)
		})
	}

	t.Run("Mentions", func(t *testing.T) {
		f := h.runOne(t, map[string]any{"queryType": "mentions", "limit": 50, "search": "pollo"})
		assert.Equal(t, []string{"time", "id", "text", "sourceType", "platform", "region", "category",
			"brand", "label", "score", "confidence"}, fieldNames(f))
		n := f.Rows()
		assert.LessOrEqual(t, n, 50, "must return at most limit rows")
		assert.Greater(t, n, 0, "demo data should contain mentions of 'pollo'")
		tf := fieldByName(t, f, "time")
		require.Truef(t, tf.Type().Time(), "time field is %s", tf.Type())
		text := fieldByName(t, f, "text")
		var prev time.Time
		for i := 0; i < n; i++ {
			ts := timeAt(t, tf, i)
			if i > 0 {
				assert.Falsef(t, ts.After(prev), "mentions not newest-first at row %d (%s after %s)", i, ts, prev)
			}
			prev = ts
			assert.Falsef(t, ts.Before(h.from) || ts.After(h.to), "row %d time %s outside the query range", i, ts)
			s, ok := stringAt(t, text, i)
			require.Truef(t, ok, "row %d: null text", i)
			assert.Containsf(t, strings.ToLower(s), "pollo", "row %d does not match the search", i)
		}
	})

	t.Run("Distribution", func(t *testing.T) {
		f := h.runOne(t, map[string]any{"queryType": "distribution", "groupBy": "region"})
		assert.Equal(t, data.TimeSeriesTypeNot, f.TimeSeriesSchema().Type, "distribution is a table, not a time series")
		var numeric []*data.Field
		for _, fl := range f.Fields {
			switch {
			case fl.Type().Numeric():
				numeric = append(numeric, fl)
			case fl.Name == "label" || fl.Name == "region":
				assert.Containsf(t, []data.FieldType{data.FieldTypeString, data.FieldTypeNullableString}, fl.Type(),
					"field %q must be a string field", fl.Name)
			}
		}
		fieldByName(t, f, "label")
		region := fieldByName(t, f, "region")
		require.Lenf(t, numeric, 1, "exactly one numeric field expected, fields: %v", fieldNames(f))
		assert.Equal(t, "count", numeric[0].Name)
		total := sumField(t, numeric[0])
		if totalVolume > 0 {
			assert.Equal(t, totalVolume, total, "distribution counts must add up to the total volume")
		}
		var regions []string
		for i := 0; i < region.Len(); i++ {
			if s, ok := stringAt(t, region, i); ok {
				regions = append(regions, s)
			}
		}
		assert.Contains(t, regions, "Lima")
	})

	t.Run("TrendingTerms", func(t *testing.T) {
		f := h.runOne(t, map[string]any{"queryType": "trending_terms", "minSupport": 2, "limit": 10})
		assert.Equal(t, []string{"term", "count", "countBefore", "growth", "share", "avgScore", "exampleId"}, fieldNames(f))
		assert.Equal(t, data.TimeSeriesTypeNot, f.TimeSeriesSchema().Type, "trending terms are a table")
		require.Greater(t, f.Rows(), 0, "the demo data has rising terms")
		require.LessOrEqual(t, f.Rows(), 10)
		count := fieldByName(t, f, "count")
		for i := 0; i < f.Rows(); i++ {
			v, ok := count.ConcreteAt(i)
			require.True(t, ok)
			assert.GreaterOrEqual(t, v.(int64), int64(2), "row %d is below minSupport", i)
		}
	})

	t.Run("Anomalies/WideTimeSeriesForAlerts", func(t *testing.T) {
		f := h.runOne(t, map[string]any{"queryType": "anomalies", "metric": "volume", "groupBy": "region"})
		require.Equal(t, data.TimeSeriesTypeWide, f.TimeSeriesSchema().Type, "anomalies must be a wide time series")
		require.Greater(t, len(f.Fields), 1)
		for _, fl := range f.Fields[1:] {
			assert.Equal(t, "zscore", fl.Name)
			assert.NotEmptyf(t, fl.Labels["region"], "field %v lacks its region label", fl.Labels)
		}
		require.NotNil(t, f.Meta)
		custom, ok := f.Meta.Custom.(map[string]any)
		require.Truef(t, ok, "meta.custom is %T", f.Meta.Custom)
		assert.Contains(t, custom, "spikes")
	})

	t.Run("Anomalies/SpikesAsAnnotations", func(t *testing.T) {
		f := h.runOne(t, map[string]any{"queryType": "anomalies", "view": "spikes", "metric": "volume", "groupBy": "brand", "threshold": 2})
		assert.Equal(t, []string{"time", "timeEnd", "title", "text", "tags", "group", "zscore", "value", "baseline", "mentionIds"}, fieldNames(f))
		require.True(t, fieldByName(t, f, "time").Type().Time())
		require.True(t, fieldByName(t, f, "timeEnd").Type().Time())
	})

	t.Run("DimensionValues/region", func(t *testing.T) {
		f := h.runOne(t, map[string]any{"queryType": "dimension_values", "dimension": "region"})
		text, value := fieldByName(t, f, "text"), fieldByName(t, f, "value")
		assert.Equal(t, data.FieldTypeString, text.Type())
		assert.Equal(t, data.FieldTypeString, value.Type())
		var values []string
		for i := 0; i < value.Len(); i++ {
			s, _ := stringAt(t, value, i)
			values = append(values, s)
		}
		assert.Contains(t, values, "Lima")
	})

	// Every filter key is a dimension the query editor needs values for.
	t.Run("DimensionValues/AllFilterDimensions", func(t *testing.T) {
		dims := []string{"sourceType", "platform", "region", "category", "brand", "product", "label", "language"}
		var qs []*pluginv2.DataQuery
		for _, d := range dims {
			qs = append(qs, h.dq(d, map[string]any{"queryType": "dimension_values", "dimension": d}))
		}
		res := h.query(t, qs...)
		for _, d := range dims {
			r := res[d]
			if !assert.Emptyf(t, r.Error, "dimension %q: status %d", d, r.Status) {
				continue
			}
			fs, err := data.UnmarshalArrowFrames(r.Frames)
			require.NoError(t, err)
			require.Len(t, fs, 1)
			assert.Equal(t, []string{"text", "value"}, fieldNames(fs[0]), "dimension %q", d)
		}
	})

	t.Run("ErrorsArePerRefID", func(t *testing.T) {
		a := h.dq("A", map[string]any{"queryType": "timeseries", "metric": "volume", "interval": "1d"})

		b := h.dq("B", map[string]any{})
		b.QueryType = "timeseries"
		b.Json = []byte(`{"queryType":`)

		c := h.dq("C", map[string]any{"queryType": "foo"})
		d := h.dq("D", map[string]any{"queryType": "timeseries", "metric": "volume", "groupBy": "colour"})
		e := h.dq("E", map[string]any{"queryType": "timeseries", "metric": "volume"})
		e.TimeRange = &pluginv2.TimeRange{FromEpochMS: h.to.UnixMilli(), ToEpochMS: h.from.UnixMilli()}
		f := h.dq("F", map[string]any{"queryType": "mentions", "limit": 100000})
		g := h.dq("G", map[string]any{"queryType": "timeseries", "metric": "volume", "filters": map[string]any{"region": 5}})
		hq := h.dq("H", map[string]any{"queryType": "mentions", "limit": 50, "search": "'; DROP TABLE feedback; --"})
		i := h.dq("I", map[string]any{"queryType": "timeseries", "metric": "volume", "minConfidence": 2})

		res := h.query(t, a, b, c, d, e, f, g, hq, i)
		for _, k := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I"} {
			t.Logf("%s: status=%d error=%q errorSource=%q frames=%d", k, res[k].Status, res[k].Error, res[k].ErrorSource, len(res[k].Frames))
		}

		for _, k := range []string{"B", "C", "D", "E", "F", "G", "I"} {
			assert.NotEmptyf(t, res[k].Error, "refId %s must carry an error", k)
			assert.Equalf(t, int32(400), res[k].Status, "refId %s must have status 400 (error %q)", k, res[k].Error)
		}
		for _, qt := range []string{"timeseries", "mentions", "distribution", "dimension_values"} {
			assert.Containsf(t, res["C"].Error, qt, "unknown queryType error should list valid query types")
		}
		assert.Contains(t, res["C"].Error, "foo")
		assert.Contains(t, res["D"].Error, "colour")

		fa := oneFrame(t, "A", res["A"])
		assert.Equal(t, data.TimeSeriesTypeWide, fa.TimeSeriesSchema().Type)

		fh := frames(t, "H", res["H"])
		require.Len(t, fh, 1)
		assert.Equal(t, 0, fh[0].Rows(), "the injection string should match no mention")

		// The feedback table must still be there.
		after := h.runOne(t, map[string]any{"queryType": "timeseries", "metric": "volume", "interval": "1d"})
		sum := sumField(t, after.Fields[1])
		assert.Greater(t, sum, 0.0, "feedback table lost data after the injection attempt")
		if totalVolume > 0 {
			assert.Equal(t, totalVolume, sum)
		}
	})

	t.Run("RoleNone", func(t *testing.T) {
		res := h.queryAs(t, "None", h.dq("A", map[string]any{"queryType": "timeseries", "metric": "volume", "interval": "1d"}))
		t.Logf("role None: status=%d error=%q frames=%d", res["A"].Status, res["A"].Error, len(res["A"].Frames))
		if res["A"].Error == "" {
			_, err := data.UnmarshalArrowFrames(res["A"].Frames)
			assert.NoError(t, err)
		}
	})

	t.Run("CallResource/DimensionsRegion", func(t *testing.T) {
		code, headers, body := h.callResource(t, "GET", "dimensions/region")
		require.Equalf(t, 200, code, "body: %s", body)
		assert.Contains(t, headerValue(headers, "Content-Type"), "application/json")
		var items []struct {
			Text  *string `json:"text"`
			Value *string `json:"value"`
		}
		require.NoErrorf(t, json.Unmarshal(body, &items), "body is not a JSON array of {text,value}: %s", body)
		require.NotEmpty(t, items)
		var values []string
		for i, it := range items {
			require.Truef(t, it.Text != nil && it.Value != nil, "item %d lacks text/value: %s", i, body)
			values = append(values, *it.Value)
		}
		assert.Contains(t, values, "Lima")
	})

	t.Run("CallResource/UnknownDimension", func(t *testing.T) {
		code, _, body := h.callResource(t, "GET", "dimensions/colour")
		assert.Equalf(t, 404, code, "body: %s", body)
	})

	// POST /feedback the way Grafana forwards it, into a data source of its own so the
	// pinned demo frames above stay as they are.
	pushDB := filepath.Join(t.TempDir(), "push.db")
	reviews, err := os.ReadFile(filepath.Join("..", "..", "data", "samples", "resenas.ndjson"))
	require.NoError(t, err)

	t.Run("CallResource/PostFeedbackAsViewerIsForbidden", func(t *testing.T) {
		pctx := h.pluginContextFor(7, "pulso-push", pushDB, "Viewer")
		code, _, body := h.callResourceWith(t, pctx, "POST", "feedback?source_type=review", reviews)
		assert.Equalf(t, 403, code, "body: %s", body)
		assert.Contains(t, string(body), "Editor or Admin")
	})

	t.Run("CallResource/PostFeedbackAsEditorStoresOnce", func(t *testing.T) {
		pctx := h.pluginContextFor(7, "pulso-push", pushDB, "Editor")
		var report struct {
			Read, Stored, Duplicates, Rejected, Redactions int
			Committed                                      bool
		}
		code, _, body := h.callResourceWith(t, pctx, "POST", "feedback?source_type=review", reviews)
		require.Equalf(t, 200, code, "body: %s", body)
		require.NoError(t, json.Unmarshal(body, &report))
		assert.Equal(t, 40, report.Read)
		assert.Equal(t, 40, report.Stored)
		assert.Equal(t, 8, report.Redactions)
		assert.True(t, report.Committed)
		code, _, body = h.callResourceWith(t, pctx, "POST", "feedback?source_type=review", reviews)
		require.Equalf(t, 200, code, "body: %s", body)
		require.NoError(t, json.Unmarshal(body, &report))
		assert.Equal(t, 0, report.Stored)
		assert.Equal(t, 40, report.Duplicates)
	})
}

func headerValue(h map[string]*pluginv2.StringList, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && v != nil && len(v.Values) > 0 {
			return strings.Join(v.Values, ", ")
		}
	}
	return ""
}

// callResource performs a resource call like Grafana's
// /api/datasources/uid/<uid>/resources/<path> handler and collects the
// streamed response.
func (h *harness) callResource(t *testing.T, method, path string) (int, map[string]*pluginv2.StringList, []byte) {
	t.Helper()
	return h.callResourceWith(t, h.pluginContext("Admin"), method, path, nil)
}

// callResourceWith sends url (a path with an optional query string) and body as pctx's user.
func (h *harness) callResourceWith(t *testing.T, pctx *pluginv2.PluginContext, method, url string, body []byte) (int, map[string]*pluginv2.StringList, []byte) {
	t.Helper()
	path, _, _ := strings.Cut(url, "?")
	stream, err := h.res.CallResource(ctx(t), &pluginv2.CallResourceRequest{
		PluginContext: pctx,
		Path:          path,
		Method:        method,
		Url:           url,
		Body:          body,
		Headers: map[string]*pluginv2.StringList{
			"Accept": {Values: []string{"application/json"}},
		},
	})
	require.NoError(t, err, "CallResource RPC failed")
	var (
		code     int
		headers  map[string]*pluginv2.StringList
		received bytes.Buffer
		first    = true
	)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "CallResource stream failed")
		if first {
			code = int(msg.Code)
			headers = msg.Headers
			first = false
		}
		received.Write(msg.Body)
	}
	require.False(t, first, "CallResource returned no response message")
	return code, headers, received.Bytes()
}

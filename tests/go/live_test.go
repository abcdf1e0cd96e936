package gotest

// Grafana Live against the real binary, the way Grafana's live service drives a data source
// plugin: a live query's frame names its channel, SubscribeStream is asked for each viewer,
// PublishStream for each publish, RunStream once for the channel, and every packet is decoded
// with the SDK's data.Frame JSON decoder, the same wire form Grafana relays to browsers.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// modelDir is the built sentiment model: $PULSO_MODEL_DIR, else the build
// models/dist/latest.json names.
func modelDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("PULSO_MODEL_DIR"); dir != "" {
		return dir
	}
	dist := filepath.Join("..", "..", "models", "dist")
	raw, err := os.ReadFile(filepath.Join(dist, "latest.json"))
	require.NoError(t, err, "no built model: run `python3 models/build.py` first")
	var latest struct {
		ModelID string `json:"model_id"`
	}
	require.NoError(t, json.Unmarshal(raw, &latest))
	dir, err := filepath.Abs(filepath.Join(dist, latest.ModelID))
	require.NoError(t, err)
	return dir
}

func (h *harness) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := h.diag.CollectMetrics(ctx(t), &pluginv2.CollectMetricsRequest{
		PluginContext: h.pluginContext("Admin"),
	})
	require.NoError(t, err)
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).
		FindSubmatch(resp.Metrics.Prometheus)
	require.NotNilf(t, line, "no %s in the metrics", name)
	value, err := strconv.ParseFloat(string(line[1]), 64)
	require.NoError(t, err)
	return value
}

func TestLiveStream(t *testing.T) {
	h := launchPlugin(t, pulsoBin(t), filepath.Join(t.TempDir(), "live.db"))
	h.modelPath = modelDir(t)
	h.to = time.Now()
	h.from = h.to.Add(-time.Hour)

	res := h.queryAs(t, "Viewer", h.dq("A", map[string]any{
		"queryType": "mentions", "live": true, "limit": 50,
		"filters": map[string]any{"platform": []string{"twitter"}},
	}))
	first := oneFrame(t, "A", res["A"])
	require.NotNil(t, first.Meta, "a live query's frame has metadata")
	channel := first.Meta.Channel
	path, found := strings.CutPrefix(channel, "ds/pulso-test/")
	require.Truef(t, found, "channel %q is ds/<uid>/<path>", channel)

	sub, err := h.stream.SubscribeStream(ctx(t), &pluginv2.SubscribeStreamRequest{
		PluginContext: h.pluginContext("Viewer"),
		Path:          path,
	})
	require.NoError(t, err)
	assert.Equal(t, pluginv2.SubscribeStreamResponse_OK, sub.Status, "a Viewer may watch")

	pub, err := h.stream.PublishStream(ctx(t), &pluginv2.PublishStreamRequest{
		PluginContext: h.pluginContext("Viewer"),
		Path:          path,
		Data:          []byte(`{"text":"forged"}`),
	})
	require.NoError(t, err)
	assert.Equal(t, pluginv2.PublishStreamResponse_PERMISSION_DENIED, pub.Status,
		"nobody publishes into Pulso's channels")

	streamCtx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run, err := h.stream.RunStream(streamCtx, &pluginv2.RunStreamRequest{
		PluginContext: h.pluginContext("Viewer"),
		Path:          path,
	})
	require.NoError(t, err)

	text := "Pésimo servicio, la hamburguesa llegó fría"
	code, _, body := h.callResourceWith(t, h.pluginContext("Editor"), "POST",
		"feedback?source_type=social&platform=twitter",
		[]byte(`{"id":"go-live-1","text":"`+text+`"}`+"\n"))
	require.Equalf(t, 200, code, "body: %s", body)

	// The model loads on first use, so the first packet may take a while.
	packet, err := run.Recv()
	require.NoError(t, err, "RunStream sends a packet once the pushed mention is scored")
	var frame data.Frame
	require.NoErrorf(t, json.Unmarshal(packet.Data, &frame),
		"a packet is a data frame in Grafana's JSON: %s", packet.Data)
	require.Equal(t, fieldNames(first), fieldNames(&frame), "packets carry the query's fields")
	for i, field := range frame.Fields {
		assert.Equalf(t, first.Fields[i].Type(), field.Type(), "field %s", field.Name)
	}
	require.Equal(t, 1, frame.Rows())
	got, _ := stringAt(t, fieldByName(t, &frame, "text"), 0)
	assert.Equal(t, text, got)
	label, ok := stringAt(t, fieldByName(t, &frame, "label"), 0)
	assert.True(t, ok, "streamed rows are scored")
	assert.Equal(t, "negative", label)
	at := timeAt(t, fieldByName(t, &frame, "time"), 0)
	assert.WithinDuration(t, time.Now(), at, 10*time.Minute)

	// Grafana cancels RunStream when the last viewer leaves: the call ends, nothing is left.
	cancel()
	for {
		if _, err := run.Recv(); err != nil {
			break
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.metric(t, "pulso_live_streams") != 0 || h.metric(t, "pulso_live_channels") != 0 {
		require.True(t, time.Now().Before(deadline), "the cancelled stream is still counted")
		time.Sleep(100 * time.Millisecond)
	}
}

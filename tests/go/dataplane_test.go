package gotest

import (
	"testing"

	"github.com/grafana/dataplane/sdata/numeric"
	"github.com/grafana/dataplane/sdata/reader"
	"github.com/grafana/dataplane/sdata/timeseries"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFramesFollowTheDataplaneContract runs each query type and view through the plugin and
// reads the frames with github.com/grafana/dataplane/sdata, as Grafana's SQL expressions and
// server-side expressions read typed frames: every frame declares its type, and the time series
// and numeric ones are what sdata accepts, with no version warning.
func TestFramesFollowTheDataplaneContract(t *testing.T) {
	h := startPlugin(t)
	cases := []struct {
		name string
		// Whether the demo (unscored in these tests) gives this query rows or series.
		hasData bool
		model   map[string]any
		want    data.FrameType
	}{
		{"timeseries volume", true, map[string]any{"queryType": "timeseries", "metric": "volume"}, data.FrameTypeTimeSeriesWide},
		{"timeseries volume by brand, daily", true, map[string]any{"queryType": "timeseries", "metric": "volume", "groupBy": "brand", "interval": "1d"}, data.FrameTypeTimeSeriesWide},
		{"timeseries net sentiment by region", false, map[string]any{"queryType": "timeseries", "metric": "net_sentiment", "groupBy": "region", "interval": "1d"}, data.FrameTypeTimeSeriesWide},
		{"distribution", true, map[string]any{"queryType": "distribution"}, data.FrameTypeNumericLong},
		{"distribution by region", true, map[string]any{"queryType": "distribution", "groupBy": "region"}, data.FrameTypeNumericLong},
		{"aspects", false, map[string]any{"queryType": "aspects"}, data.FrameTypeNumericLong},
		{"aspects over time", false, map[string]any{"queryType": "aspects", "view": "timeseries", "interval": "1d"}, data.FrameTypeTimeSeriesWide},
		{"anomalies of volume by brand", true, map[string]any{"queryType": "anomalies", "metric": "volume", "groupBy": "brand"}, data.FrameTypeTimeSeriesWide},
		{"anomaly spikes", false, map[string]any{"queryType": "anomalies", "metric": "volume", "groupBy": "brand", "view": "spikes"}, data.FrameTypeTable},
		{"mentions", true, map[string]any{"queryType": "mentions", "limit": 20}, data.FrameTypeTable},
		{"dimension values", true, map[string]any{"queryType": "dimension_values", "dimension": "region"}, data.FrameTypeTable},
		{"trending terms", false, map[string]any{"queryType": "trending_terms"}, data.FrameTypeTable},
		{"insights", false, map[string]any{"queryType": "insights", "llm": false}, data.FrameTypeTable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := frames(t, "A", h.query(t, h.dq("A", c.model))["A"])
			require.NotEmpty(t, fs)
			for _, f := range fs {
				require.NotNil(t, f.Meta, "frame %q has no meta", f.Name)
				assert.Equal(t, c.want, f.Meta.Type, "frame %q", f.Name)
			}
			switch c.want {
			case data.FrameTypeTimeSeriesWide:
				kind, err := reader.CanReadBasedOnMeta(fs)
				require.NoError(t, err)
				assert.Equal(t, c.want, kind)
				series, err := timeseries.CollectionReaderFromFrames(fs)
				require.NoError(t, err)
				collection, err := series.GetCollection(true)
				require.NoError(t, err)
				assert.NoError(t, collection.Warning)
				if c.hasData {
					assert.NotEmpty(t, collection.Refs, "no series")
				}
			case data.FrameTypeNumericLong:
				kind, err := reader.CanReadBasedOnMeta(fs)
				require.NoError(t, err)
				assert.Equal(t, c.want, kind)
				numbers, err := numeric.CollectionReaderFromFrames(fs)
				require.NoError(t, err)
				// sdata v0.0.9 does not implement data validation for numeric-long.
				collection, err := numbers.GetCollection(false)
				require.NoError(t, err)
				assert.NoError(t, collection.Warning)
				if c.hasData {
					assert.NotEmpty(t, collection.Refs, "no numbers")
				}
			default:
				if c.hasData {
					assert.Positive(t, fs[0].Rows(), "no rows")
				}
			}
		})
	}
}

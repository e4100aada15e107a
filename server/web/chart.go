package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/megasend/megasend/campaign"
)

// The chart's drawing area, in the SVG's own units: the page scales it to
// its width.
const (
	chartW = 600.0
	chartH = 160.0
	chartT = 8.0 // room above the peak
)

// chart is a batch's pace as the page draws it: an inline SVG polyline
// and its labels, computed here so that the page and its live updates draw
// the same thing.
type chart struct {
	Points string `json:"points"` // the polyline's points
	Area   string `json:"area"`   // the same, closed along the bottom, for the fill
	Peak   string `json:"peak"`   // the y axis' top label
	From   string `json:"from"`
	To     string `json:"to"`
	Step   string `json:"step"` // "", or "averaged over 5 s" for a long run
	Empty  bool   `json:"empty"`
}

// newChart draws tp.
func newChart(tp campaign.Throughput) chart {
	n := len(tp.PerSecond)
	if n == 0 || tp.Peak == 0 {
		return chart{Empty: true, Peak: "0/s", From: "–", To: "–"}
	}
	c := chart{Peak: rate(tp.Peak), From: when(tp.Start), To: when(tp.Start.Add(tp.Step * time.Duration(n)))}
	if s := int(tp.Step.Seconds()); s > 1 {
		c.Step = fmt.Sprintf("averaged over %d s", s)
	}
	var b strings.Builder
	for i, v := range tp.PerSecond {
		x := 0.0
		if n > 1 {
			x = chartW * float64(i) / float64(n-1)
		}
		y := chartH - (chartH-chartT)*v/tp.Peak
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		if n == 1 {
			fmt.Fprintf(&b, "%.1f,%.1f ", chartW, y) // one step: a flat line across
		}
	}
	c.Points = strings.TrimSpace(b.String())
	c.Area = fmt.Sprintf("0,%.0f %s %.0f,%.0f", chartH, c.Points, chartW, chartH)
	return c
}

package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Geometry and colours of the chart.
const (
	chartWidth  = 1000
	labelRight  = 400 // labels end here, bars start just after
	barLeft     = 410
	barRight    = 900 // room after it for the value
	barHeight   = 9
	barGap      = 2
	lineGap     = 10
	panelHeader = 40
)

var systemColor = map[string]string{
	sysRedelay:  "#1f6feb",
	sysAsynq:    "#e8730c",
	sysBaseline: "#9aa0a6",
}

// scale maps values of one panel to x coordinates.
type scale struct {
	log    bool
	lo, hi float64
}

func newScale(vals []float64) scale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	switch {
	case lo > 0 && hi/lo > 20:
		// A decade of room under the smallest value, so that its bar shows.
		return scale{log: true, lo: math.Pow(10, math.Floor(math.Log10(lo/3))), hi: math.Pow(10, math.Ceil(math.Log10(hi)))}
	case lo > 0:
		return scale{lo: 0, hi: niceCeil(hi)}
	default:
		return scale{lo: -niceCeil(-lo), hi: niceCeil(math.Max(hi, 0))}
	}
}

func (s scale) x(v float64) float64 {
	var f float64
	if s.log {
		f = (math.Log10(v) - math.Log10(s.lo)) / (math.Log10(s.hi) - math.Log10(s.lo))
	} else if s.hi > s.lo {
		f = (v - s.lo) / (s.hi - s.lo)
	}
	return barLeft + f*(barRight-barLeft)
}

// ticks are the values that get a grid line.
func (s scale) ticks() []float64 {
	var out []float64
	if s.log {
		for v := s.lo; v <= s.hi*1.0001; v *= 10 {
			out = append(out, v)
		}
		return out
	}
	step := niceCeil((s.hi - s.lo) / 5)
	if step <= 0 {
		return []float64{0}
	}
	for v := math.Ceil(s.lo/step) * step; v <= s.hi+step/1000; v += step {
		out = append(out, v)
	}
	return out
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// svg draws the medians as horizontal bars, one panel per unit, one group of bars per row.
func (rep *report) svg() []byte {
	var units []string
	byUnit := map[string][]line{}
	for _, l := range rep.lines() {
		has := false
		for _, sys := range rep.o.systems {
			if !math.IsNaN(l.medians[sys]) {
				has = true
			}
		}
		if !has {
			continue
		}
		if byUnit[l.row.unit] == nil {
			units = append(units, l.row.unit)
		}
		byUnit[l.row.unit] = append(byUnit[l.row.unit], l)
	}

	var body strings.Builder
	y := 70.0
	for _, u := range units {
		lines := byUnit[u]
		var vals []float64
		for _, l := range lines {
			for _, sys := range rep.o.systems {
				if v := l.medians[sys]; !math.IsNaN(v) {
					vals = append(vals, v)
				}
			}
		}
		sc := newScale(vals)
		better := "higher is better"
		if lines[0].row.lower {
			better = "lower is better"
		}
		kind := "linear"
		if sc.log {
			kind = "log scale"
		}
		fmt.Fprintf(&body, `<text x="10" y="%.0f" font-weight="bold">%s</text>`+"\n", y+16, esc(fmt.Sprintf("%s (%s, %s)", u, better, kind)))
		top := y + panelHeader - 14
		groupH := float64(len(rep.o.systems))*(barHeight+barGap) + lineGap
		bottom := top + float64(len(lines))*groupH
		for _, t := range sc.ticks() {
			x := sc.x(t)
			fmt.Fprintf(&body, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/>`+"\n", x, top, x, bottom)
			fmt.Fprintf(&body, `<text x="%.1f" y="%.0f" font-size="10" fill="#666" text-anchor="middle">%s</text>`+"\n", x, top-3, esc(formatTick(t)))
		}
		y = top + 4
		for _, l := range lines {
			label := fmt.Sprintf("%d. %s", l.scenario, l.row.label)
			if r := []rune(label); len(r) > 64 {
				label = string(r[:61]) + "..."
			}
			mid := y + float64(len(rep.o.systems))*(barHeight+barGap)/2
			fmt.Fprintf(&body, `<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>`+"\n", labelRight, mid+4, esc(label))
			for _, sys := range rep.o.systems {
				if v := l.medians[sys]; !math.IsNaN(v) {
					x0, x1 := sc.x(math.Max(sc.lo, 0)), sc.x(v)
					if sc.log {
						x0 = barLeft
					}
					fmt.Fprintf(&body, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>`+"\n",
						math.Min(x0, x1), y, math.Max(math.Abs(x1-x0), 1), barHeight, systemColor[sys])
					fmt.Fprintf(&body, `<text x="%.1f" y="%.1f" font-size="9" fill="#333">%s</text>`+"\n",
						math.Max(x0, x1)+3, y+barHeight-1, esc(formatValue(v)))
				}
				y += barHeight + barGap
			}
			y += lineGap
		}
		y += 16
	}

	var b strings.Builder
	height := y + 10
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := fmt.Sprintf("redelay vs asynq %s — medians of %d rounds, N=%d, concurrency %d",
		rep.machine.dep("github.com/hibiken/asynq"), rep.o.rounds, rep.o.n, rep.o.c)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", esc(title))
	sub := fmt.Sprintf("%s, %d cores, %s, Redis %s", rep.date.Format("2006-01-02"), rep.machine.cores, rep.machine.goVersion, rep.machine.redis)
	fmt.Fprintf(&b, `<text x="10" y="38" font-size="11" fill="#555">%s</text>`+"\n", esc(sub))
	x := 10.0
	for _, sys := range rep.o.systems {
		fmt.Fprintf(&b, `<rect x="%.0f" y="48" width="12" height="12" fill="%s"/><text x="%.0f" y="58">%s</text>`+"\n", x, systemColor[sys], x+16, esc(sys))
		x += 30 + 8*float64(len(sys))
	}
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// formatTick prints a grid value as short as it goes: 0.01, 10, 1,000.
func formatTick(v float64) string {
	if v == 0 {
		return "0" // not "-0"
	}
	if math.Abs(v) >= 1000 {
		return groupThousands(strconv.FormatFloat(v, 'f', 0, 64))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func esc(s string) string { return html.EscapeString(s) }

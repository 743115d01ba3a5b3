package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report turns the results into the Markdown table and the chart.
type report struct {
	o         *options
	machine   *machine
	date      time.Time
	elapsed   time.Duration
	scenarios []scenario
	res       *results
	load      [2]string // 1-minute load average at the start and at the end
}

// line is one row of the table with its medians.
type line struct {
	scenario int
	row      row
	medians  map[string]float64 // by system; NaN when not measured
}

// lines are the rows of the chosen scenarios, in order, with their medians.
func (rep *report) lines() []line {
	var out []line
	for _, sc := range rep.scenarios {
		if !slices.Contains(rep.o.scenarios, sc.id) {
			continue
		}
		for _, rw := range sc.rows {
			l := line{scenario: sc.id, row: rw, medians: map[string]float64{}}
			for _, sys := range allSystems {
				l.medians[sys] = median(rep.res.samples[rw.key][sys])
			}
			out = append(out, l)
		}
	}
	return out
}

// ratio is redelay's median over asynq's; NaN where that means nothing (a missing or
// non-positive median, as an early task's negative lateness).
func (l line) ratio() float64 {
	red, asy := l.medians[sysRedelay], l.medians[sysAsynq]
	if !(red > 0 && asy > 0) {
		return math.NaN()
	}
	return red / asy
}

// met says whether the row's target is met: "yes", "no", or "" when it has none or a
// median is missing.
func (l line) met() string {
	t := l.row.target
	red, asy := l.medians[sysRedelay], l.medians[sysAsynq]
	if t == nil || math.IsNaN(red) || (t.relative && math.IsNaN(asy)) {
		return ""
	}
	if t.met(red, asy) {
		return "yes"
	}
	return "no"
}

func (rep *report) markdown() string {
	var b strings.Builder
	o := rep.o
	fmt.Fprintf(&b, "## redelay vs asynq %s\n\n", rep.machine.dep("github.com/hibiken/asynq"))
	fmt.Fprintf(&b, "Measured %s on %s.  \n", rep.date.Format("2006-01-02 15:04 MST"), rep.machine)
	fmt.Fprintf(&b, "N = %d tasks, concurrency %d, no-op handlers, 8-byte payloads; each figure is the median of %d rounds, "+
		"the systems alternating within each round; the whole run took %s; 1-minute load average %s at the start, %s at the end.  \n",
		o.n, o.c, o.rounds, rep.elapsed.Round(time.Second), rep.load[0], rep.load[1])
	if len(rep.res.others) > 0 {
		fmt.Fprintf(&b, "CPUs kept busy by other processes during the runs (not the benchmark, not Redis): median %.2f, max %.2f of %d.  \n",
			median(rep.res.others), slices.Max(rep.res.others), rep.machine.cores)
	}
	fmt.Fprintf(&b, "Reproduce: `%s`\n\n", o.reproduce())

	b.WriteString("| # | Figure | Unit |")
	for _, sys := range o.systems {
		fmt.Fprintf(&b, " %s |", sys)
	}
	b.WriteString(" redelay/asynq | Target | Met |\n|---|---|---|")
	for range o.systems {
		b.WriteString("---:|")
	}
	b.WriteString("---:|---|---|\n")
	var notes []string
	for _, l := range rep.lines() {
		label := l.row.label
		if l.row.note != "" {
			i := slices.Index(notes, l.row.note)
			if i < 0 {
				notes = append(notes, l.row.note)
				i = len(notes) - 1
			}
			label += fmt.Sprintf(" [%d]", i+1)
		}
		fmt.Fprintf(&b, "| %d | %s | %s |", l.scenario, label, l.row.unit)
		for _, sys := range o.systems {
			fmt.Fprintf(&b, " %s |", formatValue(l.medians[sys]))
		}
		tgt := ""
		if l.row.target != nil {
			tgt = l.row.target.text
		}
		fmt.Fprintf(&b, " %s | %s | %s |\n", formatRatio(l.ratio()), tgt, l.met())
	}
	b.WriteString("\n")
	for i, n := range notes {
		fmt.Fprintf(&b, "%d. %s\n", i+1, n)
	}

	b.WriteString("\n<details><summary>Every sample, in the order measured</summary>\n\n")
	for _, l := range rep.lines() {
		var parts []string
		for _, sys := range o.systems {
			vs := rep.res.samples[l.row.key][sys]
			if len(vs) == 0 {
				continue
			}
			var f []string
			for _, v := range vs {
				f = append(f, formatValue(v))
			}
			parts = append(parts, sys+": "+strings.Join(f, ", "))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "- %d. %s (%s): %s\n", l.scenario, l.row.label, l.row.unit, strings.Join(parts, "; "))
		}
	}
	b.WriteString("\n</details>\n")
	if len(rep.res.errors) > 0 {
		b.WriteString("\nErrors:\n\n")
		for _, e := range rep.res.errors {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	return b.String()
}

// formatValue prints v with about three significant digits, and thousands separators
// from 1,000 on; "—" for a missing value.
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "—"
	case a >= 1000:
		return groupThousands(strconv.FormatFloat(v, 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// formatRatio prints r as "2.11×", or as "1/484" when it is below 0.1.
func formatRatio(r float64) string {
	switch {
	case math.IsNaN(r) || math.IsInf(r, 0):
		return "—"
	case r < 0.1:
		return "1/" + formatValue(1/r)
	}
	return formatValue(r) + "×"
}

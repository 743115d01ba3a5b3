package workercmd

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// healthTimeout bounds the PING of GET /healthz.
const healthTimeout = 2 * time.Second

// QueueStats is one queue in the JSON of GET /stats.
type QueueStats struct {
	// Tasks waiting to run: ready, scheduled and leased.
	Tasks int `json:"tasks"`
	// OldestETA is the earliest due time among them; null when there are none.
	OldestETA *time.Time `json:"oldest_eta"`
	// Executed1m is the number of tasks done in the last minute.
	Executed1m int `json:"executed_1m"`
	// InFlight is the number of tasks being delivered now, by any worker.
	InFlight int `json:"in_flight"`
	// Dead is the number of dead tasks.
	Dead int `json:"dead"`
}

// Stats is the JSON of GET /stats: {"queues": {"default": {...}, ...}}.
type Stats struct {
	Queues map[string]QueueStats `json:"queues"`
}

// newAdminMux serves GET /healthz (200 when Redis answers PING, 503 when not) and GET /stats
// (the served queues' statistics as JSON).
func newAdminMux(rt Runtime) *http.ServeMux {
	mux := http.NewServeMux()
	rdb := rt.Client.Redis()
	queues := make([]string, 0, len(rt.Config.Queues))
	for q := range rt.Config.Queues {
		queues = append(queues, q)
	}
	slices.Sort(queues)

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := rdb.Ping(ctx).Err(); err != nil {
			rt.Logger.Warn("health check: Redis does not answer", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("redis: " + err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})

	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		st, err := rt.Client.QueueStats(ctx, queues)
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		out := Stats{Queues: make(map[string]QueueStats, len(st))}
		for i, s := range st {
			q := QueueStats{Tasks: s.Tasks, Executed1m: s.Executed1Minute, InFlight: s.InFlight, Dead: s.Dead}
			if !s.OldestETA.IsZero() {
				eta := s.OldestETA.UTC()
				q.OldestETA = &eta
			}
			out.Queues[queues[i]] = q
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	})
	return mux
}

package httpapi

import (
	"net/http"
	"time"
)

// queueJSON is one queue's statistics, as GET /stats of the worker binary writes them.
type queueJSON struct {
	// Tasks waiting to run: ready, scheduled and leased.
	Tasks int `json:"tasks"`
	// OldestETA is the earliest due time among them; null when there are none.
	OldestETA *time.Time `json:"oldest_eta"`
	// Executed1m is the number of tasks that succeeded in the last minute.
	Executed1m int `json:"executed_1m"`
	// InFlight is the number of tasks being delivered now.
	InFlight int `json:"in_flight"`
	// Dead is the number of dead tasks.
	Dead int `json:"dead"`
}

// queuesJSON is the answer of GET /v1/queues: {"queues": {"default": {...}, ...}}.
type queuesJSON struct {
	Queues map[string]queueJSON `json:"queues"`
}

// GET /v1/queues[?queue=a&queue=b]
func (a *api) queueStats(w http.ResponseWriter, r *http.Request) error {
	queues := a.cfg.Queues
	if qs, ok := r.URL.Query()["queue"]; ok {
		queues = qs
		for _, q := range qs {
			if q == "" {
				return badRequest(`?queue=: empty queue name (use "default")`)
			}
		}
	}
	st, err := a.cfg.Client.QueueStats(r.Context(), queues)
	if err != nil {
		return taskError(err)
	}
	out := queuesJSON{Queues: make(map[string]queueJSON, len(st))}
	for i, s := range st {
		out.Queues[queues[i]] = queueJSON{
			Tasks: s.Tasks, OldestETA: optTime(s.OldestETA), Executed1m: s.Executed1Minute,
			InFlight: s.InFlight, Dead: s.Dead,
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

package server

import (
	"context"
	"net/http"
	"time"

	"github.com/megasend/megasend/campaign"
)

// healthTimeout bounds how long /healthz waits for the database.
const healthTimeout = 2 * time.Second

// handleHealth answers 200 {"status":"ok"} when the database answers a
// query, 503 otherwise. It needs no key: load balancers and supervisors
// call it.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	var one int
	if err := s.db.SQL().QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		s.log.Error("health check: the database does not answer", "err", err)
		return &campaign.Error{Code: campaign.Unavailable, Msg: "the database does not answer", Err: err}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

package server

import (
	_ "embed"
	"net/http"
)

// openAPI describes the API, route for route (TestOpenAPI_Routes keeps
// the two the same).
//
//go:embed openapi.json
var openAPI []byte

// handleOpenAPI answers the OpenAPI 3.1 document of the API.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err := w.Write(openAPI)
	return err
}

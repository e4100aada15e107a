package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestServe_SpoolSweptAfterKill: a serve killed in the middle of an upload
// leaves the upload's spool file beside the database (its deferred remove
// never runs); the next serve removes it when it starts.
func TestServe_SpoolSweptAfterKill(t *testing.T) {
	bin := megasendBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	sandbox := startSandbox(t, bin)
	env := campaignEnv(sandbox, db)
	key := serveKey(t, bin, env, "svc")
	port := freePort(t)
	sp := startServe(t, bin, env, port, key)

	// An upload that sends its header and a row, then waits.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", sp.base+"/v1/batches?name=cut&template=order_paid", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	fmt.Fprintf(pw, "openid,product,amount,paid_at,order_no\novIC7uccmSMFeuYJj2PjM7KkdBnY,a,1,b,c\n")
	spooled := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, ".megasend-upload-*"))
		return m
	}
	for deadline := time.Now().Add(10 * time.Second); len(spooled()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no spool file while uploading:\n%s", sp.logText())
		}
	}
	if err := sp.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("serve survived SIGKILL")
	}
	pw.Close()
	left := spooled()
	if len(left) != 1 {
		t.Fatalf("after SIGKILL: spool files %q, want the one cut short", left)
	}

	sp = startServe(t, bin, env, port, key)
	if m := spooled(); len(m) != 0 {
		t.Errorf("the next serve left %q\n%s", m, sp.logText())
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("the database: %v", err)
	}
	sp.mustCall(t, 404, "GET", "/v1/batches/cut", "", "")
	if err := sp.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve on SIGTERM: %v\n%s", err, sp.logText())
	}
}

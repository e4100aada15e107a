package wechat_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// deadConn is a pooled connection whose peer is gone: once dead, a write
// fails before a byte leaves (the kernel already holds the peer's reset).
// Reads go on waiting on the real connection, so the transport's read loop
// has not noticed yet, which is the race a vanished WeChat opens.
type deadConn struct {
	net.Conn
	dead *atomic.Bool
}

func (c *deadConn) Write(p []byte) (int, error) {
	if c.dead.Load() {
		return 0, &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return c.Conn.Write(p)
}

// TestClient_SendTemplate_RefusedAfterPooledConnDied is the unreachable
// pause's stray inflight rows (issue 20, item 7): WeChat vanishes, a send
// takes a pooled connection that is already dead, nothing of the request
// leaves, the transport tries a new connection and that is refused. The
// request never left this machine, so it must not count as sent: net/http
// reports "wrote the request" once it is in the connection's buffer, before
// the flush that failed, and the retry on a new connection writes nothing.
func TestClient_SendTemplate_RefusedAfterPooledConnDied(t *testing.T) {
	srv := mustServer(t, wechattest.Options{})
	var dead atomic.Bool
	var mu sync.Mutex
	var dials int
	base := &net.Dialer{}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 1,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dials++
			mu.Unlock()
			if dead.Load() {
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			}
			conn, err := base.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &deadConn{Conn: conn, dead: &dead}, nil
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	c := mustClient(t, srv.URL, wechat.Config{HTTPClient: &http.Client{Transport: tr}})
	if _, err := c.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	dead.Store(true)
	_, err := c.SendTemplate(t.Context(), orderPaid(openID(1), "batch-1/1"))
	re := asRequestError(t, err)
	if re.Sent || wechat.IsAmbiguous(err) {
		t.Errorf("err = %+v (%v): want nothing sent, the last try was refused a connection", re, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if dials != 2 {
		t.Fatalf("%d dials, want 2 (the token's, then the refused retry): the pooled connection was not reused", dials)
	}
	if n := len(srv.Deliveries()); n != 0 {
		t.Errorf("%d deliveries, want 0", n)
	}
}

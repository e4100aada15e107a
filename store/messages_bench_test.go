package store

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkAcceptMessages measures the commit path of POST /v1/messages
// alone: groups of messages, each with its own idempotency key, as the
// service's group commit stores them (about 16 a group under issue 17's 64
// clients). ns/msg is the cost of one message.
//
//	go test -run '^$' -bench BenchmarkAcceptMessages ./store/
func BenchmarkAcceptMessages(b *testing.B) {
	for _, group := range []int{1, 16, 64} {
		b.Run(fmt.Sprint(group), func(b *testing.B) { benchmarkAcceptMessages(b, group) })
	}
}

func benchmarkAcceptMessages(b *testing.B, group int) {
	db := mustOpen(b)
	ctx := context.Background()
	msgs := make([]NewMessage, group)
	n := 0
	for b.Loop() {
		for i := range msgs {
			n++
			msgs[i] = NewMessage{Account: "a", IdemKey: fmt.Sprintf("order-%d", n), RequestHash: fmt.Sprintf("%064d", n),
				TemplateKey: "order", TemplateHash: "h1", TemplateBody: `{"touser":"${openid}"}`,
				OpenID: fmt.Sprintf("o%027d", n), Vars: `{"name":"客户"}`, ClientMsgID: fmt.Sprintf("mm-%020d", n)}
		}
		if _, err := db.AcceptMessages(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/msg")
}

package wechat

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// benchMessage is a typical template message: a URL with a query, Chinese
// values, five keywords.
func benchMessage() *TemplateMessage {
	return &TemplateMessage{
		ToUser:      "o000000000000000000000012345",
		TemplateID:  "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g",
		URL:         "https://shop.example.com/orders/SO12345?from=wechat&utm_source=template",
		ClientMsgID: "ms-0123456789ab-12347",
		Data: map[string]DataValue{
			"first":    {Value: "用户12345，恭喜您购买成功！"},
			"keyword1": {Value: "商品12345"},
			"keyword2": {Value: "12345.00元"},
			"keyword3": {Value: "2024年3月1日 10:15"},
			"remark":   {Value: "欢迎再次购买！"},
		},
	}
}

// BenchmarkPostJSON measures encoding a TemplateMessage into the request
// body, as SendTemplate does. One op is one message.
func BenchmarkPostJSON(b *testing.B) {
	msg := benchMessage()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := postJSON(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// cannedTransport answers every request at once without a network:
// stable_token with a token, anything else with a successful send. What it
// allocates for each answer (the response and its body reader) is counted
// in the benchmarks that use it.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	body := `{"errcode":0,"errmsg":"ok","msgid":3557254367693782077}`
	if req.URL.Path == "/cgi-bin/stable_token" {
		body = `{"access_token":"ACCESS_TOKEN_0123456789","expires_in":7200}`
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json; encoding=utf-8"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

func benchClient(b *testing.B) *Client {
	b.Helper()
	c, err := New(Config{AppID: "wx5a4d3b2c1e0f9a8b", AppSecret: "secret", BaseURL: "http://wechat.invalid",
		HTTPClient: &http.Client{Transport: cannedTransport{}}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Token(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkClient_SendTemplateBody measures the client's own work per send
// of an already rendered body (the engine's path): the token, the URL, the
// request, the answer's decoding; no network. One op is one message.
func BenchmarkClient_SendTemplateBody(b *testing.B) {
	c := benchClient(b)
	body, err := postJSON(benchMessage())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SendTemplateBody(ctx, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClient_SendTemplate is the same with the message encoded on
// each send.
func BenchmarkClient_SendTemplate(b *testing.B) {
	c := benchClient(b)
	msg := benchMessage()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SendTemplate(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

package wechattest

import (
	"bytes"
	"math"
	"net/http/httptest"
	"reflect"
	"testing"
)

// sendResponse is the template/send success answer as a type, for
// writeJSON: the reference writeSendOK must reproduce.
type sendResponse struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
	MsgID   int64  `json:"msgid"`
}

func TestWriteSendOK(t *testing.T) {
	tests := []struct {
		name  string
		msgID int64
	}{
		{name: "Zero", msgID: 0},
		{name: "One", msgID: 1},
		{name: "Base", msgID: msgIDBase},
		{name: "Max", msgID: math.MaxInt64},
		{name: "Min", msgID: math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := httptest.NewRecorder()
			writeJSON(want, sendResponse{Errcode: 0, Errmsg: "ok", MsgID: tt.msgID})
			got := httptest.NewRecorder()
			writeSendOK(got, tt.msgID)
			if got.Code != want.Code {
				t.Errorf("status %d, writeJSON gives %d", got.Code, want.Code)
			}
			if !reflect.DeepEqual(got.Header(), want.Header()) {
				t.Errorf("headers %v, writeJSON gives %v", got.Header(), want.Header())
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Errorf("body %q, writeJSON gives %q", got.Body.Bytes(), want.Body.Bytes())
			}
		})
	}
}

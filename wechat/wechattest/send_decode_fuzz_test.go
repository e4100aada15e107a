package wechattest

import "testing"

// FuzzDecodeSend checks decodeSendFast against decodeSendJSON, the
// reference: on any body where the fast path answers, the answer (errcode,
// request, data map, raw data object) must be encoding/json's. Bailing out
// is always allowed; TestDecodeSendFast_Rendered makes sure real bodies do
// not.
func FuzzDecodeSend(f *testing.F) {
	for _, c := range renderedCases {
		f.Add(c.render(f))
	}
	for _, c := range decodeCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkSameDecode(t, body)
	})
}

package cmd

import (
	"strings"
	"testing"
	"time"
)

func TestParseDeadline(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, loc)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-11-22T18:00:00+08:00", want: time.Date(2026, 11, 22, 18, 0, 0, 0, loc)},
		{in: "2026-11-22T10:00:00Z", want: time.Date(2026, 11, 22, 18, 0, 0, 0, loc)},
		{in: "2026-11-23 07:15", want: time.Date(2026, 11, 23, 7, 15, 0, 0, loc)},
		{in: "18:00", want: time.Date(2026, 11, 22, 18, 0, 0, 0, loc)},
		{in: "08:05:09", want: time.Date(2026, 11, 22, 8, 5, 9, 0, loc)},
		{in: "tomorrow", wantErr: true},
		{in: "25:00", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseDeadline(tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseDeadline(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestCampaignOptions_Validate(t *testing.T) {
	tests := []struct {
		name string
		o    campaignOptions
		ok   bool
	}{
		{name: "New", o: campaignOptions{template: "t", users: "u.csv"}, ok: true},
		{name: "Resume", o: campaignOptions{resume: "b"}, ok: true},
		{name: "ResumeWithUsers", o: campaignOptions{resume: "b", users: "u.csv"}},
		{name: "NoUsers", o: campaignOptions{template: "t"}},
		{name: "RetryUnknownNeedsBatch", o: campaignOptions{template: "t", users: "u", retryUnknown: true}},
		{name: "NegativeRate", o: campaignOptions{template: "t", users: "u", rate: -1}},
		{name: "RateZero", o: campaignOptions{template: "t", users: "u", rateSet: true}, ok: true},
		{name: "ConcurrencyZero", o: campaignOptions{template: "t", users: "u", concurrencySet: true}},
		{name: "ConcurrencyUnset", o: campaignOptions{template: "t", users: "u"}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.validate()
			if (err == nil) != tt.ok {
				t.Errorf("validate() = %v", err)
			}
			if err != nil && exitCode(err) != exitUsage {
				t.Errorf("exit code %d, want %d", exitCode(err), exitUsage)
			}
		})
	}
}

// TestCampaign_RetryUnknownCount checks that --resume --retry-unknown says
// how many it sends, the requeued unknown ones included (it said 0).
func TestCampaign_RetryUnknownCount(t *testing.T) {
	db := sandboxBatch(t, "b", "../testdata/templates/order_paid.json", "../testdata/users.csv")
	mustExec(t, db, `UPDATE sends SET state = 'unknown', errcode = -1, errmsg = 'may have been delivered', msgid = NULL WHERE line IN (3, 7)`)
	mustExec(t, db, `UPDATE sends SET state = 'pending', errcode = 0, errmsg = '', msgid = NULL WHERE line = 9`)
	mustExec(t, db, `UPDATE batches SET status = 'paused'`)

	code, _, stderr := runCLI(t, db, "campaign", "--resume", "b", "--retry-unknown", "--sandbox")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"requeued recipients whose outcome was unknown\" count=2", "msg=sending batch=b recipients=3 "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no %q in:\n%s", want, stderr)
		}
	}
}

func TestSummaryDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{14*time.Millisecond + 300*time.Microsecond, "14ms"},
		{7*time.Second + 254*time.Millisecond, "7.3s"},
		{67*time.Second + 254311*time.Microsecond, "1m7s"},
		{2*time.Hour + 59*time.Second + 600*time.Millisecond, "2h1m0s"},
	}
	for _, tt := range tests {
		if got := summaryDuration(tt.in).String(); got != tt.want {
			t.Errorf("summaryDuration(%v) = %s; want %s", tt.in, got, tt.want)
		}
	}
}

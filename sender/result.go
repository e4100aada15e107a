package sender

import (
	"time"
)

// StopReason says why a run ended before every recipient was done.
type StopReason int

// Stop reasons. StopNone means the run reached the end of the batch.
const (
	StopNone        StopReason = iota
	StopInterrupted            // the context was cancelled (a signal)
	StopQuota                  // WeChat's daily quota (45009)
	StopFatal                  // a batch-fatal errcode
	StopThreshold              // --max-errors was exceeded
	StopUnreachable            // WeChat could not be connected to
	StopError                  // a local failure: the database, the lock
	StopQuiet                  // the batch's quiet hours began
)

var stopNames = [...]string{"", "interrupted", "daily quota reached", "batch-fatal error", "error threshold exceeded",
	"WeChat API unreachable", "local error", "quiet hours"}

func (s StopReason) String() string { return stopNames[s] }

// Result is how a run ended. The counts cover this run only; the ledger
// holds the batch's totals.
type Result struct {
	Stop StopReason
	// Err is the error behind the stop: the *wechat.APIError for quota and
	// fatal stops, the context's cause for interruptions.
	Err error
	// QuotaResetAt is when the daily quota resets (StopQuota only).
	QuotaResetAt time.Time
	// ResumeAt is when the quiet hours end (StopQuiet only).
	ResumeAt time.Time

	Sent, Failed, Unknown int64
	// RetriedLate counts the recipients whose transient budget ran out and
	// that were tried once more at the end of the run (whatever came of it).
	RetriedLate int64
	// Fallbacks counts the recipients moved to the batch's fallback in
	// this run (Config.FallbackKind); Sent counts them again once sent.
	Fallbacks int64
	// Capped counts the recipients a frequency cap skipped (Config.Cap).
	Capped int64
}

// beijing is China Standard Time: WeChat's quotas reset at its midnight.
// China has no daylight saving time, so a fixed zone is exact.
var beijing = time.FixedZone("CST", 8*60*60)

// NextQuotaReset returns the next midnight in Beijing after t.
func NextQuotaReset(t time.Time) time.Time {
	b := t.In(beijing)
	return time.Date(b.Year(), b.Month(), b.Day()+1, 0, 0, 0, 0, beijing)
}

// EventKind classifies an Event.
type EventKind int

// Event kinds.
const (
	// EventPace: the rate limit changed. Limit 0 means back to the configured rate.
	EventPace EventKind = iota + 1
	// EventRetry: a recipient is being retried after an error.
	EventRetry
	// EventStop: the engine decided to stop the batch.
	EventStop
)

// Event is something the engine did that a progress display or log wants to
// show as it happens.
type Event struct {
	Kind  EventKind
	Limit float64 // EventPace: the new messages/s limit, 0 when back to normal
	// Slower is true when EventPace is a slow-down, false when the pace
	// recovers.
	Slower bool
	// Trial tells a slow-down's two causes apart. True: a share of -1
	// answers ("system busy", which WeChat also gives at random) made the
	// pacer try a slower pace, or go back to one it measured better, to
	// see whether WeChat answers -1 less often there. False: WeChat asked
	// for it with 45011.
	Trial bool
	Line  int64 // EventRetry
	Err   error // EventRetry, EventStop
	Stop  StopReason
}

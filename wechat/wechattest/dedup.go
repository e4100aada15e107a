package wechattest

import "time"

// dedupKey is what WeChat deduplicates template sends on.
type dedupKey struct {
	openID, clientMsgID string
}

// dedupEntry is a remembered send.
type dedupEntry struct {
	key   dedupKey
	msgID int64
	at    time.Time
}

// dedupTable remembers (openid, client_msg_id) pairs for the dedup window.
// Entries are kept in arrival order so that expired ones are dropped from
// the front as time moves on; memory stays proportional to one window of
// traffic. The zero value is ready; callers hold the Sim's lock.
type dedupTable struct {
	byKey map[dedupKey]dedupEntry
	order []dedupEntry
}

// lookup returns the msgid of key's first send if it happened less than
// window before now.
func (d *dedupTable) lookup(key dedupKey, now time.Time, window time.Duration) (int64, bool) {
	d.expire(now, window)
	e, ok := d.byKey[key]
	if !ok || !now.Before(e.at.Add(window)) {
		return 0, false
	}
	return e.msgID, true
}

// add remembers key's send at now.
func (d *dedupTable) add(key dedupKey, msgID int64, now time.Time) {
	if d.byKey == nil {
		d.byKey = make(map[dedupKey]dedupEntry)
	}
	e := dedupEntry{key: key, msgID: msgID, at: now}
	d.byKey[key] = e
	d.order = append(d.order, e)
}

// expire forgets entries older than window.
func (d *dedupTable) expire(now time.Time, window time.Duration) {
	n := 0
	for n < len(d.order) && !now.Before(d.order[n].at.Add(window)) {
		e := d.order[n]
		if cur, ok := d.byKey[e.key]; ok && cur.msgID == e.msgID {
			delete(d.byKey, e.key)
		}
		n++
	}
	// Slicing forward is enough: the dead prefix is dropped the next time
	// append reallocates.
	d.order = d.order[n:]
}

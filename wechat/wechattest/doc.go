// Package wechattest is a faithful simulation of the WeChat Official Account
// server API, the way net/http/httptest serves net/http: every test of
// megasend and every --sandbox run talks to it instead of api.weixin.qq.com.
//
// Faithful means it answers like WeChat, not "always ok": HTTP 200 with a
// JSON errcode for every API error, errmsg carrying a "rid: …" suffix, the
// odd "Content-Type: application/json; encoding=utf-8", classic tokens
// superseded by the next fetch (with a grace period), stable tokens that are
// reused until five minutes before expiry, msgid values above 2^53, the
// (openid, client_msg_id) dedup window, the daily template quota and the
// 2023 category value rules (47003). The facts come from the project's
// reference notes on the WeChat API (shared/reference/wechat-api.md).
//
// On top of that it can misbehave on demand, through knobs on *Sim that are
// safe to call while traffic flows: revoke or expire every token, fail the
// next sends with any errcode, answer HTTP 5xx or an HTML page, deliver a
// message and then drop the connection or hold the answer past the client's
// timeout (the ambiguous cases), add latency, exhaust the quota, or consult a
// hook for every send.
//
// It can also be the account's side of WeChat's callbacks: with
// Options.CallbackURL it posts a delivery receipt (TEMPLATESENDJOBFINISH)
// for every accepted template message to that URL a moment later, signed
// as WeChat signs pushes, encrypted in safe mode, retried up to three times
// in all; Options.Blocked and SystemFailed choose who gets a failure
// receipt.
//
// Besides template messages it delivers customer-service messages
// (custom/send: only to Options.Interacted, inside their 48-hour window,
// CustomLimit times each, 45015 and 45047 otherwise) and subscribe
// notifications (subscribe/bizsend: 43101 outside Options.Subscribed); each
// Delivery says which Kind it was. Follower membership is real once
// Options.Followers is set: a send of any kind to an openid outside the
// synthetic follower set answers 40003, as WeChat does for an openid that
// is not the account's.
//
// Endpoints served:
//
//	GET  /cgi-bin/token                               classic token
//	POST /cgi-bin/stable_token                        stable token
//	POST /cgi-bin/message/template/send               template message
//	POST /cgi-bin/message/custom/send                 customer-service message
//	POST /cgi-bin/message/subscribe/bizsend           subscribe notification
//	GET  /cgi-bin/template/get_all_private_template   template list
//	POST /cgi-bin/openapi/quota/get                   quota query
//	GET  /cgi-bin/user/get                            follower list
//	POST /cgi-bin/user/tag/get                        followers by tag
//	GET  /cgi-bin/tags/get                            tag list
//	POST /cgi-bin/tags/getidlist                      a follower's tag ids
//	GET  /cgi-bin/user/info                           a follower's details
//	GET  /sandbox/stats, /sandbox/deliveries          inspection (not WeChat)
//	POST /sandbox/revoke, /sandbox/expire, /sandbox/quota/reset,
//	     /sandbox/quota?n=N, /sandbox/fail?code=N&n=K,
//	     /sandbox/fail/clear                          fault control (not WeChat)
//
// Any other path has its access_token checked first, as WeChat checks every
// API's (41001, 40001, 42001), and then answers HTTP 501 with errcode 501
// and an errmsg beginning "not simulated". That answer is deliberately not
// WeChat's: WeChat's 48001 "api unauthorized" would send a user looking for
// a permission problem their account does not have.
//
// Daily counters (template quota, token fetches, forced refreshes) roll over
// at midnight China Standard Time (UTC+8), when WeChat's do.
package wechattest

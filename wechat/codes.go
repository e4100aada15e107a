package wechat

// codeInfo is what megasend knows about one errcode: its class, what it
// means, and what the user should do about it.
type codeInfo struct {
	class   Class
	meaning string
	advice  string
}

// codes is the errcode table (../shared/reference/wechat-api.md §1.3, §2.5,
// §7). It is read-only.
var codes = map[int]codeInfo{
	-1: {ClassTransient, "system error (WeChat busy)", "retried automatically with backoff; if it persists, lower --rate"},

	40001: {ClassToken, "access token invalid or not latest", "refreshed automatically; if it persists another system is force-refreshing the token or the secret is wrong"},
	40014: {ClassToken, "invalid access token", "refreshed automatically"},
	42001: {ClassToken, "access token expired", "refreshed automatically"},
	41001: {ClassToken, "access token missing", "refreshed automatically"},

	45011: {ClassRate, "API minute quota reached; must slow down", "megasend slows the batch down on its own; lower --rate for future runs"},
	45066: {ClassRate, "retry too fast", "megasend slows down on its own"},

	45009: {ClassQuota, "daily API quota reached", "the batch is paused; resume after midnight Beijing time or after clear_quota"},

	40003: {ClassRecipient, "invalid openid", "check that the openid belongs to this account's followers"},
	43004: {ClassRecipient, "recipient does not follow the account", "drop the recipient or ask them to follow"},
	43019: {ClassRecipient, "recipient is in the account's blacklist", "remove them from the blacklist in the MP console"},
	43101: {ClassRecipient, "user refused to accept the message", "drop the recipient"},
	43117: {ClassRecipient, "sending to this openid too frequently", "retry later: megasend retry NAME --errcode 43117"},
	47003: {ClassRecipient, "a data value breaks the template's value rules", "fix the value named in errmsg; run megasend template lint"},
	48002: {ClassRecipient, "the follower refuses messages", "drop the recipient"},
	50005: {ClassRecipient, "user has not followed the account", "drop the recipient"},
	45015: {ClassRecipient, "response out of time limit or subscription canceled", "drop the recipient"},
	45047: {ClassRecipient, "out of response count limit for this user", "retry later"},
	40249: {ClassRecipient, "message blocked for illegal content", "review the content of this message"},
	40241: {ClassRecipient, "message is a duplicate within 60 seconds", "already delivered; do not resend"},

	40037: {ClassFatal, "invalid template_id", "the template_id is not one of this account's templates (see megasend template pull); fix it, then finish the batch with megasend campaign --resume NAME --template FIXED"},
	43116: {ClassFatal, "template_id is banned", "choose another template in the MP console, then finish the batch with megasend campaign --resume NAME --template FIXED"},
	40164: {ClassFatal, "caller IP not in the API IP whitelist", "add this machine's IP to the whitelist in the MP console"},
	61004: {ClassFatal, "caller IP not registered in the whitelist", "add this machine's IP to the whitelist in the MP console"},
	40125: {ClassFatal, "invalid app secret", "fix app_secret for this account"},
	40013: {ClassFatal, "invalid app id", "fix app_id for this account"},
	40002: {ClassFatal, "invalid grant_type", "a megasend bug: report it"},
	41002: {ClassFatal, "app id missing", "set app_id for this account"},
	41004: {ClassFatal, "app secret missing", "set app_secret for this account"},
	40243: {ClassFatal, "app secret frozen", "unfreeze or reset the AppSecret in the MP console"},
	48001: {ClassFatal, "API unauthorized for this account", "template messages need a verified service account"},
	48004: {ClassFatal, "API forbidden for irregularities", "see the notice in the MP console"},
	50001: {ClassFatal, "user unauthorized", "check the account's permissions"},
	50002: {ClassFatal, "user limited", "check the account's status in the MP console"},
	50004: {ClassFatal, "account punished: not allowed to use the access token", "see the notice in the MP console"},
	89503: {ClassFatal, "this IP needs the administrator's confirmation", "confirm in WeChat as administrator, then resume"},
	40036: {ClassFatal, "invalid template_id size", "the template's template_id is empty or malformed"},
	40033: {ClassFatal, "invalid charset in request", "a megasend bug: report it"},
	44002: {ClassFatal, "empty post data", "a megasend bug: report it"},
	47001: {ClassFatal, "data format error", "the template body does not have WeChat's shape: check megasend template lint"},
	45067: {ClassFatal, "client_msg_id too long", "a megasend bug: report it"},
	43002: {ClassFatal, "require POST method", "a megasend bug: report it"},
	43003: {ClassFatal, "require https", "use an https api_base"},
	76021: {ClassFatal, "cgi_path not found", "a megasend bug: report it"},
}

// Classify returns the class of errcode. Codes megasend does not know are
// treated as failures of that one recipient: the errcode is kept in the
// ledger and --max-errors guards against a code that hits everyone.
func Classify(code int) Class {
	if ci, ok := codes[code]; ok {
		return ci.class
	}
	return ClassRecipient
}

// Describe returns what errcode means and what to do about it, for reports.
// Unknown codes get empty strings.
func Describe(code int) (meaning, advice string) {
	ci := codes[code]
	return ci.meaning, ci.advice
}

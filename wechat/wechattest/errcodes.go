package wechattest

// Errcodes the simulator answers itself. FailNext and Fault.Errcode accept
// any code; errmsgs below are what WeChat is known to say for it (see the
// reference notes, §1.3, §2.5 and §7).
const (
	codeSystemError       = -1
	codeInvalidCredential = 40001
	codeInvalidGrantType  = 40002
	codeInvalidOpenID     = 40003
	codeInvalidMediaID    = 40007
	codeInvalidMsgType    = 40008
	codeInvalidAppID      = 40013
	codeTemplateIDSize    = 40036
	codeInvalidTemplate   = 40037
	codeInvalidSecret     = 40125
	codeTokenMissing      = 41001
	codeAppIDMissing      = 41002
	codeSecretMissing     = 41004
	codeTokenExpired      = 42001
	codeRequirePOST       = 43002
	codeRequireSubscribe  = 43004
	codeRefuseSubscribe   = 43101
	codeEmptyPostData     = 44002
	codeEmptyNews         = 44003
	codeEmptyContent      = 44004
	codeContentSize       = 45002
	codeArticleSize       = 45008
	codeDailyQuota        = 45009
	codeOutOfWindow       = 45015
	codeOutOfCount        = 45047
	codeClientMsgIDSize   = 45067
	codeInvalidTag        = 45159
	codeDataFormat        = 47001
	codeArgumentInvalid   = 47003
	codeCGIPathNotFound   = 76021
)

// errmsgs maps an errcode to WeChat's message for it, without the rid suffix.
// Read-only.
var errmsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r",
	40002: "invalid grant_type",
	40003: "invalid openid",
	40007: "invalid media_id",
	40008: "invalid message type",
	40013: "invalid appid",
	40014: "invalid access_token",
	40033: "invalid charset. please check your request, if include \\uxxxx will create fail!",
	40036: "invalid template_id size",
	40037: "invalid template_id",
	40125: "invalid appsecret",
	40164: "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist",
	40241: "The message is duplicate in 60 seconds",
	40243: "AppSecret is frozen",
	40249: "this template msg has been blocked for illegal content",
	41001: "access_token missing",
	41002: "appid missing",
	41004: "appsecret missing",
	42001: "access_token expired",
	43002: "require POST method",
	43003: "require https",
	43004: "require subscribe",
	43019: "require remove blacklist",
	43101: "user refuse to accept the msg",
	43116: "This template_id is banned",
	43117: "Sending messages to this openid too frequently,please try later",
	44002: "empty post data",
	44003: "empty news data",
	44004: "empty content",
	45002: "content size out of limit",
	45008: "article size out of limit",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit  mustslower  retry next minute",
	45015: "response out of time limit or subscription is canceled",
	45047: "out of response count limit",
	45065: "clientmsgid exist",
	45066: "retry too fast, wait 1 min",
	45067: "clientmsgid size out of limit",
	45159: "invalid tag id",
	47001: "data format error",
	47003: "argument invalid!",
	48001: "api unauthorized",
	48002: "user refuse to accept the msg",
	48004: "api forbidden for irregularities",
	50001: "user unauthorized",
	50002: "user limited",
	50004: "user not allow to use accesstoken, maybe for punishment",
	50005: "user not subscribe",
	61004: "access clientip is not registered, not in ip-white-list",
	76021: "cgi_path not found, please check",
	76022: "could not use this cgi_path,no permission",
	89503: "此IP调用需要管理员确认,请联系管理员",
}

// tokenQuotaMsg is the newer 45009 text /cgi-bin/token answers with.
const tokenQuotaMsg = "reach max api daily quota limit, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r"

// errmsg returns WeChat's message for code, or a generic one for codes the
// table does not know (an injected code still gets a plausible message).
func errmsg(code int) string {
	if m, ok := errmsgs[code]; ok {
		return m
	}
	return "sandbox injected error"
}

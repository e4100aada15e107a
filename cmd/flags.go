package cmd

// Flag and environment variable names, written once. Scripts depend on them.
const (
	flgConfig    = "config"
	flgDB        = "db"
	flgAccount   = "account"
	flgLogFormat = "log-format"
	flgQuiet     = "quiet"
	flgVerbose   = "verbose"
	flgVersion   = "version"

	flgTemplate    = "template"
	flgUsers       = "users"
	flgBatch       = "batch"
	flgRate        = "rate"
	flgConcurrency = "concurrency"
	flgDryRun      = "dry-run"
	flgPreview     = "preview"
	flgSandbox     = "sandbox"
	flgMaxErrors   = "max-errors"
	flgYes         = "yes"
	flgResume      = "resume"
	flgRetryUnk    = "retry-unknown"
	flgEncoding    = "encoding"
	flgOpenIDCheck = "openid-check"
	flgNotAfter    = "not-after"
	flgReqTimeout  = "request-timeout"
	flgAudience    = "audience"
	flgSet         = "set"

	flgFormat  = "format"
	flgFailed  = "failed"
	flgOutput  = "output"
	flgBOM     = "bom"
	flgJSON    = "json"
	flgErrcode = "errcode"
	flgUnknown = "unknown"
	flgOffline = "offline"

	flgFull      = "full"
	flgOlderThan = "older-than"
	flgState     = "state"

	envAppID     = "MEGASEND_APP_ID"
	envAppSecret = "MEGASEND_APP_SECRET"
	envAPIBase   = "MEGASEND_API_BASE"
	envDB        = "MEGASEND_DB"
	envConfig    = "MEGASEND_CONFIG"
	envAccount   = "MEGASEND_ACCOUNT"

	envCallbackToken  = "MEGASEND_CALLBACK_TOKEN"
	envEncodingAESKey = "MEGASEND_ENCODING_AES_KEY"
)

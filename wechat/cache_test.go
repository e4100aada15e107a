package wechat_test

import (
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

// The SQLite store is the cache every megasend process on a machine shares.
var _ wechat.TokenCache = (*store.DB)(nil)

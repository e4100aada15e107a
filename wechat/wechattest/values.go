package wechattest

import (
	"slices"

	"github.com/megasend/megasend/template"
)

// firstInvalidValue returns the first data key, in sorted order so that
// answers are deterministic, whose value breaks the 2023 rule of its
// category type (thing1, phrase3 …); "" if none. Legacy keys (first,
// keyword1, remark) carry no rule. The rules belong to the template package,
// which megasend's linter also uses: the simulator must not drift from them.
func firstInvalidValue(data map[string]DataValue) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if template.CheckCategoryValue(k, data[k].Value) != nil {
			return k
		}
	}
	return ""
}

package wechattest

import (
	"net/http"
	"strings"
)

// TemplateInfo is one entry of get_all_private_template, as WeChat lists a
// template the account has added.
type TemplateInfo struct {
	TemplateID      string `json:"template_id"`
	Title           string `json:"title"`
	PrimaryIndustry string `json:"primary_industry"`
	DeputyIndustry  string `json:"deputy_industry"`
	// Content uses WeChat's placeholders, {{key.DATA}}, one per line.
	Content string `json:"content"`
	// Example is the same content filled with sample values.
	Example string `json:"example"`
}

// Keys returns the data keys the template's Content names, in order: for
// "{{first.DATA}}\n商品名称：{{keyword1.DATA}}" that is first, keyword1.
func (t TemplateInfo) Keys() []string {
	var keys []string
	rest := t.Content
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return keys
		}
		rest = rest[i+2:]
		j := strings.Index(rest, ".DATA}}")
		if j < 0 {
			return keys
		}
		keys = append(keys, rest[:j])
		rest = rest[j+len(".DATA}}"):]
	}
}

// DefaultTemplates returns the templates every Sim has, whatever its
// Options: three legacy industry templates (first, keyword1-3, remark) and
// one 2023 category template whose keys carry value rules (thing1,
// character_string2, phrase3, time4, amount5). They match the examples in
// the repository's testdata/templates. Each call returns a fresh slice.
func DefaultTemplates() []TemplateInfo {
	return []TemplateInfo{
		{
			TemplateID:      "mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g",
			Title:           "购买成功通知",
			PrimaryIndustry: "IT科技",
			DeputyIndustry:  "互联网|电子商务",
			Content:         "{{first.DATA}}\n商品名称：{{keyword1.DATA}}\n商品价格：{{keyword2.DATA}}\n购买时间：{{keyword3.DATA}}\n{{remark.DATA}}",
			Example:         "您好，您已购买成功。\n商品名称：巧克力\n商品价格：39.8元\n购买时间：2014年9月22日\n欢迎再次购买！",
		},
		{
			TemplateID:      "GoZCXKuVmkkHW5tqGN2Gz4Ldu3SnTGbKdHRoE63hkeQ",
			Title:           "订单派单通知",
			PrimaryIndustry: "IT科技",
			DeputyIndustry:  "互联网|电子商务",
			Content:         "{{first.DATA}}\n订单编号：{{keyword1.DATA}}\n客户：{{keyword2.DATA}}\n派单时间：{{keyword3.DATA}}\n{{remark.DATA}}",
			Example:         "您有一个新的派单。\n订单编号：DD20240501001\n客户：张三\n派单时间：2024-05-01 09:30\n请尽快处理。",
		},
		{
			TemplateID:      "Rtz3kmn62SXVVZcKaziMoVmmsNY0OZy866RXTkWB94g",
			Title:           "审核待处理提醒",
			PrimaryIndustry: "IT科技",
			DeputyIndustry:  "互联网|电子商务",
			Content:         "{{first.DATA}}\n申请人：{{keyword1.DATA}}\n申请类型：{{keyword2.DATA}}\n提交时间：{{keyword3.DATA}}\n{{remark.DATA}}",
			Example:         "您有一条待审核的申请。\n申请人：李四\n申请类型：报销\n提交时间：2024-05-01 14:00\n请及时审核。",
		},
		{
			TemplateID:      "C3rh1zIuKAsqcJ5uMMsN8JqgRqTVtEm0WISFx__z9fg",
			Title:           "订单发货通知",
			PrimaryIndustry: "IT科技",
			DeputyIndustry:  "互联网|电子商务",
			Content:         "商品名称：{{thing1.DATA}}\n订单号：{{character_string2.DATA}}\n状态：{{phrase3.DATA}}\n发货时间：{{time4.DATA}}\n金额：{{amount5.DATA}}",
			Example:         "商品名称：巧克力\n订单号：OD20240501001\n状态：已发货\n发货时间：2024年5月1日 15:01\n金额：¥39.80",
		},
	}
}

// extraTemplate is the list entry for an id registered through
// Options.TemplateIDs. The sandbox does not know its keys, so Content is
// empty; a linter should treat that as "keys unknown", not "no keys".
func extraTemplate(id string) TemplateInfo {
	return TemplateInfo{
		TemplateID:      id,
		Title:           "沙箱模板",
		PrimaryIndustry: "IT科技",
		DeputyIndustry:  "互联网|电子商务",
	}
}

// templateKnown reports whether template/send accepts id.
func (s *Sim) templateKnown(id string) bool {
	_, ok := s.templates[id]
	return ok || s.anyTemplate
}

// templateList is the success body of get_all_private_template.
type templateList struct {
	TemplateList []TemplateInfo `json:"template_list"`
}

// serveTemplates is GET /cgi-bin/template/get_all_private_template: the
// defaults first, in their order, then the registered extra ids.
func (s *Sim) serveTemplates(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	list := DefaultTemplates()
	seen := make(map[string]bool, len(list))
	for _, t := range list {
		seen[t.TemplateID] = true
	}
	for _, id := range s.opts.TemplateIDs {
		if t, ok := s.templates[id]; ok && !seen[id] {
			seen[id] = true
			list = append(list, t)
		}
	}
	writeJSON(w, templateList{TemplateList: list})
}

package wechat

import (
	"context"
	"fmt"
	"net/http"
)

// MaxClientMsgID is the longest client_msg_id WeChat takes, in bytes.
const MaxClientMsgID = 64

// TemplateMessage is the body of message/template/send.
type TemplateMessage struct {
	ToUser      string               `json:"touser"`
	TemplateID  string               `json:"template_id"`
	URL         string               `json:"url,omitempty"`
	MiniProgram *MiniProgram         `json:"miniprogram,omitempty"`
	ClientMsgID string               `json:"client_msg_id,omitempty"`
	Data        map[string]DataValue `json:"data"`
}

// MiniProgram is the mini program a template message opens.
type MiniProgram struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath"`
}

// DataValue is one keyword of a template message. WeChat has ignored Color
// since 2023-05-04.
type DataValue struct {
	Value string `json:"value"`
	Color string `json:"color,omitempty"`
}

// SendTemplate sends msg and returns WeChat's msgid. Success means WeChat
// accepted the message, not that it was delivered.
func (c *Client) SendTemplate(ctx context.Context, msg *TemplateMessage) (int64, error) {
	if len(msg.ClientMsgID) > MaxClientMsgID {
		return 0, fmt.Errorf("client_msg_id longer than %d bytes", MaxClientMsgID)
	}
	body, err := postJSON(msg)
	if err != nil {
		return 0, fmt.Errorf("encode template message: %w", err)
	}
	return c.SendTemplateBody(ctx, body)
}

// SendTemplateBody sends an already encoded template message body (as the
// template package renders it, without HTML escaping) and returns the msgid.
// Errors are *APIError or *RequestError; see ClassOf and IsAmbiguous.
func (c *Client) SendTemplateBody(ctx context.Context, body []byte) (int64, error) {
	var r sendAnswer
	err := c.withToken(ctx, func(tok string) error {
		r.MsgID = 0
		return c.do(ctx, "message/template/send", http.MethodPost, "/cgi-bin/message/template/send",
			tokenQuery(tok), body, &r)
	})
	if err != nil {
		return 0, err
	}
	return r.MsgID, nil
}

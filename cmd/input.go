package cmd

import (
	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/recipient"
)

// openIDCheckFlag is --openid-check, for campaign and template lint.
func openIDCheckFlag(dest *string) cli.Flag {
	return &cli.StringFlag{Name: flgOpenIDCheck, Destination: dest,
		Usage:       "`MODE` of the openid check: strict (WeChat's 28 characters of A-Z a-z 0-9 _ -) or loose (1 to 64 of them, for an account whose openids differ)",
		DefaultText: "the account's openid_check, else strict",
		Action: func(_ *cli.Context, v string) error {
			_, err := parseOpenIDCheck(v)
			return err
		},
	}
}

// parseOpenIDCheck reads --openid-check, refusing an unknown value as a
// usage error.
func parseOpenIDCheck(v string) (recipient.OpenIDCheck, error) {
	ids, err := recipient.ParseOpenIDCheck(v)
	if err != nil {
		return ids, usageErrorf("--%s: %w", flgOpenIDCheck, err)
	}
	return ids, nil
}

// input is how this campaign reads its users file: --encoding, and
// --openid-check, which defaults to the account's openid_check. An
// unknown --openid-check was refused when the flag was parsed.
func (o campaignOptions) input() campaign.Input {
	ids, _ := recipient.ParseOpenIDCheck(o.openidCheck)
	return campaign.Input{Encoding: o.encoding, OpenIDs: ids}
}

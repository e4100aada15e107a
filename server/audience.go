package server

import (
	"github.com/megasend/megasend/campaign"
)

// audience is a JSON batch's "audience" and "set" as the lifecycle takes
// them: paged in the request, before its 201, through the account's
// client, so that the answer says how many recipients the batch has (and
// a refused request, an unknown tag among them, records nothing). With
// "recipients" too, src (the spooled recipients) is restricted to the
// audience.
func (s *Server) audience(account string, u *upload, src campaign.Source) (*campaign.AudienceSource, error) {
	a, err := campaign.ParseAudience(u.Audience)
	if err != nil {
		return nil, err
	}
	if err := campaign.SharedVars(u.Set); err != nil {
		return nil, err
	}
	f := s.accounts[account].Followers
	if f == nil {
		return nil, invalid("audience", "this server pages no followers for account "+account)
	}
	au := &campaign.AudienceSource{Audience: a, Set: u.Set, Followers: f}
	if u.rows > 0 {
		au.Users = &src
	}
	return au, nil
}

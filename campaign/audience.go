package campaign

// Batches whose recipients are the account's followers, or a tag's.
//
// The audience is paged from WeChat (user/get or user/tag/get, 10,000 a
// page) and snapshotted into the batch during the import, like the rows
// of a file: the batch is "importing", and so not sendable, until the last
// page is in. A resume sends to the snapshot, whoever follows by then; an
// import a killed run left half done is paged again from the start (the
// store's importer restarts an import from scratch), exactly as an
// interrupted file import is read again.
//
// The same-content rule. A batch records its audience as its source: the
// audience (every follower, or a tag by id), the --set variables, and,
// with --users, the users file's sha256. The same batch name with the same
// audience, variables and template continues the batch: a complete
// snapshot is not paged again, so a re-run cron line finishes the batch it
// started and reaches nobody who followed since (a new batch name does). A
// different audience or different variables under the same name is a
// Conflict. The followers themselves are not part of the identity: they
// are what the snapshot froze.

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// Followers pages an account's followers: *wechat.Client.
type Followers interface {
	FollowersPage(ctx context.Context, next string) (wechat.FollowerPage, error)
	TagFollowersPage(ctx context.Context, tagID int, next string) (wechat.FollowerPage, error)
	Tags(ctx context.Context) ([]wechat.Tag, error)
}

// AudienceSource is a batch's recipients taken from the account's
// followers, each with the same variables.
type AudienceSource struct {
	Audience Audience
	// Set is the variables every recipient shares (ParseSet).
	Set []recipient.Var
	// Users, if set, is a recipient file restricted to the audience: its
	// rows whose openid is not in it are left out (Imported.Outside).
	// A row must not have a variable Set gives too.
	Users *Source
	// Followers pages the audience: the account's WeChat client.
	Followers Followers
	// Paged, if set, is called after every page with how many openids
	// were paged so far and how many the audience has (WeChat's count, 0
	// when it gave none).
	Paged func(paged, total int64)
}

// audiencePathPrefix starts a batch's SourcePath when its source is an
// audience; the rest is the audienceRecord's JSON.
const audiencePathPrefix = "audience:"

// IsAudienceSource reports whether a batch's recorded source path is an
// audience's rather than a file's.
func IsAudienceSource(path string) bool { return strings.HasPrefix(path, audiencePathPrefix) }

// audienceRecord is what the ledger keeps of an audience, in the batch's
// source path: enough to page it again after an interrupted import.
type audienceRecord struct {
	// Audience is "followers" or "tag:ID": a tag by its id, which a
	// rename does not change.
	Audience string `json:"audience"`
	TagName  string `json:"tag_name,omitempty"`
	// Count is the tag's size when the batch was made, for progress.
	Count int64 `json:"count,omitempty"`
	// Set is the shared variables; JSON writes a map's keys sorted, so
	// the record is canonical.
	Set map[string]string `json:"set,omitempty"`
	// Users and UsersHash are the file restricted to the audience.
	Users     string `json:"users,omitempty"`
	UsersHash string `json:"users_sha256,omitempty"`
}

// tagID returns the record's tag id, 0 for every follower.
func (r audienceRecord) tagID() int {
	var id int
	if s, ok := strings.CutPrefix(r.Audience, "tag:"); ok {
		fmt.Sscanf(s, "%d", &id)
	}
	return id
}

// label is how messages name the record's audience.
func (r audienceRecord) label() string {
	if r.TagName != "" {
		return fmt.Sprintf("%s (%s)", r.Audience, r.TagName)
	}
	return r.Audience
}

// vars returns the shared variables in the record's (sorted) order: the
// order every recipient's variables are stored in, on every import.
func (r audienceRecord) vars() []recipient.Var {
	vars := make([]recipient.Var, 0, len(r.Set))
	for k, v := range r.Set {
		vars = append(vars, recipient.Var{Name: k, Value: v})
	}
	slices.SortFunc(vars, func(a, b recipient.Var) int { return cmp.Compare(a.Name, b.Name) })
	return vars
}

// source is the record as a batch's Source: its path holds the record, its
// hash what identifies it (not the tag's name or size, nor where the users
// file lies: only its content).
func (r audienceRecord) source() Source {
	path, _ := json.Marshal(r)
	id := r
	id.TagName, id.Count, id.Users = "", 0, ""
	key, _ := json.Marshal(id)
	sum := sha256.Sum256(append([]byte("megasend audience v1\n"), key...))
	return Source{Name: "audience " + r.label(), Path: audiencePathPrefix + string(path), Hash: hex.EncodeToString(sum[:])}
}

// parseAudienceRecord reads a batch's source path back.
func parseAudienceRecord(path string) (audienceRecord, error) {
	var r audienceRecord
	s, ok := strings.CutPrefix(path, audiencePathPrefix)
	if !ok {
		return r, fmt.Errorf("source %q is not an audience", path)
	}
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return r, fmt.Errorf("audience source %q: %w", path, err)
	}
	return r, nil
}

// DescribeSource is how a report names a batch's source: the file's path,
// or the audience with its shared variables.
func DescribeSource(path string) string {
	r, err := parseAudienceRecord(path)
	if err != nil {
		return path
	}
	s := r.label()
	for _, v := range r.vars() {
		s += fmt.Sprintf(" --set %s=%s", v.Name, v.Value)
	}
	if r.Users != "" {
		s += " ∩ " + r.Users
	}
	return s
}

// resolveAudience settles which followers au means (a tag's id, from
// tags/get) and makes its record. An unknown tag is Invalid, naming the
// account's tags.
func resolveAudience(ctx context.Context, au *AudienceSource) (audienceRecord, error) {
	rec := audienceRecord{Audience: "followers"}
	if len(au.Set) > 0 {
		rec.Set = make(map[string]string, len(au.Set))
		for _, v := range au.Set {
			rec.Set[v.Name] = v.Value
		}
	}
	if au.Users != nil {
		rec.Users, rec.UsersHash = au.Users.Path, au.Users.Hash
	}
	if au.Audience.Followers() {
		return rec, nil
	}
	tags, err := au.Followers.Tags(ctx)
	if err != nil {
		return rec, &Error{Code: Unavailable, Field: "audience", Err: err,
			Msg: fmt.Sprintf("audience %s: listing the account's tags: %v; nothing was sent", au.Audience, err)}
	}
	tag, ok := wechat.LookupTag(tags, au.Audience.Tag)
	if !ok {
		var have []string
		for _, t := range tags {
			have = append(have, fmt.Sprintf("%s (id %d, %d followers)", t.Name, t.ID, t.Count))
		}
		known := "the account has no tags"
		if len(have) > 0 {
			known = "the account's tags: " + strings.Join(have, ", ")
		}
		return rec, &Error{Code: Invalid, Field: "audience",
			Msg: fmt.Sprintf("audience %s: no tag with that name or id; %s", au.Audience, known)}
	}
	rec.Audience, rec.TagName, rec.Count = fmt.Sprintf("tag:%d", tag.ID), tag.Name, tag.Count
	return rec, nil
}

// sampleOpenID stands for a follower when the shared variables are checked
// before any follower is paged: the value rules look at its shape only.
const sampleOpenID = "oAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// checkSet checks, before anything is paged or recorded, that the shared
// variables cover every variable the template needs and that their values
// pass its rules: with an audience alone they are all a recipient has
// besides its openid. Problems are named after --set.
func checkSet(t *template.Template, set []recipient.Var) error {
	c := newChecker(t, "--set", 0)
	row := recipient.Row{OpenID: sampleOpenID, Vars: set}
	for _, name := range c.required {
		if _, ok := row.Lookup(name); !ok {
			c.errs.AddAt(c.file, 0, name, fmt.Sprintf("template %s needs %s, and every recipient of an audience shares it: give --set %s=VALUE",
				c.name, name, name))
		}
	}
	if c.errs.Count == 0 {
		c.check(row)
	}
	if c.errs.Count > 0 {
		return inputError("--set", &c.errs)
	}
	return nil
}

// pageRetries is how often one page is asked again after a transient,
// token or rate error before the import gives up.
const pageRetries = 4

// pageAudience pages the audience rec names and calls add for every openid
// in order. It stops at an empty page, an empty next_openid or a
// next_openid it has seen before (which would page forever). It returns
// how many openids it paged.
func pageAudience(ctx context.Context, f Followers, rec audienceRecord, paged func(int64, int64), add func(string) error) (int64, error) {
	tagID := rec.tagID()
	total := rec.Count
	seen := map[string]bool{}
	var n int64
	next := ""
	for {
		p, err := fetchPage(ctx, f, tagID, next)
		if err != nil {
			return n, err
		}
		if tagID == 0 && p.Total > 0 {
			total = p.Total
		}
		for _, id := range p.OpenIDs {
			if id == "" {
				continue
			}
			n++
			if err := add(id); err != nil {
				return n, err
			}
		}
		if paged != nil {
			paged(n, max(total, n))
		}
		if len(p.OpenIDs) == 0 || p.NextOpenID == "" || seen[p.NextOpenID] {
			return n, nil
		}
		seen[p.NextOpenID] = true
		next = p.NextOpenID
	}
}

// fetchPage asks for one page, again after a retryable error (a busy
// WeChat, a dropped connection), with a growing pause.
func fetchPage(ctx context.Context, f Followers, tagID int, next string) (wechat.FollowerPage, error) {
	wait := 500 * time.Millisecond
	for try := 0; ; try++ {
		var p wechat.FollowerPage
		var err error
		if tagID == 0 {
			p, err = f.FollowersPage(ctx, next)
		} else {
			p, err = f.TagFollowersPage(ctx, tagID, next)
		}
		if err == nil || ctx.Err() != nil || try == pageRetries || !wechat.IsRetryable(err) {
			return p, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return p, err
		case <-t.C:
		}
		wait *= 2
	}
}

// pagingError is a failure to page the audience that is not the request's
// fault: nothing was sent.
func pagingError(rec audienceRecord, err error) error {
	return &Error{Code: Unavailable, Field: "audience", Err: err,
		Msg: fmt.Sprintf("paging audience %s: %v; nothing was sent", rec.label(), err)}
}

// importAudience snapshots the audience rec names into batch b: every
// openid, each with the shared variables, or, with a users file, that
// file's rows restricted to the audience. created says this request made
// b: a batch it made is deleted again when paging fails, one it continues
// stays importing for the next try. users is the users file as the
// request gave it; nil reads the recorded one again.
func (s *Service) importAudience(ctx context.Context, b store.Batch, t *template.Template, rec audienceRecord,
	f Followers, paged func(int64, int64), users *Source, in Input, preview int, created bool) (*Imported, error) {
	if f == nil {
		return nil, Errorf(Invalid, "batch %s: paging audience %s needs the account's WeChat client", b.Name, rec.label())
	}
	interrupted := func(imp *Imported) (*Imported, error) {
		return imp, &Error{Code: Stopped, Msg: fmt.Sprintf("batch %s: interrupted while paging audience %s", b.Name, rec.label()), Err: context.Cause(ctx)}
	}
	failed := func(imp *Imported, err error) (*Imported, error) {
		if created {
			if derr := s.db.DeleteBatch(context.WithoutCancel(ctx), b.ID); derr != nil {
				return imp, errors.Join(pagingError(rec, err), derr)
			}
		}
		return imp, pagingError(rec, err)
	}
	s.log.Info("paging audience", "batch", b.Name, "audience", rec.label())
	if rec.Users != "" {
		members := newOpenIDSet()
		if _, err := pageAudience(ctx, f, rec, paged, func(id string) error { members.add(id); return nil }); err != nil {
			if ctx.Err() != nil {
				return interrupted(nil)
			}
			return failed(nil, err)
		}
		if users == nil {
			if rec.Users == "-" {
				return nil, Errorf(Invalid, "batch %s was interrupted while importing recipients that cannot be read again; send the original request again", b.Name)
			}
			src, err := FileSource(rec.Users)
			if err != nil || src.Hash != rec.UsersHash {
				return nil, Errorf(Invalid, "batch %s: users file %s changed or is gone since the batch was made; start a new batch", b.Name, rec.Users)
			}
			users = &src
		}
		return s.importRows(ctx, b, t, *users, in, preview, rowFilter{set: rec.vars(), keep: members.has, audience: rec.label()})
	}

	im, err := s.db.NewImporter(ctx, b)
	if err != nil {
		return nil, err
	}
	set := rec.vars()
	vars := string(recipient.AppendVarsJSON(nil, set))
	imp := &Imported{Warnings: NewProblems(template.Warning)}
	_, err = pageAudience(ctx, f, rec, paged, func(id string) error {
		if len(imp.Previews) < preview {
			row := recipient.Row{OpenID: id, Vars: set}
			body, err := t.Render(nil, row.Lookup, "")
			if err != nil {
				return err
			}
			imp.Previews = append(imp.Previews, body)
		}
		line := imp.Rows + 1
		imp.Rows = line
		return im.Add(ctx, line, id, vars)
	})
	switch {
	case ctx.Err() != nil:
		im.Abort()
		return interrupted(imp)
	case err != nil:
		im.Abort()
		return failed(imp, err)
	case imp.Rows == 0:
		im.Abort()
		if derr := s.db.DeleteBatch(context.WithoutCancel(ctx), b.ID); derr != nil {
			return imp, derr
		}
		return imp, Errorf(Invalid, "audience %s has no followers: nothing to send", rec.label())
	}
	res, err := im.Finish(ctx)
	if err != nil && ctx.Err() != nil {
		return interrupted(imp)
	}
	if err != nil {
		return imp, err
	}
	imp.ImportResult = res
	return imp, nil
}

package cmd

// template import and export: templates as files, in the formats of
// template.ParseFile, one template per file.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/template"
)

// runTemplateImport parses every file before storing any, so a bad file
// leaves the store as it was.
func (a *app) runTemplateImport(ctx context.Context, paths []string) error {
	files, err := templateFiles(paths)
	if err != nil {
		return err
	}
	var ts []*template.Template
	from := map[string]string{} // key → file, to catch two files with one key
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return usageErrorf("template import: %w", err)
		}
		t, err := template.ParseFile(f, data)
		if err != nil {
			return usageErrorf("template import: %w", err)
		}
		if err := template.CheckKey(t.Key); err != nil {
			return usageErrorf("template import: %s: %w (set \"key\" in the file)", f, err)
		}
		if prev, dup := from[t.Key]; dup {
			return usageErrorf("template import: %s and %s both hold template %s", prev, f, t.Key)
		}
		from[t.Key] = f
		ts = append(ts, t)
	}
	svc, closeDB, err := a.templates(ctx, false)
	if err != nil {
		return err
	}
	defer closeDB()
	for _, t := range ts {
		old, err := svc.GetTemplate(ctx, t.Key)
		if err != nil && campaign.ErrorCode(err) != campaign.NotFound {
			return err
		}
		title := pickTitle("", false, t.Title, old.Title)
		saved, err := svc.SaveTemplate(ctx, t.Key, title, t.Kind, t.Body())
		if err != nil {
			return err
		}
		verb := "replaced" // as add says it
		if saved.Created {
			verb = "imported"
		}
		fmt.Fprintf(a.streams.Out, "%s template %s from %s\n", verb, t.Key, from[t.Key])
		a.printLint(t.Key, from[t.Key], t.Lint())
	}
	return nil
}

// templateFiles expands directories into their .json and .toml files.
func templateFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, usageErrorf("template import: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, usageErrorf("template import: %w", err)
		}
		n := len(files)
		for _, e := range entries {
			if !e.IsDir() && template.IsPath(e.Name()) {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
		if len(files) == n {
			return nil, usageErrorf("template import: %s has no .json or .toml files", p)
		}
	}
	return files, nil
}

// exportList is what export writes: the template called key, or every
// stored one. A missing database holds none, and is not created.
func (a *app) exportList(ctx context.Context, key string) ([]campaign.StoredTemplate, error) {
	svc, closeDB, err := a.templates(ctx, true)
	if _, ok := noStore(err); ok {
		if key != "" {
			return nil, errNoTemplate(key)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closeDB()
	if key == "" {
		return svc.ListTemplates(ctx)
	}
	st, err := getTemplate(ctx, svc, key)
	if err != nil {
		return nil, err
	}
	return []campaign.StoredTemplate{st}, nil
}

func (a *app) runTemplateExport(ctx context.Context, key, dir string) error {
	list, err := a.exportList(ctx, key)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(a.streams.Err, "no templates to export")
		return nil
	}
	if dir == "" {
		if len(list) > 1 {
			// Concatenated files would not import back: one file, one template.
			return usageErrorf("template export: %d templates; give a KEY for one on stdout, or --dir DIR for a file each", len(list))
		}
		st := list[0]
		_, err := a.streams.Out.Write(template.EncodeFile(st.Key, st.Title, template.Kind(st.Kind), st.Body))
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("template export: %w", err)
	}
	for _, st := range list {
		path := filepath.Join(dir, st.Key+".json")
		if err := os.WriteFile(path, template.EncodeFile(st.Key, st.Title, template.Kind(st.Kind), st.Body), 0o644); err != nil {
			return fmt.Errorf("template export: %w", err)
		}
		fmt.Fprintf(a.streams.Out, "exported template %s to %s\n", st.Key, path)
	}
	return nil
}

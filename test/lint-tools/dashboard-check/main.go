// dashboard-check validates Grafana dashboard JSON files against Grafana's own dashboard schema,
// as generated from Grafana's CUE kinds into the Grafana Foundation SDK: a strict decode (unknown
// fields, wrong types and missing required fields are errors; panel options are decoded by their
// panel type) followed by the schema's value constraints (gridPos within the 24-column grid, ...).
//
// Usage: dashboard-check FILE...   Prints one line per finding, exits 1 when any file has one.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// findings turns the SDK's result into nil when it holds none: its strict decoders return an
// empty cog.BuildErrors (a non-nil error value) on success.
func findings(err error) error {
	if errs, ok := err.(cog.BuildErrors); ok && len(errs) == 0 {
		return nil
	}
	return err
}

// checkPanels decodes and validates each panel itself: the SDK's panel union drops a panel that
// decoded cleanly (the empty-errors value above), so Dashboard.Validate never sees the panels.
func checkPanels(where string, raw []json.RawMessage) cog.BuildErrors {
	var errs cog.BuildErrors
	for i, one := range raw {
		path := where + "[" + strconv.Itoa(i) + "]"
		var head struct {
			Type   string            `json:"type"`
			Panels []json.RawMessage `json:"panels"`
		}
		if err := json.Unmarshal(one, &head); err != nil {
			errs = append(errs, cog.MakeBuildErrors(path, err)...)
			continue
		}
		var err error
		if head.Type == "row" {
			var row dashboard.RowPanel
			if err = findings(row.UnmarshalJSONStrict(one)); err == nil {
				err = findings(row.Validate())
			}
			errs = append(errs, checkPanels(path+".panels", head.Panels)...)
		} else {
			var panel dashboard.Panel
			if err = findings(panel.UnmarshalJSONStrict(one)); err == nil {
				err = findings(panel.Validate())
			}
		}
		if err != nil {
			errs = append(errs, cog.MakeBuildErrors(path, err)...)
		}
	}
	return errs
}

func check(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var board dashboard.Dashboard
	if err := findings(board.UnmarshalJSONStrict(raw)); err != nil {
		return err
	}
	if err := findings(board.Validate()); err != nil {
		return err
	}
	var panels struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(raw, &panels); err != nil {
		return err
	}
	if errs := checkPanels("panels", panels.Panels); len(errs) > 0 {
		return errs
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dashboard-check FILE...")
		os.Exit(2)
	}
	// Panel options are decoded by panel type only once the panel variants are registered.
	plugins.RegisterDefaultPlugins()
	failed := false
	for _, path := range os.Args[1:] {
		if err := check(path); err != nil {
			failed = true
			fmt.Printf("%s: %v\n", path, err)
		}
	}
	if failed {
		os.Exit(1)
	}
}

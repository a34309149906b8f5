//go:build tools

// Pins the linters that scripts/lint-tools.sh builds (test tooling, not product code).
package tools

import (
	_ "github.com/Comcast/scte35-go"
	_ "github.com/rhysd/actionlint/cmd/actionlint"
)

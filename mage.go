//go:build ignore

// Zero-install bootstrap for the Magefile: `go run mage.go <target>` works on
// a fresh clone without a globally installed mage binary.
package main

import (
	"os"

	"github.com/magefile/mage/mage"
)

func main() { os.Exit(mage.Main()) }

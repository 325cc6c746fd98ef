//go:build !race

package main

// raceBuild: this test binary, and so the soak server it runs, has no race
// detector.
const raceBuild = false

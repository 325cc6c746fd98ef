//go:build race

package main

// raceBuild: this test binary, and so the soak server it runs, has the race
// detector.
const raceBuild = true

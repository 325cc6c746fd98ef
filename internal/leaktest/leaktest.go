// Package leaktest checks that tests leave no goroutine behind, knowing the
// two that gnet starts at import and never ends.
package leaktest

import (
	"testing"

	"go.uber.org/goleak"
)

// gnetPool are the goroutines of the process-wide ants pool that importing
// gnet starts; they are gnet's, not an engine's, and never end.
var gnetPool = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
	goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
}

// VerifyTestMain runs the package's tests and fails it if any goroutine
// other than gnet's pool is left when they end.
func VerifyTestMain(m *testing.M) {
	goleak.VerifyTestMain(m, gnetPool...)
}

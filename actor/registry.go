package actor

import (
	protoactor "github.com/asynkron/protoactor-go/actor"
	cmap "github.com/orcaman/concurrent-map"
)

// registryBuckets is how many buckets (of 32 maps each) the process registry
// of an actor system made by NewSystem has. protoactor's default of 1,024 is
// 32,768 maps, 2.8 MB before any actor exists; and until there are tens of
// thousands of actors nearly each one lands in a map of its own, whose first
// entry costs a map group of 288 bytes: a third of an idle socket's memory
// at 10,000 connections. 8 buckets keep 256 locks, plenty for lookups,
// which are rare anyway (a PID caches its process), and fill each map's
// groups instead.
const registryBuckets = 8

// resizeRegistry gives pr a SliceMap of buckets buckets holding the entries
// it has. Nothing else may use the registry meanwhile: NewSystem calls it
// before the actor system is shared.
func resizeRegistry(pr *protoactor.ProcessRegistryValue, buckets int) {
	sm := &protoactor.SliceMap{LocalPIDs: make([]cmap.ConcurrentMap, buckets)}
	for i := range sm.LocalPIDs {
		sm.LocalPIDs[i] = cmap.New()
	}
	for _, m := range pr.LocalPIDs.LocalPIDs {
		m.IterCb(func(id string, p any) { sm.GetBucket(id).Set(id, p) })
	}
	pr.LocalPIDs = sm
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it is
// 100 on every Linux this suite targets.
const clockTick = 100

// cpuTimes is a process's CPU time split as /proc reports it.
type cpuTimes struct{ user, sys time.Duration }

func (c cpuTimes) total() time.Duration { return c.user + c.sys }

func (c cpuTimes) sub(d cpuTimes) cpuTimes { return cpuTimes{c.user - d.user, c.sys - d.sys} }

// sysShare is the kernel's share of c.
func (c cpuTimes) sysShare() float64 {
	if t := c.total(); t > 0 {
		return float64(c.sys) / float64(t)
	}
	return 0
}

// cpuTime reads a process's user and system CPU time from /proc/PID/stat.
func cpuTime(pid int) (cpuTimes, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuTimes{}, err
	}
	// The command name (field 2) may contain spaces; fields after it are
	// counted from the closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return cpuTimes{}, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return cpuTimes{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return cpuTimes{}, fmt.Errorf("bad cpu fields in /proc/%d/stat", pid)
	}
	return cpuTimes{
		user: time.Duration(utime) * time.Second / clockTick,
		sys:  time.Duration(stime) * time.Second / clockTick,
	}, nil
}

// startProfile starts a CPU profile written to path; call the result to stop.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile writes the live heap, after a collection, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profileDir, set by -profile, is where servers write CPU profiles.
var profileDir string

// profilePath names the profile of one server run, or "" when profiling is off.
func profilePath(kind, scenario string, round int) string {
	if profileDir == "" {
		return ""
	}
	return filepath.Join(profileDir, fmt.Sprintf("%s-%s-%d.pprof", fileSafe(kind), fileSafe(scenario), round+1))
}

// fileSafe is s with every run of characters other than ASCII letters and
// digits turned into one '-': "f: 256 B to 100 conns" is "f-256-B-to-100-conns".
func fileSafe(s string) string {
	return strings.Trim(notFileSafe.ReplaceAllString(s, "-"), "-")
}

var notFileSafe = regexp.MustCompile("[^A-Za-z0-9]+")

// pinSelf binds every thread of this process, and so the threads they
// start, to the CPUs listed ("0", "1-3"): the -pin layout keeps the server
// and the load generator off each other's cores, which steadies CPU per
// message on a small machine.
func pinSelf(cpus string) error {
	var set unix.CPUSet
	for _, part := range strings.Split(cpus, ",") {
		lo, hi, found := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return fmt.Errorf("bad CPU list %q", cpus)
		}
		b := a
		if found {
			if b, err = strconv.Atoi(hi); err != nil {
				return fmt.Errorf("bad CPU list %q", cpus)
			}
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return os.NewSyscallError("sched_setaffinity", err)
		}
	}
	return nil
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it is
// 100 on every Linux this suite targets.
const clockTick = 100

// cpuTimes is a process's CPU time split as /proc reports it.
type cpuTimes struct{ user, sys time.Duration }

func (c cpuTimes) total() time.Duration { return c.user + c.sys }

func (c cpuTimes) sub(d cpuTimes) cpuTimes { return cpuTimes{c.user - d.user, c.sys - d.sys} }

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

// profileDir, set by -profile, is where servers write CPU profiles.
var profileDir string

// profilePath names the profile of one server run, or "" when profiling is off.
func profilePath(kind, scenario string, round int) string {
	if profileDir == "" {
		return ""
	}
	return filepath.Join(profileDir, fmt.Sprintf("%s-%s-%d.pprof", kind, scenario[:1], round+1))
}

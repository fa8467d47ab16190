package main

import "syscall"

// childAttr makes executors die with this process even when it cannot
// clean up (a panic in another goroutine, SIGKILL). Linux sends the signal
// when the thread that started the child ends: see startChild.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

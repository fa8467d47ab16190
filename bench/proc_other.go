//go:build !linux

package main

import "syscall"

// childAttr: only Linux can tie a child's life to its parent's; elsewhere
// executors are killed by the harness's own clean-up and signal handler.
func childAttr() *syscall.SysProcAttr { return nil }

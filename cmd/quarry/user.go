package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/coordinator"
)

const userUsage = `usage: quarry user add --data-dir D --name N [--method scram-sha-256|password] < password
       quarry user drop --data-dir D --name N

Users log in to the PostgreSQL wire door when it runs with --auth scram. The
password is read from the first line of standard input; only its SCRAM-SHA-256
verifier is stored. Run this while no server holds the catalog folder.
`

// user manages the login users kept in a catalog.
func user(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(os.Stderr, userUsage)
		return flag.ErrHelp
	}
	verb := args[0]
	fs := flag.NewFlagSet("quarry user "+verb, flag.ContinueOnError)
	dataDir := fs.String("data-dir", coordinator.DefaultDataDir, "folder holding the catalog")
	name := fs.String("name", "", "user name")
	method := fs.String("method", catalog.MethodSCRAM, "how the user logs in: scram-sha-256, or password (cleartext, for old drivers)")
	fs.Bool("password-stdin", true, "read the password from standard input (always the case)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	cat, err := catalog.Open(*dataDir)
	if err != nil {
		return err
	}
	defer cat.Close()
	switch verb {
	case "add":
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(os.Stderr, "Password (echoed): ")
		}
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		u, err := catalog.NewUser(*name, strings.TrimRight(line, "\r\n"), *method)
		if err != nil {
			return err
		}
		if err := cat.PutUser(u); err != nil {
			return err
		}
		fmt.Printf("user %s saved (%s)\n", u.Name, u.Method)
	case "drop":
		found, err := cat.DropUser(*name)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("no user %q", *name)
		}
		fmt.Printf("user %s dropped\n", *name)
	default:
		fmt.Fprint(os.Stderr, userUsage)
		return flag.ErrHelp
	}
	return nil
}

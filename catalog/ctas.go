package catalog

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// TableLocation resolves where CREATE TABLE name AS … writes: the folder
// for a new Parquet dataset inside a source (ok), or, when the name does
// not reach a source (an unqualified name without a source as default
// schema, or mem.x), ok is false and the table is made in memory.
func (c *Catalog) TableLocation(name []string, defaultSchema string) (dir string, ok bool, err error) {
	full := name
	if len(name) == 1 && defaultSchema != "" {
		full = append(strings.Split(defaultSchema, "."), name...)
	}
	if len(full) < 2 || strings.EqualFold(full[0], MemSource) {
		return "", false, nil
	}
	src, found, err := c.source(full[0])
	if err != nil {
		return "", false, err
	}
	if !found {
		if len(name) == 1 {
			return "", false, nil
		}
		return "", false, sqlerr.New(sqlerr.InvalidSchemaName, "source %q does not exist", full[0])
	}
	for _, p := range full[1:] {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, `/\`) || strings.HasPrefix(p, ".") {
			return "", false, sqlerr.New(sqlerr.InvalidName, "invalid table name %q", p)
		}
	}
	dir = filepath.Join(append([]string{src.Path}, full[1:]...)...)
	for _, p := range []string{dir, dir + ".parquet"} {
		if _, err := os.Stat(p); err == nil {
			return "", false, sqlerr.New(sqlerr.DuplicateTable, "table %q already exists", strings.Join(full, "."))
		}
	}
	return dir, true, nil
}

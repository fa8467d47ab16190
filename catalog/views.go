package catalog

import (
	"encoding/json"
	"strings"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	bolt "go.etcd.io/bbolt"
)

// View is a named query, stored as its SQL text and bound anew on every use.
type View struct {
	Path    []string
	SQL     string
	Columns []string // optional column names (CREATE VIEW v (a, b) AS …)
}

func viewKey(path []string) []byte {
	return []byte(strings.ToLower(strings.Join(path, "\x1f")))
}

// CreateView stores a view under path. An existing view is replaced only
// with orReplace; a dataset of the same name makes it fail.
func (c *Catalog) CreateView(v View, orReplace bool) error {
	if err := c.checkOpen(); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return sqlerr.Wrap(sqlerr.InternalError, err, "encode view")
	}
	name := strings.Join(v.Path, ".")
	return c.viewUpdate(func(b *bolt.Bucket) error {
		if b.Get(viewKey(v.Path)) != nil && !orReplace {
			return sqlerr.New(sqlerr.DuplicateTable, "view %q already exists", name)
		}
		return b.Put(viewKey(v.Path), data)
	})
}

// DropView removes a view.
func (c *Catalog) DropView(path []string, defaultSchema string, ifExists bool) error {
	if err := c.checkOpen(); err != nil {
		return err
	}
	v, ok, err := c.LookupView(path, defaultSchema)
	if err != nil {
		return err
	}
	if !ok {
		if ifExists {
			return nil
		}
		return sqlerr.New(sqlerr.UndefinedTable, "view %q does not exist", strings.Join(path, "."))
	}
	return c.viewUpdate(func(b *bolt.Bucket) error { return b.Delete(viewKey(v.Path)) })
}

func (c *Catalog) viewUpdate(fn func(b *bolt.Bucket) error) error {
	err := c.db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketViews)) })
	c.names.Add(1)
	if _, ok := err.(*sqlerr.Error); ok || err == nil {
		return err
	}
	return sqlerr.Wrap(sqlerr.IOError, err, "cannot save view")
}

// LookupView finds a view by name: as written, then under the default
// schema.
func (c *Catalog) LookupView(path []string, defaultSchema string) (*View, bool, error) {
	if err := c.checkOpen(); err != nil {
		return nil, false, err
	}
	candidates := [][]string{path}
	if defaultSchema != "" {
		candidates = append([][]string{append(strings.Split(defaultSchema, "."), path...)}, candidates...)
	}
	var out *View
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketViews)
		for _, p := range candidates {
			if data := b.Get(viewKey(p)); data != nil {
				var v View
				if err := json.Unmarshal(data, &v); err != nil {
					return sqlerr.Wrap(sqlerr.DataCorrupted, err, "view %q is damaged", strings.Join(p, "."))
				}
				out = &v
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, out != nil, nil
}

// Views lists every view.
func (c *Catalog) Views() ([]View, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	var out []View
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketViews).ForEach(func(_, data []byte) error {
			var v View
			if err := json.Unmarshal(data, &v); err != nil {
				return err
			}
			out = append(out, v)
			return nil
		})
	})
	return out, err
}

package catalog

import (
	"context"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// Layout of a source folder:
//   - a Parquet file (*.parquet, *.parq) is a dataset named by its file name
//     without the extension (or with it);
//   - a folder holding Parquet files, directly or under Hive-style key=value
//     folders, is a dataset named by the folder; the key=value levels are its
//     partition columns;
//   - every folder that is not a key=value level is also a namespace: the
//     datasets inside it are named source.folder….table. So a folder of
//     Parquet files with different schemas (tpch/lineitem.parquet,
//     tpch/orders.parquet) is used as tpch.lineitem, while a folder of parts
//     of one table (events/part-0.parquet, …) is used as events.
//
// Names starting with "." or "_" (_SUCCESS, .crc, _metadata, …) are ignored.

func isParquetName(n string) bool {
	ext := strings.ToLower(filepath.Ext(n))
	return ext == ".parquet" || ext == ".parq"
}

func stripParquetExt(n string) string {
	if isParquetName(n) {
		return n[:len(n)-len(filepath.Ext(n))]
	}
	return n
}

func ignoredName(n string) bool { return strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") }

// partitionDir reports whether a folder name is a Hive partition level.
func partitionDir(n string) (key, val string, ok bool) {
	k, v, found := strings.Cut(n, "=")
	if !found || k == "" {
		return "", "", false
	}
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	if u, err := url.PathUnescape(k); err == nil {
		k = u
	}
	return k, v, true
}

// entryType resolves a directory entry to dir/regular file, following
// symbolic links.
func entryType(dir string, e fs.DirEntry) (isDir, isFile bool) {
	t := e.Type()
	if t&fs.ModeSymlink != 0 {
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			return false, false
		}
		return fi.IsDir(), fi.Mode().IsRegular()
	}
	return t.IsDir(), t.IsRegular()
}

func readDir(dir string) ([]fs.DirEntry, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, sqlerr.Wrap(sqlerr.IOError, err, "cannot list folder %q", dir)
	}
	return ents, nil
}

// isDatasetDir reports whether dir holds Parquet files directly or under
// key=value folders.
func isDatasetDir(ctx context.Context, dir string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ents, err := readDir(dir)
	if err != nil {
		return false, err
	}
	var parts []string
	for _, e := range ents {
		n := e.Name()
		if ignoredName(n) {
			continue
		}
		isDir, isFile := entryType(dir, e)
		if isFile && isParquetName(n) {
			return true, nil
		}
		if _, _, ok := partitionDir(n); ok && isDir {
			parts = append(parts, n)
		}
	}
	for _, p := range parts {
		ok, err := isDatasetDir(ctx, filepath.Join(dir, p))
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// fileRef is one Parquet file found in a dataset's location.
type fileRef struct {
	path  string
	size  int64
	mod   time.Time
	parts [][2]string // key=value levels between the dataset folder and the file
}

func statRef(path string) (fileRef, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileRef{}, err
	}
	return fileRef{path: path, size: fi.Size(), mod: fi.ModTime()}, nil
}

// listDatasetFiles lists the Parquet files of a folder dataset, sorted by
// path.
func listDatasetFiles(ctx context.Context, dir string) ([]fileRef, error) {
	var out []fileRef
	var walk func(dir string, parts [][2]string) error
	walk = func(dir string, parts [][2]string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ents, err := readDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			n := e.Name()
			if ignoredName(n) {
				continue
			}
			isDir, isFile := entryType(dir, e)
			p := filepath.Join(dir, n)
			switch {
			case isFile && isParquetName(n):
				ref, err := statRef(p)
				if err != nil {
					if os.IsNotExist(err) {
						continue // deleted while listing
					}
					return sqlerr.Wrap(sqlerr.IOError, err, "cannot stat %q", p)
				}
				ref.parts = parts
				out = append(out, ref)
			case isDir:
				if k, v, ok := partitionDir(n); ok {
					sub := append(parts[:len(parts):len(parts)], [2]string{k, v})
					if err := walk(p, sub); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := walk(dir, nil); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// location is where a resolved dataset lives.
type location struct {
	path  string
	isDir bool
	qual  []string // qualified name as spelled on disk: source, folders…, table
}

// resolvePath finds the dataset named by parts (folders…, table) under the
// source folder root. It returns nil when there is no such dataset.
func resolvePath(ctx context.Context, src Source, parts []string) (*location, error) {
	cur := src.Path
	qual := []string{src.Name}
	for _, folder := range parts[:len(parts)-1] {
		ents, err := readDir(cur)
		if err != nil {
			if os.IsNotExist(errUnwrap(err)) {
				return nil, nil
			}
			return nil, err
		}
		var found string
		for _, e := range ents {
			n := e.Name()
			if ignoredName(n) || !strings.EqualFold(n, folder) {
				continue
			}
			if isDir, _ := entryType(cur, e); !isDir {
				continue
			}
			if _, _, part := partitionDir(n); part {
				continue
			}
			if found == "" || n == folder {
				found = n
			}
		}
		if found == "" {
			return nil, nil
		}
		cur = filepath.Join(cur, found)
		qual = append(qual, found)
	}
	table := parts[len(parts)-1]
	ents, err := readDir(cur)
	if err != nil {
		if os.IsNotExist(errUnwrap(err)) {
			return nil, nil
		}
		return nil, err
	}
	var best *location
	bestRank := 99
	for _, e := range ents {
		n := e.Name()
		if ignoredName(n) {
			continue
		}
		isDir, isFile := entryType(cur, e)
		var rank int
		switch {
		case isFile && isParquetName(n):
			stem := stripParquetExt(n)
			switch {
			case stem == table || n == table:
				rank = 0
			case strings.EqualFold(stem, table) || strings.EqualFold(n, table):
				rank = 2
			default:
				continue
			}
		case isDir && strings.EqualFold(n, table):
			rank = 1
			if n != table {
				rank = 3
			}
		default:
			continue
		}
		if rank >= bestRank {
			continue
		}
		p := filepath.Join(cur, n)
		if isDir {
			ok, err := isDatasetDir(ctx, p)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			best = &location{path: p, isDir: true, qual: append(qual[:len(qual):len(qual)], n)}
		} else {
			best = &location{path: p, qual: append(qual[:len(qual):len(qual)], stripParquetExt(n))}
		}
		bestRank = rank
	}
	return best, nil
}

func errUnwrap(err error) error {
	if e, ok := err.(*sqlerr.Error); ok && e.Err != nil {
		return e.Err
	}
	return err
}

// listDatasets walks a source folder and returns the qualified name of every
// dataset in it.
func listDatasets(ctx context.Context, src Source) ([][]string, error) {
	var out [][]string
	// The Parquet files of a dataset folder are parts of it: they stay
	// reachable by name (src.folder.file) but are not listed as tables of
	// their own. Sub-folders are listed as usual.
	var walk func(dir string, qual []string, inDataset bool) error
	walk = func(dir string, qual []string, inDataset bool) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ents, err := readDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			n := e.Name()
			if ignoredName(n) {
				continue
			}
			isDir, isFile := entryType(dir, e)
			q := qual[:len(qual):len(qual)]
			switch {
			case isFile && isParquetName(n):
				if !inDataset {
					out = append(out, append(q, stripParquetExt(n)))
				}
			case isDir:
				if _, _, part := partitionDir(n); part {
					continue
				}
				p := filepath.Join(dir, n)
				ok, err := isDatasetDir(ctx, p)
				if err != nil {
					return err
				}
				if ok {
					out = append(out, append(q, n))
				}
				if err := walk(p, append(q, n), ok); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(src.Path, []string{src.Name}, false); err != nil {
		return nil, err
	}
	return out, nil
}

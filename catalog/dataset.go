package catalog

import (
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// hiveNull is the folder value Hive writes for a NULL partition value.
const hiveNull = "__HIVE_DEFAULT_PARTITION__"

// buildDataset assembles a Dataset from its files' metadata. refs and metas
// are parallel and sorted by path. The dataset schema is the union by name
// of the files' columns (a column missing from a file reads as NULL there);
// a column whose type differs between files is an error naming the file.
func buildDataset(loc *location, refs []fileRef, metas []*fileMeta) (*Dataset, error) {
	var fields []arrow.Field
	byName := map[string]int{}
	byFold := map[string]int{}
	find := func(name string) (int, bool) {
		if i, ok := byName[name]; ok {
			return i, true
		}
		i, ok := byFold[strings.ToLower(name)]
		return i, ok
	}
	for _, m := range metas {
		for _, f := range m.Schema.Fields() {
			if j, ok := find(f.Name); ok {
				if !arrow.TypeEqual(fields[j].Type, f.Type) {
					return nil, sqlerr.New(sqlerr.DatatypeMismatch,
						"file %q: column %q has type %s, but earlier files of dataset %q have %s",
						m.Path, f.Name, f.Type, strings.Join(loc.qual, "."), fields[j].Type)
				}
				fields[j].Nullable = fields[j].Nullable || f.Nullable
				continue
			}
			nf := arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
			byName[f.Name] = len(fields)
			if _, dup := byFold[strings.ToLower(f.Name)]; !dup {
				byFold[strings.ToLower(f.Name)] = len(fields)
			}
			fields = append(fields, nf)
		}
	}
	// A column that only later files have is absent (NULL) in earlier ones.
	for _, m := range metas {
		seen := map[string]bool{}
		for _, f := range m.Schema.Fields() {
			if j, ok := find(f.Name); ok {
				seen[fields[j].Name] = true
			}
		}
		for j := range fields {
			if !seen[fields[j].Name] {
				fields[j].Nullable = true
			}
		}
	}
	nFileCols := len(fields)

	// Partition columns: keys of the key=value levels, outermost first.
	var partCols []string
	partIdx := map[string]int{}
	for _, r := range refs {
		for _, kv := range r.parts {
			k := strings.ToLower(kv[0])
			if _, ok := partIdx[k]; !ok {
				partIdx[k] = len(partCols)
				partCols = append(partCols, kv[0])
			}
		}
	}
	raw := make([][]*string, len(refs)) // per file, per partition column; nil = NULL
	for i, r := range refs {
		raw[i] = make([]*string, len(partCols))
		for _, kv := range r.parts {
			v := kv[1]
			if v == hiveNull || v == "" {
				continue
			}
			raw[i][partIdx[strings.ToLower(kv[0])]] = &v
		}
	}
	partVals := make([][]any, len(refs))
	for i := range partVals {
		partVals[i] = make([]any, len(partCols))
	}
	for p, name := range partCols {
		if _, clash := find(name); clash {
			return nil, sqlerr.New(sqlerr.DuplicateObject,
				"dataset %q: partition folder key %q is also a column of its files", strings.Join(loc.qual, "."), name)
		}
		vals := make([]*string, len(refs))
		for i := range refs {
			vals[i] = raw[i][p]
		}
		typ, conv := inferPartitionType(vals)
		fields = append(fields, arrow.Field{Name: name, Type: typ, Nullable: true})
		for i, v := range vals {
			if v != nil {
				partVals[i][p] = conv(*v)
			}
		}
	}

	ds := &Dataset{
		Path:             append([]string(nil), loc.qual...),
		Kind:             ParquetDataset,
		Schema:           arrow.NewSchema(fields, nil),
		PartitionColumns: partCols,
		Files:            make([]File, len(metas)),
		Location:         loc.path,
	}
	var refreshed time.Time
	for i, m := range metas {
		// Position of each dataset file column in this file's schema.
		pos := make([]int, nFileCols)
		for j := range pos {
			pos[j] = -1
		}
		for k, f := range m.Schema.Fields() {
			if j, ok := find(f.Name); ok && j < nFileCols {
				pos[j] = k
			}
		}
		colIdx := make([]int, nFileCols)
		for j, k := range pos {
			colIdx[j] = -1
			if k >= 0 {
				colIdx[j] = m.Leaves[k]
			}
		}
		rgs := make([]RowGroup, len(m.RowGroups))
		for g, rg := range m.RowGroups {
			cols := make([]ColumnStats, nFileCols)
			for j, k := range pos {
				if k >= 0 {
					cols[j] = rg.Columns[k]
				} else {
					cols[j] = ColumnStats{NullCount: rg.Rows} // absent column: all NULL
				}
			}
			rgs[g] = RowGroup{Rows: rg.Rows, Columns: cols}
		}
		ds.Files[i] = File{
			Path:            m.Path,
			Size:            m.Size,
			ModTime:         m.ModTime,
			PartitionValues: partVals[i],
			Rows:            m.Rows,
			RowGroups:       rgs,
			ColumnIndex:     colIdx,
		}
		ds.Rows += m.Rows
		if m.ReadAt.After(refreshed) {
			refreshed = m.ReadAt
		}
	}
	ds.RefreshedAt = refreshed
	return ds, nil
}

// inferPartitionType picks the narrowest type that every non-NULL value
// parses as: BIGINT, DOUBLE, DATE (YYYY-MM-DD), else VARCHAR.
func inferPartitionType(vals []*string) (arrow.DataType, func(string) any) {
	all := func(ok func(string) bool) bool {
		n := 0
		for _, v := range vals {
			if v == nil {
				continue
			}
			if !ok(*v) {
				return false
			}
			n++
		}
		return n > 0
	}
	switch {
	case all(func(s string) bool { _, err := strconv.ParseInt(s, 10, 64); return err == nil }):
		return arrow.PrimitiveTypes.Int64, func(s string) any { n, _ := strconv.ParseInt(s, 10, 64); return n }
	case all(func(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }):
		return arrow.PrimitiveTypes.Float64, func(s string) any { f, _ := strconv.ParseFloat(s, 64); return f }
	case all(func(s string) bool { _, ok := parseDate(s); return ok }):
		return arrow.FixedWidthTypes.Date32, func(s string) any { d, _ := parseDate(s); return d }
	}
	return arrow.BinaryTypes.String, func(s string) any { return s }
}

func parseDate(s string) (arrow.Date32, bool) {
	if len(s) != 10 {
		return 0, false
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, false
	}
	return arrow.Date32FromTime(t), true
}

package catalog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// fileMeta is what the catalog remembers of one Parquet file: enough to
// rebuild a Dataset without opening the file again. It is persisted in the
// files bucket keyed by the file's absolute path.
type fileMeta struct {
	Path    string
	Size    int64
	ModTime time.Time
	ReadAt  time.Time
	Rows    int64
	// Schema holds the file's top-level columns with normalized types.
	Schema *arrow.Schema
	// Leaves maps each Schema field to its Parquet leaf column index (for a
	// nested column, its first leaf).
	Leaves []int
	// RowGroups hold one ColumnStats per Schema field.
	RowGroups []RowGroup
}

func (m *fileMeta) sameStamp(size int64, mod time.Time) bool {
	return m.Size == size && m.ModTime.Equal(mod)
}

// readFileMeta reads the footer of the Parquet file at path (never its data
// pages) and converts its schema and statistics.
func readFileMeta(path string, size int64, mod time.Time) (meta *fileMeta, err error) {
	defer func() {
		// The footer decoder may panic on hostile input; a corrupt file
		// must not take the process down.
		if r := recover(); r != nil {
			meta, err = nil, sqlerr.New(sqlerr.DataCorrupted, "corrupt Parquet file %q: %v", path, r)
		}
	}()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, sqlerr.Wrap(sqlerr.IOError, err, "cannot open Parquet file %q", path)
		}
		return nil, sqlerr.Wrap(sqlerr.DataCorrupted, err, "corrupt Parquet file %q", path)
	}
	defer rdr.Close()
	md := rdr.MetaData()
	man, err := pqarrow.NewSchemaManifest(md.Schema, nil, &pqarrow.ArrowReadProperties{})
	if err != nil {
		return nil, sqlerr.Wrap(sqlerr.DataCorrupted, err, "unsupported schema in Parquet file %q", path)
	}
	meta = &fileMeta{Path: path, Size: size, ModTime: mod, ReadAt: time.Now(), Rows: md.NumRows}
	fields := make([]arrow.Field, len(man.Fields))
	rawTypes := make([]arrow.DataType, len(man.Fields))
	meta.Leaves = make([]int, len(man.Fields))
	for i := range man.Fields {
		sf := &man.Fields[i]
		f := *sf.Field
		rawTypes[i] = f.Type
		f.Type = normalizeType(f.Type)
		f.Metadata = arrow.Metadata{}
		fields[i] = f
		meta.Leaves[i] = firstLeaf(sf)
	}
	meta.Schema = arrow.NewSchema(fields, nil)
	nrg := md.NumRowGroups()
	meta.RowGroups = make([]RowGroup, nrg)
	for g := 0; g < nrg; g++ {
		rg := md.RowGroup(g)
		cols := make([]ColumnStats, len(fields))
		for i := range fields {
			cols[i] = ColumnStats{NullCount: -1}
			leaf := meta.Leaves[i]
			if leaf < 0 || !man.Fields[i].IsLeaf() || leaf >= rg.NumColumns() {
				continue
			}
			cc, err := rg.ColumnChunk(leaf)
			if err != nil {
				return nil, sqlerr.Wrap(sqlerr.DataCorrupted, err, "corrupt Parquet file %q (row group %d, column %q)", path, g, fields[i].Name)
			}
			st, err := cc.Statistics()
			if err != nil || st == nil {
				// Unreadable statistics only cost pruning; keep them unknown.
				continue
			}
			cols[i] = convertStats(st, rawTypes[i])
		}
		meta.RowGroups[g] = RowGroup{Rows: rg.NumRows(), Columns: cols}
	}
	return meta, nil
}

func firstLeaf(sf *pqarrow.SchemaField) int {
	for sf != nil {
		if sf.ColIndex >= 0 {
			return sf.ColIndex
		}
		if len(sf.Children) == 0 {
			return -1
		}
		sf = &sf.Children[0]
	}
	return -1
}

// normalizeType maps a Parquet-derived Arrow type to the type the catalog
// reports: timestamps become zone-less microseconds, dictionaries their
// value type.
func normalizeType(t arrow.DataType) arrow.DataType {
	switch tt := t.(type) {
	case *arrow.TimestampType:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case *arrow.DictionaryType:
		return normalizeType(tt.ValueType)
	}
	return t
}

// convertStats turns a column chunk's typed statistics into Go values of the
// column's (normalized) Arrow type. raw is the type pqarrow derived, before
// normalization, so timestamp units can be converted.
func convertStats(st metadata.TypedStatistics, raw arrow.DataType) ColumnStats {
	cs := ColumnStats{NullCount: -1}
	if st.HasNullCount() {
		cs.NullCount = st.NullCount()
	}
	if !st.HasMinMax() {
		return cs
	}
	lo, hi, ok := minMaxValues(st, raw)
	if ok {
		cs.HasMinMax, cs.Min, cs.Max = true, lo, hi
	}
	return cs
}

func minMaxValues(st metadata.TypedStatistics, raw arrow.DataType) (lo, hi any, ok bool) {
	switch t := raw.(type) {
	case *arrow.Int32Type:
		if s, is := st.(*metadata.Int32Statistics); is {
			return s.Min(), s.Max(), true
		}
	case *arrow.Int64Type:
		if s, is := st.(*metadata.Int64Statistics); is {
			return s.Min(), s.Max(), true
		}
	case *arrow.Float64Type:
		if s, is := st.(*metadata.Float64Statistics); is {
			if math.IsNaN(s.Min()) || math.IsNaN(s.Max()) {
				return nil, nil, false
			}
			return s.Min(), s.Max(), true
		}
	case *arrow.BooleanType:
		if s, is := st.(*metadata.BooleanStatistics); is {
			return s.Min(), s.Max(), true
		}
	case *arrow.StringType:
		if s, is := st.(*metadata.ByteArrayStatistics); is {
			return string(s.Min()), string(s.Max()), true
		}
	case *arrow.Date32Type:
		if s, is := st.(*metadata.Int32Statistics); is {
			return arrow.Date32(s.Min()), arrow.Date32(s.Max()), true
		}
	case *arrow.TimestampType:
		if s, is := st.(*metadata.Int64Statistics); is {
			return toMicros(s.Min(), t.Unit), toMicros(s.Max(), t.Unit), true
		}
	case *arrow.Decimal128Type:
		switch s := st.(type) {
		case *metadata.Int32Statistics:
			return decimal128.FromI64(int64(s.Min())), decimal128.FromI64(int64(s.Max())), true
		case *metadata.Int64Statistics:
			return decimal128.FromI64(s.Min()), decimal128.FromI64(s.Max()), true
		case *metadata.FixedLenByteArrayStatistics:
			a, okA := decimalFromBigEndian(s.Min())
			b, okB := decimalFromBigEndian(s.Max())
			return a, b, okA && okB
		case *metadata.ByteArrayStatistics:
			a, okA := decimalFromBigEndian(s.Min())
			b, okB := decimalFromBigEndian(s.Max())
			return a, b, okA && okB
		}
	}
	return nil, nil, false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func toMicros(v int64, unit arrow.TimeUnit) arrow.Timestamp {
	switch unit {
	case arrow.Second:
		return arrow.Timestamp(v * 1_000_000)
	case arrow.Millisecond:
		return arrow.Timestamp(v * 1000)
	case arrow.Nanosecond:
		return arrow.Timestamp(floorDiv(v, 1000))
	}
	return arrow.Timestamp(v)
}

// decimalFromBigEndian decodes Parquet's big-endian two's complement
// unscaled decimal bytes.
func decimalFromBigEndian(b []byte) (decimal128.Num, bool) {
	if len(b) == 0 || len(b) > 16 {
		return decimal128.Num{}, false
	}
	var buf [16]byte
	if b[0]&0x80 != 0 {
		for i := range buf {
			buf[i] = 0xff
		}
	}
	copy(buf[16-len(b):], b)
	hi := int64(binary.BigEndian.Uint64(buf[:8]))
	lo := binary.BigEndian.Uint64(buf[8:])
	return decimal128.New(hi, lo), true
}

// --- persistence ---------------------------------------------------------

// taggedValue is a statistics value with an explicit type tag, so JSON does
// not turn every number into float64.
type taggedValue struct {
	T string `json:"t"`
	V string `json:"v"`
}

func encodeValue(v any) (taggedValue, error) {
	switch x := v.(type) {
	case int32:
		return taggedValue{"i32", strconv.FormatInt(int64(x), 10)}, nil
	case int64:
		return taggedValue{"i64", strconv.FormatInt(x, 10)}, nil
	case float64:
		return taggedValue{"f64", strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case bool:
		return taggedValue{"bool", strconv.FormatBool(x)}, nil
	case string:
		return taggedValue{"str", x}, nil
	case arrow.Date32:
		return taggedValue{"date", strconv.FormatInt(int64(x), 10)}, nil
	case arrow.Timestamp:
		return taggedValue{"ts", strconv.FormatInt(int64(x), 10)}, nil
	case decimal128.Num:
		return taggedValue{"dec", strconv.FormatInt(x.HighBits(), 10) + ":" + strconv.FormatUint(x.LowBits(), 10)}, nil
	}
	return taggedValue{}, fmt.Errorf("catalog: cannot encode statistics value of type %T", v)
}

func decodeValue(tv taggedValue) (any, error) {
	switch tv.T {
	case "i32":
		n, err := strconv.ParseInt(tv.V, 10, 32)
		return int32(n), err
	case "i64":
		return strconv.ParseInt(tv.V, 10, 64)
	case "f64":
		return strconv.ParseFloat(tv.V, 64)
	case "bool":
		return strconv.ParseBool(tv.V)
	case "str":
		return tv.V, nil
	case "date":
		n, err := strconv.ParseInt(tv.V, 10, 32)
		return arrow.Date32(n), err
	case "ts":
		n, err := strconv.ParseInt(tv.V, 10, 64)
		return arrow.Timestamp(n), err
	case "dec":
		h, l, found := strings.Cut(tv.V, ":")
		if !found {
			return nil, fmt.Errorf("catalog: bad decimal %q", tv.V)
		}
		hi, err := strconv.ParseInt(h, 10, 64)
		if err != nil {
			return nil, err
		}
		lo, err := strconv.ParseUint(l, 10, 64)
		if err != nil {
			return nil, err
		}
		return decimal128.New(hi, lo), nil
	}
	return nil, fmt.Errorf("catalog: unknown statistics value tag %q", tv.T)
}

type storedStats struct {
	N   int64        `json:"n"`
	Min *taggedValue `json:"lo,omitempty"`
	Max *taggedValue `json:"hi,omitempty"`
}

type storedRowGroup struct {
	Rows int64         `json:"rows"`
	Cols []storedStats `json:"cols"`
}

type storedFile struct {
	Version   int              `json:"version"`
	Path      string           `json:"path"`
	Size      int64            `json:"size"`
	ModTime   int64            `json:"mtime"`
	ReadAt    int64            `json:"read_at"`
	Rows      int64            `json:"rows"`
	Schema    []byte           `json:"schema"` // Arrow IPC schema message
	Leaves    []int            `json:"leaves"`
	RowGroups []storedRowGroup `json:"row_groups"`
}

const storedFileVersion = 1

func encodeSchema(s *arrow.Schema) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(s))
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeSchema(b []byte) (*arrow.Schema, error) {
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	return r.Schema(), nil
}

func (m *fileMeta) marshal() ([]byte, error) {
	sch, err := encodeSchema(m.Schema)
	if err != nil {
		return nil, err
	}
	sf := storedFile{
		Version: storedFileVersion, Path: m.Path, Size: m.Size, ModTime: m.ModTime.UnixNano(),
		ReadAt: m.ReadAt.UnixNano(), Rows: m.Rows, Schema: sch, Leaves: m.Leaves,
		RowGroups: make([]storedRowGroup, len(m.RowGroups)),
	}
	for g, rg := range m.RowGroups {
		srg := storedRowGroup{Rows: rg.Rows, Cols: make([]storedStats, len(rg.Columns))}
		for i, c := range rg.Columns {
			ss := storedStats{N: c.NullCount}
			if c.HasMinMax {
				lo, err := encodeValue(c.Min)
				if err != nil {
					return nil, err
				}
				hi, err := encodeValue(c.Max)
				if err != nil {
					return nil, err
				}
				ss.Min, ss.Max = &lo, &hi
			}
			srg.Cols[i] = ss
		}
		sf.RowGroups[g] = srg
	}
	return json.Marshal(&sf)
}

func unmarshalFileMeta(b []byte) (*fileMeta, error) {
	var sf storedFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, err
	}
	if sf.Version != storedFileVersion {
		return nil, fmt.Errorf("catalog: stored file metadata version %d, want %d", sf.Version, storedFileVersion)
	}
	sch, err := decodeSchema(sf.Schema)
	if err != nil {
		return nil, err
	}
	m := &fileMeta{
		Path: sf.Path, Size: sf.Size, ModTime: time.Unix(0, sf.ModTime), ReadAt: time.Unix(0, sf.ReadAt),
		Rows: sf.Rows, Schema: sch, Leaves: sf.Leaves, RowGroups: make([]RowGroup, len(sf.RowGroups)),
	}
	if len(m.Leaves) != sch.NumFields() {
		return nil, fmt.Errorf("catalog: stored file metadata for %q is inconsistent", sf.Path)
	}
	for g, srg := range sf.RowGroups {
		if len(srg.Cols) != sch.NumFields() {
			return nil, fmt.Errorf("catalog: stored file metadata for %q is inconsistent", sf.Path)
		}
		cols := make([]ColumnStats, len(srg.Cols))
		for i, ss := range srg.Cols {
			c := ColumnStats{NullCount: ss.N}
			if ss.Min != nil && ss.Max != nil {
				lo, err := decodeValue(*ss.Min)
				if err != nil {
					return nil, err
				}
				hi, err := decodeValue(*ss.Max)
				if err != nil {
					return nil, err
				}
				c.HasMinMax, c.Min, c.Max = true, lo, hi
			}
			cols[i] = c
		}
		m.RowGroups[g] = RowGroup{Rows: srg.Rows, Columns: cols}
	}
	return m, nil
}

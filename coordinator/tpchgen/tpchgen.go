// Package tpchgen writes the eight TPC-H tables as Parquet files with the
// layout of the reference data in shared/tpch/data (DuckDB's dbgen output):
// DECIMAL(15,2) money and quantities stored as INT64, DATE dates, BIGINT
// order keys, INTEGER other keys, ZSTD, row groups of 122,880 rows.
//
// Whole scale factors are generated with github.com/pingcap/go-tpc's port of
// TPC's dbgen (whose text columns differ from DuckDB's, see
// shared/tpch/README.md); fractional scale factors are copied from a folder of
// reference data.
package tpchgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/pingcap/go-tpc/tpch/dbgen"
)

// RowGroupRows is the row group size of the files written.
const RowGroupRows = 122880

// Tables are the TPC-H table names, in generation order.
var Tables = []string{"nation", "region", "part", "partsupp", "supplier", "customer", "orders", "lineitem"}

var (
	money = &arrow.Decimal128Type{Precision: 15, Scale: 2}
	i32   = arrow.PrimitiveTypes.Int32
	i64   = arrow.PrimitiveTypes.Int64
	str   = arrow.BinaryTypes.String
	date  = arrow.FixedWidthTypes.Date32
)

func schema(cols ...any) *arrow.Schema {
	var fs []arrow.Field
	for i := 0; i < len(cols); i += 2 {
		fs = append(fs, arrow.Field{Name: cols[i].(string), Type: cols[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

// Schemas are the tables' schemas.
var Schemas = map[string]*arrow.Schema{
	"nation":   schema("n_nationkey", i32, "n_name", str, "n_regionkey", i32, "n_comment", str),
	"region":   schema("r_regionkey", i32, "r_name", str, "r_comment", str),
	"part":     schema("p_partkey", i32, "p_name", str, "p_mfgr", str, "p_brand", str, "p_type", str, "p_size", i32, "p_container", str, "p_retailprice", money, "p_comment", str),
	"partsupp": schema("ps_partkey", i32, "ps_suppkey", i32, "ps_availqty", i32, "ps_supplycost", money, "ps_comment", str),
	"supplier": schema("s_suppkey", i32, "s_name", str, "s_address", str, "s_nationkey", i32, "s_phone", str, "s_acctbal", money, "s_comment", str),
	"customer": schema("c_custkey", i32, "c_name", str, "c_address", str, "c_nationkey", i32, "c_phone", str, "c_acctbal", money, "c_mktsegment", str, "c_comment", str),
	"orders":   schema("o_orderkey", i64, "o_custkey", i32, "o_orderstatus", str, "o_totalprice", money, "o_orderdate", date, "o_orderpriority", str, "o_clerk", str, "o_shippriority", i32, "o_comment", str),
	"lineitem": schema("l_orderkey", i64, "l_partkey", i32, "l_suppkey", i32, "l_linenumber", i32, "l_quantity", money, "l_extendedprice", money, "l_discount", money, "l_tax", money, "l_returnflag", str, "l_linestatus", str, "l_shipdate", date, "l_commitdate", date, "l_receiptdate", date, "l_shipinstruct", str, "l_shipmode", str, "l_comment", str),
}

// Options say what to generate.
type Options struct {
	ScaleFactor float64
	OutDir      string
	// ReferenceDirs are folders holding sf<N> subfolders of reference data,
	// searched in order for fractional scale factors.
	ReferenceDirs []string
	Logger        *slog.Logger
}

// DirName is the conventional folder name of a scale factor: sf0.01, sf1.
func DirName(sf float64) string { return "sf" + strconv.FormatFloat(sf, 'f', -1, 64) }

// dbgen keeps its state in package variables: one generation at a time.
var genMu sync.Mutex

// Generate writes the eight tables into opts.OutDir as <table>.parquet.
func Generate(ctx context.Context, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	sf := opts.ScaleFactor
	if sf <= 0 {
		return fmt.Errorf("scale factor must be positive, got %v", sf)
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return err
	}
	if sf != math.Trunc(sf) {
		return copyReference(opts, log)
	}
	genMu.Lock()
	defer genMu.Unlock()
	start := time.Now()
	w, err := newWriters(opts.OutDir)
	if err != nil {
		return err
	}
	defer w.abort()
	// dbgen prints progress to stdout; keep stdout for results.
	restore := silenceStdout()
	dbgen.InitDbGen(int64(sf))
	loaders := map[dbgen.Table]dbgen.Loader{}
	for t, name := range map[dbgen.Table]string{
		dbgen.TNation: "nation", dbgen.TRegion: "region", dbgen.TPart: "part", dbgen.TPsupp: "partsupp",
		dbgen.TSupp: "supplier", dbgen.TCust: "customer", dbgen.TOrder: "orders", dbgen.TLine: "lineitem",
	} {
		loaders[t] = &loader{ctx: ctx, table: name, tw: w[name]}
	}
	err = dbgen.DbGen(loaders, []dbgen.Table{dbgen.TNation, dbgen.TRegion, dbgen.TPartPsupp, dbgen.TSupp, dbgen.TCust, dbgen.TOrderLine})
	restore()
	if err != nil {
		return err
	}
	if err := w.close(); err != nil {
		return err
	}
	log.Info("tpch generated", "sf", sf, "dir", opts.OutDir, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

func silenceStdout() func() {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	old := os.Stdout
	os.Stdout = devnull
	return func() { os.Stdout = old; devnull.Close() }
}

func copyReference(opts Options, log *slog.Logger) error {
	name := DirName(opts.ScaleFactor)
	for _, ref := range opts.ReferenceDirs {
		dir := filepath.Join(ref, name)
		if _, err := os.Stat(filepath.Join(dir, "lineitem.parquet")); err != nil {
			continue
		}
		for _, t := range Tables {
			if err := copyFile(filepath.Join(dir, t+".parquet"), filepath.Join(opts.OutDir, t+".parquet")); err != nil {
				return err
			}
		}
		log.Info("tpch copied", "sf", opts.ScaleFactor, "from", dir, "to", opts.OutDir)
		return nil
	}
	return fmt.Errorf("scale factor %v is fractional: dbgen generates whole scale factors only, and no reference "+
		"copy %s was found in %v", opts.ScaleFactor, name, opts.ReferenceDirs)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// tableWriter buffers one table's rows into builders and writes a row group
// per RowGroupRows rows.
type tableWriter struct {
	path string
	f    *os.File
	fw   *pqarrow.FileWriter
	b    *array.RecordBuilder
	rows int
}

type writers map[string]*tableWriter

func newWriters(dir string) (writers, error) {
	w := writers{}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithCreatedBy("quarry tpch"),
	)
	for _, t := range Tables {
		path := filepath.Join(dir, t+".parquet")
		f, err := os.Create(path + ".tmp")
		if err != nil {
			w.abort()
			return nil, err
		}
		fw, err := pqarrow.NewFileWriter(Schemas[t], f, props, pqarrow.DefaultWriterProps())
		if err != nil {
			f.Close()
			w.abort()
			return nil, err
		}
		w[t] = &tableWriter{path: path, f: f, fw: fw, b: array.NewRecordBuilder(memory.DefaultAllocator, Schemas[t])}
	}
	return w, nil
}

func (t *tableWriter) rowDone() error {
	t.rows++
	if t.rows < RowGroupRows {
		return nil
	}
	return t.flush()
}

func (t *tableWriter) flush() error {
	if t.rows == 0 {
		return nil
	}
	rec := t.b.NewRecord()
	defer rec.Release()
	t.rows = 0
	return t.fw.Write(rec)
}

func (w writers) close() error {
	var errs []error
	for _, t := range w {
		errs = append(errs, t.flush(), t.fw.Close())
		t.b.Release()
		if err := os.Rename(t.path+".tmp", t.path); err != nil {
			errs = append(errs, err)
		}
	}
	clear(w)
	return errors.Join(errs...)
}

// abort removes the temporary files of writers not closed.
func (w writers) abort() {
	for _, t := range w {
		t.f.Close()
		os.Remove(t.path + ".tmp")
	}
}

type loader struct {
	ctx   context.Context
	table string
	tw    *tableWriter
}

func (l *loader) Flush() error { return nil }

func (l *loader) Load(item any) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	b := l.tw.b
	switch v := item.(type) {
	case *dbgen.Nation:
		i32v(b, 0, int64(v.Code))
		strv(b, 1, v.Text)
		i32v(b, 2, int64(v.Join))
		strv(b, 3, v.Comment)
	case *dbgen.Region:
		i32v(b, 0, int64(v.Code))
		strv(b, 1, v.Text)
		strv(b, 2, v.Comment)
	case *dbgen.Supp:
		i32v(b, 0, int64(v.SuppKey))
		strv(b, 1, v.Name)
		strv(b, 2, v.Address)
		i32v(b, 3, int64(v.NationCode))
		strv(b, 4, v.Phone)
		decv(b, 5, int64(v.Acctbal))
		strv(b, 6, v.Comment)
	case *dbgen.Cust:
		i32v(b, 0, int64(v.CustKey))
		strv(b, 1, v.Name)
		strv(b, 2, v.Address)
		i32v(b, 3, int64(v.NationCode))
		strv(b, 4, v.Phone)
		decv(b, 5, int64(v.Acctbal))
		strv(b, 6, v.MktSegment)
		strv(b, 7, v.Comment)
	case *dbgen.Part:
		if l.table == "partsupp" {
			for _, ps := range v.S {
				i32v(b, 0, int64(ps.PartKey))
				i32v(b, 1, int64(ps.SuppKey))
				i32v(b, 2, int64(ps.Qty))
				decv(b, 3, int64(ps.SCost))
				strv(b, 4, ps.Comment)
				if err := l.tw.rowDone(); err != nil {
					return err
				}
			}
			return nil
		}
		i32v(b, 0, int64(v.PartKey))
		strv(b, 1, v.Name)
		strv(b, 2, v.Mfgr)
		strv(b, 3, v.Brand)
		strv(b, 4, v.Type)
		i32v(b, 5, int64(v.Size))
		strv(b, 6, v.Container)
		decv(b, 7, int64(v.RetailPrice))
		strv(b, 8, v.Comment)
	case *dbgen.Order:
		if l.table == "lineitem" {
			for _, li := range v.Lines {
				b.Field(0).(*array.Int64Builder).Append(int64(li.OKey))
				i32v(b, 1, int64(li.PartKey))
				i32v(b, 2, int64(li.SuppKey))
				i32v(b, 3, int64(li.LCnt))
				decv(b, 4, int64(li.Quantity)*100)
				decv(b, 5, int64(li.EPrice))
				decv(b, 6, int64(li.Discount))
				decv(b, 7, int64(li.Tax))
				strv(b, 8, string(li.RFlag))
				strv(b, 9, string(li.LStatus))
				if err := datev(b, 10, li.SDate); err != nil {
					return err
				}
				if err := datev(b, 11, li.CDate); err != nil {
					return err
				}
				if err := datev(b, 12, li.RDate); err != nil {
					return err
				}
				strv(b, 13, li.ShipInstruct)
				strv(b, 14, li.ShipMode)
				strv(b, 15, li.Comment)
				if err := l.tw.rowDone(); err != nil {
					return err
				}
			}
			return nil
		}
		b.Field(0).(*array.Int64Builder).Append(int64(v.OKey))
		i32v(b, 1, int64(v.CustKey))
		strv(b, 2, string(v.Status))
		decv(b, 3, int64(v.TotalPrice))
		if err := datev(b, 4, v.Date); err != nil {
			return err
		}
		strv(b, 5, v.OrderPriority)
		strv(b, 6, v.Clerk)
		i32v(b, 7, v.ShipPriority)
		strv(b, 8, v.Comment)
	default:
		return fmt.Errorf("tpchgen: unexpected row type %T", item)
	}
	return l.tw.rowDone()
}

func i32v(b *array.RecordBuilder, i int, v int64)  { b.Field(i).(*array.Int32Builder).Append(int32(v)) }
func strv(b *array.RecordBuilder, i int, v string) { b.Field(i).(*array.StringBuilder).Append(v) }
func decv(b *array.RecordBuilder, i int, cents int64) {
	b.Field(i).(*array.Decimal128Builder).Append(decimal128.FromI64(cents))
}

func datev(b *array.RecordBuilder, i int, s string) error {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return fmt.Errorf("tpchgen: bad date %q: %w", s, err)
	}
	b.Field(i).(*array.Date32Builder).Append(arrow.Date32FromTime(t))
	return nil
}

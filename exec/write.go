package exec

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// WriteParquet drains x into a new folder dir as Parquet (ZSTD, row groups
// of 122,880 rows). It writes into a hidden temporary folder beside dir
// and renames it into place at the end, so readers never see a partial
// table and a failed query leaves nothing behind.
func WriteParquet(ctx context.Context, x Stream, dir string) (int64, error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, sqlerr.Wrap(sqlerr.IOError, err, "cannot create folder %s", parent)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return 0, sqlerr.Wrap(sqlerr.IOError, err, "cannot create a temporary folder in %s", parent)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	f, err := os.Create(filepath.Join(tmp, "part-00000.parquet"))
	if err != nil {
		return 0, sqlerr.Wrap(sqlerr.IOError, err, "cannot create a Parquet file")
	}
	defer f.Close()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(122_880), parquet.WithDictionaryDefault(true))
	w, err := pqarrow.NewFileWriter(plainSchema(x.Schema()), f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return 0, sqlerr.Wrap(sqlerr.IOError, err, "cannot write Parquet")
	}
	var rows int64
	for {
		rec, err := x.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			w.Close()
			return 0, err
		}
		err = w.WriteBuffered(rec)
		rows += rec.NumRows()
		rec.Release()
		if err != nil {
			w.Close()
			return 0, sqlerr.Wrap(sqlerr.IOError, err, "cannot write Parquet")
		}
	}
	if err := w.Close(); err != nil {
		return 0, sqlerr.Wrap(sqlerr.IOError, err, "cannot finish Parquet file")
	}
	if err := os.Rename(tmp, dir); err != nil {
		return 0, sqlerr.Wrap(sqlerr.IOError, err, "cannot move the new table into place")
	}
	ok = true
	return rows, nil
}

// plainSchema is s without field metadata (the result schema names column
// origins there; the written batches do not carry them).
func plainSchema(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i := range fields {
		fields[i].Metadata = arrow.Metadata{}
	}
	return arrow.NewSchema(fields, nil)
}

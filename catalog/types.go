package catalog

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// DatasetKind says where a dataset's rows live.
type DatasetKind int

const (
	// ParquetDataset is a Parquet file or a folder of Parquet files in a
	// source.
	ParquetDataset DatasetKind = iota
	// MemoryDataset is a table created with CREATE TABLE and filled with
	// INSERT; its rows live in process memory (not persisted).
	MemoryDataset
)

// Source is a named root that holds datasets: a local folder.
type Source struct {
	Name string
	Path string // absolute folder path
}

// Dataset is a table: its schema, files and statistics.
type Dataset struct {
	// Path is the qualified name: source, folders…, table.
	Path []string
	Kind DatasetKind
	// Schema holds the file columns followed by the partition columns.
	Schema *arrow.Schema
	// PartitionColumns names the Hive partition columns (the last
	// len(PartitionColumns) fields of Schema), outermost folder first.
	PartitionColumns []string
	Files            []File
	// Rows is the total row count.
	Rows int64
	// Location is the file or folder the dataset was read from.
	Location string
	// RefreshedAt is when metadata was last read from the files.
	RefreshedAt time.Time
	// Memory holds the rows of a MemoryDataset.
	Memory *MemTable
}

// File is one Parquet file of a dataset.
type File struct {
	Path    string // absolute
	Size    int64
	ModTime time.Time
	// PartitionValues are this file's values of the dataset's partition
	// columns, typed as the schema says (int64, float64, string, … as in
	// physical.Literal values; nil for NULL / __HIVE_DEFAULT_PARTITION__).
	PartitionValues []any
	Rows            int64
	RowGroups       []RowGroup
	// ColumnIndex maps each file column of the dataset schema (by position)
	// to the Parquet leaf column index in this file, -1 if absent.
	ColumnIndex []int
}

// RowGroup holds the statistics of one row group.
type RowGroup struct {
	Rows int64
	// Columns has one entry per file column of the dataset schema.
	Columns []ColumnStats
}

// ColumnStats are a column chunk's statistics. Min and Max are Go values of
// the column's Arrow type as in physical.Literal (int32, int64, float64,
// decimal128.Num, string, arrow.Date32, arrow.Timestamp, bool), valid only
// when HasMinMax.
type ColumnStats struct {
	HasMinMax bool
	Min, Max  any
	NullCount int64 // -1 when unknown
}

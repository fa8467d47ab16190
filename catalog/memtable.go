package catalog

// MemTable holds the rows of an in-memory table. (placeholder: the catalog implementation replaces this file)
type MemTable struct{}

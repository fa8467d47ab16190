package catalog

// Catalog is the bbolt-backed metadata store. (placeholder: the catalog implementation replaces this file)
type Catalog struct{}

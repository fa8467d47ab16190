// Package catalog owns Quarry's metadata, kept in a bbolt database in the
// data directory: sources, datasets with schemas, file lists and row-group
// statistics, and in-memory tables. It refreshes a dataset's metadata when
// its files change.
package catalog

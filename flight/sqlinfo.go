package flight

import (
	"fmt"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
)

// ServerName is the FLIGHT_SQL_SERVER_NAME Quarry reports.
const ServerName = "Quarry"

// arrowVersion is the arrow-go version this binary was built with.
func arrowVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/apache/arrow-go/v18" {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return "18"
}

// bits ORs 1<<v for each enum value v: the int32 bitmasks of SqlInfo.
func bits[E ~int32](vs ...E) int32 {
	var m int32
	for _, v := range vs {
		m |= 1 << v
	}
	return m
}

// sqlInfo returns a value for every SqlInfo the Flight SQL spec defines:
// the JDBC and ODBC drivers dereference them without checking, and a
// missing one is what makes BI tools fail at connect.
func sqlInfo(version string) map[flightsql.SqlInfo]any {
	if version == "" {
		version = "dev"
	}
	// SQL_SUPPORTS_CONVERT: the CASTs Quarry evaluates, between the XDBC
	// conversion classes of its types.
	const (
		cBigint    = int32(pb.SqlSupportsConvert_SQL_CONVERT_BIGINT)
		cBit       = int32(pb.SqlSupportsConvert_SQL_CONVERT_BIT)
		cChar      = int32(pb.SqlSupportsConvert_SQL_CONVERT_CHAR)
		cDate      = int32(pb.SqlSupportsConvert_SQL_CONVERT_DATE)
		cDecimal   = int32(pb.SqlSupportsConvert_SQL_CONVERT_DECIMAL)
		cFloat     = int32(pb.SqlSupportsConvert_SQL_CONVERT_FLOAT)
		cInteger   = int32(pb.SqlSupportsConvert_SQL_CONVERT_INTEGER)
		cNumeric   = int32(pb.SqlSupportsConvert_SQL_CONVERT_NUMERIC)
		cReal      = int32(pb.SqlSupportsConvert_SQL_CONVERT_REAL)
		cTimestamp = int32(pb.SqlSupportsConvert_SQL_CONVERT_TIMESTAMP)
		cVarchar   = int32(pb.SqlSupportsConvert_SQL_CONVERT_VARCHAR)
	)
	numeric := []int32{cBigint, cBit, cChar, cDecimal, cFloat, cInteger, cNumeric, cReal, cVarchar}
	convert := map[int32][]int32{
		cBigint: numeric, cInteger: numeric, cDecimal: numeric, cNumeric: numeric, cFloat: numeric, cReal: numeric,
		cBit:       {cBit, cBigint, cInteger, cChar, cVarchar},
		cChar:      {cBigint, cBit, cChar, cDate, cDecimal, cFloat, cInteger, cNumeric, cReal, cTimestamp, cVarchar},
		cVarchar:   {cBigint, cBit, cChar, cDate, cDecimal, cFloat, cInteger, cNumeric, cReal, cTimestamp, cVarchar},
		cDate:      {cChar, cDate, cTimestamp, cVarchar},
		cTimestamp: {cChar, cDate, cTimestamp, cVarchar},
	}
	const noLimit = int64(0)
	return map[flightsql.SqlInfo]any{
		// Server.
		flightsql.SqlInfoFlightSqlServerName:                        ServerName,
		flightsql.SqlInfoFlightSqlServerVersion:                     version,
		flightsql.SqlInfoFlightSqlServerArrowVersion:                arrowVersion(),
		flightsql.SqlInfoFlightSqlServerReadOnly:                    false,
		flightsql.SqlInfoFlightSqlServerSql:                         true,
		flightsql.SqlInfoFlightSqlServerSubstrait:                   false,
		flightsql.SqlInfoFlightSqlServerSubstraitMinVersion:         "",
		flightsql.SqlInfoFlightSqlServerSubstraitMaxVersion:         "",
		flightsql.SqlInfoFlightSqlServerTransaction:                 int32(flightsql.SqlTransactionNone),
		flightsql.SqlInfoFlightSqlServerCancel:                      true,
		flightsql.SqlInfoFlightSqlServerBulkIngestion:               false,
		flightsql.SqlInfoFlightSqlServerIngestTransactionsSupported: false,
		flightsql.SqlInfoFlightSqlServerStatementTimeout:            int32(0),
		flightsql.SqlInfoFlightSqlServerTransactionTimeout:          int32(0),

		// SQL syntax.
		flightsql.SqlInfoDDLCatalog:                             false,
		flightsql.SqlInfoDDLSchema:                              false,
		flightsql.SqlInfoDDLTable:                               true,
		flightsql.SqlInfoIdentifierCase:                         int32(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoIdentifierQuoteChar:                    `"`,
		flightsql.SqlInfoQuotedIdentifierCase:                   int32(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoAllTablesAreASelectable:                true,
		flightsql.SqlInfoNullOrdering:                           int32(flightsql.SqlNullOrderingSortHigh),
		flightsql.SqlInfoKeywords:                               keywords,
		flightsql.SqlInfoNumericFunctions:                       numericFunctions,
		flightsql.SqlInfoStringFunctions:                        stringFunctions,
		flightsql.SqlInfoSystemFunctions:                        systemFunctions,
		flightsql.SqlInfoDateTimeFunctions:                      datetimeFunctions,
		flightsql.SqlInfoSearchStringEscape:                     `\`,
		flightsql.SqlInfoExtraNameChars:                         "",
		flightsql.SqlInfoSupportsColumnAliasing:                 true,
		flightsql.SqlInfoNullPlusNullIsNull:                     true,
		flightsql.SqlInfoSupportsConvert:                        convert,
		flightsql.SqlInfoSupportsTableCorrelationNames:          true,
		flightsql.SqlInfoSupportsDifferentTableCorrelationNames: false,
		flightsql.SqlInfoSupportsExpressionsInOrderBy:           true,
		flightsql.SqlInfoSupportsOrderByUnrelated:               true,
		flightsql.SqlInfoSupportedGroupBy: bits(pb.SqlSupportedGroupBy_SQL_GROUP_BY_UNRELATED,
			pb.SqlSupportedGroupBy_SQL_GROUP_BY_BEYOND_SELECT),
		flightsql.SqlInfoSupportsLikeEscapeClause:   false,
		flightsql.SqlInfoSupportsNonNullableColumns: false,
		flightsql.SqlInfoSupportedGrammar: bits(pb.SupportedSqlGrammar_SQL_MINIMUM_GRAMMAR,
			pb.SupportedSqlGrammar_SQL_CORE_GRAMMAR),
		flightsql.SqlInfoANSI92SupportedLevel: bits(pb.SupportedAnsi92SqlGrammarLevel_ANSI92_ENTRY_SQL,
			pb.SupportedAnsi92SqlGrammarLevel_ANSI92_INTERMEDIATE_SQL),
		flightsql.SqlInfoSupportsIntegrityEnhancementFacility: false,
		flightsql.SqlInfoOuterJoinsSupportLevel:               int32(pb.SqlOuterJoinsSupportLevel_SQL_FULL_OUTER_JOINS),
		flightsql.SqlInfoSchemaTerm:                           "schema",
		flightsql.SqlInfoProcedureTerm:                        "procedure",
		// An empty catalog term says Quarry has no catalogs.
		flightsql.SqlInfoCatalogTerm:                 "",
		flightsql.SqlInfoCatalogAtStart:              false,
		flightsql.SqlInfoSchemasSupportedActions:     int32(0),
		flightsql.SqlInfoCatalogsSupportedActions:    int32(0),
		flightsql.SqlInfoSupportedPositionedCommands: int32(0),
		flightsql.SqlInfoSelectForUpdateSupported:    false,
		flightsql.SqlInfoStoredProceduresSupported:   false,
		flightsql.SqlInfoSupportedSubqueries: bits(pb.SqlSupportedSubqueries_SQL_SUBQUERIES_IN_COMPARISONS,
			pb.SqlSupportedSubqueries_SQL_SUBQUERIES_IN_EXISTS,
			pb.SqlSupportedSubqueries_SQL_SUBQUERIES_IN_INS,
			pb.SqlSupportedSubqueries_SQL_SUBQUERIES_IN_QUANTIFIEDS),
		flightsql.SqlInfoCorrelatedSubqueriesSupported: true,
		flightsql.SqlInfoSupportedUnions: bits(pb.SqlSupportedUnions_SQL_UNION,
			pb.SqlSupportedUnions_SQL_UNION_ALL),

		// Limits: 0 is no limit (or unknown).
		flightsql.SqlInfoMaxBinaryLiteralLen:     noLimit,
		flightsql.SqlInfoMaxCharLiteralLen:       noLimit,
		flightsql.SqlInfoMaxColumnNameLen:        noLimit,
		flightsql.SqlInfoMaxColumnsInGroupBy:     noLimit,
		flightsql.SqlInfoMaxColumnsInIndex:       noLimit,
		flightsql.SqlInfoMaxColumnsInOrderBy:     noLimit,
		flightsql.SqlInfoMaxColumnsInSelect:      noLimit,
		flightsql.SqlInfoMaxColumnsInTable:       noLimit,
		flightsql.SqlInfoMaxConnections:          noLimit,
		flightsql.SqlInfoMaxCursorNameLen:        noLimit,
		flightsql.SqlInfoMaxIndexLen:             noLimit,
		flightsql.SqlInfoDBSchemaNameLen:         noLimit,
		flightsql.SqlInfoMaxProcedureNameLen:     noLimit,
		flightsql.SqlInfoMaxCatalogNameLen:       noLimit,
		flightsql.SqlInfoMaxRowSize:              noLimit,
		flightsql.SqlInfoMaxRowSizeIncludesBlobs: false,
		flightsql.SqlInfoMaxStatementLen:         noLimit,
		flightsql.SqlInfoMaxStatements:           noLimit,
		flightsql.SqlInfoMaxTableNameLen:         noLimit,
		flightsql.SqlInfoMaxTablesInSelect:       noLimit,
		flightsql.SqlInfoMaxUsernameLen:          noLimit,

		// Transactions: none (BEGIN/COMMIT are accepted and ignored).
		flightsql.SqlInfoDefaultTransactionIsolation:           int32(pb.SqlTransactionIsolationLevel_SQL_TRANSACTION_NONE),
		flightsql.SqlInfoTransactionsSupported:                 false,
		flightsql.SqlInfoSupportedTransactionsIsolationlevels:  bits(pb.SqlTransactionIsolationLevel_SQL_TRANSACTION_NONE),
		flightsql.SqlInfoDataDefinitionCausesTransactionCommit: false,
		flightsql.SqlInfoDataDefinitionsInTransactionsIgnored:  true,

		// Result sets: forward-only, read-only.
		flightsql.SqlInfoSupportedResultSetTypes:                             bits(pb.SqlSupportedResultSetType_SQL_RESULT_SET_TYPE_FORWARD_ONLY),
		flightsql.SqlInfoSupportedConcurrenciesForResultSetUnspecified:       int32(0),
		flightsql.SqlInfoSupportedConcurrenciesForResultSetForwardOnly:       bits(pb.SqlSupportedResultSetConcurrency_SQL_RESULT_SET_CONCURRENCY_READ_ONLY),
		flightsql.SqlInfoSupportedConcurrenciesForResultSetScrollSensitive:   int32(0),
		flightsql.SqlInfoSupportedConcurrenciesForResultSetScrollInsensitive: int32(0),
		flightsql.SqlInfoBatchUpdatesSupported:                               false,
		flightsql.SqlInfoSavePointsSupported:                                 false,
		flightsql.SqlInfoNamedParametersSupported:                            false,
		flightsql.SqlInfoLocatorsUpdateCopy:                                  false,
		flightsql.SqlInfoStoredFunctionsUsingCallSyntaxSupported:             false,
	}
}

// registerSqlInfo registers every SqlInfo value, and fails if the spec
// (arrow-go's enum) has one Quarry does not answer.
func (s *Server) registerSqlInfo(version string) error {
	info := sqlInfo(version)
	for id := range pb.SqlInfo_name {
		if _, ok := info[flightsql.SqlInfo(id)]; !ok {
			return fmt.Errorf("flight: no value for SqlInfo %s", pb.SqlInfo(id))
		}
	}
	for id, v := range info {
		if err := s.RegisterSqlInfo(id, v); err != nil {
			return err
		}
	}
	return nil
}

var keywords = []string{
	"ANALYZE", "APPROX_COUNT_DISTINCT", "EXPLAIN", "IF", "LIMIT", "METADATA", "NULLS", "OFFSET", "REFRESH",
	"REPLACE", "TEXT", "USE",
}

var numericFunctions = []string{"ABS", "ROUND", "GREATEST", "LEAST"}

var stringFunctions = []string{
	"BTRIM", "CHAR_LENGTH", "CHARACTER_LENGTH", "CONCAT", "INSTR", "LCASE", "LEFT", "LENGTH", "LOCATE", "LOWER",
	"LPAD", "LTRIM", "POSITION", "REGEXP_LIKE", "REPLACE", "RIGHT", "RPAD", "RTRIM", "SPLIT_PART", "STRPOS",
	"SUBSTR", "SUBSTRING", "TRIM", "UCASE", "UPPER",
}

var systemFunctions = []string{"COALESCE", "IFNULL", "NULLIF", "NVL"}

var datetimeFunctions = []string{
	"ADDDATE", "CURDATE", "CURRENT_DATE", "CURRENT_TIMESTAMP", "DATE_ADD", "DATE_PART", "DATE_SUB", "DATE_TRUNC",
	"EXTRACT", "LOCALTIMESTAMP", "NOW", "SUBDATE", "TODAY",
}

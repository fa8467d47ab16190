package pgcatalog

import (
	"sort"
	"strings"
)

// ServerVersion is the PostgreSQL version Quarry presents (clients such as
// psql choose their catalog queries by it); the wire server reports the
// same in ParameterStatus.
const (
	ServerVersion    = "15.6 (Quarry)"
	ServerVersionNum = "150006"
)

// Version is version()'s answer.
func Version() string {
	return "PostgreSQL " + ServerVersion + " on x86_64-pc-linux-gnu, compiled by Go, 64-bit"
}

// DefaultDatabase and DefaultUser stand in when the session names none.
const (
	DefaultDatabase = "quarry"
	DefaultUser     = "quarry"
)

// Setting is a run-time parameter SHOW and pg_settings know.
type Setting struct {
	Name     string // canonical spelling (DateStyle, TimeZone, …)
	Value    string
	Category string
	Desc     string
	Context  string // user, superuser, internal, …
	VarType  string // bool, integer, string, enum, real
	Unit     string
}

var settings = []Setting{
	{Name: "application_name", Value: "", VarType: "string", Context: "user", Category: "Reporting and Logging / What to Log", Desc: "Sets the application name to be reported in statistics and logs."},
	{Name: "bytea_output", Value: "hex", VarType: "enum", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the output format for bytea."},
	{Name: "client_encoding", Value: "UTF8", VarType: "string", Context: "user", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the client's character set encoding."},
	{Name: "client_min_messages", Value: "notice", VarType: "enum", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the message levels that are sent to the client."},
	{Name: "DateStyle", Value: "ISO, MDY", VarType: "string", Context: "user", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the display format for date and time values."},
	{Name: "default_transaction_isolation", Value: "read committed", VarType: "enum", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the transaction isolation level of each new transaction."},
	{Name: "default_transaction_read_only", Value: "off", VarType: "bool", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the default read-only status of new transactions."},
	{Name: "extra_float_digits", Value: "1", VarType: "integer", Context: "user", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the number of digits displayed for floating-point values."},
	{Name: "idle_in_transaction_session_timeout", Value: "0", VarType: "integer", Unit: "ms", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the maximum allowed idle time between queries, when in a transaction."},
	{Name: "integer_datetimes", Value: "on", VarType: "bool", Context: "internal", Category: "Preset Options", Desc: "Shows whether datetimes are integer based."},
	{Name: "IntervalStyle", Value: "postgres", VarType: "enum", Context: "user", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the display format for interval values."},
	{Name: "is_superuser", Value: "on", VarType: "bool", Context: "internal", Category: "Preset Options", Desc: "Shows whether the current user is a superuser."},
	{Name: "lc_collate", Value: "C.UTF-8", VarType: "string", Context: "internal", Category: "Preset Options", Desc: "Shows the collation order locale."},
	{Name: "lc_ctype", Value: "C.UTF-8", VarType: "string", Context: "internal", Category: "Preset Options", Desc: "Shows the character classification and case conversion locale."},
	{Name: "lc_messages", Value: "C.UTF-8", VarType: "string", Context: "superuser", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the language in which messages are displayed."},
	{Name: "lc_monetary", Value: "C.UTF-8", VarType: "string", Context: "user", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the locale for formatting monetary amounts."},
	{Name: "lc_numeric", Value: "C.UTF-8", VarType: "string", Context: "user", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the locale for formatting numbers."},
	{Name: "lc_time", Value: "C.UTF-8", VarType: "string", Context: "user", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the locale for formatting date and time values."},
	{Name: "lock_timeout", Value: "0", VarType: "integer", Unit: "ms", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the maximum allowed duration of any wait for a lock."},
	{Name: "max_identifier_length", Value: "63", VarType: "integer", Context: "internal", Category: "Preset Options", Desc: "Shows the maximum identifier length."},
	{Name: "max_index_keys", Value: "32", VarType: "integer", Context: "internal", Category: "Preset Options", Desc: "Shows the maximum number of index keys."},
	{Name: "search_path", Value: `"$user", public`, VarType: "string", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the schema search order for names that are not schema-qualified."},
	{Name: "server_encoding", Value: "UTF8", VarType: "string", Context: "internal", Category: "Preset Options", Desc: "Shows the server (database) character set encoding."},
	{Name: "server_version", Value: ServerVersion, VarType: "string", Context: "internal", Category: "Preset Options", Desc: "Shows the server version."},
	{Name: "server_version_num", Value: ServerVersionNum, VarType: "integer", Context: "internal", Category: "Preset Options", Desc: "Shows the server version as an integer."},
	{Name: "session_authorization", Value: DefaultUser, VarType: "string", Context: "user", Category: "Preset Options", Desc: "Sets the session user name."},
	{Name: "standard_conforming_strings", Value: "on", VarType: "bool", Context: "user", Category: "Version and Platform Compatibility", Desc: "Causes '...' strings to treat backslashes literally."},
	{Name: "statement_timeout", Value: "0", VarType: "integer", Unit: "ms", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the maximum allowed duration of any statement."},
	{Name: "TimeZone", Value: "UTC", VarType: "string", Context: "user", Category: "Client Connection Defaults / Locale and Formatting", Desc: "Sets the time zone for displaying and interpreting time stamps."},
	{Name: "transaction_isolation", Value: "read committed", VarType: "string", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the current transaction's isolation level."},
	{Name: "transaction_read_only", Value: "off", VarType: "bool", Context: "user", Category: "Client Connection Defaults / Statement Behavior", Desc: "Sets the current transaction's read-only status."},
}

var settingsByName = func() map[string]*Setting {
	m := map[string]*Setting{}
	for i := range settings {
		m[strings.ToLower(settings[i].Name)] = &settings[i]
	}
	return m
}()

// LookupSetting returns the built-in parameter name (any case).
func LookupSetting(name string) (Setting, bool) {
	s, ok := settingsByName[strings.ToLower(name)]
	if !ok {
		return Setting{}, false
	}
	return *s, true
}

// Settings lists the built-in parameters with the session's values
// (session keys are lower case) overlaid, sorted by name; parameters only
// the session has are added as strings.
func Settings(session map[string]string) []Setting {
	out := make([]Setting, 0, len(settings)+len(session))
	seen := map[string]bool{}
	for _, s := range settings {
		key := strings.ToLower(s.Name)
		if v, ok := session[key]; ok {
			s.Value = v
		}
		seen[key] = true
		out = append(out, s)
	}
	for k, v := range session {
		if !seen[k] && !strings.HasPrefix(k, "quarry.") && k != "user" && k != "database" {
			out = append(out, Setting{Name: k, Value: v, VarType: "string", Context: "user", Category: "Customized Options"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

package kernels

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// toCharKernel is to_char(date|timestamp, template) with PostgreSQL's
// date/time template patterns. The template must be a constant.
func toCharKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) != 2 || !args[1].isScalar() {
		return datum{}, sqlerr.New(sqlerr.FeatureNotSupported, "to_char: the template must be a constant")
	}
	tmpl, _ := args[1].val.(string)
	parts := parseTemplate(tmpl)
	arr, err := ev.materialize(args[0])
	if err != nil {
		return datum{}, err
	}
	defer arr.Release()
	var at func(i int) time.Time
	switch a := arr.(type) {
	case interface{ Value(int) arrow.Date32 }:
		at = func(i int) time.Time { return a.Value(i).ToTime() }
	case interface{ Value(int) arrow.Timestamp }:
		at = func(i int) time.Time { return time.UnixMicro(int64(a.Value(i))).UTC() }
	default:
		return datum{}, unsupported("to_char", args[0].t)
	}
	return formatEach(ev, arr, func(b []byte, i int) []byte { return appendTemplate(b, parts, at(i)) })
}

// templatePart is a pattern (kind) or literal text.
type templatePart struct {
	kind string
	fill bool // FM: no padding
	lit  string
}

// templatePatterns, longest first so that prefixes do not shadow them.
var templatePatterns = []string{
	"HH24", "HH12", "YYYY", "MONTH", "Month", "month", "IYYY", "DDD", "DAY", "Day", "day",
	"MON", "Mon", "mon", "YYY", "MS", "US", "SS", "MI", "HH", "YY", "MM", "DD", "DY", "Dy", "dy",
	"AM", "PM", "am", "pm", "IW", "WW", "Q", "D", "Y",
}

func parseTemplate(t string) []templatePart {
	var out []templatePart
	lit := func(s string) {
		if n := len(out); n > 0 && out[n-1].kind == "" {
			out[n-1].lit += s
			return
		}
		out = append(out, templatePart{lit: s})
	}
	for i := 0; i < len(t); {
		if t[i] == '"' { // quoted literal text
			j := strings.IndexByte(t[i+1:], '"')
			if j < 0 {
				lit(t[i+1:])
				break
			}
			lit(t[i+1 : i+1+j])
			i += j + 2
			continue
		}
		fill := false
		if strings.HasPrefix(t[i:], "FM") {
			fill, i = true, i+2
		}
		matched := false
		for _, p := range templatePatterns {
			if strings.HasPrefix(t[i:], p) {
				out = append(out, templatePart{kind: p, fill: fill})
				i += len(p)
				matched = true
				break
			}
		}
		if !matched {
			lit(t[i : i+1])
			i++
		}
	}
	return out
}

func appendTemplate(b []byte, parts []templatePart, t time.Time) []byte {
	num := func(v, width int, fill bool) {
		if fill {
			b = strconv.AppendInt(b, int64(v), 10)
			return
		}
		b = fmt.Appendf(b, "%0*d", width, v)
	}
	word := func(s string, width int, fill bool) {
		b = append(b, s...)
		for k := len(s); !fill && k < width; k++ {
			b = append(b, ' ')
		}
	}
	for _, p := range parts {
		switch p.kind {
		case "":
			b = append(b, p.lit...)
		case "YYYY":
			num(t.Year(), 4, p.fill)
		case "IYYY":
			y, _ := t.ISOWeek()
			num(y, 4, p.fill)
		case "YYY":
			num(t.Year()%1000, 3, p.fill)
		case "YY":
			num(t.Year()%100, 2, p.fill)
		case "Y":
			num(t.Year()%10, 1, p.fill)
		case "Q":
			num((int(t.Month())-1)/3+1, 1, true)
		case "MM":
			num(int(t.Month()), 2, p.fill)
		case "MONTH":
			word(strings.ToUpper(t.Month().String()), 9, p.fill)
		case "Month":
			word(t.Month().String(), 9, p.fill)
		case "month":
			word(strings.ToLower(t.Month().String()), 9, p.fill)
		case "MON":
			b = append(b, strings.ToUpper(t.Month().String()[:3])...)
		case "Mon":
			b = append(b, t.Month().String()[:3]...)
		case "mon":
			b = append(b, strings.ToLower(t.Month().String()[:3])...)
		case "DDD":
			num(t.YearDay(), 3, p.fill)
		case "DD":
			num(t.Day(), 2, p.fill)
		case "D":
			num(int(t.Weekday())+1, 1, true)
		case "DAY":
			word(strings.ToUpper(t.Weekday().String()), 9, p.fill)
		case "Day":
			word(t.Weekday().String(), 9, p.fill)
		case "day":
			word(strings.ToLower(t.Weekday().String()), 9, p.fill)
		case "DY":
			b = append(b, strings.ToUpper(t.Weekday().String()[:3])...)
		case "Dy":
			b = append(b, t.Weekday().String()[:3]...)
		case "dy":
			b = append(b, strings.ToLower(t.Weekday().String()[:3])...)
		case "IW":
			_, w := t.ISOWeek()
			num(w, 2, p.fill)
		case "WW":
			num((t.YearDay()-1)/7+1, 2, p.fill)
		case "HH24":
			num(t.Hour(), 2, p.fill)
		case "HH", "HH12":
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			num(h, 2, p.fill)
		case "MI":
			num(t.Minute(), 2, p.fill)
		case "SS":
			num(t.Second(), 2, p.fill)
		case "MS":
			num(t.Nanosecond()/1e6, 3, p.fill)
		case "US":
			num(t.Nanosecond()/1e3, 6, p.fill)
		case "AM", "PM":
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case "am", "pm":
			if t.Hour() < 12 {
				b = append(b, "am"...)
			} else {
				b = append(b, "pm"...)
			}
		}
	}
	return b
}

package kernels

import (
	"math"
	"strings"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// toDateKernel: to_date(text, template) → date and to_timestamp(text,
// template) → timestamp with to_char's template patterns; to_timestamp(x)
// with one DOUBLE PRECISION argument converts epoch seconds.
func toDateKernel(ev *evaluator, c *physical.Call, args []datum) (datum, error) {
	if len(args) == 1 {
		v, m := operand(args[0], convF64)
		return mapFixed(ev, args, physical.Timestamp, func(i int) (int64, error) {
			us := math.Round(v[i&m] * usPerSec)
			if math.IsNaN(us) || math.Abs(us) > 9.2e18 {
				return 0, sqlerr.New(sqlerr.DatetimeOverflow, "timestamp out of range")
			}
			return int64(us), nil
		})
	}
	ss, err := strArgs(args)
	if err != nil {
		return datum{}, err
	}
	cache := map[string][]templatePart{}
	parse := func(i int) (int64, error) {
		t := ss[1].at(i)
		parts, ok := cache[t]
		if !ok {
			parts = parseTemplate(t)
			cache[strings.Clone(t)] = parts
		}
		return parseWithTemplate(ss[0].at(i), parts)
	}
	if c.Fn == physical.FnToDate {
		return mapFixed(ev, args, physical.Date, func(i int) (int32, error) {
			ts, err := parse(i)
			return int32(floorDiv(ts, usPerDay)), err
		})
	}
	return mapFixed(ev, args, physical.Timestamp, parse)
}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

var dayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// parseWithTemplate reads s as template parts describe it and returns
// microseconds since the epoch. Like PostgreSQL outside FX mode, spaces in
// s are skipped before fields, a template separator consumes one separator
// character of s, and trailing input is ignored. Missing fields default to
// January 1 of year 1, midnight.
func parseWithTemplate(s string, parts []templatePart) (int64, error) {
	year, month, day := int64(1), int64(1), int64(1)
	var hour, minute, sec, micro int64
	hour12, pm, hasAMPM := false, false, false
	doy := int64(0)
	bad := func(kind string) (int64, error) {
		v := s
		if len(v) > 20 {
			v = v[:20]
		}
		return 0, sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid value %q for %q", v, kind)
	}
	skipSpaces := func() {
		s = strings.TrimLeft(s, " \t\n")
	}
	num := func(kind string, width int) (int64, error) {
		skipSpaces()
		neg := false
		if kind == "YYYY" && strings.HasPrefix(s, "-") {
			neg, s = true, s[1:]
		}
		k := 0
		for k < len(s) && k < width && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == 0 {
			return bad(kind)
		}
		var v int64
		for _, ch := range s[:k] {
			v = v*10 + int64(ch-'0')
		}
		s = s[k:]
		if neg {
			v = -v
		}
		return v, nil
	}
	word := func(kind string, names []string, short bool) (int64, error) {
		skipSpaces()
		low := strings.ToLower(s)
		for k, n := range names {
			if short {
				n = n[:3]
			}
			if strings.HasPrefix(low, n) {
				s = s[len(n):]
				return int64(k), nil
			}
		}
		return bad(kind)
	}
	var err error
	for pi, p := range parts {
		switch p.kind {
		case "":
			for _, ch := range p.lit {
				switch {
				case ch == ' ':
					skipSpaces()
				case s == "":
				case rune(s[0]) == ch || !isAlnumByte(s[0]):
					s = s[1:]
				}
			}
			continue
		case "YYYY", "IYYY":
			// Without a separator after it, YYYY takes 4 digits.
			w := 4
			if pi+1 < len(parts) && parts[pi+1].kind == "" {
				w = 9
			}
			year, err = num(p.kind, w)
			if err == nil && year == 0 {
				return 0, sqlerr.New(sqlerr.DatetimeOverflow, "date/time field value out of range: %q", s)
			}
		case "YYY", "YY", "Y":
			var v int64
			v, err = num(p.kind, len(p.kind))
			switch len(p.kind) { // PostgreSQL's century guesses
			case 3:
				if v < 100 {
					v += 1000
				}
				v += 1000
			case 2:
				if v < 70 {
					v += 2000
				} else {
					v += 1900
				}
			case 1:
				v += 2000
			}
			year = v
		case "MM":
			month, err = num(p.kind, 2)
		case "MONTH", "Month", "month":
			month, err = word(p.kind, monthNames, false)
			month++
		case "MON", "Mon", "mon":
			month, err = word(p.kind, monthNames, true)
			month++
		case "DD":
			day, err = num(p.kind, 2)
		case "DDD":
			doy, err = num(p.kind, 3)
		case "DAY", "Day", "day":
			_, err = word(p.kind, dayNames, false)
		case "DY", "Dy", "dy":
			_, err = word(p.kind, dayNames, true)
		case "D", "Q", "IW", "WW":
			_, err = num(p.kind, 2) // read and ignored, as PostgreSQL does for D and Q
		case "HH24":
			hour, err = num(p.kind, 2)
		case "HH", "HH12":
			hour, err = num(p.kind, 2)
			hour12 = true
			if err == nil && (hour < 1 || hour > 12) {
				return 0, sqlerr.New(sqlerr.InvalidDatetimeFormat, "hour \"%d\" is invalid for the 12-hour clock", hour)
			}
		case "MI":
			minute, err = num(p.kind, 2)
		case "SS":
			sec, err = num(p.kind, 2)
		case "MS", "US":
			w := 3
			if p.kind == "US" {
				w = 6
			}
			skipSpaces()
			k := 0
			for k < len(s) && k < w && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			var v int64
			if k == 0 {
				return bad(p.kind)
			}
			for _, ch := range s[:k] {
				v = v*10 + int64(ch-'0')
			}
			for j := k; j < w; j++ { // fewer digits are a fraction: .5 is 500 ms
				v *= 10
			}
			s = s[k:]
			if p.kind == "MS" {
				v *= 1000
			}
			micro += v
		case "AM", "PM", "am", "pm":
			skipSpaces()
			low := strings.ToLower(s)
			switch {
			case strings.HasPrefix(low, "am"), strings.HasPrefix(low, "pm"):
				pm = low[0] == 'p'
				s = s[2:]
			case strings.HasPrefix(low, "a.m."), strings.HasPrefix(low, "p.m."):
				pm = low[0] == 'p'
				s = s[4:]
			default:
				return bad(p.kind)
			}
			hasAMPM = true
		}
		if err != nil {
			return 0, err
		}
	}
	if hasAMPM || hour12 {
		if hour == 12 {
			hour = 0
		}
		if pm {
			hour += 12
		}
	}
	yy := year
	if yy < 0 {
		yy++ // 1 BC is year 0
	}
	var days int64
	if doy > 0 {
		n := int64(365)
		if isLeap(yy) {
			n = 366
		}
		if doy > n {
			return 0, sqlerr.New(sqlerr.DatetimeOverflow, "date/time field value out of range")
		}
		days = DaysFromCivil(yy, 1, 1) + doy - 1
	} else {
		if month < 1 || month > 12 || day < 1 || day > int64(daysInMonth(yy, int(month))) {
			return 0, sqlerr.New(sqlerr.DatetimeOverflow, "date/time field value out of range: year %d, month %d, day %d", year, month, day)
		}
		days = DaysFromCivil(yy, int(month), int(day))
	}
	if hour > 24 || minute > 59 || sec > 60 || (hour == 24 && (minute > 0 || sec > 0 || micro > 0)) {
		return 0, sqlerr.New(sqlerr.DatetimeOverflow, "date/time field value out of range")
	}
	return days*usPerDay + ((hour*60+minute)*60+sec)*usPerSec + micro, nil
}

func isAlnumByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}

package kernels

import "github.com/apache/arrow-go/v18/arrow"

// AddInterval is ts + iv for a timestamp in microseconds, as PostgreSQL
// adds them: months first (the day clamped to the month's last), then
// days, then time.
func AddInterval(ts int64, iv arrow.MonthDayNanoInterval) int64 {
	days, us := splitTS(ts)
	return (addMonths(days, iv.Months)+int64(iv.Days))*usPerDay + us + iv.Nanoseconds/1000
}

package exchange

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// Ticket names the output a consumer partition reads from one fragment of
// a query.
type Ticket struct {
	Query     string
	Fragment  int
	Partition int
}

// Ticket wire format: magic "QX", version byte, then uvarint(len(query)),
// query, uvarint(fragment), uvarint(partition). The magic keeps Flight SQL
// tickets (protobuf Any, starting 0x0a) from being taken for ours.
const (
	ticketMagic0   = 'Q'
	ticketMagic1   = 'X'
	ticketVersion  = 1
	maxTicketQuery = 1024
)

// Validate reports whether t can be encoded and decoded.
func (t Ticket) Validate() error {
	switch {
	case t.Query == "":
		return sqlerr.New(sqlerr.ProtocolViolation, "exchange: ticket without query id")
	case len(t.Query) > maxTicketQuery:
		return sqlerr.New(sqlerr.ProtocolViolation, "exchange: ticket query id of %d bytes exceeds %d", len(t.Query), maxTicketQuery)
	case t.Fragment < 0 || t.Fragment > math.MaxInt32:
		return sqlerr.New(sqlerr.ProtocolViolation, "exchange: ticket fragment %d out of range", t.Fragment)
	case t.Partition < 0 || t.Partition > math.MaxInt32:
		return sqlerr.New(sqlerr.ProtocolViolation, "exchange: ticket partition %d out of range", t.Partition)
	}
	return nil
}

// Encode returns the ticket bytes. Call Validate first: an invalid ticket
// encodes to bytes that DecodeTicket rejects.
func (t Ticket) Encode() []byte {
	b := make([]byte, 0, 3+binary.MaxVarintLen64+len(t.Query)+2*binary.MaxVarintLen32)
	b = append(b, ticketMagic0, ticketMagic1, ticketVersion)
	b = binary.AppendUvarint(b, uint64(len(t.Query)))
	b = append(b, t.Query...)
	b = binary.AppendUvarint(b, uint64(t.Fragment))
	b = binary.AppendUvarint(b, uint64(t.Partition))
	return b
}

// String is for logs and error messages.
func (t Ticket) String() string {
	return fmt.Sprintf("%s/f%d/p%d", t.Query, t.Fragment, t.Partition)
}

// DecodeTicket parses bytes made by Ticket.Encode.
func DecodeTicket(b []byte) (Ticket, error) {
	bad := func(why string) (Ticket, error) {
		return Ticket{}, sqlerr.New(sqlerr.ProtocolViolation, "exchange: invalid ticket: %s", why)
	}
	if len(b) < 3 || b[0] != ticketMagic0 || b[1] != ticketMagic1 {
		return bad("not an exchange ticket")
	}
	if b[2] != ticketVersion {
		return bad(fmt.Sprintf("unsupported version %d", b[2]))
	}
	b = b[3:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxTicketQuery || uint64(len(b)-k) < n {
		return bad("query id")
	}
	var t Ticket
	t.Query = string(b[k : k+int(n)])
	b = b[k+int(n):]
	for _, p := range []*int{&t.Fragment, &t.Partition} {
		v, k := binary.Uvarint(b)
		if k <= 0 || v > math.MaxInt32 {
			return bad("fragment or partition")
		}
		*p = int(v)
		b = b[k:]
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	if err := t.Validate(); err != nil {
		return Ticket{}, err
	}
	return t, nil
}

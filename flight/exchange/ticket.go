package exchange

import (
	"crypto/hmac"
	"crypto/sha256"
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

// Signed tickets let a node serve a stream to a caller that does not hold
// the cluster secret — a Flight SQL client fetching a result directly from
// the executors — as long as the coordinator issued it the ticket: "QS",
// a 16-byte HMAC-SHA256 of the ticket under the cluster's key, then the
// ticket.
const (
	signedMagic0 = 'Q'
	signedMagic1 = 'S'
	macLen       = 16
)

// Sign returns the ticket's bytes authenticated with key.
func (t Ticket) Sign(key []byte) []byte {
	enc := t.Encode()
	out := append([]byte{signedMagic0, signedMagic1}, ticketMAC(key, enc)...)
	return append(out, enc...)
}

// IsSigned reports whether b is a signed ticket (not whether its
// signature holds).
func IsSigned(b []byte) bool {
	return len(b) > 2+macLen && b[0] == signedMagic0 && b[1] == signedMagic1
}

// DecodeSignedTicket checks the signature of b under key and decodes the
// ticket it carries.
func DecodeSignedTicket(b, key []byte) (Ticket, error) {
	if !IsSigned(b) || len(key) == 0 {
		return Ticket{}, sqlerr.New(sqlerr.ProtocolViolation, "exchange: not a signed ticket")
	}
	mac, enc := b[2:2+macLen], b[2+macLen:]
	if !hmac.Equal(mac, ticketMAC(key, enc)) {
		return Ticket{}, sqlerr.New(InvalidAuthorization, "exchange: the ticket's signature does not match")
	}
	return DecodeTicket(enc)
}

// InvalidAuthorization is PostgreSQL's invalid_authorization_specification.
const InvalidAuthorization = "28000"

func ticketMAC(key, enc []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(enc)
	return m.Sum(nil)[:macLen]
}

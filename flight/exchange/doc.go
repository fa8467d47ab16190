// Package exchange owns Quarry's internal data plane: it streams the
// batches of an exchange from the executor whose fragment produces them to
// the executor or coordinator that consumes them, as Arrow Flight DoGet
// calls. A Server serves the outputs a node holds (found through
// Outboxes); a Client opens them on remote nodes. Tickets name one consumer
// partition of one query fragment; SQL errors cross the wire with their
// SQLSTATE, and transport failures are told apart by IsUnavailable.
//
// Wire contract of one DoGet, for a producer of n batches:
//
//   - n > 0: an IPC schema message (the schema of the first batch), then n
//     record batch messages, then end of call with status OK;
//   - n = 0: no message at all, then end of call with status OK. The
//     consumer already knows the schema from its plan, so an empty
//     partition costs nothing and the producer never has to know a schema
//     it has not seen;
//   - on failure: whatever was sent so far, then a non-OK status whose
//     message is the error text ("ERROR 22012: division by zero") and whose
//     details carry the SQLSTATE, message and position.
//
// Backpressure is gRPC's flow control: the server writes each batch as the
// producer hands it over and Send blocks while the consumer does not read,
// so no side buffers more than the transport windows.
package exchange

package events

import (
	"fmt"
	"sync"
)

// Upcaster turns an event of an older schema version into the next one, in
// memory. The stored bytes are never rewritten: the chain hash and the
// Pebble history keep the original bytes; only what readers decode changes.
type Upcaster func(Event) (Event, error)

var (
	upcastMu   sync.RWMutex
	upcasters  = map[Type]Upcaster{}
	maxUpcasts = 16 // a chain longer than this is a cycle
)

// RegisterUpcaster makes Decode upcast events of type from with fn, which
// must return an event of a newer type (itself known, or upcast further).
// Register at init time. v1 is crosstalk's first schema, so the shipped
// binary registers none; a v2 schema adds its v1-to-v2 upcaster here.
func RegisterUpcaster(from Type, fn Upcaster) {
	upcastMu.Lock()
	defer upcastMu.Unlock()
	if _, dup := upcasters[from]; dup {
		panic(fmt.Sprintf("events: upcaster for %s registered twice", from))
	}
	upcasters[from] = fn
}

// UnregisterUpcaster removes the upcaster of type from (for tests).
func UnregisterUpcaster(from Type) {
	upcastMu.Lock()
	delete(upcasters, from)
	upcastMu.Unlock()
}

// upcast applies registered upcasters until e has a type without one.
func upcast(e Event) (Event, error) {
	upcastMu.RLock()
	defer upcastMu.RUnlock()
	for i := 0; i < maxUpcasts; i++ {
		fn, ok := upcasters[e.Type]
		if !ok {
			return e, nil
		}
		from := e.Type
		var err error
		if e, err = fn(e); err != nil {
			return Event{}, fmt.Errorf("%w: upcast %s: %v", ErrMalformedEvent, from, err)
		}
	}
	return Event{}, fmt.Errorf("%w: upcasters of %s form a cycle", ErrMalformedEvent, e.Type)
}

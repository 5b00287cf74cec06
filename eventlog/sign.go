package eventlog

import (
	"runtime"
	"sync"

	"github.com/crosstalk-dev/crosstalk/events"
)

// groupSigner signs concurrent appends together, one ed25519 signature per
// group (events.Signer.SignBatch), as a database commits concurrent
// transactions with one log write: the first appender that finds no
// signing in progress signs everything pending, itself included; appenders
// arriving meanwhile wait, and the first of them signs their group when
// the round before ends. A lone appender signs at once, so nothing waits
// for a timer, and no goroutine outlives the appends.
type groupSigner struct {
	signer *events.Signer

	mu      sync.Mutex
	signing bool           // a round is in progress
	pending []*signRequest // waiting for the next round
	spare   []*signRequest // the slice of a finished round, reused
	leaves  []events.Leaf  // scratch of the round in progress
}

// signRequest is one append waiting in a groupSigner.
type signRequest struct {
	leaf   events.Leaf
	header string
	// wake receives true once header is set, or false when this request
	// is to sign the next round.
	wake chan bool
}

// signRequests are the signRequests of finished signs, with their
// channels, reused: a request and its channel were two of an append's
// allocations.
var signRequests = sync.Pool{New: func() any { return &signRequest{wake: make(chan bool, 1)} }}

// sign returns the value of events.SignatureHeader for data on subject.
func (g *groupSigner) sign(subject string, data []byte) string {
	r := signRequests.Get().(*signRequest)
	r.leaf = events.Leaf{Subject: subject, Data: data}
	defer r.release()
	g.mu.Lock()
	g.pending = append(g.pending, r)
	lead := !g.signing
	g.signing = true
	g.mu.Unlock()
	if lead {
		// Let the appenders already runnable join this round: without it
		// a leader mostly signs alone, every other round
		// (BenchmarkAppendParallelSigned: 27 against 22 cpu-µs/op).
		runtime.Gosched()
	}
	if lead || !<-r.wake {
		g.round()
	}
	return r.header
}

// release returns r to signRequests, its channel drained (a leader's own
// wake is sent and never read) and its event's bytes let go.
func (r *signRequest) release() {
	select {
	case <-r.wake:
	default:
	}
	r.leaf, r.header = events.Leaf{}, ""
	signRequests.Put(r)
}

// round signs every pending request, then hands the next round to the
// first request that arrived meanwhile, or ends the signing. Only the
// goroutine that holds the round runs it, so the scratch space is its own.
func (g *groupSigner) round() {
	g.mu.Lock()
	batch := g.pending
	g.pending = g.spare[:0]
	g.mu.Unlock()
	g.leaves = g.leaves[:0]
	for _, r := range batch {
		g.leaves = append(g.leaves, r.leaf)
	}
	for i, h := range g.signer.SignBatch(g.leaves) {
		batch[i].header = h
	}
	clear(g.leaves) // keep no event's bytes alive between rounds
	g.mu.Lock()
	var next *signRequest
	if len(g.pending) > 0 {
		next = g.pending[0]
	} else {
		g.signing = false
	}
	for _, r := range batch {
		r.wake <- true // buffered: the leader's own is never read
	}
	clear(batch)
	g.spare = batch[:0]
	g.mu.Unlock()
	if next != nil {
		next.wake <- false
	}
}

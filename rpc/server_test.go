package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/admission"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// testHost answers as a service would, with the error's text for its body.
type testHost struct{}

func (testHost) Principal(*nats.Msg) (identity.Principal, error) { return identity.SelfDeclared, nil }
func (testHost) Context(base context.Context, _ string) (context.Context, context.CancelFunc) {
	return context.WithTimeout(base, time.Second)
}
func (testHost) EncodeError(err error) (string, string, string, []byte) {
	return "400", "invalid_request", FirstLine(err.Error(), ""), []byte(`{"error":{}}`)
}
func (testHost) EncodeReply(res any) ([]byte, func(), error) {
	b, err := json.Marshal(res)
	return b, nil, err
}
func (testHost) FitsReply([]byte) error { return nil }

type noObserver struct{}

func (noObserver) Answered(string, string, string, time.Duration) {}

// A Server of its own, without the service: a reply and an error reply
// each carry Crosstalk-Node and the request's trace context, the error
// micro's headers, and $SRV.STATS counts both, one of them an error.
func TestServerAnswersAndCounts(t *testing.T) {
	nc := natstest.Start(t).Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	srv := NewServer(ctx, Config{Conn: nc, Name: "rpctest", Version: "0.0.1", NodeID: "n1",
		Host: testHost{}, Observer: noObserver{}, Logger: slog.New(slog.DiscardHandler)})
	defer func() { cancel(); _ = srv.Stop() }()
	lim := admission.NewLimiter("queries", 4, 4, admission.DefaultLimits(), admission.Queries, nil)
	echo := func(_ context.Context, _ identity.Principal, req Request) (any, error) {
		if string(req.Data) == "fail" {
			return nil, errors.New("refused\nsecond line")
		}
		return map[string]string{"got": string(req.Data)}, nil
	}
	if err := srv.AddGroup("crosstalk.query").Add("query.echo", "echo", lim, echo, nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ok := request(t, nc, "hi", parent)
	if string(ok.Data) != `{"got":"hi"}` || ok.Header.Get(api.NodeHeader) != "n1" || ok.Header.Get("traceparent") != parent {
		t.Fatalf("reply %s, headers %v: want the echo, Crosstalk-Node n1 and the traceparent", ok.Data, ok.Header)
	}
	bad := request(t, nc, "fail", "")
	if bad.Header.Get(micro.ErrorCodeHeader) != "400" || bad.Header.Get(micro.ErrorHeader) != "refused" || bad.Header.Get(api.NodeHeader) != "n1" {
		t.Fatalf("error reply headers %v: want 400, its first line and Crosstalk-Node", bad.Header)
	}
	// The statistics count a reply once it is published: just after the
	// client may have read it.
	st := srv.stats().Endpoints[0]
	for deadline := time.Now().Add(time.Second); st.NumRequests < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		st = srv.stats().Endpoints[0]
	}
	if st.Name != "query_echo" || st.NumRequests != 2 || st.NumErrors != 1 || st.LastError != "400:refused" {
		t.Fatalf("stats %+v: want query_echo, 2 requests, 1 error (400:refused)", st)
	}
}

func request(t *testing.T, nc *nats.Conn, body, traceparent string) *nats.Msg {
	t.Helper()
	msg := nats.NewMsg("crosstalk.query.echo")
	msg.Data = []byte(body)
	if traceparent != "" {
		msg.Header.Set("traceparent", traceparent)
	}
	m, err := nc.RequestMsg(msg, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

package identity

import (
	"errors"
	"testing"
)

func TestRequestInfo(t *testing.T) {
	const real = `{"acc":"messenger","user":"messenger:bob"}`
	for _, tc := range []struct {
		name   string
		h      map[string][]string
		reply  string
		want   string
		wantEr error
	}{
		{"imported, one value", map[string][]string{RequestInfoHeader: {real}}, "_R_.abc.def", real, nil},
		{"imported without reply, one value", map[string][]string{RequestInfoHeader: {real}}, "", real, nil},
		{"two values", map[string][]string{RequestInfoHeader: {"forged", real}}, "_R_.a", "", ErrDuplicateInfo},
		{"two spellings", map[string][]string{"nats-request-info": {"forged"}, RequestInfoHeader: {real}}, "_R_.a", "", ErrDuplicateInfo},
		{"imported, hidden", map[string][]string{"X-A": {"b"}}, "_R_.a", "", ErrMissingInfo},
		{"imported, no header at all", nil, "_R_.a", "", ErrMissingInfo},
		{"no reply, no header", nil, "", "", ErrMissingInfo},
		{"from inside the service's account", nil, "_INBOX.service.x", "", nil},
	} {
		got, err := RequestInfo(tc.h, tc.reply)
		if got != tc.want || !errors.Is(err, tc.wantEr) || (tc.wantEr == nil) != (err == nil) {
			t.Errorf("%s: RequestInfo = %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.wantEr)
		}
	}
}

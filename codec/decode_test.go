package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
)

// FuzzDecodeStrictMatchesDecoder holds Decode, which checks field
// names with a key scan and decodes flat request types with json.Unmarshal,
// to the decoder it replaced (decodeStrictReference): for every request
// type, the same value, or the same error. Where the body has several
// unknown fields the reference named one of them in map order, at random;
// then both must name an unknown field.
func FuzzDecodeStrictMatchesDecoder(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{`{"Text":"x"}`, `{"te\u0078t":"x","Actor":"y"}`, `{"text":"x"} {}`, `[1]`, `"x"`, ` 12 `,
		`{"participants":[{"a":1}]}`, `{"text":1}`, `{"command_id":"a","command_id":"b"}`, `{"x":{"y":[1,{"z":"}"}]},"text":"\""}`,
		`{"text":"x",}`, `{"limit":-1}`, `{"participants":"a"}`, "{\"text\":\"\xff\"}",
		`{"text":null,"text":"a"}`, `{"text":"a","text":null}`, `{"participants":[]}`, `{"participants":null}`,
		`{"participants":["a","b"],"participants":["c"]}`, `{"command_id":null}`, `{"reaction":""}`,
		` { "participants" : [ "a" , "b" ] , "media" : "v" } `, `{"participants":["a\"b"]}`, `{"text":"\u00e9"}`,
		`{"after":"v1.3"}`, `{"after":5}`, `{"after":null,"min_seq":2}`, `{"After":"v1.3"}`} {
		f.Add([]byte(s))
	}
	types := []reflect.Type{reflect.TypeFor[convRequest](), reflect.TypeFor[accountRequest](), reflect.TypeFor[inboxQuery](),
		reflect.TypeFor[messagesQuery](), reflect.TypeFor[presenceQuery](), reflect.TypeFor[conversationQuery](),
		reflect.TypeFor[api.QueryBase](), reflect.TypeFor[api.PublishPolicy]()}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, typ := range types {
			got, want := reflect.New(typ), reflect.New(typ)
			err, wantErr := Decode(body, got.Interface()), decodeStrictReference(body, want.Interface())
			if bothUnknownField(err, wantErr) {
				continue
			}
			if fmtErr(err) != fmtErr(wantErr) || err == nil && !reflect.DeepEqual(got.Interface(), want.Interface()) {
				t.Fatalf("%s into %s: Decode = %+v, %v; the decoder = %+v, %v", body, typ, got, err, want, wantErr)
			}
		}
	})
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func bothUnknownField(a, b error) bool {
	return a != nil && b != nil && strings.Contains(a.Error(), "unknown field") && strings.Contains(b.Error(), "unknown field")
}

// decodeStrictReference is Decode as it was before the fast path: a
// map of the body's fields, then a strict json.Decoder.
func decodeStrictReference(body []byte, v any) error {
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return BadRequest("the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return BadRequest("the request body is not valid UTF-8")
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil {
		known := fieldsOf(reflect.TypeOf(v).Elem()).names
		for name := range fields {
			if !known[name] {
				return BadRequest("unknown field %q (field names are lower case, as in the contract)", name)
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadRequest("%s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("unexpected data after the JSON object")
	}
	return nil
}

// The plain decoder takes what producers send, so the fast path is the
// common one; FuzzDecodeStrictMatchesDecoder proves it equal to the decoder.
func TestDecodePlainTakesOrdinaryCommands(t *testing.T) {
	for _, body := range []string{
		`{"command_id":"c","actor":"a:b","conversation_id":"x","text":"hi there","message_id":"m"}`,
		`{"command_id":"c","actor":"a:b","participants":["b:c","d:e"]}`,
		` {"command_id":"c", "actor":"a:b", "conversation_id":"x", "message_id":"m", "reaction":null} `,
	} {
		var r convRequest
		if !r.decodePlain([]byte(body)) {
			t.Errorf("decodePlain refused %s", body)
		}
	}
}

// account.erase takes command_id and actor only, strictly: a setting, a
// status or an unknown field is refused, not ignored.
func TestAccountEraseBody(t *testing.T) {
	const id = "0190c2d4-0000-7000-8000-000000000001"
	cmd, err := AccountCommand(api.ActionAccountErase, "instagram", Origin{Principal: "p"},
		[]byte(`{"command_id":"`+id+`","actor":"instagram:alice"}`))
	want := aggregate.EraseAccount{Meta: aggregate.Meta{CommandID: id, App: "instagram", Actor: "instagram:alice", Principal: "p"}}
	if err != nil || !reflect.DeepEqual(cmd, want) {
		t.Fatalf("AccountCommand = %+v, %v; want %+v", cmd, err, want)
	}
	for _, body := range []string{
		`{"command_id":"` + id + `","actor":"instagram:alice","status":"idle"}`,
		`{"command_id":"` + id + `","actor":"instagram:alice","interop_opt_in":false}`,
		`{"command_id":"` + id + `","actor":"instagram:alice","account":"instagram:bob"}`,
	} {
		if _, err := AccountCommand(api.ActionAccountErase, "instagram", Origin{}, []byte(body)); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", body, err)
		}
	}
}

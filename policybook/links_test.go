package policybook

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

// The policy report copies each link into the wire's api.PolicyLink: a
// field added to events.LinkData and not to the copy would silently vanish
// from the report. Every field set, both must encode alike.
func TestPolicyLinksKeepEveryField(t *testing.T) {
	var link events.LinkData
	v := reflect.ValueOf(&link).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("app" + string(rune('a'+i)))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int:
			f.SetInt(int64(i + 1))
		default:
			t.Fatalf("events.LinkData.%s is a %s: teach this test and links", v.Type().Field(i).Name, f.Kind())
		}
	}
	want, _ := json.Marshal([]events.LinkData{link})
	got, _ := json.Marshal(links([]events.LinkData{link}))
	if string(got) != string(want) {
		t.Errorf("policy report link = %s, want %s", got, want)
	}
}

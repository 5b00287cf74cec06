package natsconf

import (
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/identity"
)

// CalloutAccount is the NATS account of the auth callout's own user: it
// holds nothing else, imports nothing, and is where nats-server sends its
// authorization requests.
const CalloutAccount = "AUTH"

// PrincipalCallout names the auth callout's user in credentials.json.
const PrincipalCallout = "callout"

// Callout is the auth_callout block of a configuration.
type Callout struct {
	// Issuer is the public account nkey that signs the callout's answers
	// (the seed stays with the callout, package authcallout).
	Issuer string
}

// WithCallout returns c made for end users that come through an auth
// callout signing with issuer (a public account nkey): the sample end users
// are gone, a callout principal (user "callout" of CalloutAccount) is
// added, and every remaining user is listed in auth_users, so that the
// service, the auditor, the admin and the app backends keep their static
// passwords and bypass the callout. Secrets come from rnd
// (crypto/rand.Reader when nil).
func (c Config) WithCallout(issuer string, rnd io.Reader) (Config, error) {
	if !nkeys.IsValidPublicAccountKey(issuer) {
		return Config{}, fmt.Errorf("auth callout issuer %q is not a public account nkey (A…)", issuer)
	}
	pw, err := secret(orRandom(rnd))
	if err != nil {
		return Config{}, err
	}
	out := c
	out.Credentials = slices.DeleteFunc(slices.Clone(c.Credentials), func(cr Credential) bool {
		return cr.Kind == string(identity.KindUser)
	})
	out.Credentials = append(out.Credentials,
		Credential{Principal: PrincipalCallout, Kind: PrincipalCallout, Account: CalloutAccount, User: "callout", Password: pw,
			InboxPrefix: InboxPrefix(PrincipalCallout, PrincipalCallout)})
	out.Callout = &Callout{Issuer: issuer}
	return out, nil
}

// writeCalloutAccount writes CalloutAccount with the callout's user, which
// may only take authorization requests and answer them.
func (c Config) writeCalloutAccount(b *strings.Builder) {
	if c.Callout == nil {
		return
	}
	cr, _ := c.Lookup(PrincipalCallout)
	fmt.Fprintf(b, "  %q {\n    users: [\n", CalloutAccount)
	fmt.Fprintf(b, "      # the auth callout: answers the server's authorization requests, nothing else\n")
	fmt.Fprintf(b, "      {user: %q, password: %q, permissions: {subscribe: {allow: [%q]}, allow_responses: true}}\n",
		cr.User, cr.Password, "$SYS.REQ.USER.AUTH")
	b.WriteString("    ]\n  }\n")
}

// writeAuthorization writes the auth_callout block: every user of the file
// is an auth user, so that only end users (who are in no file) are asked
// about.
func (c Config) writeAuthorization(b *strings.Builder) {
	if c.Callout == nil {
		return
	}
	users := make([]string, 0, len(c.Credentials))
	for _, cr := range c.Credentials {
		users = append(users, cr.User)
	}
	b.WriteString("\n# End users are in no file: each connects with a device token its app signed,\n")
	b.WriteString("# checked by `crosstalk auth callout` (docs/security.md).\n")
	fmt.Fprintf(b, "authorization {\n  auth_callout {\n    issuer: %q\n    account: %q\n    auth_users: %s\n  }\n}\n",
		c.Callout.Issuer, CalloutAccount, list(users))
}

// orRandom is rnd, or crypto/rand's reader when nil.
func orRandom(rnd io.Reader) io.Reader {
	if rnd == nil {
		return rand.Reader
	}
	return rnd
}

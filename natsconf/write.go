package natsconf

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// WriteConf writes c as a nats-server configuration listening on listen
// (host:port). JetStream is enabled for the service's account, and for
// AUDIT and each app's account to hold their copies (the auditor's
// mirrors, the app's durable feed) and nothing else; the store directory
// is the one `crosstalk serve --data` gives, or the server's default when
// run by nats-server itself.
func (c Config) WriteConf(w io.Writer, listen string) error {
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	c.Limits = c.Limits.withDefaults()
	b := &strings.Builder{}
	fmt.Fprintf(b, "# crosstalk identity configuration, written by `crosstalk auth init`.\n")
	fmt.Fprintf(b, "# docs/security.md explains every account, export, import and limit below.\n")
	fmt.Fprintf(b, "listen: %q\nmax_payload: %d\njetstream {}\n", listen, c.Limits.serverMaxPayload())
	if c.TLS.Cert != "" {
		fmt.Fprintf(b, "tls {\n  cert_file: %q\n  key_file: %q\n}\n", c.TLS.Cert, c.TLS.Key)
	}
	b.WriteString("\naccounts {\n")
	c.writeServiceAccount(b)
	c.writeAdminAccount(b)
	c.writeAuditAccount(b)
	for _, app := range c.Apps {
		c.writeAppAccount(b, app)
	}
	c.writeCalloutAccount(b)
	b.WriteString("}\n")
	c.writeAuthorization(b)
	_, err := io.WriteString(w, b.String())
	return err
}

// URL is the URL clients reach a server listening on listen at: tls://
// with a tls block, and loopback for a wildcard host.
func (c Config) URL(listen string) string {
	scheme := "nats://"
	if c.TLS.Cert != "" {
		scheme = "tls://"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return scheme + listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return scheme + net.JoinHostPort(host, port)
}

func (c Config) writeServiceAccount(b *strings.Builder) {
	svc, _ := c.Lookup(PrincipalService)
	fmt.Fprintf(b, "  %q {\n    jetstream: enabled\n", ServiceAccount)
	writeLimits(b, c.Limits.Service)
	b.WriteString("    users: [\n")
	fmt.Fprintf(b, "      # the service: streams, micro endpoints, everything\n")
	fmt.Fprintf(b, "      {user: %q, password: %q}\n", svc.User, svc.Password)
	b.WriteString("    ]\n    imports: [\n")
	writeAuditImports(b)
	for _, app := range c.Apps {
		writeFeedImports(b, app)
	}
	b.WriteString("    ]\n    exports: [\n")
	for _, app := range c.Apps {
		fmt.Fprintf(b, "      {service: %q, accounts: [%q]}\n", api.CommandSubjects(app), app)
		// a service, not a stream: the intake stream's ack must flow back
		fmt.Fprintf(b, "      {service: %q, accounts: [%q]}\n", intakeSubjects(app), app)
		fmt.Fprintf(b, "      {stream: %q, accounts: [%q]}\n", api.OutcomeSubject(app), app)
		fmt.Fprintf(b, "      {stream: %q, accounts: [%q]}\n", feedSubjects(app), app)
		writeFeedExports(b, app)
	}
	queriers := append(quoted(c.Apps), fmt.Sprintf("%q", identity.AdminAccount))
	fmt.Fprintf(b, "      {service: %q, accounts: [%s]}\n", api.QuerySubjects, strings.Join(queriers, ", "))
	fmt.Fprintf(b, "      {service: %q, accounts: [%q]}\n", api.AdminSubjects, identity.AdminAccount)
	// the admin answers a data subject's erasure request for any app
	fmt.Fprintf(b, "      {service: %q, accounts: [%q]}\n", api.EraseSubjects, identity.AdminAccount)
	writeAuditExports(b)
	b.WriteString("    ]\n  }\n")
}

func (c Config) writeAdminAccount(b *strings.Builder) {
	adm, _ := c.Lookup(PrincipalAdmin)
	fmt.Fprintf(b, "  %q {\n", identity.AdminAccount)
	writeLimits(b, c.Limits.Admin)
	b.WriteString("    users: [\n")
	fmt.Fprintf(b, "      {user: %q, password: %q, permissions: %s}\n", adm.User, adm.Password,
		permissions(adm, api.AdminSubjects, api.QuerySubjects, api.EraseSubjects))
	b.WriteString("    ]\n    imports: [\n")
	writeImport(b, api.AdminSubjects)
	writeImport(b, api.EraseSubjects)
	writeImport(b, api.QuerySubjects)
	b.WriteString("    ]\n  }\n")
}

// writeAppAccount writes app's account. Its backend user (kind app) may
// also publish to its intake and subscribe to its outcomes; its end users
// may not, since the intake knows no caller finer than the app.
func (c Config) writeAppAccount(b *strings.Builder, app string) {
	fmt.Fprintf(b, "  %q {\n", app)
	writeLimits(b, c.Limits.App)
	b.WriteString("    # the copy of the app's durable feed (docs/feeds.md) and its backend's consumers\n")
	fmt.Fprintf(b, "    jetstream: {max_streams: 1, max_consumers: %d}\n", maxFeedConsumers)
	feedImports, feedExports := writeFeedAppSide(app)
	b.WriteString("    users: [\n")
	for _, cr := range c.Credentials {
		if cr.Account != app {
			continue
		}
		perms := userPermissions(cr)
		if cr.Kind == string(identity.KindApp) {
			perms = appPermissions(app, cr)
		}
		fmt.Fprintf(b, "      {user: %q, password: %q, permissions: %s}\n", cr.User, cr.Password, perms)
	}
	b.WriteString("    ]\n    imports: [\n")
	writeImport(b, api.CommandSubjects(app))
	writeImport(b, api.QuerySubjects)
	fmt.Fprintf(b, "      {service: {account: %q, subject: %q}}\n", ServiceAccount, intakeSubjects(app))
	fmt.Fprintf(b, "      {stream: {account: %q, subject: %q}}\n", ServiceAccount, api.OutcomeSubject(app))
	fmt.Fprintf(b, "      {stream: {account: %q, subject: %q}}\n", ServiceAccount, feedSubjects(app))
	b.WriteString(feedImports)
	b.WriteString("    ]\n    exports: [\n")
	b.WriteString(feedExports)
	b.WriteString("    ]\n  }\n")
}

// maxFeedConsumers bounds the consumers an app's backend may keep on its
// durable feed.
const maxFeedConsumers = 100

// feedSubjects are the live feeds of app's accounts, crosstalk.feed.<app>.>.
func feedSubjects(app string) string { return api.FeedPrefix + app + ".>" }

// userPermissions are an end user's (EndUserSubjects) in a configuration
// file.
func userPermissions(cr Credential) string {
	pub, sub := EndUserSubjects(cr.Principal)
	return fmt.Sprintf("{publish: {allow: %s}, subscribe: {allow: %s}}", list(pub), list(sub))
}

// EndUserSubjects are what the end user account "<app>:<handle>" may
// publish to and subscribe to, whether a configuration file names it or
// the auth callout issues it: its app's commands and the queries; the
// replies under its own inbox prefix, and its own live feed only
// (docs/feeds.md).
func EndUserSubjects(account string) (publish, subscribe []string) {
	app, _, _ := strings.Cut(account, ":")
	return []string{api.CommandSubjects(app), api.QuerySubjects},
		[]string{InboxPrefix(string(identity.KindUser), account) + ".>", api.FeedSubject(account)}
}

// inboxSubjects are the replies cr may subscribe to: its own prefix's,
// never another principal's of the same account (issue 21, finding 2).
func inboxSubjects(cr Credential) string { return cr.InboxPrefix + ".>" }

// intakeSubjects are app's intake subjects, crosstalk.intake.<app>.>.
func intakeSubjects(app string) string { return api.IntakeSubject(app, ">") }

// appPermissions are an app backend's: its commands, the queries and its
// intake, reading its durable feed (feedReaderSubjects), the replies to
// its own inbox prefix, its outcomes and the live feeds of its accounts.
func appPermissions(app string, cr Credential) string {
	pub := append([]string{api.CommandSubjects(app), api.QuerySubjects, intakeSubjects(app)}, feedReaderSubjects(app)...)
	return fmt.Sprintf("{publish: {allow: %s}, subscribe: {allow: %s}}",
		list(pub),
		list([]string{inboxSubjects(cr), api.OutcomeSubject(app), feedSubjects(app)}))
}

// writeImport imports a service of the service account with share: true,
// so that nats-server writes the caller's user into Nats-Request-Info.
func writeImport(b *strings.Builder, subject string) {
	fmt.Fprintf(b, "      {service: {account: %q, subject: %q}, share: true}\n", ServiceAccount, subject)
}

// permissions lets cr publish requests on subjects and receive the
// replies to its own inbox prefix.
func permissions(cr Credential, subjects ...string) string {
	return fmt.Sprintf("{publish: {allow: %s}, subscribe: {allow: %s}}", list(subjects), list([]string{inboxSubjects(cr)}))
}

func quoted(items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func list(items []string) string { return "[" + strings.Join(quoted(items), ", ") + "]" }

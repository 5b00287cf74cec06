package natsconf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/crosstalk-dev/crosstalk/events"
)

// AuditAccount is the NATS account of the auditor. It holds mirrors of the
// service's streams (CROSSTALK, or a partitioned log's CROSSTALK_P<k> and
// CROSSTALK_POLICY, and CROSSTALK_AUDIT) under the same names, and
// exports nothing its users could use: a consumer the auditor creates there
// delivers to no other account. The auditor never touches the service's
// account (docs/security.md, "The auditor's account").
const AuditAccount = "AUDIT"

// The subjects that carry the mirrors between the two accounts.
const (
	// ServiceAPIPrefix is where AUDIT reaches the consumer-create API of
	// the service's mirrored streams, and their stream info: the mirrors'
	// External.APIPrefix. The auditor may publish only the stream info
	// under it; the mirrors' own requests come from the server itself.
	ServiceAPIPrefix = "$JS.CROSSTALK.API"
	// MirrorDeliverPrefix is the subject the service's account delivers
	// the mirrors' messages under, exported to AUDIT alone: the mirrors'
	// External.DeliverPrefix.
	MirrorDeliverPrefix = "$JS.CROSSTALK.DELIVER"
	// AuditAPIPrefix is where the service reaches AUDIT's stream create and
	// info of the mirrors, to create them (EnsureMirrors).
	AuditAPIPrefix = "$JS.AUDIT.API"
)

// MaxMirroredPartitions is the largest partitioned log (serve
// --partitions) whose streams the generated configuration lets AUDIT
// mirror. A stream's name is one token of the $JS.API subjects, so no
// wildcard can name CROSSTALK_P0 … without naming CROSSTALK_INTAKE_<app>
// too: each name is written out, for every N up to this one.
const MaxMirroredPartitions = 16

// mirrored are the streams AUDIT may mirror: the single stream, the
// refusals, and the streams of a log of up to MaxMirroredPartitions
// partitions (the names eventlog.PartitionStreamName and
// eventlog.PolicyStreamName give). CROSSTALK_INTAKE is not one: its
// commands are not yet decided, and an auditor reads decisions.
var mirrored = mirroredStreams()

func mirroredStreams() []string {
	names := []string{events.StreamName, events.AuditStreamName}
	for k := range MaxMirroredPartitions {
		names = append(names, events.StreamName+"_P"+strconv.Itoa(k))
	}
	return append(names, events.StreamName+"_POLICY")
}

// writeAuditAccount writes the auditor's account: its user, the mirrors'
// imports from the service's account, and the exports of its streams'
// create and info to the service's account, which creates the mirrors.
func (c Config) writeAuditAccount(b *strings.Builder) {
	aud, _ := c.Lookup(PrincipalAuditor)
	fmt.Fprintf(b, "  %q {\n", AuditAccount)
	writeLimits(b, c.Limits.Audit)
	b.WriteString("    # the auditor's copies of the service's streams, and nothing else\n")
	fmt.Fprintf(b, "    jetstream: {max_streams: %d, max_consumers: 100}\n    users: [\n", len(mirrored))
	fmt.Fprintf(b, "      # the auditor: reads its copies, changes nothing, reaches no other account\n")
	fmt.Fprintf(b, "      {user: %q, password: %q, permissions: %s}\n", aud.User, aud.Password,
		auditorPermissions(aud.InboxPrefix))
	b.WriteString("    ]\n    imports: [\n")
	for _, s := range mirrored {
		for _, api := range []string{"CONSUMER.CREATE.", "STREAM.INFO."} {
			fmt.Fprintf(b, "      {service: {account: %q, subject: %q}, to: %q}\n",
				ServiceAccount, "$JS.API."+api+s, ServiceAPIPrefix+"."+api+s)
		}
		fmt.Fprintf(b, "      {service: {account: %q, subject: %q}}\n", ServiceAccount, "$JS.FC."+s+".>")
	}
	fmt.Fprintf(b, "      {stream: {account: %q, subject: %q}}\n", ServiceAccount, MirrorDeliverPrefix+".>")
	b.WriteString("    ]\n    exports: [\n")
	for _, s := range mirrored {
		for _, api := range []string{"STREAM.CREATE.", "STREAM.INFO."} {
			fmt.Fprintf(b, "      {service: %q, accounts: [%q]}\n", "$JS.API."+api+s, ServiceAccount)
		}
	}
	b.WriteString("    ]\n  }\n")
}

// writeAuditExports writes the service account's side of the mirrors: the
// exports AUDIT imports, and the imports of AUDIT's stream create and info.
func writeAuditExports(b *strings.Builder) {
	b.WriteString("      # the auditor's mirrors (AUDIT): their consumers, flow control and delivery\n")
	for _, s := range mirrored {
		for _, subject := range []string{"$JS.API.CONSUMER.CREATE." + s, "$JS.API.STREAM.INFO." + s, "$JS.FC." + s + ".>"} {
			fmt.Fprintf(b, "      {service: %q, accounts: [%q]}\n", subject, AuditAccount)
		}
	}
	fmt.Fprintf(b, "      {stream: %q, accounts: [%q]}\n", MirrorDeliverPrefix+".>", AuditAccount)
}

// writeAuditImports writes the service account's imports of AUDIT's stream
// create and info, under AuditAPIPrefix.
func writeAuditImports(b *strings.Builder) {
	for _, s := range mirrored {
		for _, api := range []string{"STREAM.CREATE.", "STREAM.INFO."} {
			fmt.Fprintf(b, "      {service: {account: %q, subject: %q}, to: %q}\n",
				AuditAccount, "$JS.API."+api+s, AuditAPIPrefix+"."+api+s)
		}
	}
}

// auditorPermissions are the auditor's, in AUDIT: what reading its copies
// needs (stream info, direct and message gets, ordered consumers) and the
// origin's stream info, to know how far its copies lag. Nothing creates,
// updates, purges or deletes a stream: a mirror the auditor could create
// would name its own delivery subject in the service's account. Nothing
// under ServiceAPIPrefix but the stream info, so no consumer in the
// service's account; no flow control, which AUDIT imports from there.
func auditorPermissions(inbox string) string {
	allow := []string{"$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST"}
	for _, s := range mirrored {
		allow = append(allow,
			"$JS.API.STREAM.INFO."+s, "$JS.API.STREAM.MSG.GET."+s,
			"$JS.API.DIRECT.GET."+s, "$JS.API.DIRECT.GET."+s+".>",
			"$JS.API.CONSUMER.CREATE."+s, "$JS.API.CONSUMER.CREATE."+s+".>",
			"$JS.API.CONSUMER.INFO."+s+".>", "$JS.API.CONSUMER.DELETE."+s+".>",
			"$JS.API.CONSUMER.MSG.NEXT."+s+".>", ServiceAPIPrefix+".STREAM.INFO."+s)
	}
	deny := []string{ServiceAPIPrefix + ".CONSUMER.>", "$JS.FC.>", "$JS.API.STREAM.CREATE.>",
		"$JS.API.STREAM.UPDATE.>", "$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>", "$JS.API.STREAM.MSG.DELETE.>"}
	return fmt.Sprintf("{publish: {allow: %s, deny: %s}, subscribe: {allow: %s}}", list(allow), list(deny), list([]string{inbox + ".>"}))
}

package api

// The durable intake (docs/intake.md): a producer publishes a command to
// JetStream on IntakeSubject and moves on; crosstalk decides it later,
// exactly once, and publishes its Outcome on OutcomeSubject.
const (
	// IntakePrefix starts an intake subject: crosstalk.intake.<app>.<action>,
	// the action one of ConversationActions or AccountActions.
	IntakePrefix = "crosstalk.intake."
	// OutcomePrefix starts an outcome subject: crosstalk.outcome.<app>.
	OutcomePrefix = "crosstalk.outcome."
	// QueryCommand is the query crosstalk.query.command: CommandQuery ->
	// Outcome, for as long as the intake window keeps the outcome.
	QueryCommand = "command"
	// MsgIDHeader is the JetStream header that carries an intake
	// message's key, IntakeMsgID(app, command_id) of its subject's app and
	// its body's command_id.
	MsgIDHeader = "Nats-Msg-Id"
)

// IntakeMsgID is the Nats-Msg-Id of app's intake command commandID:
// "<app>.<command_id>". JetStream deduplicates the intake stream by it
// across all apps, so each app's ids are scoped by its name; it is also
// the command's key everywhere crosstalk remembers a command id
// (events.CommandKey).
func IntakeMsgID(app, commandID string) string { return app + "." + commandID }

// IntakeSubject is the intake subject of action for app.
func IntakeSubject(app, action string) string { return IntakePrefix + app + "." + action }

// OutcomeSubject is the subject app's intake outcomes are published on.
func OutcomeSubject(app string) string { return OutcomePrefix + app }

// Outcome is the decision on one intake command, published on
// OutcomeSubject(App) and answered by QueryCommand: exactly one of Reply
// (the command's success reply, as request/reply would have answered it)
// and Error (the contract's refusal) is set. CommandID is "" only when the
// intake message carried no usable id; IntakeSeq is its sequence in the
// intake stream.
type Outcome struct {
	CommandID string        `json:"command_id"`
	App       string        `json:"app"`
	Action    string        `json:"action"`
	IntakeSeq uint64        `json:"intake_seq"`
	Reply     *CommandReply `json:"reply,omitempty"`
	Error     *Error        `json:"error,omitempty"`
}

// CommandQuery is the request of crosstalk.query.command: the outcome of
// App's command CommandID. An app asks for its own (App may be left out);
// an admin, the service or a caller in development mode names App.
type CommandQuery struct {
	CommandID string `json:"command_id"`
	App       string `json:"app,omitempty"`
}

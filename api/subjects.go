package api

// Subjects of crosstalk's endpoints (contract: "Subjects"). All endpoints
// belong to one NATS micro service named ServiceName.
const (
	// ServiceName is the name of the micro service ("nats micro ls").
	ServiceName = "crosstalk"
	// CommandPrefix starts a command subject: crosstalk.cmd.<app>.<action>.
	CommandPrefix = "crosstalk.cmd."
	// AdminPublish is the subject that publishes a policy.
	AdminPublish = "crosstalk.admin.policy.publish"
	// AdminViewsRebuild is the subject that starts an online rebuild of
	// the read model (RebuildViews -> RebuildReply).
	AdminViewsRebuild = "crosstalk.admin.views.rebuild"
	// QueryPrefix starts a query subject: crosstalk.query.<name>.
	QueryPrefix = "crosstalk.query."
)

// Conversation command actions: each is served on
// crosstalk.cmd.<app>.<action> and takes a ConversationCommand.
const (
	ActionConversationStart = "conversation.start"
	ActionMessageSend       = "message.send"
	ActionMessageEdit       = "message.edit"
	ActionMessageUnsend     = "message.unsend"
	ActionMessageReact      = "message.react"
	ActionMessageRead       = "message.read"
	ActionCallStart         = "call.start"
	ActionCallEnd           = "call.end"
)

// Account command actions: each takes an AccountCommand.
const (
	ActionPresenceSet = "presence.set"
	ActionSettingsSet = "settings.set"
)

// ConversationActions and AccountActions are the command actions; each is
// served on crosstalk.cmd.<app>.<action> for any app.
var (
	ConversationActions = []string{ActionConversationStart, ActionMessageSend, ActionMessageEdit,
		ActionMessageUnsend, ActionMessageReact, ActionMessageRead, ActionCallStart, ActionCallEnd}
	AccountActions = []string{ActionPresenceSet, ActionSettingsSet}
)

// Query names: each is served on crosstalk.query.<name>.
const (
	QueryInbox        = "inbox"        // InboxQuery -> InboxPage
	QueryMessages     = "messages"     // MessagesQuery -> MessagePage
	QueryPresence     = "presence"     // PresenceQuery -> PresenceView
	QueryConversation = "conversation" // ConversationQuery -> ConversationView
	QueryPolicy       = "policy"       // QueryBase -> PolicyReport
	QueryStatus       = "status"       // QueryBase -> Status
)

// CommandSubject is the subject of action for app.
func CommandSubject(app, action string) string { return CommandPrefix + app + "." + action }

// QuerySubject is the subject of query name.
func QuerySubject(name string) string { return QueryPrefix + name }

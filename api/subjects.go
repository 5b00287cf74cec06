package api

// Subjects of crosstalk's endpoints (contract: "Subjects"). All endpoints
// belong to one NATS micro service named ServiceName.
const (
	// ServiceName is the name of the micro service ("nats micro ls").
	ServiceName = "crosstalk"
	// CommandGroup is the micro group of the commands:
	// crosstalk.cmd.<app>.<action>.
	CommandGroup = "crosstalk.cmd"
	// CommandPrefix starts a command subject: crosstalk.cmd.<app>.<action>.
	CommandPrefix = CommandGroup + "."
	// AdminGroup is the micro group of the admin's requests.
	AdminGroup = "crosstalk.admin"
	// AdminPrefix starts an admin subject: crosstalk.admin.<name>.
	AdminPrefix = AdminGroup + "."
	// AdminPublish is the subject that publishes a policy.
	AdminPublish = AdminPrefix + AdminPolicyPublish
	// AdminViewsRebuild is the subject that starts an online rebuild of
	// the read model (RebuildViews -> RebuildReply).
	AdminViewsRebuild = AdminPrefix + AdminRebuild
	// AdminPolicyPublish and AdminRebuild are AdminPublish's and
	// AdminViewsRebuild's endpoint names in AdminGroup.
	AdminPolicyPublish = "policy.publish"
	AdminRebuild       = "views.rebuild"
	// QueryGroup is the micro group of the queries: crosstalk.query.<name>.
	QueryGroup = "crosstalk.query"
	// QueryPrefix starts a query subject: crosstalk.query.<name>.
	QueryPrefix = QueryGroup + "."
	// QuerySubjects and AdminSubjects are the wildcards of every query
	// and of every admin request (NATS permissions, exports and imports).
	QuerySubjects = QueryPrefix + ">"
	AdminSubjects = AdminPrefix + ">"
	// EraseSubjects is account.erase of every app: the one command
	// subject the admin may use (NATS permissions, exports and imports).
	EraseSubjects = CommandPrefix + "*." + ActionAccountErase
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
// ActionAccountErase takes command_id and actor only: it erases the
// actor's account (docs/erasure.md), asked by the account itself, its
// app's backend or the admin.
const (
	ActionPresenceSet  = "presence.set"
	ActionSettingsSet  = "settings.set"
	ActionAccountErase = "account.erase"
)

// ConversationActions and AccountActions are the command actions; each is
// served on crosstalk.cmd.<app>.<action> for any app.
var (
	ConversationActions = []string{ActionConversationStart, ActionMessageSend, ActionMessageEdit,
		ActionMessageUnsend, ActionMessageReact, ActionMessageRead, ActionCallStart, ActionCallEnd}
	AccountActions = []string{ActionPresenceSet, ActionSettingsSet, ActionAccountErase}
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

// CommandSubjects is the wildcard of app's commands: crosstalk.cmd.<app>.>.
func CommandSubjects(app string) string { return CommandPrefix + app + ".>" }

package aggregate

// Position returns the conversation's place in the log.
func (c *Conversation) Position() *Stream { return &c.Stream }

// Position returns the account's place in the log.
func (a *Account) Position() *Stream { return &a.Stream }

// Position returns the policy aggregate's place in the log.
func (ps *Policies) Position() *Stream { return &ps.Stream }

// Header returns the command's meta. Every command that embeds Meta has it,
// so callers can read the id and actor of any command without a type switch.
func (m Meta) Header() Meta { return m }

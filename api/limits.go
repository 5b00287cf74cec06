package api

// Limits of the contract. A request past one is refused with 400 naming the
// limit (docs/contract.md, "Limits"). They are the one source of these
// numbers: the rules of package aggregate enforce these constants, and a
// producer can check them before sending.
const (
	// MaxParticipants bounds a conversation's participants, the actor
	// included.
	MaxParticipants = 256
	// MaxTextBytes is the longest message text, in bytes of UTF-8.
	MaxTextBytes = 4096
	// MaxReactionBytes bounds a reaction (an emoji or short code), in
	// bytes of UTF-8.
	MaxReactionBytes = 64
	// MaxPolicyLinks bounds the links of one policy.
	MaxPolicyLinks = 1024
	// MaxPolicyBytes bounds a policy as it is stored: the JSON of its
	// policy.published payload.
	MaxPolicyBytes = 192 << 10
	// MaxPolicyVersion is the highest policy version, 2^53−1: the largest
	// integer every JSON client, floating point included, reads exactly.
	MaxPolicyVersion = 1<<53 - 1
	// MaxPolicyVersionStep bounds how far above the latest published
	// version a new one may be, so that no single publish (a typo, say)
	// uses up the version space.
	MaxPolicyVersionStep = 1 << 32
	// MaxQuoted is how many bytes of a value an error message quotes; a
	// longer value is cut there and ends in "…".
	MaxQuoted = 64
)

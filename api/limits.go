package api

// Limits of the contract. A request past one is refused with 400 naming the
// limit (docs/contract.md, "Limits"); the server's own rules hold the same
// numbers (a test pins them equal), so a producer can check before sending.
const (
	// MaxParticipants bounds a conversation's participants, the actor
	// included.
	MaxParticipants = 256
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

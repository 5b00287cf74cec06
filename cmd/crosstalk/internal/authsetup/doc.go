// Package authsetup is the work of 'crosstalk auth': writing a
// nats-server configuration of accounts, users and permissions (with the
// auth callout's keys when end users come through it), running the
// callout from the files it wrote, and minting a device token by hand.
package authsetup

package main

// backupLong is the --help of backup.
const backupLong = `backup snapshots, through JetStream's snapshot API (as 'nats stream backup'
does), every stream and bucket crosstalk keeps on a running NATS server into
DIR, one directory per stream under DIR/streams, beside DIR/manifest.json:

  the log        CROSSTALK, or CROSSTALK_P0 … CROSSTALK_P{N-1} and
                 CROSSTALK_POLICY when partitioned
  CROSSTALK_AUDIT               the refused commands
  CROSSTALK_INTAKE_<app>        each app's intake, with its consumer
  KV_CROSSTALK_OUTCOMES         the intake's outcomes
  KV_CROSSTALK_SNAPSHOTS        conversation snapshots and message records
  CROSSTALK_KEYS                the sealing keys, wrapped by the master key
  CROSSTALK_FEED_<app>          durable feeds, if any, with their consumers

Left out: KV_CROSSTALK_LEASES (leases name running nodes and lapse in seconds;
the restored server's nodes take them afresh), the Pebble views (derived from
the log: a node rebuilds them), and the master key file, which is kept apart
from backups (docs/operations.md, "The keys that seal message content").

The manifest holds crosstalk's version, the time, each stream's configuration
and state at its snapshot, and the log's 'audit checksum' up to those states:
events appended while the backup runs change nothing. With --data DIR or
--signing-key FILE the signing key's public half goes beside it
(signing-key.pub.pem), for 'audit verify --public-key'.

Run it as a principal that may use the JetStream API of crosstalk's account
(the service's credentials under 'crosstalk auth init'). DIR must be empty or
new: a backup that did not finish has no manifest.json, and is removed by
hand.`

// restoreLong is the --help of restore.
const restoreLong = `restore creates every stream of the backup in DIR on a NATS server from its
snapshot, then sums the restored log as 'audit checksum' does: a sum other
than the backup's is an error.

The server must have none of crosstalk's streams: restore refuses, naming
them, before it creates any. Restore before any 'crosstalk serve' connects to
the server (a serve creates empty streams), then start the nodes: each
rebuilds its views from the log. Give them the master key of the backed-up
nodes (serve --master-key), or every sealed text reads as erased; and if the
keys were erased since the backup, run 'crosstalk keys reerase' first.

A restore that fails midway leaves the streams it created: delete them (nats
stream rm) or restore into another server.

--replicas N gives every stream N replicas; by default a server that is not
in a cluster gives each 1 (a backup of R3 streams restores into it), and a
cluster the backup's own.`

#!/bin/sh
# Run by the postgres image when it creates its data directory (docker-compose.yml mounts it into
# /docker-entrypoint-initdb.d): lets the standby (postgres-replica) stream from this server, with
# the same password.
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"

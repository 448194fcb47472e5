-- Per-domain query statistics (issue 20): answers counted on the query path in memory, written in
-- batches by every answering process (one upsert per flush, count = count + excluded.count, so
-- workers and nodes add up), kept per minute for GLIDEPATH_STATS_MINUTE_RETENTION, then rolled up
-- per hour (store/query-stats-rollup.ts, exactly once across servers) and kept for
-- GLIDEPATH_STATS_HOUR_RETENTION. qtype and rcode are bounded labels: a mnemonic from a fixed list
-- (server/domain-counts.ts) or 'other'. Not journaled: statistics are not zone data.
CREATE TABLE domain_query_minutes (
  domain_id bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  minute    timestamptz NOT NULL CHECK (extract(second FROM minute) = 0),
  qtype     text NOT NULL,
  rcode     text NOT NULL,
  count     bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (domain_id, minute, qtype, rcode)
);
-- The rollup and the busiest-domains list read by time first.
CREATE INDEX domain_query_minutes_minute ON domain_query_minutes (minute);

CREATE TABLE domain_query_hours (
  domain_id bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  hour      timestamptz NOT NULL,
  qtype     text NOT NULL,
  rcode     text NOT NULL,
  count     bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (domain_id, hour, qtype, rcode)
);
CREATE INDEX domain_query_hours_hour ON domain_query_hours (hour);

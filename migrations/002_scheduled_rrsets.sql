-- RRset-level Progressive Zone Change: "at T, replace www A with 203.0.113.9" (or delete an RRset).
-- Scheduled on the zone (the data belongs to it; every domain serving the zone sees it). Until T the
-- RRset's TTL, and negative answers for that owner and type, are capped at the seconds left; from
-- T the responder serves the new RRset by the clock; the scheduler writes it durably.
CREATE TABLE scheduled_rrsets (
  id         bigserial PRIMARY KEY,
  zone_id    bigint NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  owner      text NOT NULL CHECK (owner <> '' AND owner !~ '\.$' AND length(owner) <= 254),
  type       integer NOT NULL CHECK (type BETWEEN 1 AND 65535 AND type <> 41 AND type NOT BETWEEN 128 AND 255),
  ttl        integer NOT NULL CHECK (ttl BETWEEN 0 AND 2147483647),
  -- Canonical presentation rdata of the new RRset; empty: the RRset is deleted at T.
  rdatas     text[] NOT NULL,
  at         timestamptz NOT NULL CHECK (at = date_trunc('second', at)),
  -- Why applying it failed, if it did (it is then left for an operator instead of retried).
  failed     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (zone_id, owner, type)
);
CREATE INDEX scheduled_rrsets_at ON scheduled_rrsets (at) WHERE failed IS NULL;

-- Scheduling changes what the zone's domains serve (their TTLs), so the snapshot reloads the zone.
CREATE FUNCTION scheduled_rrsets_journal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r scheduled_rrsets;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF NOT EXISTS (SELECT 1 FROM zones WHERE id = r.zone_id) THEN RETURN NULL; END IF;
  PERFORM journal_append('records', 'schedule-' || lower(TG_OP), r.zone_id, NULL, NULL,
    jsonb_build_object('owner', r.owner, 'type', r.type, 'ttl', r.ttl, 'records', to_jsonb(r.rdatas), 'at', r.at));
  RETURN NULL;
END $$;
CREATE TRIGGER scheduled_rrsets_journal AFTER INSERT OR UPDATE OR DELETE ON scheduled_rrsets
  FOR EACH ROW EXECUTE FUNCTION scheduled_rrsets_journal();

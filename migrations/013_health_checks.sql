-- Issue 20, health-gated records: health checks (passive heartbeats, active TCP/HTTP(S) probes),
-- their current state and a bounded history, the check a record names, and tokens scoped to one
-- check (they may only send its heartbeats). A state change is journaled (entity 'health'), so
-- every server and edge applies it through the change feed like any other change; it moves no
-- serial (zone data does not change: transfers carry every record, see README "Health checks").

CREATE TABLE health_checks (
  id              bigserial PRIMARY KEY,
  tenant_id       bigint NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  name            text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
  kind            text NOT NULL CHECK (kind IN ('passive', 'tcp', 'http', 'https')),
  -- tcp: host:port; http(s): a URL; passive: none.
  target          text CHECK (length(target) <= 2048),
  expected_status integer CHECK (expected_status BETWEEN 100 AND 599),
  interval_s      integer NOT NULL DEFAULT 10 CHECK (interval_s BETWEEN 1 AND 86400),
  timeout_ms      integer NOT NULL DEFAULT 2000 CHECK (timeout_ms BETWEEN 100 AND 60000),
  -- Flap damping: this many consecutive results against the state before it changes.
  up_threshold    integer NOT NULL DEFAULT 2 CHECK (up_threshold BETWEEN 1 AND 100),
  down_threshold  integer NOT NULL DEFAULT 3 CHECK (down_threshold BETWEEN 1 AND 100),
  -- Passive: up while the last heartbeat is younger than this.
  max_age_s       integer CHECK (max_age_s BETWEEN 1 AND 86400),
  state           text NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'down')),
  state_since     timestamptz NOT NULL DEFAULT now(),
  successes       integer NOT NULL DEFAULT 0,
  failures        integer NOT NULL DEFAULT 0,
  last_result     text,
  last_checked_at timestamptz,
  -- A new passive check counts its creation as a heartbeat: one max_age of grace.
  last_heartbeat_at timestamptz DEFAULT now(),
  next_run_at     timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  CHECK ((kind = 'passive') = (max_age_s IS NOT NULL)),
  CHECK ((kind = 'passive') = (target IS NULL))
);
-- The scheduler's two scans: active checks due, passive checks that may have expired.
CREATE INDEX health_checks_due ON health_checks (next_run_at) WHERE kind <> 'passive';
CREATE INDEX health_checks_passive_up ON health_checks (last_heartbeat_at) WHERE kind = 'passive' AND state = 'up';
CREATE INDEX health_checks_down ON health_checks (id) WHERE state = 'down';

-- The last state changes of each check (bounded by src/store/health.ts: 100 per check).
CREATE TABLE health_check_history (
  id       bigserial PRIMARY KEY,
  check_id bigint NOT NULL REFERENCES health_checks(id) ON DELETE CASCADE,
  at       timestamptz NOT NULL DEFAULT now(),
  state    text NOT NULL CHECK (state IN ('up', 'down')),
  reason   text NOT NULL
);
CREATE INDEX health_check_history_check ON health_check_history (check_id, id);

-- A record may name a check of its zone's tenant; a check in use cannot be deleted.
ALTER TABLE records ADD COLUMN health_check_id bigint REFERENCES health_checks(id) ON DELETE RESTRICT;
CREATE INDEX records_health_check ON records (health_check_id) WHERE health_check_id IS NOT NULL;
CREATE INDEX records_gated_zone ON records (zone_id) WHERE health_check_id IS NOT NULL;

CREATE FUNCTION records_health_check_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.health_check_id IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM health_checks h JOIN zones z ON z.tenant_id = h.tenant_id
        WHERE h.id = NEW.health_check_id AND z.id = NEW.zone_id) THEN
    RAISE EXCEPTION 'health check % belongs to another tenant than zone %', NEW.health_check_id, NEW.zone_id
      USING ERRCODE = '23503', CONSTRAINT = 'records_health_check_tenant';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER records_health_check_tenant BEFORE INSERT OR UPDATE OF health_check_id, zone_id ON records
  FOR EACH ROW EXECUTE FUNCTION records_health_check_tenant();

-- A token that may only send heartbeats for one check (POST /v1/heartbeats/{check}).
ALTER TABLE api_tokens ADD COLUMN health_check_id bigint REFERENCES health_checks(id) ON DELETE CASCADE;

-- State changes are journaled (the change feed rereads the set of checks that are down).
ALTER TABLE journal DROP CONSTRAINT journal_entity_check;
ALTER TABLE journal ADD CONSTRAINT journal_entity_check CHECK (entity IN ('zone', 'records', 'domain', 'transfer', 'health'));

-- Glidepath data model. Applied by `glidepath migrate` and at the start of `glidepath serve`,
-- in one transaction, recorded in schema_migrations (see src/store/migrate.ts).

CREATE TABLE tenants (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each token is kept; the token itself is shown once at creation.
CREATE TABLE api_tokens (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id  bigint REFERENCES tenants(id) ON DELETE CASCADE,
  is_admin   boolean NOT NULL DEFAULT false,
  token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CHECK (is_admin OR tenant_id IS NOT NULL)
);

-- A zone is a named record set; owner names are relative to whatever domain uses it.
CREATE TABLE zones (
  id         bigserial PRIMARY KEY,
  tenant_id  bigint NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  name       text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$'),
  -- Bumped by every change to the zone's records: the If-Match version of the API.
  version    bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  UNIQUE (id, tenant_id) -- target of the composite keys that keep domains inside their tenant
);

CREATE TABLE records (
  id      bigserial PRIMARY KEY,
  zone_id bigint NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  -- Relative owner, lower-case presentation form; '@' is the apex.
  owner   text NOT NULL CHECK (owner <> '' AND owner !~ '\.$' AND length(owner) <= 254),
  -- Data types only: never 0, OPT (41) or the question-only range 128-255 (RFC 6895 3.1).
  type    integer NOT NULL CHECK (type BETWEEN 1 AND 65535 AND type <> 41 AND type NOT BETWEEN 128 AND 255),
  -- RFC 2181 8: 0 .. 2^31-1.
  ttl     integer NOT NULL CHECK (ttl BETWEEN 0 AND 2147483647),
  -- Canonical presentation form; names at or under the apex are relative ('@' for the apex).
  rdata   text NOT NULL CHECK (length(rdata) <= 65535),
  UNIQUE (zone_id, owner, type, rdata)
);
CREATE INDEX records_zone_owner ON records (zone_id, owner, type);

CREATE TABLE domains (
  id              bigserial PRIMARY KEY,
  name            text NOT NULL UNIQUE CHECK (name = lower(name) AND name ~ '\.$' AND length(name) <= 254),
  tenant_id       bigint NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
  zone_id         bigint NOT NULL,
  delegation_only boolean NOT NULL DEFAULT false,
  -- RFC 1982 serial served in the SOA; increases on every change to what the domain serves.
  serial          bigint NOT NULL DEFAULT 1 CHECK (serial BETWEEN 0 AND 4294967295),
  serial_txid     bigint,
  -- Progressive Zone Change: switch to pzc_zone_id at pzc_at.
  pzc_zone_id     bigint,
  pzc_at          timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (zone_id, tenant_id) REFERENCES zones(id, tenant_id) ON DELETE RESTRICT,
  FOREIGN KEY (pzc_zone_id, tenant_id) REFERENCES zones(id, tenant_id) ON DELETE RESTRICT,
  CHECK ((pzc_zone_id IS NULL) = (pzc_at IS NULL)),
  CHECK (pzc_at IS NULL OR pzc_at = date_trunc('second', pzc_at))
);
CREATE INDEX domains_zone ON domains (zone_id);
CREATE INDEX domains_pzc ON domains (pzc_at) WHERE pzc_at IS NOT NULL;

-- RFC 2181 10.1 / RFC 1034 3.6.2: a CNAME stands alone at its owner, and there is only one.
-- Deferred, so that a transaction may replace an A RRset by a CNAME in two statements.
CREATE FUNCTION records_cname_alone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM records r WHERE r.zone_id = NEW.zone_id AND r.owner = NEW.owner AND r.type = 5)
     AND (SELECT count(*) FROM records r WHERE r.zone_id = NEW.zone_id AND r.owner = NEW.owner) > 1 THEN
    RAISE EXCEPTION 'a CNAME at "%" cannot stand beside other data (RFC 2181 10.1)', NEW.owner
      USING ERRCODE = '23514', CONSTRAINT = 'records_cname_alone';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER records_cname_alone AFTER INSERT OR UPDATE ON records
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION records_cname_alone();

-- The change journal: every change to domains, zones and records, in commit order.
CREATE TABLE journal (
  seq         bigint PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  entity      text NOT NULL CHECK (entity IN ('zone', 'records', 'domain')),
  action      text NOT NULL,
  zone_id     bigint,
  domain_name text,
  -- Serial of the domain after this change (domain rows), for IXFR.
  serial      bigint,
  details     jsonb NOT NULL DEFAULT '{}'
);
CREATE SEQUENCE journal_seq OWNED BY journal.seq;
CREATE INDEX journal_zone ON journal (zone_id, seq);
CREATE INDEX journal_domain ON journal (domain_name, seq);

-- Appends to the journal. The transaction-scoped advisory lock serialises writers from their first
-- journal row to their commit, so sequence numbers become visible in increasing order: a reader
-- that has seen seq N can never later see a new row below N (what makes "catch up from the last
-- applied sequence" exact).
CREATE FUNCTION journal_append(p_entity text, p_action text, p_zone bigint, p_domain text,
                               p_serial bigint, p_details jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE s bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7406395138);
  s := nextval('journal_seq');
  INSERT INTO journal (seq, actor, entity, action, zone_id, domain_name, serial, details)
  VALUES (s, coalesce(nullif(current_setting('glidepath.actor', true), ''), 'sql:' || session_user),
          p_entity, p_action, p_zone, p_domain, p_serial, p_details);
  PERFORM pg_notify('glidepath_journal', s::text);
  RETURN s;
END $$;

-- RFC 1982 increment, at most once per transaction, never below the zone SOA's own serial when
-- that one is ahead (so an imported zone file's serial is honoured).
CREATE FUNCTION next_serial(cur bigint, soa bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN soa IS NOT NULL AND ((soa > cur AND soa - cur < 2147483648) OR (soa < cur AND cur - soa > 2147483648))
      THEN soa
    ELSE CASE WHEN cur >= 4294967295 THEN 1 ELSE cur + 1 END
  END
$$;

CREATE FUNCTION zone_soa_serial(p_zone bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT (regexp_match(rdata, '^\S+\s+\S+\s+([0-9]+)'))[1]::bigint FROM records
   WHERE zone_id = p_zone AND owner = '@' AND type = 6 LIMIT 1
$$;

-- Record changes: one journal row per zone and statement with the records added and removed
-- (the source for IXFR), a version bump of the zone, and one serial bump per transaction of every
-- domain that serves the zone.
CREATE FUNCTION records_changed(p_zone bigint, p_op text, p_added jsonb, p_removed jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM zones WHERE id = p_zone) THEN RETURN; END IF; -- the zone's own delete journals it
  UPDATE zones SET version = version + 1 WHERE id = p_zone;
  UPDATE domains d SET serial = next_serial(d.serial, zone_soa_serial(p_zone)),
                       serial_txid = txid_current(), updated_at = now()
   WHERE d.zone_id = p_zone AND d.serial_txid IS DISTINCT FROM txid_current();
  PERFORM journal_append('records', p_op, p_zone, NULL, NULL,
                         jsonb_build_object('added', p_added, 'removed', p_removed));
END $$;

-- Transition tables exist only for the event they were declared on, hence one branch per event.
CREATE FUNCTION records_journal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE z record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR z IN SELECT zone_id, jsonb_agg(jsonb_build_array(owner, type, ttl, rdata)) AS rows
               FROM new_rows GROUP BY zone_id LOOP
      PERFORM records_changed(z.zone_id, 'insert', z.rows, '[]');
    END LOOP;
  ELSIF TG_OP = 'DELETE' THEN
    FOR z IN SELECT zone_id, jsonb_agg(jsonb_build_array(owner, type, ttl, rdata)) AS rows
               FROM old_rows GROUP BY zone_id LOOP
      PERFORM records_changed(z.zone_id, 'delete', '[]', z.rows);
    END LOOP;
  ELSE
    FOR z IN SELECT zone_id,
                    coalesce(jsonb_agg(jsonb_build_array(owner, type, ttl, rdata)) FILTER (WHERE side = 'add'), '[]') AS added,
                    coalesce(jsonb_agg(jsonb_build_array(owner, type, ttl, rdata)) FILTER (WHERE side = 'del'), '[]') AS removed
               FROM (SELECT 'add' AS side, n.zone_id, n.owner, n.type, n.ttl, n.rdata FROM new_rows n
                     UNION ALL
                     SELECT 'del', o.zone_id, o.owner, o.type, o.ttl, o.rdata FROM old_rows o) c
              GROUP BY zone_id LOOP
      PERFORM records_changed(z.zone_id, 'update', z.added, z.removed);
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER records_journal_insert AFTER INSERT ON records REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION records_journal();
CREATE TRIGGER records_journal_update AFTER UPDATE ON records REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION records_journal();
CREATE TRIGGER records_journal_delete AFTER DELETE ON records REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION records_journal();

-- Domains: a new domain starts at its zone's SOA serial; a change of zone, delegation-only flag or
-- pending PZC changes what (or how long) it serves, so it bumps the serial.
CREATE FUNCTION domains_serial() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.serial := coalesce(zone_soa_serial(NEW.zone_id), NEW.serial);
    NEW.serial_txid := txid_current();
  ELSIF (NEW.zone_id, NEW.delegation_only, NEW.pzc_zone_id, NEW.pzc_at)
        IS DISTINCT FROM (OLD.zone_id, OLD.delegation_only, OLD.pzc_zone_id, OLD.pzc_at) THEN
    NEW.serial := next_serial(OLD.serial, zone_soa_serial(NEW.zone_id));
    NEW.serial_txid := txid_current();
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER domains_serial BEFORE INSERT OR UPDATE ON domains
  FOR EACH ROW EXECUTE FUNCTION domains_serial();

CREATE FUNCTION domains_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM journal_append('domain', 'create', NEW.zone_id, NEW.name, NEW.serial,
      jsonb_build_object('zone_id', NEW.zone_id, 'delegation_only', NEW.delegation_only));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM journal_append('domain', 'delete', OLD.zone_id, OLD.name, OLD.serial, '{}');
  ELSIF NEW.name <> OLD.name THEN
    PERFORM journal_append('domain', 'delete', OLD.zone_id, OLD.name, OLD.serial, '{}');
    PERFORM journal_append('domain', 'create', NEW.zone_id, NEW.name, NEW.serial, '{}');
  ELSIF NEW.serial <> OLD.serial AND NEW.zone_id = OLD.zone_id AND NEW.delegation_only = OLD.delegation_only
        AND (NEW.pzc_zone_id, NEW.pzc_at) IS NOT DISTINCT FROM (OLD.pzc_zone_id, OLD.pzc_at) THEN
    NULL; -- a serial bump made by a record change: that change journals itself
  ELSE
    PERFORM journal_append('domain',
      CASE WHEN (NEW.pzc_zone_id, NEW.pzc_at) IS DISTINCT FROM (OLD.pzc_zone_id, OLD.pzc_at) THEN 'pzc'
           ELSE 'update' END,
      NEW.zone_id, NEW.name, NEW.serial,
      jsonb_strip_nulls(jsonb_build_object(
        'zone_id', NEW.zone_id, 'old_zone_id', OLD.zone_id, 'delegation_only', NEW.delegation_only,
        'pzc_zone_id', NEW.pzc_zone_id, 'pzc_at', NEW.pzc_at)));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER domains_journal AFTER INSERT OR UPDATE OR DELETE ON domains
  FOR EACH ROW EXECUTE FUNCTION domains_journal();

CREATE FUNCTION zones_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM journal_append('zone', 'create', NEW.id, NULL, NULL, jsonb_build_object('name', NEW.name));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM journal_append('zone', 'delete', OLD.id, NULL, NULL, jsonb_build_object('name', OLD.name));
  ELSIF NEW.name <> OLD.name THEN
    PERFORM journal_append('zone', 'rename', NEW.id, NULL, NULL,
                           jsonb_build_object('name', NEW.name, 'old_name', OLD.name));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER zones_journal AFTER INSERT OR UPDATE OR DELETE ON zones
  FOR EACH ROW EXECUTE FUNCTION zones_journal();

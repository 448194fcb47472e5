-- Issue 16: a million domains on shared zones. Design in migrations/README.md ("Serials, history
-- and the journal at scale"): a zone edit writes O(1) rows whatever the number of domains on the
-- zone; the served serial is (zones.serial + domains.serial_offset) mod 2^32; IXFR history per zone
-- (record differences) plus per domain (its own serial changes); journal sequence numbers given at
-- COMMIT under a short lock instead of one lock held by every writer from its first change.

-- ---- Triggers of 001/003 that wrote per-domain rows for a zone edit go first ----
DROP TRIGGER domains_serial ON domains;
DROP TRIGGER domains_ixfr_step ON domains;
DROP TRIGGER domains_journal ON domains;
DROP FUNCTION domains_ixfr_step();

-- ---- Serials ----
-- The zone's own serial: moves once per transaction that changes the zone's records.
ALTER TABLE zones ADD COLUMN serial bigint NOT NULL DEFAULT 1 CHECK (serial BETWEEN 0 AND 4294967295),
                  ADD COLUMN serial_txid bigint;
UPDATE zones SET serial = coalesce(zone_soa_serial(id), 1);

-- The domain's own part of its served serial.
ALTER TABLE domains ADD COLUMN serial_offset bigint NOT NULL DEFAULT 0 CHECK (serial_offset BETWEEN 0 AND 4294967295);
-- Keep every domain's served serial as it was.
UPDATE domains d SET serial_offset = ((d.serial - z.serial) % 4294967296 + 4294967296) % 4294967296
  FROM zones z WHERE z.id = d.zone_id;

CREATE FUNCTION domain_serial(p_zone_serial bigint, p_offset bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (p_zone_serial + p_offset) % 4294967296 $$;

CREATE FUNCTION serial_offset_for(p_served bigint, p_zone_serial bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ((p_served - p_zone_serial) % 4294967296 + 4294967296) % 4294967296 $$;

-- Zones created in a transaction remember it: their first records set the serial from the SOA.
CREATE FUNCTION zones_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.serial_txid := txid_current();
  RETURN NEW;
END $$;
CREATE TRIGGER zones_created BEFORE INSERT ON zones FOR EACH ROW EXECUTE FUNCTION zones_created();

-- ---- IXFR history ----
-- Per zone: one row per zone and transaction that changed its records (the truth for record
-- changes, shared by every domain on the zone). `id` shares ixfr_steps' sequence.
CREATE TABLE zone_history (
  id          bigint PRIMARY KEY DEFAULT nextval('ixfr_steps_id_seq'),
  zone_id     bigint NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  txid        bigint NOT NULL,
  serial_from bigint NOT NULL,
  serial_to   bigint NOT NULL,
  -- One {"added": [[owner, type, ttl, rdata], ...], "removed": [...]} per statement, in order.
  changes     jsonb NOT NULL DEFAULT '[]',
  at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (zone_id, txid)
);
CREATE INDEX zone_history_zone ON zone_history (zone_id, id);
CREATE INDEX zone_history_at ON zone_history (at);

-- Per domain: only the domain's own serial changes from now on, with the zone and zone serial at
-- which they happened. Old rows (with record changes in `changes`) cannot be placed among the
-- zone's history: they are dropped (an IXFR from before 008 becomes an AXFR, once).
DELETE FROM ixfr_steps;
ALTER TABLE ixfr_steps ADD COLUMN zone_id bigint NOT NULL, ADD COLUMN zone_serial bigint NOT NULL;
CREATE INDEX ixfr_steps_at ON ixfr_steps (at);

ALTER TABLE domains DROP COLUMN serial;

-- `d.serial` on a domains row (attribute notation) still reads the served serial.
CREATE FUNCTION serial(d domains) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT domain_serial(z.serial, d.serial_offset) FROM zones z WHERE z.id = d.zone_id
$$;

-- ---- Journal: scoping columns and commit-order sequence numbers ----
ALTER TABLE journal ADD COLUMN domain_id bigint, ADD COLUMN tenant_id bigint;
CREATE INDEX journal_domain_id ON journal (domain_id, seq) WHERE domain_id IS NOT NULL;
CREATE INDEX journal_at ON journal (at);
-- Rows of domains that exist now, from their (latest) creation on: the only history they own.
UPDATE journal j SET domain_id = d.id, tenant_id = d.tenant_id FROM domains d
 WHERE j.domain_name = d.name
   AND j.seq >= coalesce((SELECT max(c.seq) FROM journal c
                           WHERE c.domain_name = d.name AND c.entity = 'domain' AND c.action = 'create'), 0);
UPDATE journal j SET tenant_id = z.tenant_id FROM zones z WHERE j.tenant_id IS NULL AND j.zone_id = z.id;

-- Provisional numbers (negative) until COMMIT.
CREATE SEQUENCE journal_provisional_seq;

-- The highest sequence number pruned by retention: a reader behind it must reload.
CREATE TABLE journal_horizon (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq bigint NOT NULL DEFAULT 0
);
INSERT INTO journal_horizon DEFAULT VALUES;

-- Retention's depth cut looks only at zones/domains with steps newer than its last round's mark.
CREATE TABLE history_prune_mark (
  name    text PRIMARY KEY,
  last_id bigint NOT NULL
);

-- Appends to the journal with a provisional number; journal_commit_order() numbers the
-- transaction's rows at COMMIT. No lock here: unrelated writers run in parallel.
CREATE FUNCTION journal_append(p_entity text, p_action text, p_zone bigint, p_domain text,
                               p_serial bigint, p_details jsonb, p_domain_id bigint, p_tenant bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE s bigint;
BEGIN
  s := -nextval('journal_provisional_seq');
  INSERT INTO journal (seq, actor, entity, action, zone_id, domain_name, serial, details, domain_id, tenant_id)
  VALUES (s, coalesce(nullif(current_setting('glidepath.actor', true), ''), 'sql:' || session_user),
          p_entity, p_action, p_zone, p_domain, p_serial, p_details, p_domain_id, p_tenant);
  RETURN s;
END $$;

-- The six-argument form of 001 (kept for triggers written against it): the domain and tenant
-- are found from the name or the zone when they still exist.
CREATE OR REPLACE FUNCTION journal_append(p_entity text, p_action text, p_zone bigint, p_domain text,
                                          p_serial bigint, p_details jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE d_id bigint; t_id bigint;
BEGIN
  IF p_domain IS NOT NULL THEN SELECT id, tenant_id INTO d_id, t_id FROM domains WHERE name = p_domain; END IF;
  IF t_id IS NULL AND p_zone IS NOT NULL THEN SELECT tenant_id INTO t_id FROM zones WHERE id = p_zone; END IF;
  RETURN journal_append(p_entity, p_action, p_zone, p_domain, p_serial, p_details, d_id, t_id);
END $$;

-- At COMMIT (a deferred constraint trigger; the first firing numbers every row of the
-- transaction, the others find nothing left). The advisory lock is taken here and held until the
-- commit has completed, and a transaction is visible before its locks are released: numbers
-- therefore become visible in increasing order, and a reader that has seen N never later sees a
-- new row below N. The lock covers only this last step of each writer, not its whole work.
CREATE FUNCTION journal_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record; s bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM journal WHERE seq < 0) THEN RETURN NULL; END IF;
  PERFORM pg_advisory_xact_lock(7406395138);
  -- Only this transaction's rows can be seen with a negative number (others' are uncommitted).
  FOR r IN SELECT seq FROM journal WHERE seq < 0 ORDER BY seq DESC LOOP
    s := nextval('journal_seq');
    UPDATE journal SET seq = s WHERE seq = r.seq;
  END LOOP;
  PERFORM pg_notify('glidepath_journal', s::text);
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER journal_commit_order AFTER INSERT ON journal
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_commit_order();

-- ---- Record changes: the zone moves, its domains' rows do not ----
CREATE OR REPLACE FUNCTION records_changed(p_zone bigint, p_op text, p_added jsonb, p_removed jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE z record; h record; soa bigint; s bigint; diff jsonb;
BEGIN
  SELECT id, tenant_id, serial, serial_txid INTO z FROM zones WHERE id = p_zone FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF; -- the zone's own delete journals it
  soa := zone_soa_serial(p_zone);
  diff := jsonb_build_object('added', p_added, 'removed', p_removed);
  SELECT id, serial_from INTO h FROM zone_history WHERE zone_id = p_zone AND txid = txid_current();
  IF FOUND THEN
    -- Again in this transaction: one step, whose end follows the SOA as it is now.
    s := next_serial(h.serial_from, soa);
    UPDATE zone_history SET serial_to = s, changes = changes || jsonb_build_array(diff) WHERE id = h.id;
  ELSIF z.serial_txid IS NOT DISTINCT FROM txid_current() THEN
    -- Created in this transaction: it starts at its SOA's serial; history starts after.
    s := coalesce(soa, z.serial);
  ELSE
    s := next_serial(z.serial, soa);
    INSERT INTO zone_history (zone_id, txid, serial_from, serial_to, changes)
    VALUES (p_zone, txid_current(), z.serial, s, jsonb_build_array(diff));
  END IF;
  UPDATE zones SET version = version + 1, serial = s, serial_txid = txid_current() WHERE id = p_zone;
  PERFORM journal_append('records', p_op, p_zone, NULL, s, diff, NULL, z.tenant_id);
END $$;

-- ---- The domain's own changes ----
-- A change of zone, delegation-only flag or pending PZC moves the served serial to
-- next_serial(old served, new zone's serial), once per transaction, and is an IXFR step of the
-- domain that is not a record difference.
CREATE OR REPLACE FUNCTION domains_serial() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE old_zs bigint; new_zs bigint; old_served bigint; served bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.serial_offset := 0; -- serves its zone's serial
    NEW.serial_txid := txid_current();
    RETURN NEW;
  END IF;
  IF (NEW.zone_id, NEW.delegation_only, NEW.pzc_zone_id, NEW.pzc_at)
     IS NOT DISTINCT FROM (OLD.zone_id, OLD.delegation_only, OLD.pzc_zone_id, OLD.pzc_at) THEN
    RETURN NEW;
  END IF;
  -- FOR SHARE: a concurrent edit of either zone commits first or waits, so the zone serial
  -- recorded with the step places it exactly among the zone's history.
  SELECT serial INTO old_zs FROM zones WHERE id = OLD.zone_id FOR SHARE;
  IF NEW.zone_id = OLD.zone_id THEN new_zs := old_zs;
  ELSE SELECT serial INTO new_zs FROM zones WHERE id = NEW.zone_id FOR SHARE; END IF;
  old_served := domain_serial(old_zs, OLD.serial_offset);
  served := CASE WHEN OLD.serial_txid IS NOT DISTINCT FROM txid_current() THEN old_served
                 ELSE next_serial(old_served, new_zs) END;
  NEW.serial_offset := serial_offset_for(served, new_zs);
  NEW.serial_txid := txid_current();
  NEW.updated_at := now();
  INSERT INTO ixfr_steps (domain_id, txid, serial_from, serial_to, diffable, zone_id, zone_serial)
  VALUES (NEW.id, txid_current(), old_served, served, false, NEW.zone_id, new_zs)
  ON CONFLICT (domain_id, txid) DO UPDATE
    SET serial_to = EXCLUDED.serial_to, diffable = false, zone_id = EXCLUDED.zone_id, zone_serial = EXCLUDED.zone_serial;
  RETURN NEW;
END $$;
CREATE TRIGGER domains_serial BEFORE INSERT OR UPDATE ON domains
  FOR EACH ROW EXECUTE FUNCTION domains_serial();

-- The domain's history starts at its creation: an IXFR from before it is an AXFR.
CREATE FUNCTION domains_created() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE zs bigint;
BEGIN
  SELECT serial INTO zs FROM zones WHERE id = NEW.zone_id;
  INSERT INTO ixfr_steps (domain_id, txid, serial_from, serial_to, diffable, zone_id, zone_serial)
  VALUES (NEW.id, txid_current(), domain_serial(zs, NEW.serial_offset), domain_serial(zs, NEW.serial_offset), false, NEW.zone_id, zs)
  ON CONFLICT (domain_id, txid) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER domains_created AFTER INSERT ON domains FOR EACH ROW EXECUTE FUNCTION domains_created();

CREATE OR REPLACE FUNCTION domains_journal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r domains; served bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  SELECT domain_serial(z.serial, r.serial_offset) INTO served FROM zones z WHERE z.id = r.zone_id;
  IF TG_OP = 'INSERT' THEN
    PERFORM journal_append('domain', 'create', NEW.zone_id, NEW.name, served,
      jsonb_build_object('zone_id', NEW.zone_id, 'delegation_only', NEW.delegation_only), NEW.id, NEW.tenant_id);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM journal_append('domain', 'delete', OLD.zone_id, OLD.name, served, '{}', OLD.id, OLD.tenant_id);
  ELSIF NEW.name <> OLD.name THEN
    PERFORM journal_append('domain', 'delete', OLD.zone_id, OLD.name, served, '{}', OLD.id, OLD.tenant_id);
    PERFORM journal_append('domain', 'create', NEW.zone_id, NEW.name, served, '{}', NEW.id, NEW.tenant_id);
  ELSIF (NEW.zone_id, NEW.delegation_only, NEW.pzc_zone_id, NEW.pzc_at)
        IS NOT DISTINCT FROM (OLD.zone_id, OLD.delegation_only, OLD.pzc_zone_id, OLD.pzc_at) THEN
    NULL; -- a bare serial change (domain_reannounce journals it) or nothing served changed
  ELSE
    PERFORM journal_append('domain',
      CASE WHEN (NEW.pzc_zone_id, NEW.pzc_at) IS DISTINCT FROM (OLD.pzc_zone_id, OLD.pzc_at) THEN 'pzc'
           ELSE 'update' END,
      NEW.zone_id, NEW.name, served,
      jsonb_strip_nulls(jsonb_build_object(
        'zone_id', NEW.zone_id, 'old_zone_id', OLD.zone_id, 'delegation_only', NEW.delegation_only,
        'pzc_zone_id', NEW.pzc_zone_id, 'pzc_at', NEW.pzc_at)), NEW.id, NEW.tenant_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER domains_journal AFTER INSERT OR UPDATE OR DELETE ON domains
  FOR EACH ROW EXECUTE FUNCTION domains_journal();

-- The PZC re-announcement (003), against the derived serial: compare-and-set on the served serial.
CREATE OR REPLACE FUNCTION domain_reannounce(p_id bigint, p_serial bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE d domains; zs bigint; served bigint;
BEGIN
  SELECT * INTO d FROM domains WHERE id = p_id FOR UPDATE;
  IF d.id IS NULL THEN RETURN NULL; END IF;
  SELECT serial INTO zs FROM zones WHERE id = d.zone_id FOR SHARE;
  IF domain_serial(zs, d.serial_offset) <> p_serial THEN RETURN NULL; END IF;
  served := next_serial(p_serial, NULL);
  UPDATE domains SET serial_offset = serial_offset_for(served, zs), serial_txid = txid_current(), updated_at = now()
   WHERE id = p_id;
  -- No data changed: an empty step, which IXFR can cross.
  INSERT INTO ixfr_steps (domain_id, txid, serial_from, serial_to, diffable, zone_id, zone_serial)
  VALUES (p_id, txid_current(), p_serial, served, true, d.zone_id, zs)
  ON CONFLICT (domain_id, txid) DO UPDATE SET serial_to = EXCLUDED.serial_to, zone_serial = EXCLUDED.zone_serial;
  PERFORM journal_append('domain', 'reannounce', d.zone_id, d.name, served, '{}', d.id, d.tenant_id);
  RETURN served;
END $$;

-- Transfer settings rows name their domain and tenant (for /v1/domains/{name}/changes scoping).
CREATE OR REPLACE FUNCTION domain_transfer_journal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r domain_transfer; d record;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  SELECT id, name, tenant_id INTO d FROM domains WHERE id = r.domain_id;
  IF d.id IS NULL THEN RETURN NULL; END IF; -- the domain's own delete journals it
  PERFORM journal_append('transfer', 'settings-' || lower(TG_OP), NULL, d.name, NULL,
    jsonb_build_object('allow', to_jsonb(r.allow::text[]), 'tsig_key', r.tsig_key, 'notify', to_jsonb(r.notify)),
    d.id, d.tenant_id);
  RETURN NULL;
END $$;

-- ---- Indexes for the API and the change feed at a million domains ----
-- Listings page by name in bytewise order (COLLATE "C": a prefix is a range, whatever the
-- database's collation), per tenant, per zone, and among domains with a pending PZC.
CREATE INDEX domains_tenant_name ON domains (tenant_id, (name COLLATE "C"));
CREATE INDEX domains_zone_name ON domains (zone_id, (name COLLATE "C"));
DROP INDEX domains_zone; -- domains_zone_name serves zone_id alone too
CREATE INDEX domains_tenant_pzc_name ON domains (tenant_id, (name COLLATE "C")) WHERE pzc_at IS NOT NULL;
CREATE INDEX domains_pzc_zone ON domains (pzc_zone_id) WHERE pzc_zone_id IS NOT NULL;
CREATE INDEX zones_tenant_name ON zones (tenant_id, (name COLLATE "C"));

-- A btree entry holds at most about 2.7 kB: a unique key on the rdata itself refused a
-- 65,535-octet TXT record with an error. The same rule on an MD5 of it (equal text, equal digest;
-- a collision between two different rdatas of one RRset is not a practical concern).
ALTER TABLE records DROP CONSTRAINT records_zone_id_owner_type_rdata_key;
CREATE UNIQUE INDEX records_rdata_unique ON records (zone_id, owner, type, md5(rdata));

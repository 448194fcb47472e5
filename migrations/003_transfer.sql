-- Zone transfers (issue 8): TSIG keys (RFC 8945), per-domain transfer settings (who may transfer,
-- with which key, whom to NOTIFY), and the IXFR history (RFC 1995): for every serial change of a
-- domain, the records removed and added, or the fact that the change is not a record difference.

-- Shared secrets with secondaries. Managed by admins; domains reference them by name. The secret
-- never leaves the database except to the DNS side, which needs it to sign and verify.
CREATE TABLE tsig_keys (
  -- Absolute lower-case key name with the trailing dot (RFC 8945 4.2: a domain name).
  name       text PRIMARY KEY CHECK (name = lower(name) AND name ~ '\.$' AND length(name) <= 254),
  algorithm  text NOT NULL CHECK (algorithm IN ('hmac-sha256', 'hmac-sha512')),
  secret     bytea NOT NULL CHECK (length(secret) BETWEEN 16 AND 512),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Who may transfer a domain, and which secondaries hear of its changes. No row: transfers refused.
CREATE TABLE domain_transfer (
  domain_id  bigint PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
  allow      cidr[] NOT NULL DEFAULT '{}',
  -- A key in use cannot be deleted (409 from the API).
  tsig_key   text REFERENCES tsig_keys(name) ON DELETE RESTRICT,
  -- "address:port" / "[v6]:port" of secondaries to NOTIFY (RFC 1996) on every serial change.
  notify     text[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Changes to keys and transfer settings are journaled too, so that every server sharing the
-- database reloads them (entity 'transfer'; the snapshot itself ignores these rows).
ALTER TABLE journal DROP CONSTRAINT journal_entity_check;
ALTER TABLE journal ADD CONSTRAINT journal_entity_check CHECK (entity IN ('zone', 'records', 'domain', 'transfer'));

CREATE FUNCTION tsig_keys_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The secret is not journaled: the journal is readable through the API.
  PERFORM journal_append('transfer', 'key-' || lower(TG_OP), NULL, NULL, NULL,
    jsonb_build_object('key', CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END));
  RETURN NULL;
END $$;
CREATE TRIGGER tsig_keys_journal AFTER INSERT OR UPDATE OR DELETE ON tsig_keys
  FOR EACH ROW EXECUTE FUNCTION tsig_keys_journal();

CREATE FUNCTION domain_transfer_journal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r domain_transfer; n text;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  SELECT name INTO n FROM domains WHERE id = r.domain_id;
  IF n IS NULL THEN RETURN NULL; END IF; -- the domain's own delete journals it
  PERFORM journal_append('transfer', 'settings-' || lower(TG_OP), NULL, n, NULL,
    jsonb_build_object('allow', to_jsonb(r.allow::text[]), 'tsig_key', r.tsig_key, 'notify', to_jsonb(r.notify)));
  RETURN NULL;
END $$;
CREATE TRIGGER domain_transfer_journal AFTER INSERT OR UPDATE OR DELETE ON domain_transfer
  FOR EACH ROW EXECUTE FUNCTION domain_transfer_journal();

-- IXFR history: one row per domain and transaction that changed the domain's serial (the serial
-- moves once per transaction for record changes; intermediate values were never visible).
-- `diffable` is false when the change is not a difference of records (another zone, a PZC scheduled
-- or cancelled, the delegation-only flag): an IXFR across it falls back to AXFR. Deleting old rows
-- (pruning) is safe: a range with a gap is answered with AXFR.
CREATE TABLE ixfr_steps (
  id          bigserial PRIMARY KEY,
  domain_id   bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  txid        bigint NOT NULL,
  serial_from bigint NOT NULL,
  serial_to   bigint NOT NULL,
  diffable    boolean NOT NULL,
  -- One {"added": [[owner, type, ttl, rdata], ...], "removed": [...]} per statement, in order.
  changes     jsonb NOT NULL DEFAULT '[]',
  at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (domain_id, txid)
);
CREATE INDEX ixfr_steps_domain ON ixfr_steps (domain_id, id);

CREATE FUNCTION domains_ixfr_step() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE same boolean;
BEGIN
  IF NEW.serial = OLD.serial THEN RETURN NULL; END IF;
  same := (NEW.zone_id, NEW.delegation_only, NEW.pzc_zone_id, NEW.pzc_at)
          IS NOT DISTINCT FROM (OLD.zone_id, OLD.delegation_only, OLD.pzc_zone_id, OLD.pzc_at);
  INSERT INTO ixfr_steps (domain_id, txid, serial_from, serial_to, diffable)
  VALUES (NEW.id, txid_current(), OLD.serial, NEW.serial, same)
  ON CONFLICT (domain_id, txid) DO UPDATE
    SET serial_to = EXCLUDED.serial_to, diffable = ixfr_steps.diffable AND EXCLUDED.diffable;
  RETURN NULL;
END $$;
CREATE TRIGGER domains_ixfr_step AFTER UPDATE ON domains
  FOR EACH ROW EXECUTE FUNCTION domains_ixfr_step();

-- Record changes, as in 001, plus the difference appended to the IXFR step of every domain that
-- serves the zone (the step row was made by the serial bump just before, in this transaction).
CREATE OR REPLACE FUNCTION records_changed(p_zone bigint, p_op text, p_added jsonb, p_removed jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM zones WHERE id = p_zone) THEN RETURN; END IF; -- the zone's own delete journals it
  UPDATE zones SET version = version + 1 WHERE id = p_zone;
  UPDATE domains d SET serial = next_serial(d.serial, zone_soa_serial(p_zone)),
                       serial_txid = txid_current(), updated_at = now()
   WHERE d.zone_id = p_zone AND d.serial_txid IS DISTINCT FROM txid_current();
  UPDATE ixfr_steps s SET changes = s.changes || jsonb_build_array(jsonb_build_object('added', p_added, 'removed', p_removed))
   WHERE s.txid = txid_current() AND s.domain_id IN (SELECT id FROM domains WHERE zone_id = p_zone);
  PERFORM journal_append('records', p_op, p_zone, NULL, NULL,
                         jsonb_build_object('added', p_added, 'removed', p_removed));
END $$;

-- A serial bump with no change of data: the PZC re-announcement, so that secondaries transfer the
-- domain again and take TTLs capped closer to the switch. Compare-and-set on the serial, so that
-- among servers sharing the database one bump happens per round. Returns the new serial, or NULL
-- when the serial had moved on already.
CREATE FUNCTION domain_reannounce(p_id bigint, p_serial bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE d domains;
BEGIN
  UPDATE domains SET serial = next_serial(serial, NULL), serial_txid = txid_current(), updated_at = now()
   WHERE id = p_id AND serial = p_serial RETURNING * INTO d;
  IF d.id IS NULL THEN RETURN NULL; END IF;
  -- A bare serial change is not journaled by domains_journal (it assumes a record change did it).
  PERFORM journal_append('domain', 'reannounce', d.zone_id, d.name, d.serial, '{}');
  RETURN d.serial;
END $$;

-- Issue 20: zones that include zones. A zone serves its own records plus those of the zones it
-- includes, in order: the including zone's RRset at an owner and type overrides an included one,
-- the first include wins among includes, chains flatten (design in migrations/README.md, "Zones
-- that include zones (015)"). The flattening itself is done where the snapshot is built
-- (src/snapshot/includes.ts); the database keeps the include lists and moves the serial of every
-- zone whose served (effective) records an edit changes.

CREATE TABLE zone_includes (
  zone_id     bigint NOT NULL,
  tenant_id   bigint NOT NULL,
  position    integer NOT NULL CHECK (position >= 0),
  included_id bigint NOT NULL,
  PRIMARY KEY (zone_id, position),
  UNIQUE (zone_id, included_id),
  CONSTRAINT zone_includes_not_self CHECK (zone_id <> included_id),
  -- Both zones of one tenant (a tenant includes only its own zones).
  CONSTRAINT zone_includes_zone_fkey FOREIGN KEY (zone_id, tenant_id) REFERENCES zones (id, tenant_id) ON DELETE CASCADE,
  -- An included zone cannot be deleted while it is included (the API says zone_included).
  CONSTRAINT zone_includes_included_fkey FOREIGN KEY (included_id, tenant_id) REFERENCES zones (id, tenant_id) ON DELETE RESTRICT
);
CREATE INDEX zone_includes_included ON zone_includes (included_id);

-- A step of a zone whose effective records changed through an include (or of a zone with includes
-- whose own edit may uncover or hide included records) is not an exact record difference of what
-- it serves: IXFR across it falls back to AXFR (src/transfer/ixfr.ts).
ALTER TABLE zone_history ADD COLUMN diffable boolean NOT NULL DEFAULT true;

-- No cycles, direct or through a chain. Checked after each row, when the whole statement's rows
-- are visible, under one advisory lock taken before the look: two transactions adding A -> B and
-- B -> A go one after the other, and the second sees the first's row (READ COMMITTED gives each
-- statement of the function a fresh snapshot, taken after the lock).
CREATE FUNCTION zone_includes_no_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7406395139);
  IF EXISTS (WITH RECURSIVE reach(id) AS (
               SELECT NEW.included_id
               UNION
               SELECT i.included_id FROM zone_includes i JOIN reach r ON i.zone_id = r.id)
             SELECT 1 FROM reach WHERE id = NEW.zone_id) THEN
    RAISE EXCEPTION 'zone % would include itself through its includes', NEW.zone_id
      USING ERRCODE = '23514', CONSTRAINT = 'zone_includes_no_cycle';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER zone_includes_no_cycle AFTER INSERT OR UPDATE ON zone_includes
  FOR EACH ROW EXECUTE FUNCTION zone_includes_no_cycle();

-- Zones that include p_zone, directly or through a chain, in id order (the order their rows are
-- locked in, so two writers never wait on each other in a circle).
CREATE FUNCTION zone_includers(p_zone bigint) RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
  WITH RECURSIVE up(id) AS (
    SELECT zone_id FROM zone_includes WHERE included_id = p_zone
    UNION
    SELECT i.zone_id FROM zone_includes i JOIN up ON i.included_id = up.id)
  SELECT id FROM up ORDER BY id
$$;

-- The effective records of p_zone changed through an include: its serial moves once per
-- transaction (RFC 1982, as records_changed does it), the step is not diffable, and a journal
-- row names the zone so the change feed recompiles it (and every domain on it follows).
CREATE FUNCTION zone_effective_changed(p_zone bigint, p_through bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE z record; s bigint;
BEGIN
  SELECT id, tenant_id, serial, serial_txid INTO z FROM zones WHERE id = p_zone FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF; -- being deleted: its delete journals it
  IF EXISTS (SELECT 1 FROM zone_history WHERE zone_id = p_zone AND txid = txid_current()) THEN
    -- Moved already in this transaction (its own edit, or another include): journalled then.
    UPDATE zone_history SET diffable = false WHERE zone_id = p_zone AND txid = txid_current() AND diffable;
    RETURN;
  END IF;
  IF z.serial_txid IS NOT DISTINCT FROM txid_current() THEN
    -- Created in this transaction: its create is journalled, its history starts after.
    RETURN;
  END IF;
  s := next_serial(z.serial, zone_soa_serial(p_zone));
  INSERT INTO zone_history (zone_id, txid, serial_from, serial_to, changes, diffable)
  VALUES (p_zone, txid_current(), z.serial, s, '[]', false);
  UPDATE zones SET serial = s, serial_txid = txid_current() WHERE id = p_zone;
  PERFORM journal_append('zone', 'effective', p_zone, NULL, s, jsonb_build_object('through', p_through), NULL, z.tenant_id);
END $$;

-- Records of some zones changed (after records_changed() did the zone's own step: trigger names
-- fire in alphabetical order, records_journal_* first).
CREATE FUNCTION records_include_effect(p_zones bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE p bigint; i bigint;
BEGIN
  FOREACH p IN ARRAY p_zones LOOP
    -- A zone with includes: its own record difference may uncover or hide included records.
    IF EXISTS (SELECT 1 FROM zone_includes WHERE zone_id = p) THEN
      UPDATE zone_history SET diffable = false WHERE zone_id = p AND txid = txid_current() AND diffable;
    END IF;
    FOR i IN SELECT zone_includers(p) LOOP
      PERFORM zone_effective_changed(i, p);
    END LOOP;
  END LOOP;
END $$;

CREATE FUNCTION records_includes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM records_include_effect(ARRAY(SELECT DISTINCT zone_id FROM new_rows ORDER BY zone_id));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM records_include_effect(ARRAY(SELECT DISTINCT zone_id FROM old_rows ORDER BY zone_id));
  ELSE
    PERFORM records_include_effect(ARRAY(SELECT zone_id FROM new_rows UNION SELECT zone_id FROM old_rows ORDER BY 1));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER records_then_includes_insert AFTER INSERT ON records REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION records_includes();
CREATE TRIGGER records_then_includes_update AFTER UPDATE ON records REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION records_includes();
CREATE TRIGGER records_then_includes_delete AFTER DELETE ON records REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION records_includes();

-- An include list changed: the zone's effective records, and those of every zone including it.
CREATE FUNCTION zone_includes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p bigint; i bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN p := OLD.zone_id; ELSE p := NEW.zone_id; END IF;
  PERFORM zone_effective_changed(p, p);
  FOR i IN SELECT zone_includers(p) LOOP
    PERFORM zone_effective_changed(i, p);
  END LOOP;
  IF TG_OP = 'UPDATE' AND OLD.zone_id <> NEW.zone_id THEN
    PERFORM zone_effective_changed(OLD.zone_id, OLD.zone_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER zone_includes_changed AFTER INSERT OR UPDATE OR DELETE ON zone_includes
  FOR EACH ROW EXECUTE FUNCTION zone_includes_changed();

-- A scheduled RRset change (RRset-level PZC, 002) of an included zone changes what its includers
-- will serve, and when their TTLs are capped: journal each includer, as 002 journals the zone
-- itself, so the change feed recompiles them (no serial moves, as for the zone's own schedule).
CREATE FUNCTION scheduled_rrsets_includes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r scheduled_rrsets; i bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  FOR i IN SELECT zone_includers(r.zone_id) LOOP
    PERFORM journal_append('zone', 'effective-schedule', i, NULL, NULL, jsonb_build_object('through', r.zone_id), NULL,
                           (SELECT tenant_id FROM zones WHERE id = i));
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER scheduled_rrsets_includes AFTER INSERT OR UPDATE OR DELETE ON scheduled_rrsets
  FOR EACH ROW EXECUTE FUNCTION scheduled_rrsets_includes();

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

-- A step that is not an exact record difference of what the zone serves (an include list changed,
-- or one statement wrote records of several zones): IXFR across it answers with the whole zone
-- (src/transfer/ixfr.ts). Record edits otherwise get exact effective differences (below).
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

-- The effective records of p_zone changed in a way not computed as a difference (an include list
-- changed; a statement on several zones): its serial moves once per transaction (RFC 1982, as
-- records_changed does it), the step is not diffable, and a journal row names the zone so the
-- change feed recompiles it (and every domain on it follows).
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

-- The records zone p_zone serves (its own merged with its includes: the rule of
-- src/snapshot/includes.ts, in SQL) at the owners p_owners. With p_before, as they were before
-- the statement that added p_added to and removed p_removed from zone p_changed
-- ([[owner, type, ttl, rdata], ...] as records_journal() writes them). Precedence: depth-first
-- order of the include graph (a path of positions sorts in that order), each zone at its first
-- place; per owner and type the first zone with records wins; the first zone with anything at an
-- owner decides whether it is a CNAME there (RFC 1034 3.6.2).
CREATE FUNCTION zone_effective_rrs(p_zone bigint, p_owners text[], p_changed bigint, p_added jsonb, p_removed jsonb, p_before boolean)
RETURNS TABLE (owner text, type integer, ttl integer, rdata text) LANGUAGE sql STABLE AS $$
  WITH RECURSIVE walk(id, path) AS (
    SELECT p_zone, ARRAY[]::integer[]
    UNION ALL
    SELECT i.included_id, w.path || i.position FROM zone_includes i JOIN walk w ON i.zone_id = w.id
  ),
  ranked AS (SELECT id, row_number() OVER (ORDER BY min(path)) AS rk FROM walk GROUP BY id),
  added AS (SELECT a->>0 AS owner, (a->>1)::integer AS type, (a->>2)::integer AS ttl, a->>3 AS rdata FROM jsonb_array_elements(p_added) a),
  removed AS (SELECT a->>0 AS owner, (a->>1)::integer AS type, (a->>2)::integer AS ttl, a->>3 AS rdata FROM jsonb_array_elements(p_removed) a),
  src AS (
    SELECT r.zone_id, r.owner, r.type, r.ttl, r.rdata FROM records r
     WHERE r.zone_id IN (SELECT id FROM ranked) AND r.owner = ANY (p_owners)
       AND NOT (p_before AND r.zone_id = p_changed
                AND (r.owner, r.type, r.ttl, r.rdata) IN (SELECT x.owner, x.type, x.ttl, x.rdata FROM added x))
    UNION ALL
    SELECT p_changed, x.owner, x.type, x.ttl, x.rdata FROM removed x
     WHERE p_before AND p_changed IN (SELECT id FROM ranked) AND x.owner = ANY (p_owners)
  ),
  s AS (SELECT src.*, ranked.rk FROM src JOIN ranked ON ranked.id = src.zone_id),
  top AS (SELECT s.owner, min(s.rk) AS rk FROM s GROUP BY s.owner),
  top_cname AS (SELECT DISTINCT s.owner FROM s JOIN top t ON t.owner = s.owner AND t.rk = s.rk WHERE s.type = 5),
  win AS (SELECT s.owner, s.type, min(s.rk) AS rk FROM s GROUP BY s.owner, s.type)
  SELECT s.owner, s.type, s.ttl, s.rdata FROM s
    JOIN win w ON w.owner = s.owner AND w.type = s.type AND w.rk = s.rk
    JOIN top t ON t.owner = s.owner
   WHERE CASE WHEN s.owner IN (SELECT c.owner FROM top_cname c) THEN s.type = 5 AND s.rk = t.rk
              ELSE s.type <> 5 OR s.rk = t.rk END
$$;

-- The difference one statement on zone p_changed made to what p_zone serves:
-- {"added": [...], "removed": [...]} in records_journal()'s form.
CREATE FUNCTION zone_effective_diff(p_zone bigint, p_changed bigint, p_added jsonb, p_removed jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE owners text[]; d jsonb;
BEGIN
  owners := ARRAY(SELECT DISTINCT a->>0 FROM jsonb_array_elements(p_added || p_removed) a);
  WITH b AS (SELECT * FROM zone_effective_rrs(p_zone, owners, p_changed, p_added, p_removed, true)),
       n AS (SELECT * FROM zone_effective_rrs(p_zone, owners, p_changed, p_added, p_removed, false))
  SELECT jsonb_build_object(
    'added', coalesce((SELECT jsonb_agg(jsonb_build_array(x.owner, x.type, x.ttl, x.rdata)) FROM (SELECT * FROM n EXCEPT SELECT * FROM b) x), '[]'),
    'removed', coalesce((SELECT jsonb_agg(jsonb_build_array(x.owner, x.type, x.ttl, x.rdata)) FROM (SELECT * FROM b EXCEPT SELECT * FROM n) x), '[]'))
    INTO d;
  RETURN d;
END $$;

-- An exact step: p_zone serves `diff` more (an edit of a zone it includes). Nothing when nothing
-- it serves changed (the edit is hidden by an override); else its serial moves once per
-- transaction and the difference joins its history, as records_changed() does for its own.
CREATE FUNCTION zone_effective_step(p_zone bigint, p_through bigint, diff jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE z record; h record; s bigint;
BEGIN
  IF diff->'added' = '[]' AND diff->'removed' = '[]' THEN RETURN; END IF;
  SELECT id, tenant_id, serial, serial_txid INTO z FROM zones WHERE id = p_zone FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT id INTO h FROM zone_history WHERE zone_id = p_zone AND txid = txid_current();
  IF FOUND THEN
    UPDATE zone_history SET changes = changes || jsonb_build_array(diff) WHERE id = h.id;
    RETURN; -- moved and journalled already in this transaction
  END IF;
  IF z.serial_txid IS NOT DISTINCT FROM txid_current() THEN RETURN; END IF; -- created in it
  s := next_serial(z.serial, zone_soa_serial(p_zone));
  INSERT INTO zone_history (zone_id, txid, serial_from, serial_to, changes)
  VALUES (p_zone, txid_current(), z.serial, s, jsonb_build_array(diff));
  UPDATE zones SET serial = s, serial_txid = txid_current() WHERE id = p_zone;
  PERFORM journal_append('zone', 'effective', p_zone, NULL, s, jsonb_build_object('through', p_through), NULL, z.tenant_id);
END $$;

-- Records of some zones changed (after records_changed() did the zone's own step: trigger names
-- fire in alphabetical order, records_journal_* first). A statement on one zone of at most
-- 10,000 rows (every API, UPDATE and PATCH write; a zone file is one statement of all its rows)
-- gives exact steps: the includers' effective differences, and for a zone with includes its own
-- step's difference replaced by the effective one. A larger statement, or one on several zones
-- at once (plain SQL), gives non-diffable steps, which IXFR answers with the whole zone: the
-- merge at every touched owner for every includer is then not worth its time in the writer's
-- transaction.
CREATE FUNCTION records_include_effect(p_zones bigint[], p_added jsonb, p_removed jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE p bigint; i bigint;
BEGIN
  IF p_added IS NOT NULL THEN
    p := p_zones[1];
    IF EXISTS (SELECT 1 FROM zone_includes WHERE zone_id = p) THEN
      -- The own difference records_changed() appended last may uncover or hide included records.
      UPDATE zone_history SET changes = jsonb_set(changes, ARRAY[(jsonb_array_length(changes) - 1)::text],
                                                  zone_effective_diff(p, p, p_added, p_removed))
       WHERE zone_id = p AND txid = txid_current();
    END IF;
    FOR i IN SELECT zone_includers(p) LOOP
      PERFORM zone_effective_step(i, p, zone_effective_diff(i, p, p_added, p_removed));
    END LOOP;
    RETURN;
  END IF;
  FOREACH p IN ARRAY p_zones LOOP
    IF EXISTS (SELECT 1 FROM zone_includes WHERE zone_id = p) THEN
      UPDATE zone_history SET diffable = false WHERE zone_id = p AND txid = txid_current() AND diffable;
    END IF;
    FOR i IN SELECT zone_includers(p) LOOP
      PERFORM zone_effective_changed(i, p);
    END LOOP;
  END LOOP;
END $$;

CREATE FUNCTION records_includes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE zs bigint[]; n bigint := 0; added jsonb := '[]'; removed jsonb := '[]';
BEGIN
  IF TG_OP = 'INSERT' THEN zs := ARRAY(SELECT DISTINCT zone_id FROM new_rows ORDER BY zone_id);
  ELSIF TG_OP = 'DELETE' THEN zs := ARRAY(SELECT DISTINCT zone_id FROM old_rows ORDER BY zone_id);
  ELSE zs := ARRAY(SELECT zone_id FROM new_rows UNION SELECT zone_id FROM old_rows ORDER BY 1);
  END IF;
  -- Nothing to do for a zone nobody includes and that includes nothing (the common case): one
  -- indexed probe, and the rows are not gathered.
  IF NOT EXISTS (SELECT 1 FROM zone_includes WHERE zone_id = ANY (zs) OR included_id = ANY (zs)) THEN RETURN NULL; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN n := n + (SELECT count(*) FROM new_rows); END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN n := n + (SELECT count(*) FROM old_rows); END IF;
  IF cardinality(zs) <> 1 OR n > 10000 THEN
    PERFORM records_include_effect(zs, NULL, NULL);
    RETURN NULL;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT coalesce(jsonb_agg(jsonb_build_array(owner, type, ttl, rdata)), '[]') INTO added FROM new_rows;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    SELECT coalesce(jsonb_agg(jsonb_build_array(owner, type, ttl, rdata)), '[]') INTO removed FROM old_rows;
  END IF;
  PERFORM records_include_effect(zs, added, removed);
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

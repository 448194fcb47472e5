-- journal_commit_order() (008) is a deferred trigger, so it fires once per journal row of a
-- transaction at COMMIT. The first firing numbers every provisional row; each later firing still
-- probed `journal WHERE seq < 0`, whose index by then holds the transaction's own dead provisional
-- entries (the rows were renumbered by UPDATE in the same transaction, so no scan may skip them):
-- n firings over n dead entries each. One INSERT of 51,000 domains (a journal row each) did not
-- commit within three minutes.
--
-- Now the lowest provisional number a firing has numbered is kept in a transaction-local setting,
-- and a firing for a row at or above it returns at once. Rows appended after that firing (after
-- SET CONSTRAINTS ALL IMMEDIATE, say) have lower provisional numbers (-nextval), so their own
-- firing numbers them, as before. The setting is transaction-local: it ends with the transaction,
-- and a rolled-back savepoint takes back its change with the renumbering.
CREATE OR REPLACE FUNCTION journal_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record; s bigint; done text; lowest bigint;
BEGIN
  done := current_setting('glidepath.journal_numbered_to', true);
  IF done IS NOT NULL AND done <> '' AND NEW.seq >= done::bigint THEN RETURN NULL; END IF;
  IF NOT EXISTS (SELECT 1 FROM journal WHERE seq < 0) THEN RETURN NULL; END IF;
  PERFORM pg_advisory_xact_lock(7406395138);
  -- Only this transaction's rows can be seen with a negative number (others' are uncommitted).
  FOR r IN SELECT seq FROM journal WHERE seq < 0 ORDER BY seq DESC LOOP
    s := nextval('journal_seq');
    UPDATE journal SET seq = s WHERE seq = r.seq;
    lowest := r.seq;
  END LOOP;
  IF lowest IS NOT NULL THEN PERFORM set_config('glidepath.journal_numbered_to', lowest::text, true); END IF;
  PERFORM pg_notify('glidepath_journal', s::text);
  RETURN NULL;
END $$;

-- What changed, not only that something did: every change to a row a
-- delivery depends on moves the change counter by one and logs the counter's
-- new value with the kind and id of the item it touched, in the change's own
-- transaction, by row-level triggers, whichever node or hand made the change.
-- A node's fact cache drops exactly the items the log names after the value
-- it last saw, and the usage writer refuses only deliveries whose own items
-- changed after their facts were read (delivery/facts.rs, storage/changes.rs).
--
-- Kinds and items: article (articles.id), photo (media.id), publisher
-- (publishers.id), client (api_clients.id), licensee (licensees.id, and
-- licences.licensee_id for any change to a licence: an entitlement is kept per
-- licensee). An update that moves the keying column logs the old and the new
-- item under the same value.
--
-- The counter row, not a sequence, numbers the changes: a writer holds the
-- row's lock from its first change until it commits, so changes commit in the
-- order of their numbers and a reader that sees value N sees every change up
-- to N. (A sequence hands out numbers in the order transactions ask for them,
-- and a later number can commit first: a reader would skip the earlier one.)
-- Old entries are pruned by the service (a prefix of the log, by seq); a node
-- whose last seen value is older than the log keeps drops everything.
CREATE TABLE change_log (
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);

CREATE INDEX change_log_seq ON change_log (seq);

DROP TRIGGER publishers_counted ON publishers;
DROP TRIGGER licensees_counted ON licensees;
DROP TRIGGER api_clients_counted ON api_clients;
DROP TRIGGER media_counted ON media;
DROP TRIGGER articles_counted ON articles;
DROP TRIGGER licences_counted ON licences;
DROP FUNCTION count_change();

CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change_kind TEXT := TG_ARGV[0];
    new_item TEXT;
    old_item TEXT;
    next_seq BIGINT;
BEGIN
    IF TG_TABLE_NAME = 'licences' THEN
        IF TG_OP <> 'DELETE' THEN new_item := NEW.licensee_id; END IF;
        IF TG_OP <> 'INSERT' THEN old_item := OLD.licensee_id; END IF;
    ELSE
        IF TG_OP <> 'DELETE' THEN new_item := NEW.id; END IF;
        IF TG_OP <> 'INSERT' THEN old_item := OLD.id; END IF;
    END IF;
    UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO next_seq;
    IF new_item IS NOT NULL THEN
        INSERT INTO change_log (seq, kind, item, at)
            VALUES (next_seq, change_kind, new_item, clock_timestamp() AT TIME ZONE 'UTC');
    END IF;
    IF old_item IS NOT NULL AND old_item IS DISTINCT FROM new_item THEN
        INSERT INTO change_log (seq, kind, item, at)
            VALUES (next_seq, change_kind, old_item, clock_timestamp() AT TIME ZONE 'UTC');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER publishers_logged AFTER INSERT OR UPDATE OR DELETE ON publishers
    FOR EACH ROW EXECUTE FUNCTION log_change('publisher');

CREATE TRIGGER licensees_logged AFTER INSERT OR UPDATE OR DELETE ON licensees
    FOR EACH ROW EXECUTE FUNCTION log_change('licensee');

CREATE TRIGGER api_clients_logged AFTER INSERT OR UPDATE OR DELETE ON api_clients
    FOR EACH ROW EXECUTE FUNCTION log_change('client');

CREATE TRIGGER media_logged AFTER INSERT OR UPDATE OR DELETE ON media
    FOR EACH ROW EXECUTE FUNCTION log_change('photo');

CREATE TRIGGER articles_logged AFTER INSERT OR UPDATE OR DELETE ON articles
    FOR EACH ROW EXECUTE FUNCTION log_change('article');

CREATE TRIGGER licences_logged AFTER INSERT OR UPDATE OR DELETE ON licences
    FOR EACH ROW EXECUTE FUNCTION log_change('licensee');

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

DROP TRIGGER publishers_insert_counted;
DROP TRIGGER publishers_update_counted;
DROP TRIGGER publishers_delete_counted;
DROP TRIGGER licensees_insert_counted;
DROP TRIGGER licensees_update_counted;
DROP TRIGGER licensees_delete_counted;
DROP TRIGGER api_clients_insert_counted;
DROP TRIGGER api_clients_update_counted;
DROP TRIGGER api_clients_delete_counted;
DROP TRIGGER media_insert_counted;
DROP TRIGGER media_update_counted;
DROP TRIGGER media_delete_counted;
DROP TRIGGER articles_insert_counted;
DROP TRIGGER articles_update_counted;
DROP TRIGGER articles_delete_counted;
DROP TRIGGER licences_insert_counted;
DROP TRIGGER licences_update_counted;
DROP TRIGGER licences_delete_counted;

CREATE TRIGGER publishers_insert_logged AFTER INSERT ON publishers
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'publisher', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER publishers_update_logged AFTER UPDATE ON publishers
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'publisher', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'publisher', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1 AND old.id IS NOT new.id;
END;

CREATE TRIGGER publishers_delete_logged AFTER DELETE ON publishers
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'publisher', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER licensees_insert_logged AFTER INSERT ON licensees
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'licensee', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER licensees_update_logged AFTER UPDATE ON licensees
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'licensee', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'licensee', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1 AND old.id IS NOT new.id;
END;

CREATE TRIGGER licensees_delete_logged AFTER DELETE ON licensees
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'licensee', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER api_clients_insert_logged AFTER INSERT ON api_clients
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'client', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER api_clients_update_logged AFTER UPDATE ON api_clients
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'client', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'client', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1 AND old.id IS NOT new.id;
END;

CREATE TRIGGER api_clients_delete_logged AFTER DELETE ON api_clients
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'client', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER media_insert_logged AFTER INSERT ON media
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'photo', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER media_update_logged AFTER UPDATE ON media
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'photo', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'photo', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1 AND old.id IS NOT new.id;
END;

CREATE TRIGGER media_delete_logged AFTER DELETE ON media
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'photo', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER articles_insert_logged AFTER INSERT ON articles
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'article', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER articles_update_logged AFTER UPDATE ON articles
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'article', new.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'article', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1 AND old.id IS NOT new.id;
END;

CREATE TRIGGER articles_delete_logged AFTER DELETE ON articles
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'article', old.id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER licences_insert_logged AFTER INSERT ON licences
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'licensee', new.licensee_id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

CREATE TRIGGER licences_update_logged AFTER UPDATE ON licences
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'licensee', new.licensee_id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'licensee', old.licensee_id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1 AND old.licensee_id IS NOT new.licensee_id;
END;

CREATE TRIGGER licences_delete_logged AFTER DELETE ON licences
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    INSERT INTO change_log (seq, kind, item, at)
        SELECT value, 'licensee', old.licensee_id, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM change_counter WHERE id = 1;
END;

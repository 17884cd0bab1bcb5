-- One counter that every change to what a delivery depends on moves, in the
-- same transaction as the change: a node caches delivery facts stamped with
-- the counter and the usage writer refuses, inside its own transaction, a
-- delivery decided on facts older than the counter. A change made through
-- any node (or by hand) takes effect on the next request.
CREATE TABLE change_counter (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 1);

CREATE TRIGGER publishers_insert_counted AFTER INSERT ON publishers
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER publishers_update_counted AFTER UPDATE ON publishers
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER publishers_delete_counted AFTER DELETE ON publishers
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER licensees_insert_counted AFTER INSERT ON licensees
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER licensees_update_counted AFTER UPDATE ON licensees
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER licensees_delete_counted AFTER DELETE ON licensees
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER api_clients_insert_counted AFTER INSERT ON api_clients
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER api_clients_update_counted AFTER UPDATE ON api_clients
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER api_clients_delete_counted AFTER DELETE ON api_clients
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER media_insert_counted AFTER INSERT ON media
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER media_update_counted AFTER UPDATE ON media
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER media_delete_counted AFTER DELETE ON media
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER articles_insert_counted AFTER INSERT ON articles
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER articles_update_counted AFTER UPDATE ON articles
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER articles_delete_counted AFTER DELETE ON articles
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER licences_insert_counted AFTER INSERT ON licences
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER licences_update_counted AFTER UPDATE ON licences
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER licences_delete_counted AFTER DELETE ON licences
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
END;

DROP TRIGGER publishers_insert_logged;
DROP TRIGGER publishers_update_logged;
DROP TRIGGER publishers_delete_logged;
DROP TRIGGER licensees_insert_logged;
DROP TRIGGER licensees_update_logged;
DROP TRIGGER licensees_delete_logged;
DROP TRIGGER api_clients_insert_logged;
DROP TRIGGER api_clients_update_logged;
DROP TRIGGER api_clients_delete_logged;
DROP TRIGGER media_insert_logged;
DROP TRIGGER media_update_logged;
DROP TRIGGER media_delete_logged;
DROP TRIGGER articles_insert_logged;
DROP TRIGGER articles_update_logged;
DROP TRIGGER articles_delete_logged;
DROP TRIGGER licences_insert_logged;
DROP TRIGGER licences_update_logged;
DROP TRIGGER licences_delete_logged;
DROP TABLE change_log;

-- The statement-wide counter of 2026-11-28-000005_change_counter, as it was.
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

DROP TRIGGER publishers_logged ON publishers;
DROP TRIGGER licensees_logged ON licensees;
DROP TRIGGER api_clients_logged ON api_clients;
DROP TRIGGER media_logged ON media;
DROP TRIGGER articles_logged ON articles;
DROP TRIGGER licences_logged ON licences;
DROP FUNCTION log_change();
DROP TABLE change_log;

-- The statement-wide counter of 2026-11-28-000005_change_counter, as it was.
CREATE FUNCTION count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_counter SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER publishers_counted AFTER INSERT OR UPDATE OR DELETE ON publishers
    FOR EACH STATEMENT EXECUTE FUNCTION count_change();

CREATE TRIGGER licensees_counted AFTER INSERT OR UPDATE OR DELETE ON licensees
    FOR EACH STATEMENT EXECUTE FUNCTION count_change();

CREATE TRIGGER api_clients_counted AFTER INSERT OR UPDATE OR DELETE ON api_clients
    FOR EACH STATEMENT EXECUTE FUNCTION count_change();

CREATE TRIGGER media_counted AFTER INSERT OR UPDATE OR DELETE ON media
    FOR EACH STATEMENT EXECUTE FUNCTION count_change();

CREATE TRIGGER articles_counted AFTER INSERT OR UPDATE OR DELETE ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION count_change();

CREATE TRIGGER licences_counted AFTER INSERT OR UPDATE OR DELETE ON licences
    FOR EACH STATEMENT EXECUTE FUNCTION count_change();

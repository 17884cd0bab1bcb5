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

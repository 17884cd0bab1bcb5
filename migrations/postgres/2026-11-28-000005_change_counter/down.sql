DROP TRIGGER publishers_counted ON publishers;
DROP TRIGGER licensees_counted ON licensees;
DROP TRIGGER api_clients_counted ON api_clients;
DROP TRIGGER media_counted ON media;
DROP TRIGGER articles_counted ON articles;
DROP TRIGGER licences_counted ON licences;
DROP FUNCTION count_change();
DROP TABLE change_counter;

DROP INDEX api_clients_licensee_id;
DROP INDEX api_clients_publisher_id;
DROP TABLE api_clients;
DROP TABLE licensees;
DROP TABLE publishers;

DROP INDEX articles_search;
ALTER TABLE articles DROP COLUMN search;
ALTER TABLE articles DROP COLUMN redistribution;
DROP INDEX licences_publisher_id;
DROP INDEX licences_licensee_id;
DROP TABLE licences;

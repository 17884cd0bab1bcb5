DROP TRIGGER articles_fts_update;
DROP TRIGGER articles_fts_delete;
DROP TRIGGER articles_fts_insert;
DROP TABLE articles_fts;
ALTER TABLE articles DROP COLUMN redistribution;
DROP INDEX licences_publisher_id;
DROP INDEX licences_licensee_id;
DROP TABLE licences;

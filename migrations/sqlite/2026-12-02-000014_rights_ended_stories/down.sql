DROP INDEX takedown_notices_once;
DROP TABLE rights_ended_stories;

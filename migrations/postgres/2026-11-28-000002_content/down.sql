DROP INDEX content_events_article;
DROP INDEX content_events_visible;
DROP TABLE content_events;
DROP TABLE article_versions;
DROP INDEX articles_publisher_id;
DROP TABLE articles;
DROP INDEX media_publisher_id;
DROP TABLE media;

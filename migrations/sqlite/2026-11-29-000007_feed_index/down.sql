DROP INDEX articles_feed;

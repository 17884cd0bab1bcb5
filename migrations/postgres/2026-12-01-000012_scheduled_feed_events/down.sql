DROP TABLE scheduled_feed_events;

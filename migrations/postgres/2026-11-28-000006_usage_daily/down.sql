DROP INDEX usage_daily_publisher;
DROP INDEX usage_daily_day;
DROP TABLE usage_daily;

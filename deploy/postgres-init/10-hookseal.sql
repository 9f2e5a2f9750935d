-- hookseal keeps its store in its own database on cal.com's PostgreSQL server, so neither
-- application's migrations touch the other's tables. Run once, at the server's first start.
CREATE DATABASE hookseal OWNER calcom;

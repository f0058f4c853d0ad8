-- One PostgreSQL server, two databases: Unleash's and the gateway's.
CREATE DATABASE unleash;
CREATE DATABASE chain_canary;

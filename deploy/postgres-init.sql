-- Run once by the postgres image when its volume is new: the erasure ledger's own database
-- (see docs/operations.md, "Backups and the erasure ledger"). On an existing volume, run it
-- by hand: docker compose exec postgres psql -U ilearn -c 'CREATE DATABASE ilearn_ledger'
CREATE DATABASE ilearn_ledger;

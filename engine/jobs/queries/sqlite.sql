-- The statements on the jobs table, SQLite's (engine/store/sql.py loads them with the store's; the
-- step's batch runs the step's job rows by name). Each has its PostgreSQL twin in postgresql.sql.
-- Parameters: :name. Times: naive UTC text. Lists of ids or names: one JSON array text.

-- an instance's waiting timers, read with its cold load
-- name: jobs_of
SELECT id, spiff_task_id, due_at, element FROM jobs WHERE instance_id = :id

-- name: delete_job_of
DELETE FROM jobs WHERE instance_id = :i AND spiff_task_id = :t

-- name: insert_job
INSERT INTO jobs (instance_id, element, spiff_task_id, kind, due_at, attempts, fired, created_at)
 VALUES (:instance_id, :element, :spiff_task_id, :kind, :due_at, 0, 0, :created_at)

-- name: delete_jobs_of
DELETE FROM jobs WHERE instance_id = :i

-- name: add_job
INSERT INTO jobs (instance_id, process_id, element, spiff_task_id, kind, due_at, attempts, fired, created_at)
 VALUES (:instance_id, :process_id, :element, :spiff_task_id, :kind, :due_at, :attempts, :fired, :created_at)

-- The claim: due, not held by a live lease, of a running instance (or a start timer), oldest first;
-- walks ix_jobs_due from the oldest due row and stops after :limit rows. One writer at a time
-- (the transaction began with BEGIN IMMEDIATE), so no two workers take the same row.
-- name: acquire
UPDATE jobs SET locked_by = :worker, lock_expires_at = :expires WHERE jobs.id IN (SELECT jobs.id
 FROM jobs LEFT OUTER JOIN instances ON instances.id = jobs.instance_id
 WHERE jobs.due_at <= :now AND (jobs.locked_by IS NULL OR jobs.lock_expires_at IS NULL OR jobs.lock_expires_at <= :now)
 AND (instances.status = 'running' OR jobs.instance_id IS NULL) ORDER BY jobs.due_at LIMIT :limit)
 RETURNING id, instance_id, element, spiff_task_id, kind, due_at, attempts, locked_by, lock_expires_at,
 last_error, process_id, fired

-- name: hold_job
SELECT i.status, i.version FROM jobs j JOIN instances i ON i.id = j.instance_id
 WHERE j.id = :job_id AND j.locked_by = :worker

-- name: hold_start
SELECT id FROM jobs WHERE id = :job_id AND locked_by = :worker

-- name: renew
UPDATE jobs SET lock_expires_at = :expires
 WHERE id IN (SELECT value FROM json_each(:ids)) AND locked_by = :worker

-- name: release
UPDATE jobs SET locked_by = NULL, lock_expires_at = NULL
 WHERE id IN (SELECT value FROM json_each(:ids)) AND locked_by = :worker

-- name: fail
UPDATE jobs SET attempts = attempts + 1, last_error = :error, due_at = :due, locked_by = NULL,
 lock_expires_at = NULL WHERE id = :id AND locked_by IS :locked_by

-- name: park
UPDATE jobs SET attempts = 0, last_error = :error, locked_by = NULL, lock_expires_at = NULL WHERE id = :id

-- name: get_job
SELECT id, instance_id, element, spiff_task_id, kind, due_at, attempts, locked_by, lock_expires_at,
 last_error, process_id, fired FROM jobs WHERE id = :id

-- name: count_due
SELECT count(*) FROM jobs LEFT OUTER JOIN instances ON instances.id = jobs.instance_id
 WHERE jobs.due_at <= :now AND (jobs.locked_by IS NULL OR jobs.lock_expires_at IS NULL OR jobs.lock_expires_at <= :now)
 AND (instances.status = 'running' OR jobs.instance_id IS NULL)

-- name: pending_stats
SELECT count(*), coalesce(sum(CASE WHEN due_at <= :now THEN 1 ELSE 0 END), 0),
 coalesce(sum(CASE WHEN locked_by IS NOT NULL AND lock_expires_at > :now THEN 1 ELSE 0 END), 0),
 coalesce(sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) FROM jobs

-- name: next_due
SELECT due_at FROM jobs WHERE due_at > :now ORDER BY due_at LIMIT 1

-- name: start_jobs
SELECT process_id, element, due_at, fired FROM jobs WHERE instance_id IS NULL ORDER BY due_at

-- name: delete_start_jobs
DELETE FROM jobs WHERE instance_id IS NULL AND process_id = :process_id

-- name: insert_start_job
INSERT INTO jobs (instance_id, process_id, element, spiff_task_id, kind, due_at, attempts, fired, created_at)
 VALUES (NULL, :process_id, :element, :spiff_task_id, 'start', :due_at, :attempts, :fired, :created_at)

-- name: delete_job
DELETE FROM jobs WHERE id = :id

-- name: reschedule_start_job
UPDATE jobs SET due_at = :due_at, fired = :fired, attempts = 0, last_error = NULL, locked_by = NULL,
 lock_expires_at = NULL WHERE id = :id

-- Running instances of a process now at one of :elements: a ready task, or a timer due by :now
-- name: cases_at
SELECT found.id, found.element, found.due_at, instances.business_key, instances.variables FROM (
 SELECT human_tasks.instance_id AS id, human_tasks.name AS element, human_tasks.due_at AS due_at FROM human_tasks
 WHERE human_tasks.process_id = :process_id AND human_tasks.status = 'ready'
 AND human_tasks.name IN (SELECT value FROM json_each(:elements))
 UNION ALL
 SELECT jobs.instance_id AS id, jobs.element AS element, jobs.due_at AS due_at FROM jobs
 JOIN instances ON instances.id = jobs.instance_id
 WHERE instances.process_id = :process_id AND instances.status = 'running'
 AND jobs.element IN (SELECT value FROM json_each(:elements)) AND jobs.due_at <= :now
 ) AS found JOIN instances ON instances.id = found.id ORDER BY found.due_at, found.id

-- the purge of given instances (engine/store/reading.py): their waiting timers go with them
-- name: purge_jobs
DELETE FROM jobs WHERE instance_id IN (SELECT value FROM json_each(:ids))

-- name: count_jobs
SELECT COUNT(*) FROM jobs

-- `hall calendar refresh` (R-T1): the pending timers of cases, not yet due, with when each started
-- name: pending_timers
SELECT instance_id, spiff_task_id, created_at, due_at FROM jobs
 WHERE instance_id IS NOT NULL AND kind = 'timer' AND due_at > :now ORDER BY instance_id, id

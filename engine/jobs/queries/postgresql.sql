-- The statements on the jobs table, PostgreSQL's (engine/store/sql.py loads them with the store's;
-- the step's batch runs the step's job rows by name). Each has its SQLite twin in sqlite.sql, but for
-- the group_* statements of the grouped firing (engine/jobs/group.py), which only PostgreSQL has.
-- Parameters: %(name)s. Times: timestamptz. Lists of ids or names: arrays.

-- an instance's waiting timers, read with its cold load
-- name: jobs_of
SELECT id, spiff_task_id, due_at, element FROM jobs WHERE instance_id = %(id)s

-- name: delete_job_of
DELETE FROM jobs WHERE instance_id = %(i)s AND spiff_task_id = %(t)s

-- name: insert_job
INSERT INTO jobs (instance_id, element, spiff_task_id, kind, due_at, attempts, fired, created_at)
 VALUES (%(instance_id)s, %(element)s, %(spiff_task_id)s, %(kind)s, %(due_at)s, 0, 0, %(created_at)s)

-- name: delete_jobs_of
DELETE FROM jobs WHERE instance_id = %(i)s

-- name: add_job
INSERT INTO jobs (instance_id, process_id, element, spiff_task_id, kind, due_at, attempts, fired, created_at)
 VALUES (%(instance_id)s, %(process_id)s, %(element)s, %(spiff_task_id)s, %(kind)s, %(due_at)s, %(attempts)s,
 %(fired)s, %(created_at)s) RETURNING id

-- The claim: due, not held by a live lease, of a running instance (or a start timer), oldest first;
-- walks ix_jobs_due from the oldest due row and stops after %(limit)s rows. Rows another worker is
-- claiming right now are skipped: any number of workers on any number of hosts take disjoint rows.
-- name: acquire
UPDATE jobs SET locked_by = %(worker)s, lock_expires_at = %(expires)s WHERE jobs.id IN (SELECT jobs.id
 FROM jobs LEFT OUTER JOIN instances ON instances.id = jobs.instance_id
 WHERE jobs.due_at <= %(now)s AND (jobs.locked_by IS NULL OR jobs.lock_expires_at IS NULL
 OR jobs.lock_expires_at <= %(now)s) AND (instances.status = 'running' OR jobs.instance_id IS NULL)
 ORDER BY jobs.due_at LIMIT %(limit)s FOR UPDATE OF jobs SKIP LOCKED)
 RETURNING id, instance_id, element, spiff_task_id, kind, due_at, attempts, locked_by, lock_expires_at,
 last_error, process_id, fired

-- the instance row is locked first, as every engine step locks it
-- name: hold_job
SELECT i.status, i.version FROM jobs j JOIN instances i ON i.id = j.instance_id
 WHERE j.id = %(job_id)s AND j.locked_by = %(worker)s FOR UPDATE OF i

-- name: hold_start
SELECT id FROM jobs WHERE id = %(job_id)s AND locked_by = %(worker)s FOR UPDATE

-- name: renew
UPDATE jobs SET lock_expires_at = %(expires)s WHERE id = ANY(%(ids)s) AND locked_by = %(worker)s

-- name: release
UPDATE jobs SET locked_by = NULL, lock_expires_at = NULL WHERE id = ANY(%(ids)s) AND locked_by = %(worker)s

-- name: fail
UPDATE jobs SET attempts = attempts + 1, last_error = %(error)s, due_at = %(due)s, locked_by = NULL,
 lock_expires_at = NULL WHERE id = %(id)s AND locked_by IS NOT DISTINCT FROM %(locked_by)s

-- name: park
UPDATE jobs SET attempts = 0, last_error = %(error)s, locked_by = NULL, lock_expires_at = NULL WHERE id = %(id)s

-- name: get_job
SELECT id, instance_id, element, spiff_task_id, kind, due_at, attempts, locked_by, lock_expires_at,
 last_error, process_id, fired FROM jobs WHERE id = %(id)s

-- name: count_due
SELECT count(*) FROM jobs LEFT OUTER JOIN instances ON instances.id = jobs.instance_id
 WHERE jobs.due_at <= %(now)s AND (jobs.locked_by IS NULL OR jobs.lock_expires_at IS NULL
 OR jobs.lock_expires_at <= %(now)s) AND (instances.status = 'running' OR jobs.instance_id IS NULL)

-- name: pending_stats
SELECT count(*), coalesce(sum(CASE WHEN due_at <= %(now)s THEN 1 ELSE 0 END), 0),
 coalesce(sum(CASE WHEN locked_by IS NOT NULL AND lock_expires_at > %(now)s THEN 1 ELSE 0 END), 0),
 coalesce(sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) FROM jobs

-- name: next_due
SELECT due_at FROM jobs WHERE due_at > %(now)s ORDER BY due_at LIMIT 1

-- name: start_jobs
SELECT process_id, element, due_at, fired FROM jobs WHERE instance_id IS NULL ORDER BY due_at

-- name: delete_start_jobs
DELETE FROM jobs WHERE instance_id IS NULL AND process_id = %(process_id)s

-- name: insert_start_job
INSERT INTO jobs (instance_id, process_id, element, spiff_task_id, kind, due_at, attempts, fired, created_at)
 VALUES (NULL, %(process_id)s, %(element)s, %(spiff_task_id)s, 'start', %(due_at)s, %(attempts)s, %(fired)s,
 %(created_at)s)

-- name: delete_job
DELETE FROM jobs WHERE id = %(id)s

-- name: reschedule_start_job
UPDATE jobs SET due_at = %(due_at)s, fired = %(fired)s, attempts = 0, last_error = NULL, locked_by = NULL,
 lock_expires_at = NULL WHERE id = %(id)s

-- Running instances of a process now at one of %(elements)s: a ready task, or a timer due by %(now)s
-- name: cases_at
SELECT found.id, found.element, found.due_at, instances.business_key, instances.variables FROM (
 SELECT human_tasks.instance_id AS id, human_tasks.name AS element, human_tasks.due_at AS due_at FROM human_tasks
 WHERE human_tasks.process_id = %(process_id)s AND human_tasks.status = 'ready'
 AND human_tasks.name = ANY(%(elements)s)
 UNION ALL
 SELECT jobs.instance_id AS id, jobs.element AS element, jobs.due_at AS due_at FROM jobs
 JOIN instances ON instances.id = jobs.instance_id
 WHERE instances.process_id = %(process_id)s AND instances.status = 'running'
 AND jobs.element = ANY(%(elements)s) AND jobs.due_at <= %(now)s
 ) AS found JOIN instances ON instances.id = found.id ORDER BY found.due_at, found.id

-- -- The grouped firing (engine/jobs/group.py): PostgreSQL only. --
-- Each is planned at every execution (prepare=False): a prepared statement's generic plan is made for
-- the tables as they were when the worker started; a load planned while human_tasks was nearly empty
-- scanned the whole table ever after.

-- Lock the instances of the group's jobs that no other transaction holds, check the claims, and take
-- an id for each human task the steps may create.
-- name: group_hold
SELECT j.id, i.status, i.version, nextval(pg_get_serial_sequence('human_tasks', 'id'))
 FROM jobs j JOIN instances i ON i.id = j.instance_id
 WHERE j.id = ANY(%(jobs)s) AND j.locked_by = %(worker)s
 ORDER BY i.id FOR UPDATE OF i SKIP LOCKED

-- Sent after the hold in the same pipeline: a statement of its own, so its snapshot is taken once the
-- row locks are ours. The columns of the store's cold load (instance, task_rows, ready_human_tasks,
-- jobs_of, has_children), so both loads return the same rows (a test keeps them equal); its human
-- tasks are filtered for 'ready' after the lookup by instance, which only ix_human_tasks_instance serves.
-- name: group_load
SELECT i.id, i.definition_id, i.process_id, i.business_key, i.status, i.parent_id, i.started_at, i.updated_at,
 i.ended_at, i.started_by, i.version, i.incident_element, i.incident_error, i.state, i.variables,
 t.ids, t.bodies,
 (SELECT json_agg(h ORDER BY h.id) FILTER (WHERE h.status = 'ready') FROM (SELECT id, instance_id, process_id,
 spiff_task_id, name, title, lane, role, assignee, form, status, created_at, due_at, due_provisional, warn_at,
 completed_at, completed_by, organisation FROM human_tasks WHERE instance_id = i.id) h) AS human,
 (SELECT json_agg(json_build_array(j.spiff_task_id, j.due_at, j.element)) FROM jobs j
 WHERE j.instance_id = i.id) AS jobs,
 EXISTS (SELECT 1 FROM instances c WHERE c.parent_id = i.id) AS has_children
 FROM instances i CROSS JOIN LATERAL (SELECT array_agg(task_id) AS ids, array_agg(body) AS bodies
 FROM instance_tasks WHERE instance_id = i.id) t
 WHERE i.id = ANY(%(instances)s)

-- The group's save is one statement: WITH, then the clauses below for the kinds of row its steps
-- write (each list one JSON text parameter), then group_save_check. Every WITH clause runs to
-- completion whether read or not.
-- name: group_save_ht
ht AS (INSERT INTO human_tasks (id, instance_id, process_id, spiff_task_id, name, title, lane, role, assignee,
 form, status, created_at, due_at, due_provisional, warn_at, organisation) SELECT id, instance_id, process_id,
 spiff_task_id, name, title, lane, role, assignee, form, status, created_at, due_at, due_provisional, warn_at,
 organisation FROM json_populate_recordset(NULL::human_tasks, %(ht)s::json))

-- name: group_save_jd
jd AS (DELETE FROM jobs USING json_to_recordset(%(jd)s::json) AS d(i int, t text)
 WHERE jobs.instance_id = d.i AND jobs.spiff_task_id = d.t)

-- name: group_save_ja
ja AS (INSERT INTO jobs (instance_id, element, spiff_task_id, kind, due_at, attempts, fired, created_at)
 SELECT instance_id, element, spiff_task_id, kind, due_at, 0, 0, created_at
 FROM json_populate_recordset(NULL::jobs, %(ja)s::json))

-- name: group_save_tr
tr AS (INSERT INTO instance_tasks (instance_id, task_id, body)
 SELECT i, t, b FROM json_to_recordset(%(tr)s::json) AS u(i int, t text, b text)
 ON CONFLICT (instance_id, task_id) DO UPDATE SET body = excluded.body)

-- name: group_save_td
td AS (DELETE FROM instance_tasks USING json_to_recordset(%(td)s::json) AS d(i int, t text)
 WHERE instance_tasks.instance_id = d.i AND instance_tasks.task_id = d.t)

-- name: group_save_h
hi AS (INSERT INTO history (instance_id, process_id, at, actor, kind, element, task_id, detail, simulated)
 SELECT x.instance_id, x.process_id, x.at, x.actor, x.kind, x.element, x.task_id, x.detail, x.simulated
 FROM json_populate_recordset(NULL::history, %(h)s::json) WITH ORDINALITY AS x ORDER BY x.ordinality)

-- a step sends its status only when it changed (engine/runtime.py): NULL keeps the stored one
-- name: group_save_u
u AS (UPDATE instances SET version = x.version + 1, state = x.state, variables = x.variables,
 status = coalesce(x.status, instances.status), updated_at = x.updated_at, ended_at = x.ended_at,
 definition_id = x.definition_id, incident_element = x.incident_element,
 incident_error = x.incident_error FROM json_populate_recordset(NULL::instances, %(u)s::json) AS x
 WHERE instances.id = x.id AND instances.version = x.version RETURNING 1)

-- A moved version divides by zero, which fails the statement and the transaction, so the COMMIT sent
-- after it cannot commit.
-- name: group_save_check
SELECT 1 / (count(*) = %(n)s)::int FROM u

-- the purge of given instances (engine/store/reading.py): their waiting timers go with them
-- name: purge_jobs
DELETE FROM jobs WHERE instance_id = ANY(%(ids)s)

-- name: count_jobs
SELECT COUNT(*) FROM jobs

-- `hall calendar refresh` (R-T1): the pending timers of cases, not yet due, with when each started
-- name: pending_timers
SELECT instance_id, spiff_task_id, created_at, due_at FROM jobs
 WHERE instance_id IS NOT NULL AND kind = 'timer' AND due_at > %(now)s ORDER BY instance_id, id

-- The store's statements on PostgreSQL, sent straight to psycopg as bytes (engine/store/sql.py loads
-- them once). Each has its SQLite twin, written out in full, under the same name in sqlite.sql.
-- Parameters: %(name)s. Times: timestamptz.

-- the instance row stays locked until the transaction ends
-- name: instance_version
SELECT version, status FROM instances WHERE id = %(id)s FOR UPDATE

-- name: task_for_update
SELECT h.id, h.instance_id, h.spiff_task_id, h.name, h.status, h.assignee, h.form, h.completed_by,
 i.version AS instance_version FROM human_tasks h JOIN instances i ON i.id = h.instance_id
 WHERE h.id = %(id)s FOR UPDATE OF i

-- name: finish_human_task
UPDATE human_tasks SET status = %(status)s, completed_at = %(at)s, completed_by = %(by)s
 WHERE id = %(id)s AND status = 'ready'

-- name: upsert_task_rows
INSERT INTO instance_tasks (instance_id, task_id, body) VALUES (%(i)s, %(t)s, %(b)s)
 ON CONFLICT (instance_id, task_id) DO UPDATE SET body = excluded.body

-- name: delete_task_rows
DELETE FROM instance_tasks WHERE instance_id = %(i)s AND task_id = %(t)s

-- status is set only when it changed: an UPDATE naming an indexed column rewrites its index entry
-- name: update_instance
UPDATE instances SET version = %(new_version)s, state = %(state)s, variables = %(variables)s,
 updated_at = %(updated_at)s, ended_at = %(ended_at)s, definition_id = %(definition_id)s,
 incident_element = %(incident_element)s, incident_error = %(incident_error)s
 WHERE id = %(id)s AND version = %(version)s

-- name: update_instance_status
UPDATE instances SET version = %(new_version)s, state = %(state)s, variables = %(variables)s, status = %(status)s,
 updated_at = %(updated_at)s, ended_at = %(ended_at)s, definition_id = %(definition_id)s,
 incident_element = %(incident_element)s, incident_error = %(incident_error)s
 WHERE id = %(id)s AND version = %(version)s

-- name: instance
SELECT id, definition_id, process_id, business_key, status, parent_id, started_at, updated_at, ended_at,
 started_by, version, incident_element, incident_error, state, variables FROM instances WHERE id = %(id)s

-- name: task_rows
SELECT task_id, body FROM instance_tasks WHERE instance_id = %(id)s

-- An instance's ready tasks through ix_human_tasks_instance whatever the statistics say: with
-- `status = 'ready'` in the scan, PostgreSQL took the partial role index (a scan of every ready
-- task) whenever human_tasks had grown since its last ANALYZE, 40 ms a load after 10,000 new tasks.
-- name: ready_human_tasks
SELECT id, instance_id, process_id, spiff_task_id, name, title, lane, role, assignee, form, status,
 created_at, due_at, due_provisional, warn_at, completed_at, completed_by
 FROM (SELECT * FROM human_tasks WHERE instance_id = %(id)s OFFSET 0) h WHERE status = 'ready' ORDER BY id

-- name: has_children
SELECT 1 FROM instances WHERE parent_id = %(id)s LIMIT 1

-- name: latest_definition
SELECT id, process_id, version, name, content_hash, source_file, deployed_at, deployed_by FROM definitions
 WHERE process_id = %(p)s AND withdrawn_at IS NULL ORDER BY version DESC LIMIT 1

-- name: insert_human_task
INSERT INTO human_tasks (instance_id, process_id, spiff_task_id, name, title, lane, role, assignee, form,
 status, created_at, due_at, due_provisional, warn_at) VALUES (%(instance_id)s, %(process_id)s, %(spiff_task_id)s,
 %(name)s, %(title)s, %(lane)s, %(role)s, %(assignee)s, %(form)s, %(status)s, %(created_at)s, %(due_at)s,
 %(due_provisional)s, %(warn_at)s) RETURNING id

-- a human task whose id the worker took ahead (engine/jobs/group.py), written with the step's save
-- name: insert_human_task_as
INSERT INTO human_tasks (id, instance_id, process_id, spiff_task_id, name, title, lane, role, assignee, form,
 status, created_at, due_at, due_provisional, warn_at) VALUES (%(id)s, %(instance_id)s, %(process_id)s,
 %(spiff_task_id)s, %(name)s, %(title)s, %(lane)s, %(role)s, %(assignee)s, %(form)s, %(status)s, %(created_at)s,
 %(due_at)s, %(due_provisional)s, %(warn_at)s)

-- name: insert_history
INSERT INTO history (instance_id, process_id, at, actor, kind, element, task_id, detail)
 VALUES (%(instance_id)s, %(process_id)s, %(at)s, %(actor)s, %(kind)s, %(element)s, %(task_id)s, %(detail)s)

-- The generic reads and the purge of engine/store/reading.py (indicators, reports, retention).
-- Lists of ids or names: arrays.

-- an instance's history rows of one kind at some elements before %(u)s (e.g. the called-back cases')
-- name: events_of
SELECT instance_id, at, actor, element, detail FROM history
 WHERE instance_id = ANY(%(ids)s) AND process_id = %(p)s AND kind = %(k)s
 AND element = ANY(%(elements)s) AND at < %(u)s ORDER BY at, id

-- answered from the partial index ix_history_completed_at
-- name: workload
SELECT actor, process_id, COUNT(*) FROM history WHERE kind = 'task_completed' AND at >= %(s)s AND at < %(u)s
 GROUP BY actor, process_id

-- name: overdue_tasks
SELECT h.instance_id, h.process_id, h.name, h.due_at, i.business_key FROM human_tasks h
 JOIN instances i ON i.id = h.instance_id
 WHERE h.status = 'ready' AND h.due_at IS NOT NULL AND h.due_at < %(n)s AND i.status = 'running'
 ORDER BY h.due_at, h.id

-- name: variables_of
SELECT id, variables FROM instances WHERE id = ANY(%(ids)s)

-- name: started_between
SELECT process_id, started_at FROM instances WHERE started_at >= %(s)s AND started_at < %(u)s

-- name: ended_between
SELECT process_id, status, ended_at FROM instances WHERE ended_at >= %(s)s AND ended_at < %(u)s

-- name: finished_before
SELECT id, process_id, business_key, status, started_at, ended_at, parent_id FROM instances
 WHERE status IN ('completed', 'cancelled') AND ended_at IS NOT NULL AND ended_at < %(b)s ORDER BY ended_at, id

-- name: children_of
SELECT parent_id, id FROM instances WHERE parent_id = ANY(%(ids)s)

-- the purge drops the links between the instances it deletes first, so the order of its deletes does not matter
-- name: purge_unlink
UPDATE instances SET parent_id = NULL WHERE id = ANY(%(ids)s) AND parent_id IS NOT NULL

-- name: purge_case_search
DELETE FROM case_search WHERE instance_id = ANY(%(ids)s)

-- name: purge_history
DELETE FROM history WHERE instance_id = ANY(%(ids)s)

-- name: purge_human_tasks
DELETE FROM human_tasks WHERE instance_id = ANY(%(ids)s)

-- name: purge_instance_tasks
DELETE FROM instance_tasks WHERE instance_id = ANY(%(ids)s)

-- name: purge_instances
DELETE FROM instances WHERE id = ANY(%(ids)s)

-- name: count_instances
SELECT COUNT(*) FROM instances

-- name: count_instance_tasks
SELECT COUNT(*) FROM instance_tasks

-- name: count_human_tasks
SELECT COUNT(*) FROM human_tasks

-- name: count_history
SELECT COUNT(*) FROM history

-- `hall calendar refresh` (R-T1): the cases with an open deadline marked provisional
-- name: provisional_task_instances
SELECT DISTINCT instance_id FROM human_tasks WHERE status = 'ready' AND due_provisional = true ORDER BY instance_id

-- a ready task's deadline counted again on the calendar as configured now
-- name: move_task_deadline
UPDATE human_tasks SET due_at = %(due_at)s, due_provisional = %(provisional)s
 WHERE id = %(id)s AND status = 'ready'

-- A case's business key, written with the step that sets it (issue 17)
-- name: set_business_key
UPDATE instances SET business_key = %(k)s WHERE id = %(i)s

-- The search rows of a case (`hall find`), replaced with the step that changes its searchable values
-- name: delete_search
DELETE FROM case_search WHERE instance_id = %(i)s

-- name: insert_search
INSERT INTO case_search (instance_id, field, value) VALUES (%(i)s, %(f)s, %(v)s)

-- A unique business key is checked holding a lock on (process, key) until the transaction ends, so
-- two cases taking the same key at the same moment cannot both see it free
-- name: lock_business_key
SELECT pg_advisory_xact_lock(hashtextextended(%(p)s || '/' || %(k)s, 0))

-- name: business_key_taken
SELECT id FROM instances WHERE process_id = %(p)s AND business_key = %(k)s AND id <> %(i)s LIMIT 1

-- Cases with a value starting with %(prefix)s, newest first, older than %(before)s: a range on
-- ix_case_search_value in its pattern operator class's byte order (~>=~, ~<~; whatever the collation),
-- up to the prefix followed by the last code point
-- name: find_prefix
SELECT instance_id FROM case_search WHERE value ~>=~ %(prefix)s AND value ~<~ (%(prefix)s || chr(1114111))
 AND instance_id < %(before)s
 GROUP BY instance_id ORDER BY instance_id DESC LIMIT %(n)s

-- Cases with a value containing %(t)s: a scan of the search table (no trigram index: pg_trgm is not
-- on every server, and it cannot look up the two-character names and fragments staff type)
-- name: find_substring
SELECT instance_id FROM case_search WHERE instance_id < %(before)s AND strpos(value, %(t)s) > 0
 GROUP BY instance_id ORDER BY instance_id DESC LIMIT %(n)s

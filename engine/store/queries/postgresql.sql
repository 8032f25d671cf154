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
 created_at, due_at, due_provisional, warn_at, completed_at, completed_by, organisation
 FROM (SELECT * FROM human_tasks WHERE instance_id = %(id)s OFFSET 0) h WHERE status = 'ready' ORDER BY id

-- name: has_children
SELECT 1 FROM instances WHERE parent_id = %(id)s LIMIT 1

-- name: latest_definition
SELECT id, process_id, version, name, content_hash, source_file, deployed_at, deployed_by FROM definitions
 WHERE process_id = %(p)s AND withdrawn_at IS NULL ORDER BY version DESC LIMIT 1

-- name: insert_human_task
INSERT INTO human_tasks (instance_id, process_id, spiff_task_id, name, title, lane, role, assignee, form,
 status, created_at, due_at, due_provisional, warn_at, organisation) VALUES (%(instance_id)s, %(process_id)s, %(spiff_task_id)s,
 %(name)s, %(title)s, %(lane)s, %(role)s, %(assignee)s, %(form)s, %(status)s, %(created_at)s, %(due_at)s,
 %(due_provisional)s, %(warn_at)s, %(organisation)s) RETURNING id

-- a human task whose id the worker took ahead (engine/jobs/group.py), written with the step's save
-- name: insert_human_task_as
INSERT INTO human_tasks (id, instance_id, process_id, spiff_task_id, name, title, lane, role, assignee, form,
 status, created_at, due_at, due_provisional, warn_at, organisation) VALUES (%(id)s, %(instance_id)s, %(process_id)s,
 %(spiff_task_id)s, %(name)s, %(title)s, %(lane)s, %(role)s, %(assignee)s, %(form)s, %(status)s, %(created_at)s,
 %(due_at)s, %(due_provisional)s, %(warn_at)s, %(organisation)s)

-- name: insert_history
INSERT INTO history (instance_id, process_id, at, actor, kind, element, task_id, detail, simulated)
 VALUES (%(instance_id)s, %(process_id)s, %(at)s, %(actor)s, %(kind)s, %(element)s, %(task_id)s, %(detail)s,
 %(simulated)s)

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

-- What a case waits for (messages, signals: issue 12), rewritten with the step that changes it
-- name: delete_event_waits
DELETE FROM event_waits WHERE instance_id = %(i)s

-- name: insert_event_wait
INSERT INTO event_waits (instance_id, process_id, kind, name, correlation_key, element)
 VALUES (%(i)s, %(p)s, %(kind)s, %(name)s, %(key)s, %(element)s)

-- The running cases waiting for a message of this name with this correlation key, oldest first
-- name: message_waiters
SELECT w.instance_id, w.process_id FROM event_waits w JOIN instances i ON i.id = w.instance_id
 WHERE w.kind = 'message' AND w.name = %(name)s AND w.correlation_key = %(key)s AND i.status = 'running'
 ORDER BY w.instance_id

-- The running cases waiting for a message of this name, whatever their key (a message without one)
-- name: message_waiters_any_key
SELECT w.instance_id, w.process_id FROM event_waits w JOIN instances i ON i.id = w.instance_id
 WHERE w.kind = 'message' AND w.name = %(name)s AND i.status = 'running'
 ORDER BY w.instance_id

-- The running cases waiting for a signal of this name, oldest first
-- name: signal_waiters
SELECT w.instance_id, w.process_id FROM event_waits w JOIN instances i ON i.id = w.instance_id
 WHERE w.kind = 'signal' AND w.name = %(name)s AND i.status = 'running'
 ORDER BY w.instance_id

-- name: purge_event_waits
DELETE FROM event_waits WHERE instance_id = ANY(%(ids)s)

-- Users, roles and access rules kept in the database (issue 16, engine/access/directory.py)
-- name: people_users
SELECT id, name, organisation, roles, kind FROM hall_users ORDER BY id

-- name: people_roles
SELECT name, serves, may FROM hall_roles ORDER BY name

-- name: people_rules
SELECT name, value FROM hall_access_rules ORDER BY name

-- name: people_user
SELECT id, name, organisation, roles, kind, password_hash FROM hall_users WHERE id = %(id)s

-- name: people_insert_user
INSERT INTO hall_users (id, name, organisation, roles, kind, password_hash, created_at)
 VALUES (%(id)s, %(name)s, %(organisation)s, %(roles)s, %(kind)s, NULL, %(at)s)

-- name: people_update_user
UPDATE hall_users SET name = %(name)s, organisation = %(organisation)s, roles = %(roles)s, kind = %(kind)s
 WHERE id = %(id)s

-- name: people_set_password
UPDATE hall_users SET password_hash = %(h)s WHERE id = %(id)s

-- name: people_delete_user
DELETE FROM hall_users WHERE id = %(id)s

-- name: people_put_role
INSERT INTO hall_roles (name, serves, may) VALUES (%(name)s, %(serves)s, %(may)s)
 ON CONFLICT (name) DO UPDATE SET serves = excluded.serves, may = excluded.may

-- name: people_delete_role
DELETE FROM hall_roles WHERE name = %(name)s

-- name: people_put_rule
INSERT INTO hall_access_rules (name, value) VALUES (%(name)s, %(value)s)
 ON CONFLICT (name) DO UPDATE SET value = excluded.value


-- Login and service-account tokens: the SHA-256 digest of the secret, never the secret
-- name: token_insert
INSERT INTO hall_tokens (digest, user_id, label, created_at, expires_at)
 VALUES (%(digest)s, %(user_id)s, %(label)s, %(at)s, %(expires)s)

-- A token with its user still there (a removed user's tokens name nobody)
-- name: token_by_digest
SELECT t.id, t.user_id, t.expires_at, t.revoked_at FROM hall_tokens t JOIN hall_users u ON u.id = t.user_id
 WHERE t.digest = %(digest)s

-- name: token_list
SELECT id, user_id, label, created_at, expires_at, revoked_at FROM hall_tokens ORDER BY id

-- name: token_revoke
UPDATE hall_tokens SET revoked_at = %(at)s WHERE id = %(id)s AND revoked_at IS NULL

-- name: token_revoke_user
UPDATE hall_tokens SET revoked_at = %(at)s WHERE user_id = %(user_id)s AND revoked_at IS NULL

-- The generation of the people: a new random value with every change, so a server's threads and
-- processes read the users and roles again only when they changed
-- name: people_generation
SELECT value FROM hall_access_rules WHERE name = 'generation'

-- Drafts of task forms (schema v8, issue 17): what a user typed into `hall complete` and did not submit
-- name: save_draft
INSERT INTO form_drafts (task_id, user_name, data, saved_at) VALUES (%(t)s, %(u)s, %(d)s, %(at)s)
 ON CONFLICT (task_id, user_name) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at

-- name: load_draft
SELECT data, saved_at FROM form_drafts WHERE task_id = %(t)s AND user_name = %(u)s

-- name: delete_draft
DELETE FROM form_drafts WHERE task_id = %(t)s AND user_name = %(u)s

-- a purged case's drafts go with its tasks
-- name: purge_form_drafts
DELETE FROM form_drafts WHERE task_id IN (SELECT id FROM human_tasks WHERE instance_id = ANY(%(ids)s))

-- Periodic jobs run once per period across hosts: the scheduler of each host
-- claims the period's task id here before enqueueing it in-process (without
-- Redis, where asynq's task ids do the same). Claims older than a day are pruned.
CREATE TABLE job_slots (
    task_id    TEXT PRIMARY KEY, -- the periodic's name @ the period's start (UTC)
    claimed_at INTEGER NOT NULL  -- unix ms
);
CREATE INDEX job_slots_claimed ON job_slots (claimed_at);

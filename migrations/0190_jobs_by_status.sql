-- The pending jobs (the job queue's depth on /metrics, and the jobs a start-up fails) are found
-- by status without reading every job ever run.
CREATE INDEX jobs_status ON jobs (status, command);

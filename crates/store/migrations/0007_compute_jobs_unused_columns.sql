-- Two columns of compute_jobs that nothing ever read (attempts) or wrote (external_id).
ALTER TABLE compute_jobs DROP COLUMN external_id;
ALTER TABLE compute_jobs DROP COLUMN attempts;

-- What a restarted federated-learning coordinator resumes from: each journaled round's entry of the
-- contribution record and the global model after it, both CIDs in the node's content store. NULL
-- in rounds an older node recorded (a task among them is trained again from its first round that
-- has both).
ALTER TABLE fl_rounds ADD COLUMN record_cid TEXT;
ALTER TABLE fl_rounds ADD COLUMN model_cid TEXT;

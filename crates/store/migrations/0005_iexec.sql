-- iExec-backed compute jobs. Not derived from Agora's chain, so no reorg touches them; a fresh dev
-- chain clears them with everything else of that chain (`reset_chain`).

-- The iExec app this node deployed for a service (`iexec app deploy`, once per service and hub) and
-- the app order its provider signed for it.
CREATE TABLE iexec_apps (
    chain_id   BIGINT NOT NULL,
    service_id BIGINT NOT NULL,
    hub        TEXT   NOT NULL,
    app_name   TEXT   NOT NULL,
    address    TEXT   NOT NULL,
    apporder   TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, service_id, hub)
);

-- The iExec side of one ComputeMarket task: the signed request order (recorded before it is
-- filled, so a restart finds the deal it made instead of making a second one), the deal, the iExec
-- task, its last status seen and, at the end, the result.
CREATE TABLE iexec_jobs (
    chain_id        BIGINT NOT NULL,
    task_id         BIGINT NOT NULL,
    hub             TEXT   NOT NULL,
    app             TEXT   NOT NULL,
    requestorder    TEXT,
    request_hash    TEXT,
    deal_id         TEXT,
    iexec_task_id   TEXT,
    final_deadline  BIGINT,
    status          TEXT   NOT NULL,
    result_location TEXT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id)
);

//! Listing a finished federated model on the compute market: what the investor sends, the services
//! already listed with the model, and the refusals (unknown task 404; shareholding or unfinished
//! tasks 409).

use agora_federated::TaskSpec;
use agora_market::ServiceMetadata;
use agora_store::{FlEvent, MarketEvent};
use axum::http::StatusCode;
use serde_json::json;

use super::{assert_has_required, seeded};
use crate::common::{apply_block, call};

const INVESTOR: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const STRANGER: &str = "0x976ea74026e726554db657fa54763abd0c3a0aa9";
const ETH: &str = "0x0000000000000000000000000000000000000000";

fn history(spec: &str, fl_uri: &str) -> Vec<MarketEvent> {
    use FlEvent::*;
    let created = |task_id, mode: &str| TaskCreated {
        task_id,
        investor: INVESTOR.into(),
        coordinator: INVESTOR.into(),
        mode: mode.into(),
        token: ETH.into(),
        pool: "1000".into(),
        prediction_fee: "5".into(),
        spec: spec.into(),
    };
    let terms = |task_id| TaskTerms {
        task_id,
        block_token: ETH.into(),
        block_price: "0".into(),
        total_blocks: 30,
        min_participants: 1,
        start_deadline: 1_700_100_000,
        finish_deadline: 1_700_200_000,
    };
    let listed = |service_id, provider: &str| MarketEvent::ServiceListed {
        service_id,
        provider: provider.into(),
        token: ETH.into(),
        price: "1000".into(),
        max_run_time: 60,
        metadata_uri: fl_uri.into(),
    };
    let mut events: Vec<MarketEvent> = vec![
        created(1, "RewardPool"),
        terms(1),
        TaskStarted { task_id: 1, members: 1, block_payments: "0".into() },
        RewardsPosted {
            task_id: 1,
            root: format!("0x{}", "55".repeat(32)),
            record_cid: "bafyrec".into(),
            claim_deadline: 1,
        },
        created(2, "Shareholding"),
        terms(2),
        created(3, "RewardPool"),
        terms(3),
    ]
    .into_iter()
    .map(MarketEvent::Fl)
    .collect();
    events.extend([listed(2, INVESTOR), listed(3, STRANGER)]);
    events
}

#[tokio::test]
async fn the_investor_gets_a_finished_models_listing() -> anyhow::Result<()> {
    let (db, app) = seeded().await?;
    let spec = TaskSpec::digits_demo(3);
    let (status, body) = call(&app, "POST", "/api/fl/specs", Some(serde_json::to_value(&spec)?)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cid = body["cid"].as_str().unwrap_or_default().to_owned();

    let before = history(&cid, "data:application/json,{}");
    // The tasks first; the services listed with the URI the listing gives come after.
    let fl_only: Vec<MarketEvent> = before.into_iter().filter(|e| matches!(e, MarketEvent::Fl(_))).collect();
    apply_block(&db.store, 2, fl_only).await?;

    let (status, listing) = call(&app, "GET", "/api/fl/tasks/1/listing", None).await;
    assert_eq!(status, StatusCode::OK, "{listing}");
    let (_, doc) = call(&app, "GET", "/api/openapi.json", None).await;
    assert_has_required(&doc, "FlModelListing", &listing, "a model's listing");
    assert_eq!(listing["investor"], INVESTOR);
    assert_eq!(listing["token"], ETH);
    assert_eq!(listing["metadata"]["kind"], "ai-inference");
    assert_eq!(listing["metadata"]["runtime"], json!({"type": "local", "app": "fl:1"}));
    assert_eq!(listing["image"], json!({"dataset": "digits", "side": 8, "maxValue": 16}));
    assert_eq!(listing["listed"], json!([]));
    let uri = listing["metadataUri"].as_str().unwrap_or_default().to_owned();
    let read = ServiceMetadata::from_uri(&uri).expect("the URI reads back as service metadata");
    assert_eq!(read.runtime.map(|r| r.app().to_owned()).as_deref(), Some("fl:1"));
    assert!(read.description.en.contains("64 grey values"), "{}", read.description.en);

    // Two services listed with it: the investor's runs, a stranger's does not.
    let services = history(&cid, &uri).into_iter().filter(|e| matches!(e, MarketEvent::ServiceListed { .. })).collect();
    apply_block(&db.store, 3, services).await?;
    let (_, listing) = call(&app, "GET", "/api/fl/tasks/1/listing", None).await;
    assert_eq!(
        listing["listed"],
        json!([
            {"id": 2, "provider": INVESTOR, "runs": true, "active": true},
            {"id": 3, "provider": STRANGER, "runs": false, "active": true},
        ])
    );

    let (status, body) = call(&app, "GET", "/api/fl/tasks/2/listing", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("shareholding_model")), "{body}");
    let (status, body) = call(&app, "GET", "/api/fl/tasks/3/listing", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_finished")), "{body}");
    let (status, _) = call(&app, "GET", "/api/fl/tasks/9/listing", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, "GET", "/api/fl/tasks/x/listing", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

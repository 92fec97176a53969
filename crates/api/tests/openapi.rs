//! `openapi.json` is generated from the code: the committed file must be what the code generates.
//! To rewrite it after changing a DTO or a handler's `#[utoipa::path]`:
//! `AGORA_WRITE_OPENAPI=1 cargo nextest run -p agora-api --test openapi`.

use std::path::Path;

#[test]
fn the_committed_openapi_document_is_the_generated_one() -> anyhow::Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let generated = agora_api::openapi_document();
    if std::env::var_os("AGORA_WRITE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated)?;
        return Ok(());
    }
    let committed = std::fs::read_to_string(&path)?;
    if committed != generated {
        let diff: Vec<String> = committed
            .lines()
            .zip(generated.lines())
            .enumerate()
            .filter(|(_, (c, g))| c != g)
            .take(20)
            .map(|(i, (c, g))| format!("line {}:\n  committed: {c}\n  generated: {g}", i + 1))
            .collect();
        panic!(
            "crates/api/openapi.json is stale ({} lines committed, {} generated); first differences:\n{}\n\
             rewrite it with: AGORA_WRITE_OPENAPI=1 cargo nextest run -p agora-api --test openapi",
            committed.lines().count(),
            generated.lines().count(),
            diff.join("\n")
        );
    }
    assert_eq!(agora_api::OPENAPI, generated, "the served document is the committed one");
    Ok(())
}

/// Clients generated from the document (the web app's types among them) name each operation by its
/// `operationId`, which utoipa takes from the handler's name: two modules' `task` handlers collide.
#[test]
fn every_operation_id_is_unique() -> anyhow::Result<()> {
    let doc: serde_json::Value = serde_json::from_str(&agora_api::openapi_document())?;
    let mut seen = std::collections::BTreeMap::new();
    for (path, operations) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in operations.as_object().into_iter().flatten() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id:?} names both {other} and {method} {path}");
            }
        }
    }
    assert!(seen.len() > 40, "the document lists its operations ({} found)", seen.len());
    Ok(())
}

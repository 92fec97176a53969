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

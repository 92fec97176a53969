//! The local model, for real: SmolLM2-135M-Instruct as `make model` installs it, greedy decoding.
//! These tests check the streaming mechanics a paying reader relies on, not the answers. Without
//! the model file they fail, saying to run `make model`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use agora_llm::{
    ChatMessage, Finish, Generation, LlmError, LocalModel, LocalOptions, MODEL_FILE, Model, PIECE_BUFFER, Piece,
    PieceReceiver, Role,
};

fn model_path() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is set");
    PathBuf::from(home).join(".cache/agora/models").join(MODEL_FILE)
}

async fn model() -> LocalModel {
    match LocalModel::load(model_path(), LocalOptions::default()).await {
        Ok(model) => model,
        Err(e) => panic!("{e}"),
    }
}

fn user(text: &str) -> Vec<ChatMessage> {
    vec![ChatMessage::new(Role::User, text)]
}

/// A reply read to its end: the text pieces in order and the closing piece.
struct Reply {
    pieces: Vec<(String, u32)>,
    finish: Finish,
    prompt_tokens: u32,
    completion_tokens: u32,
}

impl Reply {
    fn text(&self) -> String {
        self.pieces.iter().map(|(t, _)| t.as_str()).collect()
    }
}

async fn read(mut rx: PieceReceiver) -> Reply {
    let mut pieces = Vec::new();
    while let Some(piece) = rx.recv().await {
        match piece.expect("no error mid-reply") {
            Piece::Text { text, tokens } => pieces.push((text, tokens)),
            Piece::Done { finish, prompt_tokens, completion_tokens } => {
                assert!(rx.recv().await.is_none(), "nothing follows Done");
                return Reply { pieces, finish, prompt_tokens, completion_tokens };
            }
        }
    }
    panic!("the reply ended without Done");
}

async fn reply(model: &LocalModel, g: Generation) -> Reply {
    read(model.generate(g).await.expect("generation starts")).await
}

#[tokio::test]
async fn a_reply_streams_in_pieces_whose_tokens_add_up_and_stops_by_itself() {
    let model = model().await;
    assert_eq!(model.id(), "smollm2-135m-instruct");
    assert_eq!(model.context_tokens(), 8192);
    let messages = user("What is the capital of France?");
    let r = reply(&model, Generation::new(messages.clone(), 200)).await;

    assert_eq!(r.finish, Finish::Stop, "a short factual answer ends before 200 tokens: {:?}", r.text());
    assert!(r.pieces.len() > 3, "the reply comes in pieces: {:?}", r.pieces);
    assert!(r.pieces.iter().all(|(_, tokens)| *tokens >= 1));
    assert_eq!(r.pieces.iter().map(|(_, t)| t).sum::<u32>(), r.completion_tokens);
    assert!(r.completion_tokens < 200);
    assert!(r.text().contains("Paris"), "{:?}", r.text());
    assert!(!r.text().contains("<|im_end|>"), "end-of-turn tokens are not text: {:?}", r.text());
    assert_eq!(r.prompt_tokens, model.count_prompt(&messages).await.unwrap());

    // Greedy decoding: the same request gives the same reply, piece for piece.
    let again = reply(&model, Generation::new(messages, 200)).await;
    assert_eq!(again.pieces, r.pieces);
}

#[tokio::test]
async fn max_tokens_cuts_the_reply_with_finish_length() {
    let model = model().await;
    let messages = user("Write a long story about a dragon who learns to fly.");
    let r = reply(&model, Generation::new(messages.clone(), 7)).await;
    assert_eq!(r.finish, Finish::Length);
    assert_eq!(r.completion_tokens, 7);
    assert_eq!(r.pieces.iter().map(|(_, t)| t).sum::<u32>(), 7);

    // The cut reply is the start of a longer one.
    let longer = reply(&model, Generation::new(messages, 30)).await;
    assert!(longer.text().starts_with(&r.text()), "{:?} / {:?}", r.text(), longer.text());

    let none = reply(&model, Generation::new(user("Hi"), 0)).await;
    assert_eq!((none.finish, none.completion_tokens, none.pieces.len()), (Finish::Length, 0, 0));
}

#[tokio::test]
async fn continue_from_resumes_an_interrupted_reply() {
    let model = model().await;
    let messages = user("Write a long story about a dragon who learns to fly.");
    let full = reply(&model, Generation::new(messages.clone(), 60)).await;
    assert_eq!(full.finish, Finish::Length);
    // Interrupted after 20 tokens' worth of pieces.
    let mut delivered = String::new();
    let mut tokens = 0;
    for (text, t) in &full.pieces {
        if tokens >= 20 {
            break;
        }
        delivered.push_str(text);
        tokens += t;
    }

    let resumed = reply(
        &model,
        Generation { messages: messages.clone(), max_tokens: 60 - tokens, continue_from: delivered.clone() },
    )
    .await;
    // Prompt tokens are those of the messages only.
    assert_eq!(resumed.prompt_tokens, full.prompt_tokens);
    // It goes on from where the reply stopped rather than starting over…
    let fresh_start: String = full.text().chars().take(20).collect();
    assert!(!resumed.text().starts_with(&fresh_start), "{:?}", resumed.text());
    // …and, decoding being greedy, delivered + resumed reads as the uninterrupted reply did.
    let joined = format!("{delivered}{}", resumed.text());
    let common = joined.chars().zip(full.text().chars()).take_while(|(a, b)| a == b).count();
    assert!(
        common >= delivered.chars().count() + 40,
        "resumed reply diverges right away:\n full: {:?}\n joined: {:?}",
        full.text(),
        joined
    );
}

#[tokio::test]
async fn dropping_the_receiver_stops_generation() {
    let model = model().await;
    let messages = user("Count from 1 to 1000, one number per line.");
    let mut rx = model.generate(Generation::new(messages.clone(), 4000)).await.unwrap();
    for _ in 0..3 {
        assert!(matches!(rx.recv().await, Some(Ok(Piece::Text { .. }))));
    }
    // Not reading: generation pauses once the channel is full.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let paused_at = model.generated_tokens();
    assert!(paused_at <= 3 + PIECE_BUFFER as u64 + 1, "{paused_at} tokens generated for 3 read");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(model.generated_tokens(), paused_at, "generation went on while nobody read");

    drop(rx);
    let deadline = Instant::now() + Duration::from_secs(30);
    while model.active_replies() > 0 {
        assert!(Instant::now() < deadline, "the reply kept its slot after its reader left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(model.generated_tokens() <= paused_at + 1, "generation went on after the reader left");

    // The slot is free for the next reply (one at a time by default).
    let next = reply(&model, Generation::new(messages, 5)).await;
    assert_eq!(next.completion_tokens, 5);
}

#[tokio::test]
async fn replies_beyond_max_concurrent_wait_their_turn() {
    let model = model().await;
    let a = model.generate(Generation::new(user("Name three colours."), 20)).await.unwrap();
    let b = model.generate(Generation::new(user("Name three fruits."), 20)).await.unwrap();
    let (a, b) = tokio::join!(read(a), read(b));
    assert!(a.completion_tokens > 0 && b.completion_tokens > 0);
    assert_ne!(a.text(), b.text());
    assert_eq!(model.active_replies(), 0);
}

#[tokio::test]
async fn prompt_counts_follow_the_chat_template() {
    let model = model().await;
    let one = user("Hello");
    let n_one = model.count_prompt(&one).await.unwrap();
    assert_eq!(model.count_prompt(&one).await.unwrap(), n_one);

    // A longer conversation costs more; each turn at least its words and its role markers.
    let mut three = one.clone();
    three.push(ChatMessage::new(Role::Assistant, "Hello! How can I help you today?"));
    three.push(ChatMessage::new(Role::User, "Tell me a joke."));
    let n_three = model.count_prompt(&three).await.unwrap();
    assert!(n_three >= n_one + 15, "{n_one} → {n_three}");

    // The default system prompt is part of the prompt; a conversation's own replaces it.
    let own = vec![ChatMessage::new(Role::System, "Be brief."), ChatMessage::new(Role::User, "Hello")];
    let n_own = model.count_prompt(&own).await.unwrap();
    assert!(n_own < n_one, "{n_own} vs {n_one}");
    let bare = LocalModel::load(model_path(), LocalOptions { system_prompt: String::new(), ..LocalOptions::default() })
        .await
        .unwrap();
    assert!(bare.count_prompt(&one).await.unwrap() < n_own);

    assert!(matches!(model.count_prompt(&[]).await, Err(LlmError::InvalidRequest(_))));
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_refused_before_generating() {
    let model = model().await;
    let long = user(&"The quick brown fox jumps over the lazy dog. ".repeat(1000));
    let n = model.count_prompt(&long).await.unwrap();
    assert!(n > model.context_tokens());
    match model.generate(Generation::new(long, 10)).await {
        Err(e @ LlmError::PromptTooLong { .. }) => {
            assert!(e.to_string().contains("8192"), "{e}");
        }
        other => panic!("expected PromptTooLong, got {:?}", other.map(|_| ())),
    }
    assert_eq!(model.generated_tokens(), 0);
}

#[tokio::test]
async fn a_missing_model_file_says_to_run_make_model() {
    let path = std::env::temp_dir().join("agora-llm-test-no-such-model.gguf");
    let err = LocalModel::load(&path, LocalOptions::default()).await.unwrap_err();
    assert!(matches!(err, LlmError::ModelMissing { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("run `make model`") && message.contains("no-such-model"), "{message}");
}

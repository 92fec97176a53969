use super::{ReplyDecoder, SseParser};
use crate::{Finish, LlmError, Piece};

/// A stream as OpenAI's API sends it (with `stream_options.include_usage`): a role chunk with
/// empty content, content deltas (one ending in a multi-byte character), the finish chunk, the
/// usage chunk with no choices, `[DONE]`.
const OPENAI: &str = concat!(
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    "\n\n",
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    "\n\n",
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":", 世界 🦀"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    "\n\n",
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
    "\n\n",
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":7,"total_tokens":26,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"#,
    "\n\n",
    "data: [DONE]\n\n",
);

/// The same reply in another server's manner: CR LF line ends, comment lines (a keep-alive and
/// payment metadata), `event:` and `id:` fields, a `data:` with no space, no usage, cut by length.
const OTHER: &str = concat!(
    ": keep-alive\r\n\r\n",
    "id: 1\r\n",
    "event: message\r\n",
    r#"data:{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
    "\r\n\r\n",
    ": agora-paid cumulative=120\r\n",
    r#"data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}"#,
    "\r\n\r\n",
    r#"data: {"choices":[{"index":0,"delta":{"content":", 世界 🦀"},"finish_reason":"length"}]}"#,
    "\r\n\r\n",
    "data: [DONE]\r\n\r\n",
);

fn decode(pieces: &[&[u8]], estimated_prompt: u32) -> Result<Vec<Piece>, LlmError> {
    let mut d = ReplyDecoder::default();
    let mut out = Vec::new();
    for p in pieces {
        out.extend(d.push(p)?);
    }
    out.push(d.finish(estimated_prompt)?);
    Ok(out)
}

fn text_pieces() -> Vec<Piece> {
    ["Hello", ", 世界 🦀"].iter().map(|t| Piece::Text { text: t.to_string(), tokens: 1 }).collect()
}

fn expected_openai() -> Vec<Piece> {
    let mut v = text_pieces();
    v.push(Piece::Done { finish: Finish::Stop, prompt_tokens: 19, completion_tokens: 7 });
    v
}

fn expected_other() -> Vec<Piece> {
    let mut v = text_pieces();
    // No usage: the estimate for the prompt, one token per content delta.
    v.push(Piece::Done { finish: Finish::Length, prompt_tokens: 40, completion_tokens: 2 });
    v
}

#[test]
fn whole_streams_decode() {
    assert_eq!(decode(&[OPENAI.as_bytes()], 40).unwrap(), expected_openai());
    assert_eq!(decode(&[OTHER.as_bytes()], 40).unwrap(), expected_other());
}

#[test]
fn a_stream_split_anywhere_in_two_decodes_the_same() {
    for (stream, expected) in [(OPENAI, expected_openai()), (OTHER, expected_other())] {
        let bytes = stream.as_bytes();
        for at in 0..=bytes.len() {
            let got = decode(&[&bytes[..at], &bytes[at..]], 40).unwrap();
            assert_eq!(got, expected, "split at byte {at}");
        }
    }
}

#[test]
fn a_stream_one_byte_at_a_time_decodes_the_same() {
    for (stream, expected) in [(OPENAI, expected_openai()), (OTHER, expected_other())] {
        let pieces: Vec<&[u8]> = stream.as_bytes().chunks(1).collect();
        assert_eq!(decode(&pieces, 40).unwrap(), expected);
        // Uneven sizes too, so that CR LF pairs and characters straddle pieces in every way.
        for size in [2, 3, 5, 7, 13] {
            let pieces: Vec<&[u8]> = stream.as_bytes().chunks(size).collect();
            assert_eq!(decode(&pieces, 40).unwrap(), expected, "pieces of {size} bytes");
        }
    }
}

#[test]
fn multi_line_data_is_joined_with_newlines() {
    let mut p = SseParser::default();
    assert_eq!(p.push(b"data: a\ndata:b\n\ndata: c\n").unwrap(), vec!["a\nb".to_string()]);
    assert_eq!(p.push(b"\n").unwrap(), vec!["c".to_string()]);
    // An empty line with no data before it dispatches nothing.
    assert!(p.push(b"\n\n: only a comment\n\n").unwrap().is_empty());
}

#[test]
fn anything_after_done_is_ignored() {
    let stream =
        format!("{OPENAI}data: {{\"choices\":[{{\"delta\":{{\"content\":\"late\"}}}}]}}\n\ndata: not json\n\n");
    let mut d = ReplyDecoder::default();
    let pieces = d.push(stream.as_bytes()).unwrap();
    assert_eq!(pieces.len(), 2);
    assert!(d.is_done());
}

#[test]
fn a_stream_cut_before_its_end_is_an_error() {
    let cut = OPENAI.find("data: {\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion.chunk\",\"created\":1732000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[{\"index\":0,\"delta\":{},").unwrap();
    let err = decode(&[&OPENAI.as_bytes()[..cut]], 40).unwrap_err();
    assert!(matches!(err, LlmError::MalformedStream(_)), "{err}");
    assert!(err.to_string().contains("ended before"), "{err}");
}

#[test]
fn a_finish_reason_without_done_is_accepted() {
    let end = OTHER.find("data: [DONE]").unwrap();
    let got = decode(&[&OTHER.as_bytes()[..end]], 40).unwrap();
    assert_eq!(got, expected_other());
}

#[test]
fn an_error_event_ends_the_stream_with_its_message() {
    let stream = "data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}\n\n";
    let err = decode(&[stream.as_bytes()], 0).unwrap_err();
    assert!(matches!(err, LlmError::UpstreamError(ref m) if m == "Rate limit reached"), "{err}");
}

#[test]
fn data_that_is_not_a_chunk_is_malformed() {
    for bad in ["data: {\"choices\": 3}\n\n", "data: hello\n\n", "data: \u{0}\n\n"] {
        let err = decode(&[bad.as_bytes()], 0).unwrap_err();
        assert!(matches!(err, LlmError::MalformedStream(_)), "{bad:?}: {err}");
    }
    let err = decode(&[b"data: \xff\xfe\n\n"], 0).unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}
